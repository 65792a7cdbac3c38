"""Source 003: "The Computation of Gradients on RNN by BPTT", a blog post following
Goodfellow et al.'s notation, with per-step dummy copies W^(t) of the parameters.

The post's equations were images and did not survive in the text; what survives states
each result in words. Each claim below is the result the words describe, in the post's
denominator layout: the identities it lists, Example 1 (grad_o L), Example 2 (grad_h L at
tau and before), Example 3 (per-step copies, grad_V L, the other parameters).

The network is the book's (models/goodfellow.py) with a one-hot target ("the training
target y is a basic vector [0,...,0,1,0,...,0]"); the per-step copies are probed as
"W(t)", "U(t)", ... so that dL/dW^(t) is the gradient on a copy used at step t only.
"""
import numpy as np

from autograd_mini import Tensor

from .book import (dh, dh_dW, dh_next_dh, do, do_dh, h, one_hot, per_step_view, steps,
                   tanh_jacobian, textbook_network, yhat)
from .framework import Claim, Condition, Source, cite, mm

PARAMS = ("U", "W", "V", "b", "c")


# ---------------------------------------------------------------------- the identities
def identity_Ax(b, t):
    """d(Ax)/dx = A^T, instance A = V, x = h(t): o(t) = c + V h(t)."""
    return b.v("V").T


def do_dh_denominator(b, t):
    return do_dh(b, t).T        # the denominator layout is the transpose of the Jacobian


def trace_identity(b, t):
    """dL/dW_ij = tr((dL/da(t))^T da(t)/dW_ij) for each i, j, with U(X) = a(t), X = W^(t)."""
    g = b.grad(f"a({t})")                                   # (H,)
    J = _da_dW(b, t)                                        # (H, H, H): da_k / dW_ij
    H = b.case.H
    out = np.zeros((H, H))
    for i in range(H):
        for j in range(H):
            out[i, j] = np.trace(mm(("(dL/da)^T", g[None, :]), ("da/dW_ij", J[:, i, j])))
    return out


def _da_dW(b, t):
    U, bb, x, hp = (Tensor(a) for a in (b.v("U"), b.v("b"), b.v(f"x({t})"), h(b, t - 1)))
    return b.local_jacobian(("da(t)/dW(t)", t), lambda W: bb + W @ hp + U @ x, b.v("W"))


# ---------------------------------------------------------------------- Example 1
def dL_dyhat(b, t):
    """The latter factor: dL(t)/dyhat(t) = -y / yhat (denominator layout: a column)."""
    return -one_hot(b, t) / yhat(b, t)


def dL_dyhat_actual(b, t):
    y = Tensor(one_hot(b, t))
    return b.local_jacobian(("dL(t)/dyhat(t)", t), lambda p: -(y * p.log()).sum(),
                            yhat(b, t))


def dyhat_do(b, t):
    """The former factor: dyhat/do = diag(yhat) - yhat yhat^T (symmetric: either layout)."""
    p = yhat(b, t)
    return np.diag(p) - np.outer(p, p)


def dyhat_do_actual(b, t):
    return b.local_jacobian(("dyhat(t)/do(t)", t), lambda o: o.softmax(), b.v(f"o({t})"))


def do_example1(b, t):
    return mm(("dyhat/do", dyhat_do(b, t)), ("dL/dyhat", dL_dyhat(b, t)))


# ---------------------------------------------------------------------- Example 2
def dh_only_output(b, t):
    """grad_h(t) L = V^T grad_o(t) L, 'because h(t) has only a descendant o(t)'."""
    return mm(("V^T", b.v("V").T), ("grad_o(t) L", do(b, t)))


def dh_recursion(b, t):
    return (mm(("(dh(t+1)/dh(t))^T", dh_next_dh(b, t).T), ("grad_h(t+1) L", dh(b, t + 1)))
            + mm(("(do(t)/dh(t))^T", do_dh(b, t).T), ("grad_o(t) L", do(b, t))))


