"""Verdicts, computed: each claim against autodiff on every case of the grid.

    holds       agrees everywhere, to TOL relative to the largest entry of the autodiff
                value, in float64;
    holds-if    agrees exactly on the cases where a condition found by the search holds
                (conditions.py), or only up to sign or transpose;
    wrong       no condition found: the smallest counter-example is reported, and the
                claim's corrected formula is checked on the same cases;
    invalid     a product undefined as written (a ShapeError names the shapes), or a
                result whose shape cannot be the quantity's;
    degenerate  autodiff gives (numerically) zero in every case, so any formula would
                "agree": the check is meaningless. Cases where the autodiff value is
                negligible never count as agreement, for any verdict.
"""
from dataclasses import dataclass, field

import numpy as np

from autograd_mini.errors import ShapeError

from .bench import Bench
from .claim import STEPS, Case
from .conditions import candidates, separate

TOL = 1e-9            # agreement: max |claimed - autodiff| <= TOL * max |autodiff|
NEGLIGIBLE = 1e-12    # an autodiff value below this everywhere cannot confirm anything
VERDICTS = ("holds", "holds-if", "wrong", "invalid", "degenerate")


# ---------------------------------------------------------------------- the grid
def grid(source, restrict=None):
    """The cases to try: the source's base case, each axis varied alone, a few random
    combinations, and the smallest case. ``restrict``: axis -> values (from the CLI's
    --steps/--hidden/--seed) replaces that axis's values."""
    base = dict(source.base)
    axes = {k: _unique([v] + list(source.vary.get(k, []))) for k, v in base.items()}
    for axis, values in (restrict or {}).items():
        if values:
            if axis not in axes:
                raise ValueError(f"source {source.id} has no axis {axis!r} "
                                 f"(its axes: {', '.join(axes)})")
            axes[axis] = _unique(list(values))
            base[axis] = axes[axis][0]
    first = Case(**base)
    cases = [first]
    for axis, values in axes.items():
        cases += [first.replace(**{axis: v}) for v in values]
    rng = np.random.default_rng(2016)
    for _ in range(source.random_cases):
        cases.append(Case(**{k: vs[int(rng.integers(len(vs)))] for k, vs in axes.items()}))
    cases.append(Case(**{k: min(vs) if all(isinstance(v, int) for v in vs) else vs[0]
                         for k, vs in axes.items()}))
    return _unique(cases)


def _unique(items):
    return list(dict.fromkeys(items))


# ---------------------------------------------------------------------- one comparison
@dataclass
class Observation:
    """A claim at one case and step: the two values and how they compare."""
    case: Case
    t: int | None
    claimed: np.ndarray | None = None
    actual: np.ndarray | None = None
    rel: float = np.inf          # max |claimed - actual| / max |actual|
    rel_neg: float = np.inf      # the same for -claimed (a sign error)
    rel_T: float = np.inf        # the same for claimed transposed (the other layout)
    error: str | None = None     # the ShapeError, when the formula is undefined
    informative: bool = True     # False when the autodiff value is negligible

    @property
    def where(self):
        return (self.case, self.t)


def observe(formula, actual_fn, b, t):
    """Evaluate ``formula`` against ``actual_fn`` on bench ``b`` at step ``t``."""
    o = Observation(b.case, t)
    a = np.asarray(actual_fn(b, t), dtype=np.float64)
    o.actual = a
    o.informative = bool(a.size) and float(np.max(np.abs(a))) > NEGLIGIBLE
    try:
        c = np.asarray(formula(b, t), dtype=np.float64)
    except ShapeError as e:
        o.error = str(e)
        return o
    except ValueError as e:     # NumPy's own shape complaint, from a bare @ in a claim
        if "shape" not in str(e) and "dimension" not in str(e):
            raise
        o.error = f"undefined product as written: {e}"
        return o
    if c.shape != a.shape and c.size == a.size and c.squeeze().shape == a.squeeze().shape:
        c = c.reshape(a.shape)          # a column or row vector of the same numbers
    o.claimed = c
    if c.ndim == 2 and c.T.shape == a.shape:
        o.rel_T = _rel(c.T, a)
    if c.shape != a.shape:
        if o.rel_T == np.inf:
            o.error = (f"the formula gives shape {c.shape}, but the quantity it claims to "
                       f"equal has shape {a.shape}")
        return o
    o.rel = _rel(c, a)
    o.rel_neg = _rel(-c, a)
    return o


