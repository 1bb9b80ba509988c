"""How well one sentence covers a question: the share of the question's concepts it mentions, by rarity.

Used twice: to rerank retrieved chunks by their best sentence (an answer is usually one
sentence, so a chunk that covers the question in one place beats one that spreads the words
over a page), and to pick the sentence(s) to quote.
"""

from __future__ import annotations

import itertools
from collections.abc import Set
from dataclasses import dataclass, field
from functools import lru_cache

from knowledge.lexicon import QueryTerms, everyday, terms
from knowledge.sentences import sentence_spans, table_header


@dataclass
class Weighted:
    """A concept's alternatives (term sets with match strength) and how much the concept matters (rarity).

    An optional concept (a word that named the document, like "psa2" or "wilson") counts only when a
    sentence mentions it; an unknown one (a word the documents never use) can never be covered.
    """

    alternatives: list[tuple[frozenset[str], float]]
    importance: float
    optional: bool = False
    # Every term of every alternative, and whether one alternative is empty (always covered): a sentence
    # sharing no term with them cannot cover the concept, which `coverage` tells in one set operation.
    words: frozenset[str] = field(init=False, repr=False, compare=False)
    always: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.words = frozenset(t for alt, _ in self.alternatives for t in alt)
        self.always = any(not alt for alt, _ in self.alternatives)


@dataclass
class SentenceHit:
    chunk_id: str
    start: int
    end: int
    text: str
    coverage: float
    matched: set[str] = field(default_factory=set)  # concept words found
    terms: Set[str] = field(default_factory=frozenset)  # index terms of the sentence


UNKNOWN_RARITY = 1.0  # a word the documents never use weighs as much as a word they use once
EVERYDAY_CAP = 2.5  # the most an everyday English word weighs, however rare in the documents ("came back", "row")


def weigh(query: QueryTerms, idf: dict[str, float], routing: set[str], rarest: float) -> dict[str, Weighted]:
    """Concepts for coverage, by word. `routing` holds the terms that named a document; `rarest` is the
    rarity of a word occurring once.

    A concept matters as much as its rarest way of being said, but shorthand is judged by what it
    stands for: "pt" is a rare token and a common idea, so it weighs what "participant" weighs.
    """
    out: dict[str, Weighted] = {}
    for concept in query.concepts:
        cap = EVERYDAY_CAP if everyday(concept.word) else float("inf")
        if concept.unknown:
            out[concept.word] = Weighted([], min(cap, UNKNOWN_RARITY * rarest))
            continue
        alts = concept.alternatives

        def rarity(alt: frozenset[str]) -> float:
            return max(idf.get(t, 1.0) for t in alt)

        own = [rarity(a) for a, _, is_own in alts if is_own]
        said = [rarity(a) for a, _, is_own in alts if not is_own]  # ways of saying it: as rare as the commonest
        importance = min(max(own), min(said)) if own and said else max(own) if own else min(said)
        optional = bool(concept.own) and concept.own <= routing
        out[concept.word] = Weighted([(a, w) for a, w, _ in alts], min(cap, importance), optional)
    return out


def coverage(sentence_terms: Set[str], concepts: dict[str, Weighted]) -> tuple[float, set[str]]:
    """The importance-weighted share of the concepts the terms cover, and the concept words covered.

    Called for every sentence of every candidate chunk (profiled: the hottest Python of an ask), so a
    concept none of whose words the sentence has is skipped without testing its alternatives."""
    got = total = 0.0
    matched = set()
    for word, c in concepts.items():
        strength = 0.0
        if c.always or not c.words.isdisjoint(sentence_terms):
            strength = max((w for alt, w in c.alternatives if alt <= sentence_terms), default=0.0)
        if not c.optional or strength:
            total += c.importance
        if strength:
            got += strength * c.importance
            matched.add(word)
    return (got / total if total else 0.0), matched


# The same chunks come back question after question: their sentences and index terms are worth
# keeping (profiled under 20 concurrent asks, splitting and stemming them was ~15% of the CPU).
@lru_cache(maxsize=32768)
def term_set(text: str) -> frozenset[str]:
    return frozenset(terms(text))


@lru_cache(maxsize=4096)
def _sentences(text: str) -> tuple[tuple[int, int, frozenset[str]], ...]:
    """Each sentence's span and terms; a table row's terms include its header's ("Tube", "Draw volume"):
    a row says what its columns name."""
    out = []
    for start, end in sentence_spans(text):
        own = term_set(text[start:end])
        if " | " in text[start:end] and (header := table_header(text, start)):
            own = own | term_set(header)
        out.append((start, end, own))
    return tuple(out)


def sentence_hits(chunk_id: str, text: str, concepts: dict[str, Weighted], context: str = "") -> list[SentenceHit]:
    """Coverage of every sentence of a chunk; `context` (the section heading) counts at half strength."""
    context_terms = term_set(context) if context else frozenset()
    if context_terms.isdisjoint(concept_words(concepts)):
        context_terms = frozenset()  # a heading sharing no word with the question adds nothing to any sentence
    hits = []
    for start, end, own in _sentences(text):
        sentence = text[start:end]
        score, matched = coverage(own, concepts)
        if context_terms:
            boosted, _ = coverage(own | context_terms, concepts)
            score += 0.5 * (boosted - score)
        hits.append(SentenceHit(chunk_id, start, end, sentence, score, matched, own))
    return hits


def best_window(hits: list[SentenceHit], concepts: dict[str, Weighted]) -> float:
    """The best coverage of one sentence, or of two neighbours together (slightly discounted)."""
    best = max((h.coverage for h in hits), default=0.0)
    wanted = concept_words(concepts)
    wordless: float | None = None  # what two sentences without a question word cover: the same for every pair
    for a, b in itertools.pairwise(hits):
        if a.terms.isdisjoint(wanted) and b.terms.isdisjoint(wanted):
            if wordless is None:
                wordless = coverage(frozenset(), concepts)[0]
            both = wordless
        else:
            both, _ = coverage(a.terms | b.terms, concepts)
        best = max(best, 0.85 * both)
    return best


def concept_words(concepts: dict[str, Weighted]) -> frozenset[str]:
    """Every term any alternative of any concept needs: text sharing none of them covers only the concepts
    that are always covered."""
    return frozenset().union(*(c.words for c in concepts.values()))
