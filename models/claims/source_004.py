"""Source 004: "Should there be 3rd-order tensor when deriving backpropagation in recurrent
neural network", a question on Mathematics Stack Exchange with an answer by the
differential (Frobenius product) method.

Row vectors, sigmoid hidden layer, word embeddings e^(t) as inputs (the question's sizes
under each symbol: h 1 x D_h, e 1 x d, H D_h x D_h, I d x D_h, U D_h x |V|):

    h^(t) = sigmoid(z_1^(t)),   z_1^(t) = h^(t-1) H + e^(t) I + b_1
    yhat^(t) = softmax(z_2^(t)), z_2^(t) = h^(t) U + b_2
    J^(t) = CE(y^(t), yhat^(t)) = sum_j y_j^(t) log yhat_j^(t)       (+, as written)

The sign matters: cross-entropy is usually -sum y log yhat, and the question's own
derivation uses that, while its definition has +. The answer points this out.

``dJ^(t)/dH |_t`` (the question's notation) is the derivative through step t's own use of
H, with h^(t-1) held fixed: the network probes each step's copy H^(t), and the gradient on
that copy of J^(t) is exactly that quantity. The total dJ^(t)/dH (through h^(t-1) too) is
checked as a separate reading.

Axes, in the question's notation: ``Dh`` is D_h (the hidden size), ``d`` the embedding
size, ``V`` the vocabulary size |V|, ``T``, ``seed`` and ``target`` (one-hot next words as in a
language model; probability rows; counts that do not sum to 1, which the answer's last
step excludes by assuming y^T 1 = 1).
"""
import numpy as np

from autograd_mini import Tensor, scope

from ..probe import passthrough
from .framework import Claim, Condition, Network, Source, View, cite, mm, row

TARGETS = ("one-hot", "soft", "counts")


# ====================================================================== the network
def forward(p, E, Y, h0, probe=passthrough):
    """p: {"H" (D_h,D_h), "I" (d,D_h), "U" (D_h,|V|), "b1" (1,D_h), "b2" (1,|V|)} Tensors;
    E: (T, 1, d) embedding rows e^(t); Y: (T, 1, |V|) target rows; h0: (1, D_h).
    Returns J = sum_t J^(t), J^(t) = +sum_j y_j log yhat_j (as the question defines it)."""
    H, I, U, b1, b2 = (p[n] for n in ("H", "I", "U", "b1", "b2"))
    h = probe("h(0)", Tensor(h0))
    J = 0
    for t in range(1, len(E) + 1):
        with scope(f"t={t}"):
            e = probe(f"e({t})", Tensor(E[t - 1]))
            y = probe(f"y({t})", Tensor(Y[t - 1]))
            z1 = probe(f"z1({t})", h @ probe(f"H({t})", H) + e @ I + b1)
            h = probe(f"h({t})", z1.sigmoid())
            z2 = probe(f"z2({t})", h @ U + b2)
            yhat = probe(f"yhat({t})", z2.softmax(axis=-1))
            J = J + probe(f"J({t})", (y * yhat.log()).sum())
    return probe("J", J)


def targets(kind, T, V, rng):
    """y^(t) rows, shape (T, 1, V)."""
    if kind == "one-hot":
        return np.eye(V)[rng.integers(0, V, size=T)][:, None, :]
    if kind == "soft":
        return rng.dirichlet(np.ones(V), size=T)[:, None, :]
    if kind == "counts":
        y = rng.integers(0, 3, size=(T, V)).astype(np.float64)
        y[:, 0] += 2
        return y[:, None, :]
    raise ValueError(f"unknown target kind {kind!r}, expected one of {TARGETS}")


