"""Trace: turn the tape under a root tensor into plain records. No graphviz here.

The picture is made in two steps kept apart: ``trace`` walks the tape (iteratively: an
unrolled RNN is a chain hundreds of steps deep) into ``Value`` and ``Edge`` records with
stable ids, and ``visualize.render`` writes those records as DOT. Ids come from creation
order *within this graph* (``op0`` is the oldest op the root depends on), never from
``id()`` or the global ``Node.seq``, so the same model drawn twice gives the same text.

Where the gradients come from (``Graph.grad_source``):

- ``"kept"``: ``loss.backward(keep_grads=True)`` left each op's gradient on its node;
- ``"recomputed"``: the graph still holds its saved values (no backward yet, or
  ``retain_graph=True``), so ``trace`` runs its own backward without touching any
  ``.grad`` the user can see;
- ``"partial"``: a plain ``loss.backward()`` freed the graph; only leaves and tensors
  with ``retain_grad()`` still know their gradient, and ``Graph.notes`` says how to get
  the rest.
"""
import re
from dataclasses import dataclass, field

import numpy as np

from autograd_mini import Tensor
from autograd_mini.tape import Node, backward, input_grad

from .operands import with_operands
from .recurrence import mark_recurrence


@dataclass
class Value:
    """One box: a parameter (leaf with requires_grad), an op's result, or a constant input."""
    id: str
    kind: str                 # "param", "op", "input" or "collapsed"
    label: str                # the tensor's name, or its role when it has none
    op: str = None            # the rule's name, for kind == "op"
    shape: tuple = None
    scope: tuple = ()         # the scope path, e.g. ("t=3",); () is outside every cluster
    step: int = None          # index of its time step (top-level scope), for collapsing
    grad: np.ndarray = None   # dL/d(this value), when known
    seq: int = 0              # order of creation within the graph
    text: str = ""            # extra line, e.g. "gradients summed over 5 steps"
    named: bool = False       # label is the tensor's own name (not a role or an op)
    running_sum: bool = False     # it only sums up the loss over steps (recurrence.py)


@dataclass
class Edge:
    """Data flows src -> dst; the gradient flows back along it through ``formula``."""
    src: str
    dst: str
    formula: str = ""         # the rule's VJP formula for this input, e.g. "dA = g @ B^T"
    index: int = 0            # which input of dst
    contrib: np.ndarray = None    # for a parameter edge: the gradient it sends back
    recurrent: bool = False   # the recurrence: a state carried from one step into another
    text: str = ""            # extra label, e.g. "t-1 -> t (4 steps)"


@dataclass
class Graph:
    values: list
    edges: list
    steps: list               # top-level scope labels in time order, e.g. ["t=1", ...]
    grad_source: str = None   # "kept", "recomputed", "partial" or None (grads=False)
    notes: list = field(default_factory=list)
    title: str = ""


def tape_nodes(root_node):
    """The nodes ``root_node`` depends on, oldest first. Iterative: no recursion limit."""
    seen = {root_node}
    stack = [root_node]
    while stack:
        node = stack.pop()
        for p in node.parents:
            if isinstance(p, Node) and p not in seen:
                seen.add(p)
                stack.append(p)
    return sorted(seen, key=lambda n: n.seq)


def private_backward(root_node, nodes, g):
    """Backpropagate ``g`` with keep_grads, touching nothing the user can see.

    Returns ({node: dL/d(out)}, {leaf Tensor: dL/d(leaf)}). backward would add into
    the ``.grad`` of tensors with retain_grad(); those links are lifted for the walk, and
    the node gradients it leaves are taken back off, so drawing never changes a result.
    """
    retained = [(n, n.retained) for n in nodes if n.retained is not None]
    for n, _ in retained:
        n.retained = None
    try:
        leaves = backward(root_node, g, retain_graph=True, keep_grads=True)
    finally:
        for n, ref in retained:
            n.retained = ref
    grads = {}
    for n in nodes:
        if n.grad is not None:
            grads[n] = n.grad
            n.grad = None
    return grads, leaves


def _partial_grads(nodes):
    """After a plain backward(): what survives is on retain_grad() tensors (and leaves)."""
    grads = {}
    for n in nodes:
        t = n.retained() if n.retained is not None else None
        if t is not None and t.grad is not None:
            grads[n] = t.grad
    return grads


