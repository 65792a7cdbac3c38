"""Source 001: Yongqiang Huang, "Back Propagation Through Time" (notes, November 2019).

Two networks, both with a loss at every step and no biases, as the notes define them.

Section 1, all scalars, a binary classifier (eqs. 1-3), s_0 given:

    s_t = tanh(U x_t + W s_{t-1})      yhat_t = sigm(V s_t)      E_t = -y_t log yhat_t

Section 2, column vectors (eqs. 19-29), s_0 given:

    z_t = U x_t + W s_{t-1}    s_t = tanh(z_t)    g_t = V s_t    yhat_t = softmax(g_t)
    L_t = -y_t^T log(yhat_t),   L = sum_t L_t                        (eqs. 23, 71-73)

    x_t: M x 1,  z_t, s_t: D x 1,  g_t, yhat_t, y_t: C x 1,  U: D x M,  W: D x D,  V: C x D

The axes are the notes' own: M, D (the hidden size), C, T, and ``act`` and ``target``
(``autograd-mini check 001 --D 1 2 --target counts``). Section 1's values carry the
prefix ``scalar.`` (``scalar.s(3)``, ``scalar.W``) so both networks run side by side;
its claims depend only on T, seed and act, and print only those.

Every numbered equation that states something checkable is a claim below, labelled with
its number. Per the framework's rule, a recursion or a chain is judged on its own: the
factors it does not itself spell out (a total derivative on the right-hand side, the
upstream gradient dL_t/ds_t) are read from autodiff, so each equation's verdict is its own.
"""
import numpy as np

from autograd_mini import Tensor, scope

from ..probe import passthrough
from .framework import Claim, Condition, Network, Source, View, cite, mm, row

TARGETS = ("one-hot", "soft", "counts")
ACTIVATIONS = ("tanh", "identity")      # section 1 only: the notes' tanh, and none at all


# ====================================================================== the networks
def scalar_forward(p, x, y, s0, act="tanh", probe=passthrough):
    """Section 1, eqs. (1)-(3). p: {"scalar.U", "scalar.W", "scalar.V"} 0-d Tensors;
    x, y: (T,) floats (y_t in {0, 1}); s0: float. Returns E = sum_t E_t (a 0-d Tensor).

    ``act="identity"`` drops the tanh (a linear recurrence): the variation that shows
    which of the notes' equations silently assume tanh' = 1."""
    U, W, V = p["scalar.U"], p["scalar.W"], p["scalar.V"]
    s = probe("scalar.s(0)", Tensor(s0))
    E = 0
    for t in range(1, len(x) + 1):
        with scope(f"t={t}"):
            x_t = probe(f"scalar.x({t})", Tensor(x[t - 1]))
            y_t = probe(f"scalar.y({t})", Tensor(y[t - 1]))
            z = U * x_t + W * s
            s = probe(f"scalar.s({t})", z.tanh() if act == "tanh" else z)       # (1)
            yhat = probe(f"scalar.yhat({t})", (V * s).sigmoid())               # (2)
            E = E + probe(f"scalar.E({t})", -y_t * yhat.log())                 # (3)
    return probe("scalar.E", E)


def vector_forward(p, x, Y, s0, probe=passthrough):
    """Section 2, eqs. (19)-(23). p: {"U" (D,M), "W" (D,D), "V" (C,D)} Tensors; x: (T,M,1)
    columns; Y: (T,C,1) target columns; s0: (D,1). Returns L = sum_t L_t (eqs. 71-73).

    Each step uses its own probed copy of U, W, V ("W(3)"), so the gradient on the copy
    is that step's contribution to the shared parameter's gradient."""
    U, W, V = p["U"], p["W"], p["V"]
    s = probe("s(0)", Tensor(s0))
    L = 0
    for t in range(1, len(x) + 1):
        with scope(f"t={t}"):
            x_t = probe(f"x({t})", Tensor(x[t - 1]))
            y_t = probe(f"y({t})", Tensor(Y[t - 1]))
            z = probe(f"z({t})", probe(f"U({t})", U) @ x_t + probe(f"W({t})", W) @ s)  # (19)
            s = probe(f"s({t})", z.tanh())                                         # (20)
            g = probe(f"g({t})", probe(f"V({t})", V) @ s)                          # (21)
            yhat = probe(f"yhat({t})", g.softmax(axis=0))                          # (22)
            L = L + probe(f"L({t})", -(y_t * yhat.log()).sum())                    # (23)
    return probe("L", L)


def targets(kind, T, C, rng):
    """y_t columns, shape (T, C, 1): one-hot, probability rows, or counts not summing to 1."""
    if kind == "one-hot":
        return np.eye(C)[rng.integers(0, C, size=T)][:, :, None]
    if kind == "soft":
        return rng.dirichlet(np.ones(C), size=T)[:, :, None]
    if kind == "counts":
        y = rng.integers(0, 3, size=(T, C)).astype(np.float64)
        y[:, 0] += 2                     # every row sums to at least 2
        return y[:, :, None]
    raise ValueError(f"unknown target kind {kind!r}, expected one of {TARGETS}")


def build(case):
    """Both networks at ``case`` (M, D, C, T, seed, act, target)."""
    # one generator per section: section 1 depends on T, seed and act only, whatever the
    # vector sizes (so a scalar counter-example is reproduced by its own axes)
    r1, rng = np.random.default_rng(case.seed), np.random.default_rng([case.seed, 2])
    M, D, C, T = case.M, case.D, case.C, case.T
    params = {
        # |W| < 1 keeps the linear (act="identity") recurrence bounded over 20 steps
        "scalar.U": r1.normal(0, 0.8), "scalar.W": r1.uniform(0.4, 0.9) * r1.choice([-1, 1]),
        "scalar.V": r1.normal(0, 1.5),
        "U": rng.normal(0, 0.6 / np.sqrt(M), (D, M)), "W": rng.normal(0, 0.6 / np.sqrt(D), (D, D)),
        "V": rng.normal(0, 1.0 / np.sqrt(D), (C, D)),
    }
    xs, ys, s0s = r1.normal(size=T), r1.integers(0, 2, size=T).astype(float), r1.normal(0, 0.5)
    x = rng.normal(size=(T, M, 1))
    Y = targets(case.target, T, C, rng)
    s0 = rng.normal(0, 0.5, (D, 1))

    def forward(p, probe):
        E = scalar_forward(p, xs, ys, s0s, case.act, probe)
        L = vector_forward(p, x, Y, s0, probe)
        return E + L
    return Network(params, forward)


