"""Chat identities are data: scoping and outbound routing reach a person or site on any platform the
directory names, with no code per platform (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from assistant.outbound import Address, RoutingNotifier
from assistant.scope import resolve
from core.db import transaction
from core.directory import parse_entries, upsert
from core.notify import OutboundMessage, SendResult

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ENTRIES: list[dict[str, Any]] = [
    {"type": "site", "site_id": "S1", "tz": "Europe/Paris", "studies": ["ORION"],
     "slack_channel_id": "C_S1", "chat": {"webex": "wx-room-s1"}},
    {"type": "site", "site_id": "S2", "tz": "Europe/Paris", "studies": ["VEGA"], "teams_conversation_id": "19:s2"},
    {"type": "person", "person_id": "ana", "role": "site_staff", "sites": ["S1"], "studies": ["ORION"],
     "slack_user_id": "U_ANA", "teams_user_id": "29:ana", "chat": {"webex": "wx-ana"}},
    {"type": "person", "person_id": "ben", "role": "cra", "sites": ["S2"], "studies": ["VEGA"],
     "chat": {"webex": "wx-ben"}},
    {"type": "person", "person_id": "cat", "role": "cra", "sites": ["S2"], "studies": ["VEGA"]},
]  # fmt: skip


class _Sender:
    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.to: list[Address] = []

    def send_to(self, address: Address, message: OutboundMessage) -> SendResult:
        self.to.append(address)
        return SendResult.sent("ref")


@pytest.fixture
def world(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with transaction(factory) as session:
        upsert(session, *parse_entries((str(i), e) for i, e in enumerate(ENTRIES)))
    return factory


def _address(factory: sessionmaker[Session], platforms: list[str], channel: str, recipient: str) -> Address | None:
    senders = {p: _Sender(p) for p in platforms}
    message = OutboundMessage(delivery_id=1, channel=channel, recipient=recipient, kind="digest")
    return RoutingNotifier(factory, senders, lambda: T0).address(message)


def test_a_recipient_is_reached_on_the_first_configured_sender_it_has_an_identity_on(world) -> None:
    assert _address(world, ["slack", "teams"], "person", "ana") == Address("slack", user_id="U_ANA")
    assert _address(world, ["teams", "slack"], "person", "ana") == Address("teams", user_id="29:ana")
    assert _address(world, ["webex"], "person", "ana") == Address("webex", user_id="wx-ana")  # no code for webex
    assert _address(world, ["slack", "webex"], "person", "ben") == Address("webex", user_id="wx-ben")
    assert _address(world, ["slack", "teams", "webex"], "person", "cat") is None
    assert _address(world, ["teams", "webex"], "site", "S1") == Address("webex", conversation_id="wx-room-s1")
    assert _address(world, ["slack", "teams"], "site", "S2") == Address("teams", conversation_id="19:s2")
    assert _address(world, ["slack"], "site", "S2") is None
    assert _address(world, ["slack"], "site", "S9") is None and _address(world, ["slack"], "person", "zed") is None


def test_scope_resolves_any_platform_and_never_takes_one_platforms_id_for_another(world) -> None:
    with world() as session:
        here = resolve(session, platform="webex", user_id="wx-ana", conversation_id="wx-room-s1", is_direct=False)  # type: ignore[arg-type]
        assert here.allowed and here.person is not None and here.person.person_id == "ana"
        assert here.site is not None and here.site.site_id == "S1" and here.studies == ("ORION",)
        dm = resolve(session, platform="teams", user_id="29:ana", conversation_id="a:dm", is_direct=True)
        assert dm.allowed and dm.site is not None and dm.site.site_id == "S1"
        # A Teams id on another platform is nobody there (the old code read every non-Slack platform as Teams).
        stranger = resolve(session, platform="webex", user_id="29:ana", conversation_id="x", is_direct=True)  # type: ignore[arg-type]
        assert stranger.refusal == "unknown_user"
        elsewhere = resolve(session, platform="slack", user_id="U_ANA", conversation_id="wx-room-s1", is_direct=False)
        assert elsewhere.refusal == "not_a_site_channel"  # a Webex room id is no Slack channel
