"""The tape: one Node per recorded op, and the iterative reverse walk that is backprop.

Nodes are numbered as they are created, so creation order is a topological order: an
op's inputs always exist before it. ``backward`` keeps a dict of pending gradients,
summed on write (a weight used at every step receives the sum over steps: that is BPTT)
and popped on read, so each gradient is freed as soon as its node has used it. A node
joins the walk when its first gradient arrives, in a list kept sorted by creation
number, and the newest node in the list goes next: every node that can still send it a
gradient is newer, so has already gone (no recursion, and no pass over the graph before
the walk: an RNN unrolled over 100,000 steps is a chain 100,000 deep).
"""
import weakref
from bisect import insort
from itertools import count
from operator import attrgetter

import numpy as np

from . import context
from .broadcast import unbroadcast
from .errors import AnomalyError, GraphFreedError, ShapeError, where

_creation = count()
SHAPES = {}     # shape tuple -> the one kept copy (tensor._shared)
# How much of one parameter's factors may wait to be stacked (run_backward): STACK_GRADS
# times the size of its gradient, and at least STACK_BYTES. Measured (benchmarks/bptt.py):
# a flat 1 MiB made the small size about 15% slower (cache), a flat 64 KiB left the medium
# size about 7% slower than this.
STACK_BYTES = 1 << 16
STACK_GRADS = 4


class Node:
    """One recorded op: its rule, where its gradient goes, and what its VJPs read. Made by
    ``new_node`` (one or two inputs) or ``Node.of_many`` (three or more).

    ``parents`` holds, per input, the input's Node, the leaf Tensor itself, or None (the
    input needs no gradient). One- and two-input nodes store them in two slots rather
    than a tuple: a tuple is one more object per op for Python's cyclic garbage collector
    to walk, and its full passes over a long unrolled graph cost as much as recording it
    (benchmarks/bptt.py, long size: twice the collector time with the tuple). Nodes of
    three or more inputs (stack, concat) keep the tuple, in ``_many``.

    The input shapes get the same treatment (``_shape1``, ``_shape2``; ``_shapes`` for
    three or more), for a stronger reason: a tuple of shape tuples stays tracked by the
    collector for the graph's whole life (it held 11 of the 23 tracked objects per step of
    the long benchmark), while a bare shape tuple of ints is untracked at its first
    collection. ``shapes`` rebuilds the tuple on demand.
    """

    __slots__ = ("rule", "_first", "_second", "_many", "_shape1", "_shape2", "_shapes",
                 "saved", "out", "params", "seq", "scope", "retained", "freed", "grad", "name",
                 "locks")

    @classmethod
    def of_many(cls, rule, parents, shapes, saved, out, params, locks=None):
        """A node of three or more inputs (stack, concat): parents and shapes in tuples."""
        node = new_node(rule, None, None, None, None, saved, out, params, locks, cls)
        node._many = tuple(parents)
        node._shapes = tuple(shapes)
        return node

    @property
    def parents(self):
        """Per input: its Node, the leaf Tensor, or None. A tuple, one entry per input."""
        if self._many is not None:
            return self._many
        if self._shape2 is None:
            return (self._first,)
        return (self._first, self._second)

    @property
    def shapes(self):
        """Per input: its shape (the unbroadcast target; the VJP's argument when the rule
        saves no inputs). A tuple, one entry per input."""
        if self._shapes is not None:
            return self._shapes
        if self._shape2 is None:
            return (self._shape1,)
        return (self._shape1, self._shape2)

    def release(self):
        """Drop what backward needed, and this node's holds on user arrays; the graph's
        structure stays (for drawing)."""
        self.saved = self.out = self.locks = None
        self.freed = True

    def __repr__(self):
        return f"Node#{self.seq}({self.rule.name}{where(self.scope)})"


_new = object.__new__      # an instance with its slots unset, for new_node to fill


