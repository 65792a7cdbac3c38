"""Optimizers over a list of parameters, and clipping by global norm.

    opt = Adam(params, lr=2e-3)
    opt.zero_grad()
    loss.backward()
    norm = clip_grad_norm(params, 5.0)     # a separate, visible step: never inside the gradient
    opt.step()

Each parameter is a leaf Tensor with ``requires_grad=True``; ``step()`` reads its
``.grad`` (same shape as ``.data``) and skips a parameter whose ``.grad`` is None (it took
no part in the loss), as PyTorch does.

How the update is written. After an ordinary ``backward()`` the engine has unlocked every
leaf, so the update is in place (``p.data -= ...``): any other reference to the array sees
the new values. If the array is still read-only, because a graph kept with
``retain_graph=True`` holds it (the engine's in-place write detection) or because the user
passed a read-only array, the step rebinds ``p.data`` to a new array instead: the retained
graph keeps the values it was built with, so a second backward through it stays correct.

``state_dict()`` returns a flat {name: ndarray} (ready for ``numpy.savez``) with the
hyperparameters and the per-parameter state; ``load_state_dict`` restores it exactly, so
a resumed run continues bit for bit.
"""
import math

import numpy as np

from .tensor import Tensor


class Optimizer:
    """What every optimizer shares: the parameter list, zero_grad, the update, state I/O."""

    HYPER = ()        # names of the float hyperparameters kept in the state dict
    SLOTS = ()        # names of the per-parameter state arrays (shape of the parameter)

    def __init__(self, params, **hyper):
        self.params = _check_params(params, type(self).__name__)
        for name, value in hyper.items():
            setattr(self, name, value)
        self.state = [{slot: np.zeros_like(p.data) for slot in self.SLOTS}
                      for p in self.params]
        self.steps = [0] * len(self.params)   # updates applied to each parameter

    def zero_grad(self):
        """Clear every parameter's ``.grad`` (backward accumulates into it)."""
        for p in self.params:
            p.grad = None

    def step(self):
        """Apply one update to every parameter that has a gradient."""
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad
            if g.shape != p.data.shape:
                raise ValueError(f"{type(self).__name__}.step: parameter {_label(p, i)} has "
                                 f"shape {p.data.shape} but its .grad has shape {g.shape}")
            self.steps[i] += 1
            _apply(p, self._update(g, self.state[i], self.steps[i]))

    def _update(self, g, state, t):
        """The amount to subtract from the parameter; may update ``state`` in place."""
        raise NotImplementedError

    # ------------------------------------------------------------------ state
    def state_dict(self):
        """A flat {key: ndarray}: the optimizer's name, hyperparameters, steps and state."""
        d = {"optim.type": np.array(type(self).__name__),
             "optim.steps": np.array(self.steps, dtype=np.int64)}
        for name in self.HYPER:
            d[f"optim.hyper.{name}"] = np.array(getattr(self, name), dtype=np.float64)
        for i, state in enumerate(self.state):
            for slot, a in state.items():
                d[f"optim.{i}.{slot}"] = a.copy()
        return d

    def load_state_dict(self, d):
        """Restore what ``state_dict`` returned (e.g. read back from an .npz file)."""
        name = type(self).__name__
        kind = str(d["optim.type"]) if "optim.type" in d else None
        if kind != name:
            raise ValueError(f"{name}.load_state_dict: the saved state belongs to a {kind} "
                             f"optimizer, not {name}")
        steps = np.asarray(d["optim.steps"])
        if steps.shape != (len(self.params),):
            raise ValueError(f"{name}.load_state_dict: the saved state is for {steps.size} "
                             f"parameters, this optimizer has {len(self.params)}")
        for hp in self.HYPER:
            setattr(self, hp, float(d[f"optim.hyper.{hp}"]))
        for i, (p, state) in enumerate(zip(self.params, self.state)):
            for slot in self.SLOTS:
                a = np.asarray(d[f"optim.{i}.{slot}"])
                if a.shape != p.data.shape:
                    raise ValueError(f"{name}.load_state_dict: state {slot!r} of parameter "
                                     f"{_label(p, i)} has shape {a.shape}, the parameter "
                                     f"{p.data.shape}")
                state[slot] = a.astype(p.data.dtype, copy=True)
        self.steps = [int(s) for s in steps]


class SGD(Optimizer):
    """Stochastic gradient descent with (heavy-ball) momentum:
    ``v = momentum * v + g;  p -= lr * v``  (momentum=0 is plain SGD)."""

    HYPER = ("lr", "momentum")
    SLOTS = ("velocity",)

    def __init__(self, params, lr=0.1, momentum=0.0):
        _positive(lr, "SGD", "lr")
        _fraction(momentum, "SGD", "momentum")
        super().__init__(params, lr=float(lr), momentum=float(momentum))

    def _update(self, g, state, t):
        v = state["velocity"]
        v *= self.momentum
        v += g
        return self.lr * v


