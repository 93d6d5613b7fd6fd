"""The course's promise: every lesson runs unchanged on the real JAX.

For each lesson (except chapter 07, device-specific, and chapter 09, minijax's
internals) the imports are swapped (``import minijax as jax`` -> ``import jax``,
``minijax.numpy`` -> ``jax.numpy``) and every code cell is executed in a fresh
kernel with real JAX. A cell must raise on JAX exactly when it is tagged
``raises-exception``, and with the same exception type that minijax stored.
Skipped where JAX is not installed (``python3 dev.py test`` installs it).
"""
from __future__ import annotations

import importlib.util
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "lessons").glob("*.ipynb"))
EXCLUDED_CHAPTERS = ("07", "09")
ON_JAX = [p for p in LESSONS if not p.name.startswith(EXCLUDED_CHAPTERS)]


def to_jax(source: str) -> str:
    """Rewrite a minijax cell so that it uses the real JAX."""
    source = re.sub(r"^([ \t]*)import minijax as jax[ \t]*$", r"\1import jax", source, flags=re.M)
    source = re.sub(r"\bminijax\b", "jax", source)
    return source


def _build_lessons():
    spec = importlib.util.spec_from_file_location(
        "build_lessons_for_tests", ROOT / "tools" / "build_lessons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_to_jax_rewrites_imports_and_module_references():
    src = ("import minijax as jax\nimport minijax.numpy as jnp\nfrom minijax import lax\n"
           "x = minijax.numpy.ones(3)\nminijaxx = 1  # not the module\n")
    assert to_jax(src) == ("import jax\nimport jax.numpy as jnp\nfrom jax import lax\n"
                           "x = jax.numpy.ones(3)\nminijaxx = 1  # not the module\n")


def test_some_lessons_are_checked():
    assert len(ON_JAX) >= 2


@pytest.mark.slow
@pytest.mark.parametrize("path", ON_JAX, ids=[p.name for p in ON_JAX])
def test_lesson_runs_on_real_jax(path):
    pytest.importorskip("jax")
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    stored = nbformat.read(str(path), as_version=4)
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = to_jax(cell.source)
            cell.outputs = []
    # pythonpath=None: the kernel must not see this checkout (it would not matter, but
    # the point is to run on JAX alone).
    _build_lessons().execute(nb, cwd=str(path.parent), allow_errors=True, pythonpath=None)

    problems = []
    for ours, theirs in zip(stored.cells, nb.cells):
        if ours.cell_type != "code":
            continue
        expected = [o.ename for o in ours.outputs if o.output_type == "error"]
        got = [f"{o.ename}: {o.evalue}" for o in theirs.outputs if o.output_type == "error"]
        tagged = "raises-exception" in ours.metadata.get("tags", [])
        if not tagged and got:
            problems.append(f"cell {ours.id} fails on JAX: {got[0]}\n{theirs.source}")
        elif tagged and not got:
            problems.append(f"cell {ours.id} raises on minijax but not on JAX:\n{theirs.source}")
        elif tagged and got[0].split(":")[0] != expected[0]:
            problems.append(f"cell {ours.id}: minijax raises {expected[0]}, JAX raises {got[0]}")
    assert not problems, "\n\n".join(problems)
