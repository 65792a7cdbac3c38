"""What a new user hit in the engine (issue 16): each test failed before its fix.

Expected values are hand computations: d/dx of sum(x * 2) + sum(x * 3) is 5 everywhere,
d/dx of sum(x * w) is w, and so on.
"""
import threading

import numpy as np
import pytest

from autograd_mini import (DTypeError, RuleError, Tensor, apply, jacobian, no_grad, register,
                           scope, unregister)
from autograd_mini.context import state


# ---------------------------------------------------------------------- 1. per-thread state
def test_no_grad_in_one_thread_does_not_stop_another_threads_graph():
    inside, go_on = threading.Event(), threading.Event()
    seen = {}

    def a():
        with no_grad():
            inside.set()
            go_on.wait(5)
            seen["a_enabled"] = state.grad_enabled

    def b():
        inside.wait(5)
        x = Tensor(np.ones(2), requires_grad=True)
        ((x * 2).sum() + (x * 3).sum()).backward()
        seen["b_grad"] = x.grad
        seen["b_enabled"] = state.grad_enabled
        go_on.set()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    np.testing.assert_array_equal(seen["b_grad"], [5.0, 5.0])       # by hand: 2 + 3
    assert seen["b_enabled"] is True and seen["a_enabled"] is False
    assert state.grad_enabled is True                                # the main thread's own


def test_two_threads_build_and_backprop_graphs_at_once_with_their_own_scopes():
    results, barrier = {}, threading.Barrier(2)

    def worker(k):
        w = Tensor(np.full(3, float(k + 1)), requires_grad=True)
        with scope(f"thread {k}"):
            barrier.wait(5)
            loss = 0
            for t in range(200):
                loss = loss + (w * float(t)).sum()
            results[k] = (w.grad, loss.node.scope)
            loss.backward()
            results[k] = (w.grad, loss.node.scope)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    for k in range(2):
        grad, where = results[k]
        np.testing.assert_array_equal(grad, np.full(3, sum(range(200))))   # sum of t
        assert where == (f"thread {k}",)
    assert state.scope == ()


# ---------------------------------------------------------------------- 2. writes through a base
def test_a_write_through_the_base_of_a_wrapped_view_is_refused_until_backward():
    base = np.full((2, 3), 2.0)
    w = Tensor(base[0])
    x = Tensor(np.ones(3), requires_grad=True)
    y = (x * w).sum()
    with pytest.raises(ValueError, match="read-only"):
        base[0, 0] = 100.0
    with pytest.raises(ValueError, match="read-only"):
        w.data[0] = 100.0
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])           # d/dx sum(x * w) = w
    base[0, 0] = 100.0                                               # writable again
    w.data[1] = 7.0
    assert base[0, 1] == 7.0


def test_a_view_released_before_its_base_is_writable_again_afterwards():
    base = np.arange(6.0).reshape(2, 3)
    x = Tensor(np.ones(3), requires_grad=True)
    first = (x * Tensor(base[0])).sum()
    second = (x * Tensor(base)).sum()
    first.backward()
    with pytest.raises(ValueError, match="read-only"):
        base[1, 1] = 0.0                                             # `second` still reads it
    second.backward()
    base[1, 1] = 0.0
    base[0][0] = -1.0


# ---------------------------------------------------------------------- 3. the .data setter
def test_new_data_takes_the_parameters_dtype_and_a_list_is_accepted():
    W = Tensor(np.array([0.5, 0.5]), requires_grad=True)
    W.data = np.array([1, 2])
    assert W.dtype == np.float64
    (W * W * 1.25).sum().backward()
    np.testing.assert_array_equal(W.grad, [2.5, 5.0])                # 2.5 * W by hand
    W.data = [3.0, 4.0]
    np.testing.assert_array_equal(W.data, [3.0, 4.0])
    f32 = Tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
    f32.data = np.array([1.5, 2.5])                                  # float64 in
    assert f32.dtype == np.float32


def test_a_new_shape_while_grad_holds_the_old_one_is_a_clear_error():
    W = Tensor(np.ones(2), requires_grad=True, name="W")
    (W * 2).sum().backward()
    with pytest.raises(ValueError, match=r"'W'.*shape \(3,\).*\(2,\).*zero_grad"):
        W.data = np.ones(3)
    W.zero_grad()
    W.data = np.ones(3)
    assert W.shape == (3,)


# ---------------------------------------------------------------------- 4. complex, strings
def test_complex_data_cannot_carry_gradients():
    with pytest.raises(DTypeError, match="complex128.*only real floating-point"):
        Tensor(np.array([1 + 2j]), requires_grad=True)
    assert Tensor(np.array([1 + 2j])).dtype == np.complex128         # as a constant: fine


def test_string_data_is_refused_with_a_sentence_not_a_ufunc_error():
    with pytest.raises(DTypeError, match="not numeric"):
        Tensor(["a", "b"])
    with pytest.raises(DTypeError, match="dtype object is not numeric"):
        Tensor(np.ones(2), requires_grad=True) * np.array(["a", "b"], dtype=object)


# ---------------------------------------------------------------------- 5. zero-size tensors
@pytest.mark.parametrize("batch", [0, 3])
def test_an_empty_batch_works_end_to_end(batch):
    W = Tensor(np.arange(10.0).reshape(5, 2), requires_grad=True)
    b = Tensor(np.ones(2), requires_grad=True)
    x = Tensor(np.ones((batch, 5)), requires_grad=True)
    ((x @ W + b).tanh().sum()).backward()
    assert x.grad.shape == (batch, 5) and W.grad.shape == (5, 2) and b.grad.shape == (2,)
    slope = 1 - np.tanh(np.ones((batch, 5)) @ W.data + 1) ** 2
    np.testing.assert_allclose(W.grad, np.ones((batch, 5)).T @ slope)  # by hand
    np.testing.assert_allclose(b.grad, slope.sum(axis=0))


# ---------------------------------------------------------------------- 9. raw tracebacks
def test_a_rule_whose_formula_raises_names_the_rule_the_scope_and_the_formula():
    rule = register("raises", lambda x: x * 2, vjp={"x": "g * x.reshape(7)"})
    try:
        x = Tensor(np.ones(3), requires_grad=True)
        with scope("t=4"):
            y = apply(rule, x).sum()
        with pytest.raises(RuleError, match=r"raises in scope t=4: the VJP for input 0 "
                                            r"\(dx = g \* x.reshape\(7\)\) raised ValueError"):
            y.backward()
    finally:
        unregister("raises")


def test_jacobian_says_it_takes_one_input_when_given_a_list():
    x = Tensor(np.ones(2))
    with pytest.raises(TypeError, match="takes one input x.*gradcheck"):
        jacobian(lambda t: t * 2, [x])
    np.testing.assert_array_equal(jacobian(lambda t: t * 2, [1.0, 2.0]), 2 * np.eye(2))


# ---------------------------------------------------------------------- 15. printing values
def test_a_tensor_prints_its_value_and_converts_to_a_python_number():
    loss = (Tensor(np.array([1.5, 2.0]), requires_grad=True) * 2).sum()
    assert repr(loss) == "Tensor(7., op=sum)"
    assert float(loss) == 7.0 and int(loss) == 7
    print(loss)                                       # no error, same text
