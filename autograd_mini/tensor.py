"""Tensor: a NumPy array, its gradient, and a link to the node that produced it; and
``apply``, the one function that runs a rule forward and records it on the tape."""
from __future__ import annotations

import weakref
from collections import namedtuple
from types import MappingProxyType
from numbers import Number
from typing import TYPE_CHECKING, Any, Iterator, NoReturn, Sequence

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from . import rules as R
from .context import scope_of_none, state
from .errors import AnomalyError, DTypeError, ShapeError, where
from .locks import hold
from .tape import Node, backward
from .tracing import current as _tracing, reading

if TYPE_CHECKING:
    from .hints import ArrayLike, Axes, DTypeLike, Index, Operand
    from .registry import Rule


class Tensor:
    """An n-dimensional array that records the ops applied to it.

    ``Tensor(data, requires_grad=False, name=None, dtype=None)``: ``data`` is anything
    ``numpy.asarray`` takes. Python numbers and lists become float64 unless ``dtype``
    says otherwise; a NumPy array keeps its dtype (float32 stays float32).
    """

    __slots__ = ("_data", "grad", "requires_grad", "name", "node", "_fresh", "_T",
                 "__weakref__")
    __array_ufunc__ = None      # make `ndarray * Tensor` call Tensor.__rmul__
    grad: np.ndarray | None     # (for type checkers: what the slots hold)
    node: Node | None

    def __init__(self, data: ArrayLike | Tensor, requires_grad: bool = False,
                 name: str | None = None, dtype: DTypeLike = None) -> None:
        self._data = _as_array(data, dtype, name)
        if requires_grad and self._data.dtype.kind != "f":
            raise DTypeError(
                f"Tensor{' ' + repr(name) if name else ''} of dtype {self._data.dtype} cannot "
                "have requires_grad=True: only real floating-point tensors carry gradients. "
                "Pass dtype=np.float64 (or float32), or keep it as a constant (indices, labels).")
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self.node = None        # the tape node that produced this tensor (None: a leaf)
        self._fresh = False     # True for an op's result: its array is nobody else's
        self._T = None          # (data array, its transpose): see parameter_transpose

    @property
    def data(self) -> np.ndarray:
        return self._data

    @data.setter
    def data(self, value: ArrayLike | Tensor) -> None:
        """Replace the values (an optimizer step). A tensor that carries gradients keeps
        its dtype (the new values are converted to it, as ``W.data[...] = value`` would);
        a new shape is refused while ``.grad`` holds a gradient of the old one."""
        new = _as_array(value.data if isinstance(value, Tensor) else value,
                        self._data.dtype if self.requires_grad else None, self.name)
        if self.grad is not None and new.shape != self._data.shape:
            raise ShapeError(f"Tensor{' ' + repr(self.name) if self.name else ''}.data = an "
                             f"array of shape {new.shape}, but .grad holds a gradient of shape "
                             f"{self._data.shape}; clear it first (zero_grad()) or keep the shape")
        self._data = new

    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    dtype = property(lambda self: self._data.dtype)
    size = property(lambda self: self._data.size)
    is_leaf = property(lambda self: self.node is None)
    @property
    def mT(self) -> Tensor:
        """The last two axes swapped, as ``ndarray.mT``. A matrix's is its ``.T``: for a
        parameter the shared transpose, which the product's formulas read at every step
        when differentiated again (hvp at the small size: 5% less time)."""
        if self.ndim == 2:
            return self.T
        return self.transpose(*range(self.ndim - 2), -1, -2)

    @property
    def T(self) -> Tensor:
        if (self.node is None and self.requires_grad and state.grad_enabled
                and _tracing.tracer is None and state.tracer is None):  # (tracers see every op)
            return parameter_transpose(self)
        return self.transpose()

    def numpy(self) -> np.ndarray:
        reading(".numpy()")
        return self._data.copy()

    def item(self) -> Any:
        reading(".item()")
        return self._data.item()

    def __float__(self) -> float:
        reading("float()")
        return float(self._one_element("float"))

    def __int__(self) -> int:
        reading("int()")
        return int(self._one_element("int"))

    def __bool__(self) -> bool:
        reading("bool()")
        return len(self) > 0        # as before: Python's default for a sized object

    def _one_element(self, what):
        if self._data.size != 1:
            raise TypeError(f"{what}() of a tensor of shape {self._data.shape}: only a "
                            "one-element tensor converts to a Python number")
        return self._data.item()

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[Tensor]:
        return (self[i] for i in range(len(self._data)))

    def __repr__(self) -> str:
        values = np.array2string(self._data, precision=4, threshold=20, edgeitems=2,
                                 separator=", ", prefix="Tensor(")
        extra = [f"name={self.name!r}"] if self.name else []
        if self.node is not None:
            extra.append(f"op={self.node.rule.name}")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        if self._data.dtype != np.float64:
            extra.append(f"dtype={self._data.dtype}")
        return f"Tensor({', '.join([values] + extra)})"

    # ------------------------------------------------------------------ operators
    def __add__(self, other: Operand) -> Tensor: return apply(R.ADD, self, other)
    def __radd__(self, other: Operand) -> Tensor: return apply(R.ADD, other, self)
    def __sub__(self, other: Operand) -> Tensor: return apply(R.SUB, self, other)
    def __rsub__(self, other: Operand) -> Tensor: return apply(R.SUB, other, self)
    def __mul__(self, other: Operand) -> Tensor: return apply(R.MUL, self, other)
    def __rmul__(self, other: Operand) -> Tensor: return apply(R.MUL, other, self)
    def __truediv__(self, other: Operand) -> Tensor: return apply(R.DIV, self, other)
    def __rtruediv__(self, other: Operand) -> Tensor: return apply(R.DIV, other, self)
    def __matmul__(self, other: Operand) -> Tensor: return matmul(self, other)
    def __rmatmul__(self, other: Operand) -> Tensor: return matmul(other, self)
    def __neg__(self) -> Tensor: return apply(R.NEG, self)

    # Comparisons give constant (boolean) tensors: masks, never differentiated.
    def __gt__(self, other: Operand) -> Tensor: return _compare(np.greater, self, other)
    def __ge__(self, other: Operand) -> Tensor: return _compare(np.greater_equal, self, other)
    def __lt__(self, other: Operand) -> Tensor: return _compare(np.less, self, other)
    def __le__(self, other: Operand) -> Tensor: return _compare(np.less_equal, self, other)

    def __pow__(self, p: float) -> Tensor:
        if isinstance(p, Tensor) or not isinstance(p, Number):
            raise TypeError(f"pow: the exponent must be a Python number, got {type(p).__name__}; "
                            "for a tensor exponent write (b * x.log()).exp()")
        return apply(R.POW, self, params=(p,))

    def __rpow__(self, base: object) -> NoReturn:
        raise TypeError(f"pow: a tensor exponent is not supported ({type(base).__name__} ** "
                        "Tensor); for b ** x write (x * math.log(b)).exp()")

    def __getitem__(self, index: Index) -> Tensor:
        return apply(R.GETITEM, self, params=(_index(index),))

    # ------------------------------------------------------------------ methods
    def tanh(self) -> Tensor: return apply(R.TANH, self)
    def sigmoid(self) -> Tensor: return apply(R.SIGMOID, self)
    def relu(self) -> Tensor: return apply(R.RELU, self)
    def exp(self) -> Tensor: return apply(R.EXP, self)
    def log(self) -> Tensor: return apply(R.LOG, self)

    def sum(self, axis: Axes = None, keepdims: bool = False) -> Tensor:
        return apply(R.SUM, self, params=(_axes(axis, self, "sum"), keepdims))

    def mean(self, axis: Axes = None, keepdims: bool = False) -> Tensor:
        return apply(R.MEAN, self, params=(_axes(axis, self, "mean"), keepdims))

    def softmax(self, axis: int = -1) -> Tensor:
        return apply(R.SOFTMAX, self, params=(_axis(axis, self, "softmax"),))

    def log_softmax(self, axis: int = -1) -> Tensor:
        return apply(R.LOG_SOFTMAX, self, params=(_axis(axis, self, "log_softmax"),))

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return apply(R.RESHAPE, self, params=(shape,))

    def transpose(self, *axes: int | Sequence[int] | None) -> Tensor:
        """Reverse the axes (``t.T``), or permute them as ``axes`` says."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)) or axes == (None,):
            axes = axes[0]
        if axes:
            axes = _axes(axes, self, "transpose")
            if len(axes) != self.ndim:
                raise ShapeError(f"transpose{where(state.scope)}: axes {axes} are not a "
                                 f"permutation of the {self.ndim} axes of shape {self.shape}")
        return apply(R.TRANSPOSE, self, params=(tuple(axes) if axes else None,))

    # ------------------------------------------------------------------ autograd
    def backward(self, grad: ArrayLike | Tensor | None = None, retain_graph: bool = False,
                 keep_grads: bool = False) -> None:
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
            if self._data.size != 1:
                raise ValueError(
                    f"backward() on a tensor of shape {self.shape} needs grad=: pass the "
                    "upstream gradient (an array of that shape), reduce to a scalar first "
                    "(e.g. .sum()), or use autograd_mini.jacobian for the full Jacobian.")
            grad = np.ones_like(self._data)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad,
                              dtype=self._data.dtype)
            if grad.shape != self.shape:
                raise ShapeError(f"backward(): grad has shape {grad.shape}, but the tensor has "
                                 f"shape {self.shape}; they must be equal.")
        found = {self: grad} if self.node is None else backward(
            self.node, grad, retain_graph, keep_grads)
        for leaf, g in found.items():
            leaf._accumulate(g)

    def _accumulate(self, g):
        """Add ``g`` into ``.grad``, as a new array (``g`` may be shared with another
        leaf, or be a read-only broadcast view)."""
        g = np.asarray(g, dtype=self._data.dtype)
        self.grad = g.copy() if self.grad is None else self.grad + g

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` on this non-leaf tensor too (e.g. the gradient on h(t))."""
        if self.node is not None:
            self.node.retained = weakref.ref(self)
        return self

    def named(self, name: str) -> Tensor:
        """Give this tensor a name (shown by the renderer, e.g. "h(3)"); returns self."""
        self.name = name
        if self.node is not None:
            self.node.name = name
        return self

    def zero_grad(self) -> None:
        self.grad = None

    def detach(self) -> Tensor:
        """The same data, cut from the graph (truncated BPTT)."""
        return Tensor(self._data)


