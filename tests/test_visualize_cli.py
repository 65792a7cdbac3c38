"""`autograd-mini render`, the demo's pictures, and one real render with graphviz's dot."""
import importlib.util
import shutil
import xml.etree.ElementTree as ET

import pytest

pytest.importorskip("graphviz")

from autograd_mini.cli import main  # noqa: E402
from autograd_mini.models.goodfellow import GoodfellowRNN  # noqa: E402
from autograd_mini.visualize import draw  # noqa: E402
from autograd_mini.visualize.cli import MODELS  # noqa: E402

HAVE_DOT = shutil.which("dot") is not None
HAVE_MPL = importlib.util.find_spec("matplotlib") is not None
NO_DOT = "graphviz's dot program is not installed (`make dot` or apt-get install graphviz)"


def test_render_writes_dot_text_for_a_dot_suffix(tmp_path, capsys):
    out = tmp_path / "rnn.dot"
    assert main(["render", "goodfellow", "--steps", "3", "-o", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("digraph") and 'label="t = 3"' in text
    assert "wrote" in capsys.readouterr().out


def test_render_options_reach_the_picture(tmp_path):
    out = tmp_path / "r.dot"
    assert main(["render", "goodfellow", "--steps", "4", "--hidden", "3", "--rolled",
                 "--no-formulas", "-o", str(out)]) == 0
    text = out.read_text()
    assert 'label="t = 1..4"' in text and "h(t)  (3,)" in text
    assert "A^T @ g" not in text
    assert main(["render", "goodfellow", "--steps", "40", "--max-steps", "4", "--no-grads",
                 "-o", str(out)]) == 0
    text = out.read_text()
    assert "... 36 steps ..." in text and "g = " not in text


def test_without_the_dot_program_render_writes_the_dot_file_and_says_how_to_install(
        tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert main(["render", "goodfellow", "-o", str(tmp_path / "rnn.svg")]) == 0
    said = capsys.readouterr().out
    assert (tmp_path / "rnn.dot").read_text().startswith("digraph")
    assert not (tmp_path / "rnn.svg").exists()
    assert "not installed" in said and "apt-get install graphviz" in said


def render_status(argv):
    """render's exit status: argparse's own checks exit via SystemExit."""
    try:
        return main(["render", "goodfellow", *argv])
    except SystemExit as e:
        return e.code


@pytest.mark.parametrize("argv, words", [
    (["-o", "rnn.txt"], "unknown suffix"),
    ([], "nothing to write"),
    (["--steps", "0", "-o", "x.dot"], "argument --steps: the number of time steps must be"),
    (["--steps", "1e9", "-o", "x.dot"], "expected a whole number"),
    (["--steps", "1000000", "-o", "x.dot"], "from 1 to 100,000"),
    (["--hidden", "0", "-o", "x.dot"], "argument --hidden"),
    (["--seed", "-1", "-o", "x.dot"], "argument --seed: the seed must be at least 0, got -1"),
    (["--max-steps", "1", "-o", "x.dot"], "--max-steps"),
    (["--flow", "f.gif"], "unknown suffix"),
    (["--scale", "-1", "--flow", "f.png"], "above 0"),
    (["--scale", "0", "-o", "x.dot"], "above 0"),
    (["--scale", "nan", "-o", "x.dot"], "argument --scale: the weight scale must be a finite"),
    (["--scale", "inf", "--flow", "f.png"], "finite number above 0"),
    (["--scale", "0.5", "--scale=-inf", "--flow", "f.png"], "got -inf"),
])
def test_bad_options_exit_2_with_a_message(argv, words, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert render_status(argv) == 2
    assert words in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []           # nothing written


@pytest.mark.parametrize("flag, path", [
    ("-o", "/proc/x.svg"), ("-o", "/proc/x.dot"), ("--flow", "/proc/f.png"),
    ("-o", "{tmp}"), ("--flow", "{tmp}/isadir.png")])
def test_an_output_path_that_cannot_be_written_is_refused_before_any_work(
        flag, path, tmp_path, capsys, monkeypatch):
    (tmp_path / "isadir.png").mkdir()
    path = path.format(tmp=tmp_path)
    built = []
    monkeypatch.setitem(MODELS, "goodfellow", (lambda *a: built.append(a),) + MODELS["goodfellow"][1:])
    status = render_status([flag, path] + (["-o", str(tmp_path / "ok.dot")] if flag != "-o" else []))
    assert status == 2
    err = capsys.readouterr().err
    assert f"{flag} {path}" in err and ("cannot write" in err or "folder" in err
                                        or "suffix" in err)
    assert built == []                              # no model was built: no work lost


def test_render_into_a_missing_folder_makes_it_and_says_so(tmp_path, capsys):
    out = tmp_path / "new" / "deeper" / "rnn.dot"
    flow = tmp_path / "other" / "flow.png"
    argv = ["-o", str(out)] + (["--flow", str(flow)] if HAVE_MPL else [])
    assert render_status(argv) == 0
    said = capsys.readouterr().out
    assert out.exists() and f"made the folder {out.parent} (it did not exist)" in said
    if HAVE_MPL:
        assert flow.exists() and f"made the folder {flow.parent}" in said


def test_flow_figure_from_the_command_line(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "flow.png"
    assert main(["render", "goodfellow", "--steps", "4", "--scale", "0.5", "--scale", "4",
                 "--flow", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_demo_pictures_are_written_and_their_paths_printed(tmp_path, capsys, monkeypatch):
    from autograd_mini.visualize.demo import pictures
    model = GoodfellowRNN.init()
    x, y = GoodfellowRNN.example_data(T=5)
    written = pictures(model, x, y, outdir=tmp_path / "out")
    said = capsys.readouterr().out
    assert written and all(p.exists() and str(p) in said for p in written)
    suffixes = {p.suffix for p in written}
    assert (".svg" if HAVE_DOT else ".dot") in suffixes


@pytest.mark.skipif(not HAVE_DOT, reason=NO_DOT)
def test_the_dot_program_renders_svg_with_one_titled_cluster_per_step():
    model = GoodfellowRNN.init()
    x, y = GoodfellowRNN.example_data(T=5)
    svg = draw(model.forward(x, y).loss).pipe(format="svg")
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    clusters = [g for g in root.iter(f"{ns}g") if g.get("class") == "cluster"]
    assert len(clusters) == 5
    titles = []
    for g in clusters:
        texts = ["".join(t.itertext()) for t in g.iter(f"{ns}text")]
        titles.append(next(t for t in texts if t.startswith("t = ")))
    assert titles == [f"t = {t}" for t in range(1, 6)]
    # The steps are laid out in time order along the x axis.
    xs = [float(next(g.iter(f"{ns}text")).get("x")) for g in clusters]
    assert xs == sorted(xs)


@pytest.mark.skipif(not HAVE_DOT, reason=NO_DOT)
def test_render_makes_a_png_of_three_hundred_steps(tmp_path):
    out = tmp_path / "long.png"
    assert main(["render", "goodfellow", "--steps", "300", "-o", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"


# Edges from one step into the next, per boundary, read off the cells' equations:
# LSTM: h(t-1) into h @ W_h, c(t-1) into f * c; GRU: h(t-1) into h @ W_h and into z * h.
@pytest.mark.parametrize("model, params, carried", [("lstm", ("W_x", "W_h", "b", "V"), 2),
                                                    ("gru", ("W_x", "W_h", "b_x", "b_h", "V"), 2)])
def test_the_cells_render_too_with_their_state_carried_between_steps(model, params, carried,
                                                                      tmp_path):
    out = tmp_path / f"{model}.dot"
    assert main(["render", model, "--steps", "3", "--hidden", "2", "-o", str(out)]) == 0
    text = out.read_text()
    assert [f'label="t = {t}"' in text for t in (1, 2, 3)] == [True] * 3
    for name in params:
        assert text.count(f"<B>{name}  (") == 1, name
    red = [line for line in text.splitlines() if " -> " in line and '[color="#b22222"' in line]
    assert len(red) == 2 * carried      # 2 step boundaries
