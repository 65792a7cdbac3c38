"""`autograd-mini demo`, the main job: it runs, agrees with finite differences, and says so
first; the per-entry rows only on request."""
import re

import numpy as np

from autograd_mini.cli import build_parser, main
from autograd_mini.models.demo import gradient_table
from autograd_mini.models.goodfellow import GoodfellowRNN

# One row of the per-entry table: parameter, index, autodiff, finite difference, rel err.
ENTRY_ROW = re.compile(r"^[UWVbc]\s+\(\d+(, \d+)?,?\)\s+-?\d+\.\d{10}\s+-?\d+\.\d{10}\s", re.M)


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


def test_demo_leads_with_the_summary_and_the_pictures(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    verdict = out.index("autodiff agrees with central finite differences on all 68")
    pictures = out.index("Pictures of BPTT")
    assert verdict < pictures < out.index("10.21")
    assert "invalid" in out
    for written in (tmp_path / "out").iterdir():    # every picture named before the book
        assert out.index(f"out/{written.name}") < out.index("10.18")
    assert not ENTRY_ROW.search(out), "the per-entry rows belong behind --detail"
    assert "autograd-mini demo --detail" in out


def test_demo_detail_prints_every_entry_after_the_summary(tmp_path, capsys):
    assert main(["demo", "--detail", "--outdir", str(tmp_path / "pics")]) == 0
    out = capsys.readouterr().out
    assert len(ENTRY_ROW.findall(out)) == 68
    assert out.index("autodiff agrees") < ENTRY_ROW.search(out).start()
    assert any((tmp_path / "pics").iterdir())


def test_every_subcommand_of_the_contract_is_wired():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == {"demo", "check", "render", "train", "derive", "rtrl"}
