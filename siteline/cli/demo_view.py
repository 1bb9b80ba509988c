"""How `siteline demo` shows things: answers with their sources, people, studies, deliveries.

Kept apart from the console loop so the wording can be tuned without touching control flow.
Document text is always escaped: a bracket in a protocol must never be read as rich markup.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from core.db import transaction
from core.directory import Directory
from core.domain import Person
from knowledge.models import DocumentRow, DocumentVersionRow
from knowledge.types import ALSO_IN_DOCUMENTS, Answer
from siteline.container import Container
from siteline.demo import Asked, Delivery

ROLE_LABELS = {
    "site_staff": "site staff",
    "cra": "CRA",
    "cra_lead": "CRA lead",
    "srm": "site relationship manager",
    "study_manager": "study manager",
    "medical_monitor": "medical monitor",
    "clinops_head": "head of clinical operations",
}
ASK_CRA = "Not found in the study documents — shall I ask your CRA?"

BANNER = """
[bold]Siteline[/] — a chat assistant for clinical-trial sites [dim](local demo)[/]

Site staff ask questions in Slack or Teams; Siteline answers [bold]only from the study documents[/],
cites the document, version, section and page, and says so when the documents do not answer.
This demo runs the same engines over a bundled, [italic]fictional[/] study:

  [cyan]ORION-301[/]  orvalizumab (Corvexa®) in atopic dermatitis: protocol v2.0 (v1.0 superseded),
             SAE reporting SOP, IP storage and temperature-excursion SOP, central lab manual
  [cyan]VEGA-210[/]   velnostat in chronic urticaria: a short protocol (another study, other sites)

Try asking:
  [green]how long do we need to observe pts after the injection?[/]
  [green]when must a pregnancy be reported?[/]
  [green]how do we unblind a pt in an emergency?[/]
  [green]which days can we ship frozen PK samples?[/]
  [green]is there parking validation for study pts?[/]   [dim](not in the documents: watch it say so)[/]
Then [bold]:as p-osa-crc[/] (a VEGA-210 coordinator in Osaka) and ask [green]what temp do we store IP at?[/]

Commands: [bold]:help  :as <person>  :people  :study  :updates  :escalate <text>  :quit[/]
[dim]Data folder: {home}[/]"""

HELP = """[bold]Type a question[/] to get an answer with its sources, or a command:
  [bold]:as <person_id>[/]     become someone else (scoping: a VEGA-210 coordinator never sees ORION-301)
  [bold]:people[/]             everyone in the demo directory
  [bold]:study[/]              the studies and documents you can ask about
  [bold]:updates[/]            push the demo's sponsor/CRO updates through triage: priority, merges, digests
  [bold]:escalate <text>[/]    raise an issue from your site and watch the escalation chain (simulated)
  [bold]:quit[/]               leave"""


def who(person: Person) -> str:
    """A person in words: "Maya Chen · site staff at S-BOS"."""
    where = f" at {', '.join(person.sites)}" if person.sites else ""
    return f"{person.name or person.person_id} · {ROLE_LABELS.get(person.role, person.role)}{where}"


def answer_json(answer: Answer) -> dict[str, Any]:
    data = answer.to_json()
    if answer.abstained:
        data["offer"] = ASK_CRA
    return data


def print_answer(out: Console, asked: Asked, person: Person) -> None:
    """The answer, then each source with its verbatim quote; an abstention offers the CRA."""
    answer = asked.answer
    if not out.is_terminal:
        out.print(f"Q: {escape(asked.question)}")
    if asked.notice:
        out.print(f"[magenta]{escape(asked.notice)}[/]")
    if answer.abstained:
        out.print(f"[yellow]{ASK_CRA}[/]")
        out.print("[dim]Type :escalate <your question> to see how Siteline would hand it to your CRA.[/]")
        return
    out.print(f"{'A: ' if not out.is_terminal else ''}{escape(answer.answer)}")
    if answer.citations:
        out.print("[bold]Sources[/]")
    for n, cite in enumerate(answer.citations, start=1):
        if cite.alternate and not answer.citations[n - 2].alternate:
            out.print(f"[bold]{ALSO_IN_DOCUMENTS}[/]")
        where = [cite.title or cite.doc, f"v{cite.version}" if cite.version else "", cite.section]
        if cite.page is not None:
            where.append(f"page {cite.page}")
        out.print(f"  [cyan][{n}][/] " + escape(" · ".join(w for w in where if w)))
        out.print(f'      [italic]"{escape(cite.quote)}"[/]')
    for note in answer.notes:
        out.print(f"[dim]{escape(note)}[/]")
    out.print(f"[dim]{answer.mode} answer in {answer.latency_ms} ms · asked as {escape(person.person_id)}[/]")


def print_people(out: Console, people: list[Person], *, current: str) -> None:
    table = Table(title="Demo directory", show_lines=False)
    for col in ("person_id", "name", "role", "sites", "studies"):
        table.add_column(col)
    for p in people:
        mark = " (you)" if p.person_id == current else ""
        table.add_row(
            escape(p.person_id + mark),
            escape(p.name or ""),
            ROLE_LABELS.get(p.role, p.role),
            ", ".join(p.sites),
            ", ".join(p.studies),
        )
    out.print(table)


def print_studies(out: Console, c: Container, studies: list[str]) -> None:
    """The documents of the studies in scope, current versions first."""
    with transaction(c.factory) as session:
        rows = session.execute(
            select(DocumentRow, DocumentVersionRow)
            .join(DocumentVersionRow, DocumentVersionRow.document_id == DocumentRow.id)
            .where(DocumentRow.study.in_(studies))
            .order_by(DocumentRow.study, DocumentRow.kind, DocumentRow.doc_key, DocumentVersionRow.is_current.desc())
        ).all()
    table = Table(title=f"Your studies: {', '.join(studies) or 'none'}")
    for col in ("study", "document", "format", "kind", "version", "effective", "pages", "status"):
        table.add_column(col)
    for doc, ver in rows:
        table.add_row(
            doc.study,
            escape(doc.title or doc.doc_key),
            Path(ver.file_name).suffix.lstrip(".").upper(),
            doc.kind,
            ver.version,
            str(ver.effective or ""),
            str(ver.pages or ""),
            "current" if ver.is_current else "[dim]superseded[/]",
        )
    out.print(table)


def print_site_schedules(out: Console, c: Container) -> None:
    """Each site's digest slots and quiet hours: the rules the triage table below follows."""
    with transaction(c.factory) as session:
        sites = Directory(session).sites()
    for site in sites:
        quiet = f", quiet {'-'.join(site.quiet_hours)}" if site.quiet_hours else ""
        slots, studies = ", ".join(site.digest_times), ", ".join(site.studies)
        out.print(escape(f"  {site.site_id} ({site.tier}; {studies}): digests at {slots} {site.tz}{quiet}"))


