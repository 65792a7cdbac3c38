"""``python -m autograd_mini.rules``: every registered rule with its VJP and JVP formulas.

``--markdown`` prints the table docs/ops.md embeds (generated, never hand-copied);
``--update FILE`` writes it between FILE's ops-table markers (tests/test_readme.py fails
when docs/ops.md's copy is stale)."""
import argparse
import re
import sys

from ..registry import RULES
from . import __all__ as _builtin  # noqa: F401  (importing registers the built-in rules)

BEGIN, END = "<!-- ops-table", "<!-- /ops-table -->"


def rows():
    """(family, op, VJP formulas, JVP formula, what a node saves) per rule, in
    registration order."""
    for r in RULES.values():
        texts = "; ".join(r.vjp_text(i) for i in range(len(r.inputs)))
        saves = ", ".join(f"{n}.shape" if n in r.shape_only else n for n in sorted(r.saves)
                          if n not in r.params) or "nothing"
        yield r.family, r.name, texts, r.jvp_text or "(none)", saves


def table(markdown=False):
    found = list(rows())
    if markdown:
        lines = ["| family | op | VJP formulas (g = upstream gradient, out = result) "
                 "| JVP formula (dx = tangent of x) | saves |",
                 "|---|---|---|---|---|"]
        lines += [f"| {f} | `{n}` | `{fo}` | `{j}` | {s} |" for f, n, fo, j, s in found]
        return "\n".join(lines)
    w = [max(len(row[i]) for row in found) for i in range(4)]
    return "\n".join(f"{f:<{w[0]}}  {n:<{w[1]}}  {fo:<{w[2]}}  {j:<{w[3]}}  saves {s}"
                     for f, n, fo, j, s in found)


def readme_table(text):
    """The table between the markers of a page's text (None when the markers are missing)."""
    m = re.search(re.escape(BEGIN) + r"[^\n]*\n(.*?)" + re.escape(END), text, re.S)
    return None if m is None else m.group(1).strip("\n")


def update_readme(path):
    """Rewrite the table between the ops-table markers of the page at ``path``."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise SystemExit(f"python -m autograd_mini.rules: cannot read {path}: {e.strerror}")
    if readme_table(text) is None:
        raise SystemExit(f"{path}: no '{BEGIN} ...' and '{END}' markers to write between")
    start = text.index("\n", text.index(BEGIN)) + 1
    text = text[:start] + table(markdown=True) + "\n" + text[text.index(END, start):]
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograd_mini.rules",
                                     description="Every registered rule and its formulas.")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--update", "--update-readme", metavar="FILE", dest="update",
                        help="rewrite the table between FILE's ops-table markers")
    args = parser.parse_args(argv)
    if args.update:
        update_readme(args.update)
    else:
        print(table(markdown=args.markdown))
    return 0


if __name__ == "__main__":
    from ..cli import die_quietly_on_closed_pipe
    die_quietly_on_closed_pipe()
    sys.exit(main())
