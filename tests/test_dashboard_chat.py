"""The dashboard link from chat: `/siteline dashboard` in Slack (shown only to the asker) and
`dashboard` in a Teams 1:1 chat give sponsor people a one-time link; site staff, strangers and a
Teams channel get a sentence instead, never a link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.clock import VirtualClock
from tests.fake_teams_connector import FakeConnector
from tests.test_slack_triage_notify import World, fake, w  # noqa: F401  (fixtures)
from tests.test_teams_bot import Harness, running
from tests.test_teams_bot import fake as teams_fake  # noqa: F401  (fixture)
from tests.test_teams_commands import START, reply_to

LINK = re.compile(r"http://127\.0\.0\.1:3000/dashboard/login/[A-Za-z0-9_-]{40,}")


def test_slack_dashboard_command(w: World) -> None:  # noqa: F811
    sam = w.command("U_SAM", "C_S01", "dashboard")
    assert sam.status_code == 200
    found = LINK.search(sam.text)
    assert found and "works once" in sam.text
    path = found.group(0).removeprefix("http://127.0.0.1:3000")
    r = w.client.post(path, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/dashboard")
    anna = w.command("U_ANNA", "C_S01", "dashboard").text
    assert "your site uses Siteline here in chat" in anna and not LINK.search(anna)


@pytest.fixture
def h(tmp_path: Path, db_url: str, teams_fake: FakeConnector) -> Iterator[Harness]:  # noqa: F811
    with running(tmp_path, db_url, teams_fake, clock=VirtualClock(START)) as harness:
        yield harness


def test_teams_dashboard_command(h: Harness) -> None:
    text = reply_to(h, h.teams.personal("sam", "dashboard")).all_text
    assert LINK.search(text), text
    channel = reply_to(h, h.teams.mention("anna", "S01", "dashboard")).all_text
    assert "1:1 chat" in channel and not LINK.search(channel)
    assert "your site uses Siteline here in chat" in reply_to(h, h.teams.personal("anna", "dashboard")).all_text
    assert "directory" in reply_to(h, h.teams.personal("stranger", "dashboard")).all_text
