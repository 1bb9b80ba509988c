"""The reader: the fine-tuned MiniLM the answer model's second look compares questions and quotes with."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from knowledge import reader as reader_module
from knowledge.confidence import SentenceVectors
from knowledge.reader import READER_FILE, Reader, pair_text, shared_reader


def test_a_candidate_is_read_with_its_section_heading() -> None:
    assert (
        pair_text("4.1  Inclusion\nCriteria", "Subject is 65 or older.")
        == "4.1 Inclusion Criteria: Subject is 65 or older."
    )
    assert pair_text("", "Subject is 65 or older.") == "Subject is 65 or older."
    assert len(pair_text("x" * 500, "q")) == reader_module.SECTION_CHARS + 3


@pytest.mark.skipif(not READER_FILE.exists(), reason="the reader's model file is not installed")
def test_the_shipped_reader_places_the_answer_nearest_the_question() -> None:
    reader = shared_reader()
    assert reader is not None
    cosines = reader.read(
        "new pt is 63 - is there an age floor for enrolment?",
        [
            pair_text("8.2 Storage", "Store the capsules at room temperature in the original bottle."),
            pair_text("4.1 Inclusion Criteria", "Subject is 65 years of age or older."),
            pair_text("9.1 Adverse Events", "Report serious adverse events within 24 hours of awareness."),
        ],
    ).cosines
    assert int(np.argmax(cosines)) == 1


@pytest.mark.skipif(not READER_FILE.exists(), reason="the reader's model file is not installed")
def test_a_texts_reading_does_not_depend_on_what_is_read_beside_it() -> None:
    """int8 activations are scaled per batch: read together, a short text's vector moved with its batch mates,
    so an ask answered from the cache and the same ask read cold could choose different quotes."""
    question = "how long is the screening window?"
    short = pair_text("6.1 Screening", "Screening lasts up to 35 days.")
    others = [
        pair_text("6.2 Visits", "Visits after Week 36 have a window of plus or minus 7 days, " * 4),
        pair_text("8.2 Storage", "Store the capsules at room temperature in the original bottle."),
    ]
    reader = Reader()
    together = reader.read(question, [short, *others]).cosines[0]
    reader.clear()
    alone = reader.read(question, [short]).cosines[0]
    assert together == pytest.approx(alone, abs=1e-5)


def test_texts_seen_before_are_not_embedded_again() -> None:
    calls: list[list[str]] = []

    class Counting:
        def embed_with_tokens(self, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray, list[str]]]:
            calls.append(list(texts))
            rows = np.eye(4, dtype=np.float32)
            return [(rows[len(t) % 4], rows[[len(t) % 4]].astype(np.float16), [t]) for t in texts]

    counting = Counting()
    reader = Reader.__new__(Reader)
    reader.__dict__.update(
        _model=counting,
        _vectors=SentenceVectors(counting.embed_with_tokens),
        _questions=OrderedDict(),
        _questions_lock=threading.Lock(),
    )
    first = reader.read("abcd", ["abc", "wxyz", "abc"]).cosines
    again = reader.read("abcd", ["wxyz", "abc"]).cosines
    assert calls == [["abc", "wxyz"], ["abcd"], ["abcd"]]  # the second question embeds only itself
    # a vector retrieval already made is used as it is: nothing embedded
    handed = reader.read("abcd", ["abc"], question_vector=np.array([0, 0, 0, 1], dtype=np.float32)).cosines
    assert len(calls) == 3 and handed.tolist() == [1.0]
    assert first.tolist() == [0.0, 1.0, 0.0] and again.tolist() == [1.0, 0.0]
    assert reader.read("q", []).cosines.shape == (0,)


def test_the_sentence_that_names_what_was_asked_meets_the_question_word_by_word() -> None:
    """The word match sees whether each thing the question names is met: of two sentences about the injection,
    the one that gives the needle's gauge meets "gauge" and "needle"; the cosine of whole sentences is closer."""
    reader = Reader()
    question = "what gauge needle do we use for the injection?"
    says = pair_text("6.3 Administration", "Use a 27-gauge needle for each injection.")
    near = pair_text("6.3 Administration", "Inject subcutaneously in the abdomen using the supplied syringe.")
    reading = reader.read(question, [says, near])
    assert reading.matches[0] > reading.matches[1] + 0.05
    handed = reader.read(question, [says, near], question_vector=reader.question(question))
    assert reading.cosines.tolist() == pytest.approx(handed.cosines.tolist(), abs=1e-6)
    # the question's own filler ("what", "do", "we") is not asked for; its content words are
    assert reader.read("what do we use?", [says]).matches.shape == (1,)


def test_without_its_model_file_there_is_no_reader(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(reader_module, "READER_FILE", tmp_path / "absent.onnx")
    monkeypatch.setattr(reader_module, "_shared", [])
    assert shared_reader() is None


@pytest.mark.skipif(not READER_FILE.exists(), reason="the reader's model file is not installed")
def test_the_fitting_tools_reader_file_is_the_one_every_reader_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`knowledge.fit dump|read --reader-file F`: a fold reader's cosines for questions the shipped reader was
    fine-tuned on. A default bound when the module was imported kept reading the shipped file (session 24's
    first leave-one-document-out figures were flattered by it)."""
    import shutil

    from knowledge import fit

    copy = tmp_path / "fold0.onnx"
    shutil.copy(READER_FILE, copy)
    monkeypatch.setattr(reader_module, "READER_FILE", READER_FILE)
    monkeypatch.setattr(reader_module, "_shared", [])
    fit.use_reader(copy)
    built: list[Path] = []
    real = reader_module.MiniLmEmbeddings.__init__

    def spy(self, model_path=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        built.append(model_path)
        real(self, model_path, *args, **kwargs)

    monkeypatch.setattr(reader_module.MiniLmEmbeddings, "__init__", spy)
    assert shared_reader() is not None and Reader() is not None
    assert built == [copy, copy]
    with pytest.raises(SystemExit, match="no such file"):
        fit.use_reader(tmp_path / "absent.onnx")
