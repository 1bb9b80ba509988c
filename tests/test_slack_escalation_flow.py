"""`/siteline escalate` end to end through signed Slack requests, the real escalation engine and the
serve-time delivery loop on a virtual clock (no sleeping):

form (who will see it, when) → raise → root "Escalation raised: …" in the site channel, the path in
its thread, a DM to the level-1 recipient with Acknowledge / Resolve, "level 1 notified" in the
thread → a click on Acknowledge → the thread says so (same thread ts), the DM is rewritten → no
hand-on after the time limit; unacknowledged → level 2 after the time limit; strangers refused.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.slack.models import SlackThreadRow
from core.db import transaction
from core.models import AuditRow
from escalation.models import EscalationRow
from tests.fake_slack import Call
from tests.test_slack_triage_notify import START, World, fake, picked, texts, typed, views, w  # noqa: F401  (fixtures)

SUMMARY = "IP shipment arrived warm this morning; 12 kits quarantined"


@pytest.fixture
def world(w: World) -> World:  # noqa: F811  (the shared harness, under this module's name)
    return w


def escalate_state(summary: str, *, category: str = "ip_supply", severity: str = "high") -> dict[str, Any]:
    return {
        "e_where": {"e_where": picked("S01|ORION")},
        "e_category": {"e_category": picked(category)},
        "e_severity": {"e_severity": picked(severity)},
        "e_summary": {"e_summary": typed(summary)},
    }


def raise_one(world: World, summary: str = SUMMARY, **kw: str) -> tuple[str, Call, Call]:
    """Anna raises from her site channel; returns (escalation id, root message, Carla's DM)."""
    world.command("U_ANNA", "C_S01", "escalate")
    form = views(world, "views.open", 1)
    resp = world.submit("U_ANNA", form, escalate_state(summary, **kw))
    assert resp.json()["response_action"] == "update" and "Raising it" in json.dumps(resp.json()["view"])
    done = views(world, "views.update", 1)
    with transaction(world.container.factory) as s:
        esc_id = s.execute(select(EscalationRow.id)).scalar_one()
    assert f"Escalation {esc_id} raised" in texts(done) and "<#C_S01>" in texts(done)
    dm = world.fake.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "DU_CARLA")[0]
    root = world.posts(channel="C_S01")[0]
    return esc_id, root, dm


def buttons(call: Call) -> list[str]:
    return [e["action_id"] for b in call.args["blocks"] if b["type"] == "actions" for e in b["elements"]]


def click(world: World, user: str, action_id: str, esc_id: str, dm: Call) -> Any:
    message = {"ts": "1700000000.000777", "blocks": dm.args["blocks"]}
    return world.post(world.slack.click(user, action_id, esc_id, channel="DU_CARLA", message=message))


def test_the_form_explains_who_will_see_it_and_redraws_for_a_category(world: World) -> None:
    assert world.command("U_ANNA", "C_S01", "escalate").status_code == 200
    form = views(world, "views.open", 1)
    assert form["callback_id"] == "escalate_raise" and form["submit"]["text"] == "Raise"
    blocks = {b.get("block_id"): b for b in form["blocks"]}
    categories = [o["value"] for o in blocks["e_category"]["element"]["options"]]
    assert categories[0] == "auto" and len(categories) == 10 and "ip_supply" in categories
    assert blocks["e_category"]["element"]["options"][2]["text"]["text"] == "IP / drug supply"
    assert [o["value"] for o in blocks["e_severity"]["element"]["options"]] == [
        "auto",
        "low",
        "medium",
        "high",
        "critical",
    ]
    shown = texts(form)
    assert "Siteline will pick the category and severity from your summary" in shown
    assert "told at once · 1 day to acknowledge" in shown
    assert "*Level 1 · CRA:* Carla CRA (carla)" in shown and "1 day to acknowledge" in shown
    assert "Notices wait for each person's working hours (08:00–18:00 Mon–Fri" in shown
    assert "*If it is critical:* levels 1 to 2" in shown

    world.act_in_view("U_ANNA", form, escalate_state("x", category="ip_supply", severity="auto"), "e_category",
                  selected_option={"value": "ip_supply"})  # fmt: skip
    redrawn = texts(views(world, "views.update", 1))
    assert "IP / drug supply, medium" in redrawn and "4 h to acknowledge" in redrawn
    assert "*Level 2 · study manager:* Sam Manager (sam)" in redrawn and "8 h to acknowledge" in redrawn
    assert "nobody is registered for this role yet" in redrawn  # no head of clinical operations in this world


