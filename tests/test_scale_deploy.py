"""Deployment files that CI can check without Docker: `.env.example` documents every setting,
`compose.yaml` uses only known ones in the intended topology, and the image's Python environment
(installed from the project's own files, as the Dockerfile does) holds everything a replica needs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SETTING_LINE = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]+)=(.*)$")
COMPOSE_ONLY = {"POSTGRES_PASSWORD"}  # read by compose.yaml, not by Siteline
SETTINGS = {str(f.validation_alias): (name, f.default) for name, f in Settings.model_fields.items()}


def env_example() -> dict[str, tuple[str, str, bool]]:
    """NAME -> (value, the comment line above it, commented out?)."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    found: dict[str, tuple[str, str, bool]] = {}
    for i, line in enumerate(lines):
        m = SETTING_LINE.match(line)
        if m:
            above = lines[i - 1] if i else ""
            assert m.group(2) not in found, f".env.example lists {m.group(2)} twice"
            found[m.group(2)] = (m.group(3), above, bool(m.group(1)))
    return found


def test_env_example_documents_every_setting_with_a_comment_and_its_default() -> None:
    listed = env_example()
    assert set(SETTINGS) - set(listed) == set(), "settings missing from .env.example"
    assert set(listed) - set(SETTINGS) - COMPOSE_ONLY == set(), ".env.example lists names Siteline does not read"
    for name, (value, above, commented) in listed.items():
        assert above.startswith("# ") and not SETTING_LINE.match(above), f"{name} has no comment line above it"
        if name in COMPOSE_ONLY or not commented or not value:
            continue
        field, default = SETTINGS[name]
        if default is None:
            continue  # an example value, not the default
        parsed = getattr(Settings(_env_file=None, **{name: value}), field)
        assert parsed == default, f".env.example shows {name}={value}, but the default is {default!r}"


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_is_the_scale_topology_and_uses_only_known_settings() -> None:
    services = compose()["services"]
    ours = {name: s for name, s in services.items() if s.get("image", "").startswith("siteline")}
    replicas = {n: s for n, s in ours.items() if (s.get("command") or [None])[0] == "serve"}
    assert len(replicas) >= 2
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["chroma"]["entrypoint"] == ["chroma"] and services["chroma"]["command"][0] == "run"
    assert services["migrate"]["command"] == ["db", "upgrade"] and services["migrate"]["restart"] == "no"
    for name, service in replicas.items():
        env = service["environment"]
        assert env["SITELINE_AUTO_MIGRATE"] == "false", name
        assert env["SITELINE_CHROMA_HOST"] == "chroma" and env["SITELINE_DATABASE_URL"].startswith("postgresql+")
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert "/readyz" in " ".join(service["healthcheck"]["test"])
    for name, service in ours.items():
        unknown = set(service.get("environment", {})) - set(SETTINGS)
        assert unknown == set(), f"compose service {name} sets unknown settings {unknown}"
        assert service.get("env_file") in (None, ".env")
    interpolated = set(re.findall(r"\$\{([A-Z0-9_]+)", (ROOT / "compose.yaml").read_text()))
    assert interpolated <= set(env_example()), "compose.yaml reads variables .env.example does not list"


def test_dockerfile_is_non_root_offline_and_installs_what_pyproject_packages() -> None:
    text = (ROOT / "Dockerfile").read_text()
    final = text.split("\nFROM ")[-1]
    assert re.search(r"^USER siteline$", final, re.M) and "useradd --system --uid 10001" in final
    assert "HF_HUB_OFFLINE=1" in final and "ANONYMIZED_TELEMETRY=False" in final
    copied = set(re.findall(r"^COPY (\w+) \1$", text, re.M))
    packages = {
        p.rstrip("*")
        for p in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"][
            "include"
        ]
    }
    assert copied == packages
    allowed = {
        line[1:].strip("/") for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")
    }
    assert packages | {"pyproject.toml", "README.md"} <= allowed


@pytest.mark.slow
def test_the_image_environment_built_from_the_project_files_runs_a_replica(tmp_path: Path) -> None:
    """Build the wheel from exactly what the Dockerfile copies, then run from it alone (not this checkout)."""
    text = (ROOT / "Dockerfile").read_text()
    context = tmp_path / "context"
    context.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, context / name)
    for package in re.findall(r"^COPY (\w+) \1$", text, re.M):
        shutil.copytree(ROOT / package, context / package, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", ".", "-w", str(tmp_path)],
        cwd=context,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("siteline-*.whl")
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "siteline/migrations/env.py",
        "siteline/migrations/script.py.mako",
        "siteline/migrations/versions/0001_core_and_knowledge_tables.py",
        "knowledge/assets/tokenizer.json",
        "escalation/exemplars.npz",
        "triage/exemplars.npz",
        "escalation/default_policy.yaml",
        "triage/default_policy.yaml",
        "prompts/answer_system.md",
    ):
        assert needed in names, f"the image would lack {needed}"
    script = """
import sys
from pathlib import Path
import siteline, knowledge
assert Path(siteline.__file__).is_relative_to(Path(sys.argv[1])), siteline.__file__
from typer.testing import CliRunner
from siteline.cli import app
result = CliRunner().invoke(app, ["db", "upgrade"])
assert result.exit_code == 0, result.output
from fastapi.testclient import TestClient
from siteline.container import build
from siteline.server import create_app
c = build()
with TestClient(create_app(c)) as client:
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert "siteline_outbox_backlog" in client.get("/metrics").text
doc = Path("dose.md"); doc.write_text("# Dosing\\n\\nObserve the participant for 30 minutes after each injection.\\n")
from datetime import UTC, datetime
now = datetime(2026, 3, 9, tzinfo=UTC)
assert c.knowledge.ingest([doc], study="A", kind="protocol", now=now, progress=False).ok
answer = c.knowledge.ask("how long to observe?", studies=["A"], asker="t", surface="t", now=now)
assert "30 minutes" in answer.citations[0].quote
print("image environment ok")
"""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SITELINE_", "PYTHONPATH"))},
        "PYTHONPATH": str(site),
        "SITELINE_HOME": str(tmp_path / "home"),
        "HF_HUB_OFFLINE": "1",
        "SITELINE_TICK_SECONDS": "3600",
    }
    run = subprocess.run(
        [sys.executable, "-c", script, str(site)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "image environment ok" in run.stdout
