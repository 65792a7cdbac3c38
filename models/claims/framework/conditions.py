"""The search for the condition under which a claim holds.

Given the cases where a claim agrees with autodiff and those where it does not, find the
simplest named predicate that is true on every agreeing case and false on every failing
one: "H = 1", "t = tau", "targets sum to 1", "H = C", or a conjunction of two. The
candidates come from the grid itself (every axis and value that was tried), from the
step t, and from the source's own named conditions, which are tried first.
"""
from itertools import combinations

from .claim import Condition

# Axes that index a run rather than size it: never part of a condition.
NOT_CONDITIONS = ("seed",)


def candidates(source, cases, with_steps):
    """Named predicates, simplest first."""
    found = list(source.conditions)
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
        for v in ordered:
            found.append(_equals(axis, v))
        if axis in numeric:
            for v in ordered[1:-1]:
                found.append(_at_most(axis, v))
        else:
            for v in ordered:
                found.append(_differs(axis, v))
    for a, b in combinations(sorted(numeric), 2):
        if a != "T" and b != "T":
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
    (case, t)); else the first such conjunction of two; else None."""
    if not good or not bad:
        return None
    for p in predicates:
        if all(p(c, t) for c, t in good) and not any(p(c, t) for c, t in bad):
            return p
    useful = [p for p in predicates if all(p(c, t) for c, t in good)]
    for p, q in combinations(useful, 2):
        if not any(p(c, t) and q(c, t) for c, t in bad):
            return Condition(f"{p.text} and {q.text}",
                             lambda c, t, p=p, q=q: p(c, t) and q(c, t))
    return None
