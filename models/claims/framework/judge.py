"""Verdicts, computed: each claim against autodiff on every case of the grid.

    holds       agrees everywhere, to TOL relative to the largest entry of the autodiff
                value, in float64;
    holds-if    agrees exactly where an assumption of the source holds ("y sums to 1",
                "t = tau") and differs everywhere else;
    wrong       an error: a sign, a transpose, a constant factor (named by the judge),
                an order of factors or a missing factor (named by the claim's ``why``), or
                no condition at all. When the error vanishes in special cases ("D = 1",
                "t = 1") those are named as where it agrees, not as an excuse;
    invalid     a product undefined as written (a ShapeError names the shapes), or a
                result whose shape cannot be the quantity's;
    degenerate  autodiff gives (numerically) zero in every case, so any formula would
                "agree": the check is meaningless. Cases where the autodiff value is
                negligible never count as agreement, for any verdict.

Every verdict other than ``holds`` carries a one-line ``why``. ``max_rel_err`` is the
error where the condition holds (everywhere when there is none); ``max_rel_err_outside``
the error where it fails.
"""
from dataclasses import dataclass, field

import numpy as np

from autograd_mini.errors import ShapeError

from .bench import Bench
from .claim import STEPS, Case
from .conditions import candidates, separate
from .report import reproduce

TOL = 1e-9            # agreement: max |claimed - autodiff| <= TOL * max |autodiff|
NEGLIGIBLE = 1e-12    # an autodiff value below this everywhere cannot confirm anything
VERDICTS = ("holds", "holds-if", "wrong", "invalid", "degenerate")


# ---------------------------------------------------------------------- the grid
def grid(source, restrict=None):
    """The cases to try: the source's base case, each axis varied alone, a few random
    combinations, and the smallest case. ``restrict``: axis -> values replaces that
    axis's values (checked by ``check_values``)."""
    base = dict(source.base)
    axes = {k: _unique([v] + list(source.vary.get(k, []))) for k, v in base.items()}
    for axis, values in (restrict or {}).items():
        if values:
            check_values(source, axis, values)
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


def check_values(source, axis, values):
    """ValueError naming the axis, the value and what is expected, for a value the
    source's network cannot take."""
    if axis not in source.base:
        raise ValueError(f"source {source.id} has no axis {axis!r} (its axes: "
                         f"{', '.join(source.base)})")
    known = _unique([source.base[axis]] + list(source.vary.get(axis, [])))
    for v in values:
        if isinstance(source.base[axis], str) or 0 in known and axis != "seed":
            if v not in known:
                raise ValueError(f"{axis}={v!r}: expected one of "
                                 f"{', '.join(map(str, known))}")
            continue
        low = 0 if axis == "seed" else 1
        if not isinstance(v, (int, np.integer)) or v < low:
            what = "a seed" if axis == "seed" else ("a sequence length" if axis == "T"
                                                  else "a size")
            raise ValueError(f"{axis}={v!r} is not {what}: expected an integer >= {low}")
        if axis == "T" and v > source.max_steps:
            raise ValueError(f"T={v}: source {source.id} checks at most {source.max_steps} "
                             "steps (every claim is evaluated at every step of every case, "
                             "some by sums over earlier steps, so the cost grows faster "
                             "than T)")


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
    factor: float | None = None  # k with claimed = k * actual, when one fits
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
        o.rel_T = rel_err(c.T, a)
    if c.shape != a.shape:
        if o.rel_T == np.inf:
            o.error = (f"the formula gives shape {c.shape}, but the quantity it claims to "
                       f"equal has shape {a.shape}")
        return o
    o.rel = rel_err(c, a)
    o.rel_neg = rel_err(-c, a)
    aa = float(np.sum(a * a))
    if aa > 0:
        k = float(np.sum(c * a)) / aa
        if k != 0 and rel_err(c, k * a) <= TOL:
            o.factor = k
    return o


