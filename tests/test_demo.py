"""`autograd-mini demo`, the main job: it runs, agrees with finite differences, and says so."""
import numpy as np

from autograd_mini.cli import build_parser, main
from autograd_mini.demo import gradient_table
from models.goodfellow import GoodfellowRNN


def test_gradient_table_covers_every_parameter_entry_and_agrees():
    model = GoodfellowRNN.init(D=4, H=5, C=3, seed=0)
    x, y = GoodfellowRNN.example_data(T=5, D=4, C=3, seed=0)
    rows = gradient_table(model, x, y)
    assert len(rows) == 5 * 4 + 5 * 5 + 3 * 5 + 5 + 3
    auto = np.array([r[2] for r in rows])
    numeric = np.array([r[3] for r in rows])
    # The textbook sizes give gradients of order 0.01-1: the absolute error of central
    # differences with eps = 1e-6 is ~1e-10, far inside 1e-6 of the largest entry.
    assert np.abs(auto - numeric).max() <= 1e-6 * np.abs(numeric).max()
    assert np.abs(numeric).max() > 1e-3          # not an all-zero (degenerate) comparison


def test_demo_runs_end_to_end(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "autodiff agrees with finite differences" in out
    assert "10.21" in out and "invalid" in out
    assert (tmp_path / "out").is_dir()


def test_every_subcommand_of_the_contract_is_wired():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == {"demo", "check", "render", "train", "rtrl"}
