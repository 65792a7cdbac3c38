"""``autograd-mini rtrl``: RTRL and BPTT, the same gradient, and what each costs.

For each hidden size n: the textbook RNN's gradient over ``--steps`` steps three ways
(BPTT, RTRL by the engine's forward mode, RTRL by hand) and the GRU's two ways, their
agreement, and the time per step of each. Then the memory of each against T. The cost
table gives, beside the measured times, the multiply-adds each method runs per step
(counted from the shapes of its products, below), with the fitted log-log slopes of both:
at n <= 32 the interpreter's fixed cost per op is as large as the arithmetic, so the
measured times grow slower than the counts, which show the n^4 and n^2 of the theory.
"""
import time
import tracemalloc

import numpy as np

from . import rtrl
from .train_cli import _blas_threads

AGREE = 1e-12            # relative, float64: the bar


def add_arguments(p):
    p.add_argument("--hidden", type=int, nargs="+", default=[4, 8, 16, 32], metavar="N",
                   help="hidden sizes n (default: 4 8 16 32)")
    p.add_argument("--steps", type=int, default=50, metavar="T",
                   help="time steps of the agreement and timing runs (default 50)")
    p.add_argument("--inputs", type=int, default=None, metavar="D",
                   help="input size D of the textbook RNN (default: n, so every "
                        "parameter matrix grows with n)")
    p.add_argument("--classes", type=int, default=None, metavar="C",
                   help="output classes C (default: n)")
    p.add_argument("--memory-steps", type=int, nargs="+", default=None, metavar="T",
                   help="sequence lengths of the memory runs (default: T/4, T/2, T, 2T)")
    p.add_argument("--repeats", type=int, default=3,
                   help="timed runs per method and size; the fastest counts (default 3)")
    p.add_argument("--no-gru", action="store_true", help="skip the GRU's agreement")
    p.add_argument("--plot", metavar="FILE", help="plot the costs (needs matplotlib)")
    p.add_argument("--seed", type=int, default=0)


