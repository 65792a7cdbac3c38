"""Code generation: a traced, re-rolled, hoisted program as readable NumPy source.

The source defines ``program(const)``, which allocates every buffer once and returns two
functions: ``forward(<arguments>, <parameters>)`` -> (outputs, saved) and
``backward(g, *saved)`` -> the gradients of the leaves. A loop value has a buffer with a
row per step (``h[t]``, rows before the first step hold initial values: ``h[0]`` is
h(0)); a gradient line is the rule's formula with the names filled in, and its comment
is the formula as the registry states it. The helpers the formulas use are pasted in
from autograd_mini.formulas (and the softmax rules' forwards from their module), so the
text runs with NumPy alone.
"""
import ast
import builtins
import copy
import io
import keyword
import re
import sys
import tokenize

import numpy as np

from .. import formulas
from .blocks import NoBlock, eligible
from ..rules import softmax as softmax_rules
from . import batch
from .reroll import Aff, RefC
from .trace import VIEW, Ref

_HELPERS = None
_TEXTS = {}


def helper_source(f):
    """The text of helper function ``f``, read from its file (not through inspect, whose
    linecache would keep every line of the file for the rest of the process)."""
    text = _TEXTS.get(f)
    if text is None:
        code = f.__code__
        with open(code.co_filename, encoding="utf-8") as fh:
            lines = fh.read().splitlines()[code.co_firstlineno - 1:]
        indent = len(lines[0]) - len(lines[0].lstrip())
        end = 1
        while end < len(lines) and (not lines[end].strip()
                                    or len(lines[end]) - len(lines[end].lstrip()) > indent):
            end += 1
        text = _TEXTS[f] = "\n".join(lines[:end]).rstrip() + "\n"
    return text


_SHARED = {"np": np}


def shared_helpers(names):
    """{name: function} for the pasted helpers ``names``, each compiled from its pasted
    text once per process into one namespace (the helpers call each other by name), so
    that programs share them: a tiny program's code objects would be mostly helpers."""
    for name in names:
        if name not in _SHARED:
            exec(compile(helper_source(helpers()[name]), "<autograd_mini.compile helpers>",
                         "exec", optimize=2), _SHARED)
    return {"np": np, **{name: _SHARED[name] for name in names}}


def helpers():
    """name -> function, for every helper a generated line may call."""
    global _HELPERS
    if _HELPERS is None:
        found = {n: f for n, f in formulas.NUMPY.items() if n != "np"}
        found["_is_basic"] = formulas._is_basic
        found["_sum"] = formulas._sum
        for n in ("_softmax", "_log_softmax", "_softmax_cross_entropy"):
            found[n] = getattr(softmax_rules, n)
        found["softmax_cross_entropy_steps"] = batch.softmax_cross_entropy_steps
        found["per_example_steps"] = batch.per_example_steps
        found["softmax_cross_entropy_grad_steps"] = batch.softmax_cross_entropy_grad_steps
        _HELPERS = found
    return _HELPERS


def namespace():
    ns = dict(helpers())
    ns["np"] = np
    return ns


RESERVED = {"np", "T", "t", "g", "const", "program", "forward", "backward", "saved"}


class Names:
    """Unique Python identifiers, made from the user's names where there are any."""

    def __init__(self):
        self.taken = set(RESERVED) | set(helpers()) | set(dir(builtins)) | \
            set(keyword.kwlist)

    def make(self, wish):
        base = re.sub(r"\(.*\)$|\[.*\]$", "", wish or "v").strip()
        base = re.sub(r"\W", "_", base) or "v"
        if base[0].isdigit():
            base = "v" + base
        name, k = base, 1
        while name in self.taken:
            k += 1
            name = f"{base}{k}"
        self.taken.add(name)
        return name


# What writing the backward changes on a Generator (kept to write it again: blocks.py)
_BACKWARD_STATE = ("names", "vname", "bufname", "consts", "program_lines", "bwd", "gname",
                   "gbase", "locals", "gzero", "own", "allocated", "block")


def _copy(x):
    """A copy of a container of the generator's state (the values in it are shared: the
    constants are found by identity)."""
    if isinstance(x, Names):
        y = copy.copy(x)
        y.taken = set(x.taken)
        return y
    return x.copy() if isinstance(x, (dict, list, set)) else x


# Rules whose forward is one NumPy function that can write into a given array (out=).
UFUNCS = {"add": "np.add", "sub": "np.subtract", "mul": "np.multiply", "div": "np.divide",
          "neg": "np.negative", "exp": "np.exp", "log": "np.log", "tanh": "np.tanh",
          "matmul": "np.matmul"}

