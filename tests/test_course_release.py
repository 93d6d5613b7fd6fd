"""Exercises are generated from the solution keys, and the keys are well formed.

Fast: nothing here starts a kernel (grading is in test_course_grade.py).
"""
from __future__ import annotations

import json
import pathlib
import re

import pytest

nbformat = pytest.importorskip("nbformat")

from minijax.course import cli, notebook  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
KEYS = sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))


def test_exercises_and_self_check_data_are_in_sync_with_solutions():
    """Fails when someone edits solutions/ without `python -m minijax.course release`."""
    planned = cli.planned_release(str(SOLUTIONS), str(EXERCISES))
    stale = [p for p, text in planned.items()
             if not pathlib.Path(p).exists() or pathlib.Path(p).read_text(encoding="utf-8") != text]
    assert not stale, ("out of date, run `python -m minijax.course release`: "
                       + ", ".join(pathlib.Path(p).name for p in stale))
    assert cli.main(["release", "--solutions", str(SOLUTIONS), "--exercises",
                     str(EXERCISES), "--check"]) == 0


def test_every_chapter_with_a_solution_has_a_lesson_and_an_exercise():
    assert {p.name[:2] for p in KEYS} >= {"01", "02", "03"}
    for key in KEYS:
        assert (EXERCISES / key.name).exists()
        assert list((ROOT / "lessons").glob(key.name[:3] + "*.ipynb")), key.name


@pytest.mark.parametrize("key", KEYS, ids=[k.name for k in KEYS])
class TestKey:
    def test_nbgrader_metadata_schema_3(self, key):
        nb = nbformat.read(str(key), as_version=4)
        nbformat.validate(nb)
        assert notebook.validate_nbgrader_metadata(nb) == []
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader")
            if meta:
                assert set(meta) >= {"grade", "solution", "locked", "grade_id", "schema_version"}
                assert meta["schema_version"] == 3

    def test_at_least_three_questions_with_points_and_hidden_tests(self, key):
        _, questions = notebook.load_key(str(key))
        assert len(questions) >= 3
        assert all(q.points > 0 for q in questions)
        assert all(q.hidden_lines for q in questions), "every question has hidden tests"
        nb = nbformat.read(str(key), as_version=4)
        answers = [c for c in nb.cells if notebook.is_answer_cell(c)]
        assert len(answers) >= len(questions)
        text = "\n".join(c.source for c in nb.cells)
        assert "jax.jit" in text or "explain with code" in text.lower()

    def test_exercise_has_stubs_no_solutions_no_hidden_tests_no_outputs(self, key):
        key_nb = nbformat.read(str(key), as_version=4)
        ex = nbformat.read(str(EXERCISES / key.name), as_version=4)
        nbformat.validate(ex)
        assert len(ex.cells) == len(key_nb.cells)
        for kc, ec in zip(key_nb.cells, ex.cells):
            assert ec.metadata.get("nbgrader") == kc.metadata.get("nbgrader")
            assert "BEGIN SOLUTION" not in ec.source and "HIDDEN TESTS" not in ec.source
            if ec.cell_type == "code":
                assert ec.outputs == [] and ec.execution_count is None
            if notebook.is_answer_cell(kc):
                assert "raise NotImplementedError()" in ec.source
            if notebook.is_test_cell(kc):
                # every visible line of the key's test is there, no hidden line is
                hidden = notebook.hidden_line_numbers(kc.source)
                lines = kc.source.splitlines()
                for n, line in enumerate(lines, 1):
                    if n not in hidden and line.strip():
                        assert line in ec.source.splitlines()
                hidden_text = [lines[n - 1] for n in hidden if "###" not in lines[n - 1]]
                assert not any(h in ec.source.splitlines() for h in hidden_text
                               if 'with t.case("' in h)

    def test_solution_code_is_not_in_the_exercise(self, key):
        key_nb = nbformat.read(str(key), as_version=4)
        ex = nbformat.read(str(EXERCISES / key.name), as_version=4)
        for kc, ec in zip(key_nb.cells, ex.cells):
            if notebook.is_answer_cell(kc):
                body = re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", kc.source, re.S)
                assert body
                for block in body:
                    for line in block.splitlines():
                        assert line not in ec.source.splitlines() or not line.strip(), line


def test_stub_keeps_indentation_and_markdown_answers():
    src = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n"
    assert notebook.stub_solutions(src) == (
        "def f(x):\n    y = 1\n    # YOUR CODE HERE\n    raise NotImplementedError()")
    assert notebook.stub_solutions("### BEGIN SOLUTION\nbecause\n### END SOLUTION",
                                   language="markdown") == "YOUR ANSWER HERE"
    with pytest.raises(ValueError):
        notebook.stub_solutions("### BEGIN SOLUTION\nx = 1\n")


def test_strip_hidden_and_hidden_line_numbers():
    src = "a\n### BEGIN HIDDEN TESTS\nb\n### END HIDDEN TESTS\nc"
    assert notebook.strip_hidden(src) == "a\nc"
    assert notebook.hidden_line_numbers(src) == {2, 3, 4}


def test_read_notebook_explains_broken_files(tmp_path):
    empty = tmp_path / "empty.ipynb"
    empty.write_text("")
    with pytest.raises(notebook.NotebookProblem, match="empty"):
        notebook.read_notebook(str(empty))
    bad = tmp_path / "bad.ipynb"
    bad.write_text('{"cells": [')
    with pytest.raises(notebook.NotebookProblem, match="not valid JSON"):
        notebook.read_notebook(str(bad))
    other = tmp_path / "other.ipynb"
    other.write_text('{"a": 1}')
    with pytest.raises(notebook.NotebookProblem, match="not a Jupyter notebook"):
        notebook.read_notebook(str(other))
    with pytest.raises(notebook.NotebookProblem, match="cannot read"):
        notebook.read_notebook(str(tmp_path / "missing.ipynb"))


def test_read_notebook_upgrades_nbformat_3(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.metadata["nbgrader"] = {"grade_id": "a", "solution": True, "grade": False,
                                 "locked": False, "schema_version": 3}
    nb.cells.append(cell)
    path = tmp_path / "v3.ipynb"
    path.write_text(nbformat.writes(nbformat.convert(nb, 3), version=3))
    assert json.loads(path.read_text())["nbformat"] == 3
    got = notebook.read_notebook(str(path))
    assert got.nbformat == 4
    assert got.cells[0].source == "x = 1"
    assert got.cells[0].metadata["nbgrader"]["grade_id"] == "a"


def test_validate_flags_broken_metadata():
    nb = nbformat.v4.new_notebook()
    c = nbformat.v4.new_code_cell("x")
    c.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                              "grade_id": "bad id", "schema_version": 2}
    nb.cells.append(c)
    problems = " ".join(notebook.validate_nbgrader_metadata(nb))
    assert "schema_version" in problems and "grade_id" in problems and "points" in problems
