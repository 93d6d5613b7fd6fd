"""Hostile and broken submissions (tests/fixtures/course, made by make_hostile.py from the
chapter-01 key: q1 = 2, q2 = 3, q3 = 3 points). The grader never crashes, never hangs past
its limits, never gives more than the earned points, and says why per question.

All fixtures are graded in ONE minijax-grade call, in parallel, with short limits.
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "course"
KEY = ROOT / "solutions" / "01_jax_numpy.ipynb"
CELL_S, TOTAL_S = 4, 60

# name -> (q1, q2, q3): what each may earn (the earned points, exactly)
EXPECTED = {
    "loops": (0, 0, 3),
    "crashes": (0, 0, 3),
    "memory_and_exit": (2, 0, 0),
    "tampering": (0, 1.2, 3),      # q2: returning x keeps shape and dtype (2 of 5 checks)
    "deleted_tests": (2, 3, 3),
    "reads_key": (0, 0, 0),
    "noisy_partial": (2, 3, 2.5),
    "no_cells": (0, 0, 0),
    "nbformat_v3": (2, 3, 3),
    "malformed_json": (0, 0, 0),
    "empty_file": (0, 0, 0),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    subs = [FIXTURES / f"{name}.ipynb" for name in EXPECTED]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "minijax.course.grade", "--key", str(KEY), *map(str, subs),
         "--json", str(tmp / "r.json"), "--csv", str(tmp / "c.csv"), "--jobs", "4",
         "--timeout-cell", str(CELL_S), "--timeout", str(TOTAL_S), "--memory-mb", "1500",
         "--quiet", "--show-hidden"],
        capture_output=True, text=True, timeout=400, env=env, cwd=ROOT)
    elapsed = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp / "r.json").read_text())["results"]
    reports = {}
    for block in proc.stdout.split("\n\n"):
        if block.strip():
            reports[block.split(":", 1)[0].strip()] = block
    return results, reports, elapsed


def scores(results, name):
    return tuple(t["score"] for t in results[name]["tests"])


@pytest.mark.parametrize("name", list(EXPECTED))
def test_scores_exactly_what_was_earned(graded, name):
    results, reports, _ = graded
    assert scores(results, name) == pytest.approx(EXPECTED[name]), reports.get(name)
    assert results[name]["score"] <= results[name]["max_score"] == 8


def test_finishes_within_the_limits(graded):
    _, _, elapsed = graded
    # 11 submissions + the key on (at least) 2 cores, each bounded by TOTAL_S
    assert elapsed < 3 * TOTAL_S


def test_infinite_loops_are_stopped_and_named(graded):
    _, reports, _ = graded
    r = reports["loops"]
    assert "ran past the 4 s cell time limit" in r          # q1: interrupted
    assert "could not be interrupted" in r                   # q2: ignores SIGINT: killed
    assert "before these tests, cell 3 ran past the 4 s cell time limit" in r


def test_kernel_crashes_are_survived_and_named(graded):
    _, reports, _ = graded
    r = reports["crashes"]
    assert "exited with status 1" in r                       # os._exit(1)
    assert "segmentation fault" in r                         # ctypes
    assert "a fresh kernel was started" in r


def test_memory_bomb_and_sys_exit(graded):
    _, reports, _ = graded
    r = reports["memory_and_exit"]
    assert "ran out of memory" in r
    assert "raised SystemExit" in r


def test_edited_and_deleted_test_cells_are_replaced_by_the_key(graded):
    results, reports, _ = graded
    assert "test cell 'q1_tests' was edited: the original was run instead" in reports["tampering"]
    assert results["tampering"]["max_score"] == 8            # the 100-point edit is ignored
    assert "test cell 'q2_tests' was missing: the original was put back" in reports["deleted_tests"]
    assert "locked cell 'setup' was missing" in reports["deleted_tests"]


def test_redefined_helpers_and_monkeypatching_are_undone(graded):
    _, reports, _ = graded
    r = reports["tampering"]
    for what in ("numpy.isclose", "minijax.Array", "minijax.numpy.allclose",
                 "minijax.course.testing.assert_allclose", "minijax.course.testing.Cases.__exit__"):
        assert f"the grader undid a change: {what} was replaced" in r


def test_reading_the_key_is_blocked(graded):
    _, reports, _ = graded
    r = reports["reads_key"]
    assert "blocked open of" in r and "blocked os.listdir" in r
    assert "subprocess.Popen" in r


def test_broken_files_are_reported(graded):
    _, reports, _ = graded
    assert "not valid JSON" in reports["malformed_json"]
    assert "the file is empty" in reports["empty_file"]
    assert "contains no code of its own" in reports["no_cells"]


def test_warnings_and_stderr_cost_nothing(graded):
    results, _, _ = graded
    assert results["noisy_partial"]["tests"][0]["score"] == 2
    assert "5 of 6" not in results["noisy_partial"]["tests"][2]["output"]
    assert "1 of 6 checks failed" in results["noisy_partial"]["tests"][2]["output"]
