"""LSTM and GRU cells: autodiff against finite differences, a hand-computed step, shapes,
and (when torch is installed) the same numbers as torch.nn.LSTMCell / GRUCell."""
import numpy as np
import pytest

from autograd_mini import Tensor, gradcheck, numerical_jacobian
from autograd_mini.errors import ShapeError
from autograd_mini.models.cells import GRU, LSTM

CELLS = [LSTM, GRU]


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _loss_fn(cls, xs):
    """(params..., x) -> a scalar that mixes every h(t) with fixed random weights, so
    that the gradient on every step's state is exercised (not just the last one)."""
    mix = np.random.default_rng(7).standard_normal(xs.shape[:-1] + (1,))
    def f(*args):
        *params, x = args
        run = cls(*params).forward(x)
        total = None
        for t, h in enumerate(run.h):
            term = (h * Tensor(mix[t])).tanh().sum()
            total = term if total is None else total + term
        return total
    return f


@pytest.mark.parametrize("cls", CELLS)
@pytest.mark.parametrize("T", [1, 2, 5])
def test_full_gradcheck_small(cls, T):
    cell = cls.init(D=3, H=2, seed=T)
    xs = Tensor(np.random.default_rng(T).standard_normal((T, 2, 3)), requires_grad=True,
                name="xs")
    report = gradcheck(_loss_fn(cls, xs.data), [*cell.parameters().values(), xs],
                       atol=1e-7, rtol=1e-6)
    assert report, report


@pytest.mark.parametrize("cls", CELLS)
def test_projection_gradcheck_bigger(cls):
    cell = cls.init(D=10, H=16, seed=3)
    xs = Tensor(np.random.default_rng(3).standard_normal((20, 4, 10)), requires_grad=True)
    report = gradcheck(_loss_fn(cls, xs.data), [*cell.parameters().values(), xs],
                       mode="projection", atol=1e-7, rtol=1e-6)
    assert report, report


@pytest.mark.parametrize("cls", CELLS)
def test_gradcheck_catches_a_wrong_cell(cls):
    """The check above can fail: a cell whose backward is silently broken (the recurrent
    weights' gradient detached at every step) is caught."""
    class Broken(cls):
        def step(self, x, state):
            W_h = self.W_h
            self.W_h = W_h.detach()
            try:
                return super().step(x, state)
            finally:
                self.W_h = W_h
    cell = cls.init(D=3, H=2, seed=0)
    xs = np.random.default_rng(0).standard_normal((3, 2, 3))
    def f(*params):
        return _loss_fn(Broken, xs)(*params, Tensor(xs))
    assert not gradcheck(f, list(cell.parameters().values()))


def test_lstm_step_by_hand():
    """One LSTM step computed with NumPy from the equations in the module docstring."""
    cell = LSTM.init(D=3, H=2, seed=1)
    rng = np.random.default_rng(1)
    x, h0, c0 = rng.standard_normal((4, 3)), rng.standard_normal((4, 2)), \
        rng.standard_normal((4, 2))
    h, (h2, c) = cell.step(Tensor(x), (Tensor(h0), Tensor(c0)))
    Wx, Wh, b = cell.W_x.data, cell.W_h.data, cell.b.data
    z = x @ Wx + h0 @ Wh + b
    i, f, g, o = _sigmoid(z[:, 0:2]), _sigmoid(z[:, 2:4]), np.tanh(z[:, 4:6]), \
        _sigmoid(z[:, 6:8])
    c_ref = f * c0 + i * g
    np.testing.assert_allclose(c.data, c_ref, rtol=1e-14)
    np.testing.assert_allclose(h.data, o * np.tanh(c_ref), rtol=1e-14)
    assert h2 is h


def test_gru_step_by_hand():
    cell = GRU.init(D=3, H=2, seed=1)
    rng = np.random.default_rng(2)
    x, h0 = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    h, state = cell.step(Tensor(x), Tensor(h0))
    zx = x @ cell.W_x.data + cell.b_x.data
    zh = h0 @ cell.W_h.data + cell.b_h.data
    r, z = _sigmoid(zx[:, 0:2] + zh[:, 0:2]), _sigmoid(zx[:, 2:4] + zh[:, 2:4])
    n = np.tanh(zx[:, 4:6] + r * zh[:, 4:6])
    np.testing.assert_allclose(h.data, (1 - z) * n + z * h0, rtol=1e-14)
    assert state is h


