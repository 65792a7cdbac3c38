"""Matrix products written the way a source writes them, with the shapes checked.

NumPy's ``@`` is forgiving with 1-D arrays (it treats a vector as a row or a column as
needed), which would hide exactly the mistake a learner makes: multiplying a column
vector by a matrix. ``mm`` takes named factors, treats a 1-D array as a *column* (the
sources' and the book's convention; use ``row`` for row-vector sources), and raises the
engine's ShapeError naming the two factors and their shapes when a product is undefined.

    mm(("-diag(yhat)", -np.diag(yhat)), ("V^T", V.T), ("M", M))
    ShapeError: undefined product -diag(yhat) (3, 3) times V^T (5, 3): 3 columns against 5 rows
"""
import numpy as np

from autograd_mini.errors import ShapeError


def col(v):
    """A vector as an (n, 1) column."""
    return np.asarray(v, dtype=np.float64).reshape(-1, 1)


def row(v):
    """A vector as a (1, n) row."""
    return np.asarray(v, dtype=np.float64).reshape(1, -1)


def mm(*factors):
    """The product of named factors ``(name, array)``, left to right; 1-D arrays are
    columns. Returns the product as an ndarray (2-D)."""
    if not factors:
        raise ValueError("mm: no factors")
    name, out = _factor(factors[0])
    for nxt in factors[1:]:
        n2, b = _factor(nxt)
        if out.shape[1] != b.shape[0]:
            raise ShapeError(f"undefined product {name} {out.shape} times {n2} {b.shape}: "
                             f"{_count(out.shape[1], 'column')} against "
                             f"{_count(b.shape[0], 'row')}")
        out = out @ b
        name = f"{name} {n2}"
    return out


def _count(n, what):
    return f"{n} {what}{'' if n == 1 else 's'}"


def _factor(f):
    name, a = f
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        a = a.reshape(1, 1)
    elif a.ndim == 1:
        a = a.reshape(-1, 1)
    elif a.ndim != 2:
        raise ShapeError(f"mm: factor {name} has shape {a.shape}; only matrices and vectors")
    return name, a
