"""Issue 10, items 5-7: hostile input to the JSON API, through a real uvicorn server on SQLite and
PostgreSQL (keep-alive connections, logs captured at DEBUG).

5. A NUL byte in any string field (body, query or path) is 422 naming the field, nothing about the
   text reaches a log line, and the next request on the same connection is served normally.
6. An update for a study no site is on, or from a sender not in the directory, is 422 naming the
   field, and nothing is stored.
7. The same escalation id raised 10× at once: exactly one 201, the rest 200 (same content) or 409
   (different content), never 500.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select, text
from sqlalchemy.exc import StatementError

from core.clock import VirtualClock, parse_instant
from core.db import make_engine, transaction
from core.directory import parse_entries, upsert
from core.models import AuditRow
from core.settings import Settings
from escalation.models import EscalationRow
from siteline.container import Container, build
from siteline.server import create_app
from tests.test_escalation_support import PEOPLE, SITES
from triage.models import UpdateRow

TOKEN = {"Authorization": "Bearer s3cret"}
MARK = "ZEBRA-MARKER-TEXT"  # stands for message text: must never reach a log line
SPONSOR = {"person_id": "sm-upd", "role": "study_manager", "tz": "Europe/Zurich", "sites": [], "studies": ["ALPHA"]}
UPDATE = {"id": "u-1", "from": "sm-upd", "org": "sponsor", "study": "ALPHA", "sites": "all",
          "subject": "Recall of lot L4242", "body": "The manufacturer is recalling lot L4242."}  # fmt: skip
RAISE = {"id": "race-1", "site": "S03", "study": "ALPHA", "raised_by": "staff3",
         "summary": "fridge failed, 18 °C for 30 h", "category": "ip_supply", "severity": "high"}  # fmt: skip


class Served:
    """uvicorn in a thread, logging through the root logger (so caplog sees its error logs)."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, log_level="debug")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.server.servers[0].sockets[0].getsockname()[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class NoKnowledge:
    """POST /api/ask must refuse a bad body before the knowledge engine is even asked."""

    calls = 0

    def has_documents(self, studies: list[str]) -> bool:
        NoKnowledge.calls += 1
        return False


@dataclass
class Api:
    http: httpx.Client
    container: Container

    def count(self, model: Any) -> int:
        with transaction(self.container.factory) as s:
            return int(s.execute(select(func.count()).select_from(model)).scalar() or 0)


@pytest.fixture
def api(tmp_path: Path, db_url: str) -> Iterator[Api]:
    settings = Settings(_env_file=None, SITELINE_HOME=tmp_path / "home", SITELINE_DATABASE_URL=db_url,
                        SITELINE_API_TOKEN="s3cret", SITELINE_RUN_SCHEDULER=False)  # fmt: skip
    container = build(settings, clock=VirtualClock(parse_instant("2026-03-09T09:00:00Z")))
    entries = [(s["site_id"], {"type": "site", **s}) for s in SITES]
    entries += [(p["person_id"], {"type": "person", **p}) for p in [*PEOPLE, SPONSOR]]
    with transaction(container.factory) as session:
        upsert(session, *parse_entries(entries))
    container.__dict__["knowledge"] = NoKnowledge()
    try:
        with Served(create_app(container)) as base, httpx.Client(base_url=base, headers=TOKEN, timeout=30) as http:
            yield Api(http, container)
    finally:
        container.engine.dispose()


# -- 5. NUL bytes ---------------------------------------------------------------------------------

NUL = f"{MARK}\x00tail"
NUL_CASES = [
    ("POST", "/api/ask", {"json": {"question": NUL, "study": "ALPHA"}}, ["body", "question"]),
    ("POST", "/api/ask", {"json": {"question": "SAE window?", "study": "AL\x00PHA"}}, ["body", "study"]),
    ("POST", "/api/updates", {"json": {**UPDATE, "subject": NUL}}, ["body", "subject"]),
    ("POST", "/api/updates", {"json": {**UPDATE, "body": NUL}}, ["body", "body"]),
    ("POST", "/api/updates", {"json": {**UPDATE, "sites": ["S01", "S0\x002"]}}, ["body", "sites", 1]),
    ("POST", "/api/updates", {"json": {**UPDATE, "from": "sm\x00-upd"}}, ["body", "from"]),
    ("PUT", "/api/sites/S01/preferences", {"json": {"digest_times": ["08:\x0030"]}}, ["body", "digest_times", 0]),
    ("POST", "/api/escalations", {"json": {**RAISE, "summary": NUL}}, ["body", "summary"]),
    ("POST", "/api/escalations", {"json": {**RAISE, "id": "x\x00"}}, ["body", "id"]),
    ("POST", "/api/escalations/race-0/ack", {"json": {"by": "cra\x001"}}, ["body", "by"]),
    ("GET", "/api/escalations", {"params": {"site": "S0\x003"}}, ["query", "site"]),
    ("GET", "/api/escalations/path", {"params": {"site": "S03", "study": "AL\x00"}}, ["query", "study"]),
    ("GET", "/api/escalations/race%000", {}, ["path"]),
    ("PUT", "/api/escalations/policy", {"json": {"routing": {"x\x00": 1}}}, ["body", "routing", "x\x00"]),
]


