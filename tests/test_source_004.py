"""Source 004 (the RNN language model with J = +sum y log yhat): the question's formulas
are exactly the negative of the gradient for one-hot targets, the answer's differentials
hold, its last step needs y to sum to 1, and dJ/dH|_t is step t's share only. Reasons
checked by finite differences and by hand."""

import numpy as np
import pytest

from autograd_mini import Tensor, no_grad, numerical_jacobian
from autograd_mini.models.claims import source_004 as S
from autograd_mini.models.probe import Probe
from autograd_mini.models.claims.framework import (Bench, Case, Claim, Condition, Network, Source,
                                     check_source, per_step)
from source_checks import (
    assert_every_holding_claim_can_fail, assert_write_up_matches, checked_report, verdicts)

BASE = dict(Dh=3, d=2, V=4, T=3, seed=0, target="one-hot")


@pytest.fixture(scope="module")
def report():
    return checked_report(S.SOURCE)


def case(**kw):
    return Case(**{**BASE, **kw})


def probed(at, of, offsets=None, **override):
    """A probed value of the network at case ``at`` (no autodiff)."""
    net = S.build(at)
    params = {n: Tensor(override.get(n, a)) for n, a in net.params.items()}
    probe = Probe(offsets)
    with no_grad():
        net.forward(params, probe)
    return probe.values[of]


def fd_step_share(at, t):
    """dJ^(t)/dH |_t by finite differences: an offset on step t's use of H only."""
    H = np.asarray(S.build(at).params["H"])
    return numerical_jacobian(lambda d: probed(at, f"J({t})", {f"H({t})": d}),
                              np.zeros_like(H))


def fd_full(at, t):
    """The full dJ^(t)/dH (H moved at every step) by finite differences."""
    H = np.asarray(S.build(at).params["H"])
    return numerical_jacobian(lambda h: probed(at, f"J({t})", H=h.data), H)


def test_counts(report):
    assert len(report.verdicts) == 20
    assert report.counts() == {"holds": 13, "holds-if": 2, "wrong": 5, "invalid": 0,
                               "degenerate": 0}


# ---------------------------------------------------------------------- the sign
def test_J_is_minus_the_cross_entropy(report):
    v = verdicts(report)["J = CE"]
    assert v.verdict == "wrong" and v.why.startswith("sign")
    c = case()
    z, y = probed(c, "z2(2)").data.ravel(), probed(c, "y(2)").data.ravel()
    p = np.exp(z) / np.exp(z).sum()
    assert float(probed(c, "J(2)").data) == pytest.approx(+np.sum(y * np.log(p)), rel=1e-12)
    assert float(probed(c, "J(2)").data) < 0       # so J is maximized, not minimized


@pytest.mark.parametrize("label", ["dJ/dz2", "line 2", "dJ/dH|_t"])
def test_the_questions_formulas_are_exactly_the_negative(label, report):
    v = verdicts(report)[label]
    assert v.verdict == "wrong" and v.why.startswith("sign")
    assert "exactly -1 times" in v.condition and "sums to 1" in v.condition
    assert v.corrected_ok


