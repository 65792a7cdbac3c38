"""Softmax, log-softmax and the fused softmax cross-entropy loss (log-sum-exp stable)."""
import numpy as np

from ..registry import register

FAMILY = "softmax and losses"


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))   # shift: exp never overflows
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x, axis):
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


SOFTMAX = register(
    "softmax", _softmax,
    vjps=[lambda g, out, x, axis: out * (g - (g * out).sum(axis=axis, keepdims=True))],
    formulas=["dx = out * (g - sum(g * out))"],
    saves="out", family=FAMILY)

LOG_SOFTMAX = register(
    "log_softmax", _log_softmax,
    vjps=[lambda g, out, x, axis: g - np.exp(out) * g.sum(axis=axis, keepdims=True)],
    formulas=["dx = g - softmax(x) * sum(g)"],
    saves="out", family=FAMILY)


def _sce_forward(o, targets, reduction):
    """Negative log-likelihood of ``targets`` under softmax(o) along the last axis.

    ``targets`` is already checked by ``softmax_cross_entropy``: integer class indices of
    shape o.shape[:-1], or probability rows of o's shape. Returns (loss, softmax(o)).
    """
    # The ufuncs' own reduce: ndarray.max() and .sum() go through Python wrappers, and
    # this runs once per time step.
    z = o - np.maximum.reduce(o, axis=-1, keepdims=True)   # shift: exp never overflows
    e = np.exp(z)
    s = np.add.reduce(e, axis=-1, keepdims=True)
    if targets.dtype.kind in "iu":
        # -log softmax(o)[y] = log s - z[y]: take the picked entries only, not all of
        # log softmax(o) (fewer NumPy calls per step; the same floating-point result).
        if o.ndim == 1:
            nll = np.log(s[0]) - z[targets]
        else:
            nll = np.log(s[:, 0]) - z[_rows(len(targets)), targets]
    else:
        nll = -np.add.reduce(targets * (z - np.log(s)), axis=-1)
    if reduction == "mean":
        nll = np.add.reduce(nll, axis=None) / nll.size
    elif reduction == "sum":
        nll = np.add.reduce(nll, axis=None)
    e /= s                              # e is now softmax(o): no second array
    return nll, e


def _rows(n, _kept={}):
    """0..n-1, read-only and made once per batch size: the row index of ``o[rows, y]``."""
    rows = _kept.get(n)
    if rows is None:
        if len(_kept) > 1000:           # a program of ever-new batch sizes: keep it small
            _kept.clear()
        rows = _kept[n] = np.arange(n)
        rows.flags.writeable = False
    return rows


def _sce_vjp(g, p, o_shape, targets, reduction):
    """dL/do = (softmax(o) - y) * scale, where scale is the upstream g (and 1/B for the
    mean); for class indices, written p * scale - onehot(y) * scale: one NumPy call
    fewer per step than scaling a copy of p - onehot(y)."""
    # (g is a 0-d array for "mean" and "sum": as a Python float it scales without a
    # NumPy scalar operation, 1 µs per step)
    if reduction == "mean":
        scale = float(g) / (p.size // p.shape[-1])
    elif reduction == "sum":
        scale = float(g)
    else:
        scale = g
    if targets.dtype.kind not in "iu":
        return (p - targets) * (scale if reduction != "none" else scale[..., None])
    if p.ndim == 1:
        d = p * scale
        d[targets] -= scale
    else:
        d = p * (scale if reduction != "none" else scale[:, None])
        d[_rows(len(targets)), targets] -= scale
    return d


SOFTMAX_CROSS_ENTROPY = register(
    "softmax_cross_entropy", _sce_forward,
    vjps=[_sce_vjp],
    formulas=["do = (softmax(o) - y) * g"],
    saves="aux", expects="logits (C,) or (B, C); targets: class indices or probability rows",
    family=FAMILY)
