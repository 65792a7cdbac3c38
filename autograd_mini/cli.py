"""The ``autograd-mini`` command: demo, check, render, train, rtrl.

Each subcommand's options and work live in the package that does the work: a module with
``add_arguments(parser)`` and ``run(args) -> exit status``. This file only wires them.
"""
import argparse
import importlib
import signal
import sys

SUBCOMMANDS = [
    ("check", "models.check_cli",
     "each source's hand formulas vs autodiff vs finite differences"),
    ("render", "visualize.cli", "draw the unrolled graph of a model (.svg/.png/.pdf/.dot)"),
    ("train", "models.train_cli", "train a character language model on a text"),
    ("rtrl", "models.rtrl_cli", "RTRL vs BPTT: the same gradient, and what each costs"),
]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="autograd-mini",
        description="Reverse-mode autodiff for learning and checking backpropagation "
                    "through time.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="the main job: check and draw the textbook RNN")
    for name, module, text in SUBCOMMANDS:
        mod = importlib.import_module(module)
        p = sub.add_parser(name, help=text, description=text)
        mod.add_arguments(p)
        p.set_defaults(run=mod.run)
    return parser


def die_quietly_on_closed_pipe():
    """`autograd-mini check --all | head` should stop when head does, not print a
    BrokenPipeError traceback: restore the default SIGPIPE action (end the process)."""
    if hasattr(signal, "SIGPIPE"):          # not on Windows
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)


def main(argv=None):
    die_quietly_on_closed_pipe()
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from .demo import main as demo
        return demo()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
