"""Extractive answers: quote the sentence(s) that answer, cite where they are, or abstain.

Every sentence of the top passages is a candidate; its quote is the sentence and, within a short
budget, the next one of its paragraph. The fitted answer model (knowledge.answer_model, features in
knowledge.features) picks the candidate most likely to answer, offers up to two other places when it
is not clearly sure, and abstains ("not found in the study documents") when it judges that no
candidate answers. A question that plainly asks for a typed value (a phone number, a time of day,
an amount in mg) is answered only by a sentence holding one about its subject. Quotes are exact
spans of stored chunks (whitespace runs collapsed), cited with document, version, section and page.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from knowledge.answer_model import AnswerModel, Reading, shipped_model
from knowledge.answer_types import ADDRESSES, CONTACTS, AnswerType, expected_type
from knowledge.chunking import page_at
from knowledge.confidence import HARD_TYPE_COVERAGE
from knowledge.features import YES_NO, sentence_matrix
from knowledge.instructions import reader_safe
from knowledge.lexicon import terms, words
from knowledge.models import ChunkRow
from knowledge.reader import Reader, pair_text
from knowledge.retrieval import Retrieval
from knowledge.scoring import SentenceHit, Weighted, concept_words, coverage, sentence_hits, term_set
from knowledge.sentences import is_question, is_table_header, row_with_units, sentence_spans, table_header
from knowledge.types import Answer, Citation, Passage
from knowledge.value_match import question_values

RANK_DECAY = 0.03  # the lexical order that picks the embedding pool: later passages need slightly better
TYPE_BONUS = 0.15
OTHER_DOC_PENALTY = 0.4  # the question named a document; sentences elsewhere must be much better
SUBJECT_ROW_REACH = 3  # how far down the order the asked subject's own table row is looked for
LONG_SENTENCE = 250  # longer "sentences" (tables, glossaries) cover many words by accident: discounted
NEAR_WORDS = 10  # an answer of the expected type must sit this close to a word of the question
# A lead-in of conditions, each item one of them: "Participants are eligible only if all of the following apply:"
CONDITIONS = re.compile(
    r"\b(?:all|any|each|none|one or more|at least one|either|both) of the following\b|\bcriteri(?:a|on)\b", re.I
)
QUOTE_BUDGET = 420  # the next sentence joins the quote while the quote stays this short
MAX_QUOTE_CHARS = 600
GLOSSARY = re.compile(r"\S\s+=\s+\S[^=]{0,80}[;,]\s*\S+\s+=\s+\S|^\s*[\w/().-]{1,20}\s+=\s+[^=]{1,80}[;.,]?\s*$")
GLOSSARY_SECTION = re.compile(r"abbreviation|definition of terms|glossary|list of", re.IGNORECASE)
REFERENCES = re.compile(r"\b(?:references|bibliography|literature cited)\b", re.IGNORECASE)
CITATION = re.compile(r"\[(?:package insert|internet|cited)\b|\bet al\.|\bdoi:|\bPMID\b", re.IGNORECASE)
WORD = re.compile(r"[A-Za-z0-9]+(?:[-_/.'’][A-Za-z0-9]+)*")


@dataclass
class Pick:
    hit: SentenceHit
    passage: Passage
    rank: int
    score: float  # lexical: coverage with rank, type and document adjustments (orders the semantic pool)
    typed: bool
    other_doc: bool = False  # the question named a document and this sentence is from another one
    continued: tuple[ChunkRow, int, int] | None = None  # the sentence's end at the start of the next chunk
    passage_score: float = 0.0  # the passage's retrieval score relative to the best passage
    position: int = 0  # which sentence of its passage (0 = first)
    glossary: bool = False  # an abbreviation or definition line
    reference: bool = False  # a reference-list entry or a line citing a source
    probability: float = 0.0  # the answer model's belief that this sentence holds the answer

    @property
    def coverage(self) -> float:
        return self.hit.coverage

    @property
    def matched(self) -> int:
        return len(self.hit.matched)

    @property
    def text(self) -> str:
        return self.hit.text


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _holds_type(kind: AnswerType, chunk_text: str, hit: SentenceHit, concepts: dict[str, Weighted]) -> bool:
    """Whether the sentence holds an answer of `kind` about the question's subject; a table row is read with its
    columns' units ("Dose (vg/kg)" over "1.2 × 10^14") and its header's words."""
    header = table_header(chunk_text, hit.start) if " | " in hit.text else None
    if header is None:
        return near_subject(hit.text, kind, concepts)
    row = row_with_units(header, hit.text.strip())
    return near_subject(row, kind, concepts) or (
        kind.found_in(row) and not term_set(header).isdisjoint(_wanted(concepts))
    )


def _wanted(concepts: dict[str, Weighted]) -> set[str]:
    return {t for c in concepts.values() for alt, _ in c.alternatives for t in alt}


def near_subject(sentence: str, kind: AnswerType, concepts: dict[str, Weighted]) -> bool:
    """Whether an answer of `kind` in the sentence sits within NEAR_WORDS words of a question word (False when the
    sentence holds none).

    "15 mg and 30 mg" of a drug does not answer "how many mg of copper" when copper is 17 words away.
    """
    values = list(kind.matches(sentence))
    if not values:  # most candidates: no need to split the sentence into words
        return False
    words = [(m.start(), m.end(), set(terms(m.group(0)))) for m in WORD.finditer(sentence)]
    wanted = _wanted(concepts)
    for match in values:
        inside = [i for i, (a, b, _) in enumerate(words) if a < match.end() and b > match.start()]
        if not inside or all(words[i][2] <= wanted for i in inside):
            continue  # the question's own word ("witness" for "who is the witness") is not an answer
        value = match.group(0).lower()
        if kind.name in ADDRESSES and any(len(w) >= 4 and w in value for w in wanted):
            return True  # the address names the subject itself: "zx702.medmonitor@…" is the medical monitor's
        lo, hi = min(inside), max(inside)
        for i, (_, _, found) in enumerate(words):
            if ((i < lo and lo - i <= NEAR_WORDS) or (i > hi and i - hi <= NEAR_WORDS)) and found & wanted:
                return True
    return False


NUMBERED = re.compile(r"#*\s*(?:\d{1,2}(?:\.\d{1,2})*\.?|[A-Z]\.|[IVX]{1,4}\.)\s+(?P<title>[^|]+)")
CLAUSE_BREAK = re.compile(r"[?!;]|\.\s|,\s|\s[-–—]\s")
ELABORATES = re.compile(r"\s*(?:like|i\.?e\.?|e\.?g\.?|as in|i mean|so|or|roughly|approx\w*)\b", re.I)
ANNOUNCES = re.compile(r"\b(?:the following|as follows)\b", re.I)
LIST_ITEM = re.compile(r"(?:[-•*–·▪◦●\uf0b7\uf0a7]|o(?=\s)|\(?\d{1,2}[.)]|\(?[a-z][.)])\s")
MARKDOWN_HEADING = re.compile(r"#{1,6}\s")
SMALL_WORDS = frozenset({"a", "an", "and", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"})


@lru_cache(maxsize=16384)
def numbered_heading(line: str) -> bool:
    """ "7. Laboratory", "4.2 Exclusion Criteria", "## 6 Dose Modifications and Delays", "2 Objectives and Endpoints"
    (Word's numbering has no dot): a numbered title in Title Case without a sentence's end. Such a line names a
    section; a numbered step ("3. Record the temperature.") ends like a sentence or reads like one."""
    m = NUMBERED.fullmatch(line.strip())
    if m is None:
        return False
    title = m.group("title").strip()
    words = [w for w in title.split() if w.lower() not in SMALL_WORDS]
    if not words or len(title.split()) > 10 or title.endswith((".", ":", ";", "?", "!", ",")):
        return False
    return sum(w[:1].isupper() for w in words) >= 0.8 * len(words)


@lru_cache(maxsize=16384)
def _sentence_kind(text: str) -> tuple[str, bool, bool]:
    """A sentence collapsed, whether it defines words (a glossary line), whether it cites a source: the
    same sentences come back question after question, so each is read once."""
    return _collapse(text), bool(GLOSSARY.search(text)), bool(CITATION.search(text))


@lru_cache(maxsize=4096)
def _section_kind(section: str) -> tuple[bool, bool]:
    """Whether a section heading is an abbreviation list, and whether it is a reference list."""
    return bool(GLOSSARY_SECTION.search(section)), bool(REFERENCES.search(section))


def _candidates(found: Retrieval, kind: AnswerType | None) -> list[Pick]:
    doc_of = {c.chunk_id: c.version.document_id for c in found.candidates}
    picks = []
    top_score = max((p.score for p in found.passages), default=0.0) or 1.0
    for rank, passage in enumerate(found.passages):
        row = found.chunks.get(passage.chunk_id)
        if row is None:
            continue
        heading = _collapse(row.section).lower()
        hits = reader_safe(sentence_hits(passage.chunk_id, row.text, found.concepts, row.section))
        glossary_section, reference_section = _section_kind(passage.section)
        for position, hit in enumerate(hits):
            collapsed, defines, cites = _sentence_kind(hit.text)
            if heading and hit.start < len(heading) + 8 and collapsed.lower().lstrip("# ") in heading:
                continue  # the chunk's own heading line names the topic; it answers nothing
            if MARKDOWN_HEADING.match(collapsed):
                continue  # "# ZX-401 Infusion Guide": a Markdown title over the chunk names a document, says nothing
            if numbered_heading(collapsed):
                continue  # a parent section's heading above the chunk's own ("7. Laboratory" over an FAQ's question)
            if " | " in hit.text and is_table_header(row.text, hit.start):
                continue  # the answer is in a row; the header is quoted with it
            length = len(collapsed)
            if length > LONG_SENTENCE:
                hit.coverage *= math.sqrt(LONG_SENTENCE / length)
            glossary = defines or glossary_section
            if defines:  # "HbA1c = hemoglobin A1c; HIV = ...": defines words, answers nothing
                hit.coverage *= 0.5
            elif glossary_section:  # the right place only for "what does X stand for"
                hit.coverage *= 0.8
            reference = reference_section or cites
            if reference:  # a cited source names, never says
                hit.coverage *= 0.5
            typed = bool(kind and _holds_type(kind, row.text, hit, found.concepts))
            score = hit.coverage - RANK_DECAY * rank + (TYPE_BONUS if typed else 0.0)
            other = bool(found.routed_docs) and doc_of.get(passage.chunk_id) not in found.routed_docs
            if other:
                score -= OTHER_DOC_PENALTY
            picks.append(
                Pick(
                    hit,
                    passage,
                    rank,
                    score,
                    typed,
                    other,
                    passage_score=passage.score / top_score,
                    position=position,
                    glossary=glossary,
                    reference=reference,
                )
            )
        nxt = found.following.get(passage.chunk_id)
        if nxt is not None and picks and picks[-1].passage is passage:
            joined = _continued(picks[-1], nxt, found, kind)
            if joined is not None:
                picks.append(joined)
    return sorted(picks, key=lambda p: -p.score)


def _subject_row_first(order: list[int], picks: list[Pick], concepts: dict[str, Weighted]) -> list[int]:
    """A table's first column names what each row is about. When the best candidate is a row that only
    mentions the asked subject ("Anti-drug antibodies | ... | As for pharmacokinetics") and the subject's own
    row is among the next ones, the subject's row answers: the question named it (the reader, comparing
    meanings, hardly tells two rows of one table apart)."""
    wanted = concept_words(concepts)

    def keyed_row(i: int) -> bool:
        text = picks[i].hit.text
        return " | " in text and picks[i].continued is None and not term_set(text.split(" | ", 1)[0]).isdisjoint(wanted)

    if " | " not in picks[order[0]].hit.text or keyed_row(order[0]):
        return order
    for rank, i in enumerate(order[1:SUBJECT_ROW_REACH], start=1):
        if keyed_row(i):
            return [i, *order[:rank], *order[rank + 1 :]]
    return order


def _continued(last: Pick, nxt: ChunkRow, found: Retrieval, kind: AnswerType | None) -> Pick | None:
    """The passage's last sentence completed by the first one of the next chunk (cut by a page or chunk end),
    when the completed sentence covers more of the question."""
    spans = sentence_spans(nxt.text)
    if not spans:
        return None
    a, b = spans[0]
    if " | " in last.hit.text or " | " in nxt.text[a:b]:
        return None  # a table row is a block of its own, never cut between chunks
    text = f"{last.hit.text} {nxt.text[a:b]}"
    own = set(terms(text))
    cov, matched = coverage(own, found.concepts)
    if cov <= last.hit.coverage:
        return None
    hit = SentenceHit(last.hit.chunk_id, last.hit.start, last.hit.end, text, cov, matched, own)
    typed = bool(kind and near_subject(text, kind, found.concepts))
    score = cov - RANK_DECAY * last.rank - (OTHER_DOC_PENALTY if last.other_doc else 0.0)
    return Pick(
        hit,
        last.passage,
        last.rank,
        score,
        typed,
        last.other_doc,
        continued=(nxt, a, b),
        passage_score=last.passage_score,
        position=last.position,
    )


def _tail_citation(pick: Pick) -> Citation:
    assert pick.continued is not None
    row, a, b = pick.continued
    p = pick.passage
    page = page_at(row.page_map, a) if row.page_map else row.page
    quote = _collapse(row.text[a:b])
    return Citation(p.doc, p.title, p.version, p.section, page, quote, pick.probability, row.id)


def _extend(pick: Pick, found: Retrieval, picks: list[Pick]) -> tuple[int, int]:
    """The quote's span: the sentence, and the next one of the same paragraph while the quote stays
    short enough to read at a glance (QUOTE_BUDGET). A rule is often stated in two sentences ("...
    should be held for 3 days. It may be restarted when ..."). A sentence ending in ":" introduces
    the items that answer (the steps after "When you find an excursion:"), but a list of conditions ("all
    of the following criteria apply:") is quoted whole or not at all: its first few items are a page of
    criteria the question did not ask about, and each item is a candidate of its own. A document's own
    question ("Q: Can a participant be rescreened?") is quoted with the answer paragraph after it.
    Never more than MAX_QUOTE_CHARS: longer is a page, not an answer."""
    row = found.chunks[pick.passage.chunk_id]
    start, end = pick.hit.start, pick.hit.end
    text = row.text
    following = sorted(
        (p for p in picks if p.passage.chunk_id == pick.passage.chunk_id and p.hit.start >= end),
        key=lambda p: p.hit.start,
    )
    introduces = pick.hit.text.rstrip().endswith(":") or _announces_items(pick.hit.text, text, end, following)
    asks = is_question(pick.hit.text)  # an FAQ's "Q: ...?": it names the topic, its answer is the next paragraph
    crossed = bulleted = False
    for nxt in following:
        marked = bool(LIST_ITEM.match(nxt.hit.text.lstrip()))
        if introduces and end == pick.hit.end:
            bulleted = marked  # the items carry markers ("- ", "1. "): the first line without one ends the list
        elif introduces and bulleted and not marked and "\n" in text[end : nxt.hit.start]:
            break  # the list has ended: what follows it is another paragraph
        if "\n\n" in text[end : nxt.hit.start] and not introduces:
            if not asks or crossed or is_question(nxt.hit.text):
                break  # a new paragraph says something else
            crossed = True
        if len(_collapse(text[start : nxt.hit.end])) > (MAX_QUOTE_CHARS if introduces else QUOTE_BUDGET):
            if introduces and CONDITIONS.search(pick.hit.text):  # the first few criteria are a page, not an answer
                return start, pick.hit.end
            break
        end = nxt.hit.end
        if not crossed and is_question(nxt.hit.text):  # a question in two sentences ("...entry. Can they ...?")
            asks = True
            continue
        if not introduces and not (asks and crossed):
            break
    if end - start > MAX_QUOTE_CHARS:
        end = start + MAX_QUOTE_CHARS
        end = text.rfind(" ", start, end) if text.rfind(" ", start, end) > start else end
    return start, end


def _announces_items(sentence: str, text: str, end: int, following: list[Pick]) -> bool:
    """ "The following premedications should be given 1 hour before the infusion." with its items on the next
    lines: a lead-in a PDF or a writer ended with a full stop instead of a colon. It names the topic, the items
    say what to do."""
    if not following or not ANNOUNCES.search(sentence):
        return False
    return "\n" in text[end : following[0].hit.start] and bool(LIST_ITEM.match(following[0].hit.text.lstrip()))


def _citation(pick: Pick, found: Retrieval, span: tuple[int, int]) -> Citation:
    row = found.chunks[pick.passage.chunk_id]
    p = pick.passage
    page = page_at(row.page_map, span[0]) if row.page_map else row.page
    return Citation(
        doc=p.doc,
        title=p.title,
        version=p.version,
        section=p.section,
        page=page,
        quote=_collapse(row.text[span[0] : span[1]]),
        score=pick.probability,
        chunk_id=p.chunk_id,
    )


@dataclass
class CandidateTable:
    """Every candidate sentence of the top passages with what the answer model needs to judge it."""

    kind: AnswerType | None
    picks: list[Pick]
    sentences: np.ndarray  # picks x SENTENCE_FEATURES
    extras: np.ndarray  # question-level inputs (answer_model.EXTRAS)
    quotes: list[str]  # the quote each pick would give
    places: list[str]  # the passage each pick comes from
    sentences_around: list[Pick]  # what a quote may run on into: every candidate, before a required type filters them


ASKED = re.compile(r"\b(?:what|which|how many|how much)\s+((?:[\w'-]+\s+){0,2}[\w'-]+)", re.IGNORECASE)


# Words that name a kind of value rather than a thing: "which days" is answered by "Monday to Wednesday".
VALUE_NOUNS = frozenset(
    [
        "day",
        "days",
        "date",
        "dates",
        "time",
        "times",
        "week",
        "weeks",
        "month",
        "months",
        "hour",
        "hours",
        "minute",
        "minutes",
        "year",
        "years",
        "temp",
        "temperature",
        "dose",
        "doses",
        "amount",
        "amounts",
        "number",
        "numbers",
        "size",
        "rate",
        "rates",
        "name",
        "names",
        "kind",
        "type",
        "types",
        "way",
        "ways",
    ]
)


def asked_word(question: str, concepts: dict[str, Weighted]) -> str | None:
    """The first content word after "what/which/how many" ("what *gauge* needle", "which *tube*"): a sentence
    that does not mention it rarely answers, however much else of the question it covers. A word naming a kind
    of value ("which days") is left to the answer types."""
    for m in ASKED.finditer(question):
        for word in words(m.group(1)):
            if word in VALUE_NOUNS:
                return None
            if word in concepts:
                return word
    return None


def _unknown_share(concepts: dict[str, Weighted]) -> float:
    """How much of the question is words the documents never use ("stipend", "wifi")."""
    total = sum(c.importance for c in concepts.values() if not c.optional)
    unknown = sum(c.importance for c in concepts.values() if not c.alternatives)
    return unknown / total if total else 1.0


def _asking_clause(question: str, kind: AnswerType, concepts: dict[str, Weighted]) -> dict[str, Weighted] | None:
    """The concepts of the clause that asks for the value: "what gauge needle is on the PFS? pt asking if it
    hurts" asks about the needle on the PFS; the aside after it is context, which no sentence holding a gauge
    names. None when the whole question is that clause, or the clause names nothing else."""
    asked = kind.asked_by(question)
    clauses = [c for c in CLAUSE_BREAK.split(question) if c.strip()]
    at = next((i for i, c in enumerate(clauses) if asked and asked in c), None)
    if at is None or len(clauses) == 1:
        return None
    clause = clauses[at]
    if at and ELABORATES.match(clause):  # "how long does it stay in the body, like how many hrs": one clause
        clause = f"{clauses[at - 1]} {clause}"
    own = set(words(clause))
    subject = {w: c for w, c in concepts.items() if w in own}
    return subject or None


def _subject_coverage(pick: Pick, subject: dict[str, Weighted] | None) -> float:
    return pick.hit.coverage if subject is None else max(pick.hit.coverage, coverage(pick.hit.terms, subject)[0])


def _answers_with_type(
    pick: Pick, quote: str, kind: AnswerType, concepts: dict[str, Weighted], subject: dict[str, Weighted] | None
) -> bool:
    """Whether a candidate may answer a question that requires a typed value: its sentence holds one about the
    question's subject, or, for a contact (phone, e-mail, web address), its quote does: a desk is named in one
    sentence and its number given in the next ("For unblinding, call the IRT helpdesk. The line is +1 617 555
    0148."). An amount sits in the sentence that says what it is of."""
    if pick.typed and _subject_coverage(pick, subject) >= HARD_TYPE_COVERAGE:
        return True
    if kind.name not in CONTACTS or quote == _collapse(pick.hit.text):
        return False
    if not near_subject(quote, kind, concepts):
        return False
    own = term_set(quote)
    covered = max(coverage(own, concepts)[0], coverage(own, subject)[0] if subject else 0.0)
    return max(_subject_coverage(pick, subject), covered) >= HARD_TYPE_COVERAGE  # the sentence's counts its heading


def candidate_table(question: str, found: Retrieval) -> CandidateTable:
    kind = expected_type(question)
    if kind is not None:  # "how early", "what time": the words that ask for the type are not the subject
        asked = set(words(kind.asked_by(question)))
        found.concepts = {w: c for w, c in found.concepts.items() if w not in asked} or found.concepts
    picks = _candidates(found, kind)
    around = picks  # a quote runs on into the next sentence whether or not that one could answer alone
    quotes = [_quote_text(p, found, around) for p in picks]
    if kind and kind.hard:  # a phone number, a time of day, "how many mg": only such a value about the subject answers
        subject = _asking_clause(question, kind, found.concepts)
        kept = [
            (p, q)
            for p, q in zip(picks, quotes, strict=True)
            if _answers_with_type(p, q, kind, found.concepts, subject)
        ]
        picks, quotes = [p for p, _ in kept], [q for _, q in kept]
        for pick in picks:  # each holds the value asked for, in its sentence or in its quote
            pick.typed = True
    judged = [  # the quote with its section heading: "6.2 Premedication" says what its sentences are about
        coverage(term_set(q) | term_set(found.chunks[p.passage.chunk_id].section), found.concepts)
        for p, q in zip(picks, quotes, strict=True)
    ]
    known = {w: c for w, c in found.concepts.items() if c.alternatives and not c.optional}
    key = max(known, key=lambda w: known[w].importance, default=None)  # the question's rarest known word
    asked = asked_word(question, found.concepts)  # "what gauge", "which tube": the thing an answer must name
    sentences = sentence_matrix(
        picks,
        len(found.concepts),
        kind is not None,
        [cov for cov, _ in judged],
        [key is not None and key not in matched for _, matched in judged],
        yes_no=any(YES_NO.search(part) for part in re.split(r"[?.!—–-]\s+|\n", question)),
        misses_asked=[asked is not None and asked not in matched for _, matched in judged],
        values=question_values(question),
    )
    top = next((c for c in found.candidates if found.passages and c.chunk_id == found.passages[0].chunk_id), None)
    extras = np.array(
        [
            _unknown_share(found.concepts),
            float(kind is not None),
            float(any(p.typed for p in picks)),
            top.cosine if top else 0.0,
            top.sentence if top else 0.0,
            min(len(found.concepts), 10) / 10,
        ],
        dtype=np.float64,
    )
    return CandidateTable(kind, picks, sentences, extras, quotes, [p.passage.chunk_id for p in picks], around)


def _quote_text(pick: Pick, found: Retrieval, picks: list[Pick]) -> str:
    if pick.continued is not None:
        row, a, b = pick.continued
        return f"{_collapse(pick.hit.text)} {_collapse(row.text[a:b])}"
    span = _extend(pick, found, picks)
    return _collapse(found.chunks[pick.passage.chunk_id].text[span[0] : span[1]])


def _citations(pick: Pick, found: Retrieval, picks: list[Pick]) -> list[Citation]:
    if pick.continued is not None:  # one sentence over two chunks: a citation for each part, quoted together
        return [_citation(pick, found, (pick.hit.start, pick.hit.end)), _tail_citation(pick)]
    return [_citation(pick, found, _extend(pick, found, picks))]


def extractive_answer(
    question: str,
    found: Retrieval,
    model: AnswerModel | None = None,
    reader: Reader | None = None,
) -> Answer:
    """The sentence the answer model finds most likely to answer, quoted and cited, with up to two
    alternates from other places when it is not clearly sure; or an abstention when the model judges
    that the documents do not answer.

    `reader` (the fine-tuned MiniLM, knowledge.reader) compares the question with each of the first
    candidates and the decision is taken again with what it found; without it the sentence model decides
    alone.
    """
    if not found.passages or not found.concepts:
        return Answer.abstain()
    model = model or shipped_model()
    table = candidate_table(question, found)
    if not table.picks:
        return Answer.abstain()
    decision = model.decide(table.sentences, table.extras, table.places, _read(question, found, table, reader))
    for pick, probability in zip(table.picks, decision.probabilities, strict=True):
        pick.probability = float(probability)
    if decision.abstain:
        return Answer.abstain()
    order = _subject_row_first(decision.order, table.picks, found.concepts)
    best = table.picks[order[0]]
    citations = _citations(best, found, table.sentences_around)
    answer = " ".join(c.quote for c in citations)
    header = table_header(found.chunks[best.passage.chunk_id].text, best.hit.start)
    if header and best.continued is None:  # a table row means nothing without its columns
        answer = f"{header}\n{answer}"
    for i in (a for a in decision.alternates if a != order[0]):
        citations.extend(replace(c, alternate=True) for c in _citations(table.picks[i], found, table.sentences_around))
    return Answer(answer=answer, abstained=False, citations=citations, mode="extractive")


def _read(
    question: str, found: Retrieval, table: CandidateTable, reader: Reader | None
) -> Callable[[list[int]], Reading] | None:
    """The reader comparing the question with candidates' section heading and quote, as it was fitted."""
    if reader is None:
        return None

    def read(pool: list[int]) -> Reading:
        texts = [pair_text(found.chunks[table.places[i]].section, table.quotes[i]) for i in pool]
        return reader.read(found.reader_question or question, texts, question_vector=found.reader_vector)

    return read
