"""Gradient flow through time, as numbers: what the plots in plots.py draw.

For one run of any model whose steps run inside ``scope(...)``: the norm of dL/dstate(t)
at every step (does the gradient vanish or explode on its way back?), and each step's
contribution to each shared parameter's gradient, Goodfellow's W^(t) (section 10.2.2:
dL/dW = sum_t dL/dW^(t)). Both are read off the tape: the state gradients are the nodes'
output gradients, and a parameter's contribution at step t is the VJP of its use inside
that step's scope. No matplotlib here. docs/pictures.md shows how to use it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .trace import param_contributions, private_backward, step_order, tape_nodes

if TYPE_CHECKING:
    from autograd_mini import Tensor


@dataclass
class Flow:
    """Gradient norms of one run. ``steps``: step labels in time order (n of them)."""
    steps: list
    state: str                # the state's name, e.g. "h" (None: no state followed)
    state_norms: np.ndarray   # (n,) |dL/dstate(t)|, nan where a step has no such tensor
    last_norms: np.ndarray    # (n,) |dL(T)/dstate(t)| for the last step's loss, or None
    params: list              # parameter names, in order of first use
    contrib: np.ndarray       # (len(params), n) |dL/dparam^(t)|: one step's contribution
    per_step: dict            # {(param name, step label): dL/dparam^(t) array}
    grads: dict               # {param name: dL/dparam, the sum of its contributions}


def _state_nodes(nodes, steps, state):
    """{node: step index} of the tensors named ``state(...)`` (h(1), h(t=3), ...)."""
    pattern = re.compile(rf"^{re.escape(state)}\(.+\)$")
    index = {s: i for i, s in enumerate(steps)}
    return {n: index[n.scope[0]] for n in nodes
            if n.name and pattern.match(n.name) and n.scope and n.scope[0] in index}


def _state_norms(grads, found, n):
    norms = np.full(n, np.nan)
    for node, k in found.items():
        if node in grads:
            norms[k] = np.linalg.norm(grads[node])
    return norms


def _no_state_error(nodes, state):
    named = sorted({n.name for n in nodes if n.name})
    seen = f" The graph's named tensors: {', '.join(named[:8])}" + \
        (", ..." if len(named) > 8 else "") + "." if named else " No tensor in it is named."
    return ValueError(
        f"gradient_flow: no tensor named {state}(...) inside a step, so there is no state "
        f"to follow. Name the state at each step, e.g. h = (...).named(f\"{state}({{t}})\") "
        f"inside `with scope(f\"t={{t}}\")`, or pass state=\"s\" if it is named s(t).{seen}")


def _param_names(contributions):
    """{param Tensor: display name}, in order of first use; unnamed or repeated names
    get a number ("leaf 0", "W#2") so two parameters never merge."""
    names = {}
    for p, _ in contributions:
        if p not in names:
            base = p.name or f"leaf {len(names)}"
            name, k = base, 2
            while name in names.values():
                name, k = f"{base}#{k}", k + 1
            names[p] = name
    return names


def gradient_flow(loss: Tensor, state: str | None = "h",
                  last_loss: Tensor | None = None) -> Flow:
    """The gradient flow of one run whose steps ran inside ``scope(...)``.

    ``loss``: the scalar loss, before ``backward()`` (or after one with
    ``retain_graph=True``): its saved values are needed. ``state``: the name of the
    recurrent state, the tensors named "h(1)", "h(2)", ... (``.named``); a ValueError
    says what to name when there is none. ``state=None`` follows no state (only the
    per-step contributions; ``state_norms`` is all nan). ``last_loss``: optionally the last step's own
    loss L(T), a tensor inside ``loss``'s graph; its curve shows only what travels back
    from the end of the sequence. Leaves every ``.grad`` untouched.
    """
    nodes = tape_nodes(loss.node)
    steps = step_order([n.scope[0] for n in nodes if n.scope])
    if not steps:
        raise ValueError("gradient_flow: the graph has no steps; run each step inside "
                         "`with scope(f\"t={t}\")` so its ops know their time step")
    found = _state_nodes(nodes, steps, state) if state is not None else {}
    if not found and state is not None:
        raise _no_state_error(nodes, state)
    contributions, grads, leaves = param_contributions(loss, nodes)
    names = _param_names(contributions)
    params = list(dict.fromkeys(names.values()))
    per_step, totals = {}, {}
    for (p, node), g in contributions.items():
        name = names[p]
        totals[name] = totals[name] + g if name in totals else g
        if node.scope:
            key = (name, node.scope[0])
            per_step[key] = per_step[key] + g if key in per_step else g
    for p, g in leaves.items():    # the uses add up to the gradient backward computes
        if p in names and np.all(np.isfinite(g)) and \
                not np.allclose(totals[names[p]], g, rtol=1e-7, atol=1e-12):
            raise AssertionError(f"gradient_flow: the per-step contributions to {names[p]} "
                                 "do not sum to its gradient; the tape or a rule is wrong")
    contrib = np.full((len(params), len(steps)), np.nan)
    for i, name in enumerate(params):
        for j, s in enumerate(steps):
            if (name, s) in per_step:
                contrib[i, j] = np.linalg.norm(per_step[(name, s)])
    last = None
    if last_loss is not None:
        if last_loss.node is None or last_loss.data.size != 1:
            raise ValueError("gradient_flow: last_loss must be a scalar computed in the graph")
        last_grads, _ = private_backward(last_loss.node, tape_nodes(last_loss.node),
                                         np.ones_like(last_loss.data))
        last = _state_norms(last_grads, found, len(steps))
    return Flow(steps, state, _state_norms(grads, found, len(steps)), last, params, contrib,
                per_step, totals)
