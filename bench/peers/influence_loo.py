#!/usr/bin/env python3
"""glassbox influence against an independent reference: statsmodels fits the same unpenalised
logistic GLM, numpy evaluates the influence function -∇L_testᵀ H⁻¹ ∇L_i from that fit, and the
numbers are compared with `glassbox influence --top 0` on the same rows. Influence is invariant
to how the categorical columns are coded (any basis of the same column space gives the same
fitted values, H⁻¹-weighted inner products and hence influence), so the dummy coding need not
match glassbox's.

Timing: the whole glassbox CLI run (read the model and both CSVs, build the design, factorise the
Hessian, influence of every training row on every explained row, write the CSV) against numpy's
compute-only part (Hessian, Cholesky, products; statsmodels' fit excluded), alternating, median of
--repeat runs. The glassbox side does strictly more work.

Usage:
    /work/venv/bin/python bench/peers/influence_loo.py [--glassbox target/release/glassbox]
        [--data ../shared/data/adult_income.csv --target income_gt_50k
         --ignore education_num,workclass,native_country]
(on adult, education_num is collinear with education's dummies, and workclass / native_country
have levels that separate perfectly, so the unpenalised MLE does not exist for them).
"""
import argparse
import os
import statistics
import subprocess
import tempfile
import time

import numpy as np
import pandas as pd
import statsmodels.api as sm

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def design(df, target, ignore):
    x = df.drop(columns=[target] + ignore)
    cats = list(x.select_dtypes(exclude="number").columns)
    x = pd.get_dummies(x, columns=cats, drop_first=True, dtype=float)
    x.insert(0, "intercept", 1.0)
    return x.to_numpy(dtype=float)


def reference(x, y, n_train, rows):
    fit = sm.GLM(y[:n_train], x[:n_train], family=sm.families.Binomial()).fit()
    beta = fit.params
    t0 = time.perf_counter()
    xt = x[:n_train]
    mu = 1.0 / (1.0 + np.exp(-xt @ beta))
    h = xt.T @ (xt * (mu * (1.0 - mu))[:, None])
    c = np.linalg.cholesky(h)
    g = xt * (mu - y[:n_train])[:, None]  # ∇ℓ_i for every training row
    out = []
    for r in rows:
        m = 1.0 / (1.0 + np.exp(-x[r] @ beta))
        v = np.linalg.solve(c.T, np.linalg.solve(c, (m - y[r]) * x[r]))
        out.append(g @ v)
    return np.array(out), time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--glassbox", default=os.path.join(ROOT, "target", "release", "glassbox"))
    ap.add_argument("--data", default=os.path.join(ROOT, "data", "german_credit.csv"))
    ap.add_argument("--target", default="bad_credit")
    ap.add_argument("--ignore", default="")
    ap.add_argument("--train-rows", type=int, default=0, help="default: all but the last 5")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    ignore = [c for c in a.ignore.split(",") if c]
    df = pd.read_csv(a.data, skipinitialspace=True).drop(columns=ignore)
    ignore = []
    # Missing categories are filled with the most frequent level first, as glassbox's design does,
    # so both sides fit the same table.
    for c in df.select_dtypes(exclude="number").columns:
        df[c] = df[c].fillna(df[c].mode()[0])
    n_train = a.train_rows or len(df) - 5
    rows = list(range(n_train, min(n_train + 5, len(df))))
    y = df[a.target].to_numpy(dtype=float)
    x = design(df, a.target, ignore)
    with tempfile.TemporaryDirectory() as d:
        train_csv, rows_csv = os.path.join(d, "train.csv"), os.path.join(d, "rows.csv")
        df.iloc[:n_train].to_csv(train_csv, index=False)
        df.iloc[rows].to_csv(rows_csv, index=False)
        model, out = os.path.join(d, "glm.json"), os.path.join(d, "inf.csv")
        cmd = [a.glassbox, "-q", "train", "--data", train_csv, "--target", a.target, "--model", "glm",
               "--family", "binomial", "--out", model]
        for c in ignore:
            cmd += ["--ignore", c]
        subprocess.run(cmd, check=True)
        run = [a.glassbox, "-q", "influence", "--model", model, "--train", train_csv, "--data", rows_csv,
               "--top", "0", "--out", out]
        gb_t, np_t = [], []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            subprocess.run(run, check=True)
            gb_t.append(time.perf_counter() - t0)
            ref, t = reference(x, y, n_train, rows)
            np_t.append(t)
        got = pd.read_csv(out)
        ours = np.zeros_like(ref)
        ours[got["row"].to_numpy(), got["train_row"].to_numpy()] = got["influence"].to_numpy()
    err = np.abs(ours - ref).max() / np.abs(ref).max()
    corr = np.corrcoef(ours.ravel(), ref.ravel())[0, 1]
    print(f"data {os.path.basename(a.data)}: {n_train} training rows, {len(rows)} explained rows, {x.shape[1]} design columns")
    print(f"max |glassbox − reference| / max |reference| = {err:.2e}; Pearson {corr:.8f}")
    g, p = statistics.median(gb_t), statistics.median(np_t)
    print(f"median of {a.repeat}: glassbox CLI (end to end) {g:.3f} s, numpy compute only {p:.3f} s, ratio glassbox/numpy {g / p:.2f}")


if __name__ == "__main__":
    main()
