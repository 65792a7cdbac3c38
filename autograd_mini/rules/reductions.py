"""Reductions. Their VJPs put the reduced axes back and broadcast ``g`` over them."""
import numpy as np

from ..registry import register

FAMILY = "reductions"


def _restore(g, x_shape, axis, keepdims):
    """Give ``g`` back the reduced axes (length 1), then broadcast it to ``x_shape``."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, x_shape)


def _count(x_shape, axis):
    """How many elements each output of a reduction over ``axis`` averages."""
    if axis is None:
        return int(np.prod(x_shape))
    return int(np.prod([x_shape[a] for a in axis]))


SUM = register(
    "sum", lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
    vjps=[lambda g, out, x_shape, axis, keepdims: _restore(g, x_shape, axis, keepdims)],
    formulas=["dx = broadcast(g)"],
    saves="shapes", expects="axes within the tensor's dimensions", family=FAMILY)

MEAN = register(
    "mean", lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims),
    vjps=[lambda g, out, x_shape, axis, keepdims:
          _restore(g / _count(x_shape, axis), x_shape, axis, keepdims)],
    formulas=["dx = broadcast(g) / n"],
    saves="shapes", expects="axes within the tensor's dimensions", family=FAMILY)
