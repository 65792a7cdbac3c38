"""Trace: run ``f`` once, eagerly, and write down every op it applied as a plain program.

The program is data: a list of values (arguments, parameters, constants, op results)
and a list of ops, each naming its rule, the values it reads, its parameters and the
value(s) it makes. Nothing in it refers to Tensors or tape nodes any more, except the
parameters' Tensor objects, whose ``.data`` the runner reads afresh at every call.

Where a value comes from decides what the program reads at run time:

- a Tensor or array *argument* (its data is new at every call);
- a *view* of an argument made with NumPy indexing inside ``f`` (``x[t]``, ``y[:, t]``):
  recognised by memory, and written into the program as the same indexing;
- a leaf with ``requires_grad`` that ``f`` reaches on its own: a *param*;
- a constant Tensor still alive after ``f`` returned (a model's frozen weights): *state*,
  read afresh like a param; one that died with ``f``'s locals: a *const*, kept as it is.

An array computed from an argument by NumPy code the trace cannot see is an error, and so
is reading a traced value into Python: both would freeze one call's data into the program.
"""
import os
import sys
import weakref

import numpy as np

from .. import tracing
from ..context import state
from ..errors import AutogradError
from ..tensor import Tensor


class TracingError(AutogradError, RuntimeError):
    """``f`` did something a trace cannot replay faithfully; the message says what and where."""


class Ref:
    """An op parameter that is a value of the program (labels, an index array)."""

    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v

    def __repr__(self):
        return f"Ref({self.v})"


class Val:
    """One value: its shape, dtype, and where it comes from.

    kind: "arg" (src: the argument's position among the call's arrays and Tensors),
    "param" and "state" (src: the Tensor), "const" (src: the array), "op" (src: the op's
    position). ``grad``: whether a gradient flows into it."""

    __slots__ = ("shape", "dtype", "kind", "src", "name", "grad")

    def __init__(self, shape, dtype, kind, src, name=None):
        self.shape, self.dtype, self.kind, self.src, self.name = shape, dtype, kind, src, name
        self.grad = False

    def __repr__(self):
        return f"Val({self.kind}, {self.shape}, {self.name})"


class Op:
    """One op: its rule, the values it reads (``ins``), whether a gradient flows into each
    (``flows``), its parameters in the rule's order, and the values it makes (``outs``:
    the result, then the rule's aux value if it has one)."""

    __slots__ = ("rule", "ins", "flows", "params", "outs", "scope", "name")

    def __init__(self, rule, ins, flows, params, outs, scope):
        self.rule, self.ins, self.flows, self.params = rule, ins, flows, params
        self.outs, self.scope, self.name = outs, scope, None

    def __repr__(self):
        return f"Op({self.rule.name}, {self.ins} -> {self.outs})"


class _View:
    """The pseudo-rule of an argument view ``x[index]`` (made by NumPy inside ``f``)."""

    name = "view"
    inputs = ("x",)
    params = ("index",)
    aux = None
    variadic = False


VIEW = _View()


class Program:
    """What a trace found: values, ops (only those the outputs need), the argument, param
    and state values, the outputs (the loss first) and the leaves gradients flow into."""

    def __init__(self, vals, ops, args, params, states, outputs, grad_leaves, structure):
        self.vals, self.ops, self.args, self.params = vals, ops, args, params
        self.states, self.outputs, self.grad_leaves = states, outputs, grad_leaves
        self.structure = structure      # how the outputs nest: "loss" or a tuple shape


class Traced(np.ndarray):
    """An array argument while ``f`` is traced: the same memory, but reading its values
    into Python (``int(y[t])``, ``if x.any():``) is an error naming the line."""

    def __getitem__(self, index):
        r = super().__getitem__(index)
        if not isinstance(r, np.ndarray):   # a scalar: keep a 0-d view, so int() is seen
            r = super().__getitem__((index if isinstance(index, tuple) else (index,))
                                    + (Ellipsis,))
        return r

    def _read(self, what):
        tracing.reading(what)

    def __int__(self):
        self._read("int() of an array argument")
        return int(np.asarray(self))

    def __float__(self):
        self._read("float() of an array argument")
        return float(np.asarray(self))

    def __index__(self):
        self._read("an array argument used as a Python index")
        return np.asarray(self).__index__()

    def __bool__(self):
        self._read("bool() of an array argument")
        return bool(np.asarray(self))

    def item(self, *args):
        self._read(".item() of an array argument")
        return np.asarray(self).item(*args)

    def tolist(self):
        self._read(".tolist() of an array argument")
        return np.asarray(self).tolist()


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NUMPY = os.path.dirname(np.__file__)


