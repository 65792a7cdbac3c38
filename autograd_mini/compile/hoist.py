"""Hoisting: which ops of a loop must run step by step, and which run once for all steps.

Each op of a loop's body is placed:

- ``inv``: reads only loop-invariant values (``W.T``): computed once, before the loop;
- ``pre``: does not depend on the recurrence (the input projection ``x(t) @ U.T``):
  computed on all steps at once, before the loop, on the stacked inputs;
- ``loop``: on the recurrence (h(t) from h(t-1)), or cannot be batched: in the loop;
- ``post``: depends on the recurrence but does not feed it (the output layer, each
  step's loss): computed on all steps at once, after the loop;
- ``reduce``: ``loss = loss + L(t)``, a running sum nothing else reads: one sum after it.

In the backward pass the same split holds, and a loop op's gradient into an invariant
or hoisted input (dW from ``h(t-1) @ W.T``) is *deferred*: computed after the loop as one
product of the stacked factors instead of T small ones.
"""
import numpy as np

from . import batch
from .reroll import Aff, RefC


class Plan:
    """The placement of one loop's ops, and which values are stored for every step.

    ``place[j]``: "inv", "pre", "loop", "post" or "reduce". ``stacked[(j, slot)]``: the
    value has a buffer with a row per step (else it is a temporary of the step).
    ``gstacked[j]``: likewise for its gradient. ``deferred[(j, m)]``: input m's gradient
    is computed after the loop on the stacked operands."""

    def __init__(self, loop):
        self.loop = loop
        self.place, self.stacked, self.gstacked, self.deferred = {}, {}, {}, {}
        self.reduce = {}        # j -> the position of the input that is summed
        self.galias = {}        # j -> j': j's gradient *is* j''s (handed on unchanged)
        self.gpass = set()      # (j', m): the gradient j' hands on to input m: no line

    def gsource(self, j):
        """The op whose gradient storage op j's gradient is (itself, unless aliased)."""
        while j in self.galias:
            j = self.galias[j]
        return j


def plan(prog, loop, external):
    """Place the ops of ``loop``. ``external``: {(j, slot)} read outside the loop."""
    ops, vals = prog.ops, prog.vals
    P = loop.P
    _fold_invariant(prog, loop, external)
    body = [ops[loop.op(j, loop.n - 1)] for j in range(P)]
    pl = Plan(loop)
    readers = {j: [] for j in range(P)}         # j -> [(reader j', class)]
    for j in range(P):
        for c in loop.ins[j] + tuple(_param_classes(loop.params[j])):
            if c[0] in ("L", "C"):
                readers[c[-2]].append((j, c))
    # running sums: loss = loss + L(t), where the partial sums are read by nothing else
    for j in range(P):
        op = body[j]
        if op.rule.name != "add":
            continue
        for m, c in enumerate(loop.ins[j]):
            other = loop.ins[j][1 - m]
            if c[:1] == ("C",) and c[1:] == (1, j, 0) and other != c \
                    and readers[j] == [(j, c)] and body[j].flows[m] \
                    and vals[op.outs[0]].shape == vals[op.ins[1 - m]].shape \
                    and set(external.get(j, ())) <= {loop.n - 1}:
                pl.reduce[j] = 1 - m
                break
    carried = {c[2] for j in range(P) if j not in pl.reduce
               for c in loop.ins[j] if c[0] == "C"}
    rec = {}
    for j in range(P):
        rec[j] = j not in pl.reduce and any(
            c[0] == "C" or (c[0] == "L" and rec[c[1]]) for c in loop.ins[j])
    feeds = {}
    for j in range(P - 1, -1, -1):
        feeds[j] = j in carried or any(feeds[r] for r, c in readers[j]
                                       if c[0] == "L" and r > j and r not in pl.reduce)
    for j in range(P):
        classes = loop.ins[j]
        if j in pl.reduce:
            pl.place[j] = "reduce"
        elif all(c[0] == "E" for c in classes) and _invariant(loop.params[j]):
            pl.place[j] = "inv"
        elif not rec[j] and all(c[0] != "L" or pl.place[c[1]] in ("inv", "pre")
                                for c in classes + tuple(_param_classes(loop.params[j]))) \
                and _batchable(prog, loop, j, pl):
            pl.place[j] = "pre"
        else:
            pl.place[j] = "loop"
    for j in range(P - 1, -1, -1):
        if pl.place[j] == "loop" and not (rec[j] and feeds[j]) \
                and all(pl.place[r] in ("post", "reduce") for r, _ in readers[j]) \
                and _batchable(prog, loop, j, pl):
            pl.place[j] = "post"
    pl.readers, pl.external = readers, external
    _storage(prog, loop, pl, body, readers, external)
    _aliases(prog, loop, pl, body, readers, external)
    return pl


