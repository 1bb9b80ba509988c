"""A protocol ingested into a fresh study and asked through `POST /api/ask`, as the outside evaluation asks (shared by
the end-to-end knowledge tests)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from pydantic import SecretStr

from siteline.container import Container

TOKEN = "t0ken"


def api_for_protocol(container: Container, folder: Path, name: str, text: str, study: str) -> TestClient:
    from siteline.server import create_app
    from tests.test_knowledge_study_vocabulary import ingest_one

    ingest_one(container, folder, name, text, study)
    container.settings.api_token = SecretStr(TOKEN)
    return TestClient(create_app(container))


def first_citation(client: TestClient, question: str, study: str) -> dict:
    """The answer's first citation; the answer must not be an abstention."""
    reply = client.post(
        "/api/ask", json={"question": question, "study": study}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert reply.status_code == 200
    data = reply.json()
    assert not data["abstained"], data
    return data["citations"][0]
