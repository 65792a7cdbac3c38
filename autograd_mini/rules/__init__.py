"""Every built-in rule, grouped by family; importing this package registers them all."""
from .elementwise import ADD, DIV, EXP, LOG, MUL, NEG, POW, RELU, SIGMOID, SUB, TANH
from .linalg import DOT, MATMUL, MATVEC, TRANSPOSE, VECMAT
from .reductions import MEAN, SUM
from .shape import CONCAT, GETITEM, RESHAPE, SCATTER_ADD, STACK
from .softmax import LOG_SOFTMAX, SOFTMAX, SOFTMAX_CROSS_ENTROPY

__all__ = ["ADD", "SUB", "MUL", "DIV", "NEG", "POW", "EXP", "LOG", "TANH", "SIGMOID", "RELU",
           "SUM", "MEAN", "MATMUL", "MATVEC", "VECMAT", "DOT", "TRANSPOSE", "RESHAPE",
           "GETITEM", "SCATTER_ADD", "STACK", "CONCAT", "SOFTMAX", "LOG_SOFTMAX",
           "SOFTMAX_CROSS_ENTROPY"]
