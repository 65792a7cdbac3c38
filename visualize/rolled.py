"""The rolled view: every time step drawn once, the recurrence as a back-edge.

Values at different steps that play the same part (the k-th ``matmul`` of a step, in
the same inner scope) merge into one box, whose gradient is the sum over the steps: the
same sum BPTT makes for a shared parameter. Names numbered by step become relative to
the step: ``h(2)`` read in step 3 is ``h(t-1)``, ``h(1)`` read there is ``h(t-2)``. An
edge of the recurrence becomes one back-edge per distance, labelled ``t-1 -> t`` (or
``t-2 -> t`` for a skip) with the number of steps it stands for. The running sum of the
loss (``loss = loss + L(t)``) is not a recurrence: it is drawn once, outside the step,
as the sum it is, with its own gradient.
"""
import re

import numpy as np

from .trace import Edge, Graph, Value

_NUMBERED = re.compile(r"\((-?\d+)\)")       # h(3)
_STEP = re.compile(r"^(\w+)=(-?\d+)$")       # t=3
LOSS = ("loss",)                             # the template key of the running sum
DROP = ("drop",)                             # its constant start (0 in loss = 0 + L(1))


def _generic(label, step_label):
    """"b + W @ h(2)" at step t=3 -> "b + W @ h(t-1)": a number n of this step becomes t,
    an earlier one t-k; later numbers, and names not numbered by step, stay."""
    m = _STEP.match(step_label or "")
    if not m:
        return _NUMBERED.sub("(t)", label) if label.endswith(")") else label
    var, n = m.group(1), int(m.group(2))

    def name(k):
        k = int(k.group(1))
        return f"({var})" if k == n else f"({var}-{n - k})" if k < n else f"({k})"
    return _NUMBERED.sub(name, label)


def _template_label(members, steps):
    """One label for values merged over steps: relative to the step when that reads the
    same at every step (h(t-1)), else the literal name when that does (h(0) everywhere)."""
    generic = {_generic(m.label, steps[m.step]) for m in members}
    if len(generic) == 1:
        return generic.pop()
    literal = {m.label for m in members}
    if len(literal) == 1:
        return literal.pop()
    return _generic(members[-1].label, steps[members[-1].step])


def _steps_label(steps):
    """"t=1..5" for steps named t=1 .. t=5, otherwise "every step"."""
    m0, m1 = _STEP.match(steps[0]), _STEP.match(steps[-1])
    if m0 and m1 and m0.group(1) == m1.group(1):
        return f"{m0.group(1)}={m0.group(2)}..{m1.group(2)}"
    return "every step"


def _sum(grads):
    grads = [g for g in grads if g is not None]
    if not grads or any(np.shape(g) != np.shape(grads[0]) for g in grads):
        return None
    total = grads[0].copy()
    for g in grads[1:]:
        total = total + g
    return total


def _steps(n):
    return f"{n} step" if n == 1 else f"{n} steps"


def _keys(graph):
    """{value id: template key}: ("op", inner scope, op, k) for the k-th such op of its
    step, LOSS for the running sum, ("in", consumer's key, i) for a constant input."""
    loss = {v.id for v in graph.values if v.running_sum}
    key, seen_in_step = {}, {}
    for v in graph.values:
        if v.id in loss:
            key[v.id] = LOSS
        elif v.kind == "op" and v.step is not None:
            part = (v.scope[1:] if v.scope else ("<outside>",), v.op)
            n = seen_in_step.get((v.step, part), 0)
            seen_in_step[(v.step, part)] = n + 1
            key[v.id] = ("op",) + part + (n,)
    by_id = {v.id: v for v in graph.values}
    for e in graph.edges:       # an input plays the part of its consumer's input i
        if by_id[e.src].kind == "input" and e.dst in key:
            key[e.src] = DROP if key[e.dst] == LOSS else ("in", key[e.dst], e.index)
    return key


def roll(graph):
    """A new Graph with every step merged into one (see the module docstring)."""
    if not graph.steps:
        return graph
    cluster = (_steps_label(graph.steps),)
    var = (_STEP.match(graph.steps[0]) or [None, "t"])[1]
    key = _keys(graph)
    templates, members, values = {}, {}, []
    for v in graph.values:
        k = key.get(v.id)
        if k == DROP:
            continue
        if k is None:
            values.append(v)
            continue
        if k not in templates:
            scope = (cluster + v.scope[1:]) if v.scope and k != LOSS else ()
            templates[k] = Value(f"r{len(templates)}", v.kind, v.label, op=v.op,
                                 shape=v.shape, scope=scope, step=None, seq=v.seq)
            members[k] = []
            values.append(templates[k])
        members[k].append(v)
    for k, t in templates.items():
        ms = members[k]
        t.shape = ms[-1].shape
        if k == LOSS:       # the final sum: its own label and gradient, nothing summed
            t.label, t.grad, t.op = ms[-1].label, ms[-1].grad, ms[-1].op
            t.text = f"the loss summed over {_steps(len(graph.steps))}"
            continue
        t.label = _template_label(ms, graph.steps)
        if t.kind == "op":
            t.grad = _sum([m.grad for m in ms])
            if len(ms) > 1:
                t.text = f"summed over {_steps(len(ms))}"

    def tid(vid):
        return templates[key[vid]].id if vid in key else vid

    step_of = {v.id: v.step for v in graph.values}
    merged, count = {}, {}      # dicts keep insertion order: the DOT text is stable
    for e in graph.edges:
        if key.get(e.src) == DROP:
            continue
        src, dst = tid(e.src), tid(e.dst)
        if src == dst and key.get(e.dst) == LOSS:
            continue            # the running sum handing itself on
        d = step_of[e.dst] - step_of[e.src] if e.recurrent else 0
        # Into the loss's sum every step's loss is one edge, whichever side it came in.
        k = (src, dst, d, -1 if key.get(e.dst) == LOSS else e.index)
        at = graph.steps[step_of[e.dst]] if step_of.get(e.dst) is not None else None
        formula = _generic(e.formula, at) if e.formula else ""
        if k not in merged:
            merged[k] = Edge(src, dst, formula, e.index, recurrent=e.recurrent)
        merged[k].formula = formula     # the last step's, as for the boxes' names
        count[k] = count.get(k, 0) + 1
    params = {v.id for v in graph.values if v.kind == "param"}
    loss_id = templates[LOSS].id if LOSS in templates else None
    for k, e in merged.items():
        (src, dst, d, _), n = k, count[k]
        if e.recurrent:
            back = f"{var}-{d}" if d > 0 else f"{var}+{-d}"
            e.text = f"{back} -> {var}, {_steps(n)}"
        elif n > 1 and src in params:
            e.text = f"used in {_steps(n)}"
        elif n > 1 and dst == loss_id:
            e.text = f"summed over {_steps(n)}"
    notes = graph.notes + [f"rolled: {len(graph.steps)} steps drawn once; each gradient is "
                           "the sum over the steps"]
    return Graph(values, list(merged.values()), [cluster[0]], graph.grad_source, notes,
                 graph.title)
