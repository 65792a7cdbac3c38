"""The one loader: which module holds which source's claims, how a name on the command line
maps to it, and what every source offers from Python (compare, per_step)."""
import importlib
from pathlib import Path

from .bench import Bench
from .claim import Case

# id -> module defining ``SOURCE`` (a claim.Source), nothing else. "book" is Goodfellow et
# al., Deep Learning, eqs. 10.17-10.28.
MODULES = {
    "000": "autograd_mini.models.claims.source_000",
    "001": "autograd_mini.models.claims.source_001",
    "002": "autograd_mini.models.claims.source_002",
    "003": "autograd_mini.models.claims.source_003",
    "004": "autograd_mini.models.claims.source_004",
    "book": "autograd_mini.models.claims.book",
}
ALIASES = {"goodfellow": "book", "deeplearningbook": "book"}


class UnknownSource(LookupError):
    """A name that is no source, or a source whose module is not there (yet)."""


def resolve(name):
    """'000', '3', '003_f7207cfa089aaafe.txt', a path to that file, or 'book' -> the id."""
    key = name.strip()
    if key.lower() in ALIASES:
        return ALIASES[key.lower()]
    if key in MODULES:
        return key
    if key.isdigit() and f"{int(key):03d}" in MODULES:
        return f"{int(key):03d}"
    base = Path(key).name
    for sid in MODULES:
        if base.startswith(sid + "_") or base == sid + ".txt":
            return sid
    raise UnknownSource(f"unknown source {name!r}: expected one of {', '.join(MODULES)} "
                        "(or a source's text file name, e.g. 000_44181f7bdc961c04.txt)")


def load(name):
    """The Source record for ``name`` (see resolve)."""
    sid = resolve(name)
    module = MODULES[sid]
    try:
        return importlib.import_module(module).SOURCE
    except ModuleNotFoundError as e:
        if e.name != module:
            raise
        raise UnknownSource(f"source {sid}: its claims are not implemented yet "
                            f"(no module {module})") from None


def available():
    """The ids whose module exists, in order."""
    out = []
    for sid in MODULES:
        try:
            load(sid)
        except UnknownSource:
            continue
        out.append(sid)
    return out


def base_case(source, case=None):
    """A Case: ``case`` itself, or a dict of axes over the source's own sizes."""
    return case if isinstance(case, Case) else Case(**{**source.base, **(case or {})})


def per_step(name, case=None):
    """Every per-step view of source ``name`` at ``case`` (default: the source's own sizes)
    as arrays: {column: [one array per step], total name: the shared quantity}, e.g.
    ``per_step("001")["dL/dW^(t)"]`` and ``per_step("001")["dL/dW"]``."""
    source = load(name)
    case = base_case(source, case)
    bench = Bench(source.build(case), case)
    out = {}
    for view in source.views:
        out.update(view(bench).arrays())
    return out


def compare(name, case=None, t=None, claims=None):
    """Each claim's formula, autodiff, corrected form and finite differences at ``case``
    and step ``t``: a list of compare.Row (see compare.py)."""
    from .compare import compare as rows
    source = load(name)
    return rows(source, base_case(source, case), t, claims)
