#!/usr/bin/env bash
# The main job on bundled data: split german_credit, train gradient boosting, predict, explain every
# held-out row with exact Tree SHAP, write the audit report and every plot kind; then the same for a
# logistic GLM (shape functions, influence of training rows). Output in out/demo/ (or $1).
# Uses the dev profile (opt-level 1), the same build `cargo test` uses, so a fresh clone builds once.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-out/demo}"
mkdir -p "$out"
cargo build --quiet
gb="${CARGO_TARGET_DIR:-target}/debug/glassbox"
data=data/german_credit.csv
"$gb" split --data "$data" --stratify bad_credit --test-fraction 0.3 --seed 7 \
  --train-out "$out/train.csv" --test-out "$out/test.csv"
"$gb" train --data "$out/train.csv" --target bad_credit --model gbdt --seed 7 \
  --learning-rate 0.05 --max-leaves 15 --early-stopping-rounds 30 --trees 500 --out "$out/model.json"
"$gb" predict --model "$out/model.json" --data "$out/test.csv" --out "$out/predictions.csv"
"$gb" explain --model "$out/model.json" --data "$out/test.csv" --method tree-shap --out "$out/shap.csv"
"$gb" report --model "$out/model.json" --data "$out/test.csv" --reference "$out/train.csv" --out "$out/report"
# Every plot kind as PNG, from the same explanation, in $out/plots/.
mkdir -p "$out/plots"
src=(--explanation "$out/shap.csv" --model "$out/model.json" --data "$out/test.csv")
"$gb" plot summary "${src[@]}" --out "$out/plots/summary.png"
"$gb" plot bar "${src[@]}" --out "$out/plots/bar.png"
"$gb" plot dependence "${src[@]}" --feature credit_amount --out "$out/plots/dependence_credit_amount.png"
"$gb" plot waterfall "${src[@]}" --row 0 --probability --out "$out/plots/waterfall_row0.png"
"$gb" plot lime --model "$out/model.json" --data "$out/test.csv" --background "$out/train.csv" --row 0 \
  --seed 7 --out "$out/plots/lime_row0.png"
# The additive baseline: a logistic GLM, its shape functions and its report.
"$gb" train --data "$out/train.csv" --target bad_credit --model glm --family binomial --out "$out/glm.json"
"$gb" plot shape --model "$out/glm.json" --data "$out/train.csv" --out-dir "$out/plots/shape"
"$gb" report --model "$out/glm.json" --data "$out/test.csv" --reference "$out/train.csv" --out "$out/report_glm"
# Which training rows drove each held-out decision of the GLM (exact influence functions).
"$gb" influence --model "$out/glm.json" --train "$out/train.csv" --data "$out/test.csv" --top 10 \
  --out "$out/influence.csv" --self-influence "$out/self_influence.csv"
"$gb" plot influence --influence "$out/influence.csv" --row 0 --out "$out/plots/influence_row0.png"
echo "done: $out/report/index.html (GLM: $out/report_glm/index.html; plots: $out/plots/)"
