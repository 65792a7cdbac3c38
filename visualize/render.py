"""Render: plain ``Graph`` records (see trace.py) to a graphviz.Digraph (DOT text).

Nothing here reads the tape; everything here decides how the picture looks:

- one cluster per scope, labelled ``t = 3``; nested scopes nest; clusters are written in
  time order so dot lays the steps out in order along the time axis;
- parameters are drawn once, outside the clusters, with an edge into every step;
- a box shows the tensor's name (or its op), its shape and its gradient; it is filled by
  |g| on a log scale (see style.py) and the legend lists the colours in use;
- with ``formulas`` every edge carries the VJP that sends the gradient back along it.
"""
from html import escape

from .style import ColourScale, grad_lines, grad_norm

FONT = "Helvetica"
PARAM_EDGE = "#7a7a7a"      # the many parameter edges stay quiet, the chain stays black
FORMULA = "#1f4e9a"
RECURRENT = "#b22222"       # the edges that carry h(t-1) into step t: where BPTT happens


def _html(lines):
    """An HTML-like label from (text, attrs) pairs; attrs: 'b', point size, colour."""
    out = []
    for text, size, colour, bold in lines:
        t = escape(text)
        if bold:
            t = f"<B>{t}</B>"
        attrs = ""
        if size:
            attrs += f' POINT-SIZE="{size}"'
        if colour:
            attrs += f' COLOR="{colour}"'
        out.append(f"<FONT{attrs}>{t}</FONT>" if attrs else t)
    return "<" + "<BR/>".join(out) + ">"


def _shape_text(shape):
    return "()" if shape == () else str(tuple(shape)) if shape is not None else ""


def _value_label(v, show_grads, partial, text_colour):
    muted = None if text_colour == "white" else "#555555"
    lines = []
    if v.kind == "collapsed":
        lines.append((v.label, 12, None, True))
        lines += [(t, 9, muted, False) for t in v.text.split("\n") if t]
        return _html(lines)
    if v.kind == "input":
        return _html([(f"input {_shape_text(v.shape)}", 8, "#666666", False)])
    if v.kind == "op" and v.named:
        lines.append((v.op, 9, muted, False))
        lines.append((f"{v.label}  {_shape_text(v.shape)}", 12, None, True))
    else:
        lines.append((f"{v.label}  {_shape_text(v.shape)}", 12 if v.kind == "param" else 10,
                      None, v.kind == "param"))
    if show_grads:
        g = grad_lines(v.grad)
        if not g and partial:
            g = ["g: not kept"]
        lines += [(t, 9, None, False) for t in g]
    if v.text:
        lines.append((v.text, 8, muted, False))
    return _html(lines)


def _cluster_label(label):
    return label.replace("=", " = ")


def _legend(scale, show_grads, formulas, notes, steps):
    rows = []
    if show_grads and scale.bins:
        rows.append('<TR><TD COLSPAN="2"><B>fill: |g| = |dL/d(value)|, log scale</B></TD></TR>')
        for fill, text, words in reversed(scale.legend()):
            rows.append(f'<TR><TD BGCOLOR="{fill}" WIDTH="24"></TD>'
                        f'<TD ALIGN="LEFT"><FONT POINT-SIZE="9">{escape(words)}</FONT></TD></TR>')
    facts = ["bold ellipse: a parameter" + (", shared by every step" if steps else ""),
             "g: dL/d(value), every entry if 6 or fewer, else norm and max"]
    if formulas:
        facts.append("edge label: the VJP that carries g back to that input")
    if steps:
        facts.append("red edge: from step t-1 into step t (the path of BPTT)")
    facts += notes
    for f in facts:
        rows.append(f'<TR><TD COLSPAN="2" ALIGN="LEFT"><FONT POINT-SIZE="9">{escape(f)}'
                    '</FONT></TD></TR>')
    return ('<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">'
            + "".join(rows) + "</TABLE>>")


