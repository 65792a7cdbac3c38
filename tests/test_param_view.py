"""A parameter's ``W.T`` is recorded once and shared by every use (parameter_transpose).

What must hold: gradients (finite differences, hand formulas), several
graphs over one parameter, the write lock on the parameter's array, optimizer steps that
replace or update the array, retain_grad on one use, and Goodfellow's per-step W^(t)
(checked against per-step copies of the parameters). Nothing here measures time.
"""
import gc
import weakref

import numpy as np
import pytest

from autograd_mini import Tensor, gradcheck, no_grad, scope, softmax_cross_entropy
from autograd_mini.visualize.flow import gradient_flow
from autograd_mini.visualize.trace import tape_nodes

rng = np.random.default_rng(7)


def leaf(shape, name=None):
    return Tensor(rng.normal(size=shape), requires_grad=True, name=name)


def rnn_loss(U, W, V, b, c, x, y, scoped=False):
    """The row-major RNN of benchmarks/workload.py, written with .T at every step."""
    h = Tensor(np.zeros((x.shape[1], W.shape[0])))
    loss = 0
    for t in range(len(x)):
        with scope(f"t={t + 1}") if scoped else _nothing():
            h = (Tensor(x[t]) @ U.T + h @ W.T + b).tanh()
            loss = loss + softmax_cross_entropy(h @ V.T + c, y[t])
    return loss


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def problem(T=6, B=2, D=3, H=4, C=3):
    params = [leaf((H, D), "U"), leaf((H, H), "W"), leaf((C, H), "V"), leaf(H, "b"),
              leaf(C, "c")]
    x = rng.normal(size=(T, B, D))
    y = rng.integers(0, C, size=(T, B))
    return params, x, y


def test_each_parameter_transpose_is_one_node_and_the_gradients_match_finite_differences():
    params, x, y = problem(T=6)
    loss = rnn_loss(*params, x, y)
    views = [n for n in tape_nodes(loss.node) if n.rule.name == "transpose"]
    assert sorted(n.parents[0].name for n in views) == ["U", "V", "W"]     # one each
    assert gradcheck(lambda *ps: rnn_loss(*ps, x, y), params)


def test_the_parameter_is_read_only_while_any_graph_reading_its_transpose_lives():
    W = leaf((3, 3))
    first = (Tensor(np.ones((1, 3))) @ W.T).tanh().sum()
    second = (Tensor(np.ones((2, 3))) @ W.T).sum()
    first.backward()
    with pytest.raises(ValueError, match="read-only"):
        W.data[0, 0] = 5.0                          # `second`'s matmul saved W.T's values
    second.backward()
    W.data[0, 0] = 5.0                              # both done: writable again


def test_a_graph_dropped_without_backward_lets_go_of_the_parameter():
    W = leaf((3, 3))
    loss = (Tensor(np.ones((2, 3))) @ W.T).sum()
    del loss
    gc.collect()
    W.data[0, 0] = 5.0                              # the parameter's cache holds no lock


@pytest.mark.parametrize("update", ["in place", "new array"])
def test_after_an_optimizer_step_the_transpose_shows_the_new_values(update):
    params, x, y = problem(T=4)
    W = params[1]
    rnn_loss(*params, x, y).backward()
    step = -0.1 * W.grad
    if update == "in place":
        W.data += step                              # the cached view sees it
    else:
        W.data = W.data + step                      # a new array: a new view and node
    np.testing.assert_array_equal(W.T.data, W.data.T)
    for p in params:
        p.grad = None
    assert gradcheck(lambda *ps: rnn_loss(*ps, x, y), params)


def test_retain_grad_on_one_use_of_w_transpose_gets_that_use_only():
    W = leaf((4, 3))
    x = rng.normal(size=(2, 3))
    first = W.T.retain_grad()
    y = (Tensor(x) @ first).sum() + 2 * (Tensor(x) @ W.T).sum()
    y.backward()
    ones = np.ones((2, 4))
    np.testing.assert_allclose(first.grad, x.T @ ones, rtol=1e-13)     # dy/d(first) only
    np.testing.assert_allclose(W.grad, 3 * (x.T @ ones).T, rtol=1e-13)