# ====================================================================== section 1 helpers
def _sv(b, name, t):
    return float(b.v(f"scalar.{name}({t})"))


def _act_slope(b, s):
    """ds/dz from the output s: tanh' = 1 - s^2 (the notes' network), identity' = 1."""
    return 1 - s ** 2 if b.case.act == "tanh" else 1.0


def _scalar_chain(b, k, t):
    """s_k -> s_t through steps k+1..t (a map for autodiff)."""
    U, W = b.v("scalar.U"), b.v("scalar.W")
    xs = [_sv(b, "x", i) for i in range(k + 1, t + 1)]
    act = b.case.act

    def chain(s):
        for x in xs:
            z = U * x + W * s
            s = z.tanh() if act == "tanh" else z
        return s
    return chain


def _ds_dP_total(b, P, t):
    """The total derivative ds_t/dP (P = "W" or "U"), by autodiff through all steps."""
    U, W, s0 = b.v("scalar.U"), b.v("scalar.W"), b.v("scalar.s(0)")
    xs = [_sv(b, "x", i) for i in range(1, t + 1)]
    act = b.case.act

    def s_t(param):
        u, w = (Tensor(U), param) if P == "W" else (param, Tensor(W))
        s = Tensor(s0)
        for x in xs:
            z = u * x + w * s
            s = z.tanh() if act == "tanh" else z
        return s
    return float(b.local_jacobian(("scalar ds/d" + P, t), s_t, b.v("scalar." + P)))


def _scalar_ds_ds(b, t, k):
    """The total derivative ds_t/ds_k by autodiff through steps k+1..t."""
    return float(b.local_jacobian(("scalar ds/ds", t, k), _scalar_chain(b, k, t),
                                  b.v(f"scalar.s({k})")))


def _immediate(b, P, k):
    """The immediate partial of s_k = tanh(U x_k + W s_{k-1}) w.r.t. P, s_{k-1} held:
    tanh'(z_k) s_{k-1} for W, tanh'(z_k) x_k for U."""
    other = _sv(b, "s", k - 1) if P == "W" else _sv(b, "x", k)
    return _act_slope(b, _sv(b, "s", k)) * other


def _dE_dyhat_dyhat_ds(b, t):
    """dE_t/dyhat_t * dyhat_t/ds_t = (-y_t / yhat_t) * yhat_t (1 - yhat_t) V."""
    y, yh = _sv(b, "y", t), _sv(b, "yhat", t)
    return (-y / yh) * yh * (1 - yh) * b.v("scalar.V")


def claim_4(b, t):
    y, yh = _sv(b, "y", t), _sv(b, "yhat", t)
    return (-y / yh) * (yh * (1 - yh) * _sv(b, "s", t))     # dyhat_t/dV = sigm' * s_t


def claim_5(b, t):
    return _dE_dyhat_dyhat_ds(b, t) * _ds_dP_total(b, "W", t)


def claim_17(b, t):
    return _dE_dyhat_dyhat_ds(b, t) * _ds_dP_total(b, "U", t)


def claim_7(b, t):
    prev = _ds_dP_total(b, "W", t - 1) if t > 1 else 0.0     # s_0 is given: ds_0/dW = 0
    ds_dsprev = _act_slope(b, _sv(b, "s", t)) * b.v("scalar.W")
    return _immediate(b, "W", t) + ds_dsprev * prev


def claim_11(b, t):
    return sum(_scalar_ds_ds(b, t, k) * _immediate(b, "W", k) for k in range(1, t + 1))


def _one_step(b, i):
    """ds_i/ds_{i-1} by autodiff of the single step i."""
    return float(b.local_jacobian(("scalar ds/ds", i, i - 1), _scalar_chain(b, i - 1, i),
                                  b.v(f"scalar.s({i - 1})")))


def claim_13(b, t):
    return np.array([np.prod([_one_step(b, i) for i in range(k + 1, t + 1)])
                     for k in range(1, t + 1)])


def ds_ds_stack(b, t):
    return np.array([_scalar_ds_ds(b, t, k) for k in range(1, t + 1)])


def claim_15(b, t):
    W = b.v("scalar.W")
    return np.array([W ** (t - k) for k in range(1, t + 1)])


def _scalar_chain_manual(b, t, k):
    """The right ds_t/ds_k: prod_{i=k+1}^t tanh'(z_i) W."""
    W = b.v("scalar.W")
    return np.prod([_act_slope(b, _sv(b, "s", i)) * W for i in range(k + 1, t + 1)])


def corrected_15(b, t):
    return np.array([_scalar_chain_manual(b, t, k) for k in range(1, t + 1)])


def claim_16(P):
    def f(b, t):
        W = b.v("scalar.W")
        return sum(W ** (t - k) * _immediate(b, P, k) for k in range(1, t + 1))
    return f


def corrected_16(P):
    def f(b, t):
        return sum(_scalar_chain_manual(b, t, k) * _immediate(b, P, k)
                   for k in range(1, t + 1))
    return f


def full_scalar(P, inner):
    """The notes' final dE_t/dP: (5) or (17) with the sum (16) or (18) substituted."""
    def f(b, t):
        return _dE_dyhat_dyhat_ds(b, t) * inner(P)(b, t)
    return f


def actual_ds_dP(P):
    return lambda b, t: _ds_dP_total(b, P, t)


def actual_dE(P):
    return lambda b, t: b.grad("scalar." + P, of=f"scalar.E({t})")


# ====================================================================== section 2 helpers
def _v(b, name, t):
    return b.v(f"{name}({t})")


def _slope(b, i):
    """(62): ds_i/dz_i = diag(1 - s_i^2), a D x D matrix."""
    return np.diag(1 - _v(b, "s", i).ravel() ** 2)


def _chain(b, k, t):
    """s_k -> s_t through steps k+1..t of (19)-(20), for autodiff."""
    U, W = Tensor(b.v("U")), Tensor(b.v("W"))
    xs = [Tensor(_v(b, "x", i)) for i in range(k + 1, t + 1)]

    def chain(s):
        for x in xs:
            s = (U @ x + W @ s).tanh()
        return s
    return chain


def ds_ds(b, t, k):
    """ds_t/ds_k (D x D) by autodiff through steps k+1..t (the identity when k = t)."""
    D = b.v("W").shape[0]
    return b.local_jacobian(("ds/ds", t, k), _chain(b, k, t), _v(b, "s", k)).reshape(D, D)


