"""A parameter used at many steps gets its matmul gradients as one product of stacked
factors: sum_t A(t)^T g(t) = [A(1); ...; A(T)]^T [g(1); ...; g(T)] (tape.run_backward).

Expected values come from the hand formula (the per-step sum written out in NumPy) or
finite differences, never from the engine. Nothing here measures time.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_mini.tape as tape
from autograd_mini import AnomalyError, Tensor, detect_anomaly, gradcheck, register
from autograd_mini.registry import RULES, unregister
from autograd_mini.rules.linalg import MATMUL

rng = np.random.default_rng(3)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 5), k=st.integers(1, 5), m=st.integers(1, 5))
def test_every_rules_factors_multiply_to_its_vjp(n, k, m):
    a, b = rng.normal(size=(n, k)), rng.normal(size=(k, m))
    g = rng.normal(size=(n, m))
    with_factors = [r for r in RULES.values() if r.factors is not None]
    assert MATMUL in with_factors
    for rule in with_factors:
        for i, factor in enumerate(rule.factors):
            left, right = factor(g, None, a, b)
            np.testing.assert_allclose(left @ right, rule.vjps[i](g, None, a, b), rtol=1e-12)


def set_budget(monkeypatch, budget):
    """Stack at most ``budget`` bytes of factors per parameter (None: the engine's own)."""
    if budget is not None:
        monkeypatch.setattr(tape, "STACK_BYTES", budget)
        monkeypatch.setattr(tape, "STACK_GRADS", 0)


@pytest.mark.parametrize("budget", [None, 500, 0])
@pytest.mark.parametrize("side", ["h @ W.T", "h @ W", "W @ h"])
def test_a_weight_used_at_every_step_gets_the_sum_of_its_products(monkeypatch, budget, side):
    # budget: the bytes of factors kept before a partial sum (None: the engine's own, which
    # stacks all 9 steps here; each step's factors are 192 bytes, so 500 makes a partial
    # sum every third step and 0 every second).
    set_budget(monkeypatch, budget)
    T, B, H = 9, 3, 4
    W = Tensor(rng.normal(size=(H, H)), requires_grad=True)
    hs = [rng.normal(size=(B, H)) for _ in range(T)]
    gs = [rng.normal(size=(B, H)) for _ in range(T)]
    total = 0
    for h, g in zip(hs, gs):
        if side == "h @ W.T":
            y = Tensor(h) @ W.T
        elif side == "h @ W":
            y = Tensor(h) @ W
        else:
            y = W @ Tensor(h.T)                      # (H, H) @ (H, B)
        total = total + (y * (g if side != "W @ h" else g.T)).sum()
    total.backward()
    # by hand: y = h W^T => dW = g^T h;  y = h W => dW = h^T g;  y = W h^T => dW = g^T h
    per_step = {"h @ W.T": lambda h, g: g.T @ h, "h @ W": lambda h, g: h.T @ g,
                "W @ h": lambda h, g: g.T @ h}[side]
    np.testing.assert_allclose(W.grad, sum(per_step(h, g) for h, g in zip(hs, gs)),
                               rtol=1e-12)


def test_stacked_and_unstacked_uses_of_one_weight_add_up():
    W = Tensor(rng.normal(size=(3, 3)), requires_grad=True)
    x = rng.normal(size=(2, 3))
    # two matmul uses (stacked) and one elementwise use (not a product): all three count
    loss = (Tensor(x) @ W).sum() + (Tensor(x) @ W.T).sum() + (W * W).sum()
    assert gradcheck(lambda W: (Tensor(x) @ W).sum() + (Tensor(x) @ W.T).sum() + (W * W).sum(),
                     [W])
    loss.backward()
    ones = np.ones((2, 3))
    np.testing.assert_allclose(W.grad, x.T @ ones + (x.T @ ones).T + 2 * W.data, rtol=1e-12)


def test_batched_matmuls_take_the_plain_vjp():
    # (2, 3, 4) @ (4, 5): the factors are 2-D only; the plain VJP sums over the batch
    W = Tensor(rng.normal(size=(4, 5)), requires_grad=True)
    x = rng.normal(size=(2, 3, 4))
    assert gradcheck(lambda W: ((Tensor(x) @ W) ** 2).sum(), [W])


def test_anomaly_mode_still_names_the_op_whose_backward_broke():
    # (in anomaly mode each use's gradient is checked on its own: nothing is stacked)
    W = Tensor(np.ones((2, 2)), requires_grad=True)
    with detect_anomaly():
        y = Tensor(np.ones((1, 2))) @ W.T
        with pytest.raises(AnomalyError, match="matmul: backward produced NaN or Inf"):
            y.backward(np.array([[np.inf, 1.0]]))


def test_register_checks_the_factors():
    with pytest.raises(ValueError, match="one factors function per VJP"):
        register("mm2", np.matmul, [lambda g, out, a, b: g @ b.T] * 2, ["dA", "dB"],
                 factors=[lambda g, out, a, b: (g, b.T)])
    unregister("mm2")


@pytest.mark.parametrize("budget", [None, 300, 0])
@pytest.mark.parametrize("op", ["+", "-", "*"])
def test_a_bias_used_at_every_step_gets_its_batch_sums_added_up(monkeypatch, budget, op):
    # db = 1^T g(t) is a product too: the engine stacks it like matmul's. budget as above
    # (each step's factors are 3 * 8 + 3 * 4 * 8 = 120 bytes: 300 sums every third step).
    set_budget(monkeypatch, budget)
    T, B, H = 9, 3, 4
    b = Tensor(rng.normal(size=H), requires_grad=True)
    xs = [rng.normal(size=(B, H)) for _ in range(T)]
    gs = [rng.normal(size=(B, H)) for _ in range(T)]
    total = 0
    for x, g in zip(xs, gs):
        y = {"+": lambda: Tensor(x) + b, "-": lambda: Tensor(x) - b,
             "*": lambda: Tensor(x) * b}[op]()
        total = total + (y * g).sum()
    total.backward()
    # by hand: d(x + b)/db sums g over the batch; x - b gives -g; x * b gives g * x
    per_step = {"+": lambda x, g: g.sum(0), "-": lambda x, g: -g.sum(0),
                "*": lambda x, g: (g * x).sum(0)}[op]
    np.testing.assert_allclose(b.grad, sum(per_step(x, g) for x, g in zip(xs, gs)),
                               rtol=1e-12)


def test_biases_of_other_shapes_are_summed_by_unbroadcast():
    # (1, H) and (B, 1) biases, and a (K, B, H) batch: not 1^T g, the general sum
    x = rng.normal(size=(2, 3, 4))
    for shape, data in [((1, 4), x[0]), ((3, 1), x[0]), ((4,), x)]:
        b = Tensor(rng.normal(size=shape), requires_grad=True)
        f = lambda b: ((Tensor(data) + b) ** 2).sum() + (Tensor(data) * b).sum()
        assert gradcheck(f, [b]), shape
        f(b).backward()
        axes = tuple(i for i in range(data.ndim) if i < data.ndim - len(shape)
                     or shape[i - (data.ndim - len(shape))] == 1)
        full = 2 * (data + b.data) + data
        np.testing.assert_allclose(b.grad, full.sum(axis=axes).reshape(shape), rtol=1e-12)


def test_a_bias_in_float32_keeps_its_dtype():
    b = Tensor(np.ones(4, np.float32), requires_grad=True)
    x = Tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
    ((x + b) * x).sum().backward()
    assert b.grad.dtype == np.float32
    np.testing.assert_allclose(b.grad, x.data.sum(0), rtol=1e-6)
