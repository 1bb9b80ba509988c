"""`/siteline escalation-path [site] [category] [severity]`: the ladder a site's issue would climb,
shown before anyone needs it.

Site people see their own site(s); sponsor-side people name a site they cover. The answer is
`describe_path` as the site reads it: roles and names from the directory, time limits after the
site tier's factor, working hours, and what changes when an issue is critical.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.scope import UNKNOWN_USER
from bot.command_args import Unknown, Where, parse, raise_places
from bot.slack.blocks import Block, apology, context, escape
from bot.slack.escalation_blocks import category_text, path_blocks
from bot.slack.failures import guarded
from bot.slack.people import person_of
from bot.slack.runtime import SlackRuntime
from core.db import transaction
from core.directory import Directory
from core.domain import Person
from escalation import service

if TYPE_CHECKING:
    from bot.slack.commands import Invocation

# Words a site might type for a category (besides its id and its label).
MAX_PLACES = 3


def _places(rt: SlackRuntime, person: Person, args: list[str]) -> list[Where]:
    """A site person's own sites; a sponsor-side person's sites on their studies (they name one)."""
    with transaction(rt.container.factory) as session:
        mine = raise_places(session, person)
        if mine or person.role == "site_staff":
            return mine
        directory = Directory(session)
        studies = set(directory.studies_for(person))
        wanted = {a.lower() for a in args}
        return [
            Where(site, study)
            for site in directory.sites()
            if site.site_id.lower() in wanted
            for study in site.studies
            if (study in studies or person.role == "clinops_head") and person.covers(site=site.site_id, study=study)
        ]


def command(inv: Invocation) -> None:
    inv.ack()

    def reply(text: str, blocks: list[Block] | None = None) -> None:
        inv.respond(text=text, blocks=blocks, response_type="ephemeral")

    with guarded("slash escalation-path", inv.ref, lambda: reply(apology(inv.ref))):
        person = person_of(inv.rt, inv.user.user_id)
        if person is None:
            reply(UNKNOWN_USER)
            return
        args = inv.args.split()
        places = _places(inv.rt, person, args)
        if not places:
            reply("Tell me which site: `/siteline escalation-path S01 [category]` (a site on one of your studies).")
            return
        try:
            site_id, category, severity = parse(args, places)
        except Unknown as exc:
            reply(escape(str(exc)))
            return
        shown = [p for p in places if site_id in (None, p.site.site_id)][:MAX_PLACES]
        blocks: list[Block] = []
        for where in shown:
            blocks += _ladder(inv.rt, where, category, severity)
        hint = "" if category else "Add a category to see its own ladder, e.g. `/siteline escalation-path safety`."
        if hint:
            blocks.append(context(hint))
        label = category_text(category) if category else "any issue"
        reply(f"Escalation path for {label}", blocks[1:51])  # the first block is a divider


def _ladder(rt: SlackRuntime, where: Where, category: str | None, severity: str | None) -> list[Block]:
    now = rt.now()
    with transaction(rt.container.factory) as session:
        args = {"site": where.site.site_id, "study": where.study, "now": now, "settings": rt.container.settings}
        path = service.describe_path(session, **args, category=category, severity=severity)
        critical = None
        if path["severity"] != "critical":
            critical = service.describe_path(session, **args, category=category, severity="critical")
    site = where.site
    blocks = path_blocks(path, site_name=site.name or site.site_id, tz=site.tz, critical=critical, now=now)
    return [{"type": "divider"}, *blocks]
