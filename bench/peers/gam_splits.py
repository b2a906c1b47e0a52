#!/usr/bin/env python3
"""Held-out accuracy of glassbox's GAM against pyGAM (gridsearch), interpret's EBM and (optionally)
R's mgcv over several random splits of the four GAM data sets, so that a change to the GAM is judged
on more than the 171 test rows of one split.

    /work/venv/bin/python bench/peers/gam_splits.py [--glassbox BIN] [--seeds 0,1,2,3,4]
        [--gb-args "--n-splines 10"] [--label NAME] [--peers pygam,ebm,mgcv] [--cache FILE]

For every data set and seed: `glassbox split --seed S --test-fraction 0.3` (stratified for
classification, exactly as `sec_gam.py` does for seed 0), each tool fitted on the training part
and scored on the test part: AUC (binary, higher is better) or RMSE (regression, lower is better).
Peers do not change between glassbox variants, so their scores are cached in `--cache` (a JSON file
keyed by data set and seed; delete it to refit). Variants of glassbox are compared by running the
script once per `--gb-args`/`--label` and reading the printed tables side by side. mgcv is `gam(y ~ s(x1) + … , method = "REML")`
with default `s()` bases (k = 10; fewer for features with few distinct values, linear for ≤ 3
distinct values, factors for categorical features) and `family = binomial` for the binary targets;
`mgcv_select` adds `select = TRUE` (REML-chosen null-space penalties, Marra & Wood 2011).
`ebm_main` is the EBM with `interactions=0` (main effects only), to tell how much of EBM's lead
comes from its pairwise terms. mgcv
needs `Rscript` with mgcv (Debian: `apt-get install r-cran-mgcv`); a fit that fails (mgcv's Newton
step does on credit_scoring) is reported as nan, and so is a peer whose predictions are not finite.

Prints one table per data set (rows = seeds, columns = tools) with the mean and the mean
difference of glassbox to each peer (positive = glassbox better), and writes the raw numbers as
JSON to `--json` when given. Reuses `sec_gam.py`'s data sets, encoding and peer fits.
"""
import argparse
import json
import os
import sys
import tempfile

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sec_gam  # noqa: E402  (the same data sets, encoding and peer settings as the harness)

R_SCRIPT = r"""
suppressMessages(library(mgcv))
args <- commandArgs(trailingOnly = TRUE)
tr <- read.csv(args[1], check.names = FALSE); te <- read.csv(args[2], check.names = FALSE)
target <- args[3]; binary <- args[4] == "binary"
feats <- setdiff(names(tr), target)
terms <- c()
for (f in feats) {
  v <- tr[[f]]
  nm <- paste0("`", f, "`")
  if (!is.numeric(v) || length(unique(na.omit(v))) <= 2) {
    lv <- sort(unique(as.character(na.omit(v))))
    mode <- names(sort(-table(as.character(na.omit(v)))))[1]
    fill <- function(x) { x <- as.character(x); x[is.na(x)] <- mode; factor(x, levels = lv) }
    tr[[f]] <- fill(tr[[f]]); te[[f]] <- fill(te[[f]])
    terms <- c(terms, nm)
  } else {
    m <- mean(v, na.rm = TRUE)
    tr[[f]][is.na(tr[[f]])] <- m; te[[f]][is.na(te[[f]])] <- m
    d <- length(unique(tr[[f]]))
    terms <- c(terms, if (d <= 3) nm else sprintf("s(%s, k = %d)", nm, min(10, d - 1)))
  }
}
form <- as.formula(paste0("`", target, "` ~ ", paste(terms, collapse = " + ")))
fam <- if (binary) binomial() else gaussian()
fit <- gam(form, data = tr, family = fam, method = "REML", select = args[5] == "select")
p <- predict(fit, newdata = te, type = "response")
write.csv(data.frame(prediction = as.numeric(p)), args[6], row.names = FALSE)
"""


def split(glassbox, name, target, task, seed, work):
    src = os.path.join(sec_gam.DATA, f"{name}.csv")
    tr = os.path.join(work, f"{name}_{seed}_train.csv")
    te = os.path.join(work, f"{name}_{seed}_test.csv")
    cmd = [glassbox, "--quiet", "split", "--data", src, "--seed", seed, "--test-fraction", 0.3,
           "--train-out", tr, "--test-out", te]
    if task == "binary":
        cmd += ["--stratify", target]
    sec_gam.sh(cmd)
    return tr, te


def fit_glassbox(glassbox, tr, te, target, extra, work):
    model, pred = os.path.join(work, "gb_model.json"), os.path.join(work, "gb_pred.csv")
    sec_gam.sh([glassbox, "--quiet", "train", "--data", tr, "--target", target, "--model", "gam",
                *extra, "--out", model])
    sec_gam.sh([glassbox, "--quiet", "predict", "--model", model, "--data", te, "--out", pred])
    return pd.read_csv(pred)["prediction"].to_numpy()


