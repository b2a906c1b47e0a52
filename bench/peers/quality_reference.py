"""LightGBM reference numbers for tests/train_quality.rs (same split, same settings).

Split: rows with index % 3 == 0 are the test set. Text columns are pandas categoricals (LightGBM's
native categorical handling), as glassbox treats them. Run from the repository root:

    /work/venv/bin/python bench/peers/quality_reference.py
"""
import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score


def load(name, target):
    df = pd.read_csv(f"data/{name}")
    y = df.pop(target)
    for c in df.columns:
        if not pd.api.types.is_numeric_dtype(df[c]):
            df[c] = df[c].astype("category")
    test = np.arange(len(df)) % 3 == 0
    return df[~test], y[~test], df[test], y[test]


def fit(params, rounds, xtr, ytr):
    params = {"verbose": -1, "num_threads": 2, "seed": 1, **params}
    return lgb.train(params, lgb.Dataset(xtr, ytr), num_boost_round=rounds)


for name, target in [("german_credit.csv", "bad_credit"), ("credit_scoring.csv", "bad")]:
    xtr, ytr, xte, yte = load(name, target)
    m = fit({"objective": "binary", "learning_rate": 0.05}, 100, xtr, ytr)
    print(f"lightgbm {name} gbdt test AUC {roc_auc_score(yte, m.predict(xte)):.4f}")
    if name == "credit_scoring.csv":
        rf = fit({"objective": "binary", "boosting": "rf", "bagging_freq": 1,
                  "bagging_fraction": 0.632, "feature_fraction_bynode": 0.28,
                  "num_leaves": 100000, "min_data_in_leaf": 5}, 60, xtr, ytr)
        print(f"lightgbm {name} rf test AUC {roc_auc_score(yte, rf.predict(xte)):.4f}")

xtr, ytr, xte, yte = load("diabetes_progression.csv", "disease_progression")
m = fit({"objective": "regression", "learning_rate": 0.03, "num_leaves": 8}, 200, xtr, ytr)
print(f"lightgbm diabetes gbdt test RMSE {np.sqrt(np.mean((m.predict(xte) - yte) ** 2)):.2f}")
