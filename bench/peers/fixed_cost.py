"""Fixed cost of a whole `glassbox explain` process (issue 6): two glassbox binaries, A and B, and
Python lime, timed in one interleaved run on xgb_german_binary (10 rows, 1000 background rows).

    GB_A=/path/to/main/glassbox GB_B=target/release/glassbox python bench/peers/fixed_cost.py [ROUNDS]

Prints median wall and CPU time per command and binary, the `--timings` load= figure, the
lime/glassbox ratio (lime: LimeTabularExplainer construction + 10 explain_instance, the setup of
`lime_rows` in sec_kernel_lime.py), and whether both binaries wrote identical outputs.
"""
import os, statistics, subprocess, sys, tempfile, time
import numpy as np, pandas as pd, xgboost as xgb
FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures",
                       "xgb_german_binary")
MODEL = os.path.abspath(os.path.join(FIXTURE, "model.json"))
BIN = {"A": os.path.abspath(os.environ["GB_A"]), "B": os.path.abspath(os.environ["GB_B"])}
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 9
x = pd.read_csv(os.path.join(FIXTURE, "features.csv"))
os.chdir(tempfile.mkdtemp(prefix="gb_fixed_cost_"))
x.to_csv("train.csv", index=False)
x.iloc[:10].to_csv("rows.csv", index=False)
booster = xgb.Booster(); booster.load_model(MODEL); booster.set_param({"nthread": 2})
rows = x.iloc[:10]; names = list(x.columns); m = x.shape[1]
from lime.lime_tabular import LimeTabularExplainer
def proba(z):
    p = booster.inplace_predict(z); return np.column_stack([1.0 - p, p])
def run_lime():
    e0 = LimeTabularExplainer(x.to_numpy(), mode="classification", feature_names=names,
                              discretize_continuous=True, random_state=0)
    for i in range(10):
        e0.explain_instance(rows.iloc[i].to_numpy(), proba, labels=(1,), num_features=10, num_samples=5000)
CMDS = {
 "lime": ["explain", "--model", MODEL, "--data", "rows.csv", "--background", "train.csv", "--method", "lime",
          "--output", "probability", "--samples", "5000", "--num-features", "10", "--out", "o_{b}.csv",
          "--diagnostics", "d_{b}.csv", "--timings", "-q"],
 "tree-shap": ["explain", "--model", MODEL, "--data", "train.csv", "--method", "tree-shap", "--out", "t_{b}.csv", "--timings", "-q"],
 "predict": ["predict", "--model", MODEL, "--data", "train.csv", "--out", "p_{b}.csv", "-q"],
}
wall = {}; load = {}; cpu = {}
for r in range(ROUNDS):
    for name, cmd in CMDS.items():
        for b in (["A", "B"] if r % 2 == 0 else ["B", "A"]):
            t = time.perf_counter()
            proc = subprocess.Popen([BIN[b]] + [c.format(b=b) for c in cmd], stderr=subprocess.PIPE, text=True)
            err = proc.stderr.read()
            _, status, ru = os.wait4(proc.pid, 0)
            assert status == 0, err
            wall.setdefault((name, b), []).append(time.perf_counter() - t)
            cpu.setdefault((name, b), []).append(ru.ru_utime + ru.ru_stime)
            for line in err.splitlines():
                if line.startswith("timings:"):
                    load.setdefault((name, b), []).append(float(dict(kv.split("=") for kv in line.split()[1:])["load"]))
        if name == "lime":
            t = time.perf_counter(); run_lime(); wall.setdefault(("lime", "python lime"), []).append(time.perf_counter() - t)
med = {k: statistics.median(v) for k, v in wall.items()}
for name in CMDS:
    a, b = med[(name, "A")], med[(name, "B")]
    extra = ""
    if (name, "A") in load:
        extra = f"; --timings load= median A {statistics.median(load[(name,'A')])*1e3:.1f} ms, B {statistics.median(load[(name,'B')])*1e3:.1f} ms"
    ca, cb = statistics.median(cpu[(name,'A')]), statistics.median(cpu[(name,'B')])
    print(f"{name}: wall median A {a*1e3:.1f} ms, B {b*1e3:.1f} ms, A/B = {a/b:.2f}x; CPU (user+sys) median A {ca*1e3:.1f} ms, B {cb*1e3:.1f} ms, A/B = {ca/cb:.2f}x{extra}")
L = med[("lime", "python lime")]
print(f"python lime (construct + 10 explain_instance): median {L*1e3:.0f} ms; lime/glassbox: A {L/med[('lime','A')]:.1f}x, B {L/med[('lime','B')]:.1f}x  (rounds={ROUNDS})")
for f in ["o", "d", "t", "p"]:
    same = open(f"{f}_A.csv","rb").read() == open(f"{f}_B.csv","rb").read()
    print(f"{f}_*.csv identical between binaries: {same}")
