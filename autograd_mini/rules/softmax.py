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


def _softmax_cross_entropy(o, y, reduction):
    """-log softmax(o)[y] along the last axis, and p = softmax(o) for the VJP.

    ``y`` (checked by ``softmax_cross_entropy``): integer class indices of shape
    o.shape[:-1], or probability rows of o's shape."""
    # (the ufuncs' own reduce: ndarray.max and .sum are Python wrappers, and this runs
    # once per time step)
    z = o - np.maximum.reduce(o, axis=-1, keepdims=True)   # shift: exp never overflows
    e = np.exp(z)
    s = np.add.reduce(e, axis=-1, keepdims=True)
    if y.dtype.kind in "iu":
        # -log softmax(o)[y] = log s - z[y]: only the picked entries, not all of log p
        if o.ndim == 1:
            picked = z[y]
        elif o.ndim == 2:
            picked = z[np.arange(len(y)), y]
        else:                                       # (compile batches the steps: (T, B, C))
            picked = np.take_along_axis(z, y[..., None], axis=-1)[..., 0]
        nll = np.log(s[..., 0]) - picked
    else:
        nll = -np.add.reduce(y * (z - np.log(s)), axis=-1)
    if reduction == "mean":
        nll = np.add.reduce(nll, axis=None) / nll.size
    elif reduction == "sum":
        nll = np.add.reduce(nll, axis=None)
    return nll, e / s


SOFTMAX = register(
    "softmax", _softmax, vjp={"x": "out * (g - (g * out).sum(axis=axis, keepdims=True))"},
    params=("axis",), family=FAMILY,
    jvp="out * (dx - (out * dx).sum(axis=tail(axis, x), keepdims=True))")
LOG_SOFTMAX = register(
    "log_softmax", _log_softmax, vjp={"x": "g - exp(out) * g.sum(axis=axis, keepdims=True)"},
    params=("axis",), family=FAMILY,
    jvp="dx - (exp(out) * dx).sum(axis=tail(axis, x), keepdims=True)")
# p = softmax(o), kept by the forward pass
SOFTMAX_CROSS_ENTROPY = register(
    "softmax_cross_entropy", _softmax_cross_entropy,
    vjp={"o": "(p - onehot(y, p)) * per_example(g, reduction, p)"},
    params=("y", "reduction"), aux="p", aux_formula="softmax(o)",
    jvp="reduce_loss(((p - onehot(y, p)) * do).sum(axis=-1), reduction, p)",
    expects="logits (C,) or (B, C); targets: class indices or probability rows",
    family=FAMILY)
