"""The cross-encoder: reads the question and one candidate quote together and says how likely the quote answers.

MiniLM-L6 (from all-MiniLM-L6-v2's weights) fine-tuned by `knowledge.fit_cross` on labelled questions from
many protocols, shipped as int8 ONNX in `assets/`; only onnxruntime and tokenizers at run time. It scores the
few candidates the answer model ranks first, so its cost is a handful of short pairs per question.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ASSETS = Path(__file__).parent / "assets"
MODEL_FILE = ASSETS / "cross_encoder.onnx"
TOKENIZER_FILE = ASSETS / "tokenizer.json"
MAX_TOKENS = 128  # question + quote; a quote's tail past this rarely decides whether it answers
SECTION_CHARS = 80


def pair_text(section: str, quote: str) -> str:
    """What the cross-encoder reads for a candidate: its section heading ("4.1 Inclusion Criteria" says what
    "Subject is 65 years of age or older" is about), then the quote."""
    section = " ".join(section.split())[:SECTION_CHARS]
    return f"{section}: {quote}" if section else quote


class CrossEncoder:
    """int8 ONNX session with the model's own tokenizer; thread-safe (onnxruntime sessions are)."""

    def __init__(self, model_path: Path = MODEL_FILE, *, threads: int = 0) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        if threads:
            options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(TOKENIZER_FILE))
        tokenizer.enable_truncation(max_length=MAX_TOKENS, strategy="only_second")
        tokenizer.enable_padding()
        self._tokenizer = tokenizer
        self._lock = threading.Lock()  # tokenizers' padding settings are per object, not per call

    def logits(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """One logit per text (higher: more likely it answers the question)."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        with self._lock:
            encoded = self._tokenizer.encode_batch([(question, t) for t in texts])
        feed = {
            "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
        }
        (out,) = self._session.run(["logits"], feed)
        return np.asarray(out, dtype=np.float32).reshape(-1)


_shared: CrossEncoder | None = None
_shared_lock = threading.Lock()


def shared_cross_encoder() -> CrossEncoder | None:
    """The process's one cross-encoder, or None when the model file is not installed."""
    global _shared
    with _shared_lock:
        if _shared is None and MODEL_FILE.exists():
            _shared = CrossEncoder()
        return _shared
