"""Regression tests for engine bugs found while writing the suite: one test per fix."""
import numpy as np

from autograd_mini import Tensor


def test_transpose_with_negative_axes_sends_the_gradient_back_through_the_inverse():
    # x.transpose(-1, 0) is x.T; the VJP once took argsort((-1, 0)) = identity, which gave
    # a silently wrong gradient for square x (and a ShapeError for the rest).
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = Tensor(np.zeros((2, 2)), requires_grad=True)
    (x.transpose(-1, 0) * Tensor(w)).sum().backward()
    # d/dx_ij sum_kl x_lk w_kl = w_ji
    np.testing.assert_array_equal(x.grad, w.T)

    y = Tensor(np.zeros((2, 3, 4)), requires_grad=True)
    (y.transpose(-1, 0, -2) * Tensor(np.arange(24.0).reshape(4, 2, 3))).sum().backward()
    # out[i, j, k] = y[j, k, i]; so dy[j, k, i] = m[i, j, k]
    np.testing.assert_array_equal(y.grad, np.arange(24.0).reshape(4, 2, 3).transpose(1, 2, 0))


def test_the_gradient_of_x_to_the_zero_is_zero_even_at_zero():
    # d/dx x**0 = 0 everywhere; the formula p * x**(p-1) once gave 0 * Inf = NaN at x = 0.
    x = Tensor(np.array([0.0, 2.0, -3.0]), requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


def test_the_grad_of_a_0d_tensor_is_an_ndarray_not_a_numpy_scalar():
    # 0-d NumPy ops return scalars (np.float64); .grad was one, so `x.grad[...] = 0` failed.
    x = Tensor(2.0, requires_grad=True)
    y = x * 3
    y.retain_grad()
    (y * y + x.exp()).backward()
    for t in (x, y):
        assert t.grad.__class__ is np.ndarray and t.grad.shape == ()
    np.testing.assert_allclose(x.grad, 2 * 9 * 2.0 + np.exp(2.0), rtol=1e-15)   # 18x + e^x
    np.testing.assert_allclose(y.grad, 2 * 6.0, rtol=1e-15)
    x.grad[...] = 0                       # writable, in place
    f = Tensor(np.float32(1.5), requires_grad=True)
    (f * f).backward()
    assert f.grad.__class__ is np.ndarray and f.grad.dtype == np.float32


def test_a_vjp_may_return_none_where_nothing_flows():
    # STYLE: "return one entry per input, None where nothing flows".
    from autograd_mini import apply, register, unregister
    rule = register("first_of", lambda a, b: a.copy(), vjp={"A": "g", "B": "None"})
    try:
        a = Tensor(np.ones(2), requires_grad=True)
        b = Tensor(np.ones(2), requires_grad=True)
        apply(rule, a, b).sum().backward()
        np.testing.assert_array_equal(a.grad, [1.0, 1.0])
        assert b.grad is None
    finally:
        unregister("first_of")
