"""``autograd-mini train char-rnn``: train the character model with truncated BPTT.

One training step: read the next chunk of T = --bptt characters from each of the B =
--batch streams, carrying the hidden state over from the previous chunk (detached, so
backward runs over T steps only), backward, clip the gradients' global norm, update.
The chunk a step reads depends only on the step number (the state restarts from zero
at each pass over the text), so a run is a pure function of its options and --seed.

Checkpoints (--checkpoint PATH, one .npz, written to a temporary file and then renamed,
so a crash never leaves half a file): the parameters, the optimizer's state, the
vocabulary, the step, the carried hidden state, the smoothed loss and the loss history,
and the options that define the run. No random-generator state needs saving: the only
randomness after initialization is sampling, whose generator is seeded by (--seed, step).
So --resume continues bit for bit where the run stopped (same losses, same parameters).
"""
import argparse
import hashlib
import json
import math
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np

from autograd_mini import Tensor
from autograd_mini.optim import OPTIMIZERS, clip_grad_norm
from autograd_mini.models.char_rnn import (CELLS, DEFAULT_TEXT, LN2, CharRNN, TextError,
                                           Vocabulary, load_text, sample, streams)

# Learning rates that worked on the shipped text in 2,000 steps (hidden 128, batch 32,
# bptt 32): Adam 5e-3 for the rnn (2e-3: 2.01 bits/char, 1e-2: 1.92, 5e-3: 1.88) and
# 1e-2 for the gated cells (2e-3: 2.23, 2e-2: 1.62, 1e-2: 1.58 for the lstm).
DEFAULT_LR = {"adam": {"rnn": 5e-3, "lstm": 1e-2, "gru": 1e-2},
              "adagrad": {"rnn": 0.1, "lstm": 0.1, "gru": 0.1},
              "sgd": {"rnn": 0.5, "lstm": 0.5, "gru": 0.5}}
