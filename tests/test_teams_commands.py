"""Teams parity for Slack's `/siteline escalation-path`, `digest` and `escalate`, end to end: real
Bot Framework Activity JSON posted to `POST /api/messages` of the running app, replies recorded by
the fake connector, assertions on the Adaptive Cards and the database rows (escalations, outbox,
audit, site preferences). SQLite and PostgreSQL; a virtual clock on a Monday morning.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from core.clock import VirtualClock
from core.db import transaction
from core.models import AuditRow, DeliveryRow, SiteRow
from escalation.models import EscalationRow
from tests.fake_teams_connector import FakeConnector, Post
from tests.test_teams_bot import Harness, fake, running, settled  # noqa: F401  (fixtures)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday: 10:00 in Berlin (S01)


@pytest.fixture
def h(tmp_path: Path, db_url: str, fake: FakeConnector) -> Iterator[Harness]:  # noqa: F811
    with running(tmp_path, db_url, fake, clock=VirtualClock(START)) as harness:
        yield harness


def reply_to(h: Harness, activity: dict[str, object]) -> Post:
    """Post an activity and return the bot's reply in that conversation."""
    before = len(h.fake.messages())
    assert h.post(activity).status_code == 202
    return h.fake.wait_for(before + 1)[before]


def prefs(h: Harness, site_id: str) -> tuple[list[str], list[str] | None]:
    with transaction(h.container.factory) as s:
        row = s.get(SiteRow, site_id)
        assert row is not None
        return list(row.digest_times), (list(row.quiet_hours) if row.quiet_hours else None)


def test_escalation_path_shows_the_ladder_with_names_timeouts_and_what_critical_changes(h: Harness) -> None:
    card = reply_to(h, h.teams.mention("anna", "S01", "escalation-path ip high"))
    assert card.conversation.startswith("19:s01@thread.tacv2") and card.card["type"] == "AdaptiveCard"
    text = card.all_text
    assert "Who an issue from Berlin Heart Centre on ORION reaches" in text and "IP / drug supply, high" in text
    assert "**Level 1 · CRA:** Carla CRA" in text and "told at once · 4 h to acknowledge" in text
    assert "**Level 2 · study manager:** Sam Manager" in text and "Mon 2 Mar 14:00 (Europe/Berlin) · 8 h" in text
    assert "**If it is critical:** levels 1 to 2" in text and "working hours" in text

    sponsor = reply_to(h, h.teams.personal("sam", "escalation-path S01 safety critical")).all_text
    assert "Berlin Heart Centre" in sponsor and "Critical issues are sent at once" in sponsor
    assert "If it is critical" not in sponsor
    assert "Tell me which site" in reply_to(h, h.teams.personal("sam", "escalation-path")).all_text
    assert "I don't know \u201cbanana\u201d" in reply_to(h, h.teams.personal("anna", "escalation-path banana")).all_text
    assert "directory" in reply_to(h, h.teams.personal("stranger", "escalation-path")).all_text


def test_digest_shows_and_sets_times_and_quiet_hours_audited(h: Harness) -> None:
    shown = reply_to(h, h.teams.mention("anna", "S01", "digest")).all_text
    assert "**Berlin Heart Centre** (S01, Europe/Berlin): digests at 09:00; quiet hours 20:00–07:00" in shown
    assert "digest 08:30,16:00 quiet 19:00-07:00" in shown

    saved = reply_to(h, h.teams.personal("anna", "digest 08:30,16:00 quiet 19:00-07:00")).all_text
    assert "✅ Saved." in saved and "digests at 08:30, 16:00; quiet hours 19:00–07:00" in saved
    assert prefs(h, "S01") == (["08:30", "16:00"], ["19:00", "07:00"])
    with transaction(h.container.factory) as s:
        entry = s.execute(select(AuditRow).where(AuditRow.action == "triage.preferences")).scalar_one()
        assert (entry.actor, entry.subject) == ("anna", "S01")

    assert "no quiet hours" in reply_to(h, h.teams.personal("anna", "digest S01 quiet off")).all_text
    assert prefs(h, "S01") == (["08:30", "16:00"], None)

    bad = reply_to(h, h.teams.personal("anna", "digest 21:00 quiet 20:00-07:00")).all_text
    assert "Not saved" in bad and "digest_times: every time (21:00) falls in quiet hours 20:00-07:00" in bad
    quiet = reply_to(h, h.teams.personal("anna", "digest quiet 19-07")).all_text
    assert "quiet_hours: '19-07' is not HH:MM-HH:MM" in quiet
    assert prefs(h, "S01") == (["08:30", "16:00"], None)


