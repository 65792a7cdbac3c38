"""Bench: one network at one case, with its forward values and autodiff quantities.

Claims read everything they need from a bench: ``b.v(name)`` forward values and
parameters, ``b.grad(name)`` gradients by autodiff, ``b.local_jacobian(...)`` Jacobians of
a small map by autodiff. Every autodiff quantity handed out is remembered, and
``b.fd_checks()`` compares them all with central finite differences: so a claim is never
judged against an autodiff value that finite differences did not confirm.
"""
from dataclasses import dataclass

import numpy as np

from autograd_mini import Tensor, jacobian, no_grad, numerical_jacobian

from ...probe import Probe

EPS = 1e-6              # central-difference step, float64
FD_RTOL, FD_ATOL = 1e-6, 1e-7


@dataclass
class FDCheck:
    """Autodiff against finite differences for one quantity (or a bundle of them)."""
    what: str
    autodiff: float
    numeric: float
    ok: bool
    scale: float | None = None    # a Jacobian's largest |entry|: the error is relative to it

    @property
    def rel_err(self):
        # never relative to less than FD_ATOL: below it a central difference resolves
        # nothing (a 1e-13 gradient, vanished over 19 steps, reads as 0), as in ``ok``
        scale = max(self.scale or 0.0, abs(self.autodiff), abs(self.numeric), FD_ATOL)
        return abs(self.autodiff - self.numeric) / scale


