"""Digest preferences in Slack (`/siteline digest`, the App Home form) through signed requests, and
the Block Kit of digests and urgent updates (pure rendering, within Slack's limits)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.slack.update_blocks import render, render_parts
from core.db import transaction
from core.models import AuditRow, SiteRow
from tests.fake_slack import Call
from tests.slack_payload_rules import refusal
from tests.test_slack_triage_notify import World, fake, texts, typed, views, w  # noqa: F401  (fixtures)

USAGE_HINT = "/siteline digest 08:30,16:00 quiet 19:00-07:00"


@pytest.fixture
def world(w: World) -> World:  # noqa: F811  (the shared harness, under this module's name)
    return w


def digest(world: World, user: str, text: str, channel: str = "C_S01") -> str:
    world.fake.reset()
    assert world.command(user, channel, f"digest {text}".strip()).status_code == 200
    reply = world.fake.wait_for(f"/commands/{user}")[0]
    assert reply.args["response_type"] == "ephemeral"
    return str(reply.args["text"])


def site(world: World, site_id: str) -> tuple[list[str], list[str] | None]:
    with transaction(world.container.factory) as s:
        row = s.get(SiteRow, site_id)
        assert row is not None
        return list(row.digest_times), row.quiet_hours


def test_digest_shows_and_sets_times_and_quiet_hours_with_an_audit_entry(world: World) -> None:
    shown = digest(world, "U_ANNA", "")
    assert "*Berlin Heart Centre* (S01, Europe/Berlin): digests at 09:00; quiet hours 20:00–07:00;" in shown
    assert "nothing is waiting for a digest" in shown and USAGE_HINT in shown

    saved = digest(world, "U_ANNA", "08:30,16:00 quiet 19:00-07:00")
    assert saved.startswith(":white_check_mark: Saved.") and "digests at 08:30, 16:00; quiet hours 19:00–07:00" in saved
    assert site(world, "S01") == (["08:30", "16:00"], ["19:00", "07:00"])
    with transaction(world.container.factory) as s:
        entry = s.execute(select(AuditRow).where(AuditRow.action == "triage.preferences")).scalar_one()
        assert (entry.actor, entry.subject) == ("anna", "S01")
        assert entry.detail["before"] == {"digest_times": ["09:00"], "quiet_hours": ["20:00", "07:00"]}

    assert "no quiet hours" in digest(world, "U_ANNA", "quiet off")
    assert site(world, "S01") == (["08:30", "16:00"], None)  # times kept when only quiet hours change
    assert "digests at 07:15" in digest(world, "U_ANNA", "07:15")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("8h", "digest_times: '8h' is not a HH:MM time"),
        ("21:00 quiet 20:00-07:00", "digest_times: every time (21:00) falls in quiet hours 20:00-07:00"),
        ("09:00 quiet 19-07", "quiet_hours: '19-07' is not HH:MM-HH:MM"),
        ("09:00 quiet", "quiet_hours: nothing is not HH:MM-HH:MM"),
    ],
)
def test_bad_preferences_are_refused_naming_the_field(world: World, text: str, named: str) -> None:
    reply = digest(world, "U_ANNA", text)
    assert reply.startswith(":no_entry: Not saved.") and named in reply and USAGE_HINT in reply
    assert site(world, "S01") == (["09:00"], ["20:00", "07:00"])


def test_who_may_see_and_change_which_site(world: World) -> None:
    both = digest(world, "U_CARLA", "", channel="DU_CARLA")  # a CRA of S01 and S03, in a DM
    assert "(S01, Europe/Berlin)" in both and "(S03, America/New_York)" in both
    assert "Which site? Start with its id (S01, S03)" in digest(world, "U_CARLA", "10:00", channel="DU_CARLA")
    assert "Saved" in digest(world, "U_CARLA", "s03 10:00", channel="DU_CARLA")
    assert site(world, "S03")[0] == ["10:00"]
    assert "Saved" in digest(world, "U_CARLA", "11:00", channel="C_S01")  # typed in S01's channel: S01
    assert site(world, "S01")[0] == ["11:00"]
    assert "Digest times belong to a site" in digest(world, "U_SAM", "08:00")
    assert "directory" in digest(world, "U_STRANGER", "")
    assert "You can't change the digest of S02" in digest(world, "U_ANNA", "S02 08:00")


def test_app_home_button_opens_the_form_and_saving_refreshes_the_home(world: World) -> None:
    world.post(world.slack.event({"type": "app_home_opened", "user": "U_ANNA", "channel": "DU_ANNA", "tab": "home"}),
               "application/json")  # fmt: skip
    home = world.fake.wait_for("views.publish")[0].args["view"]
    [button] = [e for b in home["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert (button["action_id"], button["value"], button["text"]["text"]) == (
        "digest_prefs_open:S01", "S01", "Edit digest preferences")  # fmt: skip

    world.act_in_view("U_ANNA", home, {}, "digest_prefs_open:S01", value="S01")
    form = views(world, "views.open", 1)
    assert form["callback_id"] == "digest_prefs" and form["private_metadata"] == "S01"
    blocks = {b.get("block_id"): b for b in form["blocks"]}
    assert blocks["d_times"]["element"]["initial_value"] == "09:00"
    assert blocks["d_quiet_from"]["element"]["initial_time"] == "20:00"
    assert "Europe/Berlin" in texts(form)

    def state(times: str, start: str | None, end: str | None) -> dict[str, Any]:
        return {
            "d_times": {"d_times": typed(times)},
            "d_quiet_from": {"d_quiet_from": {"type": "timepicker", "selected_time": start}},
            "d_quiet_to": {"d_quiet_to": {"type": "timepicker", "selected_time": end}},
        }

    half = world.submit("U_ANNA", form, state("09:00", "22:00", None))
    assert half.json() == {"response_action": "errors", "errors": {"d_quiet_to": "Give both ends, or neither."}}
    bad = world.submit("U_ANNA", form, state("25:00", None, None))
    assert bad.json()["errors"] == {"d_times": "digest_times: '25:00' is not a HH:MM time"}
    ok = world.submit("U_ANNA", form, state("07:45, 12:00", "22:00", "06:00"))
    assert ok.status_code == 200 and ok.text == ""
    assert site(world, "S01") == (["07:45", "12:00"], ["22:00", "06:00"])
    refreshed = world.fake.wait_for("views.publish", 2)[-1]
    assert "daily at 07:45, 12:00" in refreshed.text_of_blocks

    sneaky = world.submit("U_BEN", form, state("03:00", None, None))  # Ben is not on S01
    assert sneaky.json()["response_action"] == "errors" and site(world, "S01")[0] == ["07:45", "12:00"]


def test_a_cra_of_two_sites_gets_a_home_slack_accepts_and_each_button_edits_its_own_site(world: World) -> None:
    """Issue 10 item 13: the two sites' buttons shared one action_id, so Slack refused the whole Home
    (the fake Slack now refuses it the same way, and fails the test at teardown)."""
    world.post(world.slack.event({"type": "app_home_opened", "user": "U_CARLA", "channel": "DU_CARLA", "tab": "home"}),
               "application/json")  # fmt: skip
    [published] = world.fake.wait_for("views.publish")
    assert world.fake.rejected == []
    buttons = [e for b in published.args["view"]["blocks"] if b["type"] == "actions" for e in b["elements"]]
    edits = [b for b in buttons if b["action_id"].startswith("digest_prefs_open")]
    assert [b["value"] for b in edits] == ["S01", "S03"]
    assert len({b["action_id"] for b in buttons}) == len(buttons)
    world.act_in_view("U_CARLA", published.args["view"], {}, edits[1]["action_id"], value="S03")
    assert views(world, "views.open", 1)["private_metadata"] == "S03"


def test_the_fake_slack_refuses_what_slack_refuses(world: World) -> None:
    """The fake validates every payload (tests/slack_payload_rules.py), as real Slack does."""
    world.fake.expect_refusals()
    client = WebClient(token="xoxb-t", base_url=world.fake.api_url)
    button = {"type": "button", "text": {"type": "plain_text", "text": "Go"}, "action_id": "same", "value": "1"}
    bad = {
        "duplicate action_id": [{"type": "actions", "elements": [button, dict(button, value="2")]}],
        "cannot exceed 3000": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
        "cannot exceed 150": [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
        "cannot exceed 75": [{"type": "actions", "elements": [dict(button, text={"type": "plain_text",
                                                                                 "text": "x" * 76})]}],
        "51 blocks": [{"type": "divider"}] * 51,
        "duplicate block_id": [{"type": "divider", "block_id": "b"}, {"type": "divider", "block_id": "b"}],
    }  # fmt: skip
    for problem, blocks in bad.items():
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(channel="C_S01", text="t", blocks=blocks)
        assert err.value.response["error"] == "invalid_blocks"
        assert problem in str(err.value.response["response_metadata"]["messages"]), problem
    long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}}] * 5
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C_S01", text="t", blocks=long)
    assert err.value.response["error"] == "msg_blocks_too_long"
    with pytest.raises(SlackApiError) as err:
        client.views_publish(user_id="U_ANNA", view={"type": "home", "blocks": [{"type": "divider"}] * 101})
    assert err.value.response["error"] == "invalid_arguments"
    assert client.chat_postMessage(channel="C_S01", text="t", blocks=[{"type": "divider"}] * 50)["ok"]


# -- rendering -------------------------------------------------------------------------------


def test_a_digest_groups_action_items_first_with_due_dates_reasons_and_merged_repeats() -> None:
    items = [
        {"id": "m1", "priority": "action", "reason": "asks the site to act by 2026-03-10", "merged": ["m4"]},
        {"id": "m2", "priority": "fyi", "reason": "for information", "merged": []},
    ]
    details = {
        "m1": {"study": "ORION", "from": "carla", "subject": "Re-consent with ICF v3", "body": "Re-consent all.",
               "due": "2026-03-10"},
        "m4": {"subject": "Reminder: re-consent ICF v3"},
        "m2": {"study": "ORION", "from": "sponsor.ops", "subject": "Newsletter", "body": "Enrolment at 60%."},
    }  # fmt: skip
    payload = {"items": items, "details": details, "slot": "2026-03-03T08:00:00Z", "site_name": "Berlin Heart Centre",
               "site_tz": "Europe/Berlin"}  # fmt: skip
    text, blocks = render("digest", payload)
    assert text == "Digest of sponsor updates for Berlin Heart Centre (2 updates)"
    assert blocks[0]["text"]["text"] == ":newspaper: Digest for Berlin Heart Centre · 2 updates"
    lines = Call("x", {"blocks": blocks}, {}).text_of_blocks.splitlines()
    assert lines.index(":pushpin: *Action needed* (1)") < lines.index(":information_source: *For your information* (1)")
    assert "*Re-consent with ICF v3* · due Tue 10 Mar 2026" in lines
    assert "_also: Reminder: re-consent ICF v3 (m4)_" in lines
    reasons = [b for b in blocks if b["type"] == "context" and b["elements"][0]["text"].startswith("Why:")]
    assert [r["elements"][0]["text"] for r in reasons] == ["Why: asks the site to act by 2026-03-10",
                                                            "Why: for information"]  # fmt: skip


def test_a_long_digest_stays_within_slacks_block_limit_and_lists_every_item() -> None:
    items = [{"id": f"u{i:02d}", "priority": "fyi" if i % 2 else "action", "reason": "r"} for i in range(80)]
    parts = render_parts("digest", {"items": items, "site_name": "X"})
    assert all(refusal("chat.postMessage", {"blocks": blocks}) is None for _, blocks in parts)
    text = "\n".join(Call("x", {"blocks": blocks}, {}).text_of_blocks for _, blocks in parts)
    assert sorted(re.findall(r"\*(u\d\d)\*", text)) == [f"u{i:02d}" for i in range(80)]  # each exactly once


def test_urgent_updates_have_a_clear_marker_and_render_without_details() -> None:
    text, blocks = render("immediate", {"items": [{"id": "u9", "priority": "urgent", "reason": "recall"}]})
    assert text == "URGENT: u9" and blocks[0]["type"] == "header" and "URGENT" in blocks[0]["text"]["text"]
    assert "Sent at once, not in the digest: recall" in Call("x", {"blocks": blocks}, {}).text_of_blocks


def test_a_cra_with_several_open_questions_gets_one_answer_button_action_id_each() -> None:
    """Issue 10 item 13: the Answer buttons of the Home's open questions shared one action_id too."""
    from datetime import UTC, datetime

    from assistant.types import OpenQuestion
    from bot.slack.blocks import any_of, questions_blocks
    from tests.slack_payload_rules import view_problems

    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    questions = [OpenQuestion(n, "S01", "ORION", "anna", f"Question {n}?", "", "open", at, ("carla",))
                 for n in (3, 4)]  # fmt: skip
    blocks = questions_blocks(questions, viewer="carla")
    assert view_problems({"type": "home", "blocks": blocks}) == []
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["value"]) for b in buttons] == [("answer_question:3", "3"), ("answer_question:4", "4")]
    assert all(any_of("answer_question").match(b["action_id"]) for b in buttons)
