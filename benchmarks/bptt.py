"""Fast BPTT benchmark: autograd_mini vs hand-written NumPy BPTT (vs PyTorch eager).

    python -m benchmarks.bptt                 # the size table, then the per-op table
    python -m benchmarks.bptt --scaling       # B=1, H=16, T = 1,000 / 10,000 / 100,000
    python -m benchmarks.bptt --all           # everything (what `make bench` runs)

Every implementation runs in its own subprocess with one BLAS/OpenMP thread. Before
timing, each computes its gradients in float64 and they must agree to 1e-8 (relative to
the largest entry) with the hand-written NumPy ones, or the run fails. Timing is float32:
after a warm-up, the implementations take turns in 0.2 s chunks of iterations, ``--rounds``
x ``--budget`` seconds (3 x 1) of them each. Reported: median and min ms per iteration;
the ratio to NumPy, the median over turns of the two chunks' median times (each chunk
timed next to NumPy's, so a slow spell of the machine hits both); the ratio of the mins;
peak memory traced by tracemalloc during one iteration in the steady state (what the
implementation holds plus what an iteration allocates; "first-call MiB": the build and the
first iteration, a compiled function's trace included); "build s": the time of ``build``
(for compiled, the trace and code generation). Results go to out/bench.json
(``--json PATH``).

OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, when set in the environment, pin OpenBLAS to an
older kernel and slow NumPy; the subprocesses run without both (every implementation
gets the same environment, so ratios stay fair). ``--keep-openblas-env`` keeps them.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .workload import PARAMS, SCALING_SIZE, SCALING_T, SIZES

ROOT = Path(__file__).resolve().parent.parent
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
OPENBLAS_PINS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
AGREE_RTOL = 1e-8
TARGETS = {"tiny": 2.8, "small": 2.2, "medium": 1.25, "long": 3.2}   # max ratio to NumPy
COMPILED_TARGETS = {"tiny": 1.0, "small": 0.6, "medium": 0.85, "long": 0.35}   # issue 17
TRACE_LIMIT = 0.2                                                   # s, issue 17
MEMORY_TARGET = ("medium", 1.5)                                     # max memory ratio


class DisagreementError(RuntimeError):
    """Two implementations computed different float64 gradients."""


def child_env(keep_openblas_env=False):
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = "1"
    if not keep_openblas_env:
        for var in OPENBLAS_PINS:
            env.pop(var, None)
    return env


def run_worker(spec, env):
    """Run ``benchmarks.worker`` with ``spec`` in a fresh process; its JSON result."""
    proc = subprocess.run([sys.executable, "-m", "benchmarks.worker", json.dumps(spec)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark worker {spec.get('task')}/{spec.get('impl')} "
                           f"failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


class Server:
    """A worker process that keeps one implementation built and times it on request."""

    def __init__(self, spec, env):
        self.name = f"{spec['impl']} ({spec['size']})"
        self.proc = subprocess.Popen([sys.executable, "-m", "benchmarks.worker",
                                      json.dumps(dict(spec, task="serve"))],
                                     cwd=ROOT, env=env, text=True, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"benchmark worker {self.name} failed:\n"
                               f"{self.proc.stderr.read()}")
        return json.loads(line)

    def time(self, seconds):
        """The times (s) of the iterations run in ``seconds`` (at least one)."""
        self.proc.stdin.write(f"{seconds}\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def torch_available():
    return importlib.util.find_spec("torch") is not None


def check_agreement(size, files):
    """Every implementation's float64 gradients against hand-written NumPy's."""
    ref = np.load(files["numpy"])
    worst = {}
    for impl, path in files.items():
        if impl == "numpy":
            continue
        got = np.load(path)
        for n in PARAMS:
            scale = np.abs(ref[n]).max()
            err = float(np.abs(got[n] - ref[n]).max() / scale)
            worst[impl] = max(worst.get(impl, 0.0), err)
            if not err <= AGREE_RTOL:
                raise DisagreementError(
                    f"{size}: {impl}'s float64 gradient d{n} differs from hand-written "
                    f"NumPy's by {err:.3g} (relative to max |d{n}| = {scale:.3g}); the limit "
                    f"is {AGREE_RTOL:g}. Timings of disagreeing implementations mean nothing.")
    return worst


CHUNK_SECONDS = 0.2


def bench_sizes(sizes, impls, env, budget, rounds, log):
    """Per size: one process per implementation, kept alive; their float64 gradients are
    checked first. Then the implementations take turns in chunks of CHUNK_SECONDS of
    timed iterations (at least one), ``rounds * budget`` seconds of them each, the order
    reversed at every turn. A ratio between two implementations is the median, over the
    turns, of the ratio of their chunks' median times: each chunk is timed next to the
    other's. Machines of this class have run at two speeds, switching within a second or
    staying for several (a small NumPy iteration took 4.1-4.4 ms, then 7-9 ms); two
    adjacent short chunks share one speed more often than two separate 1-second runs
    did. Median and min ms are over all of an implementation's timed iterations."""
    results = {}
    turns = max(3, round(rounds * budget / CHUNK_SECONDS))
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            files = {impl: os.path.join(tmp, f"{size}-{impl}.npz") for impl in impls}
            log(f"  {size:<6} building, float64 gradients, traced memory ...")
            servers = {impl: Server({"impl": impl, "size": SIZES[size],
                                     "grads_file": files[impl]}, env) for impl in impls}
            try:
                rows = {impl: server.read() for impl, server in servers.items()}
                agreement = check_agreement(size, files)    # fail before any timing
                chunks = {impl: [] for impl in impls}
                log(f"  {size:<6} timing: {turns} turns of {CHUNK_SECONDS} s each ...")
                for turn in range(turns):
                    for impl in (impls if turn % 2 == 0 else impls[::-1]):
                        chunks[impl].append(servers[impl].time(CHUNK_SECONDS))
            finally:
                for server in servers.values():
                    server.close()
            base = chunks["numpy"]
            for impl, r in rows.items():
                times = [t for chunk in chunks[impl] for t in chunk]
                r.update(median_ms=1e3 * float(np.median(times)), min_ms=1e3 * min(times),
                         runs=len(times), turns=turns,
                         ratio=paired_ratio(chunks[impl], base),
                         memory_ratio=r["peak_bytes"] / rows["numpy"]["peak_bytes"],
                         max_rel_diff_f64=agreement.get(impl, 0.0))
                r["ratio_min"] = r["min_ms"] / (1e3 * min(t for c in base for t in c))
                r["chunks_ms"] = [[1e3 * t for t in c] for c in chunks[impl]]
            if "torch" in rows:
                rows["autograd_mini"]["ratio_torch"] = paired_ratio(chunks["autograd_mini"],
                                                                    chunks["torch"])
            results[size] = rows
    return results