def to_dot(graph, grads=True, formulas=True, rankdir="LR"):
    """A graphviz.Digraph of ``graph`` (trace.Graph). Needs the graphviz Python package,
    not the ``dot`` program: ``.source`` is the DOT text."""
    try:
        import graphviz
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "visualize needs the graphviz Python package: pip install 'autograd-mini[viz]' "
            "(and graphviz's dot program to make images: apt-get install graphviz)") from None
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"rankdir={rankdir!r}: expected 'LR' (time or data flow left to "
                         "right) or 'TB' (top to bottom)")
    # With time steps, rankdir is the time axis. dot's ranks then run *within* a step
    # (x -> a -> h -> o -> L, bottom to top as in Goodfellow's figure 10.3), every step
    # gets the same ranks, and the edges between steps (h(t-1) -> step t) are left out
    # of the ranking, so the steps stand side by side instead of in a staircase.
    time_axis = bool(graph.steps)
    dot_rankdir = {"LR": "BT", "TB": "LR"}[rankdir] if time_axis else rankdir
    step_of = {v.id: v.step for v in graph.values}
    show = grads and graph.grad_source is not None
    partial = graph.grad_source == "partial"
    scale = ColourScale([grad_norm(v.grad) for v in graph.values] if show else [])

    dot = graphviz.Digraph("autograd_mini", graph_attr={
        "rankdir": dot_rankdir, "fontname": FONT,
        # Boxes of one rank sit close: across time that is most of the picture's width.
        "nodesep": "0.12" if time_axis else "0.25",
        # Ranks side by side (dot's LR) leave the formulas little room between boxes.
        "ranksep": "0.6" if dot_rankdir == "LR" else "0.35",
        "newrank": "true", "labelloc": "t", "fontsize": "14", "forcelabels": "true",
        "mclimit": "0.01" if time_axis else "1"})
    dot.attr("node", fontname=FONT, fontsize="10", margin="0.08,0.04")
    dot.attr("edge", fontname=FONT, fontsize="8", arrowsize="0.6")
    if graph.title:
        dot.attr(label=graph.title)

    # Clusters: one Digraph per scope path, in order of first appearance (= time order).
    clusters = {}
    for v in graph.values:
        for depth in range(1, len(v.scope) + 1):
            path = v.scope[:depth]
            if path not in clusters:
                c = graphviz.Digraph(name=f"cluster_{len(clusters)}")
                c.attr(label=_cluster_label(path[-1]), style="rounded", color="#9a9a9a",
                       fontname=FONT, fontsize="13", labeljust="l")
                clusters[path] = c
    # In the time layout the inputs that need no gradient (x(t), h(0)) are left out:
    # the boxes that read them say so ("U @ input"), and a row of them would sit between
    # the parameters and the steps.
    hidden = {v.id for v in graph.values if v.kind == "input"} if time_axis else set()
    for v in graph.values:
        if v.id in hidden:
            continue
        target = clusters[v.scope] if v.scope else dot
        norm = grad_norm(v.grad) if show else None
        fill, text_colour = scale.fill(norm)
        attrs = {"label": _value_label(v, show, partial, text_colour)}
        if v.kind == "op":
            attrs.update(shape="box", style="rounded,filled", fillcolor=fill,
                         fontcolor=text_colour)
        elif v.kind == "param":
            attrs.update(shape="ellipse", style="filled,bold", penwidth="2",
                         fillcolor=fill, fontcolor=text_colour)
        elif v.kind == "input":
            attrs.update(shape="plaintext", margin="0", height="0.2")
        else:
            attrs.update(shape="box", style="dashed,rounded")
        target.node(v.id, **attrs)
    if time_axis:
        _time_layout(dot, graph, step_of)
    # Attach the deepest clusters first: graphviz copies a subgraph's text when attached.
    for path in sorted(clusters, key=len, reverse=True):
        parent = clusters[path[:-1]] if len(path) > 1 else dot
        parent.subgraph(clusters[path])

    kinds = {v.id: v.kind for v in graph.values}
    scoped = {v.id: bool(v.scope) or v.kind == "collapsed" for v in graph.values}
    for e in graph.edges:
        if e.src in hidden:
            continue
        label = []
        if formulas and e.formula:
            label.append(e.formula)
        if e.text:
            label.append(e.text)
        attrs = {}
        if label:
            # Across time, xlabel: dot places an xlabel after the layout, so formulas do
            # not push the steps apart (a label is laid out like an extra node).
            attrs["xlabel" if time_axis else "label"] = "\\n".join(label)   # DOT's line break
            attrs["fontcolor"] = FORMULA
        if kinds.get(e.src) == "param":
            attrs.update(color=PARAM_EDGE, fontcolor=PARAM_EDGE)
        elif kinds.get(e.src) == "input":
            attrs.update(color="#aaaaaa", arrowhead="none")
        crossing = time_axis and _cross_step(e, step_of)
        if crossing:
            attrs["constraint"] = "false"
        # From one step's cluster into the next: h(t-1) -> W @ h(t-1), the BPTT path.
        if e.recurrent or (crossing and scoped[e.src] and scoped[e.dst]):
            attrs.update(color=RECURRENT, penwidth="2", constraint="false", fontcolor=RECURRENT)
        dot.edge(e.src, e.dst, **attrs)

    if show or formulas or graph.notes:
        dot.node("legend", _legend(scale, show, formulas, graph.notes, time_axis),
                 shape="plaintext")
    return dot


def _cross_step(e, step_of):
    s0, s1 = step_of.get(e.src), step_of.get(e.dst)
    return s0 is not None and s1 is not None and s0 != s1


def _time_layout(dot, graph, step_of):
    """Line the steps up along the time axis, with the parameters in a row below them.

    Every box gets the rank of its depth within its step (W -> W @ h -> a -> h -> o ->
    L), the same in every step, so h(1), h(2), ... sit on one line. The steps are
    written in time order and chained by invisible edges, and dot's reordering pass is
    kept short (mclimit), so they stay in that order: its crossing heuristic would
    otherwise pull t = 1 into the middle, towards the parameters it shares. The
    parameters' own row keeps them from being wedged between two steps.
    """
    depth = {}
    for e in graph.edges:   # edges come in creation order: a source's depth is final
        if not _cross_step(e, step_of) and not e.recurrent:
            depth[e.dst] = max(depth.get(e.dst, 0), depth.get(e.src, 0) + 1)
    top = max(depth.values(), default=0)
    groups, anchors = {}, {}
    for v in graph.values:
        if v.kind in ("param", "input"):
            continue
        d = depth.get(v.id, 0) if v.kind != "collapsed" else top // 2
        groups.setdefault(d, []).append(v.id)
        if v.step is not None and (v.scope or v.kind == "collapsed"):
            anchors[v.step] = v.id          # the newest value inside each step
    rows = [("same", groups[d]) for d in sorted(groups)]
    rows.append(("min", [v.id for v in graph.values if v.kind == "param"]))
    for rank, ids in rows:
        if ids:
            with dot.subgraph() as row:
                row.attr(rank=rank)
                for vid in ids:
                    row.node(vid)
    chain = [anchors[k] for k in sorted(anchors)]
    for a, b in zip(chain, chain[1:]):
        dot.edge(a, b, style="invis")