def build(case):
    """The question's network at ``case`` (Dh = D_h, d, V = |V|, T, seed, target)."""
    rng = np.random.default_rng(case.seed)
    Dh, d, V, T = case.Dh, case.d, case.V, case.T
    params = {"H": rng.normal(0, 1.0 / np.sqrt(Dh), (Dh, Dh)),
              "I": rng.normal(0, 1.0 / np.sqrt(d), (d, Dh)),
              "U": rng.normal(0, 1.5 / np.sqrt(Dh), (Dh, V)),
              "b1": rng.normal(0, 0.3, (1, Dh)), "b2": rng.normal(0, 0.3, (1, V))}
    E = rng.normal(size=(T, 1, d))
    Y = targets(case.target, T, V, rng)
    h0 = rng.uniform(0.1, 0.9, (1, Dh))          # a sigmoid layer's previous state

    def fwd(p, probe):
        return forward(p, E, Y, h0, probe)
    return Network(params, fwd)


# ====================================================================== what claims read
def _v(b, name, t):
    return b.v(f"{name}({t})")


def sig_diag(b, t):
    """diag{h^(t) o (1 - h^(t))} = Diag(h) - Diag(h)^2, D_h x D_h."""
    h = _v(b, "h", t).ravel()
    return np.diag(h * (1 - h))


def dh_dz1(b, t):
    Dh = b.v("H").shape[0]
    return b.local_jacobian(("dh/dz1", t), lambda z: z.sigmoid(),
                            _v(b, "z1", t)).reshape(Dh, Dh)


def dz2_dh(b, t):
    U, b2 = Tensor(b.v("U")), Tensor(b.v("b2"))
    Dh, V = b.v("U").shape
    return b.local_jacobian(("dz2/dh", t), lambda h: h @ U + b2, _v(b, "h", t)).reshape(V, Dh)


def dyhat_dz2(b, t):
    V = b.v("U").shape[1]
    return b.local_jacobian(("dyhat/dz2", t), lambda z: z.softmax(axis=-1),
                            _v(b, "z2", t)).reshape(V, V)


def dz1_dH(b, t):
    """dz_1^(t)/dH, h^(t-1) held: [j, a, b], shape D_h x D_h x D_h, by autodiff."""
    Dh = b.v("H").shape[0]
    hp, e = Tensor(_v(b, "h", t - 1)), Tensor(_v(b, "e", t))
    I, b1 = Tensor(b.v("I")), Tensor(b.v("b1"))
    return b.local_jacobian(("dz1/dH", t), lambda H: hp @ H + e @ I + b1,
                            b.v("H")).reshape(Dh, Dh, Dh)


def dz1_dH_answer(b, t):
    """The answer's dx = dH^T g as a tensor: dx_j/dH_ab = g_a 1(b = j), g = h^(t-1)^T."""
    g = _v(b, "h", t - 1).ravel()
    return np.einsum("jb,a->jab", np.eye(len(g)), g)


def q_chain(b, t):
    """The question's first line: dJ/dz_2 (1 x |V|) dz_2/dh (|V| x D_h) dh/dz_1 (D_h x D_h)
    dz_1/dH (D_h x D_h x D_h), every factor by autodiff; the row times the third-order
    tensor is summed over the tensor's first index, leaving D_h x D_h."""
    r = mm(("dJ/dz_2", row(b.grad(f"z2({t})", of=f"J({t})"))), ("dz_2/dh", dz2_dh(b, t)),
           ("dh/dz_1", dh_dz1(b, t)))
    return np.einsum("j,jab->ab", r.ravel(), dz1_dH(b, t))


def yhat_minus_y(b, t):
    return _v(b, "yhat", t) - _v(b, "y", t)          # a 1 x |V| row


def q_dz2(b, t):
    return yhat_minus_y(b, t)


def q_dz1(b, t):
    """The question's second line without the '?': (yhat - y) U^T diag{h o (1 - h)}."""
    return mm(("(yhat - y)", yhat_minus_y(b, t)), ("U^T", b.v("U").T),
              ("diag{h o (1-h)}", sig_diag(b, t)))


def q_dH(b, t):
    """The question's last line: (h^(t-1))^T (yhat - y) U^T diag{h o (1 - h)}."""
    return mm(("(h^(t-1))^T", _v(b, "h", t - 1).T), ("(yhat - y)", yhat_minus_y(b, t)),
              ("U^T", b.v("U").T), ("diag{h o (1-h)}", sig_diag(b, t)))


