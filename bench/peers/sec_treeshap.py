"""Exact Tree SHAP against the reference implementations, on XGBoost models of the adult data set.

- Path-dependent (`explain --method tree-shap`) vs XGBoost `pred_contribs`, shap's `TreeExplainer`
  and FastTreeSHAP v2, at depths 6, 8 and 10 (300 trees, 108 one-hot features; 5000 rows at depths 6
  and 8, 1000 at depth 10, where single-threaded shap alone would take minutes per repeat).
- Interventional (`explain --method tree-shap-interventional`) vs shap's
  `TreeExplainer(data=background, feature_perturbation="interventional")`, background of 100 rows.
  shap computes it on one thread, so glassbox is also timed on one thread (a second row).
- Interactions (`glassbox interactions --features <all>`) vs XGBoost `pred_interactions`, on the
  14 label-encoded features (the long-form output of all pairs stays small).

Peers are timed as their whole call, explainer construction included, from in-memory frames; glassbox
as its whole CLI run (start, model load, CSV read, compute, CSV write). The note gives glassbox's own
compute step (`--timings`) as a second ratio where the CLI reports it.
"""
import os
import statistics

import numpy as np
import pandas as pd

SECTION = "treeshap"
TARGET = "income_gt_50k"


def adult(ctx, onehot):
    df = pd.read_csv(os.path.join(ctx.data_dir, "adult_income.csv"))
    y = df.pop(TARGET).to_numpy()
    cats = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if onehot:
        x = pd.get_dummies(df, columns=cats, dtype=float)
    else:
        x = df.copy()
        for c in cats:
            x[c] = x[c].astype("category").cat.codes.astype(float).replace(-1.0, np.nan)
    x.columns = [c.replace(" ", "_").replace(",", "_").replace('"', "") for c in x.columns]
    return x.astype(float), y


_MODELS = {}


def train(x, y, depth, trees, threads):
    """An XGBoost model (cached per data set and settings: path-dependent and interventional rows
    explain the same model)."""
    import xgboost as xgb
    key = (x.shape, depth, trees, threads)
    if key in _MODELS:
        return _MODELS[key]
    params = {"max_depth": depth, "eta": 0.1, "objective": "binary:logistic", "seed": 1,
              "nthread": threads}
    booster = xgb.train(params, xgb.DMatrix(x, label=y), num_boost_round=trees)
    booster.set_param({"nthread": threads})
    _MODELS[key] = booster
    return booster


def explain_cli(ctx, model, rows_csv, out, m, *extra, threads=None):
    """A callable running `glassbox explain` and returning (attributions with base, compute s)."""
    def go():
        args = ["explain", "--model", model, "--data", rows_csv, "--out", out, "--timings", *extra]
        res = ctx.run_glassbox(*args, threads=threads)
        line = next(l for l in res.stderr.splitlines() if l.startswith("timings:"))
        compute = float(dict(kv.split("=") for kv in line.split()[1:])["explain"])
        return pd.read_csv(out).to_numpy()[:, : m + 1], compute
    return go


def path_dependent(ctx, x, y, depth, trees, n_rows):
    import shap
    import xgboost as xgb
    try:
        import fasttreeshap_fixed as fasttreeshap
    except ImportError:
        fasttreeshap = None
    booster = train(x, y, depth, trees, ctx.threads)
    model = os.path.join(ctx.tmp, f"xgb_d{depth}.json")
    booster.save_model(model)
    rows = x.iloc[:n_rows]
    rows_csv = os.path.join(ctx.tmp, f"rows_d{depth}.csv")
    rows.to_csv(rows_csv, index=False)
    m = x.shape[1]
    gb = explain_cli(ctx, model, rows_csv, os.path.join(ctx.tmp, f"gb_d{depth}.csv"), m,
                     "--method", "tree-shap")
    peers = {"xgboost pred_contribs": lambda: booster.predict(xgb.DMatrix(rows), pred_contribs=True)}
    if fasttreeshap is not None:
        peers["FastTreeSHAP v2 (fasttreeshap-fixed)"] = lambda: fasttreeshap.TreeExplainer(
            booster, algorithm="v2", n_jobs=ctx.threads)(rows, check_additivity=False).values
    peers["shap TreeExplainer (1 thread)"] = lambda: shap.TreeExplainer(booster).shap_values(
        rows, check_additivity=False)
    case = f"path-dependent, depth {depth}, {trees} trees, {n_rows} rows × {m} features, " \
           f"{ctx.threads} threads"
    return compare(ctx, case, "explain --method tree-shap", gb, peers, m)


