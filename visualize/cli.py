"""``autograd-mini render MODEL -o FILE``: draw a model's unrolled graph, and its gradient flow.

    autograd-mini render goodfellow --steps 5 -o rnn.svg
    autograd-mini render goodfellow --steps 300 -o long.svg          # middle steps collapse
    autograd-mini render goodfellow --rolled -o rolled.png
    autograd-mini render lstm --steps 3 -o lstm.svg                  # also gru
    autograd-mini render goodfellow --steps 50 --hidden 32 --scale 0.5 --scale 4 \\
        --flow flow.png                                              # vanishing vs exploding
"""
import argparse
import math
import sys
import time
from pathlib import Path

from .output import IMAGE_FORMATS, OutputError, picture_path, ready_to_write, write_picture

FLOW_FORMATS = ("png", "svg", "pdf")
MAX_STEPS = 100_000         # the graph of T steps is held in memory: beyond this, refuse
MAX_HIDDEN = 4096


def _int_in(low, high, meaning):
    """An argparse type: an integer in [low, high]."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number ({meaning}), "
                                             f"got {text!r}") from None
        if not low <= value <= high:
            limit = f"at least {low}" if high == math.inf else f"from {low} to {high:,}"
            raise argparse.ArgumentTypeError(f"{meaning} must be {limit}, got {value}")
        return value
    return parse


def _scale(text):
    """An argparse type: a finite weight scale > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"the weight scale must be a finite number above "
                                         f"0 (e.g. 0.5 or 4), got {text}")
    return value


def _goodfellow(steps, hidden, seed, scale):
    """Goodfellow et al.'s RNN (10.2.2), x in R^4, o in R^3: one forward pass."""
    from autograd_mini.models.goodfellow import GoodfellowRNN
    model = GoodfellowRNN.init(D=4, H=hidden, C=3, seed=seed, scale=scale)
    x, y = GoodfellowRNN.example_data(T=steps, D=4, C=3, seed=seed)
    run = model.forward(x, y)
    return run.loss, run.losses[-1]


def _cell(kind):
    """An LSTM or GRU cell (models/cells.py) with a softmax readout o(t) = h(t) @ V and
    the same data and loss as the textbook RNN. ``scale`` multiplies the recurrent
    weights W_h of PyTorch's initialisation (1 leaves them as they are)."""
    def build(steps, hidden, seed, scale):
        import numpy as np

        from autograd_mini import Tensor, scope, softmax_cross_entropy
        from autograd_mini.models.cells import GRU, LSTM
        from autograd_mini.models.goodfellow import GoodfellowRNN
        cell = {"lstm": LSTM, "gru": GRU}[kind].init(D=4, H=hidden, seed=seed)
        if scale != 1:
            cell.W_h = Tensor(cell.W_h.data * scale, requires_grad=True, name="W_h")
        rng = np.random.default_rng(seed)
        V = Tensor(rng.normal(0, 1 / np.sqrt(hidden), (hidden, 3)), requires_grad=True,
                   name="V")
        x, y = GoodfellowRNN.example_data(T=steps, D=4, C=3, seed=seed)
        state, loss = cell.initial_state(), None
        for t in range(1, steps + 1):
            with scope(f"t={t}"):
                h, state = cell.step(Tensor(x[t - 1]), state)
                h.named(f"h({t})")
                L = softmax_cross_entropy((h @ V).named(f"o({t})"), int(y[t - 1]))
                L.named(f"L({t})")
            loss = L if loss is None else loss + L
        return loss.named("L"), L
    return build


# name: (build(steps, hidden, seed, scale) -> (loss, last step's loss), default scale, help)
MODELS = {
    "goodfellow": (_goodfellow, 0.5, "Goodfellow et al.'s textbook RNN (Deep Learning 10.2.2)"),
    "lstm": (_cell("lstm"), 1.0, "an LSTM cell (models/cells.py) with a softmax readout"),
    "gru": (_cell("gru"), 1.0, "a GRU cell (models/cells.py) with a softmax readout"),
}


