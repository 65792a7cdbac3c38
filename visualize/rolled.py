"""The rolled view: every time step drawn once, the recurrence as a back-edge.

Values at different steps that play the same part (the k-th ``matmul`` of a step, in
the same inner scope) merge into one box, whose gradient is the sum over the steps: the
same sum BPTT makes for a shared parameter. An edge from step t-1 into step t becomes
one back-edge labelled with the number of steps it stands for.
"""
import re

import numpy as np

from .trace import Edge, Graph, Value

_NUMBERED = re.compile(r"\((-?\d+)\)")       # h(3)
_STEP = re.compile(r"^(\w+)=(-?\d+)$")       # t=3


def _generic(label, step_label):
    """"b + W @ h(2)" at step t=3 -> "b + W @ h(t-1)": numbers of this step and the one
    before become t and t-1; names not numbered by step stay as they are."""
    m = _STEP.match(step_label or "")
    if not m:
        return _NUMBERED.sub("(t)", label) if label.endswith(")") else label
    var, n = m.group(1), int(m.group(2))

    def name(k):
        k = int(k.group(1))
        return f"({var})" if k == n else f"({var}-1)" if k == n - 1 else f"({k})"
    return _NUMBERED.sub(name, label)


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


def roll(graph):
    """A new Graph with every step merged into one (see the module docstring)."""
    if not graph.steps:
        return graph
    cluster = (_steps_label(graph.steps),)
    key = {}            # value id -> template key
    seen_in_step = {}
    for v in graph.values:
        if v.kind == "op" and v.step is not None:
            inner = v.scope[1:] if v.scope else ("<outside>",)
            part = (inner, v.op)
            n = seen_in_step.get((v.step, part), 0)
            seen_in_step[(v.step, part)] = n + 1
            key[v.id] = ("op",) + part + (n,)
    by_id = {v.id: v for v in graph.values}
    for e in graph.edges:       # an input plays the part of its consumer's input i
        src = by_id[e.src]
        if src.kind == "input" and e.dst in key:
            key[src.id] = ("in", key[e.dst], e.index)

    templates, members = {}, {}
    values = []
    for v in graph.values:
        k = key.get(v.id)
        if k is None:
            values.append(v)
            continue
        if k not in templates:
            t = Value(f"r{len(templates)}", v.kind, v.label, op=v.op, shape=v.shape,
                      scope=(cluster + v.scope[1:]) if v.scope else (), step=None, seq=v.seq)
            templates[k] = t
            members[k] = []
            values.append(t)
        members[k].append(v)
    for k, t in templates.items():
        last = members[k][-1]
        t.label = _generic(last.label, graph.steps[last.step])
        t.shape = last.shape
        if t.kind == "op":
            t.grad = _sum([m.grad for m in members[k]])
            if len(members[k]) > 1:
                t.text = f"summed over {_steps(len(members[k]))}"

    def tid(vid):
        return templates[key[vid]].id if vid in key else vid

    step_of = {v.id: v.step for v in graph.values}
    scoped = {v.id: bool(v.scope) for v in graph.values}
    merged, count = {}, {}      # dicts keep insertion order: the DOT text is stable
    for e in graph.edges:
        src, dst = tid(e.src), tid(e.dst)
        s0, s1 = step_of.get(e.src), step_of.get(e.dst)
        # The recurrence is an edge from one step into the next; sums outside the steps
        # (loss = loss + L(t)) merely collect, and are drawn as ordinary edges.
        recurrent = s0 is not None and s1 is not None and s0 != s1 and scoped[e.dst]
        k = (src, dst, recurrent)
        if k not in merged:
            merged[k] = Edge(src, dst, e.formula, e.index, recurrent=recurrent)
        elif e.formula and e.formula not in merged[k].formula:
            # One box feeding both inputs of another across steps (L(1) and L(2) into
            # the same rolled add): one edge with both formulas.
            merged[k].formula += f" | {e.formula}"
        count[k] = count.get(k, 0) + 1
    params = {v.id for v in graph.values if v.kind == "param"}
    for k, e in merged.items():
        if e.recurrent:
            e.text = f"t-1 -> t, {_steps(count[k])}"
        elif e.src in params and count[k] > 1:
            e.text = f"used in {_steps(count[k])}"
    edges = list(merged.values())
    notes = graph.notes + [f"rolled: {len(graph.steps)} steps drawn once; each gradient is "
                           "the sum over the steps"]
    return Graph(values, edges, [cluster[0]], graph.grad_source, notes, graph.title)
