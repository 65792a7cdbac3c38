"""autograd_mini: the ordinary user loop of the issue, nothing hand-tuned."""
import numpy as np

from autograd_mini import Tensor, softmax_cross_entropy

from .workload import PARAMS


def build(params, x, y):
    """x: (T, B, D), y: (T, B). Returns ``step()``: one forward + backward, returning
    {name: gradient array} for U, W, V, b, c."""
    U, W, V, b, c = leaves = [Tensor(params[n], requires_grad=True, name=n) for n in PARAMS]
    T, B, _ = x.shape
    H = params["W"].shape[0]
    xs = Tensor(x)

    def step():
        for p in leaves:
            p.grad = None
        h = Tensor(np.zeros((B, H), dtype=x.dtype))
        loss = 0
        for t in range(T):
            a = xs[t] @ U.T + h @ W.T + b
            h = a.tanh()
            o = h @ V.T + c
            loss = loss + softmax_cross_entropy(o, y[t])
        loss.backward()
        return {n: p.grad for n, p in zip(PARAMS, leaves)}

    return step
