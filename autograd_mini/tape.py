"""The tape: one Node per recorded op, and backward, the reverse walk that is backprop.

Nodes are numbered as they are created, so creation order is a topological order: an
op's inputs always exist before it. ``backward`` keeps a dict of pending gradients,
summed on write (a weight used at every step receives the sum over the steps: that is
BPTT) and popped on read, so each gradient is freed once its node has used it. A node
joins the frontier when its first gradient arrives, and the newest node of the frontier
goes next: every node that can still send it a gradient is newer, so has already gone.
No recursion and no pass over the whole graph: an RNN unrolled over 100,000 steps is a
chain 100,000 deep.
"""
from heapq import heappop, heappush
from itertools import count

import numpy as np

from .context import state
from .errors import AnomalyError, GraphFreedError, RuleError, ShapeError, where
from .formulas import unbroadcast

_creation = count()


class Node:
    """One recorded op: its rule, where each input's gradient goes, and what its formulas
    need.

    ``parents``: per input, the Node that made it, the leaf Tensor itself, or None (the
    input needs no gradient). ``env``: what the rule's formulas name (saved inputs,
    ``out``, the parameters), None once backward has released it. ``params``: the op's
    parameters by name (axis, index, ...), kept for drawing. ``shapes``: the inputs'
    shapes, the targets of ``unbroadcast``.
    """

    __slots__ = ("rule", "parents", "env", "params", "shapes", "seq", "scope", "name",
                 "holds", "retained", "grad")

    def __init__(self, rule, parents, env, params, shapes, holds=None):
        self.rule, self.parents, self.env, self.params = rule, parents, env, params
        self.shapes = shapes
        self.seq = next(_creation)
        self.scope = state.scope
        self.name = None          # the output's name, when the user gives one
        self.holds = holds        # keep saved user arrays read-only (locks.py)
        self.retained = None      # the Tensor whose .grad to fill (retain_grad()), weakly
        self.grad = None          # kept only by backward(keep_grads=True), for drawings

    @property
    def freed(self):
        return self.env is None

    def release(self):
        """Drop what backward needed; the graph's structure stays (for drawing). A node
        that saved nothing has nothing to drop: it may be walked again."""
        if self.rule.keeps_values:
            self.env = self.holds = None

    def __repr__(self):
        return f"Node#{self.seq}({self.rule.name}{where(self.scope)})"


def backward(root, g, retain_graph=False, keep_grads=False):
    """Backpropagate ``g`` from ``root`` (a Node). Returns {leaf Tensor: gradient}.

    With ``keep_grads`` every node keeps the total gradient on its output in
    ``node.grad`` (the renderer shows them); otherwise a gradient lives until used."""
    pending = {root: g}             # node -> the sum of the gradients it has received
    frontier = [(-root.seq, root)]  # nodes with a gradient, newest first
    leaves, owned = {}, set()
    while frontier:
        node = heappop(frontier)[1]
        g = pending.pop(node)
        if node.env is None:
            raise GraphFreedError(
                f"backward through {node.rule.name}{where(node.scope)} a second time: its "
                "saved values were released by the first backward. Pass retain_graph=True "
                "to the first backward() to keep them.")
        if keep_grads:
            node.grad = g
        if node.retained is not None:
            _fill_retained(node, g)
        for k, parent in enumerate(node.parents):
            if parent is None:
                continue
            gk = input_grad(node, k, g)
            if gk is None:                      # the rule says nothing flows there
                continue
            if parent.__class__ is not Node:
                add_into(leaves, parent, gk, owned)
            elif parent in pending:
                add_into(pending, parent, gk, owned)
            else:
                pending[parent] = gk
                heappush(frontier, (-parent.seq, parent))
        if not retain_graph:
            node.release()
    return leaves


def add_into(sums, key, g, owned):
    """``sums[key] += g``, accumulating (never assigning): a weight used at T steps gets
    the sum over the steps. A gradient may be shared (add hands one ``g`` to both of its
    inputs) or a read-only view, so the first sum is a new array, ``owned`` by the walk,
    and later gradients are added into it in place: one new array per weight instead of
    T - 1 (benchmarks/bptt.py, 12-05: medium 4.5% less time, small no change)."""
    prev = sums.get(key)
    if prev is None:
        sums[key] = g
    elif key in owned and prev.dtype == g.dtype:
        np.add(prev, g, out=prev)
    else:
        total = sums[key] = prev + g
        if total.__class__ is np.ndarray:       # (0-d sums come back as NumPy scalars)
            owned.add(key)


def input_grad(node, k, g):
    """dL/d(input k) of ``node``: its rule's formula for input k, evaluated on the saved
    values, then summed back over broadcast axes to the input's shape."""
    rule = node.rule
    formula = rule.vjps[0 if rule.variadic else k]
    try:
        gk = formula.fn(g, k, node.env)
    except Exception as e:
        raise RuleError(f"{rule.name}{where(node.scope)}: the VJP for input {k} "
                        f"({rule.vjp_text(k)}) raised {type(e).__name__}: {e}") from e
    if gk is None:
        return None
    shape = node.shapes[k]
    if gk.shape != shape:
        fixed = unbroadcast(gk, shape)
        if fixed is None:
            raise ShapeError(
                f"{rule.name}{where(node.scope)}: the VJP for input {k} "
                f"({rule.vjp_text(k)}) returned shape {gk.shape}, but the input has shape "
                f"{shape} and broadcasting cannot map one onto the other. The rule's VJP "
                "is wrong.")
        gk = fixed
    if state.anomaly and not np.all(np.isfinite(gk)):
        raise AnomalyError(f"{rule.name}{where(node.scope)}: backward produced NaN or Inf "
                           f"in the gradient of input {k} ({rule.vjp_text(k)}).")
    return gk


def _fill_retained(node, g):
    """Add ``g`` into the .grad of the tensor that asked for it (retain_grad())."""
    t = node.retained()
    if t is not None:
        t.grad = np.array(g, copy=True) if t.grad is None else np.asarray(t.grad + g)
