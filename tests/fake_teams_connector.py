"""A local fake of the Bot Framework connector (Teams' `serviceUrl`) that records every request.

Activities posted to `/api/messages` carry `serviceUrl` = `fake.url`; the bot's replies,
proactive messages and new 1:1 conversations then land here, and tests assert on what was
posted (Adaptive Card content, buttons, where it went), not on mocks of our own functions.
Can be told to fail a request once (e.g. HTTP 429 with Retry-After). Like Teams, it refuses a
message over ~28 KB with 413 `MessageSizeTooBig` (the size at which the issue-10 probe saw Teams
refuse digests); each refusal is kept in `rejected`, and `stop()` fails the test that caused one
unless it called `expect_refusals()`.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

ADAPTIVE = "application/vnd.microsoft.card.adaptive"
MAX_MESSAGE_BYTES = 28 * 1024


@dataclass
class Post:
    """One request the bot made: method, decoded path, JSON body and headers."""

    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def conversation(self) -> str:
        """The conversation id in `/v3/conversations/{id}/activities[/{replyTo}]` ('' for createConversation)."""
        parts = self.path.split("/")
        return parts[3] if len(parts) > 4 and parts[4] == "activities" else ""

    @property
    def reply_to(self) -> str | None:
        parts = self.path.split("/")
        return parts[5] if len(parts) > 5 and parts[4] == "activities" else None

    @property
    def type(self) -> str:
        return str(self.body.get("type", ""))

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [a["content"] for a in self.body.get("attachments") or [] if a.get("contentType") == ADAPTIVE]

    @property
    def card(self) -> dict[str, Any]:
        [card] = self.cards
        return card

    @property
    def all_text(self) -> str:
        """The message text and every text string of its cards, joined: handy for `in` assertions."""
        return "\n".join([str(self.body.get("text") or ""), *(t for c in self.cards for t in card_texts(c))])

    def actions(self) -> list[dict[str, Any]]:
        return [a for c in self.cards for a in card_actions(c)]

    def action_titles(self) -> list[str]:
        return [str(a.get("title")) for a in self.actions()]


def card_texts(node: Any) -> list[str]:
    """Every `text` string (and FactSet fact) in a card, depth first."""
    if isinstance(node, dict):
        out = [node["text"]] if isinstance(node.get("text"), str) else []
        if node.get("type") == "FactSet":
            out += [f"{f.get('title')}: {f.get('value')}" for f in node.get("facts", [])]
        return out + [t for k, v in node.items() if k != "facts" and isinstance(v, dict | list) for t in card_texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in card_texts(v)]
    return []


def card_actions(node: Any) -> list[dict[str, Any]]:
    """Every Action.Execute / Action.Submit in a card (top-level actions and ActionSets)."""
    if isinstance(node, dict):
        own = [node] if str(node.get("type", "")).startswith("Action.") else []
        return own + [a for v in node.values() if isinstance(v, dict | list) for a in card_actions(v)]
    if isinstance(node, list):
        return [a for v in node for a in card_actions(v)]
    return []


@dataclass
class Failure:
    status: int
    retry_after: int | None = None


@dataclass
class FakeConnector:
    posts: list[Post] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _cond: threading.Condition = field(default_factory=threading.Condition)
    server: ThreadingHTTPServer | None = None
    rejected: list[tuple[str, int]] = field(default_factory=list)  # (path, size in bytes)
    strict: bool = True

    def start(self) -> FakeConnector:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._handle(self)

            def do_PUT(self) -> None:
                fake._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        if self.strict and self.rejected:
            raise AssertionError(f"Teams would have refused {len(self.rejected)} message(s): {self.rejected[:3]}")

    def expect_refusals(self) -> None:
        """This test sends messages Teams refuses on purpose: do not fail it for them at stop()."""
        self.strict = False

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def fail_once(self, status: int = 429, retry_after: int | None = None) -> None:
        """The next activity post gets this status (createConversation is never failed)."""
        with self._cond:
            self.failures.append(Failure(status, retry_after))

    # -- assertions ------------------------------------------------------------------------

    def messages(self, where: Callable[[Post], bool] | None = None) -> list[Post]:
        """Message activities posted so far (typing indicators left out)."""
        with self._cond:
            return [p for p in self.posts if p.type == "message" and (where is None or where(p))]

    def wait_for(
        self, count: int = 1, *, where: Callable[[Post], bool] | None = None, timeout: float = 20.0
    ) -> list[Post]:
        """Block until `count` matching message posts were recorded (bounded), then return them all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [p for p in self.posts if p.type == "message" and (where is None or where(p))]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(p.method, p.path, p.type) for p in self.posts]
                    raise AssertionError(f"waited {timeout}s for {count} message(s); recorded: {seen}")
                self._cond.wait(left)

    def created(self) -> list[Post]:
        with self._cond:
            return [p for p in self.posts if p.path.rstrip("/") == "/v3/conversations"]

    def reset(self) -> None:
        with self._cond:
            self.posts.clear()

    # -- the fake connector ----------------------------------------------------------------

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        length = int(req.headers.get("Content-Length") or 0)
        raw = req.rfile.read(length).decode() if length else ""
        body = json.loads(raw) if raw else {}
        path = unquote(req.path.split("?")[0])
        post = Post(req.command, path, body, dict(req.headers.items()))
        is_create = path.rstrip("/") == "/v3/conversations"
        too_big = post.type == "message" and length > MAX_MESSAGE_BYTES
        if too_big:  # refused, so never shown: kept apart from `posts`
            with self._cond:
                self.rejected.append((path, length))
            self._reply(req, 413, {"error": {"code": "MessageSizeTooBig", "message": "Message size too large"}})
            return
        with self._cond:
            self.posts.append(post)
            failure = self.failures.pop(0) if self.failures and not is_create and post.type == "message" else None
            self._cond.notify_all()
        if failure is not None:
            self._reply(req, failure.status, {"error": {"code": "Throttled"}}, failure.retry_after)
        elif is_create:
            member = (body.get("members") or [{}])[0].get("id", "x")
            self._reply(req, 201, {"id": f"a:dm-{member}", "activityId": f"act-{next(self._ids)}"})
        else:
            self._reply(req, 200, {"id": f"msg-{next(self._ids)}"})

    @staticmethod
    def _reply(req: BaseHTTPRequestHandler, status: int, body: dict[str, Any], retry_after: int | None = None) -> None:
        data = json.dumps(body).encode()
        req.send_response(status)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(data)))
        if retry_after is not None:
            req.send_header("Retry-After", str(retry_after))
        req.end_headers()
        req.wfile.write(data)