def test_digest_refusals_another_sites_staff_a_sponsor_and_a_stranger(h: Harness) -> None:
    other = reply_to(h, h.teams.personal("ben", "digest S01 06:00")).all_text  # ben is S02 staff
    assert "can't change the digest of S01" in other
    assert "nothing to show" in reply_to(h, h.teams.personal("sam", "digest S01 06:00")).all_text
    assert "directory" in reply_to(h, h.teams.personal("stranger", "digest S01 06:00")).all_text
    assert prefs(h, "S01") == (["09:00"], ["20:00", "07:00"])
    with transaction(h.container.factory) as s:
        assert s.execute(select(AuditRow).where(AuditRow.action == "triage.preferences")).first() is None
    both = reply_to(h, h.teams.personal("carla", "digest")).all_text  # a CRA of S01 and S03
    assert "(S01, Europe/Berlin)" in both and "(S03, America/New_York)" in both
    assert "Which site?" in reply_to(h, h.teams.personal("carla", "digest 07:00")).all_text


def test_escalate_raises_guards_identifiers_says_who_sees_it_and_sends_what_was_queued(h: Harness) -> None:
    summary = "Fridge failed overnight, temperature 18 C, MRN 4455667 kit affected"
    raised = reply_to(h, h.teams.mention("anna", "S01", f"escalate {summary}"))
    text = raised.all_text
    assert raised.conversation.startswith("19:s01@thread.tacv2")
    assert "Escalation raised for Berlin Heart Centre · ORION" in text and "(inferred from your text)" in text
    assert "IP / drug supply" in text and "**Level 1 · CRA:** Carla CRA" in text and "4455667" not in text
    assert "🔒" in text  # the user is told identifiers were removed
    with transaction(h.container.factory) as s:
        esc = s.execute(select(EscalationRow)).scalar_one()
        assert (esc.site, esc.study, esc.raised_by, esc.source) == ("S01", "ORION", "anna", "teams")
        assert esc.category == "ip_supply" and esc.category_inferred and "4455667" not in esc.summary
        assert esc.id in text
    # what the engine queued goes out at once: Carla's 1:1 card with Acknowledge / Resolve
    carla = h.fake.wait_for(where=lambda p: "Acknowledge" in p.action_titles())[0]
    assert "Resolve" in carla.action_titles() and "4455667" not in carla.all_text
    assert "failed" not in settled(h)
    with transaction(h.container.factory) as s:
        keys = s.execute(select(DeliveryRow.dedupe_key, DeliveryRow.status)).all()
        assert any(k.startswith(f"esc:{esc.id}:") and st == "sent" for k, st in keys)


def test_escalate_refusals_and_a_too_short_summary(h: Harness) -> None:
    assert "sponsor team" in reply_to(h, h.teams.personal("carla", "escalate kits arrived warm today")).all_text
    assert "directory" in reply_to(h, h.teams.personal("stranger", "escalate kits arrived warm")).all_text
    assert "Say in a sentence" in reply_to(h, h.teams.personal("anna", "escalate help")).all_text
    with transaction(h.container.factory) as s:
        assert s.execute(select(EscalationRow)).first() is None


def test_a_redelivered_escalate_raises_once(h: Harness) -> None:
    activity = h.teams.personal("anna", "escalate S01 ORION kits arrived warm, 12 quarantined", activity_id="2001")
    raised = reply_to(h, activity)
    assert "Escalation raised for Berlin Heart Centre · ORION" in raised.all_text
    assert h.post(activity).status_code == 202
    assert "Siteline" in reply_to(h, h.teams.personal("anna", "help")).all_text  # the redelivery was handled before
    settled(h)
    with transaction(h.container.factory) as s:
        [esc] = s.execute(select(EscalationRow)).scalars().all()
        assert esc.summary == "kits arrived warm, 12 quarantined"
    assert sum("Escalation raised for" in p.all_text for p in h.fake.messages()) == 1