def ds_ds_all(b, t):
    """ds_t/ds_k for k = 1..t, stacked: (t, D, D)."""
    return np.stack([ds_ds(b, t, k) for k in range(1, t + 1)])


def _ordered(b, t, k):
    """The right ds_t/ds_k: diag(1 - s_t^2) W diag(1 - s_{t-1}^2) W ... diag(1 - s_{k+1}^2) W,
    the factors in the order of (58), step t on the left."""
    D = b.v("W").shape[0]
    factors = [("I", np.eye(D))]
    for i in range(t, k, -1):
        factors += [(f"diag(1 - s_{i}^2)", _slope(b, i)), ("W", b.v("W"))]
    return mm(*factors)


def claim_58(b, t):
    """(58)-(60): the product, from step t down, of ds_i/dz_i dz_i/ds_{i-1}, each factor a
    single-step Jacobian by autodiff."""
    D = b.v("W").shape[0]
    out = []
    for k in range(1, t + 1):
        factors = [("I", np.eye(D))]
        for i in range(t, k, -1):
            factors += [(f"ds_{i}/dz_{i}", dsdz_autodiff(b, i)),
                        (f"dz_{i}/ds_{i - 1}", dzds_autodiff(b, i))]
        out.append(mm(*factors))
    return np.stack(out)


def dsdz_autodiff(b, i):
    D = b.v("W").shape[0]
    return b.local_jacobian(("ds/dz", i), lambda z: z.tanh(), _v(b, "z", i)).reshape(D, D)


def dzds_autodiff(b, i):
    D = b.v("W").shape[0]
    U, W, x = Tensor(b.v("U")), Tensor(b.v("W")), Tensor(_v(b, "x", i))
    return b.local_jacobian(("dz/ds", i), lambda s: U @ x + W @ s,
                            _v(b, "s", i - 1)).reshape(D, D)


def claim_62(b, t):
    return _slope(b, t)


def claim_63_first(b, t):
    """prod_{i=k+1}^t (ds_i/dz_i W), the factors in the order of (58), step t on the left."""
    return np.stack([_ordered(b, t, k) for k in range(1, t + 1)])


def claim_63(b, t):
    """W^{t-k} prod_{i=k+1}^t diag(1 - s_i^2), for k = 1..t."""
    W, D = b.v("W"), b.v("W").shape[0]
    out = []
    for k in range(1, t + 1):
        factors = [(f"W^{t - k}", np.linalg.matrix_power(W, t - k))]
        factors += [(f"diag(1 - s_{i}^2)", _slope(b, i)) for i in range(k + 1, t + 1)]
        factors.append(("I", np.eye(D)))
        out.append(mm(*factors))
    return np.stack(out)


def corrected_63(b, t):
    return np.stack([_ordered(b, t, k) for k in range(1, t + 1)])


def dz_dP(b, P, k):
    """dz_k/dP as a third-order tensor [a, i, j] = 1(a = i) * (s_{k-1} for W, x_k for U)_j:
    "a row of z_k only uses the same row of" the matrix (the notes' (48)-(50) reasoning)."""
    D = b.v("W").shape[0]
    v = (_v(b, "s", k - 1) if P == "W" else _v(b, "x", k)).ravel()
    return np.einsum("ai,j->aij", np.eye(D), v)


def immediate_autodiff(b, P, k):
    """The immediate ds_k/dP (s_{k-1} held fixed), D x (shape of P), by autodiff."""
    U, W = b.v("U"), b.v("W")
    x, s_prev = Tensor(_v(b, "x", k)), Tensor(_v(b, "s", k - 1))
    if P == "W":
        fn = lambda w: (Tensor(U) @ x + w @ s_prev).tanh()       # noqa: E731
    else:
        fn = lambda u: (u @ x + Tensor(W) @ s_prev).tanh()       # noqa: E731
    jac = b.local_jacobian(("ds/d" + P + " immediate", k), fn, b.v(P))
    return jac.reshape((jac.shape[0],) + b.v(P).shape)


def claim_64(b, t):
    """ds_k/dz_k (autodiff) contracted with dz_k/dW (element form)."""
    return np.einsum("ab,bij->aij", dsdz_autodiff(b, t), dz_dP(b, "W", t))


def _row_times_tensor(r, tensor):
    """A 1 x D row times a D x (m x n) tensor: sum over the tensor's first index."""
    return np.einsum("a,aij->ij", np.ravel(r), tensor)


def dL_ds(b, t):
    """dL_t/ds_t by autodiff, as the notes' 1 x D row."""
    return row(b.grad(f"s({t})", of=f"L({t})"))


def claim_57(P):
    """(57)/(65) for W, (68) for U: sum_k dL_t/ds_t ds_t/ds_k ds_k/dP, every factor by
    autodiff (ds_k/dP the immediate one)."""
    def f(b, t):
        return sum(_row_times_tensor(mm(("dL_t/ds_t", dL_ds(b, t)),
                                        (f"ds_t/ds_{k}", ds_ds(b, t, k))),
                                     immediate_autodiff(b, P, k))
                   for k in range(1, t + 1))
    return f


def claim_67(P, ordered=False):
    """(66)-(67) for W, (69) for U: sum_k dL_t/ds_t W^{t-k} (prod_{i=k}^t ds_i/dz_i) dz_k/dP;
    ``ordered=True`` is the corrected form (the factors in the order of (58))."""
    def f(b, t):
        W = b.v("W")
        total = 0
        for k in range(1, t + 1):
            if ordered:
                left = mm(("dL_t/ds_t", dL_ds(b, t)), ("ds_t/ds_k", _ordered(b, t, k)),
                          (f"diag(1 - s_{k}^2)", _slope(b, k)))
            else:
                factors = [("dL_t/ds_t", dL_ds(b, t)),
                           (f"W^{t - k}", np.linalg.matrix_power(W, t - k))]
                factors += [(f"diag(1 - s_{i}^2)", _slope(b, i)) for i in range(k, t + 1)]
                left = mm(*factors)
            total = total + _row_times_tensor(left, dz_dP(b, P, k))
        return total
    return f


