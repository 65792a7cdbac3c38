"""Source 002 (the scalar many-to-one RNN question): the softmax over one number makes the
loss constant (degenerate); on a sigmoid output the derivation holds; the comment's
ds1/ds0 = w holds only without an activation. Reasons checked by hand and by finite
differences."""
import dataclasses

import numpy as np
import pytest

from autograd_mini import Tensor, no_grad, numerical_jacobian
from autograd_mini.models.claims import source_002 as S
from autograd_mini.models.probe import Probe
from autograd_mini.models.claims.framework import Bench, Case, check_source, per_step
from source_checks import (
    assert_every_holding_claim_can_fail, assert_write_up_matches, checked_report, verdicts)


@pytest.fixture(scope="module")
def report():
    return checked_report(S.SOURCE)


def case(**kw):
    return Case(**{**dict(form="question", act="sigmoid", y=1, seed=0), **kw})


def value(at, of, **override):
    """The probed value ``of`` at case ``at``, parameters replaced by ``override``."""
    net = S.build(at)
    params = {n: Tensor(override.get(n, a)) for n, a in net.params.items()}
    probe = Probe()
    with no_grad():
        net.forward(params, probe)
    return probe.values[of]


def fd(c, param, of):
    start = np.asarray(S.build(c).params[param], dtype=np.float64)
    return float(numerical_jacobian(lambda p: value(c, of, **{param: p.data}), start))


def test_counts(report):
    assert len(report.verdicts) == 19
    assert report.counts() == {"holds": 8, "holds-if": 0, "wrong": 2, "invalid": 0,
                               "degenerate": 9}


def test_the_loss_as_written_never_changes():
    """softmax([q]) = exp(q) / exp(q) = 1, so E = -y log 1 = 0 for any parameters."""
    rng = np.random.default_rng(0)
    for form in S.FORMS:
        for act in S.ACTS:
            c = case(form=form, act=act)
            for _ in range(5):
                params = {n: rng.normal(0, 1.5) for n in S.build(c).params}
                assert float(value(c, "o", **params).data[0]) == 1.0
                assert float(value(c, S.AS_WRITTEN, **params).data) == 0.0
            b = Bench(S.build(c), c)
            for P in S.build(c).params:
                assert b.grad(P, of=S.AS_WRITTEN) == 0.0


def test_every_claim_on_the_loss_as_written_is_degenerate(report):
    for v in report.verdicts:
        on_E = not v.claim.label.endswith("[sigmoid]") and v.claim.label != "ds1/ds0 = w"
        assert (v.verdict == "degenerate") == on_E, v.claim.label
        if on_E:
            assert v.uninformative == v.cases


def test_the_derivation_holds_on_a_sigmoid_output(report):
    v = verdicts(report)
    for label in ("dE/du = sum", "dE/du_1", "dE/du_0", "dE/du (final)", "dE/dw (final)",
                  "dL/du (answer)", "dL/dw (answer)", "do/ds1"):
        assert v[label + " [sigmoid]"].verdict == "holds", label
    # and by finite differences, for each activation the question allows (and both forms)
    for form in S.FORMS:
        for act in ("sigmoid", "tanh"):
            c = case(form=form, act=act, y=0)
            b = Bench(S.build(c), c)
            assert S.final_u(S.SIGMOID)(b, None) == pytest.approx(fd(c, "u", S.SIGMOID),
                                                                  rel=1e-7)
            assert S.final_w(S.SIGMOID)(b, None) == pytest.approx(fd(c, "w", S.SIGMOID),
                                                                  rel=1e-7)


def test_the_askers_doubt_about_w1_is_unfounded(report):
    v = verdicts(report)["w1 not in it? [sigmoid]"]
    assert v.verdict == "wrong" and v.corrected_ok
    # by hand: the formula without w_1 differs from the true one by head * (1 - w_1) s_0' x_0
    c = case(act="tanh")
    b = Bench(S.build(c), c)
    w = float(b.v("w"))
    diff = S.final_u(S.SIGMOID)(b, None) - S.gut_u(S.SIGMOID)(b, None)
    expected = S._head(b, S.SIGMOID) * (w - 1) * S.slope(b, 0) * float(b.v("x(0)"))
    assert diff == pytest.approx(expected, rel=1e-12)
    assert abs(diff) > 1e-6


def test_ds1_ds0_is_w_only_without_an_activation(report):
    v = verdicts(report)["ds1/ds0 = w"]
    assert v.verdict == "wrong" and "act = identity" in v.condition
    assert v.why.startswith("missing factor")
    for act, holds in (("identity", True), ("sigmoid", False), ("tanh", False)):
        for form in S.FORMS:
            c = case(act=act, form=form)
            b = Bench(S.build(c), c)
            u, w, k = (float(b.v(n)) if b.has(n) else 0.0 for n in ("u", "w", "k"))
            x1 = float(b.v("x(1)"))
            f = {"identity": lambda z: z, "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
                 "tanh": np.tanh}[act]
            s0, eps = float(b.v("s(0)")), 1e-6
            truth = (f(u * x1 + w * (s0 + eps) + k) - f(u * x1 + w * (s0 - eps) + k)) / (2 * eps)
            assert (abs(w - truth) < 1e-8) == holds
            assert S.slope(b, 1) * w == pytest.approx(truth, rel=1e-7)


def test_per_step_contributions_sum_to_the_shared_gradient():
    views = per_step("002", Case(form="answer", act="tanh", y=1, seed=0))
    for P in "uw":
        assert float(sum(views[f"dE'/d{P}_t"])) == pytest.approx(float(views[f"dE'/d{P}"]),
                                                                 rel=1e-12)
    c = Case(form="answer", act="tanh", y=1, seed=0)
    assert float(views["dE'/du"]) == pytest.approx(fd(c, "u", S.SIGMOID), rel=1e-7)


# ---------------------------------------------------------------------- the write-up
def test_the_write_up_matches_the_tool(report):
    assert_write_up_matches(report, S.SOURCE, "002")


def test_every_holding_claim_can_fail(report):
    assert_every_holding_claim_can_fail(report, S.SOURCE)


def test_a_corrected_formula_on_a_degenerate_loss_is_not_confirmed():
    """judge.py: a corrected form checked where autodiff is 0 in every case cannot be
    confirmed (it used to raise IndexError); the claim itself stays degenerate."""
    gut = next(c for c in S.SOURCE.claims if c.label == "w1 not in it?")
    claim = dataclasses.replace(gut, corrected=S.final_u(S.AS_WRITTEN),
                                corrected_text="keep w_1")
    v = check_source(dataclasses.replace(S.SOURCE, claims=[claim])).verdicts[0]
    assert v.verdict == "degenerate"
    assert not v.corrected_ok and "cannot be confirmed" in v.corrected
