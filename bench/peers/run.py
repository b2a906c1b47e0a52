#!/usr/bin/env python3
"""Peer comparison harness: glassbox against the tools users would otherwise pick, on the same model,
rows and thread count, in one run.

Reproduce the whole table on a fresh machine:

    bash bench/peers/setup.sh && bench/peers/.venv/bin/python bench/peers/run.py

Usage:
    run.py [--sections a,b] [--repeat N] [--threads T] [--quick] [--out DIR]

Writes a Markdown table to stdout and, atomically after every section, `bench/peers/results.json` and
`bench/peers/results.md` (rows of sections not run this time are kept from the previous file, so a
section can be re-run on its own; an interrupted run keeps the sections it finished).

Section interface (what every `bench/peers/sec_<name>.py` implements)
--------------------------------------------------------------------
A section is a module `sec_<name>.py` in this folder (found automatically; `--sections <name>` picks
it) exposing

    def run(ctx) -> list[dict]

Each dict is one comparison row with exactly these keys:

    section        str    the section name (`<name>` of `sec_<name>.py`)
    case           str    what was computed: model, sizes, threads ("depth 8, 300 trees, 5000 rows")
    tool           str    the glassbox command or mode compared ("explain --method tree-shap")
    peer           str    the peer tool and mode ("xgboost pred_contribs")
    glassbox_s     float  median seconds of glassbox over ctx.repeat runs (None if not timed)
    peer_s         float  median seconds of the peer over the same runs (None if not timed)
    ratio          float  peer_s / glassbox_s: > 1 means glassbox is faster (None if not timed)
    max_abs_diff   float  max |glassbox − peer| over the compared values (None if not compared)
    mean_abs_diff  float  mean |glassbox − peer| (None if not compared)
    note           str    anything a reader needs (what is timed, a quality metric, a failure)

Times are medians of `ctx.repeat` runs in which glassbox and the peer alternate (so machine drift
hits both); build rows with `ctx.row(...)` and time with `ctx.alternate(...)` to get that for free.
A section that raises is reported as one row with the error in `note`; the others still run.

The `ctx` object (class `Ctx` below) gives:
    ctx.root, ctx.data_dir                repository root, bundled data/
    ctx.workdir (= ctx.tmp)               a scratch dir for the run, removed at the end
    ctx.glassbox (= ctx.bin)              path of the release glassbox binary
    ctx.python                            the Python running the harness
    ctx.threads, ctx.repeat, ctx.quick    the command-line settings (quick = small sizes, smoke test)
    ctx.run_glassbox(*args, threads=None, quiet=True) -> CompletedProcess
                                          runs `glassbox [--quiet] --threads T args…` (T = ctx.threads
                                          unless given); raises with stderr on a non-zero exit
    ctx.alternate({name: fn, ...}) -> {name: (median_s, last_output)}
    ctx.row(section, case, tool, peer, glassbox_s, peer_s, gb_values=None, peer_values=None,
            note="") -> dict                     computes ratio and the diffs (arrays of equal shape)
    ctx.peak_rss(cmd) -> (seconds, peak_rss_bytes)  runs a command once, measures the child's max RSS

glassbox is timed as a whole CLI run (process start, reading the input, computing, writing the output)
unless a note says otherwise; that is stricter than the in-process timing of the Python peers.
"""
import argparse
import datetime
import importlib.util
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
KEYS = ["section", "case", "tool", "peer", "glassbox_s", "peer_s", "ratio", "max_abs_diff",
        "mean_abs_diff", "note"]


def default_binary():
    if os.environ.get("GLASSBOX"):
        return os.environ["GLASSBOX"]
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return os.path.join(target, "release", "glassbox")


