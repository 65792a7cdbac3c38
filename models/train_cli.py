"""``autograd-mini train char-rnn``: the command line of a training run (models/trainer.py).

Its options, checked before any work starts: numbers by argparse, and every file the run
will write (--checkpoint, --metrics and the loss curve beside it) by trying to create a
file in its folder, so a run is never lost to a bad path at its end. An existing
--checkpoint is continued with --resume or replaced with --overwrite, never silently.
Then the loop: a progress bar, samples, checkpoints every --checkpoint-every steps, at
the end and on Ctrl-C (the first finishes the step, so the file is consistent).
"""
import argparse
import json
import math
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from autograd_mini.models.char_rnn import CELLS, DEFAULT_TEXT, LN2, TextError, load_text
from autograd_mini.models.trainer import DEFAULT_LR, SMOOTHING, CheckpointError, Trainer
from autograd_mini.optim import OPTIMIZERS


class OptionError(ValueError):
    """Options that do not fit together, or a path that cannot be written."""


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
    a("--momentum", type=_momentum, default=0.9, help="SGD momentum, in [0, 1) (default: 0.9)")
    a("--clip", type=_clip, default=5.0,
      help="clip the gradients' global norm to this (0: no clipping; default: 5)")
    a("--seed", type=_nonnegative_int, default=0,
      help="seed of the weights and the samples, an integer >= 0 (default: 0)")
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
    a("--overwrite", action="store_true",
      help="start a new run even though --checkpoint already exists, replacing it")
    a("--metrics", type=Path, default=None, metavar="FILE",
      help="write a JSON summary here (and, with matplotlib, FILE's .png loss curve)")
    a("--no-progress", action="store_true", help="no progress bar (log lines instead)")
    a("--compile", action="store_true",
      help="run each step as the NumPy program autograd_mini.compile generates (traced "
           "once; the same losses up to rounding, faster)")
    a("--blas-threads", type=_positive_int, default=1, metavar="N",
      help="BLAS threads while training (needs threadpoolctl; default: 1, the fastest "
           "for these small matrices, by far on a busy machine)")


def run(args):
    try:
        return _run(args)
    except (TextError, CheckpointError, OptionError, FloatingPointError) as e:
        print(f"autograd-mini train: error: {e}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"autograd-mini train: error: out of memory for --hidden {args.hidden}, "
              f"--batch {args.batch}, --bptt {args.bptt}: try smaller ones",
              file=sys.stderr)
        return 2


def options_of(args):
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optim][args.cell]
    return {"cell": args.cell, "hidden": args.hidden, "bptt": args.bptt,
            "batch": args.batch, "optim": args.optim, "lr": lr, "momentum": args.momentum,
            "clip": args.clip, "seed": args.seed, "dtype": args.dtype}


def _run(args):
    check_outputs(args)
    text = load_text(args.text)
    trainer = Trainer(text, options_of(args), compile=args.compile)
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
    """The loss curve as a .png, drawn on a Figure of its own: pyplot and the user's
    matplotlib backend are left alone (in a notebook, their plt.show() keeps working)."""
    try:
        from matplotlib.figure import Figure
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
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    steps = np.arange(1, len(h) + 1)
    ax.plot(steps, h, lw=0.5, alpha=0.4, label="each step")
    ax.plot(steps, smooth, lw=1.5, label="smoothed")
    o = trainer.options
    ax.set(xlabel="step", ylabel="bits per character",
           title=f"char-rnn {o['cell']} H={o['hidden']} ({o['optim']}, lr {o['lr']:g})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    return png


# ---------------------------------------------------------------------- output paths
def check_outputs(args):
    """Every file this run will write, checked before any work starts (OptionError)."""
    if args.resume and args.checkpoint is None:
        raise OptionError("--resume needs --checkpoint PATH (the run to continue)")
    if args.resume and args.overwrite:
        raise OptionError("--resume continues --checkpoint and --overwrite replaces it: "
                          "give one of them")
    outputs = []
    if args.checkpoint is not None:
        outputs.append(("--checkpoint", args.checkpoint, "run.npz"))
        if args.resume and not args.checkpoint.exists():
            raise OptionError(f"--resume: no checkpoint at {args.checkpoint} (run once "
                              "without --resume to create it)")
        if args.checkpoint.is_file() and not (args.resume or args.overwrite):
            raise OptionError(f"--checkpoint {args.checkpoint} already exists: pass --resume "
                              "to continue that run, or --overwrite to start a new one "
                              "in its place")
    if args.metrics is not None:
        if args.metrics.suffix.lower() == ".png":
            raise OptionError(f"--metrics {args.metrics}: the JSON summary cannot end in "
                              ".png, the name of the loss curve written beside it")
        outputs += [("--metrics", args.metrics, "run.json"),
                    ("--metrics (its loss curve)", args.metrics.with_suffix(".png"),
                     "run.png")]
    for flag, path, example in outputs:
        check_writable(flag, path, example)
    for i, (flag, path, _) in enumerate(outputs):
        for other, path2, _ in outputs[i + 1:]:
            if _same(path, path2):
                raise OptionError(f"{flag} and {other} name the same file, {path}")


def check_writable(flag, path, example="out.txt"):
    """Raise OptionError unless a file can be written at ``path``: not a folder, in a
    folder that exists and takes new files. Tried for real, with a file created and
    removed at once there: permission bits do not tell for root, read-only mounts, /proc."""
    path = Path(path)
    if path.is_dir():
        raise OptionError(f"{flag} {path} is a folder; give a file name, such as "
                          f"{path / example}")
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise OptionError(f"{flag} {path}: the folder {folder} {what}")
    if path.exists() and not path.is_file():
        raise OptionError(f"{flag} {path} exists and is not a regular file")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".probe")
    except OSError as e:
        raise OptionError(f"{flag} {path}: cannot create files in {folder} "
                          f"({e.strerror})") from None
    os.close(fd)
    os.unlink(probe)
    if path.exists() and not os.access(path, os.W_OK):
        raise OptionError(f"{flag} {path} exists and is not writable")


def _same(a, b):
    return Path(a).resolve() == Path(b).resolve()


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
_momentum = _option(float, lambda v: 0 <= v < 1, "a number in [0, 1)")
_clip = _option(float, lambda v: v == 0 or (v > 0 and math.isfinite(v)),
                "0 (no clipping) or a positive number")
