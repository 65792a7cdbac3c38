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


def plan(prog, loop, external):
    """Place the ops of ``loop``. ``external``: {(j, slot)} read outside the loop."""
    ops, vals = prog.ops, prog.vals
    P = loop.P
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
    _storage(prog, loop, pl, body, readers, external)
    return pl


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