def _local(c: Container, d: Delivery, people: dict[str, Person]) -> tuple[str, str]:
    """When, in the recipient's own time zone, and who, in words."""
    with transaction(c.factory) as session:
        site = Directory(session).site(d.to) if d.channel == "site" else None
    if site is not None:
        tz, name = site.tz, f"{site.site_id} {site.name}"
    else:
        person = people.get(d.to)
        tz = person.tz if person else "UTC"
        name = f"{person.name or d.to} · {ROLE_LABELS.get(person.role, person.role)}" if person else d.to
    return d.at.astimezone(ZoneInfo(tz)).strftime("%a %d %b %H:%M %Z"), name


def _items(d: Delivery, subjects: dict[str, str]) -> str:
    lines = []
    for item in d.items:
        if "duplicate_of" in item:
            lines.append(f"{item['id']} repeats {item['duplicate_of']}: recorded, not sent again")
            continue
        prio = item.get("priority", "")
        style = {"urgent": "bold red", "action": "yellow", "fyi": "dim"}.get(prio, "")
        text = f"[{style}]{prio.upper()}[/] " if style else ""
        text += escape(f"{item['id']} {subjects.get(item['id'], '')[:58]}")
        if item.get("reason"):
            text += f" [dim]({escape(item['reason'])})[/]"
        if item.get("merged"):
            text += f" [green]+ merged {escape(', '.join(item['merged']))}[/]"
        lines.append(text)
    if d.escalation:
        e = d.escalation
        text = escape(f"{e.get('id')}: level {e.get('level')} · {e.get('category')} · {e.get('severity')}")
        lines.append(text + (" [dim](inferred)[/]" if e.get("inferred") else ""))
    return "\n".join(lines)


def print_deliveries(
    out: Console,
    c: Container,
    deliveries: list[Delivery],
    *,
    people: dict[str, Person],
    updates: list[dict[str, Any]],
    title: str,
) -> None:
    """What went to whom and when, in local time; then a one-line tally."""
    subjects = {u["id"]: u.get("subject", "") for u in updates}
    table = Table(title=escape(title), show_lines=True)
    for col in ("when (recipient's time)", "to", "kind", "items"):
        table.add_column(col)
    for d in deliveries:
        when, name = _local(c, d, people)
        table.add_row(when, escape(name), d.kind, _items(d, subjects))
    out.print(table)
    kinds = Counter(d.kind for d in deliveries)
    merged = sum(len(i.get("merged", [])) for d in deliveries for i in d.items)
    tally = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    if updates:
        tally = f"{len(updates)} updates → {tally}; {merged} repeats merged into the item they repeat"
    out.print(f"[dim]{escape(tally or 'nothing delivered')} · simulated on a virtual clock: nobody was notified[/]")
