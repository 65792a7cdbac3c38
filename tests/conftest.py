"""Shared test set-up: every test must leave the engine's global state as it found it.

Grad mode, the scope stack, anomaly mode and the rule registry are module globals; a test
that leaks one (a `no_grad` left open, a rule registered and not removed) would make
later tests pass or fail for reasons of their own. The fixture below restores the state
and fails the leaking test, so the culprit is named instead of a distant victim.
"""
import pytest

from autograd_mini import context
from autograd_mini.registry import RULES


@pytest.fixture(autouse=True)
def engine_state_is_restored():
    before = (context.grad_enabled, context.current_scope, context.anomaly_mode, dict(RULES))
    yield
    after = (context.grad_enabled, context.current_scope, context.anomaly_mode, dict(RULES))
    if after == before:
        return
    context.grad_enabled, context.current_scope, context.anomaly_mode = before[:3]
    added = sorted(set(after[3]) - set(before[3]))
    removed = sorted(set(before[3]) - set(after[3]))
    RULES.clear()
    RULES.update(before[3])
    pytest.fail(f"the test leaked engine state: grad_enabled {before[0]} -> {after[0]}, "
                f"scope {before[1]} -> {after[1]}, anomaly_mode {before[2]} -> {after[2]}, "
                f"rules added {added}, removed {removed}", pytrace=False)
