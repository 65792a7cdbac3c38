"""Registry-driven checks: every registered rule, on a fixed menu of shapes, against
central finite differences in float64 (and its forward against plain NumPy).

Adding an op to the registry without adding its recipes here fails
``test_every_registered_rule_has_recipes``: a new op cannot ship untested.
"""
import copy
import zlib

import numpy as np
import pytest

from autograd_mini import RULES, Tensor, concat, gradcheck, softmax_cross_entropy, stack
from autograd_mini.tape import Node
from autograd_mini.tensor_formulas import scatter_add

# ---------------------------------------------------------------------- input domains
# Each input is drawn from a domain where the op is smooth and finite differences are
# accurate (eps = 1e-6 must not cross a kink or leave the domain).
DOMAINS = {
    "any": lambda rng, shape: rng.normal(size=shape),
    "positive": lambda rng, shape: rng.uniform(0.5, 2.0, size=shape),        # log, x**0.5
    "nonzero": lambda rng, shape: (rng.uniform(0.5, 2.0, size=shape)           # 1/x, x**-1
                                   * rng.choice([-1.0, 1.0], size=shape)),
    "off_kink": lambda rng, shape: (rng.uniform(0.1, 2.0, size=shape)          # relu
                                    * rng.choice([-1.0, 1.0], size=shape)),
    "large": lambda rng, shape: rng.normal(scale=30.0, size=shape),           # softmax shift
}


class Recipe:
    """One way to call a rule: fn(*tensors) -> Tensor, the inputs' shapes and domains, and
    an independent NumPy reference of the forward (None: fn itself works on arrays)."""

    def __init__(self, label, fn, *inputs, ref=None, float64_operand=False):
        self.label = label
        self.fn = fn
        self.inputs = inputs        # (shape, domain) per differentiable input
        self.ref = ref
        # A float64 ndarray operand makes the result float64, as in NumPy: no float32 test.
        self.float64_operand = float64_operand

    def arrays(self, seed):
        rng = np.random.default_rng(seed)
        return [DOMAINS[domain](rng, shape) for shape, domain in self.inputs]


def r(label, fn, *inputs, ref=None):
    return Recipe(label, fn, *[(i, "any") if isinstance(i, tuple) else i for i in inputs],
                  ref=ref)


# The fixed menu of shape pairs for binary elementwise rules, broadcast pairs included.
PAIRS = [((2, 3), (2, 3)), ((2, 3), (3,)), ((3,), (2, 3)), ((2, 1), (1, 3)), ((), (2, 3)),
         ((2, 3), ()), ((), ()), ((4, 1, 3), (2, 1)), ((2, 3, 1), (3, 4))]


def binary(op, fn, domain_b="any"):
    return [Recipe(f"{a}&{b}", fn, (a, "any"), (b, domain_b)) for a, b in PAIRS] + [
        Recipe("python number on the left", lambda x: op(2.5, x), ((2, 3), domain_b),
               ref=lambda x: op(2.5, x)),
        Recipe("python number on the right", lambda x: op(x, -1.5), ((2, 3), "any"),
               ref=lambda x: op(x, -1.5)),
        Recipe("ndarray on the left", lambda x: op(np.full(3, 0.75), x), ((2, 3), domain_b),
               ref=lambda x: op(np.full(3, 0.75), x), float64_operand=True),
        Recipe("the same tensor twice", lambda x: fn(x, x), ((2, 3), domain_b),
               ref=lambda x: fn(x, x)),
    ]


def unary(method, ref, domain="any", shapes=((), (4,), (2, 3), (2, 3, 4))):
    return [Recipe(str(s), method, (s, domain), ref=ref) for s in shapes]


def sigmoid_ref(x):
    return 1 / (1 + np.exp(-x))


def softmax_ref(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def sce_ref(o, y, reduction):
    """-sum(y * log softmax(o)) per row, with y as one-hot rows for class indices."""
    C = o.shape[-1]
    rows = np.eye(C)[y] if np.asarray(y).dtype.kind in "iu" else np.asarray(y)
    z = o - o.max(axis=-1, keepdims=True)
    nll = -(rows * (z - np.log(np.exp(z).sum(axis=-1, keepdims=True)))).sum(axis=-1)
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](nll)


