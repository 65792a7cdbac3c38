"""How gradients look: their text and their colour (visualize.style)."""
import numpy as np

from autograd_mini.visualize.style import NO_GRAD, PALETTE, ZERO_GRAD, ColourScale, grad_lines


def test_small_gradients_list_every_entry_large_ones_their_norm_and_max():
    assert grad_lines(None) == []
    assert grad_lines(np.array(2.5)) == ["g = 2.5"]
    assert grad_lines(np.array([1.0, -0.000123456])) == ["g = [1, -0.000123]"]
    six = np.arange(6.0).reshape(2, 3) / 7
    assert grad_lines(six) == ["g = [0, 0.143, 0.286,", "0.429, 0.571, 0.714]"]
    seven = np.array([3.0, 4.0, 0, 0, 0, 0, -12.0])
    # norm sqrt(9 + 16 + 144) = 13 by hand, largest |entry| 12
    assert grad_lines(seven) == ["|g| = 13", "max |g| = 12"]


def test_colour_scale_bins_by_decade_from_pale_to_dark():
    scale = ColourScale([2e-3, 0.5, 3.0])           # decades 1e-3 .. 1e+0: four bins
    assert scale.bins == 4
    fills = [scale.fill(n)[0] for n in (2e-3, 0.02, 0.5, 3.0)]
    assert fills[0] == PALETTE[0] and fills[-1] == PALETTE[-1]
    assert [PALETTE.index(f) for f in fills] == sorted(PALETTE.index(f) for f in fills)
    assert len(set(fills)) == 4
    assert scale.fill(None) == (NO_GRAD, "black")
    assert scale.fill(0.0) == (ZERO_GRAD, "black")
    assert scale.fill(float("inf"))[0] == PALETTE[-1]
    legend = scale.legend()
    assert [row[2] for row in legend] == ["1e-3 <= |g| < 1e-2", "1e-2 <= |g| < 1e-1",
                                          "1e-1 <= |g| < 1e+0", "1e+0 <= |g| < 1e+1"]
    assert [row[0] for row in legend] == fills


def test_many_decades_share_bins_so_the_palette_never_runs_out():
    scale = ColourScale([1e-17, 1.0])               # 18 decades -> 9 bins of 2
    assert scale.bins == len(PALETTE) and scale.width == 2
    assert scale.fill(1e-17)[0] == PALETTE[0] and scale.fill(1.0)[0] == PALETTE[-1]
