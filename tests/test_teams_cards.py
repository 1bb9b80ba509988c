"""Pure pieces of the Teams adapter: Activity translation, Adaptive Card rendering, the app package."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from microsoft_agents.activity import Activity

from assistant.types import Reply
from bot.teams import cards
from bot.teams.app_package import build, manifest
from bot.teams.translate import clean_text, event_key, thread_conversation, to_inbound, where
from bot.teams.update_cards import render
from knowledge.types import Citation
from tests.fake_teams_connector import Activities, card_actions, card_texts

A = Activities("https://smba.trafficmanager.net/emea/")
CITE = Citation(
    doc="orion.pdf", title="ORION Protocol", version="3.0", section="8.3 SAEs", page=41, quote="Report  within\n24 h."
)


def test_a_channel_mention_becomes_a_scoped_question_in_its_thread() -> None:
    activity = Activity.model_validate(A.mention("anna", "S01", "what is the &lt;SAE&gt; window?", activity_id="9"))
    msg = to_inbound(activity, user_key="29:anna")
    assert (msg.platform, msg.user_id, msg.conversation_id) == ("teams", "29:anna", "19:s01@thread.tacv2")
    assert (msg.is_direct, msg.thread_ref, msg.text) == (False, "9", "what is the <SAE> window?")
    assert msg.event_id and msg.event_id.startswith("9@")
    reply_in_thread = Activity.model_validate(A.mention("anna", "S01", "and pregnancy?", activity_id="11", thread="9"))
    assert where(reply_in_thread).thread_root == "9"
    assert event_key(reply_in_thread) != event_key(Activity.model_validate(A.personal("anna", "x", activity_id="11")))


def test_a_personal_message_is_direct_and_has_no_thread() -> None:
    msg = to_inbound(Activity.model_validate(A.personal("ben", " visit window? ")), user_key="29:ben")
    assert (msg.conversation_id, msg.is_direct, msg.thread_ref, msg.text) == ("a:dm-ben", True, None, "visit window?")


def test_clean_text_keeps_other_peoples_names_and_drops_markup() -> None:
    text = "<p><at>Siteline</at>&nbsp;ask <at>Carla CRA</at> about<br>SAEs</p>"
    assert clean_text(text, ["<at>Siteline</at>"]) == "ask Carla CRA about\nSAEs"
    assert thread_conversation("19:c@thread.tacv2;messageid=1", "7") == "19:c@thread.tacv2;messageid=7"
    assert thread_conversation("a:dm", None) == "a:dm"


def test_the_answer_card_cites_and_offers_three_buttons() -> None:
    reply = Reply("answered", "Within 24 hours.", (CITE,), answer_id=12, notice="I removed 1 identifier(s).",
                  studies=("ORION",), can_ask_cra=True)  # fmt: skip
    card = cards.answer_card(reply)
    texts = card_texts(card)
    assert card["version"] == "1.5" and texts[0] == "Within 24 hours."
    assert "[1] **ORION Protocol** · version 3.0 · § 8.3 SAEs · p. 41" in texts
    assert "“Report within 24 h.”" in texts and "🔒 I removed 1 identifier(s)." in texts
    actions = card_actions(card)
    assert [(a["title"], a["verb"], a["data"]) for a in actions] == [
        ("Helpful", "feedback_helpful", {"verb": "feedback_helpful", "answer_id": 12}),
        ("Not helpful", "feedback_not_helpful", {"verb": "feedback_not_helpful", "answer_id": 12}),
        ("Ask my CRA", "ask_cra", {"verb": "ask_cra", "answer_id": 12}),
    ]
    not_found = cards.answer_card(Reply("not_found", "I couldn't find this.", answer_id=3, studies=("VEGA",)))
    assert [a["title"] for a in card_actions(not_found)] == ["Helpful", "Not helpful"]
    assert "Searched: VEGA." in card_texts(not_found)


def test_engine_payloads_render_and_unknown_kinds_fall_back_to_text() -> None:
    digest = {"items": [{"id": "u1", "priority": "action", "reason": "due soon", "merged": ["u2"]}],
              "details": {"u1": {"subject": "Re-consent by Friday", "due": "2026-03-06", "study": "ORION",
                                 "from": "ops", "org": "sponsor", "body": "Use ICF v4."}}}  # fmt: skip
    summary, card = render("digest", digest)
    text = "\n".join(card_texts(card))
    assert (
        summary == "Digest of sponsor updates (1)" and "📌 **Re-consent by Friday** · _action_ · due 2026-03-06" in text
    )
    assert "Use ICF v4." in text and "Also covers 1 repeated message(s): u2" in text
    summary, card = render("escalation_update", {"text": "Your escalation E1 was resolved."})
    assert "🔄 Your escalation E1 was resolved." in card_texts(card) and not card_actions(card)
    summary, card = render("something_new", {"text": "hello"})
    assert summary == "hello"
    question = {"question_id": 5, "asked_by_name": "Anna", "site_name": "Berlin", "study": "ORION",
                "question": "SAE window?", "bot_answer": "24 h", "abstained": False, "citations": []}  # fmt: skip
    _, card = render("open_question", question)
    assert [e["type"] for e in card["body"]][-1] == "Input.Text" and card_actions(card)[0]["data"]["question_id"] == 5


def test_the_app_package_fills_the_manifest_and_zips_it_with_icons(tmp_path: Path) -> None:
    app_id = "0f0e0d0c-0b0a-4009-8008-070605040302"
    out = build(app_id, "siteline.example.org", tmp_path / "app.zip")
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]
        data = json.loads(zf.read("manifest.json"))
    assert data["manifestVersion"] == "1.17" and data["id"] == app_id
    [bot] = data["bots"]
    assert bot["botId"] == app_id and bot["scopes"] == ["personal", "team", "groupChat"]
    assert {c["title"] for c in bot["commandLists"][0]["commands"]} == {
        "help",
        "questions",
        "escalation-path",
        "digest",
        "escalate",
    }
    assert "{{" not in json.dumps(data) and data["validDomains"] == ["siteline.example.org"]
    with pytest.raises(ValueError, match="--app-id"):
        manifest("not-a-guid", "siteline.example.org")
    with pytest.raises(ValueError, match="--host"):
        manifest(app_id, "https://siteline.example.org/")