def paired_ratio(chunks, base_chunks):
    """The median over turns of median(chunk) / median(base chunk)."""
    return float(np.median([np.median(a) / np.median(b)
                            for a, b in zip(chunks, base_chunks)]))


def fit_linear(Ts, ys):
    """Least-squares slope and intercept of y = a + s T, and the log-log exponent."""
    Ts, ys = np.asarray(Ts, float), np.asarray(ys, float)
    slope, intercept = np.polyfit(Ts, ys, 1)
    exponent = np.polyfit(np.log(Ts), np.log(ys), 1)[0]
    # Between the two longest runs: start-up effects (the garbage collector's first full
    # passes, caches) have faded, so this is the growth rate that matters for long T.
    tail = np.log(ys[-1] / ys[-2]) / np.log(Ts[-1] / Ts[-2]) if len(Ts) > 1 else 1.0
    return {"slope": float(slope), "intercept": float(intercept), "exponent": float(exponent),
            "exponent_last_two": float(tail)}


def bench_scaling(impls, env, Ts, log):
    out = {}
    for impl in impls:
        log(f"  scaling {impl} T={list(Ts)} ...")
        rows = run_worker({"task": "scaling", "impl": impl, "Ts": list(Ts)}, env)
        out[impl] = {"rows": rows,
                     "time_fit": fit_linear([r["T"] for r in rows], [r["ms"] for r in rows]),
                     "memory_fit": fit_linear([r["T"] for r in rows],
                                              [r["peak_bytes"] for r in rows])}
    return out


# ---------------------------------------------------------------------- tables
def mib(n):
    return f"{n / 2**20:.2f}" if n < 100 * 2**20 else f"{n / 2**20:.0f}"


