"""The records a source's module fills in: its network, its claims, the grid to try.

Nothing here computes a verdict; ``judge.py`` does, from these records alone.
"""
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

# Steps at which a per-step claim is evaluated, given the sequence length T (t = 1..T).
STEPS = {
    None: lambda T: [None],                       # a whole-sequence quantity (e.g. dL/dW)
    "each": lambda T: list(range(1, T + 1)),
    "last": lambda T: [T],                        # the source's t = tau
    "first": lambda T: [1],
    "before-last": lambda T: list(range(1, T)),   # t < tau (a recursion from t + 1)
}


class Case(Mapping):
    """One point of the grid: axis -> value, e.g. D=4 H=5 C=3 T=5 seed=0 target=one-hot.

    Read as ``case["H"]`` or ``case.H``. Hashable, so benches can be cached per case.
    """

    __slots__ = ("_values", "_key")

    def __init__(self, **values):
        self._values = dict(values)
        self._key = tuple(sorted((k, repr(v)) for k, v in values.items()))

    def __getitem__(self, axis):
        return self._values[axis]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def __hash__(self):
        return hash(self._key)

    def __eq__(self, other):
        return isinstance(other, Case) and self._key == other._key

    def __getattr__(self, axis):
        try:
            return self._values[axis]
        except KeyError:
            raise AttributeError(axis) from None

    def replace(self, **changes):
        return Case(**{**self._values, **changes})

    def size(self):
        """Sort key for 'smallest': the sum of the numeric sizes (seed last, as a tie-break)."""
        return (self.magnitude(), self._values.get("T", 0), self._values.get("seed", 0),
                self._key)

    def magnitude(self):
        """The sum of the numeric sizes, seed left out: two cases that differ only in their
        seed (or a kind of target) are equally small."""
        return sum(v for k, v in self._values.items()
                   if k != "seed" and isinstance(v, (int, np.integer)))

    def text(self, axes=None):
        """``D=2 T=3 seed=0``: the axes named in ``axes`` (default all), in the case's order."""
        return " ".join(f"{k}={v}" for k, v in self._values.items()
                        if axes is None or k in axes)

    def __str__(self):
        return self.text()

    __repr__ = __str__


@dataclass
class Network:
    """A source's network at one case, written as an ordinary loop.

    ``params``: name -> array (the shared parameters, float64).
    ``forward(params, probe)``: params as Tensors -> the scalar loss Tensor; it calls
    ``probe(name, tensor)`` on every value a claim refers to (see models/probe.py).
    ``data``: anything else a claim needs that is not a float value (e.g. class labels).
    """
    params: dict
    forward: Callable
    data: dict = field(default_factory=dict)


@dataclass
class Condition:
    """A named predicate on (case, t), e.g. ``Condition("H = 1", lambda c, t: c.H == 1)``.

    ``assumption=True``: the source states (or its setting implies) this condition, e.g.
    "y sums to 1" for a source whose targets are one-hot. A formula that agrees exactly
    where an assumption holds is ``holds-if``; one that agrees only where a mere size or
    step makes its error vanish ("D = 1", "t = 1") is ``wrong``.
    """
    text: str
    test: Callable
    assumption: bool = False

    def __call__(self, case, t):
        return bool(self.test(case, t))


