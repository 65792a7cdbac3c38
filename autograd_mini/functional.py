"""Module-level ops: stack, concat and the fused softmax cross-entropy loss.

The checks here run before the rule, so a bad call fails with a message that names the
op, the shapes or the offending index, instead of a NumPy traceback or a wrong gradient.
"""
from __future__ import annotations

from numbers import Integral
from typing import TYPE_CHECKING, Iterable

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from .context import state
from . import rules as R
from .errors import ShapeError, TargetError, where
from .tensor import Tensor, apply

if TYPE_CHECKING:
    from .hints import ArrayLike, Operand, Reduction


def _tensors(tensors, op):
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}{where(state.scope)}: needs at least one tensor")
    return [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]


def _normalize(axis, ndim, op, shapes):
    try:
        return normalize_axis_index(axis, ndim)
    except np.exceptions.AxisError:
        raise ShapeError(f"{op}{where(state.scope)}: axis {axis} is out of range for "
                         f"inputs of shapes {shapes}") from None


def stack(tensors: Iterable[Operand], axis: int = 0) -> Tensor:
    """Join tensors of one shape S along a new axis: shape S with len(tensors) inserted."""
    ts = _tensors(tensors, "stack")
    shapes = [t.shape for t in ts]
    if any(s != shapes[0] for s in shapes):
        raise ShapeError(f"stack{where(state.scope)}: all tensors must have one "
                         f"shape, got {shapes}")
    return apply(R.STACK, *ts, params=(_normalize(axis, len(shapes[0]) + 1, "stack", shapes),))


def concat(tensors: Iterable[Operand], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; their shapes agree on every other axis."""
    ts = _tensors(tensors, "concat")
    shapes = [t.shape for t in ts]
    axis = _normalize(axis, len(shapes[0]), "concat", shapes)
    if any(len(s) != len(shapes[0]) for s in shapes):
        raise ShapeError(f"concat{where(state.scope)}: all tensors must have the same number "
                         f"of axes, got shapes {shapes}")
    offsets = tuple(int(n) for n in np.cumsum([0] + [s[axis] for s in shapes]))
    return apply(R.CONCAT, *ts, params=(axis, offsets))


REDUCTIONS = ("mean", "sum", "none")


def softmax_cross_entropy(logits: Operand, targets: int | ArrayLike | Tensor,
                          reduction: Reduction = "mean") -> Tensor:
    """-log softmax(logits)[target], one fused rule whose VJP is ``softmax(o) - y``.

    logits: (C,) or (B, C). targets: class indices (an int for (C,), shape (B,) for
    (B, C)), or probability rows of the logits' shape (one-hot or soft labels).
    reduction: "mean" over the batch (default), "sum", or "none" (shape (B,) or ()).
    """
    if not isinstance(logits, Tensor):
        logits = Tensor(logits)
    shape = logits.data.shape
    # Valid class indices, the common case (once per time step), pass one cheap check;
    # anything else takes the full checks, which name what is wrong.
    y = _valid_labels(targets, shape) if reduction in REDUCTIONS else None
    if y is None:
        op = "softmax_cross_entropy" + where(state.scope)
        if len(shape) not in (1, 2):
            raise ShapeError(f"{op}: logits must have shape (C,) or (B, C), got {shape}")
        if reduction not in REDUCTIONS:
            raise ValueError(f"{op}: reduction={reduction!r}, expected one of {REDUCTIONS}")
        y = _targets(targets, shape, logits.dtype, op)
    return apply(R.SOFTMAX_CROSS_ENTROPY, logits, params=(y, reduction))


# Integer label dtypes and their unsigned twins (of the same width, for a view).
_UNSIGNED = {np.dtype(f"{kind}int{n}"): np.dtype(f"uint{n}") for kind in ("", "u")
             for n in (8, 16, 32, 64)}


def _valid_labels(targets, shape):
    """``targets`` when they are valid class indices for logits of ``shape``, else None."""
    if targets.__class__ is np.ndarray:
        if targets.shape == shape[:-1] and len(shape) in (1, 2):
            unsigned = _UNSIGNED.get(targets.dtype)
            if unsigned is None:
                return None
            if targets.size <= 16 and targets.ndim == 1:
                # A short batch: Python's min and max of a list beat a NumPy reduction.
                labels = targets.tolist()
                if not labels or (min(labels) >= 0 and max(labels) < shape[-1]):
                    return targets
            # Viewed as unsigned, a negative label becomes huge: one reduction checks
            # both ends of [0, C).
            elif targets.size == 0 or np.maximum.reduce(
                    targets.view(unsigned), axis=None) < shape[-1]:
                return targets
    elif targets.__class__ is int and len(shape) == 1 and 0 <= targets < shape[0]:
        return np.asarray(targets, dtype=np.intp)
    return None


def _targets(targets, shape, dtype, op):
    """Check targets against logits of ``shape``: class indices or probability rows."""
    C = shape[-1]
    if isinstance(targets, Tensor):
        targets = targets.data
    if isinstance(targets, Integral) and not isinstance(targets, bool):
        y = np.asarray(targets, dtype=np.intp)
    else:
        y = np.asarray(targets)
    if y.shape == shape[:-1]:                                # class indices
        if y.dtype.kind not in "iu":
            if y.dtype.kind != "f" or not np.all(y == np.round(y)):
                bad = np.argwhere(y != np.round(y)) if y.dtype.kind == "f" else None
                k = tuple(int(i) for i in bad[0]) if bad is not None and len(bad) else None
                at = (f" ({y[k]})" if k == () else
                      f" (first at index {k if len(k) != 1 else k[0]}: {y[k]})") \
                    if k is not None else ""
                raise TargetError(f"{op}: class labels must be integers, got dtype "
                                  f"{y.dtype}{at}")
            y = y.astype(np.intp)
        bad = np.flatnonzero((y < 0) | (y >= C))
        if bad.size:
            i = int(bad[0])
            raise TargetError(f"{op}: label {y.flat[i]} at index {i} is out of range: logits "
                              f"of shape {shape} have {C} classes, so labels must be in "
                              f"[0, {C - 1}]")
        return y
    if y.shape == shape:                                     # probability rows
        if y.dtype.kind not in "fiub":
            raise TargetError(f"{op}: target rows must be numbers, got dtype {y.dtype}")
        y = y.astype(dtype, copy=False)
        rows = y.reshape(-1, C)          # one row per example; a single row for (C,)
        sums = rows.sum(axis=-1)
        tol = 1e-4 if dtype == np.float32 else 1e-6
        negative = np.any(rows < 0, axis=-1)
        bad = np.flatnonzero(negative | ~(np.abs(sums - 1) <= tol))   # ~(<=) catches NaN
        if bad.size:
            i = int(bad[0])
            row = f"row {i} of the targets" if y.ndim > 1 else "the target row"
            if negative[i]:
                j = int(np.flatnonzero(rows[i] < 0)[0])
                what = f"has a negative entry {rows[i, j]:.6g} at column {j}"
            else:
                what = f"sums to {sums[i]:.6g}"
            raise TargetError(f"{op}: {row} {what}: probability rows must be "
                              "non-negative and sum to 1 (or pass class indices)")
        return y
    raise TargetError(
        f"{op}: targets of shape {y.shape} fit logits of shape {shape} neither as class "
        f"indices (shape {shape[:-1]}) nor as probability rows (shape {shape})")


__all__ = ["stack", "concat", "softmax_cross_entropy"]
