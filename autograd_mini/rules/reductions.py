"""Reductions. Their VJPs put the reduced axes back and broadcast ``g`` over them."""
import numpy as np

from ..registry import register

FAMILY = "reductions"
AXES = "axes within the tensor's dimensions"

SUM = register(
    "sum", lambda x, axis, keepdims: np.add.reduce(x, axis=axis, keepdims=keepdims),
    vjp={"x": "expand(g, x.shape, axis, keepdims)"}, params=("axis", "keepdims"),
    expects=AXES, family=FAMILY, jvp="dx.sum(axis=tail(axis, x), keepdims=keepdims)")
MEAN = register(
    "mean", lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims),
    vjp={"x": "expand(g, x.shape, axis, keepdims) / count(x.shape, axis)"},
    params=("axis", "keepdims"), expects=AXES, family=FAMILY,
    jvp="dx.mean(axis=tail(axis, x), keepdims=keepdims)")
