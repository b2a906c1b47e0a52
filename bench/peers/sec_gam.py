#!/usr/bin/env python3
"""Peer section: glassbox's GAM against pyGAM (gridsearch) and interpret's EBM, on the same held-out
split of four data sets, held-out AUC (binary) or RMSE (regression) and fit-time ratios.

Interface (bench/peers/run.py): `run(ctx) -> list[dict]`, where ctx has `glassbox` (release binary),
`python`, `threads`, `repeat`, `quick`, `workdir`. Standalone:

    /work/venv/bin/python bench/peers/sec_gam.py [--glassbox target/release/glassbox] [--repeat 3]

Each tool is fitted `repeat` times, alternating tools, and the median fit time is reported. glassbox
is timed as a whole `glassbox train` CLI run (reading the CSV, fitting, writing the model), the
Python tools in-process (`fit` only), which favours the peers. The split is made by `glassbox split`
(seed 0, 30% test, stratified for classification) and read by every tool. Missing values (in
credit_scoring) are filled for pyGAM, which cannot take them, the way glassbox fills them (training
mean / most frequent level); EBM handles them itself.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types

import numpy as np
import pandas as pd

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(ROOT, "data")
if not os.path.exists(os.path.join(DATA, "german_credit.csv")):
    DATA = "/work/shared/data"

CASES = [
    # (data set, target, task)
    ("german_credit", "bad_credit", "binary"),
    ("credit_scoring", "bad", "binary"),
    ("breast_cancer_wisconsin", "malignant", "binary"),
    ("diabetes_progression", "disease_progression", "regression"),
]


def sh(cmd):
    res = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"failed: {' '.join(map(str, cmd))}\n{res.stderr}")
    return res


def auc(y, p):
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


def rmse(y, p):
    return float(np.sqrt(np.mean((np.asarray(y) - np.asarray(p)) ** 2)))


def encode(train, test, target):
    """Numeric matrices for pyGAM: categorical columns (text, or integers with <= 2 values, as
    glassbox infers them) as level codes in sorted order; missing values filled as glassbox does."""
    cols = [c for c in train.columns if c != target]
    cat = [
        c
        for c in cols
        if not pd.api.types.is_numeric_dtype(train[c]) or train[c].nunique(dropna=True) <= 2
    ]
    xtr, xte = train[cols].copy(), test[cols].copy()
    for c in cols:
        if c in cat:
            levels = sorted(train[c].dropna().astype(str).unique())
            mode = train[c].dropna().astype(str).value_counts()
            mode = max(levels, key=lambda l: (mode.get(l, 0), -levels.index(l)))
            for x in (xtr, xte):
                s = x[c].astype(str).where(x[c].notna(), mode)
                x[c] = s.map({l: i for i, l in enumerate(levels)}).fillna(levels.index(mode))
        else:
            m = train[c].mean()
            xtr[c] = xtr[c].fillna(m)
            xte[c] = xte[c].fillna(m)
    return xtr.to_numpy(float), xte.to_numpy(float), [c in cat for c in cols]


def fit_pygam(task, xtr, ytr, is_cat):
    from pygam import LinearGAM, LogisticGAM, f, s

    terms = None
    for j, c in enumerate(is_cat):
        t = f(j) if c else s(j)
        terms = t if terms is None else terms + t
    model = (LogisticGAM if task == "binary" else LinearGAM)(terms)
    model.gridsearch(xtr, ytr, progress=False)
    return model


def fit_ebm(task, xtr, ytr, threads, interactions=None):
    """interpret's EBM with its defaults; `interactions=0` fits main effects only."""
    from interpret.glassbox import (
        ExplainableBoostingClassifier,
        ExplainableBoostingRegressor,
    )

    cls = ExplainableBoostingClassifier if task == "binary" else ExplainableBoostingRegressor
    extra = {} if interactions is None else {"interactions": interactions}
    return cls(random_state=0, n_jobs=threads, **extra).fit(xtr, ytr)


