"""Finding section headings in text that has lost its styling (PDF text, plain text, converted Markdown).

Two numbering schemes occur in study documents:
- decimal ("5.3.1 Efficacy and Safety Measurements Assessed", "5. STUDY POPULATION"), used by
  protocols. Numbered list items look the same ("5. Subject has had ..."), so every candidate is
  collected first and the headings kept are the heaviest *increasing* run of section numbers
  through the document: real headings only ever go forward, list items restart at 1.
- outline ("III." / "A." / "1." / "a.", with the title often on the next line), used by FDA
  guidance; a heading is kept when it is the next number at its level, and the section label is
  the path ("III.E.4.b Short Form").
Table-of-contents lines (dot leaders) are dropped, so the TOC cannot pose as the body.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

# a contents page's leaders (dots, spaced dots, ellipses, middle dots; a form's "____" blanks too) and the page
# they run to: "37", "xii", "A-1", "2-1", "22-23", "p. 22", "page 4"
LEADERS = re.compile(r"(?:\.[ \t]{0,3}){5,}|…{2,}|(?:·[ \t]{0,3}){5,}|_{6,}")
PAGE_REF = re.compile(r"(?i)(?:p\.|pp\.|page)?\s*(?:\d{1,3}(?:\s*[-–]\s*\d{1,3})?|[ivx]{1,6}|[a-z]{1,2}-\d{1,3})\.?")
DECIMAL = re.compile(r"^(\d{1,2})((?:\.\d{1,2}){0,5})(\.?)\s+(\S.*)$")
ROMAN = re.compile(r"^([IVX]{1,5})\.\s*(.*)$")
UPPER = re.compile(r"^([A-Z])\.\s*(.*)$")
ARABIC = re.compile(r"^(\d{1,2})\.\s*(.*)$")
LOWER = re.compile(r"^([a-z])\.\s*(.*)$")
# an FAQ's "A1. Can screening ...?", "Q12: ...", "Q: ..." (then "A: ...")
ENTRY = re.compile(r"^([A-Z]{1,2}\d{1,3}[.:)]|(?:Q|A|Question|Answer)\s?\d{0,3}:)\s+(\S.{0,500})$")
ASKED = re.compile(r"^(?:Q|Question)\s?\d{0,3}[.:)]")  # "Q1.", "Q:", "Question 3:"
ANSWERED = re.compile(r"^(?:A|Answer)\s?\d{0,3}:")  # "A:", "A1:", "Answer:" (an "A1." is section A's first entry)
QUESTION_CHARS = 300  # a question (an FAQ's line, a block the next one answers) is no longer than this
RULE = re.compile(r"^[=\-_*~#]{5,}$")  # "=====" framing a banner ("SECTION A - VISITS") in a plain-text FAQ
APPENDIX = re.compile(r"^((?:APPENDIX|Appendix|ANNEX|Annex|ATTACHMENT|Attachment)\s+[A-Z0-9]{1,3})[.:]?\s+(\S.*)$")
FOOTNOTE_MARK = re.compile(r"(?<=[a-zA-Z”’)])\d{1,3}(?:,\d{1,3})*(?=[\s?]|$)")
SENTENCE_CUES = re.compile(r"\b(will|must|should|shall|may|is|are|was|were|has|have|can)\b")
SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to", "with", "vs"}
ROMAN_VALUES = {"I": 1, "V": 5, "X": 10}


def has_leaders(line: str) -> bool:
    """A table-of-contents entry ("6.4 Study Intervention Compliance ....... 37")."""
    return bool(LEADERS.search(line))


def toc_line(line: str) -> bool:
    """A table-of-contents line, or a form's line to fill in: leaders running to a page number or to the line's
    end ("Signature: ______ Date: ______" says nothing to quote). A contact sheet's "Depot fax ........ +1 555
    0100" has leaders too, but what follows them is the answer, not a page."""
    runs = list(LEADERS.finditer(line))
    if not runs:
        return False
    tail = line[runs[-1].end() :].strip()
    return not tail or bool(PAGE_REF.fullmatch(tail))


def _roman(text: str) -> int:
    total = 0
    for i, ch in enumerate(text):
        value = ROMAN_VALUES[ch]
        total += -value if i + 1 < len(text) and ROMAN_VALUES[text[i + 1]] > value else value
    return total


def _letters(title: str) -> list[str]:
    return [c for c in title if c.isalpha()]


def all_caps(title: str) -> bool:
    letters = _letters(title)
    return len(letters) >= 3 and sum(c.isupper() for c in letters) >= 0.8 * len(letters)


