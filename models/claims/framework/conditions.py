"""The search for the condition under which a claim agrees with autodiff.

Given the cases where a claim agrees and those where it does not, find the simplest
predicate true on every agreeing case and false on every other one. The candidates:

- the conditions the source (or the claim) names, tried first: they carry a readable
  name ("y sums to 1") and say whether the source assumes them;
- the step: t = tau, t = 1, t < tau (for a per-step claim);
- every axis of the grid: ``axis = v`` for each value tried, ``axis <= v`` for a numeric
  axis, ``axis != v`` for a kind (target, activation); ``a = b`` for two sizes;
- then every OR and every AND of two of the above.

So "D = 1 or t = 1" or "act = identity" is found from the grid alone; a source's named
condition only gives it a name and marks it as the source's assumption.
"""
from itertools import combinations

import numpy as np

from .claim import Condition

# Axes that index a run rather than size it: never part of a condition.
NOT_CONDITIONS = ("seed",)


def candidates(source, cases, with_steps, claim=None):
    """Named predicates, simplest first."""
    found = ([claim.assumption] if claim is not None and claim.assumption else [])
    found += list(source.conditions)
    if with_steps:
        found += [Condition("t = tau (the last step)", lambda c, t: t == c["T"]),
                  Condition("t = 1 (the first step)", lambda c, t: t == 1),
                  Condition("t < tau", lambda c, t: t < c["T"])]
    axes = {}
    for case in cases:
        for axis, value in case.items():
            if axis not in NOT_CONDITIONS:
                axes.setdefault(axis, set()).add(value)
    numeric = [a for a, vs in axes.items() if all(isinstance(v, int) for v in vs)]
    for axis, values in axes.items():
        if len(values) < 2:
            continue
        ordered = sorted(values, key=repr) if axis not in numeric else sorted(values)
        found += [_equals(axis, v) for v in ordered]
        if axis in numeric:
            found += [_at_most(axis, v) for v in ordered[1:-1]]
        else:
            found += [_differs(axis, v) for v in ordered]
    for a, b in combinations(sorted(numeric), 2):
        if "T" not in (a, b):
            found.append(Condition(f"{a} = {b}", lambda c, t, a=a, b=b: c[a] == c[b]))
    return found


def _equals(axis, v):
    return Condition(f"{axis} = {v}", lambda c, t: c[axis] == v)


def _differs(axis, v):
    return Condition(f"{axis} != {v}", lambda c, t: c[axis] != v)


def _at_most(axis, v):
    return Condition(f"{axis} <= {v}", lambda c, t: c[axis] <= v)


def separate(good, bad, predicates):
    """The first predicate true on all of ``good`` and false on all of ``bad`` (lists of
    (case, t)); else the first OR of two such; else the first AND of two; else None."""
    if not good or not bad:
        return None
    on_good = np.array([[p(c, t) for c, t in good] for p in predicates], dtype=bool)
    on_bad = np.array([[p(c, t) for c, t in bad] for p in predicates], dtype=bool)
    for i, p in enumerate(predicates):
        if on_good[i].all() and not on_bad[i].any():
            return p
    # OR: each part false on every bad case, together true on every good one
    pure = [i for i in range(len(predicates)) if not on_bad[i].any() and on_good[i].any()]
    for i, j in combinations(pure, 2):
        if (on_good[i] | on_good[j]).all():
            return _combine(predicates[i], predicates[j], "or")
    # AND: each part true on every good case, together false on every bad one
    wide = [i for i in range(len(predicates)) if on_good[i].all()]
    for i, j in combinations(wide, 2):
        if not (on_bad[i] & on_bad[j]).any():
            return _combine(predicates[i], predicates[j], "and")
    return None


def _combine(p, q, how):
    test = ((lambda c, t: p(c, t) or q(c, t)) if how == "or"
            else (lambda c, t: p(c, t) and q(c, t)))
    return Condition(f"{p.text} {how} {q.text}", test, p.assumption and q.assumption)
