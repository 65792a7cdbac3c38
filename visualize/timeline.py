"""The time axis: steps side by side in time order, each with the same rows inside.

Every box gets the rank (row) of its depth within its step (W -> W @ h -> a -> h -> o
-> L), the same in every step, so h(1), h(2), ... sit on one line, and the parameters
get a row of their own below the steps.

dot decides the left-to-right order of the steps itself, by reducing edge crossings,
and it ignores edges laid along one rank between two clusters (what one would use to
chain the steps). So time order is made the one order without crossings:

- two rows of invisible points, one below the steps and one above them, chained left
  to right (outside every cluster dot keeps such a chain in order), with an invisible
  edge from each point to its step: any other order of the steps crosses those edges;
- an invisible edge from each step up one row into the next step;
- every edge between two steps takes part in the ranking (one that goes down a row,
  h(t-1) -> W @ h(t-1), is written upwards with its arrow reversed), so dot counts it.

Checked with dot 2.43 over the README's example and the textbook RNN for many lengths,
in both directions of time, collapsed or not (tests/test_visualize_labels.py).
"""


def crosses_steps(e, step_of):
    s0, s1 = step_of.get(e.src), step_of.get(e.dst)
    return s0 is not None and s1 is not None and s0 != s1


def _depths(graph, step_of):
    depth = {}
    for e in graph.edges:   # edges come in creation order: a source's depth is final
        if not crosses_steps(e, step_of) and not e.recurrent:
            depth[e.dst] = max(depth.get(e.dst, 0), depth.get(e.src, 0) + 1)
    return depth


def _middle_row(rows_per_step, depth):
    """The row for the collapsed box: one every step has, as near the middle as any."""
    common = set.intersection(*rows_per_step) if rows_per_step else set()
    top = max(depth.values(), default=0)
    if not common:
        return top // 2
    return min(common, key=lambda d: (abs(2 * d - top), d))


def _row(dot, rank, ids, points=False):
    with dot.subgraph() as row:
        row.attr(rank=rank)
        for vid in ids:
            if points:
                row.node(vid, style="invis", shape="point", width="0", label="")
            else:
                row.node(vid)


def time_layout(dot, graph):
    """Add the rows and the invisible edges that order the steps to ``dot``. Returns the
    row of every box ({value id: depth}), which ``edge_direction`` needs."""
    step_of = {v.id: v.step for v in graph.values}
    depth = _depths(graph, step_of)
    rows = {}           # step -> {row: [value ids]}
    for v in graph.values:
        if v.kind == "op" and v.scope and not v.running_sum and v.step is not None:
            rows.setdefault(v.step, {}).setdefault(depth.get(v.id, 0), []).append(v.id)
    middle = _middle_row([set(r) for r in rows.values()], depth)
    for v in graph.values:
        if v.kind == "collapsed":
            depth[v.id] = middle
            rows[v.step] = {middle: [v.id]}
    same = {}
    for v in sorted(graph.values, key=lambda v: (v.step is None, v.step or 0, v.seq)):
        if v.kind in ("op", "collapsed"):
            same.setdefault(depth.get(v.id, 0), []).append(v.id)
    order = sorted(rows)
    below = [f"time_below{k}" for k in range(len(order))]
    above = [f"time_above{k}" for k in range(len(order))]
    for d in sorted(same):
        _row(dot, "same", same[d])
    _row(dot, "min", [v.id for v in graph.values if v.kind == "param"])
    _row(dot, "min", below, points=True)
    _row(dot, "max", above, points=True)
    for chain in (below, above):
        for a, b in zip(chain, chain[1:]):
            dot.edge(a, b, style="invis")
    for lo, hi, s in zip(below, above, order):
        dot.edge(lo, rows[s][min(rows[s])][0], style="invis")
        dot.edge(rows[s][max(rows[s])][-1], hi, style="invis")
    for a, b in zip(order, order[1:]):
        _link(dot, rows[a], rows[b], middle)
    return depth


def _link(dot, left, right, middle):
    """One invisible edge from step ``left`` up one row into step ``right``."""
    ups = [d for d in left if d + 1 in right]
    if ups:
        d = min(ups, key=lambda d: (abs(d - middle), d))
        dot.edge(left[d][-1], right[d + 1][0], style="invis")


def edge_direction(e, depth, attrs):
    """(tail, head) to write for the edge ``e`` between two steps, updating ``attrs``.

    An edge down the rows (h(t-1) at row 3 into W @ h(t-1) at row 1) would contradict
    the rows, so it is written the other way with its arrow reversed: it looks the same
    and dot can rank it, and count its crossings. An edge along a row takes no part in
    the ranking."""
    d0, d1 = depth.get(e.src, 0), depth.get(e.dst, 0)
    if d0 > d1:
        attrs["dir"] = "back"
        return e.dst, e.src
    if d0 == d1:
        attrs["constraint"] = "false"
    return e.src, e.dst