def dh_both_cases(b, t):
    out = mm(("V^T", b.v("V").T), ("grad_o(t) L", do(b, t)))
    if t < b.T:
        out = out + mm(("W^T", b.v("W").T), ("diag(1 - h(t+1)^2)", tanh_jacobian(b, t + 1)),
                       ("grad_h(t+1) L", dh(b, t + 1)))
    return out


# ---------------------------------------------------------------------- Example 3
def copies_sum(b, t):
    return np.concatenate([sum(b.grad(f"{n}({s})") for s in steps(b)).ravel()
                           for n in PARAMS])


def shared(b, t):
    return np.concatenate([b.grad(n).ravel() for n in PARAMS])


def dV_step(b, t):
    return mm(("grad_o(t) L", do(b, t)), ("h(t)^T", h(b, t)[None, :]))


def dV_total(b, t):
    return sum(dV_step(b, s) for s in steps(b))


def total_differential(P):
    """dL = tr((dL/dP)^T dP) for a fixed random direction dP."""
    def f(b, t):
        dP = _direction(b, P)
        return np.trace(mm((f"(dL/d{P})^T", b.grad(P).T), (f"d{P}", dP)))
    return f


def directional_actual(P):
    return lambda b, t: b.derivative_along({P: _direction(b, P)})


def _direction(b, P):
    return np.random.default_rng(b.case.seed + 77).standard_normal(b.v(P).shape)


def delta(b, t):
    """diag(1 - h(t)^2) grad_h(t) L = dL/da(t)."""
    return mm(("diag(1 - h(t)^2)", tanh_jacobian(b, t)), ("grad_h(t) L", dh(b, t)))


def dW_step(b, t):
    return mm(("diag(1 - h(t)^2) grad_h(t) L", delta(b, t)), ("h(t-1)^T", h(b, t - 1)[None, :]))


def dU_step(b, t):
    return mm(("diag(1 - h(t)^2) grad_h(t) L", delta(b, t)),
              ("x(t)^T", b.v(f"x({t})")[None, :]))


def dW_step_chain(b, t):
    """sum_i (dL/dh_i(t)) grad_W(t) h_i(t) at one step (the copy's gradient, eq. 10.25's term)."""
    return np.tensordot(dh(b, t), dh_dW(b, t), axes=1)


def copy(name):
    return lambda b, t: b.grad(f"{name}({t})")


