"""Printing a SourceReport: the claims table, the per-step views, the JSON records, and the
command line that reproduces a record's case."""
import json
import shlex
import shutil
import textwrap

import numpy as np

COLUMNS = (("claim", 12), ("statement", 38), ("verdict", 10), ("rel err", 8),
           ("else", 8), ("why, condition, counter-example", 48), ("corrected form", 32))
WRAPPED = ("statement", "why, condition, counter-example", "corrected form")


def table(report, width_scale=None):
    """The claims of one source as a text table, cells wrapped to fixed widths (narrowed to
    fit the terminal, down to half width). "rel err" is the largest relative error inside
    the claim's condition (in every case when there is none); "else" outside it."""
    if width_scale is None:
        columns = shutil.get_terminal_size(fallback=(200, 24)).columns
        fixed = sum(w for c, w in COLUMNS if c not in WRAPPED) + 2 * len(COLUMNS)
        text = sum(w for c, w in COLUMNS if c in WRAPPED)
        width_scale = max(0.5, min(1.0, (columns - fixed) / text))
    src = report.source
    lines = [f"source {src.id}: {src.citation or src.title}",
             f"checked on {len(report.cases)} cases: {grid_text(report.cases)}"]
    widths = [int(w * width_scale) if c in WRAPPED else w for c, w in COLUMNS]
    lines.append(_row([c for c, _ in COLUMNS], widths))
    lines.append("  ".join("-" * w for w in widths))
    for v in report.verdicts:
        lines.append(_row([v.claim.label, v.claim.statement, v.verdict, err(v.max_rel_err),
                           err(v.max_rel_err_outside) if v.split else "-", detail(v),
                           v.corrected or ""], widths))
    counts = ", ".join(f"{n} {k}" for k, n in report.counts().items() if n)
    lines.append(f"{len(report.verdicts)} claim(s): {counts}")
    fd = "agrees" if report.fd_ok else "DISAGREES"
    lines.append(f"autodiff {fd} with finite differences on every quantity used "
                 f"({len(report.fd_checks)} checks, worst rel err {report.fd_worst:.1e})")
    for c in report.fd_checks:
        if not c.ok:
            lines.append(f"  FAIL {c.what}: autodiff {c.autodiff:.10g} vs finite "
                         f"differences {c.numeric:.10g}")
    return "\n".join(lines)


def err(x):
    return "-" if x is None else f"{x:.1e}"


def detail(v):
    """The why, the condition, the counter-example and the skipped checks, in one cell."""
    parts = [f"why: {v.why}"] if v.why else []
    if v.condition:
        parts.append(v.condition)
    if v.counterexample and v.verdict != "invalid":
        parts.append(f"counter-example: {v.counterexample['text']}")
    if v.uninformative and v.verdict != "degenerate":
        parts.append(f"{v.uninformative} of {v.cases} checks skipped: autodiff gives ~0 "
                     "there, which proves nothing")
    return "; ".join(parts)


def _row(cells, widths):
    wrapped = [textwrap.wrap(str(c), w) or [""] for c, w in zip(cells, widths)]
    height = max(len(w) for w in wrapped)
    out = []
    for i in range(height):
        out.append("  ".join((w[i] if i < len(w) else "").ljust(n)
                             for w, n in zip(wrapped, widths)).rstrip())
    return "\n".join(out)


def grid_text(cases):
    axes = {}
    for c in cases:
        for k, v in c.items():
            axes.setdefault(k, set()).add(v)
    return ", ".join(f"{k} in {{{', '.join(map(str, sorted(vs, key=_order)))}}}"
                     for k, vs in axes.items())


def _order(v):
    return (0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v))


# ---------------------------------------------------------------------- per-step views
def views(report):
    """The source's per-step views at its base case (the first case of the grid)."""
    bench = report.benches[0]
    return "\n".join(view_text(view(bench), bench.case) for view in report.source.views)


def view_text(view, case):
    """A View as a table: one row per step (norms of arrays, values of scalars), then the
    sum over steps and its distance to the total, for the columns that have one."""
    names = list(view.columns)
    header = ["t"] + [n if _scalar(view.columns[n]) else f"|{n}|" for n in names]
    rows = [[str(t)] + [_cell(view.columns[n][i]) for n in names]
            for i, t in enumerate(view.steps)]
    if view.totals:
        sums = {n: sum(np.asarray(a, dtype=np.float64) for a in view.columns[n])
                for n in view.totals}
        rows.append(["sum"] + [_cell(sums[n]) if n in sums else "" for n in names])
        rows.append(["|sum - shared|"] + [
            f"{float(np.max(np.abs(sums[n] - view.totals[n][1]))):.1e}" if n in sums else ""
            for n in names])
    cells = [header] + rows
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    shared = ", ".join(name for name, _ in view.totals.values())
    out = [f"{view.title}" + (f" (shared: {shared})" if shared else "") + f"  [{case}]"]
    out += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells]
    return "\n".join(out)


def _scalar(values):
    return all(np.size(v) == 1 for v in values)


def _cell(x):
    a = np.asarray(x, dtype=np.float64)
    return f"{float(a.ravel()[0]) if a.size == 1 else float(np.linalg.norm(a)):.3e}"


# ---------------------------------------------------------------------- the command line
def reproduce(v, show=True):
    """The command that shows this record's counter-example (or its base case when it
    holds): the claim, the case's axes in the source's notation, and the step."""
    from .sources import MODULES
    src = v.source
    if src.id not in MODULES:
        return None
    ex = v.counterexample
    words = ["autograd-mini", "check", src.id, "--claim", v.claim.label]
    if ex is not None:
        for axis in src.axes_of(v.claim):
            words += [axis_flag(axis), str(ex["case"][axis])]
        if ex.get("t") is not None:
            words += ["--step", str(ex["t"])]
    if show:
        words.append("--show")
    return shlex.join(words)


def axis_flag(axis):
    """The option that sets an axis: ``--steps`` for the length T, ``--D`` for D."""
    return "--steps" if axis == "T" else f"--{axis}"


# ---------------------------------------------------------------------- JSON
def records(reports):
    """All verdicts of all reports as JSON-ready dicts."""
    return [_jsonable(v.record()) for r in reports for v in r.verdicts]


def to_json(reports):
    return json.dumps(records(reports), indent=2)


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if np.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x
