"""check_formula: your own hand-derived formula against autodiff, judged as the sources are.

See docs/check_formula.md for a worked example (an Elman RNN with ReLU, a bias and a skip
connection from h(t-2), one right formula and one with the activation's derivative left
out).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .bench import Bench
from .claim import Case, Claim, Condition, Network, Source
from .judge import check_source
from .markdown import markdown
from .report import table


@dataclass
class FormulaCheck:
    """The verdict on one formula: ``verdict``, ``why``, ``condition``, ``max_rel_err``
    (where it agrees), ``max_rel_err_outside`` (where it does not), ``counterexample``,
    ``corrected``; ``str()`` is the table of ``autograd-mini check``, ``markdown()`` its
    Markdown report, ``record()`` its JSON record, ``report`` the whole SourceReport
    (with autodiff's own check against finite differences: ``report.fd_ok``)."""
    report: object

    @property
    def result(self):
        return self.report.verdicts[0]

    def __getattr__(self, name: str) -> Any:
        if name in ("verdict", "why", "condition", "max_rel_err", "max_rel_err_outside",
                    "counterexample", "corrected", "corrected_ok", "cases"):
            return getattr(self.result, name)
        raise AttributeError(name)

    def record(self) -> dict[str, Any]:
        return self.result.record()

    def markdown(self) -> str:
        return markdown(self.report, title=f"Your formula: {self.result.claim.label}")

    def __str__(self) -> str:
        return table(self.report, width_scale=1.0)


def check_formula(network: Callable[[Case], Network | tuple[Any, ...]],
                  formula: Callable[[Bench, int], Any],
                  quantity: str | Callable[[Bench, int], Any],
                  cases: Mapping[str, Iterable[Any]], *,
                  steps: Literal["each", "last", "first", "before-last"] | None = None,
                  conditions: Iterable[Condition | tuple[Any, ...]] = (),
                  label: str = "my formula", statement: str = "",
                  quantity_text: str | None = None,
                  corrected: Callable[[Bench, int], Any] | None = None,
                  corrected_text: str = "", why: str = "",
                  random_cases: int = 10) -> FormulaCheck:
    """Judge ``formula`` against autodiff on a grid of cases, as ``autograd-mini check``
    judges a source's claims.

    network   ``network(case) -> Network(params, forward, data)``: your network at one case
              (``case.H``, ``case.T``, ``case.seed``, ... whatever axes ``cases`` names),
              ``forward(params, probe)`` an ordinary loop that returns the scalar loss and
              calls ``probe(name, tensor)`` on every value your formula reads.
    formula   ``formula(b, t) -> array``: your formula from the bench ``b`` (``b.v("h(3)")``
              forward values and parameters, ``b.data``, ``b.case``, ``b.T``).
    quantity  what autodiff should give: a name whose gradient it is ("W", or "h({t})" with
              the step filled in), or a function ``(b, t) -> array``.
    cases     axis -> values, e.g. ``{"H": [3, 1, 2], "T": [4, 1, 2], "seed": [0, 1]}``;
              the first value of each axis makes the base case, each axis is varied
              alone, then ``random_cases`` random combinations and the smallest case.
    steps     None (a whole-sequence quantity), "each", "last", "first", "before-last".
    conditions  ``Condition(text, test, assumption=True)`` for the conditions your formula
              is meant to need (e.g. one-hot targets): agreeing exactly there is
              ``holds-if``; anything else that fails is ``wrong``.
    corrected, corrected_text  a formula you believe right, checked on the same cases.

    Returns a FormulaCheck (verdict, why, errors inside and outside the condition,
    counter-example, corrected form; prints as the table, ``.markdown()`` the report).
    """
    if isinstance(quantity, str):
        name = quantity
        actual = (lambda b, t: b.grad(name.format(t=t)))
        quantity_text = quantity_text or f"dL/d{name} by autodiff"
    else:
        actual = quantity
        quantity_text = quantity_text or "the quantity by autodiff"
    if not cases or any(not list(v) for v in cases.values()):
        raise ValueError(f"check_formula: cases={cases!r}: give each axis a non-empty list "
                         "of values, e.g. {'H': [3, 1], 'T': [4, 1], 'seed': [0, 1]}")
    claim = Claim(label, statement or label, formula, actual, quantity_text, steps=steps,
                  corrected=corrected, corrected_text=corrected_text, why=why)
    base = {axis: list(values)[0] for axis, values in cases.items()}
    vary = {axis: list(values)[1:] for axis, values in cases.items()}
    conds = [c if isinstance(c, Condition) else Condition(*c) for c in conditions]
    source = Source("yours", label, None, _build(network), [claim], base, vary,
                    conditions=conds, random_cases=random_cases)
    return FormulaCheck(check_source(source))


def _build(network):
    def build(case):
        net = network(case)
        return net if isinstance(net, Network) else Network(*net)
    return build
