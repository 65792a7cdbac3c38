"""grad (torch.autograd.grad's contract), gradients of gradients, hvp on the textbook RNN,
gradgradcheck, and the errors of create_graph."""
import numpy as np
import pytest

from autograd_mini import (RuleError, ShapeError, Tensor, apply, concat, grad, gradcheck,
                           gradgradcheck, hvp, jacobian, register, unregister)
from autograd_mini.models.goodfellow import GoodfellowRNN


def test_grad_equals_backward_and_leaves_dot_grad_alone():
    rng = np.random.default_rng(0)
    W = Tensor(rng.normal(size=(3, 3)), requires_grad=True)
    x = Tensor(rng.normal(size=3), requires_grad=True)
    h = (W @ x).tanh()
    loss = (h * h).sum()
    gW, gh, gx = grad(loss, [W, h, x], retain_graph=True)
    assert W.grad is None and x.grad is None
    h.retain_grad()
    loss.backward()
    np.testing.assert_allclose(gW.data, W.grad, rtol=1e-14)
    np.testing.assert_allclose(gx.data, x.grad, rtol=1e-14)
    np.testing.assert_allclose(gh.data, 2 * h.data, rtol=1e-14)     # d(h.h)/dh by hand


def test_grad_with_several_outputs_and_grad_outputs():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    (g,) = grad([x * x, x.sum()], x, grad_outputs=[np.array([1.0, 0.0, 2.0]), np.array(5.0)])
    np.testing.assert_allclose(g.data, [2 * 1 * 1 + 5, 5, 2 * 3 * 2 + 5])


def test_grad_errors_name_what_is_wrong():
    x = Tensor(np.ones(3), requires_grad=True)
    c = Tensor(np.ones(3))
    with pytest.raises(ValueError, match="input 0 does not require grad"):
        grad((x * c).sum(), c)
    with pytest.raises(ValueError, match=r"output 0 has shape \(3,\); pass its upstream"):
        grad(x * 2, x)
    with pytest.raises(ShapeError, match=r"grad_outputs\[0\] has shape \(2,\), but output 0 "
                                         r"has shape \(3,\)"):
        grad(x * 2, x, grad_outputs=np.ones(2))
    y = Tensor(np.ones(2), requires_grad=True, name="y")
    with pytest.raises(ValueError, match=r"input 1 \('y'\) is not used"):
        grad(x.sum(), [x, y])
    assert grad(x.sum(), [x, y], allow_unused=True)[1] is None


def test_second_derivatives_by_hand():
    x = Tensor(np.array([-1.0, 0.3, 2.0]), requires_grad=True)
    (g,) = grad((x ** 3).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, 3 * x.data**2)
    (gg,) = grad(g.sum(), x)
    np.testing.assert_allclose(gg.data, 6 * x.data)                        # d2/dx2 x^3
    (g,) = grad(x.tanh().sum(), x, create_graph=True)
    (gg,) = grad(g.sum(), x)
    t = np.tanh(x.data)
    np.testing.assert_allclose(gg.data, -2 * t * (1 - t**2), rtol=1e-14)     # tanh''


def rnn_setup(T=5, seed=0):
    model = GoodfellowRNN.init(seed=seed)
    x, y = GoodfellowRNN.example_data(T=T, seed=seed)
    params = [p.data for p in model.parameters().values()]
    shapes = [p.shape for p in params]
    sizes = [p.size for p in params]
    starts = np.cumsum([0] + sizes)

    def loss(theta):                      # the RNN's loss as a function of one flat vector
        ps = [theta[s:s + n].reshape(shape) for s, n, shape in zip(starts, sizes, shapes)]
        return GoodfellowRNN(*ps).forward(x, y).loss

    return loss, np.concatenate([p.ravel() for p in params])


def flat_grad(loss):
    def g(theta):
        (gt,) = grad(loss(theta), theta, create_graph=True)
        return gt
    return g