def title_case(title: str) -> bool:
    words = [w for w in re.findall(r"[A-Za-z][\w'’-]*", title) if w.lower() not in SMALL_WORDS]
    return bool(words) and sum(w[0].isupper() for w in words) >= 0.7 * len(words)


def plain_title(title: str, *, max_words: int = 16) -> bool:
    """Shape of any heading title: short, starts with a capital, no sentence ending."""
    title = title.strip()
    if not 2 <= len(title) <= 140 or has_leaders(title):
        return False
    first = title.lstrip("“\"'(")[:1]
    if not first.isalpha() or not first.isupper():
        return False
    if title[-1] in ".,;" or len(title.split()) > max_words:
        return False
    return not (len(title.split()) > 7 and SENTENCE_CUES.search(title) and not title.endswith("?"))


@dataclass
class Heading:
    line: int  # index of the line holding the label
    consumed: int  # how many lines the heading occupies (label, title, wrapped title)
    label: str
    title: str

    @property
    def section(self) -> str:
        return f"{self.label} {self.title}".strip()


def _title_after(lines: list[str], i: int, inline: str) -> tuple[str, int] | None:
    """The title of a label at line i: on the same line, or on the next non-blank line (maybe wrapped)."""
    if inline.strip():
        return inline.strip(), 1
    j = i + 1
    while j < len(lines) and not lines[j].strip():
        j += 1
    if j >= len(lines) or j - i > 3:
        return None
    title = lines[j].strip()
    used = j - i + 1
    nxt = lines[j + 1].strip() if j + 1 < len(lines) else ""
    last_word = title.split()[-1].lower() if title.split() else ""
    wrapped = title.count("(") > title.count(")") or last_word in SMALL_WORDS
    wrapped = wrapped or (nxt.endswith("?") and title[-1:].isalpha()) or (all_caps(title) and all_caps(nxt))
    if nxt and len(nxt) < 90 and wrapped and not has_leaders(nxt):
        title, used = f"{title} {nxt}", used + 1
    return title, used


def _followed_by_leaders(lines: list[str], i: int) -> bool:
    for j in range(i + 1, min(i + 3, len(lines))):
        if lines[j].strip():
            return toc_line(lines[j]) and not DECIMAL.match(lines[j].strip())
    return False


def _decimal_candidates(lines: list[str]) -> list[tuple[tuple[int, ...], int, Heading]]:
    found = []
    for i, raw in enumerate(lines):
        line = raw.strip()
        m = DECIMAL.match(line)
        if not m or has_leaders(line) or _followed_by_leaders(lines, i):
            continue
        top, rest, dot, title = m.groups()
        parts = [int(top), *(int(p) for p in rest.split(".")[1:] if p)]
        if len(parts) == 1 and not dot:
            continue  # "23 July 2020", "1 North Waukegan Road"
        while len(parts) > 1 and parts[-1] == 0:
            parts.pop()  # "3.0 Introduction" is section 3
        if not plain_title(title):
            continue
        if len(parts) == 1:
            if not (all_caps(title) or (title_case(title) and len(title.split()) <= 8)):
                continue
            weight = 5 if all_caps(title) else 3  # a title-case top level counts 0.6 of a sure heading
        else:
            weight = 5
        label = top + rest if rest else f"{top}."
        found.append((tuple(parts), weight, Heading(i, 1, label, title.strip())))
    return found


def _heaviest_increasing(cands: list[tuple[tuple[int, ...], int, Heading]]) -> list[Heading]:
    """Weighted longest strictly increasing subsequence by section number. A Fenwick tree over the numbers' ranks
    keeps it O(n log n): a long document numbers thousands of paragraphs ("12.4.3"), and the plain O(n^2) scan took
    seconds. Whole-number weights keep the sums exact, so equal chains tie and go to the earliest predecessor."""
    if not cands:
        return []
    rank = {key: r for r, key in enumerate(sorted({key for key, _, _ in cands}))}
    tree: list[tuple[int, int]] = [(0, 1)] * (len(rank) + 1)  # (best chain weight, -index) per rank prefix
    best = [0] * len(cands)
    prev = [-1] * len(cands)
    for i, (key, weight, _) in enumerate(cands):
        r, top = rank[key], (0, 1)
        while r > 0:  # the best chain ending on a smaller number
            top, r = max(top, tree[r]), r & (r - 1)
        best[i], prev[i] = top[0] + weight, -top[1] if top[1] <= 0 else -1
        r = rank[key] + 1
        while r < len(tree):
            tree[r], r = max(tree[r], (best[i], -i)), r + (r & -r)
    i = max(range(len(cands)), key=lambda n: best[n])
    chain = []
    while i >= 0:
        chain.append(cands[i][2])
        i = prev[i]
    return chain[::-1]