def rel_err(c, a):
    """max |c - a| / max |a| (0 for two zeros, inf for a nonzero c against a zero a)."""
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
    source: object
    claim: object
    verdict: str
    condition: str | None = None
    why: str | None = None
    max_rel_err: float | None = None
    max_rel_err_outside: float | None = None
    counterexample: dict | None = None
    corrected: str | None = None
    corrected_ok: bool = True
    cases: int = 0
    uninformative: int = 0
    split: bool = False         # the errors are split by a condition (inside / outside)
    observations: list = field(default_factory=list, repr=False)

    def record(self):
        """The JSON record (keys fixed by the CLI's contract, plus a few extras)."""
        c = self.claim
        return {"source": self.source.id, "claim": c.label, "statement": c.statement,
                "verdict": self.verdict, "condition": self.condition, "why": self.why,
                "max_rel_err": self.max_rel_err,
                "max_rel_err_outside": self.max_rel_err_outside,
                "counterexample": self.counterexample, "corrected": self.corrected,
                "source_line": c.line, "formula_tex": c.tex,
                "reproduce": reproduce(self), "where": c.where,
                "compared_with": c.actual_text, "checked": self.cases,
                "uninformative": self.uninformative}


def judge(source, claim, benches):
    """The verdict of ``claim`` over ``benches`` (one per case of the grid)."""
    obs = [observe(claim.claimed, claim.actual, b, t)
           for b in benches for t in STEPS[claim.steps](b.T)]
    v = Verdict(source, claim, "holds", cases=len(obs), observations=obs,
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
                       f"(largest |entry| {worst:.1e})")
        v.why = claim.why or ("the quantity is zero whatever the parameters, so any "
                              "formula would 'agree': the check means nothing")
    else:
        _judge_values(v, source, claim, useful)
    return v


def _judge_values(v, source, claim, useful):
    agree = [o for o in useful if o.rel <= TOL]
    fail = [o for o in useful if o.rel > TOL]
    if not fail:
        v.max_rel_err = max(o.rel for o in useful)
        return
    v.counterexample = _example(source, claim, _clearest(fail))
    search = candidates(source, [o.case for o in useful], claim.steps is not None, claim)
    cond = separate([o.where for o in agree], [o.where for o in fail], search)
    relation = _relation(fail)
    if cond is not None:
        inside, outside, v.split = agree, fail, True
        if cond.assumption and relation is None:
            v.verdict = "holds-if"
            v.condition = (f"only when {cond.text}: agrees in all {len(agree)} such "
                           f"case(s), differs in all {len(fail)} other(s)")
            v.why = claim.why or f"right under the source's assumption: {cond.text}"
        else:
            v.verdict = "wrong"
            v.condition = (f"agrees only when {cond.text} ({len(agree)} case(s)), where "
                           f"the error vanishes; differs in the {len(fail)} other(s)")
            v.why = _why(claim, relation, fail) or (
                f"an error that vanishes only when {cond.text}, which the source does not "
                "assume")
    else:
        matched = [o for o in fail if relation and relation[1](o)]
        v.verdict = "wrong"
        v.why = _why(claim, relation, fail)
        inside, outside = useful, fail
        if relation and matched and len(matched) < len(fail):
            rest = [o for o in fail if not relation[1](o)]
            cond = separate([o.where for o in agree + matched], [o.where for o in rest],
                            search)
            if cond is not None:
                inside = [o for o in useful if cond(o.case, o.t)]
                outside = [o for o in useful if not cond(o.case, o.t)]
                v.split = True
                v.condition = (f"{relation[2]} only when {cond.text} ({len(matched)} "
                               f"case(s)); unrelated to it in the {len(rest)} other(s)")
                v.why = _why(claim, relation, matched, f" where {cond.text}")
        if v.condition is None and not agree:
            v.condition = f"differs in all {len(useful)} cases"
        elif v.condition is None:
            v.condition = (f"differs in {len(fail)} of {len(useful)} cases; no condition "
                           "found among single conditions and ORs/ANDs of two")
        v.why = v.why or ("not a sign, transpose or constant-factor error: no simple "
                          "relation to autodiff")
    v.max_rel_err = max(o.rel for o in inside) if inside else None
    v.max_rel_err_outside = max(o.rel for o in outside)


