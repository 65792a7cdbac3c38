"""The character model: autodiff vs a hand-written BPTT, training, checkpoints, bad texts.

Expected values come from independent routes: min-char-rnn-style NumPy BPTT (itself
checked against finite differences here), finite differences (gradcheck), and the
uninterrupted run for resume.
"""
import json
import os
import signal

import numpy as np
import pytest

from autograd_mini import Tensor, gradcheck
from autograd_mini.cli import main as cli
from autograd_mini.models.char_rnn import (CharRNN, TextError, Vocabulary, evaluate,
                                           load_text, lstm_bptt, min_char_rnn_bptt, sample,
                                           streams)
from autograd_mini.models.trainer import Trainer
from autograd_mini.models import char_rnn

TINY = "the cat sat on the mat. the dog sat on the log. "


def small_chunk(text=TINY * 3, B=3, T=7, seed=0):
    vocab = Vocabulary.from_text(text)
    data = streams(vocab.encode(text), B, T)
    return vocab, data[:, :T + 1]


def options(**kw):
    o = dict(cell="rnn", hidden=16, bptt=8, batch=2, optim="adam", lr=1e-2, momentum=0.9,
             clip=5.0, seed=0, dtype="float64")
    o.update(kw)
    return o


# ---------------------------------------------------------------------- correctness
def test_autodiff_equals_hand_written_min_char_rnn_bptt():
    vocab, chunk = small_chunk()
    model = CharRNN.init("rnn", len(vocab), 10, seed=3)
    h0 = np.random.default_rng(7).uniform(-0.5, 0.5, (chunk.shape[0], 10))  # carried state
    loss, hT = model.loss(chunk, Tensor(h0))
    loss.backward()
    arrays = {n: p.data for n, p in model.parameters().items()}
    ref_loss, ref_grads, ref_hT = min_char_rnn_bptt(arrays, chunk, h0)
    assert loss.item() == pytest.approx(ref_loss, abs=1e-12)
    np.testing.assert_allclose(hT.data, ref_hT, rtol=0, atol=1e-12)
    for name, p in model.parameters().items():
        assert p.grad.shape == ref_grads[name].shape
        np.testing.assert_allclose(p.grad, ref_grads[name], rtol=0, atol=1e-10,
                                   err_msg=name)
    # W_xh's gradient reaches only the rows of characters that were read
    unread = sorted(set(range(len(vocab))) - set(chunk[:, :-1].ravel()))
    assert unread and np.all(model.params["W_xh"].grad[unread] == 0)


def test_lstm_autodiff_equals_hand_written_bptt():
    vocab, chunk = small_chunk()
    model = CharRNN.init("lstm", len(vocab), 6, seed=5)
    rng = np.random.default_rng(8)
    h0, c0 = rng.uniform(-0.5, 0.5, (2, chunk.shape[0], 6))
    loss, (hT, cT) = model.loss(chunk, (Tensor(h0), Tensor(c0)))
    loss.backward()
    arrays = {n: p.data for n, p in model.parameters().items()}
    ref_loss, ref_grads, (ref_h, ref_c) = lstm_bptt(arrays, chunk, (h0, c0))
    assert loss.item() == pytest.approx(ref_loss, abs=1e-12)
    np.testing.assert_allclose(cT.data, ref_c, rtol=0, atol=1e-12)
    for name, p in model.parameters().items():
        np.testing.assert_allclose(p.grad, ref_grads[name], rtol=0, atol=1e-10,
                                   err_msg=name)


@pytest.mark.parametrize("bptt", [min_char_rnn_bptt, lstm_bptt])
def test_hand_written_bptt_agrees_with_finite_differences(bptt):
    """The reference itself, against central differences of its own loss."""
    vocab, chunk = small_chunk(B=2, T=5)
    cell = "rnn" if bptt is min_char_rnn_bptt else "lstm"
    model = CharRNN.init(cell, len(vocab), 6, seed=1)
    arrays = {n: p.data.copy() for n, p in model.parameters().items()}
    h0 = np.full((2, 6), 0.1) if cell == "rnn" else (np.full((2, 6), 0.1), np.full((2, 6), -0.2))
    _, grads, _ = bptt(arrays, chunk, h0)
    rng = np.random.default_rng(0)
    for name, a in arrays.items():
        for _ in range(4):
            idx = tuple(int(rng.integers(0, n)) for n in a.shape)
            if name in ("W_xh", "W_x"):
                idx = (int(chunk[0, 1]),) + idx[1:]   # a row that is read
            plus, minus = ({k: v.copy() for k, v in arrays.items()} for _ in range(2))
            plus[name][idx] += 1e-6
            minus[name][idx] -= 1e-6
            numeric = (bptt(plus, chunk, h0)[0] - bptt(minus, chunk, h0)[0]) / 2e-6
            assert grads[name][idx] == pytest.approx(numeric, rel=1e-6, abs=1e-9), name


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_variants_pass_projection_gradcheck(cell):
    vocab, chunk = small_chunk(B=2, T=6)
    model = CharRNN.init(cell, len(vocab), 5, seed=2)
    names = list(model.parameters())

    def loss(*params):
        m = CharRNN.from_parameters(cell, dict(zip(names, params)))
        return m.loss(chunk, m.initial_state(chunk.shape[0]))[0]

    for seed in range(3):       # three random directions per parameter
        report = gradcheck(loss, list(model.parameters().values()), mode="projection",
                           seed=seed, atol=1e-8, rtol=1e-6)
        assert report, str(report)