def _recurrent(loop):
    rec = {}
    for j in range(loop.P):
        rec[j] = any(c[0] == "C" or (c[0] == "L" and rec[c[1]]) for c in loop.ins[j])
    return rec


def _fold_invariant(prog, loop, external):
    """``(x(t) U^T + h(t-1) W^T) + b`` -> ``(x(t) U^T + b) + h(t-1) W^T``: an invariant
    added to a sum of a hoistable and a recurrent term joins the hoistable one, so the bias
    is added once for all steps, before the loop (the sum is reassociated: the result may
    differ from eager's in the last bit)."""
    ops, vals, P = prog.ops, prog.vals, loop.P
    body = [ops[loop.op(j, loop.n - 1)] for j in range(P)]
    count = {}
    for j in range(P):
        for c in loop.ins[j] + tuple(_param_classes(loop.params[j])):
            if c[0] in ("L", "C"):
                count[(c[-2], c[-1])] = count.get((c[-2], c[-1]), 0) + 1
    rec = _recurrent(loop)
    for j in range(P):
        if body[j].rule.name != "add":
            continue
        for m in (0, 1):
            c, e = loop.ins[j][m], loop.ins[j][1 - m]
            if c[0] != "L" or c[2] != 0 or e[0] != "E":
                continue
            i = c[1]
            inner = body[i]
            if inner.rule.name != "add" or count.get((i, 0)) != 1 or i in external:
                continue
            recs = [x[0] == "C" or (x[0] == "L" and rec[x[1]]) for x in loop.ins[i]]
            if recs.count(True) != 1:
                continue
            r = recs.index(True)
            out = vals[inner.outs[0]]
            a, rv, ev = (vals[v] for v in (inner.ins[1 - r], inner.ins[r], body[j].ins[1 - m]))
            try:
                shape = np.broadcast_shapes(a.shape, ev.shape)
            except ValueError:
                continue
            if rv.shape != out.shape or shape != out.shape or \
                    len({a.dtype, rv.dtype, ev.dtype, out.dtype}) != 1:
                continue
            for k in range(loop.n):                 # swap r and e in every step
                op_i, op_j = ops[loop.op(i, k)], ops[loop.op(j, k)]
                ins_i, ins_j = list(op_i.ins), list(op_j.ins)
                fl_i, fl_j = list(op_i.flows), list(op_j.flows)
                ins_i[r], ins_j[1 - m] = ins_j[1 - m], ins_i[r]
                fl_i[r], fl_j[1 - m] = fl_j[1 - m], fl_i[r]
                op_i.ins, op_j.ins = tuple(ins_i), tuple(ins_j)
                vals[op_i.outs[0]].grad = any(f and vals[v].grad for f, v in zip(fl_i, ins_i))
                fl_j[m] = vals[op_i.outs[0]].grad
                op_i.flows, op_j.flows = tuple(fl_i), tuple(fl_j)
            ci, cj = list(loop.ins[i]), list(loop.ins[j])
            ci[r], cj[1 - m] = cj[1 - m], ci[r]
            loop.ins[i], loop.ins[j] = tuple(ci), tuple(cj)
            last = loop.n - 1
            loop.flows[i], loop.flows[j] = ops[loop.op(i, last)].flows, ops[loop.op(j, last)].flows
            rec = _recurrent(loop)
            break


