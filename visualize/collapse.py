"""Collapse the middle of a long sequence into one box: ``... k steps ...``.

A graph of hundreds of steps is unreadable and slow to lay out; the first and last few
steps show everything a learner needs (how the gradient enters at the end, what is left
of it at the start), and the box in between says how much was left out and the range of
gradient norms inside it.
"""
import numpy as np

from .trace import Edge, Graph, Value

DEFAULT_MAX_STEPS = 6


def collapse(graph, max_steps=None):
    """Keep the first ceil(max_steps/2) and last floor(max_steps/2) steps of ``graph``.

    ``max_steps`` None means DEFAULT_MAX_STEPS; graphs with that many steps or fewer are
    returned unchanged. Returns a new Graph (the input is not modified).
    """
    if max_steps is None:
        max_steps = DEFAULT_MAX_STEPS
    if not isinstance(max_steps, int) or max_steps < 2:
        raise ValueError(f"max_steps={max_steps!r}: keep at least 2 steps (the first and "
                         "the last), or pass a large number to draw every step")
    n = len(graph.steps)
    if n <= max_steps:
        return graph
    first = (max_steps + 1) // 2
    last = max_steps - first
    hidden = set(range(first, n - last))
    cid = "collapsed"
    hidden_ids = {v.id for v in graph.values if v.step in hidden}
    norms = [float(np.linalg.norm(v.grad)) for v in graph.values
             if v.id in hidden_ids and v.kind == "op" and v.grad is not None]
    lo, hi = graph.steps[first], graph.steps[n - last - 1]
    text = f"{lo} .. {hi}"
    if norms:
        text += f"\n|g| from {min(norms):.3g} to {max(norms):.3g}"
    box = Value(cid, "collapsed", f"... {len(hidden)} steps ...", step=first, text=text,
                seq=min(v.seq for v in graph.values if v.id in hidden_ids))
    values = [v for v in graph.values if v.id not in hidden_ids]
    # The box goes where its first value was, so DOT sees steps in time order.
    at = next((i for i, v in enumerate(values) if v.seq > box.seq or v.kind == "param"),
              len(values))
    values.insert(at, box)

    label = {v.id: v.label for v in graph.values if v.kind == "param"}
    edges, merged = [], {}
    uses = {}
    for e in graph.edges:
        src = cid if e.src in hidden_ids else e.src
        dst = cid if e.dst in hidden_ids else e.dst
        if src == cid and dst == cid:
            continue
        if cid not in (src, dst):
            edges.append(e)
            continue
        if dst == cid and src in label:
            uses[label[src]] = uses.get(label[src], 0) + 1
        if (src, dst) in merged:
            merged[(src, dst)].recurrent |= e.recurrent
            continue
        merged[(src, dst)] = Edge(src, dst, "", e.index, recurrent=e.recurrent)
        edges.append(merged[(src, dst)])
    # How often each parameter is used inside goes in the box: as labels on the
    # parameters' edges, which all meet at the box, they would lie on top of each other.
    box.text += _uses_text(uses)
    steps = graph.steps[:first] + [f"... {len(hidden)} steps ..."] + graph.steps[n - last:]
    notes = graph.notes + [f"steps {lo} .. {hi} collapsed (max_steps={max_steps})"]
    return Graph(values, edges, steps, graph.grad_source, notes, graph.title)


def _uses_text(uses):
    """"\nW, U, b: used 294 times each", or one line per count when the counts differ."""
    by_count = {}
    for name, n in uses.items():
        by_count.setdefault(n, []).append(name)
    lines = []
    for n, names in by_count.items():
        times = "once" if n == 1 else f"{n} times"
        lines.append(f"{', '.join(names)}: used {times}" + (" each" if len(names) > 1 else ""))
    return "".join("\n" + line for line in lines)
