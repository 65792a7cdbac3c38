"""Linear algebra: matmul in all its NumPy forms, and transpose."""
import numpy as np

from ..registry import register

FAMILY = "linear algebra"


def _matmul_dA(g, out, a, b):
    if a.ndim == 2 and b.ndim == 2:           # the common case first (an RNN's every step)
        return g @ b.T
    if b.ndim == 1:
        if a.ndim == 1:                       # dot product: out is a scalar
            return g * b
        return g[..., None] * b               # (..., n, k) @ (k,): dA = outer(g, b)
    if a.ndim == 1:                           # (k,) @ (..., k, m): dA = B g, summed over batch
        return (b @ g[..., None])[..., 0]
    return g @ b.mT                           # .mT: a transposed view of the last two axes


def _matmul_dB(g, out, a, b):
    if a.ndim == 2 and b.ndim == 2:
        if b.strides[0] < b.strides[1]:
            # B is a transposed view (the W.T of `h @ W.T`): compute dB^T = g^T A and
            # return it transposed, so the gradient has B's layout and the transpose's VJP
            # hands W a contiguous array (summed over T steps, a strided add costs more).
            return (g.T @ a).T
        return a.T @ g
    if a.ndim == 1:
        if b.ndim == 1:
            return g * a
        return a[:, None] * g[..., None, :]   # (k,) @ (..., k, m): dB = outer(a, g)
    if b.ndim == 1:                           # (..., n, k) @ (k,): dB = A^T g, summed over batch
        return (a.mT @ g[..., None])[..., 0]
    return a.mT @ g


# The 2-D VJPs as products, for the engine to stack over the steps that share a weight:
# sum_t g(t) @ B(t)^T and sum_t A(t)^T @ g(t) are each one matmul of stacked factors.
def _matmul_dA_factors(g, out, a, b):
    return (g, b.T) if a.ndim == 2 and b.ndim == 2 else None


def _matmul_dB_factors(g, out, a, b):
    return (a.T, g) if a.ndim == 2 and b.ndim == 2 else None


MATMUL = register(
    "matmul", np.matmul,
    vjps=[_matmul_dA, _matmul_dB],
    factors=[_matmul_dA_factors, _matmul_dB_factors],
    formulas=["dA = g @ B^T", "dB = A^T @ g"],
    expects="A (..., n, k) @ B (..., k, m), or a vector on either side: "
            "A's last axis must equal B's second-to-last",
    family=FAMILY)


def _transpose_vjp(g, out, x_shape, axes):
    if axes is None:
        return g.transpose()
    # The inverse permutation; axes may be negative (-1 is the last axis), so take them
    # modulo ndim first, or argsort would sort (-1, 0) as the identity.
    return g.transpose(np.argsort([a % len(x_shape) for a in axes]))


TRANSPOSE = register(
    "transpose", lambda x, axes: x.transpose(axes),
    vjps=[_transpose_vjp],
    formulas=["dx = g^T"],
    saves="shapes", expects="a permutation of the tensor's axes", family=FAMILY)
