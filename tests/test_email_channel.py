"""The e-mail channel end to end, against a real local SMTP server (aiosmtpd), on SQLite and PostgreSQL.

An escalation raised through `POST /api/escalations` for a site whose level-1 CRA has only an e-mail
address reaches her by e-mail at the next tick (multipart, the ladder, "acknowledge by" in her zone,
no PHI); its link shows a page and changes nothing on GET, acknowledges once on POST (the site is
told in Slack, the audit trail says so), says "already used" after, and "expired" once the level
has moved on. A Slack refusal for good falls back to e-mail; a working Slack address never does.
An urgent update to a site with no chat reaches its staff by e-mail. E-mail off: nothing mounted.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.channels import build_notifier
from bot.email.models import AckLinkRow
from core.clock import VirtualClock, parse_instant
from core.db import transaction
from core.directory import parse_entries, upsert
from core.models import AuditRow, DeliveryRow
from core.settings import Settings
from escalation.models import EscalationRow
from scheduler.plugins import load_plugins, timer_handlers
from scheduler.runner import Ticker
from siteline.container import Container, build
from siteline.server import create_app
from tests.fake_slack import FakeSlack
from tests.smtp_server import LocalSmtp, Received
from tests.test_escalation_support import PEOPLE, SITES

TOKEN = {"Authorization": "Bearer s3cret"}
START = "2026-03-09T09:00:00Z"  # a Monday: 10:00 for Claire in Paris, 17:00 at Marina Research (Singapore)
PUBLIC = "https://siteline.example.org"
CLAIRE = "claire@example.org"
RAISE = {
    "id": "esc-mail-1",
    "site": "S03",
    "study": "ALPHA",
    "raised_by": "staff3",
    "summary": "fridge failed, 18 °C for 30 h; patient MRN 4455667 called from +33 6 12 34 56 78",
}
LINK = re.compile(re.escape(PUBLIC) + r"/ack/([A-Za-z0-9_-]+)")


@dataclass
class World:
    client: TestClient
    container: Container
    clock: VirtualClock
    smtp: LocalSmtp
    slack: FakeSlack

    def tick(self) -> None:
        """What `serve` runs each tick: every engine's timers, then the outbox through the router."""
        handlers = timer_handlers(load_plugins(self.container.settings))
        notifier = build_notifier(self.container)
        Ticker(self.container.factory, timer_handlers=handlers, notifier=notifier, worker_id="t").run(self.clock.now())

    def raise_(self, body: dict[str, Any] = RAISE) -> dict[str, Any]:
        resp = self.client.post("/api/escalations", json=body, headers=TOKEN)
        assert resp.status_code == 201, resp.text
        return dict(resp.json())

    def escalation(self, esc_id: str = "esc-mail-1") -> EscalationRow:
        with transaction(self.container.factory) as s:
            row = s.get(EscalationRow, esc_id)
            assert row is not None
            s.expunge(row)
            return row

    def audit(self, action: str) -> list[AuditRow]:
        with transaction(self.container.factory) as s:
            rows = list(s.execute(select(AuditRow).where(AuditRow.action == action).order_by(AuditRow.id)).scalars())
            s.expunge_all()
            return rows

    def delivery(self, key: str) -> DeliveryRow:
        with transaction(self.container.factory) as s:
            row = s.execute(select(DeliveryRow).where(DeliveryRow.dedupe_key == key)).scalar_one()
            s.expunge(row)
            return row