def new_node(rule, first, second, shape1, shape2, saved, out, params, locks, cls=Node):
    """A one- or two-input node (``second`` and ``shape2`` None for one input); nodes of
    three or more inputs are made by ``Node.of_many``.

    A plain function rather than ``Node.__init__``: CPython 3.11 runs a class's
    ``__init__`` through a C-level call with an interpreter frame of its own, while a
    plain function call stays inside the running loop (-0.6% instructions at small).
    """
    node = _new(cls)
    node.rule = rule
    node._first = first
    node._second = second
    node._shape1 = shape1
    node._shape2 = shape2
    node._many = node._shapes = None
    node.saved = saved        # input arrays (rules that save inputs) or None
    node.out = out            # forward result or aux (rules that save it) or None
    node.params = params
    node.seq = next(_creation)
    node.scope = context.current_scope
    node.retained = None      # weakref to the Tensor whose .grad to fill (retain_grad())
    node.freed = False
    node.grad = None          # filled only by backward(keep_grads=True), for drawings
    node.name = None          # the output's name, when the user gives one (Tensor.named)
    node.locks = locks        # the Hold on a user's input array (a tuple for several)
    return node


class ParamView(Node):
    """``W.T`` of a parameter ``W``: one node per parameter (and data array), shared by
    every use in every graph.

    ``h @ W.T`` at each of T steps would otherwise record T transpose nodes, each with its
    own backward visit and its own transposed gradient to add into ``W.grad``; shared, the
    T gradients are summed in W^T's layout and transposed once. The node saves nothing and
    holds no lock (the ops that read the view hold W's array, see ``Tensor.T``), so a
    backward pass has nothing to release here, and it never marks it freed: every graph
    built on the parameter shares it and runs its own backward through it.
    """

    __slots__ = ()

    def release(self):
        pass


class Hold:
    """Keeps one user array read-only while any tape node may still read it.

    Writing into a saved array between forward and backward (``w.data[...] = 0``) would
    silently give a wrong gradient; NumPy's read-only flag turns it into an error at the
    write. Every node that takes a user's array as input refers to that array's one Hold
    (``Node.locks``); the Hold lives exactly as long as some node refers to it, so two
    graphs built on the same leaf keep it read-only until the last of their nodes is
    released by backward or dropped unused; then Python frees the Hold, which makes the
    array writable again. Letting go is a slot set to None, in C: no Python call per node.
    """

    __slots__ = ("array", "__weakref__")

    def __init__(self, array):
        self.array = array

    def __del__(self):
        if _holds is not None:              # (None at interpreter shutdown)
            _holds.pop(id(self.array), None)
        self.array.setflags(write=True)


# id(array) -> weakref to the array's Hold, while it has one. The Hold keeps the array
# alive, so the id is not reused while the entry is here.
_holds = {}


def hold(array):
    """The Hold keeping ``array`` read-only, made by the first node that needs it; None
    when ``array`` was made read-only by its owner (then it is never ours to unlock)."""
    ref = _holds.get(id(array))
    if ref is not None:
        kept = ref()
        if kept is not None:
            return kept
    if not array.flags.writeable:
        return None
    # (setflags: the same switch as assigning `flags.writeable`, which goes through a
    # flags object and a method lookup, 0.7 µs against 0.2; twice per array per graph)
    array.setflags(write=False)
    kept = Hold(array)
    _holds[id(array)] = weakref.ref(kept)
    return kept


_seq = attrgetter("seq")
_NODE_TYPES = {Node, ParamView}   # class test by set lookup: parents are Nodes, leaves, None


