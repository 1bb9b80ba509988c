"""Extractive answers: quote the sentence(s) that answer, cite where they are, or abstain.

The quote is always an exact span of a stored chunk (whitespace runs collapsed), cited with its
document, version, section and page. The engine abstains ("not found in the study documents")
when no retrieved sentence covers enough of the question, or when the question asks for a kind
of answer (a phone number, a time of day, an amount in mg, a duration) that no sentence about
its subject contains. The thresholds are calibrated on the development set; see docs/knowledge.md.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from knowledge.answer_types import AnswerType, expected_type
from knowledge.chunking import page_at
from knowledge.confidence import (
    ABSTAIN_BELOW,
    HARD_TYPE_COVERAGE,
    MISSING_TYPE_PENALTY,
    POOL,
    TYPE_MARGIN,
    SentenceVectors,
    choice,
    confidence,
    cosines,
)
from knowledge.instructions import reader_safe
from knowledge.lexicon import terms, words
from knowledge.models import ChunkRow
from knowledge.retrieval import Retrieval
from knowledge.scoring import SentenceHit, Weighted, coverage, sentence_hits
from knowledge.sentences import sentence_spans
from knowledge.types import Answer, Citation, Passage

RANK_DECAY = 0.03  # later passages need slightly better sentences to win (lexical order of the pool)
TYPE_BONUS = 0.15
OTHER_DOC_PENALTY = 0.4  # the question named a document; sentences elsewhere must be much better
LONG_SENTENCE = 250  # longer "sentences" (tables, glossaries) cover many words by accident: discounted
NEAR_WORDS = 10  # an answer of the expected type must sit this close to a word of the question
FOLLOW_ON = 0.5  # the next sentence joins the quote when it covers this share of what the best one does
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
    cosine: float = 0.0  # MiniLM similarity of the question and this sentence (0 outside the semantic pool)
    continued: tuple[ChunkRow, int, int] | None = None  # the sentence's end at the start of the next chunk
    confidence: float = 0.0  # whether to answer at all (coverage, meaning, rank)
    choice: float = 0.0  # which sentence to quote (coverage and rank)


def _collapse(text: str) -> str:
    return " ".join(text.split())


def near_subject(sentence: str, kind: AnswerType, concepts: dict[str, Weighted]) -> bool:
    """Whether an answer of `kind` in the sentence sits within NEAR_WORDS words of a question word.

    "15 mg and 30 mg" of a drug does not answer "how many mg of copper" when copper is 17 words away.
    """
    words = [(m.start(), m.end(), set(terms(m.group(0)))) for m in WORD.finditer(sentence)]
    wanted = {t for c in concepts.values() for alt, _ in c.alternatives for t in alt}
    for match in kind.matches(sentence):
        inside = [i for i, (a, b, _) in enumerate(words) if a < match.end() and b > match.start()]
        if not inside or all(words[i][2] <= wanted for i in inside):
            continue  # the question's own word ("witness" for "who is the witness") is not an answer
        lo, hi = min(inside), max(inside)
        for i, (_, _, found) in enumerate(words):
            if ((i < lo and lo - i <= NEAR_WORDS) or (i > hi and i - hi <= NEAR_WORDS)) and found & wanted:
                return True
    return False


def _candidates(found: Retrieval, kind: AnswerType | None) -> list[Pick]:
    doc_of = {c.chunk_id: c.version.document_id for c in found.candidates}
    picks = []
    for rank, passage in enumerate(found.passages):
        row = found.chunks.get(passage.chunk_id)
        if row is None:
            continue
        heading = _collapse(row.section).lower()
        for hit in reader_safe(sentence_hits(passage.chunk_id, row.text, found.concepts, row.section)):
            if heading and hit.start < len(heading) + 8 and _collapse(hit.text).lower().lstrip("# ") in heading:
                continue  # the chunk's own heading line names the topic; it answers nothing
            length = len(_collapse(hit.text))
            if length > LONG_SENTENCE:
                hit.coverage *= math.sqrt(LONG_SENTENCE / length)
            if GLOSSARY.search(hit.text):  # "HbA1c = hemoglobin A1c; HIV = ...": defines words, answers nothing
                hit.coverage *= 0.5
            elif GLOSSARY_SECTION.search(passage.section):  # the right place only for "what does X stand for"
                hit.coverage *= 0.8
            if REFERENCES.search(passage.section) or CITATION.search(hit.text):  # a cited source names, never says
                hit.coverage *= 0.5
            typed = bool(kind and kind.found_in(hit.text) and near_subject(hit.text, kind, found.concepts))
            score = hit.coverage - RANK_DECAY * rank + (TYPE_BONUS if typed else 0.0)
            other = bool(found.routed_docs) and doc_of.get(passage.chunk_id) not in found.routed_docs
            if other:
                score -= OTHER_DOC_PENALTY
            picks.append(Pick(hit, passage, rank, score, typed, other))
        nxt = found.following.get(passage.chunk_id)
        if nxt is not None and picks and picks[-1].passage is passage:
            joined = _continued(picks[-1], nxt, found, kind)
            if joined is not None:
                picks.append(joined)
    return sorted(picks, key=lambda p: -p.score)


def _continued(last: Pick, nxt: ChunkRow, found: Retrieval, kind: AnswerType | None) -> Pick | None:
    """The passage's last sentence completed by the first one of the next chunk (cut by a page or chunk end),
    when the completed sentence covers more of the question."""
    spans = sentence_spans(nxt.text)
    if not spans:
        return None
    a, b = spans[0]
    text = f"{last.hit.text} {nxt.text[a:b]}"
    own = set(terms(text))
    cov, matched = coverage(own, found.concepts)
    if cov <= last.hit.coverage:
        return None
    hit = SentenceHit(last.hit.chunk_id, last.hit.start, last.hit.end, text, cov, matched, own)
    typed = bool(kind and kind.found_in(text) and near_subject(text, kind, found.concepts))
    score = cov - RANK_DECAY * last.rank - (OTHER_DOC_PENALTY if last.other_doc else 0.0)
    return Pick(hit, last.passage, last.rank, score, typed, last.other_doc, continued=(nxt, a, b))


def _tail_citation(pick: Pick) -> Citation:
    assert pick.continued is not None
    row, a, b = pick.continued
    p = pick.passage
    page = page_at(row.page_map, a) if row.page_map else row.page
    quote = _collapse(row.text[a:b])
    return Citation(p.doc, p.title, p.version, p.section, page, quote, max(0.0, min(1.0, pick.hit.coverage)), row.id)


def _extend(pick: Pick, found: Retrieval, picks: list[Pick]) -> tuple[int, int]:
    """The quote's span: the sentence, plus the next one of the same paragraph when it introduces it
    (ends with ":" or is very short) or covers the question nearly as well."""
    row = found.chunks[pick.passage.chunk_id]
    start, end = pick.hit.start, pick.hit.end
    text = row.text
    following = [
        p
        for p in picks
        if p.passage.chunk_id == pick.passage.chunk_id and p.hit.start >= end and "\n\n" not in text[end : p.hit.start]
    ]
    nxt = min(following, key=lambda p: p.hit.start, default=None)
    if nxt is not None:
        introduces = pick.hit.text.rstrip().endswith(":") or len(_collapse(pick.hit.text)) < 25
        if introduces or (nxt.hit.matched and nxt.hit.coverage >= FOLLOW_ON * pick.hit.coverage):
            end = nxt.hit.end
    if end - start > MAX_QUOTE_CHARS:
        end = start + MAX_QUOTE_CHARS
        end = text.rfind(" ", start, end) if text.rfind(" ", start, end) > start else end
    return start, end


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
        score=max(0.0, min(1.0, pick.hit.coverage)),
        chunk_id=p.chunk_id,
    )


def scored_picks(
    question: str, found: Retrieval, vectors: SentenceVectors | None
) -> tuple[AnswerType | None, list[Pick]]:
    """Candidate sentences of the top passages with their confidence, best first, and the expected answer type.

    The POOL best lexical candidates are compared with the question's meaning (one embedding batch);
    sentences outside the pool keep a cosine of 0 and cannot win against a pool member of similar coverage.
    """
    kind = expected_type(question)
    if kind is not None:  # "how early", "what time": the words that ask for the type are not the subject
        asked = set(words(kind.asked_by(question)))
        found.concepts = {w: c for w, c in found.concepts.items() if w not in asked} or found.concepts
    picks = _candidates(found, kind)
    pool = [p for p in picks if p.hit.coverage > 0][:POOL]
    if vectors is not None and pool:
        for pick, cos in zip(
            pool, cosines(found.query_vector, [_collapse(p.hit.text) for p in pool], vectors), strict=True
        ):
            pick.cosine = cos
    for pick in picks:
        pick.confidence = confidence(pick.hit.coverage, pick.cosine, pick.rank, pick.typed, pick.other_doc)
        pick.choice = choice(pick.hit.coverage, pick.rank, pick.other_doc)
    return kind, sorted(picks, key=lambda p: -p.confidence)


def extractive_answer(question: str, found: Retrieval, vectors: SentenceVectors | None = None) -> Answer:
    """The best sentence of the top passages, quoted and cited, or an abstention when none is confident enough.

    `vectors` embeds candidate sentences (the service passes its cached MiniLM); without it only the
    lexical evidence counts, which abstains more often.
    """
    if not found.passages or not found.concepts:
        return Answer.abstain()
    kind, every = scored_picks(question, found, vectors)
    picks = every
    if kind and kind.hard:  # a phone number, a time of day, "how many mg": only such a value about the subject answers
        picks = [p for p in every if p.typed and p.hit.coverage >= HARD_TYPE_COVERAGE]
    if not picks:
        return Answer.abstain()
    # Whether to answer: the most confident sentence (meaning counts). Which sentence: the one that covers the
    # question best (meaning would favour sentences restating the topic over the ones holding the answer).
    sure = picks[0].confidence
    ordered = sorted(picks, key=lambda p: -p.choice)
    best = ordered[0]
    if kind is not None:  # "how soon": a sentence nearly as good that holds a duration answers, the other only talks
        if not any(p.typed and p.confidence >= sure - TYPE_MARGIN for p in picks):
            sure -= MISSING_TYPE_PENALTY  # asked for a value no good candidate holds: the documents likely do not say
        best = next((p for p in ordered if p.typed and p.choice >= best.choice - TYPE_MARGIN), best)
    if sure < ABSTAIN_BELOW:
        return Answer.abstain()
    if best.continued is not None:  # one sentence over two chunks: a citation for each part, quoted together
        citations = [_citation(best, found, (best.hit.start, best.hit.end)), _tail_citation(best)]
        return Answer(
            answer=f"{citations[0].quote} {citations[1].quote}", abstained=False, citations=citations, mode="extractive"
        )
    span = _extend(best, found, every)
    citations = [_citation(best, found, span)]
    second = next(
        (
            p
            for p in ordered
            if p is not best
            and p.continued is None
            and p.passage.chunk_id != best.passage.chunk_id
            and p.choice >= best.choice - 0.05
        ),
        None,
    )
    if second is not None:
        citations.append(_citation(second, found, _extend(second, found, every)))
    return Answer(answer=citations[0].quote, abstained=False, citations=citations, mode="extractive")
