"""autograd_mini: reverse-mode automatic differentiation on NumPy, built for BPTT.

    from autograd_mini import Tensor, no_grad, scope, softmax_cross_entropy, gradcheck, jacobian
    from autograd_mini import jvp, jacfwd, grad, hvp, gradgradcheck   # forward mode, 2nd order
"""
from .checks import gradcheck, jacobian, numerical_jacobian
from .compile import TracingError, compile
from .context import detect_anomaly, no_grad, scope
from .errors import (AnomalyError, AutogradError, DTypeError, GraphFreedError, RuleError,
                     ShapeError, TargetError)
from .forward import jacfwd, jvp
from .functional import concat, softmax_cross_entropy, stack
from .higher import grad, gradgradcheck, hvp
from .registry import RULES, Rule, register, unregister
from .tensor import Tensor, apply

__all__ = ["Tensor", "no_grad", "scope", "detect_anomaly", "softmax_cross_entropy", "stack",
           "concat", "gradcheck", "jacobian", "numerical_jacobian", "jvp", "jacfwd", "grad",
           "hvp", "gradgradcheck", "register", "unregister",
           "apply", "Rule", "RULES", "AutogradError", "ShapeError", "DTypeError",
           "GraphFreedError", "AnomalyError", "RuleError", "TargetError", "compile",
           "TracingError"]
__version__ = "0.2.0"