@dataclass
class Claim:
    """One statement of a source, implemented as the source writes it.

    label      the source's equation number ("(63)", "10.21") or a short quote.
    statement  the formula or sentence as the source states it (plain text).
    claimed    ``claimed(b, t) -> array``: the source's formula, computed from the forward
               values on the bench ``b`` (``b.v("h(3)")``, ``b.grad("o(3)")``, ...), in the
               source's own layout and sign. ``t`` is the step (None for ``steps=None``).
    actual     ``actual(b, t) -> array``: the autodiff quantity the claim says it equals.
    actual_text  that quantity in words, e.g. "dL/dh(t) by autodiff".
    steps      None, "each", "last", "first" or "before-last" (see STEPS).
    corrected, corrected_text  for a claim that may fail: the right formula, itself
               checked on the same cases (it must hold).
    where      where the source states it: "question", "answer", "section 2".
    note       what a reader should know (e.g. the source's typo that the next line fixes).
    line, key  the line of the source's text where the statement is (1-based), and a
               piece of that line (its key symbol) that the tests find there.
    tex        the statement in LaTeX, in the source's own notation.
    why        the kind of error in plain words, when the claim fails for a reason the
               judge cannot name by itself ("order: ...", "missing factor: ..."); the
               judge names sign, transpose and constant-factor errors itself.
    axes       the axes the claim depends on (None: all of the source's), so a
               counter-example prints only those.
    assumption a Condition the source states for this claim alone (e.g. "t = tau").
    """
    label: str
    statement: str
    claimed: Callable
    actual: Callable
    actual_text: str
    steps: Any = None
    corrected: Callable | None = None
    corrected_text: str = ""
    where: str = ""
    note: str = ""
    line: int | None = None
    key: str = ""
    tex: str = ""
    why: str = ""
    axes: tuple | None = None
    assumption: Condition | None = None

    def __post_init__(self):
        if self.steps not in STEPS:
            raise ValueError(f"Claim {self.label!r}: steps={self.steps!r}, expected one of "
                             f"{list(STEPS)}")
        if (self.corrected is None) != (not self.corrected_text):
            raise ValueError(f"Claim {self.label!r}: give both corrected and corrected_text, "
                             "or neither")


@dataclass
class View:
    """A per-step view: ``columns`` name -> one array per step of ``steps``; ``totals``
    column -> (name, the shared quantity the steps should sum to), e.g.
    ``{"dL/dW^(t)": ("dL/dW", dL/dW)}``. Printed as a table of norms (values for
    scalars) with a "sum" row and a "|sum - total|" row; ``per_step()`` returns the arrays.
    """
    title: str
    steps: list
    columns: dict
    totals: dict = field(default_factory=dict)

    def arrays(self):
        out = {name: list(values) for name, values in self.columns.items()}
        out.update({name: total for name, total in self.totals.values()})
        return out


@dataclass
class Source:
    """A document, its network, its claims and the grid to try them on.

    id, title   "001", the document's title.
    citation    how a reader finds the document: title, author, where published.
    file        the name of the document's text (for source_line), or None.
    base        the source's own sizes and a length, e.g. dict(D=4, H=5, C=3, T=5, seed=0),
                with the axes named as the source names them.
    vary        axis -> the other values to try, e.g. dict(H=[1, 2], T=[1, 2, 5, 20]).
                The grid is the base, each axis varied alone, and ``random_cases`` random
                combinations, and the smallest case.
    notation    axis -> what it is in the source's words (shown by ``check --help``).
    hidden      the axis that is the hidden size (``--hidden``), or None.
    build       ``build(case) -> Network``.
    conditions  named predicates for the condition search, tried before the generic ones;
                those with ``assumption=True`` are the source's own assumptions.
    views       per-step views: ``view(bench) -> View``.
    max_steps   the longest sequence the command line accepts (the cost of some claims
                grows faster than T).
    """
    id: str
    title: str
    file: str | None
    build: Callable
    claims: list
    base: dict
    vary: dict = field(default_factory=dict)
    citation: str = ""
    notation: dict = field(default_factory=dict)
    hidden: str | None = None
    conditions: list = field(default_factory=list)
    views: list = field(default_factory=list)
    random_cases: int = 10
    max_steps: int = 200
    summary: str = ""

    def axes_of(self, claim):
        """The axes a claim's counter-example names: its own, or all of the source's."""
        return tuple(a for a in self.base if claim.axes is None or a in claim.axes)


def cite(claims, places):
    """Attach to each claim where the source states it: ``places[label] = (line, key, tex)``
    (the line of the source's text, a piece of that line, the statement in LaTeX). Every
    claim must have an entry, so a new claim cannot go out without its place."""
    missing = [c.label for c in claims if c.label not in places]
    extra = [label for label in places if label not in {c.label for c in claims}]
    if missing or extra:
        raise ValueError(f"cite: claims without a place {missing}, places without a claim "
                         f"{extra}")
    for c in claims:
        c.line, c.key, c.tex = places[c.label]
