"""The one registry of op rules: each op's forward, and its VJPs stated once as formulas.

A rule names its inputs and parameters and gives, per input, one Python expression for
the gradient that flows into it (as PyTorch's derivatives.yaml does)::

    register("mul", np.multiply, vjp={"A": "g * B", "B": "g * A"})

The text is the code: ``rule.vjp_text(0)`` is ``"dA = g * B"``, and that expression,
compiled once in the namespace of ``autograd_mini.formulas``, is what backward runs. What a
node saves is exactly what its rule's formulas name: ``mul`` saves A and B, ``add``
nothing, ``tanh`` its result ``out``, ``sum`` only the input's shape (``x.shape``).

Beside the VJPs a rule states its JVP, the output's tangent from the inputs' tangents
(``register("mul", ..., jvp="dA * B + A * dB")``), which forward mode runs (forward.py).
The same VJP text also runs on Tensors (tensor_formulas.py), so that a gradient can be
differentiated again (higher.py): ``Formula.compiled(namespace)``.
"""
import ast
import builtins
from dataclasses import dataclass, field
from typing import Callable

from . import formulas

# Names a formula may use besides the inputs, the parameters and the helpers.
BUILTIN_NAMES = ("g", "out", "i")


class Formula:
    """One gradient formula: its text, the names it reads, and the function that runs it.

    ``fn(g, i, env)`` evaluates the expression with ``g`` the upstream gradient, ``i``
    the input's position and ``env`` the dict of the node's saved values and parameters.
    """

    __slots__ = ("target", "expr", "names", "shape_only", "helpers", "fn", "_fns")

    def __init__(self, target, expr, known):
        self.target, self.expr = target, expr
        try:
            tree = ast.parse(expr, mode="eval")
        except SyntaxError as e:
            raise ValueError(f"formula {self.text!r} is not a Python expression: {e}") from None
        reads = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name)]
        used = set(reads)
        unknown = sorted(used - set(known) - set(BUILTIN_NAMES) - set(formulas.NUMPY)
                         - set(dir(builtins)))
        if unknown:
            raise ValueError(f"formula {self.text!r} uses {', '.join(unknown)}, which is "
                             f"neither g, out, i, an input or parameter ({', '.join(known)}) "
                             "nor a helper of autograd_mini.formulas")
        self.names = tuple(sorted(used & {*known, "out"}))
        self.helpers = frozenset(used & set(formulas.NUMPY))
        # An input used only as `x.shape` needs its shape kept, not its values.
        shape_reads = [n.value.id for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                       and n.attr == "shape" and isinstance(n.value, ast.Name)]
        self.shape_only = {n for n in self.names if reads.count(n) == shape_reads.count(n)}
        self._fns = {}
        self.fn = self.compiled(formulas.NUMPY)

    def _reading_env(self):
        """The expression with each saved name read from the node's ``env`` dict
        (``g @ B.mT`` becomes ``g @ env['B'].mT``): one dict passed per call, no
        keyword arguments packed and unpacked."""
        tree = ast.parse(self.expr, mode="eval")

        class Reads(ast.NodeTransformer):
            def visit_Name(_, node):
                if node.id not in self.names:
                    return node
                return ast.copy_location(ast.Subscript(
                    ast.Name("env", ast.Load()), ast.Constant(node.id), ast.Load()), node)
        return ast.unparse(Reads().visit(tree))

    def compiled(self, namespace):
        """The function that evaluates this formula with ``namespace``'s helpers (NumPy's
        for backward; autograd_mini.tensor_formulas.TENSOR's for gradients of gradients),
        compiled once per namespace. Raises KeyError naming a helper the namespace lacks."""
        fn = self._fns.get(id(namespace))
        if fn is None:
            missing = sorted(self.helpers - set(namespace))
            if missing:
                raise KeyError(", ".join(missing))
            fn = eval(f"lambda g, i, env: ({self._reading_env()})", dict(namespace))
            self._fns[id(namespace)] = fn
        return fn

    @property
    def text(self):
        return f"d{self.target} = {self.expr}"

    def __repr__(self):
        return f"Formula({self.text!r})"