def claim_72(P):
    """(72)/(73) from the notes' own parts: sum_t of (67)/(69), with dL_t/ds_t from (56)."""
    def f(b, t):
        total = 0
        for s in range(1, b.T + 1):
            W = b.v("W")
            dL_ds = claim_56(b, s)
            for k in range(1, s + 1):
                factors = [("dL_t/ds_t (56)", dL_ds),
                           (f"W^{s - k}", np.linalg.matrix_power(W, s - k))]
                factors += [(f"diag(1 - s_{i}^2)", _slope(b, i)) for i in range(k, s + 1)]
                total = total + _row_times_tensor(mm(*factors), dz_dP(b, P, k))
        return total
    return f


def corrected_72(P):
    def f(b, t):
        return sum(claim_67(P, ordered=True)(b, s) for s in range(1, b.T + 1))
    return f


def claim_70(b, t):
    """(x . dL/dy)^T for y = Wx, applied to g_t = V s_t: (s_t dL_t/dg_t)^T."""
    return mm(("s_t", _v(b, "s", t)), ("dL_t/dg_t", row(b.grad(f"g({t})", of=f"L({t})")))).T


def claim_71(b, t):
    return np.concatenate([sum(b.grad(P, of=f"L({k})") for k in range(1, b.T + 1)).ravel()
                           for P in ("V", "W", "U")])


def actual_71(b, t):
    return np.concatenate([b.grad(P).ravel() for P in ("V", "W", "U")])


def dyhat_dg(b, t):
    C = _v(b, "g", t).shape[0]
    return b.local_jacobian(("dyhat/dg", t), lambda g: g.softmax(axis=0),
                            _v(b, "g", t)).reshape(C, C)


def claim_36(b, t):
    yh = _v(b, "yhat", t).ravel()
    C = len(yh)
    return np.array([[yh[i] * ((i == j) - yh[j]) for j in range(C)] for i in range(C)])


def claim_42(b, t):
    yh, y = _v(b, "yhat", t).ravel(), _v(b, "y", t).ravel()
    return np.sum(y) * yh - y


def claim_44(b, t):
    return (_v(b, "yhat", t) - _v(b, "y", t)).T


def claim_50(b, t):
    s, C = _v(b, "s", t).ravel(), _v(b, "g", t).shape[0]
    return np.einsum("ki,j->kij", np.eye(C), s)


def dg_dV(b, t):
    s = Tensor(_v(b, "s", t))
    C, D = b.v("V").shape
    return b.local_jacobian(("dg/dV", t), lambda V: V @ s, b.v("V")).reshape(C, C, D)


def claim_54(b, t):
    return mm(("yhat_t - y_t", _v(b, "yhat", t) - _v(b, "y", t)), ("s_t^T", _v(b, "s", t).T))


def claim_56(b, t):
    return mm(("(yhat_t - y_t)^T", (_v(b, "yhat", t) - _v(b, "y", t)).T), ("V", b.v("V")))


# ====================================================================== the claims
SUMS_TO_ONE = Condition("y_t sums to 1 (one-hot or a probability row)",
                        lambda case, t: case.target in ("one-hot", "soft"), assumption=True)

S1, S2 = "section 1 (scalar)", "section 2 (vector)"
SCALAR = ("T", "seed", "act")                        # what section 1's network depends on
VECTOR = ("M", "D", "C", "T", "seed", "target")      # and section 2's
_TOTAL_NOTE = ("ds_t/d{P} on the right is the total derivative, taken from autodiff, so the "
               "chain itself is judged")
_SUM16 = "sum_k W^(t-k) (prod_(i=k+1)^t tanh'(z_i)) ds_k/d{P}, ds_k/d{P} = tanh'(z_k) {v}"
_TANH = ("missing factor: drops tanh'(z_i) = 1 - s_i^2 between steps (ds_i/ds_(i-1) is "
         "tanh'(z_i) W, not W)")
_ORDER = ("order: moves every W left of every diag(1 - s_i^2), and W diag(.) != diag(.) W "
          "unless D = 1")
_ONE_HOT = "the notes assume y_t one-hot from (43) on: (42) is (sum_k y_t,k) yhat_t - y_t"

