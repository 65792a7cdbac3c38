"""How each rule runs on all steps at once: its forward text and its formulas on stacked
operands (a leading axis of steps), or None when it cannot.

Most formulas run unchanged on stacked arrays: elementwise rules broadcast, and the
engine's one ``unbroadcast`` sums a parameter's per-step gradients over the step axis.
The exceptions are written here, each with the rule's own formula kept as the comment:

- ``matmul`` of stacked rows by a parameter: ``dB = A.mT @ g`` on the rows of all steps
  folded into one matrix: one product instead of T;
- ``matvec``/``vecmat`` (column-vector RNNs, the book's ``W h(t-1)``): the per-step outer
  products summed over t are one product, ``g.mT @ x``;
- reductions, softmax, transpose, reshape and indexing: their axes move by one;
- ``softmax_cross_entropy``: each step's mean over its own batch.
"""
import numpy as np

from .reroll import Aff, RefC

# A rule's forward as text over its inputs' and parameters' names (the generated code
# writes this, not a call back into the engine).
FORWARD = {
    "add": "A + B", "sub": "A - B", "mul": "A * B", "div": "A / B", "neg": "-x",
    "pow": "x ** p", "exp": "np.exp(x)", "log": "np.log(x)", "tanh": "np.tanh(x)",
    "sigmoid": "sigmoid(x)", "relu": "np.maximum(x, 0)",
    "matmul": "A @ B", "matvec": "A @ x", "vecmat": "x @ B", "dot": "a @ b",
    "transpose": "x.transpose(axes)", "reshape": "x.reshape(shape)",
    "sum": "x.sum(axis=axis, keepdims=keepdims)", "mean": "x.mean(axis=axis, keepdims=keepdims)",
    "getitem": "x[index]", "view": "x[index]",
    "stack": "np.stack(x, axis=axis)", "concat": "np.concatenate(x, axis=axis)",
    "softmax": "_softmax(x, axis)", "log_softmax": "_log_softmax(x, axis)",
    "softmax_cross_entropy": "_softmax_cross_entropy(o, y, reduction)",
}
ELEMENTWISE = {"add", "sub", "mul", "div", "neg", "pow", "exp", "log", "tanh", "sigmoid",
               "relu"}


def softmax_cross_entropy_steps(o, y, reduction, out=None):
    """softmax_cross_entropy of every step at once: o (T, ..., C), y (T, ...) class
    indices; returns (each step's loss, shape (T,) or (T, ...) for "none"; p).
    ``out``: where p goes (it may be o itself: then o is overwritten, and no temporary
    of o's size is made)."""
    if out is not None and y.dtype.kind in "iu" and out.flags.c_contiguous:
        z = out.reshape(-1, o.shape[-1])             # a view: p is written in place
        o2 = o.reshape(-1, o.shape[-1])
        np.subtract(o2, np.maximum.reduce(o2, axis=-1, keepdims=True), out=z)
        picked = np.take_along_axis(z, y.reshape(-1, 1), axis=-1)[:, 0]
        np.exp(z, out=z)
        s = np.add.reduce(z, axis=-1, keepdims=True)
        np.divide(z, s, out=z)
        nll, p = (np.log(s[:, 0]) - picked).reshape(y.shape), out
    elif y.dtype.kind in "iu":    # class indices: as one batch of rows (T*B, C)
        nll, p = _softmax_cross_entropy(o.reshape(-1, o.shape[-1]), y.reshape(-1), "none")  # noqa: F821
        nll, p = nll.reshape(y.shape), p.reshape(o.shape)
    else:
        nll, p = _softmax_cross_entropy(o, y, "none")   # noqa: F821 (pasted beside it)
    if out is not None and p is not out:
        out[...] = p
    if reduction == "none":
        return nll, p
    nll = nll.reshape(len(nll), -1)
    return (nll.mean(axis=1) if reduction == "mean" else nll.sum(axis=1)), p


def softmax_cross_entropy_grad_steps(p, y, g, reduction, out=None):
    """(p - onehot(y, p)) * per_example_steps(g, reduction, p), into ``out``: class
    indices subtract 1 at each row's label instead of making one-hot rows."""
    out = np.empty_like(p) if out is None else out
    rows = out.reshape(-1, p.shape[-1]) if out.flags.c_contiguous else None
    if y.dtype.kind in "iu" and rows is not None:
        np.copyto(out, p)
        rows[np.arange(len(rows)), y.reshape(-1)] -= 1
    else:
        np.subtract(p, onehot(y, p), out=out)      # noqa: F821 (pasted beside it)
    return np.multiply(out, per_example_steps(g, reduction, p), out=out)


