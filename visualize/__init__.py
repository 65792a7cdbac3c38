"""Pictures of BPTT: the time-unrolled graph with its gradients, and gradient-flow plots.

    from autograd_mini.visualize import draw
    dot = draw(loss)                       # graphviz.Digraph; dot.source is the DOT text
    dot.render("rnn", format="svg")        # needs graphviz's `dot` program

Needs the graphviz Python package (the ``viz`` extra); the plots need matplotlib (the
``plot`` extra) and are imported from ``autograd_mini.visualize.plots`` only when used.
"""
from .collapse import collapse
from .draw import draw
from .flow import Flow, gradient_flow
from .render import to_dot
from .rolled import roll
from .trace import Edge, Graph, Value, trace

__all__ = ["draw", "trace", "to_dot", "collapse", "roll", "Graph", "Value", "Edge",
           "gradient_flow", "Flow"]
