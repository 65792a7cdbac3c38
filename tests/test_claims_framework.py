"""The verdict machinery (models/verdicts) on made-up claims whose verdict we know for a
reason stated independently of the tool: each test checks that reason by hand too."""
import json

import numpy as np
import pytest

from autograd_mini import Tensor, register, unregister
from autograd_mini.errors import ShapeError
from autograd_mini.models.claims import cli as check_cli
from autograd_mini.models.claims.book import textbook_network
from autograd_mini.models.goodfellow import GoodfellowRNN
from autograd_mini.models.probe import Probe
from autograd_mini.models.claims.framework import (Bench, Case, Claim, Condition, Network, Source,
                                     check_source, grid, mm)
from autograd_mini.models.claims.framework.report import records, table


def source(claims, build=textbook_network, **kw):
    kw.setdefault("base", dict(D=2, H=2, C=2, T=3, seed=0))
    kw.setdefault("vary", dict(H=[1, 3], T=[1, 2, 5], seed=[1]))
    kw.setdefault("random_cases", 4)
    return Source("test", "made-up claims", "none.txt", build, claims, **kw)


def verdict(src, label):
    report = check_source(src)
    assert report.fd_ok, table(report)
    return next(v for v in report.verdicts if v.claim.label == label)


def model_grads(case):
    """Autodiff gradients of the textbook RNN at ``case``, by plain backward (no bench)."""
    m = GoodfellowRNN.init(D=case.D, H=case.H, C=case.C, seed=case.seed)
    x, y = GoodfellowRNN.example_data(T=case.T, D=case.D, C=case.C, seed=case.seed)
    run = m.forward(x, y)
    run.loss.backward()
    return m, run


def delta(b, t):
    h = b.v(f"h({t})")
    return (1 - h ** 2) * b.grad(f"h({t})")


def h_prev(b, t):
    return b.v(f"h({t - 1})") if t > 1 else np.zeros(b.case.H)


# ---------------------------------------------------------------------- holds-if H = 1
def dW_elementwise(b, t):
    """A learner's scalar-RNN habit carried to vectors: delta * h(t-1), on the diagonal."""
    return sum(np.diag(delta(b, s) * h_prev(b, s)) for s in range(1, b.T + 1))


def dW_outer(b, t):
    return sum(np.outer(delta(b, s), h_prev(b, s)) for s in range(1, b.T + 1))


HOLDS_IF_H1 = Claim("dW diag", "dL/dW = sum_t diag(delta(t) * h(t-1))", dW_elementwise,
                    lambda b, t: b.grad("W"), "dL/dW by autodiff",
                    corrected=dW_outer, corrected_text="sum_t delta(t) h(t-1)^T")


def test_a_claim_true_only_for_hidden_size_1_is_wrong_and_names_where_it_agrees():
    v = verdict(source([HOLDS_IF_H1]), "dW diag")
    assert v.verdict == "wrong"             # H = 1 is a coincidence, not an assumption
    assert v.condition.startswith("agrees only when H = 1")
    assert v.max_rel_err < 1e-12 and v.max_rel_err_outside > 1e-3
    # named as an assumption, the same agreement is holds-if
    assumed = source([HOLDS_IF_H1], conditions=[
        Condition("one hidden unit", lambda c, t: c.H == 1, assumption=True)])
    v2 = verdict(assumed, "dW diag")
    assert v2.verdict == "holds-if" and v2.condition.startswith("only when one hidden unit")
    assert "holds" in v.corrected and v.corrected_ok
    # The reason, by hand: with H = 1 the outer product is the diagonal; with H = 2 the
    # off-diagonal entries of dL/dW are not zero, and the formula has only zeros there.
    for H, same in ((1, True), (2, False)):
        case = Case(D=2, H=H, C=2, T=3, seed=0)
        m, run = model_grads(case)
        hs = [np.zeros(H)] + [h.data for h in run.h]
        deltas = [(1 - h.data ** 2) * h.grad for h in run.h]
        formula = sum(np.diag(d * hp) for d, hp in zip(deltas, hs))
        assert np.allclose(formula, m.W.grad, rtol=1e-12, atol=0) == same
        if not same:
            off = m.W.grad - np.diag(np.diag(m.W.grad))
            assert np.abs(off).max() > 1e-3


