"""Read-side SQL for the knowledge engine: which document versions a question may search, and their chunks."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from knowledge.keyword_index import IndexedChunk
from knowledge.lexicon import TERMS_VERSION
from knowledge.models import ChunkRow, DocumentRow, DocumentVersionRow


@dataclass(frozen=True)
class VersionInfo:
    version_id: int
    document_id: int
    study: str
    doc_key: str
    kind: str
    title: str
    file_name: str
    version: str
    effective: date | None
    is_current: bool
    chunk_count: int


def versions_for(session: Session, studies: Sequence[str]) -> list[VersionInfo]:
    """Every version of every document of these studies (current or not)."""
    if not studies:
        return []
    rows = session.execute(
        select(DocumentVersionRow, DocumentRow)
        .join(DocumentRow, DocumentRow.id == DocumentVersionRow.document_id)
        .where(DocumentRow.study.in_(list(studies)))
        .order_by(DocumentVersionRow.id)
    ).all()
    return [
        VersionInfo(
            version_id=v.id,
            document_id=d.id,
            study=d.study,
            doc_key=d.doc_key,
            kind=d.kind,
            title=d.title,
            file_name=v.file_name,
            version=v.version,
            effective=v.effective,
            is_current=v.is_current,
            chunk_count=v.chunk_count,
        )
        for v, d in rows
    ]


def fingerprint(versions: Iterable[VersionInfo]) -> str:
    """Identifies the set of chunks of a study (and how they are tokenized): a stale index is rebuilt."""
    parts = [f"terms{TERMS_VERSION}", *sorted(f"{v.version_id}:{v.chunk_count}" for v in versions)]
    return hashlib.sha256(",".join(parts).encode()).hexdigest()[:32]


MARK = re.compile(r"[xX✓✔•●○*]|\([xX]\)")  # a schedule's bare mark: "X", "(X)", "✓"


def searched_text(text: str) -> str:
    """A chunk's text as the indexes read it: a table row without its empty cells and bare marks. "12-lead ECG | X
    | X |  |  | X" is kept whole for the quote, where each mark lines up with its visit in the header; for search the
    marks are noise that lengthens the chunk (BM25 reads a longer passage as a weaker match) and fills the embedding
    model's 256-token window."""
    if "|" not in text:
        return text
    lines = []
    for line in text.split("\n"):
        if "|" in line:
            cells = [c.strip() for c in line.split("|")]
            line = " | ".join(c for c in cells if c and not MARK.fullmatch(c))
        lines.append(line)
    return "\n".join(lines)


def index_text(version: VersionInfo, section: str, text: str) -> str:
    """What the keyword index sees for a chunk: the document's name, its section heading, its text.

    The name words let "psa2", "IGBJ" or "wilson study" pick the right document.
    """
    return f"{version.doc_key}\n{section}\n{searched_text(text)}"


def embedding_text(section: str, text: str) -> str:
    """What the vector index embeds: the heading gives a passage its topic when the text alone does not."""
    text = searched_text(text)
    if section and not text.startswith(section[:40]):
        return f"{section}\n{text}"
    return text


def index_chunks(session: Session, study: str, versions: Sequence[VersionInfo]) -> list[IndexedChunk]:
    by_id = {v.version_id: v for v in versions if v.study == study}
    if not by_id:
        return []
    rows = session.execute(
        select(ChunkRow.id, ChunkRow.version_id, ChunkRow.section, ChunkRow.text)
        .where(ChunkRow.version_id.in_(list(by_id)))
        .order_by(ChunkRow.version_id, ChunkRow.ordinal)
    ).all()
    return [
        IndexedChunk(cid, vid, index_text(by_id[vid], section, text), section, text) for cid, vid, section, text in rows
    ]


def chunks_by_id(session: Session, ids: Sequence[str]) -> dict[str, ChunkRow]:
    if not ids:
        return {}
    rows = session.execute(select(ChunkRow).where(ChunkRow.id.in_(list(ids)))).scalars()
    return {r.id: r for r in rows}


CODE = re.compile(r"\b(?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*\b")
CODE_DIGITS = 3  # "ABT-494", "LY900018", "ALXN1840": letters and at least three digits


def opening_codes(
    session: Session, version_ids: Sequence[int], cache: dict[int, frozenset[str]]
) -> dict[int, frozenset[str]]:
    """Code-like words of each version's title and first two chunks (a compound's whole form, as `terms` joins it).

    Protocols name their drug and study by codes on the title page ("Nasal Glucagon (LY900018)",
    "Upadacitinib (ABT-494)"), and site staff use those codes as nicknames; they then name the
    document the way a file-name word does. Read from the stored chunks once per version, so ingest
    does no extra work and existing indexes need nothing rebuilt. `cache` (version id -> codes) belongs
    to the caller's database; a stored version never changes.
    """
    missing = [v for v in version_ids if v not in cache]
    if missing:
        rows = session.execute(
            select(ChunkRow.version_id, ChunkRow.text).where(ChunkRow.version_id.in_(missing), ChunkRow.ordinal <= 1)
        ).all()
        found: dict[int, set[str]] = {v: set() for v in missing}
        for version_id, text in rows:
            for m in CODE.finditer(text):
                word = m.group(0)
                if sum(ch.isdigit() for ch in word) >= CODE_DIGITS and len(word) >= 5:
                    found[version_id].add(word.replace("-", "").lower())  # "ABT-494" -> abt494, as terms() joins it
        cache.update({v: frozenset(c) for v, c in found.items()})
    return {v: cache[v] for v in version_ids}


def next_chunks(session: Session, rows: Sequence[ChunkRow]) -> dict[str, ChunkRow]:
    """The chunk after each given one in its document version (for sentences cut by a chunk or page end)."""
    if not rows:
        return {}
    wanted = {(r.version_id, r.ordinal + 1): r.id for r in rows}
    found = session.execute(
        select(ChunkRow).where(or_(*(and_(ChunkRow.version_id == v, ChunkRow.ordinal == o) for v, o in wanted)))
    ).scalars()
    return {wanted[(r.version_id, r.ordinal)]: r for r in found}


def generation(session: Session) -> tuple[int, int, int]:
    """A cheap stamp of the whole catalog: changes whenever any process adds or supersedes a version."""
    row = session.execute(
        select(
            func.count(DocumentVersionRow.id),
            func.coalesce(func.max(DocumentVersionRow.id), 0),
            func.count(DocumentVersionRow.id).filter(DocumentVersionRow.is_current.is_(True)),
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def studies_with_documents(session: Session) -> list[str]:
    return list(session.execute(select(DocumentRow.study).distinct().order_by(DocumentRow.study)).scalars())
