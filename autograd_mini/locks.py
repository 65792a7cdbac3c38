"""Saved arrays stay read-only while a graph may still read them.

Writing into an array that a node saved, between forward and backward (``W.data[...] =
0``, an optimizer step too early, a write through the array a view was taken from),
would silently give a wrong gradient. So when a node saves an array that is not its own
op's fresh result (a leaf's data, or a view of someone's memory such as ``W.T`` or
``x[t]``), the array and the array owning its memory are made read-only, and the write
fails at once with NumPy's "assignment destination is read-only".

One ``Hold`` per array, shared by every node that saved it: the nodes keep references to
it, and when the last of them is released by backward (or dropped unused), Python frees
the Hold, which makes the array writable again. An array its owner made read-only is
never ours to unlock. Views taken before the hold (other than the saved one and the
owner) keep their own flags: NumPy has no way to reach them.
"""
import weakref

import numpy as np

_holds = {}     # id(array) -> weakref to its Hold (the Hold keeps the array, so its id)


class Hold:
    """Keeps ``array`` read-only while it lives. ``owner``: the Hold on the array that owns
    a view's memory, kept alive by this one. NumPy cannot make a view writable while its
    owner is read-only, so a view that goes first is made writable by its owner's Hold,
    right after the owner itself."""

    __slots__ = ("array", "owner", "views", "__weakref__")

    def __init__(self, array, owner):
        self.array, self.owner, self.views = array, owner, []
        array.setflags(write=False)

    def __del__(self):
        if _holds is not None:              # (None at interpreter shutdown)
            _holds.pop(id(self.array), None)
        if self.owner is not None:
            self.owner.views.append(self.array)
            return
        self.array.setflags(write=True)
        for view in self.views:
            view.setflags(write=True)


def _hold_one(array, owner=None):
    ref = _holds.get(id(array))
    kept = ref() if ref is not None else None
    if kept is None and array.flags.writeable:
        kept = Hold(array, owner)
        _holds[id(array)] = weakref.ref(kept)
    return kept


def hold(array, owned):
    """The Hold that keeps ``array`` (saved by a node) read-only: on the array itself
    unless ``owned`` (the fresh result of an op: nobody else can write it), and on the
    array that owns its memory when it is a view. None when there is nothing to hold."""
    owner = None
    base = array.base
    if isinstance(base, np.ndarray):
        while isinstance(base.base, np.ndarray):
            base = base.base
        owner = _hold_one(base)
    mine = None if owned else _hold_one(array, owner)
    return mine or owner