class Bench:
    """A network evaluated at one case: values, gradients, Jacobians, FD checks."""

    def __init__(self, network, case, seed=0):
        self.network = network
        self.case = case
        self.T = case.get("T")
        self.data = network.data
        self._rng = np.random.default_rng(seed)
        self._params = {n: np.asarray(a, dtype=np.float64) for n, a in network.params.items()}
        with no_grad():
            probe, loss = self._run({})
        self._values = {n: t.data for n, t in probe.values.items()}
        self._values.setdefault("L", loss.data)
        self._names = [n for n, a in self._values.items()
                       if a.dtype.kind == "f" and n not in self._params]
        self._grads = {}          # of -> {name: dL/dname}
        self._used = {}           # of -> names whose gradient a claim read
        self._local = {}          # key -> (jacobian, fn, at)
        self._checks = None

    # ------------------------------------------------------------------ running
    def _run(self, offsets, grad=False):
        """Forward with ``offsets`` added to named values and parameters."""
        params = {}
        for n, a in self._params.items():
            p = Tensor(a, requires_grad=grad, name=n)
            params[n] = p + offsets[n] if n in offsets else p
        probe = Probe({n: d for n, d in offsets.items() if n not in self._params})
        loss = self.network.forward(params, probe)
        return probe, loss, *([params] if grad else [])

    def _output(self, probe, loss, of):
        if of == "L" and "L" not in probe.values:
            return loss
        return probe.values[of]

    # ------------------------------------------------------------------ reading
    def v(self, name):
        """The forward value of ``name`` (a probed value or a parameter), an ndarray."""
        if name in self._params:
            return self._params[name]
        try:
            return self._values[name]
        except KeyError:
            raise KeyError(f"no value named {name!r} at case {self.case}; the network "
                           f"probes {sorted(self._values)[:12]}...") from None

    def has(self, name):
        return name in self._params or name in self._values

    def grad(self, wrt, of="L"):
        """d(of)/d(wrt) by autodiff: ``wrt`` a probed value or a parameter, ``of`` a scalar
        (the loss "L" by default, or a per-step loss such as "L(3)"). Shape of ``wrt``."""
        if of not in self._grads:
            self._grads[of] = self._all_grads(of)
        grads = self._grads[of]
        if wrt not in grads:
            raise KeyError(f"no value or parameter named {wrt!r} at case {self.case}")
        self._used.setdefault(of, set()).add(wrt)
        self._checks = None
        return grads[wrt]

    def _all_grads(self, of):
        """One backward pass gives the gradient on every probed value and parameter."""
        offsets = {n: Tensor(np.zeros_like(self._values[n]), requires_grad=True)
                   for n in self._names}
        probe, loss, params = self._run(offsets, grad=True)
        out = self._output(probe, loss, of)
        if out.data.size != 1:
            raise ValueError(f"grad(of={of!r}): {of} has shape {out.shape}, not a scalar; "
                             "use local_jacobian for a Jacobian")
        out.backward()
        leaves = {**params, **offsets}      # params are plain leaves in this run
        return {n: (t.grad if t.grad is not None else np.zeros_like(t.data))
                for n, t in leaves.items()}

    def local_jacobian(self, key, fn, at):
        """d fn(x) / d x at x = ``at`` by autodiff (autograd_mini.jacobian), shape
        fn(at).shape + at.shape. ``fn`` maps a Tensor to a Tensor and is built from the
        forward values (e.g. ``lambda h: (c + V @ h).softmax()``); ``key`` names it for
        the cache and the finite-difference report."""
        if key not in self._local:
            at = np.asarray(at, dtype=np.float64)
            self._local[key] = (jacobian(fn, at), fn, at)
            self._checks = None
        return self._local[key][0]

    def derivative_along(self, direction, of="L"):
        """d/ds of(values + s * direction) at s = 0 by autodiff, a float: the directional
        derivative along ``direction`` (name -> array), through a graph of its own."""
        def f(s):
            probe, loss = self._run({n: s * d for n, d in direction.items()})
            return self._output(probe, loss, of)
        return float(jacobian(f, np.zeros(())))

    # ------------------------------------------------------------------ checking autodiff
    def fd_checks(self):
        """Every autodiff quantity handed out so far, against central finite differences.

        Gradients of one output are checked together along two random directions (two
        forward passes each, whatever their number); on a failure each is checked alone
        to name the culprit. Local Jacobians are checked entry by entry.
        """
        if self._checks is None:
            checks = []
            for of, names in self._used.items():
                checks += self._check_grads(of, sorted(names))
            for key, (jac, fn, at) in self._local.items():
                checks.append(self._check_local(key, jac, fn, at))
            self._checks = checks
        return self._checks

    def _check_grads(self, of, names):
        grads = self._grads[of]
        checks = []
        for _ in range(2):
            dirs = {n: self._rng.standard_normal(np.shape(grads[n])) for n in names}
            checks.append(self._directional(of, dirs, f"d{of}/d[{', '.join(names[:6])}"
                                            f"{', ...' if len(names) > 6 else ''}]"))
        if all(c.ok for c in checks):
            return checks[:1]
        return [self._directional(of, {n: self._rng.standard_normal(np.shape(grads[n]))},
                                  f"d{of}/d{n}") for n in names]

    def _directional(self, of, dirs, what):
        grads = self._grads[of]
        auto = float(sum(np.sum(grads[n] * d) for n, d in dirs.items()))
        with no_grad():
            plus = self._output(*self._run({n: EPS * d for n, d in dirs.items()}), of)
            minus = self._output(*self._run({n: -EPS * d for n, d in dirs.items()}), of)
        numeric = float((plus.data - minus.data) / (2 * EPS))
        ok = abs(auto - numeric) <= FD_ATOL + FD_RTOL * max(abs(auto), abs(numeric))
        return FDCheck(what, auto, numeric, ok)

    def _check_local(self, key, jac, fn, at):
        numeric = numerical_jacobian(fn, at, eps=EPS)
        k = np.unravel_index(int(np.argmax(np.abs(jac - numeric))), jac.shape) \
            if jac.size else ()
        ok = bool(np.all(np.abs(jac - numeric) <= FD_ATOL + FD_RTOL * np.abs(numeric)))
        # relative to the Jacobian's largest entry, as the verdicts measure
        scale = float(np.max(np.abs(numeric))) if jac.size else None
        return FDCheck(f"{key}{list(k)}", float(jac[k]) if jac.size else 0.0,
                       float(numeric[k]) if jac.size else 0.0, ok, scale or None)
