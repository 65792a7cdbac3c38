"""Verdicts on hand-derived BPTT formulas, computed against autodiff.

The contract of a source: one module ``models/claims/source_NNN.py`` (listed in
``sources.MODULES``) that defines one name, ``SOURCE``, a ``Source`` holding everything::

    import numpy as np
    from autograd_mini import Tensor
    from .framework import Claim, Condition, Network, Source, View, mm

    def build(case):                       # case.D, case.T, case.seed, ... (the source's axes)
        rng = np.random.default_rng(case.seed)
        params = {"W": rng.normal(size=(case.D, case.D)) * 0.5, ...}
        def forward(p, probe):             # the source's network, as a plain loop
            ...
                s = probe(f"s({t})", (p["U"] @ x + p["W"] @ s).tanh())
                loss = loss + probe(f"L({t})", L_t)
            return loss
        return Network(params, forward)

    def view_states(b):                    # a per-step view: arrays, one per step
        steps = range(1, b.T + 1)
        return View("gradient on each state", list(steps),
                    {"dL/ds_t": [b.grad(f"s({t})") for t in steps]})

    CLAIMS = [
        Claim("(54)", "dL_t/dV = (yhat_t - y_t) s_t^T",
              claimed=lambda b, t: ...,               # the formula, from b.v(...), b.grad(...)
              actual=lambda b, t: b.grad("V", of=f"L({t})"),
              actual_text="dL_t/dV by autodiff", steps="each",
              line=206, key=r"(\\hat{y}_t - y_t) s_t^{\\top}",   # where the source says it
              tex=r"\\frac{\\partial L_t}{\\partial V} = (\\hat{y}_t - y_t) s_t^{\\top}",
              corrected=..., corrected_text="...",   # both, for a formula that may fail
              why="..."),                            # the kind of error, if the judge
    ]                                                # cannot name it (order, missing factor)
    SOURCE = Source("001", "title", "001_....txt", build, CLAIMS,
                    citation="Author, Title (where, year)",
                    base=dict(M=3, D=4, C=3, T=5, seed=0),    # axes in the source's notation
                    vary=dict(D=[1, 2, 3], T=[1, 2, 5, 20], seed=[1, 2]),
                    hidden="D", notation={"D": "hidden size"},
                    conditions=[Condition("y_t sums to 1", test, assumption=True)],
                    views=[view_states])

The loader (sources.py) gives every source the same Python API: ``load(name)``,
``compare(name, case, t)`` (formula, autodiff, corrected form, finite differences side by
side) and ``per_step(name, case)`` (the views' arrays). ``check_formula`` (formula.py)
runs the same machinery on a user's own network and formula.

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
  product raises ShapeError with both shapes (verdict ``invalid``); ``row(v)`` for rows.
- One record per statement, in the source's words; a composition of two statements (the
  notes' final result built from two equations) says so in its label.

Verdicts (judge.py): holds, holds-if, wrong, invalid, degenerate; the condition search
(conditions.py) tries the named conditions, then single axis conditions, then ORs and ANDs
of two.
"""
from .bench import Bench
from .claim import Case, Claim, Condition, Network, Source, View, cite
from .judge import TOL, VERDICTS, Verdict, check_source, grid, judge
from .matrices import col, mm, row
from .sources import UnknownSource, compare, load, per_step, resolve

__all__ = ["Bench", "Case", "Claim", "Condition", "Network", "Source", "View", "cite", "TOL",
           "VERDICTS", "Verdict", "check_source", "grid", "judge", "col", "mm", "row",
           "UnknownSource", "compare", "load", "per_step", "resolve"]
