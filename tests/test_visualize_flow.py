"""Gradient flow: per-step contributions and state-gradient norms, checked by other routes.

Goodfellow's W^(t) (Deep Learning 10.2.2) is computed here independently: a forward pass
in which every step uses its own leaf copy of every parameter. Each copy's gradient is
that step's contribution; together they sum to the shared parameter's gradient.
"""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograd_mini import Tensor, scope, softmax_cross_entropy
from autograd_mini.models.goodfellow import GoodfellowRNN
from autograd_mini.visualize.flow import gradient_flow

PARAMS = ("U", "W", "V", "b", "c")
ROOT = Path(__file__).resolve().parents[1]


def setup(T=6, H=5, scale=0.5, seed=0):
    model = GoodfellowRNN.init(D=4, H=H, C=3, seed=seed, scale=scale)
    x, y = GoodfellowRNN.example_data(T=T, D=4, C=3, seed=seed)
    return model, x, y


def per_step_copies(model, x, y):
    """{name: [the step-t copy of that parameter, after backward]}, t = 1..T."""
    copies = {n: [] for n in PARAMS}
    h = Tensor(np.zeros(model.W.shape[0]))
    loss = None
    for t in range(len(x)):
        P = {n: Tensor(getattr(model, n).data.copy(), requires_grad=True) for n in PARAMS}
        for n in PARAMS:
            copies[n].append(P[n])
        h = (P["b"] + P["W"] @ h + P["U"] @ Tensor(x[t])).tanh()
        L = softmax_cross_entropy(P["c"] + P["V"] @ h, int(y[t]))
        loss = L if loss is None else loss + L
    loss.backward()
    return copies


