"""autograd_mini.compile: the same user loop as impl_autograd_mini, compiled once."""
import numpy as np

import autograd_mini
from autograd_mini import Tensor, softmax_cross_entropy

from .workload import PARAMS


def build(params, x, y):
    """x: (T, B, D), y: (T, B). Returns ``step()`` -> {name: gradient array}."""
    U, W, V, b, c = leaves = [Tensor(params[n], requires_grad=True, name=n) for n in PARAMS]
    H = params["W"].shape[0]

    def loss_fn(x, y):
        h = Tensor(np.zeros((x.shape[1], H), dtype=x.dtype))
        loss = 0
        for t in range(x.shape[0]):
            a = x[t] @ U.T + h @ W.T + b
            h = a.tanh()
            o = h @ V.T + c
            loss = loss + softmax_cross_entropy(o, y[t])
        return loss

    compiled = autograd_mini.compile(loss_fn)
    compiled(x, y)                      # the trace (counted in the traced memory)

    def step():
        for p in leaves:
            p.grad = None
        compiled(x, y).backward()
        return {n: p.grad for n, p in zip(PARAMS, leaves)}

    return step
