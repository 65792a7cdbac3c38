"""autograd_mini: reverse-mode automatic differentiation on NumPy, built for BPTT.

    from autograd_mini import Tensor, no_grad, scope, softmax_cross_entropy, gradcheck, jacobian
"""
from . import heap
from .checks import gradcheck, jacobian, numerical_jacobian
from .context import detect_anomaly, no_grad, scope
from .errors import (AnomalyError, AutogradError, DTypeError, GraphFreedError, ShapeError,
                     TargetError)
from .functional import concat, softmax_cross_entropy, stack
from .registry import RULES, Rule, register, unregister
from .tensor import Tensor, apply

__all__ = ["Tensor", "no_grad", "scope", "detect_anomaly", "softmax_cross_entropy", "stack",
           "concat", "gradcheck", "jacobian", "numerical_jacobian", "register", "unregister",
           "apply", "Rule", "RULES", "AutogradError", "ShapeError", "DTypeError",
           "GraphFreedError", "AnomalyError", "TargetError"]
__version__ = "0.1.0"

# Each iteration's activations are freed by backward and allocated again by the next forward:
# glibc keeps that memory for reuse, rather than faulting it back in page by page (heap.py).
heap.keep_freed_memory()
