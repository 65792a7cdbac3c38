"""Installed from a wheel, the project lives under its own name and leaves the user's alone.

`models/` and `visualize/` install as ``autograd_mini.models`` and ``autograd_mini.visualize``
(pyproject.toml's package-dir mapping), so a user's project with its own ``models`` and
``visualize`` packages (most ML projects have a ``models``) keeps them. The slow test builds
the wheel once, installs it into a fresh virtualenv and runs ``check`` and ``render`` there,
in process and from the command line, from a folder that holds the user's own packages.
"""
import importlib.metadata
import os
import shutil
import subprocess
import sys
import textwrap
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"autograd_mini": "autograd_mini", "models": "autograd_mini.models",
           "visualize": "autograd_mini.visualize"}
# What the fresh environment borrows from this one instead of downloading it.
DEPENDENCIES = ("numpy", "graphviz")


def packages_on_disk():
    """Every folder with an __init__.py, under the name it installs as."""
    names = set()
    for folder, name in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            names.add(".".join((name, *rel)))
    return names


def test_pyproject_lists_every_package_under_its_installed_name():
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert set(setup["packages"]) == packages_on_disk(), (
        "pyproject.toml's [tool.setuptools] packages differs from the folders with an "
        "__init__.py: a package missing there is missing from the wheel")
    assert setup["package-dir"] == {v: k for k, v in FOLDERS.items()}


# ----------------------------------------------------------------------- the wheel
@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The project's wheel, built from a copy of its sources (building in the checkout
    would leave build/ behind, whose stale copies of moved modules end up in later wheels).
    No build isolation: this environment's setuptools, no download."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, src / name)
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, src / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "-w", str(out), str(src)])
    (found,) = out.glob("autograd_mini-*.whl")
    return found


def run(cmd, **kw):
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_wheel_holds_the_packages_under_the_engines_name(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"autograd_mini"}
    for package in packages_on_disk():
        assert package.replace(".", "/") + "/__init__.py" in names
    assert "autograd_mini/models/data/genesis.txt" in names     # the shipped text


@pytest.fixture(scope="module")
def fresh_env(wheel, tmp_path_factory):
    """A new virtualenv with the wheel installed, and NumPy and graphviz borrowed from
    this environment through a .pth file pointing at links to just those two (so nothing
    is downloaded, and this checkout's editable install is not visible there)."""
    root = tmp_path_factory.mktemp("venv")
    env = root / "env"
    run([sys.executable, "-m", "venv", "--without-pip", str(env)])
    py = env / "bin" / "python"
    borrowed = root / "borrowed"
    borrowed.mkdir()
    for dist_name in DEPENDENCIES:
        dist = importlib.metadata.distribution(dist_name)
        tops = {Path(f).parts[0] for f in dist.files}
        for top in tops:
            target = Path(dist.locate_file(top))
            if target.exists() and not top.endswith(".pth") and top != "..":
                (borrowed / top).symlink_to(target)
    site = run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
    Path(site.strip(), "borrowed.pth").write_text(f"{borrowed}\n")
    run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps",
         "--no-index", "--quiet", str(wheel)])
    return env


@pytest.fixture
def user_project(tmp_path):
    """A folder with the user's own `models` and `visualize` packages."""
    for name in ("models", "visualize"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(f"OWNER = 'the user'\nNAME = {name!r}\n")
    return tmp_path


@pytest.mark.install
def test_check_and_render_run_beside_the_users_own_packages(fresh_env, user_project):
    start = time.perf_counter()
    script = textwrap.dedent("""
        import sys
        import models, visualize                    # the user's, imported first
        from autograd_mini.cli import main
        assert main(["check", "003"]) == 0
        assert main(["render", "goodfellow", "--steps", "3", "-o", "graph.dot"]) == 0
        import autograd_mini, autograd_mini.models, autograd_mini.visualize
        print("ENGINE", autograd_mini.__file__)
        for mine in ("models", "visualize"):
            m = sys.modules[mine]
            assert m.OWNER == "the user" and m.NAME == mine, mine
            assert m.__file__.startswith(sys.argv[1]), m.__file__
        print("USER OK")
    """)
    out = run([str(fresh_env / "bin" / "python"), "-c", script, str(user_project)],
              cwd=user_project)
    assert "USER OK" in out
    assert "digraph" in (user_project / "graph.dot").read_text()
    engine = out.split("ENGINE ", 1)[1].split()[0]
    assert engine.startswith(str(fresh_env)), f"the engine came from {engine}, not the wheel"
    # The command line, with the user's folder on the path as their own scripts would have it.
    env = {**os.environ, "PYTHONPATH": str(user_project)}
    out = run([str(fresh_env / "bin" / "autograd-mini"), "check", "003"], cwd=user_project,
              env=env)
    assert "003" in out
    assert (user_project / "models" / "__init__.py").read_text().startswith("OWNER")
    print(f"wheel test (after the build): {time.perf_counter() - start:.1f} s")
