"""Teams Activities in, platform-neutral messages out (the edge; cf. bolt's `to_bolt_request`).

Teams facts this relies on:
- `conversation.conversationType` is `personal` (1:1 with the bot), `channel` or `groupChat`.
- A channel message's `conversation.id` is the channel id plus `;messageid=<thread root>`; the
  directory stores the bare channel id, so scoping uses that and replies go to the thread.
- Channel text is HTML with the bot's mention as `<at>Name</at>`; the mention entity says which.
- Activity ids are unique within a conversation, so the dedupe key joins both.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass

from microsoft_agents.activity import Activity

from assistant.types import InboundMessage

_AT = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_BREAK = re.compile(r"<br\s*/?>|</p>|</div>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
THREAD = ";messageid="


@dataclass(frozen=True)
class Where:
    """Which conversation an activity belongs to, in the terms the assistant and the sender use."""

    conversation_id: str  # without ";messageid=…"
    kind: str  # personal | channel | groupChat
    thread_root: str | None  # channel threads only

    @property
    def is_direct(self) -> bool:
        return self.kind == "personal"


def base_conversation(conversation_id: str) -> str:
    return conversation_id.split(THREAD, 1)[0]


def thread_conversation(conversation_id: str, thread_root: str | None) -> str:
    """The conversation id that posts into a channel thread (or the conversation itself)."""
    return f"{base_conversation(conversation_id)}{THREAD}{thread_root}" if thread_root else conversation_id


def where(activity: Activity) -> Where:
    conv = activity.conversation
    assert conv is not None and conv.id
    kind = conv.conversation_type or ("personal" if not conv.is_group else "groupChat")
    base, _, root = conv.id.partition(THREAD)
    thread = (root or activity.reply_to_id or activity.id) if kind == "channel" else None
    return Where(base, kind, thread or None)


def bot_mentions(activity: Activity) -> list[str]:
    """The exact mention texts that address the bot (`<at>Siteline</at>`)."""
    me = activity.recipient.id if activity.recipient else None
    out = []
    for m in activity.get_mentions():
        if me and m.mentioned and m.mentioned.id == me:
            out.append(m.text or f"<at>{m.mentioned.name}</at>")
    return out


def clean_text(text: str | None, bot_mention_texts: list[str] | None = None) -> str:
    """Teams HTML to plain text: drop the bot's mention, keep other people's names, unescape entities."""
    text = text or ""
    for mention in bot_mention_texts or []:
        text = text.replace(mention, " ")
    text = _AT.sub(lambda m: m.group(1), text)
    text = _BREAK.sub("\n", text)
    text = _TAG.sub("", text)
    text = html.unescape(text).replace("\xa0", " ")
    return re.sub(r"[ \t]+", " ", text).strip()


def event_key(activity: Activity) -> str:
    """The dedupe key of a delivery: the activity id, scoped by its conversation (ids are per conversation)."""
    conv = base_conversation(activity.conversation.id if activity.conversation else "")
    digest = hashlib.sha1(conv.encode()).hexdigest()[:12]
    return f"{activity.id or ''}@{digest}"


def user_ids(activity: Activity) -> tuple[str, str | None]:
    """The sender's Teams id (`29:…`) and Entra object id; the directory may hold either."""
    sender = activity.from_property
    assert sender is not None and sender.id
    return sender.id, sender.aad_object_id


def to_inbound(activity: Activity, *, user_key: str) -> InboundMessage:
    """A question (mention in a channel, or any 1:1 message): `user_key` is the id the directory knows."""
    w = where(activity)
    return InboundMessage(
        platform="teams",
        user_id=user_key,
        conversation_id=w.conversation_id,
        is_direct=w.is_direct,
        text=clean_text(activity.text, bot_mentions(activity)),
        thread_ref=w.thread_root,
        event_id=event_key(activity),
    )


def is_from_a_bot(activity: Activity) -> bool:
    """Our own echoes and other bots ("28:" ids, or role bot) never get an answer."""
    sender = activity.from_property
    if sender is None or not sender.id:
        return True
    return sender.id.startswith("28:") or str(sender.role or "").lower() == "bot"
