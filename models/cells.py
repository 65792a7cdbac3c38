"""LSTM and GRU cells as ordinary code: one step is a few Tensor ops, a sequence is a loop.

Row vectors, batched: an input x_t has shape (B, D) (or (D,) for a single sequence), the
hidden state h_t has shape (B, H) (or (H,)). Gates are computed with one fused matrix
product per input, ``x_t @ W_x`` with W_x of shape (D, k*H), then sliced into k gate blocks
of width H; the block order is PyTorch's, so the weights transpose into ``torch.nn.LSTMCell``
/ ``torch.nn.GRUCell`` one-to-one (tests/test_cells.py cross-checks when torch is installed).

LSTM (Hochreiter & Schmidhuber 1997, with a forget gate; blocks i, f, g, o)::

    i = sigmoid(x W_x[:, i] + h W_h[:, i] + b[i])       input gate       (B, H)
    f = sigmoid(x W_x[:, f] + h W_h[:, f] + b[f])       forget gate
    g = tanh   (x W_x[:, g] + h W_h[:, g] + b[g])       candidate cell
    o = sigmoid(x W_x[:, o] + h W_h[:, o] + b[o])       output gate
    c' = f * c + i * g                                  new cell state
    h' = o * tanh(c')                                   new hidden state

GRU (Cho et al. 2014, PyTorch's variant; blocks r, z, n)::

    r = sigmoid(x W_x[:, r] + b_x[r] + h W_h[:, r] + b_h[r])       reset gate
    z = sigmoid(x W_x[:, z] + b_x[z] + h W_h[:, z] + b_h[z])       update gate
    n = tanh   (x W_x[:, n] + b_x[n] + r * (h W_h[:, n] + b_h[n])) candidate
    h' = (1 - z) * n + z * h

Use in a training loop (the state is whatever ``step`` returns; pass it back in)::

    cell = LSTM.init(D=vocab, H=128, seed=0)
    state = cell.initial_state(batch=B)
    for t in range(T):
        with scope(f"t={t + 1}"):
            h, state = cell.step(x[:, t], state)       # x[:, t]: (B, D), h: (B, H)
            logits = h @ Why + by
    state = cell.detach_state(state)                    # truncated BPTT between chunks
"""
from dataclasses import dataclass, field

import numpy as np

from autograd_mini import Tensor, scope
from autograd_mini.errors import ShapeError


@dataclass
class CellRun:
    """What ``forward`` over a sequence leaves behind: every h(t) and the final state."""
    h: list = field(default_factory=list)   # h(t), t = 1..T, each (B, H); retain_grad()
    state: object = None                   # the state after the last step (pass it on)


class _Cell:
    """What LSTM and GRU share: parameters, initial state, checks, the sequence loop."""

    PARAMS = ()
    BLOCKS = 1      # gate blocks in the fused weights

    def parameters(self):
        """{name: Tensor} in a fixed order (for optimizers and gradcheck)."""
        return {n: getattr(self, n) for n in self.PARAMS}

    def zero_grad(self):
        for p in self.parameters().values():
            p.zero_grad()

    @property
    def input_size(self):
        return self.W_x.shape[0]

    @property
    def hidden_size(self):
        return self.W_h.shape[0]

    @staticmethod
    def _weights(rng, D, H, blocks, dtype):
        """Uniform(-1/sqrt(H), 1/sqrt(H)) as PyTorch initializes its recurrent cells."""
        k = 1.0 / np.sqrt(H)
        def p(name, *shape):
            return Tensor(rng.uniform(-k, k, shape).astype(dtype), requires_grad=True,
                          name=name)
        return p("W_x", D, blocks * H), p("W_h", H, blocks * H), p

    def _check_input(self, x, h):
        D, H = self.input_size, self.hidden_size
        if x.shape[-1:] != (D,) or x.ndim not in (1, 2):
            raise ShapeError(f"{type(self).__name__}.step: x_t has shape {x.shape}, expected "
                             f"(B, {D}) or ({D},) (batch of row vectors of size D={D})")
        if h.shape[-1:] != (H,) or h.shape[:-1] != x.shape[:-1]:
            raise ShapeError(f"{type(self).__name__}.step: the state's h has shape {h.shape} "
                             f"but x_t has shape {x.shape}: expected h of shape "
                             f"{x.shape[:-1] + (H,)}")

    def _zeros(self, batch):
        shape = (self.hidden_size,) if batch is None else (batch, self.hidden_size)
        return Tensor(np.zeros(shape, dtype=self.W_h.dtype))

    def _gates(self, z, k):
        """Block k (width H) of the fused pre-activations z (..., blocks*H)."""
        H = self.hidden_size
        return z[..., k * H:(k + 1) * H]

    def forward(self, xs, state=None):
        """xs: (T, B, D) or (T, D), time first. Returns a CellRun with h(1..T), each
        retain_grad() so that after backward ``run.h[t - 1].grad`` is dL/dh(t)."""
        xs = xs if isinstance(xs, Tensor) else Tensor(np.asarray(xs, dtype=self.W_x.dtype))
        if xs.ndim not in (2, 3):
            raise ShapeError(f"{type(self).__name__}.forward: xs has shape {xs.shape}, "
                             f"expected (T, B, D) or (T, D), time first")
        if state is None:
            state = self.initial_state(xs.shape[1] if xs.ndim == 3 else None)
        run = CellRun()
        for t in range(1, xs.shape[0] + 1):
            with scope(f"t={t}"):
                h, state = self.step(xs[t - 1], state)
            run.h.append(h.named(f"h({t})").retain_grad())
        run.state = state
        return run


