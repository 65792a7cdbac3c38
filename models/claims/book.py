"""Goodfellow, Bengio and Courville, Deep Learning (2016), section 10.2.2: the gradients
of the textbook RNN, eqs. 10.17-10.28, each checked against autodiff.

The network is models/goodfellow.py (eqs. 10.8-10.11, column vectors, tanh, softmax,
L = sum_t L(t) with L(t) = -log yhat_{y(t)}(t) for a class label y(t)). Sizes: the
sources' 4-5-3 example (x in R^4, h in R^5, o in R^3), T = 5.

Each equation is judged on its own: its right-hand side reads the *autodiff* values of
the quantities it recurses on (dL/dh(t+1), dL/do(t)), so an error in one equation
cannot hide or cause one in another. ``equations_table()`` is the demo's section.
"""
import textwrap

import numpy as np

from autograd_mini import Tensor

from ..goodfellow import GoodfellowRNN
from .framework import Claim, Network, Source, View, check_source, cite, mm


def textbook_network(case):
    """GoodfellowRNN at ``case`` (D, H, C, T, seed), probed: every a(t), h(t), o(t), L(t)
    and every per-step parameter copy U(t), W(t), V(t), b(t), c(t) is named."""
    model = GoodfellowRNN.init(D=case.D, H=case.H, C=case.C, seed=case.seed)
    x, y = GoodfellowRNN.example_data(T=case.T, D=case.D, C=case.C, seed=case.seed)

    def forward(p, probe):
        return GoodfellowRNN(**p).forward(x, y, probe=probe).loss
    return Network({n: q.data for n, q in model.parameters().items()}, forward,
                   data={"x": x, "y": y})


# ---------------------------------------------------------------------- forward values
def h(b, t):
    """h(t) as a vector; h(0) = 0."""
    return b.v(f"h({t})") if t >= 1 else np.zeros(b.case.H)


def yhat(b, t):
    o = b.v(f"o({t})")
    e = np.exp(o - o.max())
    return e / e.sum()


def one_hot(b, t):
    return np.eye(b.case.C)[b.data["y"][t - 1]]


def dh(b, t):
    return b.grad(f"h({t})")


def do(b, t):
    return b.grad(f"o({t})")


def steps(b):
    return range(1, b.T + 1)


def tanh_jacobian(b, t):
    """diag(1 - (h(t))^2): the Jacobian of tanh at step t."""
    return np.diag(1 - h(b, t) ** 2)


# Jacobians of one step's maps, by autodiff (autograd_mini.jacobian on the step's formula)
def dh_next_dh(b, t):
    W, U, bb = (Tensor(b.v(n)) for n in ("W", "U", "b"))
    x = Tensor(b.v(f"x({t + 1})"))
    return b.local_jacobian(("dh(t+1)/dh(t)", t), lambda hh: (bb + W @ hh + U @ x).tanh(),
                            h(b, t))


def do_dh(b, t):
    V, c = Tensor(b.v("V")), Tensor(b.v("c"))
    return b.local_jacobian(("do(t)/dh(t)", t), lambda hh: c + V @ hh, h(b, t))


def do_dc(b, t):
    V, hh = Tensor(b.v("V")), Tensor(h(b, t))
    return b.local_jacobian(("do(t)/dc", t), lambda c: c + V @ hh, b.v("c"))


def dh_db(b, t):
    W, U, x = Tensor(b.v("W")), Tensor(b.v("U")), Tensor(b.v(f"x({t})"))
    hp = Tensor(h(b, t - 1))
    return b.local_jacobian(("dh(t)/db(t)", t), lambda bb: (bb + W @ hp + U @ x).tanh(),
                            b.v("b"))


def do_dV(b, t):
    """d o(t) / d V(t): (C, C, H); entry [i] is grad_V o_i(t)."""
    c, hh = Tensor(b.v("c")), Tensor(h(b, t))
    return b.local_jacobian(("do(t)/dV(t)", t), lambda V: c + V @ hh, b.v("V"))


def dh_dW(b, t):
    """d h(t) / d W(t): (H, H, H); entry [i] is grad_W h_i(t)."""
    U, bb, x, hp = (Tensor(a) for a in (b.v("U"), b.v("b"), b.v(f"x({t})"), h(b, t - 1)))
    return b.local_jacobian(("dh(t)/dW(t)", t), lambda W: (bb + W @ hp + U @ x).tanh(),
                            b.v("W"))