def _outline_headings(lines: list[str]) -> list[Heading]:
    """Roman / capital letter / arabic / lower-case letter headings, each the next number at its level.

    The path holds one entry per level in use; a heading either follows its sibling in the path
    (value + 1), or opens a deeper level at 1. Anything else is a list item or a reference.
    """
    path: list[tuple[int, str, int]] = []  # (kind index, label, value)
    out: list[Heading] = []
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        hit = None
        for kind, pattern in enumerate((ROMAN, UPPER, ARABIC, LOWER)):
            m = pattern.match(line)
            if not m:
                continue
            label, inline = m.group(1), m.group(2)
            value = _roman(label) if kind == 0 else int(label) if kind == 2 else ord(label.lower()) - 96
            same = [n for n, p in enumerate(path) if p[0] == kind]
            if same:
                keep, expected = same[0], path[same[0]][2] + 1
            elif (not path and kind == 0) or (path and kind > path[-1][0]):
                keep, expected = len(path), 1
            else:
                continue
            if value != expected:
                continue
            got = _title_after(lines, i, inline)
            if not got or has_leaders(got[0]) or _followed_by_leaders(lines, i + got[1] - 1):
                continue
            title, used = FOOTNOTE_MARK.sub("", got[0]), got[1]
            if kind == 0:
                ok = all_caps(title) and plain_title(title, max_words=18)
            elif title.endswith("?") and len(title.split()) <= 25:
                ok = title[:1].isupper()
            else:
                ok = plain_title(title, max_words=18) and (title_case(title) or all_caps(title))
            if ok:
                hit = (kind, label, value, title, used, keep)
                break
        if hit:
            kind, label, value, title, used, keep = hit
            del path[keep:]
            path.append((kind, label, value))
            out.append(Heading(i, used, ".".join(p[1] for p in path), title))
            i += used
        else:
            i += 1
    return out


def _number(label: str) -> str:
    return "".join(c for c in label if c.isdigit())


def _filled(lines: list[str], i: int, step: int) -> int | None:
    """The nearest line after (step 1) or before (step -1) line i that is not blank."""
    j = i + step
    while 0 <= j < len(lines) and not lines[j].strip():
        j += step
    return j if 0 <= j < len(lines) else None


WRAPPED_QUESTION_LINES = 3  # lines after an FAQ's label line that may still belong to its question


def _entry_question(lines: list[str], i: int, text: str) -> tuple[str, int]:
    """An FAQ entry's question and how many lines it takes. A file hard-wrapped at a fixed width carries the
    question on past its label line ("C2. The participant vomited ... Should" / "we give it again?", or a
    stated case then "Can we still randomise?"): the entry runs to the first line ending in "?" before a blank
    line or the next entry. Without one, the label line alone is the entry (a stated problem)."""
    if text.endswith("?"):
        return text, 1
    parts = [text]
    for j in range(i + 1, min(i + 1 + WRAPPED_QUESTION_LINES, len(lines))):
        line = lines[j].strip()
        if not line or ENTRY.match(line) or RULE.match(line):
            break
        parts.append(line)
        if sum(map(len, parts)) > QUESTION_CHARS:  # a paragraph, not a question's next line
            break
        if line.endswith("?"):
            return " ".join(parts), j - i + 1
    return text, 1


def _labelled_entries(lines: list[str]) -> list[Heading]:
    """Entries labelled "A1.", "Q12:" or "Q:", where most of the series asks something."""
    found = {i: m for i, line in enumerate(lines) if (m := ENTRY.match(line.strip()))}
    answers = set()  # "Q1. ...?" then "A1. ...": the second line is the answer, labelled with the same number
    previous: re.Match[str] | None = None
    for i, m in sorted(found.items()):
        label = m.group(1)
        after_question = previous is not None and ASKED.match(previous.group(1)) is not None
        if after_question and ANSWERED.match(label) and _number(label) in ("", _number(previous.group(1))):
            answers.add(i)  # "A:" after a (wrapped) "Q1."
        previous = m
        if i in answers:  # an answer's next line is the next question, never its answer
            continue
        j = _filled(lines, i, 1)
        if j in found and not ASKED.match(found[j].group(1)):
            following = found[j].group(1)
            if _number(following) == _number(label) and following != label:
                answers.add(j)
    labelled = [(i, m) for i, m in found.items() if i not in answers]
    asked = {i: _entry_question(lines, i, m.group(2).strip()) for i, m in labelled}
    asking = sum(question.endswith("?") for question, _ in asked.values())
    if asking < 3 or asking < len(labelled) / 2:
        return []
    return [Heading(i, asked[i][1], m.group(1), asked[i][0]) for i, m in labelled]