def _cols(b, t):
    """The answer's column vectors: g = h^(t-1)^T, f = h^(t)^T, w = yhat^T, y."""
    return (_v(b, "h", t - 1).T, _v(b, "h", t).T, _v(b, "yhat", t).T, _v(b, "y", t).T)


def _I_w1(b, t):
    """(I - w 1^T), |V| x |V|."""
    w = _v(b, "yhat", t).ravel()
    return np.eye(len(w)) - np.outer(w, np.ones(len(w)))


def a_dz(b, t):
    """dJ/dz = (I - w 1^T) y."""
    _, _, _, y = _cols(b, t)
    return mm(("(I - w1^T)", _I_w1(b, t)), ("y", y))


def a_df(b, t):
    return mm(("U", b.v("U")), ("(I - w1^T) y", a_dz(b, t)))


def a_dx(b, t):
    return mm(("(F - F^2)", sig_diag(b, t)), ("U(I - w1^T) y", a_df(b, t)))


def a_dH(b, t):
    """g y^T (I - 1 w^T) U^T (F - F^2)."""
    g, _, _, y = _cols(b, t)
    return mm(("g", g), ("y^T", y.T), ("(I - 1w^T)", _I_w1(b, t).T), ("U^T", b.v("U").T),
              ("(F - F^2)", sig_diag(b, t)))


def a_dH_normalized(b, t):
    """g (y^T - w^T) U^T (F - F^2), i.e. h^(t-1)^T (y - yhat) U^T (Diag(h) - Diag(h)^2)."""
    g, _, w, y = _cols(b, t)
    return mm(("g", g), ("(y^T - w^T)", (y - w).T), ("U^T", b.v("U").T),
              ("(F - F^2)", sig_diag(b, t)))


def bptt_dH(b, t):
    """The full dJ^(t)/dH by a hand-written backward pass through steps t..1 (the sum of
    every step's h^(k-1)^T delta_k, delta_k = dJ^(t)/dz_1^(k))."""
    delta = mm(("dJ/dz2", row(a_dz(b, t))), ("U^T", b.v("U").T), ("diag", sig_diag(b, t)))
    total = mm(("h^(t-1)^T", _v(b, "h", t - 1).T), ("delta", delta))
    for k in range(t - 1, 0, -1):
        delta = mm(("delta", delta), ("H^T", b.v("H").T), ("diag", sig_diag(b, k)))
        total = total + mm(("h^(k-1)^T", _v(b, "h", k - 1).T), ("delta", delta))
    return total


def ce_usual(b, t):
    """Cross-entropy as usually defined, -sum_j y_j log yhat_j, from the logits."""
    z = _v(b, "z2", t).ravel()
    log_yhat = z - (z.max() + np.log(np.sum(np.exp(z - z.max()))))
    return -np.sum(_v(b, "y", t).ravel() * log_yhat)


def frobenius_footnote(b, t):
    """A:BC, AC^T:B, B^TA:C, A^T:(BC)^T and sum(A o BC) with A = dJ/dz_1 g^T-sized
    matrices from this step: A (D_h x D_h), B = U (D_h x |V|), C = U^T diag (|V| x D_h)."""
    A = mm(("dJ/dx", a_dx(b, t)), ("g^T", _cols(b, t)[0].T))
    B, C = b.v("U"), mm(("U^T", b.v("U").T), ("F - F^2", sig_diag(b, t)))
    frob = lambda X, Y: np.trace(X.T @ Y)      # noqa: E731  (the answer's definition)
    return np.array([frob(A @ C.T, B), frob(B.T @ A, C), frob(A.T, (B @ C).T),
                     np.sum(A * (B @ C))])


def frobenius_direct(b, t):
    A = mm(("dJ/dx", a_dx(b, t)), ("g^T", _cols(b, t)[0].T))
    BC = b.v("U") @ b.v("U").T @ sig_diag(b, t)
    return np.full(4, np.trace(A.T @ BC))


def grad_of(name):
    """d J^(t) / d name(t) by autodiff: the step's own loss, the step's own value."""
    return lambda b, t: b.grad(f"{name}({t})", of=f"J({t})")


