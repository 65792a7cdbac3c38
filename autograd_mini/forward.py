"""Forward mode: each op's JVP formula run beside its forward, as the op runs.

``jvp(f, inputs, tangents)`` runs ``f`` on Tensors while a ``Tracer`` listens to every op
(``state.tracer``, which ``apply`` calls): for each op whose inputs carry tangents, the
rule's JVP formula (``dout = dA @ B + A @ dB``) gives the tangent of its result, at once.
Nothing is recorded on the tape and a tangent is dropped with its Tensor, so memory does
not grow with the length of ``f``'s loop: that is what makes RTRL's memory independent of
T (models/rtrl.py).

Conventions the JVP formulas rely on (autograd_mini/registry.py: ``register(jvp=...)``):
- ``dA`` is the tangent of input ``A``: an array of A's shape, or of shape (k,) + A.shape
  when the tangents carry a batch axis of k directions (all of them do, then);
- an input without a tangent (a constant, or one ``f`` does not differentiate) has
  tangent zero: a broadcast view of one 0, which costs no memory;
- in a rule of two or more inputs (they broadcast), each batched tangent gets axes of
  length 1 after its batch axis, up to the output's rank, as NumPy aligns the input
  itself: ``A * dB`` then broadcasts for A (2, 3), B (3,), dB (k, 3) -> (k, 1, 3);
- the result is broadcast to the output's shape (with the batch axis) if it lacks axes:
  the forward twin of ``unbroadcast``.
"""
from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from .context import no_grad, state
from .errors import DTypeError, RuleError, ShapeError, where
from .tensor import Tensor

if TYPE_CHECKING:
    from .hints import ArrayLike, Operand


class Tracer:
    """The tangents of the Tensors of one ``jvp`` call, pushed through each op it runs."""

    def __init__(self, batch):
        self.batch = batch                                  # () or (k,)
        self.tangents = weakref.WeakKeyDictionary()         # Tensor -> its tangent

    def record(self, rule, tensors, params, aux, result):
        found = [self.tangents.get(t) for t in tensors]
        if all(d is None for d in found):
            return                                          # nothing flows: no tangent
        if rule.jvp is None:
            raise RuleError(f"jvp through {rule.name}{where(state.scope)}: the rule has no "
                            "JVP formula, so forward mode cannot pass it; register it with "
                            "jvp=\"...\" (the output's tangent from d<input>)")
        dtype = next(d.dtype for d in found if d is not None)
        arrays = [t.data for t in tensors]
        tangents = [self._zero(a, dtype) if d is None else d for d, a in zip(found, arrays)]
        env = dict(zip(rule.params, params), out=result.data)
        if rule.aux:
            env[rule.aux] = aux
        name = rule.inputs[0]
        if rule.variadic:
            env[name], env["d" + name] = arrays, tangents
        else:
            if self.batch and len(arrays) > 1:
                tangents = [self._aligned(d, a, result.ndim) for d, a in zip(tangents, arrays)]
            env.update(zip(rule.inputs, arrays))
            env.update(("d" + n, d) for n, d in zip(rule.inputs, tangents))
        try:
            dout = rule.jvp.fn(None, None, env)
        except Exception as e:
            raise RuleError(f"{rule.name}{where(state.scope)}: the JVP ({rule.jvp_text}) "
                            f"raised {type(e).__name__}: {e}") from e
        self.tangents[result] = self._fitted(np.asarray(dout), result, rule)

    def _zero(self, a, dtype):
        return np.broadcast_to(np.zeros((), dtype), self.batch + a.shape)

    def _aligned(self, d, a, rank):
        return d.reshape(self.batch + (1,) * (rank - a.ndim) + a.shape) if a.ndim < rank else d

    def _fitted(self, dout, result, rule):
        shape = self.batch + result.shape
        if dout.shape == shape:
            return dout
        try:
            return np.broadcast_to(dout, shape)
        except ValueError:
            batch = f" with batch {self.batch}" if self.batch else ""
            raise ShapeError(f"{rule.name}{where(state.scope)}: the JVP ({rule.jvp_text}) "
                             f"gave a tangent of shape {dout.shape}, but the output has shape "
                             f"{result.shape}{batch}: the rule's JVP is wrong") from None


