"""Undo NumPy broadcasting once, for every rule: sum a gradient back to an input's shape."""
import numpy as np


def unbroadcast(g, shape):
    """Sum ``g`` (an output-shaped gradient) down to ``shape`` (the input's shape).

    Broadcasting prepends axes and stretches axes of length 1; the adjoint sums over both.
    Returns ``None`` when ``g`` cannot have come from broadcasting ``shape``.
    """
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra < 0:
        return None
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g if g.shape == shape else None
