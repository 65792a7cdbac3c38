"""The cost of one Hessian-vector product against one gradient (issue "forward mode").

    python -m benchmarks.hvp                  # the small size, float32, one BLAS thread
    python -m benchmarks.hvp --size tiny

The workload is the benchmark's RNN (benchmarks/workload.py). A gradient is one forward
and one backward; an HVP (``autograd_mini.hvp``) is one forward, one backward that
records itself (``create_graph=True``) and one backward through both. Before timing, the
HVP is checked in float64 against central differences of the gradient. The two take
turns in chunks, as in benchmarks/bptt.py, and the ratio is the median over turns of
their chunks' median times. Target: at most 4 at the small size.
"""
import argparse
import sys
import time

import numpy as np

from .workload import PARAMS, SIZES, problem

TARGET = 4.0


def loss_fn(x, y):
    """The workload's loss as a function of the five parameters (Tensors)."""
    from autograd_mini import Tensor, softmax_cross_entropy
    T, B, _ = x.shape

    def f(U, W, V, b, c):
        h = Tensor(np.zeros((B, W.shape[0]), dtype=x.dtype))
        loss = 0
        for t in range(T):
            h = (Tensor(x[t]) @ U.T + h @ W.T + b).tanh()
            loss = loss + softmax_cross_entropy(h @ V.T + c, y[t])
        return loss
    return f


def gradient(f, arrays):
    from autograd_mini import Tensor
    ps = [Tensor(a, requires_grad=True) for a in arrays]
    f(*ps).backward()
    return [p.grad for p in ps]


def check(size):
    """The float64 HVP against central differences of the gradient (relative error)."""
    from autograd_mini import hvp
    params, x, y = problem(*SIZES[size], dtype=np.float64)
    f, arrays = loss_fn(x, y), [params[n] for n in PARAMS]
    rng = np.random.default_rng(1)
    v = [rng.normal(size=a.shape) for a in arrays]
    hv = hvp(f, arrays, v)
    eps = 1e-5
    plus = gradient(f, [a + eps * d for a, d in zip(arrays, v)])
    minus = gradient(f, [a - eps * d for a, d in zip(arrays, v)])
    numeric = [(p - m) / (2 * eps) for p, m in zip(plus, minus)]
    return max(float(np.abs(h - n).max() / np.abs(n).max()) for h, n in zip(hv, numeric))


def chunk(fn, seconds):
    times, end = [], time.perf_counter() + seconds
    while not times or time.perf_counter() < end:
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def bench(size, rounds, seconds):
    from autograd_mini import hvp
    params, x, y = problem(*SIZES[size])                 # float32, as benchmarks/bptt.py
    f, arrays = loss_fn(x, y), [params[n] for n in PARAMS]
    v = [np.ones_like(a) for a in arrays]
    runs = {"gradient": lambda: gradient(f, arrays), "hvp": lambda: hvp(f, arrays, v)}
    for fn in runs.values():
        fn()                                             # warm up
    chunks = {k: [] for k in runs}
    for turn in range(rounds):
        for k in (list(runs) if turn % 2 == 0 else list(runs)[::-1]):
            chunks[k].append(chunk(runs[k], seconds))
    ratio = float(np.median([np.median(h) / np.median(g)
                             for h, g in zip(chunks["hvp"], chunks["gradient"])]))
    ms = {k: 1e3 * float(np.median([t for c in v for t in c])) for k, v in chunks.items()}
    return ms, ratio


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.hvp", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=list(SIZES), default="small")
    ap.add_argument("--rounds", type=int, default=10, help="turns of each (default 10)")
    ap.add_argument("--seconds", type=float, default=0.3, help="seconds per chunk")
    args = ap.parse_args(argv)
    err = check("tiny")
    print(f"HVP against central differences of the gradient (tiny, float64): max rel err "
          f"{err:.1e}")
    if not err < 1e-5:
        print("the HVP disagrees with finite differences: no timing")
        return 1
    with _one_blas_thread():
        ms, ratio = bench(args.size, args.rounds, args.seconds)
    print(f"\n| size (B, D, H, C, T) | one gradient, median ms | one HVP, median ms | HVP / "
          f"gradient (paired medians) | target |\n|---|---:|---:|---:|---|\n"
          f"| {args.size} {SIZES[args.size]} | {ms['gradient']:.2f} | {ms['hvp']:.2f} | "
          f"{ratio:.2f} | <= {TARGET:g}: {'met' if ratio <= TARGET else 'NOT met'} |")
    return 0


def _one_blas_thread():
    """BLAS on one thread, as benchmarks/bptt.py's workers run (needs threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        from contextlib import nullcontext
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


if __name__ == "__main__":
    sys.exit(main())
