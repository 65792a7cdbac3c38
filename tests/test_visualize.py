"""visualize.draw: the DOT text of the unrolled graph (no `dot` program needed here).

Expected gradients come from another route than the renderer's own backward: the
retain_grad() tensors of a normal backward, and central finite differences.
"""
import html
import re

import numpy as np
import pytest

pytest.importorskip("graphviz")

from autograd_mini import Tensor, no_grad  # noqa: E402
from autograd_mini.models.goodfellow import GoodfellowRNN  # noqa: E402
from autograd_mini.visualize import draw, trace  # noqa: E402

PARAMS = ("U", "W", "V", "b", "c")


def rnn(T=5, H=5, seed=0):
    model = GoodfellowRNN.init(D=4, H=H, C=3, seed=seed)
    x, y = GoodfellowRNN.example_data(T=T, D=4, C=3, seed=seed)
    return model, x, y


def parse(source):
    """The DOT text as {node id: (cluster labels, label text)} and [(src, dst, attrs)],
    each edge in the direction its arrow shows (dir=back turns it round)."""
    nodes, edges, stack = {}, [], []
    for line in source.splitlines():
        s = line.strip()
        if s.startswith("subgraph cluster_"):
            stack.append("?")
        elif s == "{" or (s.startswith("subgraph") and s.endswith("{")):
            stack.append(None)          # an anonymous subgraph (a rank row): no cluster
        elif s == "}":
            if not stack:
                break                   # the end of the digraph
            stack.pop()
        elif stack and stack[-1] == "?" and "label=" in s and "[" not in s:
            m = re.search(r'label=(?:"([^"]*)"|(\S+))', s)             # the cluster's label
            stack[-1] = m.group(1) or m.group(2)
        else:
            m = re.match(r"^(\w+) -> (\w+)(?: \[(.*)\])?$", s)
            if m:
                src, dst, attrs = m.group(1), m.group(2), m.group(3) or ""
                if "dir=back" in attrs:         # drawn as dst <- src: the data flows back
                    src, dst = dst, src
                edges.append((src, dst, attrs))
                continue
            m = re.match(r"^(\w+) \[label=<(.*)>( [^<>]*)?\]$", s)
            if m:
                text = html.unescape(re.sub(r"<BR/>", "\n", m.group(2)))
                text = re.sub(r"<[^>]+>", "", text)
                nodes[m.group(1)] = (tuple(c for c in stack if c), text)
    return nodes, edges


def node_with(nodes, first_line_part):
    """The one node whose text has a line containing ``first_line_part``."""
    hits = [k for k, (_, text) in nodes.items()
            if any(line.startswith(first_line_part) for line in text.split("\n"))]
    assert len(hits) == 1, (first_line_part, hits)
    return hits[0]


def node_named(nodes, line):
    """The one node with a line that is exactly ``line`` (a scalar shows no shape)."""
    hits = [k for k, (_, text) in nodes.items() if line in text.split("\n")]
    assert len(hits) == 1, (line, hits)
    return hits[0]


