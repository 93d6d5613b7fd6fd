#!/usr/bin/env python3
"""Build the solution notebooks (the course's answer keys) from their Python sources.

Each chapter's key is written as a list of cells in ``solutions/_src/NN_topic.py`` (a
module with ``FILENAME`` and ``CELLS``, made with the helpers below, which attach the
nbgrader metadata). This script turns the list into an nbformat-4 notebook, runs it top
to bottom in a fresh kernel with the working directory ``solutions/`` (as nbval does),
checks it, writes ``solutions/NN_topic.ipynb`` with its outputs, and then regenerates
``exercises/`` and the self-check data with ``python -m minijax.course release``.

    python solutions/_build.py          # rebuild every key, then release
    python solutions/_build.py 02       # only keys whose number/name matches

Instructors who prefer to edit the ``.ipynb`` directly can: the notebook is what
``minijax-course release`` and ``minijax-grade`` read; the sources only make diffs small.
"""
from __future__ import annotations

import glob
import importlib.util
import os
import sys
import textwrap

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SOURCES = os.path.join(HERE, "_src")


def _dedent(text):
    return textwrap.dedent(text).strip("\n")


def _meta(grade_id, *, grade=False, solution=False, locked=False, points=None):
    m = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
         "solution": solution}
    if grade:
        m["points"] = points
    return {"nbgrader": m}


# -- cell constructors used by the sources -------------------------------------------

def md(text):
    """Plain markdown (instructions): students may edit it, nothing depends on it."""
    return ("markdown", _dedent(text), (), {})


def locked(grade_id, source, tags=("no-output",)):
    """A read-only code cell (setup): the grader always runs the key's version."""
    return ("code", _dedent(source), tuple(tags), _meta(grade_id, locked=True))


def answer(grade_id, source, tags=("no-output",)):
    """The student's cell: code between ### BEGIN/END SOLUTION becomes a stub."""
    return ("code", _dedent(source), tuple(tags), _meta(grade_id, solution=True))


def tests(grade_id, points, *sources):
    """An autograded test cell worth ``points``; ### BEGIN/END HIDDEN TESTS hide cases."""
    return ("code", "\n".join(_dedent(s) for s in sources), (), _meta(grade_id, grade=True, locked=True,
                                                points=points))


def demo(source, tags=()):
    """An ordinary code cell (a demonstration, e.g. the broken version raising)."""
    return ("code", _dedent(source), tuple(tags), {})


# -- building -------------------------------------------------------------------------

def _lesson_builder():
    spec = importlib.util.spec_from_file_location("build_lessons",
                                                  os.path.join(ROOT, "tools", "build_lessons.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_source(path):
    return _lesson_builder().load_source(path, prefix="solution_source_")


def make_notebook(cells, prefix):
    import nbformat
    bl = _lesson_builder()
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(bl.KERNELSPEC), "language_info": dict(bl.LANGUAGE_INFO)}
    for i, (kind, text, tags, meta) in enumerate(cells):
        cell = (nbformat.v4.new_markdown_cell(text) if kind == "markdown"
                else nbformat.v4.new_code_cell(text))
        cell.metadata.update(meta)
        if tags:
            cell.metadata["tags"] = list(tags)
        cell.id = f"{prefix}-{i:02d}"
        nb.cells.append(cell)
    return nb


def build(path):
    import nbformat
    sys.path.insert(0, ROOT)
    from minijax.course.notebook import validate_nbgrader_metadata
    bl = _lesson_builder()
    source = load_source(path)
    prefix = "s" + source.FILENAME[:2]
    nb = make_notebook(source.CELLS, prefix)
    problems = validate_nbgrader_metadata(nb)
    if problems:
        raise SystemExit(f"{source.FILENAME}: " + "; ".join(problems))
    target = os.path.join(HERE, source.FILENAME)
    nbformat.write(nb, target)          # unexecuted first: check("q1") reads its tests ...
    _release()                          # ... from the data that release writes
    bl.execute(nb, cwd=HERE)
    bl.tidy(nb)
    bl.check(nb, source.FILENAME)
    nbformat.validate(nb)
    nbformat.write(nb, target)
    return target


def main(argv):
    sources = sorted(glob.glob(os.path.join(SOURCES, "[0-9][0-9]_*.py")))
    if argv:
        sources = [s for s in sources if any(a in os.path.basename(s) for a in argv)]
    if not sources:
        raise SystemExit("no solution source matched " + " ".join(argv))
    for path in sources:
        target = build(path)
        print(f"wrote {os.path.relpath(target, ROOT)} ({os.path.getsize(target) / 1024:.0f} KiB)")
    _release()


def _release():
    sys.path.insert(0, ROOT)
    from minijax.course import cli
    cli.main(["release", "--solutions", HERE, "--exercises", os.path.join(ROOT, "exercises")])


if __name__ == "__main__":
    main(sys.argv[1:])
