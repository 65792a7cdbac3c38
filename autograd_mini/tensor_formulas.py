"""The formula namespace on Tensors: the same helper names as ``formulas.NUMPY``, so that
a rule's VJP text, run on Tensors, records the backward pass on the tape itself (the
gradient of a gradient: ``grad(..., create_graph=True)`` in higher.py).

The helpers of autograd_mini/formulas.py written with operators, indexing and methods
(``outer``, ``matvec``, ``unbroadcast``, ...) run on Tensors unchanged and are reused;
the ones that call NumPy functions get a Tensor version here. ``scatter_add`` is an op of
its own (rule ``scatter_add``, whose gradient is ``g[index]``).
"""
import numpy as np

from . import formulas
from . import rules as R
from .tensor import Tensor, apply

# Helpers made of operators and Tensor methods: the same code serves both namespaces.
SHARED = ("unbroadcast", "outer", "matvec", "vecmat", "count", "take", "inverse",
          "unreduce")


def broadcast_to(g, shape):
    """``g`` repeated along the axes of ``shape`` it lacks; its gradient sums them back."""
    shape = tuple(shape)
    return g if g.shape == shape else g + Tensor(np.zeros(shape, dtype=g.dtype))


def expand(g, shape, axis, keepdims):
    return broadcast_to(formulas.unreduce(g, axis, keepdims), shape)


def scatter_add(g, shape, index):
    """zeros(shape) with ``g`` added at ``index``, recorded (its gradient is ``g[index]``)."""
    return apply(R.SCATTER_ADD, g, params=(tuple(shape), index))


def exp(x):
    return x.exp()


def log(x):
    return x.log()


def tanh(x):
    return x.tanh()


def sigmoid(x):
    return x.sigmoid()


def softmax(x, axis=-1):
    return x.softmax(axis)


def onehot(y, p):
    """The targets as rows like ``p``: a constant Tensor (labels carry no gradient)."""
    return Tensor(formulas.onehot(y, p.data if isinstance(p, Tensor) else p))


def per_example(g, reduction, p):
    """``formulas.per_example`` on Tensors; an upstream gradient that is a constant (the
    seed of a loss's gradient) gives a constant, computed on its array."""
    if isinstance(g, Tensor) and not g.requires_grad:
        return Tensor(formulas.per_example(g.data, reduction, p))
    return formulas.per_example(g, reduction, p)


TENSOR = {name: formulas.NUMPY[name] for name in SHARED}
TENSOR.update(broadcast_to=broadcast_to, expand=expand, scatter_add=scatter_add, exp=exp,
              log=log, tanh=tanh, sigmoid=sigmoid, softmax=softmax, onehot=onehot,
              per_example=per_example)
