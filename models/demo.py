"""The demo's check: every gradient of the textbook RNN by autodiff against finite differences.

``autograd-mini demo`` (autograd_mini/cli.py) prints the summary of this check first, then
the pictures (autograd_mini.visualize.demo), then the book's hand formulas
(models/claims/book.py); the per-entry rows only with ``--detail``.
"""
import numpy as np

from autograd_mini import Tensor, numerical_jacobian

from .goodfellow import GoodfellowRNN

TOLERANCE = 1e-6
INTRO = ("The textbook RNN (Goodfellow et al. 10.2.2): x in R^4, h in R^5, o in R^3, tanh, "
         "softmax, negative log-likelihood summed over T = 5 steps.")


def textbook_run(seed=0):
    """The demo's model (D=4, H=5, C=3) and data x (5, 4), y (5,)."""
    model = GoodfellowRNN.init(D=4, H=5, C=3, seed=seed)
    x, y = GoodfellowRNN.example_data(T=5, D=4, C=3, seed=seed)
    return model, x, y


def gradient_table(model, x, y, eps=1e-6):
    """Rows (parameter, index, autodiff, finite difference, rel err) for every entry of
    every parameter; autodiff from one backward, central differences in float64."""
    model.zero_grad()
    model.forward(x, y).loss.backward()
    params = model.parameters()
    rows = []
    for name, p in params.items():
        def loss_of(value, name=name):
            trial = {n: Tensor(q.data) for n, q in params.items()}
            trial[name] = value
            return type(model)(**trial).forward(x, y).loss
        numeric = numerical_jacobian(loss_of, p.data, eps=eps)     # shape () + p.shape
        for idx in np.ndindex(*p.shape):
            auto, num = float(p.grad[idx]), float(numeric[idx])
            rel = abs(auto - num) / max(abs(auto), abs(num), 1e-300)
            rows.append((name, idx, auto, num, rel))
    return rows


def per_parameter_errors(rows):
    """{parameter: max |autodiff - finite diff| / max |finite diff|}: the measure that
    does not blow up on entries that are themselves nearly zero."""
    errors = {}
    for name in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == name]
        errors[name] = max(abs(r[2] - r[3]) for r in mine) / max(abs(r[3]) for r in mine)
    return errors


def summary(rows):
    """(ok, text): the worst per-parameter error against TOLERANCE, in two lines."""
    errors = per_parameter_errors(rows)
    worst = max(errors.values())
    ok = worst < TOLERANCE
    each = ", ".join(f"{n} {e:.1e}" for n, e in errors.items())
    text = (f"autodiff {'agrees' if ok else 'DISAGREES'} with central finite differences on "
            f"all {len(rows)} gradient entries: worst relative error {worst:.1e} "
            f"({'<' if ok else '>='} {TOLERANCE:.0e})\n   per parameter: {each}")
    return ok, text


def detail(rows):
    """Every entry: autodiff next to finite differences, one row each."""
    out = [f"{'param':<6} {'index':<8} {'autodiff':>16} {'finite diff':>16} {'rel err':>9}"]
    for name, idx, auto, numeric, rel in rows:
        out.append(f"{name:<6} {str(idx):<8} {auto:>16.10f} {numeric:>16.10f} {rel:>9.1e}")
    return "\n".join(out)
