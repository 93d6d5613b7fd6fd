#!/usr/bin/env python3
"""Build the lesson notebooks from their Python sources, execute them, and write them.

Each lesson is written as a list of cells in ``tools/lesson_sources/lessonNN.py``
(a module with ``FILENAME`` and ``CELLS``). This script turns the list into an
nbformat-4 notebook, runs it top to bottom in a fresh kernel of *this*
interpreter with the working directory ``lessons/`` (the same way nbval runs it
in the test suite), checks it, and writes ``lessons/FILENAME`` with its outputs,
ready to commit.

    python tools/build_lessons.py            # rebuild every lesson
    python tools/build_lessons.py 02         # rebuild lessons whose number/name matches

Checks made before writing (the build fails loudly rather than commit a bad
notebook): cells tagged ``raises-exception`` did raise, every other cell did not;
no output mentions an absolute path; cells without output are tagged
``no-output``.

Outputs are made deterministic: no timing metadata, fixed cell ids, tracebacks
reduced to the frames of the notebook itself (library frames would show this
machine's paths; nbval ignores tracebacks anyway and compares ``ename`` and
``evalue``).
"""
from __future__ import annotations

import glob
import importlib.util
import os
import re
import sys

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = os.path.join(ROOT, "tools", "lesson_sources")
LESSONS = os.path.join(ROOT, "lessons")

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
}
NO_OUTPUT_TAG = "no-output"
RAISES_TAG = "raises-exception"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
ABSOLUTE_PATH = re.compile(r"(?<![\w.])(/work/|/home/|/tmp/|/root/|/usr/|/opt/|[A-Za-z]:\\)")


# -- cell constructors used by the lesson sources ------------------------------

def md(text):
    """A markdown cell (leading/trailing blank lines and common indentation removed)."""
    return ("markdown", _dedent(text), ())


def code(source, tags=()):
    """A code cell. Tag ``raises-exception`` for cells that must raise, ``no-output``
    for cells that print nothing by design (imports, assignments)."""
    return ("code", _dedent(source), tuple(tags))


def _dedent(text):
    import textwrap
    return textwrap.dedent(text).strip("\n")


# -- building and executing -------------------------------------------------------

class ThisPythonKernels(KernelSpecManager):
    """Every kernel name resolves to an ipykernel running on this very interpreter."""

    def get_kernel_spec(self, kernel_name):
        return KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f",
                                "{connection_file}"],
                          display_name=KERNELSPEC["display_name"], language="python",
                          resource_dir=os.path.dirname(__file__))


def new_kernel_manager():
    return KernelManager(kernel_name="python3", kernel_spec_manager=ThisPythonKernels())


def load_source(path, prefix="lesson_source_"):
    """Import a cell-list source file as a module (named ``prefix`` + its file name)."""
    name = prefix + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def make_notebook(cells, prefix):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO)}
    for i, (kind, text, tags) in enumerate(cells):
        if kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(text)
        else:
            cell = nbformat.v4.new_code_cell(text)
            if tags:
                cell.metadata["tags"] = list(tags)
        cell.id = f"{prefix}-{i:02d}"
        nb.cells.append(cell)
    return nb


def execute(nb, cwd=LESSONS, timeout=300, allow_errors=False, pythonpath=ROOT):
    """Run every cell in a fresh kernel of this interpreter, working directory ``cwd``.

    Cells tagged raises-exception may raise; with ``allow_errors`` any cell may (the
    caller inspects the outputs). ``pythonpath`` goes first on the kernel's PYTHONPATH.
    """
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # let the kernel choose its inline backend
    # The kernel imports minijax from this checkout, installed or not.
    path = os.pathsep.join(p for p in (pythonpath, env.get("PYTHONPATH")) if p)
    if path:
        env["PYTHONPATH"] = path
    client = NotebookClient(nb, km=new_kernel_manager(), timeout=timeout,
                            record_timing=False, allow_errors=allow_errors,
                            resources={"metadata": {"path": cwd}})
    client.execute(env=env)
    return nb


def _is_path_frame(entry):
    plain = _ANSI.sub("", entry)
    return bool(re.search(r"^File \S*[/\\]", plain.lstrip(), re.M)) or bool(ABSOLUTE_PATH.search(plain))


def tidy(nb):
    """Make outputs deterministic and free of this machine's paths."""
    # the kernel reports its Python version into language_info: keep the fixed one
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO)}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        for out in cell.outputs:
            if out.output_type == "error":
                out.traceback = [t for t in out.traceback if not _is_path_frame(t)]
    return nb


def check(nb, name):
    problems = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if RAISES_TAG in tags and not errors:
            problems.append(f"cell {cell.id} is tagged {RAISES_TAG} but did not raise")
        if RAISES_TAG not in tags and errors:
            problems.append(f"cell {cell.id} raised {errors[0].ename}: {errors[0].evalue}")
        if not cell.outputs and NO_OUTPUT_TAG not in tags:
            problems.append(f"cell {cell.id} has no output; tag it {NO_OUTPUT_TAG!r} if that "
                            "is by design")
        if cell.outputs and NO_OUTPUT_TAG in tags:
            problems.append(f"cell {cell.id} is tagged {NO_OUTPUT_TAG!r} but has output")
        for out in cell.outputs:
            blob = _ANSI.sub("", str(out.get("text", "")) + str(out.get("data", {}).get(
                "text/plain", "")) + str(out.get("evalue", "")) + "".join(out.get("traceback", [])))
            if ABSOLUTE_PATH.search(blob):
                problems.append(f"cell {cell.id} output mentions an absolute path: "
                                f"{ABSOLUTE_PATH.search(blob).group(0)!r}")
    if problems:
        raise SystemExit(f"{name}: " + "\n  ".join(["lesson check failed:"] + problems))


def build(path, out_dir=LESSONS):
    source = load_source(path)
    prefix = "c" + os.path.basename(path)[len("lesson"):len("lesson") + 2]
    nb = make_notebook(source.CELLS, prefix)
    execute(nb)
    tidy(nb)
    check(nb, source.FILENAME)
    nbformat.validate(nb)
    target = os.path.join(out_dir, source.FILENAME)
    nbformat.write(nb, target)
    return target


def main(argv):
    sources = sorted(glob.glob(os.path.join(SOURCES, "lesson[0-9][0-9]*.py")))
    if argv:
        sources = [s for s in sources if any(a in os.path.basename(s) or
                                             a in load_source(s).FILENAME for a in argv)]
    if not sources:
        raise SystemExit("no lesson source matched " + " ".join(argv))
    for path in sources:
        target = build(path)
        print(f"wrote {os.path.relpath(target, ROOT)} "
              f"({os.path.getsize(target) / 1024:.0f} KiB)")


if __name__ == "__main__":
    main(sys.argv[1:])
