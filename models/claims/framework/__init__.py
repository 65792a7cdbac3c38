"""Verdicts on the sources' hand-derived BPTT formulas, computed against autodiff.

How to add a source's claims (one module, ``models/source_NNN.py``, listed in
``sources.MODULES``; it defines ``SOURCE``)::

    import numpy as np
    from autograd_mini import Tensor
    from models.verdicts import Claim, Network, Source, mm

    def build(case):                       # case.D, case.H, case.T, case.seed, ...
        rng = np.random.default_rng(case.seed)
        params = {"W": rng.normal(size=(case.H, case.H)) * 0.5, ...}
        xs = rng.normal(size=(case.T, case.D))
        def forward(p, probe):             # the source's network, as a plain loop
            s, loss = Tensor(np.zeros(case.H)), 0
            for t in range(1, case.T + 1):
                s = probe(f"s({t})", (p["U"] @ probe(f"x({t})", Tensor(xs[t-1]))
                                      + p["W"] @ s).tanh())
                ...
                loss = loss + probe(f"E({t})", E_t)
            return loss
        return Network(params, forward)

    CLAIMS = [
        Claim("(4)", "dE_t/dV = dE_t/dyhat_t * dyhat_t/dV",
              claimed=lambda b, t: ...,               # the formula, from b.v(...), b.grad(...)
              actual=lambda b, t: b.grad("V", of=f"E({t})"),
              actual_text="dE_t/dV by autodiff", steps="each",
              corrected=None, corrected_text=""),     # give both for a wrong formula
    ]
    SOURCE = Source("001", "title", "001_....txt", build, CLAIMS,
                    base=dict(M=1, D=1, C=1, T=5, seed=0),      # the source's own sizes
                    vary=dict(D=[1, 2, 3], T=[1, 2, 5, 20], seed=[1, 2]))

What a claim reads from the bench ``b`` (bench.py):
    b.v("h(3)")        a probed forward value or a parameter (ndarray)
    b.grad("h(3)")     dL/dh(3) by autodiff; ``of="E(3)"`` for a per-step loss;
                       b.grad("W(3)") is step 3's copy W^(t) when the network probes it
    b.local_jacobian(key, fn, at)   d fn(x)/dx at ``at`` by autograd_mini.jacobian
    b.derivative_along({"V": dV})   a directional derivative by autodiff
    b.case, b.T        the sizes and the length
Every autodiff value read is checked against finite differences (``b.fd_checks()``).

Rules for a claim, so that its verdict means something:
- ``claimed`` computes what the source writes, in its layout and sign, from forward values
  (and, for a recursion, from the *autodiff* value of the right-hand side: each equation is
  then judged on its own, not on the errors of the one before it).
- Write products with ``mm(("name", array), ...)``: 1-D arrays are columns and an undefined
  product raises ShapeError with both shapes (verdict ``invalid``); use ``row(v)`` for a
  row-vector source.
- Add ``Condition("targets sum to 1", lambda case, t: ...)`` to ``Source.conditions`` when
  a verdict may hinge on something the generic search (axis = value, axis <= value,
  H = C, t = tau, t = 1, up to sign, up to transpose) cannot name.

Verdicts (judge.py): holds, holds-if, wrong, invalid, degenerate; see judge.py's docstring.
Side by side (compare.py): ``compare(SOURCE, case, t)`` gives each claim's manual value,
autodiff and finite differences at one case (``autograd-mini check 000 --compare``); a
source module exposes it as ``compare(case=None, t=None)``.
"""
from .bench import Bench
from .claim import Case, Claim, Condition, Network, Source
from .judge import TOL, VERDICTS, Verdict, check_source, grid, judge
from .matrices import col, mm, row
from .sources import UnknownSource, load, resolve

__all__ = ["Bench", "Case", "Claim", "Condition", "Network", "Source", "TOL", "VERDICTS",
           "Verdict", "check_source", "grid", "judge", "col", "mm", "row", "UnknownSource",
           "load", "resolve"]