@pytest.mark.parametrize(("method", "url", "kw", "loc"), NUL_CASES, ids=[f"{c[1]}:{c[3]}" for c in NUL_CASES])
def test_a_nul_byte_is_422_naming_the_field_and_the_connection_survives(
    api: Api, caplog: pytest.LogCaptureFixture, method: str, url: str, kw: dict[str, Any], loc: list[Any]
) -> None:
    caplog.set_level(logging.DEBUG)
    resp = api.http.request(method, url, **kw)
    assert resp.status_code == 422, resp.text
    [problem] = resp.json()["detail"]
    assert problem["loc"] == loc and "NUL" in problem["msg"]
    after = api.http.get("/api/escalations")  # same keep-alive connection
    assert after.status_code == 200 and after.json() == {"escalations": []}
    assert api.count(EscalationRow) == 0 and api.count(UpdateRow) == 0 and NoKnowledge.calls == 0
    assert MARK not in caplog.text and "Traceback" not in caplog.text


def test_sql_errors_never_carry_their_parameters(db_url: str) -> None:
    """A database error's message (what a traceback or error log prints) holds no parameter values."""
    engine = make_engine(db_url)
    try:
        with pytest.raises(StatementError) as caught, engine.connect() as conn:
            conn.execute(text("SELECT :v, :w FROM no_such_table"), {"v": MARK, "w": f"{MARK}\x00"})
        assert MARK not in str(caught.value)
    finally:
        engine.dispose()


# -- 6. updates nobody would receive ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"study": "NOPE-1"}, "study", "no site in the directory is on study NOPE-1"),
        ({"study": "NOPE-1", "sites": ["S01"]}, "study", "no site in the directory is on study NOPE-1"),
        ({"from": "ghost"}, "from", "ghost is not in the directory"),
    ],
)
def test_an_update_nobody_would_receive_or_from_a_stranger_is_422(
    api: Api, change: dict[str, Any], field: str, words: str
) -> None:
    resp = api.http.post("/api/updates", json={**UPDATE, **change})
    assert resp.status_code == 422, resp.text
    [problem] = resp.json()["detail"]
    assert problem["loc"] == ["body", field] and words in problem["msg"]
    assert api.count(UpdateRow) == 0 and api.count(AuditRow) == 0
    assert api.http.post("/api/updates", json=UPDATE).status_code == 201  # the known ones still pass


# -- 7. one escalation id raised at once from many clients ----------------------------------------


def test_the_same_escalation_raised_ten_times_at_once_is_stored_once(api: Api) -> None:
    different = {**RAISE, "summary": "temperature log missing for the weekend"}
    bodies = [RAISE] * 6 + [different] * 4
    base = str(api.http.base_url)
    barrier = threading.Barrier(len(bodies))

    def post(body: dict[str, Any]) -> tuple[str, int]:
        with httpx.Client(base_url=base, headers=TOKEN, timeout=60) as client:
            barrier.wait()
            return body["summary"], client.post("/api/escalations", json=body).status_code

    with ThreadPoolExecutor(len(bodies)) as pool:
        results = list(pool.map(post, bodies))
    statuses = sorted(status for _, status in results)
    assert statuses.count(201) == 1, results
    assert set(statuses) <= {200, 201, 409}, results
    winner = next(summary for summary, status in results if status == 201)
    assert all(status == (200 if summary == winner else 409) for summary, status in results if status != 201)
    assert api.count(EscalationRow) == 1
    shown = api.http.get("/api/escalations/race-1").json()
    assert shown["summary"] == winner and [h["kind"] for h in shown["history"]].count("raise") == 1


def test_a_repeated_raise_is_200_with_the_same_content_and_409_with_other_content(api: Api) -> None:
    assert api.http.post("/api/escalations", json=RAISE).status_code == 201
    again = api.http.post("/api/escalations", json=RAISE)
    assert again.status_code == 200 and again.json()["id"] == "race-1"
    other = api.http.post("/api/escalations", json={**RAISE, "summary": "something else entirely"})
    assert other.status_code == 409 and "already exists" in other.json()["detail"]
    assert api.count(EscalationRow) == 1


