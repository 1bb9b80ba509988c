"""`siteline ingest | reindex | ask | eval`: study documents in, cited answers out, and a quality report."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from knowledge.vector_index import VectorStoreUnavailable
from siteline.cli.common import container, fail, print_json

if TYPE_CHECKING:
    from knowledge.catalog import VersionInfo


class Kind(StrEnum):
    protocol = "protocol"
    sop = "sop"
    manual = "manual"
    other = "other"
    clarification = "clarification"  # published from a dashboard "protocol unclear" cluster


def _check_study(study: str) -> str:
    study = study.strip()
    if not study or len(study) > 64:
        fail("--study must be 1 to 64 characters", code=2)
    if any(not ch.isprintable() for ch in study):
        fail("--study must not hold control characters (a line break, a tab)", code=2)
    return study


def _vector_store_errors(command: Callable[..., None]) -> Callable[..., None]:
    """A Chroma server that is down or refuses the token is one line naming it, not a traceback."""

    @functools.wraps(command)
    def guarded(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except VectorStoreUnavailable as exc:
            fail(str(exc))

    return guarded


def register(app: typer.Typer) -> None:
    @app.command()
    @_vector_store_errors
    def ingest(
        paths: list[Path] = typer.Argument(..., help="files or folders (searched recursively)"),
        study: str = typer.Option(..., "--study", help="the study these documents belong to"),
        kind: Kind = typer.Option(..., "--kind", help="what the documents are"),
        version: str | None = typer.Option(None, "--version", help="version label (default: next number)"),
        effective: str | None = typer.Option(None, "--effective", help="effective date, YYYY-MM-DD"),
    ) -> None:
        """Ingest PDF, DOCX, HTML, Markdown and text files; exit 1 if any file could not be ingested."""
        study = _check_study(study)
        when: date | None = None
        if effective:
            try:
                when = date.fromisoformat(effective)
            except ValueError:
                fail(f"--effective {effective!r} is not a YYYY-MM-DD date", code=2)
        c = container()
        report = c.knowledge.ingest(
            paths, study=study, kind=kind.value, version=version, effective=when, now=c.clock.now(), progress=True
        )
        for outcome in report.outcomes:
            color = {"failed": typer.colors.RED, "skipped": typer.colors.YELLOW}.get(outcome.status)
            typer.secho(outcome.line(), fg=color, err=outcome.status == "failed")
        if report.vectors_restored:
            typer.echo(f"{report.vectors_restored} stored chunks had no vector in the index; embedded them now")
        done = report.count("ingested") + report.count("superseded")
        typer.echo(
            f"study {study}: {done} ingested, {report.count('unchanged')} unchanged, "
            f"{report.count('skipped')} skipped, {len(report.failed)} failed"
        )
        if report.failed:
            raise typer.Exit(1)

    @app.command()
    @_vector_store_errors
    def reindex(
        study: list[str] = typer.Option([], "--study", help="study to reindex (repeat; default: every study)"),
        everything: bool = typer.Option(False, "--all", help="embed every chunk again, not only missing ones"),
    ) -> None:
        """Rebuild the vector index from the stored chunks: after `index/chroma` was damaged and deleted, or a
        Chroma server was restored from an older backup. Embeds chunks that have no vector, removes vectors
        of versions no longer stored, corrects each version's current flag."""
        from knowledge.catalog import studies_with_documents

        c = container()
        with c.factory() as session:
            known = studies_with_documents(session)
        wanted = list(dict.fromkeys(_check_study(s) for s in study)) or known
        unknown = [s for s in wanted if s not in known]
        if unknown:
            fail(f"no documents are stored for study {', '.join(unknown)}; stored: {', '.join(known) or 'none'}")
        if not wanted:
            fail("no documents have been ingested; run `siteline ingest` first")
        for n, name in enumerate(wanted):  # a line as each study is done: an interrupted run says how far it got
            try:
                report = c.knowledge.reindex(name, now=c.clock.now(), everything=everything, progress=True)
            except KeyboardInterrupt:
                left = ", ".join(wanted[n:])
                fail(
                    f"interrupted; not finished: {left} (run `siteline reindex` again: it picks up where it stopped)",
                    130,
                )
            typer.echo(report.line())

    @app.command()
    @_vector_store_errors
    def ask(
        question: str = typer.Argument(..., help="the question, in your own words"),
        study: list[str] = typer.Option(..., "--study", help="study to search (repeat for several)"),
        as_json: bool = typer.Option(False, "--json", help="print the answer as one JSON object"),
        version: str | None = typer.Option(None, "--version", help="search this version of the documents"),
        doc: str | None = typer.Option(None, "--doc", help="search only this document (file name or stem)"),
    ) -> None:
        """Answer from the study's documents, with citations, or say it is not found there."""
        studies = [_check_study(s) for s in study]
        if not question.strip():
            fail("the question is empty", code=2)
        c = container()
        if not c.knowledge.has_documents(studies):
            fail(f"no documents have been ingested for study {', '.join(studies)}; run `siteline ingest` first")
        if version is not None or doc is not None:
            _check_version_and_doc(c.knowledge.document_versions(studies), studies, version, doc)
        from siteline import phi

        redaction = phi.redact(question)  # before the engine stores, logs or embeds it
        answer = c.knowledge.ask(
            redaction.text.strip(),
            studies=studies,
            asker="cli",
            surface="cli",
            now=c.clock.now(),
            version=version,
            doc=doc,
            phi_redacted=redaction.changed,
        )
        if as_json:
            print_json(answer.to_json())
            return
        from knowledge.types import ALSO_IN_DOCUMENTS

        typer.echo(answer.answer)
        if answer.abstained:
            typer.echo("Nothing in the study documents answers this; ask your CRA.")
        for n, cite in enumerate(answer.citations, start=1):
            if cite.alternate and not answer.citations[n - 2].alternate:
                typer.echo(f"\n{ALSO_IN_DOCUMENTS}")
            where = ", ".join(x for x in (cite.section, f"p. {cite.page}" if cite.page else "") if x)
            typer.echo(f"\n[{n}] {cite.title} ({cite.doc}, version {cite.version}){': ' + where if where else ''}")
            typer.echo(f'    "{cite.quote}"')
        typer.secho(f"\n{answer.mode}, {answer.latency_ms} ms", dim=True)

    @app.command("eval")
    @_vector_store_errors
    def eval_(
        qa_file: Path = typer.Argument(
            ..., help="QA set: one JSON object a line (question, doc, answer, evidence, kind)"
        ),
        k: int = typer.Option(5, "--k", min=1, max=50, help="passages retrieved per question"),
        as_json: bool = typer.Option(False, "--json", help="print figures and one row per question as JSON"),
        study: list[str] = typer.Option([], "--study", help="studies to search (default: every study with documents)"),
        by: str = typer.Option("", "--by", help="also one row per 'document' or per 'kind' of question"),
    ) -> None:
        """Answer every question of a QA set and report retrieval, answer, abstention and latency figures.

        Leave-one-document-out figures (every model fitted without a document, measured on it) come from
        `scripts/leave_one_document_out.sh` (one command; it needs a Python with torch for the fold readers);
        see docs/knowledge.md.
        """
        if by not in ("", "document", "kind"):
            fail(f"--by must be 'document' or 'kind', not {by!r}", code=2)
        from knowledge.catalog import studies_with_documents
        from knowledge.evaluation import QaFileError, load_qa, run_eval

        if not qa_file.is_file():
            fail(f"{qa_file}: no such file", code=2)
        try:
            items = load_qa(qa_file)
        except QaFileError as exc:
            fail(str(exc), code=2)
        c = container()
        if not study:
            with c.factory() as session:
                study = studies_with_documents(session)
        if not study or not c.knowledge.has_documents(study):
            fail("no documents have been ingested; run `siteline ingest` first")
        knowledge = c.knowledge
        knowledge.search("warm up", studies=study, k=1)  # load indexes before timing
        report = run_eval(
            items, lambda q: knowledge.ask(q, studies=study, asker="eval", surface="eval", record=False, k=k), k=k
        )
        figures = report.figures()
        groups = report.breakdown(by) if by else {}
        if as_json:
            out = {"studies": study, "figures": figures, "rows": [r.to_json() for r in report.rows]}
            if by:
                out[f"by_{by}"] = groups
            print_json(out)
            return
        _print_figures(figures, study)
        if by:
            _print_breakdown(groups, by)


