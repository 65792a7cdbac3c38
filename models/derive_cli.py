"""``autograd-mini derive MODEL [--steps T] [--hidden H]``: the generated backward program.

The model's loss is compiled once and the backward half of the generated source is
printed: for an RNN, the hand-written BPTT loop, each line with the rule's formula it
came from. Its length does not depend on --steps. (This module reaches up to models/,
as the command line may; the engine itself never does.)
"""
import numpy as np

MODELS = ("goodfellow", "lstm", "gru")


def add_arguments(parser):
    parser.add_argument("model", choices=MODELS, help="whose loss to differentiate")
    parser.add_argument("--steps", type=int, default=5, help="time steps T (default: 5)")
    parser.add_argument("--hidden", type=int, default=None,
                        help="hidden size H (default: 5 for goodfellow, 4 otherwise)")
    parser.add_argument("--forward", action="store_true", help="print the forward too")


def loss_function(model, steps, hidden):
    """(compiled-ready f, its arguments) for one of MODELS."""
    from autograd_mini import Tensor, softmax_cross_entropy
    if model == "goodfellow":
        from .goodfellow import GoodfellowRNN
        net = GoodfellowRNN.init(D=4, H=hidden or 5, C=3)
        x, y = GoodfellowRNN.example_data(T=steps, D=4, C=3)
        return (lambda x, y: net.forward(x, y).loss), (x, y)
    from .cells import GRU, LSTM
    H = hidden or 4
    cell = (LSTM if model == "lstm" else GRU).init(D=3, H=H, seed=0)
    rng = np.random.default_rng(0)
    V = Tensor(rng.normal(0, 0.5, (H, 3)), requires_grad=True, name="V")

    def f(xs, y):
        loss = 0
        for t, h in enumerate(cell.forward(xs).h):
            loss = loss + softmax_cross_entropy(h @ V, y[t])
        return loss
    return f, (rng.normal(size=(steps, 2, 3)), rng.integers(0, 3, size=(steps, 2)))


def run(args):
    import autograd_mini
    if args.steps < 1:
        print("autograd-mini derive: error: --steps must be at least 1")
        return 2
    f, inputs = loss_function(args.model, args.steps, args.hidden)
    step = autograd_mini.compile(f)
    step(*inputs)
    source = step.source()
    if not args.forward:
        start = source.index("    def backward(")
        source = source[:source.index("    def forward(")] + source[start:]
    print(source)
    return 0