# -- the Teams side of the chat test world -------------------------------------------------

BOT_ID, BOT_NAME, TENANT = "28:siteline-bot", "Siteline", "tenant-0001"
CARLA_AAD = "6f2a1c7e-0000-4000-8000-00000000ca71"  # Carla is in the directory by her Entra object id
TEAMS_USERS = {
    "anna": "29:anna",
    "ben": "29:ben",
    "mia": "29:mia",
    "carla": CARLA_AAD,
    "victor": "29:victor",
    "sam": "29:sam",
}
FROM_IDS = {"carla": "29:carla"}  # what Teams puts in from.id when it is not the directory's id
SITE_CHANNELS = {"S01": "19:s01@thread.tacv2", "S02": "19:s02@thread.tacv2", "S03": "19:s03@thread.tacv2"}


def teams_directory(service_url: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """tests.chat_world's sites and people with Teams identities (and no Slack ones)."""
    from tests.chat_world import PEOPLE, SITES

    sites = [
        {
            **{k: v for k, v in s.items() if k != "slack_channel_id"},
            "teams_conversation_id": SITE_CHANNELS[s["site_id"]],
            "teams_service_url": service_url,
        }
        for s in SITES
    ]
    people = [
        {**{k: v for k, v in p.items() if k != "slack_user_id"}, "teams_user_id": TEAMS_USERS[p["person_id"]]}
        for p in PEOPLE
    ]
    return sites, people


def load_teams_directory(factory: Any, service_url: str) -> None:
    from core.db import transaction
    from core.directory import parse_entries, upsert

    sites, people = teams_directory(service_url)
    entries = [("site", {"type": "site", **s}) for s in sites] + [("p", {"type": "person", **p}) for p in people]
    parsed_sites, persons = parse_entries(entries)
    with transaction(factory) as session:
        upsert(session, parsed_sites, persons)


@dataclass
class Activities:
    """Real Bot Framework Activity JSON as Teams posts it to the messaging endpoint."""

    service_url: str
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000))

    def _base(self, person: str, activity_id: str | None, conversation: dict[str, Any]) -> dict[str, Any]:
        teams_id = FROM_IDS.get(person) or TEAMS_USERS.get(person) or f"29:{person}"
        aad = CARLA_AAD if person == "carla" else f"aad-{person}"
        return {
            "type": "message",
            "id": activity_id or str(next(self._ids)),
            "timestamp": "2026-03-02T09:30:00.000Z",
            "channelId": "msteams",
            "serviceUrl": self.service_url,
            "from": {"id": teams_id, "name": person.title(), "aadObjectId": aad},
            "recipient": {"id": BOT_ID, "name": BOT_NAME},
            "conversation": {"tenantId": TENANT, **conversation},
            "channelData": {"tenant": {"id": TENANT}},
            "locale": "en-US",
        }

    def personal(self, person: str, text: str, *, activity_id: str | None = None) -> dict[str, Any]:
        conv = {"id": f"a:dm-{person}", "conversationType": "personal"}
        return {**self._base(person, activity_id, conv), "text": text, "textFormat": "plain"}

    def mention(
        self, person: str, site: str, text: str, *, activity_id: str | None = None, thread: str | None = None
    ) -> dict[str, Any]:
        """An @mention of the bot in a site's channel (a new post, or a reply in `thread`)."""
        activity_id = activity_id or str(next(self._ids))
        channel = SITE_CHANNELS.get(site, site)
        conv = {"id": f"{channel};messageid={thread or activity_id}", "conversationType": "channel", "isGroup": True}
        out = self._base(person, activity_id, conv)
        out["text"] = f"<at>{BOT_NAME}</at>&nbsp;{text}"
        out["textFormat"] = "plain"
        out["entities"] = [
            {"type": "mention", "mentioned": {"id": BOT_ID, "name": BOT_NAME}, "text": f"<at>{BOT_NAME}</at>"}
        ]
        out["channelData"] = {
            "tenant": {"id": TENANT},
            "team": {"id": "19:team-sites@thread.tacv2"},
            "channel": {"id": channel},
        }
        return out

    def invoke(self, person: str, verb: str, data: dict[str, Any], *, on: dict[str, Any]) -> dict[str, Any]:
        """An `Action.Execute` click on a card posted in the conversation of activity `on`."""
        out = self._base(person, None, on["conversation"])
        out.update(
            type="invoke",
            name="adaptiveCard/action",
            replyToId=on["id"],
            value={"action": {"type": "Action.Execute", "verb": verb, "data": {"verb": verb, **data}}},
        )
        return out

    def submit(self, person: str, verb: str, data: dict[str, Any], *, on: dict[str, Any]) -> dict[str, Any]:
        """An `Action.Submit`-style click: a message activity carrying the card's data as `value`."""
        out = self._base(person, None, on["conversation"])
        out.update(replyToId=on["id"], value={"verb": verb, **data})
        return out

    def installed(self, person: str) -> dict[str, Any]:
        """The app was installed in a 1:1 chat: a conversationUpdate adding the bot."""
        conv = {"id": f"a:dm-{person}", "conversationType": "personal"}
        out = self._base(person, None, conv)
        out.update(type="conversationUpdate", membersAdded=[{"id": BOT_ID}])
        return out
