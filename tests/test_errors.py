"""Every error the engine raises on purpose: the type, and that the message names the op,
the shapes or values involved, the scope (t=37) and the way out."""
import gc
import re
import warnings

import numpy as np
import pytest

from autograd_mini import (AnomalyError, AutogradError, DTypeError, GraphFreedError,
                           ShapeError, TargetError, Tensor, concat, detect_anomaly, no_grad,
                           scope, softmax_cross_entropy, stack)


def leaf(*shape, value=1.0):
    return Tensor(np.full(shape, value), requires_grad=True)


def test_the_error_family_is_catchable_both_as_ours_and_as_the_builtin_kind():
    assert issubclass(ShapeError, AutogradError) and issubclass(ShapeError, ValueError)
    assert issubclass(TargetError, AutogradError) and issubclass(TargetError, ValueError)
    assert issubclass(DTypeError, AutogradError) and issubclass(DTypeError, TypeError)
    assert issubclass(GraphFreedError, AutogradError) and issubclass(GraphFreedError,
                                                                     RuntimeError)
    assert issubclass(AnomalyError, AutogradError)


# ---------------------------------------------------------------------- shapes
SHAPE_MISMATCHES = [
    # (op name in the message, the failing call, the shapes it must name)
    ("add", lambda: leaf(2, 3) + leaf(4), ["(2, 3)", "(4,)"]),
    ("sub", lambda: leaf(2, 3) - leaf(3, 2), ["(2, 3)", "(3, 2)"]),
    ("mul", lambda: leaf(5) * leaf(4), ["(5,)", "(4,)"]),
    ("div", lambda: leaf(2, 3) / leaf(2), ["(2, 3)", "(2,)"]),
    ("matmul", lambda: leaf(2, 3) @ leaf(4), ["(2, 3)", "(4,)"]),
    ("matmul", lambda: leaf(2, 3) @ leaf(2, 3), ["(2, 3)", "(2, 3)"]),
    ("matmul", lambda: leaf(5, 2, 3) @ leaf(4, 3, 2), ["(5, 2, 3)", "(4, 3, 2)"]),
    ("matmul", lambda: leaf() @ leaf(3), ["()", "(3,)"]),
    ("reshape", lambda: leaf(2, 3).reshape(4), ["(2, 3)", "(4,)"]),
    ("transpose", lambda: leaf(2, 3).transpose(0, 1, 2), ["(2, 3)"]),
    ("getitem", lambda: leaf(2, 3)[5], ["(2, 3)", "index 5"]),
    ("getitem", lambda: leaf(2, 3)[[0, 4]], ["(2, 3)", "index 4"]),
    ("sum", lambda: leaf(2, 3).sum(axis=2), ["(2, 3)", "axis 2"]),
    ("mean", lambda: leaf(2, 3).mean(axis=(0, -3)), ["(2, 3)", "axis (0, -3)"]),
    ("softmax", lambda: leaf(2, 3).softmax(axis=2), ["(2, 3)", "axis 2"]),
    ("log_softmax", lambda: leaf(3).log_softmax(axis=1), ["(3,)", "axis 1"]),
    ("stack", lambda: stack([leaf(2), leaf(3)]), ["(2,)", "(3,)"]),
    ("stack", lambda: stack([leaf(2), leaf(2)], axis=2), ["axis 2", "(2,)"]),
    ("concat", lambda: concat([leaf(2, 2), leaf(3, 3)]), ["(2, 2)", "(3, 3)"]),
    ("concat", lambda: concat([leaf(2), leaf(2)], axis=1), ["axis 1", "(2,)"]),
    ("concat", lambda: concat([leaf(2, 2), leaf(2)]), ["(2, 2)", "(2,)"]),
    ("softmax_cross_entropy", lambda: softmax_cross_entropy(leaf(2, 3, 4), 0),
     ["(2, 3, 4)", "(C,) or (B, C)"]),
]


