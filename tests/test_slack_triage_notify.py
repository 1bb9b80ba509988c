"""`/siteline notify` end to end: signed requests into POST /slack/events, the fake Slack Web API,
the real triage engine, and the serve-time delivery loop on a virtual clock (no sleeping).

Form (views.open) → Preview (view_submission → how Siteline will treat it, per site) → Send →
the urgent update is in the site's channel at the next tick, the FYI in the site's digest at its
slot. Also the harness the other Slack triage/escalation tests share (`World`, `w`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from assistant.service import Assistant
from bot.channels import build_notifier
from core.clock import VirtualClock
from core.db import transaction
from core.models import DeliveryRow
from core.settings import Settings
from scheduler.plugins import load_plugins, timer_handlers
from scheduler.runner import Ticker, run_virtual_until
from siteline.container import Container, build
from siteline.server import create_app
from tests.chat_world import TABLE, FakeGuard, FakeKnowledge, load_directory
from tests.fake_slack import Call, FakeSlack, SlackPayloads
from triage.models import UpdateRow

SECRET = "test-signing-secret"
FORM = "application/x-www-form-urlencoded"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday: 10:00 in Berlin (S01), 04:00 in Boston (S03)


@dataclass
class World:
    client: TestClient
    fake: FakeSlack
    slack: SlackPayloads
    container: Container
    clock: VirtualClock

    def post(self, body: str, content_type: str = FORM) -> Any:
        return self.client.post("/slack/events", content=body, headers=self.slack.headers(body, content_type))

    def command(self, user: str, channel: str, text: str) -> Any:
        return self.post(self.slack.command(user, channel, text))

    def submit(self, user: str, view: dict[str, Any], values: dict[str, Any]) -> Any:
        """A view_submission of `view` (as Slack shows it) with these input states."""
        payload = {"type": "view_submission", "user": {"id": user},
                   "view": {**view, "id": "V1", "hash": "h1", "state": {"values": values}}}  # fmt: skip
        return self.post(self.slack.interaction(payload))

    def act_in_view(self, user: str, view: dict[str, Any], values: dict[str, Any], action_id: str, **value: Any) -> Any:
        """A block_actions from inside a modal (a select with dispatch_action, or a button)."""
        payload = {
            "type": "block_actions",
            "user": {"id": user},
            "container": {"type": "view", "view_id": "V1"},
            "view": {**view, "id": "V1", "hash": "h1", "state": {"values": values}},
            "actions": [{"action_id": action_id, "block_id": action_id, **value}],
        }
        return self.post(self.slack.interaction(payload))

    def ticker(self) -> Ticker:
        """What `serve` runs: every engine's timers and the routing Notifier (Slack sender inside)."""
        handlers = timer_handlers(load_plugins(self.container.settings))
        return Ticker(self.container.factory, timer_handlers=handlers, notifier=build_notifier(self.container),
                      worker_id="test")  # fmt: skip

    def run_until(self, when: datetime) -> None:
        run_virtual_until(self.ticker(), self.clock, when)

    def posts(self, **where: Any) -> list[Call]:
        return [c for c in self.fake.of("chat.postMessage") if all(c.args.get(k) == v for k, v in where.items())]


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    f = FakeSlack().start()
    yield f
    f.stop()


@pytest.fixture
def w(tmp_path: Path, db_url: str, fake: FakeSlack) -> Iterator[World]:
    settings = Settings(
        _env_file=None,
        SITELINE_HOME=tmp_path / "home",
        SITELINE_DATABASE_URL=db_url,
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.api_url,
        SITELINE_RUN_SCHEDULER=False,
    )
    clock = VirtualClock(START)
    container = build(settings, clock=clock)
    load_directory(container.factory)
    knowledge = FakeKnowledge(container.factory, TABLE)
    container.__dict__["assistant"] = Assistant(
        settings=settings,
        factory=container.factory,
        knowledge=lambda: knowledge,
        guard=FakeGuard,
        triage=lambda: container.triage,
    )
    with TestClient(create_app(container)) as client:
        yield World(client, fake, SlackPayloads(SECRET, fake), container, clock)
    container.engine.dispose()


# -- building Slack's view state -------------------------------------------------------------


def picked(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value}}


