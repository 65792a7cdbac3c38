"""Optimizers and clipping, against update rules written out by hand in scalar Python."""
import io
import math

import numpy as np
import pytest

from autograd_mini import Tensor
from autograd_mini.optim import SGD, Adagrad, Adam, clip_grad_norm


def param(values, name="w"):
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True, name=name)


def quadratic_grad(w):
    """Loss sum((w - 3)**2) by the engine; its gradient 2 (w - 3) lands in w.grad."""
    w.grad = None
    ((w - 3.0) ** 2).sum().backward()


def run(opt_cls, start, steps, **kw):
    w = param(start)
    opt = opt_cls([w], **kw)
    for _ in range(steps):
        opt.zero_grad()
        quadratic_grad(w)
        opt.step()
    return w.data


def test_sgd_momentum_matches_hand_recurrence():
    lr, mu = 0.05, 0.9
    got = run(SGD, [0.0, 10.0], 4, lr=lr, momentum=mu)
    for j, x in enumerate([0.0, 10.0]):
        v = 0.0
        for _ in range(4):
            g = 2 * (x - 3)
            v = mu * v + g
            x = x - lr * v
        assert got[j] == pytest.approx(x, abs=1e-14)


def test_adagrad_matches_hand_recurrence():
    lr = 0.5
    got = run(Adagrad, [1.0, -2.0], 5, lr=lr)
    for j, x in enumerate([1.0, -2.0]):
        m = 0.0
        for _ in range(5):
            g = 2 * (x - 3)
            m += g * g
            x -= lr * g / math.sqrt(m + 1e-8)
        assert got[j] == pytest.approx(x, abs=1e-14)


def test_adam_matches_hand_recurrence():
    lr, b1, b2, eps = 0.1, 0.8, 0.99, 1e-8
    got = run(Adam, [1.0, 7.0], 6, lr=lr, betas=(b1, b2), eps=eps)
    for j, x in enumerate([1.0, 7.0]):
        m = v = 0.0
        for t in range(1, 7):
            g = 2 * (x - 3)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            x -= lr * (m / (1 - b1 ** t)) / (math.sqrt(v / (1 - b2 ** t)) + eps)
        assert got[j] == pytest.approx(x, abs=1e-14)


@pytest.mark.parametrize("opt_cls,kw", [(SGD, dict(lr=0.1, momentum=0.5)),
                                        (Adagrad, dict(lr=1.0)), (Adam, dict(lr=0.3))])
def test_each_optimizer_minimizes_a_quadratic(opt_cls, kw):
    w = run(opt_cls, [0.0, 8.0, -5.0], 300, **kw)
    np.testing.assert_allclose(w, 3.0, atol=1e-2)


def test_update_is_in_place_after_backward():
    w = param([1.0, 2.0])
    array = w.data
    opt = SGD([w], lr=0.5)
    quadratic_grad(w)
    opt.step()
    assert w.data is array                       # other references see the update
    np.testing.assert_allclose(array, [1.0 - 0.5 * -4, 2.0 - 0.5 * -2])


def test_step_with_a_retained_graph_rebinds_and_keeps_the_graph_correct():
    w = param([1.0, 2.0])
    loss = (w * w - 6.0 * w).sum()               # (w - 3)^2 - 9: the gradient 2w - 6
    loss.backward(retain_graph=True)             # the graph still holds w's array
    old = w.data
    assert not old.flags.writeable
    SGD([w], lr=0.25).step()
    assert w.data is not old                     # a new array: the graph's copy is intact
    np.testing.assert_allclose(old, [1.0, 2.0])
    np.testing.assert_allclose(w.data, [1.0 + 0.25 * 4, 2.0 + 0.25 * 2])
    w.grad = None
    loss.backward()                              # the graph's gradient at the OLD values
    np.testing.assert_allclose(w.grad, [-4.0, -2.0])
    w.data[0] = 5.0                              # and the new array is an ordinary one


