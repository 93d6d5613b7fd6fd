"""The two README commands (``dev.py``): their logic, and the course server really serving lessons/.

The install step itself is not run here (it downloads packages); it is exercised by
``.ci/run`` from a clean clone. Everything around it is tested without installing.
"""
from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dev():
    spec = importlib.util.spec_from_file_location("dev_under_test", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- argument parsing -------------------------------------------------------------

def test_parse_args_splits_command_and_passthrough(dev):
    assert dev.parse_args(["course", "--no-browser", "--port", "9999"]) == (
        "course", ["--no-browser", "--port", "9999"])
    assert dev.parse_args(["test", "-x", "-k", "at"]) == ("test", ["-x", "-k", "at"])
    assert dev.parse_args([]) == ("help", [])
    assert dev.parse_args(["--help"]) == ("help", [])


def test_unknown_command_exits_with_usage(dev, capsys):
    with pytest.raises(SystemExit) as info:
        dev.parse_args(["lessons"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown command 'lessons'" in err and "course" in err and "test" in err


def test_help_prints_both_commands():
    out = subprocess.run([sys.executable, str(ROOT / "dev.py"), "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "course" in out and "test" in out


# -- the install stamp ------------------------------------------------------------

def test_needs_install_decisions(dev):
    stamp = dev.make_stamp("abc", ["course"])
    assert dev.needs_install(None, "abc", ["course"])                 # fresh venv
    assert dev.needs_install("garbage", "abc", ["course"])            # unreadable stamp
    assert not dev.needs_install(stamp, "abc", ["course"])            # up to date
    assert dev.needs_install(stamp, "changed", ["course"])            # pyproject.toml edited
    assert dev.needs_install(stamp, "abc", ["course", "test"])        # an extra is missing
    full = dev.make_stamp("abc", ["test", "course", "oracle"])
    assert not dev.needs_install(full, "abc", ["course"])             # a superset will do


def test_install_keeps_extras_already_there(dev):
    assert dev.install_extras("course", None) == ["course"]
    assert dev.install_extras("test", None) == ["course", "oracle", "test"]
    had_test = dev.make_stamp("abc", ["course", "oracle", "test"])
    assert dev.install_extras("course", had_test) == ["course", "oracle", "test"]


def test_stamp_round_trip_and_corrupt_stamp(dev, tmp_path):
    assert dev.read_stamp(str(tmp_path)) is None
    stamp = dev.make_stamp(dev.file_sha256(str(ROOT / "pyproject.toml")), ["course"])
    dev.write_stamp(str(tmp_path), stamp)
    assert dev.read_stamp(str(tmp_path)) == stamp
    assert stamp["python"] == "%d.%d.%d" % sys.version_info[:3]
    (tmp_path / dev.STAMP_NAME).write_text("{not json")
    assert dev.read_stamp(str(tmp_path)) is None


def test_pyproject_hash_changes_with_content(dev, tmp_path):
    f = tmp_path / "pyproject.toml"
    f.write_text("[project]\nname = 'a'\n")
    before = dev.file_sha256(str(f))
    f.write_text("[project]\nname = 'b'\n")
    assert dev.file_sha256(str(f)) != before


def test_minijax_python_override_skips_venv_and_install(dev, monkeypatch, tmp_path):
    monkeypatch.setenv("MINIJAX_PYTHON", sys.executable)
    monkeypatch.setenv("MINIJAX_VENV", str(tmp_path / "never-made"))
    assert dev.ensure_env("test") == sys.executable
    assert not (tmp_path / "never-made").exists()


def test_venv_python_location(dev):
    expected = ("Scripts", "python.exe") if os.name == "nt" else ("bin", "python")
    assert dev.venv_python("/v").endswith(os.path.join(*expected))


# -- the commands that get run --------------------------------------------------------

def test_pytest_command_covers_tests_and_existing_notebook_folders(dev, tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "lessons").mkdir()
    cmd = dev.pytest_command("py", ["-x"], root=str(tmp_path))
    assert cmd[:3] == ["py", "-m", "pytest"]
    assert "tests" in cmd and "lessons" in cmd and "solutions" not in cmd
    assert "--nbval" in cmd and "--nbval-current-env" in cmd
    i = cmd.index("--nbval-sanitize-with")
    assert cmd[i + 1] == os.path.join("lessons", "nbval_sanitize.cfg")
    assert cmd[-1] == "-x"
    (tmp_path / "solutions").mkdir()
    assert "solutions" in dev.pytest_command("py", [], root=str(tmp_path))


def test_paths_given_replace_the_default_ones(dev):
    cmd = dev.pytest_command("py", ["tests/test_course_command.py::test_x", "-q"], root=str(ROOT))
    assert "lessons" not in cmd and "tests" not in cmd
    assert cmd[-2:] == ["tests/test_course_command.py::test_x", "-q"]
    # an option value that is not a path keeps the defaults
    cmd = dev.pytest_command("py", ["-k", "at"], root=str(ROOT))
    assert "tests" in cmd and "lessons" in cmd


def test_sanitize_file_exists(dev):
    assert (ROOT / dev.SANITIZE_FILE).is_file()


def test_jupyter_command_serves_lessons_and_passes_args_last(dev):
    cmd = dev.jupyter_command("py", ["--no-browser", "--port", "8899"], root="/repo",
                              as_root=False)
    assert cmd == ["py", "-m", "jupyter", "lab",
                   "--ServerApp.root_dir=" + os.path.join("/repo", "lessons"),
                   "--no-browser", "--port", "8899"]
    as_root = dev.jupyter_command("py", ["--port", "8899"], root="/repo", as_root=True)
    assert "--allow-root" in as_root and as_root[-2:] == ["--port", "8899"]


def test_child_env_puts_the_checkout_first_on_pythonpath(dev):
    env = dev.child_env({"PYTHONPATH": "/elsewhere", "HOME": "/h"}, root="/repo")
    assert env["PYTHONPATH"] == os.pathsep.join(["/repo", "/elsewhere"])
    assert env["HOME"] == "/h"
    assert dev.child_env({}, root="/repo")["PYTHONPATH"] == "/repo"


# -- the course server, for real ---------------------------------------------------------

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, json.loads(response.read().decode())


@pytest.mark.slow
def test_course_command_starts_jupyterlab_serving_the_lessons(dev):
    pytest.importorskip("jupyterlab")
    port = _free_port()
    cmd = dev.jupyter_command(sys.executable, [
        "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--IdentityProvider.token=",
        "--ServerApp.port_retries=0"])
    with tempfile.TemporaryDirectory() as runtime:
        env = dev.child_env()
        env["JUPYTER_RUNTIME_DIR"] = runtime
        log = open(os.path.join(runtime, "server.log"), "w+")
        server = subprocess.Popen(cmd, cwd=str(ROOT), env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            names, deadline = None, time.monotonic() + 90
            while time.monotonic() < deadline:
                if server.poll() is not None:
                    break
                try:
                    status, listing = _get_json(f"http://127.0.0.1:{port}/api/contents")
                    names = {item["name"] for item in listing["content"]}
                    break
                except (urllib.error.URLError, ConnectionError, OSError):
                    time.sleep(0.5)
            log.seek(0)
            assert names is not None, "JupyterLab did not answer:\n" + log.read()[-3000:]
            assert status == 200
            assert {"01_jax_numpy.ipynb", "02_differences_from_numpy.ipynb"} <= names
            status, notebook = _get_json(
                f"http://127.0.0.1:{port}/api/contents/01_jax_numpy.ipynb")
            assert status == 200 and notebook["type"] == "notebook"
            assert notebook["content"]["metadata"]["kernelspec"]["name"] == "python3"
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=5) as page:
                assert page.status == 200 and b"JupyterLab" in page.read()
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
            log.close()
