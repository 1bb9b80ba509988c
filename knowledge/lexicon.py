"""Words as the keyword index sees them, and chat phrasing turned into the words documents use.

Documents and questions go through the same `terms()`: lower case, a light suffix stemmer, and
compound names split both ways ("WD-204" -> wd, 204, wd204; "NasalGlucagon" -> nasal, glucagon).
A question is then expanded: chat shorthand and brand names from `assets/lexicon.yaml`
("pt", "wk", "SAE", "IP", "Rinvoq"), and words the documents do not contain are matched to
words they do, by prefix ("upa" -> upadacitinib) or spelling distance ("scren" -> screen).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

LEXICON_FILE = Path(__file__).parent / "assets" / "lexicon.yaml"
COMPOUND = re.compile(r"[A-Za-z0-9]+(?:[-_/.'’][A-Za-z0-9]+)*")
CAMEL = re.compile(r"(?<=[a-z]{3})(?=[A-Z][a-z]{2})")
ALNUM_RUN = re.compile(r"[a-z]+|[0-9]+")
EXPANSION_WEIGHT = 0.6
PREFIX_WEIGHT = 0.8
FUZZY_WEIGHT = 0.7


def stem(word: str) -> str:
    """A deliberately light English suffix stemmer (plural, -ing, -ed, final e, doubled consonant)."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, replacement in (("ies", "y"), ("ied", "y"), ("sses", "ss")):
        if word.endswith(suffix) and len(word) > 4:
            return word[: -len(suffix)] + replacement
    if word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz" and word[-1].isalpha():
        word = word[:-1]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def _compound_terms(raw: str) -> list[str]:
    out: list[str] = []
    parts = [p for p in re.split(r"[-_/.'’]", raw) if p]
    pieces: list[str] = []
    for part in parts:
        pieces.extend(CAMEL.split(part))
    for piece in pieces:
        low = piece.lower()
        if low in stopwords():
            continue
        out.append(stem(low))
        runs = ALNUM_RUN.findall(low)
        if len(runs) > 1:
            out.extend(r for r in runs if len(r) >= 2 or r.isdigit())
    if len(pieces) > 1:
        out.append("".join(p.lower() for p in pieces))
    return out


def terms(text: str) -> list[str]:
    """Index terms of a text, in order, with repeats (what BM25 counts)."""
    out: list[str] = []
    for m in COMPOUND.finditer(text):
        out.extend(_compound_terms(m.group(0)))
    return out


def words(text: str) -> list[str]:
    """Lower-case words as typed (compounds kept whole), for lexicon look-ups."""
    return [m.group(0).lower() for m in COMPOUND.finditer(text)]


@cache
def _data() -> dict:
    return yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8")) or {}


@cache
def stopwords() -> frozenset[str]:
    return frozenset(str(_data().get("stopwords") or "").split())


@cache
def lexicon() -> dict[str, list[str]]:
    data = _data()
    merged: dict[str, list[str]] = {}
    for table in ("abbreviations", "drugs"):
        for key, values in (data.get(table) or {}).items():
            merged.setdefault(str(key).lower(), []).extend(str(v) for v in values)
    return merged


@dataclass
class QueryTerms:
    """Weighted index terms of a question and the rewritten text used for the vector search."""

    weights: dict[str, float] = field(default_factory=dict)
    typed: list[str] = field(default_factory=list)  # terms of the words the user typed (after spelling fixes)
    semantic_text: str = ""

    def add(self, term: str, weight: float) -> None:
        if weight > self.weights.get(term, 0.0):
            self.weights[term] = weight


def _near(term: str, vocab: Mapping[str, int]) -> list[tuple[str, float]]:
    """Vocabulary terms for a term the documents lack: by prefix first, else by spelling distance."""
    if len(term) >= 3 and term.isalpha():
        starts = sorted((t for t in vocab if t.startswith(term) and t.isalpha()), key=lambda t: -vocab[t])
        if starts:
            return [(t, PREFIX_WEIGHT) for t in starts[:3]]
    if len(term) >= 4 and term.isalpha():
        from rapidfuzz import fuzz, process

        cutoff = 80 if len(term) >= 6 else 75
        found = process.extract(term, list(vocab), scorer=fuzz.ratio, score_cutoff=cutoff, limit=2)
        return [(t, FUZZY_WEIGHT * s / 100) for t, s, _ in found if abs(len(t) - len(term)) <= 2]
    return []


def expand(question: str, vocab: Mapping[str, int]) -> QueryTerms:
    """Weighted terms for the keyword index and a spelled-out question for the vector index.

    `vocab` maps each index term to its document frequency in the studies being searched.
    """
    table = lexicon()
    typed = words(question)
    query = QueryTerms()
    semantic: list[str] = []
    skip_next = False
    for i, word in enumerate(typed):
        if skip_next:
            skip_next = False
            continue
        pair = f"{word} {typed[i + 1]}" if i + 1 < len(typed) else ""
        key = pair if pair in table else word if word in table else None
        if key == pair:
            skip_next = True
        for term in terms(key or word):
            if term in vocab:
                query.add(term, 1.0)
                query.typed.append(term)
            elif key is None:
                for near, weight in _near(term, vocab):
                    query.add(near, weight)
                    query.typed.append(near)
        if key is not None:
            for phrase in table[key]:
                for term in terms(phrase):
                    if term in vocab:
                        query.add(term, EXPANSION_WEIGHT)
            semantic.append(table[key][0])
        else:
            semantic.append(word)
    query.semantic_text = " ".join(semantic) if semantic else question
    return query
