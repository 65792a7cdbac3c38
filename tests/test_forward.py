"""Forward mode's contract: jvp and jacfwd, batched tangents, and the errors that name
the input, the shapes or the rule."""
import numpy as np
import pytest

from autograd_mini import (DTypeError, RuleError, ShapeError, Tensor, apply, jacfwd, jacobian,
                           jvp, register, unregister)
from autograd_mini.models.goodfellow import GoodfellowRNN


def rnn_loss(x, y):
    def f(U, W, V, b, c):
        return GoodfellowRNN(U, W, V, b, c).forward(x, y).loss
    return f


def test_jvp_of_the_rnn_loss_is_the_directional_derivative():
    model = GoodfellowRNN.init(seed=1)
    x, y = GoodfellowRNN.example_data(T=6, seed=1)
    params = [p.data for p in model.parameters().values()]
    rng = np.random.default_rng(0)
    v = [rng.normal(size=p.shape) for p in params]
    value, tangent = jvp(rnn_loss(x, y), params, v)
    f = rnn_loss(x, y)
    eps = 1e-6
    numeric = (f(*[Tensor(p + eps * d) for p, d in zip(params, v)]).data
               - f(*[Tensor(p - eps * d) for p, d in zip(params, v)]).data) / (2 * eps)
    assert value == pytest.approx(f(*map(Tensor, params)).item(), rel=1e-14)
    assert tangent == pytest.approx(numeric, rel=1e-7)


def test_batched_tangents_give_every_direction_at_once():
    # A (k, ...) batch of directions equals k separate jvp calls.
    A, B = np.random.default_rng(1).normal(size=(2, 3, 3))
    dA = np.random.default_rng(2).normal(size=(4, 3, 3))
    f = lambda A, B: (A @ B).tanh().sum(axis=0)
    _, batched = jvp(f, (A, B), (dA, None))
    one_by_one = np.stack([jvp(f, (A, B), (d, None))[1] for d in dA])
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-13, atol=1e-15)
    assert batched.shape == (4, 3)


def test_jacfwd_is_the_twin_of_jacobian():
    W = np.random.default_rng(3).normal(size=(4, 3))
    f = lambda x: (W @ x.tanh()).softmax()[1:] * x.sum()
    x = np.random.default_rng(4).normal(size=3)
    J = jacfwd(f, x)
    assert J.shape == (3, 3)
    np.testing.assert_allclose(J, jacobian(f, x), rtol=1e-12, atol=1e-14)
    M = np.random.default_rng(5).normal(size=(2, 3))
    np.testing.assert_allclose(jacfwd(lambda m: m.T @ m, M), jacobian(lambda m: m.T @ m, M),
                               rtol=1e-12, atol=1e-14)


def test_tuple_outputs_constants_and_identity():
    x = np.array([0.5, -1.0])
    (a, b, c), (da, db, dc) = jvp(lambda x: (x * 2, Tensor([1.0, 2.0]), x), (x,), (np.ones(2),))
    np.testing.assert_array_equal(da, [2.0, 2.0])
    np.testing.assert_array_equal(db, [0.0, 0.0])          # a constant: tangent zero
    np.testing.assert_array_equal(dc, [1.0, 1.0])          # f returns its input
    _, d = jvp(lambda x, y: x * y, (x, np.array(3.0)), (np.ones(2), None))
    np.testing.assert_array_equal(d, [3.0, 3.0])           # None: the input held constant


def test_jvp_records_nothing_on_the_tape():
    seen = []
    W = Tensor(np.eye(2), requires_grad=True)               # a parameter f closes over
    jvp(lambda x: seen.append(W @ x) or seen[-1], (np.ones(2),), (np.ones(2),))
    assert seen[0].node is None


def test_a_tangent_of_the_wrong_shape_names_the_input_and_both_shapes():
    with pytest.raises(ShapeError, match=r"tangent of input 1 has shape \(3,\), but the input "
                                         r"has shape \(2, 3\)"):
        jvp(lambda a, b: a * b, (np.ones(3), np.ones((2, 3))), (np.ones(3), np.ones(3)))
    with pytest.raises(ShapeError, match=r"input 0: \(2, 5, 3\) for \(5, 3\), input 1: "
                                         r"\(4, 3\) for \(3,\)"):
        jvp(lambda a, b: a * b, (np.ones((5, 3)), np.ones(3)),
            (np.ones((2, 5, 3)), np.ones((4, 3))))


def test_a_tangent_of_the_wrong_dtype_names_the_input_dtypes_and_shapes():
    x = Tensor(np.ones((2, 2)), name="W")
    with pytest.raises(DTypeError, match=r"tangent of input 0 \('W'\) has dtype float32 and "
                                         r"shape \(2, 2\), but the input has dtype float64 and "
                                         r"shape \(2, 2\)"):
        jvp(lambda w: w * 2, (x,), (np.ones((2, 2), np.float32),))
    with pytest.raises(DTypeError, match=r"input 0 has dtype int64 .*pass None"):
        jvp(lambda i: i * 2, (np.array([1, 2]),), (np.ones(2),))


def test_jvp_through_a_rule_without_a_jvp_names_the_rule():
    rule = register("cube_no_jvp", lambda x: x**3, vjp={"x": "3 * x**2 * g"})
    try:
        with pytest.raises(RuleError, match="jvp through cube_no_jvp: the rule has no JVP"):
            jvp(lambda x: apply(rule, x), (np.ones(2),), (np.ones(2),))
        # without a tangent flowing through it, the rule is no obstacle
        assert jvp(lambda x, y: apply(rule, y) + x, (np.ones(2), np.ones(2)),
                   (np.ones(2), None))[1].tolist() == [1.0, 1.0]
    finally:
        unregister("cube_no_jvp")


def test_a_jvp_formula_with_a_wrong_shape_is_named():
    rule = register("bad_jvp", lambda x: x.sum(), vjp={"x": "g + 0 * x"}, jvp="dx")
    try:
        with pytest.raises(ShapeError, match=r"bad_jvp: the JVP \(dout = dx\) gave a tangent "
                                             r"of shape \(3,\), but the output has shape \(\)"):
            jvp(lambda x: apply(rule, x), (np.ones(3),), (np.ones(3),))
    finally:
        unregister("bad_jvp")


def test_register_refuses_a_jvp_that_reads_g():
    with pytest.raises(ValueError, match="reads g or i, which only a VJP has.*dx"):
        register("reads_g", np.negative, vjp={"x": "-g"}, jvp="-g")


def test_nested_jvp_is_refused_and_leaves_no_tracer_behind():
    from autograd_mini.context import state
    with pytest.raises(RuntimeError, match="nested forward mode"):
        jvp(lambda x: Tensor(jvp(lambda y: y * 2, (x.data,), (np.ones(2),))[1]) * x,
            (np.ones(2),), (np.ones(2),))
    assert state.tracer is None