def _relation(fail):
    """The simple relation the failing values bear to autodiff, if one fits some of them:
    (kind, test, text)."""
    kinds = (("sign", lambda o: o.rel_neg <= TOL, "exactly -1 times the true value"),
             ("transpose", lambda o: o.rel_T <= TOL, "the true value transposed"))
    for kind, test, text in kinds:
        if any(test(o) for o in fail):
            return kind, test, text
    factors = [o.factor for o in fail if o.factor is not None]
    if factors and np.allclose(factors, factors[0], rtol=1e-6) and len(factors) == len(fail):
        k = factors[0]
        return "factor", lambda o: o.factor is not None, f"exactly {k:.6g} times the true value"
    return None


def _why(claim, relation, matched, where=""):
    """The one-line reason: the relation the judge found (sign, transpose, constant factor),
    followed by the claim's own ``why`` (the reason in the source's terms)."""
    own = claim.why
    if relation is None:
        return own
    kind, test, _ = relation
    if kind == "sign":
        worst = max(o.rel_neg for o in matched if test(o))
        found = (f"sign: the formula is minus the true value{where} (|formula + autodiff| "
                 f"<= {worst:.1e} x |autodiff|)")
    elif kind == "transpose":
        found = f"transpose: the formula is the true value in the other layout{where}"
    else:
        found = (f"constant factor: the formula is {matched[0].factor:.6g} times the true "
                 f"value{where}")
    return f"{found}; {own}" if own else found


def _invalid(v, source, claim, obs, errors):
    v.verdict = "invalid"
    at_base = [o for o in errors if o.case == obs[0].case]    # the source's own sizes
    shown = at_base[0] if at_base else min(errors, key=_size)
    axes = source.axes_of(claim)
    v.condition = f"undefined as written at {shown.case.text(axes)}"
    v.why = f"{claim.why}: {shown.error}" if claim.why else shown.error
    v.counterexample = {"case": dict(shown.case), "t": shown.t, "error": shown.error,
                        "text": f"{shown.case.text(axes)}" +
                                (f", t={shown.t}" if shown.t else "") + f": {shown.error}"}
    defined = [o for o in obs if not o.error]
    cond = separate([o.where for o in defined], [o.where for o in errors],
                    candidates(source, [o.case for o in obs], claim.steps is not None))
    if cond is not None and defined:
        useful = [o for o in defined if o.informative]
        agrees = useful and all(o.rel <= TOL for o in useful)
        if useful:
            v.max_rel_err = max(o.rel for o in useful)
        worst = f" (max rel err {v.max_rel_err:.1e})" if useful else ""
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


def _clearest(fail):
    """Among the failing observations of the smallest size (seed and step aside), the one
    with the largest error: small enough to read, and far enough off to see."""
    smallest = min((o.case.magnitude(), o.case.get("T", 0)) for o in fail)
    tied = [o for o in fail if (o.case.magnitude(), o.case.get("T", 0)) == smallest]
    return max(tied, key=lambda o: (min(o.rel, o.rel_T), -(o.t or 0)))


def _example(source, claim, o):
    """The counter-example record: the case, the step, the two values, the error."""
    text = o.case.text(source.axes_of(claim)) + (f", t={o.t}" if o.t is not None else "")
    c, a = o.claimed, o.actual
    rel = o.rel if o.rel < np.inf else o.rel_T
    if c.shape != a.shape:
        text += f": the formula gives shape {c.shape}, autodiff {a.shape}"
    elif a.size <= 4:
        text += f": formula {_fmt(c)} vs autodiff {_fmt(a)}"
    else:
        k = np.unravel_index(int(np.argmax(np.abs(c - a))), a.shape)
        text += (f": entry {list(map(int, k))}: formula {c[k]:.6g} vs autodiff {a[k]:.6g}")
    text += f" (rel err {rel:.2g})"
    return {"case": dict(o.case), "t": o.t, "claimed": c.tolist(), "autodiff": a.tolist(),
            "rel_err": rel, "text": text}


def _fmt(a):
    a = np.asarray(a)
    if a.ndim == 0:
        return f"{float(a):.6g}"
    if 1 in a.shape:                    # a row or a column: its entries on one line
        a = a.ravel()
    return " ".join(np.array2string(a, precision=5, separator=", ",
                                    suppress_small=False).split())


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
