"""Shared test set-up: every test must leave the engine's state as it found it.

Grad mode, the scope stack and anomaly mode (per thread) and the rule registry are
shared; a test that leaks one (a `no_grad` left open, a rule registered and not removed)
would make later tests pass or fail for reasons of their own. The fixture below restores
the state and fails the leaking test, so the culprit is named instead of a distant victim.
"""
import pytest

from autograd_mini.context import state
from autograd_mini.registry import RULES

FIELDS = ("grad_enabled", "scope", "anomaly")


@pytest.fixture(autouse=True)
def engine_state_is_restored():
    before = tuple(getattr(state, f) for f in FIELDS), dict(RULES)
    yield
    after = tuple(getattr(state, f) for f in FIELDS), dict(RULES)
    if after == before:
        return
    for f, value in zip(FIELDS, before[0]):
        setattr(state, f, value)
    added = sorted(set(after[1]) - set(before[1]))
    removed = sorted(set(before[1]) - set(after[1]))
    RULES.clear()
    RULES.update(before[1])
    pytest.fail(f"the test leaked engine state: {FIELDS} {before[0]} -> {after[0]}, "
                f"rules added {added}, removed {removed}", pytrace=False)