def _opens_paragraph(lines: list[str], i: int) -> bool:
    return bool(lines[i].strip()) and (i == 0 or not lines[i - 1].strip())


def _question_entries(lines: list[str]) -> list[Heading]:
    """An FAQ without labels: each question is a line of its own after a blank line, its answer right below
    ("Can the screening period be extended?" / "Yes, but only once ..."). At least three, or it is no FAQ."""
    found = []
    for i, raw in enumerate(lines[:-1]):
        line, below = raw.strip(), lines[i + 1].strip()
        if (
            line.endswith("?")
            and len(line) <= QUESTION_CHARS
            and line[:1].isupper()
            and _opens_paragraph(lines, i)
            and below
            and not below.endswith("?")
            and not RULE.match(below)
        ):
            found.append(Heading(i, 1, "", line))
    blocks = sum(_opens_paragraph(lines, i) for i in range(len(lines)))
    # an FAQ is mostly questions; a protocol's questionnaire ("Is the participant pregnant?" / "Yes / No") is not
    return found if len(found) >= 3 and len(found) >= blocks / 3 else []


def _entry_headings(lines: list[str]) -> list[Heading]:
    """A plain-text FAQ's entries and the banners that group them.

    An entry is a line labelled with letters and digits ("A1. Can screening and Day 1 be on the same day?",
    "Q12: ...", "Q: ..."), its answer on the lines after it. The series counts only where most of its lines ask
    something (a protocol's "E1. Participants with ..." criteria do not); then every line of it is an entry, a
    problem stated ("D3. I am locked out of the EDC.") as much as a question. An FAQ without labels has its
    questions on lines of their own. Each entry is a section of its own, so its answer's section says what it
    answers and its question is never quoted as the answer. A banner is a title in capitals framed by rule lines
    ("=====") or standing alone between blank lines right before an entry ("SECTION B - SHIPPING")."""
    entries = _labelled_entries(lines) or _question_entries(lines)
    if not entries:
        return []

    starts = {h.line for h in entries}

    def ruled(i: int, step: int) -> bool:
        j = _filled(lines, i, step)
        return j is None or bool(RULE.match(lines[j].strip()))

    def alone(i: int) -> bool:  # between blank lines, and an entry next: a capitals "YES" inside an answer is none
        j = _filled(lines, i, 1)
        return _filled(lines, i, -1) != i - 1 and j is not None and j > i + 1 and j in starts

    banners = [
        Heading(i, 1, "", line.strip())
        for i, line in enumerate(lines)
        if all_caps(line) and plain_title(line.strip(), max_words=12) and ((ruled(i, -1) and ruled(i, 1)) or alone(i))
    ]
    return sorted(entries + banners, key=lambda h: h.line)


def find_headings(lines: list[str]) -> list[Heading]:
    """Headings of a document given as lines, in order; outline numbering wins when the document uses it, and a
    plain-text FAQ's entries are headings beside either."""
    entries = _entry_headings(lines)
    found = _numbered_headings(lines)
    if not entries:
        return found
    taken = {h.line for h in entries}
    return sorted(entries + [h for h in found if h.line not in taken], key=lambda h: h.line)


def _numbered_headings(lines: list[str]) -> list[Heading]:
    outline = _outline_headings(lines)
    if sum(1 for h in outline if "." not in h.label) >= 2:  # at least "I." and "II."
        return outline
    decimal = _heaviest_increasing(_decimal_candidates(lines))
    appendices = []
    first_body = decimal[0].line if decimal else 0  # an appendix line before the body is a TOC entry
    for i, raw in enumerate(lines[first_body:], start=first_body):
        m = APPENDIX.match(raw.strip())
        if m and plain_title(m.group(2)) and not has_leaders(raw) and not _followed_by_leaders(lines, i):
            appendices.append(Heading(i, 1, m.group(1), m.group(2).strip()))
    if not appendices:
        return decimal
    merged = sorted(decimal + appendices, key=lambda h: h.line)
    starts = [h.line for h in merged]
    return [h for n, h in enumerate(merged) if bisect_left(starts, h.line) == n]
