"""Goodfellow et al. eqs. 10.17-10.28 and source 003 (the per-step copies W^(t)): each
verdict, with its reason checked by hand."""
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_mini.errors import ShapeError
from autograd_mini.models.claims import book, source_003
from autograd_mini.models.goodfellow import GoodfellowRNN
from autograd_mini.models.claims.framework import Bench, Case, compare
from source_checks import checked_report, verdicts


@pytest.fixture(scope="module")
def book_report():
    return checked_report(book.SOURCE)


@pytest.fixture(scope="module")
def report_003():
    return checked_report(source_003.SOURCE)


def test_book_counts(book_report):
    assert book_report.counts() == {"holds": 14, "holds-if": 0, "wrong": 0, "invalid": 1,
                                    "degenerate": 0}
    labels = [v.claim.label.split()[0] for v in book_report.verdicts]
    assert sorted(set(labels)) == [f"10.{n}" for n in range(17, 29)]


def test_10_21_as_printed_is_defined_only_for_one_hidden_unit(book_report):
    v = verdicts(book_report)["10.21"]
    assert v.verdict == "invalid"
    assert "(5, 1) times diag(1 - (h(t+1))^2) (5, 5)" in v.why
    assert "defined only when H = 1, and there it agrees" in v.condition
    assert v.corrected_ok
    # by hand: with H = 1 every factor is a number, so their order does not matter, and
    # the formula is the chain rule through h(t+1) and o(t); with H = 2 a column of 2
    # entries times a 2 x 2 matrix is undefined
    case = Case(D=2, H=1, C=3, T=3, seed=1)
    m = GoodfellowRNN.init(D=2, H=1, C=3, seed=1)
    x, y = GoodfellowRNN.example_data(T=3, D=2, C=3, seed=1)
    run = m.forward(x, y)
    run.loss.backward()
    W, V = m.W.data[0, 0], m.V.data[:, 0]
    for t in (1, 2):
        h_next, g_next = run.h[t].data[0], run.h[t].grad[0]
        by_hand = W * g_next * (1 - h_next ** 2) + V @ run.o[t - 1].grad
        assert by_hand == pytest.approx(run.h[t - 1].grad[0], rel=1e-12)
        b = Bench(book.textbook_network(case), case)
        assert book.eq_10_21_printed(b, t).item() == pytest.approx(by_hand, rel=1e-12)
    b2 = Bench(book.textbook_network(case.replace(H=2)), case.replace(H=2))
    with pytest.raises(ShapeError):
        book.eq_10_21_printed(b2, 1)


@settings(max_examples=12, deadline=None)
@given(D=st.integers(1, 4), H=st.integers(1, 5), C=st.integers(2, 4), T=st.integers(1, 8),
       seed=st.integers(0, 10_000))
def test_book_parameter_gradients_by_a_numpy_bptt(D, H, C, T, seed):
    """An independent route for 10.18-10.28: min-char-rnn style BPTT in plain NumPy,
    at random sizes, against the engine."""
    m = GoodfellowRNN.init(D=D, H=H, C=C, seed=seed)
    x, y = GoodfellowRNN.example_data(T=T, D=D, C=C, seed=seed)
    U, W, V, bb, c = (getattr(m, n).data for n in GoodfellowRNN.PARAMS)
    hs, ps = {0: np.zeros(H)}, {}
    for t in range(1, T + 1):
        hs[t] = np.tanh(bb + W @ hs[t - 1] + U @ x[t - 1])
        o = c + V @ hs[t]
        ps[t] = np.exp(o - o.max()) / np.exp(o - o.max()).sum()
    grads = {n: 0 for n in "UWVbc"}
    dh_next = np.zeros(H)
    for t in range(T, 0, -1):
        do = ps[t] - np.eye(C)[y[t - 1]]                    # 10.18
        dh = V.T @ do + dh_next                              # 10.19 / 10.21
        da = (1 - hs[t] ** 2) * dh
        grads["c"] += do                                     # 10.22
        grads["b"] += da                                     # 10.23
        grads["V"] += np.outer(do, hs[t])                    # 10.24
        grads["W"] += np.outer(da, hs[t - 1])                # 10.26
        grads["U"] += np.outer(da, x[t - 1])                 # 10.28
        dh_next = W.T @ da
    m.forward(x, y).loss.backward()
    for n in "UWVbc":
        np.testing.assert_allclose(getattr(m, n).grad, grads[n], rtol=1e-12, atol=1e-15)


