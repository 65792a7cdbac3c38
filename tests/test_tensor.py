"""Tensor itself: construction and dtypes, reflected operators, the small methods."""
import numpy as np
import pytest

from autograd_mini import Tensor, no_grad, softmax_cross_entropy


def leaf(data, dtype=np.float64):
    return Tensor(np.array(data, dtype=dtype), requires_grad=True)


# ---------------------------------------------------------------------- construction
@pytest.mark.parametrize("data, dtype", [
    (1.5, np.float64), (3, np.float64), (True, np.float64), ([1, 2], np.float64),
    ([[1.0, 2.0]], np.float64), (np.array([1, 2], dtype=np.float32), np.float32),
    (np.float32(2.0), np.float32), (np.array([1, 2]), np.int64),
    (np.arange(3, dtype=np.int32), np.int32),
])
def test_python_numbers_and_lists_become_float64_and_arrays_keep_their_dtype(data, dtype):
    assert Tensor(data).dtype == dtype


def test_dtype_argument_wins():
    assert Tensor([1, 2], dtype=np.float32).dtype == np.float32
    assert Tensor(np.ones(2), dtype=np.float32).dtype == np.float32
    assert Tensor(1.5, dtype=np.float32, requires_grad=True).requires_grad


def test_a_float_array_is_wrapped_without_a_copy_and_numpy_returns_a_copy():
    a = np.ones(3)
    t = Tensor(a)
    assert t.data is a
    c = t.numpy()
    c[0] = 5
    assert t.data[0] == 1.0


def test_tensor_of_a_tensor_shares_its_data():
    t = leaf([1.0, 2.0])
    u = Tensor(t)
    assert u.data is t.data and not u.requires_grad


def test_properties_and_small_methods():
    t = Tensor(np.arange(6.0).reshape(2, 3), name="W")
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and t.dtype == np.float64
    assert len(t) == 2 and t.is_leaf and t.node is None and t.grad is None
    assert Tensor(np.array([2.5])).item() == 2.5
    rows = list(t)
    assert len(rows) == 2 and rows[1].shape == (3,)
    np.testing.assert_array_equal(rows[1].data, [3.0, 4.0, 5.0])
    np.testing.assert_array_equal(t.T.data, t.data.T)
    assert repr(t) == "Tensor([[0., 1., 2.],\n        [3., 4., 5.]], name='W')"
    assert repr(Tensor(np.float32(2.5))) == "Tensor(2.5, dtype=float32)"
    assert float(Tensor([[2.5]])) == 2.5 and int(Tensor(7.0)) == 7
    with pytest.raises(TypeError, match=r"only a one-element tensor"):
        float(t)
    big = repr(Tensor(np.arange(1000.0)))
    assert "..." in big and len(big) < 120      # abbreviated, as NumPy prints
    assert "requires_grad=True" in repr(leaf([1.0]))
    assert "op=tanh" in repr(leaf([1.0]).tanh())


def test_slots_make_a_misspelt_attribute_fail():
    t = Tensor(1.0)
    with pytest.raises(AttributeError):
        t.requires_gard = True


# ---------------------------------------------------------------------- reflected operators
def test_reflected_operators_give_the_right_values_and_gradients():
    x0 = np.array([0.5, -2.0, 4.0])
    cases = [
        # (expression, value by hand, derivative by hand)
        (lambda t: 2 * t, 2 * x0, np.full(3, 2.0)),
        (lambda t: 1 - t, 1 - x0, np.full(3, -1.0)),
        (lambda t: 1 / t, 1 / x0, -1 / x0**2),
        (lambda t: 3 + t, 3 + x0, np.ones(3)),
        (lambda t: t - 1, x0 - 1, np.ones(3)),
        (lambda t: t / 4, x0 / 4, np.full(3, 0.25)),
        (lambda t: -t, -x0, -np.ones(3)),
        (lambda t: t ** 2, x0**2, 2 * x0),
        (lambda t: np.full(3, 2.0) * t, 2 * x0, np.full(3, 2.0)),
        (lambda t: np.full(3, 2.0) - t, 2 - x0, -np.ones(3)),
        (lambda t: np.full(3, 2.0) / t, 2 / x0, -2 / x0**2),
    ]
    for fn, value, deriv in cases:
        x = leaf(x0)
        y = fn(x)
        assert isinstance(y, Tensor)
        np.testing.assert_allclose(y.data, value, rtol=1e-15)
        y.sum().backward()
        np.testing.assert_allclose(x.grad, deriv, rtol=1e-15)


