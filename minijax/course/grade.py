"""minijax-grade: grade submitted notebooks against a solution key.

    minijax-grade --key solutions/01_jax_numpy.ipynb alice.ipynb bob.ipynb \\
        [--json results.json] [--csv class.csv] [--jobs N] [--timeout-cell S] \\
        [--timeout S] [--memory-mb M] [--report-dir DIR] [--quiet]

(also ``python -m minijax.course.grade ...``). Each submission runs in a fresh kernel,
in its own process group, under resource limits; the key's test cells are run in place
of the student's copies; every test case earns its share of the question's points.
Exit status 0 means grading ran (whatever the scores); 2 means the grader could not run
(bad arguments, unusable key).

Outputs:

- a readable report per student on stdout (or one file each in ``--report-dir``):
  what passed, what failed and why, never the source of a hidden test;
- ``--json``: Gradescope's ``results.json`` for one submission; for several, an object
  ``{"results": {student: results.json object}}``;
- ``--csv``: one row per student (score, max_score, one column per question, status, notes).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from .notebook import NotebookProblem, load_key

DEFAULTS = {"timeout_cell": 30.0, "timeout_total": 600.0, "memory_mb": 4096, "jobs": 0}
KEY_STUDENT = "__key__"


# -- running workers ----------------------------------------------------------------------

def _minijax_root():
    import minijax
    return os.path.dirname(os.path.dirname(os.path.abspath(minijax.__file__)))


def _sandbox_config(opts, key, submissions, jobroot, jobdir):
    import minijax
    deny = {os.path.dirname(os.path.abspath(key)), jobroot}
    deny.update(os.path.dirname(os.path.abspath(s)) for s in submissions)
    allow = {jobdir, os.path.dirname(os.path.abspath(minijax.__file__)), sys.prefix,
             sys.base_prefix, sys.exec_prefix}
    try:
        import site
        allow.update(site.getsitepackages())
    except Exception:
        pass
    return {"memory_mb": opts.memory_mb,
            "cpu_s": int(opts.timeout + 30),
            "fsize_mb": 256,
            "deny": sorted(deny), "allow": sorted(a for a in allow if a),
            "deny_files": sorted({os.path.abspath(key)} | {os.path.abspath(s) for s in submissions}),
            "block_processes": True,
            "audit_log": os.path.join(jobdir, "blocked.log")}


def _student_name(path, taken):
    base = os.path.splitext(os.path.basename(path))[0] or "submission"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def _run_worker(job, jobdir, wall_limit):
    job_path = os.path.join(jobdir, "job.json")
    out_path = os.path.join(jobdir, "result.json")
    with open(job_path, "w") as f:
        json.dump(job, f)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (job.get("pythonpath"), env.get("PYTHONPATH")) if p)
    with open(os.path.join(jobdir, "worker.log"), "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "minijax.course._worker", job_path, out_path],
                                stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)
        try:
            proc.wait(timeout=wall_limit)
            why = None if proc.returncode == 0 else f"the grading worker exited with {proc.returncode}"
        except subprocess.TimeoutExpired:
            why = f"the grading worker did not finish within {wall_limit:g} s and was stopped"
        _kill_group(proc.pid)
        proc.wait()
    try:
        with open(os.path.join(jobdir, "kernel.pid")) as f:
            for line in f:
                if line.strip().isdigit():
                    _kill_group(int(line))
    except OSError:
        pass
    try:
        with open(out_path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {"submission": job["submission"], "student": job["student"], "status": "error",
                "score": 0.0, "max_score": None, "questions": [],
                "notes": [why or "the grading worker produced no result"]}


# -- scoring against the key's own run -----------------------------------------------------

def expected_cases(key_result):
    """grade_id -> [(case name, line)] from grading the key itself (None: plain asserts)."""
    out = {}
    for q in key_result.get("questions", []):
        if q.get("cases"):
            out[q["grade_id"]] = [(c["name"], c.get("line", 0)) for c in q["cases"]]
    return out


def rescore(result, questions, expected):
    """Score ``result`` against the key: the key's case list decides what counts.

    A case the key does not have earns nothing; a key case missing from the submission's
    report fails; a test cell that reports no cases although the key's does earns 0.
    Every question stays within [0, points]; the total within [0, max_score].
    """
    points = {q.grade_id: q.points for q in questions}
    for entry in result.get("questions", []):
        gid = entry["grade_id"]
        entry["points"] = points.get(gid, 0.0)
        names = expected.get(gid)
        if names is not None:
            if entry.get("reported") is False:
                entry.update(status="failed", score=0.0, cases=[],
                             cause="the test cell ran but reported no results (tampering?)")
            elif entry.get("cases"):
                got = {}
                for c in entry["cases"]:
                    got.setdefault(c["name"], c)
                entry["cases"] = [got.get(n, {"name": n, "passed": False, "line": line,
                                              "hint": "", "message": "this check did not run"})
                                  for n, line in names]
                passed = sum(1 for c in entry["cases"] if c["passed"])
                entry["score"] = entry["points"] * passed / len(names)
                if entry["status"] in ("passed", "partial", "failed"):
                    entry["status"] = ("passed" if passed == len(names)
                                       else "partial" if passed else "failed")
                    entry["cause"] = ("" if passed == len(names)
                                      else f"{len(names) - passed} of {len(names)} checks failed")
        entry["score"] = round(max(0.0, min(entry["points"], float(entry.get("score", 0)))), 4)
    result["max_score"] = sum(points.values())
    result["score"] = round(min(result["max_score"],
                                sum(e["score"] for e in result.get("questions", []))), 4)
    return result


def _mark_hidden(result, questions):
    hidden = {q.grade_id: q.hidden_lines for q in questions}
    for entry in result.get("questions", []):
        for c in entry.get("cases", []):
            c["hidden"] = c.get("line", 0) in hidden.get(entry["grade_id"], ())
    return result


# -- reports ---------------------------------------------------------------------------

def _fmt(x):
    return f"{x:g}" if x is not None else "?"


def case_lines(entry, show_hidden=False):
    lines, hidden_n = [], 0
    for c in entry.get("cases", []):
        if c.get("hidden") and not show_hidden:
            hidden_n += 1
            lines.append(f"[{'ok  ' if c['passed'] else 'FAIL'}] hidden check {hidden_n}"
                         + ("" if c["passed"] else " (details are not shown)"))
            continue
        lines.append(f"[{'ok  ' if c['passed'] else 'FAIL'}] {c['name']}")
        if not c["passed"]:
            lines.extend("       " + m for m in str(c.get("message", "")).splitlines())
            if c.get("hint"):
                lines.append(f"       hint: {c['hint']}")
    return lines


def text_report(result, show_hidden=False):
    out = [f"{result['student']}: {_fmt(result['score'])} / {_fmt(result['max_score'])} points"]
    for e in result.get("questions", []):
        status = e["status"] if not e.get("cause") else f"{e['status']}: {e['cause']}"
        out.append(f"  {e['name']:<10} {_fmt(e['score']):>5} / {_fmt(e['points']):<4} {status}")
        if e.get("context"):
            out.append(f"      {e['context']}")
        out.extend("      " + line for line in case_lines(e, show_hidden))
        for r in e.get("restored", []):
            out.append(f"      note: before the tests ran, the grader undid a change: {r}")
    for note in result.get("notes", []):
        out.append(f"  note: {note}")
    return "\n".join(out) + "\n"


def gradescope_results(result):
    """Gradescope's results.json object for one graded submission."""
    tests = []
    for e in result.get("questions", []):
        body = [f"{e['status']}" + (f": {e['cause']}" if e.get("cause") else "")]
        body += [e["context"]] if e.get("context") else []
        body += case_lines(e)
        body += [f"note: the grader undid a change before the tests: {r}"
                 for r in e.get("restored", [])]
        tests.append({"name": e["name"], "score": float(e["score"]),
                      "max_score": float(e["points"]), "output": "\n".join(body),
                      "visibility": "visible",
                      "status": "passed" if e["score"] >= e["points"] else "failed"})
    notes = result.get("notes", [])
    return {"score": float(result["score"]), "max_score": float(result["max_score"] or 0),
            "output": "\n".join(["Graded by minijax-grade."] + [f"note: {n}" for n in notes]),
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def csv_text(results, questions):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["student", "submission", "score", "max_score"]
               + [q.name for q in questions] + ["status", "notes"])
    for r in results:
        by = {e["grade_id"]: e for e in r.get("questions", [])}
        w.writerow([r["student"], os.path.basename(str(r.get("submission", ""))),
                    _fmt(r["score"]), _fmt(r["max_score"])]
                   + [_fmt(by[q.grade_id]["score"]) if q.grade_id in by else "0" for q in questions]
                   + [r.get("status", ""), " | ".join(r.get("notes", []))])
    return buf.getvalue()


