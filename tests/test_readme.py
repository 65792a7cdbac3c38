"""The docs' generated parts stay generated: the ops table is what the registry prints."""
import re
import subprocess
import sys
from pathlib import Path

from autograd_mini import RULES
from autograd_mini.rules.__main__ import readme_table, table, update_readme

ROOT = Path(__file__).resolve().parent.parent
OPS = ROOT / "docs" / "ops.md"


def rules_cli(*args):
    """`python -m autograd_mini.rules ARGS` in a fresh process: only the built-in rules."""
    done = subprocess.run([sys.executable, "-m", "autograd_mini.rules", *args], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return done.stdout


def test_the_docs_ops_table_is_the_generated_one():
    current = readme_table(OPS.read_text(encoding="utf-8"))
    assert current is not None, "docs/ops.md lost its <!-- ops-table --> markers"
    assert current == rules_cli("--markdown").strip("\n"), (
        "docs/ops.md's ops table is stale: run "
        "`python -m autograd_mini.rules --update docs/ops.md`")


def test_the_rules_command_refuses_unknown_flags_and_missing_files(tmp_path):
    for args, said in [(["--nonsense"], "unrecognized arguments: --nonsense"),
                       (["--update", str(tmp_path / "none.md")], "cannot read")]:
        done = subprocess.run([sys.executable, "-m", "autograd_mini.rules", *args], cwd=ROOT,
                              capture_output=True, text=True)
        assert done.returncode != 0 and said in done.stderr and "Traceback" not in done.stderr


def test_the_rules_command_prints_every_rule_with_its_formulas():
    out = rules_cli()
    for rule in RULES.values():
        if rule.family == "user":
            continue                       # registered by a test in this process
        # the op column: the name after the family, padded with at least two spaces
        column = re.compile(rf"^{re.escape(rule.family)}\s+{re.escape(rule.name)}\s{{2,}}")
        line = next((ln for ln in out.splitlines() if column.match(ln)), None)
        assert line is not None, f"{rule.name} missing from `python -m autograd_mini.rules`"
        for i in range(len(rule.inputs)):
            assert rule.vjp_text(i) in line
        assert rule.jvp_text in line, f"{rule.name}'s JVP is not beside its VJP"


def test_update_readme_rewrites_only_between_the_markers(tmp_path):
    page = tmp_path / "README.md"
    page.write_text("# title\n<!-- ops-table: generated -->\nold | table\n"
                    "<!-- /ops-table -->\n## after\n", encoding="utf-8")
    update_readme(page)
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# title\n<!-- ops-table: generated -->\n| family | op |")
    assert text.endswith("<!-- /ops-table -->\n## after\n")
    assert "old | table" not in text
    assert readme_table(text) == table(markdown=True)
