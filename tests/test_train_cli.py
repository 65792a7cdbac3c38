"""`autograd-mini train` with bad input: damaged checkpoints, paths it cannot write, numbers
out of range. Each is one clear sentence on stderr and exit status 2, found before any
training step runs; never a traceback, never a run lost at its end."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from autograd_mini.cli import main as cli
from autograd_mini.models.trainer import Trainer

TINY = "the cat sat on the mat. the dog sat on the log. " * 2


@pytest.fixture
def text(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text(TINY, encoding="utf-8")
    return path


def train(text, *extra, steps=2):
    return ["train", "char-rnn", "--text", str(text), "--hidden", "8", "--batch", "2",
            "--bptt", "8", "--steps", str(steps), "--sample-every", "0", "--sample-length",
            "10", "--no-progress", *extra]


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if a training step runs: the error must come before any work."""
    def refuse(self):
        raise AssertionError("a training step ran before the bad option was found")
    monkeypatch.setattr(Trainer, "train_step", refuse)


def one_sentence_error(capsys, *parts):
    """The run's stderr: one line, no traceback, holding every one of ``parts``."""
    out, err = capsys.readouterr()
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("autograd-mini train: error: ")
    for part in parts:
        assert str(part) in err, (part, err)
    return err


# ---------------------------------------------------------------------- checkpoints (16.6)
@pytest.fixture
def checkpoint(tmp_path, text, capsys):
    """A real two-step checkpoint, and its arrays."""
    path = tmp_path / "run.npz"
    assert cli(train(text, "--checkpoint", str(path))) == 0
    capsys.readouterr()
    with np.load(path) as z:
        return path, {k: z[k] for k in z.files}


def truncated(path, arrays):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def corrupted(path, arrays):
    """Flip bytes inside the largest array's data: the zip's CRC no longer matches."""
    raw = bytearray(path.read_bytes())
    big = arrays["param.W_hh"].tobytes()
    at = bytes(raw).index(big) + len(big) // 2
    raw[at:at + 8] = bytes(b ^ 0xFF for b in raw[at:at + 8])
    path.write_bytes(bytes(raw))


def zero_length(path, arrays):
    path.write_bytes(b"")


def random_bytes(path, arrays):
    path.write_bytes(np.random.default_rng(0).bytes(4000))


def missing_keys(path, arrays):
    np.savez(path, **{k: v for k, v in arrays.items() if k != "param.W_hh"})


def no_meta(path, arrays):
    np.savez(path, weights=np.ones(3))


def bad_meta(path, arrays):
    np.savez(path, **{**arrays, "meta": np.array("{not json")})


def nan_parameter(path, arrays):
    W = arrays["param.W_hh"].copy()
    W[0, 0] = np.nan
    np.savez(path, **{**arrays, "param.W_hh": W})


def wrong_shape(path, arrays):
    np.savez(path, **{**arrays, "param.b_h": np.zeros(3)})


@pytest.mark.parametrize("damage,says", [
    (truncated, "is damaged, truncated or corrupted"),
    (corrupted, "is damaged, truncated or corrupted"),
    (zero_length, "is empty (0 bytes), not a checkpoint"),
    (random_bytes, "is not a checkpoint: checkpoints are NumPy .npz (zip) files"),
    (missing_keys, "lacks param.W_hh: it is not a complete char-rnn checkpoint"),
    (no_meta, "holds no 'meta' entry"),
    (bad_meta, "its 'meta' entry is not valid JSON"),
    (nan_parameter, "param.W_hh holds 1 NaN or infinite value(s)"),
    (wrong_shape, "param.b_h has shape (3,), this run's has shape (8,)"),
])
def test_a_bad_checkpoint_is_one_sentence_naming_the_file_and_the_fault(
        checkpoint, text, capsys, no_training, damage, says):
    path, arrays = checkpoint
    damage(path, arrays)
    assert cli(train(text, "--checkpoint", str(path), "--resume", steps=4)) == 2
    one_sentence_error(capsys, f"--resume: {path}", says)


def test_a_nan_checkpoint_is_not_blamed_on_the_learning_rate(checkpoint, text, capsys):
    path, arrays = checkpoint
    nan_parameter(path, arrays)
    assert cli(train(text, "--checkpoint", str(path), "--resume", steps=4)) == 2
    assert "--lr" not in capsys.readouterr().err


def test_an_existing_checkpoint_is_not_overwritten_without_being_asked(
        checkpoint, text, capsys, monkeypatch):
    path, arrays = checkpoint
    before = path.read_bytes()
    with monkeypatch.context() as m:
        m.setattr(Trainer, "train_step", lambda self: pytest.fail("trained"))
        assert cli(train(text, "--checkpoint", str(path), steps=4)) == 2
    one_sentence_error(capsys, f"--checkpoint {path} already exists", "--resume",
                       "--overwrite")
    assert path.read_bytes() == before
    assert cli(train(text, "--checkpoint", str(path), "--resume", "--overwrite")) == 2
    one_sentence_error(capsys, "give one of them")
    # --overwrite starts afresh: step 3 of a new run, not step 2 + 3 of the old one.
    assert cli(train(text, "--checkpoint", str(path), "--overwrite", steps=3)) == 0
    with np.load(path) as z:
        assert json.loads(str(z["meta"]))["step"] == 3 and z["history"].shape == (3,)