def dh_dU(b, t):
    """d h(t) / d U(t): (H, H, D); entry [i] is grad_U h_i(t)."""
    W, bb, x, hp = (Tensor(a) for a in (b.v("W"), b.v("b"), b.v(f"x({t})"), h(b, t - 1)))
    return b.local_jacobian(("dh(t)/dU(t)", t), lambda U: (bb + W @ hp + U @ x).tanh(),
                            b.v("U"))


# ---------------------------------------------------------------------- the equations
def eq_10_18(b, t):
    return yhat(b, t) - one_hot(b, t)


def eq_10_19(b, t):
    return mm(("V^T", b.v("V").T), ("grad_o(tau) L", do(b, t)))


def eq_10_20(b, t):
    return (mm(("(dh(t+1)/dh(t))^T", dh_next_dh(b, t).T), ("grad_h(t+1) L", dh(b, t + 1)))
            + mm(("(do(t)/dh(t))^T", do_dh(b, t).T), ("grad_o(t) L", do(b, t))))


def eq_10_21_printed(b, t):
    """As printed: W^T (grad_h(t+1) L) diag(1 - (h(t+1))^2) + V^T (grad_o(t) L)."""
    return (mm(("W^T", b.v("W").T), ("(grad_h(t+1) L)", dh(b, t + 1)),
               ("diag(1 - (h(t+1))^2)", tanh_jacobian(b, t + 1)))
            + mm(("V^T", b.v("V").T), ("grad_o(t) L", do(b, t))))


def eq_10_21_ordered(b, t):
    return (mm(("W^T", b.v("W").T), ("diag(1 - (h(t+1))^2)", tanh_jacobian(b, t + 1)),
               ("grad_h(t+1) L", dh(b, t + 1)))
            + mm(("V^T", b.v("V").T), ("grad_o(t) L", do(b, t))))


def eq_10_22_jacobian(b, t):
    return sum(mm(("(do(t)/dc)^T", do_dc(b, s).T), ("grad_o(t) L", do(b, s)))
               for s in steps(b))


def eq_10_22(b, t):
    return sum(do(b, s) for s in steps(b))


def eq_10_23_jacobian(b, t):
    return sum(mm(("(dh(t)/db(t))^T", dh_db(b, s).T), ("grad_h(t) L", dh(b, s)))
               for s in steps(b))


def eq_10_23(b, t):
    return sum(mm(("diag(1 - (h(t))^2)", tanh_jacobian(b, s)), ("grad_h(t) L", dh(b, s)))
               for s in steps(b))


def eq_10_24_sum(b, t):
    return sum(np.tensordot(do(b, s), do_dV(b, s), axes=1) for s in steps(b))


def eq_10_24(b, t):
    return sum(mm(("grad_o(t) L", do(b, s)), ("h(t)^T", h(b, s)[None, :])) for s in steps(b))


def eq_10_25(b, t):
    return sum(np.tensordot(dh(b, s), dh_dW(b, s), axes=1) for s in steps(b))


def eq_10_26(b, t):
    return sum(mm(("diag(1 - (h(t))^2)", tanh_jacobian(b, s)), ("grad_h(t) L", dh(b, s)),
                  ("h(t-1)^T", h(b, s - 1)[None, :])) for s in steps(b))


def eq_10_27(b, t):
    return sum(np.tensordot(dh(b, s), dh_dU(b, s), axes=1) for s in steps(b))


def eq_10_28(b, t):
    return sum(mm(("diag(1 - (h(t))^2)", tanh_jacobian(b, s)), ("grad_h(t) L", dh(b, s)),
                  ("x(t)^T", b.v(f"x({s})")[None, :])) for s in steps(b))


def grad(name):
    return lambda b, t: b.grad(name)