def test_parameter_without_grad_is_skipped():
    a, b = param([1.0], "a"), param([2.0], "b")
    opt = Adam([a, b], lr=0.1)
    (a * 2.0).sum().backward()
    opt.step()
    assert b.data[0] == 2.0 and a.data[0] != 1.0
    assert opt.steps == [1, 0]


def test_zero_grad_clears_every_grad():
    a, b = param([1.0], "a"), param([2.0], "b")
    (a * b).sum().backward()
    SGD([a, b]).zero_grad()
    assert a.grad is None and b.grad is None


def test_clip_grad_norm_scales_to_the_global_norm():
    a, b = param([0.0, 0.0], "a"), param([0.0], "b")
    a.grad, b.grad = np.array([3.0, 0.0]), np.array([4.0])     # global norm 5
    total = clip_grad_norm([a, b], 1.0)
    assert total == pytest.approx(5.0)
    np.testing.assert_allclose(a.grad, [0.6, 0.0])
    np.testing.assert_allclose(b.grad, [0.8])
    # under the limit nothing changes
    total = clip_grad_norm([a, b], 2.0)
    assert total == pytest.approx(1.0)
    np.testing.assert_allclose(b.grad, [0.8])


def test_clip_grad_norm_leaves_nan_for_the_caller():
    a = param([0.0, 0.0])
    a.grad = np.array([np.nan, 1.0])
    assert math.isnan(clip_grad_norm([a], 1.0))
    assert a.grad[1] == 1.0


@pytest.mark.parametrize("opt_cls", [SGD, Adagrad, Adam])
def test_state_dict_round_trip_through_npz_continues_identically(opt_cls):
    def make():
        w = param([0.5, -1.5, 4.0])
        return w, opt_cls([w], lr=0.05)

    w1, o1 = make()
    for _ in range(6):
        o1.zero_grad(); quadratic_grad(w1); o1.step()

    w2, o2 = make()
    for _ in range(3):
        o2.zero_grad(); quadratic_grad(w2); o2.step()
    buf = io.BytesIO()
    np.savez(buf, w=w2.data, **o2.state_dict())
    buf.seek(0)
    saved = dict(np.load(buf))
    w3, o3 = make()
    w3.data[...] = saved["w"]
    o3.load_state_dict(saved)
    for _ in range(3):
        o3.zero_grad(); quadratic_grad(w3); o3.step()
    np.testing.assert_array_equal(w3.data, w1.data)


def test_load_state_dict_of_another_optimizer_is_refused():
    w = param([1.0])
    with pytest.raises(ValueError, match="belongs to a SGD optimizer, not Adam"):
        Adam([w]).load_state_dict(SGD([w]).state_dict())


@pytest.mark.parametrize("make,message", [
    (lambda: SGD([]), "parameter list is empty"),
    (lambda: SGD(param([1.0])), "pass a list of parameters"),
    (lambda: SGD([Tensor([1.0])]), "requires_grad=True"),
    (lambda: SGD([param([1.0]) * 2]), "leaf Tensor"),
    (lambda: SGD([np.zeros(2)]), "parameter 0 is a ndarray"),
    (lambda: SGD([param([1.0], "w")] * 2), "appears twice"),
    (lambda: SGD([param([1.0])], lr=-1), "lr must be a positive number, got -1"),
    (lambda: SGD([param([1.0])], momentum=1.0), "momentum must be in \\[0, 1\\)"),
    (lambda: Adam([param([1.0])], betas=(0.9, 1.5)), "beta2 must be in"),
    (lambda: clip_grad_norm([param([1.0])], 0), "max_norm must be a positive number"),
])
def test_bad_arguments_are_clear_errors(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_grad_of_the_wrong_shape_is_named():
    w = param([1.0, 2.0], "W_hh")
    w.grad = np.ones(3)
    with pytest.raises(ValueError, match=r"\(.W_hh.\) has shape \(2,\) but its .grad has shape"):
        Adam([w]).step()
