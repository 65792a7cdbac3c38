"""The tape and backward: accumulation, shared weights (BPTT), long chains, retain_graph,
detach, no_grad, retain_grad. Every expected value comes from a hand formula, a hand
BPTT loop written in NumPy, or finite differences, never from the engine itself."""
import gc
import sys
import weakref

import numpy as np
import pytest

from autograd_mini import (GraphFreedError, Tensor, no_grad, numerical_jacobian, scope,
                           softmax_cross_entropy, stack)


def leaf(data):
    return Tensor(np.array(data, dtype=np.float64), requires_grad=True)


# ---------------------------------------------------------------------- accumulation
def test_x_plus_x_gives_two():
    x = leaf([1.0, -2.0, 3.0])
    (x + x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])


def test_x_times_x_gives_two_x():
    x = leaf([1.5, -2.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data)


def test_x_plus_x_times_x_gives_four_x():
    # (x + x) * x = 2 x^2, so d/dx = 4x: x reaches the product by two paths.
    x = leaf([1.5, -2.0, 0.25])
    ((x + x) * x).sum().backward()
    np.testing.assert_allclose(x.grad, 4 * x.data, rtol=1e-15)


def test_a_diamond_sums_both_branches():
    #        x
    #      /   \
    #  a = 3x   b = tanh(x)
    #      \   /
    #   c = a * b,   d = c + a
    # dd/dx = 3 tanh(x) + 3x (1 - tanh(x)^2) + 3
    x0 = np.array([0.3, -1.2, 2.0])
    x = leaf(x0)
    a = x * 3
    b = x.tanh()
    d = a * b + a
    d.sum().backward()
    t = np.tanh(x0)
    np.testing.assert_allclose(x.grad, 3 * t + 3 * x0 * (1 - t * t) + 3, rtol=1e-14)


def test_a_node_runs_its_vjp_only_after_all_its_consumers_reported():
    # h feeds three later ops created in an interleaved order; if h's VJP ran before the
    # last consumer reported, part of the gradient would be lost.
    x = leaf([0.5, -0.5])
    h = x.tanh()
    y1 = h * 2
    y2 = h.exp()
    y3 = (y1 * h).sum() + y2.sum() + h.sum()
    y3.backward()
    t = np.tanh(x.data)
    dh = 4 * t + np.exp(t) + 1                # d/dh (2h^2 + e^h + h)
    np.testing.assert_allclose(x.grad, dh * (1 - t * t), rtol=1e-14)


def test_a_node_reached_by_branches_of_very_different_lengths_waits_for_all():
    # h's consumers: a 30-op chain, a single op and stack itself, stacked newest first;
    # the walk takes the newest node with a gradient next, so h goes only after all three
    x = leaf([0.5, -0.5])
    h = x.tanh()
    long = h
    for _ in range(30):
        long = long * 1.01
    short = h * 2
    stack([h, short, long][::-1]).sum().backward()
    t = np.tanh(x.data)
    np.testing.assert_allclose(x.grad, (1 + 2 + 1.01 ** 30) * (1 - t * t), rtol=1e-13)


def test_gradients_accumulate_across_two_backward_calls_until_cleared():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * (2 * x.data))
    x.zero_grad()
    assert x.grad is None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    x.grad = None
    (x * 5).sum().backward()
    np.testing.assert_array_equal(x.grad, [5.0, 5.0])