# What a node keeps of an input whose formulas read only ``x.shape``. (A tuple: Python's
# collector stops tracking it, and a long unrolled graph holds thousands.)
ShapeOf = namedtuple("ShapeOf", "shape")


def parameter_transpose(W):
    """``W.T`` of a parameter, recorded once and shared by every use in every graph.

    An RNN reads ``h @ W.T`` at each of T steps: without this, T transpose nodes, each
    visited by backward and each sending its own transposed gradient into W. The shared
    node saves nothing, so backward never releases it. A new one is made when W's data
    array is replaced (an optimizer step), or once the last one was named or asked to
    retain its gradient (those belong to one use). Measured (benchmarks/bptt.py, paired
    ratios, 12-05): tiny 11% less time, small 15%, long 21%."""
    kept = W._T
    if kept is not None and kept[0] is W._data:
        t = kept[1]
        if t.name is None and t.node.retained is None:
            return t
    with scope_of_none():
        t = W.transpose()
    W._T = (W._data, t)
    return t


def apply(rule: Rule, *inputs: Operand, params: Sequence[Any] = ()) -> Tensor:
    """Run ``rule`` forward on ``inputs`` (Tensors, arrays or numbers) and record it.

    A node is recorded when grad mode is on and some input requires grad; it keeps what
    the rule's formulas name, nothing else."""
    parents = []                # per input: the Node that made it, the leaf, or None
    for t in inputs:
        if t.__class__ is not Tensor:   # numbers and arrays become constant tensors
            return apply(rule, *_operands(inputs), params=params)
        parents.append((t.node or t) if t.requires_grad else None)
    arrays = [t._data for t in inputs]
    try:
        out = rule.forward(arrays, *params) if rule.variadic else rule.forward(*arrays, *params)
    except (ValueError, IndexError, TypeError) as e:
        raise _input_error(rule, arrays, e) from None
    aux = None
    if rule.aux:
        out, aux = out
    if out.__class__ is not np.ndarray:
        out = np.asarray(out)       # NumPy returns scalars from 0-d ops; keep arrays
    if state.anomaly and not np.all(np.isfinite(out)):
        raise AnomalyError(f"{rule.name}{where(state.scope)}: forward produced NaN or Inf "
                           f"from inputs of shapes {[a.shape for a in arrays]}.")
    if not state.grad_enabled or parents.count(None) == len(parents):
        result = _result(out, None)
    else:
        result = _result(out, _record(rule, inputs, arrays, params, parents, out, aux))
    if _tracing.tracer is not None or state.tracer is not None:
        _seen(rule, inputs, params, aux, result)
    return result


