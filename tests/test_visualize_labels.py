"""Pictures that say what happened: step order, what is red, what the labels name.

Issue 16, items 10-14. The expected order, labels and colours are stated by hand from
the model's code (which step reads which state), never read back from the renderer.
"""
import html
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest

pytest.importorskip("graphviz")

from autograd_mini import Tensor, scope, softmax_cross_entropy  # noqa: E402
from autograd_mini.models.goodfellow import GoodfellowRNN  # noqa: E402
from autograd_mini.visualize import draw, trace  # noqa: E402
from autograd_mini.visualize.style import fill, legend_rows  # noqa: E402

from test_visualize import node_named, node_with, parse  # noqa: E402

HAVE_DOT = shutil.which("dot") is not None
RED = 'color="#b22222"'


def readme_example(T, order=None, seed=0):
    """The README's first example: the loss summed inside scope(), h left unnamed.
    ``order``: the order the steps run in (default 0..T-1)."""
    rng = np.random.default_rng(seed)
    W = Tensor(rng.normal(size=(5, 5)) * 0.3, requires_grad=True, name="W")
    U = Tensor(rng.normal(size=(5, 4)) * 0.3, requires_grad=True, name="U")
    h, loss = Tensor(np.zeros(5)), 0
    for t in (range(T) if order is None else order):
        with scope(f"t={t}"):
            h = (W @ h + U @ Tensor(rng.normal(size=4))).tanh()
            loss = loss + softmax_cross_entropy(h, int(rng.integers(0, 5)))
    return loss


def visible(edges):
    return [(s, d, a) for s, d, a in edges if "style=invis" not in a]


def cluster_order(dot):
    """The step clusters' titles (and the collapsed box) left to right, as dot lays them."""
    svg = subprocess.run(["dot", "-Tsvg"], input=dot.source.encode(), capture_output=True,
                         check=True).stdout
    ns = "{http://www.w3.org/2000/svg}"
    found = []
    for g in ET.fromstring(svg).iter(f"{ns}g"):
        title = "".join(next(g.iter(f"{ns}title")).itertext())
        if g.get("class") == "cluster" or title == "collapsed":
            text = next(g.iter(f"{ns}text"))
            found.append((float(text.get("x")), "".join(text.itertext())))
    return [t for _, t in sorted(found)]


# -- item 10: time order, and red for the recurrence only --------------------------------

def test_steps_are_numbered_in_natural_order_whatever_order_they_ran_in():
    # A backward-direction RNN runs t = 11 .. 0: the steps are still listed 0, 1, 2, ..., 11
    # (first-seen order would give 11, 10, ...; string order 0, 1, 10, 11, 2).
    graph = trace(readme_example(12, order=range(11, -1, -1)))
    assert graph.steps == [f"t={t}" for t in range(12)]
    nodes, _ = parse(draw(readme_example(12, order=range(11, -1, -1))).source)
    clusters = [s[0] for s, _ in nodes.values() if s]
    assert sorted(set(clusters), key=clusters.index) == \
        ["t = 0", "t = 1", "t = 2", "t = 9", "t = 10", "t = 11"]


@pytest.mark.skipif(not HAVE_DOT, reason="needs graphviz's dot program")
@pytest.mark.parametrize("T", [7, 8, 20, 50])
def test_the_readme_example_is_laid_out_in_time_order(T):
    # Issue 16 saw t = 2, 17, 18, ..., 19, 0, 1 for the README's example with T > 6.
    first, last = [0, 1, 2], [T - 3, T - 2, T - 1]
    expected = [f"t = {t}" for t in first] + ["..."] + [f"t = {t}" for t in last]
    for loss in (readme_example(T), readme_example(T, order=range(T - 1, -1, -1))):
        shown = ["..." if s.startswith("...") else s for s in cluster_order(draw(loss))]
        assert shown == expected


@pytest.mark.skipif(not HAVE_DOT, reason="needs graphviz's dot program")
@pytest.mark.parametrize("T, keep", [(5, None), (20, None), (300, None), (9, 4), (9, 2)])
def test_the_textbook_rnn_is_laid_out_in_time_order(T, keep):
    model = GoodfellowRNN.init()
    x, y = GoodfellowRNN.example_data(T=T)
    shown = cluster_order(draw(model.forward(x, y).loss, max_steps=keep))
    steps = [int(s.split("= ")[1]) for s in shown if s.startswith("t = ")]
    assert steps == sorted(steps) and steps[0] == 1 and steps[-1] == T