@dataclass(frozen=True)
class Rule:
    """An op: ``forward(*arrays, *params)`` and one Formula per input (one shared by all
    inputs for a variadic rule, which receives its arrays as one list)."""
    name: str
    forward: Callable
    inputs: tuple           # the inputs' names, e.g. ("A", "B")
    vjps: tuple             # one Formula per input
    params: tuple = ()      # the non-differentiable arguments' names, e.g. ("axis",)
    aux: str = None         # forward returns (out, aux) and the formulas call it by this name
    variadic: bool = False
    expects: str = ""       # what valid inputs look like, for error messages
    family: str = ""
    jvp: Formula = None         # the output's tangent from the inputs' tangents (forward mode)
    aux_formula: Formula = None  # how ``aux`` follows from the inputs (gradients of gradients)
    saves: frozenset = field(init=False)        # the names a node's env keeps
    shape_only: frozenset = field(init=False)   # the inputs whose shape alone is kept
    keeps_values: bool = field(init=False)      # whether a node keeps any array
    kept_inputs: tuple = field(init=False)      # (position, name) of each input kept
    kept_shapes: tuple = field(init=False)      # (position, name) of each input's shape kept
    keeps_out: bool = field(init=False)         # whether a node keeps the result ``out``

    def __post_init__(self):
        # (the inputs ``aux`` is recomputed from, for gradients of gradients, are kept too)
        formulas_ = self.vjps + ((self.aux_formula,) if self.aux_formula else ())
        names = {n for f in formulas_ for n in f.names}
        object.__setattr__(self, "saves", frozenset(names))
        object.__setattr__(self, "shape_only", frozenset(
            n for n in names if all(n in f.shape_only for f in formulas_ if n in f.names)))
        kept = [(k, x) for k, x in enumerate(self.inputs) if x in names and not self.variadic]
        object.__setattr__(self, "kept_inputs", tuple(
            (k, x) for k, x in kept if x not in self.shape_only))
        object.__setattr__(self, "kept_shapes", tuple(
            (k, x) for k, x in kept if x in self.shape_only))
        object.__setattr__(self, "keeps_out", "out" in names)
        object.__setattr__(self, "keeps_values", bool(names - self.shape_only - set(self.params))
                           or self.aux is not None)

    def vjp(self, i):
        """The Formula that carries the gradient into input ``i``."""
        return self.vjps[0 if self.variadic else i]

    @property
    def jvp_text(self):
        """``dout = dA @ B + A @ dB``, or None for a rule registered without a JVP."""
        return None if self.jvp is None else self.jvp.text

    def vjp_text(self, i):
        text = self.vjp(i).text
        return text.replace(f"d{self.inputs[0]} =", f"d{self.inputs[0]}_i =") \
            if self.variadic else text


RULES = {}


def register(name, forward, vjp, params=(), aux=None, variadic=False, expects="",
             family="user", jvp=None, aux_formula=None):
    """Add an op. ``vjp`` maps each input's name, in order, to its gradient formula, and
    ``jvp`` gives the output's tangent from the inputs' tangents, ``d`` + each input's name::

        register("square", lambda x: x * x, vjp={"x": "2 * x * g"}, jvp="2 * x * dx")

    ``params`` names the op's other arguments (passed to forward after the arrays, and
    visible to the formulas by name). ``aux``: forward returns ``(out, aux)`` and the
    formulas read the second value by this name (softmax cross-entropy keeps ``p``);
    ``aux_formula`` says how it follows from the inputs (``"softmax(o)"``), which the
    gradient of a gradient needs. Returns the Rule, which ``autograd_mini.apply`` takes.

    A JVP sees the inputs, ``out``, ``aux`` and the params, and each input's tangent: an
    array of the input's shape, with one leading axis of k directions when the tangents
    are batched. An input that carries no tangent has tangent zero. In a variadic rule
    ``x`` and ``dx`` are the lists of inputs and tangents. See autograd_mini/forward.py."""
    if not isinstance(vjp, dict) or not vjp:
        raise ValueError(f"register({name!r}): vjp must map each input's name to its "
                         "formula, e.g. {'x': '2 * x * g'}")
    if variadic and len(vjp) != 1:
        raise ValueError(f"register({name!r}): a variadic rule has one formula, shared by "
                         "its inputs (use i for the input's position)")
    if name in RULES:
        raise ValueError(f"register({name!r}): a rule of that name exists; unregister it first")
    inputs, params = tuple(vjp), tuple(params)
    known = inputs + params + ((aux,) if aux else ())
    rule = Rule(name, forward, inputs, tuple(Formula(x, e, known) for x, e in vjp.items()),
                params, aux, variadic, expects, family,
                _jvp_formula(name, jvp, known, inputs),
                None if aux_formula is None else Formula(aux, aux_formula, inputs + params))
    RULES[name] = rule
    return rule


def _jvp_formula(name, expr, known, inputs):
    if expr is None:
        return None
    formula = Formula("out", expr, known + tuple("d" + x for x in inputs))
    reads = {n.id for n in ast.walk(ast.parse(expr, mode="eval")) if isinstance(n, ast.Name)}
    if reads & {"g", "i"}:
        raise ValueError(f"register({name!r}): the JVP {expr!r} reads g or i, which only a "
                         "VJP has; a JVP reads the tangents " +
                         ", ".join("d" + x for x in inputs))
    return formula


def unregister(name):
    """Remove a rule (tests register deliberately wrong ones and take them out again)."""
    RULES.pop(name, None)