def size_table(results):
    lines = ["| size (B, D, H, C, T) | implementation | median ms | min ms | ratio to NumPy "
             "(paired medians) | ratio (min) | peak traced MiB | memory ratio | build s "
             "| first-call MiB |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for size, rows in results.items():
        label = f"{size} {tuple(SIZES[size])}"
        for impl, r in rows.items():
            # PyTorch allocates in C++, which tracemalloc does not see.
            memory = (f"{mib(r['peak_bytes'])} | {r['memory_ratio']:.2f}" if impl != "torch"
                      else "n/a | n/a")
            first = mib(r["first_peak_bytes"]) if impl != "torch" else "n/a"
            lines.append(f"| {label} | {impl} | {r['median_ms']:.3f} | {r['min_ms']:.3f} "
                         f"| {r['ratio']:.2f} | {r['ratio_min']:.2f} | {memory} "
                         f"| {r['build_s']:.3f} | {first} |")
            label = ""
    return "\n".join(lines)


def targets_table(results):
    lines = ["| target | measured (paired medians) | met | measured (min) |",
             "|---|---:|---|---:|"]

    def row(what, value, ok, value_min):
        lines.append(f"| {what} | {value:.2f} | {'yes' if ok else 'NO'} | {value_min:.2f} |")

    for size, limit in TARGETS.items():
        if size in results:
            r = results[size]["autograd_mini"]
            row(f"{size}: autograd_mini / NumPy <= {limit}", r["ratio"], r["ratio"] <= limit,
                r["ratio_min"])
    for size, limit in COMPILED_TARGETS.items():
        if size in results and "compiled" in results[size]:
            r = results[size]["compiled"]
            row(f"{size}: compiled / NumPy <= {limit}", r["ratio"], r["ratio"] <= limit,
                r["ratio_min"])
    for size, rows in results.items():
        if "compiled" in rows:
            c = rows["compiled"]
            row(f"{size}: compiled trace and build <= {TRACE_LIMIT} s", c["build_s"],
                c["build_s"] <= TRACE_LIMIT, c["build_s"])
            m = c["peak_bytes"] / rows["autograd_mini"]["peak_bytes"]
            row(f"{size}: compiled peak memory / eager's <= 1", m, m <= 1, m)
    size, limit = MEMORY_TARGET
    if size in results:
        m = results[size]["autograd_mini"]["memory_ratio"]
        row(f"{size}: peak memory / NumPy's <= {limit}", m, m <= limit, m)
    for size, rows in results.items():
        if "torch" in rows:
            a, t = rows["autograd_mini"], rows["torch"]
            r, r_min = a["ratio_torch"], a["min_ms"] / t["min_ms"]
            if size == "medium":
                row(f"{size}: autograd_mini / PyTorch <= 1.10", r, r <= 1.10, r_min)
            else:
                row(f"{size}: autograd_mini / PyTorch < 1 (faster)", r, r < 1, r_min)
    return "\n".join(lines)


def scaling_table(scaling):
    B, D, H, C = SCALING_SIZE
    lines = [f"Scaling: B={B}, D={D}, H={H}, C={C}; one iteration (forward + backward), "
             "best of 5, 2 and 1 runs as T grows.", "",
             "| implementation | T | ms | µs per step | peak traced MiB | bytes per step |",
             "|---|---:|---:|---:|---:|---:|"]
    for impl, s in scaling.items():
        for r in s["rows"]:
            lines.append(f"| {impl} | {r['T']:,} | {r['ms']:.1f} | {1e3 * r['ms'] / r['T']:.1f} "
                         f"| {mib(r['peak_bytes'])} | {r['peak_bytes'] / r['T']:.0f} |")
    lines += ["", "| implementation | time slope µs/step | time exponent (all T / last two) "
              "| memory slope bytes/step | memory exponent (all T / last two) |",
              "|---|---:|---:|---:|---:|"]
    for impl, s in scaling.items():
        t, m = s["time_fit"], s["memory_fit"]
        lines.append(f"| {impl} | {1e3 * t['slope']:.1f} "
                     f"| {t['exponent']:.2f} / {t['exponent_last_two']:.2f} "
                     f"| {m['slope']:.0f} | {m['exponent']:.2f} / {m['exponent_last_two']:.2f} |")
    lines.append("")
    lines.append("(slope: least-squares fit of cost = a + slope * T; exponent: slope of "
                 "log(cost) against log(T), 1.00 = linear)")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bptt", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    ap.add_argument("--scaling", action="store_true", help="run only the scaling benchmark")
    ap.add_argument("--micro", action="store_true", help="run only the per-op benchmark")
    ap.add_argument("--all", action="store_true", help="sizes, per-op and scaling")
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    ap.add_argument("--budget", type=float, default=1.0, help="seconds of timed iterations")
    ap.add_argument("--rounds", type=int, default=3,
                    help="seconds of timing per implementation and size, in --budget units")
    ap.add_argument("--scaling-T", type=int, nargs="+", default=list(SCALING_T))
    ap.add_argument("--json", default="out/bench.json", help="where to write the results")
    ap.add_argument("--keep-openblas-env", action="store_true",
                    help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for the subprocesses")
    args = ap.parse_args(argv)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    env = child_env(args.keep_openblas_env)
    use_torch = torch_available() and not args.no_torch
    if not use_torch and not args.no_torch:
        print("PyTorch is not installed: its column is skipped (pip install 'torch==2.13.0', "
              "or `pip install -e '.[torch]'`).\n")
    info = run_worker({"task": "info", "torch": use_torch}, env)
    print(f"NumPy {info['numpy']}, BLAS {info['blas']}"
          + (f", PyTorch {info['torch']}" if use_torch else "")
          + ", one thread, float32 timing, float64 agreement check.\n")

    do_sizes = not (args.scaling or args.micro) or args.all
    do_micro = args.micro or args.all or not args.scaling
    do_scaling = args.scaling or args.all
    report = {"info": info, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    if do_sizes:
        impls = ["numpy", "autograd_mini", "compiled", "hoisted"] + \
            (["torch"] if use_torch else [])
        results = bench_sizes(args.sizes, impls, env, args.budget, args.rounds, log)
        report["sizes"] = results
        print(size_table(results), "\n")
        print(targets_table(results), "\n")
    if do_micro:
        log("  per-op micro-benchmark ...")
        rows = run_worker({"task": "micro"}, env)
        report["micro"] = rows
        from .micro import table
        print("Fixed cost per recorded op (float32; see benchmarks/micro.py):\n")
        print(table(rows), "\n")
    if do_scaling:
        scaling = bench_scaling(["numpy", "autograd_mini"], env, args.scaling_T, log)
        report["scaling"] = scaling
        print(scaling_table(scaling), "\n")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=1))
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
