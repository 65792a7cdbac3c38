"""``python -m autograd_mini.rules``: print every registered rule with its VJP formulas.

``--markdown`` prints the table the README embeds (generated, never hand-copied);
``--update-readme README.md`` writes it between the README's ops-table markers
(tests/test_readme.py fails when the README's copy is stale)."""
import re
import sys

from ..registry import RULES
from . import __all__ as _builtin  # noqa: F401  (importing registers the built-in rules)

BEGIN, END = "<!-- ops-table", "<!-- /ops-table -->"


def table(markdown=False):
    rows = [(r.family, r.name, "; ".join(r.formulas), r.saves) for r in RULES.values()]
    if markdown:
        lines = ["| family | op | VJP formula (g = upstream gradient, out = result) | saves |",
                 "|---|---|---|---|"]
        lines += [f"| {f} | `{n}` | `{fo}` | {s} |" for f, n, fo, s in rows]
        return "\n".join(lines)
    w = [max(len(str(row[i])) for row in rows) for i in range(3)]
    return "\n".join(f"{f:<{w[0]}}  {n:<{w[1]}}  {fo:<{w[2]}}  saves {s}" for f, n, fo, s in rows)


def readme_table(text):
    """The table between the markers of a README's text (None when the markers are missing)."""
    m = re.search(re.escape(BEGIN) + r"[^\n]*\n(.*?)" + re.escape(END), text, re.S)
    return None if m is None else m.group(1).strip("\n")


def update_readme(path):
    """Rewrite the table between the ops-table markers of the README at ``path``."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if readme_table(text) is None:
        raise SystemExit(f"{path}: no '{BEGIN} ...' and '{END}' markers to write between")
    start = text.index("\n", text.index(BEGIN)) + 1
    text = text[:start] + table(markdown=True) + "\n" + text[text.index(END, start):]
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    from ..cli import die_quietly_on_closed_pipe
    die_quietly_on_closed_pipe()
    args = sys.argv[1:]
    if "--update-readme" in args:
        k = args.index("--update-readme")
        update_readme(args[k + 1] if k + 1 < len(args) else "README.md")
    else:
        print(table(markdown="--markdown" in args))