def sce_recipes():
    out = []
    soft1 = np.array([0.2, 0.5, 0.3])
    softB = np.array([[0.1, 0.6, 0.3], [1.0, 0.0, 0.0], [0.25, 0.25, 0.5], [0, 0, 1.0]])
    onehotB = np.eye(3)[[2, 0, 1, 1]]
    for red in ("mean", "sum", "none"):
        for label, targets, shape in [("label (C,)", 1, (3,)), ("one-hot (C,)", np.eye(3)[2], (3,)),
                                      ("soft (C,)", soft1, (3,)),
                                      ("labels (B,C)", np.array([2, 0, 1, 1]), (4, 3)),
                                      ("one-hot (B,C)", onehotB, (4, 3)),
                                      ("soft (B,C)", softB, (4, 3))]:
            out.append(Recipe(
                f"{label} {red}",
                lambda o, t=targets, red=red: softmax_cross_entropy(o, t, reduction=red),
                (shape, "any"),
                ref=lambda o, t=targets, red=red: sce_ref(o, t, red)))
    out.append(Recipe("large logits (B,C)",
                      lambda o: softmax_cross_entropy(o, [0, 2, 1]), ((3, 3), "large"),
                      ref=lambda o: sce_ref(o, np.array([0, 2, 1]), "mean")))
    return out


IDX = np.array([[0, 2], [2, 2]])


def scatter_ref(v, shape, index):
    """zeros(shape) with v added at index, one element at a time (repeats add up)."""
    z = np.zeros(shape)
    where_ = np.arange(int(np.prod(shape))).reshape(shape)[index]
    for j in np.ndindex(*np.shape(v)):
        z.flat[where_[j]] += v[j]
    return z


def scatter_recipes(shape=(4, 3)):
    out = []
    for label, i in [("int", 1), ("row slice", slice(1, 3)), ("column", (slice(None), 1)),
                     ("int array with repeats", np.array([0, 0, 3, 0])),
                     ("2-D int array (embedding)", IDX), ("boolean mask",
                                                          np.array([True, False, True, True]))]:
        v_shape = np.zeros(shape)[i].shape
        out.append(Recipe(label, lambda v, i=i: scatter_add(v, shape, i), (v_shape, "any"),
                          ref=lambda v, i=i: scatter_ref(v, shape, i)))
    return out

