"""The checks check: gradcheck catches a wrong rule, a user op registered as the README
shows passes, jacobian agrees with its numerical twin, projection mode works."""
import re
from pathlib import Path

import numpy as np
import pytest

from autograd_mini import (RULES, Tensor, apply, gradcheck, jacobian, numerical_jacobian,
                           register, unregister)

ADDING_AN_OP = Path(__file__).resolve().parent.parent / "docs" / "adding-an-op.md"
BUILTIN = frozenset(RULES)          # the rules registered before any test adds its own


@pytest.fixture
def registered():
    """Register rules for one test and always take them out again (the coverage test in
    test_rules.py must not see them)."""
    names = []

    def add(name, *args, **kwargs):
        rule = register(name, *args, **kwargs)
        names.append(name)
        return rule

    yield add
    for name in names:
        unregister(name)


# ---------------------------------------------------------------------- a wrong rule
def test_gradcheck_catches_a_deliberately_wrong_rule_and_names_the_worst_element(registered):
    # square(x) = x^2 with the VJP g * x: half the true gradient 2 * g * x.
    square = registered("square_wrong", lambda x: x * x,
                        vjp={"x": "g * x"})   # wrong on purpose: should be 2 * g * x
    x = Tensor(np.array([[0.5, -1.0, 2.0], [3.0, 0.25, -4.0]]), requires_grad=True,
               name="x")
    report = gradcheck(lambda t: apply(square, t), [x])
    assert not report
    text = str(report)
    assert "FAIL" in text
    # The worst element: |analytic - numeric| = |x| is largest at x = -4, index (1, 2) of
    # x, which is output element (1, 2): the Jacobian entry (1, 2, 1, 2).
    assert "(1, 2, 1, 2)" in text
    check = next(iter(report))
    assert check.worst == (1, 2, 1, 2)
    assert check.analytic == pytest.approx(-4.0) and check.numeric == pytest.approx(-8.0)
    assert check.max_rel == pytest.approx(0.5)
    assert re.search(r"^x\s+\(2, 3\)", text, re.M), text


def test_gradcheck_catches_a_wrong_gradient_in_one_input_only(registered):
    # mul with dB wrong: the report fails for B and passes for A.
    wrong = registered("mul_wrong", np.multiply,
                       vjp={"A": "g * B", "B": "g * A + 1e-3"})   # dB wrong
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True, name="A")
    b = Tensor(np.array([3.0, -1.0]), requires_grad=True, name="B")
    report = gradcheck(lambda p, q: apply(wrong, p, q).sum(), [a, b])
    assert not report
    by_name = {c.label: c for c in report}
    assert by_name["A"].ok and not by_name["B"].ok
    assert "FAIL" in str(report) and str(report).count("ok") >= 1


def test_a_wrong_rule_is_also_caught_in_projection_mode(registered):
    square = registered("square_wrong_p", lambda x: x * x, vjp={"x": "g * x"})
    x = Tensor(np.linspace(-2, 2, 12).reshape(3, 4), requires_grad=True)
    assert not gradcheck(lambda t: apply(square, t), [x], mode="projection")


def test_a_vjp_of_an_impossible_shape_is_a_shape_error_naming_the_rule(registered):
    from autograd_mini import ShapeError
    bad = registered("bad_shape", lambda x: x * 2, vjp={"x": "np.ones(7)"})
    y = apply(bad, Tensor(np.ones(3), requires_grad=True)).sum()
    with pytest.raises(ShapeError, match=r"bad_shape: the VJP for input 0 .*\(7,\).*\(3,\)"):
        y.backward()


# ---------------------------------------------------------------------- a user op
def readme_example():
    """The first python block of docs/adding-an-op.md, as a user copies it."""
    text = ADDING_AN_OP.read_text(encoding="utf-8")
    match = re.search(r"```python\n(.*?)```", text, re.S)
    assert match, "docs/adding-an-op.md lost its python example"
    return match.group(1)


