"""The engine's speed paths compute what the plain paths did: in-place pending sums,
parents kept in node slots, unbroadcast's reshape, matmul's layout-preserving dB, the
class-label fast check, and the benchmark's hand-written NumPy BPTT against autodiff.

Expected values come from hand formulas, finite differences or the hand-written BPTT,
never from the engine. Nothing here measures time (benchmarks/ does that)."""
import sys
from pathlib import Path

import numpy as np
import pytest

from autograd_mini import (Tensor, TargetError, concat, gradcheck, softmax_cross_entropy,
                           stack)
from autograd_mini.formulas import unbroadcast

ROOT = Path(__file__).resolve().parent.parent


def leaf(data, dtype=np.float64):
    return Tensor(np.array(data, dtype=dtype), requires_grad=True)


# ------------------------------------------------------------- in-place pending sums
def test_a_weight_used_at_many_steps_gets_the_sum():
    # y = sum_k (w * c_k) summed: dy/dw = sum_k c_k. Many contributions exercise the
    # in-place path (the third and later are added into the engine's own array).
    w = leaf([0.5, -1.0, 2.0])
    cs = [np.array([k, -k, 0.5 * k]) for k in range(1, 12)]
    total = None
    for c in cs:
        term = (w * c).sum()
        total = term if total is None else total + term
    total.backward()
    np.testing.assert_allclose(w.grad, np.sum(cs, axis=0), rtol=1e-15)


def test_a_node_used_many_times_gets_the_sum():
    # h = tanh(x); y = sum_k k * h  =>  dy/dx = (sum_k k) (1 - h^2)
    x = leaf([0.3, -0.7])
    h = x.tanh()
    y = None
    for k in range(1, 9):
        term = (h * float(k)).sum()
        y = term if y is None else y + term
    y.backward()
    np.testing.assert_allclose(x.grad, 36 * (1 - np.tanh(x.data) ** 2), rtol=1e-14)


@pytest.mark.parametrize("as_nodes", [False, True])
def test_shared_upstream_arrays_are_never_written_in_place(as_nodes):
    # a + b hands both inputs the same array g. Made last, it is walked first, so that
    # shared array is the first gradient a and b receive; the older ops then add more.
    # Adding into it in place would leak a's later terms into b (and back).
    a0, b0 = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    a, b = (a0 * 1.0, b0 * 1.0) if as_nodes else (a0, b0)   # pending nodes, or leaves
    u = a * 3.0 + b * 5.0 + a * 7.0
    s = a + b
    (u + s * 2.0).sum().backward()
    np.testing.assert_array_equal(a0.grad, [12.0, 12.0])   # 3 + 7 + 2
    np.testing.assert_array_equal(b0.grad, [7.0, 7.0])     # 5 + 2


def test_zero_d_sums_accumulate_three_times_and_more():
    # loss = s + s + s + s with s 0-d: 0-d sums come back from NumPy as scalars.
    s = leaf(1.5)
    loss = s
    for _ in range(5):
        loss = loss + s
    loss.backward()
    assert isinstance(s.grad, np.ndarray) and s.grad.shape == ()
    assert s.grad == 6.0


def test_mixed_dtype_contributions_promote_as_numpy_does():
    # A float32 node receiving float64 gradients: the sum must be float64, like g1 + g2.
    x = leaf([1.0, 2.0], dtype=np.float32)
    h = x * np.float32(1.0)
    y = (h * np.array([1.0, 1.0])).sum() + (h * np.array([0.1, 0.1])).sum() \
        + (h * np.array([0.01, 0.01])).sum()
    y.backward()
    np.testing.assert_allclose(x.grad, [1.11, 1.11], rtol=1e-6)


def test_gradients_from_many_paths_match_finite_differences():
    rng = np.random.default_rng(0)
    W = leaf(rng.normal(size=(4, 4)) * 0.5)
    x = leaf(rng.normal(size=(2, 4)))

    def f(W, x):
        h = x
        out = None
        for _ in range(6):                # W and every h feed several later ops
            h = (h @ W.T + h * 0.5).tanh()
            term = (h * h).sum()
            out = term if out is None else out + term
        return out

    assert gradcheck(f, [W, x])


# ------------------------------------------------------------------ parents in slots
def test_parents_tuple_view_has_one_entry_per_input():
    a, b = leaf([1.0]), leaf([2.0])
    c = Tensor(np.array([3.0]))
    assert (a.tanh()).node.parents == (a,)
    assert (a + c).node.parents == (a, None)
    assert (c * b).node.parents == (None, b)
    t = a * 2.0
    assert (t + b).node.parents == (t.node, b)
    s = stack([a, c, b])
    assert s.node.parents == (a, None, b)
    assert concat([a, b, a, c]).node.parents == (a, b, a, None)


