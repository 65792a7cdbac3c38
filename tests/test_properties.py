"""Property tests over shapes (hypothesis): broadcasting, matmul and reductions.

Few small examples each (seconds in total); the fixed menu in test_rules.py covers the
named cases, these explore the shapes nobody thought to list.
"""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

from autograd_mini import Tensor, concat, gradcheck, stack

FAST = settings(max_examples=25, deadline=None, database=None, derandomize=True)


def scatter_sum(weights, shape):
    """Sum ``weights`` (an output-shaped array) onto the input entries that were broadcast
    into each output entry: the adjoint of broadcasting, computed by tracking each input
    element's flat index through np.broadcast_to (a route independent of unbroadcast)."""
    index = np.arange(int(np.prod(shape))).reshape(shape)
    source = np.broadcast_to(index, weights.shape)
    return np.bincount(source.ravel(), weights=weights.ravel(),
                       minlength=index.size).reshape(shape)


@FAST
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3),
       seed=st.integers(0, 2**16))
def test_broadcasting_add_and_mul_send_back_the_sum_over_broadcast_axes(shapes, seed):
    (sa, sb), out_shape = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(seed)
    a0, b0, g = rng.normal(size=sa), rng.normal(size=sb), rng.normal(size=out_shape)

    a, b = Tensor(a0, requires_grad=True), Tensor(b0, requires_grad=True)
    (a + b).backward(g)
    np.testing.assert_allclose(a.grad, scatter_sum(g, sa), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad, scatter_sum(g, sb), rtol=1e-12, atol=1e-12)

    a, b = Tensor(a0, requires_grad=True), Tensor(b0, requires_grad=True)
    (a * b).backward(g)      # d(a*b)/da = b, broadcast to the output, then summed back
    np.testing.assert_allclose(a.grad, scatter_sum(g * np.broadcast_to(b0, out_shape), sa),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad, scatter_sum(g * np.broadcast_to(a0, out_shape), sb),
                               rtol=1e-12, atol=1e-12)


@st.composite
def matmul_shapes(draw):
    """Shapes A, B that np.matmul accepts: vectors on either side, batch axes that broadcast."""
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
    ba, bb = batch.input_shapes
    a = (k,) if draw(st.booleans()) else ba + (n, k)
    b = (k,) if draw(st.booleans()) else bb + (k, m)
    return a, b


@FAST
@given(shapes=matmul_shapes(), seed=st.integers(0, 2**16))
def test_matmul_gradients_match_finite_differences_for_any_valid_shapes(shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = (Tensor(rng.normal(size=s), requires_grad=True) for s in shapes)
    out = a @ b
    assert out.shape == np.matmul(a.data, b.data).shape
    report = gradcheck(lambda x, y: x @ y, [a, b])
    assert report, f"\n{report}"


@st.composite
def shape_and_axes(draw):
    shape = draw(array_shapes(min_dims=1, max_dims=4, max_side=3))
    nd = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-nd, nd - 1))
    else:
        chosen = draw(st.lists(st.integers(0, nd - 1), unique=True, max_size=nd))
        axis = tuple(a - nd if draw(st.booleans()) else a for a in chosen)   # some negative
    return shape, axis, draw(st.booleans())


@FAST
@given(case=shape_and_axes(), seed=st.integers(0, 2**16))
def test_sum_and_mean_over_any_axes_spread_g_evenly_back(case, seed):
    shape, axis, keepdims = case
    rng = np.random.default_rng(seed)
    x0 = rng.normal(size=shape)
    out_shape = np.sum(x0, axis=axis, keepdims=keepdims).shape
    g = rng.normal(size=out_shape)

    # Each input element feeds exactly one output element: the one with its reduced axes
    # set to 0. Its gradient is that output's g (sum) or g / count (mean).
    nd = len(shape)
    reduced = set(range(nd)) if axis is None else {a % nd for a in np.atleast_1d(axis)}
    count = int(np.prod([shape[a] for a in reduced]))
    g_kept = np.reshape(g, [1 if a in reduced else shape[a] for a in range(nd)])
    expected = np.broadcast_to(g_kept, shape)

    x = Tensor(x0, requires_grad=True)
    x.sum(axis=axis, keepdims=keepdims).backward(g)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12, atol=1e-12)
    x = Tensor(x0, requires_grad=True)
    x.mean(axis=axis, keepdims=keepdims).backward(g)
    np.testing.assert_allclose(x.grad, expected / count, rtol=1e-12, atol=1e-12)


