"""Grade ONE submission in a fresh, limited kernel (run by minijax-grade in its own process).

    python -m minijax.course._worker JOB.json RESULT.json

The job file says where the key, the submission and the sandbox are, and the limits.
The result file gets the per-question results (see ``grade.py`` for the format). This
process never trusts the kernel: it reads only the outputs of the test cells it inserted,
accepts case results only when they carry this run's nonce, and scores every question
from the key's points.
"""
from __future__ import annotations

import json
import os
import queue
import secrets
import signal
import sys
import time

from .notebook import NotebookProblem, load_key, nbgrader_meta, read_notebook

MIME = "application/vnd.minijax.cases+json"
TAMPER_MIME = "application/vnd.minijax.harness+json"
MAX_TEXT = 20_000
MAX_RESTARTS = 4
INTERRUPT_GRACE_S = 3.0


# -- what to run ------------------------------------------------------------------------

def key_owned_cells(key_nb):
    """grade_id -> (index in key, cell) for the cells a student may not change:
    autograded tests and read-only (locked, non-answer) code cells."""
    owned = {}
    for i, cell in enumerate(key_nb.cells):
        m = nbgrader_meta(cell)
        if cell.cell_type == "code" and m.get("grade_id") and not m.get("solution") and (
                m.get("grade") or m.get("locked")):
            owned[m["grade_id"]] = (i, cell)
    return owned


def plan(key_nb, questions, sub_nb):
    """The list of cells to run: [(kind, grade_id or None, source, label)], and notes.

    kind is "test" (a key test cell), "locked" (a key read-only cell) or "student".
    Key-owned cells are always run from the key's source, wherever the student left
    them; ones the student deleted are put back after the cell that precedes them in
    the key (or at the end).
    """
    owned = key_owned_cells(key_nb)
    test_ids = {q.grade_id for q in questions}
    notes, run, placed = [], [], set()
    for n, cell in enumerate(sub_nb.cells):
        if cell.get("cell_type") != "code":
            continue
        gid = nbgrader_meta(cell).get("grade_id")
        if gid in owned:
            if gid in placed:
                notes.append(f"cell {n} repeats locked cell {gid!r}: not run again")
                continue
            placed.add(gid)
            key_src = owned[gid][1].source
            if cell.source.strip() != key_src.strip() and gid in test_ids:
                # hidden tests are not in the student's copy: compare the visible part
                from .notebook import strip_hidden
                if cell.source.strip() != strip_hidden(key_src).strip():
                    notes.append(f"test cell {gid!r} was edited: the original was run instead")
            elif cell.source.strip() != key_src.strip():
                notes.append(f"locked cell {gid!r} was edited: the original was run instead")
            run.append(("test" if gid in test_ids else "locked", gid, key_src, f"cell {n}"))
        else:
            run.append(("student", gid, cell.source, f"cell {n}"))
    # put back what was deleted, in key order, after its predecessor
    key_order = [nbgrader_meta(c).get("grade_id") for c in key_nb.cells]
    for gid, (idx, cell) in sorted(owned.items(), key=lambda kv: kv[1][0]):
        if gid in placed:
            continue
        kind = "test" if gid in test_ids else "locked"
        notes.append(f"{'test' if kind == 'test' else 'locked'} cell {gid!r} was missing: "
                     "the original was put back")
        pos = len(run)
        for prev in reversed(key_order[:idx]):
            hits = [k for k, r in enumerate(run) if prev is not None and r[1] == prev]
            if hits:
                pos = hits[0] + 1
                break
        else:
            if kind == "locked":
                pos = 0
        run.insert(pos, (kind, gid, cell.source, "restored"))
        placed.add(gid)
    return run, notes


# -- the kernel ---------------------------------------------------------------------------

