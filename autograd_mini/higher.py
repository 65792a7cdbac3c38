"""Gradients as Tensors, and gradients of gradients: ``grad``, ``hvp``, ``gradgradcheck``.

``grad(outputs, inputs, create_graph=True)`` walks the tape as ``tape.backward`` does (the
newest node of the frontier first, pending gradients summed on write and popped on read),
but evaluates each rule's VJP text in the Tensor namespace (tensor_formulas.TENSOR), so
the backward pass is itself recorded and can be differentiated again. For that walk a
node's formulas see Tensors that lead back into the graph:

- ``out`` is a Tensor whose node is the node itself (tanh's ``1 - out**2`` depends on x
  through tanh);
- each input is its parent: the leaf itself, or the saved array in a Tensor whose node is
  the parent node (a constant where the input needed no gradient);
- ``aux`` is recomputed from those inputs by the rule's ``aux_formula`` (softmax
  cross-entropy's ``p`` is ``softmax(o)``).

``tape.backward`` stays the eager NumPy walk; ``create_graph=False`` here runs the same
per-input step it does (``tape.input_grad``).
"""
from __future__ import annotations

from contextlib import contextmanager
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any, Callable, Iterable, Literal, Sequence, overload

import numpy as np

from .checks import GradcheckReport, gradcheck
from .context import no_grad, state
from .errors import AnomalyError, GraphFreedError, RuleError, ShapeError, where
from .formulas import unbroadcast
from .functional import concat, stack
from .tape import Node, input_grad
from .tensor import ShapeOf, Tensor, _result
from .tensor_formulas import TENSOR

if TYPE_CHECKING:
    from .hints import ArrayLike

    GradOutputs = ArrayLike | Tensor | Sequence[ArrayLike | Tensor | None] | None


@overload
def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: GradOutputs = None, create_graph: bool = False,
         retain_graph: bool | None = None,
         allow_unused: Literal[False] = False) -> tuple[Tensor, ...]: ...
@overload
def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: GradOutputs = None, create_graph: bool = False,
         retain_graph: bool | None = None, *,
         allow_unused: bool) -> tuple[Tensor | None, ...]: ...


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: GradOutputs = None, create_graph: bool = False,
         retain_graph: bool | None = None,
         allow_unused: bool = False) -> tuple[Tensor | None, ...]:
    """d(outputs)/d(inputs) times ``grad_outputs``, as ``torch.autograd.grad``: a tuple of
    Tensors, one per input (None for an input the outputs do not reach, with
    ``allow_unused=True``). Nothing is accumulated into ``.grad``.

    outputs, inputs: a Tensor or a sequence of them. grad_outputs: one array or Tensor per
    output, of its shape (default: 1 for one-element outputs). With ``create_graph=True``
    the backward pass is recorded, so the result can be differentiated again; the graph is
    then kept (``retain_graph`` defaults to ``create_graph``)."""
    outputs, inputs = _seq(outputs), _seq(inputs)
    for k, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise ValueError(f"grad: input {k} does not require grad, so it has no gradient; "
                             "make it with requires_grad=True (or an op of such a tensor)")
    seeds = _seeds(outputs, _grad_outputs(outputs, grad_outputs, create_graph))
    retain = create_graph if retain_graph is None else retain_graph
    step = _OnTensors() if create_graph else input_grad
    found = _walk(seeds, {x.node for x in inputs if x.node is not None}, step, retain,
                  create_graph)
    result = []
    for k, x in enumerate(inputs):
        g = found.get(x if x.node is None else x.node)
        if g is None and not allow_unused:
            raise ValueError(f"grad: input {k}{_name(x)} is not used by the outputs' graph; "
                             "pass allow_unused=True to get None for it")
        result.append(None if g is None else g if isinstance(g, Tensor) else
                      Tensor(np.array(g)))
    return tuple(result)


def _walk(seeds, wanted, step, retain, recorded):
    """Backward from ``seeds`` ({Node or leaf: gradient}): {leaf or wanted Node: total}.

    ``recorded``: the gradients are Tensors whose ops are recorded. A leaf's gradients
    (a weight's, one per time step) are then summed once at the end, by one stack and one
    sum, instead of T recorded additions that the next backward would walk one by one;
    a gradient that a leaf's broadcasting stretched (a bias's, of the batch's shape) is
    summed there too, in the same sum (``_leaf_total``)."""
    pending = {n: g for n, g in seeds.items() if n.__class__ is Node}
    found = {t: [g] for t, g in seeds.items() if t.__class__ is not Node}
    frontier = [(-n.seq, n) for n in pending]
    frontier.sort()
    while frontier:
        node = heappop(frontier)[1]
        g = pending.pop(node)
        if node in wanted:
            found[node] = [g]
        if node.env is None:
            raise GraphFreedError(f"grad through {node.rule.name}{where(node.scope)}: its "
                                  "saved values were released by an earlier backward; pass "
                                  "retain_graph=True to it")
        for k, parent in enumerate(node.parents):
            gk = None if parent is None else step(node, k, g)
            if gk is None:
                continue
            if parent.__class__ is Node:
                if parent in pending:
                    pending[parent] = pending[parent] + gk
                else:
                    pending[parent] = gk
                    heappush(frontier, (-parent.seq, parent))
            elif recorded:
                found.setdefault(parent, []).append(gk)
            else:
                found[parent] = [found[parent][0] + gk] if parent in found else [gk]
        if not retain:
            node.release()
    return {t: gs[0] if t.__class__ is Node else _leaf_total(gs, t.shape)
            for t, gs in found.items()}


