#!/usr/bin/env bash
# The main job on bundled data: split german_credit, train gradient boosting, predict, explain every
# held-out row with exact Tree SHAP, and write the audit report. Output in out/demo/ (or $1).
# Uses the dev profile (opt-level 1), the same build `cargo test` uses, so a fresh clone builds once.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-out/demo}"
mkdir -p "$out"
cargo build --quiet
gb=target/debug/glassbox
data=data/german_credit.csv
"$gb" split --data "$data" --stratify bad_credit --test-fraction 0.3 --seed 7 \
  --train-out "$out/train.csv" --test-out "$out/test.csv"
"$gb" train --data "$out/train.csv" --target bad_credit --model gbdt --seed 7 \
  --learning-rate 0.05 --max-leaves 15 --early-stopping-rounds 30 --trees 500 --out "$out/model.json"
"$gb" predict --model "$out/model.json" --data "$out/test.csv" --out "$out/predictions.csv"
"$gb" explain --model "$out/model.json" --data "$out/test.csv" --method tree-shap --out "$out/shap.csv"
"$gb" report --model "$out/model.json" --data "$out/test.csv" --out "$out/report"
echo "done: $out/report/index.html"