def _print_figures(figures: dict[str, object], studies: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"siteline eval ({', '.join(studies)})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in figures.items():
        table.add_row(name.replace("_", " "), "-" if value is None else str(value))
    Console().print(table)


BREAKDOWN_COLUMNS = (
    ("questions", "n"),
    ("cited_quotes_hold_evidence", "cited holds"),
    ("first_quote_holds_evidence", "first holds"),
    ("abstained_when_unanswerable", "unanswerable abstained"),
    ("false_abstain", "false abstain"),
    ("latency_p50_ms", "p50 ms"),
    ("latency_p95_ms", "p95 ms"),
)


def _print_breakdown(groups: dict[str, dict[str, object]], by: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"per {by}")
    table.add_column(by)
    for _, label in BREAKDOWN_COLUMNS:
        table.add_column(label, justify="right")
    for key, figures in groups.items():
        table.add_row(key, *("-" if figures.get(f) is None else str(figures[f]) for f, _ in BREAKDOWN_COLUMNS))
    Console().print(table)


def _check_version_and_doc(
    versions: list[VersionInfo], studies: list[str], version: str | None, doc: str | None
) -> None:
    """A version or document that does not exist is a typo to point out, not a question the documents lack."""
    where = ", ".join(studies)
    if doc is not None:
        named = [v for v in versions if doc in (v.doc_key, v.file_name)]
        if not named:
            known = ", ".join(sorted({v.file_name for v in versions}))
            fail(f"no document {doc!r} in study {where} (documents: {known})", code=2)
        versions = named
    if version is not None and all(v.version != version for v in versions):
        known = ", ".join(sorted({v.version for v in versions}))
        fail(f"no version {version!r} in study {where}{f' for {doc}' if doc else ''} (versions: {known})", code=2)