def _leaf_total(gs, shape):
    """The sum of a leaf's gradients, each of the leaf's shape or one it broadcast to.
    Stacked, they are summed over the stack's axis and the broadcast axes by one op (a
    bias's T gradients of shape (B, H): one stack and one sum, not T sums and a stack)."""
    if len(gs) == 1 and gs[0].shape == shape:
        return gs[0]
    if any(g.shape != gs[0].shape for g in gs):
        gs = [unbroadcast(g, shape) for g in gs]
    return unbroadcast(stack(gs) if len(gs) > 1 else gs[0], shape)


class _OnTensors:
    """``tape.input_grad`` on Tensors: the rule's VJP text in the Tensor namespace. The
    walk asks for a node's inputs one after another; their Tensors are made once."""

    def __init__(self):
        self.node = self.env = None

    def __call__(self, node, k, g):
        if node is not self.node:
            self.node, self.env = node, _tensor_env(node)
        return _tensor_input_grad(node, k, g, self.env)


def _tensor_input_grad(node, k, g, env):
    rule = node.rule
    try:
        fn = rule.vjp(k).compiled(TENSOR)
    except KeyError as e:
        raise RuleError(f"create_graph=True through {rule.name}{where(node.scope)}: its VJP "
                        f"({rule.vjp_text(k)}) uses {e.args[0]}, which has no Tensor version, "
                        f"so {rule.name} cannot be differentiated twice") from None
    gk = fn(g, k, env)
    if gk is None:
        return None
    gk = gk if isinstance(gk, Tensor) else Tensor(gk)
    if gk.shape != node.shapes[k]:
        if node.parents[k].__class__ is not Node and _broadcasts(node.shapes[k], gk.shape):
            fixed = gk          # a leaf's: summed with its others (_walk's _leaf_total)
        else:
            fixed = unbroadcast(gk, node.shapes[k])
        if fixed is None:
            raise ShapeError(f"{rule.name}{where(node.scope)}: the VJP for input {k} "
                             f"({rule.vjp_text(k)}) returned shape {gk.shape} on Tensors, but "
                             f"the input has shape {node.shapes[k]}")
        gk = fixed
    if state.anomaly and not np.all(np.isfinite(gk.data)):
        raise AnomalyError(f"{rule.name}{where(node.scope)}: backward produced NaN or Inf "
                           f"in the gradient of input {k} ({rule.vjp_text(k)}).")
    return gk


def _broadcasts(shape, to):
    """Whether broadcasting makes ``shape`` into ``to`` (so ``unbroadcast`` undoes it)."""
    try:
        return np.broadcast_shapes(shape, to) == to
    except ValueError:
        return False


def _tensor_env(node):
    """What the node's formulas name, as Tensors that lead back into the graph (and its
    parameters, as they are)."""
    rule = node.rule
    if not rule.saves:
        return node.params          # (add's g, neg's -g: nothing but the parameters)
    env = dict(node.params)
    for name, parent in zip(rule.inputs, node.parents):
        saved = node.env.get(name)
        if saved is None or isinstance(saved, ShapeOf):
            if saved is not None:
                env[name] = saved
        elif parent is None or parent.__class__ is Node:
            env[name] = _result(saved, parent)      # a constant, or the parent's output
        else:
            env[name] = parent                      # the leaf itself
    if "out" in node.env:
        env["out"] = _result(node.env["out"], node)
    if rule.aux in rule.saves:
        if rule.aux_formula is None:
            raise RuleError(f"create_graph=True through {rule.name}{where(node.scope)}: its "
                            f"VJP reads {rule.aux}, which its forward computes beside out; "
                            f"register it with aux_formula=... (how {rule.aux} follows from "
                            f"the inputs) so that {rule.name} can be differentiated twice")
        env[rule.aux] = rule.aux_formula.compiled(TENSOR)(None, None, env)
    return env


