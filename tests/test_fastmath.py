"""The CPU backend's vectorisable transcendentals (``_src/backends/fastmath.py``).

Oracle: NumPy evaluated in long double (80-bit on x86-64, so its own error is
~1/2000 ulp of float64), rounded to the function's dtype only to measure ulps.
Each function is checked (a) on a dense sweep of its useful range, (b) on special
values against NumPy's float32/float64 answer, bit for bit where it matters
(inf, NaN, signed zeros), (c) on hypothesis-drawn floats; and the error must stay
within the bound the module documents in ``ULP_BOUNDS``.
"""
from __future__ import annotations

import importlib.util
import os
import platform
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

numba = pytest.importorskip("numba")

from minijax._src.backends import fastmath  # noqa: E402

LD = np.longdouble
EXTENDED = np.finfo(LD).nmant >= 60          # long double can judge float64 results
DTYPES = ["float32", "float64"]
KEYS = sorted(fastmath.ULP_BOUNDS)

REFERENCE = {
    "exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p, "tanh": np.tanh,
    "logistic": lambda v: 1 / (1 + np.exp(-v)), "sin": np.sin, "cos": np.cos,
}

# Useful ranges: everything from underflow to overflow, and sin/cos over their domain.
SWEEP = {
    "exp": {"float32": (-105, 90), "float64": (-746, 710)},
    "expm1": {"float32": (-30, 89), "float64": (-60, 710)},
    "log": None,      # geometric sweeps instead, see _sweep_points
    "log1p": {"float32": (-1, 50), "float64": (-1, 50)},
    "tanh": {"float32": (-10, 10), "float64": (-20, 20)},
    "logistic": {"float32": (-105, 105), "float64": (-750, 750)},
    "sin": {"float32": (-1e4, 1e4), "float64": (-1e4, 1e4)},
    "cos": {"float32": (-1e4, 1e4), "float64": (-1e4, 1e4)},
}
TRIG_DOMAIN = {"float32": 4e6, "float64": 1.6e6}


@pytest.fixture(scope="module")
def fns():
    return fastmath.get_functions()


@pytest.fixture(scope="module")
def apply():
    """``apply(fn, x)``: a numba loop calling ``fn`` on each element (compiled once per fn)."""
    @numba.njit(error_model="numpy")
    def _apply(fn, x):
        out = np.empty_like(x)
        for i in range(x.shape[0]):
            out[i] = fn(x[i])
        return out
    return _apply


def reference(name, x):
    with np.errstate(all="ignore"):
        return REFERENCE[name](x.astype(LD))


def ulp_error(y, ref, dtype):
    """|y - ref| in units of the spacing of the dtype at ref; 0 where both are the same
    inf or both NaN, inf where exactly one is NaN or inf."""
    dtype = np.dtype(dtype)
    with np.errstate(all="ignore"):
        rounded = ref.astype(dtype)
        spacing = np.spacing(np.abs(rounded)).astype(LD)
        err = np.abs(y.astype(LD) - ref) / spacing
    same = (y == rounded) & np.isinf(y)
    both_nan = np.isnan(y) & np.isnan(ref)
    one_nan = np.isnan(y) != np.isnan(ref)
    err = np.where(same | both_nan, 0.0, err)
    return np.where(one_nan | (np.isinf(y) != np.isinf(rounded)), np.inf, err)


def assert_within_bound(name, dtype, x, y):
    if dtype == "float64" and not EXTENDED:
        pytest.skip("long double is not wider than float64 here: no oracle for float64 ulps")
    err = ulp_error(y, reference(name, x), dtype)
    bound = fastmath.ULP_BOUNDS[name, dtype]
    worst = int(np.argmax(err))
    assert err[worst] <= bound, (
        f"{name}[{dtype}]({x[worst]!r}) = {y[worst]!r}, reference {reference(name, x[worst:worst+1])[0]!r}:"
        f" {err[worst]:.2f} ulp > documented {bound}")
    return float(err.max())


