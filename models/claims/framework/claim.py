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
        numbers = [v for k, v in self._values.items()
                   if k != "seed" and isinstance(v, (int, np.integer))]
        return (sum(numbers), self._values.get("T", 0), self._values.get("seed", 0),
                self._key)

    def __str__(self):
        return " ".join(f"{k}={v}" for k, v in self._values.items())

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
class Claim:
    """One statement of a source, implemented as the source writes it.

    label      the source's equation number ("(63)", "10.21") or a short quote.
    statement  the formula or sentence as the source states it.
    claimed    ``claimed(b, t) -> array``: the source's formula, computed from the forward
               values on the bench ``b`` (``b.v("h(3)")``, ``b.grad("o(3)")``, ...), in the
               source's own layout and sign. ``t`` is the step (None for ``steps=None``).
    actual     ``actual(b, t) -> array``: the autodiff quantity the claim says it equals
               (``b.grad("h(3)")``, ``b.grad("W")``, ``b.local_jacobian(...)``).
    actual_text  that quantity in words, e.g. "dL/dh(t) by autodiff".
    steps      None, "each", "last", "first" or "before-last" (see STEPS).
    corrected, corrected_text  for a claim that may fail: the right formula, itself
               checked on the same cases (it must hold).
    where      where the source states it: "question", "answer", "comment", "section 2".
    note       what a reader should know (e.g. the source's typo that the next line fixes).
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

    def __post_init__(self):
        if self.steps not in STEPS:
            raise ValueError(f"Claim {self.label!r}: steps={self.steps!r}, expected one of "
                             f"{list(STEPS)}")
        if (self.corrected is None) != (not self.corrected_text):
            raise ValueError(f"Claim {self.label!r}: give both corrected and corrected_text, "
                             "or neither")


@dataclass
class Condition:
    """A named predicate on (case, t), e.g. ``Condition("H = 1", lambda c, t: c.H == 1)``."""
    text: str
    test: Callable

    def __call__(self, case, t):
        return bool(self.test(case, t))


@dataclass
class Source:
    """A document in shared/sources: its network, its claims and the grid to try them on.

    base    the source's own sizes and a length, e.g. dict(D=4, H=5, C=3, T=5, seed=0).
    vary    axis -> the other values to try, e.g. dict(H=[1, 2], T=[1, 2, 5, 20]).
            The grid is the base, each axis varied alone, and ``random_cases`` random
            combinations (so a condition like "H = 1" is not confounded with the base).
    build   ``build(case) -> Network``.
    conditions  extra named predicates for the condition search (e.g. "targets sum to 1"),
            tried before the generic ones (axis = value, axis <= value, t = tau, ...).
    views   per-step views: ``view(b) -> (title, header, rows)``, printed by the CLI.
    """
    id: str
    title: str
    file: str
    build: Callable
    claims: list
    base: dict
    vary: dict = field(default_factory=dict)
    conditions: list = field(default_factory=list)
    views: list = field(default_factory=list)
    random_cases: int = 10
    summary: str = ""