def hvp(f: Callable[..., Tensor], inputs: Sequence[ArrayLike | Tensor],
        vectors: Sequence[ArrayLike]) -> tuple[np.ndarray, ...]:
    """The Hessian of a scalar ``f(*inputs)`` times ``vectors``: one array per input,
    d/dx (grad f . v), by differentiating the recorded gradient (reverse over reverse).

    inputs: a sequence of arrays (or Tensors, whose data is used); vectors: one array of
    each input's shape."""
    inputs, vectors = _seq(inputs), _seq(vectors)
    if len(inputs) != len(vectors):
        raise ValueError(f"hvp: {len(inputs)} inputs but {len(vectors)} vectors")
    xs = [Tensor(_float(x), requires_grad=True) for x in inputs]
    with _grad_enabled():
        y = f(*xs)
        if not isinstance(y, Tensor) or y.size != 1:
            raise ValueError(f"hvp: f must return a one-element Tensor, got "
                             f"{getattr(y, 'shape', type(y).__name__)}")
        gs = grad(y, xs, create_graph=True, allow_unused=True)
        dot = sum(((g * np.asarray(v, dtype=g.dtype)).sum() for g, v in zip(gs, vectors)
                   if g is not None), Tensor(0.0))
        hv = grad(dot, xs, allow_unused=True) if dot.requires_grad else [None] * len(xs)
    return tuple(np.zeros(x.shape) if h is None else h.data for x, h in zip(xs, hv))


class GradgradcheckReport(GradcheckReport):
    def __str__(self):
        return "grad" + super().__str__()

    __repr__ = __str__


def gradgradcheck(fn: Callable[..., Tensor], inputs: Iterable[Any], eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-4,
                  mode: Literal["full", "projection"] = "full",
                  seed: int = 0) -> GradgradcheckReport:
    """Second derivatives against finite differences of the gradient.

    With a fixed random ``u`` of ``fn(*inputs)``'s shape, the gradient G(x) = u . dfn/dx
    (w.r.t. every input with requires_grad, by ``grad(create_graph=True)``) is itself
    checked by ``gradcheck``: its Jacobian by differentiating the recorded backward pass,
    against central differences of G. Same arguments and report as ``gradcheck``."""
    inputs = list(inputs)
    wrt = [k for k, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("gradgradcheck: no input has requires_grad=True, so there is "
                         "nothing to check")
    with no_grad():
        y0 = fn(*[Tensor(x.data) if isinstance(x, Tensor) else x for x in inputs])
    u = np.random.default_rng(seed).standard_normal(np.shape(y0.data))

    def first(*ts):
        with _grad_enabled():
            ts = list(ts)
            for k in wrt:
                if not ts[k].requires_grad:
                    ts[k] = Tensor(ts[k].data, requires_grad=True, name=ts[k].name)
            gs = grad(fn(*ts), [ts[k] for k in wrt], grad_outputs=u, create_graph=True,
                      allow_unused=True)
            return concat([(Tensor(np.zeros(ts[k].shape)) if g is None else g).reshape(-1)
                           for k, g in zip(wrt, gs)])

    r = gradcheck(first, inputs, eps=eps, atol=atol, rtol=rtol, mode=mode, seed=seed)
    return GradgradcheckReport(r.checks, r.mode, r.eps, r.atol, r.rtol)


@contextmanager
def _grad_enabled():
    """Record ops even inside no_grad() (gradcheck's finite differences run there)."""
    before, state.grad_enabled = state.grad_enabled, True
    try:
        yield
    finally:
        state.grad_enabled = before


def _seq(v):
    return list(v) if isinstance(v, (tuple, list)) else [v]


def _name(t):
    return f" ({t.name!r})" if getattr(t, "name", None) else ""


def _float(x):
    a = x.data if isinstance(x, Tensor) else np.asarray(x)
    return a if a.dtype.kind == "f" else a.astype(np.float64)


def _grad_outputs(outputs, grad_outputs, create_graph):
    """One upstream gradient per output: arrays, or Tensors when the graph is recorded."""
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    grad_outputs = _seq(grad_outputs) if not isinstance(grad_outputs, np.ndarray) \
        else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    gs = []
    for k, (y, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if y.size != 1:
                raise ValueError(f"grad: output {k} has shape {y.shape}; pass its upstream "
                                 "gradient in grad_outputs (only a one-element output "
                                 "defaults to 1)")
            g = np.ones(y.shape, dtype=y.dtype)
        if not isinstance(g, Tensor):
            g = np.asarray(g, dtype=y.dtype)
        if g.shape != y.shape:
            raise ShapeError(f"grad: grad_outputs[{k}] has shape {g.shape}, but output {k} "
                             f"has shape {y.shape}; they must be equal")
        gs.append((g if isinstance(g, Tensor) else Tensor(g)) if create_graph else
                  (g.data if isinstance(g, Tensor) else g))
    return gs


def _seeds(outputs, gs):
    """{the output's node, or the output itself when it is a leaf: its gradient}."""
    seeds = {}
    for y, g in zip(outputs, gs):
        key = y.node if y.node is not None else y
        seeds[key] = seeds[key] + g if key in seeds else g
    return seeds
