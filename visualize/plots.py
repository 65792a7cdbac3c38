"""Gradient-flow figures (matplotlib, the ``plot`` extra): vanishing and exploding, seen.

For each run (a ``flow.Flow``) one column: on top |dL/dh(t)| against t on a log scale
(with |dL(T)/dh(t)|, what reaches step t from the last step's loss alone), below a heat
map of each step's contribution |dL/dW^(t)| to each shared parameter's gradient, on one
colour scale for all runs.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .flow import Flow


def _matplotlib():
    try:
        import matplotlib
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "the gradient-flow figure needs matplotlib: pip install 'autograd-mini[plot]'"
        ) from None
    return matplotlib


def _step_numbers(steps):
    """Step labels "t=1" .. as numbers for the x axis; 1..n when they are not numbered."""
    try:
        return [int(s.split("=", 1)[1]) for s in steps]
    except (IndexError, ValueError):
        return list(range(1, len(steps) + 1))


def plot_flow(runs: Sequence[tuple[str, Flow]], path: str | os.PathLike[str] | None = None,
              title: str | None = None) -> Figure:
    """The figure for ``runs`` [(title, Flow)], a ``matplotlib.figure.Figure``.

    Made without pyplot, so it neither switches the user's matplotlib backend nor
    leaves a figure open in pyplot's state: in a notebook it shows inline when it is the
    cell's value (after ``%matplotlib inline``, which loads the kernel's inline display),
    and later ``plt.show()`` calls work as before. With ``path`` (.png,
    .svg or .pdf) it is also saved there.
    """
    import numpy as np

    matplotlib = _matplotlib()
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    n = len(runs)
    fig = Figure(figsize=(5.2 * n, 6.4))
    axes = fig.subplots(2, n, squeeze=False, gridspec_kw={"height_ratios": [1.25, 1]})
    # One colour scale for every run's heat map, so runs compare at a glance.
    with np.errstate(divide="ignore"):
        logs = [np.log10(flow.contrib) for _, flow in runs]
    finite = np.concatenate([h[np.isfinite(h)] for h in logs])
    lo, hi = (finite.min(), finite.max()) if finite.size else (0, 1)
    for col, (name, flow) in enumerate(runs):
        t = _step_numbers(flow.steps)
        top, bottom = axes[0][col], axes[1][col]
        top.semilogy(t, flow.state_norms, "o-", ms=3, color="#1f4e9a",
                     label=f"|dL/d{flow.state}(t)|  (L = sum of all steps' losses)")
        if flow.last_norms is not None:
            top.semilogy(t, flow.last_norms, "s-", ms=3, color="#b22222",
                         label=f"|dL(T)/d{flow.state}(t)|  (last step's loss only)")
        top.set_title(name, fontsize=11)
        top.set_ylabel("gradient norm")
        top.grid(True, which="major", alpha=0.3)
        top.legend(fontsize=8, loc="best")

        heat = logs[col]
        # A contribution of exactly 0 (W^(1) multiplies h(0) = 0) has no logarithm:
        # grey, and said so, rather than a colour that would suggest a tiny value.
        cmap = matplotlib.colormaps["magma"].with_extremes(bad="#d0d0d0")
        im = bottom.imshow(np.ma.masked_invalid(heat), aspect="auto", cmap=cmap, vmin=lo,
                           vmax=hi,
                           interpolation="nearest",
                           extent=(t[0] - 0.5, t[-1] + 0.5, len(flow.params) - 0.5, -0.5))
        bottom.set_yticks(range(len(flow.params)))
        bottom.set_yticklabels([f"{p}^(t)" for p in flow.params])
        zero = "; grey: exactly 0" if np.any(flow.contrib == 0) else ""
        bottom.set_xlabel(f"time step t{zero}")
        for ax in (top, bottom):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        bottom.set_title("each step's share of each parameter's gradient: log10 |dL/dP^(t)|",
                         fontsize=9)
        fig.colorbar(im, ax=bottom, fraction=0.05, pad=0.02)
    if title:
        fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
