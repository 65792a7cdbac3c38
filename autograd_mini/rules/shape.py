"""Shape rules: reshape, indexing (slices, integers, embedding lookups), stack, concat."""
import numpy as np

from ..registry import register

FAMILY = "shape"

RESHAPE = register(
    "reshape", lambda x, shape: x.reshape(shape), vjp={"x": "g.reshape(x.shape)"},
    params=("shape",), expects="a shape with the same number of elements", family=FAMILY)
GETITEM = register(
    "getitem", lambda x, index: x[index], vjp={"x": "scatter_add(g, x.shape, index)"},
    params=("index",), expects="indices within the tensor's shape", family=FAMILY)
STACK = register(
    "stack", lambda xs, axis: np.stack(xs, axis=axis), vjp={"x": "take(g, i, axis)"},
    params=("axis",), variadic=True, expects="tensors of one shape", family=FAMILY)
# offsets: where each input's block starts along the axis, and where the last one ends
CONCAT = register(
    "concat", lambda xs, axis, offsets: np.concatenate(xs, axis=axis),
    vjp={"x": "take(g, slice(offsets[i], offsets[i + 1]), axis)"},
    params=("axis", "offsets"), variadic=True,
    expects="tensors whose shapes agree except along the axis", family=FAMILY)
