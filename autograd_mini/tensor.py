"""Tensor: a NumPy array, its gradient, and a link to the node that produced it."""
import weakref
from numbers import Number

import numpy as np
from numpy import ndarray
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from . import context
from . import rules as R
from .errors import AnomalyError, DTypeError, ShapeError, where
from .tape import SHAPES, Node, ParamView, hold, new_node, run_backward


class Tensor:
    """An n-dimensional array that records the ops applied to it.

    ``Tensor(data, requires_grad=False, name=None, dtype=None)``: ``data`` is anything
    ``numpy.asarray`` takes. Python numbers and lists become float64 unless ``dtype``
    says otherwise; a NumPy array keeps its dtype (float32 stays float32).
    """

    __slots__ = ("data", "grad", "requires_grad", "name", "_node", "_lock", "_T", "__weakref__")
    __array_ufunc__ = None      # make `ndarray * Tensor` call Tensor.__rmul__

    def __init__(self, data, requires_grad=False, name=None, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        if dtype is not None:
            data = np.asarray(data, dtype=dtype)
        elif isinstance(data, np.generic):
            data = np.asarray(data)         # a NumPy scalar keeps its dtype, like an array
        elif not isinstance(data, np.ndarray):
            data = np.asarray(data)
            if data.dtype.kind in "biu":    # Python ints, bools and lists of them
                data = data.astype(np.float64)
        if requires_grad and data.dtype.kind not in "fc":
            raise DTypeError(
                f"Tensor{' ' + repr(name) if name else ''} of dtype {data.dtype} cannot have "
                "requires_grad=True: only floating-point tensors carry gradients. Pass "
                "dtype=np.float64 (or float32), or keep it as a constant (indices, labels).")
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self._node = None
        self._lock = False
        self._T = None          # (the data array, its W.T tensor): see _param_transpose

    # ------------------------------------------------------------------ properties
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    size = property(lambda self: self.data.size)

    @property
    def T(self):
        # `h @ W.T` runs at every time step of an RNN: a parameter's transpose is recorded
        # once (ParamView) and handed out again; anything else goes to the rule.
        if (self._node is None and self.requires_grad and context.grad_enabled
                and not context.anomaly_mode):
            cached = self._T        # (checked here, not in a call: it runs 3 times a step)
            if cached is not None and cached[0] is self.data:
                t = cached[1]
                if t.name is None and t._node.retained is None:
                    return t
            return _param_transpose(self)
        return _apply1(R.TRANSPOSE, self, _REVERSE_AXES)

    @property
    def is_leaf(self):
        return self._node is None

    @property
    def node(self):
        """The tape node that produced this tensor (None for a leaf)."""
        return self._node

    def numpy(self):
        return self.data.copy()

    def item(self):
        return self.data.item()

    def __len__(self):
        return len(self.data)

    def __iter__(self):
        return (self[i] for i in range(len(self.data)))

    def __repr__(self):
        parts = [f"shape={self.data.shape}", f"dtype={self.data.dtype}"]
        if self.name:
            parts.insert(0, repr(self.name))
        if self._node is not None:
            parts.append(f"op={self._node.rule.name}")
        elif self.requires_grad:
            parts.append("requires_grad=True")
        return f"Tensor({', '.join(parts)})"

    # ------------------------------------------------------------------ operators
    # (_apply2 wraps a number or an array operand as a constant tensor)
    def __add__(self, other): return _apply2(R.ADD, self, other)
    def __radd__(self, other): return _apply2(R.ADD, other, self)
    def __sub__(self, other): return _apply2(R.SUB, self, other)
    def __rsub__(self, other): return _apply2(R.SUB, other, self)
    def __mul__(self, other): return _apply2(R.MUL, self, other)
    def __rmul__(self, other): return _apply2(R.MUL, other, self)
    def __truediv__(self, other): return _apply2(R.DIV, self, other)
    def __rtruediv__(self, other): return _apply2(R.DIV, other, self)
    def __matmul__(self, other): return _apply2(R.MATMUL, self, other)
    def __rmatmul__(self, other): return _apply2(R.MATMUL, other, self)
    def __neg__(self): return _apply1(R.NEG, self)

    def __pow__(self, p):
        if isinstance(p, Tensor) or not isinstance(p, Number):
            raise TypeError(f"pow: the exponent must be a Python number, got {type(p).__name__}; "
                            "for a tensor exponent write (b * x.log()).exp()")
        return _apply1(R.POW, self, (p,))

    def __rpow__(self, base):
        raise TypeError(f"pow: a tensor exponent is not supported ({type(base).__name__} ** "
                        "Tensor); for b ** x write (x * math.log(b)).exp()")

    def __getitem__(self, index):
        data = self.data
        if (index.__class__ is int and not self.requires_grad and data.ndim > 1
                and -len(data) <= index < len(data) and not context.anomaly_mode):
            return _result(data[index], None)   # x[t] of an input sequence: a view, no node
        return _apply1(R.GETITEM, self, (_index(index),))

    # ------------------------------------------------------------------ methods
    def tanh(self): return _apply1(R.TANH, self)
    def sigmoid(self): return _apply1(R.SIGMOID, self)
    def relu(self): return _apply1(R.RELU, self)
    def exp(self): return _apply1(R.EXP, self)
    def log(self): return _apply1(R.LOG, self)

    def sum(self, axis=None, keepdims=False):
        return _apply1(R.SUM, self, (_axes(axis, self, "sum"), keepdims))

    def mean(self, axis=None, keepdims=False):
        return _apply1(R.MEAN, self, (_axes(axis, self, "mean"), keepdims))

    def softmax(self, axis=-1):
        return _apply1(R.SOFTMAX, self, (_axis(axis, self, "softmax"),))

    def log_softmax(self, axis=-1):
        return _apply1(R.LOG_SOFTMAX, self, (_axis(axis, self, "log_softmax"),))

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _apply1(R.RESHAPE, self, (shape,))

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _apply1(R.TRANSPOSE, self, (axes or None,))

    # ------------------------------------------------------------------ autograd
    def backward(self, grad=None, retain_graph=False, keep_grads=False):
        """Accumulate d(self)/d(leaf), times ``grad``, into every leaf's ``.grad``.

        ``grad`` defaults to 1 for a one-element tensor; any other tensor needs it.
        ``keep_grads=True`` also keeps each op's total output gradient on its tape node
        (``node.grad``), so ``visualize.draw`` can show every gradient afterwards.
        """
        if not self.requires_grad:
            raise RuntimeError(
                f"backward() on {self!r}, which does not require grad: no input of the ops "
                "that made it has requires_grad=True (or it was made inside no_grad()).")
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward() on a tensor of shape {self.data.shape} needs grad=: pass the "
                    "upstream gradient (an array of that shape), reduce to a scalar first "
                    "(e.g. .sum()), or use autograd_mini.jacobian for the full Jacobian.")
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad,
                              dtype=self.data.dtype)
            if grad.shape != self.data.shape:
                raise ShapeError(f"backward(): grad has shape {grad.shape}, but the tensor has "
                                 f"shape {self.data.shape}; they must be equal.")
        if self._node is None:
            _accumulate(self, grad)
            return
        for leaf, g in run_backward(self._node, grad, retain_graph, keep_grads).items():
            _accumulate(leaf, g)

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor too (e.g. the gradient on h(t))."""
        if self._node is not None:
            self._node.retained = weakref.ref(self)
        return self

    def named(self, name):
        """Give this tensor a name (shown by the renderer, e.g. "h(3)"); returns self."""
        self.name = name
        if self._node is not None:
            self._node.name = name
        return self

    def zero_grad(self):
        self.grad = None

    def detach(self):
        """The same data, cut from the graph (truncated BPTT)."""
        return _result(self.data, None)


_REVERSE_AXES = (None,)      # transpose's params for .T: reverse all axes


def _result(data, node, _new=object.__new__):
    """A tensor made by an op: no conversion or checks (a plain function: it runs per op)."""
    t = _new(Tensor)
    t.data = data
    t.grad = None
    t.requires_grad = node is not None
    t.name = None
    t._node = node
    t._lock = True          # an op's result is not user data: nothing to lock (a user's
                            # tensor keeps False: every node using it holds its array)
    t._T = None
    return t


def _param_transpose(leaf):
    """A new ``leaf.T`` for a parameter: one tensor, made by the parameter's ParamView node
    and kept on the parameter, which ``Tensor.T`` hands out at every use (no new object
    per step). A new one is made when the data array was replaced (an optimizer step that
    assigns ``.data``), or when the last one was given a name or retain_grad(): those
    belong to one use."""
    data = leaf.data
    view = data.transpose()
    shape = data.shape
    node = new_node(R.TRANSPOSE, leaf, None, _shared(shape, shape), None, None, None,
                    _REVERSE_AXES, None, ParamView)
    node.scope = ()         # one node for every step: it belongs to no step's scope
    t = _view_of(view, node, data)
    leaf._T = (data, t)
    return t


def _view_of(view, node, array):
    """The tensor ``W.T``: made by ``node``; an op that reads it holds ``array``, W's own
    array (locking the view would leave writes through W.data open)."""
    t = _result(view, node)
    t._lock = array
    return t


def _accumulate(leaf, g):
    """Add ``g`` into ``leaf.grad``. The first write copies: ``g`` may be shared with
    another leaf (``a + b`` hands both the same array) or be a read-only broadcast view."""
    if g.dtype != leaf.data.dtype:
        g = g.astype(leaf.data.dtype)
    elif leaf.grad is None:
        g = g.copy()
    g = g if leaf.grad is None else leaf.grad + g
    # 0-d ops give NumPy scalars (np.float64), but .grad is always an ndarray.
    leaf.grad = g if g.__class__ is np.ndarray else np.asarray(g)


def _const(x, like):
    """Wrap a non-Tensor operand. A Python number takes the other operand's dtype, so
    ``2 * t`` with float32 ``t`` stays float32 (as NumPy does with Python scalars)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, Number) and like.data.dtype.kind == "f":
        return _result(np.asarray(x, dtype=like.data.dtype), None)
    return _result(np.asarray(x), None)