# ---------------------------------------------------------------------- a sign error
SIGN_ERROR = Claim("dc sign", "dL/dc = -sum_t dL/do(t)",
                   lambda b, t: -sum(b.grad(f"o({s})") for s in range(1, b.T + 1)),
                   lambda b, t: b.grad("c"), "dL/dc by autodiff")


def test_a_sign_error_is_found_as_exactly_the_negative():
    v = verdict(source([SIGN_ERROR]), "dc sign")
    assert v.verdict == "wrong"
    assert v.why.startswith("sign: the formula is minus the true value")
    assert v.max_rel_err == pytest.approx(2, rel=1e-9)
    # by hand: dL/dc is the sum of dL/do(t) = yhat(t) - onehot(y(t)), from the forward values
    case = Case(**v.counterexample["case"])
    m, run = model_grads(case)
    x, y = GoodfellowRNN.example_data(T=case.T, D=case.D, C=case.C, seed=case.seed)
    by_hand = sum(p - np.eye(case.C)[k] for p, k in zip(run.yhat, y))
    np.testing.assert_allclose(m.c.grad, by_hand, rtol=1e-12)
    np.testing.assert_allclose(v.counterexample["claimed"], -by_hand, rtol=1e-12)
    np.testing.assert_allclose(v.counterexample["autodiff"], by_hand, rtol=1e-12)


# ---------------------------------------------------------------------- invalid
def V_times_grad_o(b, t):
    """V grad_o(t): V is C x H, grad_o(t) a column of C entries."""
    return mm(("V", b.v("V")), ("grad_o(t) L", b.grad(f"o({t})")))


INVALID = Claim("V grad_o", "dL/dh(tau) = V grad_o(tau) L", V_times_grad_o,
                lambda b, t: b.grad(f"h({t})"), "dL/dh(tau) by autodiff", steps="last")


def test_an_undefined_product_is_invalid_and_names_the_shapes():
    src = source([INVALID], base=dict(D=4, H=5, C=3, T=3, seed=0), vary=dict(H=[1, 3]))
    v = verdict(src, "V grad_o")
    assert v.verdict == "invalid"
    assert "(3, 5)" in v.why and "(3, 1)" in v.why
    assert "defined only when C = H" in v.condition or "defined only when H = 3" in v.condition
    # the reason, by hand: a (3, 5) matrix times a (3, 1) column is undefined
    with pytest.raises(ShapeError, match=r"V \(3, 5\) times grad_o\(t\) L \(3, 1\)"):
        mm(("V", np.ones((3, 5))), ("grad_o(t) L", np.ones(3)))
    with pytest.raises(ValueError):
        np.ones((3, 5)) @ np.ones((3, 1))


def test_mm_treats_vectors_as_columns_so_row_times_matrix_is_caught():
    assert mm(("A", np.eye(2)), ("x", np.array([1.0, 2.0]))).shape == (2, 1)
    with pytest.raises(ShapeError):
        mm(("x", np.array([1.0, 2.0])), ("A", np.eye(2)))


# ---------------------------------------------------------------------- degenerate
def constant_loss_network(case):
    """A softmax over a single number: yhat = 1 whatever h is, so L = 0 and every gradient
    vanishes. Any formula 'agrees' with zero gradients; the tool must not say holds."""
    rng = np.random.default_rng(case.seed)
    params = {"W": rng.normal(size=(case.H, case.H)), "V": rng.normal(size=(1, case.H))}
    x = rng.normal(size=(case.T, case.H))

    def forward(p, probe):
        h, L = Tensor(np.zeros(case.H)), 0
        for t in range(1, case.T + 1):
            h = probe(f"h({t})", (p["W"] @ h + Tensor(x[t - 1])).tanh())
            yhat = probe(f"yhat({t})", (p["V"] @ h).softmax())
            L = L + probe(f"L({t})", -yhat.log().sum())
        return L
    return Network(params, forward)