def test_the_readme_user_op_registers_gradchecks_and_gives_the_hand_derivative(capsys):
    code = readme_example()
    namespace = {}
    try:
        exec(compile(code, "docs/adding-an-op.md", "exec"), namespace)
        printed = capsys.readouterr().out
        name = next(n for n in RULES if n not in BUILTIN)
        x = namespace["x"]
        # d/dx log(1 + e^x) = e^x / (1 + e^x), by hand
        np.testing.assert_allclose(x.grad, np.exp(x.data) / (1 + np.exp(x.data)), rtol=1e-14)
        assert "FAIL" not in printed and "gradcheck" in printed

        op = namespace["softplus"]
        for shape in [(), (5,), (2, 3)]:
            t = Tensor(np.random.default_rng(0).normal(size=shape) * 3, requires_grad=True)
            report = gradcheck(op, [t])
            assert report, f"\n{report}"
        # the forward is stable where the naive formula overflows
        big = op(Tensor(np.array([1000.0, -1000.0]))).data
        np.testing.assert_allclose(big, [1000.0, 0.0], atol=1e-300)
        assert [f.text for f in RULES[name].vjps] == ["dx = g * sigmoid(x)"]
        # forward mode and second derivatives: sigmoid(x), and sigmoid' = s (1 - s), by hand
        from autograd_mini import gradgradcheck, hvp, jvp
        x0 = np.array([-2.0, 0.0, 3.0])
        s = 1 / (1 + np.exp(-x0))
        np.testing.assert_allclose(jvp(op, (x0,), (np.ones(3),))[1], s, rtol=1e-14)
        np.testing.assert_allclose(hvp(lambda v: op(v).sum(), [x0], [np.ones(3)])[0],
                                   s * (1 - s), rtol=1e-14)
        assert gradgradcheck(op, [Tensor(x0, requires_grad=True)])
    finally:
        for n in [n for n in RULES if n not in BUILTIN]:
            unregister(n)


def test_a_user_op_with_params_and_broadcasting(registered):
    # scaled_add(a, b, s) = a + s * b: two inputs that broadcast, one parameter s.
    rule = registered("scaled_add", lambda a, b, s: a + s * b,
                      vjp={"A": "g", "B": "s * g"}, params=("s",))
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    b = Tensor(np.arange(3.0), requires_grad=True)
    apply(rule, a, b, params=(0.5,)).sum().backward()
    np.testing.assert_array_equal(a.grad, np.ones((2, 3)))
    np.testing.assert_array_equal(b.grad, [1.0, 1.0, 1.0])    # 0.5 * (sum over 2 rows)
    assert gradcheck(lambda p, q: apply(rule, p, q, params=(-1.5,)),
                     [Tensor(np.ones((2, 1)), requires_grad=True),
                      Tensor(np.arange(3.0), requires_grad=True)])


# ---------------------------------------------------------------------- jacobian
def test_jacobian_of_a_linear_map_is_the_matrix():
    A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    J = jacobian(lambda x: Tensor(A) @ x, np.array([0.1, 0.2, 0.3]))
    assert J.shape == (2, 3)
    np.testing.assert_array_equal(J, A)


