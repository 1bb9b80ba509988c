"""What the Slack listeners share: the assistant, the clock, and a way to send queued messages now."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from core.notify import Notifier
from core.outbox import send_now

if TYPE_CHECKING:
    from assistant.service import Assistant
    from siteline.container import Container


class SlackRuntime:
    def __init__(self, container: Container) -> None:
        self.container = container

    @property
    def assistant(self) -> Assistant:
        return self.container.assistant

    def now(self) -> datetime:
        return self.container.clock.now()

    @property
    def notifier(self) -> Notifier:
        return self.container.notifier

    def deliver(self, keys: Iterable[str]) -> None:
        """Send what an action just queued, now. The decision is already stored, so a failure here is
        not the user's problem: it is logged and the rows stay pending for the scheduler."""
        send_now(self.container.factory, self.notifier, keys, now=self.now())
