"""Notebooks as the course uses them: reading (robustly), the key's questions, and release.

A *solution key* (``solutions/NN_topic.ipynb``) is an nbformat-4 notebook whose cells carry
nbgrader metadata (schema version 3)::

    {"nbgrader": {"grade": bool, "solution": bool, "locked": bool,
                  "grade_id": str, "points": number (grade cells), "schema_version": 3}}

- *answer* cells: ``solution: true, grade: false`` -- the code between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION`` is the model answer;
- *test* cells: ``grade: true, solution: false, locked: true`` with ``points`` -- the code
  between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` is not shown to students.

:func:`release` turns a key into the student's exercise: answers become a stub that
raises ``NotImplementedError``, hidden tests disappear, outputs are cleared.
"""
from __future__ import annotations

import copy
import json
import os
import re

import nbformat

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
SCHEMA_VERSION = 3


class NotebookProblem(Exception):
    """A notebook that cannot be used (the message says why, for the report)."""


# -- reading ---------------------------------------------------------------------------

def read_notebook(path):
    """Read any notebook a student might hand in, as nbformat 4.

    Raises :class:`NotebookProblem` with a readable reason for: a missing/unreadable file,
    invalid JSON, something that is not a notebook. nbformat 3 files are upgraded.
    """
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise NotebookProblem(f"cannot read the file: {e.strerror or e}")
    if not raw.strip():
        raise NotebookProblem("the file is empty (0 bytes): was the notebook saved?")
    try:
        data = json.loads(raw.decode("utf-8-sig", errors="replace"))
    except ValueError as e:
        raise NotebookProblem(f"not valid JSON ({e}): the file is damaged; re-download "
                              "or re-save the notebook from Jupyter")
    if not isinstance(data, dict) or "nbformat" not in data:
        raise NotebookProblem("this JSON file is not a Jupyter notebook (no 'nbformat' key)")
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
    except Exception as e:
        raise NotebookProblem(f"not a readable notebook ({type(e).__name__}: {e})")
    cells = []
    for cell in nb.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            continue
        src = cell.get("source", "")
        if isinstance(src, list):
            src = "".join(str(s) for s in src)
        cell["source"] = str(src)
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = nbformat.NotebookNode()
        cells.append(cell)
    nb["cells"] = cells
    return nb


def nbgrader_meta(cell):
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def is_test_cell(cell):
    m = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(m.get("grade")) and not m.get("solution")


def is_answer_cell(cell):
    m = nbgrader_meta(cell)
    return bool(m.get("solution"))


# -- the key -------------------------------------------------------------------------

class Question:
    """One autograded test cell of the key: ``grade_id``, ``points``, its source."""

    def __init__(self, grade_id, points, source, index):
        self.grade_id, self.points, self.source, self.index = grade_id, float(points), source, index
        self.hidden_lines = hidden_line_numbers(source)
        self.name = grade_id[:-len("_tests")] if grade_id.endswith("_tests") else grade_id

    def visible_source(self):
        return strip_hidden(self.source)

    def __repr__(self):
        return f"Question({self.grade_id!r}, points={self.points})"


def load_key(path):
    """The key notebook and its questions, in order; raises NotebookProblem if unusable."""
    nb = read_notebook(path)
    questions, seen = [], set()
    for i, cell in enumerate(nb.cells):
        if not is_test_cell(cell):
            continue
        m = nbgrader_meta(cell)
        gid = m.get("grade_id")
        if not gid or gid in seen:
            raise NotebookProblem(f"key cell {i}: test cells need a unique grade_id (got {gid!r})")
        seen.add(gid)
        questions.append(Question(gid, m.get("points", 0) or 0, cell.source, i))
    if not questions:
        raise NotebookProblem("the key has no autograded test cells (nbgrader grade: true)")
    return nb, questions


