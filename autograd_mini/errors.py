"""The exceptions autograd_mini raises: each names the op, the shapes and the way out."""


class AutogradError(Exception):
    """Base class of every error the engine raises on purpose."""


class ShapeError(AutogradError, ValueError):
    """Shapes that an op cannot combine, or a gradient of the wrong shape."""


class DTypeError(AutogradError, TypeError):
    """A dtype that cannot carry a gradient (e.g. integers with requires_grad=True)."""


class GraphFreedError(AutogradError, RuntimeError):
    """backward() through a graph whose saved values were already released."""


class AnomalyError(AutogradError, FloatingPointError):
    """NaN or Inf produced by an op's forward or backward under detect_anomaly()."""


class RuleError(AutogradError, RuntimeError):
    """A rule's forward or VJP formula raised: the message names the rule, the scope and
    the formula; the original error is chained."""


class TargetError(AutogradError, ValueError):
    """Targets of a loss that do not fit its logits (range, dtype, shape, sums)."""


def where(scope):
    """' in scope t=3/cell' for an error message, or '' outside any scope."""
    return f" in scope {'/'.join(scope)}" if scope else ""
