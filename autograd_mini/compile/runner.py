"""The runner: one program per signature, buffers reused, and the Tensor it returns.

``step(*args)``: the signature (each Tensor or array argument's shape, dtype and
requires_grad, every other argument's value, grad mode) picks a built program, or traces
``f`` once to build one. Parameters are read afresh at every call; a change of their
shape or dtype retraces. The returned loss is a Tensor whose tape node is one "compiled"
node: its VJP runs the generated backward, once, and hands each leaf its gradient, so
``loss.backward()`` goes through the engine's own walk and ``.grad`` accumulation.
"""
from __future__ import annotations

import functools
import inspect
import re
import zlib
from typing import Any, Callable, Generic, TypeVar

import numpy as np

from .. import tracing
from ..context import state
from ..locks import hold
from ..registry import Formula, Rule
from ..tape import Node
from ..tensor import Tensor, _result
from . import backward as _backward  # noqa: F401 (codegen imports it late, a cycle)
from . import codegen, hoist, reroll
from .trace import Tracer, TracingError, refs

R = TypeVar("R")      # what f returns: the loss Tensor, or (loss, Tensors...)

COMPILED = Rule("compiled", None, ("x",),
                (Formula("x", "program.grad(g, i)", ("x", "program")),),
                aux="program", variadic=True, family="compile")


def flatten(args, path, leaves, names):
    """Tensors and arrays of ``args`` (nested tuples and lists) as leaves; returns the
    skeleton (leaves replaced by their positions) and appends to the signature."""
    sig = []
    if isinstance(args, (tuple, list)):
        parts = []
        for k, a in enumerate(args):
            skel, s = flatten(a, f"{path}_{k}", leaves, names)
            parts.append(skel)
            sig.append(s)
        return (type(args), parts), (type(args).__name__, tuple(sig))
    if isinstance(args, Tensor):
        leaves.append(args)
        names.append(path)
        return ("leaf", len(leaves) - 1), ("T", args.shape, args.dtype.str, args.requires_grad)
    if isinstance(args, np.ndarray):
        leaves.append(args)
        names.append(path)
        return ("leaf", len(leaves) - 1), ("A", args.shape, args.dtype.str)
    try:
        hash(args)
        key = args
    except TypeError:
        key = repr(args)
    return ("static", args), ("S", type(args).__name__, key)


def rebuild(skel, leaves):
    kind, x = skel
    if kind == "leaf":
        return leaves[x]
    if kind == "static":
        return x
    return kind(rebuild(s, leaves) for s in x)


class Handle:
    """What the compiled node keeps: the program and this call's saved values."""

    __slots__ = ("entry", "saved", "token", "grads", "inputs")

    def __init__(self, entry, saved, token, inputs):
        self.entry, self.saved, self.token, self.grads = entry, saved, token, None
        self.inputs = inputs

    def grad(self, g, i):
        if i == 0 or self.grads is None:
            if self.entry.calls != self.token:
                raise RuntimeError(
                    "backward() of a compiled call after a later call of the same compiled "
                    "function with the same signature: the program's buffers (allocated once "
                    "per signature) now hold the later call's values. Call backward() before "
                    "calling it again.")
            if self.grads is not None:
                # a second backward (retain_graph=True): the first one wrote gradients
                # into buffers the forward filled (the loss's into p's), so the forward
                # runs again on the same inputs (parameters are held read-only meanwhile)
                _, self.saved = self.entry.forward(*self.inputs)
            self.grads = self.entry.backward(np.asarray(g), *self.saved)
        return self.grads[i]


def load(source):
    """The generated module's namespace. Its pasted helpers are the library's, compiled
    once per process and shared by every program (codegen.shared_helpers); only
    ``program`` is compiled here, at its own line numbers in the text."""
    head, sep, body = source.partition("\ndef program(const):")
    start = head.count("\n") + 1
    ns = dict(codegen.shared_helpers(re.findall(r"^def (\w+)\(", head, re.M)))
    code = compile("\n" * start + sep.lstrip("\n") + body, "<autograd_mini.compile>", "exec",
                   optimize=2)
    exec(code, ns)
    return ns


class Entry:
    """One signature's program: its generated functions and what it reads each call."""

    def __init__(self, prog, source, const):
        # the program (every traced op and value) is not kept: at T = 5000 it is
        # larger than the buffers; only what each call reads stays
        # the text is kept compressed (step.source() is rare; a tiny program's text
        # outweighs its buffers), and compiled without docstrings (optimize=2: the
        # pasted helpers' docstrings are for the reader of the text, not the run)
        self.packed, self.consts = zlib.compress(source.encode()), const
        self.forward, self.backward = load(source)["program"](const)
        vals = prog.vals
        self.params = [vals[v].src for v in prog.params]
        self.states = [vals[v].src for v in prog.states]
        self.kinds = [(t.shape, t.dtype) for t in self.params + self.states]
        self.leaves = [vals[v].src if vals[v].kind != "arg" else ("arg", vals[v].src)
                       for v in prog.grad_leaves]
        self.calls = 0

    def fits(self):
        return all(t.data.shape == s and t.data.dtype == d
                   for t, (s, d) in zip(self.params + self.states, self.kinds))

    def run(self, leaves, structure):
        arrays = [x.data if isinstance(x, Tensor) else x for x in leaves]
        inputs = arrays + [t.data for t in self.params + self.states]
        outs, saved = self.forward(*inputs)
        self.calls += 1
        parents = tuple(leaves[x[1]] if isinstance(x, tuple) else x for x in self.leaves)
        loss = np.asarray(outs[0])
        if parents and state.grad_enabled:
            holds = tuple(h for h in (hold(p.data, owned=False) for p in parents) if h is not None)
            handle = Handle(self, saved, self.calls, inputs)
            node = Node(COMPILED, parents, {"program": handle}, {},
                        tuple(p.shape for p in parents), holds)
            out = _result(loss, node)
        else:
            out = _result(loss, None)
        return shape_outputs(out, [np.array(x, copy=True) for x in outs[1:]], structure)


