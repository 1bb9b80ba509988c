"""What the engines send reaches Teams: digests and urgent updates in the site's channel, escalation
notices in the recipient's 1:1 chat with Acknowledge/Resolve, through the outbox, the Ticker and
the routing Notifier exactly as `serve` runs them (virtual clock, no sleeping), and the sender's
answer to a connector that says 429, refuses, or cannot be found.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.outbound import Address
from bot.channels import build_notifier
from bot.teams.auth import build_auth
from bot.teams.sender import TeamsSender
from core.clock import VirtualClock
from core.db import transaction
from core.models import ChatIdentityRow, DeliveryRow
from core.notify import OutboundMessage
from escalation import service
from escalation.models import EscalationRow
from scheduler.plugins import load_plugins, timer_handlers
from scheduler.runner import Ticker, run_virtual_until
from tests.digest_sizes import SIZES, digest_payload, expected, titles_in
from tests.fake_teams_connector import CARLA_AAD, FakeConnector
from tests.test_teams_bot import Harness, fake, running, settled  # noqa: F401  (fixture)
from triage.plugin import build_engine
from triage.schemas import UpdateIn

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday: 10:00 in Berlin, working hours
S01 = "19:s01@thread.tacv2"


@pytest.fixture
def hv(tmp_path: Path, db_url: str, fake: FakeConnector) -> Iterator[Harness]:  # noqa: F811
    with running(tmp_path, db_url, fake, clock=VirtualClock(START)) as harness:
        yield harness


def ticker(h: Harness) -> Ticker:
    """The serve-time delivery loop: every engine's timers, the routing Notifier (Teams sender inside)."""
    settings = h.container.settings
    notifier = build_notifier(h.container)
    return Ticker(h.container.factory, timer_handlers=timer_handlers(load_plugins(settings)), notifier=notifier,
                  worker_id="test")  # fmt: skip


def update(uid: str, subject: str, body: str, **extra: object) -> UpdateIn:
    line = {"id": uid, "from": "sponsor.ops", "org": "sponsor", "study": "ORION", "sites": ["S01"],
            "subject": subject, "body": body, **extra}  # fmt: skip
    return UpdateIn.model_validate(line)


def test_a_digest_and_an_urgent_update_arrive_in_the_sites_teams_channel(hv: Harness) -> None:
    engine = build_engine(hv.container.settings)
    with transaction(hv.container.factory) as s:
        engine.receive(s, update("u-fyi", "Newsletter: enrolment at 60%", "Thanks to all sites."), START,
                       source="api", actor="sponsor.ops")  # fmt: skip
        engine.receive(
            s,
            update("u-urg", "URGENT: dosing hold for ORION", "Stop dosing immediately; safety review pending.",
                   declared_priority="urgent"),
            START, source="api", actor="sponsor.ops",
        )  # fmt: skip
    clock = hv.container.clock
    assert isinstance(clock, VirtualClock)
    run_virtual_until(ticker(hv), clock, START + timedelta(days=1))
    to_site = hv.fake.messages(where=lambda p: p.conversation == S01)
    urgent = [p for p in to_site if "Urgent sponsor update" in p.all_text]
    digest = [p for p in to_site if "Your digest of sponsor updates" in p.all_text]
    assert len(urgent) == 1 and len(digest) == 1
    assert "URGENT: dosing hold for ORION" in urgent[0].all_text and "Stop dosing immediately" in urgent[0].all_text
    assert "Newsletter: enrolment at 60%" in digest[0].all_text and "sponsor.ops" in digest[0].all_text
    assert digest[0].body["summary"].startswith("Digest of sponsor updates")
    assert digest[0].path == f"/v3/conversations/{S01}/activities" and digest[0].card["version"] == "1.5"
    with transaction(hv.container.factory) as s:
        rows = {r.kind: r for r in s.execute(select(DeliveryRow)).scalars()}
        assert rows["digest"].status == "sent" and rows["immediate"].status == "sent"
        assert rows["digest"].external_ref.startswith(S01)


