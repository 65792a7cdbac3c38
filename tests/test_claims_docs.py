"""The write-ups stay true: docs/sources.md's counts and commands, the generated reports
under docs/sources/, and docs/check_formula.md's example are what the tool gives now."""
import re
import shlex
from pathlib import Path

import pytest

from autograd_mini.models.claims import cli
from autograd_mini.models.claims.framework import check_source, load
from autograd_mini.models.claims.framework.judge import VERDICTS
from autograd_mini.models.claims.framework.markdown import markdown
from autograd_mini.models.claims.framework.sources import MODULES

DOCS = Path(__file__).resolve().parents[1] / "docs"
DOC = DOCS / "sources.md"


def summary_rows():
    rows = {}
    for line in DOC.read_text().splitlines():
        m = re.match(r"\|\s*(\d{3}|book)\b[^|]*\|[^|]*\|((?:\s*\d+\s*\|){6})\s*$", line)
        if m:
            rows[m.group(1)] = [int(x) for x in m.group(2).split("|") if x.strip()]
    return rows


@pytest.fixture(scope="module")
def reports():
    return {sid: check_source(load(sid)) for sid in MODULES}


def test_the_summary_counts_are_the_tools(reports):
    rows = summary_rows()
    assert set(rows) == set(MODULES)
    for sid, (total, *counts) in rows.items():
        assert total == len(load(sid).claims), sid
        assert counts == [reports[sid].counts()[v] for v in VERDICTS], sid


def _masked(text):
    """A report with its rounding-level numbers (below 1e-9) masked: they differ from one
    BLAS to another; every other number must be the tool's."""
    return re.sub(r"\d\.\d+e-(1\d|[2-9]\d)", "<1e-9", text)


def test_the_committed_reports_are_the_generated_ones(reports):
    for sid, report in reports.items():
        committed = (DOCS / "sources" / f"{sid}.md").read_text()
        assert _masked(committed) == _masked(markdown(report) + "\n"), (
            f"docs/sources/{sid}.md is stale: autograd-mini check {sid} --markdown > "
            f"docs/sources/{sid}.md")
        assert f"](sources/{sid}.md)" in DOC.read_text()


def test_a_report_shows_each_claim_with_its_latex_and_command(reports):
    text = markdown(reports["004"])
    for claim in load("004").claims:
        assert f"## {claim.label}\n" in text
    assert text.count("$$\n") == 2 * len(load("004").claims)       # one display per claim
    assert text.count("```sh\nautograd-mini check 004 --claim ") == len(load("004").claims)
    assert "shared/" not in text


def test_every_command_in_the_write_up_names_existing_claims():
    commands = re.findall(r"autograd-mini (check [^\n`#]*)", DOC.read_text())
    assert len(commands) >= 5
    for cmd in commands:
        words = shlex.split(cmd)
        if "--claim" not in words:
            continue
        labels = {c.label for c in load(words[1]).claims}
        i = words.index("--claim") + 1
        while i < len(words) and not words[i].startswith("--"):
            assert words[i] in labels, (cmd, words[i])
            i += 1


def test_the_docs_cite_documents_not_local_paths():
    for path in [DOC, DOCS / "check_formula.md", *sorted((DOCS / "sources").glob("*.md"))]:
        assert "shared/sources" not in path.read_text(), path
    for sid in MODULES:
        assert load(sid).citation, sid


def test_every_command_of_the_write_up_runs(capsys):
    for cmd in re.findall(r"^autograd-mini (check [^\n#]*)", DOC.read_text(), re.M):
        assert cli_main(shlex.split(cmd)) == 0, cmd
    capsys.readouterr()


def cli_main(argv):
    import argparse
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return cli.run(parser.parse_args(argv[1:]))
