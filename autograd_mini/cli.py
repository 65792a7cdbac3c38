"""The ``autograd-mini`` command: demo, check, render, train, rtrl.

This is the one module of the engine's package that reaches up into the layers built on
it (``autograd_mini.models``, ``autograd_mini.visualize``), and only lazily, inside the
functions below: ``import autograd_mini`` loads neither. Each subcommand's options and
work live in the package that does the work, a module with ``add_arguments(parser)`` and
``run(args) -> exit status``; this file only wires them, and the demo's three parts.
"""
import argparse
import importlib
import signal
import sys

SUBCOMMANDS = [
    ("check", "autograd_mini.models.claims.cli",
     "each source's hand formulas vs autodiff vs finite differences"),
    ("render", "autograd_mini.visualize.cli",
     "draw the unrolled graph of a model (.svg/.png/.pdf/.dot)"),
    ("train", "autograd_mini.models.train_cli", "train a character language model on a text"),
    ("derive", "autograd_mini.models.derive_cli",
     "print the generated backward program of a model's loss"),
    ("rtrl", "autograd_mini.models.rtrl_cli",
     "RTRL vs BPTT: the same gradient, and what each costs"),
]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="autograd-mini",
        description="Reverse-mode autodiff for learning and checking backpropagation "
                    "through time.")
    sub = parser.add_subparsers(dest="command", required=True)
    text = "the main job: check and draw the textbook RNN"
    demo_parser = sub.add_parser("demo", help=text, description=text)
    demo_parser.add_argument("--detail", action="store_true",
                             help="also print every gradient entry, autodiff next to finite "
                                  "differences")
    demo_parser.add_argument("--outdir", default="out", metavar="DIR",
                             help="where the pictures go (default: out)")
    demo_parser.set_defaults(run=demo)
    for name, module, text in SUBCOMMANDS:
        mod = importlib.import_module(module)
        p = sub.add_parser(name, help=text, description=text)
        mod.add_arguments(p)
        p.set_defaults(run=mod.run)
    return parser


def demo(args):
    """``autograd-mini demo``: the summary first (the worst error, the pictures written),
    then the book's equations; every gradient entry only with ``--detail``."""
    from autograd_mini.models.claims import book
    from autograd_mini.models import demo as check
    from autograd_mini.visualize.demo import pictures

    model, x, y = check.textbook_run()
    rows = check.gradient_table(model, x, y)
    ok, summary = check.summary(rows)
    print(f"{check.INTRO}\n\n{summary}")
    pictures(model, x, y, outdir=args.outdir)
    if args.detail:
        print(f"\nEvery gradient entry, autodiff next to finite differences:\n"
              f"{check.detail(rows)}")
    else:
        print("\n(every gradient entry, autodiff next to finite differences: "
              "autograd-mini demo --detail)")
    print("\nThe book's equations 10.18-10.28 on this RNN, each computed as printed from the "
          "forward values and compared with autodiff (details: autograd-mini check book)")
    ok = book.equations_table() and ok
    return 0 if ok else 1


def die_quietly_on_closed_pipe():
    """`autograd-mini check --all | head` should stop when head does, not print a
    BrokenPipeError traceback: restore the default SIGPIPE action (end the process)."""
    if hasattr(signal, "SIGPIPE"):          # not on Windows
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)


def main(argv=None):
    die_quietly_on_closed_pipe()
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
