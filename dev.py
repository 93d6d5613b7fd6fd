#!/usr/bin/env python3
"""The project's two commands, with nothing but Python >= 3.10 needed to start:

    python3 dev.py course [jupyter-lab options]   # open the lessons in JupyterLab
    python3 dev.py test   [pytest options/paths]  # run the whole test suite

Each command first makes sure ``.venv`` exists and holds minijax (installed
editable, so edits to ``minijax/`` show up at once) plus the extras it needs:
``course`` for the lessons; ``course,test,oracle`` for the tests (``oracle`` is
real JAX on the CPU, which some tests compare against). Installing happens only
when ``.venv`` is new, when ``pyproject.toml`` changed, or when a command needs
an extra that is not installed yet: a stamp file inside ``.venv`` remembers what
was installed from which ``pyproject.toml``.

Environment variables:
    MINIJAX_VENV=DIR      where the virtual environment lives (default: .venv)
    MINIJAX_PYTHON=PATH   use this interpreter exactly as it is: no venv, no install
                          (for a developer who manages their own environment)

This file uses the standard library only.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
COURSE_DIR = "lessons"
SANITIZE_FILE = os.path.join("lessons", "nbval_sanitize.cfg")
NOTEBOOK_DIRS = ("lessons", "solutions")
STAMP_NAME = "minijax-install-stamp.json"
EXTRAS = {"course": ("course",), "test": ("course", "test", "oracle")}
MIN_PYTHON = (3, 10)

USAGE = """usage: python3 dev.py COMMAND [ARGS...]

commands:
  course [ARGS]   install what the lessons need into .venv, then start JupyterLab on lessons/
                  (ARGS go to `jupyter lab`, e.g. --no-browser --port 8890 --ip 0.0.0.0)
  test   [ARGS]   install what the tests need into .venv, then run pytest over tests/ and
                  nbval over lessons/ and solutions/ in one pytest run
                  (ARGS go to pytest, e.g. -x -k at; paths given replace the default ones)
"""


# -- small pure helpers (unit-tested in tests/test_course_command.py) ---------

def parse_args(argv):
    """Split ``argv`` (without the program name) into (command, passthrough args).

    Returns ``("help", [])`` for -h/--help/no command; raises SystemExit(2) with
    the usage text for an unknown command.
    """
    if not argv or argv[0] in ("-h", "--help", "help"):
        return "help", []
    command, rest = argv[0], list(argv[1:])
    if command not in EXTRAS:
        sys.stderr.write(f"dev.py: unknown command {command!r}\n\n{USAGE}")
        raise SystemExit(2)
    return command, rest


def file_sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def make_stamp(pyproject_hash, extras, python_version=None):
    """What we record in the venv after a successful install."""
    return {
        "pyproject_sha256": pyproject_hash,
        "extras": sorted(set(extras)),
        "python": python_version or "%d.%d.%d" % sys.version_info[:3],
    }


def needs_install(stamp, pyproject_hash, extras):
    """True unless ``stamp`` says these ``extras`` were installed from this pyproject.toml."""
    if not isinstance(stamp, dict):
        return True
    if stamp.get("pyproject_sha256") != pyproject_hash:
        return True
    return not set(extras) <= set(stamp.get("extras", ()))


def read_stamp(venv_dir):
    try:
        with open(os.path.join(venv_dir, STAMP_NAME)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_stamp(venv_dir, stamp):
    with open(os.path.join(venv_dir, STAMP_NAME), "w") as f:
        json.dump(stamp, f, indent=1, sort_keys=True)
        f.write("\n")


def venv_python(venv_dir):
    if os.name == "nt":
        return os.path.join(venv_dir, "Scripts", "python.exe")
    return os.path.join(venv_dir, "bin", "python")


def install_extras(command, stamp):
    """The extras to install: the command's own plus any already there (so none get lost)."""
    have = set(stamp.get("extras", ())) if isinstance(stamp, dict) else set()
    return sorted(set(EXTRAS[command]) | have)


def _is_root():
    return hasattr(os, "geteuid") and os.geteuid() == 0


def jupyter_command(python, extra_args, root=ROOT, as_root=None):
    """``jupyter lab`` serving lessons/; the user's ARGS come last so they win.

    Jupyter refuses to start as root (as in many containers) unless told ``--allow-root``.
    """
    cmd = [python, "-m", "jupyter", "lab", "--ServerApp.root_dir=" + os.path.join(root, COURSE_DIR)]
    if _is_root() if as_root is None else as_root:
        cmd.append("--allow-root")
    return cmd + list(extra_args)