def test_projection_gradcheck_would_catch_a_wrong_lstm_gradient():
    """The check above can fail: drop the forget gate's path into c from the graph."""
    vocab, chunk = small_chunk(B=2, T=6)
    model = CharRNN.init("lstm", len(vocab), 5, seed=2)
    names = list(model.parameters())

    def loss(*params):
        m = CharRNN.from_parameters("lstm", dict(zip(names, params)))
        state = m.initial_state(chunk.shape[0])
        hs = []
        for t in range(chunk.shape[1] - 1):
            h, (h_, c) = m.step(chunk[:, t], state)
            state = (h, Tensor(c.data))     # c cut from the graph: a wrong gradient
            hs.append(h)
        from autograd_mini import concat, softmax_cross_entropy
        return softmax_cross_entropy(m.logits(concat(hs, axis=0)),
                                     chunk[:, 1:].T.reshape(-1))

    report = gradcheck(loss, list(model.parameters().values()), mode="projection",
                       atol=1e-8, rtol=1e-6)
    assert not report


# ---------------------------------------------------------------------- training
def test_a_100_step_run_lowers_the_loss_by_a_quarter():
    trainer = Trainer(TINY * 4, options(hidden=32, batch=4, bptt=16))
    before = evaluate(trainer.model, trainer.data, 16)
    assert before == pytest.approx(np.log(len(trainer.vocab)), rel=0.05)   # ~uniform guess
    for _ in range(100):
        trainer.train_step()
    after = evaluate(trainer.model, trainer.data, 16)
    assert after <= 0.75 * before, (before, after)
    assert trainer.smoothed < trainer.history[0]


@pytest.mark.parametrize("optim", ["sgd", "adagrad"])
def test_other_optimizers_also_learn(optim):
    # SGD's rate with momentum 0.9: at 0.5 the loss oscillated (0.9 to 3.8 nats) and where
    # it ended after 60 steps depended on rounding; at 0.1 it falls steadily.
    trainer = Trainer(TINY * 4, options(hidden=32, batch=4, bptt=16, optim=optim,
                                        lr={"sgd": 0.1, "adagrad": 0.1}[optim]))
    before = evaluate(trainer.model, trainer.data, 16)
    for _ in range(60):
        trainer.train_step()
    assert evaluate(trainer.model, trainer.data, 16) < 0.9 * before


def test_state_is_carried_and_detached_between_chunks():
    trainer = Trainer(TINY * 4, options())
    trainer.train_step()
    carried = trainer.state
    assert carried.node is None                 # detached: the next backward stops here
    assert np.any(carried.data != 0)            # but the values go on
    k = trainer.chunks_per_epoch
    while trainer.step % k:                     # at a new pass the state restarts at zero
        trainer.train_step()
    trainer.train_step()
    assert trainer.step == k + 1


def test_runs_are_deterministic_for_a_seed():
    a, b = Trainer(TINY * 4, options(seed=5)), Trainer(TINY * 4, options(seed=5))
    c = Trainer(TINY * 4, options(seed=6))
    for t in (a, b, c):
        for _ in range(5):
            t.train_step()
    assert a.history == b.history and a.history != c.history
    assert a.sample(40, 1.0) == b.sample(40, 1.0)


# ---------------------------------------------------------------------- checkpoints
def write_text(tmp_path, text=TINY * 2):
    path = tmp_path / "tiny.txt"
    path.write_text(text, encoding="utf-8")
    return path


def train_args(text, ckpt, steps, *extra, cell="rnn"):
    return ["train", "char-rnn", "--text", str(text), "--cell", cell, "--hidden", "12",
            "--batch", "2", "--bptt", "8", "--steps", str(steps), "--sample-every", "0",
            "--sample-length", "20", "--no-progress", "--checkpoint", str(ckpt),
            "--checkpoint-every", "4", *extra]


