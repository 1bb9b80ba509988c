"""philter-lite, UCSF's clinical de-identification filters, as the guard's first layer.

We run philter-lite's own engine over its bundled "philter_delta" filter sequence (census name lists
behind a proper-noun gate, salutation and name-context patterns, clinical date, ID, contact, age and
address patterns), with three changes made here and nowhere else:
- each PHI filter is given a Siteline kind (NAME, DATE, ID, ...) so findings are typed;
- Siteline's trial vocabulary (privacy.vocabulary) goes first as "safe" filters, so ORION-301 or
  Week 12 can never be claimed by a PHI filter;
- the POS step uses privacy.tagging instead of NLTK's downloadable model (see that module).
Filters for hospital and organisation names and UCSF-specific places are dropped: neither is a
Safe Harbor identifier of the patient, and both fire on ordinary site talk.
"""

from __future__ import annotations

import re
import threading
import tomllib
from collections.abc import Callable
from importlib import resources

import philter_lite
import philter_lite.philter as philter_engine
import regex
from philter_lite.filters import Filter, RegexFilter, filter_db, filter_from_dict

from privacy.redaction import Finding
from privacy.tagging import LexiconTagger
from privacy.vocabulary import PATTERNS as SAFE_PATTERNS

CONFIG = "philter_delta.toml"
CHUNK_CHARS = 400
KINDS = ["NAME", "DATE", "ID", "SSN", "EMAIL", "URL", "PHONE", "AGE", "ADDRESS"]

# philter filter keyword (or prefix) → Siteline kind; None drops the filter. First match wins.
_KIND_BY_KEYWORD: list[tuple[str, str | None]] = [
    ("mrn_id.ssn", "SSN"),
    ("mrn_id.", "ID"),
    ("contact.email", "EMAIL"),
    ("contact.url", "URL"),
    ("contact.pager", None),  # any 5-digit number: ZIP codes, query ids; phones are caught in full elsewhere
    ("contact.", "PHONE"),
    ("dates.", "DATE"),
    ("age.", "AGE"),
    ("salutations.", "NAME"),
    ("regex_context.", "NAME"),
    ("firstnames", "NAME"),
    ("lastnames", "NAME"),
    ("addresses.hospital", None),
    ("addresses.in_city", None),  # "in EDC", "at SIV": any acronym after in/at; real cities come with a state or ZIP
    ("addresses.", "ADDRESS"),
    ("organizations.", None),
    ("ucsf_regex.", None),
]

_install_lock = threading.Lock()


class PhilterLayer:
    """Loads philter-lite's filters once; detect() is pure and safe to call from many threads."""

    def __init__(self) -> None:
        common = frozenset(filter_db.set_db["nonames"])
        _install_tagger(LexiconTagger(common))
        self._filters = _safe_filters() + _phi_filters()
        self._probes = [_probe(f.data) if isinstance(f, RegexFilter) else None for f in self._filters]

    def detect(self, text: str) -> list[Finding]:
        findings = []
        for offset, chunk in chunks(text):
            # A regex filter that matches nowhere in the piece maps nothing, and context filters read only set
            # filters' maps: skipping it changes no finding. The probe runs the same pattern in the `regex`
            # engine, which lets go of the GIL while it matches: the ~300 patterns were a fifth of the GIL
            # time under 20 concurrent asks (profiled), and most match nowhere in a question.
            active = [f for f, probe in zip(self._filters, self._probes, strict=True) if probe is None or probe(chunk)]
            _include, _exclude, tracker = philter_lite.detect_phi(chunk, active, phi_type_list=KINDS)
            findings += [
                Finding(p.phi_type, offset + p.start, offset + p.stop) for p in tracker.phi if p.phi_type in KINDS
            ]
        return findings


def _probe(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    """Whether the pattern matches anywhere: by `regex` (same syntax and flags, matching without the GIL),
    or by `re` itself for a pattern `regex` would not compile."""
    try:
        compiled = regex.compile(pattern.pattern, pattern.flags)
    except regex.error:
        return lambda text: pattern.search(text) is not None
    return lambda text: compiled.search(text, concurrent=True) is not None


def chunks(text: str, size: int = CHUNK_CHARS) -> list[tuple[int, str]]:
    """Split at line, sentence or word breaks into pieces of at most ~size characters.

    Some of philter's patterns look ahead to the end of the text from every word, so their cost grows
    with the square of the length: a pasted page would take seconds whole, and takes milliseconds in
    pieces. Pieces end at whitespace, so no token is cut; names that straddle a cut are regrown later.
    """
    pieces = []
    start = 0
    while len(text) - start > size:
        window = text[start : start + size]
        cut = max(window.rfind("\n"), window.rfind(". "), window.rfind("? "), window.rfind("! "))
        if cut < size // 2:
            cut = window.rfind(" ")
        cut = start + (cut + 1 if cut > 0 else size)
        pieces.append((start, text[start:cut]))
        start = cut
    pieces.append((start, text[start:]))
    return pieces


def _kind_for(keyword: str) -> str | None:
    for prefix, kind in _KIND_BY_KEYWORD:
        if keyword.startswith(prefix):
            return kind
    return None


def _phi_filters() -> list[Filter]:
    with resources.files(philter_lite).joinpath("configs", CONFIG).open("rb") as f:
        config = tomllib.load(f)
    filters: list[Filter] = []
    for spec in config["filters"]:
        if not spec["exclude"]:
            filters.append(filter_from_dict(spec))
            continue
        kind = _kind_for(spec.get("keyword", ""))
        if kind is not None:
            filters.append(filter_from_dict({**spec, "phi_type": kind}))
    return filters


def _safe_filters() -> list[Filter]:
    return [
        RegexFilter(title=f"siteline {name}", type="regex", exclude=False, phi_type="OTHER", data=re.compile(p))
        for name, p in SAFE_PATTERNS.items()
    ]


def _install_tagger(tagger: LexiconTagger) -> None:
    """Point philter-lite's POS step at our tagger (its only call into NLTK's data)."""
    with _install_lock:
        clean = philter_engine._get_clean
        philter_engine._get_pos = lambda text: tagger.tag(clean(text))