def test_an_escalation_reaches_the_cra_in_teams_who_acknowledges_and_resolves_it(hv: Harness) -> None:
    with transaction(hv.container.factory) as s:
        esc = service.raise_escalation(
            s, site="S01", study="ORION", raised_by="anna", category="ip_supply", severity="high",
            summary="IP shipment arrived warm; 12 kits quarantined", now=START, settings=hv.container.settings,
        )  # fmt: skip
        esc_id = esc.id
    ticker(hv).run(START)
    [notice] = hv.fake.messages(where=lambda p: p.conversation == f"a:dm-{CARLA_AAD}")
    [created] = hv.fake.created()
    assert created.body["members"] == [{"id": CARLA_AAD}]
    text = notice.all_text
    assert f"Escalation {esc_id}" in text and "IP shipment arrived warm; 12 kits quarantined" in text
    assert "Site: Berlin Heart Centre" in text and "Severity: high" in text and "Level: 1 of 3" in text
    # The same deadline as Slack shows, in the reader's zone (issue 11).
    assert "Please acknowledge by Mon 2 Mar 13:00 (UTC) (within 4 h), or it goes to the study manager." in text
    assert notice.action_titles() == ["Acknowledge", "Resolve"]

    on = {"id": "msg-esc", "conversation": {"id": f"a:dm-{CARLA_AAD}", "conversationType": "personal"}}
    refused = hv.post(hv.teams.invoke("ben", "escalation_ack", {"escalation_id": esc_id}, on=on)).json()
    assert "only the sponsor team of site S01 / ORION can" in refused["value"]

    hv.fake.reset()
    resp = hv.post(hv.teams.invoke("carla", "escalation_ack", {"escalation_id": esc_id}, on=on)).json()
    assert resp["type"] == "application/vnd.microsoft.card.adaptive"
    card = json.dumps(resp["value"])
    # The same wording as Slack's DM (one assistant message): who, and when in the clicker's zone.
    assert "Acknowledged by Carla CRA at Mon 2 Mar" in card and "Resolve" in card and 'Acknowledge"' not in card
    [told] = hv.fake.wait_for(where=lambda p: p.conversation == S01)
    assert "acknowledged by Carla CRA" in told.all_text
    with transaction(hv.container.factory) as s:
        row = s.get(EscalationRow, esc_id)
        assert row is not None and (row.status, row.acked_by) == ("acknowledged", "carla")

    resp = hv.post(hv.teams.invoke("carla", "escalation_resolve", {"escalation_id": esc_id}, on=on)).json()
    resolved = json.dumps(resp["value"])
    assert "Resolved by Carla CRA at Mon 2 Mar" in resolved and "Action.Execute" not in resolved
    hv.fake.wait_for(2, where=lambda p: p.conversation == S01)
    assert settled(hv) <= {"sent", "cancelled"}
    with transaction(hv.container.factory) as s:
        assert s.get(EscalationRow, esc_id).status == "resolved"  # type: ignore[union-attr]
    again = hv.post(hv.teams.invoke("carla", "escalation_ack", {"escalation_id": esc_id}, on=on)).json()
    assert "already resolved" in again["value"]


def test_a_429_from_teams_holds_the_row_for_retry_after_then_it_is_sent(hv: Harness) -> None:
    engine = build_engine(hv.container.settings)
    with transaction(hv.container.factory) as s:
        engine.receive(s, update("u-1", "URGENT: recall lot 7", "Quarantine lot 7.", declared_priority="urgent"),
                       START, source="api", actor="sponsor.ops")  # fmt: skip
    hv.fake.fail_once(429, retry_after=7)
    loop = ticker(hv)
    loop.run(START)
    with transaction(hv.container.factory) as s:
        row = s.execute(select(DeliveryRow)).scalar_one()
        assert row.status == "pending" and "429" in (row.last_error or "")
        assert row.due_at.replace(tzinfo=UTC) == START + timedelta(seconds=7)
    loop.run(START + timedelta(seconds=7))
    assert len(hv.fake.messages(where=lambda p: "recall lot 7" in p.all_text)) == 2  # the refused one, then sent
    with transaction(hv.container.factory) as s:
        assert s.execute(select(DeliveryRow)).scalar_one().status == "sent"