def run(ctx):
    rows = []
    work = ctx.workdir
    os.makedirs(work, exist_ok=True)
    cases = CASES[:1] if ctx.quick else CASES
    only = getattr(ctx, "cases", None)
    if only:
        cases = [c for c in cases if c[0] in only]
    for name, target, task in cases:
        src = os.path.join(DATA, f"{name}.csv")
        tr, te = os.path.join(work, f"{name}_train.csv"), os.path.join(work, f"{name}_test.csv")
        split = [ctx.glassbox, "--quiet", "split", "--data", src, "--seed", 0, "--test-fraction", 0.3,
                 "--train-out", tr, "--test-out", te]
        if task == "binary":
            split += ["--stratify", target]
        sh(split)
        train, test = pd.read_csv(tr), pd.read_csv(te)
        ytr, yte = train[target].to_numpy(float), test[target].to_numpy(float)
        xtr_np, xte_np, is_cat = encode(train, test, target)
        xtr_df, xte_df = train.drop(columns=[target]), test.drop(columns=[target])
        model_path = os.path.join(work, f"{name}_gam.json")
        pred_path = os.path.join(work, f"{name}_gam_pred.csv")

        def gb_fit():
            sh([ctx.glassbox, "--quiet", "--threads", ctx.threads, "train", "--data", tr,
                "--target", target, "--model", "gam", "--out", model_path])

        out, times = {}, {"glassbox": [], "pygam": [], "ebm": []}
        fits = {
            "glassbox": gb_fit,
            "pygam": lambda: fit_pygam(task, xtr_np, ytr, is_cat),
            "ebm": lambda: fit_ebm(task, xtr_df, ytr, ctx.threads),
        }
        for _ in range(ctx.repeat):
            for tool, fn in fits.items():
                t0 = time.perf_counter()
                out[tool] = fn()
                times[tool].append(time.perf_counter() - t0)
        t = {k: statistics.median(v) for k, v in times.items()}
        sh([ctx.glassbox, "--quiet", "predict", "--model", model_path, "--data", te, "--out", pred_path])
        gb_pred = pd.read_csv(pred_path)["prediction"].to_numpy()
        if task == "binary":
            metric, score = "auc", auc
            preds = {
                "glassbox": gb_pred,
                "pygam": out["pygam"].predict_proba(xte_np),
                "ebm": out["ebm"].predict_proba(xte_df)[:, 1],
            }
        else:
            metric, score = "rmse", rmse
            preds = {
                "glassbox": gb_pred,
                "pygam": out["pygam"].predict(xte_np),
                "ebm": out["ebm"].predict(xte_df),
            }
        m = {k: score(yte, v) for k, v in preds.items()}
        for peer in ("pygam", "ebm"):
            d = np.abs(preds["glassbox"] - preds[peer])
            rows.append({
                "section": "gam",
                "case": f"{name} ({len(train)} train / {len(test)} test rows)",
                "tool": "glassbox train --model gam",
                "peer": {"pygam": "pyGAM 0.12 gridsearch", "ebm": "interpret 0.7.8 EBM"}[peer],
                "glassbox_s": t["glassbox"],
                "peer_s": t[peer],
                "ratio": t[peer] / t["glassbox"],
                "max_abs_diff": float(d.max()),
                "mean_abs_diff": float(d.mean()),
                "metric": metric,
                "glassbox_metric": m["glassbox"],
                "peer_metric": m[peer],
                "case_done_at": time.strftime("%H:%M:%S"),
                "note": f"held-out {metric}: glassbox {m['glassbox']:.4f}, {peer} {m[peer]:.4f}; "
                        f"diffs are of held-out predictions",
            })
            if getattr(ctx, "verbose", False):
                r = rows[-1]
                print(f"{name}: {peer} {metric} glassbox {r['glassbox_metric']:.4f} peer {r['peer_metric']:.4f}; "
                      f"time glassbox {r['glassbox_s']:.3f}s peer {r['peer_s']:.3f}s ratio {r['ratio']:.1f}",
                      file=sys.stderr, flush=True)
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--glassbox", default=os.path.join(ROOT, "target", "release", "glassbox"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--workdir", default=None)
    p.add_argument("--cases", default=None, help="comma-separated data sets (default: all four)")
    a = p.parse_args()
    ctx = types.SimpleNamespace(glassbox=a.glassbox, python=sys.executable, threads=a.threads,
                                repeat=a.repeat, quick=a.quick, verbose=True, cases=a.cases.split(",") if a.cases else None,
                                workdir=a.workdir or tempfile.mkdtemp(prefix="gb_gam_"))
    rows = run(ctx)
    import json
    with open(os.path.join(ctx.workdir, "sec_gam.json"), "w") as fh:
        json.dump(rows, fh, indent=1)
    print("| case | peer | glassbox metric | peer metric | glassbox s | peer s | peer/glassbox |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['case']} | {r['peer']} | {r['metric']} {r['glassbox_metric']:.4f} | "
              f"{r['peer_metric']:.4f} | {r['glassbox_s']:.3f} | {r['peer_s']:.3f} | {r['ratio']:.1f}x |")


if __name__ == "__main__":
    main()
