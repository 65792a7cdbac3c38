"""Shape rules: reshape, indexing (slices, integers, embedding lookups), stack, concat."""
import numpy as np

from ..registry import register

FAMILY = "shape"

RESHAPE = register(
    "reshape", lambda x, shape: x.reshape(shape),
    vjps=[lambda g, out, x_shape, shape: g.reshape(x_shape)],
    formulas=["dx = reshape(g, x.shape)"],
    saves="shapes", expects="a shape with the same number of elements", family=FAMILY)


def is_basic_index(index):
    """True for ints, slices, None and Ellipsis (NumPy's basic indexing): no element
    is picked twice, so the VJP can assign instead of scatter-adding."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis
               for p in parts)


def _getitem_vjp(g, out, x_shape, index):
    dx = np.zeros(x_shape, dtype=g.dtype)
    if is_basic_index(index):
        dx[index] = g
    else:
        np.add.at(dx, index, g)     # an index repeated (embedding lookup) receives the sum
    return dx


GETITEM = register(
    "getitem", lambda x, index: x[index],
    vjps=[_getitem_vjp],
    formulas=["dx = scatter_add(zeros(x.shape), index, g)"],
    saves="shapes", expects="indices within the tensor's shape", family=FAMILY)


def _axis_slice(axis, i):
    return (slice(None),) * axis + (i,)


STACK = register(
    "stack", lambda xs, axis: np.stack(xs, axis=axis),
    vjps=[lambda i, g, out, shapes, axis: g[_axis_slice(axis, i)]],
    formulas=["dx_i = g[i along axis]"],
    saves="shapes", variadic=True, expects="tensors of one shape", family=FAMILY)


def _concat_vjp(i, g, out, shapes, axis):
    start = sum(s[axis] for s in shapes[:i])
    return g[_axis_slice(axis, slice(start, start + shapes[i][axis]))]


CONCAT = register(
    "concat", lambda xs, axis: np.concatenate(xs, axis=axis),
    vjps=[_concat_vjp],
    formulas=["dx_i = g[x_i's block along axis]"],
    saves="shapes", variadic=True,
    expects="tensors whose shapes agree except along the axis", family=FAMILY)
