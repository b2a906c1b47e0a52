"""glassbox GLM fit against statsmodels on the same data: coefficients and fit time.

Cases: the bundled diabetes data (Gaussian, 442 rows) and seeded synthetic tables (logistic and
Poisson, 200 000 rows × 20 numeric features; 20 000 with --quick). Both tools fit the same CSV: the
peer reads it with pandas (not timed) and fits `sm.GLM(y, add_constant(X), family).fit()` (IRLS, the
default); glassbox is timed as the whole `glassbox train --model glm` command (process start, CSV read,
schema inference, fit, model save), which is stricter. `max_abs_diff`/`mean_abs_diff` are over the
coefficients (intercept included), matched by name from `glassbox summary --out`.
"""
import os

import numpy as np
import pandas as pd

SECTION = "glm"


def synthetic(path, family, n, m, seed):
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=(n, m)), 6)
    beta = np.round(rng.normal(scale=0.3, size=m), 3)
    eta = 0.2 + x @ beta
    if family == "binomial":
        y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    else:
        y = rng.poisson(np.exp(0.5 * eta))
    df = pd.DataFrame(x, columns=[f"x{j}" for j in range(m)])
    df["y"] = y
    df.to_csv(path, index=False)
    return "y"


def run(ctx):
    import statsmodels.api as sm
    n = 20_000 if ctx.quick else 200_000
    cases = [("diabetes_progression.csv", "gaussian", None)]
    for fam, seed in [("binomial", 1), ("poisson", 2)]:
        cases.append((f"synthetic_{fam}_{n}.csv", fam, seed))
    families = {"gaussian": sm.families.Gaussian(), "binomial": sm.families.Binomial(),
                "poisson": sm.families.Poisson()}
    out = []
    for name, family, seed in cases:
        if seed is None:
            path, target, extra = os.path.join(ctx.data_dir, name), "disease_progression", ["--numeric", "sex"]
        else:
            path = os.path.join(ctx.tmp, name)
            target, extra = synthetic(path, family, n, 20, seed), []
            if family == "poisson":
                extra = ["--task", "regression"]
        df = pd.read_csv(path)
        y = df.pop(target).to_numpy(dtype=float)
        xs = sm.add_constant(df.astype(float))
        model = os.path.join(ctx.tmp, "glm.json")
        coef = os.path.join(ctx.tmp, "glm_coef.csv")
        res = ctx.alternate({
            "glassbox": lambda: ctx.run_glassbox("train", "--data", path, "--target", target, "--model",
                                             "glm", "--family", family, *extra, "--out", model),
            "statsmodels": lambda: sm.GLM(y, xs, family=families[family]).fit(),
        })
        ctx.run_glassbox("summary", "--model", model, "--out", coef)
        gb = pd.read_csv(coef).set_index("term")["coef"]
        ref = res["statsmodels"][1].params.rename({"const": "intercept"})
        missing = set(ref.index) ^ set(gb.index)
        if missing:
            raise ValueError(f"{name}: terms differ between the tools: {sorted(missing)}")
        gb = gb.reindex(ref.index)
        case = f"{name}: {family}, {len(y)} rows × {df.shape[1]} features"
        out.append(ctx.row(SECTION, case, "train --model glm (whole command)",
                           f"statsmodels {sm.__version__ if hasattr(sm, '__version__') else ''} GLM.fit (IRLS)".replace("  ", " "),
                           res["glassbox"][0], res["statsmodels"][0], gb.to_numpy(), ref.to_numpy(),
                           "coefficient differences; statsmodels timed in memory (CSV read not counted)"))
    return out
