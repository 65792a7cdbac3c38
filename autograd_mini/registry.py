"""The one registry of op rules: forward, vector-Jacobian products and their formulas.

The VJP signature, stated once (as in PyTorch's derivatives.yaml, the names are fixed):

    vjp(g, out, *inputs, *params) -> gradient for one input, in the output's broadcast shape

- ``g``      the upstream gradient dL/d(out), shaped like ``out``;
- ``out``    the forward result (or the ``aux`` value of a rule whose forward returns
             ``(out, aux)``), or ``None`` when the rule does not save it;
- ``inputs`` the input arrays when the rule saves them, otherwise their *shapes*
             (the VJP of ``add`` or ``sum`` needs no values, and not keeping them is
             what keeps memory low on long sequences);
- ``params`` the op's non-differentiable arguments (axis, index, exponent, targets).

A variadic rule (stack, concat) takes its inputs as one sequence and its VJP gets the
index of the input first: ``vjp(i, g, out, inputs, *params)``.

The engine undoes broadcasting (``unbroadcast``) and checks every gradient's shape, so a
rule never does either.
"""
from dataclasses import dataclass, field
from typing import Callable

SAVES = ("inputs", "out", "both", "shapes", "aux")


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    forward: Callable
    vjps: tuple            # one VJP per input (one shared VJP for a variadic rule)
    formulas: tuple        # one human-readable formula per input, e.g. "dA = g @ B^T"
    saves: str = "inputs"  # what the VJPs read: see SAVES and the module docstring
    variadic: bool = False
    expects: str = ""      # what valid inputs look like, for error messages
    family: str = ""
    # Optional, per input: the VJP as a product, ``(left, right)`` with VJP = left @ right
    # (2-D), or None where it is not one. A parameter used at every step then gets the
    # sum of its T products as one product of stacked factors (see tape.run_backward).
    factors: tuple = None
    # Derived from `saves` once, not per op: apply() and backward read them for every node.
    saves_inputs: bool = field(init=False, repr=False, compare=False)
    saves_out: bool = field(init=False, repr=False, compare=False)
    saves_aux: bool = field(init=False, repr=False, compare=False)
    passes_g: bool = field(init=False, repr=False, compare=False)   # every VJP is g_itself

    def __post_init__(self):
        object.__setattr__(self, "passes_g", all(v is g_itself for v in self.vjps))
        object.__setattr__(self, "saves_inputs", self.saves in ("inputs", "both"))
        object.__setattr__(self, "saves_out", self.saves in ("out", "both", "aux"))
        object.__setattr__(self, "saves_aux", self.saves == "aux")

    def formula(self, i):
        """The formula that carries the gradient into input ``i``."""
        return self.formulas[min(i, len(self.formulas) - 1)]


def g_itself(g, out, *inputs_and_params):
    """The VJP "dx = g" (add's, and sub's for its first input). Backward hands ``g`` on
    for a rule whose VJPs are all this one, without calling them (an RNN adds 3-4 times
    per step)."""
    return g


RULES = {}


def register(name, forward, vjps, formulas, saves="inputs", variadic=False, expects="",
             family="user", factors=None):
    """Add an op: ``register("square", lambda x: x * x, [lambda g, out, x: 2 * x * g],
    ["dx = 2 * x * g"])``. Returns the Rule, which ``Tensor``'s ``apply`` takes.

    ``factors`` (optional, as matmul's): one function per input, with the VJP's
    arguments, returning 2-D ``(left, right)`` whose product is that VJP, or None."""
    if saves not in SAVES:
        raise ValueError(f"register({name!r}): saves={saves!r}, expected one of {SAVES}")
    vjps, formulas = tuple(vjps), tuple(formulas)
    if len(vjps) != len(formulas) or not vjps:
        raise ValueError(f"register({name!r}): give one formula per VJP, got "
                         f"{len(vjps)} VJPs and {len(formulas)} formulas")
    if variadic and len(vjps) != 1:
        raise ValueError(f"register({name!r}): a variadic rule has one shared VJP")
    if factors is not None:
        factors = tuple(factors)
        if len(factors) != len(vjps) or variadic:
            raise ValueError(f"register({name!r}): give one factors function per VJP "
                             f"(got {len(factors)} for {len(vjps)} VJPs; none for a "
                             "variadic rule)")
    if name in RULES:
        raise ValueError(f"register({name!r}): a rule of that name exists; unregister it first")
    rule = Rule(name, forward, vjps, formulas, saves, variadic, expects, family, factors)
    RULES[name] = rule
    return rule


def unregister(name):
    """Remove a rule (tests register deliberately wrong ones and take them out again)."""
    RULES.pop(name, None)
