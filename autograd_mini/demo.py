"""``autograd-mini demo``: the main job, on the textbook RNN (Goodfellow's, 4-5-3, T = 5).

Each section prints one thing a learner of BPTT wants to see; later sections (the book's
hand formulas, the pictures) live with the packages that make them.
"""
import numpy as np

from .checks import numerical_jacobian
from .tensor import Tensor


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


def print_gradient_table(rows):
    print(f"{'param':<6} {'index':<8} {'autodiff':>16} {'finite diff':>16} {'rel err':>9}")
    for name, idx, auto, numeric, rel in rows:
        print(f"{name:<6} {str(idx):<8} {auto:>16.10f} {numeric:>16.10f} {rel:>9.1e}")
    # Per parameter: the largest error relative to the parameter's largest gradient entry,
    # the measure that does not blow up on entries that are themselves nearly zero.
    print("\nper parameter: max |autodiff - finite diff| / max |finite diff|")
    worst = 0.0
    for name in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == name]
        err = max(abs(r[2] - r[3]) for r in mine) / max(abs(r[3]) for r in mine)
        worst = max(worst, err)
        print(f"  {name}: {err:.2e}")
    return worst


def main(argv=None):
    from models.goodfellow import GoodfellowRNN

    model = GoodfellowRNN.init(D=4, H=5, C=3, seed=0)
    x, y = GoodfellowRNN.example_data(T=5, D=4, C=3, seed=0)
    print("The textbook RNN (Goodfellow et al. 10.2.2): x in R^4, h in R^5, o in R^3, tanh, "
          "softmax, negative log-likelihood summed over T = 5 steps.\n")
    print("1. Every gradient by autodiff (one backward pass) next to central finite differences")
    worst = print_gradient_table(gradient_table(model, x, y))
    ok = worst < 1e-6
    print(f"\nautodiff {'agrees' if ok else 'DISAGREES'} with finite differences: worst "
          f"relative error {worst:.1e} ({'<' if ok else '>='} 1e-6)")
    ok = book_equations() and ok
    from visualize.demo import pictures
    pictures(model, x, y, outdir="out")      # the unrolled graph and the gradient flow
    return 0 if ok else 1


def book_equations():
    """The book's hand-derived BPTT (eqs. 10.18-10.28), each against autodiff."""
    from models.claims.book import equations_table
    print("\nThe book's equations 10.18-10.28 on this RNN, each computed as printed from the "
          "forward values and compared with autodiff (details: autograd-mini check book)")
    return equations_table()