def _aliases(prog, loop, pl, body, readers, external):
    """A gradient handed on unchanged (add: ``dA = g``) into a value that only this op
    reads *is* this op's gradient: one buffer and no line, where the hand derivation
    writes ``da = dh * (1 - h**2)`` once and uses it for db, dW and dU alike."""
    vals = prog.vals
    for j in range(loop.P - 1, -1, -1):
        op = body[j]
        if pl.place[j] in ("inv", "reduce") or op.rule.variadic:
            continue
        for m, c in enumerate(loop.ins[j]):
            if c[0] != "L" or c[2] != 0 or not op.flows[m] or op.rule.vjp(m).expr != "g":
                continue
            i = c[1]
            if pl.place[i] in ("inv", "reduce") or i in external or i in pl.galias \
                    or readers[i] != [(j, c)] or len(body[i].outs) != 1:
                continue
            a, b = vals[body[i].outs[0]], vals[op.outs[0]]
            if a.shape != b.shape or a.dtype != b.dtype:
                continue
            pl.galias[i] = j
            pl.gpass.add((j, m))
            if pl.gstacked.get(i) and not pl.gstacked.get(j):
                pl.gstacked[j] = True
            pl.deferred.pop((j, m), None)


def _param_classes(params):
    for p in params:
        if isinstance(p, RefC):
            yield p.c
        elif isinstance(p, tuple):
            yield from _param_classes(p)


def _invariant(params):
    """No value read through a parameter from the loop, and no index that varies."""
    for p in params:
        if isinstance(p, Aff):
            if p.b != 0:
                return False
        elif isinstance(p, RefC):
            if p.c[0] != "E":
                return False
        elif isinstance(p, tuple):
            if not _invariant(p):
                return False
        elif isinstance(p, slice):
            if not _invariant((p.start, p.stop, p.step)):
                return False
    return True


def _batchable(prog, loop, j, pl):
    """Can body op j run on all steps at once? (A view it reads must stack too.)"""
    for c in loop.ins[j] + tuple(_param_classes(loop.params[j])):
        if c[0] == "L" and prog.ops[loop.op(c[1], 0)].rule.name == "view" \
                and pl.place.get(c[1]) != "pre":
            return False
    return batch.can_stack(prog, loop, j, pl)


def _storage(prog, loop, pl, body, readers, external):
    """Which values and gradients need a row per step."""
    P = loop.P
    for j in range(P):
        op = body[j]
        place = pl.place[j]
        for slot in range(len(op.outs)):
            if place in ("pre", "post"):
                pl.stacked[(j, slot)] = True
            elif place in ("inv", "reduce"):
                pl.stacked[(j, slot)] = False
            else:
                pl.stacked[(j, slot)] = _needs_rows(loop, pl, body, j, slot, readers, external)
    for j in range(P):
        place = pl.place[j]
        if place != "loop":
            pl.gstacked[j] = place in ("pre", "post")
            continue
        op = body[j]
        deferred = False
        for m, c in enumerate(loop.ins[j]):
            if not op.flows[m]:
                continue
            hoisted = c[0] in ("E", "O") or (c[0] == "L" and pl.place[c[1]] in ("inv", "pre"))
            if hoisted and batch.can_defer(prog, loop, j, m, pl):
                pl.deferred[(j, m)] = True
                deferred = True
        outside = any(c[0] == "C" or pl.place[r] != "loop" for r, c in readers[j]) \
            or j in external
        pl.gstacked[j] = deferred or outside
    # a deferred VJP reads its operands for every step
    for (j, m) in pl.deferred:
        rule = body[j].rule
        named = set(rule.vjp(m).names)
        for k, c in enumerate(loop.ins[j]):
            name = rule.inputs[0] if rule.variadic else rule.inputs[k]
            if c[0] == "L" and (name in named or rule.variadic) and pl.place[c[1]] == "loop":
                pl.stacked[(c[1], c[2])] = True
        if "out" in named or (rule.aux and rule.aux in named):
            for slot in range(len(body[j].outs)):
                pl.stacked[(j, slot)] = True


def _needs_rows(loop, pl, body, j, slot, readers, external):
    """A loop value needs a row per step unless only its own step's loop ops read it
    and no gradient formula names it."""
    op = body[j]
    if j in external or any(c[0] == "C" or pl.place[r] != "loop" for r, c in readers[j]
                            if c[-1] == slot):
        return True
    if slot == 1 or (any(op.flows) and "out" in op.rule.saves):
        return True
    for r, c in readers[j]:
        if c[0] != "L" or c[-1] != slot:
            continue
        reader = body[r]
        if not any(reader.flows):
            continue
        names = [reader.rule.inputs[m] if m < len(reader.rule.inputs) else None
                 for m, cc in enumerate(loop.ins[r]) if cc == c]
        if reader.rule.variadic or any(n in reader.rule.saves for n in names) \
                or c in list(_param_classes(loop.params[r])):
            return True
    return False
