"""glassbox multiclass random forests against scikit-learn's RandomForestClassifier: held-out
accuracy and log loss, and fit time.

Same split (rows with index % 3 == 0 are the test set), matching settings: 100 trees, no depth
limit, at least 5 rows per leaf (glassbox's default), √M features per node (both floor it),
bootstrap samples of n rows, Gini criterion. Rows whose target is missing are dropped.

Two encodings:
- `one-hot`: both tools get the same columns (categorical features one-hot encoded, missing values
  left missing — scikit-learn ≥ 1.4 forests route them like glassbox does), so M and therefore the
  features per node are identical. This is the like-for-like comparison.
- `native`: glassbox reads the raw CSV and splits categorical features as sets of levels (M counts
  each categorical feature once); scikit-learn is the one-hot model above.

Quality is the mean over `SEEDS` seeds (forests are random; one seed's difference is mostly
noise). Log loss clips probabilities to [1e-15, 1 − 1e-15] for both (a forest gives probability 0
to classes absent from every leaf a row reaches). Times: glassbox = the `fit` time `glassbox
train` prints (binning + growing, after reading the CSV); scikit-learn = `fit`; n_jobs = threads.
"""
import os
import re
import statistics
import time

import numpy as np
import pandas as pd

SECTION = "forest_multiclass"
DATASETS = [("german_credit.csv", "housing", ["bad_credit"]),
            ("credit_scoring.csv", "Home", []),
            ("adult_income.csv", "relationship", ["marital_status"])]
TREES, MIN_LEAF = 100, 5
SEEDS = [0, 1, 2, 3, 4]
EPS = 1e-15


def quality(classes, y, p):
    """(accuracy, log loss) of probabilities `p` (rows × classes, columns in `classes` order)."""
    idx = {c: i for i, c in enumerate(classes)}
    yi = np.array([idx[v] for v in y])
    acc = float(np.mean(np.argmax(p, axis=1) == yi))
    pt = np.clip(p[np.arange(len(yi)), yi], EPS, 1 - EPS)
    return acc, float(-np.mean(np.log(pt)))


def run(ctx):
    import sklearn
    from sklearn.ensemble import RandomForestClassifier
    out = []
    datasets = DATASETS[:2] if ctx.quick else DATASETS
    for name, target, drop in datasets:
        df = pd.read_csv(os.path.join(ctx.data_dir, name)).drop(columns=drop)
        df = df[df[target].notna()].reset_index(drop=True)
        y = df.pop(target).astype(str)
        classes = sorted(y.unique())
        onehot = pd.get_dummies(df, dummy_na=False, dtype=float)
        # keep missing categories missing in the one-hot columns too
        for c in df.columns:
            if not pd.api.types.is_numeric_dtype(df[c]):
                cols = [k for k in onehot.columns if k.startswith(c + "_")]
                onehot.loc[df[c].isna(), cols] = np.nan
        onehot.columns = [re.sub(r"[^0-9A-Za-z_]", "_", c) for c in onehot.columns]
        test = np.arange(len(df)) % 3 == 0
        files = {}
        for enc, frame in [("native", df), ("one-hot", onehot)]:
            tr = frame[~test].assign(**{target: y[~test]})
            files[enc] = (os.path.join(ctx.tmp, f"rf_{enc}_train_{name}"),
                          os.path.join(ctx.tmp, f"rf_{enc}_test_{name}"))
            tr.to_csv(files[enc][0], index=False)
            frame[test].to_csv(files[enc][1], index=False)
        model = os.path.join(ctx.tmp, "rf_model.json")
        pred = os.path.join(ctx.tmp, "rf_pred.csv")
        yte = y[test].to_numpy()

        def glassbox(enc, seed, fits):
            train_csv, test_csv = files[enc]
            res = ctx.run_glassbox("train", "--data", train_csv, "--target", target, "--model",
                                   "forest", "--trees", TREES, "--min-samples-leaf", MIN_LEAF,
                                   "--seed", seed, "--out", model, quiet=False)
            fits.append(float(re.search(r"fit ([0-9.]+) s", res.stderr).group(1)))
            ctx.run_glassbox("predict", "--model", model, "--data", test_csv, "--unseen",
                             "missing", "--out", pred)
            p = pd.read_csv(pred)
            return np.column_stack([p[f"prediction:{c}"].to_numpy() for c in classes])

        def scikit(seed, times):
            rf = RandomForestClassifier(n_estimators=TREES, min_samples_leaf=MIN_LEAF,
                                        max_features="sqrt", bootstrap=True, random_state=seed,
                                        n_jobs=ctx.threads)
            t = time.perf_counter()
            rf.fit(onehot[~test].to_numpy(), y[~test].to_numpy())
            times.append(time.perf_counter() - t)
            p = rf.predict_proba(onehot[test].to_numpy())
            return p[:, [list(rf.classes_).index(c) for c in classes]]

        q = {"native": [], "one-hot": [], "sklearn": []}
        fits = {"native": [], "one-hot": []}
        sk_times = []
        p_first = {}
        for seed in SEEDS[: max(ctx.repeat, 3) if ctx.quick else len(SEEDS)]:
            # alternate the tools within each seed so machine drift hits all of them
            for enc in ["one-hot", "native"]:
                p = glassbox(enc, seed, fits[enc])
                assert np.allclose(p.sum(axis=1), 1.0, atol=1e-9), "probabilities must sum to 1"
                q[enc].append(quality(classes, yte, p))
                p_first.setdefault(enc, p)
            p = scikit(seed, sk_times)
            q["sklearn"].append(quality(classes, yte, p))
            p_first.setdefault("sklearn", p)
        mean = {k: tuple(np.mean(v, axis=0)) for k, v in q.items()}
        sk = mean["sklearn"]
        for enc in ["one-hot", "native"]:
            acc, ll = mean[enc]
            note = (f"mean over {len(q[enc])} seeds: test accuracy glassbox {acc:.4f} vs "
                    f"scikit-learn {sk[0]:.4f} ({acc - sk[0]:+.4f}); log loss {ll:.4f} vs "
                    f"{sk[1]:.4f} ({ll - sk[1]:+.4f}); {len(classes)} classes; glassbox "
                    f"{'one-hot columns as scikit-learn' if enc == 'one-hot' else 'native categorical splits'}")
            case = (f"{name} → {target}: {int((~test).sum())} train / {int(test.sum())} test rows, "
                    f"{TREES} trees, min leaf {MIN_LEAF}, √M features, {ctx.threads} threads, {enc}")
            out.append(ctx.row(SECTION, case, "train --model forest (fit)",
                               f"scikit-learn {sklearn.__version__} RandomForestClassifier",
                               statistics.median(fits[enc]), statistics.median(sk_times),
                               p_first[enc], p_first["sklearn"], note))
    return out
