"""Updates to sites from chat: a sponsor-side person drafts one, sees how triage will treat it, sends it.

The directory decides which studies and sites a person may address (`assistant/scope.py`); a draft
becomes the contract's update here, with participant identifiers removed before it is shown back,
stored or sent (as the API and CLI do), then triage previews or submits it. Errors name the draft's
field (`study`, `sites`, `subject`, `body`, `declared_priority`, `due`) so a channel can show them
on its own form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from assistant.scope import UNKNOWN_USER, covers_whole_study, notify_sites, notify_studies, person_for
from assistant.types import ChatUser, command
from core.db import transaction
from core.directory import Directory
from core.domain import SPONSOR_ROLES, Person, Site
from privacy import PARTICIPANT_IDS, redact_fields
from triage.audience import UpdateRejected
from triage.schemas import UpdateIn
from triage.service import TriageService

NOT_SPONSOR = (
    "Sending updates is for the sponsor and CRO team (CRAs, study managers, medical monitors…). "
    f"To choose when your site hears from Siteline, use {command('digest')}."
)
NO_STUDIES = (
    "You're not listed on any study yet, so there is nowhere to send an update. Please ask your Siteline admin."
)
ALL_SITES = "all"
Field = Literal["study", "sites", "subject", "body", "declared_priority", "due", ""]
FIELDS = ("study", "sites", "subject", "body", "declared_priority", "due")


@dataclass(frozen=True)
class Draft:
    """What the sender typed, kept between the form and the preview."""

    study: str
    sites: list[str]  # site ids, or ["all"]
    subject: str = ""
    body: str = ""
    declared_priority: str | None = "normal"
    due: str | None = None  # YYYY-MM-DD
    org: str = "sponsor"

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Composer:
    """What a sender may address: their studies, the sites of the draft's study, and whether they may
    say "all sites" (study-wide roles)."""

    ok: bool
    message: str = ""
    studies: tuple[str, ...] = ()
    sites: tuple[Site, ...] = ()
    whole_study: bool = False


@dataclass(frozen=True)
class Judged:
    """Triage's decision on an update (previewed or sent), with the sites it names, or what was wrong."""

    ok: bool
    errors: dict[str, str] = field(default_factory=dict)  # by draft field ("" when it is no one field)
    decision: Any = None  # triage.service's decision
    sites: dict[str, Site] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return next(iter(self.errors.values()), "")


class UpdateDesk:
    def __init__(self, *, factory: sessionmaker[Session], triage: TriageService) -> None:
        self.factory = factory
        self.triage = triage

    def composer(self, user: ChatUser, study: str | None = None) -> Composer:
        with transaction(self.factory) as session:
            person = person_for(Directory(session), user.platform, user.user_id)
            refusal = _may_send(person)
            if refusal:
                return Composer(False, refusal)
            assert person is not None
            studies = notify_studies(session, person)
            if not studies:
                return Composer(False, NO_STUDIES)
            chosen = study if study in studies else studies[0]
            sites = notify_sites(session, person, chosen)
        return Composer(True, studies=tuple(studies), sites=tuple(sites), whole_study=covers_whole_study(person))

    def preview(self, user: ChatUser, draft: Draft, update_id: str) -> Judged:
        """How triage will treat it (priority and reason, merges, when each site gets it); nothing sent."""
        return self._judge(user, draft, update_id, send=False)

    def send(self, user: ChatUser, draft: Draft, update_id: str, *, source: str) -> Judged:
        """Submit it as this person: urgent items go at the next tick, the rest wait for each digest."""
        return self._judge(user, draft, update_id, send=True, source=source)

    def check(self, user: ChatUser, draft: Draft, update_id: str) -> Judged:
        """Whether the draft can be judged at all (who may send, to which sites, valid fields): fast, for
        a form that must be answered at once; preview and send check again."""
        checked = self._checked(user, draft, update_id)
        return checked if isinstance(checked, Judged) else Judged(True)

    def _checked(self, user: ChatUser, draft: Draft, update_id: str) -> Judged | tuple[Person, UpdateIn]:
        with transaction(self.factory) as session:
            person = person_for(Directory(session), user.platform, user.user_id)
        refusal = _may_send(person)
        if refusal:
            return Judged(False, {"": refusal})
        assert person is not None
        update = self.to_update(person, draft, update_id)
        return Judged(False, update) if isinstance(update, dict) else (person, update)

    def _judge(self, user: ChatUser, draft: Draft, update_id: str, *, send: bool, source: str = "") -> Judged:
        checked = self._checked(user, draft, update_id)
        if isinstance(checked, Judged):
            return checked
        person, update = checked
        try:
            if send:
                decision = self.triage.submit(update, actor=person.person_id, source=source)
            else:
                decision = self.triage.preview(update)
        except UpdateRejected as exc:
            return Judged(False, {"": exc.message})
        with transaction(self.factory) as session:
            directory = Directory(session)
            named = (directory.site(s.site_id) for s in decision.sites)
            sites = {s.site_id: s for s in named if s is not None}
        return Judged(True, decision=decision, sites=sites)

    def to_update(self, person: Person, draft: Draft, update_id: str) -> UpdateIn | dict[str, str]:
        """The draft as the contract's update (sites checked against the directory), or errors by field."""
        with transaction(self.factory) as session:
            allowed = {s.site_id for s in notify_sites(session, person, draft.study)}
        if not allowed:
            return {"study": f"You can't send updates for {draft.study or 'this study'}: you're not on it."}
        if not draft.sites:
            return {"sites": "Choose at least one site, or all sites."}
        if ALL_SITES in draft.sites:
            sites: list[str] | str = ALL_SITES if covers_whole_study(person) else sorted(allowed)
        else:
            outside = [s for s in draft.sites if s not in allowed]
            if outside:
                return {"sites": f"Not one of your sites on {draft.study}: {', '.join(outside)}."}
            sites = draft.sites
        line = {**draft.to_json(), "id": update_id, "from": person.person_id, "sites": sites}
        try:
            return redact_fields(UpdateIn.model_validate(line), ("subject", "body"), only=PARTICIPANT_IDS)
        except ValidationError as exc:
            errors: dict[str, str] = {}
            for err in exc.errors():
                name = str(err["loc"][0]) if err["loc"] else ""
                known = name in FIELDS
                errors.setdefault(name if known else "subject", str(err["msg"]) if known else f"{name}: {err['msg']}")
            return errors


def _may_send(person: Person | None) -> str | None:
    if person is None:
        return UNKNOWN_USER
    return None if person.role in SPONSOR_ROLES else NOT_SPONSOR
