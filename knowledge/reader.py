"""The reader: MiniLM fine-tuned to place a question next to the quote that answers it.

all-MiniLM-L6-v2 compares meanings well in general, but a protocol's "Subject is 65 years of age or
older" and a coordinator's "is there an age floor?" are far apart for it. `knowledge.fit_reader` fine-tunes
it on labelled questions from many protocols (the quote that holds the evidence against the ones the
engine offered that do not) and ships it as int8 ONNX in `assets/`. The answer model's second look reads
its cosines for the first few candidates (`answer_model.Reranker`), and since session 25 it also makes the
index: chunks are embedded by it (`Reader.passages`, "section: text" at 256 tokens) into a collection named
after its file (`Reader.index_tag`), and a question is embedded by it alone. Measured leave-one-document-out
with fold readers, that found the evidence in the top 5 for 0.885 of 332 questions against 0.865 with the stock
model's index, never worse on any group (docs/knowledge.md, sessions 24-25). A new reader file means a new
collection: `siteline reindex` (or ingesting the same files again) fills it. Only onnxruntime and tokenizers at
run time.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge.answer_model import Reading
from knowledge.confidence import SentenceVectors
from knowledge.embedding import MiniLmEmbeddings

READER_FILE = Path(__file__).parent / "assets" / "reader.onnx"
MAX_TOKENS = 128  # section heading and quote; what it was fitted on
PASSAGE_TOKENS = 256  # a whole chunk for the index: the model's training length, as the stock index had
SECTION_CHARS = 80
# Each text runs alone: int8 activations are scaled over the whole batch, so in a batch a text's vector
# depended on its batch mates (a cached and a cold ask could differ); alone, nothing is padded either.
# A cold pool of eight spreads over two threads (onnxruntime releases the GIL): on the ~1.5k chunks of
# the evaluation corpus, ask p95 fell from ~250 to ~75 ms with less CPU (docs/knowledge.md, session 19).
BATCH = 1
# Each cached candidate keeps its tokens' vectors too, for the word match: float16, up to 128 tokens (~100 KB; most
# candidates fill the 128, a quote and the next sentence). 512 of them, ~50 MB: the pools of the last ~60 questions.
CANDIDATES_KEPT = 512
QUESTIONS_KEPT = 64  # questions' tokens, between retrieval (which embeds the question) and the answer step


def pair_text(section: str, quote: str) -> str:
    """What the reader compares with the question: the candidate's section heading ("4.1 Inclusion Criteria"
    says what "Subject is 65 years of age or older" is about), then its quote."""
    section = " ".join(section.split())[:SECTION_CHARS]
    return f"{section}: {quote}" if section else quote


def index_tag(path: Path) -> str:
    """What names the collection this reader's vectors live in: a digest of the model file, so vectors of
    two readers never share a collection and a new reader starts an empty one."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return "reader-" + digest.hexdigest()[:12]


