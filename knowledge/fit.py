"""Fit the answer model on labelled questions from many documents, and report it leave-one-document-out.

    python -m knowledge.fit dump QA.jsonl[:STUDY] ... --out F.npz   # run retrieval, save every candidate
    python -m knowledge.fit folds F.npz ... [--test BLIND.npz]      # fitted without a document, measured on it
    python -m knowledge.fit write F.npz ...                         # fit on everything, write the weights
    python -m knowledge.fit read F.npz --out R.npz                  # the shipped reader's cosines, for new questions
    python -m knowledge.fit write F.npz --reader R.npz --abstain-only  # refit only when to abstain

Training-time only (numpy, no torch): the runtime reads the weights from `assets/answer_model.json`.
Each QA line needs `question`, `doc`, `evidence` and `kind` (see knowledge.evaluation); a candidate
sentence is labelled right when it holds the evidence the way the outside measure counts it.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from knowledge.answer_model import (
    POOL,
    RERANK_QUESTION_FEATURES,
    AnswerModel,
    Reading,
    Reranker,
    fit_choice,
    fit_logistic,
)
from knowledge.evaluation import evidence_share, holds_evidence
from knowledge.features import PASSAGE_FEATURES, QUESTION_FEATURES, SENTENCE_FEATURES, sigmoid, signs

READER_FLOOR_SHARE = 0.04  # answerable training questions whose best candidate the reader places this far off
TARGET_FALSE_ABSTAIN = 0.02  # the abstain line is set where this share of answerable questions would be refused


@dataclass
class Example:
    qid: str
    doc: str
    answerable: bool
    evidence: str
    sentences: np.ndarray  # candidates x SENTENCE_FEATURES
    labels: np.ndarray  # evidence share of each candidate's quote
    quotes: list[str]
    places: list[str]
    extras: np.ndarray  # question-level inputs that do not depend on the sentence model
    passages: np.ndarray  # candidate passages x PASSAGE_FEATURES
    passage_labels: np.ndarray  # evidence share of each candidate passage
    # the reader's cosine of each candidate with the question (from a reader not fitted on this document)
    reader: np.ndarray | None = None
    kind: str = ""
    question: str = ""
    sections: list[str] = field(default_factory=list)  # each candidate's section heading
    reader_question: str = ""  # the question as the reader read it (knowledge.lexicon.as_documents_say)
    reader_match: np.ndarray | None = None  # the reader's word match of each candidate (knowledge.reader.Reader.read)


def dump(
    specs: list[str], out: Path, passage_folds: list[Example] | None = None, *, shipped_passages: bool = False
) -> None:
    """Answer every question with the engine and save each candidate passage's and sentence's features and label.

    With `passage_folds` (a previous dump), each question's passages are ordered by passage weights fitted
    without its document, so the sentence candidates are what a never-seen document would give. With
    `shipped_passages`, by the shipped passage weights: what the product gives a question those weights were not
    fitted on (new questions, for refitting the abstain layer alone).
    """
    from knowledge.answer import candidate_table
    from knowledge.evaluation import load_qa
    from knowledge.service import ANSWER_PASSAGES
    from siteline.container import build

    container = build()
    knowledge = container.knowledge
    for study in sorted({spec.partition(":")[2] or "EVAL" for spec in specs}):
        # The reader makes the index, and each reader file has its own collection (knowledge.reader): a fold
        # reader's is empty until its chunks are embedded by it.
        if filled := knowledge.fill_vectors(study, now=datetime.now(UTC), actor="knowledge.fit"):
            print(f"{study}: embedded {filled} chunks for this reader", file=sys.stderr)
    blank = AnswerModel(np.zeros(len(SENTENCE_FEATURES)), np.zeros(len(QUESTION_FEATURES)), 0.0)  # passages only
    if shipped_passages:
        blank = replace(blank, passage_weights=AnswerModel.load().passage_weights)
    loo: dict[str, AnswerModel] = {}
    saved: dict[str, object] = {}
    meta = []
    for spec in specs:
        path, _, study = spec.partition(":")
        items = load_qa(Path(path))
        for item in items:
            doc = Path(item.doc).stem
            model = blank
            if passage_folds is not None:
                if doc not in loo:
                    loo[doc] = replace(blank, passage_weights=fit_passages([e for e in passage_folds if e.doc != doc]))
                model = loo[doc]
            found = knowledge.search(item.question, studies=[study or "EVAL"], k=ANSWER_PASSAGES, model=model)
            table = candidate_table(item.question, found)
            quotes = table.quotes
            labels = np.array([evidence_share(q, item.evidence) if item.answerable else 0.0 for q in quotes])
            texts = [found.chunks[c].text if c in found.chunks else "" for c in found.passage_ids]
            key = f"{Path(path).stem}:{item.id or item.line}"
            saved[f"{key}|X"] = table.sentences
            saved[f"{key}|E"] = table.extras
            saved[f"{key}|y"] = labels
            saved[f"{key}|P"] = (
                found.passage_features if found.passage_features is not None else np.zeros((0, len(PASSAGE_FEATURES)))
            )
            saved[f"{key}|py"] = np.array([evidence_share(t, item.evidence) if item.answerable else 0.0 for t in texts])
            meta.append(
                {
                    "key": key,
                    "doc": doc,
                    "answerable": item.answerable,
                    "evidence": item.evidence,
                    "kind": item.kind,
                    "quotes": quotes,
                    "places": table.places,
                    "question": item.question,
                    "reader_question": found.reader_question or item.question,
                    "sections": [found.chunks[c].section if c in found.chunks else "" for c in table.places],
                }
            )
        print(f"{path}: {len(items)} questions", file=sys.stderr)
    saved["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(out, **saved)


def fit_passages(train: list[Example]) -> np.ndarray:
    return fit_choice([(e.passages, e.passage_labels >= 0.6) for e in train if e.answerable and len(e.passages)])


def refit_passages(examples: list[Example], path: Path | None = None) -> AnswerModel:
    """Refit only the passage weights on `examples`; the sentence, abstain and reader layers stay as stored in
    `path` (the shipped model by default). For a change to the passage features alone: those layers were fitted
    on more questions than a session may still have."""
    model = replace(AnswerModel.load(path, passages=False), passage_weights=fit_passages(examples))
    model.save(path)
    return model


def refit_abstain(examples: list[Example], path: Path | None = None) -> AnswerModel:
    """Refit only when to abstain, on questions the shipped model never saw: the question layers' weights and
    lines (the sentence model's and the reader's second look's). Which passage and which sentence win stay as
    stored in `path`. Every example needs the shipped reader's cosines (`read`): the abstain line is only as honest
    as the candidates and cosines it is set on. Those are a new user's only on documents the reader was not
    fine-tuned on either: on its own documents its cosines are surer than on a new one (docs/knowledge.md,
    session 22)."""
    model = fit_abstain(AnswerModel.load(path), examples)
    model.save(path)
    return model


def fit_abstain(shipped: AnswerModel, examples: list[Example]) -> AnswerModel:
    """A copy of `shipped` with its abstain layers fitted on `examples` (see refit_abstain)."""
    if any(e.reader is None or e.reader_match is None for e in examples):
        raise ValueError(
            "every question needs the shipped reader's cosines and word matches: run python -m knowledge.fit read first"
        )
    model = replace(shipped)
    _fit_question_layer(model, examples)
    if model.reranker is not None:
        model.reranker = fit_reranker_abstain(model, model.reranker, examples)
    return model


MATCH = "|match"  # a reading file's key for a question's word matches, next to its cosines under the question's key


def readings(examples: list[Example]) -> dict[str, np.ndarray]:
    """The shipped reader's cosine and word match of each question with each of its candidates (section heading
    and quote, as the answer step reads them). Honest only for questions the reader was not fine-tuned on."""
    from knowledge.reader import Reader, pair_text

    reader = Reader()
    out: dict[str, np.ndarray] = {}
    for e in examples:
        texts = [pair_text(s, q) for s, q in zip(e.sections, e.quotes, strict=True)]
        reading = reader.read(e.reader_question or e.question, texts)
        out[e.qid], out[e.qid + MATCH] = reading.cosines, reading.matches
    return out


def load(path: Path, reader: dict[str, np.ndarray] | None = None) -> list[Example]:
    """A dump's questions, with the reader's cosines when `reader` (from `knowledge.fit_reader folds`) has them."""
    data = np.load(path, allow_pickle=False)
    meta = json.loads(str(data["meta"]))
    return [
        Example(
            m["key"],
            m["doc"],
            m["answerable"],
            m["evidence"],
            data[f"{m['key']}|X"],
            data[f"{m['key']}|y"],
            m["quotes"],
            m["places"],
            data[f"{m['key']}|E"],
            data[f"{m['key']}|P"],
            data[f"{m['key']}|py"],
            (reader or {}).get(m["key"]),
            m.get("kind", ""),
            m.get("question", ""),
            m.get("sections") or [""] * len(m["quotes"]),
            m.get("reader_question", ""),
            (reader or {}).get(m["key"] + MATCH),
        )
        for m in meta
    ]


def load_reader(paths: list[Path] | None) -> dict[str, np.ndarray] | None:
    if not paths:
        return None
    out: dict[str, np.ndarray] = {}
    for path in paths:
        data = np.load(path, allow_pickle=False)
        out |= {key: data[key] for key in data.files}
    return out


def fit(train: list[Example], reader_saw: frozenset[str] = frozenset()) -> AnswerModel:
    """Sentence weights on answerable questions' candidates, then the abstain weights and line on all questions.

    The reader's layer is fitted only on questions from sets the reader was not fine-tuned on (`reader_saw`
    names those sets, by file stem): on a question it learnt from, its cosine is better than on a new one, and a
    layer fitted on such cosines trusts it more than it should (session 20: 5.9 against 4.0 on the cosine)."""
    rows = [e for e in train if e.answerable and len(e.labels) and e.labels.max() >= 0.6]
    sentence_w = fit_choice([(e.sentences, e.labels >= 0.6) for e in rows], l2=1.0)
    model = AnswerModel(sentence_w, np.zeros(len(QUESTION_FEATURES)), 0.5, fit_passages(train))
    _fit_question_layer(model, train)
    unseen = [e for e in train if e.qid.split(":")[0] not in reader_saw]
    if unseen and all(e.reader is not None for e in unseen):
        if any(e.reader_match is None for e in unseen):
            raise ValueError("the reader's file has cosines but no word matches: read it again (knowledge.fit read)")
        model.reranker = fit_reranker(model, unseen)
    return model


def _fit_question_layer(model: AnswerModel, examples: list[Example]) -> None:
    """The sentence model's abstain weights and line (in place), on all questions, answerable or not."""
    qx = np.stack([model.question_features(e.sentences, e.extras) for e in examples])
    qy = np.array([float(e.answerable) for e in examples])
    model.question_weights = fit_logistic(qx, qy, l2=1.0, signs=signs(QUESTION_FEATURES))
    model.threshold = abstain_line(np.array([model.answer_probability(e.sentences, e.extras) for e in examples]), qy)