def test_a_loss_that_never_changes_makes_every_claim_degenerate():
    anything = Claim("zeros", "dL/dV = 0 (true, and meaningless)",
                     lambda b, t: np.zeros_like(b.v("V")), lambda b, t: b.grad("V"),
                     "dL/dV by autodiff")
    v = verdict(source([anything], build=constant_loss_network), "zeros")
    assert v.verdict == "degenerate"
    assert "means nothing" in v.why
    # the reason, by hand: the loss does not move when V moves
    net = constant_loss_network(Case(D=2, H=2, C=1, T=3, seed=0))
    for scale in (0.0, 1.0, 10.0):
        p = {n: Tensor(a * (1 + scale)) for n, a in net.params.items()}
        assert net.forward(p, Probe()).item() == 0.0


# ---------------------------------------------------------------------- wrong
TWICE = Claim("dV twice", "dL/dV = 2 sum_t grad_o(t) h(t)^T",
              lambda b, t: 2 * sum(np.outer(b.grad(f"o({s})"), b.v(f"h({s})"))
                                   for s in range(1, b.T + 1)),
              lambda b, t: b.grad("V"), "dL/dV by autodiff",
              corrected=lambda b, t: sum(np.outer(b.grad(f"o({s})"), b.v(f"h({s})"))
                                         for s in range(1, b.T + 1)),
              corrected_text="sum_t grad_o(t) h(t)^T")


def test_a_wrong_formula_gets_the_clearest_counterexample_and_a_checked_correction():
    src = source([TWICE])
    v = verdict(src, "dV twice")
    assert v.verdict == "wrong" and v.why.startswith("constant factor: the formula is 2 ")
    assert Case(**v.counterexample["case"]).magnitude() == min(c.magnitude() for c in grid(src))
    assert "(rel err 1)" in v.counterexample["text"]            # 2x misses x by |x|
    smallest = Case(**v.counterexample["case"])
    # by hand: the formula is exactly twice the gradient, at the counter-example
    m, _ = model_grads(smallest)
    np.testing.assert_allclose(v.counterexample["autodiff"], m.V.grad, rtol=1e-12)
    np.testing.assert_allclose(v.counterexample["claimed"], 2 * m.V.grad, rtol=1e-12)
    assert v.corrected_ok and "[checked: holds" in v.corrected


def test_a_correction_that_does_not_hold_is_reported_as_such():
    bad = Claim("dV twice", TWICE.statement, TWICE.claimed, TWICE.actual, TWICE.actual_text,
                corrected=TWICE.claimed, corrected_text="still twice")
    v = verdict(source([bad]), "dV twice")
    assert not v.corrected_ok and "DOES NOT HOLD" in v.corrected


# ---------------------------------------------------------------------- benches
def test_bench_gradients_match_retain_grad_and_per_step_copies_sum_to_shared():
    case = Case(D=3, H=4, C=3, T=6, seed=5)
    b = Bench(textbook_network(case), case)
    m, run = model_grads(case)
    for t in range(1, 7):
        np.testing.assert_allclose(b.grad(f"h({t})"), run.h[t - 1].grad, rtol=1e-13)
        np.testing.assert_allclose(b.grad(f"o({t})"), run.o[t - 1].grad, rtol=1e-13)
    for n in GoodfellowRNN.PARAMS:
        np.testing.assert_allclose(b.grad(n), getattr(m, n).grad, rtol=1e-13)
        np.testing.assert_allclose(sum(b.grad(f"{n}({t})") for t in range(1, 7)),
                                   getattr(m, n).grad, rtol=1e-12, atol=1e-15)
    assert all(c.ok for c in b.fd_checks())


def test_per_step_copy_gradient_matches_finite_differences_on_a_numpy_forward():
    """An independent route: a NumPy forward with W perturbed at step 3 only."""
    D, H, C, T = 3, 4, 3, 5
    m = GoodfellowRNN.init(D=D, H=H, C=C, seed=2)
    x, y = GoodfellowRNN.example_data(T=T, D=D, C=C, seed=2)
    U, W, V, bb, c = (getattr(m, n).data for n in GoodfellowRNN.PARAMS)

    def loss(dW3):
        h, L = np.zeros(H), 0.0
        for t in range(1, T + 1):
            h = np.tanh(bb + (W + dW3 if t == 3 else W) @ h + U @ x[t - 1])
            o = c + V @ h
            L += np.log(np.exp(o).sum()) - o[y[t - 1]]
        return L
    eps, fd = 1e-6, np.zeros((H, H))
    for i in range(H):
        for j in range(H):
            e = np.zeros((H, H))
            e[i, j] = eps
            fd[i, j] = (loss(e) - loss(-e)) / (2 * eps)
    per_step = m.per_step_gradients(x, y)
    np.testing.assert_allclose(per_step["W"][2], fd, rtol=1e-6, atol=1e-9)
    assert m.W.grad is None              # the model's own gradients are left alone