@pytest.mark.parametrize("op, call, names", SHAPE_MISMATCHES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(SHAPE_MISMATCHES)])
def test_a_shape_mismatch_names_the_op_the_shapes_and_the_scope(op, call, names):
    with scope("t=37"):
        with pytest.raises(ShapeError) as err:
            call()
    message = str(err.value)
    # `@` records one of NumPy's four product forms, each a rule of its own
    forms = ("matmul", "matvec", "vecmat", "dot") if op == "matmul" else (op,)
    assert message.startswith(tuple(f + s for f in forms for s in " :")), message
    for name in names:
        assert name in message, (name, message)
    assert "t=37" in message, message
    # outside any scope the message carries no scope
    with pytest.raises(ShapeError) as err:
        call()
    assert "scope" not in str(err.value)


@pytest.mark.parametrize("call, pattern", [
    (lambda x: x.sum(axis=(0, 0)), r"sum in scope t=37: axis \(0, 0\) does not fit a tensor "
     r"of shape \(2, 3\): expected None, an int or a tuple of distinct ints in \[-2, 1\]"),
    (lambda x: x.mean(axis=1.5), r"mean in scope t=37: axis 1.5 does not fit .*\(2, 3\)"),
    (lambda x: x.softmax(axis=(0, 1)), r"softmax in scope t=37: axis \(0, 1\) .*one int in "
     r"\[-2, 1\]"),
    (lambda x: x.log_softmax(axis=-3), r"log_softmax in scope t=37: axis -3 .*\[-2, 1\]"),
    (lambda x: x.sum().softmax(), r"softmax in scope t=37: axis -1 .*shape \(\): a 0-d "
     r"tensor has no axes"),
])
def test_a_bad_axis_names_the_op_the_shape_and_the_valid_range(call, pattern):
    with scope("t=37"):
        with pytest.raises(ShapeError, match=pattern):
            call(leaf(2, 3))


def test_stack_and_concat_of_nothing_say_so():
    with scope("t=2"):
        with pytest.raises(ValueError, match=r"stack in scope t=2: needs at least one tensor"):
            stack([])
        with pytest.raises(ValueError, match=r"concat in scope t=2: needs at least one"):
            concat([])


def test_nested_scopes_appear_as_a_path():
    with scope("t=3"), scope("cell"):
        with pytest.raises(ShapeError, match=r"add in scope t=3/cell: .*\(2,\).*\(3,\)"):
            leaf(2) + leaf(3)


def test_a_shape_error_says_what_the_op_expected():
    with pytest.raises(ShapeError, match=r"Expected A \(\.\.\., n, k\) @ B"):
        leaf(2, 3) @ leaf(2, 3)
    with pytest.raises(ShapeError, match="broadcast"):
        leaf(2, 3) + leaf(2)


def test_a_wrong_upstream_gradient_shape_is_refused():
    y = leaf(2, 3) * 2
    with pytest.raises(ShapeError, match=r"grad has shape \(3,\).*shape \(2, 3\)"):
        y.backward(np.ones(3))


def test_pow_refuses_a_tensor_exponent_with_the_way_out():
    with pytest.raises(TypeError, match=r"pow: the exponent must be a Python number.*log"):
        leaf(3) ** leaf(3)
    with pytest.raises(TypeError, match=r"pow: a tensor exponent is not supported \(int \*\* "
                       r"Tensor\); for b \*\* x write \(x \* math.log\(b\)\).exp\(\)"):
        2 ** leaf(3)


# ---------------------------------------------------------------------- targets
def logits(*shape):
    return Tensor(np.zeros(shape), requires_grad=True)


@pytest.mark.parametrize("shape, targets, pattern", [
    ((2, 3), [0, 7], r"label 7 at index 1 is out of range.*\(2, 3\).*3 classes.*\[0, 2\]"),
    ((2, 3), [-1, 0], r"label -1 at index 0 is out of range"),
    ((3,), 3, r"label 3 at index 0 is out of range.*\[0, 2\]"),
    ((4, 3), np.array([0, 1, 2, 3]), r"label 3 at index 3 is out of range"),
])
def test_labels_out_of_range_are_named_with_their_index(shape, targets, pattern):
    with scope("t=37"):
        with pytest.raises(TargetError, match=pattern) as err:
            softmax_cross_entropy(logits(*shape), targets)
    assert "softmax_cross_entropy in scope t=37" in str(err.value)