class Kernel:
    def __init__(self, job):
        self.job = job
        self.km = None
        self.kc = None

    def start(self):
        from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
        from jupyter_client.manager import KernelManager

        job = self.job
        argv = [sys.executable, "-m", "minijax.course._kernel", "-f", "{connection_file}"]

        class Specs(KernelSpecManager):
            def get_kernel_spec(self, kernel_name):
                return KernelSpec(argv=argv, display_name="minijax-grade", language="python")

        self.km = KernelManager(kernel_name="python3", kernel_spec_manager=Specs())
        self.km.connection_file = os.path.join(job["jobdir"], f"kernel-{secrets.token_hex(4)}.json")
        env = kernel_env(job)
        log = open(os.path.join(job["jobdir"], "kernel.log"), "ab")
        self.km.start_kernel(env=env, cwd=job["sandbox"], stdout=log, stderr=log)
        log.close()
        pid = self.pid()
        if pid:
            with open(os.path.join(job["jobdir"], "kernel.pid"), "a") as f:
                f.write(f"{pid}\n")
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=job.get("startup_timeout", 60))

    def pid(self):
        try:
            return self.km.provisioner.process.pid
        except Exception:
            return None

    def alive(self):
        try:
            return self.km.is_alive()
        except Exception:
            return False

    def exit_reason(self):
        try:
            code = self.km.provisioner.process.poll()
        except Exception:
            code = None
        if code is None:
            return "the kernel stopped responding"
        if code < 0:
            sig = -code
            name = {signal.SIGSEGV: "a segmentation fault (native code crashed, e.g. ctypes)",
                    signal.SIGKILL: "SIGKILL (out of memory, or killed by the grader)",
                    signal.SIGXCPU: "the CPU-time limit (SIGXCPU)",
                    signal.SIGABRT: "an abort (SIGABRT)",
                    signal.SIGBUS: "a bus error (SIGBUS)"}.get(sig, f"signal {sig}")
            return f"the kernel was killed by {name}"
        return f"the kernel process exited with status {code} (os._exit / exit in native code?)"

    def stop(self):
        pid = self.pid()
        try:
            if self.kc is not None:
                self.kc.stop_channels()
        except Exception:
            pass
        try:
            if self.km is not None:
                self.km.shutdown_kernel(now=True)
        except Exception:
            pass
        if pid:
            try:
                os.killpg(pid, signal.SIGKILL)  # anything the kernel left behind
            except (ProcessLookupError, PermissionError, OSError):
                pass
        try:
            if self.km is not None:
                self.km.cleanup_resources()
        except Exception:
            pass

    def run(self, code, timeout, silent=False):
        """Execute ``code``; returns (status, outputs) with status one of
        "ok", "error", "timeout" (interrupted, kernel still usable), "dead"."""
        msg_id = self.kc.execute(code, silent=False, store_history=not silent,
                                 allow_stdin=False, stop_on_error=False)
        outputs, size = [], 0
        deadline = time.monotonic() + timeout
        status = "ok"
        interrupted_at = None
        while True:
            now = time.monotonic()
            if interrupted_at is None and now >= deadline:
                try:
                    self.km.interrupt_kernel()
                except Exception:
                    pass
                interrupted_at = now
            if interrupted_at is not None and now >= interrupted_at + INTERRUPT_GRACE_S:
                return "dead-timeout", outputs
            try:
                msg = self.kc.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                if not self.alive():
                    return "dead", outputs
                continue
            except Exception:
                if not self.alive():
                    return "dead", outputs
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content.get("execution_state") == "idle":
                break
            if kind == "stream":
                text = content.get("text", "")
                if size < MAX_TEXT:
                    outputs.append({"output_type": "stream", "name": content.get("name"),
                                    "text": text[:MAX_TEXT - size]})
                size += len(text)
            elif kind in ("display_data", "execute_result"):
                data = content.get("data", {})
                keep = {k: v for k, v in data.items() if k in (MIME, TAMPER_MIME)}
                if "text/plain" in data and size < MAX_TEXT:
                    keep["text/plain"] = str(data["text/plain"])[:2000]
                outputs.append({"output_type": kind, "data": keep})
            elif kind == "error":
                status = "error"
                outputs.append({"output_type": "error", "ename": content.get("ename", ""),
                                "evalue": str(content.get("evalue", ""))[:2000]})
        if interrupted_at is not None:
            return "timeout", outputs
        return status, outputs


def kernel_env(job):
    keep = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "SYSTEMROOT", "PYTHONHASHSEED")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    pythonpath = job.get("pythonpath")
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    home = os.path.join(job["jobdir"], "home")
    tmp = os.path.join(job["jobdir"], "tmp")
    os.makedirs(home, exist_ok=True)
    os.makedirs(tmp, exist_ok=True)
    env.update({
        "HOME": home, "TMPDIR": tmp, "IPYTHONDIR": os.path.join(home, ".ipython"),
        "MPLCONFIGDIR": os.path.join(home, ".matplotlib"), "MPLBACKEND": "Agg",
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
        "MINIJAX_CACHE_DIR": os.path.join(home, ".cache", "minijax"),
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "NUMBA_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "MINIJAX_GRADE_SANDBOX": json.dumps(job["sandbox_config"]),
    })
    return env


