"""Which module holds which source's claims, and how a name on the command line maps to it."""
import importlib
from pathlib import Path

# id -> module defining ``SOURCE`` (a claim.Source). "book" is Goodfellow et al. 10.17-10.28.
MODULES = {
    "000": "models.claims.source_000",
    "001": "models.claims.source_001",
    "002": "models.claims.source_002",
    "003": "models.claims.source_003",
    "004": "models.claims.source_004",
    "book": "models.claims.book",
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
    raise UnknownSource(f"unknown source {name!r}: expected one of {', '.join(MODULES)} or a "
                        "file name from shared/sources (e.g. 000_44181f7bdc961c04.txt)")


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
