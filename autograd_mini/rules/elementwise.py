"""Elementwise rules. Binary rules return gradients in the broadcast (output) shape;
the engine sums them back to each input's shape (``unbroadcast``)."""
import numpy as np

from ..registry import register

FAMILY = "elementwise"
BROADCAST = "shapes that broadcast together (NumPy rules: trailing axes equal or 1)"


def _sigmoid(x):
    # 1 / (1 + e^-x) overflows e^-x for x << 0; this form is stable everywhere.
    return 0.5 * (np.tanh(0.5 * x) + 1)


ADD = register("add", np.add, vjp={"A": "g", "B": "g"}, expects=BROADCAST, family=FAMILY,
               jvp="dA + dB")
SUB = register("sub", np.subtract, vjp={"A": "g", "B": "-g"}, expects=BROADCAST,
               family=FAMILY, jvp="dA - dB")
MUL = register("mul", np.multiply, vjp={"A": "g * B", "B": "g * A"}, expects=BROADCAST,
               family=FAMILY, jvp="dA * B + A * dB")
DIV = register("div", np.divide, vjp={"A": "g / B", "B": "-g * A / B**2"},
               expects=BROADCAST, family=FAMILY, jvp="(dA - out * dB) / B")
NEG = register("neg", np.negative, vjp={"x": "-g"}, family=FAMILY, jvp="-dx")
# (x**0 is a constant: p * x**-1 would give 0 * inf = NaN at x = 0)
POW = register("pow", np.power, vjp={"x": "g * p * x**(p - 1) if p else 0 * g"},
               params=("p",), expects="a tensor and a scalar exponent p", family=FAMILY,
               jvp="dx * p * x**(p - 1) if p else 0 * dx")
EXP = register("exp", np.exp, vjp={"x": "g * out"}, family=FAMILY,
               jvp="dx * out")
LOG = register("log", np.log, vjp={"x": "g / x"}, expects="positive inputs", family=FAMILY,
               jvp="dx / x")
TANH = register("tanh", np.tanh, vjp={"x": "g * (1 - out**2)"}, family=FAMILY,
               jvp="dx * (1 - out**2)")
SIGMOID = register("sigmoid", _sigmoid, vjp={"x": "g * out * (1 - out)"}, family=FAMILY,
                   jvp="dx * out * (1 - out)")
RELU = register("relu", lambda x: np.maximum(x, 0), vjp={"x": "g * (out > 0)"},
                family=FAMILY, jvp="dx * (out > 0)")