def test_a_wrong_vjp_in_the_engine_is_caught_by_finite_differences_and_fails_the_cli(
        monkeypatch, capsys):
    bad = register("bad_tanh", np.tanh, vjp={"x": "g * (1 - out)"})    # wrong on purpose
    try:
        def network(case):
            net = textbook_network(case)
            rng = np.random.default_rng(0)
            xs = rng.normal(size=(case.T, case.H))

            def forward(p, probe):
                from autograd_mini import apply
                h, L = Tensor(np.zeros(case.H)), 0
                for t in range(1, case.T + 1):
                    h = probe(f"h({t})", apply(bad, p["W"] @ h + Tensor(xs[t - 1])))
                    L = L + probe(f"L({t})", (h * h).sum())
                return L
            return Network({"W": net.params["W"]}, forward)
        claim = Claim("dh", "anything", lambda b, t: b.grad(f"h({t})"),
                      lambda b, t: b.grad(f"h({t})"), "dL/dh(t)", steps="each")
        src = source([claim], build=network)
        report = check_source(src)
        assert not report.fd_ok
        assert "FAIL" in table(report)
        monkeypatch.setattr(check_cli, "load", lambda name: src)
        args = check_cli_args(source="test")
        assert check_cli.run(args) == 1
        assert "DISAGREES" in capsys.readouterr().err
    finally:
        unregister("bad_tanh")


# ---------------------------------------------------------------------- grid and CLI
def test_the_grid_has_the_sources_sizes_and_lengths_1_2_5_20():
    src = source([], base=dict(D=4, H=5, C=3, T=5, seed=0),
                 vary=dict(H=[1, 2], T=[1, 2, 5, 20], seed=[1, 2]))
    cases = grid(src)
    assert cases[0] == Case(D=4, H=5, C=3, T=5, seed=0)
    assert {c.T for c in cases} == {1, 2, 5, 20}
    assert {c.H for c in cases} == {1, 2, 5}
    assert {c.seed for c in cases} == {0, 1, 2}
    only = grid(src, {"T": [3], "H": [2]})
    assert {c.T for c in only} == {3} and {c.H for c in only} == {2}
    with pytest.raises(ValueError, match="no axis"):
        grid(src, {"Q": [1]})


def check_cli_args(**kw):
    import argparse
    p = argparse.ArgumentParser()
    check_cli.add_arguments(p)
    argv = [kw.pop("source")] if "source" in kw else []
    for k, v in kw.items():
        argv += [f"--{k}"] + ([] if v is True else [str(x) for x in np.atleast_1d(v)])
    return p.parse_args(argv)


def test_cli_json_has_the_contract_keys(capsys):
    assert check_cli.run(check_cli_args(source="000", json=True, steps=[1, 2])) == 0
    data = json.loads(capsys.readouterr().out)
    keys = {"source", "claim", "statement", "verdict", "condition", "max_rel_err",
            "counterexample", "corrected", "why", "max_rel_err_outside", "source_line",
            "formula_tex", "reproduce"}
    assert data and all(keys <= set(r) for r in data)
    assert all(r["verdict"] == "holds" or r["condition"] for r in data)


def test_cli_accepts_a_file_name_and_rejects_unknown_sources(capsys):
    assert check_cli.run(check_cli_args(source="003_f7207cfa089aaafe.txt", hidden=2,
                                        steps=3, seed=4)) == 0
    out = capsys.readouterr().out
    assert "source 003" in out and "H in {2}" in out and "T in {3}" in out
    assert "per step" in out and "|sum - shared|" in out
    assert check_cli.run(check_cli_args(source="999")) == 2
    assert "unknown source" in capsys.readouterr().err
    assert check_cli.run(check_cli_args()) == 2


def test_records_are_json_ready():
    report = check_source(source([TWICE, SIGN_ERROR]))
    json.dumps(records([report]))


