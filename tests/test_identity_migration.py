"""Migration 0010ident moves chat identities from per-platform columns into rows and back, losing none
(SQLite and PostgreSQL, with rows in the old columns written by raw SQL as the old code would)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from core.db import make_engine, make_session_factory
from core.directory import Directory
from siteline.database import alembic_config, all_metadata, migrate

AFTER = "0010ident"
BEFORE = ScriptDirectory.from_config(alembic_config()).get_revision(AFTER).down_revision  # whatever it follows

# person_id, slack_user_id, teams_user_id
PERSONS = [
    ("p-both", "U_BOTH", "29:both"),
    ("p-slack", "U_SLACK", None),
    ("p-teams", None, "8f1c0000-aad-object-id"),
    ("p-none", None, None),
    ("p-empty", "", None),  # an empty id names nobody: no row, and NULL after a downgrade
]
# site_id, slack_channel_id, teams_conversation_id, teams_service_url
SITES = [
    ("S-BOTH", "C_BOTH", "19:both@thread.tacv2", "https://smba.trafficmanager.net/emea/"),
    ("S-SLACK", "C_SLACK", None, None),
    ("S-TEAMS", None, "19:teams@thread.tacv2", None),
    ("S-NONE", None, None, None),
]
ROWS = {  # (platform, kind, external_id, owner_id, detail)
    ("slack", "person", "U_BOTH", "p-both", "{}"),
    ("teams", "person", "29:both", "p-both", "{}"),
    ("slack", "person", "U_SLACK", "p-slack", "{}"),
    ("teams", "person", "8f1c0000-aad-object-id", "p-teams", "{}"),
    ("slack", "site", "C_BOTH", "S-BOTH", "{}"),
    ("teams", "site", "19:both@thread.tacv2", "S-BOTH", '{"service_url": "https://smba.trafficmanager.net/emea/"}'),
    ("slack", "site", "C_SLACK", "S-SLACK", "{}"),
    ("teams", "site", "19:teams@thread.tacv2", "S-TEAMS", "{}"),
}


@pytest.fixture
def old_schema(db_url: str) -> Iterator[Engine]:
    """A database at the revision before, with identities in the old columns."""
    engine = make_engine(db_url)
    migrate(engine, BEFORE)
    with engine.begin() as conn:
        for pid, slack, teams in PERSONS:
            conn.execute(
                text(
                    "INSERT INTO persons (person_id, name, role, tz, sites, studies, email,"
                    " slack_user_id, teams_user_id)"
                    " VALUES (:pid, :pid, 'cra', 'UTC', '[]', '[\"A\"]', NULL, :slack, :teams)"
                ),
                {"pid": pid, "slack": slack, "teams": teams},
            )
        for sid, slack, teams, url in SITES:
            conn.execute(
                text(
                    "INSERT INTO sites (site_id, name, tz, tier, studies, digest_times, quiet_hours,"
                    " slack_channel_id, teams_conversation_id, teams_service_url)"
                    " VALUES (:sid, :sid, 'UTC', 'standard', '[\"A\"]', '[\"09:00\"]', NULL, :slack, :teams, :url)"
                ),
                {"sid": sid, "slack": slack, "teams": teams, "url": url},
            )
    yield engine
    engine.dispose()


def _identity_rows(engine: Engine) -> set[tuple[str, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT platform, kind, external_id, owner_id, detail FROM chat_identities")).all()
    return {(p, k, x, o, d if isinstance(d, str) else json.dumps(d)) for p, k, x, o, d in rows}


def _columns(engine: Engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def test_upgrade_moves_every_identity_into_rows_and_drops_the_columns(old_schema: Engine) -> None:
    migrate(old_schema, AFTER)
    rows = _identity_rows(old_schema)
    assert {r[:4] for r in rows} == {r[:4] for r in ROWS}
    details = {r[2]: json.loads(r[4]) for r in rows}
    assert details["19:both@thread.tacv2"] == {"service_url": "https://smba.trafficmanager.net/emea/"}
    assert all(details[r[2]] == {} for r in ROWS if r[2] != "19:both@thread.tacv2")
    assert not {"slack_user_id", "teams_user_id"} & _columns(old_schema, "persons")
    assert not {"slack_channel_id", "teams_conversation_id", "teams_service_url"} & _columns(old_schema, "sites")

    with make_session_factory(old_schema)() as session:
        directory = Directory(session)
        both = directory.person_by("teams", "29:both")
        assert both is not None and both.person_id == "p-both"
        assert both.chat == {"slack": "U_BOTH", "teams": "29:both"}
        assert directory.person_by("slack", "") is None
        site = directory.site_by("teams", "19:both@thread.tacv2")
        assert site is not None and site.site_id == "S-BOTH"
        assert site.chat_detail == {"teams": {"service_url": "https://smba.trafficmanager.net/emea/"}}
        assert directory.identities_of("site", "S-SLACK") == {"slack": "C_SLACK"}
        assert directory.identities_of("person", "p-none") == {}


def test_the_upgraded_schema_matches_the_models(old_schema: Engine) -> None:
    migrate(old_schema, AFTER)
    with old_schema.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), all_metadata())
    tables = ("chat_identities", "'persons'", "'sites'")
    assert [d for d in diffs if any(t in str(d) for t in tables)] == []


def test_downgrade_puts_every_identity_back_in_its_column(old_schema: Engine) -> None:
    migrate(old_schema, AFTER)
    command.downgrade(alembic_config(old_schema), BEFORE)
    assert "chat_identities" not in inspect(old_schema).get_table_names()
    with old_schema.connect() as conn:
        persons = conn.execute(
            text("SELECT person_id, slack_user_id, teams_user_id FROM persons ORDER BY person_id")
        ).all()
        sites = conn.execute(
            text(
                "SELECT site_id, slack_channel_id, teams_conversation_id, teams_service_url FROM sites ORDER BY site_id"
            )
        ).all()
    expected_persons = sorted((p, s or None, t) for p, s, t in PERSONS)
    assert [tuple(r) for r in persons] == expected_persons
    assert [tuple(r) for r in sites] == sorted(SITES)
    migrate(old_schema, AFTER)  # and up again: the same rows
    assert {r[:4] for r in _identity_rows(old_schema)} == {r[:4] for r in ROWS}


def test_downgrade_refuses_while_an_identity_has_no_column_to_go_back_to(old_schema: Engine) -> None:
    migrate(old_schema, AFTER)
    with old_schema.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO chat_identities (platform, kind, external_id, owner_id, detail)"
                " VALUES ('webex', 'person', 'wx-1', 'p-none', '{}')"
            )
        )
    with pytest.raises(RuntimeError, match=r"chat identities 1 on webex have no column there"):
        command.downgrade(alembic_config(old_schema), BEFORE)
    assert {r[:4] for r in _identity_rows(old_schema)} == {r[:4] for r in ROWS} | {
        ("webex", "person", "wx-1", "p-none")
    }


def test_two_sites_sharing_a_channel_stop_the_upgrade_with_their_names(old_schema: Engine) -> None:
    with old_schema.begin() as conn:
        conn.execute(text("UPDATE sites SET slack_channel_id = 'C_BOTH' WHERE site_id = 'S-NONE'"))
    with pytest.raises(RuntimeError, match=r"slack site id C_BOTH is shared by S-BOTH, S-NONE"):
        migrate(old_schema, AFTER)
    assert "slack_channel_id" in _columns(old_schema, "sites")  # nothing half-done
