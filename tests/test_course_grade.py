"""minijax-grade end to end: every chapter's blank exercise scores 0 and its solution full
marks; the outputs (report, Gradescope results.json, CSV) follow their formats.

Each graded notebook costs a kernel start (1-3 s): submissions of one chapter are graded
in one call, in parallel.
"""
from __future__ import annotations

import csv
import io
import json
import os
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")
jsonschema = pytest.importorskip("jsonschema")

from minijax.course import grade  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
KEYS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))

# Gradescope's results.json (https://gradescope-autograders.readthedocs.io/en/latest/specs/)
GRADESCOPE_SCHEMA = {
    "type": "object",
    "required": ["score", "tests"],
    "properties": {
        "score": {"type": "number", "minimum": 0},
        "max_score": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "stdout_visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "tests": {"type": "array", "items": {
            "type": "object",
            "required": ["score", "max_score", "name", "output"],
            "properties": {
                "score": {"type": "number", "minimum": 0},
                "max_score": {"type": "number", "minimum": 0},
                "name": {"type": "string"},
                "output": {"type": "string"},
                "status": {"enum": ["passed", "failed"]},
                "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
            },
            "additionalProperties": False}},
    },
}


def run_grade(*args, timeout=300):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-m", "minijax.course.grade", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


@pytest.fixture(scope="module", params=KEYS, ids=[k.name[:2] for k in KEYS])
def graded_chapter(request, tmp_path_factory):
    key = request.param
    tmp = tmp_path_factory.mktemp("grade" + key.name[:2])
    blank = tmp / "blank.ipynb"
    blank.write_bytes((ROOT / "exercises" / key.name).read_bytes())
    solved = tmp / "solved.ipynb"
    solved.write_bytes(key.read_bytes())
    proc = run_grade("--key", key, blank, solved, "--json", tmp / "r.json", "--csv",
                     tmp / "c.csv", "--jobs", "3", "--timeout-cell", "60")
    return key, proc, tmp


def test_blank_scores_zero_and_solution_full_marks(graded_chapter):
    key, proc, tmp = graded_chapter
    assert proc.returncode == 0, proc.stderr
    assert "WARNING: the key itself" not in proc.stderr
    results = json.loads((tmp / "r.json").read_text())["results"]
    _, questions = grade.load_key(str(key))
    total = sum(q.points for q in questions)
    assert results["blank"]["score"] == 0 and results["blank"]["max_score"] == total
    assert results["solved"]["score"] == total
    for t in results["blank"]["tests"]:
        assert t["score"] == 0 and "not answered yet" in t["output"] or "NameError" in t["output"]


def test_results_json_and_csv_formats(graded_chapter):
    key, proc, tmp = graded_chapter
    results = json.loads((tmp / "r.json").read_text())["results"]
    for r in results.values():
        jsonschema.validate(r, GRADESCOPE_SCHEMA)
        assert abs(sum(t["score"] for t in r["tests"]) - r["score"]) < 1e-9
    rows = list(csv.DictReader(io.StringIO((tmp / "c.csv").read_text())))
    assert [r["student"] for r in rows] == ["blank", "solved"]
    _, questions = grade.load_key(str(key))
    assert set(q.name for q in questions) <= set(rows[0])
    assert float(rows[1]["score"]) == sum(float(rows[1][q.name]) for q in questions)


def test_report_hides_hidden_tests(graded_chapter):
    key, proc, tmp = graded_chapter
    report = proc.stdout
    assert "blank: 0 / " in report and "hidden check 1" in report
    _, questions = grade.load_key(str(key))
    visible = "\n".join(q.visible_source() for q in questions)
    for q in questions:
        src = q.source.splitlines()
        for n in q.hidden_lines:
            line = src[n - 1].strip()
            if line.startswith("with t.case("):
                name = line.split('"')[1] if '"' in line else line
                if name in visible:
                    continue
                assert name not in report, f"hidden case name {name!r} leaked into the report"
        assert "### BEGIN HIDDEN" not in report
    assert "graded" in proc.stderr  # progress


def test_bad_key_exits_2_and_bad_submission_does_not(tmp_path):
    bad_key = tmp_path / "key.ipynb"
    bad_key.write_text("{not json")
    proc = run_grade("--key", bad_key, bad_key)
    assert proc.returncode == 2 and "cannot be used" in proc.stderr
    proc = run_grade("--key", KEYS[0], bad_key, "--json", tmp_path / "r.json", "--no-key-check")
    assert proc.returncode == 0, proc.stderr
    r = json.loads((tmp_path / "r.json").read_text())
    jsonschema.validate(r, GRADESCOPE_SCHEMA)
    assert r["score"] == 0 and "not valid JSON" in r["tests"][0]["output"]


def test_rescore_never_exceeds_points_and_follows_the_key():
    _, questions = grade.load_key(str(KEYS[0]))
    q = questions[0]
    forged = {"student": "s", "questions": [
        {"grade_id": q.grade_id, "name": q.name, "points": 1000, "score": 1000, "status": "passed",
         "cause": "", "reported": True,
         "cases": [{"name": "made up", "passed": True, "line": 1, "message": "", "hint": ""}]}]}
    expected = {q.grade_id: [("a", 3), ("b", 4)]}
    r = grade.rescore(forged, questions, expected)
    entry = r["questions"][0]
    assert entry["score"] == 0 and entry["points"] == q.points
    assert [c["name"] for c in entry["cases"]] == ["a", "b"]
    assert r["score"] <= r["max_score"]
    silent = {"student": "s", "questions": [
        {"grade_id": q.grade_id, "name": q.name, "points": q.points, "score": q.points,
         "status": "passed", "cause": "", "reported": False, "cases": []}]}
    assert grade.rescore(silent, questions, expected)["score"] == 0
