"""Recording state, per thread: whether ops are recorded, the current scope, anomaly mode.

Each thread has its own (as PyTorch's grad mode is): a ``no_grad()`` in one thread never
stops another thread's graph from being recorded, and a scope label never leaks across.
"""
import threading
from contextlib import AbstractContextManager, contextmanager


class _State(threading.local):
    grad_enabled = True     # False inside no_grad(): ops run but nothing is recorded
    scope = ()              # tuple of labels, e.g. ("t=3", "cell"); each node keeps it
    anomaly = False         # True inside detect_anomaly(): every forward and VJP is checked
    tracer = None           # forward mode (forward.py): sees every op run, to push tangents


state = _State()


@contextmanager
def _setting(name, value):
    before = getattr(state, name)
    setattr(state, name, value)
    try:
        yield
    finally:
        setattr(state, name, before)


def no_grad() -> AbstractContextManager[None]:
    """Run ops without recording them (evaluation, parameter updates)."""
    return _setting("grad_enabled", False)


def scope(label: object) -> AbstractContextManager[None]:
    """Label every op recorded inside, e.g. ``with scope(f"t={t}"):``; scopes nest."""
    return _setting("scope", state.scope + (str(label),))


def scope_of_none():
    """Record outside every scope (a parameter's shared transpose belongs to no step)."""
    return _setting("scope", ())


def detect_anomaly() -> AbstractContextManager[None]:
    """Raise AnomalyError at the first op whose forward or backward gives NaN or Inf."""
    return _setting("anomaly", True)
