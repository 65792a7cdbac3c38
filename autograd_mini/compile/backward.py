"""The backward half of code generation: the program's ops in reverse, each VJP formula
written out with its operands' names (see codegen.py for the forward half and the names).

Gradients are summed where they arrive, as the engine's backward does: into a variable
``dW`` for a value outside loops, into a row ``dh[t]`` of a buffer for a loop value kept
per step, or into a temporary of the step. A loop runs backwards over t; an op's gradient
into a loop-invariant or hoisted input is *deferred* to after the loop, where it is one
product (or one sum) over the stacked steps.
"""
import ast
import functools

import numpy as np

from . import batch
from .blocks import Block, NoBlock
from .codegen import dummy, render, unparse
from .reroll import Aff, RefC
from .trace import Ref


class Backward:
    def __init__(self, gen, blocked=()):
        self.blocked = set(blocked)     # ids of the loops written in blocks (blocks.py)
        self.gen, self.prog, self.vals = gen, gen.prog, gen.vals
        self.gvar = {}              # gradient key -> variable name
        self.temps = set()          # step temporaries assigned so far in this loop body
        self.lines = gen.bwd
        self.written = set()        # gradient buffers written so far (in program order)
        self.carried = set()        # buffers of the current loop that carries write into

    def write(self, buf, rows, text, lines, full=False):
        """``buf[rows] += text``; or, for the buffer's first write when it covers every
        step's row (``full``), ``buf[rows] = text``: then the buffer is not zeroed before
        each backward (only the rows before the first step, where carries sum into)."""
        first = buf not in self.written
        self.written.add(buf)
        if self.gen.block is not None and buf in self.carried:
            full = False        # a block's rows also take the carry from the block after
        if first and full:
            if buf in self.carried:
                self.gen.gzero.append((buf, f":{self.gen.gbase[buf]}"))
            lines.append(assign(f"{buf}[{rows}]", text))
            return
        if first:
            self.zero(buf)
        lines.append(f"{buf}[{rows}] += {text}")

    def zero(self, buf):
        """buf is zeroed before its first write: once, or at each block for a block's rows."""
        block = self.gen.block
        if block is not None and buf in block.bufs:
            block.zero.append(buf)
            if buf in self.carried:
                self.gen.gzero.append((buf, f":{self.gen.gbase[buf]}"))
        else:
            self.gen.gzero.append((buf, None))

    def rows(self, loop, buf, d, mode):
        """Rows of gradient buffer buf at step t (mode "step") or at every step, d back."""
        block = self.gen.block
        if block is not None and block.loop is loop:
            return block.rows(buf, d, mode)
        if mode == "step":
            return "t" if not d else f"t - {d}"
        return f"{loop.base - d}:{-d if d else ''}"

    # ------------------------------------------------------------------ accumulate
    def key(self, v):
        where = self.gen.where.get(v)
        if where is None:
            return v
        loop, j, k, slot = where
        if self.gen.plans[loop.id].place[j] in ("inv", "reduce"):
            return ("I", loop.id, j, slot)
        return ("B", loop, j, k, slot)

    def gname(self, key, wish):
        if key not in self.gvar:
            self.gvar[key] = self.gen.names.make("d" + wish)
        return self.gvar[key]

    def acc(self, key, wish, shape, dtype, text, lines, pre=None):
        """Add ``text`` into the gradient variable of ``key`` (``pre``: inside a loop, the
        lines before it, where a first zero goes)."""
        fresh = key not in self.gvar
        name = self.gname(key, wish)
        block = self.gen.block
        if fresh and block is not None:     # summed block by block, in place
            block.outer.append(f"{name} = np.zeros({shape}, np.{np.dtype(dtype).name})")
            block.sums.add(name)
            fresh = False
        if block is not None and name in block.sums:
            lines.append(f"{name} += {text}")
            return
        if fresh and pre is not None:
            pre.append(f"{name} = np.zeros({shape}, np.{np.dtype(dtype).name})")
            fresh = False
        lines.append(f"{name} = {text}" if fresh else f"{name} = {name} + {text}")

    def into(self, v, text, lines, pre=None):
        """Add ``text`` into the gradient of value v, read outside loops (or invariant)."""
        key = self.key(v)
        if key[0] == "B" if isinstance(key, tuple) else False:
            _, loop, j, k, slot = key
            if loop.id in self.blocked:     # a row outside the blocks' rows
                raise NoBlock(loop.id)
            buf = self.gen.alloc(loop, j, slot, grad=True)
            self.write(buf, self.gen.row(loop, loop.base + k), text, lines)
            return
        wish = self.gen.sref(v) if not isinstance(key, tuple) else \
            self.gen.loop_name(self.gen.loops[key[1]], key[2], key[3])
        val = self.vals[v]
        self.acc(key, _ident(wish), val.shape, val.dtype, text, lines, pre)

    def grad_of(self, v):
        return self.gvar.get(self.key(v))

    # ------------------------------------------------------------------ formulas
    def vjp(self, rule, m, env, g, target, override=None):
        """The gradient into input m as source text, summed to ``target`` (shape, text)
        when the formula's result is larger (broadcasting, or the steps' axis)."""
        texts, arrays, shapes = env
        formula = override or rule.vjp(m).expr
        if rule.name == "transpose" and texts.get("axes") == "None":
            formula = "g.T"             # the reverse of all axes undoes itself
        names = dict(texts, g=g[0], i=str(m))
        raw = {"index": names.pop("index_raw")} if "index_raw" in names else {}
        text = render(formula, names, shapes=shapes, raw=raw)
        probe = dict(arrays, g=g[1], i=m)
        with np.errstate(all="ignore"):
            got = batch.probe_shape(formula, probe)
        if got != target[0]:
            text = summed(text, got, target)
        return text

    def env(self, op, loop, j, mode, form=None, m_fold=None):
        """(name -> source text, name -> dummy array, name -> shape text) for op's
        inputs, result, aux value and parameters."""
        gen, rule = self.gen, op.rule
        texts, arrays, shapes = {}, {}, {}
        stack = mode == "stack"
        folds = form.folds.get(m_fold, {}) if form is not None else {}
        for m, v in enumerate(op.ins):
            name = rule.inputs[0] if rule.variadic else rule.inputs[m]
            if loop is None:
                t, st = gen.sref(v), False
            else:
                c = loop.ins[j][m]
                t = gen.cref(loop, c, mode)
                st = stack and batch._class_stacked(c, gen.plans[loop.id])
            shape = self.vals[v].shape
            a = dummy(((loop.n,) if st else ()) + shape, self.vals[v].dtype)
            s = gen.stacked_shape(loop, shape) if st else str(tuple(shape))
            if name in folds:
                t, a = f"{t}.reshape{folds[name]}", a.reshape(folds[name])
            if rule.variadic:
                texts.setdefault(name, []).append(t)
                arrays.setdefault(name, []).append(a)
            else:
                texts[name], arrays[name], shapes[name] = t, a, s
        if rule.variadic:
            texts = {k: "[" + ", ".join(x) + "]" for k, x in texts.items()}
        for slot, o in enumerate(op.outs):
            name = rule.aux if slot else "out"
            if loop is None:
                t = gen.sref(o)
            else:
                pl = gen.plans[loop.id]
                t = gen.lref(loop, j, slot, mode, 0)
                if pl.place[j] == "inv":
                    t = gen.loop_name(loop, j, slot)
            st = stack
            a = dummy(((loop.n,) if st else ()) + self.vals[o].shape, self.vals[o].dtype)
            texts[name], arrays[name] = t, a
        params = form.params if form is not None else dict(zip(rule.params, loop.params[j]
                                                              if loop else op.params))
        for p in rule.params:
            value = params[p]
            texts[p] = gen.pshow(value, loop, mode) if loop else gen.pshow(value, None, None)
            arrays[p] = self.dummy_param(value, loop, stack)
        if "index" in rule.params:
            value = params["index"]
            texts["index_raw"] = gen.pshow(value, loop, mode, True) if loop else \
                gen.pshow(value, None, None, True)
        return texts, arrays, shapes

    def dummy_param(self, p, loop, stack):
        if isinstance(p, Aff):
            return p.a
        if isinstance(p, (RefC, Ref)):
            c = p.c if isinstance(p, RefC) else ("E", p.v)
            v = self.class_value(loop, c)
            st = stack and batch._class_stacked(c, self.gen.plans[loop.id]) if loop else False
            return dummy(((loop.n,) if st else ()) + self.vals[v].shape, self.vals[v].dtype)
        if isinstance(p, tuple):
            return tuple(self.dummy_param(q, loop, stack) for q in p)
        if isinstance(p, slice):
            return slice(*(self.dummy_param(q, loop, stack) for q in (p.start, p.stop, p.step)))
        return p

    def class_value(self, loop, c):
        """A value (of the last step) that class c stands for."""
        if c[0] == "E":
            return c[1]
        if c[0] == "L":
            return self.prog.ops[loop.op(c[1], loop.n - 1)].outs[c[2]]
        if c[0] == "C":
            return self.prog.ops[loop.op(c[2], loop.n - 1)].outs[c[3]]
        _, other, j, slot, _ = c
        return self.prog.ops[other.op(j, other.n - 1)].outs[slot]

    # ------------------------------------------------------------------ the walk
    def generate(self, order):
        loss = self.prog.outputs[0]
        if self.vals[loss].grad:
            self.into(loss, "g", self.lines)
        for item in reversed(order):
            if isinstance(item, int):
                self.straight(self.prog.ops[item])
            else:
                self.loop(item)
        grads = []
        for v in self.prog.grad_leaves:
            name = self.gvar.get(self.key(v))
            val = self.vals[v]
            grads.append(name or f"np.zeros({tuple(val.shape)}, np.{val.dtype.name})")
        self.lines.append(f"return ({', '.join(grads)}{',' if len(grads) == 1 else ''})")

    def straight(self, op):
        if self.gen.is_view(op):
            return
        g = self.grad_of(op.outs[0])
        if g is None:
            return
        steps = self.gen.all_steps(op)
        if steps is not None:
            self.all_steps(op, g)
            return
        out = self.vals[op.outs[0]]
        texts, arrays, shapes = self.env(op, None, None, "straight")
        for m, v in enumerate(op.ins):
            if not (op.flows[m] and self.vals[v].grad):
                continue
            shape = self.vals[v].shape
            text = self.vjp(op.rule, m, (texts, arrays, shapes), (g, dummy(out.shape, out.dtype)),
                            (shape, str(tuple(shape))))
            self.lines.append(f"# {op.rule.vjp_text(m)}")
            self.into(v, text, self.lines)

    def all_steps(self, op, g):
        loop, j, _, slot = self.gen.where[op.ins[0]]
        if loop.id in self.blocked:
            raise NoBlock(loop.id)
        buf = self.gen.alloc(loop, j, slot, grad=True)
        axis = dict(zip(op.rule.params, op.params))["axis"]
        if op.rule.name == "stack":
            text = f"np.moveaxis({g}, {axis}, 0)" if axis else g
        elif axis == 0:
            shape = self.vals[op.ins[0]].shape
            text = f"{g}.reshape{self.gen.stacked_shape(loop, shape)}"
        else:
            text = f"np.stack(np.split({g}, {self.gen.n_text(loop)}, axis={axis}))"
        self.lines.append(f"# {op.rule.vjp_text(0)}, for every step at once")
        self.write(buf, f"{loop.base}:", text, self.lines, full=True)

    # ------------------------------------------------------------------ loops
    def loop(self, loop):
        gen, pl = self.gen, self.gen.plans[loop.id]
        body = [self.prog.ops[loop.op(j, loop.n - 1)] for j in range(loop.P)]
        self.lines.append(f"# loop {loop.id}, backwards")
        block = gen.block = Block(gen, loop) if loop.id in self.blocked else None
        lines = [] if block else self.lines
        self.carried = set()
        for r in range(loop.P):
            for m, c in enumerate(loop.ins[r]):
                if c[0] == "C" and body[r].flows[m] and pl.place[r] == "loop" \
                        and self.wants(loop, c):
                    self.carried.add(gen.alloc(loop, c[2], c[3], grad=True))
        self.after_loop(loop, body, lines, block.outer if block else lines)
        self.steps(loop, body, lines)
        for j in range(loop.P - 1, -1, -1):
            for m in range(len(body[j].ins)):
                if pl.deferred.get((j, m)):
                    self.deferred(loop, j, m, body[j], lines)
        if block:
            self.before_loop(loop, body, lines)
            gen.block = None
            note = " and ".join(sorted(block.bufs)) or "the gradients"
            self.lines += block.wrap(gen, lines, note, self.carried)
        for (j, slot, row), c in sorted(loop.init.items(), key=lambda kv: kv[0], reverse=True):
            key = ("g", loop.id, j, slot)
            if key in gen.bufname and pl.place[j] != "reduce" and self.wants(loop, c):
                self.into_class(loop, c, f"{gen.bufname[key]}[{loop.base + row}]", "step",
                                self.lines)
        if not block:
            self.before_loop(loop, body, self.lines)
        for j in range(loop.P - 1, -1, -1):
            if pl.place[j] == "inv":
                self.invariant(loop, j, body[j], self.lines)

    def after_loop(self, loop, body, lines, outer):
        """The ops run on every step at once after the forward loop (the losses, their sum)."""
        pl = self.gen.plans[loop.id]
        for j in range(loop.P - 1, -1, -1):
            if pl.place[j] == "reduce":
                g = self.gvar.get(("I", loop.id, j, 0))
                if g is None:
                    continue
                m = pl.reduce[j]
                lines.append("# add: dA = g; dB = g, for every step")
                self.into_class(loop, loop.ins[j][m], g, "stack", lines)
                init = loop.init.get((j, 0, -1))
                if init is not None and init[0] == "E" and self.vals[init[1]].grad:
                    self.into(init[1], g, outer)
            elif pl.place[j] == "post":
                self.stacked(loop, j, body[j], lines)

    def before_loop(self, loop, body, lines):
        """The ops run on every step at once before the forward loop (input projections)."""
        pl = self.gen.plans[loop.id]
        for j in range(loop.P - 1, -1, -1):
            if pl.place[j] == "pre":
                self.stacked(loop, j, body[j], lines)

    def steps(self, loop, body, lines):
        """The backward loop over t, and the lines it needs before it (``pre``)."""
        gen, pl = self.gen, self.gen.plans[loop.id]
        step, pre = [], []
        self.temps = set()
        for j in range(loop.P - 1, -1, -1):
            if pl.place[j] == "loop":
                self.step(loop, j, body[j], step, pre)
        lines += pre
        if not step:
            return
        if gen.block is not None:
            lines.append(f"for t in range({gen.block.t1} - 1, {gen.block.t0} - 1, -1):")
        else:
            n = gen.n_text(loop)
            top = n if loop.base == 1 else f"{n} + {loop.base - 1}"
            lines.append(f"for t in range({top}, {loop.base - 1}, -1):")
        lines += ["    " + x for x in step]

    def wants(self, loop, c):
        return self.vals[self.class_value(loop, c)].grad

    def g_of(self, loop, j, mode):
        """The gradient on body op j's result, at step t or for every step."""
        gen, pl = self.gen, self.gen.plans[loop.id]
        j = pl.gsource(j)
        if pl.place[j] == "inv":
            return self.gvar.get(("I", loop.id, j, 0))
        if pl.gstacked[j]:
            buf = gen.alloc(loop, j, 0, grad=True)
            return f"{buf}[{self.rows(loop, buf, 0, mode)}]"
        name = self.gvar.get(("T", loop.id, j))
        return name if name in self.temps else None

    def into_class(self, loop, c, text, mode, lines, pre=None, shift=0):
        gen = self.gen
        if c[0] == "E":
            if self.vals[c[1]].grad:
                self.into(c[1], text, lines, pre)
            return
        if c[0] == "O":
            _, other, j, slot, aff = c
            buf = gen.alloc(other, j, slot, grad=True)
            row = Aff(aff.a + other.base, aff.b)
            rows = gen.aff_text(row, loop) if mode == "step" else gen.aff_slice(row, loop)
            self.write(buf, rows, text, lines)
            return
        j, slot, d = (c[1], c[2], 0) if c[0] == "L" else (c[2], c[3], c[1])
        pl = gen.plans[loop.id]
        v = self.prog.ops[loop.op(j, loop.n - 1)].outs[slot]
        if not self.vals[v].grad:
            return
        if pl.place[j] == "inv":
            val = self.vals[v]
            self.acc(("I", loop.id, j, slot), gen.loop_name(loop, j, slot), val.shape,
                     val.dtype, text, lines, pre)
            return
        if pl.gstacked[j] or d:
            buf = gen.alloc(loop, j, slot, grad=True)
            rows = self.rows(loop, buf, d, mode)
            full = not d and (mode == "stack" or buf not in self.carried)
            self.write(buf, rows, text, lines, full)
            return
        key = ("T", loop.id, j)
        name = self.gname(key, gen.loop_name(loop, j, slot))
        lines.append(f"{name} = {name} + {text}" if name in self.temps else f"{name} = {text}")
        self.temps.add(name)

    def target(self, loop, c, mode):
        """(shape, shape text) that the gradient into class c must have."""
        v = self.class_value(loop, c)
        shape = tuple(self.vals[v].shape)
        if mode == "stack" and batch._class_stacked(c, self.gen.plans[loop.id]):
            return (loop.n,) + shape, self.gen.stacked_shape(loop, shape)
        return shape, str(shape)

    def step(self, loop, j, op, lines, pre):
        if self.gen.is_view(op) or not any(op.flows):
            return
        g = self.g_of(loop, j, "step")
        if g is None:
            return
        pl = self.gen.plans[loop.id]
        env = self.env(op, loop, j, "step")
        out = self.vals[op.outs[0]]
        for m, c in enumerate(loop.ins[j]):
            if not op.flows[m] or pl.deferred.get((j, m)) or (j, m) in pl.gpass \
                    or not self.wants(loop, c):
                continue
            block = self.block_write(loop, j, op, c, env, g, lines)
            if block:
                continue
            local = self.local_derivative(loop, j, op, m, pre)
            if local is not None:
                text = f"{g} * {local}"
            else:
                text = self.vjp(op.rule, m, env, (g, dummy(out.shape, out.dtype)),
                                self.target(loop, c, "step"))
            lines.append(f"# {op.rule.vjp_text(m)}")
            self.into_class(loop, c, text, "step", lines, pre)

    def block_write(self, loop, j, op, c, env, g, lines):
        """getitem with a fixed basic index (an LSTM's gate block ``a[:, 128:256]``) into
        a value with a row per step: ``da[t][..., 128:256] += g``, instead of a zero array
        of the whole row with g scattered in. True when written."""
        gen, pl = self.gen, self.gen.plans[loop.id]
        if op.rule.name != "getitem" or c[0] not in ("L", "C"):
            return False
        index = dict(zip(op.rule.params, loop.params[j]))["index"]
        if not basic(index):
            return False
        i, slot, d = (c[1], c[2], 0) if c[0] == "L" else (c[2], c[3], c[1])
        if not (pl.gstacked.get(pl.gsource(i)) or d) or pl.place[i] == "inv" or slot:
            return False
        buf = gen.alloc(loop, i, slot, grad=True)
        rows = self.rows(loop, buf, d, "step")
        lines.append(f"# {op.rule.vjp_text(0)}: g into x's block {env[0]['index_raw']}")
        if buf not in self.written:
            self.zero(buf)
            self.written.add(buf)
        lines.append(f"{buf}[{rows}][{env[0]['index_raw']}] += {g}")
        return True

    def local_derivative(self, loop, j, op, m, pre):
        """For an elementwise op whose formula is ``g * (what does not depend on g)``
        (tanh: ``g * (1 - out**2)``): that factor for every step at once, before the
        backward loop (into ``pre``), so the loop only multiplies. Returns its row at step
        t, or None when the formula is not of that form or names a value without rows."""
        gen, pl = self.gen, self.gen.plans[loop.id]
        rule = op.rule
        if rule.name not in batch.ELEMENTWISE or rule.variadic:
            return None
        factor = split_g(rule.vjp(m).expr)
        if factor is None or self.vals[op.ins[m]].shape != self.vals[op.outs[0]].shape:
            return None
        for name in {n.id for n in ast.walk(ast.parse(factor)) if isinstance(n, ast.Name)}:
            if name == "out":
                if not pl.stacked[(j, 0)]:
                    return None
            elif name in rule.inputs:
                c = loop.ins[j][rule.inputs.index(name)]
                if c[0] in ("L", "C") and not (pl.stacked.get((c[-2], c[-1])) or
                                               gen.is_view(self.prog.ops[loop.op(c[-2], 0)])):
                    return None
            elif name in rule.params or name not in gen_namespace():
                return None
        texts = self.env(op, loop, j, "stack")[0]
        buf = self.local_home(loop, loop.ins[j][m])
        if buf is not None:     # into the rows of the gradient it multiplies: no buffer
            lines = in_place(render(factor, texts), f"{buf}[{self.rows(loop, buf, 0, 'stack')}]")
            if lines is not None:
                pre.append(f"# {rule.name}: {factor}, for every step at once, into {buf}'s "
                           "rows (the loop multiplies them by g in place)")
                pre += lines
                return f"{buf}[{self.rows(loop, buf, 0, 'step')}]"
        name = gen.names.make(f"{gen.loop_name(loop, j, 0)}_local")
        pre.append(f"# {rule.name}: {factor}, for every step at once")
        pre.append(f"{name} = {render(factor, texts)}")
        first = gen.block.t0 if gen.block is not None else loop.base
        return f"{name}[{'t' if first == 0 else f't - {first}'}]"

    def local_home(self, loop, c):
        """The gradient buffer that input class c's gradient is first assigned into,
        row t at step t, with nothing written into it before: a local derivative can wait
        in its rows. None otherwise."""
        pl = self.gen.plans[loop.id]
        if c[0] != "L" or c[2] != 0 or pl.place[c[1]] == "inv" or not pl.gstacked[c[1]]:
            return None
        v = self.prog.ops[loop.op(c[1], loop.n - 1)].outs[0]
        buf = self.gen.alloc(loop, c[1], 0, grad=True)
        if not self.vals[v].grad or buf in self.written or buf in self.carried:
            return None
        return buf

    def stacked(self, loop, j, op, lines, only=None):
        if self.gen.is_view(op) or not any(op.flows):
            return
        g = self.g_of(loop, j, "stack")
        if g is None:
            return
        form = batch.form(self.prog, loop, j, self.gen.plans[loop.id])
        out = self.vals[op.outs[0]]
        for m, c in enumerate(loop.ins[j]):
            if only is not None and m != only:
                continue
            if not op.flows[m] or (j, m) in self.gen.plans[loop.id].gpass \
                    or not self.wants(loop, c):
                continue
            env = self.env(op, loop, j, "stack", form, m)
            gm, gd = g, dummy((loop.n,) + out.shape, out.dtype)
            fold = form.folds.get(m, {}).get("g")
            if fold:
                gm, gd = f"{g}.reshape{fold}", gd.reshape(fold)
            text = self.vjp(op.rule, m, env, (gm, gd), self.target(loop, c, "stack"),
                            form.vjp.get(m))
            note = "summed over t" if m in form.vjp or fold else "every step at once"
            lines.append(f"# {op.rule.vjp_text(m)}   ({note})")
            self.into_class(loop, c, text, "stack", lines)

    def deferred(self, loop, j, m, op, lines):
        self.stacked(loop, j, op, lines, only=m)

    def invariant(self, loop, j, op, lines):
        g = self.gvar.get(("I", loop.id, j, 0))
        if g is None:
            return
        env = self.env(op, loop, j, "step")
        out = self.vals[op.outs[0]]
        for m, c in enumerate(loop.ins[j]):
            if not op.flows[m] or not self.wants(loop, c):
                continue
            text = self.vjp(op.rule, m, env, (g, dummy(out.shape, out.dtype)),
                            self.target(loop, c, "step"))
            lines.append(f"# {op.rule.vjp_text(m)}")
            self.into_class(loop, c, text, "step", lines)