# -- grading ----------------------------------------------------------------------------

def _harness_restored(outputs, nonce):
    for out in outputs:
        data = out.get("data", {}).get(TAMPER_MIME)
        if isinstance(data, dict) and data.get("nonce") == nonce:
            return [str(x) for x in data.get("restored", [])][:20]
    return []


def _payloads(outputs, nonce, gid):
    found = []
    for out in outputs:
        data = out.get("data", {}).get(MIME)
        if isinstance(data, dict) and data.get("nonce") == nonce and data.get("grade_id") == gid:
            found.append(data)
    return found


def _error_text(outputs):
    for out in outputs:
        if out.get("output_type") == "error":
            return f"{out.get('ename')}: {out.get('evalue')}".strip(": ")
    return ""


def grade(job):
    t0 = time.monotonic()
    key_nb, questions = load_key(job["key"])
    result = {"submission": job["submission"], "student": job["student"],
              "max_score": sum(q.points for q in questions), "score": 0.0,
              "questions": [], "notes": [], "status": "graded"}
    by_gid = {}
    for q in questions:
        entry = {"grade_id": q.grade_id, "name": q.name, "points": q.points, "score": 0.0,
                 "status": "not-run", "cause": "", "cases": []}
        by_gid[q.grade_id] = entry
        result["questions"].append(entry)
    try:
        sub_nb = read_notebook(job["submission"])
    except NotebookProblem as e:
        result["status"] = "unreadable"
        result["notes"].append(f"submission could not be read: {e}")
        for entry in result["questions"]:
            entry.update(status="not-run", cause=f"the notebook could not be read: {e}")
        return _finish(result, t0)
    run, notes = plan(key_nb, questions, sub_nb)
    result["notes"].extend(notes)
    if not any(kind == "student" and src.strip() for kind, _, src, _ in run):
        result["notes"].append("the submission contains no code of its own")

    nonce = secrets.token_hex(16)
    deadline = t0 + job["timeout_total"]
    kernel = None
    restarts = 0
    done_student = []        # student/locked cells that ran fine: replayed after a crash
    pending = []             # problems in student cells since the last test cell
    i = 0

    def new_kernel():
        k = Kernel(job)
        k.start()
        status, outs = k.run(f"import minijax.course._harness as _h; _h.install({nonce!r}); del _h",
                             timeout=max(30, job["timeout_cell"]), silent=True)
        if status != "ok":
            raise RuntimeError(f"the kernel could not start the grading harness ({_error_text(outs) or status}); "
                               "is --memory-mb too small for numpy and minijax?")
        return k

    try:
        kernel = new_kernel()
        while i < len(run):
            kind, gid, src, label = run[i]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                result["notes"].append(f"total time limit of {job['timeout_total']:g} s reached "
                                       f"at {label}; the rest was not run")
                for k2, g2, _, _ in run[i:]:
                    if k2 == "test" and by_gid[g2]["status"] == "not-run":
                        by_gid[g2]["cause"] = (f"not run: the total time limit "
                                               f"({job['timeout_total']:g} s) was reached")
                break
            if not src.strip():
                i += 1
                continue
            timeout = min(job["timeout_cell"], remaining)
            restored = []
            if kind == "test":
                st, outs = kernel.run(f"__import__('minijax.course._harness', fromlist=['x'])"
                                      f".begin({gid!r})", timeout=10, silent=True)
                restored = _harness_restored(outs, nonce)
            status, outputs = kernel.run(src, timeout=timeout)
            if kind == "test":
                _score_test(by_gid[gid], status, outputs, nonce, restored, timeout, kernel)
                e = by_gid[gid]
                if pending and e["score"] < e["points"]:
                    e["context"] = "before these tests, " + "; ".join(pending[:3])
                pending = []
            else:
                if status == "ok" or status == "error":
                    done_student.append(src)
                if status == "error" and kind == "student":
                    pending.append(f"{label} raised {_error_text(outputs)[:200]}")
                elif status == "timeout":
                    pending.append(f"{label} ran past the {timeout:g} s cell time limit")
                    result["notes"].append(f"{label} ran past the {timeout:g} s cell time limit "
                                           "and was interrupted")
            if status in ("dead", "dead-timeout"):
                why = (f"did not stop within {timeout:g} s and could not be interrupted"
                       if status == "dead-timeout" else kernel.exit_reason())
                result["notes"].append(f"{label}: {why}; a fresh kernel was started without it")
                if kind != "test":
                    pending.append(f"{label}: {why}")
                kernel.stop()
                restarts += 1
                if restarts > MAX_RESTARTS:
                    result["notes"].append("the kernel crashed too often; grading stopped")
                    for k2, g2, _, _ in run[i + 1:]:
                        if k2 == "test" and by_gid[g2]["status"] == "not-run":
                            by_gid[g2]["cause"] = "not run: the kernel crashed too often"
                    break
                kernel = new_kernel()
                for prev in done_student:
                    st, _ = kernel.run(prev, timeout=min(job["timeout_cell"],
                                                         max(1.0, deadline - time.monotonic())))
                    if st in ("dead", "dead-timeout"):
                        break
            i += 1
    except Exception as e:  # the grader must report, not crash
        result["status"] = "error"
        result["notes"].append(f"grading stopped early: {type(e).__name__}: {e}")
        for entry in result["questions"]:
            if entry["status"] == "not-run" and not entry["cause"]:
                entry["cause"] = f"not run: grading stopped early ({type(e).__name__})"
    finally:
        if kernel is not None:
            kernel.stop()
    try:
        with open(os.path.join(job["jobdir"], "blocked.log")) as f:
            blocked = [line.strip()[:300] for line in f if line.strip()][:20]
    except OSError:
        blocked = []
    if blocked:
        result["notes"].append("the grader blocked: " + "; ".join(blocked))
    for entry in result["questions"]:
        if entry["status"] == "not-run" and not entry["cause"]:
            entry["cause"] = "not run"
    return _finish(result, t0)