def hidden_line_numbers(source):
    """1-based line numbers of ``source`` that lie inside hidden-test blocks."""
    hidden, inside = set(), False
    for n, line in enumerate(source.splitlines(), 1):
        s = line.strip()
        if s.startswith(BEGIN_HIDDEN):
            inside = True
        if inside:
            hidden.add(n)
        if s.startswith(END_HIDDEN):
            inside = False
    return hidden


def strip_hidden(source):
    out, inside = [], False
    for line in source.splitlines():
        s = line.strip()
        if s.startswith(BEGIN_HIDDEN):
            inside = True
            continue
        if s.startswith(END_HIDDEN):
            inside = False
            continue
        if not inside:
            out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out)


def stub_solutions(source, language="code"):
    """Replace every BEGIN/END SOLUTION block by the stub, keeping the block's indentation."""
    out, inside = [], False
    for line in source.splitlines():
        s = line.strip()
        if s.startswith(BEGIN_SOLUTION):
            inside = True
            indent = line[:len(line) - len(line.lstrip())]
            if language == "markdown":
                out.append(indent + "YOUR ANSWER HERE")
            else:
                out.extend(indent + stub for stub in STUB)
            continue
        if s.startswith(END_SOLUTION):
            inside = False
            continue
        if not inside:
            out.append(line)
    if inside:
        raise ValueError("### BEGIN SOLUTION without ### END SOLUTION")
    return "\n".join(out)


# -- release -------------------------------------------------------------------------

def release(key_nb):
    """The student's exercise notebook made from a key notebook (a new object)."""
    nb = copy.deepcopy(key_nb)
    for cell in nb.cells:
        m = nbgrader_meta(cell)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
            if m.get("solution"):
                cell.source = stub_solutions(cell.source)
            if m.get("grade"):
                cell.source = strip_hidden(cell.source)
        elif cell.cell_type == "markdown" and m.get("solution"):
            cell.source = stub_solutions(cell.source, language="markdown")
        tags = [t for t in cell.metadata.get("tags", []) if t not in ("no-output",)]
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)
    nb.metadata.pop("widgets", None)
    return nb


def dumps(nb):
    return nbformat.writes(nb) + ("" if nbformat.writes(nb).endswith("\n") else "\n")


def validate_nbgrader_metadata(nb):
    """Problems with the nbgrader metadata of a key (empty list when fine)."""
    problems, ids = [], set()
    for i, cell in enumerate(nb.cells):
        m = nbgrader_meta(cell)
        if not m:
            continue
        for key in ("grade", "solution", "locked", "grade_id", "schema_version"):
            if key not in m:
                problems.append(f"cell {i}: nbgrader metadata lacks {key!r}")
        if m.get("schema_version") != SCHEMA_VERSION:
            problems.append(f"cell {i}: schema_version must be {SCHEMA_VERSION}")
        if not re.match(r"^[A-Za-z0-9_-]+$", str(m.get("grade_id", ""))):
            problems.append(f"cell {i}: grade_id {m.get('grade_id')!r} must be letters, digits, _ or -")
        if m.get("grade_id") in ids:
            problems.append(f"cell {i}: duplicate grade_id {m.get('grade_id')!r}")
        ids.add(m.get("grade_id"))
        if m.get("grade") and not isinstance(m.get("points"), (int, float)):
            problems.append(f"cell {i}: grade cells need numeric points")
        src = cell.get("source", "")
        if m.get("solution") and (src.count(BEGIN_SOLUTION) != src.count(END_SOLUTION)
                                  or BEGIN_SOLUTION not in src):
            problems.append(f"cell {i}: answer cells need matching BEGIN/END SOLUTION markers")
        if src.count(BEGIN_HIDDEN) != src.count(END_HIDDEN):
            problems.append(f"cell {i}: unbalanced HIDDEN TESTS markers")
    return problems


def chapter_files(solutions_dir):
    return sorted(f for f in os.listdir(solutions_dir)
                  if re.match(r"^\d\d_[a-z0-9_]+\.ipynb$", f))
