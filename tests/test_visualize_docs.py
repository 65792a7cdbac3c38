"""docs/pictures.md stays true: its Python blocks run, one after another, as written."""
import re
from pathlib import Path

import pytest

pytest.importorskip("graphviz")
pytest.importorskip("matplotlib")

DOC = Path(__file__).resolve().parents[1] / "docs" / "pictures.md"


def test_the_code_blocks_of_the_pictures_page_run():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) == 3
    namespace = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)   # each block's asserts hold
    flow = namespace["flow"]
    assert flow.steps[:3] == ["t=1", "t=2", "t=3"]
    assert "dW = outer(g, h(" in namespace["text"]                  # the page's claims
    assert type(namespace["fig"]).__name__ == "Figure"
