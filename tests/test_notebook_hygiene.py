"""Committed notebooks are clean: valid, executed in order, deterministic, portable, small.

nbval (run by ``python3 dev.py test``) re-executes every notebook and compares outputs;
these checks cover what nbval does not: that the stored outputs are complete and
were produced by one top-to-bottom run, and that they hold nothing machine-specific.
"""
from __future__ import annotations

import pathlib
import re

import pytest

nbformat = pytest.importorskip("nbformat")

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOK_DIRS = [ROOT / "lessons", ROOT / "solutions"]
NOTEBOOKS = sorted(p for d in NOTEBOOK_DIRS if d.is_dir() for p in d.glob("*.ipynb"))
LESSONS = [p for p in NOTEBOOKS if p.parent.name == "lessons"]

NO_OUTPUT_TAG = "no-output"
RAISES_TAG = "raises-exception"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
ABSOLUTE_PATH = re.compile(r"(?<![\w.])(/work/|/home/|/tmp/|/root/|/Users/|[A-Za-z]:\\)")
NAME = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")
MAX_BYTES = 1_000_000


def _ids(paths):
    return [f"{p.parent.name}/{p.name}" for p in paths]


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _output_text(out):
    parts = [out.get("text", ""), out.get("ename", ""), out.get("evalue", "")]
    parts += out.get("traceback", [])
    for key, value in out.get("data", {}).items():
        if key.startswith("text/") or key.endswith("json"):
            parts.append(value if isinstance(value, str) else str(value))
    return ANSI.sub("", "\n".join(p if isinstance(p, str) else "".join(p) for p in parts))


def test_the_first_two_lessons_exist():
    names = {p.name for p in LESSONS}
    assert {"01_jax_numpy.ipynb", "02_differences_from_numpy.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
class TestNotebook:
    def test_valid_nbformat_4_with_python3_kernel(self, path):
        nb = nbformat.read(str(path), as_version=nbformat.NO_CONVERT)
        assert nb.nbformat == 4
        nbformat.validate(nb)
        assert nb.metadata["kernelspec"]["name"] == "python3"
        assert nb.metadata["kernelspec"]["language"] == "python"
        assert NAME.match(path.name), f"{path.name}: notebooks are named NN_topic.ipynb"

    def test_small(self, path):
        assert path.stat().st_size < MAX_BYTES

    def test_executed_once_top_to_bottom(self, path):
        nb = nbformat.read(str(path), as_version=4)
        counts = [c.execution_count for c in _code_cells(nb)]
        assert counts == list(range(1, len(counts) + 1)), (
            "execution counts must run 1..n without gaps: rebuild with tools/build_lessons.py")
        for cell in _code_cells(nb):
            for out in cell.outputs:
                if out.output_type == "execute_result":
                    assert out.execution_count == cell.execution_count

    def test_every_code_cell_has_output_or_says_why_not(self, path):
        nb = nbformat.read(str(path), as_version=4)
        for cell in _code_cells(nb):
            tags = cell.metadata.get("tags", [])
            if NO_OUTPUT_TAG in tags:
                assert not cell.outputs, f"cell {cell.id} is tagged {NO_OUTPUT_TAG} but has output"
            else:
                assert cell.outputs, f"cell {cell.id} has no output (tag it {NO_OUTPUT_TAG!r})"

    def test_errors_only_where_tagged(self, path):
        nb = nbformat.read(str(path), as_version=4)
        for cell in _code_cells(nb):
            raised = [o for o in cell.outputs if o.output_type == "error"]
            if RAISES_TAG in cell.metadata.get("tags", []):
                assert len(raised) == 1, f"cell {cell.id} is tagged {RAISES_TAG}: store its error"
                assert raised[0].ename and raised[0].evalue
            else:
                assert not raised, f"cell {cell.id} raised {raised[0].ename} without the tag"

    def test_no_machine_specific_output(self, path):
        nb = nbformat.read(str(path), as_version=4)
        for cell in _code_cells(nb):
            assert "execution" not in cell.metadata, "timing metadata changes on every run"
            for out in cell.outputs:
                text = _output_text(out)
                found = ABSOLUTE_PATH.search(text)
                assert not found, f"cell {cell.id} output shows a path: {found.group(0)!r}"
                # (memory addresses are allowed: lessons/nbval_sanitize.cfg masks them)


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_lesson_opens_with_goals_and_ends_with_next(path):
    nb = nbformat.read(str(path), as_version=4)
    first, last = nb.cells[0], nb.cells[-1]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert "what you will learn" in first.source.lower()
    assert last.cell_type == "markdown" and "**Next:**" in last.source


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_lesson_imports_the_jax_way(path):
    nb = nbformat.read(str(path), as_version=4)
    code = "\n".join(c.source for c in _code_cells(nb))
    assert "import minijax as jax" in code
    assert "import minijax.numpy as jnp" in code
    assert not re.search(r"^\s*import jax\b", code, re.M), "lessons import minijax, not jax"


def _lesson_sources():
    import importlib.util
    import sys
    tools = ROOT / "tools"
    sys.path.insert(0, str(tools))
    try:
        spec = importlib.util.spec_from_file_location("build_lessons", tools / "build_lessons.py")
        build = importlib.util.module_from_spec(spec)
        sys.modules.setdefault("build_lessons", build)
        spec.loader.exec_module(build)
        sources = sorted((tools / "lesson_sources").glob("lesson[0-9][0-9]*.py"))
        return build, [build.load_source(str(p)) for p in sources]
    finally:
        sys.path.remove(str(tools))


def test_committed_lessons_match_their_sources():
    """Edit tools/lesson_sources/lessonNN.py and rebuild, never the notebook by hand."""
    pytest.importorskip("nbclient")
    build, sources = _lesson_sources()
    assert sources, "no lesson sources found"
    for source in sources:
        path = ROOT / "lessons" / source.FILENAME
        assert path.exists(), f"{source.FILENAME} was never built: python tools/build_lessons.py"
        nb = nbformat.read(str(path), as_version=4)
        committed = [(c.cell_type, c.source, tuple(c.metadata.get("tags", ())))
                     for c in nb.cells]
        assert committed == list(source.CELLS), (
            f"lessons/{source.FILENAME} differs from its source: rebuild it with "
            f"python tools/build_lessons.py {source.FILENAME[:2]}")
