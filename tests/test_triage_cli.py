"""`siteline notify`, `siteline stats` and `siteline preferences` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from core.db import transaction
from core.settings import Settings
from siteline.cli import app
from siteline.container import build
from triage.models import UpdateRow
from triage.service import TriageService

runner = CliRunner()
DIRECTORY = """
sites:
  - {site_id: S01, name: Paris, tz: Europe/Paris, studies: [ALPHA], digest_times: ["08:30"], quiet_hours: ["19:00", "07:00"]}
  - {site_id: S02, name: Chicago, tz: America/Chicago, studies: [ALPHA], digest_times: ["09:00"], quiet_hours: ["19:00", "07:00"]}
people:
  - {person_id: cra-1, role: cra, tz: Europe/Paris, sites: [S01, S02], studies: [ALPHA]}
"""  # noqa: E501


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Path:
    monkeypatch.setenv("SITELINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SITELINE_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)  # no stray .env
    (tmp_path / "dir.yaml").write_text(DIRECTORY, encoding="utf-8")
    result = runner.invoke(app, ["directory", "import", str(tmp_path / "dir.yaml")])
    assert result.exit_code == 0, result.output
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_notify_stores_and_prints_the_decision(home: Path) -> None:
    code, out = run("notify", "--study", "ALPHA", "--sites", "all", "--subject", "Temperature excursion",
                    "--body", "Kits were exposed to 31 °C; quarantine them.", "--from", "cra-1", "--org", "cro",
                    "--id", "n1", "--json")  # fmt: skip
    assert code == 0, out
    d = json.loads(out)
    assert (d["id"], d["priority"], d["counts"]["immediate"]) == ("n1", "urgent", 2)
    code, out = run("notify", "--study", "ALPHA", "--sites", "S01", "--subject", "Open queries", "--body",
                    "Please close 12 queries.", "--due", "2026-12-01", "--from", "cra-1", "--org", "cro")  # fmt: skip
    assert code == 0, out
    assert "action — request due 2026-12-01" in out and "S01" in out and "digest at" in out and "[stored]" in out


def test_notify_preview_stores_nothing_and_file_input_works(home: Path) -> None:
    update = {"type": "update", "at": "2026-03-02T09:00:00Z", "id": "f1", "from": "cra-1", "org": "cro",
              "study": "ALPHA", "sites": ["S02"], "subject": "Newsletter 4", "body": "News from the team."}  # fmt: skip
    (home / "u.json").write_text(json.dumps(update), encoding="utf-8")
    code, out = run("notify", "--file", str(home / "u.json"), "--preview")
    assert code == 0 and "preview (nothing stored)" in out and "fyi" in out
    c = build(Settings())
    assert TriageService.of(c).stats(days=3650).totals()["raw_updates"] == 0
    code, out = run("notify", "--file", str(home / "u.json"))
    assert code == 0 and "[stored]" in out
    assert TriageService.of(c).stats(days=3650).totals()["raw_updates"] == 1
    c.engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sites", "S01,S99"], "unknown site(s) S99"),
        (["--org", "pharma"], "org: Input should be 'sponsor' or 'cro'"),
        (["--due", "tomorrow"], "due: 'tomorrow' is not a YYYY-MM-DD date"),
    ],
)
def test_notify_refuses_bad_input_with_exit_2(home: Path, args: list[str], message: str) -> None:
    base = {"--study": "ALPHA", "--sites": "S01", "--subject": "x", "--from": "cra-1", "--org": "cro"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    code, out = run("notify", *[x for kv in base.items() for x in kv])
    assert code == 2 and message in out


def test_stats_and_preferences(home: Path) -> None:
    run("notify", "--study", "ALPHA", "--sites", "all", "--subject", "Recall of lot L7", "--body", "Lot L7 recalled.",
        "--from", "cra-1", "--org", "cro", "--declared-priority", "urgent")  # fmt: skip
    code, out = run("stats")
    assert code == 0 and "raw update-site pairs 2" in out and "cra-1" in out
    code, out = run("stats", "--json")
    report = json.loads(out)
    assert report["senders"][0]["declared_urgent"] == 1 and report["totals"]["raw_updates"] == 2
    code, out = run("preferences", "S01")
    assert code == 0 and "digests at 08:30; quiet hours 19:00-07:00" in out
    code, out = run("preferences", "S01", "--digest", "07:45", "--digest", "15:00", "--quiet", "20:00-07:00")
    assert code == 0 and "digests at 07:45, 15:00; quiet hours 20:00-07:00" in out
    code, out = run("preferences", "S01", "--digest", "21:00")
    assert code == 2 and "falls in quiet hours" in out
    code, out = run("preferences", "S09")
    assert code == 2 and "not in the directory" in out


def test_stats_shows_deliveries_held_for_want_of_a_chat_platform(home: Path) -> None:
    """Issue 10 item 11: what waits is visible to an operator, with the reason, never silent."""
    from sqlalchemy import update

    from core.db import transaction
    from core.models import DeliveryRow
    from core.notify import NO_PLATFORM

    run("notify", "--study", "ALPHA", "--sites", "all", "--subject", "Recall of lot L7", "--body", "Lot L7 recalled.",
        "--from", "cra-1", "--org", "cro")  # fmt: skip
    c = build(Settings())
    with transaction(c.factory) as s:
        s.execute(update(DeliveryRow).values(status="blocked", last_error=NO_PLATFORM))
    c.engine.dispose()
    code, out = run("stats")
    assert code == 0 and "HELD: 2 deliveries are not sent: no chat platform is configured" in out
    report = json.loads(run("stats", "--json")[1])
    assert report["undelivered"] == {"blocked": 2} and "SITELINE_DELIVERY_DRY_RUN" in report["held_reason"]
    assert [s["blocked_deliveries"] for s in report["sites"]] == [1, 1]


def test_notify_refuses_an_unknown_sender_or_study(home: Path) -> None:
    """Issue 10 item 6, on the CLI too: it would be stored and reach no site."""
    base = ["notify", "--sites", "all", "--subject", "Hold", "--body", "Stop dosing.", "--org", "cro"]
    code, out = run(*base, "--study", "ALPHA", "--from", "ghost")
    assert code == 2 and "from: sender ghost is not in the directory" in out
    code, out = run(*base, "--study", "NOPE-1", "--from", "cra-1")
    assert code == 2 and "study: no site in the directory is on study NOPE-1" in out
    c = build(Settings())
    with transaction(c.factory) as s:
        assert s.execute(select(UpdateRow)).first() is None  # nothing stored
    c.engine.dispose()
