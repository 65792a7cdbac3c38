"""RNNs written as ordinary Python loops, and the sources' hand-derived BPTT formulas."""
from .goodfellow import GoodfellowRNN

__all__ = ["GoodfellowRNN"]