def test_no_grad_and_constants_record_no_transpose():
    W = leaf((2, 3))
    with no_grad():
        assert W.T.node is None
    assert Tensor(np.ones((2, 3))).T.node is None


def test_per_step_contributions_through_a_shared_transpose_equal_per_step_copies():
    # Goodfellow's W^(t): step t's part of dL/dW. Computed independently by giving every
    # step its own leaf copy of each parameter: each copy's gradient is that step's part.
    params, x, y = problem(T=5)
    flow = gradient_flow(rnn_loss(*params, x, y, scoped=True), state=None)   # h unnamed
    copies = {p.name: [] for p in params}
    h = Tensor(np.zeros((x.shape[1], params[1].shape[0])))
    loss = 0
    for t in range(len(x)):
        U, W, V, b, c = step = [Tensor(p.data.copy(), requires_grad=True) for p in params]
        for p, copy in zip(params, step):
            copies[p.name].append(copy)
        h = (Tensor(x[t]) @ U.T + h @ W.T + b).tanh()
        loss = loss + softmax_cross_entropy(h @ V.T + c, y[t])
    loss.backward()
    for name, per_step in copies.items():
        for t, copy in enumerate(per_step):
            np.testing.assert_allclose(flow.per_step[(name, f"t={t + 1}")], copy.grad,
                                       rtol=1e-10, atol=1e-14)


def test_the_picture_draws_each_parameter_transpose_once_outside_the_steps():
    from autograd_mini.visualize import trace
    params, x, y = problem(T=3)
    graph = trace(rnn_loss(*params, x, y, scoped=True), grads=False)
    views = [v for v in graph.values if v.op == "transpose"]
    assert sorted(v.label for v in views) == ["U^T", "V^T", "W^T"]
    assert all(v.scope == () for v in views)
    uses = [e for e in graph.edges if e.src in {v.id for v in views}]
    assert len(uses) == 3 * 3                       # each view feeds one matmul per step




def test_the_pictures_w_transpose_carries_the_finite_difference_gradient():
    # The W^T box's gradient is dL/d(W^T): the transpose of dL/dW by central differences.
    from autograd_mini import numerical_jacobian
    from autograd_mini.visualize import trace
    params, x, y = problem(T=4)
    graph = trace(rnn_loss(*params, x, y, scoped=True))
    box = next(v for v in graph.values if v.label == "W^T")
    rest = [params[0], params[2], params[3], params[4]]
    dW = numerical_jacobian(lambda W: rnn_loss(rest[0], W, *rest[1:], x, y), params[1])
    np.testing.assert_allclose(box.grad, dW.reshape(params[1].shape).T, rtol=1e-6, atol=1e-9)


def test_two_graphs_sharing_w_transpose_each_run_their_own_backward():
    W = leaf((4, 3))
    x1, x2 = rng.normal(size=(2, 3)), rng.normal(size=(5, 3))
    first = (Tensor(x1) @ W.T).sum()                # d/dW = 1^T x1
    second = ((Tensor(x2) @ W.T) ** 2).sum()        # d/dW = 2 (x2 W^T)^T x2
    assert first.node.parents[0].parents[1] is second.node.parents[0].parents[0].parents[1]
    first.backward()
    np.testing.assert_allclose(W.grad, np.ones((2, 4)).T @ x1, rtol=1e-13)
    W.grad = None
    second.backward()                               # the shared node was not freed
    np.testing.assert_allclose(W.grad, 2 * (x2 @ W.data.T).T @ x2, rtol=1e-13)


def test_the_transpose_is_one_tensor_per_data_array_and_dies_with_its_parameter():
    W = leaf((3, 2))
    assert W.T is W.T                               # no new object per use
    old = W.T
    W.data = W.data * 2                             # a new array: a new view and node
    assert W.T is not old and W.T.node is not old.node
    np.testing.assert_array_equal(W.T.data, W.data.T)
    gone = weakref.ref(W)
    del W, old
    gc.collect()                                    # W -> its W.T -> its node -> W: a cycle
    assert gone() is None
