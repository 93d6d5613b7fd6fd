"""Platforms: the Gradescope autograder zip under a fake /autograder root, and real nbgrader
(generate_assignment + autograde with an sqlite gradebook) agreeing with minijax-grade."""
from __future__ import annotations

import copy
import json
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

pytest.importorskip("jupyter_client")
nbformat = pytest.importorskip("nbformat")

from minijax.course import cli, grade, notebook  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
KEY = ROOT / "solutions" / "01_jax_numpy.ipynb"


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def _unpack(tmp_path):
    zpath = tmp_path / "autograder.zip"
    assert cli.main(["gradescope", "01", "--solutions", str(ROOT / "solutions"),
                     "--output", str(zpath)]) == 0
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zpath) as z:
        names = z.namelist()
        assert {"setup.sh", "run_autograder", "requirements.txt", "autograder.json",
                "key/01_jax_numpy.ipynb", "minijax/__init__.py",
                "minijax/course/grade.py"} <= set(names)
        assert (z.getinfo("run_autograder").external_attr >> 16) & 0o111
        z.extractall(root / "source")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    return root


def _run_autograder(root):
    script = root / "source" / "run_autograder"
    env = _env()
    env.update(AUTOGRADER_ROOT=str(root), PYTHON=sys.executable)
    env["PYTHONPATH"] = ""   # the zip brings its own minijax
    proc = subprocess.run(["bash", str(script)], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads((root / "results" / "results.json").read_text())


def test_gradescope_zip_grades_a_submission_under_a_fake_root(tmp_path):
    root = _unpack(tmp_path)
    shutil.copy(KEY, root / "submission" / "my_work.ipynb")
    results = _run_autograder(root)
    assert results["score"] == results["max_score"] == 8
    assert [t["name"] for t in results["tests"]] == ["q1", "q2", "q3"]


def test_gradescope_without_a_notebook_gives_zero_and_says_why(tmp_path):
    root = _unpack(tmp_path)
    (root / "submission" / "notes.txt").write_text("oops")
    results = _run_autograder(root)
    assert results["score"] == 0 and results["max_score"] == 8
    assert "No notebook was submitted" in results["output"]


# -- nbgrader ------------------------------------------------------------------------------

def _answer_sources(key_nb):
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in key_nb.cells
            if notebook.is_answer_cell(c)}


def _student_copy(released, answers, solve):
    nb = copy.deepcopy(released)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in solve:
            cell.source = solve[gid](answers[gid])
    return nb


def test_real_nbgrader_agrees_with_minijax_grade(tmp_path):
    pytest.importorskip("nbgrader")
    course = tmp_path / "course"
    (course / "source" / "ps1").mkdir(parents=True)
    shutil.copy(KEY, course / "source" / "ps1" / KEY.name)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'minijax'\n"
        "c.Autograde.create_student = True\n"
        "c.Execute.timeout = 120\n")
    env = _env()
    # nbgrader runs `alembic` (its gradebook migrations) from PATH: this environment's bin/
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    nbg = [sys.executable, "-m", "nbgrader"]
    proc = subprocess.run(nbg + ["generate_assignment", "ps1", "--force"], cwd=course, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    released = nbformat.read(str(course / "release" / "ps1" / KEY.name), as_version=4)
    answers = _answer_sources(nbformat.read(str(KEY), as_version=4))
    solved = lambda src: src  # noqa: E731 - the key's answer, markers and all
    noisy_q1 = lambda src: src.replace(  # noqa: E731
        "return jnp.arange", "import sys; print('debug', file=sys.stderr)\n    return jnp.arange")
    students = {"blank": {}, "full": {g: solved for g in answers},
                "mixed": {"q1_answer": solved, "q3_answer": solved},
                "noisy": {"q1_answer": noisy_q1, "q2_answer": solved, "q3_answer": solved}}
    paths = []
    for sid, solve in students.items():
        d = course / "submitted" / sid / "ps1"
        d.mkdir(parents=True)
        nbformat.write(_student_copy(released, answers, solve), str(d / KEY.name))
        (d / "timestamp.txt").write_text("2024-01-01 00:00:00.000000 UTC")
        paths.append(d / KEY.name)
    proc = subprocess.run(nbg + ["autograde", "ps1", "--force"], cwd=course, env=env,
                          capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]

    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        nbgrader_scores = {sid: gb.find_submission_notebook(KEY.name[:-6], "ps1", sid).score
                           for sid in students}

    results, _, _ = grade.grade_all(str(KEY), [str(p) for p in paths], jobs=4,
                                    timeout_cell=60, key_check=False)
    ours = {pathlib.Path(r["submission"]).parent.parent.name: r["score"] for r in results}
    assert nbgrader_scores["blank"] == ours["blank"] == 0
    assert nbgrader_scores["full"] == ours["full"] == 8
    assert nbgrader_scores["mixed"] == ours["mixed"] == 5
    # the one documented difference: a correct answer that writes to stderr
    assert ours["noisy"] == 8 and nbgrader_scores["noisy"] == 6