def test_a_variadic_node_sends_each_input_its_slice():
    a, b, c = leaf([1.0, 2.0]), leaf([3.0]), leaf([4.0, 5.0, 6.0])
    w = np.arange(1.0, 7.0)
    (concat([a, b, c]) * w).sum().backward()
    np.testing.assert_array_equal(a.grad, [1.0, 2.0])
    np.testing.assert_array_equal(b.grad, [3.0])
    np.testing.assert_array_equal(c.grad, [4.0, 5.0, 6.0])


# ---------------------------------------------------------------------- unbroadcast
@pytest.mark.parametrize("g_shape, shape", [((1, 3), (3,)), ((1, 1, 3), (3,)),
                                            ((1, 1, 3), (1, 3)), ((1, 2, 3), (2, 3))])
def test_leading_length_one_axes_are_dropped_without_changing_values(g_shape, shape):
    g = np.arange(np.prod(g_shape), dtype=float).reshape(g_shape)
    got = unbroadcast(g, shape)
    assert got.shape == shape
    np.testing.assert_array_equal(got, g.reshape(shape))


def test_unbroadcast_still_sums_real_batches_and_rejects_impossible_shapes():
    g = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(unbroadcast(g, (3,)), [3.0, 5.0, 7.0])
    np.testing.assert_array_equal(unbroadcast(g, (2, 1)), [[3.0], [12.0]])
    assert unbroadcast(np.ones((3, 1)), (1, 3)) is None      # same size, not a broadcast
    assert unbroadcast(np.ones((1, 3, 1)), (1, 3)) is None
    assert unbroadcast(np.ones(3), (2, 3)) is None


def test_bias_gradient_with_a_batch_of_one_is_the_upstream_row():
    b = leaf([0.1, -0.2, 0.3])
    x = Tensor(np.array([[1.0, 2.0, 3.0]]))
    w = np.array([[2.0, -1.0, 0.5]])
    ((x + b) * w).sum().backward()
    np.testing.assert_array_equal(b.grad, w[0])


# ------------------------------------------------------------------ matmul with W.T
@pytest.mark.parametrize("B", [1, 3])
def test_x_at_w_transpose_gradient_is_g_transpose_x(B):
    rng = np.random.default_rng(1)
    W = leaf(rng.normal(size=(4, 5)))
    x = rng.normal(size=(B, 5))
    G = rng.normal(size=(B, 4))
    y = Tensor(x) @ W.T
    y.backward(G)
    np.testing.assert_allclose(W.grad, G.T @ x, rtol=1e-13)   # hand formula: dW = G^T x
    assert W.grad.flags.c_contiguous


def test_w_transpose_on_either_side_matches_finite_differences():
    rng = np.random.default_rng(2)
    W = leaf(rng.normal(size=(3, 3)))
    h = leaf(rng.normal(size=(2, 3)))
    assert gradcheck(lambda W, h: ((h @ W.T).tanh() @ W.T).sum() + (W.T @ h.T).tanh().sum(), [W, h])


# ------------------------------------------------------------ class labels fast check
# Up to 16 labels are checked as a Python list, more by one NumPy reduction: both kinds.
@pytest.mark.parametrize("labels", [np.array([0, 3]), np.array([-1, 0]), np.array([0, 2]),
                                    np.array([0, 3], dtype=np.uint8),
                                    np.arange(20) % 3, np.r_[np.arange(19) % 3, 3],
                                    np.r_[-1, np.arange(19) % 3],
                                    (np.arange(20) % 3).astype(np.int32)])
def test_label_range_is_checked_on_the_fast_path(labels):
    o = leaf(np.zeros((len(labels), 3)))
    if labels.min() >= 0 and labels.max() < 3:
        softmax_cross_entropy(o, labels).backward()
        assert o.grad.shape == (len(labels), 3)
    else:
        with pytest.raises(TargetError, match="out of range"):
            softmax_cross_entropy(o, labels)


@pytest.mark.parametrize("target, ok", [(2, True), (3, False), (-1, False), (True, False)])
def test_an_int_target_for_one_row_of_logits(target, ok):
    o = leaf([0.1, 0.2, 0.3])
    if ok:
        loss = softmax_cross_entropy(o, target)
        p = np.exp(o.data) / np.exp(o.data).sum()
        np.testing.assert_allclose(loss.data, -np.log(p[target]), rtol=1e-14)
    else:
        with pytest.raises(TargetError):
            softmax_cross_entropy(o, target)


def test_fused_loss_matches_the_textbook_formula_in_float32_and_float64():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(5, 4)) * 3
    y = rng.integers(0, 4, size=5)
    for dtype, rtol in ((np.float64, 1e-14), (np.float32, 1e-6)):
        o = leaf(logits, dtype=dtype)
        loss = softmax_cross_entropy(o, y)
        z = logits - logits.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        assert loss.dtype == dtype
        np.testing.assert_allclose(loss.data, -logp[np.arange(5), y].mean(), rtol=rtol)
        loss.backward()
        onehot = np.eye(4)[y]
        np.testing.assert_allclose(o.grad, (np.exp(logp) - onehot) / 5, rtol=rtol, atol=1e-7)


