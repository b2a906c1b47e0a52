#!/usr/bin/env python3
"""Peer comparison: glassbox against the tools users would otherwise pick, on the same model, rows and
thread count, in one run.

Each comparison runs every tool `--repeat` times, alternating tools so machine drift hits all of them,
and reports the median time, the ratio to glassbox, and the max / mean absolute difference of the
values where the tools compute the same thing. Output: a Markdown table on stdout and a JSON file.

Usage (after `bash bench/peers/setup.sh`):
    bench/peers/.venv/bin/python bench/peers/run.py [--only treeshap,gbdt] [--threads 2] [--repeat 3]

glassbox is timed as a whole CLI run (reading the CSV, computing, writing the CSV), which is stricter
than the in-process timing of the Python tools; its own compute time is reported too (`--timings`).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GLASSBOX = os.path.join(ROOT, "target", "release", "glassbox")
DATA = os.path.join(ROOT, "data")


def median_time(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def alternate(tools, repeat):
    """Runs each tool `repeat` times, round-robin; returns {name: (median seconds, last output)}."""
    times = {name: [] for name in tools}
    outs = {}
    for _ in range(repeat):
        for name, fn in tools.items():
            t0 = time.perf_counter()
            outs[name] = fn()
            times[name].append(time.perf_counter() - t0)
    return {name: (statistics.median(times[name]), outs[name]) for name in tools}


def glassbox(*args, threads):
    cmd = [GLASSBOX, "--quiet", "--threads", str(threads), *map(str, args)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"glassbox failed: {' '.join(cmd)}\n{res.stderr}")
    return res


def parse_timings(stderr):
    line = next(l for l in stderr.splitlines() if l.startswith("timings:"))
    return {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}


def read_attr(path, n_features):
    df = pd.read_csv(path)
    return df.to_numpy()[:, : n_features + 1]


def adult_onehot():
    df = pd.read_csv(os.path.join(DATA, "adult_income.csv"))
    y = df.pop("income_gt_50k").to_numpy()
    cats = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    x = pd.get_dummies(df, columns=cats, dtype=float)
    x.columns = [c.replace(" ", "_").replace(",", "_") for c in x.columns]
    return x, y


def treeshap(args, results):
    import xgboost as xgb
    import shap

    try:
        import fasttreeshap_fixed as fasttreeshap
    except ImportError:
        fasttreeshap = None
    x, y = adult_onehot()
    tmp = tempfile.mkdtemp(prefix="gb-peers-")
    for depth in args.depths:
        params = {"max_depth": depth, "eta": 0.1, "objective": "binary:logistic", "seed": 1,
                  "nthread": args.threads}
        booster = xgb.train(params, xgb.DMatrix(x, label=y), num_boost_round=args.trees)
        model_path = os.path.join(tmp, f"xgb_d{depth}.json")
        booster.save_model(model_path)
        rows = x.iloc[: args.rows]
        rows_path = os.path.join(tmp, f"rows_d{depth}.csv")
        rows.to_csv(rows_path, index=False)
        out_path = os.path.join(tmp, f"gb_d{depth}.csv")
        dm = xgb.DMatrix(rows)
        m = x.shape[1]

        compute = []

        def run_glassbox():
            res = glassbox("explain", "--model", model_path, "--data", rows_path, "--method",
                           "tree-shap", "--out", out_path, "--timings", threads=args.threads)
            compute.append(parse_timings(res.stderr)["explain"])
            return read_attr(out_path, m)

        tools = {
            "glassbox": run_glassbox,
            "xgboost pred_contribs": lambda: booster.predict(dm, pred_contribs=True),
        }
        if fasttreeshap is not None:
            fts = fasttreeshap.TreeExplainer(booster, algorithm="v2", n_jobs=args.threads)
            tools["fasttreeshap v2"] = lambda: fts(rows).values
        if args.with_shap:
            sh = shap.TreeExplainer(booster)
            tools["shap TreeExplainer (1 thread)"] = lambda: sh.shap_values(rows)
        res = alternate(tools, args.repeat)
        ref = np.asarray(res["xgboost pred_contribs"][1])
        gb_time, gb_vals = res["glassbox"]
        for name, (t, vals) in res.items():
            if name == "glassbox":
                continue
            vals = np.asarray(vals)[:, :m]
            diff = np.abs(gb_vals[:, :m] - vals)
            results.append({
                "comparison": f"Tree SHAP path-dependent, depth {depth}, {args.trees} trees, "
                              f"{args.rows} rows, {args.threads} threads",
                "peer": name, "peer_s": t, "glassbox_s": gb_time, "speedup": t / gb_time,
                "max_abs_diff": float(diff.max()), "mean_abs_diff": float(diff.mean()),
                "glassbox_compute_s": statistics.median(compute),
            })
        del ref


SECTIONS = {"treeshap": treeshap}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--rows", type=int, default=5000)
    p.add_argument("--trees", type=int, default=300)
    p.add_argument("--depths", type=lambda s: [int(v) for v in s.split(",")], default=[6, 8])
    p.add_argument("--with-shap", action="store_true", help="also time shap's TreeExplainer (slow)")
    p.add_argument("--json", default=os.path.join(ROOT, "bench", "peers", "results.json"))
    args = p.parse_args()
    if not os.path.exists(GLASSBOX):
        sys.exit(f"{GLASSBOX} is missing: run bash bench/peers/setup.sh first")
    results = []
    for name in args.only.split(","):
        SECTIONS[name](args, results)
    print(f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}\n")
    print("| comparison | peer | peer s | glassbox s (whole CLI run) | speed-up | speed-up (compute only) "
          "| max abs diff | mean abs diff |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        compute = r.get("glassbox_compute_s")
        cs = f"{r['peer_s'] / compute:.2f}x" if compute else "-"
        print(f"| {r['comparison']} | {r['peer']} | {r['peer_s']:.3f} | {r['glassbox_s']:.3f} | "
              f"{r['speedup']:.2f}x | {cs} | {r['max_abs_diff']:.2e} | {r['mean_abs_diff']:.2e} |")
    with open(args.json, "w") as f:
        json.dump({"machine": platform.platform(), "cores": os.cpu_count(), "results": results}, f,
                  indent=1)


if __name__ == "__main__":
    main()