def add_arguments(parser):
    parser.add_argument("model", metavar="MODEL", choices=sorted(MODELS),
                        help="; ".join(f"{k}: {v[2]}" for k, v in MODELS.items()))
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="the picture; the suffix picks the format: .svg .png .pdf .dot")
    parser.add_argument("--steps", type=_int_in(1, MAX_STEPS, "the number of time steps"),
                        default=5, help=f"time steps T (default 5, at most {MAX_STEPS:,})")
    parser.add_argument("--hidden", type=_int_in(1, MAX_HIDDEN, "the number of hidden units"),
                        default=5, help="hidden units H (default 5)")
    parser.add_argument("--seed", type=_int_in(0, math.inf, "the seed"), default=0,
                        help="seed of weights and data (0 or more)")
    parser.add_argument("--scale", type=_scale, action="append", metavar="S",
                        help="weight scale. goodfellow: W ~ N(0, S^2/H), so S is near "
                             "W's spectral radius (default 0.5); lstm, gru: S times the "
                             "recurrent weights W_h (default 1). Give it twice to put two "
                             "runs side by side in the --flow figure (--scale 0.5 --scale 4)")
    parser.add_argument("--rolled", action="store_true",
                        help="draw one step, with the recurrence as a back-edge")
    parser.add_argument("--no-grads", dest="grads", action="store_false",
                        help="leave the gradients out")
    parser.add_argument("--no-formulas", dest="formulas", action="store_false",
                        help="leave the VJP formulas off the edges")
    parser.add_argument("--max-steps", type=_int_in(2, math.inf, "--max-steps (the first and "
                                                        "last step are always drawn)"),
                        default=None, metavar="N",
                        help="with more steps than N (default 6), draw the first and last "
                             "few and collapse the middle into one box")
    parser.add_argument("--rankdir", choices=("LR", "TB"), default="LR",
                        help="time axis: left to right (default) or top to bottom")
    parser.add_argument("--flow", metavar="FILE",
                        help="also write the gradient-flow figure (.png .svg .pdf): "
                             "|dL/dh(t)| against t and each step's share of each "
                             "parameter's gradient")


def _check(args):
    """An error message for impossible options, or None."""
    if not args.output and not args.flow:
        return "nothing to write: give -o FILE (the picture) and/or --flow FILE"
    if args.output:
        fmt = Path(args.output).suffix.lower().lstrip(".")
        if fmt not in IMAGE_FORMATS + ("dot", "gv"):
            return (f"-o {args.output}: unknown suffix; use .svg, .png, .pdf or .dot")
    if args.flow and Path(args.flow).suffix.lower().lstrip(".") not in FLOW_FORMATS:
        return f"--flow {args.flow}: unknown suffix; use .png, .svg or .pdf"
    return None


def _outputs_ready(args):
    """Check every output path before any work; returns the notes (folders made)."""
    notes = []
    if args.output:
        notes.append(ready_to_write(args.output, "-o"))
        if picture_path(args.output) != Path(args.output):    # no dot: the .dot is written
            notes.append(ready_to_write(picture_path(args.output), "-o"))
    if args.flow:
        notes.append(ready_to_write(args.flow, "--flow"))
    return [n for n in notes if n]


def run(args):
    problem = _check(args)
    try:
        notes = [] if problem else _outputs_ready(args)
    except OutputError as e:
        problem = str(e)
    if problem:
        print(f"autograd-mini render: error: {problem}", file=sys.stderr)
        return 2
    for note in notes:
        print(note)
    build, default_scale, _ = MODELS[args.model]
    scales = args.scale or [default_scale]
    if args.output:
        from .draw import draw
        start = time.perf_counter()
        loss, _ = build(args.steps, args.hidden, args.seed, scales[0])
        dot = draw(loss, grads=args.grads, formulas=args.formulas, max_steps=args.max_steps,
                   rolled=args.rolled, rankdir=args.rankdir)
        path, note = write_picture(dot, args.output)
        took = time.perf_counter() - start
        print(f"wrote {path}: {args.model}, T = {args.steps}, H = {args.hidden}"
              f"{', rolled' if args.rolled else ''} ({took:.2f} s)")
        if note:
            print(note)
    if args.flow:
        from .flow import gradient_flow
        try:
            from .plots import plot_flow
            runs = []
            for s in scales:
                loss, last = build(args.steps, args.hidden, args.seed, s)
                runs.append((f"{args.model}, weight scale {s:g}",
                             gradient_flow(loss, last_loss=last)))
            fig = plot_flow(runs, title=f"gradient flow through T = {args.steps} steps "
                                        f"(H = {args.hidden})")
            fig.savefig(args.flow, dpi=110)
        except ModuleNotFoundError as e:
            print(f"autograd-mini render: {e}", file=sys.stderr)
            return 1
        print(f"wrote {args.flow}: gradient flow, {len(runs)} run(s)")
    return 0
