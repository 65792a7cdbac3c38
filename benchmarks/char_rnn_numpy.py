"""Characters per second: the char-RNN trained by autograd_mini vs the same network by hand.

    python -m benchmarks.char_rnn_numpy [--cell rnn|lstm] [--steps 200] [--hidden 128]
                                        [--batch 32] [--bptt 32]

Both sides train the rnn (or lstm) of models/char_rnn.py on the shipped text, from the same
weights, on the same chunks, with the same global-norm clipping and Adam:
- autograd_mini: ``autograd_mini.models.trainer.Trainer`` (what ``autograd-mini train
  char-rnn`` runs), eager and with ``compile=True`` (``--compile``: the first step
  traces, every later one runs the generated NumPy program; its time is counted);
- NumPy by hand: ``autograd_mini.models.char_rnn.min_char_rnn_bptt`` (min-char-rnn's forward
  cache and backward loop) or ``lstm_bptt``, with clipping and Adam written out below.
It prints the time per step, characters per second, and the largest difference between
the two runs' losses, which should be rounding error only: the same network, trained
the same way, by two routes.

The script re-runs itself in a child process with one BLAS thread and without
OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (as benchmarks/bptt.py does): on 2 busy cores,
multi-threaded OpenBLAS on these small matrices measures contention, not the code. Each
side is timed --repeats times, alternating, and the fastest run counts.
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np

from autograd_mini.models.char_rnn import LN2, load_text, lstm_bptt, min_char_rnn_bptt
from autograd_mini.models.trainer import DEFAULT_LR, Trainer


def numpy_training(trainer, steps):
    """Train a copy of ``trainer``'s initial network by hand; returns (losses, seconds)."""
    o = trainer.options
    bptt = lstm_bptt if o["cell"] == "lstm" else min_char_rnn_bptt
    params = {n: p.data.copy() for n, p in trainer.model.parameters().items()}
    m = {n: np.zeros_like(a) for n, a in params.items()}
    v = {n: np.zeros_like(a) for n, a in params.items()}
    lr, b1, b2, eps = o["lr"], 0.9, 0.999, 1e-8
    T, B, H = o["bptt"], o["batch"], o["hidden"]
    losses = []
    h = None
    start = time.perf_counter()
    for step in range(steps):
        k = step % trainer.chunks_per_epoch
        if k == 0:
            h = np.zeros((B, H)) if bptt is min_char_rnn_bptt else \
                (np.zeros((B, H)), np.zeros((B, H)))
        chunk = trainer.data[:, k * T:k * T + T + 1]
        loss, grads, h = bptt(params, chunk, h)
        norm = np.sqrt(sum(np.vdot(g, g) for g in grads.values()))
        if norm > o["clip"]:                              # clip the global norm
            for g in grads.values():
                g *= o["clip"] / (norm + 1e-12)
        for n, g in grads.items():                        # Adam with bias correction
            m[n] = b1 * m[n] + (1 - b1) * g
            v[n] = b2 * v[n] + (1 - b2) * g * g
            t = step + 1
            params[n] -= lr * (m[n] / (1 - b1 ** t)) / (np.sqrt(v[n] / (1 - b2 ** t)) + eps)
        losses.append(loss)
    return losses, time.perf_counter() - start


def autograd_training(trainer, steps):
    """Train with ``trainer`` (eager or compiled); returns (losses, seconds)."""
    start = time.perf_counter()
    losses = [trainer.train_step() for _ in range(steps)]
    return losses, time.perf_counter() - start


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cell", choices=["rnn", "lstm"], default="rnn")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--bptt", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    if os.environ.get("CHAR_RNN_BENCH_CHILD") != "1":
        env = dict(os.environ, CHAR_RNN_BENCH_CHILD="1", OPENBLAS_NUM_THREADS="1",
                   OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            env.pop(var, None)
        argv = sys.argv[1:] if argv is None else list(argv)
        return subprocess.run([sys.executable, "-m", "benchmarks.char_rnn_numpy", *argv],
                              env=env).returncode
    options = dict(cell=args.cell, hidden=args.hidden, bptt=args.bptt, batch=args.batch,
                   optim="adam", lr=DEFAULT_LR["adam"][args.cell], momentum=0.9, clip=5.0,
                   seed=args.seed, dtype="float64")
    text = load_text()
    chars = args.steps * args.batch * args.bptt
    print(f"char-rnn ({args.cell}), hidden {args.hidden}, batch {args.batch} x bptt {args.bptt}, "
          f"{args.steps} training steps ({chars:,} characters), float64, Adam, clip 5\n")
    # Warm both up (imports, first allocations) on a throwaway run, then time fresh runs.
    numpy_training(Trainer(text, options), 3)
    autograd_training(Trainer(text, options), 3)
    autograd_training(Trainer(text, options, compile=True), 3)
    np_time = ag_time = c_time = float("inf")
    for _ in range(args.repeats):
        np_losses, t = numpy_training(Trainer(text, options), args.steps)
        np_time = min(np_time, t)
        ag_losses, t = autograd_training(Trainer(text, options), args.steps)
        ag_time = min(ag_time, t)
        c_losses, t = autograd_training(Trainer(text, options, compile=True), args.steps)
        c_time = min(c_time, t)
    print(f"{'implementation':<26} {'ms/step':>9} {'chars/s':>10} {'final loss (bits/char)':>23}")
    for name, losses, t in ((f"NumPy by hand ({args.cell})", np_losses, np_time),
                            ("autograd_mini", ag_losses, ag_time),
                            ("autograd_mini --compile", c_losses, c_time)):
        print(f"{name:<26} {1e3 * t / args.steps:>9.2f} {chars / t:>10,.0f} "
              f"{losses[-1] / LN2:>23.4f}")

    def most(a, b):
        return np.max(np.abs(np.subtract(a, b)))
    print(f"\nautograd_mini takes {ag_time / np_time:.2f}x the hand-written time, compiled "
          f"{c_time / np_time:.2f}x (the hand-written loop takes {np_time / c_time:.2f}x the "
          f"compiled time); losses over all steps differ from the hand-written run's by at "
          f"most {most(np_losses, ag_losses):.1e} nats (eager), {most(np_losses, c_losses):.1e}"
          f" (compiled), and compiled from eager by {most(ag_losses, c_losses):.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
