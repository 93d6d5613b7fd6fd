"""jnp's elementwise functions against NumPy (values, shapes) and JAX (dtypes).

* values: hypothesis draws float32 / int32 arrays of broadcast-compatible shapes inside
  each function's domain and compares with the NumPy function of the same name;
* dtypes: every function on every input dtype of a small set, against real JAX when it is
  installed and always against the rule the function documents (same / inexact / numeric /
  bool);
* bad input: lists and strings raise TypeError naming the function.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minijax
import minijax.numpy as jnp

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)

# Domains: where each function is defined and well conditioned in float32.
DOMAINS = {
    "any": (-10.0, 10.0), "small": (-5.0, 5.0), "pos": (0.1, 10.0), "unit": (-0.95, 0.95),
    "ge1": (1.05, 10.0), "nonzero": (0.25, 10.0), "angle": (-1.4, 1.4),
}


def _np_sinc(x):
    return np.sinc(x)


# name -> (numpy function, domain, dtype rule). Rules: "same" keeps the promoted dtype,
# "inexact" promotes ints/bools to float32, "numeric" turns bool into int32, "bool" -> bool.
UNARY = {
    "negative": (np.negative, "any", "same"), "positive": (np.positive, "any", "same"),
    "reciprocal": (np.reciprocal, "nonzero", "inexact"), "square": (np.square, "any", "numeric"),
    "sqrt": (np.sqrt, "pos", "inexact"), "cbrt": (np.cbrt, "any", "inexact"),
    "exp": (np.exp, "small", "inexact"), "exp2": (np.exp2, "small", "inexact"),
    "expm1": (np.expm1, "small", "inexact"), "log": (np.log, "pos", "inexact"),
    "log2": (np.log2, "pos", "inexact"), "log10": (np.log10, "pos", "inexact"),
    "log1p": (np.log1p, "pos", "inexact"),
    "sin": (np.sin, "any", "inexact"), "cos": (np.cos, "any", "inexact"),
    "tan": (np.tan, "angle", "inexact"), "arcsin": (np.arcsin, "unit", "inexact"),
    "arccos": (np.arccos, "unit", "inexact"), "arctan": (np.arctan, "any", "inexact"),
    "sinh": (np.sinh, "small", "inexact"), "cosh": (np.cosh, "small", "inexact"),
    "tanh": (np.tanh, "any", "inexact"), "arcsinh": (np.arcsinh, "any", "inexact"),
    "arccosh": (np.arccosh, "ge1", "inexact"), "arctanh": (np.arctanh, "unit", "inexact"),
    "asin": (np.arcsin, "unit", "inexact"), "acos": (np.arccos, "unit", "inexact"),
    "atan": (np.arctan, "any", "inexact"), "asinh": (np.arcsinh, "any", "inexact"),
    "acosh": (np.arccosh, "ge1", "inexact"), "atanh": (np.arctanh, "unit", "inexact"),
    "deg2rad": (np.deg2rad, "any", "inexact"), "rad2deg": (np.rad2deg, "any", "inexact"),
    "degrees": (np.degrees, "any", "inexact"), "radians": (np.radians, "any", "inexact"),
    "sinc": (_np_sinc, "any", "inexact"),
    "abs": (np.abs, "any", "same"), "absolute": (np.absolute, "any", "same"),
    "fabs": (np.fabs, "any", "inexact"), "sign": (np.sign, "any", "same"),
    "signbit": (np.signbit, "any", "bool"),
    "floor": (np.floor, "any", "same"), "ceil": (np.ceil, "any", "same"),
    "trunc": (np.trunc, "any", "same"), "fix": (np.fix, "any", "same"),
    "rint": (np.rint, "any", "inexact"), "round": (np.round, "any", "same"),
    "around": (np.round, "any", "same"),
    "isnan": (np.isnan, "any", "bool"), "isinf": (np.isinf, "any", "bool"),
    "isposinf": (np.isposinf, "any", "bool"), "isneginf": (np.isneginf, "any", "bool"),
    "isfinite": (np.isfinite, "any", "bool"), "logical_not": (np.logical_not, "any", "bool"),
    "nan_to_num": (np.nan_to_num, "any", "same"),
    "conj": (np.conj, "any", "same"), "conjugate": (np.conjugate, "any", "same"),
    "real": (np.real, "any", "same"), "imag": (np.imag, "any", "same"),
}

BINARY = {
    "add": (np.add, "any", "any", "same"), "subtract": (np.subtract, "any", "any", "same"),
    "multiply": (np.multiply, "any", "any", "same"),
    "divide": (np.divide, "any", "nonzero", "inexact"),
    "true_divide": (np.true_divide, "any", "nonzero", "inexact"),
    "floor_divide": (np.floor_divide, "any", "nonzero", "numeric"),
    "remainder": (np.remainder, "any", "nonzero", "numeric"),
    "mod": (np.mod, "any", "nonzero", "numeric"), "fmod": (np.fmod, "any", "nonzero", "numeric"),
    "power": (np.power, "pos", "small", "numeric"), "pow": (np.power, "pos", "small", "numeric"),
    "float_power": (np.power, "pos", "small", "inexact"),
    "logaddexp": (np.logaddexp, "any", "any", "inexact"),
    "logaddexp2": (np.logaddexp2, "any", "any", "inexact"),
    "arctan2": (np.arctan2, "any", "any", "inexact"), "atan2": (np.arctan2, "any", "any", "inexact"),
    "hypot": (np.hypot, "any", "any", "inexact"), "copysign": (np.copysign, "any", "any", "inexact"),
    "maximum": (np.maximum, "any", "any", "same"), "minimum": (np.minimum, "any", "any", "same"),
    "fmax": (np.fmax, "any", "any", "same"), "fmin": (np.fmin, "any", "any", "same"),
    "heaviside": (np.heaviside, "any", "any", "inexact"),
    "equal": (np.equal, "any", "any", "bool"), "not_equal": (np.not_equal, "any", "any", "bool"),
    "less": (np.less, "any", "any", "bool"), "less_equal": (np.less_equal, "any", "any", "bool"),
    "greater": (np.greater, "any", "any", "bool"),
    "greater_equal": (np.greater_equal, "any", "any", "bool"),
    "logical_and": (np.logical_and, "any", "any", "bool"),
    "logical_or": (np.logical_or, "any", "any", "bool"),
    "logical_xor": (np.logical_xor, "any", "any", "bool"),
    "nextafter": (np.nextafter, "any", "any", "inexact"),
    "isclose": (np.isclose, "any", "any", "bool"),
}

INT_BINARY = {  # integers (and bools) only
    "bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or, "bitwise_xor": np.bitwise_xor,
    "left_shift": np.left_shift, "right_shift": np.right_shift, "gcd": np.gcd, "lcm": np.lcm,
}
INT_UNARY = {"bitwise_not": np.bitwise_not, "invert": np.invert}

# Input dtypes each function is checked on, and what JAX refuses (exception type).
DTYPES = [np.bool_, np.int8, np.uint8, np.int32, np.float16, np.float32]
REFUSES = {  # (function, input dtype) -> exception type, as in JAX
    ("negative", np.bool_): TypeError, ("sign", np.bool_): TypeError,
    ("subtract", np.bool_): TypeError, ("round", np.bool_): ValueError,
    ("around", np.bool_): ValueError, ("gcd", np.bool_): ValueError, ("lcm", np.bool_): ValueError,
}
JAX_DTYPES = [np.bool_, np.int8, np.float16, np.float32]  # fewer: each costs JAX a compile
NO_JAX_COUNTERPART = {"fix", "around"}  # removed from recent JAX; NumPy still has them


def rule_dtype(rule, dtype):
    """The result dtype each rule documents, for operands that all have ``dtype``."""
    dtype = np.dtype(dtype)
    if rule == "bool":
        return np.dtype(np.bool_)
    if rule == "inexact":
        return dtype if dtype.kind in "fc" else np.dtype(np.float32)
    if rule == "numeric":
        return np.dtype(np.int32) if dtype == np.bool_ else dtype
    return dtype


def arrays(dtype, domain, shape):
    lo, hi = DOMAINS[domain]
    if np.dtype(dtype).kind == "f":
        elements = st.floats(float(np.float32(lo)), float(np.float32(hi)), width=32)
    else:
        elements = st.integers(int(np.ceil(lo)), int(hi))
    return hnp.arrays(dtype, shape, elements=elements)


def assert_matches(out, expected, rtol=2e-5, atol=2e-6):
    out = np.asarray(out)
    assert out.shape == np.shape(expected)
    if out.dtype == np.bool_ or np.dtype(np.asarray(expected).dtype).kind in "iub":
        np.testing.assert_array_equal(out, expected)
    else:
        np.testing.assert_allclose(out, expected, rtol=rtol, atol=atol, equal_nan=True)


# ---------------------------------------------------------------------------
# Values against NumPy
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(data=st.data())
def test_unary_values_match_numpy(name, data):
    np_fn, domain, _ = UNARY[name]
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
    x = data.draw(arrays(np.float32, domain, shape))
    out = getattr(jnp, name)(jnp.asarray(x))
    assert_matches(out, np_fn(x))


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(data=st.data())
def test_binary_values_match_numpy_with_broadcasting(name, data):
    np_fn, dom1, dom2, _ = BINARY[name]
    s1, s2 = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4)).input_shapes
    x = data.draw(arrays(np.float32, dom1, s1))
    y = data.draw(arrays(np.float32, dom2, s2))
    if name in ("floor_divide", "remainder", "mod", "fmod", "divide", "true_divide"):
        y = y * data.draw(st.sampled_from([1, -1]))  # both signs of the divisor
    out = getattr(jnp, name)(jnp.asarray(x), jnp.asarray(y))
    with np.errstate(all="ignore"):
        expected = np_fn(x, y)
    rtol = 1e-4 if name in ("power", "pow", "float_power") else 2e-5
    assert_matches(out, expected, rtol=rtol)


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "floor_divide", "remainder",
                                  "fmod", "maximum", "minimum", "power", "equal", "less"])
@SETTINGS
@given(data=st.data())
def test_integer_binary_values_match_numpy(name, data):
    np_fn = BINARY[name][0]
    s1, s2 = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=4)).input_shapes
    x = data.draw(hnp.arrays(np.int32, s1, elements=st.integers(-50, 50)))
    if name == "power":
        y = data.draw(hnp.arrays(np.int32, s2, elements=st.integers(0, 5)))
    else:
        y = data.draw(hnp.arrays(np.int32, s2, elements=st.integers(1, 9) | st.integers(-9, -1)))
    out = getattr(jnp, name)(jnp.asarray(x), jnp.asarray(y))
    assert out.dtype == np_fn(x, y).dtype
    assert_matches(out, np_fn(x, y))


@pytest.mark.parametrize("name", sorted(INT_BINARY))
@SETTINGS
@given(data=st.data())
def test_integer_only_binary_match_numpy(name, data):
    s1, s2 = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=4)).input_shapes
    x = data.draw(hnp.arrays(np.int32, s1, elements=st.integers(-1000, 1000)))
    hi = 31 if "shift" in name else 1000
    lo = 0 if "shift" in name else -1000
    y = data.draw(hnp.arrays(np.int32, s2, elements=st.integers(lo, hi)))
    out = getattr(jnp, name)(jnp.asarray(x), jnp.asarray(y))
    assert out.dtype == np.int32
    assert_matches(out, INT_BINARY[name](x, y))


@pytest.mark.parametrize("name", sorted(INT_UNARY))
def test_integer_only_unary_match_numpy(name):
    for dtype in (np.int8, np.uint8, np.int32, np.bool_):
        x = np.arange(-5, 6).astype(dtype)
        out = getattr(jnp, name)(jnp.asarray(x))
        assert out.dtype == dtype
        assert_matches(out, INT_UNARY[name](x))


def test_shifts_past_the_bit_width_and_unsigned_right_shift():
    assert int(jnp.left_shift(jnp.int32(1), 33)) == 0
    assert int(jnp.right_shift(jnp.int32(-8), 40)) == -1
    assert int(jnp.right_shift(jnp.uint8(200), jnp.uint8(1))) == 100
    assert int(jnp.right_shift(jnp.int8(-128), jnp.int8(1))) == -64


def test_floor_semantics_for_ints_and_floats():
    x = np.array([7, -7, 7, -7, 0, 6], np.int32)
    y = np.array([2, 2, -2, -2, 3, 3], np.int32)
    np.testing.assert_array_equal(jnp.floor_divide(x, y), np.floor_divide(x, y))
    np.testing.assert_array_equal(jnp.asarray(x) // jnp.asarray(y), x // y)
    np.testing.assert_array_equal(jnp.remainder(x, y), np.remainder(x, y))
    np.testing.assert_array_equal(jnp.asarray(x) % jnp.asarray(y), x % y)
    np.testing.assert_array_equal(jnp.fmod(x, y), np.fmod(x, y))
    xf, yf = x.astype(np.float32) + 0.5, y.astype(np.float32)
    np.testing.assert_array_equal(jnp.floor_divide(xf, yf), np.floor_divide(xf, yf))
    np.testing.assert_allclose(jnp.remainder(xf, yf), np.remainder(xf, yf))
    q, r = jnp.divmod(xf, yf)
    np.testing.assert_array_equal(q, np.floor_divide(xf, yf))
    np.testing.assert_allclose(r, np.remainder(xf, yf))
    q, r = divmod(jnp.asarray(x), jnp.asarray(y))
    np.testing.assert_array_equal(q, x // y)
    np.testing.assert_array_equal(r, x % y)


def test_unsigned_floor_divide_and_remainder():
    x, y = np.array([7, 200, 0], np.uint8), np.array([2, 7, 3], np.uint8)
    np.testing.assert_array_equal(jnp.floor_divide(x, y), x // y)
    np.testing.assert_array_equal(jnp.remainder(x, y), x % y)


def test_integer_division_by_zero_does_not_crash_or_warn():
    x = jnp.array([5, -5, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for out in (x // 0, x % 0, jnp.fmod(x, 0), *jnp.divmod(x, 0), jnp.floor_divide(x, jnp.zeros(3, int))):
            assert out.dtype == np.int32 and out.shape == (3,)
        np.testing.assert_array_equal(np.isinf(x / 0) | np.isnan(x / 0), True)
        assert float(jnp.floor_divide(7.0, 0.0)) == np.inf


def test_float_division_edge_cases_match_numpy():
    x = np.array([7.0, -7.0, 0.0, 1.0], np.float32)
    y = np.array([0.0, 0.0, 0.0, np.inf], np.float32)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(jnp.floor_divide(x, y), np.floor_divide(x, y))
        np.testing.assert_array_equal(np.isnan(jnp.remainder(x[:3], y[:3])), True)


def test_power_of_integers_stays_integer_and_is_exact():
    x = np.array([-3, -2, 0, 1, 2, 3, 7], np.int32)
    y = np.array([3, 0, 5, 9, 10, 2, 6], np.int32)
    out = jnp.power(x, y)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, np.power(x, y))
    np.testing.assert_array_equal(jnp.power(x, 3), x ** 3)
    np.testing.assert_array_equal(jnp.asarray(x) ** 2, x ** 2)
    np.testing.assert_array_equal(2 ** jnp.arange(10), 2 ** np.arange(10))
    with pytest.raises(TypeError, match="negative"):
        jnp.power(jnp.arange(3), -1)
    assert jnp.power(jnp.arange(1.0, 3.0), -1).dtype == np.float32


def test_round_half_to_even_with_decimals():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 0.125, 2.675, 1234.5], np.float32)
    for decimals in (0, 1, 2, -1, -2):
        np.testing.assert_allclose(jnp.round(x, decimals), np.round(x, decimals), rtol=1e-6)
        np.testing.assert_allclose(jnp.asarray(x).round(decimals), np.round(x, decimals), rtol=1e-6)
    ints = np.array([15, 25, -15, 14, 150, -250], np.int32)
    for decimals in (-1, -2, 0, 2):
        out = jnp.round(ints, decimals)
        assert out.dtype == np.int32
        np.testing.assert_array_equal(out, np.round(ints, decimals))
    np.testing.assert_array_equal(jnp.rint(x), np.rint(x))
    z = np.array([1.5 + 2.5j, -0.5 - 3.5j], np.complex64)
    np.testing.assert_array_equal(jnp.round(z), np.round(z))


def test_special_values_against_numpy():
    x = np.array([0.0, -0.0, 1.0, -2.5, np.inf, -np.inf, np.nan, -np.nan], np.float32)
    for name in ("isnan", "isinf", "isposinf", "isneginf", "isfinite", "signbit", "sign",
                 "nan_to_num", "abs", "floor", "ceil", "trunc", "sqrt", "exp", "log"):
        with np.errstate(all="ignore"):
            expected = getattr(np, name)(x)
        assert_matches(getattr(jnp, name)(x), expected)
    with np.errstate(all="ignore"):
        for name in ("copysign", "fmax", "fmin", "maximum", "minimum", "logaddexp", "hypot",
                     "arctan2", "heaviside"):
            y = x[::-1].copy()
            got, want = getattr(jnp, name)(x, y), getattr(np, name)(x, y)
            if name == "heaviside":  # JAX (and minijax) give x2 where x1 is nan; NumPy gives nan
                keep = ~np.isnan(x)
                got, want = np.asarray(got)[keep], want[keep]
            assert_matches(got, want)
    assert_matches(jnp.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-3.0),
                   np.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-3.0))


def test_isclose_allclose_array_equal():
    a = np.array([1.0, 1.0 + 1e-6, np.inf, -np.inf, np.nan, 0.0], np.float32)
    b = np.array([1.0, 1.0, np.inf, np.inf, np.nan, 1e-9], np.float32)
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.0, "atol": 0.0}):
        np.testing.assert_array_equal(jnp.isclose(a, b, **kw), np.isclose(a, b, **kw))
    out = jnp.allclose(a[:2], b[:2])
    assert isinstance(out, minijax.Array) and out.dtype == np.bool_ and out.shape == () and bool(out)
    assert not bool(jnp.allclose(a, b)) and bool(jnp.allclose(a[:2], b[:2]))
    assert bool(jnp.array_equal(jnp.arange(3), jnp.arange(3)))
    assert not bool(jnp.array_equal(jnp.arange(3), jnp.arange(4)))
    assert bool(jnp.array_equal(a, a, equal_nan=True)) and not bool(jnp.array_equal(a, a))
    assert bool(jnp.array_equiv(jnp.ones(2), jnp.ones((3, 2))))
    assert not bool(jnp.array_equiv(jnp.ones(2), jnp.ones(3)))
    np.testing.assert_array_equal(jnp.isclose(np.arange(3), np.arange(3)), True)


def test_gcd_lcm_edge_cases():
    x = np.array([12, -8, 0, 0, 7, -21], np.int32)
    y = np.array([18, 12, 5, 0, 13, -14], np.int32)
    np.testing.assert_array_equal(jnp.gcd(x, y), np.gcd(x, y))
    np.testing.assert_array_equal(jnp.lcm(x, y), np.lcm(x, y))
    fib = np.array([1836311903], np.int32), np.array([1134903170], np.int32)  # worst case
    np.testing.assert_array_equal(jnp.gcd(*fib), np.gcd(*fib))
    with pytest.raises(ValueError):
        jnp.gcd(1.0, 2.0)


def test_clip_forms():
    x = np.linspace(-3, 3, 13).astype(np.float32)
    np.testing.assert_array_equal(jnp.clip(x, -1, 2), np.clip(x, -1, 2))
    np.testing.assert_array_equal(jnp.clip(x, max=1.5), np.clip(x, None, 1.5))
    np.testing.assert_array_equal(jnp.clip(x, min=0), np.clip(x, 0, None))
    np.testing.assert_array_equal(jnp.asarray(x).clip(-1, 1), np.clip(x, -1, 1))
    lo, hi = np.full(13, -0.5, np.float32), np.linspace(0, 2, 13).astype(np.float32)
    np.testing.assert_array_equal(jnp.clip(x, lo, hi), np.clip(x, lo, hi))
    with pytest.warns(DeprecationWarning):
        out = jnp.clip(x, a_min=-1, a_max=1)
    np.testing.assert_array_equal(out, np.clip(x, -1, 1))
    assert jnp.clip(jnp.arange(4), 1, 2).dtype == np.int32
    assert jnp.clip(jnp.arange(4), 1, 2.5).dtype == np.float32


def test_where_select_broadcasting_and_dtype():
    c = np.array([[True], [False]])
    x, y = np.arange(3, dtype=np.float32), np.float32(-1)
    out = jnp.where(c, x, y)
    np.testing.assert_array_equal(out, np.where(c, x, y))
    assert out.shape == (2, 3) and out.dtype == np.float32
    out = jnp.where(jnp.array([1, 0, 2]), 1, 2.0)  # nonzero ints are true
    np.testing.assert_array_equal(out, [1.0, 2.0, 1.0])
    assert out.dtype == np.float32 and out.weak_type
    conds = [np.array([True, False, False]), np.array([True, True, False])]
    choices = [np.array([1, 2, 3]), np.array([4, 5, 6])]
    np.testing.assert_array_equal(jnp.select(conds, choices, default=-1),
                                  np.select(conds, choices, default=-1))
    with pytest.raises(ValueError):
        jnp.where(c, x)
    with pytest.raises(ValueError):
        jnp.select([c], [])


def test_where_works_on_tracers():
    f = lambda x: jnp.where(x > 0, x, 0.5 * x)
    np.testing.assert_allclose(minijax.vmap(f)(jnp.array([-2.0, 3.0])), [-1.0, 3.0])
    assert float(minijax.grad(f)(-2.0)) == 0.5
    jaxpr = str(minijax.make_jaxpr(f)(1.0))
    assert "select_n" in jaxpr


def test_complex_parts_and_conjugate():
    z = np.array([1 + 2j, -3.5 - 0.5j], np.complex64)
    for name in ("real", "imag", "conj", "conjugate", "abs", "sign", "sqrt", "exp", "isfinite"):
        assert_matches(getattr(jnp, name)(z), getattr(np, name)(z))
    assert jnp.abs(z).dtype == np.float32 and jnp.real(z).dtype == np.float32
    zz = jnp.asarray(z)
    np.testing.assert_array_equal(zz.real, z.real)
    np.testing.assert_array_equal(zz.imag, z.imag)
    np.testing.assert_array_equal(zz.conj(), z.conj())
    x = jnp.arange(3)
    assert jnp.real(x) is x and jnp.conj(x) is x  # real-input fast paths
    np.testing.assert_array_equal(jnp.imag(x), np.zeros(3, np.int32))


def test_astype():
    x = np.array([-1.7, 0.0, 2.5], np.float32)
    for dtype in (np.int32, np.bool_, np.uint8, np.float16, np.complex64):
        out = jnp.astype(x if dtype != np.uint8 else np.abs(x), dtype)
        assert out.dtype == dtype
        np.testing.assert_array_equal(out, (x if dtype != np.uint8 else np.abs(x)).astype(dtype))
    assert jnp.asarray(x).astype(jnp.int32).dtype == np.int32
    with pytest.warns(np.exceptions.ComplexWarning):
        out = jnp.astype(jnp.array([1.5 + 2j]), jnp.float32)
    np.testing.assert_array_equal(out, [1.5])


def test_every_operator_dispatches():
    a, b = jnp.array([7, -3, 4]), jnp.array([2, 5, -3])
    na, nb = np.asarray(a), np.asarray(b)
    cases = [(a + b, na + nb), (a - b, na - nb), (a * b, na * nb), (a / b, na / nb),
             (a // b, na // nb), (a % b, na % nb), (a ** 2, na ** 2), (a & b, na & nb),
             (a | b, na | nb), (a ^ b, na ^ nb), (a << 2, na << 2), (a >> 1, na >> 1),
             (a == b, na == nb), (a != b, na != nb), (a < b, na < nb), (a <= b, na <= nb),
             (a > b, na > nb), (a >= b, na >= nb), (-a, -na), (+a, +na), (abs(a), abs(na)),
             (~a, ~na), (2 - a, 2 - na), (10 // a, 10 // na), (10 % a, 10 % na), (2 ** abs(a), 2 ** abs(na)),
             (1 << abs(b), 1 << abs(nb)), (64 >> abs(b), 64 >> abs(nb))]
    for got, want in cases:
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6)
    q, r = divmod(a, b)
    np.testing.assert_array_equal(q, na // nb)
    np.testing.assert_array_equal(r, na % nb)
    q, r = divmod(10, a)
    np.testing.assert_array_equal(q, 10 // na)


# ---------------------------------------------------------------------------
# Dtypes: against the documented rules, and against JAX
# ---------------------------------------------------------------------------
def _call(module, name, arity, dtype):
    fn = getattr(module, name)
    x = module.asarray(np.array([1, 0, 2]).astype(dtype))
    return fn(*[x] * arity)


def _dtype_cases():
    for name, (_, _, rule) in UNARY.items():
        yield name, 1, rule
    for name, (_, _, _, rule) in BINARY.items():
        yield name, 2, rule


@pytest.mark.parametrize("name,arity,rule", sorted(_dtype_cases()))
def test_result_dtype_follows_documented_rule(name, arity, rule):
    for dtype in DTYPES:
        if (name, dtype) in REFUSES:
            with pytest.raises(REFUSES[name, dtype]):
                _call(jnp, name, arity, dtype)
            continue
        out = _call(jnp, name, arity, dtype)
        assert out.dtype == rule_dtype(rule, dtype), (name, np.dtype(dtype).name)
        assert not out.weak_type


@pytest.mark.parametrize("name,arity,rule", sorted(_dtype_cases()))
def test_result_dtype_and_values_match_real_jax(real_jax, name, arity, rule):
    if name in NO_JAX_COUNTERPART:
        pytest.skip(f"jax.numpy has no {name}")
    rjnp = real_jax.numpy
    for dtype in JAX_DTYPES:
        try:
            want = _call(rjnp, name, arity, dtype)
        except (TypeError, ValueError) as e:  # JAX refuses: so must we, with the same type
            with pytest.raises(TypeError if isinstance(e, TypeError) else ValueError):
                _call(jnp, name, arity, dtype)
            continue
        got = _call(jnp, name, arity, dtype)
        assert (got.dtype, got.weak_type) == (want.dtype, want.weak_type), (name, np.dtype(dtype).name)
        if np.dtype(want.dtype).kind in "fc":
            np.testing.assert_allclose(np.asarray(got, np.float64 if want.dtype.kind == "f" else None),
                                       np.asarray(want), rtol=2e-3, atol=1e-3, equal_nan=True)
        else:
            np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_mixed_dtype_promotion_matches_lattice():
    i8, u8 = jnp.ones(3, jnp.int8), jnp.ones(3, jnp.uint8)
    f16, f32 = jnp.ones(3, jnp.float16), jnp.ones(3, jnp.float32)
    assert jnp.add(i8, u8).dtype == np.int16
    assert jnp.multiply(i8, f16).dtype == np.float16
    assert jnp.maximum(u8, f32).dtype == np.float32
    assert jnp.true_divide(i8, u8).dtype == np.float32
    assert jnp.floor_divide(i8, u8).dtype == np.int16
    assert jnp.hypot(f16, 2.0).dtype == np.float16
    assert jnp.where(True, i8, 1.5).dtype == np.float32
    out = jnp.add(f32, 1)
    assert out.dtype == np.float32 and not out.weak_type
    out = jnp.sin(2)
    assert out.dtype == np.float32 and out.weak_type


def test_scalar_inputs_give_weakly_typed_arrays():
    for out in (jnp.add(1, 2), jnp.multiply(2, 3), jnp.maximum(1, 5)):
        assert isinstance(out, minijax.Array) and out.dtype == np.int32 and out.weak_type
    assert jnp.divide(1, 2).dtype == np.float32 and float(jnp.divide(1, 2)) == 0.5


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------
ALL_ONE_ARG = sorted(set(UNARY) | set(INT_UNARY))
ALL_TWO_ARG = sorted(set(BINARY) | set(INT_BINARY) | {"divmod"})


@pytest.mark.parametrize("name", ALL_ONE_ARG)
def test_unary_rejects_lists_and_strings(name):
    fn = getattr(jnp, name)
    with pytest.raises(TypeError, match=fn.__name__):  # aliases report the main name
        fn([1.0, 2.0])
    with pytest.raises(TypeError):
        fn("1.0")


@pytest.mark.parametrize("name", ALL_TWO_ARG)
def test_binary_rejects_lists_and_strings(name):
    fn = getattr(jnp, name)
    with pytest.raises(TypeError, match=fn.__name__):  # aliases report the main name
        fn([1, 2], jnp.ones(2, jnp.int32))
    with pytest.raises(TypeError, match=fn.__name__):
        fn(jnp.ones(2, jnp.int32), (1, 2))
    with pytest.raises(TypeError):
        fn("a", 1)


def test_where_and_clip_reject_lists():
    with pytest.raises(TypeError, match="where"):
        jnp.where([True, False], 1, 2)
    with pytest.raises(TypeError, match="clip"):
        jnp.clip([1, 2], 0, 1)


def test_integer_only_functions_reject_floats():
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift"):
        with pytest.raises(TypeError, match=name):
            getattr(jnp, name)(jnp.ones(2), jnp.ones(2))
    with pytest.raises(TypeError, match="bitwise_not"):
        jnp.invert(jnp.ones(2))


def test_incompatible_shapes_raise_value_error():
    with pytest.raises(ValueError, match="broadcast"):
        jnp.add(jnp.ones(2), jnp.ones(3))
    with pytest.raises(ValueError):
        jnp.where(jnp.ones(2, bool), jnp.ones(3), 0.0)


def test_complex_refusals_match_jax_types():
    z = jnp.ones(2, jnp.complex64)
    for name in ("floor", "ceil", "trunc", "fabs", "cbrt"):
        with pytest.raises(TypeError):
            getattr(jnp, name)(z)
    for name in ("floor_divide", "remainder", "fmod", "copysign", "heaviside"):
        with pytest.raises(TypeError):
            getattr(jnp, name)(z, z)
    for fn in (jnp.signbit, jnp.isposinf, jnp.isneginf):
        with pytest.raises(ValueError):
            fn(z)
    with pytest.raises(ValueError):
        jnp.hypot(z, z)
