"""PyTorch eager: the same loop, one thread. Imported only when torch is installed."""
import numpy as np
import torch
import torch.nn.functional as F

from .workload import PARAMS

torch.set_num_threads(1)


def build(params, x, y):
    """x: (T, B, D), y: (T, B). Returns ``step()`` -> {name: gradient as a NumPy array}."""
    U, W, V, b, c = leaves = [torch.tensor(params[n], requires_grad=True) for n in PARAMS]
    T, B, _ = x.shape
    H = params["W"].shape[0]
    xs = torch.from_numpy(x)
    ys = torch.from_numpy(np.asarray(y, dtype=np.int64))

    def step():
        for p in leaves:
            p.grad = None
        h = torch.zeros((B, H), dtype=xs.dtype)
        loss = 0
        for t in range(T):
            a = xs[t] @ U.T + h @ W.T + b
            h = a.tanh()
            o = h @ V.T + c
            loss = loss + F.cross_entropy(o, ys[t])
        loss.backward()
        return {n: p.grad.numpy() for n, p in zip(PARAMS, leaves)}

    return step
