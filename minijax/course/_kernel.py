"""Start an IPython kernel for grading: resource limits first, then an audit hook, then ipykernel.

    python -m minijax.course._kernel -f CONNECTION_FILE      (configured by $MINIJAX_GRADE_SANDBOX)

The configuration (JSON in the environment variable, removed before any student code
runs) gives:

- ``memory_mb``: RLIMIT_AS (address space) -- an allocation past it raises MemoryError;
- ``cpu_s``: RLIMIT_CPU -- a kernel that burns more CPU seconds is killed by SIGXCPU;
- ``fsize_mb``: RLIMIT_FSIZE -- no file larger than this can be written;
- ``deny`` / ``deny_files`` / ``allow``: paths the kernel may not open, list, link or
  rename (the solution key, the other submissions, the grader's other sandboxes),
  with ``allow`` carving out exceptions (the Python installation, minijax itself);
- ``block_processes``: refuse subprocess/os.system/exec/spawn/fork.

The limits are set in this process before ipykernel starts, so the kernel and anything
it starts inherit them. Python audit hooks cannot be removed from Python code; native
code (ctypes) can still get around them -- see docs/instructors.md.
"""
from __future__ import annotations

import json
import os
import sys

MB = 1024 * 1024
ARM_EVENT = "minijax.grade.arm"   # there is no event that disarms


def _real(path):
    try:
        if isinstance(path, int):
            return None
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        return os.path.realpath(os.path.abspath(os.fspath(path)))
    except Exception:
        return None


def _under(path, root):
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def make_hook(deny, deny_files, allow, block_processes, log_path=None):
    deny = tuple(os.path.realpath(p) for p in deny)
    deny_files = frozenset(os.path.realpath(p) for p in deny_files)
    allow = tuple(os.path.realpath(p) for p in allow)
    path_events = {"open": 0, "os.listdir": 0, "os.scandir": 0, "glob.glob": 0,
                   "os.chdir": 0, "os.link": 0, "os.symlink": 0, "os.rename": 0,
                   "shutil.copyfile": 0, "os.truncate": 0, "os.remove": 0, "os.rmdir": 0,
                   "os.mkdir": 0, "os.chmod": 0, "os.chown": 0, "os.utime": 0}
    process_events = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn",
                      "os.spawn", "os.fork", "os.forkpty", "pty.spawn", "os.startfile"}
    _PermissionError = PermissionError
    log = open(log_path, "a", buffering=1) if log_path else None
    armed = []   # process blocking starts when the harness raises the audit event ARM_EVENT
    logged = set()

    def note(line):
        if log is not None and line not in logged and len(logged) < 50:
            logged.add(line)
            try:
                log.write(line + "\n")
            except Exception:
                pass

    def hook(event, args):
        if event == ARM_EVENT:
            armed.append(True)
            return
        if event in path_events:
            candidates = list(args[:2]) if event in ("os.link", "os.symlink", "os.rename",
                                                     "shutil.copyfile") else args[:1]
            for cand in candidates:
                if cand is None:
                    continue
                real = _real(cand)
                if real is None:
                    continue
                if real in deny_files or (any(_under(real, d) for d in deny)
                                          and not any(_under(real, a) for a in allow)):
                    note(f"blocked {event} of {os.fspath(cand)!r}")
                    raise _PermissionError(
                        f"minijax-grade: access to {os.fspath(cand)!r} is not allowed while "
                        "grading (only your own notebook's code runs here)")
        elif block_processes and armed and event in process_events:
            note(f"blocked {event} (starting another program)")
            raise _PermissionError(f"minijax-grade: starting other programs ({event}) is not "
                                   "allowed while grading")
    return hook


def apply_limits(cfg):
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return
    def lim(which, soft, hard=None):
        try:
            resource.setrlimit(which, (soft, soft if hard is None else hard))
        except (ValueError, OSError):
            pass
    if cfg.get("memory_mb"):
        lim(resource.RLIMIT_AS, int(cfg["memory_mb"]) * MB)
    if cfg.get("cpu_s"):
        cpu = int(cfg["cpu_s"])
        lim(resource.RLIMIT_CPU, cpu, cpu + 5)
    if cfg.get("fsize_mb"):
        lim(resource.RLIMIT_FSIZE, int(cfg["fsize_mb"]) * MB)
    lim(resource.RLIMIT_CORE, 0)


def main():
    cfg = json.loads(os.environ.pop("MINIJAX_GRADE_SANDBOX", "{}") or "{}")
    apply_limits(cfg)
    if cfg.get("deny") or cfg.get("deny_files") or cfg.get("block_processes"):
        sys.addaudithook(make_hook(cfg.get("deny", ()), cfg.get("deny_files", ()),
                                   cfg.get("allow", ()), cfg.get("block_processes", False),
                                   cfg.get("audit_log")))
    from ipykernel.kernelapp import IPKernelApp
    sys.argv = [sys.argv[0]] + sys.argv[1:]
    IPKernelApp.launch_instance()


if __name__ == "__main__":
    main()
