"""Hand-written NumPy BPTT with every product hoisted: the floor for ``compiled``.

Only the recurrence runs step by step (h(t) from h(t-1), and dh back through W); the
input projections, the bias, the output layer, the softmax and loss of every step, and
every parameter's gradient are each one operation on all steps stacked.
"""
import numpy as np

from .workload import PARAMS


def build(params, x, y):
    U, W, V, b, c = (params[n] for n in PARAMS)
    T, B, D = x.shape
    H, C = W.shape[0], V.shape[0]
    dt = x.dtype
    y = np.asarray(y, dtype=np.intp)
    t_idx, b_idx = np.meshgrid(np.arange(T), np.arange(B), indexing="ij")
    hs = np.zeros((T + 1, B, H), dt)        # hs[t + 1] = h(t); hs[0] = 0
    dh = np.zeros((T + 1, B, H), dt)
    WT = W.T
    xs, hs2, dh2 = x.reshape(T * B, D), hs[1:].reshape(T * B, H), dh[1:].reshape(T * B, H)

    def step():
        np.matmul(xs, U.T, out=hs2)                 # x(t) U^T for every t
        hs[1:] += b
        for t in range(T):
            h = hs[t + 1]
            h += hs[t] @ WT                         # the recurrence
            np.tanh(h, out=h)
        o = hs2 @ V.T + c                           # every step's output layer
        o -= o.max(axis=1, keepdims=True)
        p = np.exp(o)
        p /= p.sum(axis=1, keepdims=True)
        p = p.reshape(T, B, C)
        loss = -np.log(p[t_idx, b_idx, y]).sum() / B
        p[t_idx, b_idx, y] -= 1
        do = p.reshape(T * B, C) / B                # dL/do for every step
        np.matmul(do, V, out=dh2)
        dV, dc = do.T @ hs2, do.sum(axis=0)
        da = np.empty((B, H), dt)
        dh[0] = 0
        for t in range(T, 0, -1):
            np.multiply(dh[t], 1 - hs[t] * hs[t], out=da)
            dh[t] = da                              # dh now holds da
            dh[t - 1] += da @ W
        da2 = dh2
        dW = da2.T @ hs[:-1].reshape(T * B, H)
        dU = da2.T @ xs
        db = da2.sum(axis=0)
        del loss
        return {"U": dU, "W": dW, "V": dV, "b": db, "c": dc}

    return step
