"""The release: built with `python -m build`, installed into a fresh virtualenv outside the
checkout, it runs every command, leaves the user's own packages alone, and its type hints
serve the user's type checker.

`models/` and `visualize/` install as ``autograd_mini.models`` and ``autograd_mini.visualize``
(pyproject.toml's package-dir mapping), so a user's project with its own ``models`` and
``visualize`` packages (most ML projects have a ``models``) keeps them. The wheel is built
once, from the sdist (as `python -m build` does), so a file the sdist lacks is missing
here too; the fresh environment borrows NumPy and the extras the commands use from this
one (nothing is downloaded), and runs from a folder outside the checkout.
"""
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import autograd_mini

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"autograd_mini": "autograd_mini", "models": "autograd_mini.models",
           "visualize": "autograd_mini.visualize"}
# What the fresh environment borrows from this one instead of downloading it: the engine's
# NumPy, and the extras the commands use (viz, plot, train), each with what it requires.
DEPENDENCIES = ("numpy", "graphviz", "matplotlib", "tqdm", "threadpoolctl")
SHIPPED = ("pyproject.toml", "README.md", "LICENSE")


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
    # (a folder of data only, such as models/data, is listed for its package-data)
    data_only = {p for p in setup["packages"] if p in setup["package-data"]
                 and p not in packages_on_disk()}
    assert data_only <= {"autograd_mini.models.data"}
    assert set(setup["packages"]) - data_only == packages_on_disk(), (
        "pyproject.toml's [tool.setuptools] packages differs from the folders with an "
        "__init__.py: a package missing there is missing from the wheel")
    assert setup["package-dir"] == {v: k for k, v in FOLDERS.items()}


def test_the_version_is_stated_once_in_each_place_and_agrees():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["version"] == autograd_mini.__version__
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{autograd_mini.__version__}]" in changelog, "CHANGELOG.md has no entry for it"


# ----------------------------------------------------------------------- the release
def run(cmd, **kw):
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """(sdist, wheel), built by `python -m build` from a copy of the sources (building in
    the checkout would leave build/ behind, whose stale copies of moved modules end up in
    later wheels). No build isolation: this environment's setuptools, no download."""
    src = tmp_path_factory.mktemp("src")
    for name in SHIPPED:
        shutil.copy(ROOT / name, src / name)
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, src / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(src)])
    (sdist,) = out.glob("autograd_mini-*.tar.gz")
    (wheel,) = out.glob("autograd_mini-*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def wheel(release):
    return release[1]


def test_the_wheel_holds_the_packages_under_the_engines_name(wheel):
    z = zipfile.ZipFile(wheel)
    names = z.namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"autograd_mini"}
    for package in packages_on_disk():
        assert package.replace(".", "/") + "/__init__.py" in names
    assert "autograd_mini/models/data/genesis.txt" in names     # the shipped text
    assert "autograd_mini/py.typed" in names                    # PEP 561: hints are for users
    info = f"autograd_mini-{autograd_mini.__version__}.dist-info"
    assert f"{info}/licenses/LICENSE" in names
    metadata = z.read(f"{info}/METADATA").decode()
    assert "License-Expression: MIT" in metadata
    # Every module of the checkout's packages is shipped, and nothing else is.
    on_disk = {f"{FOLDERS[folder].replace('.', '/')}/{p.relative_to(ROOT / folder)}"
               for folder in FOLDERS for p in (ROOT / folder).rglob("*.py")}
    shipped = {n for n in names if n.endswith(".py")}
    assert shipped == on_disk
    size = wheel.stat().st_size
    print(f"\n{wheel.name}: {size / 1024:.0f} KiB, {len(names)} files")
    assert size < 1_000_000, "the wheel grew past 1 MB: something large was packaged"


def borrowed_distributions(names):
    """The distributions ``names`` and everything they require (markers evaluated here,
    no extras), as installed in this environment."""
    found, todo = {}, list(names)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in found:
            continue
        dist = importlib.metadata.distribution(name)
        found[name] = dist
        for text in dist.requires or ():
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return list(found.values())


@pytest.fixture(scope="module")
def fresh_env(wheel, tmp_path_factory):
    """A new virtualenv with the wheel installed, and NumPy and the extras borrowed from
    this environment through a .pth file pointing at links to just those (so nothing is
    downloaded, and this checkout's editable install is not visible there)."""
    root = tmp_path_factory.mktemp("venv")
    env = root / "env"
    run([sys.executable, "-m", "venv", "--without-pip", str(env)])
    py = env / "bin" / "python"
    borrowed = root / "borrowed"
    borrowed.mkdir()
    for dist in borrowed_distributions(DEPENDENCIES):
        for top in {Path(f).parts[0] for f in dist.files}:
            target = Path(dist.locate_file(top))
            if target.exists() and not top.endswith(".pth") and top != ".." and \
                    not (borrowed / top).exists():
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


def path_without_dot(env):
    """PATH with the fresh environment first and every folder holding a `dot` left out."""
    folders = [d for d in os.environ.get("PATH", "").split(os.pathsep)
               if d and not (Path(d) / "dot").exists()]
    return os.pathsep.join([str(env / "bin")] + folders)