def directory(**changes: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """The escalation tests' world; Marina Research (S03) has a Slack channel; `changes` per person."""
    sites = [{**s, "slack_channel_id": "C_S03"} if s["site_id"] == "S03" else s for s in SITES]
    people = [{**p, **changes.get(p["person_id"], {})} for p in PEOPLE]
    entries = [(s["site_id"], {"type": "site", **s}) for s in sites]
    entries += [(p["person_id"], {"type": "person", **p}) for p in people]
    return parse_entries(entries)


def settings_for(tmp_path: Path, db_url: str, **extra: Any) -> Settings:
    return Settings(
        _env_file=None,
        SITELINE_HOME=tmp_path / "home",
        SITELINE_DATABASE_URL=db_url,
        SITELINE_API_TOKEN="s3cret",
        SITELINE_RUN_SCHEDULER=False,
        SITELINE_PUBLIC_URL=PUBLIC,
        **extra,
    )


def make_world(tmp_path: Path, db_url: str, people: dict[str, dict[str, Any]]) -> Iterator[World]:
    slack = FakeSlack().start()
    with LocalSmtp() as smtp:
        settings = settings_for(
            tmp_path,
            db_url,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET="secret",
            SLACK_API_URL=slack.api_url,
            SITELINE_SMTP_HOST="127.0.0.1",
            SITELINE_SMTP_PORT=smtp.port,
            SITELINE_SMTP_FROM="Siteline <siteline@example.org>",
            SITELINE_SMTP_STARTTLS=False,
        )
        clock = VirtualClock(parse_instant(START))
        container = build(settings, clock=clock)
        with transaction(container.factory) as s:
            upsert(s, *directory(**people))
        try:
            with TestClient(create_app(container)) as client:
                yield World(client, container, clock, smtp, slack)
        finally:
            container.engine.dispose()
            slack.stop()


@pytest.fixture
def world(tmp_path: Path, db_url: str) -> Iterator[World]:
    """Claire (cra1, level 1 for IP supply) has only an e-mail address."""
    yield from make_world(tmp_path, db_url, {"cra1": {"email": CLAIRE}})


def only_mail(w: World) -> tuple[Received, str]:
    """The one message the SMTP server got, and the acknowledge token in it."""
    (mail,) = w.smtp.wait(1)
    found = LINK.search(mail.part("plain"))
    assert found, mail.part("plain")
    return mail, found.group(1)


def test_health_says_email_is_on(world: World) -> None:
    assert world.client.get("/healthz").json()["email"] is True


def test_an_escalation_reaches_a_person_without_chat_by_email_with_the_ladder_and_no_phi(world: World) -> None:
    view = world.raise_()
    assert view["current_roles"] == ["cra"] and view["hands_on_at"] == "2026-03-09T13:00:00Z"
    assert world.smtp.received == []  # nothing is sent by the raise itself: the outbox sends at the tick
    world.tick()
    mail, token = only_mail(world)

    assert mail.rcpt_tos == [CLAIRE] and mail.mail_from == "siteline@example.org"
    assert mail.message["To"] == CLAIRE and mail.message["From"] == "Siteline <siteline@example.org>"
    assert mail.message.get_content_type() == "multipart/alternative"
    assert mail.message["Subject"] == "Escalation esc-mail-1 from Marina Research (S03): please acknowledge"
    assert mail.message["Auto-Submitted"] == "auto-generated"
    text, page = mail.part("plain"), mail.part("html")
    for body in (text, page):
        assert "IP / drug supply (inferred by Siteline)" in body and "ALPHA" in body
        assert "1 of 3 · you, as CRA" in body
        # The deadline in Claire's zone: 13:00 UTC is 14:00 in Paris.
        assert (
            "Please acknowledge by Mon 9 Mar 14:00 (Europe/Paris) (within 4 h), or it goes to the study manager."
            in body
        )
        # The ladder so far: who was told when (her time), and what comes next.
        assert "Level 1 · CRA: Claire CRA (cra1) (you), told Mon 9 Mar 10:00 (Europe/Paris)" in body
        assert "Level 2 · study manager: told if still unacknowledged" in body
        assert "Level 3 · head of clinical operations: told if still unacknowledged" in body
        assert f"{PUBLIC}/ack/{token}" in body
        # No PHI: the API redacted the summary before it was stored, so nothing downstream has it.
        assert "4455667" not in body and "12 34 56 78" not in body
        assert "fridge failed, 18 °C for 30 h; patient MRN [MRN] called from [PHONE]" in body
    assert "<h2>Escalation esc-mail-1 from Marina Research (S03)</h2>" in page

    row = world.delivery("esc:esc-mail-1:L1:cra1")
    assert row.status == "sent" and row.external_ref and row.external_ref.startswith("email:<")
    # The site heard of its raise in Slack: e-mail never replaces a chat address that works.
    assert any("esc-mail-1" in c.args.get("text", "") for c in world.slack.of("chat.postMessage"))
    with transaction(world.container.factory) as s:
        link = s.execute(select(AckLinkRow)).scalar_one()
        assert (link.escalation_id, link.person_id, link.level) == ("esc-mail-1", "cra1", 1)
        assert link.expires_at == parse_instant("2026-03-09T13:00:00Z")  # when her level hands on
        assert token not in link.token_hash and link.used_at is None
    issued = world.audit("escalation.ack_link_issued")
    assert [(a.subject, a.detail["person"], a.detail["level"]) for a in issued] == [("esc-mail-1", "cra1", 1)]


def test_the_link_shows_a_page_on_get_and_acknowledges_once_on_post(world: World) -> None:
    world.raise_()
    world.tick()
    _, token = only_mail(world)
    url = f"/ack/{token}"

    for _ in range(2):  # a mail scanner, then Claire: opening the link changes nothing
        page = world.client.get(url)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "Acknowledge escalation esc-mail-1" in page.text
        assert f"<form method='post' action='{token}'>" in page.text  # relative: /ack/{token} again
        for fact in ("Marina Research (S03)", "IP / drug supply", "high", "1 (sent to Claire CRA (cra1))"):
            assert fact in page.text
        assert "fridge" not in page.text  # the page says what it is, never the summary
        assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
    assert world.escalation().status == "notified"
    assert world.audit("escalation.ack") == [] and world.audit("escalation.ack_link") == []

    posts_before = len(world.slack.of("chat.postMessage"))
    done = world.client.post(url)
    assert done.status_code == 200
    # The same words as after a chat button (the assistant's desk says them).
    assert "Acknowledged by Claire CRA at Mon 9 Mar 10:00 (Europe/Paris). It won&#x27;t go further up" in done.text
    esc = world.escalation()
    assert (esc.status, esc.acked_by) == ("acknowledged", "cra1")
    # The site is told at once (not at the next tick), in its Slack channel, as after a chat button.
    assert world.delivery("esc:esc-mail-1:site:ack").status == "sent"
    told = world.slack.of("chat.postMessage")[posts_before:]
    assert any("acknowledged by Claire CRA (cra1)" in c.args.get("text", "") for c in told)
    (acked,) = world.audit("escalation.ack")
    assert acked.actor == "cra1" and acked.subject == "esc-mail-1"
    (used,) = world.audit("escalation.ack_link")
    assert (used.actor, used.subject, used.detail["outcome"], used.detail["level"]) == (
        "cra1",
        "esc-mail-1",
        "acknowledged",
        1,
    )

    again = world.client.post(url)
    assert again.status_code == 410 and "already used" in again.text
    assert world.client.get(url).status_code == 410
    assert len(world.audit("escalation.ack")) == 1  # no second acknowledgement
    assert [a.detail["outcome"] for a in world.audit("escalation.ack_link")] == ["acknowledged", "used"]
    every = json.dumps([a.detail for a in world.audit("escalation.ack_link") + world.audit("escalation.ack")])
    assert token not in every  # the token is never audited
    assert len(world.smtp.received) == 1  # Claire acted herself: nothing more to tell her


def test_an_expired_unknown_or_mangled_link_is_a_clear_page_and_changes_nothing(world: World) -> None:
    world.raise_()
    world.tick()
    _, token = only_mail(world)
    world.clock.advance_to(parse_instant(START) + timedelta(hours=4, minutes=1))  # 13:01 UTC: level 1 has handed on
    for resp in (world.client.get(f"/ack/{token}"), world.client.post(f"/ack/{token}")):
        assert resp.status_code == 410 and "This link has expired" in resp.text
    assert world.escalation().acked_by is None
    unknown = "x" * 43
    for resp in (world.client.get(f"/ack/{unknown}"), world.client.post(f"/ack/{unknown}")):
        assert resp.status_code == 404 and "This link is not valid" in resp.text
    for mangled in ("short", "a" * 300, "%3Cscript%3E" + "a" * 40):
        resp = world.client.get(f"/ack/{mangled}")
        assert resp.status_code == 404 and "<script>" not in resp.text
    assert [(a.actor, a.detail["outcome"]) for a in world.audit("escalation.ack_link")] == [
        ("cra1", "expired"),
        ("unknown", "unknown"),
    ]


@pytest.fixture
def slack_and_mail(tmp_path: Path, db_url: str) -> Iterator[World]:
    """Claire has both a Slack account and an e-mail address."""
    yield from make_world(tmp_path, db_url, {"cra1": {"email": CLAIRE, "slack_user_id": "U_CLAIRE"}})


def test_a_permanent_slack_refusal_falls_back_to_email(slack_and_mail: World, caplog: Any) -> None:
    w = slack_and_mail
    w.slack.fail_once("conversations.open", error="user_not_found")
    w.raise_()
    with caplog.at_level(logging.WARNING, logger="siteline.outbound"):
        w.tick()
    mail, _ = only_mail(w)
    assert mail.rcpt_tos == [CLAIRE] and "Please acknowledge by Mon 9 Mar 14:00 (Europe/Paris)" in mail.part("plain")
    row = w.delivery("esc:esc-mail-1:L1:cra1")
    assert row.status == "sent" and row.attempts == 1 and (row.external_ref or "").startswith("email:")
    assert f"delivery {row.id}: sent by e-mail instead (slack refused: user_not_found)" in caplog.text
    assert "fridge" not in caplog.text and CLAIRE not in caplog.text  # ids and reasons only


def test_a_working_slack_address_is_never_replaced_by_email(slack_and_mail: World) -> None:
    w = slack_and_mail
    w.raise_()
    w.tick()
    dm = w.slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "DU_CLAIRE")
    assert "esc-mail-1" in dm[0].args["text"]
    assert w.smtp.received == [] and w.delivery("esc:esc-mail-1:L1:cra1").external_ref.startswith("DU_CLAIRE:")