def _rel(c, a):
    diff = float(np.max(np.abs(c - a))) if a.size else 0.0
    scale = float(np.max(np.abs(a))) if a.size else 0.0
    if not np.isfinite(diff):
        return np.inf
    if scale == 0:
        return 0.0 if diff == 0 else np.inf
    return diff / scale


# ---------------------------------------------------------------------- the verdict
@dataclass
class Verdict:
    """A claim's computed verdict and the evidence for it."""
    source: str
    claim: object
    verdict: str
    condition: str | None = None
    max_rel_err: float | None = None
    counterexample: dict | None = None
    corrected: str | None = None
    corrected_ok: bool = True
    cases: int = 0
    uninformative: int = 0
    observations: list = field(default_factory=list, repr=False)

    def record(self):
        """The JSON record (keys fixed by the CLI's contract, plus a few extras)."""
        return {"source": self.source, "claim": self.claim.label,
                "statement": self.claim.statement, "verdict": self.verdict,
                "condition": self.condition, "max_rel_err": self.max_rel_err,
                "counterexample": self.counterexample, "corrected": self.corrected,
                "where": self.claim.where, "compared_with": self.claim.actual_text,
                "checked": self.cases, "uninformative": self.uninformative}


def judge(source, claim, benches):
    """The verdict of ``claim`` over ``benches`` (one per case of the grid)."""
    obs = [observe(claim.claimed, claim.actual, b, t)
           for b in benches for t in STEPS[claim.steps](b.T)]
    v = Verdict(source.id, claim, "holds", cases=len(obs), observations=obs,
                uninformative=sum(not o.informative for o in obs))
    if claim.corrected is not None:
        v.corrected, v.corrected_ok = _check_corrected(claim, benches)
    errors = [o for o in obs if o.error]
    useful = [o for o in obs if o.informative and not o.error]
    if errors:
        _invalid(v, source, claim, obs, errors)
    elif not useful:
        worst = max((float(np.max(np.abs(o.actual))) for o in obs if o.actual.size),
                    default=0.0)
        v.verdict = "degenerate"
        v.condition = (f"autodiff gives {claim.actual_text} = 0 in every case checked "
                       f"(largest |entry| {worst:.1e}): the network as written makes this "
                       "check meaningless, any formula would 'agree'")
    else:
        _judge_values(v, source, claim, useful)
    return v


def _judge_values(v, source, claim, useful):
    agree = [o for o in useful if o.rel <= TOL]
    fail = [o for o in useful if o.rel > TOL]
    if not fail:
        v.max_rel_err = max(o.rel for o in useful)
        return
    smallest = min(fail, key=_size)
    v.counterexample = _example(smallest)
    cond = separate([o.where for o in agree], [o.where for o in fail],
                    candidates(source, [o.case for o in useful], claim.steps is not None))
    if cond is not None:
        v.verdict = "holds-if"
        v.condition = (f"only when {cond.text}: agrees in all {len(agree)} such case(s), "
                       f"differs in all {len(fail)} other(s)")
        v.max_rel_err = max(o.rel for o in agree)
        return
    for attr, text in (("rel_neg", "only up to sign: the formula gives exactly -1 times "
                                   "the true value"),
                       ("rel_T", "only up to transpose: the formula gives the true value in "
                                 "the other layout")):
        if all(getattr(o, attr) <= TOL for o in fail):
            v.verdict = "holds-if"
            where = f" wherever it fails ({len(fail)} of {len(useful)} cases)" if agree else \
                f" (in all {len(useful)} cases)"
            v.condition = text + where
            v.max_rel_err = max(getattr(o, attr) for o in fail)
            return
    # A sign (or layout) error that is also conditional, e.g. yhat - y for the gradient of
    # +sum y log yhat: exactly the negative for one-hot targets, unrelated for counts.
    for attr, text, seen in (("rel_neg", "only up to sign", "exactly -1 times the true value"),
                             ("rel_T", "only up to transpose", "the true value transposed")):
        matched = [o for o in fail if getattr(o, attr) <= TOL]
        if not matched:
            continue
        rest = [o for o in fail if getattr(o, attr) > TOL]
        cond = separate([o.where for o in agree + matched], [o.where for o in rest],
                        candidates(source, [o.case for o in useful], claim.steps is not None))
        if cond is not None:
            v.verdict = "holds-if"
            such = (f"in all {len(matched)} such case(s)" if not agree else
                    f"in {len(matched)} and equal to it in {len(agree)} of the "
                    f"{len(matched) + len(agree)} such case(s)")
            v.condition = (f"{text}, and only when {cond.text}: {seen} {such}, unrelated to "
                           f"it in the {len(rest)} other(s)")
            v.max_rel_err = max([o.rel for o in agree] + [getattr(o, attr) for o in matched])
            return
    v.verdict = "wrong"
    v.max_rel_err = max(o.rel for o in useful)
    v.condition = f"differs in {len(fail)} of {len(useful)} cases; no condition found"


