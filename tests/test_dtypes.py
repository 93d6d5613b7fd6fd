"""Type promotion: JAX's lattice, weak types, and the x64 switch.

Two oracles:

* ``TABLE`` below, typed in from the promotion table in JAX's documentation ("Type
  promotion semantics"), restricted to the types minijax tests. It runs without JAX.
* real JAX (``jnp.promote_types`` / ``jnp.result_type`` and actual additions), when installed.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import minijax.numpy as jnp
from minijax._src import dtypes

# Column/row order of the documented table. 'i*' / 'f*' are weak int / weak float (Python
# scalars); i8 is int64, which minijax (like JAX) narrows to int32 unless x64 is on.
NAMES = ["b1", "u1", "u2", "u4", "i1", "i2", "i4", "f2", "f4", "c4", "i*", "f*"]
TABLE_ROWS = """
b1 b1 u1 u2 u4 i1 i2 i4 f2 f4 c4 i* f*
u1 u1 u1 u2 u4 i2 i2 i4 f2 f4 c4 u1 f*
u2 u2 u2 u2 u4 i4 i4 i4 f2 f4 c4 u2 f*
u4 u4 u4 u4 u4 i8 i8 i8 f2 f4 c4 u4 f*
i1 i1 i2 i4 i8 i1 i2 i4 f2 f4 c4 i1 f*
i2 i2 i2 i4 i8 i2 i2 i4 f2 f4 c4 i2 f*
i4 i4 i4 i4 i8 i4 i4 i4 f2 f4 c4 i4 f*
f2 f2 f2 f2 f2 f2 f2 f2 f2 f4 c4 f2 f2
f4 f4 f4 f4 f4 f4 f4 f4 f4 f4 c4 f4 f4
c4 c4 c4 c4 c4 c4 c4 c4 c4 c4 c4 c4 c4
i* i* u1 u2 u4 i1 i2 i4 f2 f4 c4 i* f*
f* f* f* f* f* f* f* f* f2 f4 c4 f* f*
"""
TABLE = {}
for _line in TABLE_ROWS.strip().splitlines():
    _row, *_cells = _line.split()
    for _col, _cell in zip(NAMES, _cells):
        TABLE[_row, _col] = _cell

STRONG = {"b1": np.bool_, "u1": np.uint8, "u2": np.uint16, "u4": np.uint32, "i1": np.int8,
          "i2": np.int16, "i4": np.int32, "i8": np.int64, "f2": np.float16, "f4": np.float32,
          "c4": np.complex64}
PAIRS = list(itertools.product(NAMES, NAMES))


def expected(cell, x64=False):
    """(dtype, weak_type) that a table cell means for result_type, in x32 or x64 mode."""
    if cell == "i*":
        return np.dtype(np.int64 if x64 else np.int32), True
    if cell == "f*":
        return np.dtype(np.float64 if x64 else np.float32), True
    dtype = np.dtype(STRONG[cell])
    if dtype == np.int64 and not x64:
        dtype = np.dtype(np.int32)
    return dtype, False


def typed(name):
    """A (dtype, weak_type) pair as dtypes.result_type takes them."""
    if name == "i*":
        return dtypes.default_int(), True
    if name == "f*":
        return dtypes.default_float(), True
    return np.dtype(STRONG[name]), False


def mini_value(name):
    """A minijax operand of that type: a Python scalar for the weak ones."""
    return {"i*": 2, "f*": 2.0}.get(name) if name in ("i*", "f*") else jnp.zeros((), STRONG[name])


def mini_array(name):
    """A minijax Array of that type; weak ones are jnp.asarray(2) / jnp.asarray(2.0)."""
    return jnp.asarray(mini_value(name))


# ---------------------------------------------------------------------------
# The lattice itself, against the documented table
# ---------------------------------------------------------------------------
def test_table_is_symmetric():
    for a, b in PAIRS:
        assert TABLE[a, b] == TABLE[b, a], (a, b)


@pytest.mark.parametrize("a,b", PAIRS)
def test_core_result_type_matches_documented_table(a, b):
    assert dtypes.result_type(typed(a), typed(b)) == expected(TABLE[a, b])


@pytest.mark.parametrize("a,b", PAIRS)
def test_core_result_type_matches_table_with_x64(x64, a, b):
    assert dtypes.result_type(typed(a), typed(b)) == expected(TABLE[a, b], x64=True)


@pytest.mark.parametrize("a,b", PAIRS)
def test_jnp_result_type_and_operator_match_table(a, b):
    want_dtype, want_weak = expected(TABLE[a, b])
    assert jnp.result_type(mini_value(a), mini_value(b)) == want_dtype
    dtype, weak = jnp.result_type(mini_value(a), mini_value(b), return_weak_type_flag=True)
    assert (dtype, weak) == (want_dtype, want_weak)
    out = jnp.add(mini_array(a), mini_array(b))
    assert (out.dtype, out.weak_type) == (want_dtype, want_weak)


def _promote_types_arg(name):
    return {"i*": int, "f*": float}.get(name, STRONG.get(name))


@pytest.mark.parametrize("x64_on", [False, True])
def test_promote_types_matches_table(request, x64_on):
    """promote_types does not narrow to 32 bits, and reports a weak result as 64-bit."""
    if x64_on:
        request.getfixturevalue("x64")
    for a, b in PAIRS:
        cell = TABLE[a, b]
        want = {"i*": np.int64, "f*": np.float64}.get(cell, STRONG.get(cell))
        if cell == "i8" and not x64_on:
            want = np.int32  # JAX's x32 lattice: uint32 with a signed type gives int32
        assert jnp.promote_types(_promote_types_arg(a), _promote_types_arg(b)) == np.dtype(want), (a, b)


def test_promote_types_accepts_strings_and_scalar_types():
    assert jnp.promote_types("int32", "float32") == np.float32
    assert jnp.promote_types(jnp.uint8, int) == np.uint8
    assert jnp.promote_types(jnp.float16, float) == np.float16
    assert jnp.promote_types(np.float32, np.float64) == np.float64


def test_result_type_needs_an_argument():
    with pytest.raises(ValueError):
        jnp.result_type()


# ---------------------------------------------------------------------------
# Real JAX as the oracle
# ---------------------------------------------------------------------------
def _jax_value(rjnp, name):
    return {"i*": 2, "f*": 2.0}.get(name) if name in ("i*", "f*") else rjnp.zeros((), STRONG[name])


def test_matches_real_jax_result_type_and_promote_types(real_jax):
    rjnp = real_jax.numpy
    for a, b in PAIRS:
        ra, rb = rjnp.asarray(_jax_value(rjnp, a)), rjnp.asarray(_jax_value(rjnp, b))
        jax_out = ra + rb
        ours = jnp.add(mini_array(a), mini_array(b))
        assert (ours.dtype, ours.weak_type) == (jax_out.dtype, jax_out.weak_type), (a, b)
        assert jnp.result_type(mini_value(a), mini_value(b)) == rjnp.result_type(
            _jax_value(rjnp, a), _jax_value(rjnp, b)), (a, b)
        pa, pb = _promote_types_arg(a), _promote_types_arg(b)
        assert jnp.promote_types(pa, pb) == rjnp.promote_types(pa, pb), (a, b)


@pytest.mark.filterwarnings("ignore:Explicitly requested dtype")  # JAX's own x64 warning
def test_matches_real_jax_on_64_bit_dtype_requests(real_jax):
    rjnp = real_jax.numpy
    for a, b in [(np.float32, np.float64), (np.int32, np.int64), (np.int64, np.uint64),
                 (np.uint32, np.int64), (np.float16, np.int64), (np.complex64, np.float64)]:
        assert jnp.result_type(a, b) == rjnp.result_type(a, b), (a, b)
        assert jnp.promote_types(a, b) == rjnp.promote_types(a, b), (a, b)


# ---------------------------------------------------------------------------
# Weak types in practice
# ---------------------------------------------------------------------------
def test_python_scalar_does_not_widen_a_strong_float32():
    x = jnp.ones(3, jnp.float32)
    y = x * 2.0
    assert y.dtype == np.float32 and not y.weak_type


def test_python_scalar_does_not_widen_float16_or_int8():
    assert (jnp.ones(2, jnp.float16) * 2.0).dtype == np.float16
    assert (jnp.ones(2, jnp.int8) + 3).dtype == np.int8
    assert (jnp.ones(2, jnp.uint8) * 2).dtype == np.uint8


def test_weak_times_weak_stays_weak():
    y = jnp.asarray(2.0) * 2
    assert y.dtype == np.float32 and y.weak_type
    z = jnp.asarray(2) + 3
    assert z.dtype == np.int32 and z.weak_type


def test_weak_float_meets_int_array_gives_weak_default_float():
    y = jnp.arange(3) * 0.5
    assert y.dtype == np.float32 and y.weak_type


def test_weak_value_adopts_strong_partner_dtype():
    w = jnp.asarray(2.0)
    assert (w * jnp.ones(2, jnp.float16)).dtype == np.float16
    assert not (w * jnp.ones(2, jnp.float16)).weak_type


def test_numpy_scalars_are_strong():
    y = jnp.ones(2, jnp.float16) * np.float32(2)
    assert y.dtype == np.float32 and not y.weak_type


def test_weak_type_survives_unary_functions():
    assert jnp.sin(2.0).weak_type and jnp.sin(2.0).dtype == np.float32
    assert not jnp.sin(jnp.ones(2)).weak_type


def test_python_int_too_big_for_int8_is_an_error():
    with pytest.raises(OverflowError):
        jnp.ones(2, jnp.int8) + 300


# ---------------------------------------------------------------------------
# x64 on and off
# ---------------------------------------------------------------------------
def test_defaults_without_x64():
    assert jnp.asarray(2.0).dtype == np.float32
    assert jnp.asarray(2).dtype == np.int32
    assert jnp.asarray(np.ones(2, np.float64)).dtype == np.float32
    assert jnp.result_type(np.float64) == np.float32
    assert jnp.result_type(np.int32, np.uint32) == np.int32


def test_defaults_with_x64(x64):
    assert jnp.asarray(2.0).dtype == np.float64
    assert jnp.asarray(2).dtype == np.int64
    assert jnp.result_type(np.float64) == np.float64
    assert jnp.result_type(np.int32, np.uint32) == np.int64
    assert (jnp.ones(2, jnp.float32) * 2.0).dtype == np.float32  # weak scalar still adapts
    assert jnp.sin(jnp.arange(3)).dtype == np.float64


def test_float64_request_warns_and_gives_float32():
    x = jnp.arange(3)
    with pytest.warns(UserWarning, match="jax_enable_x64"):
        y = jnp.astype(x, jnp.float64)
    assert y.dtype == np.float32
    with pytest.warns(UserWarning, match="jax_enable_x64"):
        z = jnp.zeros(2, dtype=np.float64)
    assert z.dtype == np.float32


def test_float64_request_is_honoured_with_x64(x64):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = jnp.astype(jnp.arange(3), jnp.float64)
    assert y.dtype == np.float64


def test_float_power_without_x64_is_float32():
    assert jnp.float_power(2, 3).dtype == np.float32


# ---------------------------------------------------------------------------
# dtype helper functions
# ---------------------------------------------------------------------------
def test_can_cast_issubdtype_iscomplexobj():
    assert jnp.can_cast(np.int8, np.int32) and not jnp.can_cast(np.int32, np.int8)
    assert jnp.can_cast(jnp.ones(2, jnp.int8), np.int16)
    assert jnp.issubdtype(np.float32, jnp.floating) and not jnp.issubdtype(np.int32, jnp.floating)
    assert jnp.iscomplexobj(1j) and jnp.iscomplexobj(jnp.ones(2, jnp.complex64))
    assert not jnp.iscomplexobj(jnp.ones(2)) and jnp.isrealobj(jnp.ones(2))


def test_isscalar_counts_zero_dim_arrays():
    assert jnp.isscalar(1) and jnp.isscalar(2.5) and jnp.isscalar(np.float32(1))
    assert jnp.isscalar(jnp.asarray(1.0)) and jnp.isscalar(np.array(1.0))
    assert not jnp.isscalar(jnp.ones(2)) and not jnp.isscalar([1])


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int16", "uint16", "int32", "uint32",
                                   "int64", "uint64"])
def test_integers_become_floats_of_their_width_in_x64_mode(dtype, x64):
    # JAX: 64-bit integers become float64; narrower ones (and bools) float32, even with x64.
    x = jnp.zeros(2, dtype)
    expected = np.float64 if np.dtype(dtype).itemsize == 8 else np.float32
    assert jnp.sin(x).dtype == expected
    assert (x / x).dtype == expected
    assert jnp.mean(x).dtype == expected