def run(args):
    bad = [n for n in args.hidden if n < 1] + ([args.steps] if args.steps < 1 else [])
    if bad:
        raise SystemExit(f"autograd-mini rtrl: sizes and steps must be positive, got {bad}")
    Ts = args.memory_steps or sorted({max(1, args.steps // 4), max(1, args.steps // 2),
                                      args.steps, 2 * args.steps})
    with _blas_threads(1):
        rows = [measure(n, args) for n in args.hidden]
        print(agreement_table(rows, args.steps))
        print()
        print(time_table(rows))
        print()
        memory = measure_memory(min(args.hidden), Ts, args)
        print(memory_table(memory, min(args.hidden)))
    if args.plot:
        path = plot(rows, memory, args.plot)
        print(f"\nplot written to {path}")
    worst = max(max(r["agree"].values()) for r in rows)
    return 0 if worst <= AGREE else 1


# ---------------------------------------------------------------------- measuring
METHODS = {"BPTT": rtrl.bptt, "RTRL, forward mode": rtrl.rtrl_forward_mode,
           "RTRL, by hand": rtrl.rtrl_by_hand}


def measure(n, args):
    D, C = args.inputs or n, args.classes or n
    params, x, y = rtrl.problem(n, args.steps, D=D, C=C, seed=args.seed)
    row = {"n": n, "D": D, "C": C, "P": sum(p.size for p in params.values()),
           "agree": {}, "ms": {}, "madds": madds(n, D, C)}
    grads = {}
    for name, fn in METHODS.items():
        best = np.inf
        for _ in range(max(1, args.repeats)):
            start = time.perf_counter()
            grads[name] = fn(params, x, y)
            best = min(best, time.perf_counter() - start)
        row["ms"][name] = 1e3 * best / args.steps
    for name in METHODS:
        if name != "BPTT":
            row["agree"][name] = rtrl.agreement(grads[name], grads["BPTT"])
    if not args.no_gru:
        gp, gx, gy = rtrl.gru_problem(n, args.steps, seed=args.seed)
        row["agree"]["GRU, forward mode"] = rtrl.agreement(
            rtrl.gru_rtrl_forward_mode(gp, gx, gy), rtrl.gru_bptt(gp, gx, gy))
    return row


def madds(n, D, C):
    """Multiply-adds per step, from the shapes of each method's products."""
    P = n * D + n * n + C * n + n + C
    forward = n * n + n * D + C * n
    return {
        # forward; backward: an outer product per weight and W^T g, V^T g
        "BPTT": forward + (n * n + n * D + C * n) + (n * n + C * n),
        # forward and its JVP: every product again, for each of the P directions (A dx
        # and dA x for each matrix-vector product: the parameters' tangents are dense)
        "RTRL, forward mode": forward + 2 * P * (n * n + n * D + C * n),
        # W P(t-1) for the sensitivities of W, U and b; dL/dh(t) P(t); V^T (p - y)
        "RTRL, by hand": forward + n * n * (n * n + n * D + n) + n * (n * n + n * D + n)
        + 2 * C * n,
    }


def measure_memory(n, Ts, args):
    """Peak traced memory (tracemalloc) of one gradient, per method and T."""
    out = {name: [] for name in METHODS}
    for T in Ts:
        params, x, y = rtrl.problem(n, T, D=args.inputs or n, C=args.classes or n,
                                    seed=args.seed)
        for name, fn in METHODS.items():
            tracemalloc.start()
            try:
                fn(params, x, y)
                out[name].append((T, tracemalloc.get_traced_memory()[1]))
            finally:
                tracemalloc.stop()
    return out


def slope(xs, ys):
    """The least-squares slope of log(y) against log(x)."""
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


# ---------------------------------------------------------------------- tables
def agreement_table(rows, T):
    names = list(rows[0]["agree"])
    lines = [f"Agreement with BPTT over T = {T} steps, float64: max |g - g_BPTT| / max "
             f"|g_BPTT|, worst parameter (bar: {AGREE:g})", "",
             "| n | " + " | ".join(names) + " |", "|---:|" + "---:|" * len(names)]
    for r in rows:
        lines.append(f"| {r['n']} | " + " | ".join(f"{r['agree'][k]:.1e}" for k in names)
                     + " |")
    worst = max(max(r["agree"].values()) for r in rows)
    lines += ["", f"worst: {worst:.1e}: " + ("the same gradient" if worst <= AGREE else
                                             "DISAGREE")]
    return "\n".join(lines)


def time_table(rows):
    names = list(METHODS)
    lines = ["Cost per step against the hidden size n (D = inputs, C = classes, P = "
             "parameter entries): measured ms per step (fastest run), and multiply-adds per "
             "step", "",
             "| n | D | C | P | " + " | ".join(f"{k} ms | {k} madds" for k in names) + " |",
             "|---:|---:|---:|---:|" + "---:|---:|" * len(names)]
    for r in rows:
        lines.append(f"| {r['n']} | {r['D']} | {r['C']} | {r['P']} | " + " | ".join(
            f"{r['ms'][k]:.3f} | {r['madds'][k]:,}" for k in names) + " |")
    if len(rows) > 1:
        ns = [r["n"] for r in rows]
        lines += ["", "Fitted log-log slope in n (theory: RTRL 4, BPTT 2): multiply-adds; "
                  "measured time, over all n and over the two largest", ""]
        for k in names:
            ms = [r["ms"][k] for r in rows]
            lines.append(f"  {k:<20} multiply-adds {slope(ns, [r['madds'][k] for r in rows]):.2f}"
                         f"   time {slope(ns, ms):.2f} (all n), {slope(ns[-2:], ms[-2:]):.2f} "
                         f"(n = {ns[-2]} to {ns[-1]})")
    return "\n".join(lines)


def memory_table(memory, n):
    Ts = [T for T, _ in next(iter(memory.values()))]
    lines = [f"Peak traced memory (KiB) of one gradient against T, n = {n}", "",
             "| T | " + " | ".join(memory) + " |", "|---:|" + "---:|" * len(memory)]
    for k, T in enumerate(Ts):
        lines.append(f"| {T} | " + " | ".join(f"{v[k][1] / 1024:.1f}" for v in memory.values())
                     + " |")
    if len(Ts) > 1:
        lines += ["", "Fitted log-log slope in T (theory: RTRL 0, BPTT 1):", ""]
        lines += [f"  {k:<20} {slope(Ts, [m for _, m in v]):.2f}" for k, v in memory.items()]
    return "\n".join(lines)


def plot(rows, memory, path):
    """Time per step against n and memory against T, log-log, in one figure file."""
    from matplotlib.figure import Figure            # never pyplot: no global state
    fig = Figure(figsize=(10, 4))
    left, right = fig.subplots(1, 2)
    ns = [r["n"] for r in rows]
    for k, marker, color in zip(METHODS, "os^", ("C0", "C1", "C2")):
        left.loglog(ns, [r["ms"][k] for r in rows], marker + "-", color=color,
                    label=f"{k} (measured)")
        counts = np.array([r["madds"][k] for r in rows], float)
        scale = rows[-1]["ms"][k] / counts[-1]
        left.loglog(ns, counts * scale, ":", color=color, label=f"{k}: multiply-adds, "
                    "scaled to meet the last point")
    left.set(xlabel="hidden size n", ylabel="ms per step", title="time per step")
    left.legend(fontsize=7)
    for (k, v), color in zip(memory.items(), ("C0", "C1", "C2")):
        right.loglog([T for T, _ in v], [m / 1024 for _, m in v], "o-", color=color, label=k)
    right.set(xlabel="steps T", ylabel="peak traced KiB", title="memory of one gradient")
    for ax, ticks in ((left, ns), (right, [T for T, _ in next(iter(memory.values()))])):
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    return path