def test_only_the_recurrence_is_red_not_the_running_sum_of_the_loss():
    # In the README example each step reads h(t-1) once (in W @ h): one red edge per
    # boundary. The loss's running sum also runs from step to step, but only adds.
    T = 5
    nodes, edges = parse(draw(readme_example(T)).source)
    red = [(s, d) for s, d, a in visible(edges) if RED in a]
    assert len(red) == T - 1
    for s, d in red:
        assert nodes[s][1].startswith("tanh") and nodes[d][1].startswith("matvec")
        t0, t1 = (int(nodes[k][0][0].split("= ")[1]) for k in (s, d))
        assert t1 == t0 + 1
    # The running sum is drawn once per step, outside the steps' clusters, in black.
    sums = [k for k, (sc, text) in nodes.items() if text.startswith("add\ng = 1")]
    assert len(sums) == T and all(nodes[k][0] == () for k in sums)
    assert "red edge: the recurrence" in draw(readme_example(T)).source


# -- item 11: the rolled view -------------------------------------------------------------

def skip_rnn(T=12):
    """h(t) = tanh(W h(t-1) + S h(t-2) + U x(t)): a skip from two steps back."""
    rng = np.random.default_rng(1)
    W, S, U = (Tensor(rng.normal(size=s) * 0.3, requires_grad=True, name=n)
               for n, s in (("W", (4, 4)), ("S", (4, 4)), ("U", (4, 3))))
    hs = [Tensor(np.zeros(4), name="h(-1)"), Tensor(np.zeros(4), name="h(0)")]
    loss = None
    for t in range(1, T + 1):
        with scope(f"t={t}"):
            h = (W @ hs[-1] + S @ hs[-2] + U @ Tensor(rng.normal(size=3))).tanh()
            hs.append(h.named(f"h({t})"))
            L = (h * h).sum().named(f"L({t})")
        loss = L if loss is None else loss + L
    return loss.named("L")


def test_rolled_view_labels_a_skip_from_two_steps_back_as_such():
    T = 12
    nodes, edges = parse(draw(skip_rnn(T), rolled=True).source)
    h = node_with(nodes, "h(t)  (4,)")
    node_with(nodes, "S @ h(t-2)  (4,)")            # not "S @ h(10)"
    node_with(nodes, "W @ h(t-1)  (4,)")
    back = {re.search(r"(t-\d) -> t, (\d+) steps?", a).groups()
            for s, d, a in visible(edges) if s == h and RED in a}
    # h(t-1) feeds W @ h from step 2 on (T - 1 uses), h(t-2) feeds S @ h from step 3 on.
    assert back == {("t-1", str(T - 1)), ("t-2", str(T - 2))}
    assert "S @ h(10)" not in draw(skip_rnn(T), rolled=True).source


def test_rolled_view_draws_the_final_loss_once_without_a_self_loop():
    model = GoodfellowRNN.init()
    x, y = GoodfellowRNN.example_data(T=12)
    for loss in (model.forward(x, y).loss, readme_example(12)):
        source = draw(loss, rolled=True).source
        nodes, edges = parse(source)
        assert not [e for e in visible(edges) if e[0] == e[1]]        # no self-loop
        # The loss box: outside the step, its own gradient dL/dL = 1, not 12.
        loss_box = [k for k, (sc, text) in nodes.items() if "loss summed over" in text]
        assert len(loss_box) == 1 and nodes[loss_box[0]][0] == ()
        assert "g = 1\n" in nodes[loss_box[0]][1] + "\n"
        red_into_loss = [a for s, d, a in visible(edges) if d == loss_box[0] and RED in a]
        assert not red_into_loss
        assert "summed over 12 steps" in source


def test_collapsed_uses_are_stated_in_the_box_not_on_overlapping_edge_labels():
    model = GoodfellowRNN.init()
    x, y = GoodfellowRNN.example_data(T=300)
    nodes, edges = parse(draw(model.forward(x, y).loss).source)
    box = node_with(nodes, "... 294 steps ...")
    line = next(t for t in nodes[box][1].split("\n") if "used" in t)
    names, said = line.split(": ")
    assert set(names.split(", ")) == {"U", "W", "V", "b", "c"}
    assert said == "used 294 times each"
    assert not [a for s, d, a in edges if d == box and "used" in a]


# -- item 12: formulas in the operands' names ---------------------------------------------

def test_edge_formulas_name_the_actual_operands():
    model = GoodfellowRNN.init()
    x, y = GoodfellowRNN.example_data(T=3)
    nodes, edges = parse(draw(model.forward(x, y).loss).source)
    w = node_with(nodes, "W  (5, 5)")
    wh2 = node_with(nodes, "W @ h(2)  (5,)")
    into = {a for s, d, a in edges if s == w and d == wh2}
    # matvec's "dA = outer(g, x)" with A = W and x = h(2): dL/dW through step 3 = g h(2)^T
    assert len(into) == 1 and 'xlabel="dW = outer(g, h(2))"' in into.pop()
    h2 = node_with(nodes, "h(2)  (5,)")
    back = {a for s, d, a in edges if s == h2 and d == wh2}
    assert 'xlabel="dh(2) = vecmat(g, W)"' in back.pop()         # g^T W = (W^T g)^T
    # In the rolled view the names are relative to the step.
    source = draw(model.forward(x, y).loss, rolled=True).source
    assert "dW = outer(g, h(t-1))" in source and "dh(t-1) = vecmat(g, W)" in source


