"""Packaging: pyproject.toml metadata, a wheel that contains every module, the README's two
commands, and ``.ci/run`` calling exactly the test command."""
from __future__ import annotations

import ast
import os
import pathlib
import re
import shutil
import stat
import subprocess
import sys
import zipfile

import pytest

import minijax

ROOT = pathlib.Path(__file__).resolve().parent.parent

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")


@pytest.fixture(scope="module")
def pyproject():
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def _names(requirements):
    return {re.split(r"[\[<>=!~ ;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_project_metadata(pyproject):
    project = pyproject["project"]
    assert project["name"] == "minijax"
    assert project["requires-python"] == ">=3.10"
    assert "version" in project["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "minijax.__version__"}
    assert _names(project["dependencies"]) == {"numpy", "numba", "scipy"}
    assert pyproject["build-system"]["build-backend"] == "setuptools.build_meta"


def test_extras(pyproject):
    extras = pyproject["project"]["optional-dependencies"]
    assert {"jupyterlab", "ipywidgets", "matplotlib"} <= _names(extras["course"])
    assert {"pytest", "nbval", "hypothesis", "nbclient", "ipykernel"} <= _names(extras["test"])
    assert _names(extras["oracle"]) == {"jax"}


def test_version_is_pep440():
    assert re.fullmatch(r"\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?", minijax.__version__)


def test_pytest_config(pyproject):
    ini = pyproject["tool"]["pytest"]["ini_options"]
    assert ini["testpaths"] == ["tests"]
    assert any(m.startswith("slow:") for m in ini["markers"])


def test_every_package_directory_is_a_package():
    """A directory of modules without __init__.py would be left out of the wheel."""
    for dirpath, dirnames, filenames in os.walk(ROOT / "minijax"):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        if any(f.endswith(".py") for f in filenames):
            assert "__init__.py" in filenames, f"{dirpath} has modules but no __init__.py"


@pytest.mark.slow
def test_wheel_contains_every_module(tmp_path):
    """Build a wheel from a copy of the sources (so the checkout gets no build/ litter)."""
    setuptools = pytest.importorskip("setuptools")
    version = tuple(int(p) for p in re.findall(r"\d+", setuptools.__version__)[:2])
    if version < (70, 1):
        pytest.importorskip("wheel", reason="setuptools < 70.1 needs the wheel package")
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "minijax", src / "minijax",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(tmp_path / "dist"), str(src)],
        capture_output=True, text=True)
    if "No module named pip" in result.stderr:
        pytest.skip("pip is not available in this interpreter")
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = (tmp_path / "dist").glob("minijax-*.whl")
    assert wheel.name.startswith(f"minijax-{minijax.__version__}-")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        metadata = z.read(f"minijax-{minijax.__version__}.dist-info/METADATA").decode()
    expected = {str(p.relative_to(ROOT)).replace(os.sep, "/")
                for p in (ROOT / "minijax").rglob("*.py") if "__pycache__" not in p.parts}
    assert expected <= names, f"missing from the wheel: {sorted(expected - names)}"
    assert not any(n.startswith(("tests/", "lessons/", "tools/")) for n in names)
    assert "Requires-Python: >=3.10" in metadata
    assert re.search(r"^Requires-Dist: numba", metadata, re.M)
    assert re.search(r"^Provides-Extra: course", metadata, re.M)


# -- the two commands ---------------------------------------------------------------------

def test_readme_opens_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    head = text[:1500]
    first_block = re.search(r"```(?:bash|sh|console)?\n(.*?)```", head, re.S)
    assert first_block, "the README must open with a code block holding the two commands"
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    commands = [c for c in commands if c]
    assert commands == ["python3 dev.py course", "python3 dev.py test"]


def test_ci_run_is_exactly_the_test_command():
    path = ROOT / ".ci" / "run"
    lines = [l.strip() for l in path.read_text().splitlines()]
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines
    commands = [l for l in lines[1:] if l and not l.startswith("#")
                and l != "set -euo pipefail" and not l.startswith("cd ")]
    assert commands[-1] == "python3 dev.py test", "the test command comes last"
    assert commands.count("python3 dev.py test") == 1
    setup = "\n".join(commands[:-1])
    assert not setup or "chromium" in setup, "before the test command only the chromium install"
    assert path.stat().st_mode & stat.S_IXUSR, ".ci/run must be executable"


def test_dev_py_uses_only_the_standard_library():
    tree = ast.parse((ROOT / "dev.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])
    not_stdlib = {m for m in imported if m not in sys.stdlib_module_names and m != "__future__"}
    assert not not_stdlib, f"dev.py must run on a bare Python; it imports {not_stdlib}"


def test_dev_py_runs_on_the_oldest_supported_python_syntax():
    source = (ROOT / "dev.py").read_text()
    ast.parse(source, feature_version=(3, 10))
