"""config.update, devices, device_put, and a fast ``import minijax`` (numba loaded lazily)."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

import minijax
import minijax.numpy as jnp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def restore_config():
    saved = {name: getattr(minijax.config, name)
             for name in ("jax_enable_x64", "jax_platform_name")}
    yield
    for name, value in saved.items():
        minijax.config.update(name, value)


def _no_gpu():
    return os.environ.get("NUMBA_ENABLE_CUDASIM") != "1" and not os.path.exists("/dev/nvidiactl")


# -- config ------------------------------------------------------------------------

def test_platform_name_cpu_is_accepted(restore_config):
    minijax.config.update("jax_platform_name", "cpu")
    assert minijax.config.jax_platform_name == "cpu"
    assert minijax.default_backend() == "cpu"


def test_bad_platform_value_is_refused(restore_config):
    with pytest.raises(ValueError, match="jax_platform_name"):
        minijax.config.update("jax_platform_name", "abacus")
    assert minijax.config.jax_platform_name == "cpu"


def test_enable_x64_switches_defaults_both_ways(restore_config):
    assert jnp.arange(3).dtype == np.int32 and jnp.array(1.0).dtype == np.float32
    minijax.config.update("jax_enable_x64", True)
    assert minijax.config.jax_enable_x64 is True
    assert jnp.arange(3).dtype == np.int64
    assert jnp.array(1.0).dtype == np.float64
    assert jnp.zeros(2, dtype=jnp.float64).dtype == np.float64
    minijax.config.update("jax_enable_x64", False)
    assert jnp.arange(3).dtype == np.int32 and jnp.array(1.0).dtype == np.float32


def test_enable_x64_rejects_non_booleans(restore_config):
    with pytest.raises(TypeError):
        minijax.config.update("jax_enable_x64", "yes please")


def test_unknown_option_is_a_clear_attribute_error(restore_config):
    with pytest.raises(AttributeError) as info:
        minijax.config.update("jax_enable_x46", True)
    message = str(info.value)
    assert "jax_enable_x46" in message
    assert "jax_enable_x64" in message and "jax_platform_name" in message  # lists the options


def test_unknown_option_error_type_matches_jax(real_jax):
    with pytest.raises(AttributeError):
        real_jax.config.update("jax_enable_x46", True)


def test_config_is_read_by_attribute_and_not_set_by_assignment():
    assert isinstance(minijax.config.jax_enable_x64, bool)
    with pytest.raises(AttributeError, match="config.update"):
        minijax.config.jax_enable_x64 = True
    with pytest.raises(AttributeError):
        minijax.config.no_such_flag


def test_env_variable_enables_x64_at_import():
    code = ("import minijax, minijax.numpy as jnp; "
            "print(minijax.config.jax_enable_x64, jnp.arange(2).dtype, jnp.array(1.5).dtype)")
    env = dict(os.environ, JAX_ENABLE_X64="1", PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True", "int64", "float64"]


# -- devices -------------------------------------------------------------------------

def test_devices_is_one_cpu():
    devices = minijax.devices()
    assert repr(devices) == "[CpuDevice(id=0)]"
    assert devices[0].platform == "cpu" and devices[0].id == 0
    assert minijax.device_count() == 1
    assert minijax.local_devices() == devices
    assert minijax.devices("cpu") == devices


def test_device_repr_matches_jax(real_jax):
    assert repr(minijax.devices()[0]) == repr(real_jax.devices("cpu")[0])


def test_default_backend_is_cpu():
    assert minijax.default_backend() == "cpu"


@pytest.mark.skipif(not _no_gpu(), reason="a GPU (or the CUDA simulator) is present")
def test_asking_for_a_missing_gpu_says_so():
    with pytest.raises(RuntimeError, match="gpu"):
        minijax.devices("gpu")


def test_unknown_backend_is_a_runtime_error():
    with pytest.raises(RuntimeError, match="abacus"):
        minijax.devices("abacus")


def test_array_knows_its_device():
    x = jnp.arange(3)
    cpu = minijax.devices()[0]
    assert x.device == cpu
    assert x.devices() == {cpu}


# -- device_put / device_get -----------------------------------------------------------------

def test_device_put_numpy_array_follows_default_dtypes():
    x = np.linspace(0.0, 1.0, 5)  # float64
    y = minijax.device_put(x)
    assert isinstance(y, minijax.Array)
    assert y.dtype == np.float32
    np.testing.assert_allclose(np.asarray(y), x.astype(np.float32))
    assert y.device == minijax.devices()[0]


def test_device_put_keeps_int_and_bool_kinds():
    assert minijax.device_put(np.arange(3, dtype=np.int64)).dtype == np.int32
    assert minijax.device_put(np.array([True, False])).dtype == np.bool_


def test_device_put_pytree_keeps_structure():
    tree = {"w": np.ones((2, 3)), "layers": [np.zeros(2), (np.arange(4), 3.0)]}
    out = minijax.device_put(tree)
    assert set(out) == {"w", "layers"}
    assert isinstance(out["layers"], list) and isinstance(out["layers"][1], tuple)
    for leaf in (out["w"], out["layers"][0], out["layers"][1][0], out["layers"][1][1]):
        assert isinstance(leaf, minijax.Array)
    assert out["w"].shape == (2, 3)
    np.testing.assert_array_equal(np.asarray(out["layers"][1][0]), np.arange(4))


def test_device_put_on_an_explicit_device_and_of_an_array():
    cpu = minijax.devices()[0]
    x = jnp.arange(4.0)
    y = minijax.device_put(x, cpu)
    assert y.device == cpu
    np.testing.assert_array_equal(np.asarray(y), np.asarray(x))
    again = minijax.device_put(x)
    assert isinstance(again, minijax.Array) and again.dtype == x.dtype
    np.testing.assert_array_equal(np.asarray(again), np.asarray(x))


def test_device_get_returns_numpy():
    out = minijax.device_get({"a": jnp.arange(3), "b": 2})
    assert isinstance(out["a"], np.ndarray) and out["b"] == 2
    np.testing.assert_array_equal(out["a"], np.arange(3))


def test_block_until_ready_returns_the_value():
    x = jnp.ones(2)
    assert x.block_until_ready() is x
    tree = minijax.block_until_ready({"x": x})
    assert tree["x"] is x


# -- import time ----------------------------------------------------------------------

def test_import_minijax_does_not_load_numba():
    code = ("import sys, time; t = time.perf_counter(); import minijax; "
            "dt = time.perf_counter() - t; "
            "print(sorted(m for m in sys.modules if m == 'numba' or m.startswith('numba.'))); "
            "print('jax' in sys.modules); print(dt)")
    env = dict(os.environ, PYTHONPATH=ROOT)
    lines = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, check=True).stdout.splitlines()
    assert lines[0] == "[]", f"import minijax loaded numba: {lines[0]}"
    assert lines[1] == "False", "import minijax must not import the real jax"


def test_import_minijax_wall_time_is_reported(record_property):
    """Report ``python -c 'import minijax'`` wall time (best of 3); the requirement is
    <= 0.3 s on the course machine, asserted loosely here so that a slow CI box does not
    fail the suite; the numba test above is the real guard."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import minijax"], env=env, check=True)
        best = min(best, time.perf_counter() - start)
    record_property("import_minijax_seconds", round(best, 3))
    print(f"python -c 'import minijax': {best:.3f} s (best of 3)")
    assert best < 3.0