def _root_tensor(root):
    if not isinstance(root, Tensor):
        raise TypeError(f"draw/trace: expected the Tensor to draw (e.g. the loss), got "
                        f"{type(root).__name__}")
    return root


def _gradients(root, nodes):
    """({node: grad}, {leaf: grad}, source, notes) for the graph under ``root``."""
    rnode = root.node
    if rnode.grad is not None:
        grads = {n: n.grad for n in nodes if n.grad is not None}
        leaves = {}     # leaves: their .grad, read when the values are made
        return grads, leaves, "kept", ["gradients kept by the last backward(keep_grads=True)"]
    if not any(n.freed for n in nodes):
        g = np.ones_like(root.data)
        grads, leaves = private_backward(rnode, nodes, g)
        notes = [] if root.data.size == 1 else [
            f"gradients of sum({root.name or 'root'}): the root has shape {root.shape}"]
        return grads, leaves, "recomputed", notes
    notes = ["backward() freed the graph, so only parameters and tensors with retain_grad() "
             "show a gradient; call loss.backward(keep_grads=True), or draw before "
             "backward, to see them all"]
    return _partial_grads(nodes), {}, "partial", notes


def trace(root, grads=True):
    """The graph under ``root`` (a Tensor, usually the scalar loss) as plain records.

    Every op the root depends on becomes a ``Value`` of kind "op" (its output tensor,
    labelled by its name or its rule), every leaf with requires_grad a "param" (drawn
    once, however many steps use it), every input that needs no gradient an "input"
    next to the op that reads it. ``Value.grad`` is dL/d(value) when ``grads`` is true.
    """
    root = _root_tensor(root)
    if root.node is None:       # a bare leaf: nothing recorded
        v = Value("p0", "param", root.name or "leaf", shape=root.shape,
                  grad=root.grad if grads else None)
        return Graph([v], [], [], "kept" if grads else None)
    nodes = tape_nodes(root.node)
    if grads:
        node_grads, leaf_grads, source, notes = _gradients(root, nodes)
    else:
        node_grads, leaf_grads, source, notes = {}, {}, None, []

    steps = step_order([node.scope[0] for node in nodes if node.scope])
    step_index = {s: i for i, s in enumerate(steps)}
    values, edges = [], []
    node_id, node_step = {}, {}
    param_id = {}
    params = []
    display = {}        # value id -> how an op that reads it names it ("W", "h(2)")
    for k, node in enumerate(nodes):
        vid = f"op{k}"
        node_id[node] = vid
        if node.scope:
            step = step_index[node.scope[0]]
        else:
            # Outside every scope (e.g. loss = loss + L(t)): it belongs, for collapsing
            # and rolling, to the latest step it reads from.
            inner = [node_step[p] for p in node.parents
                     if isinstance(p, Node) and node_step.get(p) is not None]
            step = max(inner) if inner else None
        node_step[node] = step
        rule = node.rule
        first_edge = len(edges)
        for i, p in enumerate(node.parents):
            formula = vjp_text(rule, i)
            if p is None:
                cid = f"{vid}_in{i}"
                display[cid] = "input"
                values.append(Value(cid, "input", "input", shape=node.shapes[i],
                                    scope=node.scope, step=step, seq=k))
                edges.append(Edge(cid, vid, "", i))
                continue
            if isinstance(p, Node):
                src = node_id[p]
            else:
                if p not in param_id:
                    param_id[p] = f"p{len(params)}"
                    params.append(p)
                    display[param_id[p]] = p.name
                src = param_id[p]
            edges.append(Edge(src, vid, formula, i))
        name_operands(edges[first_edge:], rule, display)
        role = node.name or _role(rule.name, [display.get(e.src) for e in edges[first_edge:]],
                                     tuple(node.params.values()))
        display[vid] = role
        values.append(Value(vid, "op", role or rule.name, op=rule.name, named=bool(node.name),
                            scope=node.scope, step=step, grad=node_grads.get(node), seq=k))
    # The output shape is not on the node; read it where a consumer recorded it.
    out_shape = _output_shapes(nodes, node_id, root)
    for v in values:
        if v.kind == "op":
            v.shape = out_shape[v.id]
    for j, p in enumerate(params):
        g = None
        if grads:
            g = leaf_grads.get(p) if source == "recomputed" else p.grad
        values.append(Value(f"p{j}", "param", p.name or f"leaf {j}", shape=p.shape,
                            grad=g, seq=-1))
    return mark_recurrence(Graph(values, edges, steps, source, notes))


