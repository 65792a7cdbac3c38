"""Real-time recurrent learning (Williams and Zipser, 1989) beside BPTT: one gradient,
computed forward in time and backward in time.

The textbook RNN (models/goodfellow.py, column vectors)::

    h(t) = tanh(b + W h(t-1) + U x(t))     o(t) = c + V h(t)     L = sum_t L(t)

BPTT runs the loop, keeps every step, and walks back (``loss.backward()``): time n^2 per
step, memory linear in T. RTRL carries, step by step, the sensitivity of the state to
every parameter entry, P(t) = dh(t)/dtheta (n x P numbers, P ~ n^2 entries), and adds
dL(t)/dh(t) P(t) to the gradient as it goes: memory independent of T, time n^2 P ~ n^4
per step. Three routes here, which agree to rounding (tests/test_rtrl.py):

- ``bptt``: the engine's reverse mode on the unrolled loop;
- ``rtrl_forward_mode``: the engine's forward mode (``autograd_mini.jvp``) on one step
  at a time, tangents batched over all P parameter entries (one direction per entry);
- ``rtrl_by_hand``: the classical recursion, per parameter,
  P_W(t) = diag(1 - h(t)^2) (W P_W(t-1) + [the direct term: h(t-1) in row i of W's
  entry (i, k)]), likewise U with x(t) and b with the identity; V and c reach L(t)
  directly.

``gru_bptt`` and ``gru_rtrl_forward_mode`` do the first two for the GRU of
models/cells.py with a softmax readout: forward mode needs no hand derivation.
"""
import numpy as np

from autograd_mini import Tensor, jvp, softmax_cross_entropy

from .cells import GRU
from .goodfellow import GoodfellowRNN

PARAMS = GoodfellowRNN.PARAMS                     # U, W, V, b, c
GRU_PARAMS = GRU.PARAMS + ("V", "c")              # W_x, W_h, b_x, b_h, then the readout


def problem(H, T, D=4, C=3, seed=0):
    """The textbook RNN's parameters {U, W, V, b, c} (arrays, float64), inputs x (T, D)
    and labels y (T,), seeded."""
    model = GoodfellowRNN.init(D=D, H=H, C=C, seed=seed)
    x, y = GoodfellowRNN.example_data(T=T, D=D, C=C, seed=seed)
    return {n: p.data for n, p in model.parameters().items()}, x, y


def gru_problem(H, T, D=4, C=3, seed=0):
    """A GRU's parameters with a readout V (H, C), c (C,), inputs x (T, D), labels y (T,)."""
    cell = GRU.init(D=D, H=H, seed=seed)
    rng = np.random.default_rng(seed + 1)
    params = {n: p.data for n, p in cell.parameters().items()}
    params.update(V=rng.normal(0, 1 / np.sqrt(H), (H, C)), c=rng.normal(0, 0.1, C))
    return params, rng.normal(size=(T, D)), rng.integers(0, C, size=T)


# ---------------------------------------------------------------------- one step
def rnn_step(h, U, W, V, b, c, x, y):
    """One step of the textbook RNN on Tensors: (h(t), L(t)) from h(t-1)."""
    h = (b + W @ h + U @ x).tanh()
    return h, softmax_cross_entropy(c + V @ h, int(y))


def gru_step(h, W_x, W_h, b_x, b_h, V, c, x, y):
    h, _ = GRU(W_x, W_h, b_x, b_h).step(x, h)
    return h, softmax_cross_entropy(h @ V + c, int(y))


# ---------------------------------------------------------------------- BPTT
def bptt(params, x, y, step=rnn_step, names=PARAMS):
    """The gradient of L = sum_t L(t) by reverse mode over the whole unrolled loop."""
    ps = [Tensor(params[n], requires_grad=True) for n in names]
    h, loss = Tensor(np.zeros(_hidden(params))), 0
    for xt, yt in zip(x, y):
        h, L = step(h, *ps, Tensor(xt), yt)
        loss = loss + L
    loss.backward()
    return {n: p.grad for n, p in zip(names, ps)}