def compare(ctx, case, tool, gb, peers, m, gb_name="glassbox"):
    computes = []

    def gb_run():
        vals, compute = gb()
        computes.append(compute)
        return vals

    out = []
    for peer, fn in peers.items():
        res = ctx.alternate({gb_name: gb_run, peer: fn})
        gb_s, gb_vals = res[gb_name]
        peer_s, peer_vals = res[peer]
        compute = statistics.median(computes)
        computes.clear()
        note = f"compute only: {peer_s / compute:.1f}×" if compute > 0 else ""
        out.append(ctx.row(SECTION, case, tool, peer, gb_s, peer_s, gb_vals[:, :m],
                           np.asarray(peer_vals)[:, :m], note))
    return out


def interventional(ctx, x, y, depth, trees, n_rows, n_bg):
    import shap
    booster = train(x, y, depth, trees, ctx.threads)
    model = os.path.join(ctx.tmp, f"xgb_iv_d{depth}.json")
    booster.save_model(model)
    rows = x.iloc[:n_rows]
    # Background: rows from the other end of the file (not the explained rows), fixed.
    bg = x.iloc[-n_bg:]
    rows_csv = os.path.join(ctx.tmp, f"iv_rows_d{depth}.csv")
    bg_csv = os.path.join(ctx.tmp, f"iv_bg_d{depth}.csv")
    rows.to_csv(rows_csv, index=False)
    bg.to_csv(bg_csv, index=False)
    m = x.shape[1]
    peer = {"shap TreeExplainer interventional (1 thread)": lambda: shap.TreeExplainer(
        booster, data=bg, feature_perturbation="interventional").shap_values(
        rows, check_additivity=False)}
    out = []
    for threads in sorted({ctx.threads, 1}, reverse=True):
        gb = explain_cli(ctx, model, rows_csv, os.path.join(ctx.tmp, f"iv_d{depth}.csv"), m,
                         "--method", "tree-shap-interventional", "--background", bg_csv,
                         threads=threads)
        case = f"interventional, depth {depth}, {trees} trees, {n_rows} rows × {m} features, " \
               f"background {n_bg}, glassbox {threads} thread{'s' if threads > 1 else ''}"
        out += compare(ctx, case, "explain --method tree-shap-interventional", gb, peer, m)
    return out


def interactions(ctx, depth, trees, n_rows):
    import xgboost as xgb
    x, y = adult(ctx, onehot=False)
    booster = train(x, y, depth, trees, ctx.threads)
    model = os.path.join(ctx.tmp, f"xgb_ix_d{depth}.json")
    booster.save_model(model)
    rows = x.iloc[:n_rows]
    rows_csv = os.path.join(ctx.tmp, "ix_rows.csv")
    rows.to_csv(rows_csv, index=False)
    names = list(x.columns)
    m = len(names)
    out_csv = os.path.join(ctx.tmp, "ix.csv")
    res = ctx.alternate({
        "glassbox": lambda: ctx.run_glassbox("interactions", "--model", model, "--data", rows_csv,
                                         "--features", ",".join(names), "--out", out_csv),
        "xgboost": lambda: booster.predict(xgb.DMatrix(rows), pred_interactions=True),
    })
    long = pd.read_csv(out_csv)
    index = {n: j for j, n in enumerate(names)}
    gb = np.zeros((n_rows, m, m))
    i = long["feature_i"].map(index).to_numpy()
    j = long["feature_j"].map(index).to_numpy()
    r = long["row"].to_numpy()
    gb[r, i, j] = long["value"].to_numpy()
    gb[r, j, i] = long["value"].to_numpy()
    ref = np.asarray(res["xgboost"][1])[:, :m, :m]
    case = f"interactions (all pairs), depth {depth}, {trees} trees, {n_rows} rows × {m} features, " \
           f"{ctx.threads} threads"
    return [ctx.row(SECTION, case, "interactions --features <all>", "xgboost pred_interactions",
                    res["glassbox"][0], res["xgboost"][0], gb, ref,
                    "glassbox writes all M(M+1)/2 pairs per row as long-form CSV")]


def run(ctx):
    x, y = adult(ctx, onehot=True)
    if ctx.quick:
        depths, trees, iv_depths, iv_rows, n_bg, ix_rows = {6: 500}, 30, [6], 200, 100, 100
    else:
        depths, trees, iv_depths, iv_rows, n_bg, ix_rows = {6: 5000, 8: 5000, 10: 1000}, 300, [6, 8], 1000, 100, 1000
    out = []
    for d, n_rows in depths.items():
        out += path_dependent(ctx, x, y, d, trees, n_rows)
    for d in iv_depths:
        out += interventional(ctx, x, y, d, trees, iv_rows, n_bg)
    out += interactions(ctx, 6, trees, ix_rows)
    return out
