"""Probe: name the values of one forward pass, and add an offset to any of them.

A network written to be checked calls ``probe(name, tensor)`` on every value a source
names, e.g. ``h = probe(f"h({t})", a.tanh())``, and on each step's use of a shared
parameter, ``W_t = probe(f"W({t})", W)`` (the per-step copy W^(t) of Goodfellow's
notation). ``probe`` returns the tensor unchanged, plus ``offsets[name]`` when one is
given. Why offsets: the gradient of the loss with respect to a zero offset added to
h(3) *is* dL/dh(3), and with respect to a zero offset added to W at step 3 only it *is*
the step's contribution dL/dW^(3); finite differences nudge the same offsets. So one
mechanism gives autodiff and finite differences for any named value, of any network.
"""


class Probe:
    """Records ``values[name] = tensor`` and adds ``offsets[name]`` where one is given."""

    __slots__ = ("offsets", "values")

    def __init__(self, offsets=None):
        self.offsets = offsets or {}
        self.values = {}

    def __call__(self, name, tensor):
        offset = self.offsets.get(name)
        if offset is not None:
            tensor = tensor + offset
        self.values[name] = tensor
        return tensor


def passthrough(name, tensor):
    """The default probe of a model's forward: records nothing, changes nothing."""
    return tensor
