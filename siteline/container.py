"""Builds the running pieces from settings once, and hands them to whoever needs them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.audit import load_key
from core.clock import Clock, SystemClock
from core.db import make_engine, make_session_factory
from core.settings import Settings
from siteline.database import migrate, require_current

if TYPE_CHECKING:
    from assistant.service import Assistant
    from core.notify import Notifier
    from knowledge.embedding import MiniLmEmbeddings
    from knowledge.service import KnowledgeService
    from triage.service import TriageService

log = logging.getLogger("siteline")


@dataclass
class Container:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)

    @cached_property
    def knowledge(self) -> KnowledgeService:
        """Loaded on first use: the embedding model and indexes are not needed by every command."""
        from knowledge.service import KnowledgeService

        return KnowledgeService.open(self.settings, self.factory, self.embeddings)

    @cached_property
    def embeddings(self) -> MiniLmEmbeddings:
        """The process's one embedding model, shared by knowledge, triage and escalation (loaded on first use)."""
        from knowledge.embedding import shared_embeddings

        return shared_embeddings()

    @cached_property
    def assistant(self) -> Assistant:
        """The platform-neutral chat service that Slack and Teams share (knowledge loads on first question)."""
        from assistant.service import Assistant

        return Assistant(
            settings=self.settings, factory=self.factory, knowledge=lambda: self.knowledge, triage=lambda: self.triage
        )

    @cached_property
    def triage(self) -> TriageService:
        """The process's one triage service (its policy is loaded once)."""
        from triage.service import TriageService

        return TriageService.of(self)

    @cached_property
    def notifier(self) -> Notifier:
        """The process's one Notifier: every configured chat channel behind one router (none configured:
        sends are held as `blocked`); only `SITELINE_DELIVERY_DRY_RUN=true` logs and drops instead."""
        from core.notify import LoggingNotifier

        if self.settings.delivery_dry_run:
            log.warning("SITELINE_DELIVERY_DRY_RUN is on: deliveries are logged and marked sent, never posted")
            return LoggingNotifier()
        from bot.channels import build_notifier

        notifier = build_notifier(self)
        if not notifier.senders:
            log.warning("no chat platform is configured: deliveries are held (blocked) until one is")
        return notifier


def build(settings: Settings | None = None, *, clock: Clock | None = None, run_migrations: bool = True) -> Container:
    """Wire the process. The schema is migrated to head first (`SITELINE_AUTO_MIGRATE`, the default),
    or only checked, raising `SchemaNotCurrent` when it is not at head; `run_migrations=False` skips both."""
    settings = settings or Settings()
    engine = make_engine(settings.resolved_database_url)
    key = load_key(settings)
    if engine.dialect.name == "postgresql" and settings.audit_key is None:
        log.warning(
            "SITELINE_AUDIT_KEY is not set: the audit checkpoint is signed with %s; replicas on other "
            "machines must share one key or `siteline audit verify` will report a bad signature",
            settings.home / "audit.key",
        )
    if run_migrations and settings.auto_migrate:
        migrate(engine, audit_key=key)
    elif run_migrations:
        try:
            require_current(engine)
        except BaseException:
            engine.dispose()
            raise
    return Container(
        settings=settings,
        engine=engine,
        factory=make_session_factory(engine, audit_key=key),
        clock=clock or SystemClock(),
    )