# ====================================================================== the claims
SUMS_TO_ONE = Condition("y^(t) sums to 1 (one-hot or a probability row)",
                        lambda case, t: case.target in ("one-hot", "soft"), assumption=True)
Q, A = "question", "answer"
_SIGN = "y - (sum_j y_j) yhat  (J = +sum y log yhat: the sign flips; = y - yhat for one-hot y)"
_MINUS_J = ("(yhat - y) is the gradient of -J, the usual cross-entropy; J is defined with +, "
            "and (yhat - y) also assumes y sums to 1")

CLAIMS = [
    Claim("J = CE", "J^(t) = CE(y^(t), yhat^(t)) = sum_j y_j^(t) log yhat_j^(t)",
          claimed=lambda b, t: b.v(f"J({t})"), actual=ce_usual,
          actual_text="the cross-entropy -sum_j y_j log yhat_j (its usual definition)",
          steps="each", where=Q,
          why="the definition has +; cross-entropy is -sum_j y_j log yhat_j",
          corrected=lambda b, t: -b.v(f"J({t})"),
          corrected_text="CE(y, yhat) = -sum_j y_j log yhat_j: J as defined is -CE"),
    Claim("dJ/dz2", "(yhat^(t) - y^(t)) is the derivative of J w.r.t. the input to softmax "
          "(z_2), 1 x |V|", claimed=q_dz2, actual=grad_of("z2"),
          actual_text="dJ^(t)/dz_2^(t) by autodiff", steps="each", where=Q,
          corrected=lambda b, t: a_dz(b, t), corrected_text=_SIGN, why=_MINUS_J),
    Claim("dh/dz1", "dh^(t)/dz_1^(t) = diag{h^(t) o (1 - h^(t))} (D_h x D_h): 'the sigmoid "
          "function whose derivative has the form sigma(1 - sigma)'",
          claimed=sig_diag, actual=dh_dz1, actual_text="the Jacobian dh/dz_1 by autodiff",
          steps="each", where=Q),
    Claim("dz2/dh", "dz_2^(t)/dh^(t) = U^T (|V| x D_h)", claimed=lambda b, t: b.v("U").T,
          actual=dz2_dh, actual_text="the Jacobian dz_2/dh by autodiff", steps="each",
          where=Q),
    Claim("line 1", "dJ^(t)/dH |_t = dJ/dz_2 (1 x |V|) dz_2/dh (|V| x D_h) dh/dz_1 "
          "(D_h x D_h) dz_1/dH (D_h x D_h x D_h), a D_h x D_h result",
          claimed=q_chain, actual=grad_of("H"),
          actual_text="dJ^(t)/dH^(t) by autodiff (step t's own copy of H)", steps="each",
          where=Q, note="every factor by autodiff: the chain and its shapes are judged"),
    Claim("dx = dH^T g", "x = H^T g + N^T e + b => dx = dH^T g, i.e. dx_j/dH_ab = g_a "
          "1(b = j): the D_h x D_h x D_h tensor dz_1/dH of the question",
          claimed=dz1_dH_answer, actual=dz1_dH,
          actual_text="the Jacobian dz_1^(t)/dH (h^(t-1) held) by autodiff, D_h x D_h x D_h",
          steps="each", where=A),
    Claim("line 2", "dJ^(t)/dz_1^(t) = (yhat - y) U^T diag{h o (1 - h)} (the question's "
          "second line, before the '?')", claimed=q_dz1, actual=grad_of("z1"),
          actual_text="dJ^(t)/dz_1^(t) by autodiff", steps="each", where=Q,
          corrected=lambda b, t: a_dx(b, t),
          corrected_text="(y - (sum_j y_j) yhat) U^T diag{h o (1 - h)}", why=_MINUS_J),
    Claim("dJ/dH|_t", "dJ^(t)/dH |_t = (h^(t-1))^T (yhat^(t) - y^(t)) U^T diag{h^(t) o "
          "(1 - h^(t))} (D_h x D_h, the question's last line)",
          claimed=q_dH, actual=grad_of("H"),
          actual_text="dJ^(t)/dH^(t) by autodiff (step t's own copy of H)", steps="each",
          where=Q, corrected=a_dH,
          corrected_text="(h^(t-1))^T (y - (sum_j y_j) yhat) U^T diag{h o (1 - h)}",
          why=_MINUS_J),
    Claim("negative of yours", "'This result is the negative of yours': the question's "
          "(h^(t-1))^T (yhat - y) U^T diag{..} is the gradient of -J, i.e. of -sum y log yhat",
          claimed=q_dH, actual=lambda b, t: -b.grad(f"H({t})", of=f"J({t})"),
          actual_text="-dJ^(t)/dH^(t) by autodiff", steps="each", where=A,
          why="(yhat - y) assumes y sums to 1 (a one-hot next word)"),
    Claim("df", "f = sigma(x) => df = (F - F^2) dx", claimed=sig_diag, actual=dh_dz1,
          actual_text="the Jacobian dh/dz_1 by autodiff", steps="each", where=A),
    Claim("dz", "z = U^T f + c => dz = U^T df", claimed=lambda b, t: b.v("U").T,
          actual=dz2_dh, actual_text="the Jacobian dz_2/dh by autodiff", steps="each",
          where=A),
    Claim("dw", "w = softmax(z) => dw = (W - w w^T) dz",
          claimed=lambda b, t: np.diag(_v(b, "yhat", t).ravel())
          - np.outer(_v(b, "yhat", t), _v(b, "yhat", t)),
          actual=dyhat_dz2, actual_text="the Jacobian dyhat/dz_2 by autodiff", steps="each",
          where=A),
    Claim("dJ/dw", "dJ = y : W^-1 dw = W^-1 y : dw, so dJ/dw = W^-1 y = y / w",
          claimed=lambda b, t: _v(b, "y", t) / _v(b, "yhat", t), actual=grad_of("yhat"),
          actual_text="dJ^(t)/dyhat^(t) by autodiff", steps="each", where=A),
    Claim("dJ/dz", "dJ = (I - w 1^T) y : dz, so dJ/dz = (I - w 1^T) y", claimed=a_dz,
          actual=grad_of("z2"), actual_text="dJ^(t)/dz_2^(t) by autodiff", steps="each",
          where=A),
    Claim("dJ/df", "dJ = U (I - w 1^T) y : df", claimed=a_df, actual=grad_of("h"),
          actual_text="dJ^(t)/dh^(t) by autodiff", steps="each", where=A),
    Claim("dJ/dx", "dJ = (F - F^2) U (I - w 1^T) y : dx", claimed=a_dx, actual=grad_of("z1"),
          actual_text="dJ^(t)/dz_1^(t) by autodiff", steps="each", where=A),
    Claim("dJ/dH", "dJ/dH = g y^T (I - 1 w^T) U^T (F - F^2)", claimed=a_dH, actual=grad_of("H"),
          actual_text="dJ^(t)/dH^(t) by autodiff (step t's copy)", steps="each", where=A),
    Claim("y^T 1 = 1", "dJ/dH = g (y^T - w^T) U^T (F - F^2) = (h^(t-1))^T (y^(t) - "
          "yhat^(t)) U^T (Diag(h^(t)) - Diag(h^(t))^2), 'assumed ... y^T 1 = 1'",
          claimed=a_dH_normalized, actual=grad_of("H"),
          actual_text="dJ^(t)/dH^(t) by autodiff (step t's copy)", steps="each", where=A,
          corrected=a_dH, corrected_text="g y^T (I - 1 w^T) U^T (F - F^2), the line before "
                                          "the assumption",
          why="the answer's stated assumption y^T 1 = 1"),
    Claim("full dJ/dH", "the same formula read as the full dJ^(t)/dH (through h^(t-1) as "
          "well, not only |_t)", claimed=a_dH_normalized,
          actual=lambda b, t: b.grad("H", of=f"J({t})"),
          actual_text="dJ^(t)/dH by autodiff (H shared by every step)", steps="each",
          where=f"{A}, read without |_t (the tool's reading: the answer drops the "
                "superscripts and holds g = h^(t-1) fixed)", corrected=bptt_dH,
          why="missing terms: only step t's own use of H (|_t); the paths through h^(t-1), "
              "which also depends on H, are left out",
          corrected_text="sum_(k<=t) (h^(k-1))^T delta_k, delta_t = (y - (sum y) yhat) U^T "
                         "diag_t, delta_(k-1) = delta_k H^T diag_(k-1) (BPTT by hand)"),
    Claim("footnote A:B", "A:BC = AC^T:B = B^TA:C = A^T:(BC)^T, and A:B = sum(A o B)",
          claimed=frobenius_footnote, actual=frobenius_direct,
          actual_text="A:BC = tr(A^T BC) computed directly (A, B, C from this step)",
          steps="each", where=f"{A} (footnote)"),
]

