"""manifest.yml creates the app the bot expects: one URL (/slack/events), the events it listens
to, the /siteline command, interactivity, the App Home tab, and only scopes the code uses."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())
BOT_CODE = "\n".join(p.read_text() for p in (ROOT / "bot" / "slack").glob("*.py"))


def test_every_request_url_is_the_one_endpoint() -> None:
    settings, features = MANIFEST["settings"], MANIFEST["features"]
    urls = [
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
        *(c["url"] for c in features["slash_commands"]),
    ]
    assert all(u.startswith("https://") and u.endswith("/slack/events") for u in urls)
    assert settings["interactivity"]["is_enabled"] and features["app_home"]["home_tab_enabled"]
    assert [c["command"] for c in features["slash_commands"]] == ["/siteline"]


def test_events_match_the_listeners() -> None:
    events = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    assert events == {"app_home_opened", "app_mention", "message.im"}
    listened = set(re.findall(r'@app\.event\("([a-z_]+)"\)', BOT_CODE))
    assert listened == {"app_home_opened", "app_mention", "message"}


def test_scopes_are_the_ones_the_calls_need() -> None:
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    need = {"app_mentions:read", "im:history", "im:read", "commands"}
    calls = {"chat_postMessage": "chat:write", "reactions_add": "reactions:write", "conversations_open": "im:write"}
    for call, scope in calls.items():
        if call in BOT_CODE:
            need.add(scope)
    assert scopes == need
