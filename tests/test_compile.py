"""autograd_mini.compile against eager autodiff (itself checked against finite
differences elsewhere), plus one finite-difference check of a compiled gradient."""
import re

import numpy as np
import pytest

import autograd_mini as am
from autograd_mini import Tensor, concat, softmax_cross_entropy
from autograd_mini.models.cells import GRU, LSTM
from autograd_mini.models.goodfellow import GoodfellowRNN

RTOL = 1e-12


def rnn(B=3, D=4, H=5, C=3, seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    P = {n: Tensor(rng.normal(0, scale, s), requires_grad=True, name=n) for n, s in
         (("U", (H, D)), ("W", (H, H)), ("V", (C, H)), ("b", (H,)), ("c", (C,)))}

    def f(x, y):
        h = Tensor(np.zeros((x.shape[1], H)))
        loss = 0
        for t in range(x.shape[0]):
            h = (x[t] @ P["U"].T + h @ P["W"].T + P["b"]).tanh()
            loss = loss + softmax_cross_entropy(h @ P["V"].T + P["c"], y[t])
        return loss
    return f, list(P.values())


def data(T, B=3, D=4, C=3, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(T, B, D)), rng.integers(0, C, size=(T, B))


def eager_grads(f, leaves, *args):
    for p in leaves:
        p.grad = None
    loss = f(*args)
    loss.backward()
    return float(loss.data), [p.grad.copy() for p in leaves]


def check(step, f, leaves, *args):
    value, want = eager_grads(f, leaves, *args)
    for p in leaves:
        p.grad = None
    out = step(*args)
    assert abs(float(out.data) - value) <= RTOL * abs(value)
    out.backward()
    for p, w in zip(leaves, want):
        err = np.max(np.abs(p.grad - w)) / np.max(np.abs(w))
        assert err <= RTOL, (p.name, err)


def test_benchmark_rnn_matches_eager_and_traces_once_over_100_calls():
    f, leaves = rnn()
    step = am.compile(f)
    for k in range(100):
        x, y = data(6, seed=k)
        if k % 25 == 0:
            check(step, f, leaves, x, y)
        else:
            step(x, y)
    assert step.traces == 1


def test_second_backward_with_retain_graph_gives_the_gradients_again():
    # the first backward writes the loss's gradient into p's buffer (the softmax of the
    # forward); a second one must see the forward's values, not the first's gradients
    f, leaves = rnn()
    step = am.compile(f)
    x, y = data(6)
    step(x, y)                                   # the trace
    _, want = eager_grads(f, leaves, x, y)
    for p in leaves:
        p.grad = None
    out = step(x, y)
    out.backward(retain_graph=True)
    out.backward(retain_graph=True)
    (out * 3.0).backward()
    for p, w in zip(leaves, want):
        err = np.max(np.abs(p.grad - 5 * w)) / np.max(np.abs(5 * w))
        assert err <= RTOL, (p.name, err)


def test_one_more_trace_when_T_or_batch_changes():
    f, leaves = rnn()
    step = am.compile(f)
    step(*data(6))
    step(*data(6, seed=2))
    step(*data(9))
    assert step.traces == 2
    step(*data(9, B=5))
    assert step.traces == 3
    check(step, f, leaves, *data(9, B=5, seed=4))


def test_source_length_does_not_depend_on_T():
    f, _ = rnn()
    texts = []
    for T in (5, 500):
        step = am.compile(f)
        step(*data(T))
        texts.append(re.sub(r"T = \d+", "T = N", step.source()))
    assert texts[0] == texts[1]
    assert "for t in range(1, T + 1):" in texts[0]


def test_parameters_changed_in_place_and_data_replaced():
    f, leaves = rnn()
    step = am.compile(f)
    x, y = data(5)
    step(x, y).backward()
    leaves[1].data[...] *= 0.5                      # an optimiser step, in place
    check(step, f, leaves, x, y)
    leaves[0].data = leaves[0].data + 0.1           # .data replaced
    check(step, f, leaves, x, y)
    assert step.traces == 1


def test_goodfellow_model():
    model = GoodfellowRNN.init(seed=3)
    x, y = GoodfellowRNN.example_data(T=7, seed=3)
    f = lambda x, y: model.forward(x, y).loss      # noqa: E731
    check(am.compile(f), f, list(model.parameters().values()), x, y)


def gated_rnn(cell, H, rng):
    """An LSTM or GRU with a linear output and softmax cross-entropy at every step."""
    m = cell.init(D=3, H=H, seed=1)
    Wo = Tensor(rng.normal(size=(H, 2)), requires_grad=True, name="Wo")

    def f(xs, y):
        loss = 0
        for t, h in enumerate(m.forward(xs).h):
            loss = loss + softmax_cross_entropy(h @ Wo, y[t])
        return loss
    return f, list(m.parameters().values()) + [Wo]


@pytest.mark.parametrize("cell", [LSTM, GRU])
def test_gated_cells(cell):
    rng = np.random.default_rng(0)
    f, params = gated_rnn(cell, 4, rng)
    xs, y = rng.normal(size=(6, 2, 3)), rng.integers(0, 2, size=(6, 2))
    check(am.compile(f), f, params, xs, y)


def test_skip_connection_h_t_minus_2_and_truncated_bptt_h0_argument():
    rng = np.random.default_rng(5)
    U, W, W2 = (Tensor(rng.normal(0, 0.4, s), requires_grad=True) for s in
                ((4, 3), (4, 4), (4, 4)))

    def f(x, h0):
        hs = [h0, h0]
        for t in range(x.shape[0]):
            hs.append((x[t] @ U.T + hs[-1] @ W.T + hs[-2] @ W2.T).tanh())
        return (sum(h.sum() for h in hs[2:]) * 0.1, hs[-1])

    step = am.compile(lambda x, h0: f(x, h0))
    h0 = Tensor(np.zeros((2, 4)))
    for k in range(3):                      # truncated BPTT: the state carried, detached
        x = rng.normal(size=(8, 2, 3))
        for p in (U, W, W2):
            p.grad = None
        loss, h_last = f(x, h0)
        loss.backward()
        want = [p.grad.copy() for p in (U, W, W2)]
        for p in (U, W, W2):
            p.grad = None
        out, h_next = step(x, h0)
        out.backward()
        for p, w in zip((U, W, W2), want):
            assert np.max(np.abs(p.grad - w)) <= RTOL * np.max(np.abs(w))
        np.testing.assert_allclose(h_next.data, h_last.data, rtol=1e-13)
        h0 = h_next
    assert step.traces == 1


def bidirectional_rnn(rng, H, scale):
    """Two tanh RNNs, one forwards and one backwards in time, both read by the output."""
    Uf, Wf, Ub, Wb = (Tensor(rng.normal(0, scale, s), requires_grad=True) for s in
                      ((H, 3), (H, H), (H, 3), (H, H)))
    V = Tensor(rng.normal(0, scale, (2, 2 * H)), requires_grad=True)

    def f(x, y):
        T, B = x.shape[:2]
        hf, hb, fs, bs = Tensor(np.zeros((B, H))), Tensor(np.zeros((B, H))), [], []
        for t in range(T):
            hf = (x[t] @ Uf.T + hf @ Wf.T).tanh()
            fs.append(hf)
        for t in reversed(range(T)):
            hb = (x[t] @ Ub.T + hb @ Wb.T).tanh()
            bs.append(hb)
        loss = 0
        for t in range(T):
            o = concat([fs[t], bs[T - 1 - t]], axis=1) @ V.T
            loss = loss + softmax_cross_entropy(o, y[t])
        return loss
    return f, [Uf, Wf, Ub, Wb, V]


def test_bidirectional_rnn():
    rng = np.random.default_rng(6)
    f, params = bidirectional_rnn(rng, H=4, scale=0.5)
    x, y = rng.normal(size=(7, 2, 3)), rng.integers(0, 2, size=(7, 2))
    check(am.compile(f), f, params, x, y)


def test_char_rnn_batch():
    from autograd_mini.models.char_rnn import CharRNN
    model = CharRNN.init("rnn", 11, 6, seed=2)
    rng = np.random.default_rng(2)

    def f(inputs, targets, h0):
        state, hs = h0, []
        for t in range(inputs.shape[1]):
            h, state = model.step(inputs[:, t], state)
            hs.append(h)
        return softmax_cross_entropy(model.logits(concat(hs, axis=0)), targets), state
    ids = rng.integers(0, 11, size=(4, 9))
    inputs, targets = ids[:, :-1], np.ascontiguousarray(ids[:, 1:].T).reshape(-1)
    h0 = Tensor(np.zeros((4, 6)))
    leaves = list(model.parameters().values())
    want = eager_grads(lambda *a: f(*a)[0], leaves, inputs, targets, h0)
    for p in leaves:
        p.grad = None
    step = am.compile(f)
    step(inputs, targets, h0)
    out, _ = step(inputs, targets, h0)
    out.backward()
    assert abs(float(out.data) - want[0]) <= RTOL * abs(want[0])
    for p, w in zip(leaves, want[1]):
        assert np.max(np.abs(p.grad - w)) <= RTOL * np.max(np.abs(w))


def test_generated_source_runs_with_numpy_alone():
    f, leaves = rnn()
    step = am.compile(f)
    x, y = data(5)
    step(x, y)
    entry = step.last
    ns = {}
    exec(step.source(), ns)                 # a fresh namespace: no autograd_mini in it
    assert "autograd_mini" not in step.source().split('"""', 2)[2]
    forward, backward = ns["program"](dict(entry_consts(step)))
    outs, saved = forward(x, y, *[p.data for p in leaves_of(entry)])
    grads = backward(np.float64(1.0), *saved)
    value, want = eager_grads(f, leaves, x, y)
    assert abs(float(outs[0]) - value) <= RTOL * abs(value)
    order = {id(p): k for k, p in enumerate(leaves)}
    for p, gr in zip(leaves_of(entry), grads):
        w = want[order[id(p)]]
        assert np.max(np.abs(gr - w)) <= RTOL * np.max(np.abs(w))


def entry_consts(step):
    return step.last.consts


def leaves_of(entry):
    return entry.params


def test_item_while_tracing_is_an_error_naming_the_line():
    W = Tensor(np.ones((2, 2)), requires_grad=True)

    def f(x):
        h = Tensor(x) @ W
        if h.sum().item() > 0:          # a branch on a traced value
            h = h * 2
        return h.sum()
    with pytest.raises(am.TracingError, match=r"test_compile.py:\d+.*item\(\)"):
        am.compile(f)(np.ones((3, 2)))


def test_int_of_an_array_argument_is_an_error():
    W = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(am.TracingError, match="int"):
        am.compile(lambda y: (W * int(y[0])).sum())(np.array([1, 2]))


def test_finite_differences_of_a_compiled_gradient():
    f, leaves = rnn(B=2, D=3, H=3, C=2)
    x, y = data(4, B=2, D=3, C=2)
    step = am.compile(f)
    step(x, y)
    for p in leaves:
        p.grad = None
    step(x, y).backward()
    W, eps = leaves[1], 1e-6
    num = np.zeros_like(W.data)
    for idx in np.ndindex(W.shape):
        old = W.data[idx]
        W.data[idx] = old + eps
        up = float(step(x, y).data)
        W.data[idx] = old - eps
        down = float(step(x, y).data)
        W.data[idx] = old
        num[idx] = (up - down) / (2 * eps)
    np.testing.assert_allclose(W.grad, num, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_trainer_compile_gives_eager_losses_over_20_steps(cell):
    """autograd-mini train char-rnn --compile: the same run as eager (float64, 1e-10),
    parameters updated by Adam between calls, the state carried as an argument."""
    from autograd_mini.models.char_rnn import load_text
    from autograd_mini.models.trainer import DEFAULT_LR, Trainer
    options = dict(cell=cell, hidden=12, bptt=6, batch=3, optim="adam",
                   lr=DEFAULT_LR["adam"][cell], momentum=0.9, clip=5.0, seed=3,
                   dtype="float64")
    text = load_text()
    eager, compiled = Trainer(text, options), Trainer(text, options, compile=True)
    want = [eager.train_step() for _ in range(20)]
    got = [compiled.train_step() for _ in range(20)]
    assert np.max(np.abs(np.subtract(got, want))) <= 1e-10
    assert compiled.compiled.traces == 1
    for (n, p), q in zip(compiled.model.parameters().items(),
                         eager.model.parameters().values()):
        assert np.max(np.abs(p.data - q.data)) <= 1e-10, n


def test_labels_that_are_a_view_of_a_copy_are_read_afresh():
    """Labels as ``np.ascontiguousarray(y.T).reshape(-1)`` (the char-RNN's time-major
    targets), handed to the loss as they are: NumPy's view of them inside the loss points
    past the argument to the array owning the memory. The trace must still see the
    argument, not freeze the first call's labels into the program."""
    f, leaves = rnn()
    U, W, V, b, c = leaves

    def g(x, labels):
        h, hs = Tensor(np.zeros((x.shape[1], 5))), []
        for t in range(x.shape[0]):
            h = (x[t] @ U.T + h @ W.T + b).tanh()
            hs.append(h)
        return softmax_cross_entropy(concat(hs, axis=0) @ V.T + c, labels)
    step = am.compile(g)
    for seed in range(3):
        x, y = data(5, seed=seed)
        labels = np.ascontiguousarray(y).reshape(-1)[::-1].copy().reshape(5, 3).T
        labels = np.ascontiguousarray(labels.T).reshape(-1)     # a view of a copy
        assert labels.base is not None
        check(step, g, leaves, x, labels)
    assert step.traces == 1


def test_benchmark_rnn_backward_loop_is_the_hand_derivation():
    """The backward loop is the two lines of the hand derivation, da = dh * (1 - h**2)
    and dh(t-1) += da @ W: add's g is handed on (no copy), and 1 - h**2 is worked out
    for all steps before the loop."""
    f, _ = rnn()
    step = am.compile(f)
    step(*data(5))
    src = step.source()
    body = src.split("for t in range(T, 0, -1):\n")[1].split("\n")
    code = [ln.strip() for ln in body if ln.startswith(" " * 12)
            and not ln.strip().startswith("#")]
    assert len(code) == 2, code
    assert "* (1 - out**2)" in src and ".fill(0)" not in src


# ---------------------------------------------------------------------- blocked backward
# Steps of at least blocks.MIN_ROW_BYTES run their backward K steps at a time; T below,
# at and above a multiple of K (one block of 3 steps; a last block of K; of 5).

@pytest.mark.parametrize("T", [3, 16, 37])
def test_blocked_backward_of_the_benchmark_rnn_matches_eager(T):
    f, leaves = rnn(B=8, D=6, H=40, C=5, scale=0.1)   # (not chaotic: eager is exact enough)
    step = am.compile(f)
    x, y = data(T, B=8, D=6, C=5)
    check(step, f, leaves, x, y)
    check(step, f, leaves, *data(T, B=8, D=6, C=5, seed=9))   # the buffers reused
    assert "in blocks of K steps" in step.source() and step.traces == 1


@pytest.mark.parametrize("cell", [LSTM, GRU])
def test_blocked_backward_of_gated_cells_matches_eager(cell):
    rng = np.random.default_rng(0)
    f, params = gated_rnn(cell, 40, rng)
    xs, y = rng.normal(size=(35, 8, 3)), rng.integers(0, 2, size=(35, 8))
    step = am.compile(f)
    check(step, f, params, xs, y)
    assert "in blocks of K steps" in step.source()


def test_blocked_backward_with_h_t_minus_2_matches_eager():
    rng = np.random.default_rng(5)
    U, W, W2 = (Tensor(rng.normal(0, 0.3, s), requires_grad=True) for s in
                ((40, 3), (40, 40), (40, 40)))

    def f(x):
        hs = [Tensor(np.zeros((8, 40)))] * 2
        for t in range(x.shape[0]):
            hs.append((x[t] @ U.T + hs[-1] @ W.T + hs[-2] @ W2.T).tanh())
        return sum(h.sum() for h in hs[2:]) * 0.1
    step = am.compile(f)
    for T in (17, 33):          # a last block of 1 step: shorter than the carry of 2
        check(step, f, [U, W, W2], rng.normal(size=(T, 8, 3)))
    assert "in blocks of K steps" in step.source()


def test_blocked_backward_of_a_bidirectional_rnn_matches_eager():
    rng = np.random.default_rng(6)
    f, params = bidirectional_rnn(rng, H=40, scale=0.3)
    x, y = rng.normal(size=(21, 8, 3)), rng.integers(0, 2, size=(21, 8))
    check(am.compile(f), f, params, x, y)