SMOOTHING = 0.98        # smoothed loss = 0.98 * smoothed + 0.02 * this step's loss
# The options that define a run: a checkpoint resumes only under the same ones.
RUN_OPTIONS = ("cell", "hidden", "bptt", "batch", "optim", "lr", "momentum", "clip", "seed",
               "dtype")


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed: missing, damaged, or from another run."""


class OptionError(ValueError):
    """Options that do not fit together, or a path that cannot be written."""


# ---------------------------------------------------------------------- the run
class Trainer:
    """Everything a run is: model, optimizer, data streams, step, carried state.

    ``options`` is a dict with the keys of RUN_OPTIONS; ``text`` the training text.
    """

    def __init__(self, text, options):
        self.options = dict(options)
        o = self.options
        self.text_sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
        self.vocab = Vocabulary.from_text(text)
        self.data = streams(self.vocab.encode(text), o["batch"], o["bptt"])
        self.chunks_per_epoch = (self.data.shape[1] - 1) // o["bptt"]
        self.model = CharRNN.init(o["cell"], len(self.vocab), o["hidden"], seed=o["seed"],
                                  dtype=np.dtype(o["dtype"]))
        params = list(self.model.parameters().values())
        if o["optim"] == "sgd":
            self.optimizer = OPTIMIZERS["sgd"](params, lr=o["lr"], momentum=o["momentum"])
        else:
            self.optimizer = OPTIMIZERS[o["optim"]](params, lr=o["lr"])
        self.step = 0                   # steps done
        self.state = None               # the hidden state carried into the next chunk
        self.smoothed = None
        self.history = []               # each step's loss, nats per character
        self.grad_norms = []

    def train_step(self):
        """One chunk forward, backward, clip, update. Returns the chunk's loss in nats."""
        o = self.options
        T = o["bptt"]
        k = self.step % self.chunks_per_epoch
        if k == 0 or self.state is None:            # a new pass over the text
            self.state = self.model.initial_state(o["batch"])
        chunk = self.data[:, k * T:k * T + T + 1]
        self.optimizer.zero_grad()
        loss, state = self.model.loss(chunk, self.state)
        value = loss.item()
        if not math.isfinite(value):
            raise FloatingPointError(
                f"step {self.step + 1}: the loss is {value}; training diverged. Try a "
                f"smaller --lr (now {o['lr']:g}) or a smaller --clip (now {o['clip']:g}).")
        loss.backward()
        self.state = self.model.detach_state(state)  # truncated BPTT: cut here
        params = self.optimizer.params
        self.grad_norms.append(clip_grad_norm(params, o["clip"]) if o["clip"] > 0 else
                               math.sqrt(sum(float(np.vdot(p.grad, p.grad)) for p in params
                                             if p.grad is not None)))
        self.optimizer.step()
        self.step += 1
        self.history.append(value)
        self.smoothed = value if self.smoothed is None else \
            SMOOTHING * self.smoothed + (1 - SMOOTHING) * value
        return value

    def sample(self, length, temperature, prompt=""):
        """A sample whose randomness depends only on (seed, step): reproducible."""
        rng = np.random.default_rng([self.options["seed"], self.step])
        return sample(self.model, self.vocab, prompt, length, temperature, rng)

    # ------------------------------------------------------------------ checkpoints
    def save(self, path):
        """Write the whole run to ``path`` (.npz), atomically."""
        path = Path(path)
        arrays = {f"param.{n}": p.data for n, p in self.model.parameters().items()}
        arrays.update(self.optimizer.state_dict())
        state = () if self.state is None else \
            (self.state if isinstance(self.state, tuple) else (self.state,))
        for i, s in enumerate(state):
            arrays[f"state.{i}"] = s.data
        meta = {"format": "autograd-mini char-rnn checkpoint 1", "options": self.options,
                "step": self.step, "text_sha256": self.text_sha256,
                "smoothed": self.smoothed, "states": len(state)}
        arrays["meta"] = np.array(json.dumps(meta))
        arrays["vocab"] = np.array(self.vocab.chars)
        arrays["history"] = np.array(self.history, dtype=np.float64)
        arrays["grad_norms"] = np.array(self.grad_norms, dtype=np.float64)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)

    def load(self, path):
        """Restore a run saved by ``save``; its options and text must be this run's."""
        try:
            with np.load(path, allow_pickle=False) as z:
                d = {k: z[k] for k in z.files}
            meta = json.loads(str(d["meta"]))
        except FileNotFoundError:
            raise CheckpointError(f"--resume: no checkpoint at {path} (run once without "
                                  "--resume to create it)") from None
        except (OSError, ValueError, KeyError) as e:
            raise CheckpointError(f"--resume: {path} is not a readable char-rnn checkpoint "
                                  f"({e})") from None
        differ = [f"--{k} {meta['options'].get(k)!r} (this run: {self.options[k]!r})"
                  for k in RUN_OPTIONS if meta["options"].get(k) != self.options[k]]
        if differ:
            raise CheckpointError(f"--resume: {path} was made with different options: "
                                  f"{', '.join(differ)}. Resume with the same options, or "
                                  "start a new checkpoint.")
        if meta["text_sha256"] != self.text_sha256 or str(d["vocab"]) != self.vocab.chars:
            raise CheckpointError(f"--resume: {path} was trained on another text; pass the "
                                  "same --text (or none, for the shipped one)")
        for n, p in self.model.parameters().items():
            p.data = d[f"param.{n}"].astype(p.data.dtype)   # a fresh, writeable array
        self.optimizer.load_state_dict(d)
        self.step = int(meta["step"])
        self.smoothed = meta["smoothed"]
        state = tuple(Tensor(d[f"state.{i}"]) for i in range(meta["states"]))
        self.state = None if not state else (state if len(state) > 1 else state[0])
        self.history = [float(v) for v in d["history"]]
        self.grad_norms = [float(v) for v in d["grad_norms"]]


# ---------------------------------------------------------------------- the command
def add_arguments(parser):
    parser.add_argument("model", choices=["char-rnn"], help="what to train")
    a = parser.add_argument
    a("--cell", choices=CELLS, default="rnn", help="recurrent cell (default: rnn)")
    a("--hidden", type=_positive_int, default=128, help="hidden size H (default: 128)")
    a("--steps", type=_positive_int, default=2000,
      help="train until this many steps in total (default: 2000)")
    a("--bptt", type=_positive_int, default=32,
      help="characters per chunk: backpropagate through this many steps (default: 32)")
    a("--batch", type=_positive_int, default=32,
      help="streams of text read side by side (default: 32)")
    a("--optim", choices=sorted(OPTIMIZERS), default="adam", help="optimizer (default: adam)")
    a("--lr", type=_positive_float, default=None,
      help="learning rate (default: adam 5e-3 for rnn, 1e-2 for lstm and gru; "
           "adagrad 0.1; sgd 0.5)")
    a("--momentum", type=float, default=0.9, help="SGD momentum (default: 0.9)")
    a("--clip", type=float, default=5.0,
      help="clip the gradients' global norm to this (0: no clipping; default: 5)")
    a("--seed", type=int, default=0, help="seed of the weights and the samples (default: 0)")
    a("--dtype", choices=["float64", "float32"], default="float64")
    a("--text", type=Path, default=None,
      help=f"train on this UTF-8 text file (default: the shipped {DEFAULT_TEXT.name})")
    a("--sample-every", type=_nonnegative_int, default=500, metavar="N",
      help="print a sample every N steps (0: only at the end; default: 500)")
    a("--sample-length", type=_nonnegative_int, default=300, metavar="N",
      help="characters per sample (default: 300)")
    a("--temperature", type=_positive_float, default=0.8,
      help="sampling temperature: lower is safer, higher wilder (default: 0.8)")
    a("--prompt", default="", help="text the samples start from (default: none)")
    a("--checkpoint", type=Path, default=None, metavar="PATH",
      help="save the run to this .npz every --checkpoint-every steps, at the end and on "
           "Ctrl-C")
    a("--checkpoint-every", type=_positive_int, default=500, metavar="N")
    a("--resume", action="store_true",
      help="continue the run saved in --checkpoint exactly where it stopped")
    a("--metrics", type=Path, default=None, metavar="FILE",
      help="write a JSON summary here (and, with matplotlib, FILE's .png loss curve)")
    a("--no-progress", action="store_true", help="no progress bar (log lines instead)")
    a("--blas-threads", type=_positive_int, default=1, metavar="N",
      help="BLAS threads while training (needs threadpoolctl; default: 1, the fastest "
           "for these small matrices, by far on a busy machine)")


