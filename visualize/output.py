"""Write a picture to a file: the suffix picks the format; without ``dot``, the DOT text.

``ready_to_write`` checks a path before any work is done, so a run is never lost to a
path it cannot write at the end.
"""
import os
import shutil
from pathlib import Path

IMAGE_FORMATS = ("svg", "png", "pdf")
SOURCE_FORMATS = ("dot", "gv")
INSTALL_DOT = ("install graphviz's dot program to make images: sudo apt-get install graphviz "
               "(Debian/Ubuntu), brew install graphviz (macOS), or see graphviz.org/download")


class OutputError(ValueError):
    """An output path that cannot be written; the message names the option and why."""


def _make_folder(folder):
    """Create ``folder`` (and its parents). Returns a note saying so, or "" if it was there."""
    if folder.is_dir():
        return ""
    folder.mkdir(parents=True, exist_ok=True)
    return f"made the folder {folder} (it did not exist)"


def ready_to_write(path, what="-o"):
    """Check, before any work, that ``path`` can be written: its folder is created when
    missing, and a file is opened there for appending (and removed again if it was not
    there before). Returns a note (the folder made) or "". Raises OutputError."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{what} {path}: that is a folder; give a file name in it, e.g. "
                          f"{path / ('picture' + (path.suffix or '.svg'))}")
    try:
        note = _make_folder(path.parent)
        existed = path.exists()
        with open(path, "ab"):
            pass
        if not existed:
            os.remove(path)
    except OSError as e:
        raise OutputError(f"{what} {path}: cannot write there ({e.strerror or e}); "
                          "choose another path") from None
    return note


def picture_path(path):
    """The file ``write_picture`` will write for ``path``: the .dot text instead of an
    image when graphviz's ``dot`` program is missing."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt in IMAGE_FORMATS and shutil.which("dot") is None:
        return path.with_suffix(".dot")
    return path


def write_picture(dot, path):
    """Write ``dot`` (a graphviz.Digraph) to ``path``. Returns (path written, note).

    .svg/.png/.pdf are made by graphviz's ``dot`` program; when it is missing the DOT
    text goes to the same name with suffix .dot instead, and ``note`` says so and how to
    install graphviz. .dot/.gv write the DOT text and need nothing. A missing folder is
    made, and the note says so too.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in IMAGE_FORMATS + SOURCE_FORMATS:
        raise ValueError(f"{path}: cannot tell the format from the suffix {path.suffix!r}; "
                         f"use one of .{', .'.join(IMAGE_FORMATS + SOURCE_FORMATS)}")
    notes = [_make_folder(path.parent)]
    target = picture_path(path)
    if target != path:
        target.write_text(dot.source)
        notes.append(f"graphviz's dot program is not installed, so {path} was not made: "
                     f"wrote the DOT text to {target} instead; {INSTALL_DOT}, then run "
                     f"dot -T{fmt} {target} -o {path}")
    elif fmt in SOURCE_FORMATS:
        path.write_text(dot.source)
    else:
        path.write_bytes(dot.pipe(format=fmt))
    return target, "; ".join(n for n in notes if n)