def test_a_slack_retry_waits_for_slack_instead_of_mailing(slack_and_mail: World) -> None:
    w = slack_and_mail
    w.slack.fail_once("conversations.open", status=503, error="service_unavailable")
    w.raise_()
    w.tick()
    row = w.delivery("esc:esc-mail-1:L1:cra1")
    assert row.status == "pending" and "service_unavailable" in (row.last_error or "")
    assert w.smtp.received == []


def test_an_urgent_update_to_a_site_without_chat_reaches_its_staff_by_email(tmp_path: Path, db_url: str) -> None:
    people = {
        "staff4": {"email": "stella@s04.example.org"},
        "staff3": {"email": "marina@s03.example.org"},  # another site: must not get S04's update
    }
    for w in make_world(tmp_path, db_url, people):
        update = {
            "id": "upd-1",
            "from": "sm1",
            "org": "sponsor",
            "study": "ALPHA",
            "sites": ["S04"],
            "subject": "Recall of lot L4242",
            "body": "The manufacturer is recalling lot L4242 <today>.",
        }
        resp = w.client.post("/api/updates", json=update, headers=TOKEN)
        assert resp.status_code == 201 and resp.json()["counts"]["immediate"] == 1, resp.text
        w.tick()
        (mail,) = w.smtp.wait(1)
        assert mail.rcpt_tos == ["stella@s04.example.org"]
        assert mail.message["Subject"] == "URGENT: Recall of lot L4242 (No CRA Site (S04))"
        assert "The manufacturer is recalling lot L4242 <today>." in mail.part("plain")
        assert "recalling lot L4242 &lt;today&gt;." in mail.part("html") and "<today>" not in mail.part("html")
        assert w.delivery("triage:immediate:upd-1:S04").status == "sent"
        assert w.smtp.received == [mail]


