"""Render: plain ``Graph`` records (see trace.py) to a graphviz.Digraph (DOT text).

Nothing here reads the tape; everything here decides how the picture looks:

- one cluster per scope, labelled ``t = 3``; nested scopes nest; clusters are written in
  time order so dot lays the steps out in order along the time axis;
- parameters are drawn once, outside the clusters, with an edge into every step;
- a box shows the tensor's name (or its op), its shape and its gradient; it is filled by
  |g| on a fixed log scale (see style.py), the same in every picture, and the legend
  lists it in full;
- with ``formulas`` every edge carries the VJP that sends the gradient back along it, in
  the operands' names; a formula that one value sends along several edges into one step
  (the four gate slices of an LSTM's pre-activations) is written once, with the count;
- red edges are the recurrence (see recurrence.py), not every edge between two steps.
"""
import textwrap
from html import escape

from .style import fill, fmt, grad_lines, grad_norm, legend_rows
from .timeline import crosses_steps, edge_direction, time_layout

FONT = "Helvetica"
PARAM_EDGE = "#7a7a7a"      # the many parameter edges stay quiet, the chain stays black
FORMULA = "#1f4e9a"
SLICES = ("getitem",)       # ops drawn small: they only pass a part of g on
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
    """"(5, 3)"; nothing for a scalar, whose g = ... line says it is one number."""
    return "" if shape is None or tuple(shape) == () else str(tuple(shape))


def _name_line(v):
    return f"{v.label}  {_shape_text(v.shape)}".rstrip()


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
        lines.append((_name_line(v), 12, None, True))
    elif v.op in SLICES and not v.named:
        # A slice only routes its part of g on (its reader's box shows it in full): a
        # small box, so that an LSTM's four gate slices per step do not set the width.
        lines.append((_name_line(v), 8, muted, False))
        if show_grads and v.grad is not None:
            lines.append((f"|g| = {fmt(grad_norm(v.grad))}", 8, None, False))
        return _html(lines)
    else:
        lines.append((_name_line(v), 12 if v.kind == "param" else 10, None,
                      v.kind == "param"))
    if show_grads:
        g = grad_lines(v.grad)
        if not g and partial:
            g = ["g: not kept"]
        lines += [(t, 8, None, False) for t in g]
    if v.text:
        lines.append((v.text, 8, muted, False))
    return _html(lines)


def _cluster_label(label):
    return label.replace("=", " = ")


