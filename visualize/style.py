"""How a gradient looks: its text on a box, and its colour on a log scale.

Colour encodes |g| (the Frobenius norm of dL/d(value)) by decade, from pale (small) to
dark red (large): a gradient that vanishes back through time fades step by step, one
that explodes flares. The decades come from the picture's own range, so the legend
always lists exactly the colours in use.
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


def fmt(v):
    """One number, three significant digits: 0.0123, -4.56e-07, 1."""
    return f"{float(v):.3g}"


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


class ColourScale:
    """Maps |g| to a fill colour by decade; at most len(PALETTE) bins (decades merge)."""

    def __init__(self, norms):
        norms = [n for n in norms if n is not None and n > 0 and math.isfinite(n)]
        if not norms:
            self.lo, self.width, self.bins = 0, 1, 0
            return
        lo = math.floor(math.log10(min(norms)))
        hi = math.floor(math.log10(max(norms)))
        decades = hi - lo + 1
        self.lo = lo
        self.width = math.ceil(decades / len(PALETTE))     # decades per bin
        self.bins = math.ceil(decades / self.width)

    def bin(self, norm):
        b = (math.floor(math.log10(norm)) - self.lo) // self.width
        return min(max(b, 0), self.bins - 1)

    def _index(self, b):
        # Spread the bins in use over the whole palette: two decades are pale and dark,
        # not two neighbouring yellows.
        if self.bins <= 1:
            return len(PALETTE) // 2
        return round(b * (len(PALETTE) - 1) / (self.bins - 1))

    def fill(self, norm):
        """(fill colour, text colour) for a gradient of norm ``norm`` (None: no gradient)."""
        if norm is None:
            return NO_GRAD, "black"
        if not math.isfinite(norm):             # inf or nan: as loud as it gets
            return PALETTE[-1], "white"
        if norm == 0 or self.bins == 0:
            return ZERO_GRAD, "black"
        i = self._index(self.bin(norm))
        return PALETTE[i], ("white" if i >= DARK else "black")

    def legend(self):
        """[(colour, text colour, "1e-03 <= |g| < 1e-02")], small to large."""
        rows = []
        for b in range(self.bins):
            a, z = self.lo + b * self.width, self.lo + (b + 1) * self.width
            i = self._index(b)
            rows.append((PALETTE[i], "white" if i >= DARK else "black",
                         f"1e{a:+d} <= |g| < 1e{z:+d}"))
        return rows