def test_email_off_no_sender_and_no_route(tmp_path: Path, db_url: str) -> None:
    container = build(settings_for(tmp_path, db_url), clock=VirtualClock(parse_instant(START)))
    try:
        assert "email" not in build_notifier(container).senders
        app = create_app(container)
        assert not [r for r in app.routes if getattr(r, "path", "").startswith("/ack")]
        with TestClient(app) as client:
            assert client.get("/ack/" + "x" * 43).status_code == 404
    finally:
        container.engine.dispose()


def test_a_link_after_someone_else_acknowledged_says_who_and_acknowledges_nothing(world: World) -> None:
    world.raise_()
    world.tick()
    _, token = only_mail(world)
    world.clock.advance_to(parse_instant(START) + timedelta(minutes=20))
    by_api = world.client.post("/api/escalations/esc-mail-1/ack", json={"by": "srm1"}, headers=TOKEN)
    assert by_api.status_code == 200 and by_api.json()["acked_by"] == "srm1"
    page = world.client.get(f"/ack/{token}")
    assert page.status_code == 200 and "<form" not in page.text
    assert "already acknowledged by Rita SRM (srm1) on Mon 9 Mar 10:20 (Europe/Paris)" in page.text
    done = world.client.post(f"/ack/{token}")
    assert done.status_code == 200 and "already acknowledged by Rita SRM (srm1)" in done.text
    assert world.escalation().acked_by == "srm1" and len(world.audit("escalation.ack")) == 1
    assert [a.detail["outcome"] for a in world.audit("escalation.ack_link")] == ["already_acknowledged"]


