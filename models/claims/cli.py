"""``autograd-mini check SOURCE|--all``: each source's hand formulas against autodiff.

Prints, per source, a table (claim, statement, verdict, the errors where it agrees and
elsewhere, why, condition, counter-example, corrected form) and its per-step views;
``--json`` prints a list of records, ``--markdown`` a report, ``--show`` the values of the
chosen claims in full at their counter-example (or at the case the axes name). Every axis
of a source's network is an option, named as the source names it (001: ``--D``; 004:
``--Dh --V``). Exit status 0 when autodiff agrees with finite differences on every
quantity a claim was compared with (a source's wrong formula is a finding, not a
failure); 1 when autodiff itself disagrees; 2 for bad input.
"""
import sys

from .framework import UnknownSource, check_source, load
from .framework.compare import show_text
from .framework.judge import check_values
from .framework.markdown import markdown
from .framework.report import axis_flag, table, to_json, views
from .framework.sources import MODULES, available

SHARED = ("T", "seed")          # every source's axes with their own options (--steps, --seed)


def _axes():
    """axis -> {source id: what it means there}, over every source's network."""
    out = {}
    for sid in available():
        src = load(sid)
        for axis in src.base:
            if axis not in SHARED:
                out.setdefault(axis, {})[sid] = src.notation.get(axis, axis)
    return out


def add_arguments(parser):
    parser.add_argument("source", nargs="?",
                        help=f"{', '.join(MODULES)}, or a source's text file name")
    parser.add_argument("--all", action="store_true", help="every source, in order")
    parser.add_argument("--claim", nargs="+", metavar="LABEL",
                        help="only the claims with these labels (e.g. 10.21)")
    parser.add_argument("--steps", nargs="+", metavar="T",
                        help="sequence lengths to check (default: 1 2 5 20 and the source's)")
    parser.add_argument("--seed", nargs="+", metavar="S",
                        help="random seeds for parameters and data (default: 0 1 2)")
    parser.add_argument("--hidden", nargs="+", metavar="N",
                        help="hidden sizes, whatever the source calls them (000: H, 001: D, "
                             "004: Dh)")
    for axis, meaning in _axes().items():
        parser.add_argument(f"--{axis}", nargs="+", metavar=axis.upper(), dest=f"axis_{axis}",
                            help="; ".join(f"{sid}: {m}" for sid, m in meaning.items()))
    parser.add_argument("--step", type=int, metavar="t",
                        help="with --show: the step t to show (default: the counter-example's)")
    parser.add_argument("--show", action="store_true",
                        help="print each chosen claim's formula, autodiff, corrected form and "
                             "finite differences in full, side by side, with the relative "
                             "errors, at its counter-example or at the case the axes name")
    parser.add_argument("--compare", action="store_true", help="the same as --show")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of records (source, claim, statement, "
                             "verdict, condition, why, max_rel_err, max_rel_err_outside, "
                             "counterexample, corrected, source_line, formula_tex, reproduce)")
    parser.add_argument("--markdown", action="store_true",
                        help="print a Markdown report per source (formulas in LaTeX)")


def _given(args, src):
    """axis -> the values given on the command line, for the axes of ``src``; and the
    options given that ``src`` does not have."""
    given, unused = {}, []
    options = {"T": ("--steps", args.steps), "seed": ("--seed", args.seed)}
    if args.hidden:
        options[src.hidden or "--hidden"] = ("--hidden", args.hidden)
    for key, value in vars(args).items():
        if key.startswith("axis_") and value:
            options[key[5:]] = (f"--{key[5:]}", value)
    for axis, (flag, values) in options.items():
        if not values:
            continue
        if axis not in src.base:
            unused.append(flag)
            continue
        given[axis] = (flag, values)
    return given, unused


def _restrict(src, given):
    """axis -> typed values; ValueError naming the option, the value and what is expected."""
    out = {}
    for axis, (flag, values) in given.items():
        typed = []
        for v in values:
            if isinstance(src.base[axis], int):
                try:
                    v = int(v)
                except ValueError:
                    raise ValueError(f"{flag} {v}: not an integer") from None
            typed.append(v)
        try:
            check_values(src, axis, typed)
        except ValueError as e:
            raise ValueError(f"{flag} {' '.join(map(str, values))}: {e}") from None
        out[axis] = typed
    return out


def run(args):
    if args.all == bool(args.source):
        print("check: give one SOURCE or --all", file=sys.stderr)
        return 2
    try:
        sources = [load(s) for s in available()] if args.all else [load(args.source)]
    except UnknownSource as e:
        print(f"check: {e}", file=sys.stderr)
        return 2
    if args.claim:
        known = {c.label for src in sources for c in src.claims}
        unknown = [c for c in args.claim if c not in known]
        if unknown:
            print(f"check: no claim labelled {', '.join(map(repr, unknown))}; the labels are: "
                  f"{', '.join(sorted(known))}", file=sys.stderr)
            return 2
    plans = []
    for src in sources:
        given, unused = _given(args, src)
        if unused and not args.all:
            print(f"check {src.id}: {', '.join(unused)}: this source's network has no such "
                  f"axis (its options: {', '.join(axis_flag(a) for a in src.base)})",
                  file=sys.stderr)
            return 2
        try:
            plans.append((src, _restrict(src, given)))
        except ValueError as e:
            print(f"check {src.id}: {e}", file=sys.stderr)
            return 2
    reports = []
    for src, restrict in plans:
        report = check_source(src, restrict, claims=args.claim)
        reports.append(report)
        if args.json:
            continue
        if args.markdown:
            print(markdown(report))
            continue
        print(table(report))
        if args.show or args.compare:
            print()
            print(_show(report, bool(restrict), args.step))
        elif src.views:
            print()
            print(views(report))
        print()
    if args.json:
        print(to_json(reports))
    ok = all(r.fd_ok for r in reports)
    if not ok:
        print("autodiff DISAGREES with finite differences: see the FAIL lines above",
              file=sys.stderr)
    return 0 if ok else 1


def _show(report, named, step):
    """Each claim in full: at the case the axes name (the grid's first), or else at its
    counter-example (its base case when it has none)."""
    out = []
    for v in report.verdicts:
        case, t = report.cases[0], step
        if not named and v.counterexample is not None:
            case = type(case)(**v.counterexample["case"])
            t = v.counterexample["t"] if step is None else step
        out.append(show_text(report.source, case, t, [v.claim.label]))
    return "\n\n".join(out)
