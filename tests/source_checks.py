"""Checks shared by the tests of the sources (imported by those test files)."""
import dataclasses
import re
import shlex
from pathlib import Path

import numpy as np

from autograd_mini.models.claims.framework import VERDICTS, check_source

WRITE_UP = Path(__file__).resolve().parents[1] / "docs" / "sources.md"


def checked_report(source):
    """The tool's report on ``source``, once its autodiff agreed with finite differences
    (a verdict against a wrong reference would mean nothing)."""
    r = check_source(source)
    assert r.fd_ok, "autodiff disagrees with finite differences"
    return r


def verdicts(report):
    """{claim label: verdict} of a report."""
    return {v.claim.label: v for v in report.verdicts}


def assert_write_up_matches(report, source, sid):
    """docs/sources.md: the source's summary row is the tool's count, and every --claim in
    its commands names a claim of this source."""
    text = WRITE_UP.read_text()
    row = re.search(rf"^\| {sid} [^|]*\|[^|]*\|((?:\s*\d+\s*\|){{6}})\s*$", text, re.M)
    total, *counts = [int(x) for x in row.group(1).split("|") if x.strip()]
    assert total == len(report.verdicts)
    assert counts == [report.counts()[v] for v in VERDICTS]
    labels = {c.label for c in source.claims}
    commands = re.findall(rf"autograd-mini (check {sid}[^\n`#]*)", text)
    for cmd in commands:
        words = shlex.split(cmd)
        if "--claim" in words:
            for w in words[words.index("--claim") + 1:]:
                if w.startswith("--"):
                    break
                assert w in labels, (cmd, w)


def assert_every_holding_claim_can_fail(report, source):
    """A check that cannot fail is no check: each formula the tool says holds, nudged by a
    relative 1e-6, must no longer hold."""
    held = [v.claim for v in report.verdicts if v.verdict == "holds"]
    assert held
    nudged = [dataclasses.replace(c, claimed=lambda b, t, f=c.claimed: np.asarray(f(b, t))
                                  * (1 + 1e-6)) for c in held]
    for v in check_source(dataclasses.replace(source, claims=nudged)).verdicts:
        assert v.verdict != "holds", v.claim.label
