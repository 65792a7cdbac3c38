"""A character-level language model: min-char-rnn with autodiff doing the BPTT.

The network reads one character per step and predicts the next. Row vectors, batched:
B independent streams of text are read side by side, so an input at step t is B
character ids and the hidden state h(t) has shape (B, H). With vocabulary size V:

    rnn   h(t) = tanh(W_xh[x(t)] + h(t-1) W_hh + b_h)      W_xh (V, H), W_hh (H, H), b_h (H,)
    lstm  h(t), c(t) = LSTM.step(onehot(x(t)), (h(t-1), c(t-1)))        (models/cells.py)
    gru   h(t) = GRU.step(onehot(x(t)), h(t-1))                          (models/cells.py)
          (onehot(x(t)) @ W_x passed to the cell as the rows W_x[x(t)], as below)
    then  y(t) = h(t) W_hy + b_y,   p(t) = softmax(y(t))                W_hy (H, V), b_y (V,)
    loss  = mean over the B*T characters of -log p(t)[x(t+1)]      (nats per character)

``W_xh[x(t)]`` is an embedding lookup: the same numbers as ``onehot(x(t)) @ W_xh``
(min-char-rnn's ``np.dot(Wxh, x)``), without the multiplications by zero; its backward
adds each step's gradient into the rows that were read. Bits per character are nats
divided by ln 2.

Truncated BPTT: a long text is cut into chunks of T characters; the hidden state is
carried from one chunk to the next but ``detach``ed, so each backward runs over T steps.

``min_char_rnn_bptt`` is the same rnn written by hand in NumPy in min-char-rnn's style
(forward caching every step, backward carrying ``dhnext``), and ``lstm_bptt`` the lstm:
the independent references the tests compare autodiff with, and the baselines of
benchmarks/char_rnn_numpy.py.
"""
from pathlib import Path

import numpy as np

from autograd_mini import Tensor, concat, no_grad, scope, softmax_cross_entropy
from autograd_mini.models.cells import GRU, LSTM

DEFAULT_TEXT = Path(__file__).parent / "data" / "genesis.txt"
CELLS = ("rnn", "lstm", "gru")
LN2 = float(np.log(2.0))


class TextError(ValueError):
    """A training text that cannot be used: missing, empty, not UTF-8, too short."""


# ---------------------------------------------------------------------- data
MAX_TEXT_BYTES = 200 << 20      # 200 MiB: far more than one can train on here


def load_text(path=None):
    """The text of ``path`` (UTF-8), or the shipped corpus (Genesis, KJV) when None.
    Only a regular file of at most MAX_TEXT_BYTES: a device (/dev/zero) or a pipe could
    be read forever."""
    path = DEFAULT_TEXT if path is None else Path(path)
    try:
        if path.exists() and not path.is_file() and not path.is_dir():
            raise TextError(f"--text {path}: not a regular file (a device, pipe or socket); "
                            "give a text file")
        if path.is_file() and path.stat().st_size > MAX_TEXT_BYTES:
            raise TextError(f"--text {path}: {path.stat().st_size:,} bytes, more than the "
                            f"{MAX_TEXT_BYTES:,} a character model here reads; use a part "
                            "of it (e.g. head -c 50M FILE > part.txt)")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise TextError(f"--text {path}: no such file") from None
    except IsADirectoryError:
        raise TextError(f"--text {path}: is a directory, expected a text file") from None
    except OSError as e:
        raise TextError(f"--text {path}: cannot read it ({e.strerror})") from None
    if not raw:
        raise TextError(f"--text {path}: the file is empty; a character model needs text "
                        "to learn from")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise TextError(f"--text {path}: not UTF-8: byte 0x{raw[e.start]:02x} at offset "
                        f"{e.start} (line {line}) cannot be decoded ({e.reason}). Convert "
                        "the file first, e.g. iconv -f latin1 -t utf-8 FILE") from None
    if text.startswith("\ufeff"):
        text = text[1:]         # a byte-order mark is not part of the text
    if not text:
        raise TextError(f"--text {path}: the file holds only a byte-order mark, no text")
    return text