def _index(index):
    """Tensor or list indices become integer arrays (an embedding lookup)."""
    if isinstance(index, Tensor):
        return _int_index(index.data)
    if isinstance(index, list):
        return _int_index(np.asarray(index))
    if isinstance(index, tuple):
        return tuple(_index(i) for i in index)
    return index


def _int_index(a):
    if a.dtype.kind == "f" and np.all(a == np.round(a)):
        return a.astype(np.intp)
    return a


def _axes(axis, t, op):
    if axis is None:
        return None
    try:
        return normalize_axis_tuple(axis, t.data.ndim)
    except (ValueError, TypeError) as e:    # out of range (AxisError), repeated, not ints
        raise _axis_error(op, axis, t, "None, an int or a tuple of distinct ints", e) from None


def _axis(axis, t, op):
    try:
        return normalize_axis_index(axis, t.data.ndim)
    except (ValueError, TypeError) as e:    # out of range (AxisError), or not an int
        raise _axis_error(op, axis, t, "one int", e) from None


def _axis_error(op, axis, t, kind, e):
    n = t.data.ndim
    valid = f"expected {kind} in [{-n}, {n - 1}]" if n else "a 0-d tensor has no axes"
    return ShapeError(f"{op}{where(context.current_scope)}: axis {axis} does not fit a tensor "
                      f"of shape {t.data.shape}: {valid} (NumPy said: {e})")


