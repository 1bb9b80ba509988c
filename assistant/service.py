"""The one entry point for chat: `Assistant.handle(message, now) -> Reply`, plus the button actions.

Order matters and is fixed here for every platform: redact identifiers first (nothing raw is
stored, logged or sent to an LLM), resolve the asker in the directory (unknown people get a
polite refusal and no study content), scope the question to their site's studies, then ask
the knowledge engine, which records the question, the answer and the audit entries.
Unexpected errors are not caught here: the bot layer owns the single catch-all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant import events, handoff
from assistant.digests import DigestDesk
from assistant.escalations import EscalationDesk
from assistant.models import ChatAnswerRow
from assistant.scope import UNKNOWN_USER, person_for, resolve
from assistant.types import (
    ChatUser,
    FeedbackValue,
    Guard,
    InboundMessage,
    Knowledge,
    OpenQuestion,
    Outcome,
    Platform,
    Reply,
)
from assistant.updates import UpdateDesk
from core import audit
from core.db import transaction
from core.directory import Directory
from core.domain import Person, Site
from core.settings import Settings
from knowledge.models import FeedbackRow
from privacy import default_guard

if TYPE_CHECKING:
    from triage.service import TriageService


EMPTY = (
    "Ask me a question about your study documents, for example: "
    "\u201cWhat is the reporting window for a serious adverse event?\u201d"
)
NOT_FOUND = "I couldn't find this in your study documents."
NO_ACCESS = "You can't act on this answer: it belongs to a study you're not on."
GONE = "I can't find that answer any more; please ask the question again."


@dataclass(frozen=True)
class Profile:
    """What a user's home view shows: who they are, their sites and studies, and open questions."""

    person: Person
    sites: tuple[Site, ...]
    studies: tuple[str, ...]
    open_questions: tuple[OpenQuestion, ...]


