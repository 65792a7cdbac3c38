"""Registry-driven checks of forward mode and of second derivatives: every rule's JVP
against central finite differences and against the reverse-mode Jacobian (which its VJP
gives), and every rule's VJP, run on Tensors, through gradgradcheck; over the same menu of
shapes, broadcast pairs and domains as the VJPs (tests/test_rules.py's RECIPES).
"""
import copy
import zlib

import numpy as np
import pytest

from autograd_mini import RULES, Tensor, gradgradcheck, jacobian, jvp
from test_rules import CASES, RECIPES


def seed_of(name, recipe, salt):
    return zlib.crc32(f"{name} {recipe.label} {salt}".encode())


def fixed(fn, arrays, i):
    """fn as a function of input i alone, the other inputs held at their values."""
    def f(x):
        args = [Tensor(a) for a in arrays]
        args[i] = x
        return fn(*args)
    return f


def test_every_registered_rule_has_a_jvp():
    missing = sorted(n for n, r in RULES.items() if r.jvp is None)
    assert not missing, f"rules without a JVP formula (register(..., jvp=...)): {missing}"


@pytest.mark.parametrize("name, recipe", CASES, ids=[f"{n}-{c.label}" for n, c in CASES])
def test_rule_jvp_matches_finite_differences(name, recipe):
    arrays = recipe.arrays(seed=seed_of(name, recipe, "fd"))
    rng = np.random.default_rng(seed_of(name, recipe, "tangent"))
    tangents = [rng.normal(size=np.shape(a)) for a in arrays]
    value, tangent = jvp(recipe.fn, arrays, tangents)
    eps = 1e-6

    def at(s):
        return recipe.fn(*[Tensor(a + s * t) for a, t in zip(arrays, tangents)]).data
    numeric = (at(eps) - at(-eps)) / (2 * eps)
    assert tangent.shape == np.shape(value) == numeric.shape
    np.testing.assert_allclose(tangent, numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, recipe", CASES, ids=[f"{n}-{c.label}" for n, c in CASES])
def test_rule_jvp_matches_the_reverse_jacobian_batched(name, recipe):
    # Three directions for every input at once (the batch axis), against J_i . t_i
    # summed over the inputs, each J_i by reverse mode (one VJP per output element).
    arrays = recipe.arrays(seed=seed_of(name, recipe, "jac"))
    rng = np.random.default_rng(seed_of(name, recipe, "batch"))
    tangents = [rng.normal(size=(3,) + np.shape(a)) for a in arrays]
    value, tangent = jvp(recipe.fn, arrays, tangents)
    expected = 0
    for i, (a, t) in enumerate(zip(arrays, tangents)):
        J = jacobian(fixed(recipe.fn, arrays, i), a)            # out.shape + a.shape
        flat = J.reshape(np.shape(value) + (-1,))
        expected = expected + np.einsum("...j,kj->k...", flat, t.reshape(3, -1))
    assert tangent.shape == (3,) + np.shape(value)
    np.testing.assert_allclose(tangent, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, recipe", CASES, ids=[f"{n}-{c.label}" for n, c in CASES])
def test_rule_second_derivatives_match_finite_differences(name, recipe):
    arrays = recipe.arrays(seed=seed_of(name, recipe, "gradgrad"))
    inputs = [Tensor(a, requires_grad=True, name=f"x{k}") for k, a in enumerate(arrays)]
    report = gradgradcheck(recipe.fn, inputs)
    assert report, f"\n{report}"


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_the_recipes_catch_a_one_percent_error_in_the_jvp(name):
    rule = RULES[name]
    original = rule.jvp
    wrong = copy.copy(original)
    wrong.fn = lambda g, i, env, fn=original.fn: fn(g, i, env) * 1.01
    object.__setattr__(rule, "jvp", wrong)
    try:
        caught = False
        for recipe in RECIPES[name]:
            try:
                test_rule_jvp_matches_finite_differences(name, recipe)
            except AssertionError:
                caught = True
                break
    finally:
        object.__setattr__(rule, "jvp", original)
    assert caught, f"no recipe of {name} notices a 1% error in its JVP"


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_rule_jvp_keeps_float32(name):
    recipe = RECIPES[name][0]
    arrays = [a.astype(np.float32) for a in recipe.arrays(seed=2)]
    value, tangent = jvp(recipe.fn, arrays, [np.ones_like(a) for a in arrays])
    assert value.dtype == tangent.dtype == np.float32