def apply(rule, *inputs, params=()):
    """Run ``rule`` forward on ``inputs`` (Tensors) and record it on the tape.

    A node is recorded only when grad mode is on and some input requires grad; the
    arrays the rule's VJPs need are kept, nothing else.
    """
    if rule.variadic or len(inputs) not in (1, 2):
        return _apply_many(rule, inputs, params)
    if len(inputs) == 2:
        return _apply2(rule, inputs[0], inputs[1], params)
    return _apply1(rule, inputs[0], params)


# apply() runs once per op, so its fixed cost decides the speed of small-tensor loops (an
# RNN step is ~10 ops). Nearly every op has one or two inputs: those take the
# straight-line paths below (the operators call them directly); stack and concat take
# the general one.

def _apply1(rule, t, params=()):
    x = t.data
    try:
        out = rule.forward(x, *params)
    except (ValueError, IndexError) as e:
        raise _input_error(rule, (x,), params, e) from None
    aux = None
    if rule.saves_aux:
        out, aux = out
    if out.__class__ is not ndarray:
        out = np.asarray(out)       # NumPy returns scalars from 0-d ops; keep arrays
    if context.anomaly_mode:
        _check_forward(rule, out, (x,))
    if not (t.requires_grad and context.grad_enabled):
        return _result(out, None)
    lock = t._lock
    locks = None if lock is True else hold(x if lock is False else lock)
    shape = x.shape
    node = new_node(rule, t._node or t, None, _shared(shape, shape), None,
                    (x,) if rule.saves_inputs else None,
                    aux if aux is not None else (out if rule.saves_out else None),
                    params, locks)
    return _result(out, node)