class LSTM(_Cell):
    """LSTM cell. Parameters W_x (D, 4H), W_h (H, 4H), b (4H,); blocks i, f, g, o.
    State: a tuple (h, c), each (B, H) or (H,)."""

    PARAMS = ("W_x", "W_h", "b")
    BLOCKS = 4

    def __init__(self, W_x, W_h, b):
        self.W_x, self.W_h, self.b = W_x, W_h, b
        H = W_h.shape[0]
        if W_h.shape != (H, 4 * H) or W_x.ndim != 2 or W_x.shape[1] != 4 * H \
                or b.shape != (4 * H,):
            raise ShapeError(f"LSTM: W_x {W_x.shape}, W_h {W_h.shape}, b {b.shape} do not fit: "
                             f"expected (D, 4H), (H, 4H), (4H,)")

    @classmethod
    def init(cls, D, H, seed=0, forget_bias=1.0, dtype=np.float64):
        """Random weights; the forget gate's bias starts at ``forget_bias`` so that the
        cell remembers by default (Jozefowicz et al. 2015)."""
        rng = np.random.default_rng(seed)
        W_x, W_h, p = cls._weights(rng, D, H, 4, dtype)
        b = rng.uniform(-1 / np.sqrt(H), 1 / np.sqrt(H), 4 * H).astype(dtype)
        b[H:2 * H] = forget_bias
        return cls(W_x, W_h, Tensor(b, requires_grad=True, name="b"))

    def initial_state(self, batch=None):
        """(h0, c0) of zeros: shape (batch, H), or (H,) when batch is None."""
        return self._zeros(batch), self._zeros(batch)

    @staticmethod
    def detach_state(state):
        return tuple(s.detach() for s in state)

    def step(self, x, state, xW=None):
        """One step: x (B, D) or (D,), state (h, c) -> (h', (h', c')), shapes (B, H).
        ``xW``: x @ W_x when the caller has it already (a one-hot x picks rows of W_x),
        and then x is not read."""
        h, c = state
        if xW is None:
            x = x if isinstance(x, Tensor) else Tensor(x)
            self._check_input(x, h)
            xW = x @ self.W_x
        z = xW + h @ self.W_h + self.b                    # (B, 4H): all four gates at once
        # The names are for pictures (visualize.draw); they cost nothing else.
        i = self._gates(z, 0).sigmoid().named("input gate")
        f = self._gates(z, 1).sigmoid().named("forget gate")
        g = self._gates(z, 2).tanh().named("candidate")
        o = self._gates(z, 3).sigmoid().named("output gate")
        c = (f * c + i * g).named("cell")
        h = o * c.tanh()
        return h, (h, c)


class GRU(_Cell):
    """GRU cell. Parameters W_x (D, 3H), W_h (H, 3H), b_x (3H,), b_h (3H,); blocks r, z, n.
    Two biases, because b_h[n] sits inside the reset gate's product. State: h itself."""

    PARAMS = ("W_x", "W_h", "b_x", "b_h")
    BLOCKS = 3

    def __init__(self, W_x, W_h, b_x, b_h):
        self.W_x, self.W_h, self.b_x, self.b_h = W_x, W_h, b_x, b_h
        H = W_h.shape[0]
        if W_h.shape != (H, 3 * H) or W_x.ndim != 2 or W_x.shape[1] != 3 * H \
                or b_x.shape != (3 * H,) or b_h.shape != (3 * H,):
            raise ShapeError(f"GRU: W_x {W_x.shape}, W_h {W_h.shape}, b_x {b_x.shape}, "
                             f"b_h {b_h.shape} do not fit: expected (D, 3H), (H, 3H), (3H,), "
                             f"(3H,)")

    @classmethod
    def init(cls, D, H, seed=0, dtype=np.float64):
        rng = np.random.default_rng(seed)
        W_x, W_h, p = cls._weights(rng, D, H, 3, dtype)
        return cls(W_x, W_h, p("b_x", 3 * H), p("b_h", 3 * H))

    def initial_state(self, batch=None):
        """h0 of zeros: shape (batch, H), or (H,) when batch is None."""
        return self._zeros(batch)

    @staticmethod
    def detach_state(state):
        return state.detach()

    def step(self, x, h, xW=None):
        """One step: x (B, D) or (D,), state h (B, H) -> (h', h'). ``xW``: x @ W_x when
        the caller has it already (then x is not read)."""
        if xW is None:
            x = x if isinstance(x, Tensor) else Tensor(x)
            self._check_input(x, h)
            xW = x @ self.W_x
        zx = xW + self.b_x                                # (B, 3H)
        zh = h @ self.W_h + self.b_h                      # (B, 3H)
        # The names are for pictures (visualize.draw); they cost nothing else.
        r = (self._gates(zx, 0) + self._gates(zh, 0)).sigmoid().named("reset gate")
        z = (self._gates(zx, 1) + self._gates(zh, 1)).sigmoid().named("update gate")
        n = (self._gates(zx, 2) + r * self._gates(zh, 2)).tanh().named("candidate")
        h = (1 - z) * n + z * h
        return h, h
