"""One training run of the character model: truncated BPTT, and checkpoints that resume exactly.

One training step: read the next chunk of T = ``bptt`` characters from each of the B =
``batch`` streams, carrying the hidden state over from the previous chunk (detached, so
backward runs over T steps only), backward, clip the gradients' global norm, update.
The chunk a step reads depends only on the step number (the state restarts from zero
at each pass over the text), so a run is a pure function of its options and seed.

Checkpoints (one .npz, written to a temporary file in the same folder and then renamed,
so a crash never leaves half a file): the parameters, the optimizer's state, the
vocabulary, the step, the carried hidden state, the smoothed loss and the loss history,
and the options that define the run. No random-generator state needs saving: the only
randomness after initialization is sampling, whose generator is seeded by (seed, step).
So a resumed run continues bit for bit where the saved one stopped. A file that is not
such a checkpoint (empty, truncated, corrupted, another format, keys missing, values that
are not finite) is a ``CheckpointError`` whose one sentence names the file and the fault.
"""
import hashlib
import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np

import autograd_mini
from autograd_mini import Tensor
from autograd_mini.optim import OPTIMIZERS, clip_grad_norm
from autograd_mini.models.char_rnn import CharRNN, Vocabulary, sample, streams

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
FORMAT = "autograd-mini char-rnn checkpoint 1"
META_KEYS = ("format", "options", "step", "text_sha256", "smoothed", "states")
ZIP_MAGIC = b"PK\x03\x04"       # an .npz is a zip archive


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed: missing, damaged, or from another run."""


class Trainer:
    """Everything a run is: model, optimizer, data streams, step, carried state.

    ``options`` is a dict with the keys of RUN_OPTIONS; ``text`` the training text.
    ``compile``: run each chunk's loss and backward as the program autograd_mini.compile
    generates (traced once; the same numbers as eager up to rounding).
    """

    def __init__(self, text, options, compile=False):
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
        self.compiled = autograd_mini.compile(self.model.chunk_loss) if compile else None

    def chunk_loss(self, chunk):
        """The chunk's loss Tensor and the state after it (compiled or eager)."""
        if self.compiled is None:
            return self.model.loss(chunk, self.state)
        inputs, targets = chunk[:, :-1], np.ascontiguousarray(chunk[:, 1:].T).reshape(-1)
        return self.compiled(inputs, targets, self.state)

    def train_step(self):
        """One chunk forward, backward, clip, update. Returns the chunk's loss in nats."""
        o = self.options
        T = o["bptt"]
        k = self.step % self.chunks_per_epoch
        if k == 0 or self.state is None:            # a new pass over the text
            self.state = self.model.initial_state(o["batch"])
        chunk = self.data[:, k * T:k * T + T + 1]
        self.optimizer.zero_grad()
        loss, state = self.chunk_loss(chunk)
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
    def _arrays(self):
        """The whole run as {key: ndarray}: what ``save`` writes and ``load`` expects."""
        arrays = {f"param.{n}": p.data for n, p in self.model.parameters().items()}
        arrays.update(self.optimizer.state_dict())
        state = () if self.state is None else \
            (self.state if isinstance(self.state, tuple) else (self.state,))
        for i, s in enumerate(state):
            arrays[f"state.{i}"] = s.data
        meta = {"format": FORMAT, "options": self.options, "step": self.step,
                "text_sha256": self.text_sha256, "smoothed": self.smoothed,
                "states": len(state)}
        arrays["meta"] = np.array(json.dumps(meta))
        arrays["vocab"] = np.array(self.vocab.chars)
        arrays["history"] = np.array(self.history, dtype=np.float64)
        arrays["grad_norms"] = np.array(self.grad_norms, dtype=np.float64)
        return arrays

    def save(self, path):
        """Write the whole run to ``path`` (.npz), atomically: into a temporary file of
        the same folder, renamed over ``path`` when complete, removed if anything fails."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        try:
            with open(tmp, "wb") as f:
                np.savez(f, **self._arrays())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def load(self, path):
        """Restore a run saved by ``save``; its options and text must be this run's."""
        d = read_checkpoint(path)
        meta = _meta(path, d)
        differ = [f"--{k} {meta['options'].get(k)!r} (this run: {self.options[k]!r})"
                  for k in RUN_OPTIONS if meta["options"].get(k) != self.options[k]]
        if differ:
            raise CheckpointError(f"--resume: {path} was made with different options: "
                                  f"{', '.join(differ)}. Resume with the same options, or "
                                  "start a new checkpoint.")
        _check_arrays(path, d, {"vocab": ()})
        if meta["text_sha256"] != self.text_sha256 or str(d["vocab"]) != self.vocab.chars:
            raise CheckpointError(f"--resume: {path} was trained on another text; pass the "
                                  "same --text (or none, for the shipped one)")
        _check_arrays(path, d, self._expected(meta))
        for n, p in self.model.parameters().items():
            p.data = d[f"param.{n}"].astype(p.data.dtype)   # a fresh, writeable array
        self.optimizer.load_state_dict(d)
        self.step = int(meta["step"])
        self.smoothed = meta["smoothed"]
        state = tuple(Tensor(d[f"state.{i}"]) for i in range(meta["states"]))
        self.state = None if not state else (state if len(state) > 1 else state[0])
        self.history = [float(v) for v in d["history"]]
        self.grad_norms = [float(v) for v in d["grad_norms"]]

    def _expected(self, meta):
        """{key: shape or None} of every array a checkpoint of this run holds (None: any
        shape); the carried state's shapes are those of a fresh initial state."""
        expected = {f"param.{n}": p.shape for n, p in self.model.parameters().items()}
        expected.update({k: np.shape(a) for k, a in self.optimizer.state_dict().items()})
        fresh = self.model.initial_state(self.options["batch"])
        fresh = fresh if isinstance(fresh, tuple) else (fresh,)
        if meta["states"] not in (0, len(fresh)):
            raise CheckpointError(f"--resume: {self.options['cell']} runs carry "
                                  f"{len(fresh)} state array(s), the checkpoint's metadata "
                                  f"says {meta['states']}")
        expected.update({f"state.{i}": s.shape for i, s in
                         enumerate(fresh[:meta["states"]])})
        expected.update({"vocab": (), "history": None, "grad_norms": None})
        return expected


