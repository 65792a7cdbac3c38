"""How gradients look: their text and their colour (visualize.style)."""
import numpy as np

from autograd_mini.visualize.style import NO_GRAD, PALETTE, ZERO_GRAD, fill, fmt, grad_lines, legend_rows


def test_small_gradients_list_every_entry_large_ones_their_norm_and_max():
    assert grad_lines(None) == []
    assert grad_lines(np.array(2.5)) == ["g = 2.5"]
    assert grad_lines(np.array([1.0, -0.000123456])) == ["g = [1, -0.000123]"]
    six = np.arange(6.0).reshape(2, 3) / 7
    assert grad_lines(six) == ["g = [0, 0.143, 0.286,", "0.429, 0.571, 0.714]"]
    seven = np.array([3.0, 4.0, 0, 0, 0, 0, -12.0])
    # norm sqrt(9 + 16 + 144) = 13 by hand, largest |entry| 12
    assert grad_lines(seven) == ["|g| = 13", "max |g| = 12"]


def test_a_negative_zero_gradient_prints_as_0():
    # -0.0 arises e.g. as -(0.0) in a VJP; "-0" reads as a tiny negative number.
    assert fmt(-0.0) == "0"
    assert grad_lines(np.array([-0.0, 0.0, -1e-300 * 1e-300])) == ["g = [0, 0, 0]"]
    assert grad_lines(np.array(-0.0)) == ["g = 0"]
    assert fmt(-1e-20) == "-1e-20"          # a real negative stays negative


def test_the_colour_scale_is_fixed_one_decade_per_colour_from_pale_to_dark():
    # The decades are the same in every picture, whatever the gradients in it.
    expected = {5e-9: 0, 2e-6: 1, 0.05: 5, 0.5: 6, 3.0: 7, 12.0: 8, 1e6: 8}
    for norm, k in expected.items():
        assert fill(norm)[0] == PALETTE[k], norm
    assert fill(None) == (NO_GRAD, "black")
    assert fill(0.0) == (ZERO_GRAD, "black")
    assert fill(float("inf"))[0] == PALETTE[-1] and fill(float("nan"))[0] == PALETTE[-1]
    rows = legend_rows()
    assert [r[0] for r in rows] == list(PALETTE)
    assert rows[0][2] == "|g| < 1e-6" and rows[-1][2] == "|g| >= 1e+1"
    assert rows[7][2] == "1e+0 <= |g| < 1e+1"
    # Dark fills get white text, pale ones black.
    assert fill(12.0)[1] == "white" and fill(1e-3)[1] == "black"