@pytest.mark.parametrize("cls", CELLS)
def test_gradient_on_each_hidden_state(cls):
    """run.h[t].grad after backward is dL/dh(t): checked against finite differences by
    perturbing h(t) itself (re-running the remaining steps from the perturbed state)."""
    cell = cls.init(D=3, H=2, seed=4)
    xs = np.random.default_rng(4).standard_normal((4, 3))   # unbatched: (T, D)
    run = cell.forward(xs)
    loss = sum((h.sum() for h in run.h[1:]), run.h[0].sum())
    loss.backward()
    # states after step 2, then continue from a perturbed h(2) (LSTM keeps its c(2))
    s = cell.initial_state()
    for t in range(2):
        _, s = cell.step(Tensor(xs[t]), s)
    def rest(h2):
        state = (h2, s[1].detach()) if cls is LSTM else h2
        total = h2.sum()
        for t in range(2, 4):
            h, state = cell.step(Tensor(xs[t]), state)
            total = total + h.sum()
        return total
    h2 = s[0] if cls is LSTM else s
    numeric = numerical_jacobian(rest, h2.data)
    np.testing.assert_allclose(run.h[1].grad, numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("cls", CELLS)
def test_shapes_batched_and_unbatched(cls):
    cell = cls.init(D=5, H=3)
    h, _ = cell.step(np.zeros((7, 5)), cell.initial_state(7))
    assert h.shape == (7, 3)
    h, _ = cell.step(np.zeros(5), cell.initial_state())
    assert h.shape == (3,)
    run = cell.forward(np.zeros((4, 2, 5)))
    assert [h.shape for h in run.h] == [(2, 3)] * 4
    assert run.h[3].name == "h(4)" and run.h[0].node.scope == ("t=1",)


@pytest.mark.parametrize("cls", CELLS)
def test_shape_errors_name_the_shapes(cls):
    cell = cls.init(D=5, H=3)
    with pytest.raises(ShapeError, match=r"x_t has shape \(2, 4\), expected \(B, 5\)"):
        cell.step(np.zeros((2, 4)), cell.initial_state(2))
    with pytest.raises(ShapeError, match=r"expected h of shape \(2, 3\)"):
        cell.step(np.zeros((2, 5)), cell.initial_state(3))
    with pytest.raises(ShapeError, match=r"expected \(T, B, D\) or \(T, D\)"):
        cell.forward(np.zeros(5))


@pytest.mark.parametrize("cls", CELLS)
def test_detach_state_cuts_the_graph(cls):
    cell = cls.init(D=2, H=2)
    _, state = cell.step(np.ones(2), cell.initial_state())
    cut = cls.detach_state(state)
    parts = cut if isinstance(cut, tuple) else (cut,)
    assert all(p.node is None and not p.requires_grad for p in parts)


def test_lstm_forget_bias():
    cell = LSTM.init(D=2, H=3, forget_bias=1.0)
    np.testing.assert_array_equal(cell.b.data[3:6], 1.0)


@pytest.mark.parametrize("cls", CELLS)
def test_same_numbers_as_torch(cls):
    """An independent implementation: torch's cells with our weights transposed in."""
    torch = pytest.importorskip("torch")
    D, H, B, T = 3, 4, 2, 5
    cell = cls.init(D=D, H=H, seed=5)
    xs = np.random.default_rng(5).standard_normal((T, B, D))
    run = cell.forward(xs)
    run.h[-1].sum().backward()
    ref = (torch.nn.LSTMCell if cls is LSTM else torch.nn.GRUCell)(D, H).double()
    with torch.no_grad():
        ref.weight_ih.copy_(torch.tensor(cell.W_x.data.T))
        ref.weight_hh.copy_(torch.tensor(cell.W_h.data.T))
        if cls is LSTM:
            ref.bias_ih.copy_(torch.tensor(cell.b.data))
            ref.bias_hh.zero_()
        else:
            ref.bias_ih.copy_(torch.tensor(cell.b_x.data))
            ref.bias_hh.copy_(torch.tensor(cell.b_h.data))
    state = None
    for t in range(T):
        state = ref(torch.tensor(xs[t]), state)
    h = state[0] if cls is LSTM else state
    h.sum().backward()
    np.testing.assert_allclose(run.h[-1].data, h.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(cell.W_h.grad, ref.weight_hh.grad.numpy().T, rtol=1e-10)
    np.testing.assert_allclose(cell.W_x.grad, ref.weight_ih.grad.numpy().T, rtol=1e-10)


@pytest.mark.parametrize("cls", CELLS)
def test_float32_stays_float32(cls):
    """A float32 cell (as a training loop may use) computes and differentiates in float32,
    and its numbers match the float64 cell to float32 precision."""
    cell32 = cls.init(D=3, H=2, seed=6, dtype=np.float32)
    cell64 = cls(*(Tensor(p.data.astype(np.float64), requires_grad=True)
                   for p in cell32.parameters().values()))
    xs = np.random.default_rng(6).standard_normal((4, 2, 3))
    run32, run64 = cell32.forward(xs), cell64.forward(xs)
    run32.h[-1].sum().backward()
    run64.h[-1].sum().backward()
    assert run32.h[-1].dtype == np.float32
    for p32, p64 in zip(cell32.parameters().values(), cell64.parameters().values()):
        assert p32.grad.dtype == np.float32
        np.testing.assert_allclose(p32.grad, p64.grad, rtol=1e-4, atol=1e-6)