# -- found by tests/test_fuzz_http.py ----------------------------------------------------------------


@pytest.mark.parametrize("verb", ["ack", "resolve"])
def test_an_overlong_escalation_id_in_the_path_is_422_not_500(api: Api, verb: str) -> None:
    resp = api.http.post(f"/api/escalations/{'a' * 900}/{verb}", json={"by": "cra1"})
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"][0]["loc"] == ["path", "escalation_id"]
    assert api.http.get(f"/api/escalations/{'a' * 900}").status_code == 422


def test_an_empty_or_overlong_path_parameter_is_422_naming_it(api: Api) -> None:
    for query, field in (({"site": "S01", "study": ""}, "study"), ({"site": "S" * 65, "study": "ALPHA"}, "site")):
        resp = api.http.get("/api/escalations/path", params=query)
        assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["query", field], resp.text


def test_a_non_finite_number_in_a_body_is_422_not_500(api: Api) -> None:
    for body in (b"Infinity", b'{"id": NaN}', b'{"study": -Infinity}'):
        resp = api.http.post("/api/updates", content=body, headers={"Content-Type": "application/json"})
        assert resp.status_code == 422, (body, resp.text)


def test_a_nul_byte_from_a_file_is_refused_naming_the_field(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`siteline notify --body-file` and replay lines read files, which can hold NUL where argv cannot."""
    from typer.testing import CliRunner

    from siteline.cli import app as cli
    from siteline.replay import ScenarioError, replay

    monkeypatch.setenv("SITELINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SITELINE_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "body.txt").write_text(f"{MARK}\x00 stop dosing", encoding="utf-8")
    args = ["notify", "--study", "ALPHA", "--sites", "all", "--subject", "Hold",
            "--body-file", str(tmp_path / "body.txt"), "--from", "sm1", "--org", "sponsor"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "body" in result.output and "NUL" in result.output, result.output
    assert MARK not in result.output
    line = {"at": "2026-03-09T09:00:00Z", "type": "escalation", "id": "e1", "site": "S03", "study": "ALPHA",
            "raised_by": "staff3", "summary": "fridge\x00 failed"}  # fmt: skip
    (tmp_path / "s.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"line 1 \(escalation\): summary: .*NUL"):
        replay(tmp_path / "s.jsonl", (tmp_path / "out.jsonl").open("w"), Settings(_env_file=None))


def test_an_oversized_api_body_is_413_before_it_is_read_in_full(api: Api) -> None:
    """Bodies are read before the token is checked, so they are capped (2 MB) whoever sends them."""

    def chunks() -> Iterator[bytes]:
        yield b'{"id": "u-big", "body": "'
        for _ in range(100):
            yield b"a" * 65536
        yield b'"}'

    for headers in ({}, {"Authorization": "Bearer wrong"}):
        resp = api.http.post("/api/updates", content=chunks(), headers=headers)
        assert resp.status_code == 413, resp.text
    assert api.http.post("/api/updates", json={**UPDATE, "body": "b" * 19000}).status_code == 201


# -- found by a probe (session 19): what a refused body says, and what it never says --------------------------

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (b'{"question": "' + MARK.encode() + b' \\ud800 days?", "study": "ALPHA"}', ["body", "question"]),
        (b'{"question": "SAE window?", "study": "AL\\udc00"}', ["body", "study"]),
        (b'{"question": ["' + MARK.encode() + b'\\ud83d"], "study": "ALPHA"}', ["body", "question"]),
    ],
    ids=["question", "study", "in-a-list"],
)
def test_a_lone_surrogate_is_422_naming_the_field_and_never_reaches_the_log(
    api: Api, caplog: pytest.LogCaptureFixture, body: bytes, loc: list[str]
) -> None:
    """JSON may escape half a UTF-16 pair; the error response echoed it and could not be encoded: a 500, with a
    traceback printing the question (PHI included) to the log."""
    caplog.set_level(logging.DEBUG)
    resp = api.http.post("/api/ask", content=body, headers=JSON)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"][0]["loc"] == loc
    assert MARK not in resp.text and MARK not in caplog.text and "Traceback" not in caplog.text
    assert NoKnowledge.calls == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"question": {"mrn": f"MRN 00482913 {MARK}"}, "study": "ALPHA"},
        {"question": [f"{MARK} DOB 1984-03-17"], "study": "ALPHA"},
        {"question": f"{MARK} " * 800, "study": "ALPHA"},
    ],
    ids=["object", "list", "too-long"],
)
def test_a_422_names_the_field_without_echoing_what_was_sent(api: Api, payload: dict[str, Any]) -> None:
    """A refused question can hold PHI; the caller is told which field and why, not sent it back (a 1 MB question
    came back whole)."""
    resp = api.http.post("/api/ask", json=payload)
    assert resp.status_code == 422, resp.text
    [problem] = resp.json()["detail"]
    assert problem["loc"][:2] == ["body", "question"] and problem["msg"]
    assert MARK not in resp.text and "input" not in problem


@pytest.mark.parametrize(
    ("body", "headers", "says"),
    [
        (b'{"question": "shipping \xff\xfe days?", "study": "ALPHA"}', JSON, "UTF-8"),
        (b'{"question": ' + b"[" * 100_000 + b"]" * 100_000 + b', "study": "ALPHA"}', JSON, "nested"),
        (b'{"question": 1' + b"0" * 5000 + b', "study": "ALPHA"}', JSON, "number"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 20, {**JSON, "Content-Encoding": "gzip"}, "UTF-8"),
    ],
    ids=["bad-utf8", "deep", "long-number", "gzip"],
)
def test_an_unreadable_body_is_400_saying_why(api: Api, body: bytes, headers: dict[str, str], says: str) -> None:
    resp = api.http.post("/api/ask", content=body, headers=headers)
    assert resp.status_code == 400, resp.text
    assert says in resp.json()["detail"] and NoKnowledge.calls == 0


def test_an_unknown_study_is_named_only_when_it_looks_like_a_study_id(api: Api) -> None:
    plain = api.http.post("/api/ask", json={"question": "SAE window?", "study": "NOPE-1"})
    assert plain.status_code == 404 and "'NOPE-1'" in plain.json()["detail"]
    odd = api.http.post("/api/ask", json={"question": "SAE window?", "study": f"MRN 00482913 {MARK[:20]}"})
    assert odd.status_code == 404 and "MRN" not in odd.text and "study" in odd.json()["detail"]


def test_an_escalation_acknowledged_ten_times_at_once_is_acknowledged_once(api: Api) -> None:
    """Found by a probe: acks that arrived together each read "open" and each applied (5 `ack` events, the last
    writer's name kept, responses disagreeing on who acknowledged)."""
    assert api.http.post("/api/escalations", json=RAISE).status_code == 201
    base = str(api.http.base_url)
    people = ["lead1", "sm-upd"] * 5
    barrier = threading.Barrier(len(people))

    def ack(person: str) -> httpx.Response:
        with httpx.Client(base_url=base, headers=TOKEN, timeout=60) as client:
            barrier.wait()
            return client.post("/api/escalations/race-1/ack", json={"by": person})

    with ThreadPoolExecutor(len(people)) as pool:
        answers = list(pool.map(ack, people))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    shown = api.http.get("/api/escalations/race-1").json()
    assert [h["kind"] for h in shown["history"]].count("ack") == 1
    assert {a.json()["acked_by"] for a in answers} == {shown["acked_by"]}


PHI_IDS = [
    ("POST", "/api/updates", {"json": {**UPDATE, "from": "jdoe1962@mail.example"}}, "jdoe1962@mail.example"),
    ("POST", "/api/updates", {"json": {**UPDATE, "sites": ["617-555-0199"]}}, "617-555-0199"),
    ("POST", "/api/escalations", {"json": {**RAISE, "site": "MRN 7734210 617-555-0199"}}, "617-555-0199"),
    ("POST", "/api/escalations", {"json": {**RAISE, "raised_by": "jdoe1962@mail.example"}}, "jdoe1962@mail.example"),
    ("GET", "/api/escalations/617-555-0199", {}, "617-555-0199"),
    ("POST", "/api/escalations/race-0/ack", {"json": {"by": "jdoe1962@mail.example"}}, "jdoe1962@mail.example"),
]


@pytest.mark.parametrize(("method", "url", "kw", "phi"), PHI_IDS, ids=[f"{c[1]}:{c[3]}" for c in PHI_IDS])
def test_an_error_names_the_field_without_sending_back_phi_typed_into_it(
    api: Api, method: str, url: str, kw: dict[str, Any], phi: str
) -> None:
    """Found by a probe: a refused update or escalation repeated the value it could not find ("sender
    jdoe1962@mail.example is not in the directory"); what is sent goes through the PHI guard like everything else."""
    resp = api.http.request(method, url, **kw)
    assert 400 <= resp.status_code < 500, resp.text
    assert phi not in resp.text and resp.json()["detail"]