CLAIMS = [
    Claim("identity: d(Ax)/dx", "d(Ax)/dx = A^T (denominator layout), here A = V, x = h(t)",
          identity_Ax, do_dh_denominator,
          "do(t)/dh(t) by autodiff, in denominator layout (the Jacobian transposed)",
          steps="last", where="Taking the Derivatives, table row 1"),
    Claim("identity: trace", "dg(U)/dX_ij = tr((dg(U)/dU)^T dU/dX_ij), here g = L, "
          "U = a(t), X = W^(t)", trace_identity, copy("W"),
          "dL/dW^(t) by autodiff (the per-step copy)", steps="each",
          where="Taking the Derivatives, table row 2"),
    Claim("Ex.1 dL/dyhat", "the latter derivative: dL(t)/dyhat(t) = -y(t) / yhat(t) "
          "(elementwise)", dL_dyhat, dL_dyhat_actual,
          "d(-sum_i y_i log yhat_i)/dyhat by autodiff", steps="each", where="Example 1"),
    Claim("Ex.1 dyhat/do", "the former derivative: dyhat(t)/do(t) = diag(yhat(t)) - "
          "yhat(t) yhat(t)^T", dyhat_do, dyhat_do_actual,
          "d softmax(o(t))/d o(t) by autodiff (jacobian)", steps="each", where="Example 1"),
    Claim("Ex.1 chain rule", "grad_o(t) L = (dyhat/do)(dL/dyhat) (denominator layout, chain "
          "rule right to left)", do_example1, lambda b, t: do(b, t), "dL/do(t) by autodiff",
          steps="each", where="Example 1"),
    Claim("Ex.1 result", "grad_o(t) L = yhat(t) - y(t), y(t) a basis vector",
          lambda b, t: yhat(b, t) - one_hot(b, t), lambda b, t: do(b, t),
          "dL/do(t) by autodiff", steps="each", where="Example 1"),
    Claim("Ex.2 only o(t)", "grad_h(t) L = V^T grad_o(t) L: 'easy at the final time step tau "
          "because h(t) has only a descendent o(t)'", dh_only_output, lambda b, t: dh(b, t),
          "dL/dh(t) by autodiff, at every t", steps="each", where="Example 2",
          assumption=Condition("t = tau (where the post states it)",
                               lambda c, t: t == c["T"], assumption=True),
          note="the post states it at tau; tried at every t, the search finds where it holds"),
    Claim("Ex.2 recursion", "for t < tau: grad_h(t) L = (dh(t+1)/dh(t))^T grad_h(t+1) L + "
          "(do(t)/dh(t))^T grad_o(t) L (both descendants)", dh_recursion,
          lambda b, t: dh(b, t), "dL/dh(t) by autodiff", steps="before-last",
          where="Example 2"),
    Claim("Ex.2 both cases", "grad_h(t) L = V^T grad_o(t) L + W^T diag(1 - h(t+1)^2) "
          "grad_h(t+1) L, the second term only for t < tau", dh_both_cases,
          lambda b, t: dh(b, t), "dL/dh(t) by autodiff", steps="each", where="Example 2"),
    Claim("Ex.3 copies", "the dummy copies W^(t), each used only at step t, accumulated over "
          "t give grad_W L (and likewise U, V, b, c)", copies_sum, shared,
          "dL/dU, dL/dW, dL/dV, dL/db, dL/dc by autodiff (concatenated)", where="Example 3"),
    Claim("(3.3.4) for V", "dL = tr((dL/dV)^T dV): the total differential in matrix form",
          total_differential("V"), directional_actual("V"),
          "d/ds L(V + s dV) at s = 0 by autodiff, for a random dV", where="Example 3"),
    Claim("(3.3.4) for W", "dL = tr((dL/dW)^T dW): the total differential in matrix form",
          total_differential("W"), directional_actual("W"),
          "d/ds L(W + s dW) at s = 0 by autodiff, for a random dW", where="Example 3"),
    Claim("(3.3.4) for U", "dL = tr((dL/dU)^T dU): the total differential in matrix form",
          total_differential("U"), directional_actual("U"),
          "d/ds L(U + s dU) at s = 0 by autodiff, for a random dU", where="Example 3"),
    Claim("(3.3.5) per step", "grad_V(t) L = (grad_o(t) L) h(t)^T", dV_step, copy("V"),
          "dL/dV^(t) by autodiff (the per-step copy)", steps="each", where="Example 3"),
    Claim("(3.3.5) total", "grad_V L = sum_t (grad_o(t) L) h(t)^T", dV_total,
          lambda b, t: b.grad("V"), "dL/dV by autodiff", where="Example 3"),
    Claim("c per step", "grad_c(t) L = grad_o(t) L", lambda b, t: do(b, t), copy("c"),
          "dL/dc^(t) by autodiff (the per-step copy)", steps="each",
          where="Example 3, remaining parameters"),
    Claim("b per step", "grad_b(t) L = diag(1 - h(t)^2) grad_h(t) L", delta, copy("b"),
          "dL/db^(t) by autodiff (the per-step copy)", steps="each",
          where="Example 3, remaining parameters"),
    Claim("W per step", "grad_W(t) L = diag(1 - h(t)^2) grad_h(t) L h(t-1)^T", dW_step,
          copy("W"), "dL/dW^(t) by autodiff (the per-step copy)", steps="each",
          where="Example 3, remaining parameters"),
    Claim("W per step (chain)", "grad_W(t) L = sum_i (dL/dh_i(t)) grad_W(t) h_i(t)",
          dW_step_chain, copy("W"), "dL/dW^(t) by autodiff (the per-step copy)",
          steps="each", where="Example 3, remaining parameters"),
    Claim("U per step", "grad_U(t) L = diag(1 - h(t)^2) grad_h(t) L x(t)^T", dU_step,
          copy("U"), "dL/dU^(t) by autodiff (the per-step copy)", steps="each",
          where="Example 3, remaining parameters"),
]

