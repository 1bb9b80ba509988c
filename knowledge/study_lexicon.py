"""A study's own vocabulary, learned from its documents: abbreviations, drug codes and brand names.

Protocols define what they abbreviate: an abbreviation list ("AE   Adverse event"), definitions in
running text ("axicabtagene ciloleucel (axi-cel)", the Schwartz & Hearst 2003 rule: the short
form's letters appear, in order, in the words just before it), drug codes ("ibrutinib
(PCI-32765)") and brands ("tofacitinib [Xeljanz®]"). Site staff ask in exactly these words, so
each study's index carries the pairs found in its own chunks; nothing here is fitted to one
study, and a study's definition of "PD" (progressive disease) wins over the general lexicon's.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from knowledge.lexicon import in_english_vocabulary

NAME_WORDS = 6  # a definition longer than this is a sentence the rules caught, not a name
GLOSSARY_SECTION = re.compile(r"abbreviation|glossary|definition", re.IGNORECASE)
SHORT = r"[A-Za-z0-9][A-Za-z0-9α-ωΑ-Ω/+-]{0,11}"
PAREN = re.compile(rf"\(\s*({SHORT})\s*[),;]")
LIST_LINE = re.compile(rf"^\s*\|?\s*({SHORT})\s*(?:\s|[-–=:|])\s*([A-Za-z][^\n|]{{2,120}})\|?\s*$")
BRAND_AFTER = re.compile(r"\b([a-z][a-z-]{4,})\s*[\[(]\s*([A-Z][A-Za-z-]{2,})\s*[®™]")  # tofacitinib [Xeljanz®]
BRAND_BEFORE = re.compile(r"\b([A-Z][A-Za-z-]{2,})\s*[®™]\s*\(\s*([a-z][a-z -]{4,40}?)\s*\)")  # Xeljanz® (tofacitinib)
CODE = re.compile(r"^(?=(?:.*\d){2})(?=(?:.*[A-Za-z]){2})[A-Za-z][A-Za-z0-9-]{3,}$")  # PCI-32765, KTE-C19, ABT-494
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'-]*")
SMALL_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "for",
        "to",
        "and",
        "or",
        "with",
        "by",
        "at",
        "from",
        "as",
        "is",
        "are",
        "be",
        "was",
        "per",
    ]
)
GLOSSARY_TITLE_CHARS = 60  # "LIST OF ABBREVIATIONS AND DEFINITIONS OF TERMS": a title line, not a sentence
GLOSSARY_LINES, GLOSSARY_SHARE = 8, 0.6  # a chunk of at least this many "AE  Adverse event" lines, most of its lines
MAX_FORMS = 3
MAX_LONG_WORDS = 8


def _is_short_form(token: str) -> bool:
    letters = [c for c in token if c.isalpha()]
    if not letters or len(token) < 2 or token.isdigit():
        return False
    return sum(c.isupper() for c in letters) >= max(1, len(letters) // 2) or any(c.isdigit() for c in token)


def best_long_form(short: str, before: str) -> str | None:
    """Schwartz & Hearst: the shortest run of words before "(SHORT)" holding its letters in order,
    the first one starting a word."""
    words = WORD.findall(before)[-(min(len(short) + 5, 2 * len(short))) :]
    text = " ".join(words)
    s = [c.lower() for c in short if c.isalnum()]
    if not s or not text:
        return None
    si, li = len(s) - 1, len(text) - 1
    while si >= 0:
        c = s[si]
        while li >= 0 and (text[li].lower() != c or (si == 0 and li > 0 and text[li - 1].isalnum())):
            li -= 1
        if li < 0:
            return None
        li -= 1
        si -= 1
    start = text.rfind(" ", 0, li + 1) + 1
    long_form = text[start:].strip()
    lead = long_form.split()
    while lead and lead[0].lower() in SMALL_WORDS:
        lead.pop(0)
    long_form = " ".join(lead)
    if not long_form or len(long_form) <= len(short) or len(lead) > MAX_LONG_WORDS:
        return None
    if lead[0].lower().strip("-") == short.lower():
        return None
    return long_form


def _code_pair(short: str, before: str) -> str | None:
    """ "ibrutinib (PCI-32765)": a drug code in brackets stands for the word(s) just before it."""
    if not CODE.match(short):
        return None
    words = [w for w in WORD.findall(before)[-2:] if w.lower() not in SMALL_WORDS]
    if not words or not words[-1].isalpha() or len(words[-1]) < 5 or in_english_vocabulary(words[-1].lower()):
        return None  # "ibrutinib (PCI-32765)" names a drug; "survey (SF-12)" or "weeks (Q12W)" do not
    return words[-1]


def is_glossary(text: str, section: str = "") -> bool:
    """Whether a chunk is (part of) an abbreviation list: its section says so, or, where a protocol's front matter
    has no numbered heading to give it a section, its first lines carry the list's title ("List of Abbreviations",
    "ABBREVIATIONS") or most of its lines are "AE  Adverse event" pairs (the list's later chunks)."""
    if GLOSSARY_SECTION.search(section):
        return True
    lines = [line for line in text.splitlines() if line.strip()]
    if any(len(line) <= GLOSSARY_TITLE_CHARS and GLOSSARY_SECTION.search(line) for line in lines[:3]):
        return True
    listed = sum(1 for line in lines if (m := LIST_LINE.match(line)) and _listed_pair(m.group(1), m.group(2)))
    return listed >= GLOSSARY_LINES and listed >= GLOSSARY_SHARE * len(lines)


def _listed_pair(short: str, long_form: str) -> bool:
    """ "PFS  Prefilled syringe", "Q4W  Every 4 weeks": a short form spelt from its long form's first letter, or a
    code; not a title page's "PROTOCOL NUMBER: GR41984" nor a contents line's "Table of Contents"."""
    if not _is_short_form(short) or long_form[:1].isdigit():
        return False
    return short[:1].lower() == long_form[:1].lower() or any(c.isdigit() for c in short)


def pairs_in(text: str, section: str = "") -> Iterable[tuple[str, str]]:
    """(short form, long form) pairs defined in one chunk of a document."""
    if is_glossary(text, section):
        named = bool(GLOSSARY_SECTION.search(section))  # a list under its own heading is read as it always was
        for line in text.splitlines():
            m = LIST_LINE.match(line)
            if not m or m.group(2)[:1].isdigit():
                continue
            if _listed_pair(m.group(1), m.group(2)) or (named and _is_short_form(m.group(1))):
                yield m.group(1), m.group(2).strip().rstrip(".;,")
    for m in PAREN.finditer(text):
        short = m.group(1)
        before = text[max(0, m.start() - 120) : m.start()]
        if _is_short_form(short):
            long_form = best_long_form(short, before) or _code_pair(short, before)
            if long_form:
                yield short, long_form
    for m in BRAND_AFTER.finditer(text):
        yield m.group(2), m.group(1)
    for m in BRAND_BEFORE.finditer(text):
        yield m.group(1), m.group(2)


def learn(chunks: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """A study's lexicon from its (section, text) chunks: short form (lower case) -> its long forms,
    most often defined first, and a drug code or brand from its one-word generic name as well. A "long form" of
    more than NAME_WORDS words is a sentence the rules caught ("END  of the study is the date of the last visit
    …" in a definitions list), not a name: it would stand for every "end" a coordinator types."""
    counts: dict[str, Counter[str]] = {}
    for section, text in chunks:
        for short, long_form in pairs_in(text, section):
            if len(long_form.split()) <= NAME_WORDS:
                counts.setdefault(short.lower(), Counter())[" ".join(long_form.split()).lower()] += 1
    table: dict[str, list[str]] = {}
    for short, forms in counts.items():
        ranked = forms.most_common(MAX_FORMS)
        table[short] = [f for i, (f, n) in enumerate(ranked) if i == 0 or n >= 2]  # a one-off second form is noise
        top = ranked[0][0]
        if len(top.split()) == 1 and top.isalpha() and top not in counts and not in_english_vocabulary(top):
            table.setdefault(top, []).append(short)  # ibrutinib -> pci-32765: documents use either
    return table


# What protocols and manuals call the drug under study, whatever its name: site staff ask about "the Corvexa
# syringes" where the protocol says "Store study intervention in a refrigerator at 2 °C to 8 °C".
STUDY_DRUG_PHRASES = ("study intervention", "study drug", "investigational product", "study treatment", "IP")


def with_study_drug(table: dict[str, list[str]], openings: Iterable[str]) -> dict[str, list[str]]:
    """The lexicon with the study's own drug also meaning "study intervention", "study drug", "IP"…: a one-word
    generic name the study defines by a brand or code (`learn`) that a document's opening pages name (a title page
    names what is studied; a prohibited medicine is not on it), and its brand and code. Learnt from the study's
    documents, so nothing in the repository names any study's drug."""
    opening = {w.lower() for text in openings for w in WORD.findall(text)}
    drugs = {
        name
        for name, forms in table.items()
        if len(name.split()) == 1 and name.isalpha() and name in opening and not in_english_vocabulary(name)
        and any(f in table and name in table[f] for f in forms)  # defined by a brand or code that points back
    }  # fmt: skip
    out = {k: list(v) for k, v in table.items()}
    for name in drugs:
        for key in [name, *table[name]]:
            out[key] = out.get(key, []) + [p.lower() for p in STUDY_DRUG_PHRASES if p.lower() not in out.get(key, [])]
    return out
