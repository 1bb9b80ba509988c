"""Block Kit for the chat surfaces: answers with citations and buttons, the CRA hand-off, help.

Only rendering lives here (pure functions of platform-neutral values), so it can be tested
without Slack and a wording change is one place. Slack limits: section text 3,000 chars,
context text 2,000, 50 blocks a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from assistant.types import ALSO_IN_DOCUMENTS, COMMAND, OpenQuestion, Reply

HELPFUL, NOT_HELPFUL, ASK_CRA, ANSWER_QUESTION = (
    "feedback_helpful",
    "feedback_not_helpful",
    "ask_cra",
    "answer_question",
)
CRA_ANSWER_VIEW = "cra_answer"
ANSWER_INPUT_BLOCK, ANSWER_INPUT = "answer_block", "answer_text"
MAX_CITATIONS = 5
APOLOGY = (
    "Sorry, something went wrong while I was working on this, and I couldn't finish. "
    "Please try again in a minute. If it keeps happening, ask your CRA directly and let your Siteline admin know"
)

Block = dict[str, Any]


def escape(text: str) -> str:
    """Slack's three control characters; everything else is shown as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def say(text: str) -> str:
    """An assistant message as Slack mrkdwn: escaped, its commands shown as `/siteline …`."""
    return COMMAND.sub(lambda m: f"`/siteline {m.group(1)}`", escape(text))


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def to_mrkdwn(text: str) -> str:
    """LLM answers use Markdown; Slack's bold is single asterisks."""
    return re.sub(r"\*\*(.+?)\*\*", r"*\1*", escape(text))


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, 3000)}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, 2000)}]}


def keyed(action_id: str, key: str) -> str:
    """A per-item action_id (`answer_question:12`): Slack refuses a view or message in which two
    buttons share one. The handler matches `any_of(action_id)`; the item itself is in `value`."""
    return f"{action_id}:{key}"[:255]


def any_of(action_id: str) -> re.Pattern[str]:
    """Matches `action_id` and its `keyed` forms."""
    return re.compile(rf"^{re.escape(action_id)}(:.*)?$")


def button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    b: Block = {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id, "value": value}
    if style:
        b["style"] = style
    return b


def citation_heading(c: Mapping[str, Any]) -> str:
    """Title · version · section · page, as a site coordinator would look it up in the binder."""
    parts = [f"*{escape(str(c.get('title') or c.get('doc') or 'document'))}*"]
    if c.get("version"):
        parts.append(f"version {escape(str(c['version']))}")
    if c.get("section"):
        parts.append(f"§ {escape(str(c['section']))}")
    if c.get("page") is not None:
        parts.append(f"p. {c['page']}")
    return " · ".join(parts)


def citation_blocks(citations: Iterable[Mapping[str, Any]]) -> list[Block]:
    blocks: list[Block] = []
    shown = list(citations)[:MAX_CITATIONS]
    for i, c in enumerate(shown, start=1):
        if c.get("alternate") and not shown[i - 2].get("alternate"):
            blocks.append(section(f"*{ALSO_IN_DOCUMENTS}*"))
        blocks.append(section(f"[{i}] {citation_heading(c)}"))
        quote = " ".join(str(c.get("quote", "")).split())
        if quote:
            blocks.append(context(f"“{escape(clip(quote, 1500))}”"))
    return blocks


def answer_blocks(reply: Reply) -> list[Block]:
    """The answer, its sources (verbatim quote in a context block), and the three buttons."""
    blocks: list[Block] = [section(to_mrkdwn(reply.text))]
    if reply.status == "not_found":
        hint = "Press *Ask my CRA* and I'll pass the question on." if reply.can_ask_cra else ""
        blocks.append(context(f"Searched: {', '.join(reply.studies)}. {hint}".strip()))
    if reply.notice:
        blocks.append(context(f":lock: {escape(reply.notice)}"))
    cites = [c.to_json() for c in reply.citations]
    if cites:
        blocks.append({"type": "divider"})
        blocks.extend(citation_blocks(cites))
    if reply.answer_id is not None:
        value = str(reply.answer_id)
        buttons = [button("Helpful", HELPFUL, value), button("Not helpful", NOT_HELPFUL, value)]
        if reply.can_ask_cra:
            ask = button("Ask my CRA", ASK_CRA, value, style="primary")
            ask["confirm"] = {
                "title": {"type": "plain_text", "text": "Ask your CRA?"},
                "text": {"type": "mrkdwn", "text": "I'll send this question, my answer and its sources to your CRA."},
                "confirm": {"type": "plain_text", "text": "Send"},
                "deny": {"type": "plain_text", "text": "Cancel"},
            }
            buttons.append(ask)
        blocks.append({"type": "actions", "block_id": f"answer:{value}", "elements": buttons})
    return blocks