def test_raise_dm_acknowledge_thread_and_no_hand_on_after_the_time_limit(world: World) -> None:
    esc_id, root, dm = raise_one(world)
    assert "thread_ts" not in root.args and root.args["text"].startswith(f"Escalation raised: {SUMMARY}")
    root_ts = "1700000000.000001"  # the fake's first ts: the root was the first message posted
    thread = world.posts(channel="C_S01", thread_ts=root_ts)
    assert thread and "logged as IP / drug supply, high" in thread[0].args["text"]
    with transaction(world.container.factory) as s:
        assert s.get(SlackThreadRow, esc_id).thread_ts == root_ts  # type: ignore[union-attr]

    assert dm.args["channel"] == "DU_CARLA" and world.fake.of("conversations.open")[0].args["users"] == "U_CARLA"
    assert buttons(dm) == ["escalation_ack", "escalation_resolve"]
    text = dm.text_of_blocks
    expected_facts = ("Berlin Heart Centre (S01)", "ORION", "IP / drug supply", "high", "1 of 3 · you, as CRA",
                      "Anna Site", SUMMARY, "Please acknowledge by Mon 2 Mar 13:00 (UTC)",
                      "or it goes to the study manager")  # fmt: skip
    for expected in expected_facts:
        assert expected in text, expected
    notified = world.fake.wait_for("chat.postMessage", where=lambda c: "Level 1 notified" in c.args["text"])[0]
    assert notified.args["thread_ts"] == root_ts and "Carla CRA (CRA); 4 h to acknowledge" in notified.args["text"]

    world.fake.reset()
    assert click(world, "U_CARLA", "escalation_ack", esc_id, dm).status_code == 200
    [updated] = world.fake.wait_for("chat.update", where=lambda c: c.args["channel"] == "DU_CARLA")
    assert updated.args["ts"] == "1700000000.000777" and buttons(updated) == ["escalation_resolve"]
    assert "Acknowledged by Carla CRA at Mon 2 Mar 09:00 (UTC)" in updated.text_of_blocks
    assert SUMMARY in updated.text_of_blocks  # the facts stay
    told = world.fake.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "C_S01")[0]
    assert told.args["thread_ts"] == root_ts and "acknowledged by Carla CRA" in told.args["text"]
    refreshed = world.fake.wait_for("chat.update", where=lambda c: c.args["channel"] == "C_S01")[0]
    assert refreshed.args["ts"] == root_ts and "Acknowledged by Carla CRA" in refreshed.text_of_blocks

    world.fake.reset()
    world.run_until(START + timedelta(hours=5))  # past the 4 h limit: the hand-on timer finds itself stale
    assert world.posts(channel="DU_SAM") == [] and world.fake.of("chat.postMessage") == []
    with transaction(world.container.factory) as s:
        esc = s.get(EscalationRow, esc_id)
        assert esc is not None and (esc.status, esc.level, esc.acked_by) == ("acknowledged", 1, "carla")

    resolved = click(world, "U_CARLA", "escalation_resolve", esc_id, dm)
    assert resolved.status_code == 200
    done = world.fake.wait_for("chat.postMessage", where=lambda c: "resolved" in c.args["text"])[0]
    assert done.args["channel"] == "C_S01" and done.args["thread_ts"] == root_ts
    last = world.fake.wait_for("chat.update", where=lambda c: c.args["channel"] == "DU_CARLA")[0]
    assert buttons(last) == [] and "Resolved by Carla CRA" in last.text_of_blocks
    with transaction(world.container.factory) as s:
        actions = set(s.execute(select(AuditRow.action)).scalars())
    assert {"escalation.raise", "escalation.ack", "escalation.resolve"} <= actions


def test_unacknowledged_goes_to_level_2_after_the_time_limit(world: World) -> None:
    esc_id, _, _ = raise_one(world)
    world.fake.reset()
    world.run_until(START + timedelta(hours=4))  # at the deadline itself: still Carla's
    assert world.posts(channel="DU_SAM") == []
    world.run_until(START + timedelta(hours=4, minutes=1))
    [sam] = world.posts(channel="DU_SAM")
    assert buttons(sam) == ["escalation_ack", "escalation_resolve"]
    assert "2 of 3 · you, as study manager" in sam.text_of_blocks
    assert "Please acknowledge by Mon 2 Mar 21:00 (UTC)" in sam.text_of_blocks
    thread = world.posts(channel="C_S01")
    assert any("has gone up to level 2" in c.args["text"] for c in thread)
    assert all(c.args.get("thread_ts") == "1700000000.000001" for c in thread)
    with transaction(world.container.factory) as s:
        esc = s.get(EscalationRow, esc_id)
        assert esc is not None and (esc.status, esc.level) == ("handed_on", 2)