def gru_bptt(params, x, y):
    return bptt(params, x, y, gru_step, GRU_PARAMS)


# ---------------------------------------------------------------------- RTRL
def directions(params, names):
    """One tangent per parameter, batched over all P entries: the identity, cut into the
    parameters' blocks. Tangent k is the direction of entry k of the flat vector."""
    sizes = [params[n].size for n in names]
    eye = np.eye(sum(sizes))
    starts = np.cumsum([0] + sizes)
    return [eye[:, s:s + params[n].size].reshape((-1,) + params[n].shape)
            for n, s in zip(names, starts)]


def rtrl_forward_mode(params, x, y, step=rnn_step, names=PARAMS):
    """The same gradient by forward mode through the engine, step by step: the state's
    tangent dh (P, n) is P(t); dL(t) along every direction is the gradient of L(t).
    Nothing of step t is kept at step t+1 (memory independent of T)."""
    tangents = directions(params, names)
    ps = [params[n] for n in names]
    h, dh = np.zeros(_hidden(params)), None         # h(0) = 0 depends on no parameter
    total = 0
    for xt, yt in zip(x, y):
        (h, L), (dh, dL) = jvp(lambda h, *a: step(h, *a, yt), [h, *ps, xt],
                               [dh, *tangents, None])
        total = total + dL
    return _unflatten(total, params, names)


def gru_rtrl_forward_mode(params, x, y):
    return rtrl_forward_mode(params, x, y, gru_step, GRU_PARAMS)


def rtrl_by_hand(params, x, y):
    """The classical RTRL recursion in NumPy, per parameter (Williams and Zipser's
    sensitivities p^k_ij, written as arrays P_theta(t) = dh(t)/dtheta, (n,) + theta.shape).

    P_theta(t) = diag(1 - h(t)^2) (W P_theta(t-1) + da(t)/dtheta, the direct term), and
    dL/dtheta += (dL(t)/dh(t)) P_theta(t), where dL(t)/dh(t) = V^T (p(t) - onehot(y(t))).
    V and c reach L(t) without going through h: (p - onehot) h^T and p - onehot."""
    U, W, V, b, c = (params[n] for n in PARAMS)
    H = W.shape[0]
    eye = np.eye(H)
    P = {"U": np.zeros((H,) + U.shape), "W": np.zeros((H,) + W.shape), "b": np.zeros((H, H))}
    grads = {n: np.zeros_like(params[n]) for n in PARAMS}
    h = np.zeros(H)
    for xt, yt in zip(x, y):
        h_prev, h = h, np.tanh(b + W @ h + U @ xt)
        direct = {"W": eye[:, :, None] * h_prev, "U": eye[:, :, None] * xt, "b": eye}
        for n in P:                                 # W P(t-1): n^2 * (entries of theta)
            recur = (W @ P[n].reshape(H, -1)).reshape(P[n].shape)
            P[n] = (1 - h**2).reshape((H,) + (1,) * (P[n].ndim - 1)) * (recur + direct[n])
        o = c + V @ h
        e = np.exp(o - o.max())
        dL_do = e / e.sum() - np.eye(len(c))[int(yt)]
        dL_dh = V.T @ dL_do
        for n in P:
            grads[n] += np.tensordot(dL_dh, P[n], axes=1)
        grads["V"] += np.outer(dL_do, h)
        grads["c"] += dL_do
    return grads


def agreement(got, ref):
    """max over parameters of max|got - ref| / max|ref| (relative to the largest entry)."""
    return max(float(np.abs(got[n] - ref[n]).max() / (np.abs(ref[n]).max() or 1.0))
               for n in ref)


def _hidden(params):
    return params["W"].shape[0] if "W" in params else params["W_h"].shape[0]


def _unflatten(flat, params, names):
    out, k = {}, 0
    for n in names:
        out[n] = flat[k:k + params[n].size].reshape(params[n].shape)
        k += params[n].size
    return out