def run(args):
    try:
        return _run(args)
    except (TextError, CheckpointError, OptionError, FloatingPointError) as e:
        print(f"autograd-mini train: error: {e}", file=sys.stderr)
        return 2


def options_of(args):
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optim][args.cell]
    return {"cell": args.cell, "hidden": args.hidden, "bptt": args.bptt,
            "batch": args.batch, "optim": args.optim, "lr": lr, "momentum": args.momentum,
            "clip": args.clip, "seed": args.seed, "dtype": args.dtype}


def _run(args):
    if args.resume and args.checkpoint is None:
        raise OptionError("--resume needs --checkpoint PATH (the run to continue)")
    if not 0 <= args.momentum < 1:
        raise OptionError(f"--momentum must be in [0, 1), got {args.momentum}")
    for flag, path in (("--checkpoint", args.checkpoint), ("--metrics", args.metrics)):
        if path is not None and not path.resolve().parent.is_dir():
            raise OptionError(f"{flag} {path}: the folder {path.parent} does not exist")
    text = load_text(args.text)
    trainer = Trainer(text, options_of(args))
    try:
        trainer.vocab.encode(args.prompt)
    except ValueError as e:
        raise TextError(f"--prompt {args.prompt!r}: {e}") from None
    if args.resume:
        trainer.load(args.checkpoint)
    o = trainer.options
    name = args.text or DEFAULT_TEXT.name
    print(f"char-rnn: {o['cell']}, hidden {o['hidden']}, {len(text):,} characters of {name}, "
          f"vocabulary {len(trainer.vocab)}, batch {o['batch']} x bptt {o['bptt']}, "
          f"{o['optim']} lr {o['lr']:g}, clip {o['clip']:g}, seed {o['seed']}"
          + (f"; resumed at step {trainer.step}" if args.resume else ""), flush=True)

    stop = _StopOnCtrlC()
    threads = _blas_threads(args.blas_threads)
    bar = _Progress(args, trainer)
    per_step = o["batch"] * o["bptt"]
    train_time, trained = 0.0, 0
    start_step = trainer.step
    try:
        with stop, threads:
            while trainer.step < args.steps and not stop.requested:
                t0 = time.perf_counter()
                trainer.train_step()
                train_time += time.perf_counter() - t0
                trained += 1
                cps = trained * per_step / train_time
                bar.update(trainer, cps)
                s = trainer.step
                if args.sample_every and s % args.sample_every == 0 and s < args.steps:
                    bar.write(_sample_text(trainer, args))
                if args.checkpoint and s % args.checkpoint_every == 0:
                    trainer.save(args.checkpoint)
    finally:
        bar.close()
    cps = trained * per_step / train_time if trained else float("nan")
    if stop.requested:
        if args.checkpoint:
            trainer.save(args.checkpoint)
            print(f"interrupted at step {trainer.step}: saved {args.checkpoint}; continue with "
                  "the same command and --resume", file=sys.stderr)
        else:
            print(f"interrupted at step {trainer.step} (no --checkpoint, nothing saved)",
                  file=sys.stderr)
        return 130
    if trainer.step == start_step and args.resume:
        print(f"the checkpoint is already at step {trainer.step} >= --steps {args.steps}: "
              "nothing to do (raise --steps to train further)")
    print(_sample_text(trainer, args))
    if trainer.smoothed is not None:
        speed = f"; {cps:,.0f} characters/s" if trained else ""
        print(f"step {trainer.step}: smoothed loss {trainer.smoothed:.4f} nats = "
              f"{trainer.smoothed / LN2:.4f} bits per character{speed}")
    if args.checkpoint:
        trainer.save(args.checkpoint)
        print(f"saved {args.checkpoint}")
    if args.metrics:
        _write_metrics(args.metrics, trainer, cps, name)
    return 0