def read_checkpoint(path):
    """{key: ndarray} from the .npz at ``path``, read without pickle, or a CheckpointError
    saying in one sentence what is wrong with the file."""
    where = f"--resume: {path}"
    try:
        with open(path, "rb") as f:
            head = f.read(len(ZIP_MAGIC))
    except FileNotFoundError:
        raise CheckpointError(f"--resume: no checkpoint at {path} (run once without "
                              "--resume to create it)") from None
    except OSError as e:
        raise CheckpointError(f"{where}: cannot read it ({e.strerror})") from None
    if not head:
        raise CheckpointError(f"{where} is empty (0 bytes), not a checkpoint") from None
    if head != ZIP_MAGIC:
        raise CheckpointError(f"{where} is not a checkpoint: checkpoints are NumPy .npz "
                              f"(zip) files, and this one starts with the bytes {head!r}")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as e:
        raise CheckpointError(f"{where} is damaged, truncated or corrupted after it was "
                              f"written ({type(e).__name__}: {e}); start a new run without "
                              "--resume, or resume from a copy") from None


def _meta(path, d):
    """The checkpoint's metadata, checked for the keys and format ``load`` relies on."""
    where = f"--resume: {path}"
    if "meta" not in d:
        raise CheckpointError(f"{where} holds no 'meta' entry: it is an .npz file but not a "
                              "char-rnn checkpoint")
    try:
        meta = json.loads(str(d["meta"]))
    except ValueError:
        raise CheckpointError(f"{where}: its 'meta' entry is not valid JSON (the file was "
                              "changed after it was written)") from None
    missing = [k for k in META_KEYS if not isinstance(meta, dict) or k not in meta]
    if missing:
        raise CheckpointError(f"{where}: its metadata lacks {', '.join(missing)}, so it was "
                              "not written by this version of autograd-mini train")
    if meta["format"] != FORMAT:
        raise CheckpointError(f"{where} is a {meta['format']!r} file; this version reads "
                              f"{FORMAT!r}")
    kinds = {"options": dict, "step": int, "states": int, "text_sha256": str}
    wrong = [k for k, kind in kinds.items() if not isinstance(meta[k], kind)]
    smoothed = meta["smoothed"]
    if smoothed is not None and not (isinstance(smoothed, float) and math.isfinite(smoothed)):
        wrong.append("smoothed")
    if wrong:
        raise CheckpointError(f"{where}: its metadata has unusable {', '.join(wrong)} "
                              f"({', '.join(repr(meta[k]) for k in wrong)})")
    return meta


def _check_arrays(path, d, expected):
    """Every array ``expected`` ({key: shape or None}) is there, of that shape, finite."""
    where = f"--resume: {path}"
    missing = [k for k in expected if k not in d]
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise CheckpointError(f"{where} lacks {', '.join(missing[:3])}{more}: it is not a "
                              "complete char-rnn checkpoint of this run")
    for k, shape in expected.items():
        if shape is not None and d[k].shape != shape:
            raise CheckpointError(f"{where}: {k} has shape {d[k].shape}, this run's has "
                                  f"shape {shape}")
        if d[k].dtype.kind in "fc" and not np.all(np.isfinite(d[k])):
            bad = int(np.size(d[k]) - np.count_nonzero(np.isfinite(d[k])))
            raise CheckpointError(f"{where}: {k} holds {bad} NaN or infinite value(s), so "
                                  "the run it saved had diverged or the file was changed; "
                                  "resume from an earlier checkpoint or start a new run")