def test_demo_section_lists_10_18_to_10_28():
    out = io.StringIO()
    assert book.equations_table(file=out)
    text = out.getvalue()
    for n in range(18, 29):
        assert f"10.{n}" in text
    assert "10.17" not in text
    assert "invalid" in text and "corrected:" in text


def test_003_counts(report_003):
    assert report_003.counts() == {"holds": 19, "holds-if": 1, "wrong": 0, "invalid": 0,
                                   "degenerate": 0}
    for P in "VWU":                       # the total differential, for every weight matrix
        assert verdicts(report_003)[f"(3.3.4) for {P}"].verdict == "holds"


def test_003_only_output_descendant_holds_only_at_the_last_step(report_003):
    v = verdicts(report_003)["Ex.2 only o(t)"]
    assert v.verdict == "holds-if"
    assert v.condition.startswith("only when t = tau")
    # by hand: before tau, h(t) also feeds h(t+1), whose term W^T diag(1-h^2) dL/dh(t+1)
    # is not zero; at tau it has nothing to add
    m = GoodfellowRNN.init(D=4, H=5, C=3, seed=0)
    x, y = GoodfellowRNN.example_data(T=4, D=4, C=3, seed=0)
    run = m.forward(x, y)
    run.loss.backward()
    V, W = m.V.data, m.W.data
    np.testing.assert_allclose(run.h[-1].grad, V.T @ run.o[-1].grad, rtol=1e-12)
    for t in range(3):
        extra = W.T @ ((1 - run.h[t + 1].data ** 2) * run.h[t + 1].grad)
        assert np.abs(extra).max() > 1e-3
        np.testing.assert_allclose(run.h[t].grad, V.T @ run.o[t].grad + extra, rtol=1e-12)


def test_003_per_step_copies_sum_to_the_shared_gradient_and_step_1_gives_W_nothing():
    m = GoodfellowRNN.init(D=4, H=5, C=3, seed=0)
    x, y = GoodfellowRNN.example_data(T=5, D=4, C=3, seed=0)
    per_step = m.per_step_gradients(x, y)
    m.forward(x, y).loss.backward()
    for n in GoodfellowRNN.PARAMS:
        assert per_step[n].shape == (5,) + getattr(m, n).shape
        np.testing.assert_allclose(per_step[n].sum(0), getattr(m, n).grad, atol=1e-15)
    # W multiplies h(0) = 0 at step 1: its copy there gets no gradient
    assert np.all(per_step["W"][0] == 0)
    assert per_step["h"].shape == (5, 5)


def test_book_compare_and_the_cli_compare_flag(capsys):
    from autograd_mini.models.claims import cli as check_cli
    rows = compare("book")
    assert [r.label for r in rows] == [c.label for c in book.CLAIMS]
    for r in rows:
        assert r.autodiff_vs_numeric < 1e-6, r.label
        if r.label != "10.21":
            assert r.manual_vs_autodiff < 1e-12, r.label
    import argparse
    p = argparse.ArgumentParser()
    check_cli.add_arguments(p)
    assert check_cli.run(p.parse_args(["book", "--compare", "--steps", "3"])) == 0
    out = capsys.readouterr().out
    assert out.count("finite differences") >= len(book.CLAIMS)
    assert "autodiff vs finite differences" in out and "at D=4 H=5 C=3 T=3" in out
