"""Names for what the public API accepts, for type checkers (mypy, an editor).

The engine imports this module under ``typing.TYPE_CHECKING`` only, with postponed
annotations: nothing here runs when a program uses autograd_mini. The hints are what a
user's checker reads (the package ships ``py.typed``); the engine's own checks of values
at run time (shapes, dtypes, axes) stay where they are.
"""
from types import EllipsisType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, Union

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

if TYPE_CHECKING:
    from .tensor import Tensor

# An op's input: a Tensor, or what ``numpy.asarray`` takes (numbers, lists, arrays).
Operand: TypeAlias = Union["Tensor", ArrayLike]
# The axes of a reduction: one, several, or None for all.
Axes: TypeAlias = int | tuple[int, ...] | None
# One entry of ``t[...]``: an int, a slice, None (a new axis), ..., integer indices
# (a list, an array or a Tensor: an embedding lookup); a tuple of those.
IndexItem: TypeAlias = Union[int, np.integer[Any], slice, None, EllipsisType, list[int],
                             np.ndarray[Any, Any], "Tensor"]
Index: TypeAlias = IndexItem | tuple[IndexItem, ...]
# How softmax_cross_entropy reduces over the batch.
Reduction: TypeAlias = Literal["mean", "sum", "none"]

__all__ = ["Operand", "Axes", "Index", "IndexItem", "Reduction", "ArrayLike", "DTypeLike"]