def saved(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_checkpoint_then_resume_equals_an_uninterrupted_run(tmp_path, cell, capsys):
    text = write_text(tmp_path)           # 98 characters: 5 chunks per pass, so the
    whole, part = tmp_path / "whole.npz", tmp_path / "part.npz"    # runs cross passes
    assert cli(train_args(text, whole, 13, cell=cell)) == 0
    assert cli(train_args(text, part, 7, cell=cell)) == 0
    assert saved(part)["history"].shape == (7,)
    assert cli(train_args(text, part, 13, "--resume", cell=cell)) == 0
    a, b = saved(whole), saved(part)
    params = [k for k in a if k.startswith(("param.", "optim.", "state."))]
    assert len(params) > 5
    for k in params:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    np.testing.assert_array_equal(a["history"], b["history"])
    assert json.loads(str(a["meta"]))["step"] == json.loads(str(b["meta"]))["step"] == 13


def test_ctrl_c_saves_a_checkpoint_that_resumes_exactly(tmp_path, monkeypatch, capsys):
    text = write_text(tmp_path)
    whole, part = tmp_path / "whole.npz", tmp_path / "part.npz"
    assert cli(train_args(text, whole, 10)) == 0

    real_step = Trainer.train_step

    def step_then_ctrl_c(self):
        value = real_step(self)
        if self.step == 3:
            os.kill(os.getpid(), signal.SIGINT)     # as if the user pressed Ctrl-C
        return value

    monkeypatch.setattr(Trainer, "train_step", step_then_ctrl_c)
    assert cli(train_args(text, part, 10)) == 130
    assert "interrupted at step 3" in capsys.readouterr().err
    assert json.loads(str(saved(part)["meta"]))["step"] == 3
    monkeypatch.setattr(Trainer, "train_step", real_step)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler   # restored
    assert cli(train_args(text, part, 10, "--resume")) == 0
    a, b = saved(whole), saved(part)
    for k in a:
        if k.startswith("param."):
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_resume_with_other_options_is_refused(tmp_path, capsys):
    text = write_text(tmp_path)
    ckpt = tmp_path / "c.npz"
    assert cli(train_args(text, ckpt, 2)) == 0
    assert cli(train_args(text, ckpt, 4, "--resume", "--lr", "0.5")) == 2
    err = capsys.readouterr().err
    assert "different options" in err and "--lr 0.005 (this run: 0.5)" in err
    other = write_text(tmp_path, TINY[::-1] * 2)
    assert cli(train_args(other, ckpt, 4, "--resume")) == 2
    assert "trained on another text" in capsys.readouterr().err
    assert cli(train_args(text, tmp_path / "none.npz", 4, "--resume")) == 2
    assert "no checkpoint at" in capsys.readouterr().err


def test_metrics_json_and_loss_curve(tmp_path, capsys):
    text = write_text(tmp_path)
    metrics = tmp_path / "m.json"
    assert cli(train_args(text, tmp_path / "c.npz", 6, "--metrics", str(metrics))) == 0
    m = json.loads(metrics.read_text())
    assert m["steps"] == 6 and m["cell"] == "rnn"
    assert m["final_bits_per_char"] == pytest.approx(m["final_smoothed_loss"] / np.log(2))
    assert m["start_smoothed_loss"] == pytest.approx(np.log(m["vocabulary"]), rel=0.05)
    assert m["chars_per_sec"] > 0
    pytest.importorskip("matplotlib")
    png = tmp_path / "m.png"
    assert m["loss_curve_png"] == str(png) and png.read_bytes()[:4] == b"\x89PNG"


def test_progress_bar_and_samples_are_printed(tmp_path, capsys):
    pytest.importorskip("tqdm")
    text = write_text(tmp_path)
    args = ["train", "char-rnn", "--text", str(text), "--hidden", "8", "--batch", "2",
            "--bptt", "8", "--steps", "4", "--sample-every", "2", "--sample-length", "15"]
    assert cli(args) == 0
    out, err = capsys.readouterr()
    assert "4/4" in err and "bits/char" in err and "chars/s" in err
    assert "sample at step 2" in out + err and "sample at step 4" in out
    assert "bits per character" in out


# ---------------------------------------------------------------------- bad texts
@pytest.mark.parametrize("content,message", [
    (b"", "the file is empty"),
    (b"caf\xe9 au lait", "not UTF-8: byte 0xe9 at offset 3 (line 1)"),
    (b"short text", "the text has 10 characters, too short for one training chunk: "
                    "--batch 2 streams of --bptt 8 + 1 characters need at least 2 x 9 = 18"),
])
def test_bad_texts_get_clear_errors(tmp_path, capsys, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    assert cli(train_args(path, tmp_path / "c.npz", 3)) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_missing_text_and_directory(tmp_path):
    with pytest.raises(TextError, match="no such file"):
        load_text(tmp_path / "nope.txt")
    with pytest.raises(TextError, match="is a directory"):
        load_text(tmp_path)


def test_shipped_corpus_loads():
    text = load_text()
    assert 100_000 < len(text.encode()) < 200 * 1024
    assert text.startswith("CHAPTER 1\n\nIn the beginning God created the heaven")


# ---------------------------------------------------------------------- sampling
def test_samples_use_only_vocabulary_characters():
    vocab = Vocabulary.from_text(TINY)
    model = CharRNN.init("gru", len(vocab), 8, seed=0)
    for temperature in (0.3, 1.0, 3.0):
        text = sample(model, vocab, "the ", 300, temperature, np.random.default_rng(1))
        assert len(text) == 300 and set(text) <= set(vocab.chars)


def test_low_temperature_sampling_picks_the_most_likely_character():
    """At temperature -> 0 sampling is argmax: follow the model by hand and compare."""
    vocab = Vocabulary.from_text(TINY)
    model = CharRNN.init("rnn", len(vocab), 8, seed=4)
    P = {n: p.data for n, p in model.parameters().items()}
    h = np.zeros(8)
    for c in "the ":
        h = np.tanh(P["W_xh"][vocab.index[c]] + h @ P["W_hh"] + P["b_h"])
    expected = ""
    for _ in range(10):
        i = int(np.argmax(h @ P["W_hy"] + P["b_y"]))
        expected += vocab.chars[i]
        h = np.tanh(P["W_xh"][i] + h @ P["W_hh"] + P["b_h"])
    assert sample(model, vocab, "the ", 10, 1e-6, np.random.default_rng(0)) == expected


def test_sampling_errors():
    vocab = Vocabulary.from_text(TINY)
    model = CharRNN.init("rnn", len(vocab), 4)
    with pytest.raises(ValueError, match="character 'Z' is not in the vocabulary"):
        sample(model, vocab, "Zebra", 5)
    with pytest.raises(ValueError, match="temperature must be a positive number"):
        sample(model, vocab, "", 5, temperature=0)


def test_vocabulary_is_sorted_and_round_trips():
    vocab = Vocabulary.from_text("banana!")
    assert vocab.chars == "!abn"
    assert vocab.decode(vocab.encode("nab!")) == "nab!"
    assert list(vocab.encode("ab")) == [1, 2]


def test_float32_runs_and_resumes(tmp_path, capsys):
    text = write_text(tmp_path)
    whole, part = tmp_path / "whole.npz", tmp_path / "part.npz"
    assert cli(train_args(text, whole, 6, "--dtype", "float32", cell="gru")) == 0
    assert cli(train_args(text, part, 3, "--dtype", "float32", cell="gru")) == 0
    assert cli(train_args(text, part, 6, "--dtype", "float32", "--resume", cell="gru")) == 0
    a, b = saved(whole), saved(part)
    assert a["param.W_h"].dtype == np.float32
    for k in a:
        if k.startswith("param."):
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_bad_options_are_clear_errors(tmp_path, capsys):
    text = write_text(tmp_path)
    assert cli(["train", "char-rnn", "--text", str(text), "--resume"]) == 2
    assert "--resume needs --checkpoint PATH" in capsys.readouterr().err
    assert cli(["train", "char-rnn", "--text", str(text), "--prompt", "XYZ", "--batch", "2",
                "--bptt", "8", "--steps", "1"]) == 2
    assert "--prompt 'XYZ': character 'X' is not in the vocabulary" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli(["train", "char-rnn", "--hidden", "0"])
    assert "expected a positive integer, got '0'" in capsys.readouterr().err
    assert cli(train_args(text, tmp_path / "no" / "c.npz", 2)) == 2
    assert "the folder" in capsys.readouterr().err


def test_bad_chunks_are_named():
    model = CharRNN.init("rnn", 5, 4)
    state = model.initial_state(2)
    with pytest.raises(ValueError, match=r"expected integer ids of shape \(B, T \+ 1\)"):
        model.loss(np.zeros(6, dtype=int), state)
    with pytest.raises(ValueError, match=r"ids must be in \[0, 4\].*got 0..7"):
        model.loss(np.array([[0, 7], [1, 2]]), state)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_a_diverged_run_stops_with_advice():
    trainer = Trainer(TINY * 4, options())
    trainer.model.params["b_y"].data[0] = np.inf     # as if the updates had blown up
    with pytest.raises(FloatingPointError, match=r"step 1: the loss is (nan|inf).*smaller --lr"):
        trainer.train_step()


def test_a_device_or_a_pipe_is_refused_not_read_forever(tmp_path, monkeypatch):
    with pytest.raises(TextError, match="not a regular file"):
        load_text("/dev/zero")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(TextError, match="not a regular file"):
        load_text(fifo)
    big = tmp_path / "big.txt"
    big.write_text("abc")
    monkeypatch.setattr(char_rnn, "MAX_TEXT_BYTES", 2)
    with pytest.raises(TextError, match="3 bytes, more than the 2"):
        load_text(big)
