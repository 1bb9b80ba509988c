"""`siteline directory import` refuses a contradictory directory with a clear message and imports nothing
(on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from typer.testing import CliRunner

from assistant.scope import person_for
from core.directory import Directory
from core.models import ChatIdentityRow, PersonRow, SiteRow
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
        (
            SITES,
            [ANA, {**BEN, "slack_user_id": "U1"}],
            "slack identity U1 is given to both person p-ana and person p-ben",
        ),
        (
            SITES,
            [{**ANA, "teams_user_id": "29:ben"}, BEN],
            "teams identity 29:ben is given to both person p-ana and person p-ben",
        ),
        (
            [{**SITES[0], "slack_channel_id": "C1"}, {**SITES[1], "chat": {"slack": "C1"}}],
            [],
            "slack identity C1 is given to both site S1 and site S2",
        ),
        (
            SITES,
            [
                ANA,
                {**BEN, "chat": {"webex": "U1"}, "teams_user_id": None},
                {**ANA, "person_id": "p-cat", "chat": {"webex": "U1"}, "slack_user_id": None},
            ],
            "webex identity U1 is given to both person p-ben and person p-cat",
        ),
        ([*SITES, {**SITES[0], "name": "Boston 2"}], [ANA], "site S1 appears more than once"),
        (SITES, [ANA, {**BEN, "sites": ["S2", "S9"]}], "person p-ben is on unknown site(s) S9"),
    ],
)
def test_a_contradictory_file_is_refused_whole(env: Path, sites: list, people: list, message: str) -> None:
    code, output = _import(env, sites, people)
    assert code == 2
    assert message in output and "nothing was imported" in output
    assert _counts() == (0, 0)


@pytest.mark.parametrize(
    ("sites", "people", "message"),
    [
        (
            SITES,
            [{**ANA, "chat": {"slack": "U2"}}],
            "people[0]: entry: Value error, slack_user_id U1 and chat.slack U2 disagree; give one",
        ),
        (
            SITES,
            [{**ANA, "chat": {"Web Ex": "x"}}],
            "people[0]: chat: Value error, chat platform 'Web Ex' must be a lowercase name",
        ),
        (SITES, [{**ANA, "chat": ["slack", "U2"]}], "people[0]: chat: Input should be a valid dictionary"),
        (
            SITES,
            [{**ANA, "chat": {"email": "ana@site.example"}}],
            "people[0]: chat: Value error, an e-mail address is the person's email field, not a chat identity",
        ),
        (
            SITES,
            [{**ANA, "slack_user_id": 4567}],
            "people[0]: entry: Value error, slack_user_id must be a string, got int",
        ),
        (
            [{**SITES[0], "chat_detail": {"teams": {"service_url": "https://x/"}}}],
            [],
            "sites[0]: entry: Value error, chat_detail for teams without an identity there in chat",
        ),
    ],
)
def test_a_malformed_chat_entry_is_refused_naming_the_entry(env: Path, sites: list, people: list, message: str) -> None:
    code, output = _import(env, sites, people)
    assert code == 2 and message in output, output
    assert _counts() == (0, 0)


def test_identities_are_checked_against_the_stored_directory_and_may_move(env: Path) -> None:
    assert _import(env, SITES, [ANA, BEN])[0] == 0
    code, output = _import(env, [], [{**BEN, "person_id": "p-cat", "slack_user_id": "U1", "teams_user_id": None}])
    assert code == 2
    assert "slack identity U1 of person p-cat already belongs to person p-ana in the directory" in output
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
        assert Directory(s).identities_of("person", "p-cat") == {"slack": "U1"}
        assert Directory(s).identities_of("person", "p-ana") == {"slack": "U7"}
    c.engine.dispose()


def _directory() -> Iterator[Directory]:
    c = build(Settings(_env_file=None))
    with c.factory() as s:
        yield Directory(s)
    c.engine.dispose()


@pytest.fixture
def read(env: Path) -> Callable[[], AbstractContextManager[Directory]]:
    return contextmanager(_directory)


def test_the_contract_fields_of_a_jsonl_file_become_identities(env: Path, read) -> None:
    lines = [
        {
            "type": "site",
            **SITES[0],
            "slack_channel_id": "C1",
            "teams_conversation_id": "19:s1@thread.tacv2",
            "teams_service_url": "https://smba.trafficmanager.net/emea/",
        },
        {"type": "site", **SITES[1], "teams_conversation_id": "19:s2@thread.tacv2"},
        {"type": "person", **ANA, "teams_user_id": "29:ana"},
        {"type": "person", **BEN},
    ]
    path = env / "directory.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    result = CliRunner().invoke(app, ["directory", "import", str(path)])
    assert result.exit_code == 0, result.output
    with read() as directory:
        ana = directory.person_by("teams", "29:ana")
        assert ana is not None and ana.person_id == "p-ana" and ana.chat == {"slack": "U1", "teams": "29:ana"}
        assert (directory.person_by("slack", "U1") or ana).person_id == "p-ana"
        assert person_for(directory, "teams", "29:ben") == directory.person("p-ben")
        assert person_for(directory, "slack", "29:ben") is None  # a Teams id is not a Slack one
        s1 = directory.site_by("slack", "C1")
        assert s1 is not None and s1.site_id == "S1"
        assert s1.chat == {"slack": "C1", "teams": "19:s1@thread.tacv2"}
        assert s1.chat_detail == {"teams": {"service_url": "https://smba.trafficmanager.net/emea/"}}
        assert (directory.site_by("teams", "19:s2@thread.tacv2") or s1).site_id == "S2"
        assert directory.site_by("teams", "C1") is None
        assert directory.identities_of("site", "S2") == {"teams": "19:s2@thread.tacv2"}


def test_a_new_platform_in_chat_resolves_with_no_code_for_it(env: Path, read) -> None:
    people = [{**ANA, "chat": {"webex": "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9hbmE"}}, {**BEN, "chat": {"webex": "wx-ben"}}]
    sites = [{**SITES[0], "chat": {"webex": "wx-room-s1"}}, SITES[1]]
    code, output = _import(env, sites, people)
    assert code == 0, output
    with read() as directory:
        ana = directory.person_by("webex", "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9hbmE")
        assert ana is not None and ana.person_id == "p-ana"
        assert ana.chat == {"slack": "U1", "webex": "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9hbmE"}
        assert person_for(directory, "webex", "wx-ben") == directory.person("p-ben")  # type: ignore[arg-type]
        assert (directory.site_by("webex", "wx-room-s1") or directory.site("S2")).site_id == "S1"  # type: ignore[union-attr]
        assert directory.person_by("slack", "wx-ben") is None


def test_an_entry_lists_all_its_identities_and_others_are_untouched(env: Path, read) -> None:
    """Re-importing a person without one of their identities removes it (the file is the truth for each entry
    it lists); people and sites the file does not list keep theirs."""
    site = {**SITES[0], "teams_conversation_id": "19:s1", "teams_service_url": "https://emea/"}
    assert _import(env, [site, SITES[1]], [{**ANA, "teams_user_id": "29:ana"}, BEN])[0] == 0
    assert _import(env, [], [ANA])[0] == 0  # Ana without her Teams id; Ben not in the file
    with read() as directory:
        assert directory.identities_of("person", "p-ana") == {"slack": "U1"}
        assert directory.person_by("teams", "29:ana") is None
        assert directory.identities_of("person", "p-ben") == {"teams": "29:ben"}
        assert (directory.site("S1") or directory.site("S2")).chat_detail == {"teams": {"service_url": "https://emea/"}}  # type: ignore[union-attr]
    assert _import(env, [SITES[0]], [])[0] == 0  # S1 without chat: its Teams channel and its detail go
    assert _import(env, [SITES[0]], [])[0] == 0  # and re-importing is safe
    c = build(Settings(_env_file=None))
    with c.factory() as s:
        rows = s.execute(select(ChatIdentityRow.kind, ChatIdentityRow.owner_id, ChatIdentityRow.platform)).all()
    c.engine.dispose()
    assert sorted(map(tuple, rows)) == [("person", "p-ana", "slack"), ("person", "p-ben", "teams")]


def test_a_site_channel_is_checked_against_the_stored_directory_and_may_move(env: Path, read) -> None:
    assert _import(env, [{**SITES[0], "slack_channel_id": "C1"}, SITES[1]], [])[0] == 0
    code, output = _import(env, [{**SITES[1], "chat": {"slack": "C1"}}], [])
    assert code == 2 and "slack identity C1 of site S2 already belongs to site S1 in the directory" in output
    code, output = _import(env, [{**SITES[0], "slack_channel_id": "C0"}, {**SITES[1], "slack_channel_id": "C1"}], [])
    assert code == 0, output
    with read() as directory:
        assert (directory.site_by("slack", "C1") or directory.site("S1")).site_id == "S2"  # type: ignore[union-attr]
        assert directory.identities_of("site", "S1") == {"slack": "C0"}