class Vocabulary:
    """The sorted set of characters of a text; ids are positions in that order."""

    def __init__(self, chars):
        chars = "".join(chars)
        if len(set(chars)) != len(chars) or list(chars) != sorted(chars):
            raise ValueError("Vocabulary: characters must be distinct and sorted")
        if not chars:
            raise ValueError("Vocabulary: no characters")
        self.chars = chars
        self.index = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text):
        return cls("".join(sorted(set(text))))

    def __len__(self):
        return len(self.chars)

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and self.chars == other.chars

    def __repr__(self):
        return f"Vocabulary({len(self.chars)} characters: {self.chars!r})"

    def encode(self, text):
        """str of length N -> int64 ids of shape (N,)."""
        try:
            return np.fromiter((self.index[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as e:
            raise ValueError(f"character {e.args[0]!r} is not in the vocabulary "
                             f"({len(self.chars)} characters of the training text)") from None

    def decode(self, ids):
        return "".join(self.chars[int(i)] for i in ids)


def streams(ids, batch, bptt):
    """Cut ids (N,) into ``batch`` contiguous streams read side by side: shape (B, L).

    Chunk k of an epoch is ``streams[:, k*T : k*T + T + 1]`` (T inputs, and the T
    targets shifted by one), so one epoch has (L - 1) // T chunks; at least one is needed.
    """
    n = len(ids)
    need = batch * (bptt + 1)
    if n < need:
        raise TextError(f"the text has {n} characters, too short for one training chunk: "
                        f"--batch {batch} streams of --bptt {bptt} + 1 characters need at "
                        f"least {batch} x {bptt + 1} = {need}. Use a longer text or smaller "
                        "--batch/--bptt.")
    length = n // batch
    return ids[:batch * length].reshape(batch, length)


# ---------------------------------------------------------------------- the model
class CharRNN:
    """A cell (rnn, lstm or gru) of hidden size H over a vocabulary of V characters, and
    the output layer W_hy (H, V), b_y (V,). ``parameters()`` gives every leaf by name."""

    def __init__(self, cell, vocab_size, params, core=None):
        if cell not in CELLS:
            raise ValueError(f"CharRNN: cell {cell!r}, expected one of {', '.join(CELLS)}")
        self.cell = cell
        self.vocab_size = vocab_size
        self.core = core                  # the LSTM/GRU object, None for the rnn
        self.params = params              # {name: Tensor}, in a fixed order

    @classmethod
    def from_parameters(cls, cell, params):
        """A model around given parameter Tensors {name: Tensor} (e.g. for gradcheck):
        rnn: W_xh, W_hh, b_h; lstm: W_x, W_h, b; gru: W_x, W_h, b_x, b_h; all: W_hy, b_y."""
        core = None
        if cell == "lstm":
            core = LSTM(params["W_x"], params["W_h"], params["b"])
        elif cell == "gru":
            core = GRU(params["W_x"], params["W_h"], params["b_x"], params["b_h"])
        return cls(cell, params["W_hy"].shape[1], dict(params), core)

    @classmethod
    def init(cls, cell, vocab_size, hidden, seed=0, dtype=np.float64):
        """Random weights, uniform(-1/sqrt(H), 1/sqrt(H)) (PyTorch's recurrent default),
        zero biases for the rnn and the output layer."""
        if cell not in CELLS:
            raise ValueError(f"CharRNN: cell {cell!r}, expected one of {', '.join(CELLS)}")
        if not (isinstance(hidden, (int, np.integer)) and hidden > 0):
            raise ValueError(f"CharRNN: hidden size must be a positive integer, got {hidden!r}")
        V, H = int(vocab_size), int(hidden)
        rng = np.random.default_rng(seed)
        k = 1.0 / np.sqrt(H)

        def p(name, *shape, zero=False):
            a = np.zeros(shape) if zero else rng.uniform(-k, k, shape)
            return Tensor(a.astype(dtype), requires_grad=True, name=name)

        core = None
        if cell == "rnn":
            params = {"W_xh": p("W_xh", V, H), "W_hh": p("W_hh", H, H),
                      "b_h": p("b_h", H, zero=True)}
        else:
            core = (LSTM if cell == "lstm" else GRU).init(V, H, seed=seed + 1, dtype=dtype)
            params = dict(core.parameters())
        params["W_hy"] = p("W_hy", H, V)
        params["b_y"] = p("b_y", V, zero=True)
        return cls(cell, V, params, core)

    @property
    def hidden_size(self):
        return self.params["W_hy"].shape[0]

    @property
    def dtype(self):
        return self.params["W_hy"].dtype

    def parameters(self):
        return self.params

    def initial_state(self, batch):
        """Zeros: h (B, H) for rnn and gru, (h, c) for lstm."""
        if self.core is not None:
            return self.core.initial_state(batch)
        return Tensor(np.zeros((batch, self.hidden_size), dtype=self.dtype))

    def detach_state(self, state):
        """The same numbers, cut from the graph: where truncated BPTT stops."""
        if isinstance(state, tuple):
            return tuple(s.detach() for s in state)
        return state.detach()

    @staticmethod
    def hidden(state):
        """h out of a state (the lstm's state is (h, c))."""
        return state[0] if isinstance(state, tuple) else state

    def step(self, ids, state):
        """ids (B,) character ids, state -> (h (B, H), new state)."""
        if self.core is None:
            P = self.params
            h = (P["W_xh"][ids] + self.hidden(state) @ P["W_hh"] + P["b_h"]).tanh()
            return h, h
        # onehot(ids) @ W_x is the rows W_x[ids]: the same numbers, without a (B, V)
        # product (the hand-written lstm_bptt picks rows too)
        return self.core.step(None, state, xW=self.core.W_x[ids])

    def logits(self, h):
        """h (N, H) -> y (N, V)."""
        return h @ self.params["W_hy"] + self.params["b_y"]

    def loss(self, chunk, state):
        """chunk: ids (B, T + 1); step t reads chunk[:, t] and predicts chunk[:, t + 1].

        Returns (mean loss over the B*T predictions in nats, a scalar Tensor; the state
        after T steps, still attached to the graph: detach it before the next chunk).
        """
        chunk = np.asarray(chunk)
        if chunk.ndim != 2 or chunk.shape[1] < 2 or chunk.dtype.kind not in "iu":
            raise ValueError(f"CharRNN.loss: chunk of shape {chunk.shape} and dtype "
                             f"{chunk.dtype}; expected integer ids of shape (B, T + 1), T >= 1")
        if chunk.size and (chunk.min() < 0 or chunk.max() >= self.vocab_size):
            raise ValueError(f"CharRNN.loss: ids must be in [0, {self.vocab_size - 1}] "
                             f"(the vocabulary), got {chunk.min()}..{chunk.max()}")
        return self.chunk_loss(chunk[:, :-1], chunk[:, 1:].T.reshape(-1), state)

    def chunk_loss(self, inputs, targets, state):
        """``loss`` without the checks, from ids (B, T) and the targets as time-major rows
        (T*B,): NumPy work on the chunk stays outside, so this traces for compile."""
        hs = []
        for t in range(inputs.shape[1]):
            with scope(f"t={t + 1}"):
                h, state = self.step(inputs[:, t], state)
            hs.append(h)
        # One output layer and one loss for all steps: (T*B, H) time-major rows.
        y = self.logits(concat(hs, axis=0))
        return softmax_cross_entropy(y, targets), state


def evaluate(model, data, bptt):
    """Mean loss in nats per character over ``data`` (B, L), state carried, no graph."""
    total, count = 0.0, 0
    with no_grad():
        state = model.initial_state(data.shape[0])
        for k in range((data.shape[1] - 1) // bptt):
            chunk = data[:, k * bptt:k * bptt + bptt + 1]
            loss, state = model.loss(chunk, state)
            total += loss.item() * chunk.shape[0] * bptt
            count += chunk.shape[0] * bptt
    return total / count


# ---------------------------------------------------------------------- sampling
def sample(model, vocab, prompt="", length=200, temperature=1.0, rng=None):
    """Generate ``length`` characters after ``prompt`` (returned without the prompt).

    The prompt is read through the network first (it sets the state); each next character
    is drawn from softmax(y / temperature): below 1 sharper and safer, above 1 wilder.
    An empty prompt starts from the zero state.
    """
    if not (isinstance(temperature, (int, float)) and np.isfinite(temperature)
            and temperature > 0):
        raise ValueError(f"sample: temperature must be a positive number, got {temperature!r}")
    if not (isinstance(length, (int, np.integer)) and length >= 0):
        raise ValueError(f"sample: length must be a non-negative integer, got {length!r}")
    try:
        prompt_ids = vocab.encode(prompt)
    except ValueError as e:
        raise ValueError(f"sample: the prompt {prompt!r} cannot be read: {e}") from None
    rng = np.random.default_rng() if rng is None else rng
    out = []
    with no_grad():
        state = model.initial_state(1)
        h = model.hidden(state)
        for i in prompt_ids:
            h, state = model.step(np.array([i]), state)
        for _ in range(length):
            y = model.logits(h).data[0].astype(np.float64) / temperature
            p = np.exp(y - y.max())
            cdf = np.cumsum(p)
            i = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")),
                    len(vocab) - 1)
            out.append(vocab.chars[i])
            h, state = model.step(np.array([i]), state)
    return "".join(out)


# ---------------------------------------------------------------------- the hand-written twin
def min_char_rnn_bptt(params, chunk, h0):
    """The rnn's loss and gradients on one chunk, by hand, in min-char-rnn's style.

    params: {W_xh (V, H), W_hh (H, H), b_h (H,), W_hy (H, V), b_y (V,)} as arrays;
    chunk: ids (B, T + 1); h0: (B, H). Returns (loss: mean nats per character,
    {name: gradient}, h(T)). No clipping: this is a reference gradient.
    """
    W_xh, W_hh, b_h, W_hy, b_y = (params[n] for n in ("W_xh", "W_hh", "b_h", "W_hy", "b_y"))
    chunk = np.asarray(chunk)
    B, T = chunk.shape[0], chunk.shape[1] - 1
    N = B * T                                   # the loss is a mean over N predictions
    rows = np.arange(B)
    hs, ps = {-1: h0}, {}
    loss = 0.0
    for t in range(T):                          # forward pass, caching every step
        x, target = chunk[:, t], chunk[:, t + 1]
        hs[t] = np.tanh(W_xh[x] + hs[t - 1] @ W_hh + b_h)        # hidden state (B, H)
        y = hs[t] @ W_hy + b_y                                    # unnormalized log probs
        e = np.exp(y - y.max(axis=1, keepdims=True))
        ps[t] = e / e.sum(axis=1, keepdims=True)                  # probabilities (B, V)
        loss += -np.log(ps[t][rows, target]).sum()                # cross-entropy
    grads = {n: np.zeros_like(a) for n, a in params.items()}
    dhnext = np.zeros_like(h0)
    for t in reversed(range(T)):                # backward pass, newest step first
        x, target = chunk[:, t], chunk[:, t + 1]
        dy = ps[t].copy()
        dy[rows, target] -= 1                   # d loss / d y = p - onehot(target) ...
        dy /= N                                 # ... divided by N for the mean
        grads["W_hy"] += hs[t].T @ dy
        grads["b_y"] += dy.sum(axis=0)
        dh = dy @ W_hy.T + dhnext               # from the output and from step t + 1
        dhraw = (1 - hs[t] ** 2) * dh           # back through tanh
        grads["b_h"] += dhraw.sum(axis=0)
        np.add.at(grads["W_xh"], x, dhraw)      # rows that were read (repeats add up)
        grads["W_hh"] += hs[t - 1].T @ dhraw
        dhnext = dhraw @ W_hh.T                 # on to step t - 1
    return loss / N, grads, hs[T - 1]


def lstm_bptt(params, chunk, state):
    """The lstm model's loss and gradients on one chunk, by hand, in the same style.

    Same layout as models/cells.py: fused gates i, f, g, o; the input is one-hot, so
    ``onehot(x) @ W_x`` is row x of W_x. params: {W_x (V, 4H), W_h (H, 4H), b (4H,),
    W_hy (H, V), b_y (V,)}; chunk: ids (B, T + 1); state: (h0, c0), each (B, H).
    Returns (mean nats per character, {name: gradient}, (h(T), c(T))).
    """
    W_x, W_h, b, W_hy, b_y = (params[n] for n in ("W_x", "W_h", "b", "W_hy", "b_y"))
    B, T = chunk.shape[0], chunk.shape[1] - 1
    H = W_h.shape[0]
    N, rows = B * T, np.arange(B)
    hs, cs = {-1: state[0]}, {-1: state[1]}
    gates, ps = {}, {}
    loss = 0.0
    for t in range(T):
        z = W_x[chunk[:, t]] + hs[t - 1] @ W_h + b                     # (B, 4H)
        i, f, o = (1 / (1 + np.exp(-z[:, k * H:(k + 1) * H])) for k in (0, 1, 3))
        g = np.tanh(z[:, 2 * H:3 * H])
        cs[t] = f * cs[t - 1] + i * g
        tc = np.tanh(cs[t])
        hs[t] = o * tc
        gates[t] = (i, f, g, o, tc)
        y = hs[t] @ W_hy + b_y
        e = np.exp(y - y.max(axis=1, keepdims=True))
        ps[t] = e / e.sum(axis=1, keepdims=True)
        loss += -np.log(ps[t][rows, chunk[:, t + 1]]).sum()
    grads = {n: np.zeros_like(a) for n, a in params.items()}
    dhnext, dcnext = np.zeros_like(state[0]), np.zeros_like(state[1])
    dz = np.empty((B, 4 * H))
    for t in reversed(range(T)):
        i, f, g, o, tc = gates[t]
        dy = ps[t].copy()
        dy[rows, chunk[:, t + 1]] -= 1
        dy /= N
        grads["W_hy"] += hs[t].T @ dy
        grads["b_y"] += dy.sum(axis=0)
        dh = dy @ W_hy.T + dhnext
        dc = dh * o * (1 - tc ** 2) + dcnext              # through h = o * tanh(c)
        dz[:, :H] = dc * g * i * (1 - i)                  # input gate
        dz[:, H:2 * H] = dc * cs[t - 1] * f * (1 - f)     # forget gate
        dz[:, 2 * H:3 * H] = dc * i * (1 - g ** 2)        # candidate
        dz[:, 3 * H:] = dh * tc * o * (1 - o)             # output gate
        np.add.at(grads["W_x"], chunk[:, t], dz)
        grads["W_h"] += hs[t - 1].T @ dz
        grads["b"] += dz.sum(axis=0)
        dhnext = dz @ W_h.T
        dcnext = dc * f
    return loss / N, grads, (hs[T - 1], cs[T - 1])
