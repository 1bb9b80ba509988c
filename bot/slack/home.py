"""The App Home tab and the help text: what a user can do, and what Siteline knows about them."""

from __future__ import annotations

from typing import Any

from assistant.service import Profile
from bot.slack.blocks import Block, button, clip, context, escape, keyed, questions_blocks, section

HELP = """*Siteline* answers questions from your study documents, with sources.

• *Ask:* mention me in your site's channel (`@Siteline what is the SAE reporting window?`) or send me a DM.
  `/siteline ask <question>` works too (the answer is shown only to you).
• *Buttons under each answer:* _Helpful_, _Not helpful_, and _Ask my CRA_ (sends the question, my answer
  and its sources to your site's CRA; their answer comes back in the same thread).
• `/siteline questions`: Ask-my-CRA questions still waiting for an answer.
• `/siteline escalate`: raise an issue for your site (supply, safety, contracts, …). You see who gets it and
  when before you send it, and every step shows up in a thread in your site's channel.
• `/siteline escalation-path [category]`: who an issue of your site would reach, level by level, and how long
  each has to respond.
• `/siteline digest`: when your site gets its digest of sponsor updates, and its quiet hours;
  `/siteline digest 08:30,16:00 quiet 19:00-07:00` changes them.
• `/siteline notify` (sponsor and CRO team): send an update to sites, after seeing how Siteline will treat it.
• `/siteline dashboard` (sponsor and CRO team): a one-time sign-in link to the web dashboard.
• `/siteline help`: this message.

I only answer from the documents of your own site's studies. Please don't paste patient identifiers:
I remove them before anything is stored, but it is better not to share them in chat at all."""

EDIT_DIGEST = "digest_prefs_open"
DIGEST_EDITORS = ("site_staff", "cra")  # of their own sites (profile.sites)
NOT_IN_DIRECTORY_HOME = (
    "Hi! I don't have you in the Siteline directory yet, so I can't show study information. "
    "Please ask your study team or Siteline admin to add your Slack account."
)


def home_view(profile: Profile | None) -> dict[str, Any]:
    if profile is None:
        return {"type": "home", "blocks": [section(f"*Welcome to Siteline*\n{NOT_IN_DIRECTORY_HOME}")]}
    person = profile.person
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Siteline · {person.name or person.person_id}"}},
        section(f"*Role:* {escape(person.role.replace('_', ' '))}"),
    ]
    if profile.sites:
        lines = [f"• *{escape(s.name or s.site_id)}* ({escape(s.site_id)}, {escape(s.tz)})" for s in profile.sites]
        blocks.append(section("*Your site*\n" + "\n".join(lines)))
    blocks.append(section("*Your studies*\n" + (", ".join(map(escape, profile.studies)) or "none yet")))
    prefs = [_digest_line(s) for s in profile.sites]
    if prefs:
        blocks.append(section("*Digest of sponsor updates*\n" + "\n".join(prefs)))
    editable = [s for s in profile.sites if person.role in DIGEST_EDITORS]
    if editable:
        many = len(editable) > 1
        label = "Edit digest preferences"
        buttons = [
            button(clip(f"{label} · {s.site_id}", 75) if many else label, keyed(EDIT_DIGEST, s.site_id), s.site_id)
            for s in editable[:25]  # an actions block holds at most 25 elements
        ]
        blocks.append({"type": "actions", "block_id": "digest_prefs", "elements": buttons})
    blocks.append({"type": "divider"})
    blocks.extend(questions_blocks(list(profile.open_questions), viewer=person.person_id))
    blocks.append({"type": "divider"})
    blocks.append(context("Ask me anything about your study documents in a DM or your site's channel."))
    return {"type": "home", "blocks": blocks}


def _digest_line(site: Any) -> str:
    times = ", ".join(site.digest_times) or "none"
    quiet = f"; quiet hours {site.quiet_hours[0]}–{site.quiet_hours[1]}" if site.quiet_hours else ""
    return f"• {escape(site.site_id)}: daily at {times} ({escape(site.tz)}){quiet}"
