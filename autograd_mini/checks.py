"""Checks of autodiff against central finite differences, and Jacobians from VJPs.

Finite differences run in float64 whatever the inputs' dtype: in float32 the rounding
error of (f(x+eps) - f(x-eps)) / 2eps swamps the truncation error and nothing can pass.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Literal

import numpy as np

from .context import no_grad
from .tape import backward
from .tensor import Tensor

if TYPE_CHECKING:
    from .hints import ArrayLike


def vjp(out, g, leaf, retain_graph=True):
    """g . d(out)/d(leaf) as an array of leaf's shape, or None when out does not depend
    on leaf. The graph is kept (retain_graph) so that it can be walked once per row."""
    if out is leaf:
        return g
    if out.node is None:
        return None
    return backward(out.node, g, retain_graph).get(leaf)


# ---------------------------------------------------------------------- Jacobians
def jacobian(fn: Callable[[Tensor], Tensor], x: ArrayLike | Tensor) -> np.ndarray:
    """d fn(x) / d x by reverse mode: one VJP per output element.

    x: an array or Tensor of shape X; fn maps a Tensor of shape X to a Tensor of shape Y.
    Returns an ndarray of shape Y + X.
    """
    _one_input("jacobian", x)
    xt = Tensor(_float(x), requires_grad=True)
    out = fn(xt)
    jac = np.zeros(out.shape + xt.shape, dtype=xt.dtype)
    for i in np.ndindex(*out.shape):
        g = np.zeros(out.shape, dtype=out.dtype)
        g[i] = 1
        grad = vjp(out, g, xt)
        if grad is not None:
            jac[i] = grad
    return jac


def numerical_jacobian(fn: Callable[[Tensor], Tensor], x: ArrayLike | Tensor,
                       eps: float = 1e-6) -> np.ndarray:
    """The finite-difference twin of ``jacobian``: same signature, same shape Y + X,
    by central differences in float64."""
    _one_input("numerical_jacobian", x)
    x0 = np.array(_data(x), dtype=np.float64)
    with no_grad():
        y0 = _data(fn(Tensor(x0)))
        jac = np.zeros(np.shape(y0) + x0.shape)
        for j in np.ndindex(*x0.shape):
            jac[(...,) + j] = _central(fn, x0, j, eps)
    return jac


def _central(fn, x0, j, eps):
    xp, xm = x0.copy(), x0.copy()
    xp[j] += eps
    xm[j] -= eps
    return (_data(fn(Tensor(xp))) - _data(fn(Tensor(xm)))) / (2 * eps)


def _one_input(who, x):
    """jacobian differentiates with respect to one input; gradcheck takes a list."""
    if isinstance(x, (list, tuple)) and any(isinstance(v, Tensor) for v in x):
        raise TypeError(f"{who}(fn, x) takes one input x (an array or a Tensor), got a "
                        f"{type(x).__name__} of {len(x)} items; call it once per input, or "
                        "use gradcheck(fn, inputs), which takes a list")


def _data(t):
    return t.data if isinstance(t, Tensor) else np.asarray(t)


def _float(x):
    a = _data(x)
    return a if a.dtype.kind == "f" else a.astype(np.float64)


# ---------------------------------------------------------------------- gradcheck
class InputCheck:
    """The comparison for one input: its worst element and whether all elements pass."""

    __slots__ = ("label", "shape", "max_abs", "max_rel", "worst", "numeric", "analytic", "ok")

    def __init__(self, label, shape, analytic, numeric, atol, rtol):
        self.label, self.shape = label, shape
        diff = np.abs(analytic - numeric)
        scale = np.maximum(np.abs(analytic), np.abs(numeric))
        rel = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
        self.max_abs = float(diff.max()) if diff.size else 0.0
        self.max_rel = float(rel.max()) if rel.size else 0.0
        bad = diff - (atol + rtol * np.abs(numeric))
        k = np.unravel_index(int(np.argmax(bad)), bad.shape) if bad.size else ()
        self.worst = tuple(int(i) for i in k)
        self.numeric = float(numeric[k]) if bad.size else 0.0
        self.analytic = float(analytic[k]) if bad.size else 0.0
        self.ok = bool(np.all(bad <= 0))


class GradcheckReport:
    """Truthy when every input passes; prints as a table, naming the worst element."""

    def __init__(self, checks, mode, eps, atol, rtol):
        self.checks, self.mode, self.eps, self.atol, self.rtol = checks, mode, eps, atol, rtol

    def __bool__(self) -> bool:
        return all(c.ok for c in self.checks)

    def __iter__(self) -> Iterator[InputCheck]:
        return iter(self.checks)

    @property
    def max_rel(self) -> float:
        return max((c.max_rel for c in self.checks), default=0.0)

    def __str__(self) -> str:
        head = (f"gradcheck ({self.mode}, eps={self.eps:g}, pass when |analytic - numeric| <= "
                f"{self.atol:g} + {self.rtol:g} * |numeric|)")
        rows = [("input", "shape", "max abs err", "max rel err", "worst element",
                 "analytic", "numeric", "")]
        for c in self.checks:
            rows.append((c.label, str(c.shape), f"{c.max_abs:.3e}", f"{c.max_rel:.3e}",
                         str(c.worst), f"{c.analytic:.10g}", f"{c.numeric:.10g}",
                         "ok" if c.ok else "FAIL"))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = [head] + ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip()
                          for r in rows]
        return "\n".join(lines)

    __repr__ = __str__


def gradcheck(fn: Callable[..., Tensor], inputs: Iterable[Any], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-4,
              mode: Literal["full", "projection"] = "full", seed: int = 0) -> GradcheckReport:
    """Compare autodiff with central finite differences for every input with requires_grad.

    fn(*inputs) returns a Tensor of any shape. ``mode="full"`` checks every element of
    every Jacobian; ``mode="projection"`` checks u . J . v for a random output direction u
    and a random input direction v (two evaluations per input: cheap for whole models).
    Inputs are copied to float64 first. Returns a GradcheckReport (truthy when all pass).
    """
    if mode not in ("full", "projection"):
        raise ValueError(f"gradcheck: mode={mode!r}, expected 'full' or 'projection'")
    inputs = list(inputs)
    base = [_as64(x) for x in inputs]
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to "
                         "check")
    labels = {i: inputs[i].name or f"input {i}" for i in wrt}
    rng = np.random.default_rng(seed)

    def run(arrays, grad_of=()):
        ts = [Tensor(a, requires_grad=(k in grad_of)) if isinstance(inputs[k], Tensor) else a
              for k, a in enumerate(arrays)]
        return ts, fn(*ts)

    with no_grad():
        y0 = _data(run(base)[1])
    u = rng.standard_normal(y0.shape) if mode == "projection" else None
    checks = []
    for i in wrt:
        x0 = base[i]
        if mode == "full":
            analytic = _analytic_jacobian(run, base, i, y0.shape)
            numeric = np.zeros(y0.shape + x0.shape)
            for j in np.ndindex(*x0.shape):
                numeric[(...,) + j] = _perturbed(run, base, i, j, eps)
        else:
            v = rng.standard_normal(x0.shape)
            ts, y = run(base, grad_of=(i,))
            g = vjp(y, u, ts[i], retain_graph=False)
            analytic = np.array(0.0 if g is None else np.sum(g * v))
            with no_grad():
                yp = _data(run(_replace(base, i, x0 + eps * v))[1])
                ym = _data(run(_replace(base, i, x0 - eps * v))[1])
            numeric = np.array(np.sum(u * (yp - ym)) / (2 * eps))
        checks.append(InputCheck(labels[i], x0.shape, analytic, numeric, atol, rtol))
    return GradcheckReport(checks, mode, eps, atol, rtol)


def _as64(x):
    if isinstance(x, Tensor):
        return np.array(x.data, dtype=np.float64) if x.data.dtype.kind == "f" else x.data
    return x


def _replace(arrays, i, a):
    arrays = list(arrays)
    arrays[i] = a
    return arrays


def _perturbed(run, base, i, j, eps):
    xp, xm = base[i].copy(), base[i].copy()
    xp[j] += eps
    xm[j] -= eps
    with no_grad():
        return (_data(run(_replace(base, i, xp))[1]) - _data(run(_replace(base, i, xm))[1])) \
            / (2 * eps)


def _analytic_jacobian(run, base, i, out_shape):
    ts, y = run(base, grad_of=(i,))
    jac = np.zeros(out_shape + base[i].shape)
    for k in np.ndindex(*out_shape):
        g = np.zeros(out_shape)
        g[k] = 1
        grad = vjp(y, g, ts[i])
        if grad is not None:
            jac[k] = grad
    return jac
