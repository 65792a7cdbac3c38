"""``python -m autograd_mini.rules``: print every registered rule with its VJP formulas.

``--markdown`` prints the table the README embeds (generated, never hand-copied)."""
import sys

from ..registry import RULES
from . import __all__ as _builtin  # noqa: F401  (importing registers the built-in rules)


def table(markdown=False):
    rows = [(r.family, r.name, "; ".join(r.formulas), r.saves) for r in RULES.values()]
    if markdown:
        lines = ["| family | op | VJP formula (g = upstream gradient, out = result) | saves |",
                 "|---|---|---|---|"]
        lines += [f"| {f} | `{n}` | `{fo}` | {s} |" for f, n, fo, s in rows]
        return "\n".join(lines)
    w = [max(len(str(row[i])) for row in rows) for i in range(3)]
    return "\n".join(f"{f:<{w[0]}}  {n:<{w[1]}}  {fo:<{w[2]}}  saves {s}" for f, n, fo, s in rows)


if __name__ == "__main__":
    print(table(markdown="--markdown" in sys.argv[1:]))
