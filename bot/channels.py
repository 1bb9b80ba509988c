"""The chat channels this build has, and the Notifier built from them.

A channel is one folder under `bot/` offering `sender(container)` (None while it is not configured)
and `mount(app, container)` (its inbound routes, if any). Adding a channel is a folder and one line
in `CHANNELS`. Imports are explicit: a broken channel module fails the process loudly instead of
silently turning a platform off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assistant.outbound import ChannelSender, RoutingNotifier
from bot.email import mount as email_mount
from bot.email import sender as email_sender
from bot.slack import mount as slack_mount
from bot.slack import sender as slack_sender
from bot.teams import mount as teams_mount
from bot.teams import sender as teams_sender

if TYPE_CHECKING:
    from fastapi import FastAPI

    from siteline.container import Container


@dataclass(frozen=True)
class Channel:
    name: str
    sender: Callable[[Container], ChannelSender | None]
    mount: Callable[[FastAPI, Container], Any]


CHANNELS: tuple[Channel, ...] = (
    Channel("slack", slack_sender.sender, slack_mount.mount),
    Channel("teams", teams_sender.sender, teams_mount.mount),
    Channel("email", email_sender.sender, email_mount.mount),  # the last resort: see assistant/outbound.py
)


def build_notifier(container: Container) -> RoutingNotifier:
    """Every configured channel's sender behind one router (none configured: every send is held as
    `blocked` with a message saying so, and goes out once a channel is configured)."""
    senders: dict[str, ChannelSender] = {}
    for channel in CHANNELS:
        sender = channel.sender(container)
        if sender is not None:
            senders[sender.platform] = sender
    return RoutingNotifier(container.factory, senders, container.clock.now)


def mount_all(app: FastAPI, container: Container) -> None:
    for channel in CHANNELS:
        channel.mount(app, container)