def _sweep_points(name, dtype):
    if name == "log":
        tiny = np.finfo(dtype).smallest_subnormal
        big = np.finfo(dtype).max
        exponents = np.linspace(np.log2(tiny), np.log2(big), 200_001)[:-1]
        x = np.concatenate([np.exp2(exponents), [big], np.linspace(0.5, 2.0, 100_001)])
    else:
        lo, hi = SWEEP[name][dtype]
        x = np.linspace(lo, hi, 300_001)
    around_zero = np.geomspace(1e-30, 1.0, 4001)
    return np.concatenate([x, around_zero, -around_zero]).astype(dtype)


# ---------------------------------------------------------------------------
# (a) dense sweeps
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name,dtype", KEYS)
def test_dense_sweep_within_documented_ulps(fns, apply, name, dtype):
    x = _sweep_points(name, dtype)
    y = apply(fns[name, dtype], x)
    assert y.dtype == np.dtype(dtype)
    assert_within_bound(name, dtype, x, y)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["sin", "cos"])
def test_trig_near_multiples_of_half_pi(fns, apply, name, dtype):
    """Where the reduced argument is tiny, any error in the reduction would show up."""
    n = np.unique(np.geomspace(1, TRIG_DOMAIN[dtype] / 1.6, 20_000).astype(np.int64))
    centre = (n.astype(LD) * (np.pi / LD(2))).astype(dtype)
    x = np.concatenate([np.nextafter(centre, -np.inf), centre, np.nextafter(centre, np.inf)])
    x = np.concatenate([x, -x])
    assert_within_bound(name, dtype, x, apply(fns[name, dtype], x))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["sin", "cos"])
def test_trig_outside_domain_is_nan(fns, apply, name, dtype):
    x = np.array([TRIG_DOMAIN[dtype] * 1.01, -1e30, np.finfo(dtype).max, np.inf, -np.inf, np.nan],
                 dtype)
    assert np.isnan(apply(fns[name, dtype], x)).all()


# ---------------------------------------------------------------------------
# (b) special values: NumPy's answer, including the sign of zero
# ---------------------------------------------------------------------------
def _specials(dtype):
    fi = np.finfo(dtype)
    vals = [np.nan, np.inf, -np.inf, 0.0, -0.0, fi.smallest_subnormal, -fi.smallest_subnormal,
            fi.tiny, -fi.tiny, fi.eps, -fi.eps, 1.0, -1.0, 0.5, -0.5, fi.max, -fi.max,
            # exp/expm1/logistic overflow and underflow edges
            88.72, 88.73, 89.0, -87.3, -103.9, -104.0, -110.0, 709.78, 709.79, -745.1, -745.2,
            # tanh saturation, log1p pole
            9.0, -9.0, 20.0, -20.0, -1.0, -1.5]
    with np.errstate(over="ignore"):
        return np.array(vals, dtype)


@pytest.mark.parametrize("name,dtype", KEYS)
def test_special_values_match_numpy(fns, apply, name, dtype):
    x = _specials(dtype)
    if name in ("sin", "cos"):
        x = x[np.abs(x) <= TRIG_DOMAIN[dtype]]           # outside: NaN, tested above
    y = apply(fns[name, dtype], x)
    with np.errstate(all="ignore"):
        expected = (reference("logistic", x).astype(dtype) if name == "logistic"
                    else REFERENCE[name](x))
    assert expected.dtype == y.dtype
    np.testing.assert_array_equal(np.isnan(y), np.isnan(expected), err_msg=f"NaN pattern of {name}")
    exact = np.isinf(expected) | (expected == 0) | (np.abs(expected) == 1)
    np.testing.assert_array_equal(y[exact], expected[exact], err_msg=f"{name} at {x[exact]}")
    np.testing.assert_array_equal(np.signbit(y[exact]), np.signbit(expected[exact]),
                                  err_msg=f"sign of {name} at {x[exact]}")
    assert_within_bound(name, dtype, x, y)