def run_backward(root, g, retain_graph=False, keep_grads=False):
    """Backpropagate ``g`` from ``root`` (a Node). Returns {leaf Tensor: gradient}.

    With ``keep_grads`` every node keeps the total gradient on its output in ``node.grad``
    (the renderer shows them); otherwise gradients live only until used.
    """
    if len(SHAPES) > 10_000:    # a program of ever-new shapes: keep the shared ones few
        SHAPES.clear()
    pending = {root: g}
    leaves = {}
    # Keys (nodes or leaves) whose summed gradient is an array this walk allocated and
    # nothing else references: later contributions are added into it in place instead of
    # allocating a new sum each time (a weight used at T steps gets T - 2 fewer arrays).
    # A VJP's result is never in here: it may be a view of g or share g with a sibling.
    owned = set()
    anomaly = context.anomaly_mode

    def send(node, i, p, gi, shape):
        """Add ``gi``, the gradient for input ``i`` of ``node``, into what ``p`` receives."""
        if gi.shape != shape:
            if stacking and gi.ndim == 2 and shape == gi.shape[1:] and p.__class__ is not Node:
                # A bias b (n,) added to a batch (B, n): db = 1^T g, a product too (below)
                stack(node, i, p, (_ones(len(gi), gi.dtype), gi), shape)
                return
            fixed = unbroadcast(gi, shape)
            if fixed is None:
                rule = node.rule
                raise ShapeError(
                    f"{rule.name}{where(node.scope)}: the VJP for input {i} "
                    f"({rule.formula(i)}) returned shape {gi.shape}, but the input has "
                    f"shape {shape} and broadcasting cannot map one onto the other. "
                    "The rule's VJP is wrong.")
            gi = fixed
        if anomaly and not np.all(np.isfinite(gi)):
            raise AnomalyError(
                f"{node.rule.name}{where(node.scope)}: backward produced NaN or Inf in the "
                f"gradient of input {i} ({node.rule.formula(i)}).")
        if p.__class__ in _NODE_TYPES:
            sums = pending
            prev = pending.get(p)
            if prev is None:
                insort(queue, p, key=_seq)      # its first gradient: p joins the walk
        else:
            sums = leaves
            prev = leaves.get(p)
        if prev is None:
            sums[p] = gi
        elif p in owned and prev.dtype == gi.dtype:
            np.add(prev, gi, out=prev)
        else:
            total = sums[p] = prev + gi
            # 0-d sums come back as NumPy scalars; and on one element, NumPy's in-place
            # add (~1 µs, it checks for overlap) is slower than a new sum.
            if total.__class__ is np.ndarray and total.size > 1:
                owned.add(p)

    # A parameter (a leaf, or a shared W.T) used at every step receives from each use a
    # product of two matrices: matmul's dB = A(t)^T g(t), or a bias's db = 1^T g(t) (its
    # sum over the batch). The sum over the steps is one product of stacked factors,
    # [A(1); ...; A(T)]^T [g(1); ...; g(T)]: one BLAS call instead of T products (or
    # reductions) and T additions. The factors wait in `stacks` until the parameter's
    # turn in the walk (all its uses are newer, so all have sent theirs), or until they
    # fill their budget: STACK_GRADS times the gradient's own size, at least STACK_BYTES,
    # counted in uses of the size of the first (a parameter's uses have one shape). Large
    # products gain most from fewer, fuller BLAS calls and from the additions skipped; a
    # budget tied to their size keeps small ones in cache.
    stacks = {}     # parameter -> [node, input index, shape, [(left, right), ...], uses left]

    def stack(node, i, p, pair, shape):
        entry = stacks.get(p)
        if entry is None:
            if p.__class__ in _NODE_TYPES:  # a shared W.T: it joins the walk
                insort(queue, p, key=_seq)
            left, right = pair
            grad_bytes = (left.shape[0] if left.ndim == 2 else 1) * right.shape[1] * left.itemsize
            budget = max(STACK_BYTES, STACK_GRADS * grad_bytes)
            stacks[p] = [node, i, shape, [pair], max(1, budget // (left.nbytes + right.nbytes))]
            return
        entry[3].append(pair)
        entry[4] -= 1
        if not entry[4]:
            flush(p)

    def flush(p):
        node, i, shape, pairs, _ = stacks.pop(p)
        if len(pairs) == 1:
            left, right = pairs[0]
            total = left @ right
        else:
            lefts, rights = zip(*pairs)
            total = np.concatenate(lefts, axis=-1) @ np.concatenate(rights, axis=0)
        send(node, i, p, total, shape)

    stacking = not anomaly      # (anomaly mode checks each step's gradient on its own)
    pop = pending.pop
    try:
        # The nodes that have received a gradient and wait for their turn, oldest first (see
        # the module docstring). Sorted inserts cost less than a search of the whole graph
        # before the walk: the list holds only the frontier, a few nodes in an RNN.
        queue = [root]
        while queue:
            node = queue.pop()
            if stacks and node in stacks:       # a shared W.T: its stacked uses, summed
                flush(node)
            g = pop(node, None)
            if g is None:       # (a W.T queued twice, by its stack and by a partial sum)
                continue
            if node.freed:
                raise GraphFreedError(
                    f"backward through {node.rule.name}{where(node.scope)} a second time: its "
                    "saved values were released by the first backward. Pass retain_graph=True "
                    "to the first backward() to keep them.")
            if keep_grads:
                node.grad = g
            if node.retained is not None:
                _fill_retained(node, g)
            rule = node.rule
            if node._many is not None:
                _send_many(node, g, send)
            elif rule.passes_g:                 # add: dA = dB = g, nothing to compute
                if node._first is not None:
                    send(node, 0, node._first, g, node._shape1)
                if node._second is not None:
                    send(node, 1, node._second, g, node._shape2)
            else:
                # One or two inputs, nearly every node: the inputs' VJPs take the same
                # arguments, packed once; the slots are read directly (no `parents` tuple).
                first, second = node._first, node._second
                shape1, shape2 = node._shape1, node._shape2
                if rule.saves_inputs:
                    args = node.saved
                else:
                    args = (shape1,) if shape2 is None else (shape1, shape2)
                vjp_args = (g, node.out, *args, *node.params)
                factors = rule.factors if stacking else None
                if first is not None:
                    pair = (factors[0](*vjp_args)
                            if factors is not None and first.__class__ is not Node else None)
                    if pair is not None:    # into a parameter: stacked, summed later
                        stack(node, 0, first, pair, shape1)
                    else:
                        gi = rule.vjps[0](*vjp_args)
                        if gi is not None:  # None: the rule says no gradient flows there
                            send(node, 0, first, gi, shape1)
                if second is not None:
                    pair = (factors[1](*vjp_args)
                            if factors is not None and second.__class__ is not Node else None)
                    if pair is not None:
                        stack(node, 1, second, pair, shape2)
                    else:
                        gi = rule.vjps[1](*vjp_args)
                        if gi is not None:
                            send(node, 1, second, gi, shape2)
            if not retain_graph:
                if node.__class__ is Node:      # Node.release() inlined: it runs per node
                    node.saved = node.out = node.locks = None
                    node.freed = True
                else:
                    node.release()
        while stacks:                           # the leaves' stacked uses
            flush(next(iter(stacks)))
    finally:
        # send, stack and flush call one another, so their closures form a reference
        # cycle, and it holds `owned`, `pending` and `stacks`: nodes, and through their
        # parents the whole graph. Left in place, the graph outlived backward until Python's
        # cyclic collector found it (at the long size, every full collection freed the last
        # iteration's graph). Emptying one link lets reference counting free it all here.
        del flush
    return leaves


def _ones(n, dtype, _kept={}):
    """A read-only vector of n ones: the left factor of a bias's gradient, 1^T g."""
    ones = _kept.get((n, dtype))
    if ones is None:
        if len(_kept) > 1000:           # a program of ever-new batch sizes: keep it small
            _kept.clear()
        ones = _kept[n, dtype] = np.ones(n, dtype)
        ones.flags.writeable = False
    return ones


def _fill_retained(node, g):
    """Add ``g`` into the .grad of the tensor that asked for it (retain_grad())."""
    t = node.retained()
    if t is not None:
        tg = g.copy() if t.grad is None else t.grad + g
        t.grad = tg if tg.__class__ is np.ndarray else np.asarray(tg)   # 0-d: scalar


def _send_many(node, g, send):
    """The VJPs of a node of three or more inputs (stack, concat: variadic rules)."""
    rule = node.rule
    args = node.saved if rule.saves_inputs else node._shapes
    for i, p in enumerate(node._many):
        if p is None:
            continue
        if rule.variadic:
            gi = rule.vjps[0](i, g, node.out, args, *node.params)
        else:
            gi = rule.vjps[i](g, node.out, *args, *node.params)
        if gi is not None:
            send(node, i, p, gi, node._shapes[i])
