"""`siteline directory import` refuses a contradictory directory with a clear message and imports nothing
(on SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from typer.testing import CliRunner

from core.models import PersonRow, SiteRow
from core.settings import Settings
from siteline.cli import app
from siteline.container import build

SITES = [
    {"site_id": "S1", "name": "Boston", "tz": "America/New_York", "studies": ["A"]},
    {"site_id": "S2", "name": "Lyon", "tz": "Europe/Paris", "studies": ["A"]},
]
ANA = {"person_id": "p-ana", "role": "site_staff", "sites": ["S1"], "studies": ["A"], "slack_user_id": "U1"}
BEN = {"person_id": "p-ben", "role": "cra", "sites": ["S2"], "studies": ["A"], "teams_user_id": "29:ben"}


@pytest.fixture
def env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SITELINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SITELINE_DATABASE_URL", db_url)
    return tmp_path


def _import(folder: Path, sites: list[dict], people: list[dict]) -> tuple[int, str]:
    path = folder / "directory.yaml"
    path.write_text(yaml.safe_dump({"sites": sites, "people": people}), encoding="utf-8")
    result = CliRunner().invoke(app, ["directory", "import", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _counts() -> tuple[int, int]:
    c = build(Settings(_env_file=None))
    with c.factory() as s:
        counts = (
            s.scalar(select(func.count()).select_from(SiteRow)),
            s.scalar(select(func.count()).select_from(PersonRow)),
        )
    c.engine.dispose()
    return counts  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("sites", "people", "message"),
    [
        (SITES, [ANA, {**BEN, "slack_user_id": "U1"}], "slack_user_id U1 is given to both p-ana and p-ben"),
        (SITES, [{**ANA, "teams_user_id": "29:ben"}, BEN], "teams_user_id 29:ben is given to both p-ana and p-ben"),
        ([*SITES, {**SITES[0], "name": "Boston 2"}], [ANA], "site S1 appears more than once"),
        (SITES, [ANA, {**BEN, "sites": ["S2", "S9"]}], "person p-ben is on unknown site(s) S9"),
    ],
)
def test_a_contradictory_file_is_refused_whole(env: Path, sites: list, people: list, message: str) -> None:
    code, output = _import(env, sites, people)
    assert code == 2
    assert message in output and "nothing was imported" in output
    assert _counts() == (0, 0)


def test_identities_are_checked_against_the_stored_directory_and_may_move(env: Path) -> None:
    assert _import(env, SITES, [ANA, BEN])[0] == 0
    code, output = _import(env, [], [{**BEN, "person_id": "p-cat", "slack_user_id": "U1", "teams_user_id": None}])
    assert code == 2
    assert "slack_user_id U1 of p-cat already belongs to p-ana in the directory" in output
    assert _counts() == (2, 2)
    # U1 moves from Ana to Cat in one file: allowed, and no unique-constraint error on the way.
    moved = [
        {**ANA, "slack_user_id": "U7"},
        {**BEN, "person_id": "p-cat", "slack_user_id": "U1", "teams_user_id": None},
    ]
    code, output = _import(env, [], moved)
    assert code == 0, output
    c = build(Settings(_env_file=None))
    with c.factory() as s:
        assert s.scalar(select(PersonRow.person_id).where(PersonRow.slack_user_id == "U1")) == "p-cat"
    c.engine.dispose()
