"""Several `ingest` processes writing one embedded Chroma at once (no SITELINE_CHROMA_HOST): afterwards a
fresh process still opens the store, finds every stored vector through Chroma's HNSW index and answers
each study from its own documents.

An embedded Chroma keeps its HNSW index in memory and saves it over the files every `sync_threshold`
records (1000 by default): two processes saving from copies that do not match left an index that crashed
(SIGSEGV) every process opening it afterwards. The collection is created here with a tiny threshold, so
that a save happens on nearly every write, as it does in a large corpus, and the race shows in seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

ROOT = Path(__file__).parents[1]
SYNC_THRESHOLD = 2  # records between two saves of the HNSW files

CREATE = r"""
import sys
import chromadb
from chromadb.config import Settings
from knowledge.service import collection_name
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
client.create_collection(
    collection_name(), embedding_function=None,
    configuration={"hnsw": {"space": "cosine", "sync_threshold": int(sys.argv[2])}},
)
"""

INGEST = r"""
import json, sys
from datetime import UTC, datetime
from pathlib import Path
from core.settings import Settings
from siteline.container import build

c = build(Settings(_env_file=None))
paths = [Path(p) for p in sys.argv[2:]]
report = c.knowledge.ingest(paths, study=sys.argv[1], kind="sop", now=datetime.now(UTC), progress=False)
print(json.dumps({o.path.name: [o.status, o.detail] for o in report.outcomes}))
"""

CHECK = r"""
import json, sys
from sqlalchemy import func, select
from core.settings import Settings
from knowledge.models import ChunkRow
from siteline.container import build

c = build(Settings(_env_file=None))
vectors = c.knowledge.vectors
stored = vectors.collection.get(include=["embeddings", "metadatas"])
lost = []  # stored vectors Chroma's HNSW index does not find (each one is its own nearest neighbour)
for i, vector, meta in zip(stored["ids"], stored["embeddings"], stored["metadatas"]):
    found = vectors.collection.query(query_embeddings=[vector], n_results=1, where={"version_id": meta["version_id"]})
    if found["ids"][0][:1] != [i]:
        lost.append(i)
with c.factory() as s:
    rows = s.execute(select(func.count()).select_from(ChunkRow)).scalar()
answers = {}
for line in sys.argv[1:]:
    study, question = line.split("|", 1)
    a = c.knowledge.ask(question, studies=[study], asker="t", surface="t", record=False)
    answers[line] = {"answer": a.answer, "abstained": a.abstained, "docs": [x.doc for x in a.citations]}
print(json.dumps({"vectors": len(stored["ids"]), "rows": rows, "lost": lost, "answers": answers}))
"""

# Per study: a day, a visit interval, a diary time, the storage temperature before and after a new version.
FACTS = {
    "ALPHA": ("Monday", "2", "morning", "2 to 8", "15 to 25"),
    "BRAVO": ("Tuesday", "4", "evening", "below minus 20", "below minus 70"),
    "CHARLIE": ("Thursday", "6", "noon", "below 30", "below 25"),
    "DELTA": ("Friday", "8", "night", "5 to 15", "10 to 20"),
}


def documents(folder: Path, study: str) -> dict[str, dict[str, str]]:
    """Each round's files for the study, by round: round 2 adds a document and supersedes one of round 1."""
    day, weeks, when, temp, new_temp = FACTS[study]
    s = study.lower()
    texts = {
        "r1": {
            f"{s}_courier.md": f"# Courier\n\nThe courier collects frozen samples from the site every {day}.\n",
            f"{s}_visits.md": f"# Visits\n\nParticipants visit the clinic every {weeks} weeks.\n",
            f"{s}_storage.md": f"# Storage\n\nKeep the study kits at {temp} degrees Celsius.\n",
        },
        "r2": {
            f"{s}_diary.md": f"# Diary\n\nParticipants complete the symptom diary each {when}.\n",
            f"{s}_storage.md": f"# Storage\n\nKeep the study kits at {new_temp} degrees Celsius from now on.\n",
        },
    }
    for round_, files in texts.items():
        for name, body in files.items():
            (folder / study / round_).mkdir(parents=True, exist_ok=True)
            (folder / study / round_ / name).write_text(body, encoding="utf-8")
    return texts


def run_all(commands: list[list[str]], env: dict[str, str]) -> list[str]:
    """Start the commands at once; each must exit 0 (a negative code is the signal that killed it)."""
    procs = [
        subprocess.Popen(c, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for c in commands
    ]
    outs = [p.communicate(timeout=150) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, f"exit {p.returncode} for {p.args[3:4]}:\n{err[-3000:]}"
    return [out.strip().rsplit("\n", 1)[-1] for out, _err in outs]


def test_concurrent_ingests_into_one_home_leave_every_study_answerable(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SITELINE_", "OPENAI_"))}
    env.update(SITELINE_HOME=str(home), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    python = [sys.executable, "-c"]
    chroma = home / "index" / "chroma"
    chroma.mkdir(parents=True)
    run_all([[*python, CREATE, str(chroma), str(SYNC_THRESHOLD)]], env)

    texts = {study: documents(tmp_path / "docs", study) for study in FACTS}
    for round_ in ("r1", "r2"):
        ingests = [
            [*python, INGEST, study, *(str(tmp_path / "docs" / study / round_ / n) for n in texts[study][round_])]
            for study in FACTS
        ]
        for out in run_all(ingests, env):
            assert all(status in ("ingested", "superseded") for status, _ in json.loads(out).values()), out

    questions = {
        "which day does the courier collect frozen samples?": ("courier", 0),
        "how often do participants visit the clinic?": ("visits", 1),
        "when do participants complete the symptom diary?": ("diary", 2),
        "at what temperature are the study kits kept?": ("storage", 4),
    }
    asks = [f"{study}|{q}" for study in FACTS for q in questions]
    result = json.loads(run_all([[*python, CHECK, *asks]], env)[0])
    assert result["lost"] == [] and result["vectors"] == result["rows"] == 5 * len(FACTS), result
    for ask, got in result["answers"].items():
        study, question = ask.split("|", 1)
        topic, fact = questions[question]
        assert not got["abstained"] and FACTS[study][fact] in got["answer"], (ask, got)
        assert got["docs"][:1] == [f"{study.lower()}_{topic}.md"], (ask, got)
