"""Knowledge engine speed and quality at scale, in one run.

    python -m bench knowledge            # ~50k chunks
    python -m bench --quick knowledge    # ~6k chunks, fewer repetitions

1. Raw embedding rate of the model vs full ingest rate (pages/s) on the 159-page protocol.
2. The evaluation corpus ingested once, then replicated across studies up to ~50k chunks (vectors
   copied, not recomputed; SQL rows and per-study BM25 indexes built as ingest would).
3. Ask latency p50/p95 at that size, each question scoped to one study, next to a vector-only
   LangChain Chroma retriever (`as_retriever` over the stock MiniLM's vectors of the same chunks, same study
   filter; the engine's own index holds the fine-tuned reader's vectors), with
   evidence-in-top-5 of both on the development questions.
Data lives in bench/out/knowledge/ (ignored by git). The corpus is ../shared/eval/ beside the repo,
or SITELINE_BENCH_EVAL pointing at a folder with corpus/ and qa_dev.jsonl.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import insert, select

from knowledge.vector_index import VectorIndex

if TYPE_CHECKING:
    from knowledge.service import KnowledgeService
    from knowledge.types import Answer

REPO = Path(__file__).resolve().parent.parent
EVAL = Path(os.environ.get("SITELINE_BENCH_EVAL", REPO.parent / "shared" / "eval"))
PROTOCOL = "NCT03104374_SELECT-PsA2_M15-554_Protocol.pdf"
OUT = REPO / "bench" / "out" / "knowledge"
NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def p50_p95_ms(values: list[float]) -> tuple[float, float]:
    """Median and 95th percentile (nearest rank) of durations in seconds, in milliseconds."""
    ordered = sorted(values)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000


def cold_ask(knowledge: KnowledgeService, question: str, study: str) -> tuple[Answer, float]:
    """One ask scoped to `study`, nothing recorded, with the reader's cache emptied first (a cold cache: a
    running server answers repeated passages faster); returns the answer and the seconds it took."""
    if knowledge.reader is not None:
        knowledge.reader.clear()
    started = time.perf_counter()
    answer = knowledge.ask(question, studies=[study], asker="bench", surface="bench", record=False)
    return answer, time.perf_counter() - started


def _service(home: Path):
    from core.settings import Settings
    from siteline.container import build

    home.mkdir(parents=True, exist_ok=True)
    return build(
        Settings(SITELINE_HOME=home, SITELINE_DATABASE_URL=f"sqlite:///{home / 'siteline.db'}", _env_file=None)
    )


RUNS = 3  # each rate is the median of this many runs: one run of a 6-second ingest moved by a sixth between runs


def embedding_vs_ingest(rows: list[tuple[str, str, str]]) -> None:
    """Embed the protocol's chunks alone, then ingest the file end to end in a fresh home; each RUNS times, the
    median reported (alternating the two, so a slow spell of the machine does not fall on one side only)."""
    from knowledge.catalog import embedding_text
    from knowledge.chunking import chunk_blocks
    from knowledge.embedding import MiniLmEmbeddings
    from knowledge.reader import Reader, shared_reader
    from knowledge.readers import read_document

    path = EVAL / "corpus" / PROTOCOL
    parsed = read_document(path)
    chunks = chunk_blocks(parsed.blocks)
    texts = [embedding_text(c.section, c.text) for c in chunks]
    reader = shared_reader()  # the index's model: the reader when installed (knowledge.reader), else stock MiniLM
    model = reader.passages if reader is not None else MiniLmEmbeddings()
    model.embed(texts[:16])
    pages = parsed.pages or 1
    embed_runs: list[float] = []
    ingest_runs: list[float] = []
    load_s = 0.0
    for run in range(RUNS):
        started = time.perf_counter()
        model.embed(texts)
        embed_runs.append(time.perf_counter() - started)

        home = OUT / f"ingest{run}"  # a home per run: Chroma keeps one client per path for the whole process
        shutil.rmtree(home, ignore_errors=True)
        container = _service(home)
        if run == 0:  # what a process start pays: loading the index's model
            started = time.perf_counter()
            fresh = Reader().passages if reader is not None else MiniLmEmbeddings()
            fresh.embed(["load"])
            load_s = time.perf_counter() - started
        container.knowledge.vectors.embeddings.embed(texts[:16])  # warmed like the model above, as in a server
        started = time.perf_counter()
        report = container.knowledge.ingest([path], study="ING", kind="protocol", now=NOW, progress=False)
        ingest_runs.append(time.perf_counter() - started)
        assert report.ok, [o.line() for o in report.outcomes]
        container.engine.dispose()
    embed_s, ingest_s = statistics.median(embed_runs), statistics.median(ingest_runs)
    rows.append(
        (
            f"embedding only (the index's model, MiniLM int8), median of {RUNS}",
            f"{len(texts) / embed_s:.1f} chunks/s",
            f"{pages / embed_s:.2f} pages/s",
        )
    )
    rows.append(("loading the embedding model (once per process: a CLI run, a server start)", f"{load_s:.2f} s", ""))
    rows.append(
        (
            f"ingest {PROTOCOL[:24]}… ({pages} p, {len(chunks)} chunks), median of {RUNS}",
            f"{len(chunks) / ingest_s:.1f} chunks/s ({embed_s / ingest_s:.2f}x embedding)",
            f"{pages / ingest_s:.2f} pages/s ({ingest_s:.1f} s; runs {', '.join(f'{t:.1f}' for t in ingest_runs)})",
        )
    )


def ingest_corpus(home: Path) -> object:
    """The evaluation corpus ingested into study S000 of a fresh home."""
    shutil.rmtree(home, ignore_errors=True)
    container = _service(home)
    report = container.knowledge.ingest([EVAL / "corpus"], study="S000", kind="protocol", now=NOW, progress=False)
    assert report.ok, [o.line() for o in report.failed]
    return container


def stock_index(container: object) -> VectorIndex:
    """What a user would pick instead: a LangChain Chroma retriever over the stock all-MiniLM-L6-v2's vectors of
    the same chunks. Since session 25 the engine's own index holds the fine-tuned reader's vectors, and a
    retriever over those is not the alternative (it found the evidence for 0.88, the stock model's for 0.65)."""
    from knowledge.embedding import shared_embeddings
    from knowledge.reindex import reindex_study

    settings = container.settings  # type: ignore[attr-defined]
    # Its own collection even when the engine's index is the stock model's (no reader installed): a LangChain
    # retriever reads each chunk's text from the store, which the engine does not keep there.
    stock = VectorIndex(settings, shared_embeddings(), collection="bench_stock_minilm", keep_texts=True)
    reindex_study(container.factory, stock, "S000", repair=False)  # type: ignore[attr-defined]
    return stock


def build_scale(container: object, target_chunks: int, stock: VectorIndex) -> list[str]:
    """Copy study S000 to S001… until ~target_chunks chunks exist, in the engine's index and the stock one."""
    from knowledge.catalog import embedding_text
    from knowledge.models import ChunkRow, DocumentRow, DocumentVersionRow

    knowledge = container.knowledge  # type: ignore[attr-defined]
    with container.factory() as s:  # type: ignore[attr-defined]
        docs = s.execute(select(DocumentRow).where(DocumentRow.study == "S000")).scalars().all()
        versions = (
            s.execute(select(DocumentVersionRow).where(DocumentVersionRow.document_id.in_([d.id for d in docs])))
            .scalars()
            .all()
        )
        chunks = s.execute(select(ChunkRow).where(ChunkRow.study == "S000").order_by(ChunkRow.id)).scalars().all()
    indexes = list({id(i): i for i in (knowledge.vectors, stock)}.values())
    held = [i.collection.get(where={"study": "S000"}, include=["embeddings", "metadatas"]) for i in indexes]
    vectors = [dict(zip(h["ids"], h["embeddings"], strict=True)) for h in held]
    meta = dict(zip(held[0]["ids"], held[0]["metadatas"], strict=True))
    texts = {c.id: embedding_text(c.section, c.text) for c in chunks}  # what ingest embeds and a retriever reads
    studies = ["S000"]
    copies = max(0, round(target_chunks / max(1, len(chunks))) - 1)
    for n in range(1, copies + 1):
        study = f"S{n:03d}"
        studies.append(study)
        ids, metas, docs_text, chunk_rows = [], [], [], []
        with container.factory() as s, s.begin():  # type: ignore[attr-defined]
            version_map = {}
            for d in docs:
                new_doc = DocumentRow(study=study, doc_key=d.doc_key, kind=d.kind, title=d.title)
                s.add(new_doc)
                s.flush()
                for v in (v for v in versions if v.document_id == d.id):
                    new_v = DocumentVersionRow(
                        document_id=new_doc.id,
                        version=v.version,
                        effective=v.effective,
                        file_name=v.file_name,
                        content_hash=v.content_hash,
                        pages=v.pages,
                        is_current=v.is_current,
                        ingested_at=NOW,
                        chunk_count=v.chunk_count,
                    )
                    s.add(new_v)
                    s.flush()
                    version_map[v.id] = new_v.id
            for c in chunks:
                new_id = f"v{version_map[c.version_id]}c{c.ordinal}"
                chunk_rows.append(
                    {
                        "id": new_id,
                        "version_id": version_map[c.version_id],
                        "study": study,
                        "ordinal": c.ordinal,
                        "section": c.section,
                        "page": c.page,
                        "page_end": c.page_end,
                        "page_map": c.page_map,
                        "text": c.text,
                    }
                )
                ids.append(new_id)
                metas.append({**meta[c.id], "study": study, "version_id": version_map[c.version_id]})
                docs_text.append(texts[c.id])
            s.execute(insert(ChunkRow), chunk_rows)
        import numpy as np

        sources = [c.id for c in chunks]
        for index, by_id in zip(indexes, vectors, strict=True):
            index.add(ids, docs_text, np.asarray([by_id[i] for i in sources], dtype=np.float32), metas)
        knowledge.search("warm", studies=[study], k=1)  # build this study's keyword index now
    return studies


def ask_latency(
    container: object,
    stock: VectorIndex,
    studies: list[str],
    rows: list[tuple[str, str, str]],
    repeats: int,
    where: str,
) -> None:
    """Ask the development questions, each in one study, with the reader's cache emptied before each
    question (cold caches: a running server answers repeated passages faster), next to the
    vector-only LangChain retriever on the same collection and filter."""
    from knowledge.evaluation import contains_evidence, load_qa
    from knowledge.types import Passage

    knowledge = container.knowledge  # type: ignore[attr-defined]
    items = load_qa(EVAL / "qa_dev.jsonl")
    rng = random.Random(7)
    ours, base, hits_ours, hits_base, answerable = [], [], 0, 0, 0
    # one untimed ask first: onnxruntime sizes its memory on a session's first runs (a server pays it once)
    knowledge.ask(items[0].question, studies=[studies[0]], asker="bench", surface="bench", record=False)
    for _ in range(repeats):
        for item in items:
            study = rng.choice(studies)
            answer, took = cold_ask(knowledge, item.question, study)
            ours.append(took)
            retriever = stock.store.as_retriever(search_kwargs={"k": 5, "filter": {"study": study}})
            started = time.perf_counter()
            docs = retriever.invoke(item.question)
            base.append(time.perf_counter() - started)
            if item.answerable:
                answerable += 1
                hits_ours += any(contains_evidence(p, item) for p in answer.retrieved[:5])
                as_passages = [
                    Passage("", study, d.metadata.get("doc", "") + ".x", "", "", "", None, d.page_content) for d in docs
                ]
                hits_base += any(contains_evidence(p, item) for p in as_passages)
    p50, p95 = p50_p95_ms(ours)
    rows.append(
        (
            f"ask {where}: hybrid + answer model",
            f"p50 {p50:.0f} ms / p95 {p95:.0f} ms",
            f"evidence in top 5: {hits_ours / answerable:.2f}",
        )
    )
    p50, p95 = p50_p95_ms(base)
    rows.append(
        (
            f"ask {where}: vector-only LangChain Chroma retriever (stock MiniLM)",
            f"p50 {p50:.0f} ms / p95 {p95:.0f} ms",
            f"evidence in top 5: {hits_base / answerable:.2f}",
        )
    )


def main(quick: bool = False) -> None:
    from rich.console import Console
    from rich.table import Table

    if not (EVAL / "corpus" / PROTOCOL).exists():
        print(f"skipped: the evaluation corpus is not at {EVAL} (set SITELINE_BENCH_EVAL)")
        return
    OUT.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str, str]] = []
    embedding_vs_ingest(rows)
    target = 6_000 if quick else 50_000
    repeats = 1 if quick else 3
    container = ingest_corpus(OUT / "scale")
    corpus = container.knowledge.vectors.count()  # type: ignore[attr-defined]
    stock = stock_index(container)
    ask_latency(container, stock, ["S000"], rows, repeats, f"at {corpus} chunks")
    started = time.perf_counter()
    studies = build_scale(container, target, stock)
    chunks = container.knowledge.vectors.count()  # type: ignore[attr-defined]
    rows.append(
        (f"scale set: {len(studies)} studies", f"{chunks} chunks", f"built in {time.perf_counter() - started:.0f} s")
    )
    ask_latency(container, stock, studies, rows, repeats, f"at {chunks} chunks")
    table = Table(title=f"knowledge bench ({'quick' if quick else 'full'}; {os.cpu_count()} CPUs)")
    for column in ("what", "speed", "detail"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console().print(table)


if __name__ == "__main__":
    import sys

    main(quick="--quick" in sys.argv)