def many(*values: str) -> dict[str, Any]:
    return {"type": "multi_static_select", "selected_options": [{"value": v} for v in values]}


def typed(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def notify_state(subject: str, body: str, *, sites: tuple[str, ...] = ("S01",), priority: str = "normal",
                 due: str | None = None, study: str = "ORION") -> dict[str, Any]:  # fmt: skip
    return {
        "n_study": {"notify_study_changed": picked(study)},
        f"n_sites|{study}": {"n_sites": many(*sites)},
        "n_subject": {"n_subject": typed(subject)},
        "n_body": {"n_body": typed(body)},
        "n_priority": {"n_priority": picked(priority)},
        "n_due": {"n_due": {"type": "datepicker", "selected_date": due}},
        "n_org": {"n_org": picked("sponsor")},
    }


def views(w: World, method: str, n: int) -> dict[str, Any]:
    """The view of the n-th call of `method` (views.open / views.update), waiting for it."""
    return w.fake.wait_for(method, n)[n - 1].args["view"]


def texts(view: dict[str, Any]) -> str:
    return Call("v", {"view": view}, {}).text_of_blocks


def send_update(w: World, state: dict[str, Any], *, opened: int = 1, updates_before: int = 0) -> dict[str, Any]:
    """Open the form, preview, confirm; returns the final ("Update sent") view."""
    compose = views(w, "views.open", opened)
    resp = w.submit("U_CARLA", compose, state)
    assert resp.status_code == 200 and resp.json()["response_action"] == "update"
    confirm = views(w, "views.update", updates_before + 1)
    assert confirm["callback_id"] == "notify_confirm"
    resp = w.submit("U_CARLA", confirm, {})
    assert resp.json()["response_action"] == "update" and "Sending" in json.dumps(resp.json()["view"])
    return views(w, "views.update", updates_before + 2)


# -- tests -----------------------------------------------------------------------------------


def test_notify_opens_a_form_with_the_cras_studies_and_sites(w: World) -> None:
    assert w.command("U_CARLA", "DU_CARLA", "notify").status_code == 200
    view = views(w, "views.open", 1)
    assert view["callback_id"] == "notify_compose" and view["submit"]["text"] == "Preview"
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    study = blocks["n_study"]["element"]
    assert [o["value"] for o in study["options"]] == ["ORION"] and study["initial_option"]["value"] == "ORION"
    assert blocks["n_study"]["dispatch_action"] is True
    sites = blocks["n_sites|ORION"]["element"]
    assert sites["type"] == "multi_static_select"
    assert [o["value"] for o in sites["options"]] == ["all", "S01", "S03"]  # Carla covers S01 and S03 on ORION
    assert "Berlin Heart Centre (S01)" in texts(view) and "Lyon" not in texts(view)
    priority = blocks["n_priority"]["element"]
    assert [o["value"] for o in priority["options"]] == ["urgent", "normal", "low"]
    assert blocks["n_due"]["element"]["type"] == "datepicker" and blocks["n_due"]["optional"]


def test_urgent_update_preview_confirm_and_delivered_to_the_site_channel_at_once(w: World) -> None:
    w.command("U_CARLA", "DU_CARLA", "notify")
    state = notify_state("URGENT: dosing hold for ORION", "Stop dosing immediately; safety review pending.",
                         priority="urgent")  # fmt: skip
    compose = views(w, "views.open", 1)
    resp = w.submit("U_CARLA", compose, state)
    assert resp.json()["response_action"] == "update"
    confirm = views(w, "views.update", 1)
    shown = texts(confirm)
    assert "Siteline's judgment: URGENT" in shown
    assert "*Berlin Heart Centre (S01)*: at once." in shown
    assert "Nothing has been sent yet" in shown and confirm["submit"]["text"] == "Send"
    with transaction(w.container.factory) as s:
        assert s.execute(select(UpdateRow)).first() is None  # a preview stores nothing

    resp = w.submit("U_CARLA", confirm, {})
    done = views(w, "views.update", 2)
    assert "Sent: 1 at once." in texts(done)
    with transaction(w.container.factory) as s:
        row = s.execute(select(UpdateRow)).scalar_one()
        assert (row.source, row.sender, row.priority, row.addressed) == ("slack", "carla", "urgent", ["S01"])
        assert s.execute(select(DeliveryRow.kind, DeliveryRow.recipient)).all() == [("immediate", "S01")]

    w.ticker().run(w.clock.now())
    [post] = w.posts(channel="C_S01")
    header = post.args["blocks"][0]
    assert header["type"] == "header"
    assert header["text"]["text"] == ":rotating_light: URGENT sponsor update · Berlin Heart Centre"
    assert post.args["text"].startswith("URGENT: URGENT: dosing hold for ORION")
    body = post.text_of_blocks
    assert "Stop dosing immediately" in body and "Sent at once, not in the digest" in body and "ORION · carla" in body

    # A double click on Send (same update id) stores nothing twice.
    again = w.submit("U_CARLA", confirm, {})
    assert again.status_code == 200
    assert "Already received earlier" in texts(views(w, "views.update", 3))
    with transaction(w.container.factory) as s:
        assert len(s.execute(select(UpdateRow)).all()) == 1


def test_an_fyi_waits_for_the_sites_digest_slot_in_its_time_zone(w: World) -> None:
    w.command("U_CARLA", "C_S01", "notify")
    state = notify_state("Newsletter: enrolment at 60%", "Thanks to all sites for the recruitment push.",
                         sites=("all",), priority="low")  # fmt: skip
    w.submit("U_CARLA", views(w, "views.open", 1), state)
    shown = texts(views(w, "views.update", 1))
    assert "Siteline's judgment: FYI" in shown
    assert "*Berlin Heart Centre (S01)*: in its next digest, Tue 3 Mar 09:00 (Europe/Berlin)." in shown
    assert "*Boston General (S03)*: in its next digest, Mon 2 Mar 09:00 (America/New_York)." in shown
    w.submit("U_CARLA", views(w, "views.update", 1), {})
    assert "Sent: 2 in digests." in texts(views(w, "views.update", 2))
    with transaction(w.container.factory) as s:
        assert s.execute(select(UpdateRow.addressed)).scalar_one() == ["S01", "S03"]  # a CRA's "all" = their sites

    w.run_until(START + timedelta(hours=2))  # Boston's 09:00 is 14:00Z: nothing yet anywhere
    assert w.posts() == []
    w.run_until(datetime(2026, 3, 3, 8, 0, tzinfo=UTC))  # 14:00Z Boston, then Tue 09:00 Berlin = 08:00Z
    [boston] = w.posts(channel="C_S03")
    [berlin] = w.posts(channel="C_S01")
    blocks = berlin.args["blocks"]
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == ":newspaper: Digest for Berlin Heart Centre · 1 update"
    text = berlin.text_of_blocks
    assert "Tue 3 Mar 09:00 (Europe/Berlin)" in text
    assert ":information_source: *For your information* (1)" in text and "Newsletter: enrolment at 60%" in text
    why = [b for b in blocks if b["type"] == "context" and "Why:" in json.dumps(b)]
    assert len(why) == 1
    assert "Digest for Boston General · 1 update" in boston.text_of_blocks


def test_validation_errors_are_shown_on_the_field(w: World) -> None:
    w.command("U_CARLA", "DU_CARLA", "notify")
    compose = views(w, "views.open", 1)
    none = w.submit("U_CARLA", compose, notify_state("Visit window reminder", "", sites=()))
    expected = {"n_sites|ORION": "Choose at least one site, or all sites."}
    assert none.json() == {"response_action": "errors", "errors": expected}
    other = w.submit("U_CARLA", compose, notify_state("Visit window reminder", "", sites=("S02",)))
    assert other.json()["errors"] == {"n_sites|ORION": "Not one of your sites on ORION: S02."}
    blank = w.submit("U_CARLA", compose, notify_state("   ", "", sites=("S01",)))
    assert blank.json()["errors"] == {"n_subject": "String should have at least 1 character"}
    long_body = "word " * 700
    too_long = w.submit("U_CARLA", compose, notify_state("Visit window reminder", long_body.strip() + "é" * 10))
    assert "Too long to preview here" in too_long.json()["errors"]["n_body"]
    assert w.fake.of("views.update") == []
    with transaction(w.container.factory) as s:
        assert s.execute(select(UpdateRow)).first() is None


def test_study_change_redraws_the_sites_and_edit_goes_back_to_the_form(w: World) -> None:
    w.command("U_SAM", "DU_SAM", "notify")  # a study manager: all sites of the study
    compose = views(w, "views.open", 1)
    assert [o["value"] for o in compose["blocks"][1]["element"]["options"]] == ["all", "S01", "S03"]
    assert "All sites on ORION" in texts(compose)
    w.act_in_view("U_SAM", compose, notify_state("x", "x", sites=("S01",)), "notify_study_changed",
                  selected_option={"value": "ORION"})  # fmt: skip
    redrawn = views(w, "views.update", 1)
    assert redrawn["callback_id"] == "notify_compose" and redrawn["blocks"][1]["block_id"] == "n_sites|ORION"

    w.submit("U_SAM", compose, notify_state("Site visit plan", "Plan for April.", sites=("all",), due="2026-03-20"))
    confirm = views(w, "views.update", 2)
    assert "due Fri 20 Mar 2026" in texts(confirm) and "ACTION" in texts(confirm)
    w.act_in_view("U_SAM", confirm, {}, "notify_edit", value="notify_edit")
    back = views(w, "views.update", 3)
    blocks = {b.get("block_id"): b for b in back["blocks"]}
    assert blocks["n_subject"]["element"]["initial_value"] == "Site visit plan"
    assert blocks["n_due"]["element"]["initial_date"] == "2026-03-20"
    assert [o["value"] for o in blocks["n_sites|ORION"]["element"]["initial_options"]] == ["all"]


def test_site_staff_and_strangers_cannot_notify(w: World) -> None:
    refused = w.command("U_ANNA", "C_S01", "notify").text
    assert "is for the sponsor and CRO team" in refused and "/siteline digest" in refused
    assert "directory" in w.command("U_STRANGER", "C_S01", "notify").text
    assert w.fake.of("views.open") == []
    # A forged submission from site staff is refused on the form, nothing stored.
    forged = {"type": "modal", "callback_id": "notify_compose", "blocks": []}
    resp = w.submit("U_ANNA", forged, notify_state("Hello", "x"))
    assert resp.json()["response_action"] == "errors"
    with transaction(w.container.factory) as s:
        assert s.execute(select(UpdateRow)).first() is None


def test_a_repeat_of_a_pending_update_is_previewed_as_merged(w: World) -> None:
    state = notify_state("Reminder: upload the delegation log", "Please upload the signed delegation log to the ISF.",
                         priority="low")  # fmt: skip
    w.command("U_CARLA", "C_S01", "notify")
    send_update(w, state)
    w.command("U_CARLA", "C_S01", "notify")
    w.submit("U_CARLA", views(w, "views.open", 2), state)
    preview = texts(views(w, "views.update", 3))
    with transaction(w.container.factory) as s:
        first = s.execute(select(UpdateRow.update_id)).scalar_one()
    assert f"*Berlin Heart Centre (S01)*: merged into {first}, out with it Tue 3 Mar 09:00 (Europe/Berlin)." in preview


def test_participant_identifiers_are_removed_before_preview_store_and_post(w: World) -> None:
    """Issue 10 item 1: the Slack notify form goes through the PHI guard like every other door."""
    w.command("U_CARLA", "DU_CARLA", "notify")
    state = notify_state("URGENT: dosing hold, MRN 48213377", "Participant DOB 04/12/1961: stop dosing now.",
                         priority="urgent")  # fmt: skip
    w.submit("U_CARLA", views(w, "views.open", 1), state)
    confirm = views(w, "views.update", 1)
    w.submit("U_CARLA", confirm, {})
    assert "Sent: 1 at once." in texts(views(w, "views.update", 2))  # the listener has stored it
    w.ticker().run(w.clock.now())
    with transaction(w.container.factory) as s:
        row = s.execute(select(UpdateRow)).scalar_one()
    assert (row.subject, row.body) == ("URGENT: dosing hold, MRN [MRN]", "Participant DOB [DOB]: stop dosing now.")
    [post] = w.posts(channel="C_S01")
    sent = json.dumps(post.args)  # (the sender's own form still shows them their draft)
    assert "48213377" not in sent and "04/12/1961" not in sent and "MRN [MRN]" in sent