CLAIMS = [
    Claim("10.17", "dL/dL(t) = 1", lambda b, t: np.array(1.0),
          lambda b, t: b.grad(f"L({t})"), "dL/dL(t) by autodiff", steps="each"),
    Claim("10.18", "(grad_o(t) L)_i = dL/do_i(t) = yhat_i(t) - 1_{i,y(t)}", eq_10_18,
          lambda b, t: do(b, t), "dL/do(t) by autodiff", steps="each"),
    Claim("10.19", "grad_h(tau) L = V^T grad_o(tau) L", eq_10_19, lambda b, t: dh(b, t),
          "dL/dh(tau) by autodiff", steps="last"),
    Claim("10.20", "grad_h(t) L = (dh(t+1)/dh(t))^T (grad_h(t+1) L) + (do(t)/dh(t))^T "
          "(grad_o(t) L)", eq_10_20, lambda b, t: dh(b, t), "dL/dh(t) by autodiff",
          steps="before-last"),
    Claim("10.21", "grad_h(t) L = W^T (grad_h(t+1) L) diag(1 - (h(t+1))^2) + V^T "
          "(grad_o(t) L)", eq_10_21_printed, lambda b, t: dh(b, t), "dL/dh(t) by autodiff",
          steps="before-last", corrected=eq_10_21_ordered,
          corrected_text="W^T diag(1 - (h(t+1))^2) (grad_h(t+1) L) + V^T (grad_o(t) L): the "
                         "diagonal Jacobian of tanh before the gradient it scales",
          note="as printed, a column of H entries is multiplied by an H x H matrix"),
    Claim("10.22 (Jacobian form)", "grad_c L = sum_t (do(t)/dc)^T grad_o(t) L",
          eq_10_22_jacobian, grad("c"), "dL/dc by autodiff"),
    Claim("10.22", "grad_c L = sum_t grad_o(t) L", eq_10_22, grad("c"), "dL/dc by autodiff"),
    Claim("10.23 (Jacobian form)", "grad_b L = sum_t (dh(t)/db(t))^T grad_h(t) L",
          eq_10_23_jacobian, grad("b"), "dL/db by autodiff"),
    Claim("10.23", "grad_b L = sum_t diag(1 - (h(t))^2) grad_h(t) L", eq_10_23, grad("b"),
          "dL/db by autodiff"),
    Claim("10.24 (sum over i)", "grad_V L = sum_t sum_i (dL/do_i(t)) grad_V(t) o_i(t)",
          eq_10_24_sum, grad("V"), "dL/dV by autodiff"),
    Claim("10.24", "grad_V L = sum_t (grad_o(t) L) h(t)^T", eq_10_24, grad("V"),
          "dL/dV by autodiff"),
    Claim("10.25", "grad_W L = sum_t sum_i (dL/dh_i(t)) grad_W(t) h_i(t)", eq_10_25,
          grad("W"), "dL/dW by autodiff"),
    Claim("10.26", "grad_W L = sum_t diag(1 - (h(t))^2) (grad_h(t) L) h(t-1)^T", eq_10_26,
          grad("W"), "dL/dW by autodiff"),
    Claim("10.27", "grad_U L = sum_t sum_i (dL/dh_i(t)) grad_U(t) h_i(t)", eq_10_27,
          grad("U"), "dL/dU by autodiff"),
    Claim("10.28", "grad_U L = sum_t diag(1 - (h(t))^2) (grad_h(t) L) x(t)^T", eq_10_28,
          grad("U"), "dL/dU by autodiff"),
]
for _c in CLAIMS:
    _c.where = "Deep Learning, section 10.2.2"

_DIAG = r"\operatorname{diag}\left(1 - \left(h^{(t+1)}\right)^2\right)"
_DIAG_T = r"\operatorname{diag}\left(1 - \left(h^{(t)}\right)^2\right)"
# The book is not among the texts in shared/sources: its equations are cited by number.
cite(CLAIMS, {
    "10.17": (None, "", r"\frac{\partial L}{\partial L^{(t)}} = 1"),
    "10.18": (None, "", r"(\nabla_{o^{(t)}} L)_i = \frac{\partial L}{\partial o_i^{(t)}} = "
              r"\frac{\partial L}{\partial L^{(t)}} \frac{\partial L^{(t)}}{\partial o_i^{(t)}}"
              r" = \hat{y}_i^{(t)} - \mathbf{1}_{i, y^{(t)}}"),
    "10.19": (None, "", r"\nabla_{h^{(\tau)}} L = V^\top \nabla_{o^{(\tau)}} L"),
    "10.20": (None, "", r"\nabla_{h^{(t)}} L = \left(\frac{\partial h^{(t+1)}}{\partial "
              r"h^{(t)}}\right)^\top (\nabla_{h^{(t+1)}} L) + \left(\frac{\partial o^{(t)}}"
              r"{\partial h^{(t)}}\right)^\top (\nabla_{o^{(t)}} L)"),
    "10.21": (None, "", r"\nabla_{h^{(t)}} L = W^\top (\nabla_{h^{(t+1)}} L)\, " + _DIAG +
              r" + V^\top (\nabla_{o^{(t)}} L)"),
    "10.22 (Jacobian form)": (None, "", r"\nabla_c L = \sum_t \left(\frac{\partial o^{(t)}}"
                              r"{\partial c}\right)^\top \nabla_{o^{(t)}} L"),
    "10.22": (None, "", r"\nabla_c L = \sum_t \nabla_{o^{(t)}} L"),
    "10.23 (Jacobian form)": (None, "", r"\nabla_b L = \sum_t \left(\frac{\partial h^{(t)}}"
                              r"{\partial b^{(t)}}\right)^\top \nabla_{h^{(t)}} L"),
    "10.23": (None, "", r"\nabla_b L = \sum_t " + _DIAG_T + r" \nabla_{h^{(t)}} L"),
    "10.24 (sum over i)": (None, "", r"\nabla_V L = \sum_t \sum_i \left(\frac{\partial L}"
                           r"{\partial o_i^{(t)}}\right) \nabla_{V^{(t)}} o_i^{(t)}"),
    "10.24": (None, "", r"\nabla_V L = \sum_t (\nabla_{o^{(t)}} L)\, h^{(t)\top}"),
    "10.25": (None, "", r"\nabla_W L = \sum_t \sum_i \left(\frac{\partial L}{\partial "
              r"h_i^{(t)}}\right) \nabla_{W^{(t)}} h_i^{(t)}"),
    "10.26": (None, "", r"\nabla_W L = \sum_t " + _DIAG_T +
              r" (\nabla_{h^{(t)}} L)\, h^{(t-1)\top}"),
    "10.27": (None, "", r"\nabla_U L = \sum_t \sum_i \left(\frac{\partial L}{\partial "
              r"h_i^{(t)}}\right) \nabla_{U^{(t)}} h_i^{(t)}"),
    "10.28": (None, "", r"\nabla_U L = \sum_t " + _DIAG_T +
              r" (\nabla_{h^{(t)}} L)\, x^{(t)\top}"),
})