@pytest.mark.install
def test_the_commands_run_from_the_installed_wheel_with_no_dot_program(fresh_env, tmp_path):
    """demo, check --all and train, from the installed command, in a folder outside the
    checkout, with graphviz's `dot` absent: the demo says so and still writes the DOT."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=path_without_dot(fresh_env), MPLCONFIGDIR=str(tmp_path / "mpl"))
    assert shutil.which("dot", path=env["PATH"]) is None
    command = str(fresh_env / "bin" / "autograd-mini")

    out = run([command, "demo"], cwd=tmp_path, env=env)
    assert "dot program is not installed" in out and "apt-get install graphviz" in out
    assert (tmp_path / "out" / "rnn_t5.dot").read_text().lstrip().startswith("digraph")
    assert not (tmp_path / "out" / "rnn_t5.svg").exists()
    assert (tmp_path / "out" / "rnn_t5_flow.png").read_bytes()[:4] == b"\x89PNG"
    assert re.search(r"worst relative error \S+ \(< 1e-06\)", out), out

    out = run([command, "check", "--all"], cwd=tmp_path, env=env)
    for source in ("000", "001", "002", "003", "004", "book"):
        assert f"\nsource {source}: " in "\n" + out, f"check --all printed nothing on {source}"

    out = run([command, "train", "char-rnn", "--steps", "20", "--hidden", "32"], cwd=tmp_path,
              env=env)
    assert re.search(r"step 20: smoothed loss [0-9.]+ nats", out), out

    # the two commands of compile and forward mode, from the wheel too
    out = run([command, "derive", "goodfellow", "--steps", "5"], cwd=tmp_path, env=env)
    assert "for t in range(T" in out and "def backward(" in out
    out = run([command, "rtrl", "--hidden", "2", "4", "--steps", "5"], cwd=tmp_path, env=env)
    assert "slope" in out


# ----------------------------------------------------------------------- types
GOOD = '''\
"""A user's script: the textbook RNN, its gradients checked, its graph drawn."""
from typing import assert_type

import numpy as np

from autograd_mini import (Tensor, concat, grad, gradcheck, hvp, jacfwd, jacobian, jvp,
                           no_grad, scope, softmax_cross_entropy, stack)
from autograd_mini import compile as compile_
from autograd_mini.models import check_formula
from autograd_mini.visualize import draw, gradient_flow

rng = np.random.default_rng(0)
W = Tensor(rng.normal(0, 0.3, (5, 5)), requires_grad=True, name="W")
U = Tensor(rng.normal(0, 0.3, (5, 4)), requires_grad=True, name="U")
h = Tensor(np.zeros(5))
losses: list[Tensor] = []
for t, (x, y) in enumerate(zip(rng.normal(size=(6, 4)), rng.integers(0, 5, 6))):
    with scope(f"t={t}"):
        h = (W @ h + U @ Tensor(x)).tanh().named(f"h({t})")
        losses.append(softmax_cross_entropy(h, int(y), reduction="sum"))
loss = stack(losses).sum()
assert_type(loss, Tensor)
flow = gradient_flow(loss, last_loss=losses[-1])
dot = draw(loss, max_steps=4, rankdir="TB")
loss.backward()
assert_type(W.grad, np.ndarray | None)
assert W.grad is not None and W.grad.shape == (5, 5)
H = concat([h.reshape(1, 5), 2 * h.reshape((1, 5)) - 1], axis=0)
assert_type(H[1:, 0].mean(axis=0, keepdims=True), Tensor)
with no_grad():
    assert_type(-(H ** 2) / 3 + H.T.transpose(), Tensor)


def f(v: Tensor) -> Tensor:
    return (W.detach() @ v).sigmoid()


assert_type(jacobian(f, np.ones(5)), np.ndarray)
assert_type(jacfwd(f, np.ones(5)), np.ndarray)
value, tangent = jvp(f, [np.ones(5)], [np.ones(5)])
(dW,) = grad((W @ Tensor(np.ones(5))).tanh().sum(), [W], create_graph=True)
assert_type(dW, Tensor)
(Hv,) = hvp(lambda w: (w * w).sum(), [np.ones(3)], [np.ones(3)])
assert_type(Hv, np.ndarray)
step = compile_(lambda v: f(v).sum())
assert_type(step(Tensor(np.ones(5))), Tensor)
assert_type(step.source(), str)
report = gradcheck(lambda w: (w @ Tensor(np.ones(5))).relu().sum(), [W], mode="projection")
assert report, str(report)
print("ran", round(float(loss), 6), flow.steps[:2], dot.source.startswith("digraph"),
      check_formula.__name__)
'''
# One deliberately wrong call: softmax_cross_entropy reduces by "mean", "sum" or "none".
BAD = '''\
from autograd_mini import Tensor, softmax_cross_entropy

logits = Tensor([[0.5, -1.0, 2.0]], requires_grad=True)
loss = softmax_cross_entropy(logits, [2], reduction="average")
'''


@pytest.mark.install
def test_a_users_script_type_checks_against_the_installed_hints(fresh_env, tmp_path):
    """mypy, run on two user scripts against the installed package (its py.typed): the
    first passes (and its assert_type lines hold, so the hints are not Any), the second's
    one wrong call is reported. The first script also runs."""
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "bad.py").write_text(BAD)
    cmd = [sys.executable, "-m", "mypy", "--python-executable", str(fresh_env / "bin" / "python"),
           "--cache-dir", str(tmp_path / ".mypy_cache"), "--strict-equality",
           "--no-error-summary", "--hide-error-context"]
    done = subprocess.run(cmd + ["good.py"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, f"mypy on the user's script:\n{done.stdout}{done.stderr}"
    done = subprocess.run(cmd + ["bad.py"], cwd=tmp_path, capture_output=True, text=True)
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert done.returncode == 1 and len(errors) == 1, done.stdout + done.stderr
    assert errors[0].startswith("bad.py:4:") and '"reduction"' in errors[0], errors[0]
    out = run([str(fresh_env / "bin" / "python"), "good.py"], cwd=tmp_path)
    assert out.startswith("ran ") and "True" in out, out