# ====================================================================== per-step views
def view_states(b):
    ts = list(range(1, b.T + 1))
    return View("gradient on each hidden state dJ/dh^(t), J = sum_t J^(t)", ts,
                {"dJ/dh^(t)": [b.grad(f"h({t})", of="J") for t in ts]})


def view_contributions(b):
    ts = list(range(1, b.T + 1))
    return View("each step's share dJ/dH^(t) of the shared H", ts,
                {"dJ/dH^(t)": [b.grad(f"H({t})", of="J") for t in ts]},
                {"dJ/dH^(t)": ("dJ/dH", b.grad("H", of="J"))})


cite(CLAIMS, {
    'J = CE': (10, r'J^{(t)} &= CE(y^{(t)}, \hat{y}^{(t)}) = \sum_{j=1}^{\left|V\right|}y_j^{(t)}\mathrm{log}(\hat{y}_j^{(t)})',
               r'J^{(t)} = CE(y^{(t)}, \hat{y}^{(t)}) = '
               r'\sum_{j=1}^{\left|V\right|}y_j^{(t)}\log(\hat{y}_j^{(t)})'),
    'dJ/dz2': (37, r'$(\hat{y}^{(t)} - y^{(t)})$ is the derivative of $J$',
               r'\frac{\partial J^{(t)}}{\partial z_2^{(t)}} = \hat{y}^{(t)} - '
               r'y^{(t)}'),
    'dh/dz1': (38, r'$diag\{\cdots\}$ takes advantage of the sigmoid',
               r'\frac{\partial h^{(t)}}{\partial z_1^{(t)}} = diag\{h^{(t)} \circ '
               r'(1 - h^{(t)})\}'),
    'dz2/dh': (33, r'\underset{\left|V\right| \times D_h,}{U^T}',
               r'\frac{\partial z_2^{(t)}}{\partial h^{(t)}} = U^T'),
    'line 1': (33, r'\underset{D_h \times D_h \times D_h}{\frac{\partial z_1^{(t)}}{\partial H}}',
               r'\frac{\partial J^{(t)}}{\partial H}\bigg|_t = \underset{1 \times '
               r'|V|}{\frac{\partial J^{(t)}}{\partial z_2^{(t)}}} \underset{|V| '
               r'\times D_h}{\frac{\partial z_2^{(t)}}{\partial h^{(t)}}} '
               r'\underset{D_h \times D_h}{\frac{\partial h^{(t)}}{\partial '
               r'z_1^{(t)}}} \underset{D_h \times D_h \times D_h}{\frac{\partial '
               r'z_1^{(t)}}{\partial H}}'),
    'dx = dH^T g': (56, r'\implies dx=dH^Tg',
                    r'x = H^Tg + N^Te + b \implies dx = dH^Tg'),
    'line 2': (33, r'diag\{h^{(t)} \circ (1 - h^{(t)})\}} ?',
               r'\frac{\partial J^{(t)}}{\partial z_1^{(t)}} = (\hat{y}^{(t)} - '
               r'y^{(t)})\, U^T\, diag\{h^{(t)} \circ (1 - h^{(t)})\}'),
    'dJ/dH|_t': (33, r'\underset{D_h \times 1}{(h^{(t - 1)})^T}',
                 r'\frac{\partial J^{(t)}}{\partial H}\bigg|_t = (h^{(t - 1)})^T '
                 r'(\hat{y}^{(t)} - y^{(t)})\, U^T\, diag\{h^{(t)} \circ (1 - '
                 r'h^{(t)})\}'),
    'negative of yours': (58, r'This result is the negative of yours',
                          r'\frac{\partial J}{\partial H} = {h^{(t-1)}}^T\,\Big(y^{(t)}-{\hat '
                          r'y^{(t)}}\Big)\,U^T\,\Big({\rm Diag}(h^{(t)})-{\rm '
                          r'Diag}(h^{(t)})^2\Big) = -\,(\text{yours})'),
    'df': (56, r'\implies df=(F-F^2)\,dx',
           r'f = \sigma(x) \implies df = (F-F^2)\,dx'),
    'dz': (56, r'\implies dz=U^T\,df',
           r'z = U^Tf + c \implies dz = U^T\,df'),
    'dw': (56, r'\implies dw=(W-ww^T)\,dz',
           r'w = {\rm softmax}(z) \implies dw = (W-ww^T)\,dz'),
    'dJ/dw': (56, r'dJ &= y:W^{-1} dw \cr&= W^{-1}y:dw',
              r'dJ = y:W^{-1} dw = W^{-1}y:dw'),
    'dJ/dz': (56, r'&= (I-w1^T)y:dz',
              r'dJ = (I-w1^T)y:dz'),
    'dJ/df': (56, r'&= U(I-w1^T)y:df',
              r'dJ = U(I-w1^T)y:df'),
    'dJ/dx': (56, r'&= (F-F^2)U(I-w1^T)y:dx',
              r'dJ = (F-F^2)U(I-w1^T)y:dx'),
    'dJ/dH': (56, r'\frac{\partial J}{\partial H} &= gy^T(I-1w^T)U^T(F-F^2)',
              r'\frac{\partial J}{\partial H} = gy^T(I-1w^T)U^T(F-F^2)'),
    'y^T 1 = 1': (56, r'&= g(y^T-w^T)U^T(F-F^2)',
                  r'\frac{\partial J}{\partial H} = g(y^T-w^T)U^T(F-F^2), \quad y^T1=1'),
    'full dJ/dH': (58, r'{h^{(t-1)}}^T\,\Big(y^{(t)}-{\hat y^{(t)}}\Big)',
                   r'\frac{\partial J}{\partial H} = {h^{(t-1)}}^T\,\Big(y^{(t)}-{\hat '
                   r'y^{(t)}}\Big)\,U^T\,\Big({\rm Diag}(h^{(t)})-{\rm '
                   r'Diag}(h^{(t)})^2\Big)'),
    'footnote A:B': (61, r'A:BC &= AC^T:B \cr&= B^TA:C',
                     r'A:BC = AC^T:B = B^TA:C = A^T:(BC)^T, \quad A:B = {\rm sum}(A\circ '
                     r'B)'),
})