_UFUNC = {ast.Add: "np.add", ast.Sub: "np.subtract", ast.Mult: "np.multiply",
          ast.Div: "np.divide", ast.MatMult: "np.matmul"}


def basic(index):
    """An index of fixed ints and slices (no array, nothing varying with t)."""
    parts = index if isinstance(index, tuple) else (index,)
    for p in parts:
        if isinstance(p, Aff):
            if p.b:
                return False
        elif isinstance(p, slice):
            if not basic(tuple(q for q in (p.start, p.stop, p.step) if q is not None)):
                return False
        elif not (p is None or p is Ellipsis or (isinstance(p, (int, np.integer))
                                                  and not isinstance(p, bool))):
            return False
    return True


def summed(text, got, target):
    """``unbroadcast(text, shape)`` with the axes worked out now (the shapes are fixed
    for the signature): ``text.sum(axis=(0, 1))``, as one would write it by hand."""
    shape = tuple(target[0])
    extra = len(got) - len(shape)
    if extra < 0 or any(n != 1 and n != m for n, m in zip(shape, got[extra:])):
        return f"unbroadcast({text}, {target[1]})"
    stretched = tuple(k for k, n in enumerate(shape) if n == 1 and got[extra + k] != 1)
    node = ast.parse(text, mode="eval").body
    if not isinstance(node, (ast.Name, ast.Subscript, ast.Call, ast.Attribute)):
        text = f"({text})"

    def axes(a):
        return str(a[0]) if len(a) == 1 else str(a)
    if extra:
        text = f"{text}.sum(axis={axes(tuple(range(extra)))})"
    if stretched:
        text = f"{text}.sum(axis={axes(stretched)}, keepdims=True)"
    return text