# ---------------------------------------------------------------------- checks that can fail
@pytest.mark.parametrize("module", ["autograd_mini.models.claims.book", "autograd_mini.models.claims.source_003",
                                    "autograd_mini.models.claims.source_000"])
def test_every_claim_that_holds_stops_holding_when_nudged_by_one_part_in_a_million(module):
    """A verdict of 'holds' is worth something only if a slightly wrong formula would not
    get it: scale each formula by (1 + 1e-6) and the verdict must change."""
    import dataclasses
    import importlib

    from autograd_mini.models.claims.framework.judge import judge
    src = importlib.import_module(module).SOURCE
    benches = [Bench(src.build(c), c, seed=i) for i, c in enumerate(grid(src))]
    nudged = 0
    for claim in src.claims:
        if judge(src, claim, benches).verdict != "holds":
            continue
        off = dataclasses.replace(claim, claimed=lambda b, t, f=claim.claimed:
                                  np.asarray(f(b, t)) * (1 + 1e-6))
        assert judge(src, off, benches).verdict != "holds", claim.label
        nudged += 1
    assert nudged >= 9


def test_source_names_resolve():
    from autograd_mini.models.claims.framework import resolve
    assert resolve("0") == "000" and resolve("3") == "003"
    assert resolve("/work/shared/sources/003_f7207cfa089aaafe.txt") == "003"
    assert resolve("Goodfellow") == "book"
    with pytest.raises(LookupError):
        resolve("005")


def test_check_all_json_gives_every_claim_a_verdict_and_a_reason(capsys):
    assert check_cli.run(check_cli_args(all=True, json=True, steps=[1, 5], seed=0)) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"000", "003", "book"} <= {r["source"] for r in data}
    for r in data:
        assert r["statement"] and r["verdict"] in ("holds", "holds-if", "wrong", "invalid",
                                                   "degenerate")
        if r["verdict"] != "holds":
            assert r["condition"] or r["counterexample"], r["claim"]
        if r["verdict"] == "wrong":
            assert r["counterexample"] and r["corrected"], r["claim"]


def test_noise_is_wrong_not_a_spurious_condition():
    """A formula off by random noise in every case must not be explained by any
    condition: no axis value separates 'agrees' from 'differs' when nothing agrees."""
    noisy = Claim("noisy", "dL/dV + noise",
                  lambda b, t: b.grad("V") + 1e-3 * np.random.default_rng(
                      hash(b.case) % 2**32).standard_normal(b.v("V").shape),
                  lambda b, t: b.grad("V"), "dL/dV by autodiff")
    v = verdict(source([noisy]), "noisy")
    assert v.verdict == "wrong" and v.condition.startswith("differs in all")
    assert v.why.startswith("not a sign, transpose or constant-factor error")


def test_separate_finds_single_and_joint_conditions():
    from autograd_mini.models.claims.framework.conditions import candidates, separate
    src = source([])
    cases = grid(src)
    preds = candidates(src, cases, with_steps=False)
    good = [(c, None) for c in cases if c.H == 1]
    bad = [(c, None) for c in cases if c.H != 1]
    assert separate(good, bad, preds).text == "H = 1"
    good = [(c, None) for c in cases if c.H == 1 and c.T <= 2]
    bad = [(c, None) for c in cases if not (c.H == 1 and c.T <= 2)]
    found = separate(good, bad, preds)
    assert found is not None and all(found(c, t) for c, t in good)
    assert not any(found(c, t) for c, t in bad)
    assert separate([], bad, preds) is None


def test_cases_where_autodiff_is_zero_are_skipped_not_counted_as_agreement():
    """dL/dW at T = 1 is exactly zero (W multiplies h(0) = 0): those cases must not
    confirm a formula, but the others still can."""
    report = check_source(source([Claim("W copies", "dL/dW^(t) = delta(t) h(t-1)^T",
                                        lambda b, t: np.outer(delta(b, t), h_prev(b, t)),
                                        lambda b, t: b.grad(f"W({t})"), "dL/dW^(t)",
                                        steps="each")]))
    v = report.verdicts[0]
    assert v.verdict == "holds"
    first_steps = sum(1 for o in v.observations if o.t == 1)
    assert v.uninformative == first_steps > 0
    assert "skipped" in table(report)