CLAIMS = [
    # ------------------------------------------------------------------ section 1
    Claim("(4)", "dE_t/dV = dE_t/dyhat_t dyhat_t/dV",
          claimed=claim_4, actual=actual_dE("V"), actual_text="dE_t/dV by autodiff",
          steps="each", where=S1, axes=SCALAR,
          note="each factor computed: dE_t/dyhat_t = -y_t / yhat_t, dyhat_t/dV = yhat_t "
               "(1 - yhat_t) s_t"),
    Claim("(5)", "dE_t/dW = dE_t/dyhat_t dyhat_t/ds_t ds_t/dW",
          claimed=claim_5, actual=actual_dE("W"), actual_text="dE_t/dW by autodiff",
          steps="each", where=S1, axes=SCALAR, note=_TOTAL_NOTE.format(P="W")),
    Claim("(7)", "ds_t/dW = ds_t/dW dW/dW + ds_t/ds_{t-1} ds_{t-1}/dW (total derivative "
          "(6): immediate part plus the path through s_{t-1})",
          claimed=claim_7, actual=actual_ds_dP("W"),
          actual_text="the total ds_t/dW by autodiff", steps="each", where=S1, axes=SCALAR,
          note="ds_{t-1}/dW on the right from autodiff; ds_t/ds_{t-1} = tanh'(z_t) W"),
    Claim("(8)-(12)", "ds_t/dW = sum_{1<=k<=t} ds_t/ds_k ds_k/dW (ds_k/dW: the immediate "
          "part; (8)-(10) are t = 3)",
          claimed=claim_11, actual=actual_ds_dP("W"),
          actual_text="the total ds_t/dW by autodiff", steps="each", where=S1, axes=SCALAR,
          note="ds_t/ds_k from autodiff, so the decomposition itself is judged"),
    Claim("(13)", "ds_t/ds_k = ds_t/ds_{t-1} ds_{t-1}/ds_{t-2} ... ds_{k+1}/ds_k (for each k)",
          claimed=claim_13, actual=lambda b, t: ds_ds_stack(b, t),
          actual_text="ds_t/ds_k by autodiff through steps k+1..t, for k = 1..t",
          steps="each", where=S1, axes=SCALAR,
          note="each one-step factor ds_i/ds_{i-1} by autodiff of that step alone"),
    Claim("(14)-(15)", "ds_t/ds_k = W . W . W ... = W^(t-k) (for each k)",
          claimed=claim_15, actual=lambda b, t: ds_ds_stack(b, t),
          actual_text="ds_t/ds_k by autodiff through steps k+1..t, for k = 1..t",
          steps="each", where=S1, axes=SCALAR,
          corrected=corrected_15,
          corrected_text="ds_t/ds_k = prod_(i=k+1)^t tanh'(z_i) W = prod (1 - s_i^2) W",
          why=_TANH),
    Claim("(16)", "ds_t/dW = sum_{1<=k<=t} W^(t-k) ds_k/dW",
          claimed=claim_16("W"), actual=actual_ds_dP("W"),
          actual_text="the total ds_t/dW by autodiff", steps="each", where=S1, axes=SCALAR,
          corrected=corrected_16("W"),
          corrected_text=_SUM16.format(P="W", v="s_(k-1)"), why=_TANH),
    Claim("(5) with (16)", "dE_t/dW = dE_t/dyhat_t dyhat_t/ds_t sum_k W^(t-k) ds_k/dW (the "
          "notes' result for W)",
          claimed=full_scalar("W", claim_16), actual=actual_dE("W"),
          actual_text="dE_t/dW by autodiff", steps="each", where=S1, axes=SCALAR,
          corrected=full_scalar("W", corrected_16),
          corrected_text="(-y_t / yhat_t) yhat_t (1 - yhat_t) V " + _SUM16.format(
              P="W", v="s_(k-1)"), why=_TANH + ", through (16)"),
    Claim("(17)", "dE_t/dU = dE_t/dyhat_t dyhat_t/ds_t ds_t/dU",
          claimed=claim_17, actual=actual_dE("U"), actual_text="dE_t/dU by autodiff",
          steps="each", where=S1, axes=SCALAR, note=_TOTAL_NOTE.format(P="U")),
    Claim("(18)", "ds_t/dU = sum_{1<=k<=t} W^(t-k) ds_k/dU",
          claimed=claim_16("U"), actual=actual_ds_dP("U"),
          actual_text="the total ds_t/dU by autodiff", steps="each", where=S1, axes=SCALAR,
          corrected=corrected_16("U"), corrected_text=_SUM16.format(P="U", v="x_k"),
          why=_TANH),
    Claim("(17) with (18)", "dE_t/dU = dE_t/dyhat_t dyhat_t/ds_t sum_k W^(t-k) ds_k/dU (the "
          "notes' result for U)",
          claimed=full_scalar("U", claim_16), actual=actual_dE("U"),
          actual_text="dE_t/dU by autodiff", steps="each", where=S1, axes=SCALAR,
          corrected=full_scalar("U", corrected_16),
          corrected_text="(-y_t / yhat_t) yhat_t (1 - yhat_t) V " + _SUM16.format(
              P="U", v="x_k"), why=_TANH + ", through (18)"),
    # ------------------------------------------------------------------ section 2
    Claim("(32)", "dL_t/dyhat_t = [-y_t,1 / yhat_t,1, ..., -y_t,C / yhat_t,C] (1 x C)",
          claimed=lambda b, t: row(-_v(b, "y", t) / _v(b, "yhat", t)),
          actual=lambda b, t: b.grad(f"yhat({t})", of=f"L({t})"),
          actual_text="dL_t/dyhat_t by autodiff", steps="each", where=S2, axes=VECTOR),
    Claim("(35)-(36)", "dyhat_t,i/dg_t,j = yhat_t,i (1(i=j) - yhat_t,j)",
          claimed=claim_36, actual=dyhat_dg,
          actual_text="the Jacobian dyhat_t/dg_t by autodiff (jacobian)", steps="each",
          where=S2, axes=VECTOR),
    Claim("(38)-(42)", "dL_t/dg_t,i = (sum_k y_t,k) yhat_t,i - y_t,i",
          claimed=claim_42, actual=lambda b, t: b.grad(f"g({t})", of=f"L({t})"),
          actual_text="dL_t/dg_t by autodiff", steps="each", where=S2, axes=VECTOR),
    Claim("(43)-(44)", "dL_t/dg_t = (yhat_t - y_t)^T",
          claimed=claim_44, actual=lambda b, t: b.grad(f"g({t})", of=f"L({t})"),
          actual_text="dL_t/dg_t by autodiff", steps="each", where=S2, axes=VECTOR,
          corrected=lambda b, t: claim_42(b, t),
          corrected_text="(sum_k y_t,k) yhat_t - y_t, i.e. (42) before assuming one-hot",
          why=_ONE_HOT),
    Claim("(49)-(50)", "dg_t,k/dV_i,j = 1(i=k) s_t,j (the C x (C x D) tensor, by elements)",
          claimed=claim_50, actual=dg_dV,
          actual_text="the third-order Jacobian dg_t/dV by autodiff (jacobian)",
          steps="each", where=S2, axes=VECTOR),
    Claim("(53)-(54)", "dL_t/dV = (yhat_t - y_t) s_t^T",
          claimed=claim_54, actual=lambda b, t: b.grad("V", of=f"L({t})"),
          actual_text="dL_t/dV by autodiff", steps="each", where=S2, axes=VECTOR,
          corrected=lambda b, t: mm(("dL_t/dg_t", claim_42(b, t)), ("s_t^T", _v(b, "s", t).T)),
          corrected_text="((sum_k y_t,k) yhat_t - y_t) s_t^T", why=_ONE_HOT),
    Claim("(56)", "dL_t/ds_t = dL_t/dg_t dg_t/ds_t = (yhat_t - y_t)^T V (1 x D)",
          claimed=claim_56, actual=lambda b, t: b.grad(f"s({t})", of=f"L({t})"),
          actual_text="dL_t/ds_t by autodiff", steps="each", where=S2, axes=VECTOR,
          corrected=lambda b, t: mm(("dL_t/dg_t", row(claim_42(b, t))), ("V", b.v("V"))),
          corrected_text="((sum_k y_t,k) yhat_t - y_t)^T V", why=_ONE_HOT),
    Claim("(57)/(65)", "dL_t/dW = sum_{k=1}^t dL_t/ds_t ds_t/ds_k ds_k/dW",
          claimed=claim_57("W"), actual=lambda b, t: b.grad("W", of=f"L({t})"),
          actual_text="dL_t/dW by autodiff", steps="each", where=S2, axes=VECTOR,
          note="every factor by autodiff (ds_k/dW the immediate, third-order one)"),
    Claim("(58)-(60)", "ds_t/ds_k = prod_{i=k+1}^t ds_i/dz_i dz_i/ds_{i-1}, factors in the "
          "order of (58) (step t on the left)",
          claimed=claim_58, actual=ds_ds_all,
          actual_text="ds_t/ds_k by autodiff through steps k+1..t, for k = 1..t",
          steps="each", where=S2, axes=VECTOR, note="each single-step factor by autodiff"),
    Claim("(62)", "ds_i/dz_i = diag(1 - s_i,1^2, ..., 1 - s_i,D^2)",
          claimed=claim_62, actual=dsdz_autodiff,
          actual_text="the Jacobian ds_t/dz_t by autodiff (jacobian)", steps="each",
          where=S2, axes=VECTOR),
    Claim("(63) first", "ds_t/ds_k = prod_{i=k+1}^t ds_i/dz_i W (each diag next to its W, "
          "step t on the left, as in (58))",
          claimed=claim_63_first, actual=ds_ds_all,
          actual_text="ds_t/ds_k by autodiff through steps k+1..t, for k = 1..t",
          steps="each", where=S2, axes=VECTOR),
    Claim("(63) second", "ds_t/ds_k = W^(t-k) prod_{i=k+1}^t ds_i/dz_i",
          claimed=claim_63, actual=ds_ds_all,
          actual_text="ds_t/ds_k by autodiff through steps k+1..t, for k = 1..t",
          steps="each", where=S2, axes=VECTOR, corrected=corrected_63,
          corrected_text="diag(1 - s_t^2) W diag(1 - s_(t-1)^2) W ... diag(1 - s_(k+1)^2) W "
                         "(matrices do not commute: keep each diag next to its W)",
          why=_ORDER),
    Claim("(64)", "ds_k/dW = ds_k/dz_k dz_k/dW (immediate; a D x (D x D) tensor)",
          claimed=claim_64, actual=lambda b, t: immediate_autodiff(b, "W", t),
          actual_text="the immediate ds_t/dW (s_(t-1) held) by autodiff (jacobian)",
          steps="each", where=S2, axes=VECTOR,
          note="ds_k/dz_k by autodiff; dz_k/dW by elements: 1(a=i) s_(k-1),j"),
    Claim("(66)-(67)", "dL_t/dW = sum_k dL_t/ds_t W^(t-k) (prod_{i=k}^t ds_i/dz_i) dz_k/dW",
          claimed=claim_67("W"), actual=lambda b, t: b.grad("W", of=f"L({t})"),
          actual_text="dL_t/dW by autodiff", steps="each", where=S2, axes=VECTOR,
          corrected=claim_67("W", ordered=True),
          corrected_text="sum_k dL_t/ds_t [diag(1 - s_t^2) W ... diag(1 - s_(k+1)^2) W] "
                         "diag(1 - s_k^2) dz_k/dW", why=_ORDER + ", from (63)",
          note="dL_t/ds_t from autodiff, so only the reordering of (63) is judged"),
    Claim("(68)", "dL_t/dU = sum_{k=1}^t dL_t/ds_t ds_t/ds_k ds_k/dU",
          claimed=claim_57("U"), actual=lambda b, t: b.grad("U", of=f"L({t})"),
          actual_text="dL_t/dU by autodiff", steps="each", where=S2, axes=VECTOR,
          note="every factor by autodiff (ds_k/dU the immediate one)"),
    Claim("(69)", "dL_t/dU = sum_k dL_t/ds_t W^(t-k) (prod_{i=k}^t ds_i/dz_i) dz_k/dU",
          claimed=claim_67("U"), actual=lambda b, t: b.grad("U", of=f"L({t})"),
          actual_text="dL_t/dU by autodiff", steps="each", where=S2, axes=VECTOR,
          corrected=claim_67("U", ordered=True),
          corrected_text="sum_k dL_t/ds_t [diag(1 - s_t^2) W ... diag(1 - s_(k+1)^2) W] "
                         "diag(1 - s_k^2) dz_k/dU", why=_ORDER + ", from (63)",
          note="dL_t/ds_t from autodiff, so only the reordering of (63) is judged"),
    Claim("(70)", "for y = Wx: dL/dW = (x . dL/dy)^T (applied to g_t = V s_t)",
          claimed=claim_70, actual=lambda b, t: b.grad("V", of=f"L({t})"),
          actual_text="dL_t/dV by autodiff", steps="each", where=S2, axes=VECTOR,
          note="dL_t/dg_t by autodiff, as the 1 x C row of the notes' convention"),
    Claim("(71)-(73)", "dL/dV = sum_t dL_t/dV, dL/dW = sum_t dL_t/dW, dL/dU = sum_t dL_t/dU",
          claimed=claim_71, actual=actual_71,
          actual_text="dL/dV, dL/dW, dL/dU of L = sum_t L_t by autodiff (one backward)",
          steps=None, where=S2, axes=VECTOR, note="each dL_t/dP by its own backward from L_t"),
    Claim("(72) with (67)", "dL/dW = sum_t dL_t/dW, each dL_t/dW by (66)-(67) with dL_t/ds_t "
          "by (56): the notes' final gradient for W, built from their own parts",
          claimed=claim_72("W"), actual=lambda b, t: b.grad("W"),
          actual_text="dL/dW of L = sum_t L_t by autodiff", steps=None, where=S2,
          axes=VECTOR, corrected=corrected_72("W"),
          corrected_text="sum_t of the corrected (66)-(67), with dL_t/ds_t from autodiff",
          why=_ORDER + " (through (67)); and (56) needs y_t one-hot"),
    Claim("(73) with (69)", "dL/dU = sum_t dL_t/dU, each dL_t/dU by (69) with dL_t/ds_t by "
          "(56): the notes' final gradient for U, built from their own parts",
          claimed=claim_72("U"), actual=lambda b, t: b.grad("U"),
          actual_text="dL/dU of L = sum_t L_t by autodiff", steps=None, where=S2,
          axes=VECTOR, corrected=corrected_72("U"),
          corrected_text="sum_t of the corrected (69), with dL_t/ds_t from autodiff",
          why=_ORDER + " (through (69)); and (56) needs y_t one-hot"),
]


