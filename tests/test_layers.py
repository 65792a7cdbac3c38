"""Layers run one way: the engine (autograd_mini) imports nothing from the networks
(autograd_mini.models, the models/ folder) or the pictures (autograd_mini.visualize,
visualize/). Only the command line, autograd_mini/cli.py, reaches up, and only lazily."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "autograd_mini"
UPPER = ("models", "visualize", "autograd_mini.models", "autograd_mini.visualize")


def imported_modules(path):
    """The absolute name of every module ``path`` imports, at any depth (lazy imports
    inside functions included)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            name = ".".join(p for p in (base, node.module) if p)
            yield name
            yield from (f"{name}.{alias.name}" for alias in node.names)


def reaches_up(name):
    return any(name == u or name.startswith(u + ".") for u in UPPER)


def test_no_engine_module_but_the_cli_imports_models_or_visualize():
    offenders = {str(p.relative_to(ROOT)): sorted({m for m in imported_modules(p)
                                                    if reaches_up(m)})
                 for p in sorted(ENGINE.rglob("*.py")) if p != ENGINE / "cli.py"}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_scan_sees_relative_absolute_and_lazy_imports(tmp_path, monkeypatch):
    """The check above can fail: it finds each way of importing the layers above."""
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "autograd_mini").mkdir()
    module = tmp_path / "autograd_mini" / "demo.py"
    module.write_text("from .models import demo\nimport visualize.draw\n"
                      "def f():\n    from autograd_mini.visualize.demo import pictures\n"
                      "from . import tensor\n")
    found = {m for m in imported_modules(module) if reaches_up(m)}
    assert found == {"autograd_mini.models", "autograd_mini.models.demo", "visualize.draw",
                     "autograd_mini.visualize.demo", "autograd_mini.visualize.demo.pictures"}


def test_importing_the_engine_and_its_cli_loads_neither_models_nor_visualize():
    code = ("import sys, autograd_mini, autograd_mini.cli\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('models', 'visualize')"
            " or m.startswith(('autograd_mini.models', 'autograd_mini.visualize'))))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "[]"