@pytest.mark.parametrize("shape, targets, pattern", [
    ((2, 3), [0.5, 1.0], r"labels must be integers, got dtype float64 \(first at index 0: 0.5\)"),
    ((3, 3), np.array([0.0, 1.0, 2.5]), r"integers.*index 2: 2.5"),
    ((3,), 1.5, r"labels must be integers.*1.5"),
    ((2, 3), np.array([True, False]), r"labels must be integers, got dtype bool"),
    ((2, 3), np.array(["a", "b"]), r"labels must be integers, got dtype <U1"),
])
def test_non_integer_labels_are_refused(shape, targets, pattern):
    with pytest.raises(TargetError, match=pattern):
        softmax_cross_entropy(logits(*shape), targets)


def test_integer_valued_float_labels_are_accepted_as_indices():
    x = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    a = softmax_cross_entropy(Tensor(x), [2.0, 0.0], reduction="none").data
    b = softmax_cross_entropy(Tensor(x), [2, 0], reduction="none").data
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("shape, targets", [
    ((2, 3), np.zeros((2, 4))),          # rows of the wrong length
    ((2, 3), np.zeros((3, 3))),          # the wrong number of rows
    ((2, 3), 1),                         # one label for a batch
    ((2, 3), np.zeros((2, 3, 1))),
    ((3,), [0, 1]),
])
def test_targets_of_the_wrong_shape_name_both_shapes_and_what_would_fit(shape, targets):
    with pytest.raises(TargetError) as err:
        softmax_cross_entropy(logits(*shape), targets)
    message = str(err.value)
    assert f"targets of shape {np.shape(targets)}" in message, message
    assert f"logits of shape {shape}" in message, message
    assert f"class indices (shape {shape[:-1]})" in message, message
    assert f"probability rows (shape {shape})" in message, message


@pytest.mark.parametrize("targets, pattern", [
    ([[1, 0, 0], [0.5, 0.6, 0]], r"row 1 of the targets sums to 1.1"),
    ([[0.2, 0.2, 0.2], [1, 0, 0]], r"row 0 of the targets sums to 0.6"),
    ([[1, 0, 0], [0, 1, 0], [1.5, -0.5, 0]],
     r"row 2 of the targets has a negative entry -0.5 at column 1"),
    ([[1, 0, 0], [np.nan, 0.5, 0.5], [1, 0, 0]], r"row 1 of the targets sums to nan"),
])
def test_probability_rows_that_are_not_distributions_are_named_by_index(targets, pattern):
    x = logits(len(targets), 3)
    with pytest.raises(TargetError, match=pattern) as err:
        softmax_cross_entropy(x, np.array(targets))
    assert "non-negative and sum to 1" in str(err.value)


def test_a_single_probability_row_is_checked_too():
    with pytest.raises(TargetError, match=r"the target row sums to 0.9"):
        softmax_cross_entropy(logits(3), [0.5, 0.4, 0.0])
    # float32 rows are checked with a float32-sized tolerance
    ok = np.array([0.1, 0.2, 0.7], dtype=np.float32)
    softmax_cross_entropy(Tensor(np.zeros(3, np.float32)), ok)


def test_an_unknown_reduction_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"reduction='avg'.*'mean', 'sum', 'none'"):
        softmax_cross_entropy(logits(2, 3), [0, 1], reduction="avg")


# ---------------------------------------------------------------------- backward
def test_backward_on_a_non_scalar_says_pass_grad_or_use_jacobian():
    y = leaf(2, 3) * 2
    with pytest.raises(ValueError) as err:
        y.backward()
    message = str(err.value)
    assert "(2, 3)" in message and "grad=" in message and "jacobian" in message


def test_backward_on_a_tensor_that_needs_no_grad_says_why():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Tensor(np.ones(3)) * 2).sum().backward()
    with no_grad():
        y = (leaf(3) * 2).sum()
    with pytest.raises(RuntimeError, match=r"no_grad\(\)"):
        y.backward()


