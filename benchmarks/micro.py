"""The engine's fixed cost: microseconds per recorded op, forward and backward.

Each op is timed in a chain of N recorded ops (``y = y + w``, ``y = y @ w``,
``y = y.tanh()``), so the forward time per op is the time to build the chain over N and
the backward time per op is ``backward()`` over N. softmax_cross_entropy ends in a
scalar, so it is timed as the RNN uses it, ``loss = loss + sce(o, y)``, minus the same
chain with a plain scalar leaf in place of the loss (``loss = loss + s``).

The column "NumPy" is the bare NumPy forward of the same op: the difference is what the
engine adds. Each number is the best of repeated runs; the cyclic garbage collector is
paused while timing (its cost is measured by the BPTT benchmark, not here).
Run alone with ``python -m benchmarks.micro``.
"""
import gc
import time

import numpy as np

from autograd_mini import Tensor, softmax_cross_entropy
from autograd_mini.rules.softmax import _softmax_cross_entropy as _sce_forward

N = 400                                     # ops per chain
SHAPES = {"1 element": (1, 1), "64x64": (64, 64)}
DT = np.float32


def _chains(shape):
    """{op: (forward builder, bare NumPy forward)}; a builder returns the chain's end."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape).astype(DT)
    eye = np.eye(shape[-1], dtype=DT)       # y @ I keeps values in range over N steps
    labels = rng.integers(0, shape[-1], size=shape[0])

    def add():
        w = Tensor(x, requires_grad=True)
        y = Tensor(x)
        for _ in range(N):
            y = y + w
        return y

    def matmul():
        w = Tensor(eye, requires_grad=True)
        y = Tensor(x)
        for _ in range(N):
            y = y @ w
        return y

    def tanh():
        y = Tensor(x, requires_grad=True)
        for _ in range(N):
            y = y.tanh()
        return y

    def sce():
        o = Tensor(x, requires_grad=True)
        loss = Tensor(np.zeros((), DT), requires_grad=True)
        for _ in range(N):
            loss = loss + softmax_cross_entropy(o, labels)
        return loss

    def scalar_adds():                      # subtracted from sce: the `loss +` part
        s = Tensor(np.ones((), DT), requires_grad=True)
        loss = Tensor(np.zeros((), DT), requires_grad=True)
        for _ in range(N):
            loss = loss + s
        return loss

    bare = {"add": lambda: np.add(x, x), "matmul": lambda: np.matmul(x, eye),
            "tanh": lambda: np.tanh(x), "softmax_cross_entropy": lambda: _sce_forward(
                x, labels, "mean")}
    builders = {"add": add, "matmul": matmul, "tanh": tanh,
                "softmax_cross_entropy": sce, "_scalar_adds": scalar_adds}
    return builders, bare


def _time_chain(build, budget):
    """Best forward and backward seconds per op over repeats filling ``budget``: a fixed
    cost is a lower bound, and other work on the machine only ever adds to it."""
    fwd, bwd = [], []
    start = time.perf_counter()
    while len(fwd) < 5 or time.perf_counter() - start < budget:
        t0 = time.perf_counter()
        y = build()
        t1 = time.perf_counter()
        y.backward(np.ones_like(y.data))
        t2 = time.perf_counter()
        fwd.append((t1 - t0) / N)
        bwd.append((t2 - t1) / N)
        del y
    return min(fwd), min(bwd)


def _time_bare(fn, budget):
    reps = 200
    best = []
    start = time.perf_counter()
    while len(best) < 5 or time.perf_counter() - start < budget / 4:
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        best.append((time.perf_counter() - t0) / reps)
    return min(best)


def run(budget=0.2):
    """Rows {op, shape, forward_us, backward_us, numpy_us} for each op and shape."""
    rows = []
    gc.collect()
    gc.disable()
    try:
        for label, shape in SHAPES.items():
            builders, bare = _chains(shape)
            times = {op: _time_chain(b, budget) for op, b in builders.items()}
            base_f, base_b = times.pop("_scalar_adds")
            f, b = times["softmax_cross_entropy"]
            times["softmax_cross_entropy"] = (f - base_f, b - base_b)
            for op, (f, b) in times.items():
                rows.append({"op": op, "shape": label, "forward_us": 1e6 * f,
                             "backward_us": 1e6 * b, "numpy_us": 1e6 * _time_bare(bare[op], budget)})
    finally:
        gc.enable()
    return rows


def table(rows):
    lines = ["| op | tensor | forward µs/op | backward µs/op | bare NumPy forward µs |",
             "|---|---|---:|---:|---:|"]
    lines += [f"| {r['op']} | {r['shape']} | {r['forward_us']:.2f} | {r['backward_us']:.2f} "
              f"| {r['numpy_us']:.2f} |" for r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(run()))