class FixedToken:
    """Stands in for the MSAL-backed TeamsAuth: the sender must put its token on every post."""

    app_id = "00000000-0000-4000-8000-0000000000a1"

    def connector_token(self) -> str:
        return "token-from-the-sdk-provider"


def message(kind: str = "immediate", **payload: object) -> OutboundMessage:
    items = [{"id": "u-9", "priority": "urgent", "reason": "declared urgent"}]
    return OutboundMessage(1, "site", "S01", kind, {"items": items, **payload})


def test_the_sender_classifies_connector_answers(hv: Harness) -> None:
    sender = TeamsSender(hv.container.factory, FixedToken(), hv.container.clock)  # type: ignore[arg-type]
    ok = sender.send_to(Address("teams", conversation_id=S01), message())
    assert ok.ok and ok.external_ref and ok.external_ref.startswith(S01)
    assert hv.fake.posts[-1].headers["Authorization"] == "Bearer token-from-the-sdk-provider"

    hv.fake.fail_once(429, retry_after=3)
    limited = sender.send_to(Address("teams", conversation_id=S01), message())
    assert (limited.ok, limited.recoverable, limited.retry_after) == (False, True, 3.0)
    hv.fake.fail_once(503)
    assert sender.send_to(Address("teams", conversation_id=S01), message()).recoverable
    hv.fake.fail_once(403)
    refused = sender.send_to(Address("teams", conversation_id=S01), message())
    assert not refused.ok and not refused.recoverable and "403" in refused.error
    hv.fake.fail_once(401)  # wrong app credentials (issue 10 item 11): held, never failed for good
    held = sender.send_to(Address("teams", conversation_id=S01), message())
    assert (held.ok, held.blocked) == (False, True) and "TEAMS_APP_PASSWORD" in held.error

    unknown = sender.send_to(Address("teams", conversation_id="19:nobody@thread.tacv2"), message())
    assert not unknown.recoverable and "teams_service_url" in unknown.error
    with transaction(hv.container.factory) as s:
        teams = s.scalars(select(ChatIdentityRow).filter_by(kind="site", owner_id="S01", platform="teams")).one()
        teams.detail = {"service_url": "http://127.0.0.1:9/"}
    down = sender.send_to(Address("teams", conversation_id=S01), message())
    assert down.recoverable and "unreachable" in down.error
    assert sender.send_to(Address("teams", conversation_id=S01), message("suppressed")).ok  # record-only: no post


@pytest.mark.parametrize("n", SIZES)
def test_a_big_digest_is_split_within_teams_card_size_and_every_item_appears_exactly_once(hv: Harness, n) -> None:
    """Issue 10 item 12: 20+ items made one card over Teams' ~28 KB and the digest failed for good."""
    sender = TeamsSender(hv.container.factory, FixedToken(), hv.container.clock)  # type: ignore[arg-type]
    result = sender.send_to(Address("teams", conversation_id=S01), message("digest", **digest_payload(n)))
    assert result.ok, result.error
    posts = hv.fake.messages()
    assert hv.fake.rejected == []
    assert sorted(titles_in([p.all_text for p in posts])) == expected(n)
    if len(posts) > 1:
        assert [f"({k}/{len(posts)})" in p.body["summary"] for k, p in enumerate(posts, start=1)] == [True] * len(posts)


def test_teams_is_off_without_configuration_and_refuses_half_credentials(tmp_path: Path) -> None:
    from bot.teams.auth import TeamsConfigError
    from core.settings import Settings

    assert build_auth(Settings(_env_file=None, SITELINE_HOME=tmp_path)) is None
    with pytest.raises(TeamsConfigError, match="TEAMS_APP_PASSWORD, TEAMS_TENANT_ID"):
        build_auth(Settings(_env_file=None, SITELINE_HOME=tmp_path, TEAMS_APP_ID="app"))