# ---------------------------------------------------------------------------
# (c) hypothesis
# ---------------------------------------------------------------------------
def _floats(dtype, name):
    width = 32 if dtype == "float32" else 64
    if name in ("sin", "cos"):
        bound = TRIG_DOMAIN[dtype]
        return st.floats(-bound, bound, width=width)
    return st.floats(width=width, allow_nan=True, allow_infinity=True)


@pytest.mark.parametrize("name,dtype", KEYS)
def test_hypothesis_floats(fns, apply, name, dtype):
    @settings(max_examples=25, deadline=None, derandomize=True)
    @given(st.lists(_floats(dtype, name), min_size=1, max_size=50))
    def check(values):
        x = np.array(values, dtype)
        assert_within_bound(name, dtype, x, apply(fns[name, dtype], x))
    check()


# ---------------------------------------------------------------------------
# The contract with the CPU backend
# ---------------------------------------------------------------------------
def test_registry_names_and_dtypes(fns):
    assert set(fns) == set(fastmath.ULP_BOUNDS)
    assert {name for name, _ in fns} == set(fastmath.FUNCTION_NAMES)
    assert {"exp", "log", "tanh", "logistic", "sin", "cos"} <= set(fastmath.FUNCTION_NAMES)


@pytest.mark.parametrize("dtype", DTYPES)
def test_result_dtype_is_argument_dtype(fns, dtype):
    for name in fastmath.FUNCTION_NAMES:
        fn = fns[name, dtype]
        @numba.njit
        def call(v, fn=fn):
            return fn(v)
        call(np.dtype(dtype).type(0.5))
        assert str(call.nopython_signatures[0].return_type) == dtype, name


def test_install_into_namespace_for_generated_source():
    ns = fastmath.install({"numba": numba, "np": np})
    assert ns["_fm_exp_float32"] is ns["_fm_exp_f32"] is fastmath.get_functions()["exp", "float32"]
    source = (
        "@numba.njit\n"
        "def kernel(x):\n"
        "    out = np.empty_like(x)\n"
        "    for i in range(x.shape[0]):\n"
        "        out[i] = _fm_sin_float32(x[i]) * _fm_exp_f32(-x[i] * x[i])\n"
        "    return out\n")
    exec(source, ns)
    x = np.linspace(-3, 3, 101, dtype=np.float32)
    y = ns["kernel"](x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, np.sin(x) * np.exp(-x * x), rtol=1e-6, atol=1e-7)


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="checks x86 assembly")
@pytest.mark.parametrize("name", ["exp", "tanh", "sin", "log"])
def test_loop_is_vectorised(fns, name):
    """LLVM inlines the function and emits packed SIMD code: no libm call in the loop."""
    fn = fns[name, "float32"]

    @numba.njit(error_model="numpy")
    def loop(x, out):
        for i in range(x.shape[0]):
            out[i] = fn(x[i])
    x = np.ones(64, np.float32)
    loop(x, np.empty_like(x))
    asm = loop.inspect_asm(loop.signatures[0])
    assert re.search(r"\b(v?mulps|vfn?madd\w*ps)\b", asm), "no packed float32 arithmetic"
    assert not re.search(r"call\w*\s+\S*(expf|tanhf|sinf|logf)", asm), "loop still calls libm"


def test_module_import_does_not_import_numba():
    """``import minijax`` must stay fast: fastmath imports numba only in get_functions()."""
    path = os.path.abspath(fastmath.__file__)
    code = ("import importlib.util, sys\n"
            f"spec = importlib.util.spec_from_file_location('fm', {path!r})\n"
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
            "assert 'numba' not in sys.modules, 'numba imported at module import'\n")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert importlib.util.find_spec("numba") is not None
