"""One benchmark measurement in a fresh process: ``python -m benchmarks.worker SPEC``.

SPEC is JSON: {"task": "serve" | "scaling" | "micro" | "info", "impl": ..., ...}. The
result is printed as one JSON line on stdout ("serve" answers one line per request).
The parent (``benchmarks.bptt``) sets the thread variables before this process starts,
so BLAS and PyTorch each use one thread.
"""
import gc
import importlib
import json
import sys
import time
import tracemalloc

import numpy as np

from .workload import PARAMS, SCALING_SIZE, problem

IMPLS = {"numpy": "benchmarks.impl_numpy", "autograd_mini": "benchmarks.impl_autograd_mini",
         "compiled": "benchmarks.impl_compiled", "hoisted": "benchmarks.impl_hoisted",
         "torch": "benchmarks.impl_torch"}


def load(impl):
    return importlib.import_module(IMPLS[impl])


def warm_up(step, seconds=0.2, runs=2):
    """Run ``step`` for ``seconds`` and at least ``runs`` times (imports, caches, BLAS)."""
    start = time.perf_counter()
    done = 0
    while done < runs or time.perf_counter() - start < seconds:
        step()
        done += 1


def time_iterations(step, seconds):
    """Run ``step`` until ``seconds`` have passed (at least once); each run's time in s."""
    times = []
    start = time.perf_counter()
    while not times or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return times


def traced_peak(build, params, x, y):
    """Peak memory traced by tracemalloc during one iteration in the steady state: after
    the build and a first iteration (a compiled function's trace), the peak of the next
    iteration, counting what the implementation holds from before (preallocated buffers,
    a compiled program) and what the iteration allocates. Also the peak of the build and
    first iteration (a trace runs the eager engine once). Inputs and parameters, shared
    by all implementations, are made before tracing starts."""
    gc.collect()
    tracemalloc.start()
    step = build(params, x, y)
    grads = step()
    first = tracemalloc.get_traced_memory()[1]
    del grads
    gc.collect()
    tracemalloc.reset_peak()
    grads = step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del grads, step
    return peak, first


def serve(spec):
    """One implementation at one size, timed in chunks on the parent's request, so that
    the parent can interleave the implementations (see ``bench_sizes`` in bptt.py).

    Float64 gradients (saved for the parent's agreement check) and the traced memory of
    one float32 iteration first, then a ready line; then for each line ``SECONDS`` on
    stdin, the times of the iterations run in that many seconds (at least one), as a
    JSON line. Ends at end of input."""
    mod = load(spec["impl"])
    B, D, H, C, T = spec["size"]
    params, x, y = problem(B, D, H, C, T, dtype=np.float64)
    grads = mod.build(params, x, y)()
    np.savez(spec["grads_file"], **{n: np.asarray(grads[n]) for n in PARAMS})
    del grads
    params, x, y = problem(B, D, H, C, T, dtype=np.float32)
    peak, first = traced_peak(mod.build, params, x, y)
    start = time.perf_counter()
    step = mod.build(params, x, y)     # a compiled implementation traces here
    build_s = time.perf_counter() - start
    warm_up(step)
    gc.collect()
    _reply({"peak_bytes": peak, "first_peak_bytes": first, "build_s": build_s})
    for line in sys.stdin:
        _reply(time_iterations(step, float(line)))


def _reply(obj):
    json.dump(obj, sys.stdout)
    print(flush=True)


def scaling(spec):
    """Time (best of a few runs) and traced peak memory of one iteration for each T."""
    mod = load(spec["impl"])
    B, D, H, C = SCALING_SIZE
    rows = []
    params, x, y = problem(B, D, H, C, 100, dtype=np.float32)
    mod.build(params, x, y)()                    # warm-up (imports, caches) on a short run
    for T in spec["Ts"]:
        params, x, y = problem(B, D, H, C, T, dtype=np.float32)
        step = mod.build(params, x, y)
        runs = max(1, min(5, 20000 // T))        # 5 runs at T=1,000, 2 at 10,000, 1 at 100,000
        best = min(_once(step) for _ in range(runs))
        del step
        peak = traced_peak(mod.build, params, x, y)[0]
        rows.append({"T": T, "ms": 1e3 * best, "peak_bytes": peak})
    return rows


def _once(step):
    t0 = time.perf_counter()
    step()
    return time.perf_counter() - t0


def blas_info():
    """Which BLAS kernel NumPy runs (needs threadpoolctl; None without it)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [{k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for i in threadpool_info() if i.get("user_api") == "blas"]


def main(argv):
    spec = json.loads(argv[0])
    task = spec["task"]
    if task == "serve":
        return serve(spec)
    if task == "scaling":
        result = scaling(spec)
    elif task == "micro":
        from .micro import run
        result = run(spec.get("budget", 0.2))
    elif task == "info":
        result = {"blas": blas_info(), "numpy": np.__version__}
        if spec.get("torch"):
            import torch
            result["torch"] = torch.__version__
    else:
        raise SystemExit(f"unknown task {task!r}")
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main(sys.argv[1:])