SOURCE = Source(
    id="004", title="Should there be 3rd-order tensor when deriving backpropagation in "
                    "recurrent neural network",
    citation="'Should there be 3rd-order tensor when deriving backpropagation in recurrent "
             "neural network', a question and its answer on Mathematics Stack Exchange "
             "(math.stackexchange.com, question 2512465), 2017",
    file="004_0c4b116f2e1f8a60.txt", build=build, claims=CLAIMS, hidden="Dh",
    base=dict(Dh=4, d=3, V=5, T=5, seed=0, target="one-hot"),
    vary=dict(Dh=[1, 2], d=[1, 2], V=[2, 3], T=[1, 2, 5, 20], seed=[1, 2],
              target=["soft", "counts"]),
    notation={"Dh": "D_h, the hidden layer size", "d": "size of the word embedding e^(t)",
              "V": "|V|, the vocabulary size", "T": "sequence length",
              "target": "y^(t): one-hot (a next word), a probability row (soft), or counts"},
    conditions=[SUMS_TO_ONE], views=[view_states, view_contributions], max_steps=50,
    summary="Row vectors, sigmoid, J = +sum y log yhat: the question's (yhat - y) formulas "
            "are minus the gradient of J; the answer's differentials hold, its last step "
            "needs y to sum to 1, and dJ/dH|_t is step t's share only.")