def step_order(labels):
    """The distinct step labels (top-level scopes) in time order: by the numbers in them
    when they are all the same text around numbers ("t=2" before "t=10", whichever ran
    first), otherwise in the order first seen."""
    labels = list(dict.fromkeys(labels))
    keys = [(_NUMBER.sub("#", s), tuple(int(k) for k in _NUMBER.findall(s))) for s in labels]
    if labels and len({k[0] for k in keys}) == 1 and keys[0][1]:
        return [s for _, s in sorted(zip(keys, labels))]
    return labels


# A number in a label; a minus is its sign only after "=", a space, "(" or the start.
_NUMBER = re.compile(r"(?<![\w)\]])-?\d+|\d+")


def vjp_text(rule, i):
    """The text of ``rule``'s VJP into its input i, e.g. "dA = g @ B^T"."""
    return rule.vjp_text(i)


def name_operands(edges, rule, display):
    """Rewrite the formulas on one node's input ``edges`` in the operands' display names
    (``dW = g @ h(2)^T`` for ``dA = g @ B^T``), where those names are known."""
    texts = with_operands([vjp_text(rule, e.index) for e in edges],
                          [display.get(e.src) for e in edges])
    for e, text in zip(edges, texts):
        if e.formula:
            e.formula = text


_INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "matmul": "@", "matvec": "@",
          "vecmat": "@", "dot": "@"}
_CALL = ("tanh", "sigmoid", "relu", "exp", "log")
ROLE_CHARS = 16         # a longer role is harder to read than the op's name


def _role(op, operands, params=()):
    """A short name for an unnamed result from its operands: "W @ h(2)", "L(1) + L(2)",
    "W^T". ``operands``: each input's display name, or None when it has none. None when
    no short role exists (the box then shows the op's name)."""
    if any(o is None for o in operands):
        return None
    if op in _INFIX and len(operands) == 2:
        role = f"{operands[0]} {_INFIX[op]} {operands[1]}"
    elif op in _CALL and len(operands) == 1:
        role = f"{op}({operands[0]})"
    elif op == "transpose" and params == (None,):      # x.T: all axes reversed
        role = f"{operands[0]}^T"
    else:
        return None
    return role if len(role) <= ROLE_CHARS else None


def _output_shapes(nodes, node_id, root):
    """{op id: output shape}: each node's consumers record its shape as an input shape."""
    shapes = {node_id[root.node]: root.shape}
    for node in nodes:
        for i, p in enumerate(node.parents):
            if isinstance(p, Node):
                shapes.setdefault(node_id[p], node.shapes[i])
    return shapes


def _is_parameter_transpose(node):
    """The shared ``W.T`` of a parameter (autograd_mini.tensor.parameter_transpose)."""
    return (node.rule.name == "transpose" and not node.scope
            and not isinstance(node.parents[0], Node) and node.parents[0] is not None)


def param_contributions(root, nodes=None):
    """Each parameter edge's gradient: {(param Tensor, node): dL/dparam through that use}.

    This is Goodfellow's W^(t): the part of W's gradient that flows through its use at
    one step. The uses of a parameter sum to its gradient (the tests check that against
    per-step copies of the parameter). Needs the graph's saved values (no backward yet,
    or retain_graph=True). Returns (contributions, node grads, leaf grads).
    """
    root = _root_tensor(root)
    nodes = nodes or tape_nodes(root.node)
    if any(n.freed for n in nodes):
        raise ValueError("param_contributions: backward() already freed this graph's saved "
                         "values; compute them before backward, or pass retain_graph=True")
    grads, leaves = private_backward(root.node, nodes, np.ones_like(root.data))
    out = {}
    for node in nodes:
        g = grads.get(node)
        if g is None or _is_parameter_transpose(node):
            continue                # a shared W.T: its uses are counted where they happen
        for i, p in enumerate(node.parents):
            if isinstance(p, Node) and _is_parameter_transpose(p):
                gi = input_grad(p, 0, input_grad(node, i, g))   # this step's use of W.T
                p = p.parents[0]                                # is a use of W
            elif p is None or isinstance(p, Node):
                continue
            else:
                gi = input_grad(node, i, g)     # the engine's own VJP, unbroadcast included
            if gi is not None:
                key = (p, node)
                out[key] = gi if key not in out else out[key] + gi
    return out, grads, leaves
