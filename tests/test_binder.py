"""Binder: the files in binder/ give a working course the first time a learner opens it.

- ``binder/runtime.txt`` pins a Python the project supports (repo2docker would take 3.10);
- ``binder/requirements.txt`` pins, with ``==``, every package the lessons import, each pin
  allowed by pyproject.toml;
- ``binder/postBuild`` (``set -e``) installs minijax itself and warms the caches;
- ``jupyter-repo2docker --no-build`` (no Docker needed) plans an image from exactly these;
- (slow) a fresh virtual environment made from these files alone runs every lesson under nbval.
"""
from __future__ import annotations

import ast
import importlib.metadata
import os
import pathlib
import re
import shutil
import subprocess
import sys
import venv

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
LESSONS = sorted((ROOT / "lessons").glob("*.ipynb"))
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!_-]+)$")
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv*", "artifacts", "__pycache__", ".hypothesis",
                                     ".pytest_cache", "*.egg-info", "build", "dist",
                                     ".ipynb_checkpoints")


def _normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins():
    pins = {}
    for raw in (BINDER / "requirements.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = PIN.match(line)
        assert m, f"binder/requirements.txt: {raw!r} is not an exact pin NAME==VERSION"
        name = _normalize(m.group(1))
        assert name not in pins, f"binder/requirements.txt pins {m.group(1)} twice"
        pins[name] = m.group(2)
    return pins


def _runtime_version():
    text = (BINDER / "runtime.txt").read_text().strip()
    m = re.fullmatch(r"python-(\d+)\.(\d+)", text)
    assert m, f"binder/runtime.txt must read python-X.Y, not {text!r}"
    return int(m.group(1)), int(m.group(2))


def _pyproject():
    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def _requirements(specs):
    from packaging.requirements import Requirement
    return [Requirement(s) for s in specs]


def _lesson_imports():
    """Top-level modules imported by the code cells of the lessons, with one cell each."""
    nbformat = pytest.importorskip("nbformat")
    found = {}
    for path in LESSONS:
        for cell in nbformat.read(str(path), as_version=4).cells:
            if cell.cell_type != "code":
                continue
            source = "\n".join(l for l in cell.source.splitlines()
                               if not l.lstrip().startswith(("%", "!")))
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], f"{path.name} cell {cell.id}")
    return found


# -- the files themselves ------------------------------------------------------------------

def test_runtime_pins_a_python_the_project_supports():
    from packaging.specifiers import SpecifierSet
    major, minor = _runtime_version()
    requires = SpecifierSet(_pyproject()["project"]["requires-python"])
    assert f"{major}.{minor}" in requires, (
        f"binder/runtime.txt asks for Python {major}.{minor}, pyproject.toml needs {requires}")


def test_requirements_are_exact_pins_allowed_by_pyproject():
    pins = _pins()
    project = _pyproject()["project"]
    wanted = _requirements(project["dependencies"] +
                           project["optional-dependencies"]["course"])
    for req in wanted:
        name = _normalize(req.name)
        assert name in pins, (f"pyproject.toml needs {req} for the course: pin it in "
                              "binder/requirements.txt")
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"binder/requirements.txt pins {req.name}=={pins[name]}, but pyproject.toml asks "
            f"for {req}")


def test_every_module_the_lessons_import_is_pinned():
    assert LESSONS, "no lessons found"
    pins = _pins()
    local = {"minijax"} | {p.stem for p in (ROOT / "lessons").glob("*.py")}
    dists = importlib.metadata.packages_distributions()
    problems = []
    for module, where in sorted(_lesson_imports().items()):
        if module in sys.stdlib_module_names or module in local:
            continue
        owners = [_normalize(d) for d in dists.get(module, [])]
        if not owners:
            problems.append(f"{module} (imported in {where}) is not installed here, so its "
                            "package is unknown")
        elif not any(o in pins for o in owners):
            problems.append(f"{module} (imported in {where}) comes from {owners[0]}, which "
                            "binder/requirements.txt does not pin")
    assert not problems, "\n".join(problems)