# -- progress --------------------------------------------------------------------------

class Progress:
    def __init__(self, total, stream, enabled):
        self.total, self.done, self.stream, self.enabled = total, 0, stream, enabled
        self.tty = enabled and hasattr(stream, "isatty") and stream.isatty()
        self.lock = threading.Lock()
        self.t0 = time.monotonic()

    def update(self, result):
        if not self.enabled:
            return
        with self.lock:
            self.done += 1
            width = 24
            filled = int(width * self.done / max(1, self.total))
            bar = "#" * filled + "-" * (width - filled)
            msg = (f"[{bar}] {self.done}/{self.total} graded, {time.monotonic() - self.t0:.0f} s"
                   f" | {result['student']}: {_fmt(result['score'])}/{_fmt(result['max_score'])}")
            if self.tty:
                self.stream.write("\r" + msg.ljust(100))
                if self.done == self.total:
                    self.stream.write("\n")
            else:
                self.stream.write(msg + "\n")
            self.stream.flush()


# -- main ------------------------------------------------------------------------------

def build_parser():
    p = argparse.ArgumentParser(prog="minijax-grade", description=__doc__.split("\n\n")[0])
    p.add_argument("--key", required=True, help="the solution notebook (solutions/NN_topic.ipynb)")
    p.add_argument("submissions", nargs="+", help="submitted notebooks")
    p.add_argument("--json", metavar="PATH", help="write Gradescope results.json here")
    p.add_argument("--csv", metavar="PATH", help="write one CSV row per student here")
    p.add_argument("--report-dir", metavar="DIR", help="write STUDENT.txt reports here "
                                                       "instead of printing them")
    p.add_argument("--jobs", "-j", type=int, default=DEFAULTS["jobs"],
                   help="submissions graded in parallel (default: number of CPUs, at most 8)")
    p.add_argument("--timeout-cell", type=float, default=DEFAULTS["timeout_cell"],
                   help="seconds one cell may run (default %(default)s)")
    p.add_argument("--timeout", type=float, default=DEFAULTS["timeout_total"],
                   help="seconds one submission may take in all (default %(default)s)")
    p.add_argument("--memory-mb", type=int, default=DEFAULTS["memory_mb"],
                   help="address-space limit of the kernel in MiB (default %(default)s)")
    p.add_argument("--no-key-check", action="store_true",
                   help="do not grade the key itself (faster; then a test cell's own case "
                        "report is trusted for how many cases it has)")
    p.add_argument("--show-hidden", action="store_true",
                   help="instructor view: show names and messages of hidden checks")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    return p


