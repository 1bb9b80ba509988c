"""Which files make which documents: folders walked, formats of one document grouped, the unusable reported.

Files of one name in one folder are one document in several formats, richest first (the next one is
the fallback when it cannot be read); the same name in two folders is two documents. Broken links
and links to folders are reported by name, never dropped in silence.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.outcomes import FileOutcome
from knowledge.readers import RICHNESS, file_format


@dataclass(frozen=True)
class Candidate:
    """One document found for ingest: its key and its files, richest format first (the next is the fallback)."""

    key: str
    files: list[Path]


def _broken_link(path: Path) -> FileOutcome | None:
    if path.is_symlink() and not path.exists():
        if _loops(path):
            return FileOutcome(path, "failed", "symbolic link loop: its links lead back to themselves")
        return FileOutcome(path, "failed", f"broken symbolic link: its target {os.readlink(path)} does not exist")
    return None


def _loops(link: Path) -> bool:
    try:
        link.resolve(strict=True)
    except RuntimeError:  # Python 3.11's word for ELOOP here
        return True
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def collect(paths: Sequence[Path]) -> tuple[list[Candidate], list[FileOutcome]]:
    """The documents to ingest. Files of one name in one folder are one document in several formats (the
    richest is read first); the same name in two folders is two documents, keyed `folder/name` apart."""
    found: list[tuple[Path, str]] = []  # (file, its folder relative to the folder named on the command line)
    early: list[FileOutcome] = []
    for path in paths:
        if (broken := _broken_link(path)) is not None:
            early.append(broken)
        elif path.is_dir():
            hidden: set[Path] = set()
            for f in sorted(path.rglob("*")):
                parts = f.relative_to(path).parts
                dot = next((i for i, part in enumerate(parts) if part.startswith(".")), None)
                if dot is not None:  # .git, .DS_Store, editors' backups: said once per hidden file or folder
                    entry = path.joinpath(*parts[: dot + 1])
                    if entry not in hidden:
                        hidden.add(entry)
                        early.append(FileOutcome(entry, "skipped", "hidden (its name starts with a dot)"))
                    continue
                if (broken := _broken_link(f)) is not None:
                    early.append(broken)
                elif f.is_symlink() and f.is_dir():  # never followed (loops); say so rather than drop it
                    early.append(FileOutcome(f, "skipped", "a symbolic link to a folder is not followed"))
                elif not f.is_file():
                    continue
                elif file_format(f) is None:
                    early.append(FileOutcome(f, "skipped", f"unsupported file type {f.suffix or '(none)'}"))
                else:
                    found.append((f, f.parent.relative_to(path).as_posix()))
        elif path.is_file():
            found.append((path, path.parent.name or "."))
        else:
            early.append(FileOutcome(path, "failed", "no such file or folder"))
    groups: dict[tuple[Path, str], list[tuple[Path, str]]] = {}
    seen: set[Path] = set()
    for f, folder in found:
        if f.resolve() in seen:
            continue
        seen.add(f.resolve())
        groups.setdefault((f.parent.resolve(), f.stem.lower()), []).append((f, folder))
    folders_per_name: dict[str, int] = {}
    for _, stem in groups:
        folders_per_name[stem] = folders_per_name.get(stem, 0) + 1
    chosen: list[Candidate] = []
    for (_, stem), group in groups.items():
        group.sort(key=lambda item: -RICHNESS.get(file_format(item[0]) or "", 0))
        first, folder = group[0]
        shared = folders_per_name[stem] > 1 and folder not in ("", ".")
        chosen.append(Candidate(f"{folder}/{first.stem}" if shared else first.stem, [f for f, _ in group]))
    return chosen, early