def _legend(show_grads, formulas, notes, steps, red):
    rows = []
    if show_grads:
        # Big and complete: the scale is fixed, so the reader can compare pictures.
        rows.append('<TR><TD COLSPAN="2"><FONT POINT-SIZE="13"><B>fill: |g| = |dL/d(value)|'
                    '</B></FONT><BR/><FONT POINT-SIZE="10">fixed log scale, the same in '
                    'every picture</FONT></TD></TR>')
        for colour, _, words in reversed(legend_rows()):
            rows.append(f'<TR><TD BGCOLOR="{colour}" WIDTH="28"></TD>'
                        f'<TD ALIGN="LEFT"><FONT POINT-SIZE="12">{escape(words)}</FONT></TD></TR>')
    facts = ["bold ellipse: a parameter" + (", shared by every step" if steps else ""),
             "g: dL/d(value), every entry if 6 or fewer, else norm and max"]
    if formulas:
        facts.append("edge label: the VJP that carries g back to that input")
    if red:
        facts.append("red edge: the recurrence, a state carried into the next step "
                     "(the path of BPTT)")
    facts += notes
    for f in facts:     # wrapped: a wide legend widens the whole picture
        text = "<BR ALIGN=\"LEFT\"/>".join(escape(line) for line in textwrap.wrap(f, 44))
        rows.append(f'<TR><TD COLSPAN="2" ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="9">'
                    f'{text}</FONT></TD></TR>')
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
    # gets the same ranks, so the steps stand side by side (see timeline.py).
    time_axis = bool(graph.steps)
    dot_rankdir = {"LR": "BT", "TB": "LR"}[rankdir] if time_axis else rankdir
    step_of = {v.id: v.step for v in graph.values}
    show = grads and graph.grad_source is not None
    partial = graph.grad_source == "partial"

    dot = graphviz.Digraph("autograd_mini", graph_attr={
        "rankdir": dot_rankdir, "fontname": FONT,
        # Boxes of one rank sit close: across time that is most of the picture's width.
        "nodesep": "0.12" if time_axis else "0.25",
        # Ranks side by side (dot's LR) leave the formulas little room between boxes.
        "ranksep": "0.6" if dot_rankdir == "LR" else "0.35",
        "newrank": "true", "labelloc": "t", "fontsize": "14", "forcelabels": "true"})
    dot.attr("node", fontname=FONT, fontsize="10", margin="0.08,0.04")
    dot.attr("edge", fontname=FONT, fontsize="8", arrowsize="0.6")
    if graph.title:
        dot.attr(label=graph.title)

    # Clusters: one Digraph per scope path, written in time order.
    clusters = {}
    for v in sorted(graph.values, key=lambda v: (v.step is None, v.step or 0)):
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
        # The running sum of the loss belongs to no step: drawn between them, as a model
        # that sums outside its scope() gets it (and dot keeps the steps in order).
        target = clusters[v.scope] if v.scope and not v.running_sum else dot
        norm = grad_norm(v.grad) if show else None
        colour, text_colour = fill(norm)
        attrs = {"label": _value_label(v, show, partial, text_colour)}
        if v.kind == "op":
            attrs.update(shape="box", style="rounded,filled", fillcolor=colour,
                         fontcolor=text_colour)
        elif v.kind == "param":
            attrs.update(shape="ellipse", style="filled,bold", penwidth="2",
                         fillcolor=colour, fontcolor=text_colour)
        elif v.kind == "input":
            attrs.update(shape="plaintext", margin="0", height="0.2")
        else:
            attrs.update(shape="box", style="dashed,rounded")
        target.node(v.id, **attrs)
    depth = time_layout(dot, graph) if time_axis else {}
    # Attach the deepest clusters first: graphviz copies a subgraph's text when attached.
    for path in sorted(clusters, key=len, reverse=True):
        parent = clusters[path[:-1]] if len(path) > 1 else dot
        parent.subgraph(clusters[path])

    kinds = {v.id: v.kind for v in graph.values}
    shown = _formula_labels(graph, hidden) if formulas else {}
    # Edges in time order of their heads: dot's first guess at the order of the steps
    # follows the order it meets them in.
    order = sorted(range(len(graph.edges)), key=lambda k: (
        step_of.get(graph.edges[k].dst) is None, step_of.get(graph.edges[k].dst) or 0, k))
    for k in order:
        e = graph.edges[k]
        if e.src in hidden:
            continue
        label = []
        if shown.get(k):
            label.append(shown[k])
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
        # The state carried into another step: h(t-1) -> W @ h(t-1), the BPTT path.
        if e.recurrent:
            attrs.update(color=RECURRENT, penwidth="2", fontcolor=RECURRENT)
        src, dst = e.src, e.dst
        if time_axis and crosses_steps(e, step_of):
            src, dst = edge_direction(e, depth, attrs)
        dot.edge(src, dst, **attrs)

    if show or formulas or graph.notes:
        red = any(e.recurrent for e in graph.edges)
        dot.node("legend", _legend(show, formulas, graph.notes, time_axis, red),
                 shape="plaintext")
    return dot


def _formula_labels(graph, hidden):
    """{edge index: formula text}. One value sending the same formula along several
    edges into one scope (z -> its four gate slices) gets it written once, with the
    count: repeated, it would crowd out everything else."""
    scope = {v.id: v.scope for v in graph.values}
    groups = {}
    for k, e in enumerate(graph.edges):
        if e.formula and e.src not in hidden:
            groups.setdefault((e.src, e.formula, scope.get(e.dst)), []).append(k)
    shown = {}
    for (_, formula, _), ks in groups.items():
        shown[ks[0]] = formula if len(ks) == 1 else f"{formula}  (x{len(ks)})"
    return shown
