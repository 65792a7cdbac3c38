"""Goodfellow et al.'s RNN (Deep Learning, section 10.2.2), as an ordinary Python loop.

Column vectors, as in the book (eqs. 10.8-10.11):

    a(t) = b + W h(t-1) + U x(t)     h(t) = tanh(a(t))
    o(t) = c + V h(t)                yhat(t) = softmax(o(t))
    L = sum_t L(t),   L(t) = -log yhat(t)[y(t)]          (negative log-likelihood)

with x(t) in R^D, h(t) in R^H, o(t) in R^C; the sources' example is D=4, H=5, C=3.
Time steps are numbered t = 1..T and h(0) = 0, as in the book.
"""
from dataclasses import dataclass, field

import numpy as np

from autograd_mini import Tensor, no_grad, scope, softmax_cross_entropy

from .probe import Probe, passthrough


@dataclass
class RNNRun:
    """What one forward pass leaves behind: the loss and every per-step tensor."""
    loss: Tensor
    losses: list = field(default_factory=list)   # L(t), t = 1..T
    a: list = field(default_factory=list)        # a(t)
    h: list = field(default_factory=list)        # h(t), retain_grad() so .grad = dL/dh(t)
    o: list = field(default_factory=list)        # o(t), retain_grad() so .grad = dL/do(t)
    yhat: list = field(default_factory=list)     # softmax(o(t)), values only


class GoodfellowRNN:
    """Parameters U (H,D), W (H,H), V (C,H), b (H,), c (C,), shared by every step."""

    PARAMS = ("U", "W", "V", "b", "c")

    def __init__(self, U, W, V, b, c):
        self.U, self.W, self.V, self.b, self.c = U, W, V, b, c

    @classmethod
    def init(cls, D=4, H=5, C=3, seed=0, scale=0.5, dtype=np.float64):
        """Random parameters: entries N(0, scale^2 / fan_in); biases N(0, 0.1^2)."""
        rng = np.random.default_rng(seed)
        def p(name, *shape, s):
            return Tensor(rng.normal(0, s, shape).astype(dtype), requires_grad=True, name=name)
        return cls(p("U", H, D, s=scale / np.sqrt(D)), p("W", H, H, s=scale / np.sqrt(H)),
                   p("V", C, H, s=scale / np.sqrt(H)), p("b", H, s=0.1), p("c", C, s=0.1))

    @staticmethod
    def example_data(T=5, D=4, C=3, seed=0):
        """Inputs x (T, D) and integer targets y (T,) for a run of T steps."""
        rng = np.random.default_rng(seed + 1000)
        return rng.normal(size=(T, D)), rng.integers(0, C, size=T)

    def parameters(self):
        return {n: getattr(self, n) for n in self.PARAMS}

    def zero_grad(self):
        for p in self.parameters().values():
            p.zero_grad()

    def forward(self, x, y, h0=None, probe=passthrough):
        """x: (T, D) inputs, y: (T,) class indices. Returns an RNNRun (loss summed over t).

        ``probe(name, tensor) -> tensor`` (models/probe.py) sees every named value
        ("x(t)", "a(t)", "h(t)", "o(t)", "L(t)") and each step's use of a parameter
        ("W(t)": the per-step copy W^(t) of the book's eqs. 10.22-10.28); the default
        changes nothing. It is how the checks read dL/dh(t) and per-step gradients.
        """
        h = Tensor(np.zeros(self.W.shape[0], dtype=self.W.dtype), name="h(0)") \
            if h0 is None else h0
        run = RNNRun(loss=None)
        loss = None
        for t in range(1, len(x) + 1):
            with scope(f"t={t}"):
                U, W, V, b, c = (probe(f"{n}({t})", p) for n, p in
                                 ((n, getattr(self, n)) for n in self.PARAMS))
                xt = probe(f"x({t})", Tensor(x[t - 1], name=f"x({t})"))
                a = probe(f"a({t})", (b + W @ h + U @ xt).named(f"a({t})"))
                h = probe(f"h({t})", a.tanh().named(f"h({t})")).retain_grad()
                o = probe(f"o({t})", (c + V @ h).named(f"o({t})")).retain_grad()
                L = probe(f"L({t})", softmax_cross_entropy(o, y[t - 1]).named(f"L({t})"))
            loss = L if loss is None else loss + L
            run.a.append(a)
            run.h.append(h)
            run.o.append(o)
            run.losses.append(L)
            with no_grad():
                run.yhat.append(o.softmax().data)
        run.loss = loss.named("L")
        return run

    def per_step_gradients(self, x, y):
        """BPTT step by step: {"h": (T, H) dL/dh(t), "W": (T, H, H) step t's contribution
        to dL/dW (the gradient on a copy W^(t) used at step t only), likewise "U" (T, H, D),
        "V" (T, C, H), "b" (T, H), "c" (T, C)}. Summed over t, a parameter's rows give its
        shared gradient (book eqs. 10.22-10.28). The model's own .grad is left alone."""
        model = GoodfellowRNN(*(Tensor(getattr(self, n).data) for n in self.PARAMS))
        offsets = {}
        for t in range(1, len(x) + 1):
            for n in self.PARAMS + ("h",):
                like = model.W.data[0] if n == "h" else getattr(model, n).data
                offsets[f"{n}({t})"] = Tensor(np.zeros_like(like), requires_grad=True)
        model.forward(x, y, probe=Probe(offsets)).loss.backward()
        return {n: np.stack([offsets[f"{n}({t})"].grad for t in range(1, len(x) + 1)])
                for n in ("h",) + self.PARAMS}

    def loss_fn(self, x, y):
        """A function of the five parameters, for gradcheck: (U, W, V, b, c) -> L."""
        def f(U, W, V, b, c):
            return GoodfellowRNN(U, W, V, b, c).forward(x, y).loss
        return f
