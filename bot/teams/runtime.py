"""What the Teams handlers share: the assistant, the clock, the database, and sending queued rows now."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from bot.teams import references
from bot.teams.failures import describe
from core.notify import Notifier
from core.outbox import send_now

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from assistant.service import Assistant
    from siteline.container import Container

log = logging.getLogger("siteline.bot.teams")
T = TypeVar("T")


class TeamsRuntime:
    def __init__(self, container: Container) -> None:
        self.container = container
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def assistant(self) -> Assistant:
        return self.container.assistant

    @property
    def factory(self) -> sessionmaker[Session]:
        return self.container.factory

    def user_key(self, teams_id: str, aad_object_id: str | None) -> str:
        """The id the directory knows a Teams sender by (Teams id or Entra object id). Blocking."""
        with self.factory() as session:
            return references.user_key(session, teams_id, aad_object_id)

    def now(self) -> datetime:
        return self.container.clock.now()

    @property
    def notifier(self) -> Notifier:
        return self.container.notifier

    async def run(self, call: Callable[[], T]) -> T:
        """Database and engine work is blocking: keep it off the event loop."""
        return await asyncio.to_thread(call)

    def deliver_soon(self, keys: Iterable[str]) -> None:
        """Send what an action just queued, right after the click is answered. The decision is already
        stored, so a failure here only leaves the rows pending for the scheduler."""
        keys = list(keys)
        if keys:
            self.background(asyncio.to_thread(self.deliver, keys), "send queued messages")

    def deliver(self, keys: list[str]) -> None:
        send_now(self.factory, self.notifier, keys, now=self.now())

    def background(self, work: object, what: str) -> None:
        """Run a coroutine after the current request is answered, keeping a reference until it ends."""
        task: asyncio.Task[None] = asyncio.ensure_future(work)  # type: ignore[arg-type]
        self._tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("teams background %s failed: %s", what, describe(t.exception()))  # type: ignore[arg-type]

        task.add_done_callback(done)
