"""Adaptive Cards (1.5) for chat replies: answers with citations and buttons, notices, the CRA hand-off.

Only rendering lives here (pure functions of platform-neutral values), so wording is one place
and tests need no Teams. Buttons are `Action.Execute` (Teams Universal Actions: an `invoke` the
bot answers with a message or a replacement card); each carries its `verb` in `data` too, so a
client that sends `Action.Submit`-style message-with-value is handled the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes, Attachment

from assistant.types import ALSO_IN_DOCUMENTS, COMMAND, OpenQuestion, Reply

ADAPTIVE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
HELPFUL, NOT_HELPFUL, ASK_CRA, ANSWER_QUESTION = (
    "feedback_helpful",
    "feedback_not_helpful",
    "ask_cra",
    "answer_question",
)
ESC_ACK, ESC_RESOLVE = "escalation_ack", "escalation_resolve"
ANSWER_INPUT = "answer_text"
MAX_CITATIONS = 5
APOLOGY = (
    "Sorry, something went wrong while I was working on this, and I couldn't finish. "
    "Please try again in a minute. If it keeps happening, ask your CRA directly and let your Siteline admin know"
)

Element = dict[str, Any]
Card = dict[str, Any]


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def text_block(text: str, **style: Any) -> Element:
    return {"type": "TextBlock", "text": clip(text, 4000), "wrap": True, **style}


def subtle(text: str) -> Element:
    return text_block(text, isSubtle=True, size="Small", spacing="Small")


def execute(title: str, verb: str, data: Mapping[str, Any], style: str | None = None) -> Element:
    action: Element = {"type": "Action.Execute", "title": title, "verb": verb, "data": {"verb": verb, **data}}
    if style:
        action["style"] = style
    return action


def card(body: list[Element], actions: list[Element] | None = None) -> Card:
    out: Card = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": "1.5",
        "body": body,
        "msteams": {"width": "Full"},
    }
    if actions:
        out["actions"] = actions
    return out


def message(card_: Card, summary: str) -> Activity:
    """A message activity carrying one card; `summary` is what notifications and screen readers show."""
    return Activity(
        type=ActivityTypes.message,
        summary=clip(summary, 250),
        attachments=[Attachment(content_type=ADAPTIVE, content=card_)],
    )


def citation_heading(c: Mapping[str, Any]) -> str:
    """Title · version · section · page, as a site coordinator would look it up in the binder."""
    parts = [f"**{c.get('title') or c.get('doc') or 'document'}**"]
    if c.get("version"):
        parts.append(f"version {c['version']}")
    if c.get("section"):
        parts.append(f"§ {c['section']}")
    if c.get("page") is not None:
        parts.append(f"p. {c['page']}")
    return " · ".join(parts)


def citation_elements(citations: Iterable[Mapping[str, Any]]) -> list[Element]:
    out: list[Element] = []
    shown = list(citations)[:MAX_CITATIONS]
    for i, c in enumerate(shown, start=1):
        if c.get("alternate") and not shown[i - 2].get("alternate"):
            out.append(text_block(f"**{ALSO_IN_DOCUMENTS}**", spacing="Medium"))
        out.append(text_block(f"[{i}] {citation_heading(c)}", spacing="Medium"))
        if c.get("doc") and c.get("title") and c["doc"] != c["title"]:
            out.append(subtle(str(c["doc"])))
        quote = " ".join(str(c.get("quote", "")).split())
        if quote:
            out.append(text_block(f"“{clip(quote, 1500)}”", isSubtle=True, spacing="Small"))
    return out


def answer_card(reply: Reply) -> Card:
    """The answer, its sources (title, version, section, page, verbatim quote) and the three buttons."""
    body: list[Element] = [text_block(reply.text)]
    if reply.status == "not_found":
        hint = "Press **Ask my CRA** and I'll pass the question on." if reply.can_ask_cra else ""
        body.append(subtle(f"Searched: {', '.join(reply.studies)}. {hint}".strip()))
    if reply.notice:
        body.append(subtle(f"🔒 {reply.notice}"))
    cites = [c.to_json() for c in reply.citations]
    if cites:
        body.append({"type": "Container", "separator": True, "spacing": "Medium", "items": citation_elements(cites)})
    actions: list[Element] = []
    if reply.answer_id is not None:
        data = {"answer_id": reply.answer_id}
        actions = [execute("Helpful", HELPFUL, data), execute("Not helpful", NOT_HELPFUL, data)]
        if reply.can_ask_cra:
            actions.append(execute("Ask my CRA", ASK_CRA, data, style="positive"))
    return card(body, actions)


def reply_activity(reply: Reply) -> Activity:
    if reply.is_answer:
        return message(answer_card(reply), reply.text)
    return notice(reply.text, reply.notice)


def say(text: str) -> str:
    """An assistant message as Teams markdown: its commands in bold, as the user types them."""
    return COMMAND.sub(lambda m: f"**{m.group(1)}**", text.replace("`", ""))


def notice(text: str, extra: str | None = None) -> Activity:
    """A plain reply (refusal, hint, apology) as a small card, so every reply looks alike."""
    body = [text_block(text)]
    if extra:
        body.append(subtle(f"🔒 {extra}"))
    return message(card(body), text)


def apology(reference: str | None) -> str:
    return f"{APOLOGY} (reference {reference})." if reference else f"{APOLOGY}."


def open_question_card(payload: Mapping[str, Any]) -> Card:
    """The CRA's 1:1 card: who asked, the question, the bot's attempt and sources, and an answer box."""
    who = payload.get("asked_by_name") or payload.get("asked_by")
    where = payload.get("site_name") or payload.get("site")
    attempt = "I couldn't find this in the study documents." if payload.get("abstained") else payload["bot_answer"]
    body: list[Element] = [
        text_block(f"🙋 **Question from {who}** at {where} · {payload.get('study', '')}", size="Medium"),
        text_block(clip(str(payload["question"]), 2800), style="emphasis"),
        subtle(f"**Siteline's attempt:** {clip(str(attempt), 1800)}"),
        *citation_elements(payload.get("citations") or []),
        {
            "type": "Input.Text",
            "id": ANSWER_INPUT,
            "isMultiline": True,
            "maxLength": 2800,
            "label": "Your answer",
            "placeholder": "Posted in the site's original thread and recorded. No patient identifiers, please.",
        },
    ]
    send = execute("Send answer", ANSWER_QUESTION, {"question_id": payload["question_id"]}, style="positive")
    return card(body, [send])


def answered_card(question: str, by: str, note: str = "") -> Card:
    """Replaces the CRA's card once answered, so the answer box is not used twice."""
    return card([text_block(clip(question, 2800)), subtle(f"✅ Answered by {by}. {note}".strip())])


def cra_answer_card(payload: Mapping[str, Any]) -> Card:
    name = payload.get("cra_name") or payload.get("cra")
    return card(
        [
            text_block(f"💬 **Answer from your CRA, {name}**"),
            text_block(clip(str(payload["answer"]), 2800)),
            subtle(f"Question: {clip(str(payload.get('question', '')), 1500)}"),
        ]
    )


def questions_card(questions: list[OpenQuestion], *, viewer: str) -> Card:
    """Unanswered Ask-my-CRA questions (the `questions` command)."""
    if not questions:
        return card([text_block("No open questions. 🎉")])
    body: list[Element] = [text_block(f"**Open questions ({len(questions)})**")]
    for q in questions[:20]:
        mine = " · waiting for you" if viewer in q.recipients else ""
        body.append(
            subtle(f"#{q.id} · {q.site_id} · {q.study} · {q.status} since {q.created_at:%Y-%m-%d %H:%M} UTC{mine}")
        )
        body.append(text_block(clip(q.question, 600)))
    if len(questions) > 20:
        body.append(subtle(f"…and {len(questions) - 20} more."))
    return card(body)
