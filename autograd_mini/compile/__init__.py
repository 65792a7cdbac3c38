"""``autograd_mini.compile(f)``: trace a function of Tensors once, run it as generated NumPy.

    step = autograd_mini.compile(f)    # f(*args) -> scalar loss Tensor
    loss = step(*args)                 # the value f(*args) would give
    loss.backward()                    # the same .grad as eager f(*args).backward()
    step.traces                        # how many traces so far
    step.source()                      # the generated source (NumPy only)

trace.py records one eager run as a program; reroll.py finds the repeating time step;
hoist.py places each op of a loop (once, all steps at once, or step by step);
codegen.py and backward.py write the source; runner.py caches one program per signature.
docs/compile.md states the contract and its limits.
"""
from __future__ import annotations

from typing import Callable, TypeVar

from .runner import Compiled
from .trace import TracingError

R = TypeVar("R")


def compile(f: Callable[..., R]) -> Compiled[R]:
    """A compiled version of ``f`` (see the module docstring and docs/compile.md)."""
    return Compiled(f)


__all__ = ["compile", "TracingError", "Compiled"]