def _sample_text(trainer, args):
    text = trainer.sample(args.sample_length, args.temperature, args.prompt)
    rule = "-" * 72
    return (f"{rule}\nsample at step {trainer.step} (temperature {args.temperature:g}):\n"
            f"{args.prompt}{text}\n{rule}")


def _write_metrics(path, trainer, cps, name):
    """JSON summary; with matplotlib also the loss curve next to it (.png)."""
    path = Path(path)
    h = trainer.history
    start = h[0] if h else None
    metrics = {
        "model": "char-rnn", **trainer.options, "text": str(name),
        "characters": int(trainer.data.size), "vocabulary": len(trainer.vocab),
        "steps": trainer.step,
        "start_smoothed_loss": start, "final_smoothed_loss": trainer.smoothed,
        "start_bits_per_char": start / LN2 if start is not None else None,
        "final_bits_per_char": trainer.smoothed / LN2 if trainer.smoothed is not None else None,
        "loss_unit": "nats per character (mean cross-entropy); bits = nats / ln 2",
        "chars_per_sec": None if math.isnan(cps) else cps,
    }
    png = _plot(path.with_suffix(".png"), trainer)
    if png:
        metrics["loss_curve_png"] = str(png)
    path.write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"wrote {path}" + (f" and {png}" if png else " (install matplotlib for the curve)"))


def _plot(png, trainer):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    h = np.array(trainer.history) / LN2
    if not len(h):
        return None
    smooth = np.empty_like(h)
    s = h[0]
    for i, v in enumerate(h):       # the same smoothing as the progress bar's
        s = s if i == 0 else SMOOTHING * s + (1 - SMOOTHING) * v
        smooth[i] = s
    fig, ax = plt.subplots(figsize=(7, 4))
    steps = np.arange(1, len(h) + 1)
    ax.plot(steps, h, lw=0.5, alpha=0.4, label="each step")
    ax.plot(steps, smooth, lw=1.5, label="smoothed")
    o = trainer.options
    ax.set(xlabel="step", ylabel="bits per character",
           title=f"char-rnn {o['cell']} H={o['hidden']} ({o['optim']}, lr {o['lr']:g})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return png


# ---------------------------------------------------------------------- helpers
def _blas_threads(n):
    """A context that runs BLAS on ``n`` threads, or does nothing without threadpoolctl.
    NumPy's OpenBLAS starts one thread per core; on (32, 128) matrices the threads cost
    more than they save, and when the cores are busy they wait on each other (measured
    here: a training step 5-10x slower on 2 shared cores)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        from contextlib import nullcontext
        return nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


class _StopOnCtrlC:
    """The first Ctrl-C asks the loop to stop after the current step (so the checkpoint
    is consistent); a second one interrupts at once."""

    def __init__(self):
        self.requested = False
        self._before = None

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nCtrl-C: stopping after this step (again to abort at once)", file=sys.stderr)

    def __enter__(self):
        try:
            self._before = signal.signal(signal.SIGINT, self._handler)
        except ValueError:          # not the main thread: leave Ctrl-C alone
            self._before = None
        return self

    def __exit__(self, *exc):
        if self._before is not None:
            signal.signal(signal.SIGINT, self._before)


class _Progress:
    """A tqdm bar (step, smoothed loss, bits per character, chars/s), or log lines when
    tqdm is missing or --no-progress."""

    def __init__(self, args, trainer):
        self.total = args.steps
        self.bar = None
        self.every = max(1, args.steps // 20)
        if not args.no_progress:
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=args.steps, initial=trainer.step, unit="step",
                                desc="char-rnn", dynamic_ncols=True, file=sys.stderr)

    def update(self, trainer, cps):
        s = trainer.smoothed
        text = f"loss {s:.3f} nats, {s / LN2:.3f} bits/char, {cps:,.0f} chars/s"
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(text, refresh=False)
        elif trainer.step % self.every == 0 or trainer.step == self.total:
            print(f"step {trainer.step}/{self.total}: {text}", flush=True)

    def write(self, text):
        if self.bar is not None:
            self.bar.write(text)
        else:
            print(text, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _option(convert, ok, expected):
    """An argparse type: ``convert`` the text, then require ``ok(value)``; both failures
    say what was ``expected`` and what was given."""
    def parse(s):
        try:
            v = convert(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {s!r}") from None
        if not ok(v):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {s!r}")
        return v
    return parse


_positive_int = _option(int, lambda v: v > 0, "a positive integer")
_nonnegative_int = _option(int, lambda v: v >= 0, "an integer >= 0")
_positive_float = _option(float, lambda v: v > 0 and math.isfinite(v), "a positive number")
