"""Progress of a long ingest, as a port: a rich bar on a terminal, nothing elsewhere (tests, pipes, servers)."""

from __future__ import annotations

from typing import Protocol


class IngestProgress(Protocol):
    def file_started(self, name: str, index: int, total: int) -> None: ...
    def chunks_planned(self, count: int) -> None: ...
    def chunks_done(self, count: int) -> None: ...
    def file_finished(self, name: str, status: str) -> None: ...
    def close(self) -> None: ...


class SilentProgress:
    def file_started(self, name: str, index: int, total: int) -> None:
        pass

    def chunks_planned(self, count: int) -> None:
        pass

    def chunks_done(self, count: int) -> None:
        pass

    def file_finished(self, name: str, status: str) -> None:
        pass

    def close(self) -> None:
        pass


class RichProgress:
    """One bar for files and one for the chunks of the file being embedded, drawn on stderr."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._progress.start()
        self._files = self._progress.add_task("files", total=None)
        self._chunks = self._progress.add_task("embedding", total=None, visible=False)

    def file_started(self, name: str, index: int, total: int) -> None:
        self._progress.update(self._files, total=total, completed=index, description=f"reading {name[:50]}")

    def chunks_planned(self, count: int) -> None:
        self._progress.reset(self._chunks, total=count, visible=True, description="embedding chunks")

    def chunks_done(self, count: int) -> None:
        self._progress.advance(self._chunks, count)

    def file_finished(self, name: str, status: str) -> None:
        self._progress.advance(self._files, 1)
        self._progress.update(self._chunks, visible=False)

    def close(self) -> None:
        self._progress.stop()


def make_progress(enabled: bool | IngestProgress) -> IngestProgress:
    """True gives a bar when stderr is a terminal; a sink object is used as given."""
    if enabled is True:
        import sys

        return RichProgress() if sys.stderr.isatty() else SilentProgress()
    if enabled is False:
        return SilentProgress()
    return enabled