def shape_outputs(loss, extras, structure):
    if structure == "loss":
        return loss
    it = iter(extras)

    def build(s):
        if s == "leaf":
            return Tensor(next(it))
        kind, parts = s
        return kind(build(p) for p in parts)
    return (loss,) + tuple(build(s) for s in structure)


class Compiled(Generic[R]):
    """``autograd_mini.compile(f)``: see the package's docstring for the contract."""

    traces: int

    def __init__(self, f: Callable[..., R]) -> None:
        self.f = f
        self.cache = {}
        self.traces = 0
        self.last = None
        functools.update_wrapper(self, f)
        try:
            self.argnames = [p.name for p in inspect.signature(f).parameters.values()]
        except (TypeError, ValueError):
            self.argnames = []

    def __call__(self, *args: Any) -> R:
        leaves, names = [], []
        skel, sig = flatten(args, "", leaves, names)
        sig = (sig, state.grad_enabled)
        entry = self.cache.get(sig)
        if entry is not None and entry.fits():
            self.last = entry
            return entry.run(leaves, entry.structure)
        return self.trace(skel, sig, leaves, names)

    def source(self) -> str:
        """The generated source of the last signature called (forward and backward)."""
        if self.last is None:
            raise RuntimeError("source(): nothing traced yet; call the compiled function once")
        return zlib.decompress(self.last.packed).decode()

    def trace(self, skel, sig, leaves, names):
        for x in leaves:
            if isinstance(x, Tensor) and x.node is not None and x.requires_grad:
                raise TracingError(
                    "a compiled function's Tensor arguments must be leaves (or detached): "
                    f"this one was made by {x.node.rule.name}, and the compiled program cannot "
                    "send gradients into a graph built outside it. Pass x.detach(), or a leaf.")
        tracer = Tracer()
        top = [n.split("_", 2) for n in names]
        shown = [tracer.argument(x, self.arg_name(n)) for x, n in zip(leaves, names)]
        if tracing.current.tracer is not None:
            raise TracingError("compile: a compiled function called while another is being "
                               "traced; call the inner function directly")
        tracing.current.tracer = tracer
        try:
            result = self.f(*rebuild(skel, shown))
        finally:
            tracing.current.tracer = None
        del top
        loss, extras, structure = split_outputs(result)
        prog = tracer.finish([loss] + extras, structure)
        del tracer
        entry = build(prog, self.describe())
        entry.structure = structure
        self.cache[sig] = entry
        self.last = entry
        self.traces += 1
        if structure == "loss":
            return loss
        it = iter(extras)

        def detached(s):
            if s == "leaf":
                return next(it).detach()
            kind, parts = s
            return kind(detached(p) for p in parts)
        return (loss,) + tuple(detached(s) for s in structure)

    def arg_name(self, path):
        parts = path.split("_")[1:]
        k = int(parts[0])
        base = self.argnames[k] if k < len(self.argnames) else f"arg{k}"
        return "_".join([base] + parts[1:])

    def describe(self):
        f = self.f
        code = getattr(f, "__code__", None)
        where = f" ({code.co_filename}:{code.co_firstlineno})" if code else ""
        return f"Generated by autograd_mini.compile from {getattr(f, '__qualname__', f)}{where}."


def split_outputs(result):
    """The loss, the other Tensors returned, and how they nest."""
    if isinstance(result, Tensor):
        return result, [], "loss"
    if isinstance(result, tuple) and result and isinstance(result[0], Tensor):
        extras = []

        def walk(x):
            if isinstance(x, Tensor):
                extras.append(x)
                return "leaf"
            if isinstance(x, (tuple, list)):
                return (type(x), [walk(y) for y in x])
            raise TypeError(f"compile: f returned {type(x).__name__} among its outputs; "
                            "return the loss, or (loss, Tensors or tuples of Tensors)")
        return result[0], extras, tuple(walk(x) for x in result[1:])
    raise TypeError(f"compile: f must return a scalar loss Tensor, or (loss, Tensors...); "
                    f"it returned {type(result).__name__}")


def external_reads(prog, loops):
    """loop id -> {body position j: {steps k}}: the loop values read outside their loop
    (by another loop, straight code, or as an output). One pass over the ops."""
    owner = {}                          # op position -> (loop, j, k)
    for loop in loops:
        for k in range(loop.n):
            for j in range(loop.P):
                owner[loop.op(j, k)] = (loop, j, k)
    external = {loop.id: {} for loop in loops}
    src = [v.src if v.kind == "op" else None for v in prog.vals]

    def read(reader, v):
        w = owner.get(src[v]) if src[v] is not None else None
        if w is not None and w[0] is not reader:
            external[w[0].id].setdefault(w[1], set()).add(w[2])

    for i, op in enumerate(prog.ops):
        reader = owner.get(i, (None,))[0]
        for v in op.ins:
            read(reader, v)
        if op.params:
            for r in refs(op.params):
                read(reader, r.v)
    for v in prog.outputs:
        read(None, v)
    return external


def build(prog, title):
    """Re-roll, hoist, generate, and load the program."""
    loops = reroll.find_loops(prog)
    external = external_reads(prog, loops)
    plans = {loop.id: hoist.plan(prog, loop, external[loop.id]) for loop in loops}
    names = {}
    for v in prog.args:
        names[prog.vals[v].src] = prog.vals[v].name
    gen = codegen.Gen(prog, loops, plans, names, title)
    source = gen.generate()
    return Entry(prog, source, gen.consts)