def _record(rule, tensors, arrays, params, parents, out, aux):
    """The Node of one op: what its rule's formulas name, and the holds that keep saved
    user arrays read-only (locks.py)."""
    named = dict(zip(rule.params, params)) if params else NOTHING
    env = dict(named) if params else {}
    holds = []
    for k, name in rule.kept_shapes:
        env[name] = ShapeOf(arrays[k].shape)
    for k, name in rule.kept_inputs:
        x = env[name] = arrays[k]
        held = hold(x, owned=tensors[k]._fresh)
        if held is not None:
            holds.append(held)
    if rule.keeps_out:
        env["out"] = out
    if rule.aux:
        env[rule.aux] = aux
    return Node(rule, tuple(parents), env or NOTHING, named,
                tuple([x.shape for x in arrays]), tuple(holds) if holds else None)


def _seen(rule, tensors, params, aux, result):
    """Show the op to the tracers that watch ops, when one runs: compile's (tracing.py)
    and forward mode's (forward.py)."""
    if _tracing.tracer is not None:
        _tracing.tracer.op(rule, tensors, params, aux, result)
    if state.tracer is not None:
        state.tracer.record(rule, tensors, params, aux, result)


NOTHING = MappingProxyType({})      # what a node keeps that saves nothing: one shared, frozen