def split_g(formula):
    """``g * a * b`` -> ``a * b`` (the factors besides g), when g is one factor of a
    product and appears nowhere else; else None (also when the rest is a bare name)."""
    factors = []

    def walk(x):
        if isinstance(x, ast.BinOp) and isinstance(x.op, ast.Mult):
            walk(x.left), walk(x.right)
        else:
            factors.append(x)
    walk(ast.parse(formula, mode="eval").body)
    gs = [f for f in factors if isinstance(f, ast.Name) and f.id == "g"]
    rest = [f for f in factors if f not in gs]
    if len(gs) != 1 or not rest or any(isinstance(n, ast.Name) and n.id == "g"
                                       for f in rest for n in ast.walk(f)):
        return None
    if len(rest) == 1 and isinstance(rest[0], (ast.Name, ast.Constant)):
        return None
    return unparse(functools.reduce(lambda a, b: ast.BinOp(a, ast.Mult(), b), rest))


def gen_namespace():
    from .codegen import namespace
    return namespace()


def assign(target, text):
    """``target = text``, written as ``np.multiply(a, b, out=target)`` when ``text`` is one
    product or sum: the result goes straight into the buffer's row, with no temporary."""
    tree = ast.parse(text, mode="eval").body
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) \
            and tree.func.id in OUT_HELPERS:
        return f"{text[:-1]}, out={target})"
    if isinstance(tree, ast.BinOp) and type(tree.op) in _UFUNC:
        return f"{_UFUNC[type(tree.op)]}({unparse(tree.left)}, " \
               f"{unparse(tree.right)}, out={target})"
    return f"{target} = {text}"


