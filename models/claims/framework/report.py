"""Printing a SourceReport: the claims table, the per-step views, the JSON records."""
import json
import shutil
import textwrap

import numpy as np

COLUMNS = (("claim", 12), ("statement", 40), ("verdict", 10), ("max rel err", 11),
           ("condition or counter-example", 44), ("corrected form", 34))
WRAPPED = ("statement", "condition or counter-example", "corrected form")


def table(report, width_scale=None):
    """The claims of one source as a text table, cells wrapped to fixed widths (narrowed to
    fit the terminal, down to half width)."""
    if width_scale is None:
        columns = shutil.get_terminal_size(fallback=(200, 24)).columns
        fixed = sum(w for c, w in COLUMNS if c not in WRAPPED) + 2 * len(COLUMNS)
        text = sum(w for c, w in COLUMNS if c in WRAPPED)
        width_scale = max(0.5, min(1.0, (columns - fixed) / text))
    src = report.source
    lines = [f"source {src.id}: {src.title}  ({src.file})",
             f"checked on {len(report.cases)} cases: {_grid_text(report.cases)}"]
    widths = [int(w * width_scale) if c in WRAPPED else w for c, w in COLUMNS]
    lines.append(_row([c for c, _ in COLUMNS], widths))
    lines.append("  ".join("-" * w for w in widths))
    for v in report.verdicts:
        detail = v.condition or ""
        if v.counterexample and v.verdict != "invalid":
            detail += f"; smallest counter-example: {v.counterexample['text']}"
        if v.uninformative:
            detail += (f"{'; ' if detail else ''}{v.uninformative} of {v.cases} checks "
                       "skipped: autodiff gives ~0 there, which proves nothing")
        err = "-" if v.max_rel_err is None else f"{v.max_rel_err:.1e}"
        lines.append(_row([v.claim.label, v.claim.statement, v.verdict, err, detail,
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


def _row(cells, widths):
    wrapped = [textwrap.wrap(str(c), w) or [""] for c, w in zip(cells, widths)]
    height = max(len(w) for w in wrapped)
    out = []
    for i in range(height):
        out.append("  ".join((w[i] if i < len(w) else "").ljust(n)
                             for w, n in zip(wrapped, widths)).rstrip())
    return "\n".join(out)


def _grid_text(cases):
    axes = {}
    for c in cases:
        for k, v in c.items():
            axes.setdefault(k, set()).add(v)
    return ", ".join(f"{k} in {{{', '.join(map(str, sorted(vs, key=_order)))}}}"
                     for k, vs in axes.items())


def _order(v):
    return (0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v))


def views(report):
    """The source's per-step views at its base case (the first case of the grid)."""
    out = []
    bench = report.benches[0]
    for view in report.source.views:
        title, header, rows = view(bench)
        out.append(f"{title}  [{bench.case}]")
        cells = [list(map(str, header))] + [[_cell(x) for x in r] for r in rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
        out += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells]
    return "\n".join(out)


def _cell(x):
    if isinstance(x, (float, np.floating)):
        return f"{x:.3e}"
    return str(x)


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
