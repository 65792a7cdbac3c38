"""compare(): a source's manual formulas, autodiff and finite differences side by side.

The finite-difference column needs no extra code per claim: each claim's ``actual`` is
evaluated a second time on a NumericBench, which answers ``grad``, ``local_jacobian`` and
``derivative_along`` by central differences instead of autodiff. So the three columns
are the source's formula, the engine, and an independent route, for the same quantity.
"""
from dataclasses import dataclass

import numpy as np

from autograd_mini import no_grad, numerical_jacobian
from autograd_mini.errors import ShapeError

from .bench import EPS, Bench
from .claim import STEPS, Case
from .judge import _rel


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
    """One claim at one step: the three values and their differences."""
    label: str
    t: int | None
    manual: np.ndarray | None
    autodiff: np.ndarray
    numeric: np.ndarray
    note: str = ""

    @property
    def manual_vs_autodiff(self):
        if self.manual is None or self.manual.shape != self.autodiff.shape:
            return None
        return _rel(self.manual, self.autodiff)

    @property
    def autodiff_vs_numeric(self):
        return _rel(self.autodiff, self.numeric)


def compare(source, case=None, t=None):
    """Rows (label, t, manual, autodiff, finite differences) for every claim of ``source``
    at ``case`` (default: the source's own sizes) and step ``t`` (default: the last step
    each claim applies to)."""
    case = case if isinstance(case, Case) else Case(**{**source.base, **(case or {})})
    auto = Bench(source.build(case), case)
    fd = NumericBench(source.build(case), case)
    rows = []
    for claim in source.claims:
        ts = STEPS[claim.steps](case["T"]) if "T" in case else [None]
        if not ts:
            continue
        step = t if t in ts else ts[-1]
        note = ""
        try:
            manual = np.asarray(claim.claimed(auto, step), dtype=np.float64)
        except (ShapeError, ValueError) as e:
            manual, note = None, f"undefined: {e}"
        a = np.asarray(claim.actual(auto, step), dtype=np.float64)
        if manual is not None and manual.shape != a.shape and manual.size == a.size:
            manual = manual.reshape(a.shape)
        rows.append(Row(claim.label, step, manual, a,
                        np.asarray(claim.actual(fd, step), dtype=np.float64), note))
    return rows


def compare_table(source, case=None, t=None):
    """compare() as text: each claim's first entries and the two relative differences."""
    rows = compare(source, case, t)
    lines = [f"{'claim':<26} {'t':>3}  {'manual':>12} {'autodiff':>12} {'finite diff':>12}"
             f"  {'manual-auto':>11} {'auto-fd':>9}"]
    for r in rows:
        m = "-" if r.manual is None else f"{r.manual.ravel()[0]:12.6g}"
        mv = r.manual_vs_autodiff
        lines.append(f"{r.label[:26]:<26} {'' if r.t is None else r.t:>3}  {m:>12} "
                     f"{r.autodiff.ravel()[0]:12.6g} {r.numeric.ravel()[0]:12.6g}  "
                     f"{'-' if mv is None else f'{mv:.1e}':>11} "
                     f"{r.autodiff_vs_numeric:9.1e}" + (f"  {r.note[:60]}" if r.note else ""))
    return "\n".join(lines)