@FAST
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=4), seed=st.integers(0, 2**16),
       data=st.data())
def test_softmax_rows_sum_to_one_and_gradcheck_on_any_axis(shape, seed, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = Tensor(np.random.default_rng(seed).normal(scale=3, size=shape), requires_grad=True)
    np.testing.assert_allclose(x.softmax(axis).data.sum(axis=axis), 1.0, rtol=1e-12)
    report = gradcheck(lambda t: t.log_softmax(axis) * t.softmax(axis), [x])
    assert report, f"\n{report}"


@FAST
@given(n=st.integers(1, 5), idx=st.lists(st.integers(-5, 4), min_size=1, max_size=8),
       seed=st.integers(0, 2**16))
def test_getitem_with_repeated_indices_scatter_adds(n, idx, seed):
    idx = np.array([i % n for i in idx])            # valid, with repeats and any order
    rng = np.random.default_rng(seed)
    x = Tensor(rng.normal(size=(n, 2)), requires_grad=True)
    g = rng.normal(size=(len(idx), 2))
    x[idx].backward(g)
    expected = np.zeros((n, 2))
    for row, i in enumerate(idx):                   # by hand: each pick sends its row back
        expected[i] += g[row]
    np.testing.assert_allclose(x.grad, expected, rtol=1e-14, atol=1e-15)


# Random programs: chains of ops over a pool of (2, 3) tensors, where any earlier value may
# be reused (fan-out, diamonds, a tensor added to itself). They stress the order of the
# reverse walk and the summing of gradients, which no single-op test reaches.
W3 = np.array([[0.5, -0.2, 0.1], [0.3, 0.8, -0.6], [-0.4, 0.2, 0.7]])
PROGRAM_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b.tanh(),              # bounded factor: values stay moderate
    "div": lambda a, b: a / (b * b + 1),
    "tanh": lambda a, b: a.tanh(),
    "sigmoid": lambda a, b: (a * b).sigmoid(),
    "exp": lambda a, b: a.tanh().exp(),
    "matmul": lambda a, b: a @ Tensor(W3) + b,
    "row mean": lambda a, b: a - a.mean(axis=0, keepdims=True),
    "col sum": lambda a, b: a * b.sum(axis=1, keepdims=True).tanh(),
    "softmax": lambda a, b: a.softmax(axis=-1) * b,
    "log_softmax": lambda a, b: a.log_softmax(axis=0),
    "gather": lambda a, b: a[np.array([1, 1])] + b[0],
    "stack": lambda a, b: stack([a, b]).sum(axis=0),
    "concat": lambda a, b: concat([a, b], axis=1)[:, 1:4],
    "transpose": lambda a, b: a.T.reshape(2, 3) * b,
    "pow": lambda a, b: (a * a + 1) ** 0.5,
}


@st.composite
def programs(draw):
    steps = []
    for k in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(sorted(PROGRAM_OPS)))
        pool = 2 + k                                   # two inputs, then each result
        steps.append((op, draw(st.integers(0, pool - 1)), draw(st.integers(0, pool - 1))))
    return steps


def run_program(steps, x, y):
    pool = [x, y]
    for op, i, j in steps:
        pool.append(PROGRAM_OPS[op](pool[i], pool[j]))
    # every value feeds the loss, so unused branches are exercised too
    return sum((v * float(k + 1)).sum() for k, v in enumerate(pool[2:]))


@settings(max_examples=80, deadline=None, database=None, derandomize=True)
@given(steps=programs(), seed=st.integers(0, 2**16))
def test_random_programs_with_shared_values_match_finite_differences(steps, seed):
    rng = np.random.default_rng(seed)
    x = Tensor(rng.normal(size=(2, 3)), requires_grad=True, name="x")
    y = Tensor(rng.normal(size=(2, 3)), requires_grad=True, name="y")
    report = gradcheck(lambda a, b: run_program(steps, a, b), [x, y])
    assert report, f"{steps}\n{report}"
