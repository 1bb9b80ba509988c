"""Which sites an update reaches: the directory decides, never the sender's say-so alone.

`"all"` means every site on the update's study; an explicit list must name known sites that are on
that study, so one study's message never lands in another study's site channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.models import PersonRow
from scheduler.plugins import LineRejected
from triage import queries


class UpdateRejected(LineRejected):
    """An update that cannot be delivered as addressed; `field` names what was wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class SiteInfo:
    """What triage needs of a site: where it is in time and when it wants to hear."""

    site_id: str
    tz: str
    digest_times: list[str]
    quiet_hours: list[str] | None


def check_origin(session: Session, *, study: str, sender: str) -> None:
    """For surfaces where anyone with the token can submit (the HTTP API): an update must come from
    someone in the directory and be for a study some site is on; otherwise it would be stored
    and reach no one, which looks like success to the sender."""
    if session.get(PersonRow, sender) is None:
        raise UpdateRejected("from", f"sender {sender} is not in the directory")
    dialect = session.get_bind().dialect.name
    if session.execute(queries.sites_on_study(dialect).limit(1), {"study": study}).first() is None:
        raise UpdateRejected("study", f"no site in the directory is on study {study}: the update would reach no one")


def resolve(session: Session, *, study: str, sites: Sequence[str] | str) -> list[SiteInfo]:
    """The addressed sites, sorted by id; raises UpdateRejected for unknown or off-study sites."""
    if sites == "all":
        rows = session.execute(queries.sites_on_study(session.get_bind().dialect.name), {"study": study}).all()
        return [SiteInfo(r[0], r[1], list(r[2] or []), r[3]) for r in rows]
    wanted = list(sites)
    rows = session.execute(queries.SITES_BY_ID, {"ids": wanted}).all()
    found = {r[0]: r for r in rows}
    unknown = [s for s in wanted if s not in found]
    if unknown:
        raise UpdateRejected("sites", f"unknown site(s) {', '.join(unknown)} (not in the directory)")
    off = [s for s in wanted if study not in (found[s][4] or [])]
    if off:
        raise UpdateRejected("sites", f"site(s) {', '.join(off)} are not on study {study}")
    return [SiteInfo(s, found[s][1], list(found[s][2] or []), found[s][3]) for s in sorted(wanted)]