def test_a_strangers_click_is_refused_and_changes_nothing(world: World) -> None:
    esc_id, _, dm = raise_one(world)
    refusals = {  # the escalation engine's one rule (no Slack-only pre-check)
        "U_VICTOR": "only the sponsor team of site S01 / ORION can",  # a CRA elsewhere
        "U_ANNA": "only the sponsor team of site S01 / ORION can",  # site staff: acknowledging is the sponsor's
        "U_STRANGER": "directory",
    }
    for user, expected in refusals.items():
        world.fake.reset()
        click(world, user, "escalation_ack", esc_id, dm)
        [note] = world.fake.wait_for(f"/response/{user}")
        assert note.args["response_type"] == "ephemeral" and expected in note.args["text"]
        assert world.fake.of("chat.update") == []
    with transaction(world.container.factory) as s:
        esc = s.get(EscalationRow, esc_id)
        assert esc is not None and esc.status in ("notified", "raised") and esc.acked_by is None


def test_summary_errors_identifiers_and_inference_when_left_to_siteline(world: World) -> None:
    world.command("U_ANNA", "C_S01", "escalate")
    form = views(world, "views.open", 1)
    short = world.submit("U_ANNA", form, escalate_state("help", category="auto", severity="auto"))
    assert short.json()["response_action"] == "errors" and "e_summary" in short.json()["errors"]
    summary = "Fridge failed overnight, temperature 18 C, MRN 4455667 kit affected"
    world.submit("U_ANNA", form, escalate_state(summary, category="auto", severity="auto"))
    done = texts(views(world, "views.update", 1))
    assert "(inferred by Siteline)" in done and "Siteline's reading" in done and "removed 1 identifier" in done
    with transaction(world.container.factory) as s:
        esc = s.execute(select(EscalationRow)).scalar_one()
        assert esc.category == "ip_supply" and esc.category_inferred and "4455667" not in esc.summary
    dm = world.fake.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "DU_CARLA")[0]
    assert "IP / drug supply (inferred by Siteline)" in dm.text_of_blocks and "Siteline's reading" in dm.text_of_blocks


def test_only_site_staff_raise(world: World) -> None:
    assert "sponsor team you'll get escalations by DM" in world.command("U_CARLA", "C_S01", "escalate").text
    assert "directory" in world.command("U_STRANGER", "C_S01", "escalate").text
    assert world.fake.of("views.open") == []


def test_a_critical_issue_reaches_levels_1_and_2_at_once_with_the_shared_deadline(world: World) -> None:
    raise_one(world, "Kits for tomorrow's dosing visit are missing entirely", severity="critical")
    sam = world.fake.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "DU_SAM")[0]
    carla = world.posts(channel="DU_CARLA")[0]
    for dm in (carla, sam):  # levels told together share the clock of the highest: 8 h from now
        assert "Please acknowledge by Mon 2 Mar 17:00 (UTC)" in dm.text_of_blocks
    assert "2 of 3 · you, as study manager" in sam.text_of_blocks
    steps = world.fake.wait_for("chat.postMessage", 2, where=lambda c: "notified" in c.args["text"])
    assert {s.args["thread_ts"] for s in steps} == {"1700000000.000001"}


def test_nobody_for_the_first_level_stops_the_ladder_and_the_thread_says_so(world: World) -> None:
    world.command("U_ANNA", "C_S01", "escalate")
    world.submit(
        "U_ANNA", views(world, "views.open", 1), escalate_state("Patient fainted after dosing", category="safety")
    )
    views(world, "views.update", 1)
    root = world.fake.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "C_S01")[0]
    assert "Stopped: nobody is registered as medical monitor" in root.text_of_blocks
    halted = world.fake.wait_for("chat.postMessage", where=lambda c: "cannot go further" in c.args["text"])[0]
    assert halted.args["thread_ts"] == "1700000000.000001" and "please contact your CRA directly" in halted.args["text"]
    assert [c for c in world.fake.of("chat.postMessage") if c.args["channel"].startswith("D")] == []