OUT_HELPERS = {"softmax_cross_entropy_grad_steps"}     # pasted helpers taking out=


def in_place(text, target):
    """Lines computing expression ``text`` into ``target`` with ufuncs, each writing
    into target (``1 - h ** 2``: ``np.square(h, out=d)``, ``np.subtract(1, d, out=d)``),
    so that no temporary of its size is made; None when both sides of an operation are
    themselves operations."""
    tree = ast.parse(text, mode="eval").body
    lines = []

    def emit(node):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) \
                and isinstance(node.right, ast.Constant) and node.right.value == 2:
            if not emit_leaf_or(node.left, lambda a: f"np.square({a}, out={target})"):
                return False
            return True
        if isinstance(node, ast.BinOp) and type(node.op) in _UFUNC \
                and not isinstance(node.op, ast.MatMult):   # (elementwise only)
            f = _UFUNC[type(node.op)]
            left, right = compound(node.left), compound(node.right)
            if left and right:
                return False
            if left or right:
                if not emit(node.left if left else node.right):
                    return False
                a = target if left else unparse(node.left)
                b = target if right else unparse(node.right)
                lines.append(f"{f}({a}, {b}, out={target})")
                return True
            lines.append(f"{f}({unparse(node.left)}, {unparse(node.right)}, "
                         f"out={target})")
            return True
        return False

    def emit_leaf_or(node, line):
        if compound(node):
            if not emit(node):
                return False
            lines.append(line(target))
            return True
        lines.append(line(unparse(node)))
        return True

    return lines if emit(tree) else None


def compound(node):
    return isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Call))


def _ident(text):
    import re
    return re.sub(r"\W", "_", text)