def _apply2(rule, a, b, params=()):
    if a.__class__ is not Tensor:
        a = _const(a, b)
    if b.__class__ is not Tensor:
        b = _const(b, a)
    x, y = a.data, b.data
    try:
        out = rule.forward(x, y, *params)
    except (ValueError, IndexError) as e:
        raise _input_error(rule, (x, y), params, e) from None
    aux = None
    if rule.saves_aux:
        out, aux = out
    if out.__class__ is not ndarray:
        out = np.asarray(out)
    if context.anomaly_mode:
        _check_forward(rule, out, (x, y))
    if not context.grad_enabled:
        return _result(out, None)
    if a.requires_grad:
        first = a._node or a
        second = (b._node or b) if b.requires_grad else None
    elif b.requires_grad:
        first, second = None, b._node or b
    else:
        return _result(out, None)
    locks = None
    lock = a._lock
    if lock is not True:            # a user's array: read-only while this node needs it
        locks = hold(x if lock is False else lock)      # (an array: W's, for W.T)
    lock = b._lock
    if lock is not True:
        held = hold(y if lock is False else lock)
        if held is not None:
            locks = held if locks is None else (locks, held)
    shape1, shape2 = x.shape, y.shape
    node = new_node(rule, first, second, _shared(shape1, shape1), _shared(shape2, shape2),
                    (x, y) if rule.saves_inputs else None,
                    aux if aux is not None else (out if rule.saves_out else None),
                    params, locks)
    return _result(out, node)


def _apply_many(rule, inputs, params):
    arrays = tuple([t.data for t in inputs])
    try:
        out = rule.forward(arrays, *params) if rule.variadic else rule.forward(*arrays, *params)
    except (ValueError, IndexError) as e:
        raise _input_error(rule, arrays, params, e) from None
    out, aux = out if rule.saves_aux else (out, None)
    out = np.asarray(out)           # (the class test of the paths above is for speed)
    if context.anomaly_mode:
        _check_forward(rule, out, arrays)
    parents = tuple([(t._node or t) if t.requires_grad else None for t in inputs])
    if not context.grad_enabled or parents.count(None) == len(parents):
        return _result(out, None)
    locks = None
    for t in inputs:
        lock = t._lock
        if lock is not True:
            held = hold(t.data if lock is False else lock)
            if held is not None:
                locks = held if locks is None else (*_tuple(locks), held)
    node = Node.of_many(rule, parents, [x.shape for x in arrays],
                        arrays if rule.saves_inputs else None,
                        aux if aux is not None else (out if rule.saves_out else None),
                        params, locks)
    return _result(out, node)


def _check_forward(rule, out, arrays):
    if not np.all(np.isfinite(out)):
        raise AnomalyError(f"{rule.name}{where(context.current_scope)}: forward produced NaN "
                           f"or Inf from inputs of shapes {[a.shape for a in arrays]}.")


def _tuple(locks):
    """A node's holds as a tuple: one is kept bare (see Node.locks), several in a tuple."""
    return locks if locks.__class__ is tuple else (locks,)


# One shared tuple per distinct shape. ``ndarray.shape`` makes a new tuple at each call,
# and a node keeps its inputs' shapes for the graph's life: a new tuple per input per op
# is one more object for the collector to scan (about 20 per step of an RNN).
# ``_shared(s, s)`` (a dict's setdefault: no Python call per op) returns the kept tuple;
# backward empties the dict when a program of ever-new shapes has grown it past 10,000.
_shared = SHAPES.setdefault


def _input_error(rule, arrays, params, e):
    shapes = " and ".join(str(a.shape) for a in arrays)
    expects = f" Expected {rule.expects}." if rule.expects else ""
    return ShapeError(f"{rule.name}{where(context.current_scope)}: inputs of shape {shapes} "
                      f"do not fit.{expects} (NumPy said: {e})")
