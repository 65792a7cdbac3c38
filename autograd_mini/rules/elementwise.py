"""Elementwise rules. Binary rules return gradients in the broadcast (output) shape;
the engine sums them back to each input's shape (``unbroadcast``)."""
import numpy as np

from ..registry import g_itself, register

FAMILY = "elementwise"
BROADCAST = "shapes that broadcast together (NumPy rules: trailing axes equal or 1)"

ADD = register(
    "add", np.add,
    vjps=[g_itself, g_itself],
    formulas=["dA = g", "dB = g"],
    saves="shapes", expects=BROADCAST, family=FAMILY)

SUB = register(
    "sub", np.subtract,
    vjps=[g_itself,
          lambda g, out, a, b: -g],
    formulas=["dA = g", "dB = -g"],
    saves="shapes", expects=BROADCAST, family=FAMILY)

MUL = register(
    "mul", np.multiply,
    vjps=[lambda g, out, a, b: g * b,
          lambda g, out, a, b: g * a],
    formulas=["dA = g * B", "dB = g * A"],
    expects=BROADCAST, family=FAMILY)

DIV = register(
    "div", np.divide,
    vjps=[lambda g, out, a, b: g / b,
          lambda g, out, a, b: -g * a / (b * b)],
    formulas=["dA = g / B", "dB = -g * A / B**2"],
    expects=BROADCAST, family=FAMILY)

NEG = register(
    "neg", np.negative,
    vjps=[lambda g, out, x: -g],
    formulas=["dx = -g"],
    saves="shapes", family=FAMILY)

def _pow_vjp(g, out, x, p):
    if p == 0:      # x**0 is constant; p * x**-1 would give 0 * Inf = NaN at x = 0
        return np.zeros_like(g)
    return g * p * x ** (p - 1)


POW = register(
    "pow", np.power,
    vjps=[_pow_vjp],
    formulas=["dx = g * p * x**(p-1)"],
    expects="a tensor and a scalar exponent p", family=FAMILY)

EXP = register(
    "exp", np.exp,
    vjps=[lambda g, out, x: g * out],
    formulas=["dx = g * out"],
    saves="out", family=FAMILY)

LOG = register(
    "log", np.log,
    vjps=[lambda g, out, x: g / x],
    formulas=["dx = g / x"],
    expects="positive inputs", family=FAMILY)

TANH = register(
    "tanh", np.tanh,
    vjps=[lambda g, out, x: g * (1 - out * out)],
    formulas=["dx = g * (1 - out**2)"],
    saves="out", family=FAMILY)


def _sigmoid(x):
    # 1 / (1 + e^-x) overflows e^-x for x << 0; this form is stable everywhere.
    return 0.5 * (np.tanh(0.5 * x) + 1)


SIGMOID = register(
    "sigmoid", _sigmoid,
    vjps=[lambda g, out, x: g * out * (1 - out)],
    formulas=["dx = g * out * (1 - out)"],
    saves="out", family=FAMILY)

RELU = register(
    "relu", lambda x: np.maximum(x, 0),
    vjps=[lambda g, out, x: g * (out > 0)],
    formulas=["dx = g * (out > 0)"],
    saves="out", family=FAMILY)
