"""draw(root): trace the tape, collapse or roll it, render DOT. The one-call entry point."""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from .collapse import collapse
from .render import to_dot
from .rolled import roll
from .trace import trace

if TYPE_CHECKING:
    import graphviz

    from autograd_mini import Tensor


def draw(root: Tensor, grads: bool = True, formulas: bool = True, max_steps: int | None = None,
         rolled: bool = False, rankdir: Literal["LR", "TB"] = "LR") -> graphviz.Digraph:
    """The graph that computed ``root`` (a Tensor, usually the loss) as a graphviz.Digraph.

    One cluster per scope (``with scope(f"t={t}")`` gives one per time step), parameters
    drawn once with an edge into every step that uses them, each box with its name or
    op, its shape and (``grads``) its gradient dL/d(value), coloured by |g| on a log
    scale; with ``formulas`` each edge carries the VJP that sends the gradient back.

    Gradients: if ``root.backward(keep_grads=True)`` ran, they are read from the tape;
    if no backward ran yet (or it had ``retain_graph=True``), draw runs its own backward
    without changing any ``.grad``; after a plain ``backward()`` only parameters and
    ``retain_grad()`` tensors still have theirs (the legend says so).

    ``max_steps``: with more steps than this (default 6), only the first and last few
    are drawn and the middle becomes one ``... k steps ...`` box. ``rolled``: draw one
    step, with the recurrence as a back-edge and gradients summed over steps.
    ``rankdir``: "LR" puts time left to right, "TB" top to bottom.
    In Jupyter the result shows inline; ``.source`` is the DOT text; ``.pipe("svg")``
    or ``.render(path, format="png")`` need graphviz's ``dot`` program.
    """
    graph = trace(root, grads=grads)
    graph = roll(graph) if rolled else collapse(graph, max_steps)
    return to_dot(graph, grads=grads, formulas=formulas, rankdir=rankdir)
