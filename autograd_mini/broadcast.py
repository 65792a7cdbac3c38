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
        if g.shape[:extra].count(1) == extra:
            # Only new leading axes of length 1 (a bias added to a batch of one, as in
            # every step of a B=1 RNN): a reshape, no summation call.
            g = g.reshape(g.shape[extra:])
        else:
            # (the ufunc's own reduce: ndarray.sum() is a Python wrapper around it)
            g = np.add.reduce(g, axis=tuple(range(extra)))
        if g.shape == shape:
            return g
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = np.add.reduce(g, axis=stretched, keepdims=True)
    return g if g.shape == shape else None