def _looks_like_path(arg, root):
    return not arg.startswith("-") and os.path.exists(os.path.join(root, arg.split("::")[0]))


def pytest_command(python, extra_args, root=ROOT):
    """One pytest run over tests/ plus every notebook folder that exists, under nbval.

    Paths among ``extra_args`` replace the default ones (``dev.py test tests/test_x.py``).
    """
    extra_args = list(extra_args)
    if any(_looks_like_path(a, root) for a in extra_args):
        paths = []
    else:
        paths = ["tests"] + [d for d in NOTEBOOK_DIRS if os.path.isdir(os.path.join(root, d))]
    return ([python, "-m", "pytest"] + paths +
            ["--nbval", "--nbval-current-env", "--nbval-sanitize-with", SANITIZE_FILE] +
            extra_args)


def child_env(environ=None, root=ROOT):
    """The environment for jupyter/pytest: this checkout first on PYTHONPATH, so that the
    notebook kernels (which start in lessons/) import this minijax even without an install."""
    env = dict(os.environ if environ is None else environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


# -- the parts that touch the machine ------------------------------------------

def _say(msg):
    print(f"[dev.py] {msg}", flush=True)


_PIP_SHOWN = ("Collecting", "Building", "Installing collected", "Successfully", "Obtaining",
              "ERROR", "error:")


def _run_pip(python, args):
    """Run pip, echoing only its progress lines; on failure print everything it said."""
    cmd = [python, "-m", "pip", "--disable-pip-version-check", "--no-input"] + args
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, bufsize=1)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.lstrip().startswith(_PIP_SHOWN):
            print("    " + line.strip(), flush=True)
    if proc.wait() != 0:
        sys.stdout.write("".join(lines))
        _say(f"pip failed (exit {proc.returncode}): {' '.join(cmd)}")
        raise SystemExit(proc.returncode)


def ensure_env(command):
    """Return the Python to run with, creating/updating the venv when needed."""
    override = os.environ.get("MINIJAX_PYTHON")
    if override:
        _say(f"using MINIJAX_PYTHON={override} as is (no install)")
        return shutil.which(override) or override
    venv_dir = os.path.abspath(os.path.join(ROOT, os.environ.get("MINIJAX_VENV", ".venv")))
    python = venv_python(venv_dir)
    if not os.path.exists(python):
        _say(f"creating virtual environment {os.path.relpath(venv_dir, ROOT)} ...")
        result = subprocess.call([sys.executable, "-m", "venv", venv_dir])
        if result != 0 or not os.path.exists(python):
            _say("could not create the virtual environment. On Debian/Ubuntu install the "
                 "venv module first:  sudo apt-get install python3-venv")
            raise SystemExit(1)
    pyproject_hash = file_sha256(os.path.join(ROOT, "pyproject.toml"))
    stamp = read_stamp(venv_dir)
    extras = EXTRAS[command]
    if needs_install(stamp, pyproject_hash, extras):
        extras = install_extras(command, stamp)
        target = ".[" + ",".join(extras) + "]"
        _say(f"installing minijax (editable) with extras {target[1:]} into "
             f"{os.path.relpath(venv_dir, ROOT)} (first run: a few minutes) ...")
        _run_pip(python, ["install", "-e", target])
        write_stamp(venv_dir, make_stamp(pyproject_hash, extras))
        _say("environment ready")
    else:
        _say(f"environment {os.path.relpath(venv_dir, ROOT)} is up to date")
    return python


def run(command, args):
    python = ensure_env(command)
    if command == "course":
        cmd = jupyter_command(python, args)
    else:
        cmd = pytest_command(python, args)
    _say("running: " + " ".join(cmd[1:]))
    sys.stdout.flush()
    if os.name == "posix":
        # Become the command: signals (Ctrl-C, a CI timeout) reach it directly, and its
        # exit status is ours.
        os.chdir(ROOT)
        os.execve(cmd[0], cmd, child_env())
    try:
        return subprocess.call(cmd, cwd=ROOT, env=child_env())
    except KeyboardInterrupt:
        return 130


def main(argv=None):
    if sys.version_info < MIN_PYTHON:
        sys.stderr.write("dev.py needs Python %d.%d or newer (this is %s)\n"
                         % (MIN_PYTHON + (sys.version.split()[0],)))
        return 1
    command, args = parse_args(sys.argv[1:] if argv is None else argv)
    if command == "help":
        sys.stdout.write(USAGE)
        return 0
    return run(command, args)


if __name__ == "__main__":
    sys.exit(main())