def test_a_second_backward_without_retain_graph_names_the_way_out():
    w = leaf(3)
    with scope("t=5"):
        loss = (w * w).sum()
    loss.backward()
    with pytest.raises(GraphFreedError) as err:
        loss.backward()
    message = str(err.value)
    assert "retain_graph=True" in message and "mul in scope t=5" in message


def test_a_second_loss_through_a_graph_that_was_freed_is_refused():
    # Two losses share h; backward through the first frees h's saved values.
    w = leaf(3)
    h = (w * w).tanh()
    a, b = h.sum(), (h * 2).sum()
    a.backward()
    with pytest.raises(GraphFreedError, match="retain_graph=True"):
        b.backward()


# ---------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("data", [np.array([1, 2, 3]), np.array([True, False]),
                                  np.arange(4, dtype=np.int32), np.int64(3)])
def test_integer_tensors_cannot_require_grad(data):
    with pytest.raises(DTypeError) as err:
        Tensor(data, requires_grad=True, name="idx")
    message = str(err.value)
    assert str(np.asarray(data).dtype) in message and "'idx'" in message
    assert "floating-point" in message and "dtype=np.float64" in message


def test_python_ints_become_float64_and_may_require_grad():
    t = Tensor([1, 2, 3], requires_grad=True)
    assert t.dtype == np.float64


# ---------------------------------------------------------------------- in-place writes
def test_writing_into_a_saved_leaf_between_forward_and_backward_is_an_error():
    w = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    loss = (w * w).sum()
    with pytest.raises(ValueError, match="read-only"):
        w.data[...] = 0
    with pytest.raises(ValueError, match="read-only"):
        w.data += 1
    loss.backward()
    np.testing.assert_array_equal(w.grad, [2.0, 4.0, 6.0])     # d sum(w^2) = 2w, unchanged


def test_a_constant_input_saved_by_the_graph_is_protected_too():
    x = np.array([1.0, 2.0])          # the user's own array, wrapped without a copy
    w = Tensor(np.ones(2), requires_grad=True)
    loss = (Tensor(x) * w).sum()
    with pytest.raises(ValueError, match="read-only"):
        x[0] = 5
    loss.backward()
    np.testing.assert_array_equal(w.grad, [1.0, 2.0])
    x[0] = 5                           # released by backward


def test_the_lock_is_lifted_after_backward_so_an_optimizer_step_works():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    for _ in range(3):
        w.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        w.data -= 0.25 * w.grad        # optimizer-style in-place update
    np.testing.assert_allclose(w.data, np.array([1.0, 2.0]) * 0.5 ** 3)
    assert w.data.flags.writeable


def test_the_lock_is_lifted_when_the_graph_is_dropped_unused():
    w = Tensor(np.ones(3), requires_grad=True)
    loss = (w * w).sum()
    assert not w.data.flags.writeable
    del loss
    gc.collect()
    assert w.data.flags.writeable
    w.data[0] = 2.0
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [4.0, 2.0, 2.0])


def test_the_lock_stays_while_a_retained_graph_may_still_be_walked():
    w = Tensor(np.ones(2), requires_grad=True)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    with pytest.raises(ValueError, match="read-only"):
        w.data[0] = 3.0
    loss.backward()                    # the last walk releases it
    w.data[0] = 3.0
    np.testing.assert_array_equal(w.grad, [4.0, 4.0])


def test_no_grad_records_nothing_and_locks_nothing():
    w = Tensor(np.ones(2), requires_grad=True)
    with no_grad():
        y = w * w
    w.data[0] = 5.0
    assert y.node is None