class Reader:
    """Cosines and word matches of a question with candidate texts, by the fine-tuned model; candidates' vectors
    are cached (the same passages answer many questions)."""

    def __init__(self, model_path: Path | None = None) -> None:
        # READER_FILE read when a reader is built, not when this module was imported: the fitting tools point it
        # at a fold reader (`knowledge.fit --reader-file`), and a default bound at import ignored them.
        path = model_path or READER_FILE
        self._model = MiniLmEmbeddings(path, max_tokens=MAX_TOKENS, batch_size=BATCH, workers=2)
        self._vectors = SentenceVectors(self._model.embed_with_tokens, size=CANDIDATES_KEPT)
        self._questions: OrderedDict[str, np.ndarray] = OrderedDict()  # a question's content tokens' vectors
        self._questions_lock = threading.Lock()
        # The index's chunks, each alone as the questions are: in a batch, int8 scaling moved a chunk's vector
        # by up to 0.014 in cosine with its batch mates (so ingest and reindex stored different vectors), and
        # alone on two threads it embedded as fast (15-18 chunks/s both on a busy 2-core machine).
        self.passages = self._model.limited(max_tokens=PASSAGE_TOKENS, batch_size=BATCH)
        self.index_tag = index_tag(path)

    def clear(self) -> None:
        """Forget every cached vector (benchmarks measure a cold cache)."""
        self._vectors.clear()

    def question(self, question: str) -> np.ndarray:
        """The question's vector. Retrieval reads it against the passages' stored vectors and hands it on to
        the answer step (`Retrieval.reader_vector`), so one ask embeds its question once: its tokens' vectors are
        kept for `read`. Not cached across asks: a question is rarely asked twice word for word."""
        vector, tokens, words = self._model.embed_with_tokens([question])[0]
        self._keep_words(question, question_words(tokens, words))
        return vector

    def questions(self, texts: Sequence[str]) -> np.ndarray:
        """Each text's vector, each embedded alone (as `question`), a repeated text once: what retrieval
        searches the reader's index with (the question as asked and as expanded, often the same)."""
        vectors = {t: self.question(t) for t in dict.fromkeys(texts)}
        return np.stack([vectors[t] for t in texts])

    def read(self, question: str, texts: Sequence[str], *, question_vector: np.ndarray | None = None) -> Reading:
        """Each text's cosine with the question, and its word match: the mean, over the question's content
        tokens, of each one's best cosine with a token of the text. The sentence's vector blurs what it says into
        one point; the word match sees whether each thing the question names is met, so among near neighbours
        (the criterion's other half, the next sentence) it points at the one that says what was asked."""
        if not texts:
            return Reading(np.zeros(0), np.zeros(0))
        kept = self._vectors.values(texts)
        vector = self.question(question) if question_vector is None else question_vector
        asked = self._words_of(question)
        cosines = (np.stack([v[0] for v in kept]) @ vector).astype(np.float64)
        matches = np.array([word_match(asked, tokens) for _, tokens, _ in kept], dtype=np.float64)
        return Reading(cosines, matches)

    def _keep_words(self, question: str, words: np.ndarray) -> None:
        with self._questions_lock:
            self._questions[question] = words
            self._questions.move_to_end(question)
            while len(self._questions) > QUESTIONS_KEPT:
                self._questions.popitem(last=False)

    def _words_of(self, question: str) -> np.ndarray:
        """The question's content tokens' vectors, kept when retrieval embedded it; embedded now otherwise."""
        with self._questions_lock:
            words = self._questions.get(question)
        if words is None:
            _, tokens, typed = self._model.embed_with_tokens([question])[0]
            words = question_words(tokens, typed)
        return words


# Words a question is built with rather than about: English function words, question words and chat filler. Fewer
# than the lexicon's stop words, which also drop "before", "after", "between" or "allowed" from lexical coverage: word
# by word they say what was asked ("before or after the infusion?"); leave-one-document-out they were worth 3 first
# quotes more (docs/knowledge.md, session 27).
_FILLER_WORDS = """a an the of to in on at for by with and or is are was were be been do does did can could should would
will shall may might must have has had it its this that these those what whats which who whom when where why how i we
you he she they our us my me your his her their them if then than so as from into about any all per vs not no yes up
out there here please pls thanks just also get got pt pts"""
FILLER = frozenset(_FILLER_WORDS.split())


def question_words(tokens: np.ndarray, words: Sequence[str]) -> np.ndarray:
    """The vectors of the question's content tokens: whole words (not "##" pieces) with a letter or digit, not
    `FILLER`. All tokens when none is left ("how?")."""
    keep = [
        i
        for i, w in enumerate(words)
        if not w.startswith("##") and any(c.isalnum() for c in w) and w.lower() not in FILLER
    ]
    return tokens[keep] if keep else tokens


def word_match(asked: np.ndarray, tokens: np.ndarray) -> float:
    """Mean over the asked tokens of each one's best cosine with the text's tokens (0 when either is empty)."""
    if not len(asked) or not len(tokens):
        return 0.0
    return float((asked.astype(np.float32) @ tokens.astype(np.float32).T).max(axis=1).mean())


_shared: list[Reader] = []
_shared_lock = threading.Lock()


def shared_reader() -> Reader | None:
    """The process's one reader, or None when its model file is not installed (the sentence model decides)."""
    with _shared_lock:
        if not _shared and READER_FILE.exists():
            _shared.append(Reader())
        return _shared[0] if _shared else None