def reply_text(reply: Reply) -> str:
    """The notification / screen-reader text of a reply."""
    return clip(reply.text, 3000)


def notice_blocks(text: str, notice: str | None = None) -> list[Block]:
    blocks = [section(escape(text))]
    if notice:
        blocks.append(context(f":lock: {escape(notice)}"))
    return blocks


def apology(reference: str | None) -> str:
    return f"{APOLOGY} (reference {reference})." if reference else f"{APOLOGY}."


def open_question_blocks(payload: Mapping[str, Any]) -> list[Block]:
    """The CRA's DM: who asked, the question, the bot's attempt and its sources, and an Answer button."""
    who = escape(str(payload.get("asked_by_name") or payload.get("asked_by")))
    where = escape(str(payload.get("site_name") or payload.get("site")))
    attempt = "I couldn't find this in the study documents." if payload.get("abstained") else payload["bot_answer"]
    blocks: list[Block] = [
        section(f":raising_hand: *Question from {who}* at {where} · {escape(str(payload.get('study', '')))}"),
        section(f">{escape(clip(str(payload['question']), 2800))}"),
        context(f"*Siteline's attempt:* {to_mrkdwn(clip(str(attempt), 1800))}"),
    ]
    blocks.extend(citation_blocks(payload.get("citations") or []))
    blocks.append(
        {
            "type": "actions",
            "block_id": f"open_question:{payload['question_id']}",
            "elements": [button("Answer", ANSWER_QUESTION, str(payload["question_id"]), style="primary")],
        }
    )
    return blocks


def cra_answer_blocks(payload: Mapping[str, Any]) -> list[Block]:
    name = escape(str(payload.get("cra_name") or payload.get("cra")))
    return [
        section(f":speech_balloon: *Answer from your CRA, {name}*\n{to_mrkdwn(clip(str(payload['answer']), 2800))}"),
        context(f"Question: {escape(clip(str(payload.get('question', '')), 1500))}"),
    ]


def answered_blocks(question: str, by: str, note: str = "") -> list[Block]:
    """Replaces the CRA's DM once answered, so the Answer button is not pressed twice."""
    return [
        section(f">{escape(clip(question, 2800))}"),
        context(f":white_check_mark: Answered by {escape(by)}. {escape(note)}".strip()),
    ]


def answer_modal(question: OpenQuestion, private_metadata: str) -> Block:
    return {
        "type": "modal",
        "callback_id": CRA_ANSWER_VIEW,
        "private_metadata": private_metadata,
        "title": {"type": "plain_text", "text": "Answer the site"},
        "submit": {"type": "plain_text", "text": "Send answer"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(
                f"*{escape(question.site_id)} · {escape(question.study)}*\n>{escape(clip(question.question, 2500))}"
            ),
            {
                "type": "input",
                "block_id": ANSWER_INPUT_BLOCK,
                "label": {"type": "plain_text", "text": "Your answer"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": ANSWER_INPUT,
                    "multiline": True,
                    "max_length": 2800,
                },
            },
            context(
                "Your answer is posted in the site's original thread and recorded. Don't include patient identifiers."
            ),
        ],
    }


def questions_blocks(questions: list[OpenQuestion], *, viewer: str) -> list[Block]:
    """Unanswered Ask-my-CRA questions; the CRA gets an Answer button on each."""
    if not questions:
        return [section("No open questions. :tada:")]
    blocks: list[Block] = [section(f"*Open questions ({len(questions)})*")]
    for q in questions[:20]:
        line = (
            f"*#{q.id}* · {escape(q.site_id)} · {escape(q.study)} · {q.status} since {q.created_at:%Y-%m-%d %H:%M} UTC"
        )
        blocks.append(section(f"{line}\n>{escape(clip(q.question, 600))}"))
        if viewer in q.recipients:
            answer = button("Answer", keyed(ANSWER_QUESTION, str(q.id)), str(q.id))
            blocks.append({"type": "actions", "elements": [answer]})
    if len(questions) > 20:
        blocks.append(context(f"…and {len(questions) - 20} more."))
    return blocks