def abstain_line(scores: np.ndarray, answerable: np.ndarray) -> float:
    """The probability below which the engine abstains: where TARGET_FALSE_ABSTAIN of answerable questions fall."""
    ranked = np.sort(scores[answerable == 1])
    return float(ranked[int(TARGET_FALSE_ABSTAIN * len(ranked))]) if len(ranked) else 0.5


def fit_reranker(model: AnswerModel, train: list[Example]) -> Reranker:
    """The reader's second look, fitted like the first: which pooled candidate wins, then whether to answer."""
    groups = []
    for e in train:
        if e.answerable and len(e.labels):
            pool = model.pool(e.sentences, POOL)
            groups.append((model.rerank_features(e.sentences, pool, _reading(e, pool)), e.labels[pool] >= 0.6))
    weights = fit_choice(groups, l2=1.0)
    blank = Reranker(weights, np.zeros(len(QUESTION_FEATURES) + len(RERANK_QUESTION_FEATURES)), 0.5)
    return fit_reranker_abstain(model, blank, train)


def fit_reranker_abstain(model: AnswerModel, reranker: Reranker, train: list[Example]) -> Reranker:
    """The second look's abstain weights, line and floor refitted; which pooled candidate wins stays as fitted."""
    model = replace(model, reranker=reranker)
    read = []
    for e in train:
        if len(e.labels):
            pool = model.pool(e.sentences, reranker.pool)
            read.append((e, pool, _reading(e, pool)))
    qx = np.stack(
        [
            model.rerank_question_features(
                e.sentences, e.extras, model.reranked(e.sentences, pool, reading), reading.cosines
            )
            for e, pool, reading in read
        ]
    )
    qy = np.array([float(e.answerable) for e, _, _ in read])
    question_weights = fit_logistic(qx, qy, l2=1.0, signs=signs((*QUESTION_FEATURES, *RERANK_QUESTION_FEATURES)))
    threshold = abstain_line(sigmoid(qx @ question_weights), qy)
    best = [float(reading.cosines.max()) for e, _, reading in read if e.answerable]
    floor = float(np.percentile(best, 100 * READER_FLOOR_SHARE)) if best else -1.0
    return Reranker(reranker.weights, question_weights, threshold, reranker.pool, floor)


