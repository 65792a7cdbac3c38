"""``autograd-mini check SOURCE|--all``: each source's hand formulas against autodiff.

Prints, per source, a table (claim, statement, verdict, max rel err, condition or
counter-example, corrected form) and its per-step views; ``--json`` prints a list of
records instead. Exit status 0 when autodiff agrees with finite differences on every
quantity a claim was compared with (a source's wrong formula is a finding, not a
failure); 1 when autodiff itself disagrees; 2 for a source that does not exist.
"""
import sys

from .framework import UnknownSource, check_source, load
from .framework.compare import compare_table
from .framework.report import table, to_json, views
from .framework.sources import MODULES, available


def add_arguments(parser):
    parser.add_argument("source", nargs="?",
                        help=f"{', '.join(MODULES)}, or a file name from shared/sources")
    parser.add_argument("--all", action="store_true", help="every source, in order")
    parser.add_argument("--steps", type=int, nargs="+", metavar="T",
                        help="sequence lengths to check (default: 1 2 5 20 and the source's)")
    parser.add_argument("--hidden", type=int, nargs="+", metavar="H",
                        help="hidden sizes to check (default: the source's own and 1, 2, 3)")
    parser.add_argument("--seed", type=int, nargs="+", metavar="S",
                        help="random seeds for parameters and data (default: 0 1 2)")
    parser.add_argument("--claim", nargs="+", metavar="LABEL",
                        help="only the claims with these labels (e.g. 10.21)")
    parser.add_argument("--compare", action="store_true",
                        help="also print each claim's manual value, autodiff and finite "
                             "differences side by side, at the first case of the grid")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of records (source, claim, statement, "
                             "verdict, condition, max_rel_err, counterexample, corrected)")


def run(args):
    if args.all == bool(args.source):
        print("check: give one SOURCE or --all", file=sys.stderr)
        return 2
    try:
        sources = [load(s) for s in available()] if args.all else [load(args.source)]
    except UnknownSource as e:
        print(f"check: {e}", file=sys.stderr)
        return 2
    if args.all:
        missing = [s for s in MODULES if s not in {x.id for x in sources}]
        if missing:
            print(f"check --all: no claims yet for source(s) {', '.join(missing)}",
                  file=sys.stderr)
    if args.claim:
        known = {c.label for src in sources for c in src.claims}
        unknown = [c for c in args.claim if c not in known]
        if unknown:
            print(f"check: no claim labelled {', '.join(map(repr, unknown))}; the labels are: "
                  f"{', '.join(sorted(known))}", file=sys.stderr)
            return 2
    restrict = {"T": args.steps, "H": args.hidden, "seed": args.seed}
    reports = []
    for src in sources:
        # an axis the source does not have (a scalar source has no H) is left alone
        mine = {k: v for k, v in restrict.items() if v and k in src.base}
        try:
            report = check_source(src, mine, claims=args.claim)
        except ValueError as e:
            print(f"check {src.id}: {e}", file=sys.stderr)
            return 2
        reports.append(report)
        if not args.json:
            print(table(report))
            if src.views:
                print()
                print(views(report))
            if args.compare:
                print(f"\nmanual vs autodiff vs finite differences at {report.cases[0]} "
                      "(first entry of each quantity)")
                print(compare_table(src, report.cases[0]))
            print()
    if args.json:
        print(to_json(reports))
    ok = all(r.fd_ok for r in reports)
    if not ok:
        print("autodiff DISAGREES with finite differences: see the FAIL lines above",
              file=sys.stderr)
    return 0 if ok else 1