def test_a_person_no_longer_on_the_site_is_refused_and_the_link_is_not_spent(world: World) -> None:
    world.raise_()
    world.tick()
    _, token = only_mail(world)
    with transaction(world.container.factory) as s:  # Claire moved to other sites since the e-mail
        upsert(s, *directory(cra1={"email": CLAIRE, "sites": ["S01"]}))
    done = world.client.post(f"/ack/{token}")
    assert done.status_code == 403 and "You can&#x27;t acknowledge escalation esc-mail-1" in done.text
    assert world.escalation().status == "notified" and world.audit("escalation.ack") == []
    (refused,) = world.audit("escalation.ack_link")
    assert refused.detail["outcome"] == "refused" and refused.actor == "cra1"
    with transaction(world.container.factory) as s:
        assert s.execute(select(AckLinkRow.used_at)).scalar_one() is None


def test_the_access_log_never_keeps_an_acknowledge_link() -> None:
    from siteline.access_log import HideLinkTokens

    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/ack/abcDEF123_-secret?x=1", "1.1", 200), None,
    )  # fmt: skip
    HideLinkTokens().filter(record)
    assert "secret" not in record.getMessage() and "/ack/…" in record.getMessage()


def test_two_presses_at_once_acknowledge_once(world: World) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from bot.email.acknowledge import acknowledge

    world.raise_()
    world.tick()
    _, token = only_mail(world)
    c = world.container
    barrier = threading.Barrier(2)

    def press() -> str:
        barrier.wait()
        return acknowledge(c.factory, c.assistant.escalations, token=token, now=c.clock.now(), client="t").outcome

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(lambda _: press(), range(2)))
    assert outcomes == ["acknowledged", "used"]
    assert len(world.audit("escalation.ack")) == 1 and world.escalation().acked_by == "cra1"


def test_with_only_email_configured_what_email_does_not_carry_is_held_for_chat(factory: Any) -> None:
    from assistant.outbound import RoutingNotifier
    from bot.email.sender import EmailSender, SmtpConfig
    from core.notify import NO_PLATFORM, OutboundMessage

    with transaction(factory) as s:
        upsert(s, *directory(cra1={"email": CLAIRE}))
    with LocalSmtp() as smtp:
        email = EmailSender(SmtpConfig("127.0.0.1", smtp.port, "siteline@example.org", starttls=False), factory,
                            lambda: parse_instant(START), PUBLIC)  # fmt: skip
        router = RoutingNotifier(factory, {"email": email}, lambda: parse_instant(START))
        digest = OutboundMessage(1, "site", "S04", "digest", {"items": [{"id": "u1", "priority": "fyi"}]})
        held = router.send(digest)
        assert held.blocked and held.error == NO_PLATFORM and smtp.received == []
        update = {"escalation": {"id": "e1", "status": "acknowledged"}, "text": "Escalation e1 was acknowledged."}
        assert router.send(OutboundMessage(2, "person", "cra1", "escalation_update", update)).ok
        (mail,) = smtp.wait(1)
        assert mail.rcpt_tos == [CLAIRE] and "Escalation e1 was acknowledged." in mail.part("plain")
        nobody = router.send(OutboundMessage(3, "person", "lead1", "escalation_update", update))  # no e-mail either
        assert nobody.blocked and len(smtp.received) == 1


def test_a_failure_while_acknowledging_is_a_clear_page_and_gives_the_link_back(world: World) -> None:
    from bot.email.acknowledge import acknowledge

    class BrokenDesk:
        def act_as(self, person_id: str, escalation_id: str, *, resolve: bool, now: Any) -> Any:
            raise ConnectionError("database went away")

    world.raise_()
    world.tick()
    _, token = only_mail(world)
    c = world.container
    failed = acknowledge(c.factory, BrokenDesk(), token=token, now=c.clock.now(), client="t")
    assert (failed.status, failed.outcome) == (503, "failed") and "press the button again" in failed.message
    with transaction(c.factory) as s:
        assert s.execute(select(AckLinkRow.used_at)).scalar_one() is None
    assert world.client.post(f"/ack/{token}").status_code == 200  # the link still works
    assert [a.detail["outcome"] for a in world.audit("escalation.ack_link")] == ["failed", "acknowledged"]