def test_per_step_contributions_equal_the_gradients_of_per_step_copies():
    model, x, y = setup(T=6)
    flow = gradient_flow(model.forward(x, y).loss)
    copies = per_step_copies(model, x, y)
    run = model.forward(x, y)
    run.loss.backward()
    assert flow.steps == [f"t={t}" for t in range(1, 7)]
    assert flow.params == ["W", "b", "U", "V", "c"]     # order of first use in a(1), o(1)
    for i, name in enumerate(flow.params):
        for t in range(6):
            mine = flow.per_step[(name, f"t={t + 1}")]
            np.testing.assert_allclose(mine, copies[name][t].grad, rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(flow.contrib[i, t], np.linalg.norm(copies[name][t].grad),
                                       rtol=1e-10)
        # ... and the copies' gradients add up to the shared parameter's gradient (BPTT)
        shared = getattr(model, name).grad
        np.testing.assert_allclose(sum(c.grad for c in copies[name]), shared, rtol=1e-10)
        np.testing.assert_allclose(flow.grads[name], shared, rtol=1e-10)


def test_state_norms_match_retained_gradients_for_the_total_and_the_last_loss():
    model, x, y = setup(T=6)
    run = model.forward(x, y)
    flow = gradient_flow(run.loss, last_loss=run.losses[-1])
    assert model.W.grad is None          # gradient_flow leaves every .grad alone
    total = model.forward(x, y)
    total.loss.backward()
    np.testing.assert_allclose(flow.state_norms, [np.linalg.norm(h.grad) for h in total.h],
                               rtol=1e-10)
    last = model.forward(x, y)
    last.losses[-1].backward()
    # Every h(t) is upstream of L(T), so each has a gradient from the last loss alone.
    np.testing.assert_allclose(flow.last_norms, [np.linalg.norm(h.grad) for h in last.h],
                               rtol=1e-10)


@pytest.mark.parametrize("scale, vanishes", [(0.5, True), (4.0, False)])
def test_the_two_demo_runs_really_vanish_and_explode_over_fifty_steps(scale, vanishes):
    # The README's figure claims this; check the claim, not the picture.
    model, x, y = setup(T=50, H=32, scale=scale)
    run = model.forward(x, y)
    flow = gradient_flow(run.loss, last_loss=run.losses[-1])
    ratio = flow.last_norms[0] / flow.last_norms[-1]    # |dL(T)/dh(1)| / |dL(T)/dh(T)|
    if vanishes:
        assert ratio < 1e-6
    else:
        assert ratio > 1e2


def test_a_freed_graph_is_a_clear_error():
    model, x, y = setup(T=3)
    run = model.forward(x, y)
    run.loss.backward()
    with pytest.raises(ValueError, match="retain_graph=True"):
        gradient_flow(run.loss)


def test_the_figure_is_returned_and_saved_as_png_and_svg(tmp_path):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from autograd_mini.visualize.plots import plot_flow
    runs = []
    for scale in (0.5, 4.0):
        model, x, y = setup(T=6, H=4, scale=scale)
        run = model.forward(x, y)
        runs.append((f"scale {scale}", gradient_flow(run.loss, last_loss=run.losses[-1])))
    fig = plot_flow(runs, title="test")
    assert isinstance(fig, Figure) and len(fig.axes) == 2 * 2 + 2     # + the colour bars
    fig.savefig(tmp_path / "flow.png")
    assert (tmp_path / "flow.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plot_flow(runs[:1], tmp_path / "flow.svg")
    text = (tmp_path / "flow.svg").read_text()
    assert "<svg" in text and "W^(t)" in text


def test_plot_flow_leaves_the_users_matplotlib_backend_and_pyplot_alone():
    # Issue 16: plot_flow called matplotlib.use("Agg"), so in a notebook every later
    # plt.show() showed nothing. Run in a fresh process with another backend chosen.
    pytest.importorskip("matplotlib")
    code = """
import sys, matplotlib
matplotlib.use("svg")
from autograd_mini.models.goodfellow import GoodfellowRNN
from autograd_mini.visualize.flow import gradient_flow
from autograd_mini.visualize.plots import plot_flow
model = GoodfellowRNN.init(); x, y = GoodfellowRNN.example_data(T=4)
fig = plot_flow([("run", gradient_flow(model.forward(x, y).loss))])
print(matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules, type(fig).__name__)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.split()
    assert out == ["svg", "False", "Figure"]


def test_unnamed_states_are_an_error_that_says_what_to_name():
    # The README's first example names nothing: issue 16 got NaN norms, silently.
    rng = np.random.default_rng(0)
    W = Tensor(rng.normal(size=(3, 3)) * 0.5, requires_grad=True, name="W")
    h, loss = Tensor(np.zeros(3)), 0
    for t in range(4):
        with scope(f"t={t}"):
            h = (W @ h + Tensor(rng.normal(size=3))).tanh()
            loss = loss + (h * h).sum()
    with pytest.raises(ValueError, match=r'no tensor named h\(\.\.\.\).*\.named\(f"h\(\{t\}\)"\)'):
        gradient_flow(loss)
    with pytest.raises(ValueError, match="scope"):
        gradient_flow(((W @ Tensor(np.ones(3))).tanh()).sum())


def test_any_model_works_named_its_own_way_with_per_step_contributions_that_sum_up():
    # An LSTM whose state is called s(t), with two unnamed parameters: W^(t) for each
    # parameter, checked against per-step copies of the parameters (another route).
    from autograd_mini.models.cells import LSTM
    cell = LSTM.init(D=3, H=2, seed=1)
    rng = np.random.default_rng(2)
    xs = rng.normal(size=(4, 3))
    A, B = (rng.normal(size=(2, 2)) for _ in range(2))

    def run(copies=None):
        P = copies or {}
        a = P.get("A") or Tensor(A, requires_grad=True)           # unnamed
        b = P.get("B") or Tensor(B, requires_grad=True)           # unnamed
        state, loss, used = cell.initial_state(), None, []
        for t in range(1, 5):
            with scope(f"step {t}"):
                if copies is not None:
                    a, b = (Tensor(M.copy(), requires_grad=True) for M in (A, B))
                    used.append((a, b))
                h, state = cell.step(Tensor(xs[t - 1]), state)
                s = (h @ a @ b).named(f"s({t})")
                L = (s * s).sum()
            loss = L if loss is None else loss + L
        return loss, used

    loss, _ = run()
    flow = gradient_flow(loss, state="s")
    assert flow.steps == [f"step {t}" for t in range(1, 5)]
    assert flow.params[:2] == ["W_x", "W_h"] and {"leaf 3", "leaf 4"} <= set(flow.params)
    assert np.all(np.isfinite(flow.state_norms))
    copy_loss, used = run(copies={})
    copy_loss.backward()
    a_name, b_name = (n for n in flow.params if n.startswith("leaf"))
    for t, (a, b) in enumerate(used, start=1):
        np.testing.assert_allclose(flow.per_step[(a_name, f"step {t}")], a.grad, rtol=1e-10)
        np.testing.assert_allclose(flow.per_step[(b_name, f"step {t}")], b.grad, rtol=1e-10)


def test_two_parameters_with_one_name_are_kept_apart():
    W1 = Tensor(np.eye(2) * 0.5, requires_grad=True, name="W")
    W2 = Tensor(np.eye(2) * 2.0, requires_grad=True, name="W")
    h, loss = Tensor(np.ones(2)), None
    for t in (1, 2):
        with scope(f"t={t}"):
            h = (W2 @ (W1 @ h)).named(f"h({t})")
            L = h.sum()
        loss = L if loss is None else loss + L
    flow = gradient_flow(loss)
    assert flow.params == ["W", "W#2"]
    loss.backward()
    np.testing.assert_allclose(flow.grads["W"], W1.grad)
    np.testing.assert_allclose(flow.grads["W#2"], W2.grad)


def test_state_none_gives_the_per_step_contributions_without_a_named_state():
    model, x, y = setup(T=3)
    run = model.forward(x, y)
    flow = gradient_flow(run.loss, state=None)
    assert np.all(np.isnan(flow.state_norms)) and flow.state is None
    copies = per_step_copies(model, x, y)
    np.testing.assert_allclose(flow.per_step[("W", "t=2")], copies["W"][1].grad, rtol=1e-10)