RECIPES = {
    "add": binary(lambda a, b: a + b, lambda a, b: a + b),
    "sub": binary(lambda a, b: a - b, lambda a, b: a - b),
    "mul": binary(lambda a, b: a * b, lambda a, b: a * b),
    "div": binary(lambda a, b: a / b, lambda a, b: a / b, domain_b="nonzero"),
    "neg": unary(lambda x: -x, ref=lambda x: -x),
    "pow": [Recipe(f"p={p} {s}", lambda x, p=p: x ** p, (s, dom), ref=lambda x, p=p: x ** p)
            for p, dom in [(2, "any"), (3, "any"), (0, "any"), (1, "any"), (-1, "nonzero"),
                           (-2, "nonzero"), (0.5, "positive"), (1.5, "positive"),
                           (-0.5, "positive"), (2.0, "any")]
            for s in [(), (2, 3)]],
    "exp": unary(lambda x: x.exp(), np.exp),
    "log": unary(lambda x: x.log(), np.log, domain="positive"),
    "tanh": unary(lambda x: x.tanh(), lambda x: np.sinh(x) / np.cosh(x)),
    "sigmoid": unary(lambda x: x.sigmoid(), sigmoid_ref) + unary(
        lambda x: x.sigmoid(), sigmoid_ref, domain="large", shapes=[(6,)]),
    "relu": unary(lambda x: x.relu(), lambda x: np.where(x > 0, x, 0.0), domain="off_kink"),
    "sum": [Recipe(f"axis={ax} keepdims={kd}", lambda x, ax=ax, kd=kd: x.sum(ax, kd),
                   ((2, 3, 4), "any"), ref=lambda x, ax=ax, kd=kd: np.sum(x, ax, keepdims=kd))
            for ax in [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2), ()]
            for kd in [False, True]]
    + [Recipe("scalar", lambda x: x.sum(), ((), "any"), ref=np.sum)],
    "mean": [Recipe(f"axis={ax} keepdims={kd}", lambda x, ax=ax, kd=kd: x.mean(ax, kd),
                    ((2, 3, 4), "any"),
                    ref=lambda x, ax=ax, kd=kd: np.mean(x, ax, keepdims=kd))
             for ax in [None, 0, 1, -1, (0, 2), (-2, -1)]
             for kd in [False, True]],
    "matmul": [Recipe(f"{a}@{b}", lambda x, y: x @ y, (a, "any"), (b, "any"))
               for a, b in [((2, 3), (3, 4)),            # matrix-matrix
                            ((5, 2, 3), (5, 3, 4)),      # batched
                            ((2, 3), (5, 3, 4)),         # 2-D broadcast against 3-D
                            ((5, 2, 3), (3, 4)),         # 3-D against 2-D
                            ((2, 1, 2, 3), (3, 3, 2))]   # batch axes broadcast (2,1)&(3,)
               ] + [Recipe("ndarray @ tensor", lambda x: np.ones((2, 3)) @ x, ((3, 4), "any"),
                           ref=lambda x: np.ones((2, 3)) @ x, float64_operand=True),
                    Recipe("x @ x.T", lambda x: x @ x.T, ((3, 2), "any"),
                           ref=lambda x: x @ x.T)],
    "matvec": [Recipe(f"{a}@{b}", lambda x, y: x @ y, (a, "any"), (b, "any"))
               for a, b in [((2, 3), (3,)), ((5, 2, 3), (3,))]],
    "vecmat": [Recipe(f"{a}@{b}", lambda x, y: x @ y, (a, "any"), (b, "any"))
               for a, b in [((3,), (3, 4)), ((3,), (5, 3, 4))]],
    "dot": [Recipe("(3,)@(3,)", lambda x, y: x @ y, ((3,), "any"), ((3,), "any")),
            Recipe("x @ x", lambda x: x @ x, ((4,), "any"), ref=lambda x: x @ x)],
    "transpose": [Recipe(".T 2-D", lambda x: x.T, ((2, 3), "any"), ref=lambda x: x.T),
                  Recipe(".T 1-D", lambda x: x.T, ((3,), "any"), ref=lambda x: x.T),
                  Recipe(".T 3-D", lambda x: x.T, ((2, 3, 4), "any"), ref=lambda x: x.T),
                  Recipe("(1, 0, 2)", lambda x: x.transpose(1, 0, 2), ((2, 3, 4), "any"),
                         ref=lambda x: x.transpose(1, 0, 2)),
                  Recipe("(2, 0, 1)", lambda x: x.transpose((2, 0, 1)), ((2, 3, 4), "any"),
                         ref=lambda x: x.transpose(2, 0, 1)),
                  Recipe("negative axes", lambda x: x.transpose(-1, 0, -2), ((2, 3, 4), "any"),
                         ref=lambda x: x.transpose(2, 0, 1)),
                  Recipe("negative axes, square", lambda x: x.transpose(-1, 0) * x,
                         ((3, 3), "any"), ref=lambda x: x.T * x)],
    "reshape": [Recipe("(2,3)->(3,2)", lambda x: x.reshape(3, 2), ((2, 3), "any"),
                       ref=lambda x: x.reshape(3, 2)),
                Recipe("(6,)->(2,-1)", lambda x: x.reshape((2, -1)), ((6,), "any"),
                       ref=lambda x: x.reshape(2, 3)),
                Recipe("(2,3,4)->(24,)", lambda x: x.reshape(24), ((2, 3, 4), "any"),
                       ref=lambda x: x.reshape(24)),
                Recipe("()->(1,1)", lambda x: x.reshape(1, 1), ((), "any"),
                       ref=lambda x: x.reshape(1, 1))],
    "getitem": [Recipe(label, lambda x, i=i: x[i], ((4, 3), "any"),
                       ref=lambda x, i=i: x[i.data.astype(int) if isinstance(i, Tensor) else i])
                for label, i in [("int", 1), ("negative int", -1), ("row slice", slice(1, 3)),
                                 ("column", (slice(None), 1)), ("element", (2, 0)),
                                 ("step slice", slice(None, None, -2)),
                                 ("ellipsis", (..., 0)), ("new axis", (None, 1)),
                                 ("int array with repeats", np.array([0, 0, 3, 0])),
                                 ("list with repeats", [1, 1, 2]),
                                 ("2-D int array (embedding)", IDX),
                                 ("int and int array", (1, np.array([0, 0, 2]))),
                                 ("Tensor index with repeats", Tensor([3, 1, 3])),
                                 ("boolean mask", np.array([True, False, True, True]))]],
    "stack": [Recipe(f"axis={ax}", lambda a, b, c, ax=ax: stack([a, b, c], axis=ax),
                     ((2, 3), "any"), ((2, 3), "any"), ((2, 3), "any"),
                     ref=lambda a, b, c, ax=ax: np.stack([a, b, c], axis=ax))
              for ax in [0, 1, 2, -1]]
    + [Recipe("the same tensor twice", lambda a: stack([a, a * 2]), ((3,), "any"),
              ref=lambda a: np.stack([a, a * 2]))],
    "concat": [Recipe("axis=0", lambda a, b: concat([a, b]), ((2, 3), "any"), ((4, 3), "any"),
                      ref=lambda a, b: np.concatenate([a, b])),
               Recipe("axis=1", lambda a, b, c: concat([a, b, c], axis=1), ((2, 1), "any"),
                      ((2, 3), "any"), ((2, 2), "any"),
                      ref=lambda a, b, c: np.concatenate([a, b, c], axis=1)),
               Recipe("axis=-1 3-D", lambda a, b: concat([a, b], axis=-1), ((2, 2, 1), "any"),
                      ((2, 2, 3), "any"), ref=lambda a, b: np.concatenate([a, b], axis=-1)),
               Recipe("1-D, the same tensor twice", lambda a: concat([a, a]), ((3,), "any"),
                      ref=lambda a: np.concatenate([a, a]))],
    "softmax": [Recipe(f"{s} axis={ax}", lambda x, ax=ax: x.softmax(axis=ax), (s, dom),
                       ref=lambda x, ax=ax: softmax_ref(x, ax))
                for s, ax, dom in [((4,), -1, "any"), ((2, 3), -1, "any"), ((2, 3), 0, "any"),
                                   ((2, 3, 4), 1, "any"), ((2, 3, 4), -3, "any"),
                                   ((2, 5), -1, "large")]],
    "log_softmax": [Recipe(f"{s} axis={ax}", lambda x, ax=ax: x.log_softmax(axis=ax), (s, dom),
                           ref=lambda x, ax=ax: np.log(softmax_ref(x, ax)))
                    for s, ax, dom in [((4,), -1, "any"), ((2, 3), -1, "any"),
                                       ((2, 3), 0, "any"), ((2, 3, 4), 1, "any"),
                                       ((2, 5), -1, "large")]],
    "softmax_cross_entropy": sce_recipes(),
    "scatter_add": scatter_recipes(),
}