def test_ndarray_matmul_tensor_is_reflected():
    A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    x = leaf([0.5, -1.0])
    y = A @ x
    assert isinstance(y, Tensor)
    np.testing.assert_array_equal(y.data, A @ x.data)
    y.backward(np.array([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(x.grad, A.T @ np.array([1.0, 0.0, -1.0]))

    M = leaf(np.eye(2))
    (np.array([1.0, 2.0]) @ M).sum().backward()           # vector @ matrix
    np.testing.assert_array_equal(M.grad, [[1.0, 1.0], [2.0, 2.0]])


# ---------------------------------------------------------------------- dtypes
def test_python_numbers_do_not_upcast_float32():
    x = leaf([1.0, 2.0], dtype=np.float32)
    for y in [2 * x, x * 2.5, 1 - x, x / 3, 1 / x, x + 1, x ** 2, x ** 0.5, -x,
              x * np.float32(2)]:
        assert y.dtype == np.float32, y


def test_float32_in_float32_out_and_float32_grads_through_an_rnn():
    rng = np.random.default_rng(0)
    f32 = np.float32
    W = Tensor(rng.normal(size=(4, 4)).astype(f32) * 0.5, requires_grad=True)
    U = Tensor(rng.normal(size=(4, 3)).astype(f32), requires_grad=True)
    V = Tensor(rng.normal(size=(2, 4)).astype(f32), requires_grad=True)
    h = Tensor(np.zeros(4, dtype=f32))
    loss = 0.0
    for t in range(5):
        x = Tensor(rng.normal(size=3).astype(f32))
        h = (W @ h + U @ x).tanh()
        o = V @ h
        assert h.dtype == f32 and o.dtype == f32
        loss = loss + softmax_cross_entropy(o, t % 2) + 0.1 * (h * h).mean()
        loss = loss + o.softmax().sum() + o.log_softmax()[0] + h.sigmoid().sum() \
            + h.relu().sum() + (h.exp() + 1).log().sum()
    assert loss.dtype == f32
    loss.backward()
    for p in (W, U, V):
        assert p.grad.dtype == f32 and np.isfinite(p.grad).all()


def test_float32_grad_is_not_upcast_by_a_float64_upstream_grad():
    x = leaf([1.0, 2.0], dtype=np.float32)
    (x * 2).backward(np.array([1.0, 1.0]))          # a float64 grad given by the user
    assert x.grad.dtype == np.float32


# ---------------------------------------------------------------------- indexing
def test_an_embedding_lookup_with_repeats_sums_the_rows():
    E = leaf(np.arange(12.0).reshape(4, 3))
    ids = Tensor([1, 3, 1, 1])                      # float64 from a list; integral values
    E[ids].sum().backward()
    np.testing.assert_array_equal(E.grad[:, 0], [0.0, 3.0, 0.0, 1.0])   # row 1 used 3 times


def test_an_integer_index_array_keeps_its_dtype_and_a_float_index_is_refused():
    x = leaf(np.arange(4.0))
    np.testing.assert_array_equal(x[np.array([3, 0])].data, [3.0, 0.0])
    with pytest.raises(ValueError, match=r"getitem: .*\(4,\)"):
        x[Tensor([0.5])]


# ---------------------------------------------------------------------- requires_grad
def test_results_require_grad_only_when_an_input_does():
    a, c = leaf([1.0]), Tensor(np.array([2.0]))
    assert (a * c).requires_grad and not (c * c).requires_grad
    assert (c * c).node is None
    with no_grad():
        assert not (a * c).requires_grad