def test_an_accumulated_grad_is_not_aliased_to_another_leaf():
    # a + b hands both inputs the same upstream array; a later in-place update of one leaf's
    # grad must not change the other's.
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).backward(np.array([1.0, 1.0]))
    a.grad += 10
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_summing_gradients_never_writes_into_the_users_grad_or_a_shared_array():
    # add hands its upstream g to both inputs unchanged; the walk sums such arrays, and
    # must not do it in place while the same array is also someone else's gradient.
    x = leaf([1.0, 2.0])
    a = x * 1.0
    y = (a + a) + (a + x) + x          # a reaches y three times, x twice directly
    g = np.array([1.0, 10.0])
    g_before = g.copy()
    y.backward(g)
    np.testing.assert_array_equal(g, g_before)
    np.testing.assert_array_equal(x.grad, 5 * g_before)   # 3 via a (da/dx = 1) + 2 direct

    h = leaf([0.5, -0.5])
    outs = [h + 0.0 for _ in range(4)]  # four consumers, then summed pairwise
    z = (outs[0] + outs[1]) + (outs[2] + outs[3])
    z.retain_grad()
    outs[0].retain_grad()
    z.backward(np.array([2.0, 3.0]))
    np.testing.assert_array_equal(h.grad, [8.0, 12.0])
    np.testing.assert_array_equal(z.grad, [2.0, 3.0])
    np.testing.assert_array_equal(outs[0].grad, [2.0, 3.0])


def test_inputs_that_need_no_grad_get_none():
    x = leaf([1.0, 2.0])
    c = Tensor(np.array([3.0, 4.0]))
    unused = leaf([5.0])
    (x * c).sum().backward()
    assert c.grad is None and unused.grad is None
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_backward_on_a_leaf_with_a_given_grad():
    x = leaf([1.0, 2.0])
    x.backward(np.array([0.5, 0.25]))
    np.testing.assert_array_equal(x.grad, [0.5, 0.25])


def test_backward_with_an_upstream_grad_is_a_vector_jacobian_product():
    x0 = np.array([0.1, 0.7, -0.4])
    g = np.array([2.0, -1.0, 0.5])
    x = leaf(x0)
    x.exp().backward(g)
    np.testing.assert_allclose(x.grad, g * np.exp(x0), rtol=1e-15)


# ---------------------------------------------------------------------- BPTT: a shared weight
def rnn_data(T=50, H=3, D=2, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(scale=0.6, size=(H, H)), rng.normal(size=(H, D)),
            rng.normal(size=(T, D)), rng.normal(size=(T, H)))


def hand_bptt(W, U, xs, rs):
    """L = sum_t r(t) . h(t), h(t) = tanh(W h(t-1) + U x(t)), h(0) = 0: gradients by a
    hand-written BPTT loop (min-char-rnn style), dW summed over the time steps."""
    H = W.shape[0]
    hs = [np.zeros(H)]
    for x in xs:
        hs.append(np.tanh(W @ hs[-1] + U @ x))
    dW, dU, dh_next = np.zeros_like(W), np.zeros_like(U), np.zeros(H)
    for t in range(len(xs), 0, -1):
        dh = rs[t - 1] + dh_next                  # from L(t) and from h(t+1)
        da = dh * (1 - hs[t] ** 2)                # through tanh
        dW += np.outer(da, hs[t - 1])             # W's share at step t
        dU += np.outer(da, xs[t - 1])
        dh_next = W.T @ da
    return dW, dU


def rnn_loss(W, U, xs, rs, Ws=None):
    """The same loss with Tensors; Ws, when given, is one copy of W per step."""
    h = Tensor(np.zeros(U.shape[0]))
    loss = 0
    for t, (x, r) in enumerate(zip(xs, rs)):
        with scope(f"t={t + 1}"):
            Wt = W if Ws is None else Ws[t]
            h = (Wt @ h + U @ Tensor(x)).tanh()
            loss = loss + (h * Tensor(r)).sum()
    return loss