def _invalid(v, source, claim, obs, errors):
    v.verdict = "invalid"
    first = min(errors, key=_size)
    at_base = [o for o in errors if o.case == obs[0].case]    # the source's own sizes
    shown = at_base[0] if at_base else first
    v.condition = f"undefined as written at {shown.case}: {shown.error}"
    v.counterexample = {"case": dict(first.case), "t": first.t, "error": first.error,
                        "text": f"{first.case}" + (f", t={first.t}" if first.t else "") +
                                f": {first.error}"}
    defined = [o for o in obs if not o.error]
    cond = separate([o.where for o in defined], [o.where for o in errors],
                    candidates(source, [o.case for o in obs], claim.steps is not None))
    if cond is not None and defined:
        useful = [o for o in defined if o.informative]
        agrees = useful and all(o.rel <= TOL for o in useful)
        worst = f" (max rel err {max(o.rel for o in useful):.1e})" if useful else ""
        v.condition += (f"; defined only when {cond.text}, and there it "
                        f"{'agrees with' if agrees else 'still differs from'} {claim.actual_text}"
                        f"{worst}")


def _check_corrected(claim, benches):
    obs = [observe(claim.corrected, claim.actual, b, t)
           for b in benches for t in STEPS[claim.steps](b.T)]
    useful = [o for o in obs if o.informative and not o.error]
    bad = [o for o in obs if o.error or (o.informative and o.rel > TOL)]
    if not bad and useful:
        worst = max(o.rel for o in useful)
        return f"{claim.corrected_text}  [checked: holds, max rel err {worst:.1e}]", True
    if not bad:         # every case uninformative: a zero gradient confirms no formula
        return (f"{claim.corrected_text}  [checked: cannot be confirmed, autodiff gives 0 in "
                "every case]"), False
    why = bad[0].error or f"rel err {bad[0].rel:.1e} at {bad[0].case}"
    return f"{claim.corrected_text}  [checked: DOES NOT HOLD ({why})]", False


def _size(o):
    return (o.case.size(), o.t or 0)


def _example(o):
    """The counter-example record: the case, the step and the two values."""
    text = f"{o.case}" + (f", t={o.t}" if o.t is not None else "") + ": "
    c, a = o.claimed, o.actual
    if a.size <= 4:
        text += f"formula {_fmt(c)} vs autodiff {_fmt(a)}"
    else:
        k = np.unravel_index(int(np.argmax(np.abs(c - a))), a.shape)
        text += (f"entry {list(map(int, k))}: formula {c[k]:.6g} vs autodiff {a[k]:.6g} "
                 f"(max rel err {o.rel:.2g})")
    return {"case": dict(o.case), "t": o.t, "claimed": c.tolist(), "autodiff": a.tolist(),
            "text": text}


def _fmt(a):
    a = np.asarray(a)
    if a.ndim == 0:
        return f"{float(a):.6g}"
    return np.array2string(a, precision=5, separator=", ", suppress_small=False)


# ---------------------------------------------------------------------- a whole source
@dataclass
class SourceReport:
    """Every claim of one source judged on one grid, and autodiff's own check."""
    source: object
    cases: list
    verdicts: list
    fd_checks: list
    benches: list

    @property
    def fd_ok(self):
        return all(c.ok for c in self.fd_checks)

    @property
    def fd_worst(self):
        return max((c.rel_err for c in self.fd_checks), default=0.0)

    def counts(self):
        out = dict.fromkeys(VERDICTS, 0)
        for v in self.verdicts:
            out[v.verdict] += 1
        return out


def check_source(source, restrict=None, claims=None):
    """Judge every claim of ``source`` (or those whose label is in ``claims``)."""
    cases = grid(source, restrict)
    benches = [Bench(source.build(c), c, seed=i) for i, c in enumerate(cases)]
    chosen = [c for c in source.claims if claims is None or c.label in claims]
    verdicts = [judge(source, c, benches) for c in chosen]
    checks = [check for b in benches for check in b.fd_checks()]
    return SourceReport(source, cases, verdicts, checks, benches)
