"""RNNs written as ordinary Python loops, and the sources' hand-derived BPTT formulas."""
from .claims.framework.formula import check_formula
from .goodfellow import GoodfellowRNN

__all__ = ["GoodfellowRNN", "check_formula"]
