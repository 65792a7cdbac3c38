"""The namespace a rule's formulas run in: a few helpers beside NumPy's operators.

A formula is one Python expression, e.g. matmul's ``g @ B.mT``. The text is what runs in
backward, what the README's table and the graph's edges show, and what ``compile`` pastes
into generated source. The names a formula may use:

- ``g``                  the upstream gradient dL/d(out), shaped like ``out``;
- ``out``                the op's result;
- the inputs by name     ``x``, ``A``, ``B``, ... (``x.shape`` alone saves only the shape);
- the op's parameters    ``axis``, ``keepdims``, ``index``, ``p``, ... by name;
- ``i``                  the input's position, for rules of any number of inputs (stack);
- the helpers below.

Every helper is written with operators, indexing and methods that NumPy arrays and
``Tensor`` share where it can be, so the same formula also runs on Tensors (the gradient
of a gradient). A rule returns its gradient in the output's broadcast shape; the engine
sums it back to the input's shape with ``unbroadcast``, once, for every rule.
"""
import numpy as np


def unbroadcast(g, shape):
    """Sum ``g`` (an output-shaped gradient) down to ``shape`` (an input's shape).

    Broadcasting prepends axes and stretches axes of length 1; its adjoint sums over both.
    Returns ``None`` when ``g`` cannot have come from broadcasting ``shape``.
    """
    extra = g.ndim - len(shape)
    if extra < 0:
        return None
    if extra:
        g = _sum(g, tuple(range(extra)))
    stretched = tuple(k for k, n in enumerate(shape) if n == 1 and g.shape[k] != 1)
    if stretched:
        g = _sum(g, stretched, keepdims=True)
    return g if g.shape == tuple(shape) else None


def _sum(g, axis, keepdims=False):
    """``g.sum(axis)``: for an array, the ufunc's own reduce (ndarray.sum is a Python
    wrapper around it); a Tensor (gradients of gradients) sums as an op."""
    if isinstance(g, np.ndarray):
        return np.add.reduce(g, axis=axis, keepdims=keepdims)
    return g.sum(axis=axis, keepdims=keepdims)


def outer(u, v):
    """u v^T, over any leading batch axes: the gradient of a matrix-vector product."""
    return u[..., :, None] * v[..., None, :]


def matvec(M, v):
    """M v for a (batch of) matrix M (..., n, k) and vector(s) v (..., k)."""
    return (M @ v[..., :, None])[..., 0]


def vecmat(v, M):
    """v^T M for vector(s) v (..., n) and a (batch of) matrix M (..., n, k)."""
    return (v[..., None, :] @ M)[..., 0, :]


def expand(g, shape, axis, keepdims):
    """Undo a reduction over ``axis``: give ``g`` its reduced axes back, then broadcast it
    to ``shape`` (each input element receives the gradient of the sum it went into)."""
    return broadcast_to(unreduce(g, axis, keepdims), shape)


def unreduce(g, axis, keepdims):
    """``g`` with the axes a reduction over ``axis`` removed put back, of length 1."""
    if axis is not None and not keepdims:
        for a in sorted(axis):
            g = g[(slice(None),) * a + (None,)]
    return g


def broadcast_to(g, shape):
    """``g`` repeated along the axes of ``shape`` it lacks (a read-only view)."""
    return np.broadcast_to(g, shape)


def count(shape, axis):
    """How many elements each output of a reduction over ``axis`` sums (the mean's n)."""
    return int(np.prod(shape if axis is None else [shape[a] for a in axis], dtype=np.int64))


def scatter_add(g, shape, index):
    """zeros(shape) with ``g`` added at ``index``: the adjoint of ``x[index]``. An index
    that picks an element twice (an embedding lookup) gives that element the sum."""
    dx = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        dx[index] = g           # ints and slices pick each element at most once
    else:
        np.add.at(dx, index, g)
    return dx


def _is_basic(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis
               for p in parts)


def take(g, index, axis):
    """``g[index]`` along ``axis`` (the block one input of stack or concat became)."""
    return g[(slice(None),) * axis + (index,)]


def inverse(axes):
    """The permutation that undoes ``transpose(axes)`` (None, reverse all, is its own)."""
    return None if axes is None else tuple(int(k) for k in np.argsort(axes))


def exp(x):
    return np.exp(x)


def log(x):
    return np.log(x)


def tanh(x):
    return np.tanh(x)


def sigmoid(x):
    return 0.5 * (np.tanh(0.5 * x) + 1)    # stable where 1 / (1 + e^-x) overflows


def onehot(y, p):
    """Targets as rows like ``p``: class indices become one-hot rows; probability rows
    are returned as they are."""
    if y.dtype.kind not in "iu":
        return y
    return (np.arange(p.shape[-1]) == y[..., None]).astype(p.dtype)


def per_example(g, reduction, p):
    """The upstream gradient of a loss, per example row of ``p``: ``g / B`` for the mean
    over B examples, ``g`` for the sum, and ``g`` as a column for "none"."""
    if reduction == "none":
        return g[..., None]
    if reduction == "mean":
        return g / (p.size // p.shape[-1])
    return g


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``, shifted so that exp never overflows."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------------- for JVPs
# A JVP's tangents may carry leading batch axes (k directions at once); the primal values
# never do. Elementwise operators and @ broadcast over them by themselves; these helpers
# address the primal's own axes, leaving the batch axes alone.

def batch(dx, x):
    """The leading batch shape of tangent ``dx`` of ``x``: () or (k,)."""
    return dx.shape[:dx.ndim - np.ndim(x)]


def tail(axis, x):
    """``axis`` of ``x`` (an int, a tuple, or None for all) counted from the end, so that
    it names the same axes of a tangent with leading batch axes."""
    n = np.ndim(x)
    if axis is None:
        return tuple(range(-n, 0))
    return tuple(a % n - n for a in axis) if isinstance(axis, tuple) else axis % n - n


def at(dx, x, index):
    """``dx[index]``, the index applied to x's axes of the tangent."""
    return dx[(slice(None),) * (dx.ndim - np.ndim(x)) + _as_tuple(index)]


def scatter_at(dv, v, shape, index):
    """``scatter_add(dv, shape, index)`` for a tangent with leading batch axes."""
    lead = dv.ndim - np.ndim(v)
    return scatter_add(dv, dv.shape[:lead] + tuple(shape),
                       (slice(None),) * lead + _as_tuple(index))


def permute(dx, x, axes):
    """``dx.transpose(axes)`` on x's axes (None reverses them), batch axes first."""
    lead, n = dx.ndim - np.ndim(x), np.ndim(x)
    order = range(n)[::-1] if axes is None else axes
    return dx.transpose(tuple(range(lead)) + tuple(lead + a for a in order))


def reduce_loss(v, reduction, p):
    """Per-example values ``v`` of a loss reduced as the loss was ("mean", "sum" or
    "none") over the example axes of the probability rows ``p``."""
    examples = tuple(range(-(p.ndim - 1), 0))
    if reduction == "none" or not examples:
        return v
    return v.mean(axis=examples) if reduction == "mean" else v.sum(axis=examples)


def _as_tuple(index):
    return index if isinstance(index, tuple) else (index,)


NUMPY = {name: obj for name, obj in globals().items()
         if callable(obj) and not name.startswith("_") and obj.__module__ == __name__}
NUMPY["np"] = np