# ====================================================================== per-step views
def view_states(b):
    """dL/ds_t for every step (section 2) and dE/ds_t (section 1)."""
    ts = list(range(1, b.T + 1))
    return View("gradient on each hidden state (section 2: dL/ds_t, L = sum L_t; section 1: "
                "dE/ds_t, E = sum E_t)", ts,
                {"dL/ds_t": [b.grad(f"s({t})") for t in ts],
                 "dE/ds_t (scalar)": [b.grad(f"scalar.s({t})", of="scalar.E") for t in ts]})


def view_contributions(b):
    """Each step's contribution dL/dP^(t) to the shared W, U, V (section 2)."""
    ts = list(range(1, b.T + 1))
    return View("each step's contribution dL/dP^(t) to the shared parameters", ts,
                {f"dL/d{P}^(t)": [b.grad(f"{P}({t})") for t in ts] for P in "WUV"},
                {f"dL/d{P}^(t)": (f"dL/d{P}", b.grad(P)) for P in "WUV"})


cite(CLAIMS, {
    '(4)': (19, r'\frac{\partial E_t}{\partial V} = \frac{\partial E_t}{\partial \hat{y}_t}',
            r'\frac{\partial E_t}{\partial V} = \frac{\partial E_t}{\partial '
            r'\hat{y}_t} \frac{\partial \hat{y}_t}{\partial V}'),
    '(5)': (23, r'\frac{\partial \hat{y}_t}{\partial s_t} \frac{\partial s_t}{\partial W}',
            r'\frac{\partial E_t}{\partial W} = \frac{\partial E_t}{\partial '
            r'\hat{y}_t} \frac{\partial \hat{y}_t}{\partial s_t} \frac{\partial '
            r's_t}{\partial W}'),
    '(7)': (32, r'\frac{\partial s_t}{\partial s_{t-1}} \frac{\partial s_{t-1}}{\partial W}',
            r'\frac{\partial s_t}{\partial W} = \frac{\partial s_t}{\partial W} '
            r'\frac{\partial W}{\partial W} + \frac{\partial s_t}{\partial '
            r's_{t-1}} \frac{\partial s_{t-1}}{\partial W}'),
    '(8)-(12)': (48, r'\sum_{1 \le k \le t} \frac{\partial s_t}{\partial s_k}',
                 r'\frac{\partial s_t}{\partial W} = \sum_{1 \le k \le t} '
                 r'\frac{\partial s_t}{\partial s_k} \frac{\partial s_k}{\partial W}'),
    '(13)': (55, r'\cdots \frac{\partial s_{k+1}}{\partial s_k}',
             r'\frac{\partial s_t}{\partial s_k} \frac{\partial s_k}{\partial W} '
             r'= \frac{\partial s_t}{\partial s_{t-1}} \frac{\partial '
             r's_{t-1}}{\partial s_{t-2}} \frac{\partial s_{t-2}}{\partial '
             r's_{t-3}} \cdots \frac{\partial s_{k+1}}{\partial s_k} '
             r'\frac{\partial s_k}{\partial W}'),
    '(14)-(15)': (58, r'W \cdot W \cdot W',
                  r'\frac{\partial s_t}{\partial s_k} = W \cdot W \cdot W \cdots = '
                  r'W^{t-k}'),
    '(16)': (64, r'\sum_{1 \le k \le t} W^{t-k} \frac{\partial s_k}{\partial W}',
             r'\frac{\partial s_t}{\partial W} = \sum_{1 \le k \le t} W^{t-k} '
             r'\frac{\partial s_k}{\partial W}'),
    '(5) with (16)': (64, r'W^{t-k} \frac{\partial s_k}{\partial W}',
                      r'\frac{\partial E_t}{\partial W} = \frac{\partial E_t}{\partial '
                      r'\hat{y}_t} \frac{\partial \hat{y}_t}{\partial s_t} \sum_{1 \le k '
                      r'\le t} W^{t-k} \frac{\partial s_k}{\partial W}'),
    '(17)': (68, r'\frac{\partial s_t}{\partial U}',
             r'\frac{\partial E_t}{\partial U} = \frac{\partial E_t}{\partial '
             r'\hat{y}_t} \frac{\partial \hat{y}_t}{\partial s_t} \frac{\partial '
             r's_t}{\partial U}'),
    '(18)': (72, r'W^{t-k} \frac{\partial s_k}{\partial U}',
             r'\frac{\partial s_t}{\partial U} = \sum_{1 \le k \le t} W^{t-k} '
             r'\frac{\partial s_k}{\partial U}'),
    '(17) with (18)': (72, r'W^{t-k} \frac{\partial s_k}{\partial U}',
                       r'\frac{\partial E_t}{\partial U} = \frac{\partial E_t}{\partial '
                       r'\hat{y}_t} \frac{\partial \hat{y}_t}{\partial s_t} \sum_{1 \le k '
                       r'\le t} W^{t-k} \frac{\partial s_k}{\partial U}'),
    '(32)': (114, r'-\frac{y_{t,1}}{\hat{y}_{t,1}}',
             r'\frac{\partial L_t}{\partial \hat{y}_t} = '
             r'\left[-\frac{y_{t,1}}{\hat{y}_{t,1}}, '
             r'-\frac{y_{t,2}}{\hat{y}_{t,2}}, \cdots, '
             r'-\frac{y_{t,C}}{\hat{y}_{t,C}} \right]'),
    '(35)-(36)': (133, r'\hat{y}_{t,i}(\mathbf{1}(i=j) - \hat{y}_{t,j})',
                  r'\frac{\partial \hat{y}_{t,i}}{\partial g_{t,j}} = '
                  r'\hat{y}_{t,i}(\mathbf{1}(i=j) - \hat{y}_{t,j})'),
    '(38)-(42)': (155, r'(\sum_{k=1}^{C} y_{t,k})\hat{y}_{t,i} - y_{t,i}',
                  r'\frac{\partial L_t}{\partial g_{t,i}} = (\sum_{k=1}^{C} '
                  r'y_{t,k})\hat{y}_{t,i} - y_{t,i}'),
    '(43)-(44)': (162, r'(\hat{y}_t - y_t)^\top',
                  r'\frac{\partial L_t}{\partial g_t} = (\hat{y}_t - y_t)^\top'),
    '(49)-(50)': (192, r'\mathbf{1}(i=k)s_{t,j}',
                  r'\frac{\partial g_{t,k}}{\partial V_{i,j}} = \mathbf{1}(i=k)s_{t,j}'),
    '(53)-(54)': (206, r'(\hat{y}_t - y_t) s_t^{\top}',
                  r'\frac{\partial L_t}{\partial V} = (\hat{y}_t - y_t) s_t^{\top}'),
    '(56)': (214, r'(\hat{y}_t - y_t)^\top V',
             r'\frac{\partial L_t}{\partial s_t} = \frac{\partial L_t}{\partial '
             r'g_t} \frac{\partial g_t}{\partial s_t} = (\hat{y}_t - y_t)^\top V'),
    '(57)/(65)': (218, r'\frac{\partial s_t}{\partial s_k} \frac{\partial s_k}{\partial W}',
                  r'\frac{\partial L_t}{\partial W} = \sum_{k=1}^t \frac{\partial '
                  r'L_t}{\partial s_t} \frac{\partial s_t}{\partial s_k} '
                  r'\frac{\partial s_k}{\partial W}'),
    '(58)-(60)': (228, r'\frac{\partial s_i}{\partial z_i} \frac{\partial z_i}{\partial s_{i-1}}',
                  r'\frac{\partial s_t}{\partial s_k} = \prod_{i=k+1}^{t} '
                  r'\frac{\partial s_i}{\partial z_i} \frac{\partial z_i}{\partial '
                  r's_{i-1}}'),
    '(62)': (234, r'\operatorname{diag}((1 - s_{i,1}^2)',
             r'\frac{\partial s_i}{\partial z_i} = \operatorname{diag}((1 - '
             r's_{i,1}^2), (1 - s_{i,2}^2), \cdots, (1 - s_{i,D}^2))'),
    '(63) first': (239, r'\prod_{i=k+1}^t \frac{\partial s_i}{\partial z_i} W =',
                   r'\frac{\partial s_t}{\partial s_k} = \prod_{i=k+1}^t \frac{\partial '
                   r's_i}{\partial z_i} W'),
    '(63) second': (239, r'= W^{t-k} \prod_{i=k+1}^t \frac{\partial s_i}{\partial z_i}',
                    r'\frac{\partial s_t}{\partial s_k} = W^{t-k} \prod_{i=k+1}^t '
                    r'\frac{\partial s_i}{\partial z_i}'),
    '(64)': (244, r'\frac{\partial s_k}{\partial z_k} \frac{\partial z_k}{\partial W}',
             r'\frac{\partial s_k}{\partial W} = \frac{\partial s_k}{\partial '
             r'z_k} \frac{\partial z_k}{\partial W}'),
    '(66)-(67)': (254, r'W^{t-k} \left(\prod_{i=k}^t \frac{\partial s_i}{\partial z_i} \right)',
                  r'\frac{\partial L_t}{\partial W} = \sum_{k=1}^t \frac{\partial '
                  r'L_t}{\partial s_t} W^{t-k} \left(\prod_{i=k}^t \frac{\partial '
                  r's_i}{\partial z_i} \right) \frac{\partial z_k}{\partial W}'),
    '(68)': (259, r'\frac{\partial s_t}{\partial s_k} \frac{\partial s_k}{\partial U}',
             r'\frac{\partial L_t}{\partial U} = \sum_{k=1}^t \frac{\partial '
             r'L_t}{\partial s_t} \frac{\partial s_t}{\partial s_k} '
             r'\frac{\partial s_k}{\partial U}'),
    '(69)': (262, r'\frac{\partial z_{k}}{\partial U}',
             r'\frac{\partial L_t}{\partial U} = \sum_{k=1}^{t} \frac{\partial '
             r'L_{t}}{\partial s_{t}} W^{t-k} \left(\prod_{i=k}^t \frac{\partial '
             r's_i}{\partial z_i} \right) \frac{\partial z_{k}}{\partial U}'),
    '(70)': (267, r'(x \cdot \frac{\partial L}{\partial y})^{\top}',
             r'\frac{\partial L}{\partial W} = (x \cdot \frac{\partial '
             r'L}{\partial y})^{\top}'),
    '(71)-(73)': (271, r'\sum_{t=1}^{T} \frac{\partial L_t}{\partial V}',
                  r'\frac{\partial L}{\partial V} = \sum_{t=1}^{T} \frac{\partial '
                  r'L_t}{\partial V}, \quad \frac{\partial L}{\partial W} = '
                  r'\sum_{t=1}^{T} \frac{\partial L_t}{\partial W}, \quad '
                  r'\frac{\partial L}{\partial U} = \sum_{t=1}^{T} \frac{\partial '
                  r'L_t}{\partial U}'),
    '(72) with (67)': (273, r'\sum_{t=1}^{T} \frac{\partial L_t}{\partial W}',
                       r'\frac{\partial L}{\partial W} = \sum_{t=1}^{T} \sum_{k=1}^t '
                       r'\frac{\partial L_t}{\partial s_t} W^{t-k} \left(\prod_{i=k}^t '
                       r'\frac{\partial s_i}{\partial z_i} \right) \frac{\partial '
                       r'z_k}{\partial W}, \quad \frac{\partial L_t}{\partial s_t} = '
                       r'(\hat{y}_t - y_t)^\top V'),
    '(73) with (69)': (275, r'\sum_{t=1}^{T} \frac{\partial L_t}{\partial U}',
                       r'\frac{\partial L}{\partial U} = \sum_{t=1}^{T} \sum_{k=1}^t '
                       r'\frac{\partial L_t}{\partial s_t} W^{t-k} \left(\prod_{i=k}^t '
                       r'\frac{\partial s_i}{\partial z_i} \right) \frac{\partial '
                       r'z_k}{\partial U}, \quad \frac{\partial L_t}{\partial s_t} = '
                       r'(\hat{y}_t - y_t)^\top V'),
})

SOURCE = Source(
    id="001", title="Back Propagation Through Time",
    citation="Yongqiang Huang, 'Back Propagation Through Time', lecture notes, November 2019",
    file="001_0354d6c28be47781.txt", build=build, claims=CLAIMS, hidden="D",
    base=dict(M=3, D=4, C=3, T=5, seed=0, act="tanh", target="one-hot"),
    vary=dict(M=[1, 2], D=[1, 2, 3], C=[2, 4], T=[1, 2, 5, 20], seed=[1, 2],
              act=["identity"], target=["soft", "counts"]),
    notation={"M": "size of x_t", "D": "size of z_t, s_t (the hidden size)",
              "C": "size of g_t, yhat_t, y_t", "T": "sequence length",
              "act": "section 1's activation: tanh (the notes') or identity (none)",
              "target": "y_t: one-hot, a probability row (soft), or counts"},
    conditions=[SUMS_TO_ONE], views=[view_states, view_contributions], max_steps=20,
    summary="Scalar and vector BPTT with per-step losses: the chain and the sums hold; "
            "(14)-(16), (18) drop tanh' between steps; (63), (66)-(67), (69) reorder "
            "matrices that do not commute; (43)-(44), (54), (56) assume one-hot y_t.")