class Adagrad(Optimizer):
    """Adagrad, min-char-rnn's choice: ``m += g**2;  p -= lr * g / sqrt(m + eps)``."""

    HYPER = ("lr", "eps")
    SLOTS = ("sum_sq",)

    def __init__(self, params, lr=0.1, eps=1e-8):
        _positive(lr, "Adagrad", "lr")
        _positive(eps, "Adagrad", "eps")
        super().__init__(params, lr=float(lr), eps=float(eps))

    def _update(self, g, state, t):
        m = state["sum_sq"]
        m += g * g
        return self.lr * g / np.sqrt(m + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015, Algorithm 1) with bias correction:
    ``m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g**2;
    p -= lr * (m / (1-b1**t)) / (sqrt(v / (1-b2**t)) + eps)``."""

    HYPER = ("lr", "beta1", "beta2", "eps")
    SLOTS = ("m", "v")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        _positive(lr, "Adam", "lr")
        _positive(eps, "Adam", "eps")
        beta1, beta2 = betas
        _fraction(beta1, "Adam", "beta1")
        _fraction(beta2, "Adam", "beta2")
        super().__init__(params, lr=float(lr), beta1=float(beta1), beta2=float(beta2),
                         eps=float(eps))

    def _update(self, g, state, t):
        m, v = state["m"], state["v"]
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * (g * g)
        m_hat = m / (1 - self.beta1 ** t)
        v_hat = v / (1 - self.beta2 ** t)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


OPTIMIZERS = {"sgd": SGD, "adagrad": Adagrad, "adam": Adam}


def clip_grad_norm(params, max_norm):
    """Scale every ``.grad`` by ``min(1, max_norm / total)``, where ``total`` is the L2
    norm of all gradients taken together (one vector). Returns ``total`` before clipping
    (log it: a growing norm is the first sign of exploding gradients). Parameters whose
    ``.grad`` is None are skipped. A NaN or infinite norm is returned and nothing is
    scaled, so the caller can stop with a clear message instead of writing NaN everywhere.
    """
    if not (isinstance(max_norm, (int, float)) and max_norm > 0 and math.isfinite(max_norm)):
        raise ValueError(f"clip_grad_norm: max_norm must be a positive number, got "
                         f"{max_norm!r}")
    params = _check_params(params, "clip_grad_norm", allow_duplicates=True)
    grads = [p.grad for p in dict.fromkeys(params) if p.grad is not None]
    total = math.sqrt(sum(float(np.vdot(g, g).real) for g in grads))
    if math.isfinite(total) and total > max_norm:
        scale = max_norm / (total + 1e-12)
        for p in dict.fromkeys(params):
            if p.grad is not None:
                p.grad = p.grad * np.asarray(scale, dtype=p.grad.dtype)
    return total


# ---------------------------------------------------------------------- helpers
def _apply(p, delta):
    if p.data.flags.writeable:
        p.data -= delta
    else:
        # Held read-only by a retained graph (or given read-only): leave that array as
        # the graph saw it and give the parameter a new one. The new array is not yet
        # locked by any graph, so the next forward may lock it.
        p.data = p.data - delta


def _check_params(params, who, allow_duplicates=False):
    if isinstance(params, Tensor):
        raise TypeError(f"{who}: pass a list of parameters, e.g. [W, b], not one Tensor")
    if isinstance(params, dict):
        params = list(params.values())
    params = list(params)
    if not params:
        raise ValueError(f"{who}: the parameter list is empty")
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{who}: parameter {i} is a {type(p).__name__}, expected a Tensor")
        if not p.requires_grad or not p.is_leaf:
            raise ValueError(f"{who}: parameter {_label(p, i)} must be a leaf Tensor with "
                             "requires_grad=True (an op's result is not a parameter)")
    if not allow_duplicates and len(set(map(id, params))) != len(params):
        raise ValueError(f"{who}: a parameter appears twice in the list; it would be "
                         "updated twice per step")
    return params


def _label(p, i):
    return f"{i} ({p.name!r})" if p.name else str(i)


def _positive(value, who, name):
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{who}: {name} must be a positive number, got {value!r}")


def _fraction(value, who, name):
    if not (isinstance(value, (int, float)) and 0 <= value < 1):
        raise ValueError(f"{who}: {name} must be in [0, 1), got {value!r}")


__all__ = ["Optimizer", "SGD", "Adagrad", "Adam", "OPTIMIZERS", "clip_grad_norm"]
