"""Source 000 (the Cross Validated question on Goodfellow's BPTT and its answer): each
verdict, and the reason for it checked by hand on the forward values."""
import numpy as np
import pytest

from autograd_mini import Tensor
from autograd_mini.errors import ShapeError
from autograd_mini.models.claims import source_000 as S
from autograd_mini.models.probe import Probe
from autograd_mini.models.claims.framework import Bench, Case, compare
from source_checks import checked_report, verdicts


@pytest.fixture(scope="module")
def report():
    return checked_report(S.SOURCE)


def bench(**kw):
    case = Case(**{**dict(D=4, H=5, C=3, T=3, seed=0, target="one-hot"), **kw})
    return Bench(S.build(case), case)


def test_counts_of_each_verdict(report):
    assert report.counts() == {"holds": 10, "holds-if": 1, "wrong": 2, "invalid": 2,
                               "degenerate": 0}


def test_grid_covers_the_documents_4_5_3_example_and_lengths(report):
    assert report.cases[0] == Case(D=4, H=5, C=3, T=5, seed=0, target="one-hot")
    assert {c.T for c in report.cases} >= {1, 2, 5, 20}
    assert {c.target for c in report.cases} == {"one-hot", "soft", "counts"}


def test_the_questions_own_derivation_holds(report):
    v = verdicts(report)
    for label in ("dL/dL(t) = 1", "L expanded", "dL/do_1", "matrix form",
                  "dyhat_1/dh_1 (compact)", "dyhat_1/dh_1 (products)",
                  "dyhat_1/dh_1 (factored)", "dyhat_1/dh", "answer, line 2",
                  "answer: -yhat_i cancel"):
        assert v[label].verdict == "holds", (label, v[label].condition)
        assert v[label].max_rel_err < 1e-12


def test_the_book_form_needs_a_target_that_sums_to_1(report):
    v = verdicts(report)["book 10.18"]
    assert v.verdict == "holds-if"
    assert "sums to 1" in v.condition
    # by hand: for L = -sum y_i log softmax(o)_i, dL/do = yhat * sum(y) - y, which is
    # yhat - y exactly when sum(y) = 1 (one-hot or soft), and not for counts
    for target, equal in (("one-hot", True), ("soft", True), ("counts", False)):
        b = bench(target=target)
        for t in (1, 2, 3):
            yhat, y = b.v(f"yhat({t})"), b.v(f"y({t})")
            np.testing.assert_allclose(b.grad(f"o({t})"), yhat * y.sum() - y, rtol=1e-12)
            assert np.allclose(yhat - y, b.grad(f"o({t})"), rtol=1e-9) == equal


def test_the_first_expansion_is_wrong_and_the_compact_line_corrects_it(report):
    v = verdicts(report)["dyhat_1/dh_1 (expanded)"]
    assert v.verdict == "wrong"
    assert v.counterexample["case"]["C"] == 2 and v.counterexample["case"]["H"] == 1
    assert v.corrected_ok
    # by hand at C = 2, H = 1: yhat_1 = sigmoid(o_1 - o_2), so dyhat_1/dh = y1 y2 (v11 - v21);
    # the printed line puts v_11 h (not v_21 h) into exp(c_2 + ...)
    b = bench(D=1, H=1, C=2, T=1)
    V, c, h = b.v("V"), b.v("c"), b.v("h(1)")
    y1, y2 = b.v("yhat(1)")
    truth = y1 * y2 * (V[0, 0] - V[1, 0])
    assert S.dyhat_dh(b, 1)[0, 0] == pytest.approx(truth, rel=1e-12)
    e1, e2 = np.exp(c[0] + V[0, 0] * h[0]), np.exp(c[1] + V[1, 0] * h[0])
    S_ = e1 + e2
    printed = (V[0, 0] * e1 * S_ - (V[0, 0] * e1 + V[1, 0] * np.exp(c[1] + V[0, 0] * h[0]))
               * e1) / S_ ** 2
    assert S.dy1_dh1_typo(b, 1) == pytest.approx(printed, rel=1e-12)
    assert abs(printed - truth) > 1e-6 * abs(truth)


