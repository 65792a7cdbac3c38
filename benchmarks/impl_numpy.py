"""Hand-written NumPy BPTT: the textbook recursion, written to be fast.

All buffers are allocated once in ``build``; each step writes into them with ``out=``
and in-place operators, so an iteration allocates almost nothing. The Python work is a
fixed number of NumPy calls per time step, none per element. This is the baseline every
ratio in the benchmark is taken against.

Reductions call the ufuncs' own ``reduce`` (``np.add.reduce``, ``np.maximum.reduce``):
``np.sum``, ``np.max``, ``ndarray.sum`` and ``np.copyto`` go through NumPy's Python-level
wrappers, about 1 µs each; and dL/do is scaled straight out of p, with no copy first.
With those wrappers and the copy, this loop took 1.22 times as long at the small size
and 1.31 times at tiny (measured 12-02), which made every ratio against it look better
than it was.
"""
import numpy as np

from .workload import PARAMS


def build(params, x, y):
    """x: (T, B, D), y: (T, B). Returns ``step()`` -> {name: gradient array}."""
    U, W, V, b, c = (params[n] for n in PARAMS)
    T, B, D = x.shape
    H, C = W.shape[0], V.shape[0]
    dt = x.dtype
    rows = np.arange(B)
    y = np.asarray(y, dtype=np.intp)
    UT, WT, VT = U.T, W.T, V.T          # views: matmul reads them transposed, no copy

    hs = np.zeros((T + 1, B, H), dt)    # hs[t + 1] = h after step t; hs[0] = h0 = 0
    ps = np.empty((T, B, C), dt)        # ps[t] = softmax(o_t)
    tmp_h = np.empty((B, H), dt)
    m = np.empty((B, 1), dt)            # row max, then row sum of the softmax
    dU, dW, dV = np.empty_like(U), np.empty_like(W), np.empty_like(V)
    db, dc = np.empty_like(b), np.empty_like(c)
    gU, gW, gV = np.empty_like(U), np.empty_like(W), np.empty_like(V)
    gb, gc = np.empty_like(b), np.empty_like(c)
    do = np.empty((B, C), dt)
    dh, da, dh_next = np.empty((B, H), dt), np.empty((B, H), dt), np.empty((B, H), dt)

    # Gradient buffers are closure variables: only in-place calls (out=) write them,
    # since `dU += ...` inside step() would make dU a new local name.
    def step():
        loss = 0.0
        for t in range(T):
            h = hs[t + 1]
            np.matmul(x[t], UT, out=h)              # a = x_t U^T
            np.matmul(hs[t], WT, out=tmp_h)
            h += tmp_h                              #   + h_{t-1} W^T
            h += b                                  #   + b
            np.tanh(h, out=h)                       # h_t = tanh(a)
            p = ps[t]
            np.matmul(h, VT, out=p)                 # o = h_t V^T + c
            p += c
            np.maximum.reduce(p, axis=1, keepdims=True, out=m)
            p -= m                                  # shift: exp never overflows
            np.exp(p, out=p)
            np.add.reduce(p, axis=1, keepdims=True, out=m)
            p /= m                                  # p = softmax(o)
            loss -= np.add.reduce(np.log(p[rows, y[t]]))   # sum_b -log p[b, y_b]
        loss /= B

        for g in (dU, dW, dV, db, dc, dh_next):
            g.fill(0)
        for t in range(T - 1, -1, -1):
            h = hs[t + 1]
            np.multiply(ps[t], 1 / B, out=do)
            do[rows, y[t]] -= 1 / B                 # dL/do = (p - onehot(y)) / B
            np.matmul(do.T, h, out=gV)
            np.add(dV, gV, out=dV)                  # dV += do^T h_t
            np.add.reduce(do, axis=0, out=gc)
            np.add(dc, gc, out=dc)                  # dc += sum_b do
            np.matmul(do, V, out=dh)
            np.add(dh, dh_next, out=dh)             # dh = do V + dh_next
            np.multiply(h, h, out=da)
            np.subtract(1, da, out=da)
            np.multiply(da, dh, out=da)              # da = dh * (1 - h_t^2)
            np.add.reduce(da, axis=0, out=gb)
            np.add(db, gb, out=db)                  # db += sum_b da
            np.matmul(da.T, hs[t], out=gW)
            np.add(dW, gW, out=dW)                  # dW += da^T h_{t-1}
            np.matmul(da.T, x[t], out=gU)
            np.add(dU, gU, out=dU)                  # dU += da^T x_t
            np.matmul(da, W, out=dh_next)           # dh_next = da W
        return {"U": dU, "W": dW, "V": dV, "b": db, "c": dc}

    return step