# --------------------------------------------- the benchmark's workload, three ways
@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks import impl_autograd_mini, impl_numpy, workload
    finally:
        sys.path.remove(str(ROOT))
    return workload, impl_numpy, impl_autograd_mini


@pytest.mark.parametrize("size", [(1, 4, 5, 3, 5), (3, 4, 6, 5, 7)])
def test_hand_written_bptt_agrees_with_autodiff(bench, size):
    workload, impl_numpy, impl_autograd_mini = bench
    params, x, y = workload.problem(*size, dtype=np.float64)
    hand = impl_numpy.build(params, x, y)()
    auto = impl_autograd_mini.build(params, x, y)()
    for n in workload.PARAMS:
        np.testing.assert_allclose(auto[n], hand[n], rtol=1e-10, atol=1e-12)


def test_hand_written_bptt_matches_finite_differences(bench):
    # The baseline itself is checked by an independent route: central differences of
    # the loss it computes, for one entry of each parameter.
    workload, impl_numpy, _ = bench
    params, x, y = workload.problem(2, 3, 4, 3, 4, dtype=np.float64)
    grads = impl_numpy.build(params, x, y)()

    def loss(ps):
        h = np.zeros((2, 4))
        total = 0.0
        for t in range(4):
            h = np.tanh(x[t] @ ps["U"].T + h @ ps["W"].T + ps["b"])
            o = h @ ps["V"].T + ps["c"]
            z = o - o.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            total -= logp[np.arange(2), y[t]].mean()
        return total

    eps = 1e-6
    for n in workload.PARAMS:
        idx = (0,) * params[n].ndim
        plus = {k: v.copy() for k, v in params.items()}
        minus = {k: v.copy() for k, v in params.items()}
        plus[n][idx] += eps
        minus[n][idx] -= eps
        numeric = (loss(plus) - loss(minus)) / (2 * eps)
        np.testing.assert_allclose(grads[n][idx], numeric, rtol=1e-6, atol=1e-9)


# ------------------------------------------------- input shapes in node slots, shared
@pytest.mark.parametrize("n_inputs", [1, 2, 3])
def test_a_node_reports_its_inputs_shapes_and_parents_in_order(n_inputs):
    a, b, c = leaf(np.ones((2, 3))), leaf(np.ones(3)), leaf(np.ones((2, 3)))
    out = {1: lambda: a.T, 2: lambda: a + b, 3: lambda: stack([a, c, a])}[n_inputs]()
    expected = {1: ((2, 3),), 2: ((2, 3), (3,)), 3: ((2, 3),) * 3}[n_inputs]
    assert out.node.shapes == expected
    assert out.node.parents == {1: (a,), 2: (a, b), 3: (a, c, a)}[n_inputs]


def test_shapes_stay_right_past_the_shared_shape_cache_limit():
    # 10,001 distinct shapes empty the cache once; every node keeps its own shape.
    nodes = [(leaf(np.ones(k)) * 2.0).node for k in range(1, 10_050)]
    assert all(node.shapes == ((k,), ()) for k, node in zip(range(1, 10_050), nodes))
    x = leaf(np.arange(1.0, 4.0))
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])      # 2x, by hand


# ------------------------------------------------------- x[t] of an input sequence
def test_a_constant_row_is_a_view_and_a_bad_row_still_names_the_op():
    from autograd_mini import ShapeError
    x = np.arange(12.0).reshape(3, 2, 2)
    xs = Tensor(x)
    np.testing.assert_array_equal(xs[1].data, x[1])
    np.testing.assert_array_equal(xs[-3].data, x[0])
    assert xs[2].node is None and np.shares_memory(xs[2].data, x)
    with pytest.raises(ShapeError, match="getitem"):
        xs[3]


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_fused_loss_scales_by_the_upstream_gradient(reduction, dtype):
    # d(3 L)/do = 3 (softmax(o) - onehot(y)), divided by B for the mean: by hand
    o = np.array([[0.5, -1.0, 2.0], [0.0, 1.0, -0.5]], dtype=dtype)
    y = np.array([2, 0])
    t = leaf(o, dtype=dtype)
    (softmax_cross_entropy(t, y, reduction=reduction) * 3.0).backward()
    p = np.exp(o) / np.exp(o).sum(axis=1, keepdims=True)
    expected = 3.0 * (p - np.eye(3)[y]) / (2 if reduction == "mean" else 1)
    assert t.grad.dtype == dtype
    np.testing.assert_allclose(t.grad, expected, rtol=1e-6 if dtype == np.float32 else 1e-14)