CASES = [(name, recipe) for name in sorted(RECIPES) for recipe in RECIPES[name]]


def rules_in_graph(out):
    """Names of the rules recorded in out's graph (an explicit stack: no recursion)."""
    names, stack_, seen = set(), [out.node], set()
    while stack_:
        node = stack_.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.add(node.rule.name)
        stack_.extend(p for p in node.parents if isinstance(p, Node))
    return names


def test_every_registered_rule_has_recipes():
    missing = sorted(set(RULES) - set(RECIPES))
    assert not missing, (f"rules without a gradcheck recipe in tests/test_rules.py: {missing}; "
                         "add an entry to RECIPES (and a domain if the op needs one)")


def test_no_recipe_is_for_a_rule_that_does_not_exist():
    assert not sorted(set(RECIPES) - set(RULES))


@pytest.mark.parametrize("name, recipe", CASES, ids=[f"{n}-{c.label}" for n, c in CASES])
def test_rule_gradient_matches_finite_differences(name, recipe):
    arrays = recipe.arrays(seed=zlib.crc32(f"{name} {recipe.label}".encode()))
    inputs = [Tensor(a, requires_grad=True, name=f"x{k}") for k, a in enumerate(arrays)]
    out = recipe.fn(*inputs)
    assert name in rules_in_graph(out), f"the recipe does not exercise {name}"
    report = gradcheck(recipe.fn, inputs)
    assert report, f"\n{report}"


@pytest.mark.parametrize("name, recipe", CASES, ids=[f"{n}-{c.label}" for n, c in CASES])
def test_rule_forward_matches_numpy(name, recipe):
    arrays = recipe.arrays(seed=1)
    out = recipe.fn(*[Tensor(a) for a in arrays])
    expected = (recipe.ref or recipe.fn)(*arrays)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


# A recipe with a float64 ndarray operand promotes to float64, as NumPy does: not a case.
FLOAT32_CASES = [(n, c) for n, c in CASES if not c.float64_operand]


@pytest.mark.parametrize("name, recipe", FLOAT32_CASES,
                         ids=[f"{n}-{c.label}" for n, c in FLOAT32_CASES])
def test_rule_keeps_float32(name, recipe):
    arrays = [a.astype(np.float32) for a in recipe.arrays(seed=2)]
    inputs = [Tensor(a, requires_grad=True) for a in arrays]
    out = recipe.fn(*inputs)
    assert out.dtype == np.float32, f"{name} turned float32 into {out.dtype}"
    out.backward(np.ones(out.shape, dtype=np.float32))
    for t in inputs:
        assert t.grad.dtype == np.float32 and t.grad.shape == t.shape


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_the_recipes_catch_a_one_percent_error_in_the_rule(name):
    # A check that cannot fail is no check: scale the rule's VJPs by 1.01 and at least one
    # of its recipes must fail gradcheck. (Rules are frozen; the swap is undone below.)
    rule = RULES[name]
    original = rule.vjps
    wrong = []
    for f in original:
        f = copy.copy(f)
        f.fn = lambda g, i, env, fn=f.fn: fn(g, i, env) * 1.01
        wrong.append(f)
    object.__setattr__(rule, "vjps", tuple(wrong))
    try:
        caught = None
        for recipe in RECIPES[name]:
            inputs = [Tensor(a, requires_grad=True) for a in recipe.arrays(seed=3)]
            if not gradcheck(recipe.fn, inputs):
                caught = recipe.label
                break
    finally:
        object.__setattr__(rule, "vjps", original)
    assert caught is not None, f"no recipe of {name} notices a 1% error in its VJP"
