"""How a gradient looks: its text on a box, and its colour on a fixed log scale.

Colour encodes |g| (the Frobenius norm of dL/d(value)) by decade, from pale (small) to
dark red (large): a gradient that vanishes back through time fades step by step, one
that explodes flares. The decades are fixed, the same in every picture (dark red is
always |g| >= 10), so two pictures compare by colour alone; the legend lists them all.
"""
import math

import numpy as np

# ColorBrewer YlOrRd, 9 classes: sequential, readable when printed in grey too.
PALETTE = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c",
           "#bd0026", "#800026")
DARK = 6                    # palette entries from here on need white text
NO_GRAD = "#f2f2f2"
ZERO_GRAD = "#ffffff"
MAX_LISTED = 6              # a gradient with at most this many entries is shown in full
# PALETTE[k] holds the decade 10^(LOWEST + k - 1) <= |g| < 10^(LOWEST + k); the first
# and last colours are open-ended: |g| < 1e-6 and |g| >= 10.
LOWEST = -6


def fmt(v):
    """One number, three significant digits: 0.0123, -4.56e-07, 1. Never "-0"."""
    return f"{float(v) + 0.0:.3g}"      # + 0.0 turns -0.0 into 0.0


def grad_lines(g):
    """The gradient as text lines: every value when it has <= 6 entries, else its norm
    and its largest entry in absolute value. ``g``: any shape; None gives no lines."""
    if g is None:
        return []
    g = np.asarray(g)
    if g.size == 0:
        return ["g = []"]
    if g.size <= MAX_LISTED:
        if g.ndim == 0:
            return [f"g = {fmt(g)}"]
        flat = [fmt(v) for v in g.ravel()]      # C order, as NumPy prints it
        if len(flat) <= 3:
            return [f"g = [{', '.join(flat)}]"]
        # Two rows of at most three keep the box narrow.
        return [f"g = [{', '.join(flat[:3])},", f"{', '.join(flat[3:])}]"]
    return [f"|g| = {fmt(np.linalg.norm(g))}", f"max |g| = {fmt(np.max(np.abs(g)))}"]


def grad_norm(g):
    return None if g is None else float(np.linalg.norm(g))


def colour_index(norm):
    """The palette entry of a gradient of norm ``norm`` > 0 (finite)."""
    k = math.floor(math.log10(norm)) - LOWEST + 1
    return min(max(k, 0), len(PALETTE) - 1)


def fill(norm):
    """(fill colour, text colour) for a gradient of norm ``norm`` (None: no gradient)."""
    if norm is None:
        return NO_GRAD, "black"
    if not math.isfinite(norm):             # inf or nan: as loud as it gets
        return PALETTE[-1], "white"
    if norm == 0:
        return ZERO_GRAD, "black"
    i = colour_index(norm)
    return PALETTE[i], ("white" if i >= DARK else "black")


def legend_rows():
    """[(colour, text colour, "1e-03 <= |g| < 1e-02")], small to large: the whole scale."""
    rows = []
    for i, colour in enumerate(PALETTE):
        lo, hi = LOWEST + i - 1, LOWEST + i
        if i == 0:
            words = f"|g| < 1e{hi:+d}"
        elif i == len(PALETTE) - 1:
            words = f"|g| >= 1e{lo:+d}"
        else:
            words = f"1e{lo:+d} <= |g| < 1e{hi:+d}"
        rows.append((colour, "white" if i >= DARK else "black", words))
    return rows