def _score_test(entry, status, outputs, nonce, restored, timeout, kernel):
    gid = entry["grade_id"]
    if restored:
        entry.setdefault("restored", []).extend(restored)
    payloads = _payloads(outputs, nonce, gid)
    if len(payloads) > 1:
        entry.update(status="tampered", score=0.0,
                     cause="the test reported more than once (output forged by the submission?)"
                           ": no credit")
        return
    cases = []
    if payloads:
        for c in payloads[0].get("cases", []):
            if isinstance(c, dict):
                cases.append({"name": str(c.get("name", ""))[:200],
                              "passed": c.get("passed") is True,
                              "message": str(c.get("message", ""))[:1500],
                              "hint": str(c.get("hint", ""))[:500],
                              "line": c.get("line") if isinstance(c.get("line"), int) else 0})
    if status in ("dead", "dead-timeout"):
        why = (f"did not finish within {timeout:g} s" if status == "dead-timeout"
               else kernel.exit_reason())
        entry.update(status="crashed", cause=f"the tests could not finish: {why}")
    elif status == "timeout":
        entry.update(status="timeout",
                     cause=f"ran past the {timeout:g} s time limit (an endless loop?)")
    if payloads and cases:
        passed = sum(c["passed"] for c in cases)
        entry["cases"] = cases
        entry["score"] = round(entry["points"] * passed / len(cases), 4)
        if entry["status"] == "not-run":
            entry["status"] = "passed" if passed == len(cases) else (
                "partial" if passed else "failed")
            if passed < len(cases):
                entry["cause"] = f"{len(cases) - passed} of {len(cases)} checks failed"
    elif entry["status"] == "not-run":
        if status == "ok" and not payloads:
            # plain nbgrader-style asserts: all or nothing (grade.py withdraws this credit
            # when the key's own run shows that this cell reports cases)
            entry.update(status="passed", score=entry["points"], reported=False)
        else:
            err = _error_text(outputs)
            entry.update(status="failed", score=0.0,
                         cause=f"the test cell failed: {err}" if err else "the test cell failed")
    entry["score"] = max(0.0, min(entry["points"], float(entry["score"])))


def _finish(result, t0):
    result["score"] = round(sum(q["score"] for q in result["questions"]), 4)
    result["score"] = min(result["score"], result["max_score"])
    result["elapsed_s"] = round(time.monotonic() - t0, 2)
    return result


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    job_path, out_path = argv
    with open(job_path) as f:
        job = json.load(f)
    try:
        result = grade(job)
    except Exception as e:
        result = {"submission": job.get("submission"), "student": job.get("student"),
                  "status": "error", "score": 0.0, "max_score": 0.0, "questions": [],
                  "notes": [f"grader error: {type(e).__name__}: {e}"]}
    tmp = out_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f)
    os.replace(tmp, out_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
