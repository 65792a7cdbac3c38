"""The README and the docs stay true: their Python examples run, the ops table is the one
the registry prints, the README fits on a screen and cites documents, not folders."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_mini import RULES, unregister
from autograd_mini.rules.__main__ import readme_table, table, update_readme

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
OPS = ROOT / "docs" / "ops.md"
# The pages whose examples must run, in order, each page in one namespace. (docs/sources*
# belong to the claims' own tests.)
PAGES = ["README.md", "docs/adding-an-op.md", "docs/pictures.md", "docs/training.md"]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.M | re.S)


def rules_cli(*args):
    """`python -m autograd_mini.rules ARGS` in a fresh process: only the built-in rules."""
    done = subprocess.run([sys.executable, "-m", "autograd_mini.rules", *args], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return done.stdout


@pytest.mark.parametrize("page", PAGES)
def test_the_python_examples_run(page, tmp_path, monkeypatch, capsys):
    blocks = BLOCK.findall((ROOT / page).read_text(encoding="utf-8"))
    assert blocks, f"{page} has no python examples"
    monkeypatch.chdir(tmp_path)                 # whatever they write lands here
    namespace = {"__name__": "__readme__"}
    before = set(RULES)
    try:
        for i, code in enumerate(blocks):
            exec(compile(code, f"{page}, python block {i + 1}", "exec"), namespace)
    finally:
        for name in set(RULES) - before:        # docs/adding-an-op.md registers an op
            unregister(name)


def test_the_readme_fits_on_a_screen_and_leads_with_the_two_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 150
    head = "\n".join(lines[:6])
    assert "make demo" in head and "make test" in head


def test_documents_are_cited_by_title_not_by_a_folder_outside_the_repository():
    for page in ["README.md", *(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")
                                if not p.name.startswith("sources"))]:
        assert "shared/sources" not in (ROOT / page).read_text(encoding="utf-8"), page
    checking = (ROOT / "docs" / "checking.md").read_text(encoding="utf-8")
    for citation in ("Goodfellow, Yoshua Bengio and Aaron Courville", "Yongqiang Huang",
                     "Cross Validated", "Mathematics Stack Exchange"):
        assert citation in checking


def test_the_ops_table_is_the_generated_one():
    current = readme_table(OPS.read_text(encoding="utf-8"))
    assert current is not None, "docs/ops.md lost its <!-- ops-table --> markers"
    assert current == rules_cli("--markdown").strip("\n"), (
        "docs/ops.md's ops table is stale: run "
        "`python -m autograd_mini.rules --update docs/ops.md`")


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


def test_the_rules_command_refuses_unknown_flags_and_missing_files(tmp_path):
    for args, said in [(["--nonsense"], "unrecognized arguments: --nonsense"),
                       (["--update", str(tmp_path / "none.md")], "cannot read")]:
        done = subprocess.run([sys.executable, "-m", "autograd_mini.rules", *args], cwd=ROOT,
                              capture_output=True, text=True)
        assert done.returncode != 0 and said in done.stderr and "Traceback" not in done.stderr


def test_the_readmes_check_formula_example_says_holds_then_wrong_with_its_why(capsys):
    namespace = {"__name__": "__readme__"}
    for i, code in enumerate(BLOCK.findall(README.read_text(encoding="utf-8"))):
        if "check_formula" in code or i == 0:        # the RNN block defines np and Tensor
            exec(compile(code, f"README.md, python block {i + 1}", "exec"), namespace)
    printed = capsys.readouterr().out.splitlines()[-2:]
    assert printed[0] == "holds"
    verdict, why = printed[1].split(" -- ", 1)
    assert verdict == "wrong" and why.strip()