def per_example_steps(g, reduction, p):
    """per_example for every step at once: g holds each step's upstream gradient."""
    if reduction == "none":
        return g[..., None]
    g = g.reshape(g.shape + (1,) * (p.ndim - 1))
    return g / (p[0].size // p.shape[-1]) if reduction == "mean" else g


class Form:
    """A rule on stacked operands: forward text, parameters, operands to fold in input
    m's formula (m -> {name: shape to reshape to}) and formulas that differ from the
    rule's (m -> text)."""

    def __init__(self, forward, params, folds=None, vjp=None, multi=False):
        self.forward, self.params = forward, params
        self.folds = folds or {}
        self.vjp = vjp or {}
        self.multi = multi          # forward returns (out, aux)


def stacked(loop, pl, j, m):
    """Is input m of body op j stacked (a row per step) when hoisted?"""
    c = loop.ins[j][m]
    return _class_stacked(c, pl)


def _class_stacked(c, pl):
    if c[0] == "E":
        return False
    if c[0] == "L":
        return pl.place.get(c[1]) != "inv"
    return True


def form(prog, loop, j, pl):
    """The Form of body op j of ``loop`` on stacked operands, or None."""
    op = prog.ops[loop.op(j, loop.n - 1)]
    name = op.rule.name
    if name not in FORWARD or name == "dot":
        return None
    st = [stacked(loop, pl, j, m) for m in range(len(op.ins))]
    shapes = [prog.vals[v].shape for v in op.ins]
    out = prog.vals[op.outs[0]].shape
    params = dict(zip(op.rule.params, loop.params[j]))
    if name != "view" and any(_varies(p) for p in params.values()):
        return None
    pshift = lambda a: None if a is None else tuple(x + 1 for x in a)  # noqa: E731
    if name in ELEMENTWISE:
        if any(s and len(sh) != len(out) for s, sh in zip(st, shapes)):
            return None
        return Form(FORWARD[name], params)
    if name in ("matmul", "matvec", "vecmat"):
        return _product_form(name, st, shapes, params)
    if not st[0] and name not in ("getitem", "view", "stack", "concat"):
        return None
    if name == "transpose":
        axes = params["axes"] or tuple(range(len(shapes[0]) - 1, -1, -1))
        return Form(FORWARD[name], dict(axes=(0,) + pshift(axes)))
    if name in ("sum", "mean"):
        axis = params["axis"]
        axis = tuple(range(1, len(shapes[0]) + 1)) if axis is None else pshift(axis)
        return Form(FORWARD[name], dict(params, axis=axis))
    if name in ("softmax", "log_softmax"):
        return Form(FORWARD[name], dict(axis=params["axis"] + 1))
    if name == "reshape":
        return Form(FORWARD[name], dict(shape=(-1,) + tuple(params["shape"])))
    if name == "getitem":
        index = params["index"]
        if st[0] and _static(index):
            index = index if isinstance(index, tuple) else (index,)
            return Form(FORWARD[name], dict(index=(slice(None),) + index))
        if not st[0] and isinstance(index, RefC) and _class_stacked(index.c, pl):
            return Form(FORWARD[name], params)
        return None
    if name == "view":
        return _view_form(params["index"])
    if name in ("stack", "concat"):
        if not all(st):
            return None
        return Form(FORWARD[name], dict(params, axis=params["axis"] + 1))
    if name == "softmax_cross_entropy":
        y = params["y"]
        if not (isinstance(y, RefC) and _class_stacked(y.c, pl)):
            return None
        return Form("softmax_cross_entropy_steps(o, y, reduction)", params, multi=True,
                    vjp={0: "softmax_cross_entropy_grad_steps(p, y, g, reduction)"})
    return None


def _product_form(name, st, shapes, params):
    """The Form of a matrix product on stacked operands (``st``: which are stacked)."""
    if name == "matmul":
        A, B = shapes
        if st[0] and not st[1] and len(A) >= 2 and len(B) == 2:
            return Form("A @ B", params, folds={1: {"A": (-1, A[-1]), "g": (-1, B[-1])}})
        return Form("A @ B", params) if len(A) >= 2 and len(B) >= 2 else None
    if name == "matvec":
        if st[1] and not st[0] and len(shapes[0]) == 2:
            return Form("x @ A.mT", params, vjp={0: "g.mT @ x"})
        return Form("A @ x", params) if not st[1] else None
    if st[0] and not st[1] and len(shapes[1]) == 2:          # vecmat
        return Form("x @ B", params, vjp={1: "x.mT @ g"})
    return Form("x @ B", params) if not st[0] else None


def _varies(p):
    if isinstance(p, Aff):
        return p.b != 0
    if isinstance(p, RefC):
        return False
    if isinstance(p, tuple):
        return any(_varies(q) for q in p)
    if isinstance(p, slice):
        return _varies((p.start, p.stop, p.step))
    return False


def _static(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (Aff, slice)) or p is None or p is Ellipsis for p in parts) \
        and not _varies(parts)


def _view_form(index):
    """x[..., a + b*t, ...] for every t: a slice at that axis, moved to the front."""
    index = index if isinstance(index, tuple) else (index,)
    moving = [k for k, p in enumerate(index) if isinstance(p, Aff) and p.b != 0]
    if len(moving) != 1 or any(isinstance(p, slice) and _varies(p) for p in index):
        return None
    return Form("x[index]", dict(index=index, axis=moving[0]))


def can_stack(prog, loop, j, pl):
    return form(prog, loop, j, pl) is not None


def can_defer(prog, loop, j, m, pl):
    f = form(prog, loop, j, pl)
    return f is not None and prog.ops[loop.op(j, loop.n - 1)].rule.name not in ("view",)


def probe_shape(text, env):
    """The shape ``text`` gives on arrays shaped like the real ones (checks a batched
    formula at build time, and says whether its result needs an unbroadcast)."""
    from .codegen import namespace
    ns = dict(namespace())
    ns.update(env)
    return np.shape(eval(text, ns))
