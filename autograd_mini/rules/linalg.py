"""Linear algebra: matrix products in NumPy's four forms (matrix or vector on each side,
with leading batch axes), and transpose."""
import numpy as np

from ..registry import register

FAMILY = "linear algebra"

# A @ B for A (..., n, k) and B (..., k, m).
MATMUL = register(
    "matmul", np.matmul, vjp={"A": "g @ B.mT", "B": "A.mT @ g"},
    expects="A (..., n, k) @ B (..., k, m): A's last axis must equal B's second-to-last",
    family=FAMILY, jvp="dA @ B + A @ dB")
# A @ x for a matrix A (..., n, k) and a vector x (k,): an RNN's W h(t-1) with B = 1.
MATVEC = register(
    "matvec", np.matmul, vjp={"A": "outer(g, x)", "x": "vecmat(g, A)"},
    expects="A (..., n, k) @ x (k,): A's last axis must equal x's length", family=FAMILY,
    jvp="matvec(dA, x) + matvec(A, dx)")
# x @ B for a vector x (k,) and a matrix B (..., k, m).
VECMAT = register(
    "vecmat", np.matmul, vjp={"x": "matvec(B, g)", "B": "outer(x, g)"},
    expects="x (k,) @ B (..., k, m): x's length must equal B's second-to-last axis",
    family=FAMILY, jvp="vecmat(dx, B) + vecmat(x, dB)")
DOT = register("dot", np.matmul, vjp={"a": "g * b", "b": "g * a"},
               expects="two vectors of one length", family=FAMILY,
               jvp="da @ b + db @ a")
TRANSPOSE = register(
    "transpose", lambda x, axes: x.transpose(axes), vjp={"x": "g.transpose(inverse(axes))"},
    params=("axes",), expects="a permutation of the tensor's axes", family=FAMILY,
    jvp="permute(dx, x, axes)")
