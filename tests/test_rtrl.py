"""RTRL and BPTT are the same gradient: forward mode through the engine, the classical
recursion by hand and reverse mode agree to 1e-12 (float64); RTRL's memory does not grow
with T; the command prints the agreement and the costs."""
import tracemalloc

import numpy as np
import pytest

from autograd_mini import Tensor
from autograd_mini.cli import main
from autograd_mini.models import rtrl
from autograd_mini.models.goodfellow import GoodfellowRNN


@pytest.mark.parametrize("T", [1, 10, 100])
@pytest.mark.parametrize("H", [3, 6])
def test_rnn_rtrl_equals_bptt(H, T):
    params, x, y = rtrl.problem(H, T, seed=H + T)
    ref = rtrl.bptt(params, x, y)
    assert rtrl.agreement(rtrl.rtrl_forward_mode(params, x, y), ref) <= 1e-12
    assert rtrl.agreement(rtrl.rtrl_by_hand(params, x, y), ref) <= 1e-12


def test_rnn_rtrl_equals_bptt_at_hidden_32():
    params, x, y = rtrl.problem(32, 10, D=8, C=8)
    ref = rtrl.bptt(params, x, y)
    assert rtrl.agreement(rtrl.rtrl_forward_mode(params, x, y), ref) <= 1e-12
    assert rtrl.agreement(rtrl.rtrl_by_hand(params, x, y), ref) <= 1e-12


@pytest.mark.parametrize("T", [1, 10, 100])
def test_gru_rtrl_by_forward_mode_equals_bptt(T):
    params, x, y = rtrl.gru_problem(4, T, seed=T)
    assert rtrl.agreement(rtrl.gru_rtrl_forward_mode(params, x, y),
                          rtrl.gru_bptt(params, x, y)) <= 1e-12


def test_the_bptt_reference_is_the_textbook_model_and_finite_differences():
    params, x, y = rtrl.problem(4, 6, D=4, C=3)
    model = GoodfellowRNN(*(Tensor(params[n], requires_grad=True) for n in rtrl.PARAMS))
    model.forward(x, y).loss.backward()
    ref = rtrl.bptt(params, x, y)
    for n in rtrl.PARAMS:
        np.testing.assert_allclose(ref[n], getattr(model, n).grad, rtol=1e-13, atol=1e-15)
    # one direction by central differences of the loss
    v = {n: np.random.default_rng(1).normal(size=p.shape) for n, p in params.items()}
    loss = lambda s: GoodfellowRNN(*(Tensor(params[n] + s * v[n]) for n in rtrl.PARAMS)
                                   ).forward(x, y).loss.item()
    eps = 1e-6
    assert sum((ref[n] * v[n]).sum() for n in rtrl.PARAMS) == pytest.approx(
        (loss(eps) - loss(-eps)) / (2 * eps), rel=1e-7)


def peak(fn, *args):
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_rtrl_memory_does_not_grow_with_T_and_bptt_memory_does():
    # Bytes per extra step. (RTRL's few dozen are NumPy's: normalize_axis_tuple, which the
    # loss's forward calls, leaves 48 bytes per call until Python's next full collection.)
    short, long = rtrl.problem(4, 20, C=4), rtrl.problem(4, 200, C=4)
    for fn in (rtrl.rtrl_forward_mode, rtrl.rtrl_by_hand):
        assert (peak(fn, *long) - peak(fn, *short)) / 180 < 200, fn.__name__
    assert (peak(rtrl.bptt, *long) - peak(rtrl.bptt, *short)) / 180 > 2000


def test_the_rtrl_command_prints_agreement_costs_and_slopes(tmp_path, capsys):
    plot = tmp_path / "rtrl.png"
    status = main(["rtrl", "--hidden", "3", "5", "--steps", "6", "--repeats", "1",
                   "--plot", str(plot)])
    out = capsys.readouterr().out
    assert status == 0
    assert "the same gradient" in out
    assert "| 3 | 3 | 3 | 33 |" in out                  # n, D, C and P = 3n^2 + 2n
    for line in ("Fitted log-log slope in n", "Fitted log-log slope in T"):
        assert line in out
    slopes = [float(line.split("multiply-adds")[1].split()[0]) for line in out.splitlines()
              if "multiply-adds " in line and "time" in line]
    assert len(slopes) == 3 and slopes[0] == pytest.approx(2.0, abs=0.05)
    assert plot.stat().st_size > 10_000 and plot.read_bytes()[:4] == b"\x89PNG"


def test_the_rtrl_command_refuses_sizes_below_one():
    with pytest.raises(SystemExit, match="must be positive, got \\[0\\]"):
        main(["rtrl", "--hidden", "0", "4"])


def test_madds_count_is_the_products_of_the_hand_recursion():
    # The hand count for n = 2, D = 1, C = 1, product by product:
    # forward 4 + 2 + 2; W P(t-1) for W (4 entries), U (2) and b (2): 4 * 8; dL/dh P: 2 * 8;
    # V^T (p - y) and (p - y) h^T: 2 * 2.
    from autograd_mini.models.rtrl_cli import madds
    assert madds(2, 1, 1)["RTRL, by hand"] == 8 + 32 + 16 + 4
    assert madds(2, 1, 1)["BPTT"] == 8 + 8 + 6