def grade_all(key, submissions, *, jobs=0, timeout_cell=30.0, timeout=600.0, memory_mb=4096,
              key_check=True, progress=None):
    """Grade ``submissions`` against ``key``; returns (results, questions, key_result)."""
    key = os.path.abspath(key)
    _, questions = load_key(key)
    opts = argparse.Namespace(timeout_cell=timeout_cell, timeout=timeout, memory_mb=memory_mb)
    jobs = jobs or min(8, os.cpu_count() or 1)
    jobroot = tempfile.mkdtemp(prefix="minijax-grade-")
    taken = {KEY_STUDENT}
    entries = [(os.path.abspath(s), _student_name(s, taken)) for s in submissions]
    if key_check:
        entries = [(key, KEY_STUDENT)] + entries
    pythonpath = _minijax_root()
    wall = timeout + 60 + 30 * 4  # startup and restarts on top of the kernel's own budget

    def one(n_entry):
        n, (path, student) = n_entry
        jobdir = os.path.join(jobroot, f"job-{n:04d}")
        sandbox = os.path.join(jobdir, "sandbox")
        os.makedirs(sandbox)
        job = {"key": key, "submission": path, "student": student, "jobdir": jobdir,
               "sandbox": sandbox, "timeout_cell": timeout_cell, "timeout_total": timeout,
               "pythonpath": pythonpath,
               "sandbox_config": _sandbox_config(opts, key, [p for p, _ in entries
                                                             if p != key], jobroot, jobdir)}
        result = _run_worker(job, jobdir, wall)
        result["submission"] = path
        result["student"] = student
        return result

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(one, ne): ne for ne in enumerate(entries)}
            results = {}
            for fut in concurrent.futures.as_completed(futures):
                r = fut.result()
                results[r["student"]] = r
                if progress is not None and r["student"] != KEY_STUDENT:
                    progress.update(_mark_hidden(rescore(dict(r), questions, {}), questions))
    finally:
        shutil.rmtree(jobroot, ignore_errors=True)
    key_result = results.pop(KEY_STUDENT, None)
    expected = expected_cases(key_result) if key_result else {}
    ordered = []
    for path, student in entries:
        if student == KEY_STUDENT:
            continue
        r = results[student]
        if not r.get("questions"):
            r["questions"] = [{"grade_id": q.grade_id, "name": q.name, "points": q.points,
                               "score": 0.0, "status": "not-run", "cases": [],
                               "cause": "not run: " + "; ".join(r.get("notes", []))}
                              for q in questions]
        ordered.append(_mark_hidden(rescore(r, questions, expected), questions))
    if key_result is not None:
        _mark_hidden(rescore(key_result, questions, expected), questions)
    return ordered, questions, key_result


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        load_key(args.key)
    except NotebookProblem as e:
        sys.stderr.write(f"minijax-grade: the key {args.key} cannot be used: {e}\n")
        return 2
    if args.timeout_cell <= 0 or args.timeout <= 0 or args.memory_mb < 256:
        sys.stderr.write("minijax-grade: timeouts must be positive and --memory-mb at least 256\n")
        return 2
    progress = Progress(len(args.submissions), sys.stderr, not args.quiet)
    try:
        results, questions, key_result = grade_all(
            args.key, args.submissions, jobs=args.jobs, timeout_cell=args.timeout_cell,
            timeout=args.timeout, memory_mb=args.memory_mb, key_check=not args.no_key_check,
            progress=progress)
    except Exception as e:
        sys.stderr.write(f"minijax-grade: grading could not run: {type(e).__name__}: {e}\n")
        return 2
    if key_result is not None and key_result.get("score") != key_result.get("max_score"):
        sys.stderr.write(f"minijax-grade: WARNING: the key itself scores "
                         f"{_fmt(key_result.get('score'))}/{_fmt(key_result.get('max_score'))}:\n"
                         + text_report(key_result, show_hidden=True))
    for r in results:
        report = text_report(r, show_hidden=args.show_hidden)
        if args.report_dir:
            os.makedirs(args.report_dir, exist_ok=True)
            with open(os.path.join(args.report_dir, r["student"] + ".txt"), "w") as f:
                f.write(report)
        else:
            sys.stdout.write(report + "\n")
    if args.json:
        if len(results) == 1:
            payload = gradescope_results(results[0])
        else:
            payload = {"results": {r["student"]: gradescope_results(r) for r in results}}
        with open(args.json, "w") as f:
            json.dump(payload, f, indent=1)
            f.write("\n")
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            f.write(csv_text(results, questions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