# The post's equations were images: ``tex`` restates each result in the post's notation
# (Goodfellow's), and ``line`` is the sentence that states it.
cite(CLAIMS, {
    'identity: d(Ax)/dx': (41, r'\frac{\partial{\boldsymbol{Ax}}}{\partial{\boldsymbol{x}}}',
                           r'\frac{\partial \boldsymbol{Ax}}{\partial \boldsymbol{x}} = '
                           r'\boldsymbol{A}^{\mathsf{T}}'),
    'identity: trace': (42, r'\text{tr}\left(\left(\frac{\partial{g(\boldsymbol{U})}}{\partial{\boldsymbol{U}}}\right)^{\mathsf{T}}',
                        r'\frac{\partial g(\boldsymbol{U})}{\partial \boldsymbol{X}_{ij}} = '
                        r'\text{tr}\left(\left(\frac{\partial g(\boldsymbol{U})}{\partial '
                        r'\boldsymbol{U}}\right)^{\mathsf{T}} \frac{\partial '
                        r'\boldsymbol{U}}{\partial \boldsymbol{X}_{ij}}\right)'),
    'Ex.1 dL/dyhat': (52, r'For the latter partial derivative',
                      r'\frac{\partial L^{(t)}}{\partial \hat{\boldsymbol{y}}^{(t)}} = '
                      r'-\boldsymbol{y}^{(t)} \oslash \hat{\boldsymbol{y}}^{(t)}'),
    'Ex.1 dyhat/do': (50, r'Taking the former derivative',
                      r'\frac{\partial \hat{\boldsymbol{y}}^{(t)}}{\partial '
                      r'\boldsymbol{o}^{(t)}} = \text{diag}(\hat{\boldsymbol{y}}^{(t)}) - '
                      r'\hat{\boldsymbol{y}}^{(t)} \hat{\boldsymbol{y}}^{(t)\mathsf{T}}'),
    'Ex.1 chain rule': (48, r'Using denominator-layout and chain rule',
                        r'\nabla_{\boldsymbol{o}^{(t)}} L = \frac{\partial '
                        r'\hat{\boldsymbol{y}}^{(t)}}{\partial \boldsymbol{o}^{(t)}} '
                        r'\frac{\partial L}{\partial \hat{\boldsymbol{y}}^{(t)}}'),
    'Ex.1 result': (56, r'is a basic vector [0,…,0,1,0,…,0]',
                    r'\nabla_{\boldsymbol{o}^{(t)}} L = \hat{\boldsymbol{y}}^{(t)} - '
                    r'\boldsymbol{y}^{(t)}'),
    'Ex.2 only o(t)': (61, r'has only a descendent',
                       r'\nabla_{\boldsymbol{h}^{(\tau)}} L = \boldsymbol{V}^{\mathsf{T}} '
                       r'\nabla_{\boldsymbol{o}^{(\tau)}} L'),
    'Ex.2 recursion': (63, r'as descendents from $ t = \tau - 1 $ down to $t = 1$',
                       r'\nabla_{\boldsymbol{h}^{(t)}} L = \left(\frac{\partial '
                       r'\boldsymbol{h}^{(t+1)}}{\partial '
                       r'\boldsymbol{h}^{(t)}}\right)^{\mathsf{T}} '
                       r'\nabla_{\boldsymbol{h}^{(t+1)}} L + \left(\frac{\partial '
                       r'\boldsymbol{o}^{(t)}}{\partial '
                       r'\boldsymbol{h}^{(t)}}\right)^{\mathsf{T}} '
                       r'\nabla_{\boldsymbol{o}^{(t)}} L'),
    'Ex.2 both cases': (65, r'Taking the two cases above into account',
                        r'\nabla_{\boldsymbol{h}^{(t)}} L = \boldsymbol{V}^{\mathsf{T}} '
                        r'\nabla_{\boldsymbol{o}^{(t)}} L + \boldsymbol{W}^{\mathsf{T}} '
                        r'\text{diag}\left(1 - (\boldsymbol{h}^{(t+1)})^2\right) '
                        r'\nabla_{\boldsymbol{h}^{(t+1)}} L \quad (t < \tau)'),
    'Ex.3 copies': (69, r'dummy variables such as $\boldsymbol{W}^{(t)}$',
                    r'\nabla_{\boldsymbol{W}} L = \sum_t \nabla_{\boldsymbol{W}^{(t)}} L'),
    '(3.3.4) for V': (76, r'in matrix calcalus',
                      r'dL = \text{tr}\left(\left(\frac{\partial L}{\partial '
                      r'\boldsymbol{V}}\right)^{\mathsf{T}} d\boldsymbol{V}\right)'),
    '(3.3.4) for W': (76, r'in matrix calcalus',
                      r'dL = \text{tr}\left(\left(\frac{\partial L}{\partial '
                      r'\boldsymbol{W}}\right)^{\mathsf{T}} d\boldsymbol{W}\right)'),
    '(3.3.4) for U': (76, r'in matrix calcalus',
                      r'dL = \text{tr}\left(\left(\frac{\partial L}{\partial '
                      r'\boldsymbol{U}}\right)^{\mathsf{T}} d\boldsymbol{U}\right)'),
    '(3.3.5) per step': (80, r'comparing eq. (3.3.4) with eq. (3.3.5)',
                         r'\nabla_{\boldsymbol{V}^{(t)}} L = (\nabla_{\boldsymbol{o}^{(t)}} '
                         r'L)\, \boldsymbol{h}^{(t)}^{\mathsf{T}}'),
    '(3.3.5) total': (78, r'applying eq. (3.3.4) for gradient',
                      r'\nabla_{\boldsymbol{V}} L = \sum_t (\nabla_{\boldsymbol{o}^{(t)}} '
                      r'L)\, \boldsymbol{h}^{(t)}^{\mathsf{T}}'),
    'c per step': (82, r'gradient on remaining parameters',
                   r'\nabla_{\boldsymbol{c}^{(t)}} L = \nabla_{\boldsymbol{o}^{(t)}} L'),
    'b per step': (82, r'gradient on remaining parameters',
                   r'\nabla_{\boldsymbol{b}^{(t)}} L = \text{diag}\left(1 - '
                   r'(\boldsymbol{h}^{(t)})^2\right) \nabla_{\boldsymbol{h}^{(t)}} L'),
    'W per step': (82, r'gradient on remaining parameters',
                   r'\nabla_{\boldsymbol{W}^{(t)}} L = \text{diag}\left(1 - '
                   r'(\boldsymbol{h}^{(t)})^2\right) (\nabla_{\boldsymbol{h}^{(t)}} '
                   r'L)\, \boldsymbol{h}^{(t-1)\mathsf{T}}'),
    'W per step (chain)': (82, r'gradient on remaining parameters',
                           r'\nabla_{\boldsymbol{W}^{(t)}} L = \sum_i \frac{\partial '
                           r'L}{\partial h_i^{(t)}} \nabla_{\boldsymbol{W}^{(t)}} h_i^{(t)}'),
    'U per step': (82, r'gradient on remaining parameters',
                   r'\nabla_{\boldsymbol{U}^{(t)}} L = \text{diag}\left(1 - '
                   r'(\boldsymbol{h}^{(t)})^2\right) (\nabla_{\boldsymbol{h}^{(t)}} '
                   r'L)\, \boldsymbol{x}^{(t)\mathsf{T}}'),
})

SOURCE = Source(
    id="003", title="The Computation of Gradients on RNN by BPTT",
    citation="'The Computation of Gradients on RNN by BPTT', a blog post working through "
             "Goodfellow et al.'s section 10.2.2 with per-step copies W^(t) (unsigned in the "
             "copy checked)",
    file="003_f7207cfa089aaafe.txt", build=textbook_network, claims=CLAIMS, hidden="H",
    base=dict(D=4, H=5, C=3, T=5, seed=0),
    vary=dict(D=[1, 2], H=[1, 2, 3], C=[2, 4], T=[1, 2, 5, 20], seed=[1, 2]),
    notation={"D": "size of x(t)", "H": "size of h(t)", "C": "size of o(t) (classes)",
              "T": "sequence length tau"},
    views=[per_step_view],
    summary="Denominator-layout identities, grad_o, grad_h, per-step copies.")
