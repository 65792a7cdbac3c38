"""A claim's formula, autodiff, the corrected form and finite differences side by side.

The finite-difference column needs no extra code per claim: each claim's ``actual`` is
evaluated a second time on a NumericBench, which answers ``grad``, ``local_jacobian`` and
``derivative_along`` by central differences instead of autodiff. So the columns are the
source's formula, the engine, and an independent route, for the same quantity.
"""
from dataclasses import dataclass

import numpy as np

from autograd_mini import no_grad, numerical_jacobian
from autograd_mini.errors import ShapeError

from .bench import EPS, Bench
from .claim import STEPS, Case
from .judge import rel_err


class NumericBench(Bench):
    """A Bench whose derivatives are central finite differences (float64)."""

    def grad(self, wrt, of="L"):
        key = (of, wrt)
        if key not in self._grads:
            base = self.v(wrt)
            g = np.zeros(np.shape(base))
            for j in np.ndindex(*np.shape(base)):
                e = np.zeros(np.shape(base))
                e[j] = EPS
                g[j] = (self._value(of, {wrt: e}) - self._value(of, {wrt: -e})) / (2 * EPS)
            self._grads[key] = g
        return self._grads[key]

    def _value(self, of, offsets):
        with no_grad():
            return float(self._output(*self._run(offsets), of).data)

    def local_jacobian(self, key, fn, at):
        if key not in self._local:
            at = np.asarray(at, dtype=np.float64)
            self._local[key] = (numerical_jacobian(fn, at, eps=EPS), fn, at)
        return self._local[key][0]

    def derivative_along(self, direction, of="L"):
        plus = self._value(of, {n: EPS * d for n, d in direction.items()})
        minus = self._value(of, {n: -EPS * d for n, d in direction.items()})
        return (plus - minus) / (2 * EPS)


@dataclass
class Row:
    """One claim at one step: the values and their differences (None where undefined)."""
    label: str
    t: int | None
    manual: np.ndarray | None
    autodiff: np.ndarray
    numeric: np.ndarray
    corrected: np.ndarray | None = None
    note: str = ""

    @property
    def manual_vs_autodiff(self):
        return _vs(self.manual, self.autodiff)

    @property
    def corrected_vs_autodiff(self):
        return _vs(self.corrected, self.autodiff)

    @property
    def autodiff_vs_numeric(self):
        return rel_err(self.autodiff, self.numeric)


def _vs(x, a):
    if x is None or x.shape != a.shape:
        return None
    return rel_err(x, a)


def compare(source, case=None, t=None, claims=None):
    """Rows (label, t, manual, autodiff, finite differences, corrected) for the claims of
    ``source`` (those labelled in ``claims``, default all) at ``case`` (a Case, or a dict
    of axes over the source's own sizes) and step ``t`` (default: the last step each
    claim applies to)."""
    case = case if isinstance(case, Case) else Case(**{**source.base, **(case or {})})
    auto = Bench(source.build(case), case)
    fd = NumericBench(source.build(case), case)
    rows = []
    for claim in source.claims:
        if claims is not None and claim.label not in claims:
            continue
        ts = STEPS[claim.steps](case["T"]) if "T" in case else [None]
        if not ts:
            continue
        step = t if t in ts else ts[-1]
        a = np.asarray(claim.actual(auto, step), dtype=np.float64)
        manual, note = _value(claim.claimed, auto, step, a)
        corrected = None
        if claim.corrected is not None:
            corrected, _ = _value(claim.corrected, auto, step, a)
        rows.append(Row(claim.label, step, manual, a,
                        np.asarray(claim.actual(fd, step), dtype=np.float64), corrected,
                        note))
    return rows


def _value(formula, bench, step, like):
    try:
        out = np.asarray(formula(bench, step), dtype=np.float64)
    except (ShapeError, ValueError) as e:
        return None, f"undefined: {e}"
    if out.shape != like.shape and out.size == like.size:
        out = out.reshape(like.shape)
    return out, ""


def show_text(source, case=None, t=None, claims=None):
    """compare() in full: per claim, the formula's value, autodiff's, the corrected form's
    and finite differences' side by side, and their relative errors."""
    case = case if isinstance(case, Case) else Case(**{**source.base, **(case or {})})
    out = []
    for r in compare(source, case, t, claims):
        out.append(f"claim {r.label}  at {case}" + (f", t={r.t}" if r.t is not None else ""))
        blocks = [("formula (as written)", r.manual), ("autodiff", r.autodiff)]
        if r.corrected is not None:
            blocks.append(("corrected form", r.corrected))
        blocks.append(("finite differences", r.numeric))
        out.append(side_by_side(blocks))
        errs = [f"formula vs autodiff: {_err(r.manual_vs_autodiff, r.note)}"]
        if r.corrected is not None:
            errs.append(f"corrected vs autodiff: {_err(r.corrected_vs_autodiff, '')}")
        errs.append(f"autodiff vs finite differences: {r.autodiff_vs_numeric:.1e}")
        out.append("rel err  " + ";  ".join(errs))
        out.append("")
    return "\n".join(out).rstrip()


def _err(x, note):
    return note or ("-" if x is None else f"{x:.2e}")


def side_by_side(blocks, gap=4):
    """Arrays printed in full next to each other, each under its title."""
    texts = []
    for title, a in blocks:
        body = "(undefined)" if a is None else np.array2string(
            np.asarray(a), precision=6, suppress_small=False, max_line_width=60)
        texts.append([title] + body.splitlines())
    height = max(len(t) for t in texts)
    widths = [max(len(line) for line in t) for t in texts]
    lines = []
    for i in range(height):
        lines.append((" " * gap).join((t[i] if i < len(t) else "").ljust(w)
                                      for t, w in zip(texts, widths)).rstrip())
    return "\n".join(lines)


