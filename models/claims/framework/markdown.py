"""A report a learner reads on any Markdown viewer: per claim, the source's formula in
LaTeX, the verdict and why, the errors inside and outside the condition, the corrected
form, and the command that reproduces the case."""
from .report import err, grid_text, reproduce


def markdown(report, title=None):
    """The report of one source (a judge.SourceReport) as Markdown text."""
    src = report.source
    counts = ", ".join(f"{n} {k}" for k, n in report.counts().items() if n)
    out = [f"# {title or f'Source {src.id}: {src.title}'}", ""]
    if src.citation:
        out += [f"*{src.citation}.*", ""]
    out += [f"Checked on {len(report.cases)} cases ({grid_text(report.cases)}). "
            f"{len(report.verdicts)} claims: {counts}. Autodiff "
            f"{'agrees' if report.fd_ok else 'DISAGREES'} with finite differences on every "
            f"quantity used ({len(report.fd_checks)} checks, worst relative error "
            f"{report.fd_worst:.1e}).", ""]
    if src.notation:
        out.append("Axes: " + "; ".join(f"`{k}` {v}" for k, v in src.notation.items()) + ".")
        out.append("")
    out += ["Relative errors: max |formula - autodiff| / max |autodiff|, where the condition "
            "holds and elsewhere (one number when there is no condition).", "",
            "| claim | verdict | relative error | elsewhere |", "|---|---|---|---|"]
    for v in report.verdicts:
        out.append(f"| [{_cell(v.claim.label)}](#{_anchor(v.claim.label)}) | {v.verdict} | "
                   f"{err(v.max_rel_err)} | "
                   f"{err(v.max_rel_err_outside) if v.split else '-'} |")
    out.append("")
    for v in report.verdicts:
        out += claim_section(v)
    return "\n".join(out).rstrip() + "\n"


def claim_section(v):
    c = v.claim
    out = [f'<a id="{_anchor(c.label)}"></a>', f"## {c.label}", ""]
    where = ", ".join(x for x in (c.where, f"line {c.line}" if c.line else "") if x)
    if where:
        out += [f"*Where:* {where}.", ""]
    if c.tex:
        out += ["$$", c.tex, "$$", ""]
    out += [f"In words: {c.statement}", "",
            f"**{v.verdict}** against {c.actual_text}, checked in {v.cases} cases.", ""]
    rows = []
    if v.why:
        rows.append(("why", v.why))
    if v.condition:
        rows.append(("condition", v.condition))
    if v.split:
        rows.append(("relative error where the condition holds", err(v.max_rel_err)))
        rows.append(("relative error elsewhere", err(v.max_rel_err_outside)))
    else:
        rows.append(("relative error, every case", err(v.max_rel_err)))
    if v.counterexample:
        rows.append(("counter-example", v.counterexample["text"]))
    if v.corrected:
        rows.append(("corrected form", v.corrected))
    if c.note:
        rows.append(("note", c.note))
    out += [f"- *{k}:* {_inline(x)}" for k, x in rows]
    cmd = reproduce(v)
    if cmd:
        out += ["", "```sh", cmd, "```"]
    out.append("")
    return out


def _anchor(label):
    return "claim-" + "".join(ch if ch.isalnum() else "-" for ch in label.lower()).strip("-")


def _cell(text):
    return text.replace("|", "\\|")


def _inline(text):
    """Plain text for a Markdown line: no stray emphasis from '*' or '_'."""
    return str(text).replace("*", "\\*").replace("_", "\\_")