class Ctx:
    """What a section gets: settings, paths and the timing helpers (see the module docstring)."""

    def __init__(self, args, tmp):
        self.root = ROOT
        self.data_dir = os.path.join(ROOT, "data")
        self.tmp = self.workdir = tmp
        self.bin = self.glassbox = args.glassbox
        self.python = sys.executable
        self.threads = args.threads
        self.repeat = args.repeat
        self.quick = args.quick

    def run_glassbox(self, *args, threads=None, quiet=True):
        threads = threads or self.threads
        cmd = [self.bin, *(["--quiet"] if quiet else []), "--threads", str(threads), *map(str, args)]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"glassbox failed ({res.returncode}): {' '.join(cmd)}\n{res.stderr}")
        return res

    def alternate(self, tools, repeat=None):
        """Runs each tool `repeat` times round-robin; returns {name: (median seconds, last output)}."""
        repeat = repeat or self.repeat
        times = {name: [] for name in tools}
        outs = {}
        for _ in range(repeat):
            for name, fn in tools.items():
                t0 = time.perf_counter()
                outs[name] = fn()
                times[name].append(time.perf_counter() - t0)
        return {name: (statistics.median(times[name]), outs[name]) for name in tools}

    @staticmethod
    def row(section, case, tool, peer, glassbox_s, peer_s, gb_values=None, peer_values=None,
            note=""):
        ratio = peer_s / glassbox_s if glassbox_s and peer_s is not None else None
        max_d = mean_d = None
        if gb_values is not None and peer_values is not None:
            a, b = np.asarray(gb_values, dtype=float), np.asarray(peer_values, dtype=float)
            if a.shape != b.shape:
                raise ValueError(f"{case} / {peer}: shapes differ: {a.shape} vs {b.shape}")
            d = np.abs(a - b)
            max_d, mean_d = float(np.nanmax(d)), float(np.nanmean(d))
        r = dict(section=section, case=case, tool=tool, peer=peer, glassbox_s=glassbox_s,
                 peer_s=peer_s, ratio=ratio, max_abs_diff=max_d, mean_abs_diff=mean_d, note=note)
        return {k: r[k] for k in KEYS}

    @staticmethod
    def peak_rss(cmd):
        """Runs `cmd` once; returns (wall seconds, peak RSS in bytes of that child)."""
        # RUSAGE_CHILDREN's max is over every child this process ever waited for, so run the command
        # as the only child of a small wrapper that reports it.
        t0 = time.perf_counter()
        res = subprocess.run([sys.executable, "-c", _RSS_WRAPPER, *map(str, cmd)],
                             capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if res.returncode != 0:
            raise RuntimeError(f"failed: {' '.join(map(str, cmd))}\n{res.stderr}")
        return wall, int(res.stdout.strip().splitlines()[-1]) * 1024


# Runs argv[1:] as the only child of a fresh interpreter and prints that child's ru_maxrss (KiB).
_RSS_WRAPPER = """
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
if r.returncode != 0:
    sys.stderr.write(r.stderr); sys.exit(r.returncode)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def discover():
    """{name: path} of the section modules beside this file."""
    out = {}
    for f in sorted(os.listdir(HERE)):
        if f.startswith("sec_") and f.endswith(".py"):
            out[f[4:-3]] = os.path.join(HERE, f)
    return out


def load(name, path):
    spec = importlib.util.spec_from_file_location(f"sec_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions(binary):
    v = {"python": platform.python_version()}
    from importlib import metadata
    # Distribution names (what requirements.txt pins): lime has no __version__ attribute.
    for dist in ["numpy", "pandas", "xgboost", "lightgbm", "shap", "fasttreeshap-fixed", "statsmodels",
                 "lime", "pygam", "interpret", "scikit-learn"]:
        try:
            v[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:  # a missing peer is reported, not fatal
            v[dist] = None
    try:
        v["glassbox"] = subprocess.run([binary, "--version"], capture_output=True,
                                       text=True).stdout.strip()
        v["glassbox_commit"] = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                              capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    return v


def machine(binary):
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "versions": versions(binary),
    }


def fmt(v, kind):
    if v is None or v != v:  # None or NaN: not timed / not compared
        return "–"
    if kind == "s":
        return f"{v:.3f}"
    if kind == "x":
        return f"{v:.2f}×"
    return f"{v:.1e}"


def markdown(results, info):
    lines = [
        f"Machine: {info['cpu']}, {info['cores']} cores, load average {info['loadavg_start']} at start, "
        f"{info.get('loadavg_end', '?')} at end; threads {info['threads']}, repeat {info['repeat']}"
        f"{' (quick)' if info['quick'] else ''}.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in info.get("versions", {}).items()
                                 if k != "glassbox_commit") + ".",
        "",
        *section_lines(info),
        "",
        "| section | case | glassbox | peer | glassbox s | peer s | ratio (peer/glassbox) "
        "| max abs diff | mean abs diff | note |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['section']} | {r['case']} | {r['tool']} | {r['peer']} | {fmt(r['glassbox_s'], 's')} | "
            f"{fmt(r['peer_s'], 's')} | {fmt(r['ratio'], 'x')} | {fmt(r['max_abs_diff'], 'e')} | "
            f"{fmt(r['mean_abs_diff'], 'e')} | {r['note']} |")
    return "\n".join(lines) + "\n"


def section_lines(info):
    """One line per section: when it ran, at which commit, for how long and under what load (a
    section can be re-run on its own, so these can differ between sections)."""
    out = []
    for name, p in info.get("sections", {}).items():
        out.append(f"- `{name}`: {p.get('date', '?')}, commit {p.get('commit', '?')}, "
                   f"{p.get('seconds', '?')} s, load average {p.get('loadavg_start', '?')} → "
                   f"{p.get('loadavg_end', '?')}{' (quick)' if p.get('quick') else ''}")
    return out


def write_atomic(path, text):
    d = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".results-", dir=d)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main():
    sections = discover()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sections", default=",".join(sections),
                   help=f"comma-separated sections (default all: {','.join(sections)})")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke test of every section")
    p.add_argument("--glassbox", default=default_binary(), help="release binary (default: "
                   "$GLASSBOX, else $CARGO_TARGET_DIR/release/glassbox, else target/release/glassbox)")
    p.add_argument("--out", default=HERE, help="folder for results.json and results.md")
    args = p.parse_args()
    # Peers' OpenMP threads spin while waiting by default; on a busy machine that inflates their time
    # several-fold at 2 threads. Passive waiting is the fair setting (override by exporting it).
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    if not os.path.exists(args.glassbox):
        sys.exit(f"{args.glassbox} is missing: run `bash bench/peers/setup.sh` first "
                 "(or pass --glassbox PATH)")
    wanted = [s for s in args.sections.split(",") if s]
    unknown = [s for s in wanted if s not in sections]
    if unknown:
        sys.exit(f"unknown section(s) {', '.join(unknown)}; the sections are: {', '.join(sections)}")
    info = machine(args.glassbox)
    info.update(threads=args.threads, repeat=args.repeat, quick=args.quick,
                command=" ".join([os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]]),
                date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                sections={})
    tmp = tempfile.mkdtemp(prefix="gb-peers-")
    ctx = Ctx(args, tmp)
    results, table = [], ""
    try:
        for name in wanted:
            t0 = time.perf_counter()
            started = dict(date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                           loadavg_start=[round(x, 2) for x in os.getloadavg()])
            print(f"[{name}] running…", file=sys.stderr, flush=True)
            try:
                rows = load(name, sections[name]).run(ctx)
                for r in rows:
                    missing = set(KEYS) - set(r)
                    if missing:
                        raise ValueError(f"section {name} returned a row without {sorted(missing)}")
                results.extend({k: r[k] for k in KEYS} for r in rows)
            except Exception as e:  # noqa: BLE001 - one broken section must not lose the others
                traceback.print_exc()
                results.append(Ctx.row(name, "-", "-", "-", None, None,
                                       note=f"section failed: {type(e).__name__}: {e}".splitlines()[0]))
            elapsed = time.perf_counter() - t0
            print(f"[{name}] {elapsed:.0f} s", file=sys.stderr, flush=True)
            info["sections"][name] = dict(started, commit=info["versions"].get("glassbox_commit"),
                                          seconds=round(elapsed), quick=args.quick,
                                          loadavg_end=[round(x, 2) for x in os.getloadavg()])
            # Saved after every section, so an interrupted run keeps what it finished.
            table = save(args.out, results, info, sections)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n" + table)


def save(out, results, info, sections):
    """Writes results.json and results.md atomically, keeping the rows of sections not in
    `results` from the previous file (so one section can be re-run on its own). Returns the table."""
    info["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    done = {r["section"] for r in results}
    json_path = os.path.join(out, "results.json")
    previous = []
    if os.path.exists(json_path):
        try:
            with open(json_path) as f:
                old = json.load(f)
            previous = [r for r in old.get("results", []) if r["section"] not in done]
            kept = {r["section"] for r in previous}
            for name, prov in old.get("machine", {}).get("sections", {}).items():
                if name in kept:
                    info["sections"].setdefault(name, prov)
        except (OSError, ValueError, KeyError, AttributeError):
            previous = []
    order = list(sections)
    merged = sorted(previous + results, key=lambda r: order.index(r["section"])
                    if r["section"] in order else len(order))
    table = markdown(merged, info)
    write_atomic(json_path, json.dumps({"machine": info, "results": merged}, indent=1) + "\n")
    write_atomic(os.path.join(out, "results.md"), table)
    return table


if __name__ == "__main__":
    main()
