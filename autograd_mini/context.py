"""Global recording state: whether ops are recorded, the current scope, anomaly mode.

Plain module globals, read once per op: cheaper than thread-locals or context vars,
and autograd_mini is single-threaded like the NumPy code it replaces.
"""
from contextlib import contextmanager

grad_enabled = True     # False inside no_grad(): ops run but nothing is recorded
current_scope = ()      # tuple of labels, e.g. ("t=3", "cell"); each node keeps a reference
anomaly_mode = False    # True inside detect_anomaly(): every forward and VJP is checked


@contextmanager
def no_grad():
    """Run ops without recording them (evaluation, parameter updates)."""
    global grad_enabled
    before, grad_enabled = grad_enabled, False
    try:
        yield
    finally:
        grad_enabled = before


@contextmanager
def scope(label):
    """Label every op recorded inside, e.g. ``with scope(f"t={t}"):``; scopes nest."""
    global current_scope
    before = current_scope
    current_scope = before + (str(label),)
    try:
        yield
    finally:
        current_scope = before


@contextmanager
def detect_anomaly():
    """Raise AnomalyError at the first op whose forward or backward gives NaN or Inf."""
    global anomaly_mode
    before, anomaly_mode = anomaly_mode, True
    try:
        yield
    finally:
        anomaly_mode = before