def _result(data, node):
    """A tensor made by an op."""
    t = Tensor.__new__(Tensor)
    t._data, t.grad, t.name, t.node = data, None, None, node
    t.requires_grad = node is not None
    t._fresh = True         # (no _T: only a leaf parameter's transpose is kept)
    return t


def matmul(a, b):
    """``a @ b`` in NumPy's four forms, each its own rule (its own formulas)."""
    if a.__class__ is not Tensor or b.__class__ is not Tensor:
        a, b = _operands((a, b))
    ranks = a._data.ndim, b._data.ndim
    if 0 in ranks:
        raise ShapeError(f"matmul{where(state.scope)}: inputs of shape {a.shape} and {b.shape}: "
                         "matmul needs at least one axis on each side (use * to scale)")
    return apply(_PRODUCTS[ranks[0] == 1, ranks[1] == 1], a, b)


# (is A a vector, is B a vector) -> the rule of that form of A @ B
_PRODUCTS = {(False, False): R.MATMUL, (False, True): R.MATVEC, (True, False): R.VECMAT,
             (True, True): R.DOT}


def _compare(op, a, b):
    reading("a comparison")     # a mask of traced values would be frozen into the program
    a, b = _operands((a, b))
    return _result(op(a._data, b._data), None)


def _as_array(data, dtype, name):
    """``data`` as an ndarray: Python numbers and lists become float64 (unless ``dtype``
    says otherwise), a NumPy array or scalar keeps its dtype."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        data = np.asarray(data, dtype=dtype)
    elif isinstance(data, (np.ndarray, np.generic)):
        data = np.asarray(data)
    else:
        data = np.asarray(data)
        if data.dtype.kind in "biu":    # Python ints, bools and lists of them
            data = data.astype(np.float64)
    if data.dtype.kind not in "biufc":
        raise DTypeError(f"Tensor{' ' + repr(name) if name else ''}: data of dtype "
                         f"{data.dtype} is not numeric; pass numbers (floats for values, "
                         "integers for indices and labels)")
    return data


def _operands(inputs):
    """Tensors for ``inputs``: numbers take the dtype of the first floating-point tensor
    (``2 * t`` stays float32 with a float32 ``t``, as NumPy does with Python scalars)."""
    for t in inputs:
        if t.__class__ is not Tensor:
            break
    else:
        return inputs
    like = next((t._data.dtype for t in inputs
                 if isinstance(t, Tensor) and t._data.dtype.kind == "f"), None)
    return [t if isinstance(t, Tensor) else
            _result(np.asarray(t, dtype=like), None) if isinstance(t, Number) else Tensor(t)
            for t in inputs]


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
        return normalize_axis_tuple(axis, t.ndim)
    except (ValueError, TypeError) as e:    # out of range (AxisError), repeated, not ints
        raise _axis_error(op, axis, t, "None, an int or a tuple of distinct ints", e) from None


def _axis(axis, t, op):
    try:
        return normalize_axis_index(axis, t.ndim)
    except (ValueError, TypeError) as e:    # out of range (AxisError), or not an int
        raise _axis_error(op, axis, t, "one int", e) from None


def _axis_error(op, axis, t, kind, e):
    n = t.ndim
    valid = f"expected {kind} in [{-n}, {n - 1}]" if n else "a 0-d tensor has no axes"
    return ShapeError(f"{op}{where(state.scope)}: axis {axis} does not fit a tensor of shape "
                      f"{t.shape}: {valid} (NumPy said: {e})")


def _input_error(rule, arrays, e):
    shapes = " and ".join(str(a.shape) for a in arrays)
    if isinstance(e, TypeError):
        dtypes = " and ".join(str(a.dtype) for a in arrays)
        return DTypeError(f"{rule.name}{where(state.scope)}: inputs of dtype {dtypes} do not "
                          f"fit (NumPy said: {e})")
    expects = f" Expected {rule.expects}." if rule.expects else ""
    return ShapeError(f"{rule.name}{where(state.scope)}: inputs of shape {shapes} do not "
                      f"fit.{expects} (NumPy said: {e})")
