"""Knowledge through a real Chroma server (`chroma run`): ingest, ask, study scoping and a version
supersede; the server dying mid-ingest; token auth and TLS through a gate in front of it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import chromadb
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from core.clock import VirtualClock, parse_instant
from core.settings import Settings
from knowledge.models import ChunkRow, DocumentRow, DocumentVersionRow
from knowledge.service import collection_name
from siteline.container import Container, build
from tests.chroma_server import ChromaServer, TokenTlsGate, free_port, self_signed

pytestmark = pytest.mark.slow
NOW = parse_instant("2026-03-09T09:00:00Z")
DOSING = "# Dosing\n\n## 6.2 Observation\nAfter each injection, observe the participant for at least {n} minutes.\n"
BETA = "# Pharmacy manual\n\n## 3 Storage\nStore the study kits refrigerated between 2 and 8 degrees Celsius.\n"
PHARMACY = "# Pharmacy\n\n## 4 Returns\nReturn unused kits to the depot within 14 days of the visit.\n"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ChromaServer]:
    chroma = ChromaServer(tmp_path / "chroma-data")
    chroma.start()
    yield chroma
    chroma.stop()


def settings_for(tmp_path: Path, db_url: str, **env: object) -> Settings:
    return Settings(_env_file=None, SITELINE_HOME=tmp_path / "home", SITELINE_DATABASE_URL=db_url, **env)


def on_server(tmp_path: Path, db_url: str, server: ChromaServer, **env: object) -> Container:
    settings = settings_for(tmp_path, db_url, SITELINE_CHROMA_HOST="127.0.0.1", SITELINE_CHROMA_PORT=server.port, **env)
    return build(settings, clock=VirtualClock(NOW))


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def sql_chunks(c: Container, study: str | None = None) -> int:
    with c.factory() as s:
        query = select(func.count()).select_from(ChunkRow)
        return int(s.execute(query.where(ChunkRow.study == study) if study else query).scalar() or 0)


def server_vectors(server: ChromaServer, **where: object) -> int:
    client = chromadb.HttpClient(host="127.0.0.1", port=server.port)
    collection = client.get_collection(collection_name())
    return len(collection.get(where=where or None, include=[])["ids"])


def test_ingest_ask_scoping_and_supersede_through_the_server(tmp_path: Path, db_url: str, server) -> None:
    c = on_server(tmp_path, db_url, server)
    dosing = write(tmp_path / "v1", "dosing.md", DOSING.format(n=30))
    beta = write(tmp_path / "beta", "pharmacy_manual.md", BETA)
    assert c.knowledge.ingest([dosing], study="ALPHA", kind="protocol", version="1", now=NOW, progress=False).ok
    assert c.knowledge.ingest([beta], study="BETA", kind="manual", now=NOW, progress=False).ok
    assert not (c.settings.index_dir / "chroma").exists()  # nothing went to an embedded index
    assert server_vectors(server) == sql_chunks(c) > 0
    assert server_vectors(server, study="ALPHA") == sql_chunks(c, "ALPHA")

    q = "how long must we observe after the injection?"
    answer = c.knowledge.ask(q, studies=["ALPHA"], asker="t", surface="test", now=NOW)
    assert not answer.abstained and "at least 30 minutes" in answer.citations[0].quote
    other = c.knowledge.ask(q, studies=["BETA"], asker="t", surface="test", now=NOW)
    assert all(cit.doc != "dosing.md" for cit in other.citations) and "30 minutes" not in other.answer

    v2 = write(tmp_path / "v2", "dosing.md", DOSING.format(n=60))
    report = c.knowledge.ingest([v2], study="ALPHA", kind="protocol", version="2", now=NOW, progress=False)
    assert [o.status for o in report.outcomes] == ["superseded"]
    now_current = c.knowledge.ask(q, studies=["ALPHA"], asker="t", surface="test", now=NOW)
    assert "at least 60 minutes" in now_current.citations[0].quote and now_current.citations[0].version == "2"
    older = c.knowledge.ask(q, studies=["ALPHA"], asker="t", surface="test", now=NOW, version="1")
    assert "at least 30 minutes" in older.citations[0].quote and older.citations[0].version == "1"

    replica = on_server(tmp_path / "replica", db_url, server)  # another process: same server, its own home
    seen = replica.knowledge.ask(q, studies=["ALPHA"], asker="t", surface="test", now=NOW)
    assert "at least 60 minutes" in seen.citations[0].quote
    replica.engine.dispose()
    c.engine.dispose()


def test_a_server_restored_from_an_older_backup_gets_its_vectors_back(tmp_path: Path, server) -> None:
    """A Chroma server restored from a backup older than the last ingest lacks that ingest's vectors; ingest
    trusts SQL, so `siteline reindex` (and the same files ingested again) bring them back."""
    c = on_server(tmp_path, f"sqlite:///{tmp_path / 'x.db'}", server)
    folder = tmp_path / "docs"
    write(folder, "a_dosing.md", DOSING.format(n=30))
    write(folder, "b_pharmacy.md", PHARMACY)
    assert c.knowledge.ingest([folder], study="ALPHA", kind="sop", now=NOW, progress=False).ok
    client = chromadb.HttpClient(host="127.0.0.1", port=server.port)
    collection = client.get_collection(collection_name())
    lost = collection.get(where={"doc": "b_pharmacy"}, include=[])["ids"]
    collection.delete(ids=lost)  # what the older backup did not hold
    report = c.knowledge.reindex("ALPHA", now=NOW, progress=False)
    assert (report.embedded, report.removed) == (len(lost), 0) and server_vectors(server) == sql_chunks(c)
    answer = c.knowledge.ask("how soon do unused kits go back to the depot?", studies=["ALPHA"], asker="t",
                             surface="test", now=NOW)  # fmt: skip
    assert "within 14 days" in answer.citations[0].quote
    collection.delete(ids=lost)
    again = c.knowledge.ingest([folder], study="ALPHA", kind="sop", now=NOW, progress=False)
    assert again.vectors_restored == len(lost) and server_vectors(server) == sql_chunks(c)
    c.engine.dispose()


def test_server_dying_mid_ingest_fails_that_file_clearly_and_stores_none_of_it(
    tmp_path: Path, server, monkeypatch
) -> None:
    c = on_server(tmp_path, f"sqlite:///{tmp_path / 'x.db'}", server)
    folder = tmp_path / "docs"
    write(folder, "a_dosing.md", DOSING.format(n=30))
    write(folder, "b_pharmacy.md", PHARMACY)
    vectors = c.knowledge.vectors
    real_add = vectors.add
    calls: list[int] = []

    def add_then_crash(ids, *args, **kwargs):  # the server dies as the second file's vectors are sent
        calls.append(len(ids))
        if len(calls) == 2:
            server.stop()
        return real_add(ids, *args, **kwargs)

    monkeypatch.setattr(vectors, "add", add_then_crash)
    report = c.knowledge.ingest([folder], study="ALPHA", kind="sop", now=NOW, progress=False)
    assert [(o.path.name, o.status) for o in report.outcomes] == [
        ("a_dosing.md", "ingested"),
        ("b_pharmacy.md", "failed"),
    ]
    assert report.outcomes[1].detail == (
        f"the Chroma server at http://127.0.0.1:{server.port} could not be reached (ConnectError); "
        "nothing of this file was stored"
    )
    with c.factory() as s:
        assert s.execute(select(DocumentRow.doc_key)).scalars().all() == ["a_dosing"]
        assert s.execute(select(func.count()).select_from(DocumentVersionRow)).scalar() == 1
    assert sql_chunks(c) == calls[0]

    server.start()  # back on the same data: vectors and SQL agree, and the failed file goes in on a retry
    assert server_vectors(server) == sql_chunks(c)
    monkeypatch.setattr(vectors, "add", real_add)
    again = c.knowledge.ingest([folder], study="ALPHA", kind="sop", now=NOW, progress=False)
    assert [o.status for o in again.outcomes] == ["unchanged", "ingested"]
    assert server_vectors(server) == sql_chunks(c)
    c.engine.dispose()


def test_server_down_is_a_clear_error_for_the_cli_and_a_503_for_the_api(tmp_path: Path, monkeypatch) -> None:
    port = free_port()  # nothing listens here
    db = f"sqlite:///{tmp_path / 'x.db'}"
    monkeypatch.chdir(tmp_path)
    for k, v in {
        "SITELINE_HOME": str(tmp_path / "home"),
        "SITELINE_DATABASE_URL": db,
        "SITELINE_CHROMA_HOST": "127.0.0.1",
        "SITELINE_CHROMA_PORT": str(port),
    }.items():
        monkeypatch.setenv(k, v)
    doc = write(tmp_path / "docs", "dosing.md", DOSING.format(n=30))
    from siteline.cli import app

    result = CliRunner().invoke(app, ["ingest", str(doc), "--study", "ALPHA", "--kind", "protocol"])
    assert result.exit_code == 1 and not isinstance(result.exception, (ValueError, RuntimeError))
    assert f"error: the Chroma server at http://127.0.0.1:{port} could not be reached (ConnectError)" in result.output

    from knowledge.models import DocumentRow as Doc
    from siteline.server import create_app

    c = build(Settings(_env_file=None, SITELINE_API_TOKEN="t", SITELINE_RUN_SCHEDULER=False))
    with c.factory.begin() as s:  # a study with documents, so the ask reaches the vector index
        s.add(Doc(study="ALPHA", doc_key="dosing", kind="protocol", title="Dosing"))
    resp = TestClient(create_app(c)).post(
        "/api/ask", json={"question": "observe how long?", "study": "ALPHA"}, headers={"Authorization": "Bearer t"}
    )
    assert resp.status_code == 503
    assert resp.json() == {
        "detail": f"the Chroma server at http://127.0.0.1:{port} could not be reached (ConnectError)"
    }
    c.engine.dispose()


def test_token_and_tls_reach_a_gated_server(tmp_path: Path, server) -> None:
    cert, key = self_signed(tmp_path)
    gate = TokenTlsGate(server.url, cert, key, token="s3cret-token")
    try:
        db = f"sqlite:///{tmp_path / 'x.db'}"
        base = {"SITELINE_CHROMA_HOST": "127.0.0.1", "SITELINE_CHROMA_PORT": gate.port, "SITELINE_CHROMA_SSL": True}
        c = build(
            settings_for(
                tmp_path, db, **base, SITELINE_CHROMA_SSL_VERIFY=str(cert), SITELINE_CHROMA_TOKEN="s3cret-token"
            ),
            clock=VirtualClock(NOW),
        )
        doc = write(tmp_path / "docs", "dosing.md", DOSING.format(n=30))
        assert c.knowledge.ingest([doc], study="ALPHA", kind="protocol", now=NOW, progress=False).ok
        answer = c.knowledge.ask(
            "how long to observe after the injection?", studies=["ALPHA"], asker="t", surface="test", now=NOW
        )
        assert "at least 30 minutes" in answer.citations[0].quote
        assert gate.seen and all(auth == "Bearer s3cret-token" for _, auth in gate.seen)
        assert server_vectors(server) == sql_chunks(c)
        c.engine.dispose()

        from knowledge.vector_index import server_problem

        wrong = settings_for(tmp_path, db, **base, SITELINE_CHROMA_SSL_VERIFY=str(cert), SITELINE_CHROMA_TOKEN="nope")
        assert server_problem(wrong) == (
            f"the Chroma server at https://127.0.0.1:{gate.port} refused the credentials; "
            "check SITELINE_CHROMA_TOKEN and SITELINE_CHROMA_TOKEN_HEADER"
        )
        untrusted = settings_for(tmp_path, db, **base, SITELINE_CHROMA_TOKEN="s3cret-token")
        assert server_problem(untrusted) == (
            f"the Chroma server at https://127.0.0.1:{gate.port} failed the TLS handshake; "
            "check SITELINE_CHROMA_SSL and SITELINE_CHROMA_SSL_VERIFY"
        )
    finally:
        gate.close()
