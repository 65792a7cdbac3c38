"""The one registry of op rules: each op's forward, and its VJPs stated once as formulas.

A rule names its inputs and parameters and gives, per input, one Python expression for
the gradient that flows into it (as PyTorch's derivatives.yaml does)::

    register("mul", np.multiply, vjp={"A": "g * B", "B": "g * A"})

The text is the code: ``rule.vjp_text(0)`` is ``"dA = g * B"``, and that expression,
compiled once in the namespace of ``autograd_mini.formulas``, is what backward runs. What a
node saves is exactly what its rule's formulas name: ``mul`` saves A and B, ``add``
nothing, ``tanh`` its result ``out``, ``sum`` only the input's shape (``x.shape``).
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

    ``fn(g, i, **env)`` evaluates the expression with ``g`` the upstream gradient, ``i``
    the input's position and ``env`` the node's saved values and parameters by name.
    """

    __slots__ = ("target", "expr", "names", "shape_only", "fn", "is_g")

    def __init__(self, target, expr, known):
        self.target, self.expr = target, expr
        self.is_g = expr.strip() == "g"     # "dx = g" (add): backward hands g on as it is
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
        # An input used only as `x.shape` needs its shape kept, not its values.
        shape_reads = [n.value.id for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                       and n.attr == "shape" and isinstance(n.value, ast.Name)]
        self.shape_only = {n for n in self.names if reads.count(n) == shape_reads.count(n)}
        args = "".join(f", {n}" for n in self.names)
        self.fn = eval(f"lambda g, i{', *' if args else ''}{args}, **_: ({expr})",
                       dict(formulas.NUMPY))

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
    saves: frozenset = field(init=False)        # the names a node's env keeps
    shape_only: frozenset = field(init=False)   # the inputs whose shape alone is kept
    keeps_values: bool = field(init=False)      # whether a node keeps any array
    kept_inputs: tuple = field(init=False)      # (position, name) of each input kept

    def __post_init__(self):
        names = {n for f in self.vjps for n in f.names}
        object.__setattr__(self, "saves", frozenset(names))
        object.__setattr__(self, "shape_only", frozenset(
            n for n in names if all(n in f.shape_only for f in self.vjps if n in f.names)))
        object.__setattr__(self, "kept_inputs", tuple(
            (k, x) for k, x in enumerate(self.inputs) if x in names and not self.variadic))
        object.__setattr__(self, "keeps_values", bool(names - self.shape_only - set(self.params))
                           or self.aux is not None)

    def vjp(self, i):
        """The Formula that carries the gradient into input ``i``."""
        return self.vjps[0 if self.variadic else i]

    def vjp_text(self, i):
        text = self.vjp(i).text
        return text.replace(f"d{self.inputs[0]} =", f"d{self.inputs[0]}_i =") \
            if self.variadic else text


RULES = {}


def register(name, forward, vjp, params=(), aux=None, variadic=False, expects="",
             family="user"):
    """Add an op. ``vjp`` maps each input's name, in order, to its gradient formula::

        register("square", lambda x: x * x, vjp={"x": "2 * x * g"})

    ``params`` names the op's other arguments (passed to forward after the arrays, and
    visible to the formulas by name). ``aux``: forward returns ``(out, aux)`` and the
    formulas read the second value by this name (softmax cross-entropy keeps ``p``).
    Returns the Rule, which ``autograd_mini.apply`` takes."""
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
                params, aux, variadic, expects, family)
    RULES[name] = rule
    return rule


def unregister(name):
    """Remove a rule (tests register deliberately wrong ones and take them out again)."""
    RULES.pop(name, None)
