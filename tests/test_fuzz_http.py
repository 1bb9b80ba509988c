"""Issue 10: generated hostile requests against every HTTP endpoint find no 5xx.

The JSON API is driven from its own OpenAPI schema: for each operation, Hypothesis builds path
and query values and bodies that follow the schema loosely (plausible ids mixed with hostile text:
NUL, control and right-to-left characters, huge numbers, NaN, wrong types, extra keys, non-object
JSON and raw bytes). Slack (`/slack/events`, signed and unsigned) and Teams (`/api/messages`) get
event-shaped bodies with the same hostile values. Bounded and deterministic: a fixed number of
examples per operation, derandomized, no example database; well under a minute per database.

Hypothesis (a test-only dependency) rather than hand-written loops: it composes the strategies,
and when a request fails it shrinks it to the smallest one that still fails.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import VirtualClock, parse_instant
from core.db import transaction
from core.directory import parse_entries, upsert
from core.settings import Settings
from siteline.container import build
from siteline.server import create_app
from tests import test_slack_events as slack_world
from tests.fake_slack import SlackPayloads, sign
from tests.fake_teams_connector import Activities, FakeConnector
from tests.test_api_hostile_input import SPONSOR, TOKEN
from tests.test_escalation_support import PEOPLE, SITES
from tests.test_phi_every_door import RecordingKnowledge
from tests.test_slack_events import Harness as SlackHarness
from tests.test_teams_bot import Harness as TeamsHarness
from tests.test_teams_bot import running

pytestmark = pytest.mark.fuzz

EXAMPLES = 25  # per API operation; the Slack and Teams endpoints get a few times that
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
# ids, names and values the seeded directory and the schemas accept, so requests also get deep
PLAUSIBLE = ["S01", "S03", "ALPHA", "staff3", "cra1", "sm-upd", "all", "esc-1", "2026-03-20", "08:30", "19:00",
             "ip_supply", "safety", "high", "critical", "sponsor", "cro", "urgent", "open", "fyi"]  # fmt: skip
HOSTILE_TEXT = st.one_of(
    st.sampled_from(PLAUSIBLE),
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from("\x00\x01\n\r\t\u202e\u200b\ufeff'\"<>%&;{}[]\\$é中🙂"), max_size=20),
    st.sampled_from(["", " ", "\x00", "a" * 9000, "../../etc/passwd", "' OR 1=1 --", "{{7*7}}", "%00", "null"]),
    st.builds(lambda s: f"Patient John Smith MRN 48213377 {s}", st.text(max_size=10)),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    HOSTILE_TEXT,
)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(HOSTILE_TEXT, inner, max_size=4)),
    max_leaves=12,
)


def from_schema(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values that mostly follow `schema` (so validation passes often enough to go deeper), and
    sometimes any JSON at all in its place."""
    if depth > 6:
        return ANY_JSON
    if "$ref" in schema:
        return from_schema(components[schema["$ref"].rsplit("/", 1)[-1]], components, depth + 1)
    choices = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
    if choices:
        shaped = st.one_of(*(from_schema(c, components, depth + 1) for c in choices))
    elif "enum" in schema:
        shaped = st.sampled_from(schema["enum"])
    elif "const" in schema:
        shaped = st.just(schema["const"])
    else:
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            props = {k: from_schema(v, components, depth + 1) for k, v in schema.get("properties", {}).items()}
            required = set(schema.get("required", []))
            shaped = st.fixed_dictionaries(
                {k: v for k, v in props.items() if k in required},
                optional={k: v for k, v in props.items() if k not in required} | {"x-extra": ANY_JSON},
            )
        elif kind == "array":
            shaped = st.lists(from_schema(schema.get("items", {}), components, depth + 1), max_size=5)
        elif kind in ("integer", "number"):
            shaped = st.one_of(st.integers(-1000, 1000), st.floats(allow_nan=True, allow_infinity=True))
        elif kind == "boolean":
            shaped = st.booleans()
        elif kind == "null":
            shaped = st.none()
        else:
            shaped = HOSTILE_TEXT
    return st.one_of(shaped, shaped, shaped, ANY_JSON)  # mostly shaped, sometimes anything


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    path_params: tuple[str, ...]
    query: dict[str, dict[str, Any]]
    body: dict[str, Any] | None

    def requests(self, components: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        path_values = st.fixed_dictionaries({p: HOSTILE_TEXT for p in self.path_params})
        query = st.fixed_dictionaries({}, optional={k: HOSTILE_TEXT for k in self.query})
        if self.body is None:
            body: st.SearchStrategy[bytes | None] = st.none()
        else:
            json_body = from_schema(self.body, components).map(lambda v: json.dumps(v, allow_nan=True).encode())
            body = st.one_of(json_body, json_body, json_body, st.binary(max_size=64))
        return st.fixed_dictionaries(
            {"path": path_values, "query": query, "body": body, "auth": st.sampled_from([True, True, True, False])}
        )


def operations(schema: dict[str, Any]) -> list[Operation]:
    ops = []
    for path, methods in sorted(schema["paths"].items()):
        for method, spec in sorted(methods.items()):
            params = spec.get("parameters", [])
            content = spec.get("requestBody", {}).get("content", {}).get("application/json")
            ops.append(
                Operation(
                    method.upper(),
                    path,
                    tuple(p["name"] for p in params if p["in"] == "path"),
                    {p["name"]: p.get("schema", {}) for p in params if p["in"] == "query"},
                    content["schema"] if content else None,
                )
            )
    return ops


def assert_no_5xx(status: int, what: str) -> None:
    assert status < 500, f"{status} for {what}"


# -- the JSON API -----------------------------------------------------------------------------------


@pytest.fixture
def api(tmp_path: Path, db_url: str) -> Iterator[TestClient]:
    settings_ = Settings(_env_file=None, SITELINE_HOME=tmp_path / "home", SITELINE_DATABASE_URL=db_url,
                         SITELINE_API_TOKEN="s3cret", SITELINE_RUN_SCHEDULER=False)  # fmt: skip
    container = build(settings_, clock=VirtualClock(parse_instant("2026-03-09T09:00:00Z")))
    entries = [(s["site_id"], {"type": "site", **s}) for s in SITES]
    entries += [(p["person_id"], {"type": "person", **p}) for p in [*PEOPLE, SPONSOR]]
    with transaction(container.factory) as session:
        upsert(session, *parse_entries(entries))
    container.__dict__["knowledge"] = RecordingKnowledge()
    try:
        with TestClient(create_app(container), raise_server_exceptions=False) as client:
            yield client
    finally:
        container.engine.dispose()


def test_generated_hostile_api_requests_get_no_5xx(api: TestClient) -> None:
    schema = api.app.openapi()  # the schema itself: /openapi.json is served only with SITELINE_API_DOCS=true
    components = schema.get("components", {}).get("schemas", {})
    ops = operations(schema)
    assert {(o.method, o.path) for o in ops} >= {
        ("POST", "/api/ask"),
        ("POST", "/api/updates"),
        ("POST", "/api/escalations"),
        ("PUT", "/api/escalations/policy"),
    }
    started = time.monotonic()
    for op in ops:
        _fuzz_operation(api, op, components)
    assert time.monotonic() - started < 120


def _fuzz_operation(api: TestClient, op: Operation, components: dict[str, Any]) -> None:
    @FUZZ
    @given(request=op.requests(components))
    def probe(request: dict[str, Any]) -> None:
        url = op.path
        for name, value in request["path"].items():
            url = url.replace("{" + name + "}", quote(value, safe="") or "x")
        headers = {"Content-Type": "application/json", **(TOKEN if request["auth"] else {})}
        resp = api.request(op.method, url, params=request["query"], content=request["body"], headers=headers)
        assert_no_5xx(resp.status_code, f"{op.method} {url} {request['query']} {request['body']!r:.300}")

    probe()


# -- Slack and Teams --------------------------------------------------------------------------------

fake, h = slack_world.fake, slack_world.h  # the signed-request harness of the Slack scenario tests


def slack_bodies(payloads: SlackPayloads) -> st.SearchStrategy[tuple[str, str]]:
    """(content type, body): events, interactions and slash commands with hostile values, and junk."""
    user = st.one_of(st.sampled_from(["U_ANNA", "U_CARLA", "U_NOBODY"]), HOSTILE_TEXT)
    channel = st.one_of(st.sampled_from(["C_S01", "D_ANNA"]), HOSTILE_TEXT)
    event = st.fixed_dictionaries(
        {"type": st.sampled_from(["app_mention", "message", "app_home_opened", "reaction_added"]) | HOSTILE_TEXT},
        optional={"user": user, "channel": channel, "text": HOSTILE_TEXT, "ts": HOSTILE_TEXT,
                  "channel_type": st.sampled_from(["im", "channel"]), "thread_ts": HOSTILE_TEXT, "x": ANY_JSON},
    )  # fmt: skip
    events = st.builds(lambda e: (JSON_TYPE, payloads.event(e)), event)
    interaction = st.fixed_dictionaries(
        {"type": st.sampled_from(["block_actions", "view_submission", "shortcut"]) | HOSTILE_TEXT},
        optional={"user": st.fixed_dictionaries({"id": user}) | ANY_JSON, "actions": ANY_JSON, "view": ANY_JSON},
    )
    interactions = st.builds(lambda p: (FORM_TYPE, payloads.interaction(p)), interaction)
    commands = st.builds(
        lambda u, c, t: (FORM_TYPE, urlencode({"command": "/siteline", "user_id": u, "channel_id": c, "text": t,
                                               "team_id": "T1", "trigger_id": "trig"})),
        user, channel, HOSTILE_TEXT,
    )  # fmt: skip
    junk = st.tuples(st.sampled_from([JSON_TYPE, FORM_TYPE, "text/plain"]), HOSTILE_TEXT)
    raw_json = st.builds(lambda v: (JSON_TYPE, json.dumps(v, allow_nan=True)), ANY_JSON)
    return st.one_of(events, events, interactions, commands, junk, raw_json)


JSON_TYPE, FORM_TYPE = "application/json", "application/x-www-form-urlencoded"


def test_generated_hostile_slack_requests_get_no_5xx(h: SlackHarness) -> None:
    @settings(FUZZ, max_examples=EXAMPLES * 6)
    @given(body=slack_bodies(h.slack), signed=st.sampled_from([True, True, False]))
    def probe(body: tuple[str, str], signed: bool) -> None:
        content_type, text = body
        headers = h.slack.headers(text, content_type) if signed else {"Content-Type": content_type}
        if not signed and text:
            headers |= sign("wrong-secret", text, int(time.time()))
        resp = h.client.post("/slack/events", content=text.encode("utf-8", "surrogatepass"), headers=headers)
        assert_no_5xx(resp.status_code, f"signed={signed} {content_type} {text!r:.300}")

    probe()


def teams_activities(teams: Activities) -> st.SearchStrategy[Any]:
    person = st.sampled_from(["anna", "carla", "stranger"])
    personal = st.builds(lambda p, t: teams.personal(p, t), person, HOSTILE_TEXT)
    mention = st.builds(lambda p, t: teams.mention(p, "S01", t), person, HOSTILE_TEXT)
    tampered = st.builds(lambda a, k, v: {**a, k: v}, personal, st.sampled_from(["type", "conversation", "from",
                         "value", "channelData", "entities", "name"]), ANY_JSON)  # fmt: skip
    invoke = st.builds(
        lambda p, verb, data: teams.invoke(p, verb, data, on=teams.personal(p, "hi")),
        person, st.sampled_from(["ask_cra", "feedback", "ack", "resolve"]) | HOSTILE_TEXT,
        st.dictionaries(HOSTILE_TEXT, ANY_JSON, max_size=4),
    )  # fmt: skip
    return st.one_of(personal, mention, tampered, tampered, invoke, ANY_JSON)


def test_generated_hostile_teams_activities_get_no_5xx(tmp_path: Path, db_url: str) -> None:
    connector = FakeConnector().start()
    try:
        with running(tmp_path, db_url, connector) as teams:
            _fuzz_teams(teams)
    finally:
        connector.stop()


def _fuzz_teams(teams: TeamsHarness) -> None:
    @settings(FUZZ, max_examples=EXAMPLES * 4)
    @given(activity=teams_activities(Activities(teams.fake.url)), raw=st.booleans())
    def probe(activity: Any, raw: bool) -> None:
        body = json.dumps(activity, allow_nan=True).encode()
        if raw and isinstance(activity, dict):
            body = body[: len(body) // 2]  # cut short
        resp = teams.http.post("/api/messages", content=body, headers={"Content-Type": "application/json"})
        assert_no_5xx(resp.status_code, f"{body!r:.300}")

    probe()