def per_step_view(b):
    """dL/dh(t), dL/do(t) and each step's share of dL/dW, dL/dU, dL/dV, dL/db, dL/dc (the
    gradient on the copy W(t) used at step t only), with the shared gradients they sum to."""
    names = ("W", "U", "V", "b", "c")
    ts = list(steps(b))
    columns = {"dL/dh(t)": [dh(b, t) for t in ts], "dL/do(t)": [do(b, t) for t in ts]}
    columns.update({f"dL/d{n}(t)": [b.grad(f"{n}({t})") for t in ts] for n in names})
    return View("per step: the gradient on h(t) and o(t), and step t's contribution to each "
                "shared parameter", ts, columns,
                {f"dL/d{n}(t)": (f"dL/d{n}", b.grad(n)) for n in names})


SOURCE = Source(
    id="book", title="Deep Learning, section 10.2.2, eqs. 10.17-10.28",
    citation="Ian Goodfellow, Yoshua Bengio and Aaron Courville, Deep Learning (MIT Press, "
             "2016), chapter 10, section 10.2.2, eqs. 10.17-10.28",
    file=None, build=textbook_network, claims=CLAIMS, hidden="H",
    notation={"D": "size of x(t)", "H": "size of h(t)", "C": "size of o(t) (classes)",
              "T": "sequence length tau"},
    base=dict(D=4, H=5, C=3, T=5, seed=0),
    vary=dict(D=[1, 2], H=[1, 2, 3], C=[2, 4], T=[1, 2, 5, 20], seed=[1, 2]),
    views=[per_step_view],
    summary="The textbook's BPTT gradients for its RNN.")


def equations_table(file=None):
    """The demo's section: eqs. 10.18-10.28 checked on the textbook RNN, as a table
    (equation, statement, verdict, max rel err). Returns True when autodiff agrees with
    finite differences on every quantity compared."""
    report = check_source(SOURCE)
    rows = [v for v in report.verdicts if v.claim.label != "10.17"]
    width = max(len(v.claim.statement) for v in rows)
    out = [f"{'equation':<22} {'statement':<{width}} {'verdict':<10} max rel err"]
    for v in rows:
        err = "-" if v.max_rel_err is None else f"{v.max_rel_err:.1e}"
        out.append(f"{v.claim.label:<22} {v.claim.statement:<{width}} {v.verdict:<10} {err}")
        if v.verdict != "holds":
            notes = [f"why: {v.why}", v.condition] + (
                [f"corrected: {v.corrected}"] if v.corrected else [])
            for note in notes:
                out += textwrap.wrap(note, 100, initial_indent=" " * 25,
                                     subsequent_indent=" " * 27)
    out.append(f"(checked on {len(report.cases)} cases: sizes incl. 4-5-3 and H = 1, "
               f"T in 1, 2, 5, 20, 3 seeds; autodiff vs finite differences: worst rel err "
               f"{report.fd_worst:.1e})")
    print("\n".join(out), file=file)
    return report.fd_ok