def test_rnn_hvp_is_the_jacobian_of_the_gradient_times_v_and_finite_differences():
    loss, theta = rnn_setup(T=5)
    v = np.random.default_rng(7).normal(size=theta.shape)
    (Hv,) = hvp(loss, [theta], [v])
    J = jacobian(flat_grad(loss), theta)                # the Hessian, one row per VJP
    np.testing.assert_allclose(Hv, J @ v, rtol=1e-10, atol=1e-12)
    eps = 1e-5

    def plain_grad(th):
        t = Tensor(th, requires_grad=True)
        loss(t).backward()
        return t.grad
    numeric = (plain_grad(theta + eps * v) - plain_grad(theta - eps * v)) / (2 * eps)
    np.testing.assert_allclose(Hv, numeric, rtol=1e-6, atol=1e-8)


def test_rnn_hessian_from_n_hvps_is_symmetric():
    loss, theta = rnn_setup(T=5, seed=3)
    n = theta.size
    H = np.stack([hvp(loss, [theta], [e])[0] for e in np.eye(n)])
    scale = np.abs(H).max()
    assert np.abs(H - H.T).max() <= 1e-12 * scale
    assert np.abs(H).max() > 0.1


def test_hvp_of_several_inputs_by_hand():
    # f = sum(a^2 b): H = [[2b, 2a], [2a, 0]] (diagonal blocks per element)
    a, b = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    va, vb = np.array([1.0, 1.0]), np.array([2.0, -1.0])
    ha, hb = hvp(lambda a, b: (a * a * b).sum(), [a, b], [va, vb])
    np.testing.assert_allclose(ha, 2 * b * va + 2 * a * vb)
    np.testing.assert_allclose(hb, 2 * a * va)


def test_gradgradcheck_catches_a_wrong_second_derivative():
    # The VJP's value is right (gradcheck passes) but the aux it reads is recomputed with
    # a wrong dependence on x: x * x.data has the value x^2 and the derivative x, not 2x.
    rule = register("cube_wrong_twice", lambda x: (x**3, x**2), vjp={"x": "3 * s * g"},
                    aux="s", aux_formula="x * x.data", jvp="3 * x**2 * dx")
    try:
        x = Tensor(np.array([0.7, -1.3]), requires_grad=True)
        f = lambda x: apply(rule, x)
        assert gradcheck(f, [x])
        report = gradgradcheck(f, [x])
        assert not report
        assert str(report).startswith("gradgradcheck (full") and "FAIL" in str(report)
    finally:
        unregister("cube_wrong_twice")


def test_create_graph_through_a_rule_that_cannot_be_differentiated_twice_says_which():
    rule = register("cos_np", np.cos, vjp={"x": "-g * np.sin(x)"})
    aux_rule = register("square_aux", lambda x: (x * x, 2 * x), vjp={"x": "g * two_x"},
                        aux="two_x")
    try:
        x = Tensor(np.ones(2), requires_grad=True)
        assert grad(apply(rule, x).sum(), x)[0].data == pytest.approx(-np.sin([1.0, 1.0]))
        with pytest.raises(RuleError, match=r"create_graph=True through cos_np: its VJP "
                                            r"\(dx = -g \* np.sin\(x\)\) uses np, which has no "
                                            r"Tensor version, so cos_np cannot be differentiated"):
            grad(apply(rule, x).sum(), x, create_graph=True)
        with pytest.raises(RuleError, match="through square_aux: its VJP reads two_x.*"
                                            "aux_formula"):
            grad(apply(aux_rule, x).sum(), x, create_graph=True)
    finally:
        unregister("cos_np")
        unregister("square_aux")


def test_gradgradcheck_of_the_rnn_loss():
    model = GoodfellowRNN.init(D=2, H=3, C=2, seed=5)
    x, y = GoodfellowRNN.example_data(T=3, D=2, C=2, seed=5)
    params = list(model.parameters().values())
    report = gradgradcheck(model.loss_fn(x, y), params, mode="projection")
    assert report, f"\n{report}"


def test_gradients_of_gradients_of_concat_and_stack_flow():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (g,) = grad((concat([a * a, a]) ** 2).sum(), a, create_graph=True)
    np.testing.assert_allclose(g.data, 4 * a.data**3 + 2 * a.data)
    (gg,) = grad(g.sum(), a)
    np.testing.assert_allclose(gg.data, 12 * a.data**2 + 2)