def test_the_lessons_local_helpers_are_importable_and_quiet():
    """lessons/course_style.py: one figure style for the course, set with one call."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    sys.path.insert(0, str(ROOT / "lessons"))
    try:
        import course_style
    finally:
        sys.path.remove(str(ROOT / "lessons"))
    saved = dict(matplotlib.rcParams)
    try:
        assert course_style.use() is None
        for key, value in course_style.RC.items():
            assert matplotlib.rcParams[key] == matplotlib.rcParams.validate[key](value), key
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots()
        width, height = fig.get_size_inches() * fig.dpi
        plt.close(fig)
        assert width * height <= 500 * 300, "the course's default figure should stay small"
    finally:
        matplotlib.rcParams.update(saved)


def test_postbuild_installs_minijax_and_warms_the_jit_cache():
    script = BINDER / "postBuild"
    assert os.access(script, os.X_OK), "binder/postBuild must be executable (chmod +x)"
    text = script.read_text()
    assert text.startswith("#!/bin/bash\n")
    commands = [l.strip() for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    assert commands[0].startswith("set -e"), "postBuild must stop at the first failing command"
    install = [c for c in commands if "pip install" in c]
    assert install and "--no-deps" in install[0] and install[0].endswith(" ."), (
        "postBuild installs this project only; its dependencies are pinned in requirements.txt")
    assert "jax.jit" in text and "block_until_ready" in text, "postBuild compiles a jit program"
    assert 'glob.glob("lessons/*.ipynb")' in text and "NotebookClient" in text, (
        "postBuild runs every lesson once, so their programs are compiled before a learner opens them")


# -- repo2docker's build plan --------------------------------------------------------------

def test_repo2docker_plans_the_image_from_the_binder_files(tmp_path):
    pytest.importorskip("repo2docker", reason="jupyter-repo2docker is not installed "
                        "(pip install jupyter-repo2docker; it is in the test extra)")
    copy = tmp_path / "repo"
    shutil.copytree(ROOT, copy, ignore=COPY_IGNORE)
    proc = subprocess.run(
        [sys.executable, "-m", "repo2docker", "--no-build", "--debug",
         "--user-id", "1000", "--user-name", "jovyan", str(copy)],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    dockerfile = proc.stdout
    major, minor = _runtime_version()
    assert f"python={major}.{minor}" in log, (
        f"repo2docker did not build Python {major}.{minor} from runtime.txt:\n{log[-3000:]}")
    from escapism import unescape
    # build_script_files/<escaped source path>-<short hash>
    copied = [unescape(m.rsplit("-", 1)[0], escape_char="-")
              for m in re.findall(r"build_script_files/(\S+)", dockerfile)]
    assert any(f"environment.py-{major}.{minor}-linux-" in c for c in copied), copied

    steps = [l for l in dockerfile.splitlines() if l.startswith(("RUN", "COPY"))]
    req = [i for i, l in enumerate(steps) if re.search(r'pip install .*-r "?binder/requirements\.txt', l)]
    post = [i for i, l in enumerate(steps) if re.fullmatch(r"RUN \./binder/postBuild", l)]
    repo = [i for i, l in enumerate(steps) if re.match(r"COPY .*src/ \$\{REPO_DIR\}/$", l)]
    assert req, "binder/requirements.txt is not installed:\n" + "\n".join(steps)
    assert post, "binder/postBuild is not run:\n" + "\n".join(steps)
    assert repo, "\n".join(steps)
    # requirements go in a layer of their own, before the repository is copied: editing a
    # lesson rebuilds only the last layers, not the pip install
    assert req[0] < repo[0] < post[0], "\n".join(steps)
    assert not re.search(r"-r \"?requirements\.txt|setup\.py|environment\.yml", dockerfile), (
        "repo2docker looked at files outside binder/")


# -- the whole Binder environment, for real ------------------------------------------------

def _pip(python, args, env):
    return subprocess.run([python, "-m", "pip", "--disable-pip-version-check", "--no-input"] + args,
                          capture_output=True, text=True, env=env, timeout=900,
                          stdin=subprocess.DEVNULL)


def _check_registry_or_fail(python, env, proc, what):
    """pip failed: skip if the package registry cannot be reached at all, else fail."""
    probe = _pip(python, ["index", "versions", "pip"], env)
    if probe.returncode != 0:
        pytest.skip(f"the package registry is unreachable (pip index versions pip: "
                    f"{(probe.stderr or probe.stdout).strip().splitlines()[-1:]}); "
                    f"cannot build the Binder environment")
    pytest.fail(f"{what} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")


@pytest.mark.slow
def test_a_fresh_binder_environment_runs_every_lesson(tmp_path):
    """A new venv with only binder/requirements.txt and postBuild, then nbval over lessons/.

    The venv's Python is ``pythonX.Y`` from runtime.txt when this machine has it, else the
    Python running the tests. pip's download cache keeps repeated runs fast.
    """
    major, minor = _runtime_version()
    base = shutil.which(f"python{major}.{minor}") or sys.executable
    env_dir = tmp_path / "binder-venv"
    if base == sys.executable:
        venv.EnvBuilder(with_pip=True).create(env_dir)
    else:
        subprocess.run([base, "-m", "venv", str(env_dir)], check=True)
    python = str(env_dir / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=str(env_dir / "bin") + os.pathsep + env.get("PATH", ""),
               VIRTUAL_ENV=str(env_dir), MINIJAX_CACHE_DIR=str(tmp_path / "minijax-cache"),
               PYTHONDONTWRITEBYTECODE="1")

    # what the test runs with, at the versions of this test environment
    tools = [f"{name}=={importlib.metadata.version(name)}" for name in ("nbval", "pytest")]
    proc = _pip(python, ["install", "-q", "-r", str(BINDER / "requirements.txt")] + tools, env)
    if proc.returncode != 0:
        _check_registry_or_fail(python, env, proc, "pip install -r binder/requirements.txt")

    # postBuild exactly as Binder runs it (as a program, from the repository root)
    proc = subprocess.run([str(BINDER / "postBuild")], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900, stdin=subprocess.DEVNULL)
    if proc.returncode != 0 and "pip" in proc.stderr and "install" in proc.stderr:
        _check_registry_or_fail(python, env, proc, "binder/postBuild")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "warmed" in proc.stdout
    assert f"ran {len(LESSONS)} lessons to warm the jit cache" in proc.stdout, proc.stdout
    assert "warning: a cell" not in proc.stdout, proc.stdout
    check = subprocess.run([python, "-m", "pip", "check"], env=env, capture_output=True, text=True)
    assert check.returncode == 0, "binder/requirements.txt is inconsistent:\n" + check.stdout

    proc = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env",
         "--nbval-sanitize-with", "lessons/nbval_sanitize.cfg"] + [str(p.relative_to(ROOT)) for p in LESSONS],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-2000:]
    assert re.search(r"\b\d+ passed\b", proc.stdout)


# -- the README's way in -------------------------------------------------------------------

def test_readme_badge_opens_jupyterlab_on_lesson_01_and_every_chapter_link_exists():
    text = (ROOT / "README.md").read_text()
    badge = re.search(r"\(https://mybinder\.org/v2/gh/([^/\s]+)/([^/\s]+)/([^?\s]+)\?urlpath=([^)\s]+)\)",
                      text)
    assert badge, "README.md has no Binder badge link"
    urlpath = badge.group(4)
    assert urlpath.startswith("lab/tree/"), "the badge must open JupyterLab (urlpath=lab/tree/...)"
    first = urlpath[len("lab/tree/"):]
    assert (ROOT / first).is_file(), f"the badge opens {first}, which does not exist"
    assert first == f"lessons/{LESSONS[0].name}", "the badge should open the first lesson"
    links = re.findall(r"\]\((lessons/[^)#\s]+\.ipynb)\)", text)
    missing = sorted({l for l in links if not (ROOT / l).is_file()})
    assert not missing, f"README.md links to lessons that do not exist: {missing}"
    listed = {pathlib.PurePosixPath(l).name for l in links}
    unlisted = [p.name for p in LESSONS if p.name not in listed]
    assert not unlisted, f"README.md's table of chapters misses {unlisted}"