def _reading(e: Example, pool: list[int]) -> Reading:
    assert e.reader is not None and e.reader_match is not None
    return Reading(e.reader[pool].astype(np.float64), e.reader_match[pool].astype(np.float64))


@dataclass
class Outcome:
    doc: str
    kind: str
    answerable: bool
    abstained: bool
    first_holds: bool
    any_holds: bool
    retrieved: bool | None  # evidence in the top 5 passages (answerable questions)


def judge(model: AnswerModel, e: Example) -> Outcome:
    reader = None if e.reader is None else (lambda pool: _reading(e, pool))
    decision = model.decide(e.sentences, e.extras, e.places, reader)
    abstain, order, alternates = decision.abstain, decision.order, decision.alternates
    first = order[0] if len(order) else None
    holds = [holds_evidence(e.quotes[i], e.evidence) for i in ([first] if first is not None else []) + alternates]
    top = model.passage_order(e.passages)[:5]
    retrieved = bool(any(e.passage_labels[i] >= 0.6 for i in top)) if e.answerable else None
    return Outcome(
        e.doc, e.kind, e.answerable, bool(abstain or first is None), bool(holds and holds[0]), any(holds), retrieved
    )


def figures(outcomes: list[Outcome]) -> dict[str, float | int]:
    ans = [o for o in outcomes if o.answerable]
    un = [o for o in outcomes if not o.answerable]

    def rate(xs: list[bool]) -> float:
        return round(sum(xs) / len(xs), 3) if xs else float("nan")

    return {
        "questions": len(outcomes),
        "evidence_top5": rate([bool(o.retrieved) for o in ans]),
        "cited_holds": rate([o.any_holds and not o.abstained for o in ans]),
        "first_holds": rate([o.first_holds and not o.abstained for o in ans]),
        "unanswerable_abstained": rate([o.abstained for o in un]),
        "false_abstain": rate([o.abstained for o in ans]),
    }