_SHORT = {"matmul": "mm", "matvec": "mv", "vecmat": "vm", "add": "add", "sub": "sub",
          "mul": "mul", "div": "div", "softmax_cross_entropy": "L", "getitem": "sel",
          "transpose": "tr", "concat": "cat", "stack": "stk", "reshape": "rs"}


def show_params(value, sub=False):
    """A parameter as source text (``sub``: inside a subscript, slices as ``a:b``)."""
    if isinstance(value, tuple):
        if sub:
            return ", ".join(show_params(v, True) for v in value) or "()"
        if any(isinstance(v, slice) or v is Ellipsis for v in value):
            return "np.s_[" + ", ".join(show_params(v, True) for v in value) + "]"
        return "(" + ", ".join(show_params(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, slice):
        parts = ["" if x is None else show_params(x) for x in (value.start, value.stop)]
        text = ":".join(parts) + ("" if value.step is None else f":{value.step}")
        return text if sub else f"np.s_[{text}]"
    if value is Ellipsis:
        return "..."
    if isinstance(value, (np.integer, np.floating)):
        return repr(value.item())
    if isinstance(value, np.dtype):
        return f"np.{value.name}"
    return repr(value)


def render(text, names, shapes=(), raw=()):
    """``text`` (a formula or forward) with each name replaced by its source expression.

    names: {name: expression text}; shapes: {name: shape text} for ``x.shape``; raw:
    names whose text is only valid inside a subscript (an index), shown as np.s_ elsewhere."""
    return unparse(_Fill(names, shapes, raw).visit(ast.parse(text, mode="eval")))


_VISIT = {}     # node class -> "visit_" + its name, made once


def _visitor_name(node):
    kind = type(node)
    name = _VISIT.get(kind)
    if name is None:
        name = _VISIT[kind] = sys.intern("visit_" + kind.__name__)
    return name


if hasattr(ast, "_Unparser") and hasattr(ast._Unparser, "traverse"):
    class _Unparser(ast._Unparser):
        """ast.unparse, dispatching by a name made once per node class: ast's own
        dispatch makes the string "visit_" + class name per node, and the interpreter's
        attribute cache keeps those strings (about 6 KB per program at tiny)."""

        def traverse(self, node):
            if isinstance(node, list):
                for item in node:
                    self.traverse(item)
            else:
                getattr(self, _visitor_name(node), self.generic_visit)(node)

    def unparse(tree):
        return _Unparser().visit(tree)
else:                                   # (another Python's private API: the plain one)
    unparse = ast.unparse


class _Fill(ast.NodeTransformer):
    """render's rewriting of names, shapes and raw indices."""

    def __init__(self, names, shapes, raw):
        self.names, self.shapes, self.raw = names, shapes, raw

    def visit(self, node):
        # (ast's own visit makes the string "visit_" + class name per node and looks it
        # up; the interpreter's attribute cache keeps those strings: 10 KB at tiny)
        kind = type(node)
        if kind is ast.Name:
            return self.visit_Name(node)
        if kind is ast.Attribute:
            return self.visit_Attribute(node)
        if kind is ast.Subscript:
            return self.visit_Subscript(node)
        return self.generic_visit(node)

    def visit_Attribute(self, node):
        if node.attr == "shape" and isinstance(node.value, ast.Name) \
                and node.value.id in self.shapes:
            return ast.parse(self.shapes[node.value.id], mode="eval").body
        return self.generic_visit(node)

    def visit_Subscript(self, node):
        if isinstance(node.slice, ast.Name) and node.slice.id in self.raw:
            node.value = self.visit(node.value)
            node.slice = ast.parse(f"_[{self.raw[node.slice.id]}]", mode="eval").body.slice
            return node
        return self.generic_visit(node)

    def visit_Name(self, node):
        if node.id in self.names:
            return ast.parse(self.names[node.id], mode="eval").body
        return node


def code_names(text):
    """The names that code in ``text`` reads: comments, strings (docstrings) and
    attributes (``np.add.at``) left out, so that a helper is pasted only when a line
    calls it, not when a comment says "at once" or "tanh"."""
    names, after_dot = set(), False
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.NAME and not after_dot:
                names.add(tok.string)
            after_dot = tok.type == tokenize.OP and tok.string == "."
    except (tokenize.TokenError, IndentationError):     # (a fragment): every word
        return set(re.findall(r"\w+", text))
    return names


def uses(text, name):
    return re.search(rf"(?<![.\w]){re.escape(name)}\b", text) is not None


def literal(a):
    """Source text for a small constant array (a scalar), or None."""
    if a.ndim == 0:
        x = a.item()
        if isinstance(x, float) and not np.isfinite(x):
            return None
        return repr(x)
    return None


def dummy(shape, dtype):
    """An array shaped like a value, for checking a formula's result shape at build time."""
    dtype = np.dtype(dtype)
    return np.zeros(shape, dtype) if dtype.kind in "iub" else np.ones(shape, dtype)


class Gen:
    """Writes the source of one program: its loops (re-rolled, hoisted), then the rest."""

    def __init__(self, prog, loops, plans, argnames, title):
        self.prog, self.loops, self.plans = prog, loops, plans
        self.vals, self.title = prog.vals, title
        self.names = Names()
        self.where = {}
        for loop in loops:
            for k in range(loop.n):
                for j in range(loop.P):
                    for slot, o in enumerate(prog.ops[loop.op(j, k)].outs):
                        self.where[o] = (loop, j, k, slot)
        self.vname, self.bufname, self.consts = {}, {}, {}
        self.program_lines, self.fwd, self.bwd = [], [], []
        self.gname, self.gbase, self.locals = {}, {}, set()
        self.gzero = []          # (buffer, rows) the backward zeroes first: set by backward.py
        self.own = {}            # (loop id, j, slot) -> its name, where it shares a buffer
        self.inplace_softmax = set()     # (loop id, j): its logits are in p's buffer
        self.sym = {}
        self.allocated = set()
        self.block = None        # the loop whose backward is being written in blocks (blocks.py)
        for loop in loops:
            if loop.n not in self.sym.values():
                self.sym[loop.id] = "T" if not self.sym else f"T{len(self.sym) + 1}"
            else:
                self.sym[loop.id] = next(s for i, s in self.sym.items()
                                         if loops[i].n == loop.n)
        for v in prog.args:
            self.vname[v] = self.names.make(argnames[self.vals[v].src])
        for v in prog.params + prog.states:
            self.vname[v] = self.names.make(self.vals[v].name or "param")
        self.inputs = [self.vname[v] for v in prog.args + prog.params + prog.states]
        self.locals.update(self.inputs)

    # ------------------------------------------------------------------ names
    def n_text(self, loop):
        return self.sym[loop.id]

    def num(self, x, loop):
        """An int near the loop's count written relative to it (T - 1), else as it is."""
        n = loop.n
        if abs(x - n) < abs(x):
            d = x - n
            return self.n_text(loop) + ("" if d == 0 else f" + {d}" if d > 0 else f" - {-d}")
        return str(x)

    def row(self, loop, x):
        return self.num(x, loop)

    def value_name(self, v):
        """The identifier of a value outside loops (made on first use)."""
        if v not in self.vname:
            val = self.vals[v]
            if val.kind in ("const",):
                name = self.names.make(val.name or "const")
                self.consts[name] = val.src
                self.program_lines.append(f"{name} = const[{name!r}]")
            else:
                op = self.prog.ops[val.src]
                slot = op.outs.index(v)
                wish = (op.rule.aux if slot else op.name) or _SHORT.get(op.rule.name,
                                                                        op.rule.name)
                name = self.names.make(wish)
                self.locals.add(name)
            self.vname[v] = name
        return self.vname[v]

    def loop_name(self, loop, j, slot):
        key = (loop.id, j, slot)
        if key not in self.bufname:
            op = self.prog.ops[loop.op(j, loop.n - 1)]
            wish = (op.rule.aux if slot else op.name) or _SHORT.get(op.rule.name, op.rule.name)
            self.bufname[key] = self.names.make(wish)
        return self.bufname[key]

    # ------------------------------------------------------------------ references
    def sref(self, v):
        """Source text for value v read outside any loop (or as a loop-invariant)."""
        val = self.vals[v]
        if v in self.where:
            loop, j, k, slot = self.where[v]
            pl = self.plans[loop.id]
            if pl.place[j] in ("inv", "reduce"):
                return self.loop_name(loop, j, slot)
            if self.is_view(self.prog.ops[loop.op(j, k)]):
                return self.view_text(self.prog.ops[loop.op(j, k)], None, None)
            return f"{self.loop_name(loop, j, slot)}[{self.row(loop, loop.base + k)}]"
        if val.kind == "const":
            text = literal(val.src)
            if text is not None:
                return text
        if val.kind == "op" and self.is_view(self.prog.ops[val.src]):
            return self.view_text(self.prog.ops[val.src], None, None)
        return self.value_name(v)

    @staticmethod
    def is_view(op):
        return op.rule is VIEW

    def view_text(self, op, loop, mode, index=None, shift=0):
        """An argument view, written where it is read (no buffer)."""
        x = self.sref(op.ins[0])
        if index is None:
            return f"{x}[{show_params(op.params[0], True)}]"
        if mode == "step":
            return f"{x}[{self.pshow(index, loop, 'step', True, shift)}]"
        parts = index if isinstance(index, tuple) else (index,)
        axis = next(k for k, p in enumerate(parts) if isinstance(p, Aff) and p.b != 0)
        text = f"{x}[{self.pshow(parts, loop, 'stack', True, shift)}]"
        return text if axis == 0 else f"np.moveaxis({text}, {axis}, 0)"

    def aff_text(self, aff, loop, shift=0):
        """a + b*k at the step t of the loop (k = t - base - shift)."""
        if aff.b == 0:
            return str(aff.a)
        c0 = aff.a - aff.b * (loop.base + shift)
        tb = "t" if aff.b == 1 else "-t" if aff.b == -1 else f"{aff.b} * t"
        if c0 == 0:
            return tb
        c = self.num(c0, loop)
        if aff.b == -1:
            return f"{c} - t"
        return f"{tb} + {c}" if c0 > 0 else f"{tb} - {-c0}"

    def aff_slice(self, aff, loop, shift=0):
        if self.block is not None and self.block.loop is loop:
            if aff.b != 1:
                raise NoBlock(loop.id)
            return self.block.stack_slice(aff.a - loop.base - shift)
        a = aff.a - aff.b * shift
        stop = a + aff.b * loop.n
        if aff.b == 1:
            return f"{self.num(a, loop) if a else ''}:{self.num(stop, loop)}"
        stop_text = "" if stop < 0 else self.num(stop, loop)
        return f"{self.num(a, loop)}:{stop_text}:{aff.b}"

    def pshow(self, p, loop, mode, sub=False, shift=0):
        """A parameter of a loop op as source text."""
        if isinstance(p, Aff):
            if p.b == 0:
                return str(p.a)
            return self.aff_text(p, loop, shift) if mode == "step" else \
                self.aff_slice(p, loop, shift)
        if isinstance(p, RefC):
            return self.cref(loop, p.c, mode)
        if isinstance(p, Ref):
            return self.sref(p.v)
        if isinstance(p, tuple) and any(isinstance(q, (Aff, RefC, Ref, tuple, slice))
                                        for q in p):
            inner = ", ".join(self.pshow(q, loop, mode, True, shift) for q in p)
            if sub:
                return inner
            if any(isinstance(q, slice) or q is Ellipsis for q in p):
                return f"np.s_[{inner}]"
            return f"({inner}{',' if len(p) == 1 else ''})"
        if isinstance(p, slice) and any(isinstance(q, Aff) for q in (p.start, p.stop, p.step)):
            parts = [("" if q is None else self.pshow(q, loop, mode, False, shift))
                     for q in (p.start, p.stop, p.step)]
            text = ":".join(parts[:2]) + (f":{parts[2]}" if parts[2] else "")
            return text if sub else f"np.s_[{text}]"
        if isinstance(p, np.ndarray):
            return self.const_name(p)
        return show_params(p, sub)

    def const_name(self, a):
        text = literal(a)
        if text is not None:
            return text
        for name, b in self.consts.items():
            if b is a:
                return name
        name = self.names.make("index")
        self.consts[name] = a
        self.program_lines.append(f"{name} = const[{name!r}]")
        return name

    def cref(self, loop, c, mode, shift=0):
        """Source text for an input class of a loop op, at step t or for every step."""
        if c[0] == "E":
            return self.sref(c[1])
        if c[0] == "L":
            return self.lref(loop, c[1], c[2], mode, shift)
        if c[0] == "C":
            return self.lref(loop, c[2], c[3], mode, shift + c[1])
        _, other, j, slot, aff = c
        buf = self.loop_name(other, j, slot)
        if self.plans[other.id].place[j] in ("inv",):
            return buf
        if mode == "step":
            row = Aff(aff.a + other.base, aff.b)
            return f"{buf}[{self.aff_text(row, loop, shift)}]"
        row = Aff(aff.a + other.base, aff.b)
        return f"{buf}[{self.aff_slice(row, loop, shift)}]"

    def lref(self, loop, j, slot, mode, d):
        pl = self.plans[loop.id]
        op = self.prog.ops[loop.op(j, loop.n - 1)]
        if self.is_view(op):
            return self.view_text(op, loop, mode, loop.params[j][0], d)
        name = self.loop_name(loop, j, slot)
        if pl.place[j] == "inv":
            self.locals.add(name)
            return name
        if not pl.stacked[(j, slot)]:
            return name
        if mode == "step":
            return f"{name}[t]" if d == 0 else f"{name}[t - {d}]"
        if self.block is not None and self.block.loop is loop:
            return f"{name}[{self.block.rows(None, d, 'stack')}]"
        start = loop.base - d
        return f"{name}[{start}:{-d if d else ''}]"

    def stacked_shape(self, loop, shape, rows=None):
        n = self.n_text(loop)
        if self.block is not None and self.block.loop is loop:
            n = self.block.n if rows is None else self.block.K
        n += f" + {rows}" if rows else ""
        return "(" + ", ".join([n] + [str(s) for s in shape]) + ")"

    # ------------------------------------------------------------------ forward
    def op_text(self, rule, names, params, form=None):
        """The forward of ``rule`` as source, from its inputs' and parameters' text."""
        template = form.forward if form is not None else batch.FORWARD.get(rule.name)
        if rule.name == "transpose" and params.get("axes") == "None":
            template = "x.T"
        if template is None:            # a user's rule: call its own forward
            fn = self.names.make(f"forward_{rule.name}")
            self.consts[fn] = rule.forward
            self.program_lines.append(f"{fn} = const[{fn!r}]   # {rule.name}: a user rule")
            args = [names[n] for n in rule.inputs] + [params[p] for p in rule.params]
            return f"{fn}({', '.join(args)})"
        raw = {"index": params.pop("index_raw")} if "index_raw" in params else {}
        return render(template, {**names, **params}, raw=raw)

    def names_of(self, rule, texts):
        if rule.variadic:
            return {rule.inputs[0]: "[" + ", ".join(texts) + "]"}
        return dict(zip(rule.inputs, texts))

    def straight_forward(self, op):
        if self.is_view(op):
            return
        steps = self.all_steps(op)
        params = {p: self.pshow(v, None, None) for p, v in zip(op.rule.params, op.params)}
        if "index" in params:
            params["index_raw"] = self.pshow(op.params[op.rule.params.index("index")],
                                             None, None, True)
        outs = [self.value_name(o) for o in op.outs]
        axis = dict(zip(op.rule.params, op.params)).get("axis")
        if steps is not None and axis == 0:     # the rows are already in place: a view
            loop = self.where[op.ins[0]][0]
            shape = tuple(self.vals[op.ins[0]].shape)
            rows = f"{self.n_text(loop)} * {shape[0]}" if shape[0] != 1 else self.n_text(loop)
            text = steps if op.rule.name == "stack" else \
                f"{steps}.reshape({', '.join([rows] + [str(n) for n in shape[1:]])})"
            self.fwd.append(f"{outs[0]} = {text}   # {op.rule.name} of every step: "
                            "the buffer's rows, no copy")
            return
        if steps is not None:
            names = {op.rule.inputs[0]: steps}
        else:
            names = self.names_of(op.rule, [self.sref(v) for v in op.ins])
        outs = [self.value_name(o) for o in op.outs]
        self.fwd.append(f"{', '.join(outs)} = {self.op_text(op.rule, names, params)}"
                        f"   # {op.rule.name}")

    def all_steps(self, op):
        """For stack/concat of one loop value over all its steps: that buffer's rows."""
        if op.rule.name not in ("stack", "concat") or len(op.ins) < 2:
            return None
        first = self.where.get(op.ins[0])
        if first is None:
            return None
        loop, j, _, slot = first
        if len(op.ins) != loop.n or self.plans[loop.id].place[j] in ("inv", "reduce"):
            return None
        for k, v in enumerate(op.ins):
            if self.where.get(v) != (loop, j, k, slot):
                return None
        return f"{self.loop_name(loop, j, slot)}[{loop.base}:]"

    def loop_forward(self, loop):
        pl = self.plans[loop.id]
        body = [self.prog.ops[loop.op(j, loop.n - 1)] for j in range(loop.P)]
        self.fwd.append(f"# loop {loop.id}: {self.n_text(loop)} steps of {loop.P} ops")
        self.share_stacked(loop, body)
        self.share_with_step(loop, body)
        self.share_softmax(loop, body)
        for j in range(loop.P):
            if pl.place[j] == "inv":
                self.step_line(loop, j, body[j], "inv", self.fwd)
        for (j, slot, row), c in sorted(loop.init.items(), key=lambda kv: kv[0]):
            if pl.place[j] == "reduce":
                continue
            self.alloc(loop, j, slot)
            self.fwd.append(f"{self.loop_name(loop, j, slot)}[{loop.base + row}] = "
                            f"{self.cref(loop, c, 'step')}   # the value before step 1")
        for j in range(loop.P):
            if pl.place[j] == "pre":
                self.stacked_line(loop, j, body[j])
        lines = []
        for j in range(loop.P):
            if pl.place[j] == "loop":
                self.step_line(loop, j, body[j], "step", lines)
        if lines:
            self.fwd.append(f"for t in range({loop.base}, {self.n_text(loop)} + {loop.base}):")
            self.fwd += ["    " + x for x in lines]
        for j in range(loop.P):
            if pl.place[j] == "post":
                self.stacked_line(loop, j, body[j])
            elif pl.place[j] == "reduce":
                init = loop.init.get((j, 0, -1))
                m = pl.reduce[j]
                total = self.loop_name(loop, j, 0)
                self.locals.add(total)
                start = self.cref(loop, init, "step") if init else "0"
                self.fwd.append(f"{total} = {start} + "
                                f"{self.cref(loop, loop.ins[j][m], 'stack')}.sum(axis=0)"
                                f"   # add over all steps: a running sum")

    def share_stacked(self, loop, body):
        """An elementwise op on all steps at once (``x(t) U^T + b``) writes into the buffer
        of an input that it alone reads and no gradient formula names: one buffer less."""
        pl = self.plans[loop.id]
        for j in range(loop.P):
            op = body[j]
            if pl.place[j] not in ("pre", "post") or op.rule.name not in batch.ELEMENTWISE \
                    or op.rule.name not in UFUNCS or len(op.outs) != 1 \
                    or "out" in op.rule.saves:
                continue
            for m, c in enumerate(loop.ins[j]):
                if c[0] != "L" or c[2] != 0:
                    continue
                i, made = c[1], body[c[1]]
                a, b = self.vals[made.outs[0]], self.vals[op.outs[0]]
                if pl.place[i] in ("pre", "post") and (pl.place[i], pl.place[j]) != \
                        ("post", "pre") and pl.readers[i] == [(j, c)] \
                        and i not in pl.external and len(made.outs) == 1 \
                        and "out" not in made.rule.saves \
                        and op.rule.inputs[m] not in op.rule.saves \
                        and a.shape == b.shape and a.dtype == b.dtype \
                        and not self.is_view(made) and made.rule.name in UFUNCS:
                    self.bufname[(loop.id, j, 0)] = self.loop_name(loop, i, 0)
                    break

    def share_with_step(self, loop, body):
        """A value computed for all steps before the loop (``x(t) U^T + b``) and read only
        by step t's ops before the step writes its own row of a loop buffer of the same
        shape (``h[t]``) lives in that buffer's rows: row t holds it until step t
        overwrites it. No gradient formula may name it (it is gone after the loop)."""
        pl = self.plans[loop.id]
        for i in range(loop.P):
            if pl.place[i] != "pre" or len(body[i].outs) != 1 or i in pl.external \
                    or self.is_view(body[i]) or "out" in body[i].rule.saves \
                    or not pl.stacked.get((i, 0)):
                continue
            readers = pl.readers[i]
            if not readers or any(c[0] != "L" or c[2] != 0 or pl.place[r] != "loop"
                                  or self.is_view(body[r]) or body[r].rule.inputs[list(loop.ins[r]).index(c)]
                                  in body[r].rule.saves for r, c in readers):
                continue
            last = max(r for r, _ in readers)
            val = self.vals[body[i].outs[0]]
            for k in range(last, loop.P):
                out = self.vals[body[k].outs[0]]
                if pl.place[k] == "loop" and pl.stacked.get((k, 0)) \
                        and len(body[k].outs) == 1 and out.shape == val.shape \
                        and out.dtype == val.dtype and not self.is_view(body[k]):
                    old, new = self.loop_name(loop, i, 0), self.loop_name(loop, k, 0)
                    for key, name in list(self.bufname.items()):
                        if name == old and key[0] == loop.id:
                            self.bufname[key] = new
                    self.fwd.append(f"# {new}[t] holds {old} (every step, computed before "
                                    f"the loop) until step t writes {new}[t]")
                    break

    def share_softmax(self, loop, body):
        """The logits of every step, read by softmax_cross_entropy alone, are computed
        into p's buffer, and the softmax is taken there in place."""
        pl = self.plans[loop.id]
        for j in range(loop.P):
            if body[j].rule.name != "softmax_cross_entropy" or pl.place[j] != "post" \
                    or not pl.stacked.get((j, 1)):
                continue
            c = loop.ins[j][0]
            if c[0] != "L" or c[2] != 0:
                continue
            i = c[1]
            form = batch.form(self.prog, loop, j, pl)
            if pl.place[i] == "post" and pl.readers[i] == [(j, c)] and i not in pl.external \
                    and len(body[i].outs) == 1 and not self.is_view(body[i]) \
                    and "out" not in body[i].rule.saves and form is not None \
                    and not uses(form.vjp.get(0, "o"), "o") \
                    and self.vals[body[i].outs[0]].dtype == self.vals[body[j].outs[1]].dtype:
                old, new = self.loop_name(loop, i, 0), self.loop_name(loop, j, 1)
                for key, name in list(self.bufname.items()):
                    if name == old and key[0] == loop.id:
                        self.own[key] = old         # its gradient keeps the name
                        self.bufname[key] = new
                # and their gradient, which only the loss's formula writes (first, all
                # steps at once) and which reads p only there, goes into p's buffer too
                # (a second backward runs the forward again: runner.Handle)
                self.bufname[("g", loop.id, pl.gsource(i), 0)] = new
                self.bwd.append(f"# {new}'s rows take the gradient of the logits {old} "
                                f"(nothing reads {new} after the loss's formula)")
                self.inplace_softmax.add((loop.id, j))

    def alloc(self, loop, j, slot, grad=False):
        """Make sure the buffer of loop value (j, slot) (or of its gradient) exists."""
        if grad and slot == 0:
            j = self.plans[loop.id].gsource(j)
        name = self.loop_name(loop, j, slot)
        key = ("g" if grad else "f", loop.id, j, slot)
        if key in self.bufname:
            return self.bufname[key]
        op = self.prog.ops[loop.op(j, loop.n - 1)]
        val = self.vals[op.outs[slot]]
        if grad:
            name = self.names.make("d" + self.own.get((loop.id, j, slot), name))
            self.gbase[name] = loop.base
            if self.block is not None and self.block.loop is loop:
                self.block.bufs.add(name)       # K rows: the block's
        self.bufname[key] = name
        if name in self.allocated:      # shared with another value (share_stacked)
            return name
        self.allocated.add(name)
        shape = self.stacked_shape(loop, val.shape, loop.base)
        self.program_lines.append(f"{name} = np.zeros({shape}, np.{val.dtype.name})")
        return name

    def params_text(self, loop, rule, params, mode, shift=0):
        texts = {p: self.pshow(v, loop, mode, False, shift) for p, v in zip(rule.params, params)}
        if "index" in texts:
            texts["index_raw"] = self.pshow(params[rule.params.index("index")], loop, mode,
                                            True, shift)
        return texts

    def step_line(self, loop, j, op, mode, lines):
        if self.is_view(op):
            return
        pl = self.plans[loop.id]
        m_mode = "step"
        names = self.names_of(op.rule, [self.cref(loop, c, m_mode) for c in loop.ins[j]])
        params = self.params_text(loop, op.rule, loop.params[j], m_mode)
        outs = []
        for slot in range(len(op.outs)):
            if mode == "inv":
                name = self.loop_name(loop, j, slot)
                self.locals.add(name)
                outs.append(name)
            elif pl.stacked[(j, slot)]:
                outs.append(f"{self.alloc(loop, j, slot)}[t]")
            else:
                outs.append(self.loop_name(loop, j, slot))
        func = UFUNCS.get(op.rule.name)
        if func and mode == "step" and len(outs) == 1:
            args = ", ".join(names[n] for n in op.rule.inputs)
            if pl.stacked[(j, 0)]:      # straight into the row: no temporary, no copy
                lines.append(f"{func}({args}, out={outs[0]})   # {op.rule.name}")
                return
            temp = self.dying_temp(loop, j, op)
            if temp is not None:        # into a temporary of this step read only here
                lines.append(f"{outs[0]} = {func}({args}, out={temp})   # {op.rule.name}")
                return
        lines.append(f"{', '.join(outs)} = {self.op_text(op.rule, names, params)}"
                     f"   # {op.rule.name}")

    def dying_temp(self, loop, j, op):
        """The name of a step temporary that op j (elementwise) may overwrite: made fresh
        by an op of this step, read by op j alone, kept for no gradient formula."""
        if op.rule.name not in batch.ELEMENTWISE:
            return None
        pl, vals = self.plans[loop.id], self.vals
        out = vals[op.outs[0]]
        for c in loop.ins[j]:
            if c[0] != "L" or c[2] != 0:
                continue
            i = c[1]
            made = self.prog.ops[loop.op(i, loop.n - 1)]
            v = vals[made.outs[0]]
            if pl.place[i] == "loop" and not pl.stacked[(i, 0)] and i not in pl.external \
                    and pl.readers[i] == [(j, c)] and made.rule.name in UFUNCS \
                    and v.shape == out.shape and v.dtype == out.dtype:
                return self.loop_name(loop, i, 0)
        return None

    def stacked_line(self, loop, j, op):
        if self.is_view(op):
            return
        pl = self.plans[loop.id]
        form = batch.form(self.prog, loop, j, pl)
        names = self.names_of(op.rule, [self.cref(loop, c, "stack") for c in loop.ins[j]])
        params = self.params_text(loop, op.rule, tuple(form.params[p] for p in op.rule.params),
                                  "stack")
        outs = [f"{self.alloc(loop, j, slot)}[{loop.base}:]" for slot in range(len(op.outs))]
        when = "before" if pl.place[j] == "pre" else "after"
        if (loop.id, j) in self.inplace_softmax:
            text = self.op_text(op.rule, names, params, form)
            self.fwd.append(f"{outs[0]} = {text[:-1]}, out={outs[1]})[0]   # {op.rule.name}, "
                            f"every step at once ({when} the loop), p in place of the logits")
            return
        func = UFUNCS.get(op.rule.name)
        if func and len(outs) == 1 and form.forward == batch.FORWARD[op.rule.name]:
            args = ", ".join(names[n] for n in op.rule.inputs)
            self.fwd.append(f"{func}({args}, out={outs[0]})   # {op.rule.name}, every step "
                            f"at once ({when} the loop)")
            return
        self.fwd.append(f"{', '.join(outs)} = {self.op_text(op.rule, names, params, form)}"
                        f"   # {op.rule.name}, every step at once ({when} the loop)")

    # ------------------------------------------------------------------ program
    def generate(self):
        ops = self.prog.ops
        starts = {loop.start: loop for loop in self.loops}
        order, i = [], 0
        while i < len(ops):
            if i in starts:
                order.append(starts[i])
                i += starts[i].P * starts[i].n
            else:
                order.append(i)
                i += 1
        for item in order:
            if isinstance(item, int):
                self.straight_forward(ops[item])
            else:
                self.loop_forward(item)
        outs = [self.sref(v) for v in self.prog.outputs]
        self.backward(order)
        return self.assemble(outs)

    def backward(self, order):
        """The backward half; a loop whose backward cannot run in blocks (NoBlock) is
        written again in one pass, from the state before the backward began."""
        from .backward import Backward
        blocked = {loop.id for loop in self.loops if eligible(self.prog, loop)}
        saved = {k: _copy(getattr(self, k)) for k in _BACKWARD_STATE}
        while True:
            try:
                Backward(self, blocked).generate(order)
                return
            except NoBlock as e:
                blocked.discard(e.loop_id)
                for k, value in saved.items():
                    setattr(self, k, _copy(value))

    def assemble(self, outs):
        bwd_text = "\n".join(self.bwd)
        saved = [n for n in sorted(self.locals) if uses(bwd_text, n)]
        src = [f'"""{self.title}"""', "import numpy as np", ""]
        text = "\n".join(self.fwd) + "\n" + bwd_text + "\n" + "\n".join(self.program_lines)
        for name in self.helper_order(text):
            src += ["", helper_source(helpers()[name]).rstrip(), ""]
        src += ["", "def program(const):",
                '    """Buffers, allocated once for this signature; returns forward, backward."""']
        counts = {}
        for loop in self.loops:
            counts.setdefault(self.sym[loop.id], loop.n)
        src += [f"    {s} = {n}" for s, n in counts.items()]
        src += ["    " + x for x in self.program_lines]
        src += ["", f"    def forward({', '.join(self.inputs)}):"]
        src += ["        " + x for x in self.fwd]
        src += [f"        return ({', '.join(outs)},), ({', '.join(saved)}{',' if len(saved) == 1 else ''})"]
        src += ["", f"    def backward({', '.join(['g'] + saved)}):",
                '        """g: the gradient on the outputs; returns the leaves\' gradients."""']
        src += [f"        {n}.fill(0)" if rows is None else f"        {n}[{rows}] = 0"
                for n, rows in self.gzero]
        src += ["        " + x for x in self.bwd]
        src += ["", "    return forward, backward", ""]
        return "\n".join(src)

    def helper_order(self, text):
        """The pasted helpers the text calls, and the ones they call, in a fixed order."""
        table = helpers()
        need, todo = [], [n for n in code_names(text) if n in table]
        while todo:
            n = todo.pop()
            if n in need:
                continue
            need.append(n)
            body = helper_source(table[n])
            todo += [m for m in code_names(body) if m in table and m != n and m not in need]
        return sorted(need)
