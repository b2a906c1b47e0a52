"""How glassbox's exact Tree SHAP scales: rows per second by row count and depth, and peak memory
on a million rows.

- Throughput: path-dependent `explain` with XGBoost models of 100 trees, 30 numeric features, trained
  on 20 000 seeded synthetic rows with interactions so the trees fill their depth. Two series: rows
  (1 000, 10 000, 100 000 rows at depth 6: cost linear in rows) and depth (4, 6, 8, 10, 12 at 2 000
  rows: how cost grows with depth; a depth-12 tree costs O(leaves × depth²) per row, so 100 000
  rows there would take most of an hour on 2 cores). `glassbox_s` is the whole command; the note gives
  rows per second of the whole command and of the compute step (`--timings`). One run per cell
  (`ctx.repeat` does not apply: there is no peer to alternate with). --quick: 1k/10k rows, depth 4/6.
- Memory: 1 000 000 rows × 30 features (CSV) explained with a 100-tree depth-6 model, output to CSV
  and to Parquet; the note gives the peak resident set size of the glassbox process (ru_maxrss of
  the child). The input CSV alone is in the note for scale. Memory is driven by rows (input chunks
  and output buffers), not by the tree count. --quick: 100 000 rows.
"""
import os

import numpy as np
import pandas as pd

SECTION = "scaling"
M = 30


def synthetic(n, seed):
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=(n, M)), 4)
    y = x[:, 0] * x[:, 1] + np.sin(2 * x[:, 2]) + x[:, 3:8].sum(axis=1) * x[:, 8] \
        + 0.3 * (x[:, 9:20] ** 2).sum(axis=1) + rng.normal(scale=0.3, size=n)
    return pd.DataFrame(x, columns=[f"x{j}" for j in range(M)]), y


def write_rows(path, n, seed):
    """Writes n synthetic rows to CSV in blocks (never holds a million rows as text at once)."""
    with open(path, "w") as f:
        for start in range(0, n, 200_000):
            x, _ = synthetic(min(200_000, n - start), seed + start)
            x.to_csv(f, index=False, header=start == 0, float_format="%.4f")


def model(ctx, depth, trees):
    import xgboost as xgb
    path = os.path.join(ctx.tmp, f"scaling_d{depth}_t{trees}.json")
    if not os.path.exists(path):
        x, y = synthetic(20_000, 0)
        params = {"max_depth": depth, "eta": 0.05, "objective": "reg:squarederror", "seed": 1,
                  "nthread": ctx.threads, "min_child_weight": 1}
        xgb.train(params, xgb.DMatrix(x, label=y), num_boost_round=trees).save_model(path)
    return path


def compute_seconds(stderr):
    line = next(l for l in stderr.splitlines() if l.startswith("timings:"))
    return float(dict(kv.split("=") for kv in line.split()[1:])["explain"])


def run(ctx):
    import time
    if ctx.quick:
        grid = [(6, 1_000), (6, 10_000), (4, 1_000)]
    else:
        grid = [(6, 1_000), (6, 10_000), (6, 100_000)] + [(d, 2_000) for d in [4, 6, 8, 10, 12]]
    out = []
    rows_csv = {}
    for n in sorted({n for _, n in grid}):
        rows_csv[n] = os.path.join(ctx.tmp, f"scaling_{n}.csv")
        write_rows(rows_csv[n], n, 100)
    out_csv = os.path.join(ctx.tmp, "scaling_out.csv")
    for depth, n in grid:
        mpath = model(ctx, depth, 100)
        t = time.perf_counter()
        res = ctx.run_glassbox("explain", "--model", mpath, "--data", rows_csv[n], "--method",
                           "tree-shap", "--out", out_csv, "--timings")
        wall = time.perf_counter() - t
        compute = compute_seconds(res.stderr)
        out.append(ctx.row(
            SECTION, f"path-dependent, depth {depth}, 100 trees, {n} rows × {M} features, "
            f"{ctx.threads} threads", "explain --method tree-shap", "–", wall, None,
            note=f"{n / wall:,.0f} rows/s whole command; {n / compute:,.0f} rows/s compute"))
    n_big = 100_000 if ctx.quick else 1_000_000
    big = os.path.join(ctx.tmp, f"scaling_big_{n_big}.csv")
    write_rows(big, n_big, 7)
    mpath = model(ctx, 6, 100)
    size_mb = os.path.getsize(big) / 2**20
    for ext in ["csv", "parquet"]:
        dest = os.path.join(ctx.tmp, f"scaling_big_out.{ext}")
        wall, rss = ctx.peak_rss([ctx.bin, "--quiet", "--threads", ctx.threads, "explain", "--model",
                                  mpath, "--data", big, "--method", "tree-shap", "--out", dest])
        out.append(ctx.row(
            SECTION, f"peak memory: path-dependent, depth 6, 100 trees, {n_big} rows × {M} features "
            f"→ {ext.upper()}, {ctx.threads} threads", "explain --method tree-shap", "–", wall, None,
            note=f"peak RSS {rss / 2**20:,.0f} MiB (input CSV {size_mb:,.0f} MiB, output "
                 f"{os.path.getsize(dest) / 2**20:,.0f} MiB); {n_big / wall:,.0f} rows/s"))
        os.remove(dest)
    os.remove(big)
    return out