class Assistant:
    """Knowledge is given as a provider and the PHI guard loads its filters on first use: a platform's
    delivery must be acknowledged in seconds, and the first one should not wait for a model load.
    Without a triage service (a process that only answers questions) there are no digest or update desks."""

    def __init__(
        self,
        *,
        settings: Settings,
        factory: sessionmaker[Session],
        knowledge: Callable[[], Knowledge],
        guard: Guard | None = None,
        triage: TriageService | None = None,
    ) -> None:
        self.settings = settings
        self.factory = factory
        self._knowledge = knowledge
        self.guard: Guard = guard or default_guard()  # its filters load on first use
        self.escalations = EscalationDesk(settings=settings, factory=factory, guard=self.guard)
        if triage is not None:
            self.triage = triage
            self.digests = DigestDesk(factory=factory, triage=triage)
            self.updates = UpdateDesk(factory=factory, triage=triage)

    @cached_property
    def knowledge(self) -> Knowledge:
        return self._knowledge()

    # -- questions -------------------------------------------------------------------------

    def handle(self, message: InboundMessage, now: datetime) -> Reply:
        """Answer one chat message within the asker's scope; refusals are replies, not errors."""
        redaction = self.guard.redact(_printable(message.text))
        notice = redaction.notice() if redaction.changed else None
        actor = f"{message.platform}:{message.user_id}"
        with transaction(self.factory) as session:
            scope = resolve(
                session,
                platform=message.platform,
                user_id=message.user_id,
                conversation_id=message.conversation_id,
                is_direct=message.is_direct,
            )
            if not scope.allowed:
                audit.record(
                    session,
                    now=now,
                    actor=scope.person.person_id if scope.person else actor,
                    action="chat.refused",
                    subject=f"{message.platform}:{message.conversation_id}",
                    detail={"reason": scope.refusal, "event": message.event_id},
                )
                return Reply("refused", scope.message)
        assert scope.person is not None
        question = redaction.text.strip()
        if not question:
            return Reply("empty", EMPTY, notice=notice, studies=scope.studies)
        conversation = {
            "platform": message.platform,
            "conversation_id": message.conversation_id,
            "thread_ref": message.thread_ref,
        }
        answer = self.knowledge.ask(
            question,
            studies=list(scope.studies),
            asker=scope.person.person_id,
            surface=message.platform,
            now=now,
            phi_redacted=redaction.changed,
            conversation_ref=conversation,
        )
        answer_id = answer.answer_id
        if answer_id is not None:
            with transaction(self.factory) as session:
                session.merge(
                    ChatAnswerRow(
                        answer_id=answer_id,
                        created_at=now,
                        platform=message.platform,
                        conversation_id=message.conversation_id,
                        thread_ref=message.thread_ref,
                        is_direct=message.is_direct,
                        site_id=scope.site.site_id if scope.site else None,
                        asker=scope.person.person_id,
                        studies=list(scope.studies),
                    )
                )
        return Reply(
            status="not_found" if answer.abstained else "answered",
            text=NOT_FOUND if answer.abstained else answer.answer,
            citations=tuple(answer.citations),
            answer_id=answer_id,
            notice=notice,
            studies=scope.studies,
            mode=answer.mode,
            can_ask_cra=answer_id is not None and scope.site is not None,
        )

    # -- platform deliveries ---------------------------------------------------------------

    def claim_event(self, platform: Platform, event_id: str, now: datetime) -> bool:
        """True the first time a delivery id is seen (or when its first handler died)."""
        with transaction(self.factory) as session:
            return events.claim(session, platform=platform, event_id=event_id, now=now)

    def finish_event(self, platform: Platform, event_id: str) -> None:
        with transaction(self.factory) as session:
            events.finish(session, platform=platform, event_id=event_id)

    # -- buttons and forms -----------------------------------------------------------------

    def feedback(self, answer_id: int, value: FeedbackValue, user: ChatUser, now: datetime) -> Outcome:
        """Record *Helpful* / *Not helpful* once per person and value (a second click changes nothing)."""
        with transaction(self.factory) as session:
            person, ref, refusal = self._actor_and_answer(session, user, answer_id)
            if refusal:
                return refusal
            assert person is not None and ref is not None
            seen = session.execute(
                select(FeedbackRow.id).where(
                    FeedbackRow.answer_id == answer_id, FeedbackRow.by == person.person_id, FeedbackRow.value == value
                )
            ).first()
            if seen:
                return Outcome(True, "Thanks, your feedback was already recorded.")
            session.add(FeedbackRow(answer_id=answer_id, at=now, by=person.person_id, value=value))
            audit.record(
                session,
                now=now,
                actor=person.person_id,
                action="answer.feedback",
                subject=f"answer:{answer_id}",
                detail={"value": value, "platform": user.platform},
            )
        return Outcome(
            True,
            "Thanks for the feedback."
            if value == "helpful"
            else "Thanks for telling me. Press Ask my CRA if you need a person to answer.",
        )

    def ask_cra(self, answer_id: int, user: ChatUser, now: datetime) -> Outcome:
        """Hand an answer's question to the site's CRA(s) as a tracked open question."""
        wait = timedelta(hours=self.settings.open_question_escalate_after_h)
        with transaction(self.factory) as session:
            person, ref, refusal = self._actor_and_answer(session, user, answer_id)
            if refusal:
                return refusal
            assert person is not None and ref is not None
            outcome = handoff.open_question(session, ref=ref, by=person, now=now, wait=wait)
            if (
                outcome.ok
                and not session.execute(
                    select(FeedbackRow.id).where(FeedbackRow.answer_id == answer_id, FeedbackRow.value == "ask_cra")
                ).first()
            ):
                session.add(FeedbackRow(answer_id=answer_id, at=now, by=person.person_id, value="ask_cra"))
            return outcome

    def answer_open_question(self, question_id: int, user: ChatUser, text: str, now: datetime) -> Outcome:
        """A CRA's answer: redacted, recorded, audited and queued into the asker's thread."""
        redaction = self.guard.redact(_printable(text))
        with transaction(self.factory) as session:
            person = person_for(Directory(session), user.platform, user.user_id)
            if person is None:
                return Outcome(False, UNKNOWN_USER)
            outcome = handoff.answer(
                session,
                question_id=question_id,
                by=person,
                text=redaction.text.strip(),
                redacted=redaction.changed,
                now=now,
            )
        if outcome.ok and redaction.changed:
            return replace(outcome, message=f"{outcome.message} {redaction.notice()}")
        return outcome

    def open_question(self, question_id: int, user: ChatUser) -> OpenQuestion | None:
        """One open question, if this user may answer it (for the answer form)."""
        with transaction(self.factory) as session:
            person = person_for(Directory(session), user.platform, user.user_id)
            row = session.get(handoff.OpenQuestionRow, question_id)
            if person is None or row is None or not handoff.may_answer(person, row):
                return None
            return handoff.to_view(row)

    def list_open_questions(self, user: ChatUser) -> list[OpenQuestion] | None:
        """Unanswered questions for this user (None: not in the directory)."""
        with transaction(self.factory) as session:
            person = person_for(Directory(session), user.platform, user.user_id)
            return None if person is None else handoff.listing(session, person=person)

    def profile(self, user: ChatUser) -> Profile | None:
        with transaction(self.factory) as session:
            directory = Directory(session)
            person = person_for(directory, user.platform, user.user_id)
            if person is None:
                return None
            sites = tuple(s for s in (directory.site(i) for i in person.sites) if s is not None)
            return Profile(
                person, sites, tuple(directory.studies_for(person)), tuple(handoff.listing(session, person=person))
            )

    def dashboard_link(self, user: ChatUser, now: datetime) -> str:
        """A one-time dashboard sign-in link for this chat user, as the text to send them privately
        (site staff, and people not in the directory, get a sentence saying why not)."""
        from dashboard.signin import LINK_TTL, SignInError, issue, link_text

        with transaction(self.factory) as session:
            person = person_for(Directory(session), user.platform, user.user_id)
            if person is None:
                return UNKNOWN_USER
            if person.role == "site_staff":
                return "The dashboard is for sponsor and CRO teams; your site uses Siteline here in chat."
            try:
                url = issue(
                    session,
                    person_id=person.person_id,
                    ttl=LINK_TTL,
                    now=now,
                    public_url=self.settings.public_url,
                    actor=f"{user.platform}:{user.user_id}",
                )
            except SignInError as exc:
                return str(exc)
        return link_text(url)

    def display_name(self, person_id: str) -> str:
        with transaction(self.factory) as session:
            person = Directory(session).person(person_id)
            return handoff.display(person) if person else person_id

    # -- internals -------------------------------------------------------------------------

    def _actor_and_answer(
        self, session: Session, user: ChatUser, answer_id: int
    ) -> tuple[Person | None, ChatAnswerRow | None, Outcome | None]:
        directory = Directory(session)
        person = person_for(directory, user.platform, user.user_id)
        if person is None:
            return None, None, Outcome(False, UNKNOWN_USER)
        ref = session.get(ChatAnswerRow, answer_id)
        if ref is None:
            return person, None, Outcome(False, GONE)
        if not set(ref.studies) & set(directory.studies_for(person)):
            return person, None, Outcome(False, NO_ACCESS)
        return person, ref, None


def _printable(text: str) -> str:
    """Chat text without NUL bytes: no database text column can hold one (PostgreSQL refuses the row),
    and a chat platform cannot be answered 422, so the byte is dropped and the message kept."""
    return text.replace("\x00", "")