def test_the_full_matrix_is_an_undefined_product(report):
    v = verdicts(report)["dyhat/dh (matrix)"]
    assert v.verdict == "invalid" and v.why.startswith("order")
    assert "(3, 3) times V^T (5, 3)" in v.why
    assert "defined only when C = H" in v.condition and "still differs from" in v.condition
    assert v.corrected_ok
    # by hand: diag(yhat) is 3 x 3 and V^T is 5 x 3
    b = bench()
    with pytest.raises(ShapeError):
        S.dyhat_dh_question(b, 3)
    with pytest.raises(ValueError):
        np.diag(b.v("yhat(3)")) @ b.v("V").T


def test_the_written_out_output_drops_a_hidden_unit(report):
    v = verdicts(report)["o(t) written out"]
    assert v.verdict == "invalid" and "(3, 5) times" in v.why and "(4, 1)" in v.why
    assert v.counterexample["case"]["H"] == 5           # the source's own sizes, not H = 1
    assert v.corrected_ok
    b = bench()
    np.testing.assert_allclose(b.v("c") + b.v("V") @ b.v("h(2)"), b.v("o(2)"), rtol=1e-14)


def test_the_answers_first_line_is_exactly_the_negative(report):
    v = verdicts(report)["answer, line 1"]
    assert v.verdict == "wrong" and v.why.startswith("sign")
    assert v.max_rel_err == pytest.approx(2, rel=1e-9)         # minus x misses x by 2|x|
    # by hand: the chain rule has no minus; dL/dyhat_i = -y_i / yhat_i carries it
    b = bench()
    yhat, y = b.v("yhat(3)"), b.v("y(3)")
    np.testing.assert_allclose(b.grad("yhat(3)"), -y / yhat, rtol=1e-12)
    J = S.dyhat_dh(b, 3)
    np.testing.assert_allclose(b.grad("h(3)"), (-y / yhat) @ J, rtol=1e-12)
    np.testing.assert_allclose(S.dh_answer_line1(b, 3).ravel(), -b.grad("h(3)"), rtol=1e-12)


def test_the_cancellation_holds_for_every_target(report):
    """The answer's sentence, in its words: the -yhat_i cancel, for any target (the book's
    yhat - 1_y, which needs sum y = 1, is not what the answer writes)."""
    assert verdicts(report)["answer: -yhat_i cancel"].verdict == "holds"
    b = bench(target="counts")
    yhat, y, V = b.v("yhat(3)"), b.v("y(3)"), b.v("V")
    np.testing.assert_allclose(b.grad("h(3)"), V.T @ (yhat * y.sum() - y), rtol=1e-12)
    np.testing.assert_allclose(S.dh_after_cancelling(b, 3).ravel(), b.grad("h(3)"), rtol=1e-12)


def test_the_network_is_the_questions_loss_not_the_fused_one():
    """L(t) = -sum_i y_i ln yhat_i as written: for a one-hot target it equals the
    textbook's -log yhat_{y(t)}."""
    case = Case(D=4, H=5, C=3, T=4, seed=3, target="one-hot")
    net = S.build(case)
    probe = Probe()
    L = net.forward({n: Tensor(a) for n, a in net.params.items()}, probe)
    yhat = [probe.values[f"yhat({t})"].data for t in range(1, 5)]
    Y = S.targets("one-hot", 4, 3, 3)
    assert L.item() == pytest.approx(-sum(np.log(p[k]) for p, k in
                                          zip(yhat, Y.argmax(1))), rel=1e-12)


def test_compare_puts_manual_autodiff_and_finite_differences_side_by_side():
    rows = {r.label: r for r in compare("000", {"T": 3})}
    assert len(rows) == len(S.CLAIMS)
    for r in rows.values():
        assert r.autodiff_vs_numeric < 1e-6, r.label
    assert rows["matrix form"].manual_vs_autodiff < 1e-12
    np.testing.assert_allclose(rows["answer, line 1"].manual, -rows["answer, line 1"].numeric,
                               rtol=1e-6)
    assert rows["dyhat/dh (matrix)"].manual is None
    assert "undefined product" in rows["dyhat/dh (matrix)"].note
