"""Gradient flow through time, as numbers: what the plots in plots.py draw.

For one run of a model: the norm of dL/dh(t) at every step (does the gradient vanish or
explode on its way back?), and each step's contribution to each shared parameter's
gradient, Goodfellow's W^(t) (section 10.2.2: dL/dW = sum_t dL/dW^(t)). Both are read
off the tape: the state gradients are the nodes' output gradients, and a parameter's
contribution at step t is the VJP of its use inside ``scope("t=...")``.
No matplotlib here.
"""
import re
from dataclasses import dataclass

import numpy as np

from .trace import param_contributions, private_backward, tape_nodes


@dataclass
class Flow:
    """Gradient norms of one run. ``steps``: step labels in time order (n of them)."""
    steps: list
    state: str                # the state's name, e.g. "h"
    state_norms: np.ndarray   # (n,) |dL/dstate(t)|, nan where a step has no such tensor
    last_norms: np.ndarray    # (n,) |dL(T)/dstate(t)| for the last step's loss, or None
    params: list              # parameter names, in order of first use
    contrib: np.ndarray       # (len(params), n) |dL/dparam^(t)|: one step's contribution
    per_step: dict            # {(param name, step label): dL/dparam^(t) array}
    grads: dict               # {param name: dL/dparam, the sum of its contributions}


def _state_norms(grads, steps, state):
    """|g| of the tensors named ``state(k)``, placed at their step."""
    pattern = re.compile(rf"^{re.escape(state)}\(.+\)$")
    norms = np.full(len(steps), np.nan)
    index = {s: i for i, s in enumerate(steps)}
    for node, g in grads.items():
        if node.name and pattern.match(node.name) and node.scope and node.scope[0] in index:
            norms[index[node.scope[0]]] = np.linalg.norm(g)
    return norms


def gradient_flow(loss, state="h", last_loss=None):
    """The gradient flow of one run whose steps ran inside ``scope(...)``.

    ``loss``: the scalar loss (its graph not yet freed by backward). ``state``: the name
    of the recurrent state, tensors named "h(1)", "h(2)", ... (``.named``).
    ``last_loss``: optionally the last step's own loss L(T), a tensor inside ``loss``'s
    graph; its curve shows only what travels back from the end of the sequence.
    Leaves every ``.grad`` untouched.
    """
    nodes = tape_nodes(loss.node)
    contributions, grads, leaves = param_contributions(loss, nodes)
    steps = []
    for n in nodes:
        if n.scope and n.scope[0] not in steps:
            steps.append(n.scope[0])
    params, per_step, totals = [], {}, {}
    for (p, node), g in contributions.items():
        name = p.name or f"leaf {len(params)}"
        if name not in params:
            params.append(name)
            totals[name] = np.zeros_like(g)
        totals[name] = totals[name] + g
        if node.scope:
            key = (name, node.scope[0])
            per_step[key] = per_step[key] + g if key in per_step else g
    for p, g in leaves.items():    # the uses add up to the gradient backward computes
        name = p.name or "leaf"
        if name in totals and not np.allclose(totals[name], g, rtol=1e-7, atol=1e-12):
            raise AssertionError(f"gradient_flow: the per-step contributions to {name} do "
                                 "not sum to its gradient; the tape or a rule is wrong")
    contrib = np.full((len(params), len(steps)), np.nan)
    for i, name in enumerate(params):
        for j, s in enumerate(steps):
            if (name, s) in per_step:
                contrib[i, j] = np.linalg.norm(per_step[(name, s)])
    last = None
    if last_loss is not None:
        if last_loss.node is None or last_loss.data.size != 1:
            raise ValueError("gradient_flow: last_loss must be a scalar computed in the graph")
        last_nodes = tape_nodes(last_loss.node)
        last_grads, _ = private_backward(last_loss.node, last_nodes,
                                         np.ones_like(last_loss.data))
        last = _state_norms(last_grads, steps, state)
    return Flow(steps, state, _state_norms(grads, steps, state), last, params, contrib,
                per_step, totals)