def jvp(f: Callable[..., Any], inputs: Operand | Sequence[Operand],
        tangents: ArrayLike | Sequence[ArrayLike | None] | None) -> tuple[Any, Any]:
    """``f(*inputs)`` and its derivative along ``tangents``: ``(value, tangent)``.

    inputs: a tuple or list of arrays/Tensors (one array or Tensor alone is one input).
    tangents: one per input, of the input's shape and dtype, or all with one leading
    batch axis of k directions, (k,) + shape; None for an input held constant.
    ``f`` maps Tensors to a Tensor (or a tuple of them). Returns NumPy arrays: the value,
    and the tangent of shape out.shape (or (k,) + out.shape); tuples when ``f`` returns
    a tuple. Every op on the way needs a JVP formula."""
    inputs, tangents = _as_list(inputs), _as_list(tangents)
    if len(inputs) != len(tangents):
        raise ValueError(f"jvp: {len(inputs)} inputs but {len(tangents)} tangents; give one "
                         "tangent per input (None for an input held constant)")
    xs = [x if isinstance(x, Tensor) else Tensor(x) for x in inputs]
    dxs = [_tangent(k, x, t) for k, (x, t) in enumerate(zip(xs, tangents))]
    batch = _batch(xs, dxs)
    if state.tracer is not None:
        raise RuntimeError("jvp inside a function that jvp is already tracing: nested "
                           "forward mode is not supported")
    tracer = Tracer(batch)
    xs = [Tensor(x.data, name=x.name) for x in xs]      # fresh: f's own, tangents by identity
    for x, d in zip(xs, dxs):
        if d is not None:
            tracer.tangents[x] = d
    state.tracer = tracer
    try:
        with no_grad():
            out = f(*xs)
    finally:
        state.tracer = None
    outs = out if isinstance(out, (tuple, list)) else (out,)
    values, derivs = [], []
    for o in outs:
        o = o if isinstance(o, Tensor) else Tensor(o)
        d = tracer.tangents.get(o)
        values.append(o.data)
        derivs.append(np.zeros(batch + o.shape, o.dtype if o.dtype.kind == "f" else np.float64)
                      if d is None else np.array(d))
    if isinstance(out, (tuple, list)):
        return tuple(values), tuple(derivs)
    return values[0], derivs[0]


def jacfwd(f: Callable[[Tensor], Tensor], x: ArrayLike | Tensor) -> np.ndarray:
    """d f(x) / d x by forward mode: one batch of x.size directions, the identity.

    x: an array or Tensor of shape X; f maps a Tensor of shape X to a Tensor of shape Y.
    Returns an ndarray of shape Y + X (the twin of ``jacobian``, which uses reverse mode)."""
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    if data.dtype.kind != "f":
        data = data.astype(np.float64)
    eye = np.eye(data.size, dtype=data.dtype).reshape((data.size,) + data.shape)
    value, tangent = jvp(f, (data,), (eye,))
    return np.moveaxis(tangent, 0, -1).reshape(np.shape(value) + data.shape)


def _as_list(v):
    return list(v) if isinstance(v, (tuple, list)) else [v]


def _label(k, x):
    return f"input {k}" + (f" ({x.name!r})" if x.name else "")


def _tangent(k, x, t):
    """The tangent of input k as an array of x's dtype; a clear error when it cannot be."""
    if t is None:
        return None
    if x.dtype.kind != "f":
        raise DTypeError(f"jvp: {_label(k, x)} has dtype {x.dtype} and shape {x.shape}: only "
                         "floating-point inputs carry tangents; pass None as its tangent")
    d = t.data if isinstance(t, Tensor) else t
    if isinstance(d, np.ndarray):
        if d.dtype != x.dtype:
            raise DTypeError(f"jvp: the tangent of {_label(k, x)} has dtype {d.dtype} and shape "
                             f"{d.shape}, but the input has dtype {x.dtype} and shape "
                             f"{x.shape}; give it the input's dtype")
    else:
        d = np.asarray(d, dtype=x.dtype)
    if d.shape != x.shape and d.shape[1:] != x.shape:
        raise ShapeError(f"jvp: the tangent of {_label(k, x)} has shape {d.shape}, but the "
                         f"input has shape {x.shape}: expected {x.shape}, or (k,) + "
                         f"{x.shape} for a batch of k directions")
    return d


def _batch(xs, dxs):
    """The batch shape all tangents share: () or (k,)."""
    kinds = {(d.shape[:d.ndim - x.ndim]) for x, d in zip(xs, dxs) if d is not None}
    if len(kinds) > 1:
        shapes = ", ".join(f"{_label(k, x)}: {d.shape} for {x.shape}"
                           for k, (x, d) in enumerate(zip(xs, dxs)) if d is not None)
        raise ShapeError(f"jvp: the tangents disagree on the batch of directions ({shapes}): "
                         "either none has a batch axis, or all have one of the same length k")
    return kinds.pop() if kinds else ()