def test_a_weight_shared_over_50_steps_receives_the_hand_bptt_sum():
    W0, U0, xs, rs = rnn_data(T=50)
    W, U = leaf(W0), leaf(U0)
    rnn_loss(W, U, xs, rs).backward()
    dW, dU = hand_bptt(W0, U0, xs, rs)
    np.testing.assert_allclose(W.grad, dW, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(U.grad, dU, rtol=1e-12, atol=1e-14)


def test_the_shared_weight_gradient_is_the_sum_of_per_step_copies_gradients():
    W0, U0, xs, rs = rnn_data(T=50, seed=1)
    W, U = leaf(W0), leaf(U0)
    rnn_loss(W, U, xs, rs).backward()
    copies = [leaf(W0) for _ in range(50)]          # one independent leaf per step
    rnn_loss(None, leaf(U0), xs, rs, Ws=copies).backward()
    per_step = [c.grad for c in copies]
    np.testing.assert_array_equal(per_step[0], 0)   # W @ h(0) with h(0) = 0: no share
    assert all(np.abs(g).max() > 0 for g in per_step[1:])
    np.testing.assert_allclose(W.grad, np.sum(per_step, axis=0), rtol=1e-12, atol=1e-14)


def test_the_shared_weight_gradient_matches_finite_differences():
    W0, U0, xs, rs = rnn_data(T=50, seed=2)
    W = leaf(W0)
    rnn_loss(W, Tensor(U0), xs, rs).backward()
    numeric = numerical_jacobian(lambda w: rnn_loss(w, Tensor(U0), xs, rs), W0)
    np.testing.assert_allclose(W.grad, numeric, rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------- long chains
def test_a_100000_step_chain_backprops_without_recursion_to_the_fixed_point_gradient():
    # h(t) = tanh(w h(t-1)) with w = 1.5 converges to h* = tanh(w h*) at a contraction rate
    # w (1 - h*^2) ~ 0.39, so dh(T)/dw converges to the fixed point's derivative:
    # dh*/dw = (1 - h*^2) h* / (1 - w (1 - h*^2)), a finite number far from denormal.
    w = leaf([1.5])
    h = Tensor(np.array([0.5]))
    for _ in range(100_000):
        h = (h * w).tanh()
    h.sum().backward()
    hs = 0.5
    for _ in range(200):                   # the fixed point, by plain iteration
        hs = np.tanh(1.5 * hs)
    expected = (1 - hs**2) * hs / (1 - 1.5 * (1 - hs**2))
    assert np.isfinite(w.grad).all()
    np.testing.assert_allclose(w.grad, [expected], rtol=1e-9)
    del h                                  # dropping a 100,000-deep graph must not crash


def test_backward_does_not_recurse_even_under_a_tiny_recursion_limit():
    x = leaf([0.3])
    h = x
    for _ in range(3000):
        h = h * 1.0001 + 0.0
    depth, frame = 0, sys._getframe()
    while frame is not None:               # how deep pytest already is
        depth, frame = depth + 1, frame.f_back
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 60)      # room for backward's own few frames, not 3000
    try:
        h.sum().backward()
    finally:
        sys.setrecursionlimit(limit)
    np.testing.assert_allclose(x.grad, [1.0001 ** 3000], rtol=1e-10)


# ---------------------------------------------------------------------- retain_graph
def test_retain_graph_allows_a_second_backward_which_doubles_the_gradients():
    x = leaf([1.0, -2.0])
    y = (x * x * x).sum()
    y.backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad, 3 * x.data**2)
    y.backward()
    np.testing.assert_array_equal(x.grad, 2 * 3 * x.data**2)
    with pytest.raises(GraphFreedError, match="retain_graph=True"):
        y.backward()


def test_backward_without_retain_graph_releases_the_saved_values():
    x = leaf([1.0, 2.0])
    y = x * x
    z = y.exp().sum()
    e = z.node.parents[0]
    assert y.node.env["A"] is x.data and e.env["out"] is not None and not e.freed
    z.backward()
    for node in (y.node, e):
        assert node.freed and node.env is None
    assert not z.node.freed     # sum kept only its input's shape: nothing to release


def _rnn_loss(W, b, steps=6):
    """A small RNN loss: W.T and b at every step (their gradients are stacked and summed),
    h(t) used twice (its gradient is a sum)."""
    h = Tensor(np.zeros((2, 3)))
    loss = 0
    for _ in range(steps):
        h = (h @ W.T + b).tanh()
        loss = loss + (h * h).sum()
    return loss, h


