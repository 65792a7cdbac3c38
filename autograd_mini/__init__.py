"""autograd_mini: reverse-mode automatic differentiation on NumPy, built for BPTT.

    from autograd_mini import Tensor, no_grad, scope, softmax_cross_entropy, gradcheck, jacobian
"""
from .checks import gradcheck, jacobian, numerical_jacobian
from .context import detect_anomaly, no_grad, scope
from .errors import (AnomalyError, AutogradError, DTypeError, GraphFreedError, RuleError,
                     ShapeError, TargetError)
from .functional import concat, softmax_cross_entropy, stack
from .registry import RULES, Rule, register, unregister
from .tensor import Tensor, apply

__all__ = ["Tensor", "no_grad", "scope", "detect_anomaly", "softmax_cross_entropy", "stack",
           "concat", "gradcheck", "jacobian", "numerical_jacobian", "register", "unregister",
           "apply", "Rule", "RULES", "AutogradError", "ShapeError", "DTypeError",
           "GraphFreedError", "AnomalyError", "RuleError", "TargetError"]
__version__ = "0.2.0"
