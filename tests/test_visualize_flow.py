"""Gradient flow: per-step contributions and state-gradient norms, checked by other routes.

Goodfellow's W^(t) (Deep Learning 10.2.2) is computed here independently: a forward pass
in which every step uses its own leaf copy of every parameter. Each copy's gradient is
that step's contribution; together they sum to the shared parameter's gradient.
"""
import numpy as np
import pytest

from autograd_mini import Tensor, softmax_cross_entropy
from autograd_mini.models.goodfellow import GoodfellowRNN
from autograd_mini.visualize.flow import gradient_flow

PARAMS = ("U", "W", "V", "b", "c")


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


def test_the_figure_is_written_as_png_and_svg(tmp_path):
    pytest.importorskip("matplotlib")
    from autograd_mini.visualize.plots import plot_flow
    runs = []
    for scale in (0.5, 4.0):
        model, x, y = setup(T=6, H=4, scale=scale)
        run = model.forward(x, y)
        runs.append((f"scale {scale}", gradient_flow(run.loss, last_loss=run.losses[-1])))
    png = plot_flow(runs, tmp_path / "flow.png", title="test")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = plot_flow(runs[:1], tmp_path / "flow.svg")
    text = svg.read_text()
    assert "<svg" in text and "W^(t)" in text
