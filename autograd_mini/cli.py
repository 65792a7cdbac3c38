"""The ``autograd-mini`` command: demo, check, render, train.

Each subcommand's options and work live in the package that does the work; this file
only wires them together (and imports them lazily, so ``demo`` does not pay for ``train``).
"""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="autograd-mini",
        description="Reverse-mode autodiff for learning and checking backpropagation "
                    "through time.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="the main job: check and draw the textbook RNN")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import main as demo
        return demo()
    return 2


if __name__ == "__main__":
    sys.exit(main())