def user_line():
    """'file:line: code' of the innermost frame outside autograd_mini and NumPy."""
    frame = sys._getframe(1)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not (path.startswith(_PACKAGE) or path.startswith(_NUMPY)):
            import linecache
            code = linecache.getline(path, frame.f_lineno).strip()
            return f"{frame.f_code.co_filename}:{frame.f_lineno}" + (f": {code}" if code else "")
        frame = frame.f_back
    return "an unknown line"


class Tracer:
    """Sees every op while ``f`` runs (autograd_mini.tracing) and builds the Program."""

    def __init__(self):
        self.vals, self.ops = [], []
        self.keep = []              # every array and Tensor whose id() a table holds
        self.made = {}              # id(array) -> value, for arrays the program has
        self.tensors = {}           # id(Tensor) -> value, for Tensors kept alive
        self.consts = {}            # content key -> value, small constants
        self.loose = []             # (weakref to a constant Tensor, its value)
        self.args, self.params = [], []
        self.results = []
        self.arg_arrays = []        # (array, value, the array owning its memory)

    # ------------------------------------------------------------------ values
    def new(self, array, kind, src, name=None):
        a = np.asarray(array)
        self.vals.append(Val(a.shape, a.dtype, kind, src, name))
        return len(self.vals) - 1

    def argument(self, x, name):
        """Register argument ``x`` (Tensor or array); returns what ``f`` receives."""
        if isinstance(x, Tensor):
            v = self.new(x.data, "arg", len(self.args), name)
            self.vals[v].grad = x.requires_grad
            self.tensors[id(x)] = v
            self.made[id(x.data)] = v
            self.keep += [x, x.data]
            self.args.append(v)
            return x
        a = np.asarray(x)
        v = self.new(a, "arg", len(self.args), name)
        shown = a.view(Traced)
        self.made[id(x)] = self.made[id(a)] = self.made[id(shown)] = v
        self.keep += [x, a, shown]
        self.args.append(v)
        self.arg_arrays.append((a, v, owner(a)))
        return shown

    def value(self, t):
        """The value a Tensor operand stands for."""
        v = self.tensors.get(id(t))
        if v is not None:
            return v
        if t.node is not None:
            raise TracingError(
                f"{user_line()}: f uses a tensor made by an op ({t.node.rule.name}) outside "
                "f; a compiled program cannot reach into a graph built before it. Pass it "
                "as an argument, or compute it inside f.")
        if t.requires_grad:
            v = self.new(t.data, "param", t, t.name)
            self.vals[v].grad = True
            self.tensors[id(t)] = v
            self.keep.append(t)
            self.params.append(v)
            return v
        v = self.array(t.data)
        if self.vals[v].kind == "const":
            if self.vals[v].name is None:
                self.vals[v].name = t.name
            self.loose.append((weakref.ref(t), v))
        return v

    def array(self, a):
        """The value an array stands for: one the program made or read, a view of one,
        or a constant."""
        v = self.made.get(id(a))
        if v is not None:
            return v
        base = a.base
        while isinstance(base, np.ndarray):
            v = self.made.get(id(base))
            if v is not None:
                return self.view(v, base, a)
            base = base.base
        # NumPy points a view's base at the array owning the memory, skipping views in
        # between: an argument that is itself a view (``ids.T.reshape(-1)``) is found by
        # its memory instead
        mine = owner(a)
        for arg, v, own in self.arg_arrays:
            if own is mine and a.dtype == arg.dtype:
                if basic_index(arg, a) is not None:
                    return self.view(v, arg, a)
        if isinstance(a, Traced) or isinstance(a.base, Traced):
            raise TracingError(
                f"{user_line()}: an array computed from an argument with NumPy inside f "
                "reaches an op; the trace cannot see NumPy's own functions, so the program "
                "would keep this call's numbers. Wrap the argument in a Tensor first "
                "(Tensor ops are traced), or do the NumPy work outside f.")
        return self.const(a)

    def const(self, a):
        key = (a.dtype.str, a.shape, a.tobytes()) if a.size <= 64 else id(a)
        v = self.consts.get(key)
        if v is None:
            v = self.consts[key] = self.new(a, "const", a)
            self.keep.append(a)
            self.made[id(a)] = v
        return v

    def view(self, v, base, a):
        """A new value: ``a``, a view of ``base`` (value v), as base[index]."""
        index = basic_index(base, a)
        if index is None:
            raise TracingError(
                f"{user_line()}: f reads an argument (or a traced value) through a NumPy "
                f"view of shape {a.shape} that is not plain indexing (ints and step-1 "
                "slices); index it with ints and slices, or through Tensor ops.")
        out = self.new(a, "op", len(self.ops))
        self.ops.append(Op(VIEW, (v,), (False,), (index,), (out,), state.scope))
        self.made[id(a)] = out
        self.keep.append(a)
        return out

    def param(self, p):
        """An op parameter: arrays become Refs to values, unless constant."""
        if isinstance(p, np.ndarray):
            v = self.array(p)
            return p if self.vals[v].kind == "const" else Ref(v)
        if isinstance(p, tuple):
            return tuple(self.param(q) for q in p)
        return p

    # ------------------------------------------------------------------ hooks
    def op(self, rule, tensors, params, aux, result):
        ins = tuple(self.value(t) for t in tensors)
        flows = tuple(state.grad_enabled and t.requires_grad for t in tensors)
        ps = tuple(self.param(p) for p in params)
        out = self.new(result.data, "op", len(self.ops))
        outs = (out,)
        self.tensors[id(result)] = out
        self.made[id(result.data)] = out
        self.keep += [result, result.data]
        if rule.aux:
            a = self.new(aux, "op", len(self.ops))
            self.made[id(aux)] = a
            self.keep.append(aux)
            outs += (a,)
        self.ops.append(Op(rule, ins, flows, ps, outs, state.scope))
        self.results.append((len(self.ops) - 1, result))

    def reading(self, what):
        raise TracingError(
            f"{user_line()}: {what} of a traced value while compile traces f. A trace "
            "replays f's ops for every later call's data, so a value read into Python now "
            "(and any branch taken on it) would stay this call's forever. Keep the work in "
            "Tensor ops, pass the value as a plain Python argument (it then becomes part of "
            "the signature: a new value, a new trace), or call f without compile.")

    # ------------------------------------------------------------------ the program
    def finish(self, outputs, structure):
        for k, t in self.results:
            self.ops[k].name = t.name if t.name else None
        for ref, v in self.loose:
            t = ref()
            if t is not None and self.vals[v].kind == "const":
                self.vals[v].kind, self.vals[v].src = "state", t
                self.vals[v].name = self.vals[v].name or t.name
                self.keep.append(t)
        outs = [self.value(t) for t in outputs]
        ops, vals = self.live(outs), self.vals
        for k in ops:
            op = self.ops[k]
            for o in op.outs:
                vals[o].src = k
            vals[op.outs[0]].grad = any(f and vals[v].grad for f, v in zip(op.flows, op.ins))
        order = {k: n for n, k in enumerate(ops)}
        for v in vals:
            if v.kind == "op":
                v.src = order.get(v.src)
        ops = [self.ops[k] for k in ops]
        grad_leaves = []
        for op in ops:
            for f, v in zip(op.flows, op.ins):
                if f and vals[v].kind in ("param", "arg") and vals[v].grad \
                        and v not in grad_leaves:
                    grad_leaves.append(v)
        params = [v for v in self.params if any(v in op.ins for op in ops)]
        states = [v for v, x in enumerate(vals) if x.kind == "state"]
        return Program(vals, ops, self.args, params, states, outs, grad_leaves, structure)

    def live(self, outs):
        """Positions of the ops the outputs depend on, in order."""
        need = set(outs)
        keep = []
        for k in range(len(self.ops) - 1, -1, -1):
            op = self.ops[k]
            if any(o in need for o in op.outs):
                keep.append(k)
                need.update(op.ins)
                need.update(r.v for r in refs(op.params))
        return keep[::-1]


