"""Write a picture to a file: the suffix picks the format; without ``dot``, the DOT text."""
import shutil
from pathlib import Path

IMAGE_FORMATS = ("svg", "png", "pdf")
SOURCE_FORMATS = ("dot", "gv")
INSTALL_DOT = ("install graphviz's dot program to make images: sudo apt-get install graphviz "
               "(Debian/Ubuntu), brew install graphviz (macOS), or see graphviz.org/download")


def write_picture(dot, path):
    """Write ``dot`` (a graphviz.Digraph) to ``path``. Returns (path written, note).

    .svg/.png/.pdf are made by graphviz's ``dot`` program; when it is missing the DOT
    text goes to the same name with suffix .dot instead, and ``note`` says so and how to
    install graphviz. .dot/.gv write the DOT text and need nothing.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in IMAGE_FORMATS + SOURCE_FORMATS:
        raise ValueError(f"{path}: cannot tell the format from the suffix {path.suffix!r}; "
                         f"use one of .{', .'.join(IMAGE_FORMATS + SOURCE_FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt in SOURCE_FORMATS:
        path.write_text(dot.source)
        return path, ""
    if shutil.which("dot") is None:
        source = path.with_suffix(".dot")
        source.write_text(dot.source)
        return source, (f"graphviz's dot program is not installed, so {path} was not made: "
                        f"wrote the DOT text to {source} instead; {INSTALL_DOT}, then run "
                        f"dot -T{fmt} {source} -o {path}")
    path.write_bytes(dot.pipe(format=fmt))
    return path, ""
