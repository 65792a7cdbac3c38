"""Shape rules: reshape, indexing (slices, integers, embedding lookups), stack, concat."""
import numpy as np

from ..formulas import scatter_add
from ..registry import register

FAMILY = "shape"

RESHAPE = register(
    "reshape", lambda x, shape: x.reshape(shape), vjp={"x": "g.reshape(x.shape)"},
    params=("shape",), expects="a shape with the same number of elements", family=FAMILY,
    jvp="dx.reshape(batch(dx, x) + out.shape)")
GETITEM = register(
    "getitem", lambda x, index: x[index], vjp={"x": "scatter_add(g, x.shape, index)"},
    params=("index",), expects="indices within the tensor's shape", family=FAMILY,
    jvp="at(dx, x, index)")
STACK = register(
    "stack", lambda xs, axis: np.stack(xs, axis=axis), vjp={"x": "take(g, i, axis)"},
    params=("axis",), variadic=True, expects="tensors of one shape", family=FAMILY,
    jvp="np.stack(dx, axis=tail(axis, out))")
# offsets: where each input's block starts along the axis, and where the last one ends
CONCAT = register(
    "concat", lambda xs, axis, offsets: np.concatenate(xs, axis=axis),
    vjp={"x": "take(g, slice(offsets[i], offsets[i + 1]), axis)"},
    params=("axis", "offsets"), variadic=True,
    expects="tensors whose shapes agree except along the axis", family=FAMILY,
    jvp="np.concatenate(dx, axis=tail(axis, out))")
# The adjoint of getitem, as an op of its own: what getitem's VJP runs when the gradient
# is itself differentiated (autograd_mini.tensor_formulas), and its gradient is getitem.
SCATTER_ADD = register(
    "scatter_add", lambda v, shape, index: scatter_add(v, shape, index),
    vjp={"v": "g[index]"}, params=("shape", "index"),
    expects="values of the shape zeros(shape)[index] has", family=FAMILY,
    jvp="scatter_at(dv, v, shape, index)")
