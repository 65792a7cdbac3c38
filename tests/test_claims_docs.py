"""docs/sources.md stays true: its summary counts and the claim labels of its commands are
the tool's."""
import re
import shlex
from pathlib import Path

import pytest

from models.claims.framework import UnknownSource, check_source, load
from models.claims.framework.judge import VERDICTS

DOC = Path(__file__).resolve().parents[1] / "docs" / "sources.md"


def summary_rows():
    rows = {}
    for line in DOC.read_text().splitlines():
        m = re.match(r"\|\s*(\d{3}|book)\b[^|]*\|((?:\s*\d+\s*\|){6})\s*$", line)
        if m:
            rows[m.group(1)] = [int(x) for x in m.group(2).split("|") if x.strip()]
    return rows


def test_the_summary_counts_are_the_tools():
    rows = summary_rows()
    assert {"000", "003", "book"} <= set(rows)
    for sid, (total, *counts) in rows.items():
        try:
            src = load(sid)
        except UnknownSource:
            pytest.fail(f"docs/sources.md counts source {sid}, which has no module")
        found = check_source(src).counts()
        assert total == len(src.claims), sid
        assert counts == [found[v] for v in VERDICTS], sid


def test_every_command_in_the_write_up_names_existing_claims():
    commands = re.findall(r"autograd-mini (check [^\n`]*)", DOC.read_text())
    assert len(commands) >= 8
    for cmd in commands:
        words = shlex.split(cmd)
        if "--claim" not in words:
            continue
        src = load(words[1])
        labels = {c.label for c in src.claims}
        i = words.index("--claim") + 1
        while i < len(words) and not words[i].startswith("--"):
            assert words[i] in labels, (cmd, words[i])
            i += 1