# ---------------------------------------------------------------------- anomalies
def test_detect_anomaly_stops_at_a_forward_nan_naming_the_op_and_scope():
    x = Tensor(np.array([1.0, -1.0]), requires_grad=True)
    with detect_anomaly(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        h = x * 2                                   # fine
        with scope("t=4"):
            with pytest.raises(AnomalyError) as err:
                h.log().exp()                       # log(-2) = NaN: stop there, not at exp
    message = str(err.value)
    assert message.startswith("log in scope t=4: forward produced NaN or Inf"), message


def test_detect_anomaly_catches_an_overflow_to_inf_in_the_forward():
    with detect_anomaly(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(AnomalyError, match=r"^exp: forward produced NaN or Inf"):
            Tensor(np.array([1000.0]), requires_grad=True).exp()


def test_detect_anomaly_stops_at_a_backward_only_inf_naming_the_op_and_formula():
    # sqrt(x) at 0 is 0 (finite), its derivative 0.5 * 0**-0.5 is Inf: only backward fails.
    # The Inf would flow on into the mul of step 8; the error must name the pow of step 9.
    x = Tensor(np.array([4.0, 0.0]), requires_grad=True)
    with detect_anomaly(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with scope("t=8"):
            a = x * 1.0
        with scope("t=9"):
            y = (a ** 0.5 * 3.0).sum()
        assert np.isfinite(y.item())
        with pytest.raises(AnomalyError) as err:
            y.backward()
    message = str(err.value)
    assert message.startswith("pow in scope t=9: backward produced NaN or Inf"), message
    assert "x**(p - 1)" in message


def test_without_detect_anomaly_the_same_nan_passes_silently():
    # The control: anomaly mode is what raises, not the op itself.
    x = Tensor(np.array([4.0, 0.0]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        (x ** 0.5).sum().backward()
    assert np.isinf(x.grad[1])


def test_detect_anomaly_is_off_again_after_the_block():
    with detect_anomaly():
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isnan(Tensor(np.array([-1.0]), requires_grad=True).log().item())


# ---------------------------------------------------------------------- registration
def test_register_refuses_a_duplicate_name_and_mismatched_formulas():
    from autograd_mini import register
    with pytest.raises(ValueError, match="'add'.*exists; unregister it first"):
        register("add", np.add, vjp={"A": "g", "B": "g"})
    with pytest.raises(ValueError, match="vjp must map each input's name to its formula"):
        register("twice", np.add, ["g", "g"])
    with pytest.raises(ValueError, match="uses C, which is neither"):
        register("other", np.add, vjp={"A": "g * C", "B": "g"})
    with pytest.raises(ValueError, match="is not a Python expression"):
        register("broken", np.add, vjp={"A": "g *", "B": "g"})


def test_a_write_between_two_graphs_backward_calls_is_detected():
    # Each graph holds w's array; the first backward lets go of its hold only.
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    first = (w * w).sum()
    second = (w * w * 3).sum()
    first.backward()
    with pytest.raises(ValueError, match="read-only"):
        w.data[...] = 0               # `second` saved w's values
    w.grad = None
    second.backward()
    np.testing.assert_array_equal(w.grad, [6.0, 12.0])   # d sum(3 w^2) = 6 w, by hand
    w.data[...] = 0                   # the last holder is gone: writable again


def test_the_lock_outlives_the_first_graph_dropped_unused_while_a_second_holds_it():
    w = Tensor(np.ones(2), requires_grad=True)
    first = (w * w).sum()
    second = (w.T * 2).sum()          # a view of w's array, saved by nothing but shapes
    del first
    gc.collect()
    with pytest.raises(ValueError, match="read-only"):
        w.data[0] = 5.0
    del second
    gc.collect()
    w.data[0] = 5.0


def test_an_array_the_user_made_read_only_stays_read_only_after_backward():
    x = np.array([1.0, 2.0])
    x.flags.writeable = False         # the owner's choice, not a lock of ours
    w = Tensor(np.ones(2), requires_grad=True)
    (Tensor(x) * w).sum().backward()
    assert not x.flags.writeable
    np.testing.assert_array_equal(w.grad, [1.0, 2.0])


def test_two_tensors_wrapping_one_array_share_its_lock():
    # The lock belongs to the array, not to the Tensor: each batch often wraps it anew.
    x = np.array([1.0, 2.0])
    w = Tensor(np.ones(2), requires_grad=True)
    first = (Tensor(x) * w).sum()
    second = (Tensor(x) * w * 2).sum()
    first.backward()
    with pytest.raises(ValueError, match="read-only"):
        x[0] = 5.0                    # `second` saved x
    w.grad = None
    second.backward()
    np.testing.assert_array_equal(w.grad, [2.0, 4.0])    # 2 x, by hand
    x[0] = 5.0
