"""`siteline escalations ...` end to end on a SQLite home: raise, list, show, ack, resolve, path, policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from core.settings import Settings
from siteline.cli import escalations
from siteline.container import build
from tests.test_escalation_support import seed


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setenv("SITELINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SITELINE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("SITELINE_ESCALATION_POLICY_PATH", raising=False)
    container = build(Settings(_env_file=None))
    seed(container.factory)
    container.engine.dispose()
    app = typer.Typer()
    escalations.register(app)
    return app


def run(app: typer.Typer, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["escalations", *args])
    return result.exit_code, result.output


def test_raise_list_show_ack_resolve(cli: typer.Typer) -> None:
    code, out = run(
        cli,
        "raise",
        "--site",
        "S02",
        "--study",
        "ALPHA",
        "--by",
        "staff2",
        "--id",
        "c1",
        "--summary",
        "Only 2 kits left and the resupply never arrived",
    )
    assert code == 0, out
    view = json.loads(out)
    assert (view["id"], view["category"], view["severity"], view["inferred"]) == ("c1", "ip_supply", "high", True)
    code, out = run(cli, "list")
    assert code == 0 and out.startswith("c1 ") and "ip_supply/high" in out and "level 1/3" in out
    code, out = run(cli, "list", "--json")
    assert [e["id"] for e in json.loads(out)["escalations"]] == ["c1"]
    code, out = run(cli, "ack", "c1", "--by", "staff2")
    assert code == 1 and "by: staff2 may not acknowledge" in out
    code, out = run(cli, "ack", "c1", "--by", "cra1")
    assert code == 0 and "acknowledged" in out
    code, out = run(cli, "resolve", "c1", "--by", "sm1")
    assert code == 0 and "resolved" in out
    code, out = run(cli, "list")
    assert out.strip() == "no escalations"
    code, out = run(cli, "list", "--all", "--site", "S02")
    assert "resolved" in out
    code, out = run(cli, "show", "c1")
    kinds = [h["kind"] for h in json.loads(out)["history"]]
    assert kinds[0] == "raise" and "ack" in kinds and kinds[-1] == "resolve"


def test_bad_input_is_refused_with_the_reason(cli: typer.Typer) -> None:
    code, out = run(
        cli, "raise", "--site", "S02", "--study", "ALPHA", "--by", "staff2", "--summary", "x", "--category", "fridge"
    )
    assert code == 2 and "--category: 'fridge' is not one of" in out
    code, out = run(cli, "raise", "--site", "S77", "--study", "ALPHA", "--by", "staff2", "--summary", "x")
    assert code == 2 and "site: unknown site 'S77'" in out
    code, out = run(cli, "ack", "nope", "--by", "cra1")
    assert code == 1 and "no escalation 'nope'" in out
    code, out = run(cli, "list", "--all")
    assert code == 2 and "--all needs --site" in out


def test_path_and_policy(cli: typer.Typer, tmp_path: Path) -> None:
    code, out = run(cli, "path", "--site", "S01", "--study", "ALPHA", "--summary", "participant died at home")
    assert code == 0 and "A critical safety issue from Hôpital Nord on ALPHA would go" in out
    assert "medical monitor and site relationship manager: Mona MM (mm1), Rita SRM (srm1)" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("chains:\n  default:\n    - {role: cra, ack_within: soon}\n    - {role: clinops_head}\n")
    code, out = run(cli, "policy", str(bad))
    assert code == 2 and "chains.default.0.ack_within" in out
    good = tmp_path / "good.yaml"
    good.write_text("chains:\n  default:\n    - {role: cra, ack_within: PT2H}\n    - {role: clinops_head}\n")
    code, out = run(cli, "policy", str(good))
    assert code == 0 and "stored routing policy v1" in out
    code, out = run(cli, "policy")
    assert json.loads(out)["version"] == 1