def test_the_question_last_line_by_finite_differences():
    """One-hot targets: the question's formula is -1 times dJ/dH|_t to rounding; the
    answer's (y - yhat) form is dJ/dH|_t itself; with counts, neither sign fits."""
    for t in (1, 2, 3):
        c = case()
        b = Bench(S.build(c), c)
        truth = fd_step_share(c, t)
        np.testing.assert_allclose(S.q_dH(b, t), -truth, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(S.a_dH_normalized(b, t), truth, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(S.a_dH(b, t), truth, rtol=1e-6, atol=1e-9)
    c = case(target="counts")
    b = Bench(S.build(c), c)
    truth = fd_step_share(c, 2)
    np.testing.assert_allclose(S.a_dH(b, 2), truth, rtol=1e-6, atol=1e-9)
    assert not np.allclose(S.q_dH(b, 2), -truth, rtol=1e-3)
    assert not np.allclose(S.q_dH(b, 2), truth, rtol=1e-3)


def test_the_answers_normalization_step(report):
    v = verdicts(report)["y^T 1 = 1"]
    assert v.verdict == "holds-if" and "sums to 1" in v.condition
    # by hand: y^T (I - 1 w^T) = y^T - (y^T 1) w^T, which is y^T - w^T iff y^T 1 = 1
    for target in ("one-hot", "soft", "counts"):
        b = Bench(S.build(case(target=target)), case(target=target))
        y, w = b.v("y(2)").ravel(), b.v("yhat(2)").ravel()
        lhs = y @ (np.eye(len(w)) - np.outer(np.ones(len(w)), w))
        np.testing.assert_allclose(lhs, y - y.sum() * w, rtol=1e-13)
        assert np.allclose(lhs, y - w) == (target != "counts")


# ---------------------------------------------------------------------- |_t vs the full one
def test_the_step_share_is_not_the_full_derivative(report):
    v = verdicts(report)["full dJ/dH"]
    assert v.verdict == "wrong" and "t = 1" in v.condition and v.corrected_ok
    assert v.why.startswith("missing terms")
    c = case(T=3)
    b = Bench(S.build(c), c)
    # at t = 1, h^(0) is a constant: the share is the whole derivative
    np.testing.assert_allclose(S.a_dH_normalized(b, 1), fd_full(c, 1), rtol=1e-6, atol=1e-9)
    # at t = 3 it is not; the hand-written BPTT sum is
    full = fd_full(c, 3)
    np.testing.assert_allclose(S.bptt_dH(b, 3), full, rtol=1e-6, atol=1e-9)
    assert not np.allclose(S.a_dH_normalized(b, 3), full, rtol=1e-3)


# ---------------------------------------------------------------------- what holds
def test_the_answers_differentials_hold(report):
    v = verdicts(report)
    for label in ("line 1", "dh/dz1", "dz2/dh", "dx = dH^T g", "negative of yours", "df", "dz", "dw",
                  "dJ/dw", "dJ/dz", "dJ/df", "dJ/dx", "dJ/dH", "footnote A:B"):
        if label == "negative of yours":
            assert v[label].verdict == "holds-if" and "sums to 1" in v[label].condition
        else:
            assert v[label].verdict == "holds", (label, v[label].condition)
            assert v[label].max_rel_err < 1e-12


def test_the_third_order_tensor_has_the_questions_shape():
    c = case(Dh=3)
    b = Bench(S.build(c), c)
    tensor = S.dz1_dH(b, 2)
    assert tensor.shape == (3, 3, 3)                  # D_h x D_h x D_h, as the question says
    hp = b.v("h(1)").ravel()
    # z_1,j = sum_a h_a H_aj: moving H_ab moves only z_1,b, by h_a
    for j in range(3):
        for a in range(3):
            np.testing.assert_allclose(tensor[j, a], hp[a] * (np.arange(3) == j), atol=1e-15)
    # contracting dJ/dz_1 (1 x D_h) with it gives the outer product h^T (dJ/dz_1): the
    # 'magical' transpose-and-left-multiply of the question
    dz1 = b.grad("z1(2)", of="J(2)").ravel()
    np.testing.assert_allclose(np.einsum("j,jab->ab", dz1, tensor), np.outer(hp, dz1),
                               rtol=1e-13)


def test_per_step_shares_sum_to_the_shared_gradient():
    c = case(T=4)
    views = per_step("004", c)
    np.testing.assert_allclose(sum(views["dJ/dH^(t)"]), views["dJ/dH"], rtol=1e-12)
    H = np.asarray(S.build(c).params["H"])
    fd = numerical_jacobian(lambda h: probed(c, "J", H=h.data), H)
    np.testing.assert_allclose(views["dJ/dH"], fd, rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------------- the judge's rule
def test_a_sign_error_under_a_condition_is_wrong_and_names_both():
    """judge.py: a formula that is exactly -1 times the truth where a condition holds and
    unrelated elsewhere is wrong, its why the sign, its condition where the sign fits."""
    def build(c):
        def forward(p, probe):
            x = probe("x", p["x"])
            return (x * x).sum() * (1 if c.kind == "plain" else 0) + (x ** 3).sum() * (
                1 if c.kind == "cubic" else 0)
        return Network({"x": np.arange(1.0, 4.0) + c.seed}, forward)

    def negated(b, t):                   # -2x: the negative of d(x.x)/dx, not of 3x^2
        return -2 * b.v("x")

    def unrelated(b, t):
        return b.v("x") + 7

    claims = [Claim("neg", "dL/dx = -2x", negated, lambda b, t: b.grad("x"), "dL/dx"),
              Claim("other", "dL/dx = x + 7", unrelated, lambda b, t: b.grad("x"), "dL/dx")]
    src = Source("toy", "toy", "none.txt", build, claims, base=dict(kind="plain", seed=0),
                 vary=dict(kind=["cubic"], seed=[1]), random_cases=2,
                 conditions=[Condition("the loss is x.x", lambda c, t: c.kind == "plain")])
    v = {x.claim.label: x for x in check_source(src).verdicts}
    assert v["neg"].verdict == "wrong" and v["neg"].why.startswith("sign")
    assert "exactly -1 times" in v["neg"].condition and "the loss is x.x" in v["neg"].condition
    assert v["other"].verdict == "wrong"


# ---------------------------------------------------------------------- the write-up
def test_the_write_up_matches_the_tool(report):
    assert_write_up_matches(report, S.SOURCE, "004")


def test_every_holding_claim_can_fail(report):
    assert_every_holding_claim_can_fail(report, S.SOURCE)