def fit_mgcv(tr, te, target, task, select, work):
    script, pred = os.path.join(work, "mgcv.R"), os.path.join(work, "mgcv_pred.csv")
    with open(script, "w") as fh:
        fh.write(R_SCRIPT)
    sec_gam.sh(["Rscript", script, tr, te, target, task, "select" if select else "plain", pred])
    return pd.read_csv(pred)["prediction"].to_numpy()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--glassbox", default=os.environ.get("GLASSBOX", os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(sec_gam.ROOT, "target")), "release", "glassbox")))
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--cases", default=None, help="comma-separated data sets (default: all four)")
    p.add_argument("--gb-args", default="", help="extra `glassbox train` arguments (a variant)")
    p.add_argument("--label", default="glassbox", help="column name of this glassbox variant")
    p.add_argument("--peers", default="pygam,ebm", help="subset of pygam,ebm,ebm_main,mgcv,mgcv_select")
    p.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "gam_splits_peers.json"))
    p.add_argument("--json", default=None, help="write the raw per-seed numbers here")
    a = p.parse_args()
    seeds = [int(s) for s in a.seeds.split(",")]
    peers = [s for s in a.peers.split(",") if s]
    cases = [c for c in sec_gam.CASES if not a.cases or c[0] in a.cases.split(",")]
    cache = json.load(open(a.cache)) if os.path.exists(a.cache) else {}
    work = tempfile.mkdtemp(prefix="gam_splits_")
    extra = a.gb_args.split()
    raw = {}
    for name, target, task in cases:
        score = sec_gam.auc if task == "binary" else sec_gam.rmse
        for seed in seeds:
            tr, te = split(a.glassbox, name, target, task, seed, work)
            train, test = pd.read_csv(tr), pd.read_csv(te)
            ytr, yte = train[target].to_numpy(float), test[target].to_numpy(float)
            row = {a.label: score(yte, fit_glassbox(a.glassbox, tr, te, target, extra, work))}
            key = f"{name}/{seed}"
            got = cache.setdefault(key, {})
            for peer in peers:
                if peer not in got:
                    if peer in ("pygam", "ebm", "ebm_main"):
                        xtr, xte, is_cat = sec_gam.encode(train, test, target)
                        if peer == "pygam":
                            m = sec_gam.fit_pygam(task, xtr, ytr, is_cat)
                            pr = m.predict_proba(xte) if task == "binary" else m.predict(xte)
                            got["pygam_lam"] = [float(np.ravel(l)[0]) for l in m.lam]
                            got["pygam_edof"] = float(m.statistics_["edof"])
                        else:
                            xd, xt = train.drop(columns=[target]), test.drop(columns=[target])
                            m = sec_gam.fit_ebm(task, xd, ytr, 2,
                                                interactions=0 if peer == "ebm_main" else None)
                            pr = m.predict_proba(xt)[:, 1] if task == "binary" else m.predict(xt)
                    else:
                        try:
                            pr = fit_mgcv(tr, te, target, task, peer == "mgcv_select", work)
                        except RuntimeError as e:  # mgcv's Newton step fails on some splits
                            print(f"{name} seed {seed}: {peer} failed: {str(e).splitlines()[-2:]}",
                                  file=sys.stderr)
                            pr = None
                    try:
                        got[peer] = float("nan") if pr is None else score(yte, pr)
                    except ValueError as e:  # e.g. pyGAM's IRLS overflowing to NaN predictions
                        print(f"{name} seed {seed}: {peer} unusable: {e}", file=sys.stderr)
                        got[peer] = float("nan")
                    with open(a.cache + ".tmp", "w") as fh:
                        json.dump(cache, fh, indent=1)
                    os.replace(a.cache + ".tmp", a.cache)
                row[peer] = got[peer]
            raw[key] = row
            print(f"{name} seed {seed}: " + ", ".join(f"{k} {v:.4f}" for k, v in row.items()),
                  file=sys.stderr, flush=True)
    tools = [a.label] + peers
    print(f"\nglassbox variant `{a.label}`: train args `{a.gb_args or '(defaults)'}`\n")
    for name, target, task in cases:
        metric = "AUC" if task == "binary" else "RMSE"
        sign = 1 if task == "binary" else -1
        print(f"**{name}** (held-out {metric}, 30 % test)\n")
        print("| seed | " + " | ".join(tools) + " |")
        print("|---" * (len(tools) + 1) + "|")
        vals = {t: [] for t in tools}
        for seed in seeds:
            r = raw[f"{name}/{seed}"]
            for t in tools:
                vals[t].append(r[t])
            print(f"| {seed} | " + " | ".join(f"{r[t]:.4f}" for t in tools) + " |")
        print("| mean | " + " | ".join(f"{np.nanmean(vals[t]):.4f}" for t in tools) + " |")
        d = [f"{sign * (np.nanmean(vals[a.label]) - np.nanmean(vals[t])):+.4f}" for t in peers]
        print("| glassbox − peer (+ = better) | – | " + " | ".join(d) + " |\n")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"label": a.label, "gb_args": a.gb_args, "raw": raw}, fh, indent=1)


if __name__ == "__main__":
    main()