def folds(
    examples: list[Example],
    tests: list[Example] | None = None,
    reader_saw: frozenset[str] = frozenset(),
    *,
    abstain_only: bool = False,
) -> dict[str, dict]:
    """Leave one document out: for each document, fit on the other documents' questions and judge its own
    (or, with `tests`, judge those questions about it: a blind set never used for fitting). Rows: all, each
    document, each kind of question. `abstain_only`: only the abstain layers are fitted without the document,
    the rest is the shipped model (for questions it was not fitted on)."""
    judged = examples if tests is None else tests
    every: list[Outcome] = []
    per_doc = {}
    for doc in sorted({e.doc for e in judged}):
        train = [e for e in examples if e.doc != doc]
        model = fit_abstain(AnswerModel.load(), train) if abstain_only else fit(train, reader_saw)
        outcomes = [judge(model, e) for e in judged if e.doc == doc]
        per_doc[doc] = figures(outcomes)
        every.extend(outcomes)
    kinds = {f"kind: {k}": figures([o for o in every if o.kind == k]) for k in sorted({o.kind for o in every})}
    return {"all": figures(every), **per_doc, **kinds}


def _sets(names: str) -> frozenset[str]:
    return frozenset(n.strip() for n in names.split(",") if n.strip())


def use_reader(path: Path) -> None:
    """Every reader this process builds from here on reads `path` (knowledge.reader.shared_reader)."""
    from knowledge import reader

    if not path.is_file():
        raise SystemExit(f"--reader-file {path}: no such file")
    reader.READER_FILE = path
    reader._shared.clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge.fit")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("specs", nargs="+", help="QA.jsonl:STUDY")
    d.add_argument("--out", type=Path, required=True)
    d.add_argument(
        "--passage-folds", type=Path, nargs="*", help="order passages by weights fitted without the document"
    )
    d.add_argument(
        "--shipped-passages", action="store_true", help="order passages by the shipped weights (new questions)"
    )
    r = sub.add_parser("read")
    r.add_argument("features", type=Path, nargs="+")
    r.add_argument("--out", type=Path, required=True)
    for command in (d, r):
        command.add_argument(
            "--reader-file",
            type=Path,
            help="another reader (a fold reader from `fit_reader export`): its cosines, and its question vector in "
            "retrieval, for questions on documents the shipped reader was fine-tuned on",
        )
    f = sub.add_parser("folds")
    f.add_argument("features", type=Path, nargs="+")
    f.add_argument("--test", type=Path, nargs="*", help="judge these questions instead (fitted on FEATURES)")
    f.add_argument("--json", action="store_true")
    f.add_argument("--reader", type=Path, nargs="*", help="the reader's cosines from knowledge.fit_reader folds")
    f.add_argument("--abstain-only", action="store_true", help="fit only the abstain layers without each document")
    w = sub.add_parser("write")
    w.add_argument("features", type=Path, nargs="+")
    w.add_argument("--reader", type=Path, nargs="*", help="the reader's cosines from knowledge.fit_reader folds")
    w.add_argument(
        "--passages-only",
        action="store_true",
        help="refit only the passage weights; the sentence, abstain and reader layers stay as shipped",
    )
    w.add_argument(
        "--abstain-only",
        action="store_true",
        help="refit only when to abstain, on questions the shipped model never saw (needs --reader from read)",
    )
    for command in (f, w):
        command.add_argument(
            "--reader-saw", default="", help="QA sets (file stems, comma-separated) the reader was fine-tuned on"
        )
    args = parser.parse_args(argv)
    if getattr(args, "reader_file", None) is not None:
        use_reader(args.reader_file)
    if args.command == "dump":
        folds_from = [e for p in args.passage_folds for e in load(p)] if args.passage_folds else None
        dump(args.specs, args.out, folds_from, shipped_passages=args.shipped_passages)
    elif args.command == "read":
        cosines = readings([e for p in args.features for e in load(p)])
        np.savez_compressed(args.out, **cosines)
        print(f"{args.out}: the reader's cosines and word matches for {len(cosines) // 2} questions", file=sys.stderr)
    elif args.command == "folds":
        reader = load_reader(args.reader)
        tests = [e for p in args.test for e in load(p, reader)] if args.test else None
        examples = [e for p in args.features for e in load(p, reader)]
        result = folds(examples, tests, _sets(args.reader_saw), abstain_only=args.abstain_only)
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            print(f"{'document':60} {'n':>4} {'top5':>6} {'cited':>6} {'first':>6} {'unans':>6} {'f.abs':>6}")
            for doc, fig in result.items():
                print(
                    f"{doc[:60]:60} {fig['questions']:>4} {fig['evidence_top5']:>6} {fig['cited_holds']:>6} "
                    f"{fig['first_holds']:>6} {fig['unanswerable_abstained']:>6} {fig['false_abstain']:>6}"
                )
    elif args.abstain_only:
        examples = [e for p in args.features for e in load(p, load_reader(args.reader))]
        refit_abstain(examples)
        print(f"wrote the abstain layers of {AnswerModel.path()} from {len(examples)} questions", file=sys.stderr)
    elif args.passages_only:
        examples = [e for p in args.features for e in load(p)]
        refit_passages(examples)
        print(f"wrote the passage weights of {AnswerModel.path()} from {len(examples)} questions", file=sys.stderr)
    else:
        examples = [e for p in args.features for e in load(p, load_reader(args.reader))]
        fit(examples, _sets(args.reader_saw)).save()
        print(f"wrote {AnswerModel.path()} from {len(examples)} questions", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
