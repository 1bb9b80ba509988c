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
from functools import cache, lru_cache
from pathlib import Path

import yaml

from core.text import stem

LEXICON_FILE = Path(__file__).parent / "assets" / "lexicon.yaml"
GENERAL_FILE = Path(__file__).parent / "assets" / "lexicon_general.yaml"  # drugs, classes, procedures
TERMS_VERSION = 15  # bump when `terms()` or the study lexicon changes: stored keyword indexes are then rebuilt
COMPOUND = re.compile(r"[A-Za-z0-9]+(?:[-_/.'’][A-Za-z0-9]+)*")
# A bound is a word: "≤ 25 mg" states a maximum. So is a window: "Day 60 ± 7" is how a protocol gives the window a
# coordinator asks about ("what's the window for V4", "how many days either side").
BOUNDS = {"≤": "maximum", "<": "maximum", "≥": "minimum", ">": "minimum", "±": "window", "+/-": "window"}
TOKEN = re.compile(r"[°º˚]\s?[CF](?![A-Za-z])|\+/-|[A-Za-z0-9]+(?:[-_/.'’][A-Za-z0-9]+)*|[≤≥<>±]")
# "2 °C to 8 °C" is a temperature: the unit is the word for it ("what temp…" finds it), where before the degree sign
# was dropped and the lone letter with it.
DEGREES = {"C": "celsius", "F": "fahrenheit"}
CAMEL = re.compile(r"(?<=[a-z]{3})(?=[A-Z][a-z]{2})")
ALNUM_RUN = re.compile(r"[a-z]+|[0-9]+")
EXPANSION_WEIGHT = 0.6
PREFIX_WEIGHT = 0.8
FUZZY_WEIGHT = 0.7
HINT_WEIGHT = 0.3  # retrieval-only words implied by the form of the question ("how long" -> duration)
SHORTHAND_MATCH = 0.9  # a sentence using the spelled-out form answers the shorthand almost as well


@lru_cache(maxsize=200_000)
def _compound_terms(raw: str) -> tuple[str, ...]:
    """Terms of one word as written (cached: the same words recur in every chunk and question)."""
    out: list[str] = []
    parts = [p for p in re.split(r"[-_/.'’]", raw) if p]
    pieces: list[str] = []
    for part in parts:
        pieces.extend(CAMEL.split(part))
    for piece in pieces:
        low = piece.lower()
        if low in stopwords() or (len(low) == 1 and low.isalpha()):  # "what's" -> what + s: neither is content
            continue
        out.append(stem(low))
        runs = ALNUM_RUN.findall(low)
        if len(runs) > 1:
            out.extend(r for r in runs if len(r) >= 2 or r.isdigit())
    kept = [p for p in pieces if p.lower() not in stopwords() and not (len(p) == 1 and p.isalpha())]
    if len(pieces) > 1 and (len(kept) > 1 or (kept and len(pieces[0]) == 1)):  # "e-mail" is email, "x-ray" xray
        out.append(stem("".join(p.lower() for p in pieces)))
    return tuple(out)


def terms(text: str) -> list[str]:
    """Index terms of a text, in order, with repeats (what BM25 counts).

    Bound symbols count as words: "MTX (≤ 25 mg/week)" states a maximum, "≥ 18 years" a minimum, "± 7 days" a
    window; a degree unit too: "2 °C to 8 °C" says celsius.
    """
    out: list[str] = []
    for m in TOKEN.finditer(text):
        word = m.group(0)
        if word in BOUNDS:
            out.append(BOUNDS[word])
        elif word[0] in "°º˚":
            out.extend(_compound_terms(DEGREES[word[-1]]))
        else:
            out.extend(_compound_terms(word))
    return out


def _without_possessive(word: str) -> str:
    """ "pt's" is the pt: the shorthand and its meanings are looked up without the possessive ("let's" and
    "what's" are stopwords as written, and stay so)."""
    if len(word) <= 3 or not word.endswith(("'s", "’s")) or word.replace("’", "'") in stopwords():
        return word
    return word[:-2]


def words(text: str) -> list[str]:
    """Lower-case words as typed (compounds kept whole), for lexicon look-ups."""
    return [m.group(0).lower() for m in COMPOUND.finditer(text)]


EVERYDAY_RANK = 8000  # the MiniLM (BERT) vocabulary lists whole words roughly by how common they are in English


