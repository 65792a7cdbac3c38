"""Which edges are the recurrence, drawn red: a state carried from one step into another.

Not every edge between two steps is one. A loss summed inside the loop
(``loss = loss + L(t)``, the README's first example) runs from step to step too, but it
only collects: its gradient passes every sum unchanged (``dA = g``), while the gradient
along the state (h(t-1) -> h(t)) is multiplied by one Jacobian per step, which is what
BPTT is about. So the values that only collect the loss are found first (the root, and
whatever is only ever added, scaled or reduced into it), and an edge out of one of them
is never part of the recurrence.
"""
COLLECT = frozenset({"add", "sub", "neg", "sum", "mean", "mul", "div"})
SUMS = frozenset({"add", "sub"})


def collectors(graph):
    """Ids of the op values that only collect into the root: the root itself, and every
    value all of whose readers are collectors doing an op of COLLECT."""
    readers = {}
    for e in graph.edges:
        readers.setdefault(e.src, []).append(e.dst)
    op = {v.id: v.op for v in graph.values if v.kind == "op"}
    chain = set()
    for v in reversed([v for v in graph.values if v.kind == "op"]):     # readers first
        r = readers.get(v.id, [])
        if all(d in chain and op.get(d) in COLLECT for d in r):         # the root: no r
            chain.add(v.id)
    return chain


def _crossing(e, step):
    s0, s1 = step.get(e.src), step.get(e.dst)
    return s0 is not None and s1 is not None and s0 != s1


def mark_recurrence(graph):
    """Set ``Edge.recurrent`` on the edges from a value inside one step into a value
    inside another, unless the value only collects the loss, and ``Value.running_sum``
    on the running sum of the loss. Returns ``graph``."""
    chain = collectors(graph)
    total = running_sum(graph, chain)
    for v in graph.values:
        v.running_sum = v.id in total
    step = {v.id: v.step for v in graph.values}
    scoped = {v.id: bool(v.scope) for v in graph.values}
    for e in graph.edges:
        e.recurrent = (_crossing(e, step) and scoped.get(e.src, False)
                       and scoped.get(e.dst, False) and e.src not in chain)
    return graph


def running_sum(graph, chain):
    """Ids of the running sum of the loss: the adds (or subtractions) among the collectors
    ``chain`` that pass the sum on from one step to another (loss(t-1) -> loss(t))."""
    step = {v.id: v.step for v in graph.values}
    sums = {v.id for v in graph.values if v.id in chain and v.op in SUMS}
    found = set()
    for e in graph.edges:
        if _crossing(e, step) and e.src in chain and e.dst in sums:
            found.add(e.dst)
            if e.src in sums:
                found.add(e.src)
    return found