@pytest.fixture
def no_cyclic_collector():
    """Only reference counting frees objects during the test: what it leaves alive, it
    leaves alive until Python's cyclic collector would run."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def test_a_retained_graph_is_freed_as_soon_as_it_is_dropped(no_cyclic_collector):
    W, b = leaf(np.eye(3) * 0.5), leaf([0.1, -0.2, 0.3])
    loss, h = _rnn_loss(W, b)
    saved = weakref.ref(h.data)         # tanh keeps its output for its VJP
    loss.backward(retain_graph=True)
    del loss, h
    assert saved() is None


def test_backward_leaves_no_cyclic_garbage(no_cyclic_collector):
    W, b = leaf(np.eye(3) * 0.5), leaf([0.1, -0.2, 0.3])
    _rnn_loss(W, b)[0].backward()       # (once first: NumPy's own caches)
    gc.collect()
    _rnn_loss(W, b)[0].backward()
    assert gc.collect() == 0


# ---------------------------------------------------------------------- detach
def test_detach_cuts_the_graph_for_truncated_bptt():
    W0, U0, xs, rs = rnn_data(T=10, seed=3)
    W, U = leaf(W0), leaf(U0)
    h = Tensor(np.zeros(3))
    for t in range(10):
        if t == 5:
            h = h.detach()                 # truncate: no gradient flows into steps 1..5
            h_cut = h.data.copy()
        h = (W @ h + U @ Tensor(xs[t])).tanh()
    (h * Tensor(rs[9])).sum().backward()

    # The same last 5 steps started from a constant h: the gradient must be identical.
    W2, U2 = leaf(W0), leaf(U0)
    h = Tensor(h_cut)
    for t in range(5, 10):
        h = (W2 @ h + U2 @ Tensor(xs[t])).tanh()
    (h * Tensor(rs[9])).sum().backward()
    np.testing.assert_allclose(W.grad, W2.grad, rtol=1e-15)
    np.testing.assert_allclose(U.grad, U2.grad, rtol=1e-15)

    # ... and it differs from full BPTT through all 10 steps (the cut is real).
    W3 = leaf(W0)
    h = Tensor(np.zeros(3))
    for t in range(10):
        h = (W3 @ h + Tensor(U0) @ Tensor(xs[t])).tanh()
    (h * Tensor(rs[9])).sum().backward()
    assert np.abs(W3.grad - W.grad).max() > 1e-6


def test_detach_shares_the_data_and_records_nothing():
    x = leaf([1.0, 2.0])
    d = (x * 2).detach()
    assert d.node is None and not d.requires_grad
    np.testing.assert_array_equal(d.data, [2.0, 4.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        (d * 3).sum().backward()


# ---------------------------------------------------------------------- no_grad
def test_no_grad_records_nothing_and_restores_grad_mode():
    x = leaf([1.0, 2.0])
    with no_grad():
        y = (x * x).exp()
        with no_grad():
            pass
        z = x * 2                          # still off after a nested block
    assert y.node is None and not y.requires_grad
    assert z.node is None
    w = x * 2
    assert w.node is not None and w.requires_grad


def test_no_grad_restores_grad_mode_after_an_exception():
    x = leaf([1.0])
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            1 / 0
    assert (x * 2).requires_grad


# ---------------------------------------------------------------------- retain_grad
def test_retain_grad_on_h_t_matches_finite_differences_of_the_rest_of_the_run():
    rng = np.random.default_rng(4)
    H, D, C, T = 4, 3, 3, 6
    W0, U0, V0 = (rng.normal(scale=0.5, size=s) for s in [(H, H), (H, D), (C, H)])
    xs, ys = rng.normal(size=(T, D)), rng.integers(0, C, size=T)
    W, U, V = Tensor(W0), Tensor(U0), Tensor(V0)

    def tail(h, start):
        """The losses of steps start..T-1, as a function of h going into step start-1's
        output (h(start-1) is h itself): L(start-1) + sum of the later L(t)."""
        loss = softmax_cross_entropy(V @ h, int(ys[start - 1]))
        for t in range(start, T):
            h = (W @ h + U @ Tensor(xs[t])).tanh()
            loss = loss + softmax_cross_entropy(V @ h, int(ys[t]))
        return loss

    Wl = leaf(W0)
    h = Tensor(np.zeros(H))
    hs, os_, loss = [], [], 0
    for t in range(T):
        h = (Wl @ h + U @ Tensor(xs[t])).tanh().retain_grad()
        o = (V @ h).retain_grad()
        loss = loss + softmax_cross_entropy(o, int(ys[t]))
        hs.append(h)
        os_.append(o)
    loss.backward()

    for t in range(T):
        numeric = numerical_jacobian(lambda v: tail(v, t + 1), hs[t].data)
        np.testing.assert_allclose(hs[t].grad, numeric, rtol=1e-6, atol=1e-9)
        # and the hand formula of the fused loss: dL/do(t) = softmax(o(t)) - onehot(y(t))
        p = np.exp(os_[t].data) / np.exp(os_[t].data).sum()
        np.testing.assert_allclose(os_[t].grad, p - np.eye(C)[ys[t]], rtol=1e-12, atol=1e-15)


def test_without_retain_grad_intermediates_keep_no_grad():
    x = leaf([1.0, 2.0])
    h = x * 2
    (h * h).sum().backward()
    assert h.grad is None


# ---------------------------------------------------------------------- the tape itself
def test_nodes_record_creation_order_and_scope():
    x = leaf([1.0])
    with scope("t=1"):
        a = x * 2
        with scope("cell"):
            b = a.tanh()
    c = b + 1
    assert a.node.seq < b.node.seq < c.node.seq
    assert a.node.scope == ("t=1",) and b.node.scope == ("t=1", "cell") and c.node.scope == ()
    assert "t=1/cell" in repr(b.node)


def test_named_sets_the_name_on_the_tensor_and_its_node():
    x = leaf([1.0])
    h = (x * 2).named("h(3)")
    assert h.name == "h(3)" and h.node.name == "h(3)"
    assert "'h(3)'" in repr(h) and "op=mul" in repr(h)


# ---------------------------------------------------------------------- a stable loss
def test_softmax_cross_entropy_at_logits_of_1e4_is_finite_and_right():
    logits = leaf([[1e4, -1e4, 0.0], [0.0, 1e4, -1e4]])
    loss = softmax_cross_entropy(logits, [1, 1])
    # row 0: -log softmax = logsumexp(o) - o[1] = 1e4 - (-1e4) = 2e4 (the rest is e^-1e4 = 0)
    # row 1: the target has all the mass: 0.  Mean over the batch: 1e4.
    assert loss.item() == pytest.approx(1e4, rel=1e-15)
    loss.backward()
    # (softmax(o) - onehot(y)) / B with softmax rows (1, 0, 0) and (0, 1, 0)
    np.testing.assert_allclose(logits.grad, [[0.5, -0.5, 0.0], [0.0, 0.0, 0.0]], atol=1e-300)

    one = leaf([-1e4, 1e4])
    softmax_cross_entropy(one, np.array([0.25, 0.75]), reduction="sum").backward()
    # -(0.25 log p0 + 0.75 log p1) with log p0 = -2e4, log p1 = 0; grad = p - y
    np.testing.assert_allclose(one.grad, [-0.25, 0.25], rtol=1e-15)

    f32 = Tensor(np.array([[1e4, -1e4, 0.0]], dtype=np.float32), requires_grad=True)
    out = softmax_cross_entropy(f32, [2], reduction="none")
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, [1e4], rtol=1e-6)
    out.backward(np.ones(1, dtype=np.float32))
    assert np.isfinite(f32.grad).all() and f32.grad.dtype == np.float32