@cache
def _english_ranks() -> dict[str, int]:
    """Whole-word entries of the embedding model's vocabulary with their position (low = common English)."""
    import json

    data = json.loads((LEXICON_FILE.parent / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = data["model"]["vocab"]
    return {w: i for w, i in vocab.items() if w.isalpha() and not w.startswith("##")}


def in_english_vocabulary(word: str) -> bool:
    """Whether a lower-case word is a whole word of the embedding model's English vocabulary (30k entries)."""
    return word in _english_ranks()


def everyday(word: str) -> bool:
    """Whether a word is common everyday English ("came", "back", "tonight", "picture").

    Such a word that the study documents rarely use is more likely chat around the question than its
    subject, so its rarity in the documents must not make it decisive (see scoring.weigh).
    """
    rank = _english_ranks().get(word.lower())
    return rank is not None and rank < EVERYDAY_RANK


# libyaml's loader when PyYAML was built with it: the vocabulary is ~2,000 entries, which the pure-Python
# loader takes ~0.2 s to read (paid by a process's first question).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_yaml(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}  # a safe loader either way


@cache
def _data() -> dict:
    return _load_yaml(LEXICON_FILE)


@cache
def stopwords() -> frozenset[str]:
    return frozenset(str(_data().get("stopwords") or "").split())


@cache
def chat_first() -> frozenset[str]:
    return frozenset(str(w).lower() for w in _data().get("chat_first") or [])


@cache
def hints() -> dict[str, list[str]]:
    return {str(k).lower(): [str(v) for v in vs] for k, vs in (_data().get("hints") or {}).items()}


def _site_words() -> set[str]:
    data = _data()
    return {str(k).lower() for table in ("abbreviations", "drugs") for k in (data.get(table) or {})}


@cache
def general_vocabulary() -> dict[str, list[str]]:
    """The general drug and procedure vocabulary (`lexicon_general.yaml`) where the site table does not define the
    word: brands, generics and procedures with what protocols write instead ("zostavax" -> live attenuated vaccine)."""
    general = _load_yaml(GENERAL_FILE)
    site = _site_words()
    out: dict[str, list[str]] = {}
    for table in ("drugs", "terms"):
        for key, values in (general.get(table) or {}).items():
            if str(key).lower() not in site:
                out.setdefault(str(key).lower(), [str(v) for v in values])
    return out


@cache
def lexicon() -> dict[str, list[str]]:
    """Chat word -> what documents say instead: site shorthand first; the general drug and procedure
    vocabulary only adds words the site table does not define."""
    merged: dict[str, list[str]] = {}
    for table in ("abbreviations", "drugs"):
        for key, values in (_data().get(table) or {}).items():
            merged.setdefault(str(key).lower(), []).extend(str(v) for v in values)
    return merged | general_vocabulary()


@dataclass
class Concept:
    """One thing the question asks about: a typed word and the ways a sentence can mention it.

    Each alternative is a set of index terms that must all appear ("serious adverse event" for
    "SAE"), with how well it stands for the word (1.0 as typed, less for shorthand expansions and
    spelling guesses). Answers are judged by concepts, so "pt" is covered by "participant".
    """

    word: str
    alternatives: list[tuple[frozenset[str], float, bool]] = field(default_factory=list)  # terms, strength, own
    unknown: bool = False  # no index term, shorthand or spelling match stands for this word

    def add(self, found: list[str], strength: float, *, own: bool) -> None:
        if found:
            self.alternatives.append((frozenset(found), strength, own))

    @property
    def terms(self) -> set[str]:
        return {t for alt, _, _ in self.alternatives for t in alt}

    @property
    def own(self) -> set[str]:
        return {t for alt, _, is_own in self.alternatives if is_own for t in alt}


@dataclass
class QueryTerms:
    """Weighted index terms of a question, its concepts, and the rewritten text for the vector search."""

    weights: dict[str, float] = field(default_factory=dict)
    concepts: list[Concept] = field(default_factory=list)
    semantic_text: str = ""

    def add(self, term: str, weight: float) -> None:
        if weight > self.weights.get(term, 0.0):
            self.weights[term] = weight

    @property
    def typed(self) -> list[str]:
        """Terms that stand for the user's own words (not shorthand expansions)."""
        return [t for c in self.concepts for t in c.own]

    @property
    def naming(self) -> list[str]:
        """Terms that may name a document: the user's own words, and what a word the documents lack
        stands for ("Baqsimi" -> glucagon names the nasal glucagon protocol)."""
        return [t for c in self.concepts for t in (c.own or c.terms)]


def _near(term: str, vocab: Mapping[str, int], *, prefix: bool = True) -> list[tuple[str, float]]:
    """Vocabulary terms for a term the documents lack: by prefix first, else by spelling distance."""
    if prefix and len(term) >= 3 and term.isalpha():
        starts = sorted((t for t in vocab if t.startswith(term) and t.isalpha()), key=lambda t: -vocab[t])
        if starts:
            return [(t, PREFIX_WEIGHT) for t in starts[:3]]
    if family := _verb_of(term, vocab):
        return [(family, PREFIX_WEIGHT)]
    if len(term) >= 5 and term.isalpha():  # shorter words have too many near neighbours ("what" ~ "want")
        from rapidfuzz import fuzz, process

        cutoff = 80 if len(term) >= 6 else 75
        found = process.extract(term, list(vocab), scorer=fuzz.ratio, score_cutoff=cutoff, limit=2)
        english = in_english_vocabulary(term)  # then a near word is another word ("night", "light")...
        return [
            (t, FUZZY_WEIGHT * s / 100)
            for t, s, _ in found
            if abs(len(t) - len(term)) <= 2 and (not english or _meant(term, t))
        ]
    return []


NOUN_ENDINGS = ("ments", "ment", "ations", "ation")


def _verb_of(term: str, vocab: Mapping[str, int]) -> str | None:
    """The verb a noun the documents lack is made from, when they use it: "reimbursement" where they say
    "reimbursed" (stemmed "reimburs"), "randomization" where they say "randomized"."""
    ending = next((e for e in NOUN_ENDINGS if term.endswith(e)), None)
    root = term[: -len(ending)] if ending else ""
    if len(root) < 6:  # not "state" for "statement", "apart" for "apartment"
        return None
    return next((verb for verb in (root, stem(root)) if verb in vocab), None)  # "reimburse" is indexed "reimburs"


# British spellings, as the same word spelled the American way ("colour", "centre", "randomise", "haem").
_AMERICAN = tuple(
    (re.compile(a), b)
    for a, b in (
        (r"our(s|ed|ing)?$", r"or\1"),
        (r"tre(s|d)?$", r"ter\1"),
        (r"([a-z]{3})is(e|es|ed|ing|ation|ations)$", r"\1iz\2"),
        (r"yse(s|d)?$", r"yze\1"),
        (r"ae", "e"),
        (r"oe", "e"),
        (r"ll(ed|ing)$", r"l\1"),
    )
)


def _american(word: str) -> str:
    for pattern, repl in _AMERICAN:
        word = pattern.sub(repl, word)
    return word


def _meant(typed: str, found: str) -> bool:
    """...unless two letters were swapped ("trail" for "trial") or it is the British spelling of it."""
    return sorted(typed) == sorted(found) or _american(typed) == _american(found)


def _word_terms(word: str) -> list[str]:
    """Terms of one typed word for judging answers: a number glued to letters ("psa2") is not its own term."""
    found = terms(word)
    if any(ch.isalpha() for ch in word):
        found = [t for t in found if not (t.isdigit() and len(t) <= 2)]
    return found


def _meanings(key: str, general: Mapping[str, list[str]], study: Mapping[str, list[str]] | None) -> list[str]:
    """What `key` may be written as: the study's own forms first, then what the general lexicon says of *those*.

    A protocol's "empagliflozin (Jardiance)" defines the brand by its generic name; the exclusion criterion
    says "SGLT2 inhibitor", which only the general lexicon's entry for empagliflozin knows. The general
    meanings of the word itself stay out: the study's "PD" is progressive disease, not pharmacodynamics, and its
    "IP" is its investigational product, not also "study treatment" and "study drug" (which only dilute a search
    in a protocol that says IP).
    """
    own = (study or {}).get(key)
    if own is None:
        return general[key]
    if key in chat_first() and key in general:  # "pt" stays the patient; the protocol's PT comes after
        return [*general[key], *(m for m in own if m not in general[key])]
    extra = dict.fromkeys(meaning for form in own for meaning in general.get(form, []))
    return [*own, *(m for m in extra if m not in own and m != key)]


def _study_word(key: str, general: Mapping[str, list[str]]) -> bool:
    """A word only the study can explain: no chat filler, no general shorthand the reader was fine-tuned on ("pt",
    "IP"), no everyday English ("in", "us")."""
    return (
        not any((len(w) == 1 and w.isalpha()) or w in stopwords() or w in general or everyday(w) for w in key.split())
        and key not in general
    )


def as_documents_say(question: str, study: Mapping[str, list[str]], vocab: Mapping[str, int]) -> str:
    """The question with each word the reader cannot know followed by what the documents say instead: a short form
    its study defines (a drug code, a brand, an abbreviation) by the form its documents use more often ("premed
    before KX-4411 (zorvanemab)?"), and a drug or procedure the documents never name by the meaning of it, from
    the general vocabulary, that they use most ("he got Zostavax (live attenuated vaccine) last week"). What the
    reader (knowledge.reader) embeds, for its index and its second look: it never saw the study, nor most of the
    world's brands. The keyword query and the vector search's spelled-out text are built as before; a question
    without such a word is returned as asked. The site shorthand ("pt", "wk") is chat the reader was fine-tuned on
    and stays as typed, and so does a word the documents use themselves."""

    def frequency(phrase: str) -> int:
        found = [t for t in _word_terms(phrase) if t not in stopwords()]
        return min((vocab.get(t, 0) for t in found), default=0)

    general, drugs = lexicon(), general_vocabulary()
    asked = set(words(question))
    out, last, done = [], 0, set()
    spans = [(m.start(), m.end(), m.group(0).lower()) for m in COMPOUND.finditer(question)]
    for i, (start, end, word) in enumerate(spans):
        if start < last:
            continue
        pair = f"{word} {spans[i + 1][2]}" if i + 1 < len(spans) else ""
        key, stop = (pair, spans[i + 1][1]) if pair in study else (word, end)
        if study.get(key) and key not in done and _study_word(key, general):
            form = study[key][0]
            if set(words(form)) <= asked or frequency(form) <= frequency(key):
                continue
        elif key in drugs and key not in study and key not in done and _unknown_name(key, vocab):
            form = max(drugs[key], key=frequency)  # the first of the most used, where several tie
            if frequency(form) == 0 or set(words(form)) <= asked:
                continue
        else:
            continue
        done.add(key)
        asked |= set(words(form))
        out.append(f"{question[last:stop]} ({form})")
        last = stop
    return "".join(out) + question[last:] if out else question


def _unknown_name(word: str, vocab: Mapping[str, int]) -> bool:
    """A drug or procedure name the reader may not know and the documents never use: three letters or more, no
    everyday English word ("port"), none of its terms in the study's index."""
    return len(word) >= 3 and not everyday(word) and not any(vocab.get(t, 0) for t in _word_terms(word))


def expand(question: str, vocab: Mapping[str, int], study: Mapping[str, list[str]] | None = None) -> QueryTerms:
    """Weighted terms for the keyword index and a spelled-out question for the vector index.

    `vocab` maps each index term to its document frequency in the studies being searched; `study`
    is what those studies' documents define (knowledge.study_lexicon), which wins over the general
    lexicon: in an oncology protocol "PD" is progressive disease.
    """
    general = lexicon()
    table = {**general, **(study or {})}
    table |= {w: general[w] for w in chat_first() if w in general}  # the vector search reads "pt" as the patient
    typed = [_without_possessive(w) for w in words(question)]
    query = QueryTerms()
    semantic: list[str] = []
    skip_next = False
    for i, word in enumerate(typed):
        if skip_next:
            skip_next = False
            continue
        pair = f"{word} {typed[i + 1]}" if i + 1 < len(typed) else ""
        filler = (len(word) == 1 and word.isalpha()) or word.replace("’", "'") in stopwords()  # "quick q", "what's"
        if filler and pair not in table:  # "make" alone says nothing; "make up" a dose is reconstituting it
            continue
        key = pair if pair in table else word if word in table else None
        if key == pair:
            skip_next = True
        concept = Concept(key or word)
        whole = [t for t in _word_terms(key or word) if t in vocab]
        for t in terms(key or word):
            if t in vocab:
                query.add(t, 1.0)
        if len(whole) == 1:
            concept.add(whole, 1.0, own=True)
        elif whole:  # a compound: "non-serious" is nonserious, or non + serious; a lone part counts half
            longest = max(whole, key=len)
            concept.add([longest], 1.0, own=True)
            concept.add(whole, 1.0, own=True)
            for t in whole:
                if t != longest:
                    concept.add([t], 0.5, own=True)
        fixed = ""
        if not whole and key is None:
            for term in _word_terms(word):
                # the stem may hide a typo; a stem cut short ("com" of "comes") names no word by its prefix
                shortened = term != word and len(term) < 4
                for near, weight in _near(term, vocab, prefix=not shortened) or _near(word, vocab):
                    concept.add([near], weight, own=True)
                    query.add(near, weight)
                    fixed = fixed or near
        if key is not None:
            for phrase in _meanings(key, general, study):
                found = [t for t in terms(phrase) if t not in stopwords()]
                if found and all(t in vocab for t in found):
                    concept.add(found, SHORTHAND_MATCH, own=False)
                    for t in found:
                        query.add(t, EXPANSION_WEIGHT)
            semantic.append(table[key][0])
        else:
            semantic.append(fixed or word)  # the vector search gets the spelling fix too
        if concept.alternatives:
            query.concepts.append(concept)
        elif word.isalpha() and len(word) >= 3 and word not in stopwords():
            # the documents never use this word nor any way of saying it ("phone" where only visits are
            # described): a sentence cannot cover it, and that it was asked counts against answering
            concept.unknown = True
            query.concepts.append(concept)
    lowered = " ".join(typed)
    for phrase, steer in hints().items():
        if re.search(rf"\b{re.escape(phrase)}\b", lowered):
            for term in (t for p in steer for t in terms(p)):
                if term in vocab:
                    query.add(term, HINT_WEIGHT)
            semantic.extend(steer[:1])
    query.semantic_text = " ".join(semantic) if semantic else question
    return query
