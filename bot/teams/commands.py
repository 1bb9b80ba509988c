"""Typed commands in Teams, with Slack's `/siteline` semantics: `escalation-path`, `digest` and
`escalate`; the table of names is command_table.py.

Each command is a blocking function of (runtime, invocation) → Outcome (the reply card and the
outbox rows to send now), run off the event loop by answering.py. The assistant decides who may do
what and calls the engines (`assistant/escalations.py`, `assistant/digests.py`); this renders cards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from microsoft_agents.activity import Activity

from assistant.digests import DigestOutcome, SiteDigest
from assistant.escalations import Ladder
from assistant.types import ChatUser
from bot.teams import cards
from bot.teams.command_cards import ladders_card, path_elements, raised_card
from bot.teams.runtime import TeamsRuntime
from escalation.messages import category_text

DIGEST_USAGE = "Change them with **digest 08:30,16:00 quiet 19:00-07:00** (or **quiet off**)."


@dataclass(frozen=True)
class Invocation:
    user_key: str  # the id the directory knows the sender by
    args: str
    conversation_id: str  # without ";messageid=…"

    @property
    def user(self) -> ChatUser:
        return ChatUser("teams", self.user_key)


@dataclass(frozen=True)
class Outcome:
    reply: Activity
    deliveries: tuple[str, ...] = field(default_factory=tuple)


def say(text: str) -> Outcome:
    return Outcome(cards.notice(cards.say(text)))


def ladder_elements(ladder: Ladder, *, with_critical: bool = True) -> list[cards.Element]:
    site = ladder.where.site
    critical = ladder.critical if with_critical else None
    return path_elements(
        ladder.path, site_name=site.name or site.site_id, tz=site.tz, critical=critical, now=ladder.now
    )


def escalation_path(rt: TeamsRuntime, inv: Invocation) -> Outcome:
    found = rt.assistant.escalations.path(inv.user, inv.args.split(), conversation_id=inv.conversation_id, now=rt.now())
    if not found.ok:
        return say(found.message)
    hint = None if found.category else "Add a category to see its own ladder, e.g. **escalation-path safety**."
    label = category_text(found.category) if found.category else "any issue"
    card_ = ladders_card([ladder_elements(ladder) for ladder in found.ladders], hint)
    return Outcome(cards.message(card_, f"Escalation path for {label.lower()}"))


def escalate(rt: TeamsRuntime, inv: Invocation) -> Outcome:
    """`escalate [site] [study] <summary>`: raised for this channel's site unless another is named."""
    raised = rt.assistant.escalations.raise_from_words(
        inv.user, inv.args, conversation_id=inv.conversation_id, source="teams", now=rt.now()
    )
    if not raised.ok or raised.escalation is None or raised.ladder is None:
        return say(f"⛔ {raised.message}" if raised.message.startswith("Not raised") else raised.message)
    site = raised.ladder.where.site
    path = ladder_elements(raised.ladder)
    card = raised_card(raised.escalation, site_name=site.name or site.site_id, notice=raised.notice, path=path)
    return Outcome(cards.message(card, raised.message), raised.deliveries)


def describe(shown: SiteDigest) -> str:
    return f"**{shown.name}** {shown.detail}"


def digest(rt: TeamsRuntime, inv: Invocation) -> Outcome:
    """Show a site's digest times and quiet hours, or set them (site staff and CRAs of that site)."""
    outcome: DigestOutcome = rt.assistant.digests.command(
        inv.user, inv.args.split(), conversation_id=inv.conversation_id
    )
    if outcome.saved:
        return say(f"✅ Saved. {describe(outcome.shown[0])}")
    if not outcome.ok:
        if outcome.message.startswith("Not saved"):
            return say(f"⛔ {outcome.message}\n\n{DIGEST_USAGE}")
        return say(outcome.message)
    text = "\n\n".join(describe(s) for s in outcome.shown)
    return Outcome(cards.message(cards.card([cards.text_block(text), cards.subtle(DIGEST_USAGE)]), "Digest times"))