# -- item 14: one colour scale for every picture; scalars ---------------------------------

def fills_by_norm(source):
    """[(|g| as printed, fill colour)] for the boxes that print a norm."""
    out = []
    for line in source.splitlines():
        m = re.search(r'fillcolor="(#\w+)".*\|g\| = ([-\d.e+]+)', line) or \
            re.search(r'\|g\| = ([-\d.e+]+).*fillcolor="(#\w+)"', line)
        if m:
            a, b = m.groups()
            colour, norm = (a, b) if a.startswith("#") else (b, a)
            out.append((float(norm), colour))
    return out


def test_the_colour_of_a_gradient_norm_is_the_same_in_every_picture():
    # Issue 16: dark red meant 1-10 at T = 5 and 10-100 at T = 300.
    legend = {words: colour for colour, _, words in legend_rows()}
    pictures = []
    for T, H in ((5, 5), (300, 32)):
        model = GoodfellowRNN.init(H=H, scale=4.0 if T == 300 else 0.5)
        x, y = GoodfellowRNN.example_data(T=T)
        pictures.append(draw(model.forward(x, y).loss).source)
    seen = {}
    for source in pictures:
        for words, colour in legend.items():
            assert html.escape(words) in source      # the whole scale, on every picture
        for norm, colour in fills_by_norm(source):
            k = int(np.floor(np.log10(norm)))
            # the decade by hand: 1e(k) <= |g| < 1e(k+1)
            words = (f"|g| >= 1e+1" if k >= 1 else "|g| < 1e-6" if k < -6
                     else f"1e{k:+d} <= |g| < 1e{k + 1:+d}")
            assert colour == legend[words], (norm, colour)
            seen.setdefault(words, set()).add(colour)
    assert all(len(c) == 1 for c in seen.values()) and len(seen) >= 3
    assert fill(5.0) == fill(9.9)


def test_scalar_boxes_show_no_empty_shape():
    source = draw(readme_example(3)).source
    nodes, _ = parse(source)
    assert not [t for _, t in nodes.values() if "()" in t]
    model = GoodfellowRNN.init()
    x, y = GoodfellowRNN.example_data(T=3)
    nodes, _ = parse(draw(model.forward(x, y).loss).source)
    node_named(nodes, "L(1)")
    assert not [t for _, t in nodes.values() if "()" in t]


# -- item 13: the LSTM and GRU pictures ---------------------------------------------------

@pytest.mark.parametrize("model, gates", [
    ("lstm", ["forget gate", "input gate", "output gate", "candidate", "cell"]),
    ("gru", ["reset gate", "update gate", "candidate"])])
def test_cell_pictures_name_their_gates_and_print_no_negative_zero(model, gates, tmp_path):
    from autograd_mini.cli import main
    out = tmp_path / f"{model}.dot"
    assert main(["render", model, "--steps", "3", "-o", str(out)]) == 0
    nodes, edges = parse(out.read_text())
    for gate in gates:                   # one box per step, named by the cell's code
        boxes = [k for k, (_, text) in nodes.items() if f"\n{gate}  (5,)" in f"\n{text}"]
        assert len(boxes) == 3, gate
    assert not [t for _, t in nodes.values() if re.search(r"(?<![\d.e])-0(?![.\d])", t)]
    # The forget gate's gradient at t = 1 is g * c(0) = 0 exactly: "0", never "-0".
    if model == "lstm":
        first = next(t for (sc, t) in nodes.values() if sc == ("t = 1",) and "forget gate" in t)
        assert "g = [0, 0, 0," in first
    # The slices of the fused pre-activations share one formula label per step.
    scatter = [a for _, _, a in edges if "scatter_add" in a]
    assert len(scatter) == 3 * (1 if model == "lstm" else 2)
    assert all("(x" in a for a in scatter)


@pytest.mark.skipif(not HAVE_DOT, reason="needs graphviz's dot program")
@pytest.mark.parametrize("model", ["lstm", "gru"])
def test_a_three_step_cell_picture_is_at_most_2500_pixels_wide(model, tmp_path):
    from autograd_mini.cli import main
    out = tmp_path / f"{model}.svg"
    assert main(["render", model, "--steps", "3", "-o", str(out)]) == 0
    width = ET.parse(out).getroot().get("width")
    assert width.endswith("pt")
    pixels = float(width[:-2]) * 96 / 72        # what a .png of it measures
    assert pixels <= 2500, pixels
