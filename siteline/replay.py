"""`siteline replay`: drive the real engines from a scenario file with a virtual clock.

The same plugins, timers, outbox and Ticker as `serve`; only the clock (virtual) and the
Notifier (writes one JSON line per delivery) differ. Storage is a private in-memory SQLite.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from core.clock import VirtualClock, iso, parse_instant
from core.db import make_engine, make_session_factory, transaction
from core.directory import DirectoryError, upsert
from core.domain import Person, Site
from core.notify import NotifierStopped, OutboundMessage, SendResult
from core.settings import Settings
from scheduler.plugins import EnginePlugin, LineRejected, load_plugins, timer_handlers
from scheduler.runner import Ticker, run_virtual_until
from siteline import phi
from siteline.database import migrate
from triage.schemas import UpdateIn

log = logging.getLogger("siteline.replay")

CORE_LINES: dict[str, type[BaseModel]] = {"site": Site, "person": Person}


class ScenarioError(ValueError):
    """A scenario line that cannot be replayed; the message names the line number."""


@dataclass(frozen=True)
class Line:
    number: int
    at: datetime
    type: str
    data: dict[str, Any]


def _describe(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'line'}: {e['msg']}" for e in exc.errors())


@dataclass
class ScenarioMeaning:
    """What a line may refer to, checked before anything runs: a study some earlier site is on, and an
    id not already used for something else (the same line repeated is a resend, which is fine)."""

    studies: set[str] = field(default_factory=set)
    ids: dict[tuple[str, str], tuple[int, dict[str, Any]]] = field(default_factory=dict)

    def check(self, n: int, kind: str, body: dict[str, Any]) -> str | None:
        if kind == "site":
            self.studies.update(body.get("studies") or [])
        if kind not in IDENTIFIED:
            return None
        study = body.get("study")
        if study not in self.studies:
            known = ", ".join(sorted(self.studies)) or "none yet"
            return f"study {study!r} is not on any site declared before this line (studies: {known})"
        key = (kind, str(body.get("id")))
        first = self.ids.setdefault(key, (n, body))
        if first[1] != body:
            return f"id {key[1]!r} was already used on line {first[0]} with different content (ids must be unique)"
        return None


IDENTIFIED = ("update", "escalation")  # lines with an `id` and a `study`


def parse(path: Path, plugins: list[EnginePlugin]) -> list[Line]:
    """Read and validate every line before anything runs, so a bad file produces no output."""
    models: dict[str, type[BaseModel] | None] = {**CORE_LINES, "end": None}
    for p in plugins:
        models.update(p.line_models)
    lines: list[Line] = []
    previous: datetime | None = None
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM (Windows editors) is not part of line 1
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    meaning = ScenarioMeaning()
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ScenarioError(f"line {n}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(obj, dict):
            raise ScenarioError(f"line {n}: expected a JSON object")
        kind = obj.get("type")
        if kind not in models:
            known = ", ".join(sorted(models))
            raise ScenarioError(f"line {n}: unknown type {kind!r} (known: {known})")
        if not isinstance(obj.get("at"), str):
            raise ScenarioError(f"line {n}: missing 'at' (ISO 8601 with offset or Z)")
        try:
            at = parse_instant(obj["at"])
        except ValueError:
            raise ScenarioError(f"line {n}: 'at' {obj['at']!r} is not ISO 8601 with an offset or Z") from None
        if previous is not None and at < previous:
            raise ScenarioError(
                f"line {n}: 'at' {obj['at']} is earlier than the line before (lines must be in time order)"
            )
        previous = at
        body = {k: v for k, v in obj.items() if k not in ("at", "type")}
        model = models[kind]
        if model is not None:
            try:
                body = _redacted(kind, model.model_validate(body)).model_dump(by_alias=True)
            except ValidationError as exc:
                raise ScenarioError(f"line {n} ({kind}): {_describe(exc)}") from None
        problem = meaning.check(n, kind, body)
        if problem:
            raise ScenarioError(f"line {n} ({kind}): {problem}")
        lines.append(Line(n, at, kind, body))
    if not lines:
        raise ScenarioError(f"{path}: no lines to replay")
    return lines


def _redacted(kind: str, line: BaseModel) -> BaseModel:
    """PHI out before the line is stored or delivered (siteline.phi: as the API and the CLI do)."""
    if isinstance(line, UpdateIn):
        return phi.redact_update(line)
    if kind == "escalation" and isinstance(getattr(line, "summary", None), str):
        return line.model_copy(update={"summary": phi.redact(line.summary).text.strip()})
    return line


class JsonlNotifier:
    """Writes each delivery as one output line of the replay contract, stamped with virtual time."""

    def __init__(self, clock: VirtualClock, out: IO[str]) -> None:
        self.clock = clock
        self.out = out
        self.count = 0

    def send(self, message: OutboundMessage) -> SendResult:
        record: dict[str, Any] = {
            "at": iso(self.clock.now()),
            "to": message.recipient,
            "channel": message.channel,
            "kind": message.kind,
            "items": message.payload.get("items", []),
        }
        if message.payload.get("escalation") is not None:
            record["escalation"] = message.payload["escalation"]
        try:
            self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        except OSError as exc:  # the reader went away (`| head`) or the disk is full: stop the replay
            raise NotifierStopped(f"cannot write deliveries: {exc.strerror or exc}") from exc
        self.count += 1
        return SendResult.sent()


def replay(
    path: Path,
    out: IO[str],
    settings: Settings | None = None,
    *,
    inspect: Callable[[sessionmaker[Session], datetime], None] | None = None,
) -> int:
    """Run the scenario; returns the number of deliveries written. Raises ScenarioError on bad input.

    `inspect(factory, end)` sees the private database once the run is over (the dashboard's figures are
    checked against the output file this way) before it is thrown away."""
    settings = settings or Settings()
    plugins = load_plugins(settings)
    lines = parse(path, plugins)
    engine = make_engine("sqlite://", poolclass=StaticPool)
    migrate(engine)
    factory = make_session_factory(engine)
    clock = VirtualClock(lines[0].at)
    notifier = JsonlNotifier(clock, out)
    # The database is private and in memory: record sends in batches (a crash loses the run anyway).
    ticker = Ticker(
        factory, timer_handlers=timer_handlers(plugins), notifier=notifier, worker_id="replay", private_batch=500
    )
    handlers = {t: h for p in plugins for t, h in p.line_handlers.items()}
    for line in _until_end(lines):
        run_virtual_until(ticker, clock, line.at)
        if line.type == "end":
            break
        try:
            with transaction(factory) as session:
                if line.type == "site":
                    upsert(session, [Site.model_validate(line.data)], [])
                elif line.type == "person":
                    upsert(session, [], [Person.model_validate(line.data)])
                else:
                    handlers[line.type](session, line.data, clock.now())
        except (LineRejected, DirectoryError) as exc:
            engine.dispose()
            raise ScenarioError(f"line {line.number} ({line.type}): {exc}") from None
        # What the line made due now (e.g. an urgent update) goes out at the next line's
        # run_virtual_until, still at this instant; after the last line, here.
    run_virtual_until(ticker, clock, clock.now())
    if inspect is not None:
        inspect(factory, clock.now())
    engine.dispose()
    return notifier.count


def _until_end(lines: list[Line]) -> Iterator[Line]:
    for i, line in enumerate(lines):
        if line.type == "end":
            after = lines[i + 1 :]
            if after:  # the contract: a scenario stops at `end`; what follows is never run, and says so
                log.warning(
                    "line %d (%s)%s comes after the `end` line (line %d) and was not run",
                    after[0].number,
                    after[0].type,
                    f" and {len(after) - 1} more line(s)" if len(after) > 1 else "",
                    line.number,
                )
            yield line  # the caller stops here
            return
        yield line