def test_jacobian_of_softmax_is_diag_p_minus_p_p_transpose():
    x = np.array([0.5, -1.0, 2.0, 0.0])
    p = np.exp(x) / np.exp(x).sum()
    J = jacobian(lambda t: t.softmax(), x)
    np.testing.assert_allclose(J, np.diag(p) - np.outer(p, p), rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(numerical_jacobian(lambda t: t.softmax(), x), J, atol=1e-9)


@pytest.mark.parametrize("x_shape, fn, y_shape", [
    ((3,), lambda t: (t * t).sum(), ()),
    ((2, 3), lambda t: t.tanh(), (2, 3)),
    ((2, 3), lambda t: t.sum(axis=0), (3,)),
    ((4,), lambda t: t.reshape(2, 2).T @ t.reshape(2, 2), (2, 2)),
    ((2, 3), lambda t: t[:, [0, 0, 2]] * 2, (2, 3)),
    ((), lambda t: Tensor(np.arange(3.0)) * t.exp(), (3,)),
])
def test_jacobian_and_numerical_jacobian_agree_in_shape_and_value(x_shape, fn, y_shape):
    x = np.random.default_rng(7).normal(size=x_shape)
    J, N = jacobian(fn, x), numerical_jacobian(fn, x)
    assert J.shape == N.shape == y_shape + x_shape
    np.testing.assert_allclose(J, N, rtol=1e-6, atol=1e-8)


def test_jacobian_of_a_function_that_ignores_x_is_zero():
    J = jacobian(lambda t: Tensor(np.ones(2)) * 3, np.zeros(3))
    assert J.shape == (2, 3) and not J.any()


def test_jacobian_of_the_identity():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(jacobian(lambda t: t, x), np.eye(6).reshape(2, 3, 2, 3))


# ---------------------------------------------------------------------- gradcheck
def test_gradcheck_passes_a_whole_rnn_in_both_modes():
    rng = np.random.default_rng(3)
    W = Tensor(rng.normal(scale=0.5, size=(4, 4)), requires_grad=True, name="W")
    U = Tensor(rng.normal(size=(4, 3)), requires_grad=True, name="U")
    xs = rng.normal(size=(8, 3))

    def loss(W, U):
        h = Tensor(np.zeros(4))
        total = 0
        for x in xs:
            h = (W @ h + U @ Tensor(x)).tanh()
            total = total + (h * h).sum()
        return total

    full = gradcheck(loss, [W, U])
    assert full and full.mode == "full" and [c.label for c in full] == ["W", "U"]
    for seed in range(3):
        proj = gradcheck(loss, [W, U], mode="projection", seed=seed)
        assert proj and proj.mode == "projection"


def test_gradcheck_runs_in_float64_for_float32_inputs():
    x = Tensor(np.array([0.3, -0.7, 1.1], dtype=np.float32), requires_grad=True)
    report = gradcheck(lambda t: (t.tanh() * t).sum(), [x], atol=1e-7, rtol=1e-7)
    assert report, f"\n{report}"      # float32 finite differences could not meet 1e-7


def test_gradcheck_only_checks_inputs_that_require_grad():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True, name="a")
    c = Tensor(np.array([3.0, 4.0]), name="c")
    report = gradcheck(lambda p, q, k: (p * q * k).sum(), [a, c, 2.0])
    assert report and [ch.label for ch in report] == ["a"]


def test_gradcheck_refuses_nothing_to_check_and_unknown_modes():
    with pytest.raises(ValueError, match="no input has requires_grad=True"):
        gradcheck(lambda t: t.sum(), [Tensor(np.ones(2))])
    with pytest.raises(ValueError, match="mode='fast'"):
        gradcheck(lambda t: t.sum(), [Tensor(np.ones(2), requires_grad=True)], mode="fast")


def test_the_report_prints_a_table_with_one_row_per_input():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True, name="a")
    b = Tensor(np.array([0.5]), requires_grad=True)
    text = str(gradcheck(lambda p, q: (p * q).exp().sum(), [a, b]))
    lines = text.splitlines()
    assert lines[0].startswith("gradcheck (full, eps=1e-06")
    assert "max abs err" in lines[1] and "max rel err" in lines[1]
    assert lines[2].startswith("a ") and lines[2].endswith("ok")
    assert lines[3].startswith("input 1 ") and lines[3].endswith("ok")


def test_a_variadic_user_op_and_one_that_saves_an_aux_value(registered):
    # weighted(x_0, ..., x_n) = sum_i (i + 1) * x_i: one shared VJP that gets the index.
    weighted = registered("weighted", lambda xs: sum((i + 1) * x for i, x in enumerate(xs)),
                          vjp={"x": "(i + 1) * g"}, variadic=True)
    xs = [Tensor(np.ones(2), requires_grad=True) for _ in range(3)]
    apply(weighted, *xs).sum().backward()
    assert [x.grad.tolist() for x in xs] == [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]
    assert gradcheck(lambda *ts: apply(weighted, *ts), xs)

    # normalize(x) = x / |x|: the forward returns (out, n) with n = |x|, and the formula
    # reads n by name: dx = (g - out (out . g)) / n.
    def forward(x):
        n = np.sqrt((x * x).sum())
        return x / n, n

    normalize = registered("normalize", forward, vjp={"x": "(g - out * (out * g).sum()) / n"},
                           aux="n")
    x = Tensor(np.array([3.0, 4.0, -12.0]), requires_grad=True)
    y = apply(normalize, x)
    np.testing.assert_allclose(y.data, np.array([3.0, 4.0, -12.0]) / 13.0)
    w = np.array([1.0, -2.0, 0.5])
    (y * Tensor(w)).sum().backward()
    u = x.data / 13.0
    np.testing.assert_allclose(x.grad, (w - u * (u @ w)) / 13.0, rtol=1e-14)  # by hand
    assert gradcheck(lambda t: apply(normalize, t), [x])