def test_a_failed_save_leaves_no_temporary_file(tmp_path, text, monkeypatch):
    trainer = Trainer(TINY, dict(cell="rnn", hidden=4, bptt=8, batch=2, optim="adam",
                                 lr=1e-2, momentum=0.9, clip=5.0, seed=0, dtype="float64"))

    def disk_full(file, **arrays):
        file.write(b"PK\x03\x04 half")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(OSError, match="No space left"):
        trainer.save(tmp_path / "run.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.txt"]


# ---------------------------------------------------------------------- output paths (16.7)
def paths_case(tmp_path, text):
    """(extra options, what the error says) for paths that cannot be written."""
    folder = tmp_path / "a_folder"
    folder.mkdir()
    return [
        (["--checkpoint", "/proc/x.npz"],
         "--checkpoint /proc/x.npz: cannot create files in /proc"),
        (["--metrics", "/proc/m.json"], "--metrics /proc/m.json: cannot create files in /proc"),
        (["--checkpoint", str(folder)], f"--checkpoint {folder} is a folder; give a file name"),
        (["--metrics", str(folder)], f"--metrics {folder} is a folder"),
        (["--checkpoint", str(tmp_path / "no" / "c.npz")], "the folder"),
        (["--checkpoint", str(text / "c.npz")], f"the folder {text} is not a folder"),
        (["--metrics", str(tmp_path / "m.png")], "cannot end in .png"),
        (["--checkpoint", str(tmp_path / "same"), "--metrics", str(tmp_path / "same")],
         "--checkpoint and --metrics name the same file"),
    ]


@pytest.mark.parametrize("case", range(8))
def test_every_output_path_is_checked_before_any_work(tmp_path, text, capsys, no_training,
                                                      case):
    extra, says = paths_case(tmp_path, text)[case]
    before = {p.name for p in tmp_path.iterdir()}
    assert cli(train(text, *extra)) == 2
    one_sentence_error(capsys, says)
    assert {p.name for p in tmp_path.iterdir()} == before        # nothing left behind
    assert not Path("/tmp.tmp").exists()


def test_a_good_run_leaves_no_probe_or_temporary_files(tmp_path, text, capsys):
    assert cli(train(text, "--checkpoint", str(tmp_path / "c.npz"),
                     "--metrics", str(tmp_path / "m.json"))) == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert names <= {"tiny.txt", "c.npz", "m.json", "m.png"}
    assert {"c.npz", "m.json"} <= names


def test_the_loss_curve_leaves_the_users_matplotlib_backend_alone(tmp_path, text, capsys):
    matplotlib = pytest.importorskip("matplotlib")
    before = matplotlib.get_backend()
    had_pyplot = "matplotlib.pyplot" in sys.modules
    matplotlib.use("pdf")                   # the user's choice, not the default Agg
    try:
        assert cli(train(text, "--metrics", str(tmp_path / "m.json"))) == 0
        assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"
        assert matplotlib.get_backend() == "pdf"
        assert ("matplotlib.pyplot" in sys.modules) == had_pyplot
    finally:
        matplotlib.use(before)


# ---------------------------------------------------------------------- numbers (16.8)
@pytest.mark.parametrize("option,value,expected", [
    ("--seed", "-1", "expected an integer >= 0, got '-1'"),
    ("--seed", "1.5", "expected an integer >= 0, got '1.5'"),
    ("--clip", "inf", "expected 0 (no clipping) or a positive number, got 'inf'"),
    ("--clip", "nan", "expected 0 (no clipping) or a positive number, got 'nan'"),
    ("--clip", "-1", "expected 0 (no clipping) or a positive number, got '-1'"),
    ("--steps", "0", "expected a positive integer, got '0'"),
    ("--hidden", "-3", "expected a positive integer, got '-3'"),
    ("--lr", "nan", "expected a positive number, got 'nan'"),
    ("--lr", "0", "expected a positive number, got '0'"),
    ("--momentum", "1", "expected a number in [0, 1), got '1'"),
    ("--momentum", "nan", "expected a number in [0, 1), got 'nan'"),
    ("--temperature", "inf", "expected a positive number, got 'inf'"),
    ("--sample-every", "-5", "expected an integer >= 0, got '-5'"),
    ("--checkpoint-every", "0", "expected a positive integer, got '0'"),
])
def test_numbers_out_of_range_are_refused_by_the_parser(text, capsys, option, value,
                                                        expected):
    with pytest.raises(SystemExit) as stop:
        cli(train(text, option, value))
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: {expected}" in err and "Traceback" not in err


def test_clip_zero_still_means_no_clipping(text, capsys):
    assert cli(train(text, "--clip", "0")) == 0


def test_compile_trains_with_the_same_losses(text, tmp_path):
    """--compile: the same run as eager (the smoothed losses of the metrics file)."""
    losses = []
    for extra in ((), ("--compile",)):
        metrics = tmp_path / f"m{len(losses)}.json"
        assert cli(train(text, "--metrics", str(metrics), *extra, steps=4)) == 0
        losses.append(json.loads(metrics.read_text()))
    for key in ("start_smoothed_loss", "final_smoothed_loss"):
        assert abs(losses[0][key] - losses[1][key]) <= 1e-10