def owner(a):
    """The array that owns ``a``'s memory (``a`` itself if it does)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def refs(params):
    """Every Ref inside an op's parameters."""
    for p in params:
        if isinstance(p, Ref):
            yield p
        elif isinstance(p, tuple):
            yield from refs(p)


def basic_index(base, a):
    """An index of ints and step-1 slices with ``base[index]`` the very view ``a``, or None."""
    if a.dtype != base.dtype or base.ndim == 0:
        return None
    offset = a.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    if offset < 0:
        return None
    starts = [0] * base.ndim
    for k in sorted(range(base.ndim), key=lambda k: -base.strides[k]):
        if base.strides[k] > 0:
            starts[k], offset = divmod(offset, base.strides[k])
    if offset:
        return None
    # a's axes are base's kept axes, matched from the last one (trailing axes are the
    # ones indexing keeps); the others take one position (an int)
    index, j = [], a.ndim - 1
    for k in range(base.ndim - 1, -1, -1):
        if j >= 0 and a.strides[j] == base.strides[k] and j <= k \
                and starts[k] + a.shape[j] <= base.shape[k]:
            full = starts[k] == 0 and a.shape[j] == base.shape[k]
            index.append(slice(None) if full else slice(starts[k], starts[k] + a.shape[j]))
            j -= 1
        else:
            index.append(starts[k])
    if j >= 0:
        return None
    index.reverse()
    while index and index[-1] == slice(None):
        index.pop()
    index = tuple(index)
    try:
        b = base[index + (Ellipsis,)]
    except IndexError:
        return None
    same = (b.shape == a.shape and b.strides == a.strides and
            b.__array_interface__["data"][0] == a.__array_interface__["data"][0])
    return index if same else None
