"""Reopening the indexes in a new process never touches the network (no model download, no telemetry)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from core.settings import Settings
from siteline.container import build

GUARDED_ASK = r"""
import json, socket, sys
attempts = []

def refuse(*args, **kwargs):
    attempts.append(repr(args[1:] if args else kwargs)[:80])
    raise OSError("network disabled by the test")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse

from core.settings import Settings
from siteline.container import build

c = build(Settings(_env_file=None))
answer = c.knowledge.ask("how often do participants visit?", studies=["OFF"], asker="t", surface="test", record=False)
print(json.dumps({"answer": answer.answer, "abstained": answer.abstained, "attempts": attempts}))
"""


def test_a_new_process_answers_from_the_stored_index_without_network(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = Settings(SITELINE_HOME=home, _env_file=None)
    doc = tmp_path / "Visits.md"
    doc.write_text("# Visits\n\nParticipants visit the clinic every 2 weeks.\n", encoding="utf-8")
    container = build(settings)
    report = container.knowledge.ingest([doc], study="OFF", kind="sop", now=datetime.now(UTC), progress=False)
    assert report.ok
    container.engine.dispose()

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SITELINE_", "OPENAI_"))}
    env.update(SITELINE_HOME=str(home), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    done = subprocess.run(
        [sys.executable, "-c", GUARDED_ASK],
        env=env,
        cwd=Path(__file__).parents[1],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["attempts"] == []
    assert not result["abstained"] and "every 2 weeks" in result["answer"]


SUBPROCESS_INGEST = r"""
import sys
from datetime import UTC, datetime
from pathlib import Path
from core.settings import Settings
from siteline.container import build

c = build(Settings(_env_file=None))
report = c.knowledge.ingest([Path(sys.argv[1])], study="OFF", kind="sop", now=datetime.now(UTC), progress=False)
print(report.outcomes[0].status)
"""


def test_a_running_service_sees_documents_ingested_by_another_process(tmp_path: Path) -> None:
    """`serve` keeps its indexes open while `siteline ingest` runs in another process."""
    home = tmp_path / "home"
    first = tmp_path / "Visits.md"
    first.write_text("# Visits\n\nParticipants visit the clinic every 2 weeks.\n", encoding="utf-8")
    second = tmp_path / "Storage.md"
    second.write_text("# Storage\n\nKeep the study tablets below 25 degrees Celsius.\n", encoding="utf-8")
    container = build(Settings(SITELINE_HOME=home, _env_file=None))
    knowledge = container.knowledge
    assert knowledge.ingest([first], study="OFF", kind="sop", now=datetime.now(UTC), progress=False).ok
    before = knowledge.ask(
        "what temperature for tablet storage?", studies=["OFF"], asker="t", surface="t", record=False
    )
    assert before.abstained

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SITELINE_", "OPENAI_"))}
    env["SITELINE_HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-c", SUBPROCESS_INGEST, str(second)],
        env=env,
        cwd=Path(__file__).parents[1],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ingested", done.stderr[-2000:]
    after = knowledge.ask("what temperature for tablet storage?", studies=["OFF"], asker="t", surface="t", record=False)
    assert not after.abstained and "below 25 degrees Celsius" in after.answer
    container.engine.dispose()


SUBPROCESS_ASK = r"""
import sys
from core.settings import Settings
from siteline.container import build
c = build(Settings(_env_file=None))
a = c.knowledge.ask(sys.argv[1], studies=["OFF"], asker="t", surface="t", record=False)
print("ABSTAINED" if a.abstained else a.answer)
"""


def test_an_ingest_after_another_process_ingested_keeps_that_process_vectors(tmp_path: Path) -> None:
    """Two processes writing one embedded Chroma in turn: the second reloads the index the first stored
    before writing, so the first one's vectors are still found by meaning (not only by keywords)."""
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SITELINE_", "OPENAI_"))}
    env["SITELINE_HOME"] = str(home)
    docs = {
        "Visits.md": "# Visits\n\nParticipants visit the clinic every 2 weeks.\n",
        "Storage.md": "# Storage\n\nKeep the study tablets below 25 degrees Celsius.\n",
        "Diary.md": "# Diary\n\nParticipants complete the symptom diary each evening.\n",
    }
    for name, body in docs.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    container = build(Settings(SITELINE_HOME=home, _env_file=None))
    knowledge = container.knowledge
    assert knowledge.ingest([tmp_path / "Visits.md"], study="OFF", kind="sop", now=datetime.now(UTC), progress=False).ok
    assert not knowledge.ask(
        "how often do participants visit?", studies=["OFF"], asker="t", surface="t", record=False
    ).abstained

    def run(script: str, arg: str) -> str:
        done = subprocess.run([sys.executable, "-c", script, arg], env=env, cwd=Path(__file__).parents[1],
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip().splitlines()[-1]

    assert run(SUBPROCESS_INGEST, str(tmp_path / "Storage.md")) == "ingested"
    assert knowledge.ingest([tmp_path / "Diary.md"], study="OFF", kind="sop", now=datetime.now(UTC), progress=False).ok
    container.engine.dispose()
    vectors = build(Settings(SITELINE_HOME=home, _env_file=None)).knowledge.vectors
    stored = vectors.collection.get(include=["embeddings"])
    assert len(stored["ids"]) == 3 and all(len(v) == 384 for v in stored["embeddings"])
    assert "below 25 degrees" in run(SUBPROCESS_ASK, "what temperature for tablet storage?")
    assert "each evening" in run(SUBPROCESS_ASK, "when is the symptom diary filled in?")