def numbers_after(text, key):
    """The numbers on the lines from the one starting with ``key`` (g = [a, b, ... ])."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(key))
    chunk = " ".join(lines[start:start + 2])
    chunk = chunk[len(key):chunk.index("]") + 1] if "]" in chunk else chunk[len(key):]
    return [float(v) for v in re.findall(r"-?\d+\.?\d*(?:e[-+]\d+)?", chunk)]


def test_one_cluster_per_step_in_time_order():
    model, x, y = rnn(T=5)
    nodes, _ = parse(draw(model.forward(x, y).loss).source)
    clusters = []
    for scopes, _ in nodes.values():
        if scopes and scopes[0] not in clusters:
            clusters.append(scopes[0])
    assert clusters == [f"t = {t}" for t in range(1, 6)]
    # Each step holds its own a(t), h(t), o(t) and L(t), and nothing of another step.
    for t in range(1, 6):
        for name in ("a", "h", "o"):
            scopes, _ = nodes[node_with(nodes, f"{name}({t})  ")]
            assert scopes == (f"t = {t}",)
        scopes, _ = nodes[node_named(nodes, f"L({t})")]     # a scalar: no shape shown
        assert scopes == (f"t = {t}",)


def test_each_parameter_is_drawn_once_outside_the_steps_with_an_edge_into_every_step():
    model, x, y = rnn(T=5)
    nodes, edges = parse(draw(model.forward(x, y).loss).source)
    for name in PARAMS:
        ids = [k for k, (_, text) in nodes.items() if text.split("\n")[0].startswith(f"{name}  (")]
        assert len(ids) == 1, name
        pid = ids[0]
        assert nodes[pid][0] == ()     # outside every cluster
        steps_used = {nodes[dst][0][0] for src, dst, _ in edges if src == pid}
        assert steps_used == {f"t = {t}" for t in range(1, 6)}, name


def test_gradients_shown_equal_the_retained_gradients_of_a_normal_backward():
    model, x, y = rnn(T=5)
    dot = draw(model.forward(x, y).loss)          # draw runs its own backward
    nodes, _ = parse(dot.source)
    run = model.forward(x, y)                     # an independent run and backward
    run.loss.backward()
    for t in (1, 3, 5):
        for tensor, name in ((run.h[t - 1], f"h({t})"), (run.o[t - 1], f"o({t})")):
            _, text = nodes[node_with(nodes, f"{name}  (")]
            shown = numbers_after(text, "g = [")
            np.testing.assert_allclose(shown, tensor.grad, rtol=6e-3, atol=1e-12)
    # W has 25 entries: its norm and largest |entry| are shown instead.
    _, text = nodes[node_with(nodes, "W  (5, 5)")]
    norm = float(re.search(r"\|g\| = (\S+)", text).group(1))
    biggest = float(re.search(r"max \|g\| = (\S+)", text).group(1))
    np.testing.assert_allclose(norm, np.linalg.norm(model.W.grad), rtol=6e-3)
    np.testing.assert_allclose(biggest, np.abs(model.W.grad).max(), rtol=6e-3)


def test_shown_bias_gradient_matches_finite_differences():
    model, x, y = rnn(T=4)
    nodes, _ = parse(draw(model.forward(x, y).loss).source)
    _, text = nodes[node_with(nodes, "b  (5,)")]
    shown = numbers_after(text, "g = [")
    eps = 1e-6
    numeric = []
    for i in range(5):
        def loss_at(delta):
            b = model.b.data.copy()
            b[i] += delta
            params = {n: Tensor(getattr(model, n).data) for n in PARAMS}
            params["b"] = Tensor(b)
            with no_grad():
                return GoodfellowRNN(**params).forward(x, y).loss.item()
        numeric.append((loss_at(eps) - loss_at(-eps)) / (2 * eps))
    np.testing.assert_allclose(shown, numeric, rtol=6e-3, atol=1e-9)


def test_drawing_changes_no_gradient_the_user_can_see():
    model, x, y = rnn(T=3)
    run = model.forward(x, y)
    draw(run.loss)
    assert model.W.grad is None and run.h[0].grad is None
    run.loss.backward()           # the graph is still usable: draw kept its saved values
    assert model.W.grad is not None


def test_after_a_plain_backward_only_kept_gradients_show_and_the_legend_says_how():
    model, x, y = rnn(T=3)
    run = model.forward(x, y)
    run.loss.backward()
    graph = trace(run.loss)
    assert graph.grad_source == "partial"
    source = draw(run.loss).source
    assert "keep_grads=True" in source
    nodes, _ = parse(source)
    _, text = nodes[node_with(nodes, "h(2)  (")]
    np.testing.assert_allclose(numbers_after(text, "g = ["), run.h[1].grad, rtol=6e-3)
    _, text = nodes[node_with(nodes, "a(2)  (")]
    assert "g: not kept" in text


def test_backward_with_keep_grads_shows_every_gradient():
    model, x, y = rnn(T=3)
    run = model.forward(x, y)
    run.loss.backward(keep_grads=True)
    assert trace(run.loss).grad_source == "kept"
    nodes, _ = parse(draw(run.loss).source)
    _, text = nodes[node_with(nodes, "a(2)  (")]
    # dL/da(2) = dL/dh(2) * (1 - h(2)^2), by hand from the retained dL/dh(2).
    expected = run.h[1].grad * (1 - run.h[1].data ** 2)
    np.testing.assert_allclose(numbers_after(text, "g = ["), expected, rtol=6e-3)
    assert "not kept" not in draw(run.loss).source


def test_the_same_model_gives_the_same_dot_text_twice():
    model, x, y = rnn(T=4)
    first = draw(model.forward(x, y).loss).source
    second = draw(model.forward(x, y).loss).source
    assert first == second
    model2, x2, y2 = rnn(T=4)
    assert draw(model2.forward(x2, y2).loss, rolled=True).source == \
        draw(model.forward(x, y).loss, rolled=True).source


def test_edges_carry_the_rule_formulas_and_no_formulas_leaves_them_off():
    model, x, y = rnn(T=2)
    loss = model.forward(x, y).loss
    nodes, edges = parse(draw(loss).source)
    h1 = node_with(nodes, "h(1)  (")
    a1 = node_with(nodes, "a(1)  (")
    into_h1 = [attrs for src, dst, attrs in edges if src == a1 and dst == h1]
    # tanh's "dx = g * (1 - out**2)", written in the operand's name
    assert into_h1 and "da(1) = g * (1 - out**2)" in into_h1[0]
    # h(1) feeds W @ h(1) in step 2: matvec's "dx = vecmat(g, A)", drawn across the steps
    out_of_h1 = [attrs for src, dst, attrs in edges if src == h1 and nodes[dst][0] == ("t = 2",)
                 and "style=invis" not in attrs]
    assert out_of_h1 and "dh(1) = vecmat(g, W)" in out_of_h1[0]
    bare = draw(model.forward(x, y).loss, formulas=False).source
    assert "g * (1 - out**2)" not in bare and "vecmat(g, W)" not in bare


def test_no_grads_draws_no_gradient_text():
    model, x, y = rnn(T=2)
    source = draw(model.forward(x, y).loss, grads=False).source
    assert "g = " not in source and "|g|" not in source
    assert "h(2)" in source


def test_five_hundred_steps_collapse_to_a_bounded_picture():
    model, x, y = rnn(T=500)
    source = draw(model.forward(x, y).loss).source          # default: 6 steps kept
    nodes, edges = parse(source)
    assert "... 494 steps ..." in source
    clusters = {s[0] for s, _ in nodes.values() if s}
    assert clusters == {f"t = {t}" for t in (1, 2, 3, 498, 499, 500)}
    assert len(nodes) < 100 and len(edges) < 200
    few = parse(draw(model.forward(x, y).loss, max_steps=2).source)[0]
    assert {s[0] for s, _ in few.values() if s} == {"t = 1", "t = 500"}
    assert len(few) < len(nodes)
    # Every parameter still has an edge into the collapsed middle.
    box = node_with(nodes, "... 494 steps ...")
    srcs = {nodes[src][1].split("  ")[0] for src, dst, _ in edges if dst == box and src in nodes}
    assert set(PARAMS) <= srcs


def test_max_steps_below_two_is_a_clear_error():
    model, x, y = rnn(T=3)
    with pytest.raises(ValueError, match="max_steps"):
        draw(model.forward(x, y).loss, max_steps=1)


def test_rolled_draws_one_step_with_a_back_edge_and_gradients_summed_over_steps():
    model, x, y = rnn(T=5)
    run = model.forward(x, y)
    source = draw(run.loss, rolled=True).source
    nodes, edges = parse(source)
    clusters = {s[0] for s, _ in nodes.values() if s}
    assert clusters == {"t = 1..5"}
    h = node_with(nodes, "h(t)  (5,)")
    back = [a for s, d, a in edges if s == h and "t-1 -> t, 4 steps" in a]
    assert len(back) == 1
    # dL/dh summed over the five steps, against retain_grad of an independent backward.
    run2 = model.forward(x, y)
    run2.loss.backward()
    total = sum(t.grad for t in run2.h)
    np.testing.assert_allclose(numbers_after(nodes[h][1], "g = ["), total, rtol=6e-3)
    for name in PARAMS:
        assert sum(1 for _, t in nodes.values() if t.split("  ")[0] == name) == 1


def test_nested_scopes_nest_clusters():
    from autograd_mini import scope
    W = Tensor(np.eye(2) * 0.5, requires_grad=True, name="W")
    h = Tensor(np.ones(2))
    for t in (1, 2):
        with scope(f"t={t}"):
            with scope("cell"):
                h = (W @ h).tanh().named(f"h({t})")
    nodes, _ = parse(draw(h.sum()).source)
    assert nodes[node_with(nodes, "h(2)  (")][0] == ("t = 2", "cell")


def test_a_graph_without_scopes_and_a_bare_leaf_draw_too():
    W = Tensor(np.ones((3, 2)), requires_grad=True, name="W")
    y = ((W @ Tensor(np.ones(2))).tanh() * 2).sum()
    nodes, edges = parse(draw(y).source)
    assert all(s == () for s, _ in nodes.values())
    # d/dW sum(2 tanh(W x)) = 2 (1 - tanh(Wx)^2) x^T, by hand: every entry 2(1 - tanh(2)^2)
    _, text = nodes[node_with(nodes, "W  (3, 2)")]
    np.testing.assert_allclose(numbers_after(text, "g = ["),
                               [2 * (1 - np.tanh(2.0) ** 2)] * 6, rtol=6e-3)
    assert "W" in draw(W).source
    with pytest.raises(TypeError, match="Tensor"):
        draw(np.ones(3))


def test_rankdir_is_checked():
    model, x, y = rnn(T=2)
    assert "rankdir=LR" in draw(model.forward(x, y).loss, rankdir="TB").source
    with pytest.raises(ValueError, match="rankdir"):
        draw(model.forward(x, y).loss, rankdir="XY")


def test_a_thousand_step_chain_traces_without_recursion():
    W = Tensor(np.eye(2) * 0.9, requires_grad=True, name="W")
    h = Tensor(np.ones(2))
    from autograd_mini import scope
    for t in range(1, 3001):
        with scope(f"t={t}"):
            h = (W @ h).tanh()
    source = draw(h.sum()).source
    assert "... 2994 steps ..." in source


def test_a_learner_can_follow_the_gradient_from_L5_back_to_W_at_step_1():
    # The picture's promise, as graph structure: a chain of drawn edges from W into a
    # box of step 1 and on to L(5), every edge between two steps drawn red.
    model, x, y = rnn(T=5)
    nodes, edges = parse(draw(model.forward(x, y).loss).source)
    target = node_named(nodes, "L(5)")
    w = node_with(nodes, "W  (5, 5)")
    into = {}
    for src, dst, attrs in edges:
        if "style=invis" not in attrs:
            into.setdefault(dst, []).append((src, attrs))
    # Walk back from L(5) (iteratively), remembering how each box was reached.
    came_from, stack = {target: None}, [target]
    while stack:
        node = stack.pop()
        for src, attrs in into.get(node, []):
            if src not in came_from:
                came_from[src] = (node, attrs)
                stack.append(src)
    step1 = [src for src, dst, _ in edges if src == w and nodes[dst][0] == ("t = 1",)]
    assert step1, "W has no edge into step 1"
    start = next(dst for src, dst, _ in edges if src == w and nodes[dst][0] == ("t = 1",))
    assert start in came_from, "no path from step 1's use of W to L(5)"
    node, crossings = start, 0
    while came_from[node] is not None:
        nxt, attrs = came_from[node]
        if nodes[node][0] != nodes[nxt][0]:
            crossings += 1
            assert 'color="#b22222"' in attrs, (node, nxt)
        node = nxt
    assert crossings == 4       # t = 1 -> 2 -> 3 -> 4 -> 5


def test_collapsing_keeps_every_parameter_edge_for_any_length_and_limit():
    from hypothesis import given, settings, strategies as st

    @settings(max_examples=12, deadline=None)
    @given(T=st.integers(1, 14), keep=st.integers(2, 8))
    def check(T, keep):
        model, x, y = rnn(T=T, H=3)
        nodes, edges = parse(draw(model.forward(x, y).loss, max_steps=keep).source)
        clusters = sorted({s[0] for s, _ in nodes.values() if s},
                          key=lambda c: int(c.split("= ")[1]))
        kept = list(range(1, T + 1)) if T <= keep else \
            list(range(1, (keep + 1) // 2 + 1)) + list(range(T - keep // 2 + 1, T + 1))
        assert clusters == [f"t = {t}" for t in kept]
        boxes = {k for k, (_, text) in nodes.items() if "steps ..." in text}
        assert len(boxes) == (1 if T > keep else 0)
        for name in PARAMS:
            pid = node_with(nodes, f"{name}  (")
            into = {nodes[d][0][0] if nodes[d][0] else d for s, d, _ in edges if s == pid}
            assert into == {f"t = {t}" for t in kept} | boxes, name

    check()
