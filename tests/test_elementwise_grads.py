"""Derivatives and batching of the elementwise primitives and the jnp functions built on them.

* ``check_grads(f, args, order=2)`` (finite differences + the transpose identity, twice
  nested, so grad-of-grad is exercised) under 64-bit mode, at points inside each domain;
* special points that finite differences cannot see: ties in max/min/clip, where, zero
  derivatives of piecewise-constant functions;
* ``jax.grad`` values against real JAX when installed;
* ``vmap`` against a Python loop + stack, with batched and unbatched operands.
"""
from __future__ import annotations

import numpy as np
import pytest

import minijax
import minijax.numpy as jnp
from minijax import lax
from minijax._src.primitives import elementwise as ew
from minijax.test_util import check_grads

RNG = np.random.default_rng(0)


def points(lo, hi, n=4):
    return np.random.default_rng(int(1000 * (hi - lo)) % 97).uniform(lo, hi, n)


# Every differentiable unary primitive, with a domain where it is smooth.
UNARY_PRIMS = {
    "exp": (ew.exp, -2, 2), "exp2": (ew.exp2, -2, 2), "log": (ew.log, 0.2, 3),
    "log1p": (ew.log1p, -0.5, 3), "expm1": (ew.expm1, -2, 2), "sin": (ew.sin, -3, 3),
    "cos": (ew.cos, -3, 3), "tan": (ew.tan, -1.2, 1.2), "asin": (ew.asin, -0.9, 0.9),
    "acos": (ew.acos, -0.9, 0.9), "atan": (ew.atan, -3, 3), "sinh": (ew.sinh, -2, 2),
    "cosh": (ew.cosh, -2, 2), "tanh": (ew.tanh, -2, 2), "asinh": (ew.asinh, -3, 3),
    "acosh": (ew.acosh, 1.2, 4), "atanh": (ew.atanh, -0.9, 0.9), "sqrt": (ew.sqrt, 0.2, 4),
    "rsqrt": (ew.rsqrt, 0.2, 4), "cbrt": (ew.cbrt, 0.2, 4), "logistic": (ew.logistic, -4, 4),
    "erf": (ew.erf, -2, 2), "erfc": (ew.erfc, -2, 2), "erf_inv": (ew.erf_inv, -0.9, 0.9),
    "abs": (ew.abs, 0.2, 3), "abs_neg": (ew.abs, -3, -0.2), "square": (ew.square, -3, 3),
    "neg": (ew.neg, -3, 3), "integer_pow3": (lambda x: ew.integer_pow(x, 3), -2, 2),
    "integer_pow-2": (lambda x: ew.integer_pow(x, -2), 0.5, 2),
    "convert": (lambda x: ew.convert_element_type(x, np.float32), -2, 2),
}

BINARY_PRIMS = {
    "add": (ew.add, (-3, 3), (-3, 3)), "sub": (ew.sub, (-3, 3), (-3, 3)),
    "mul": (ew.mul, (-3, 3), (-3, 3)), "div": (ew.div, (-3, 3), (0.5, 3)),
    "rem": (ew.rem, (2.1, 2.9), (1.0, 1.05)), "pow": (ew.pow, (0.5, 3), (-2, 2)),
    "max": (ew.max, (-3, -1), (1, 3)), "min": (ew.min, (-3, -1), (1, 3)),
    "atan2": (ew.atan2, (-3, 3), (0.5, 3)),
}


@pytest.mark.parametrize("name", sorted(UNARY_PRIMS))
def test_unary_primitive_derivatives(x64, name):
    fn, lo, hi = UNARY_PRIMS[name]
    tol = 2e-3 if name == "convert" else None  # float32 values: finite differences are coarse
    check_grads(fn, (points(lo, hi),), order=2, atol=tol, rtol=tol)


@pytest.mark.parametrize("name", sorted(BINARY_PRIMS))
def test_binary_primitive_derivatives(x64, name):
    fn, (lo1, hi1), (lo2, hi2) = BINARY_PRIMS[name]
    check_grads(fn, (points(lo1, hi1), points(lo2, hi2)[::-1].copy()), order=2)
    # and with a rank-0 operand, which the primitive broadcasts (tests unbroadcast)
    check_grads(lambda x: fn(x, np.float64(points(lo2, hi2)[0])), (points(lo1, hi1),), order=2)
    check_grads(lambda y: fn(np.float64(points(lo1, hi1)[0]), y), (points(lo2, hi2),), order=2)


def test_select_n_and_complex_parts_derivatives(x64):
    which = np.array([True, False, True, False])
    check_grads(lambda x, y: ew.select_n(which, x, y), (points(-1, 1), points(2, 3)), order=2)
    # complex, real, imag, conj, abs of a complex: a real-valued chain through complex values
    f = lambda x, y: ew.real(ew.mul(ew.complex(x, y), ew.conj(ew.complex(y, x))))
    check_grads(f, (points(-1, 1), points(-2, 2)), order=2)
    g = lambda x, y: ew.add(ew.abs(ew.complex(x, y)), ew.imag(ew.complex(ew.mul(x, y), x)))
    check_grads(g, (points(0.5, 1), points(-2, -1)), order=2)


# jnp functions composed of several primitives.
JNP_UNARY = {
    "log2": (jnp.log2, 0.2, 3), "log10": (jnp.log10, 0.2, 3), "reciprocal": (jnp.reciprocal, 0.5, 3),
    "deg2rad": (jnp.deg2rad, -90, 90), "rad2deg": (jnp.rad2deg, -2, 2), "sinc": (jnp.sinc, 0.1, 0.9),
    "sinc_neg": (jnp.sinc, -1.7, -1.1), "fabs": (jnp.fabs, -3, -0.2), "cbrt": (jnp.cbrt, -3, -0.2),
    "nan_to_num": (jnp.nan_to_num, -3, 3), "square": (jnp.square, -3, 3),
    "power_int": (lambda x: jnp.power(x, 3), -2, 2), "power_float": (lambda x: x ** 2.5, 0.3, 2),
    "float_power": (lambda x: jnp.float_power(x, 1.5), 0.3, 2),
    "pow_negative_base": (lambda x: x ** 2.0, -2, -0.5),
    "clip_inside": (lambda x: jnp.clip(x, -5.0, 5.0), -3, 3),
    "where": (lambda x: jnp.where(x > 0, jnp.sin(x), x ** 2), -2, 2),
    "copysign": (lambda x: jnp.copysign(x, -1.0), 0.5, 2),
    "real_imag": (lambda x: jnp.real(x) + jnp.imag(x) + jnp.conj(x), -2, 2),
}

JNP_BINARY = {
    "logaddexp": (jnp.logaddexp, (-3, 3), (-3, 3)), "logaddexp2": (jnp.logaddexp2, (-3, 3), (-3, 3)),
    "hypot": (jnp.hypot, (-3, 3), (-3, 3)), "arctan2": (jnp.arctan2, (-3, 3), (0.5, 3)),
    "true_divide": (jnp.true_divide, (-3, 3), (0.5, 3)), "remainder": (jnp.remainder, (2.1, 2.9), (1.0, 1.05)),
    "fmod": (jnp.fmod, (-2.9, -2.1), (1.0, 1.05)), "power": (jnp.power, (0.5, 3), (-2, 2)),
    "maximum": (jnp.maximum, (-3, -1), (1, 3)), "fmin": (jnp.fmin, (-3, -1), (1, 3)),
    "clip_bounds": (lambda lo, hi: jnp.clip(jnp.zeros(4), lo, hi), (-3, -1), (1, 3)),
}


@pytest.mark.parametrize("name", sorted(JNP_UNARY))
def test_jnp_unary_derivatives(x64, name):
    fn, lo, hi = JNP_UNARY[name]
    check_grads(fn, (points(lo, hi),), order=2)


@pytest.mark.parametrize("name", sorted(JNP_BINARY))
def test_jnp_binary_derivatives(x64, name):
    fn, (lo1, hi1), (lo2, hi2) = JNP_BINARY[name]
    check_grads(fn, (points(lo1, hi1), points(lo2, hi2)[::-1].copy()), order=2)


def test_hypot_derivatives_at_equal_magnitudes(x64):
    # max(|x|, |y|) has a kink where |x| == |y|; hypot itself is smooth there.
    x = np.array([0.5, -1.0, 2.0])
    check_grads(jnp.hypot, (x, -x), order=2)
    check_grads(jnp.hypot, (x, x), order=2)


def test_hypot_at_a_tie_against_real_jax_and_the_exact_second_derivative(real_jax):
    f = lambda j: (lambda x: j.hypot(x, 1.5))
    np.testing.assert_allclose(float(minijax.grad(f(jnp))(1.5)), float(real_jax.grad(f(real_jax.numpy))(1.5)),
                               rtol=1e-6)
    # d2/dx2 sqrt(x^2 + y^2) = y^2 / r^3. JAX's own hypot gets ~0 here (its max() kink leaks
    # into the second derivative); minijax's stop_gradient'ed scale does not.
    r = np.hypot(1.5, 1.5)
    np.testing.assert_allclose(float(minijax.grad(minijax.grad(f(jnp)))(1.5)), 1.5 ** 2 / r ** 3, rtol=1e-5)


def test_logaddexp_derivatives_at_ties(x64):
    x = np.array([0.5, -1.0, 2.0])
    check_grads(jnp.logaddexp, (x, x.copy()), order=2)
    assert float(minijax.grad(jnp.logaddexp)(1.0, 1.0)) == pytest.approx(0.5)


def test_maximum_minimum_ties_split_the_gradient():
    g = minijax.grad(jnp.maximum, argnums=(0, 1))(2.0, 2.0)
    assert [float(v) for v in g] == [0.5, 0.5]
    g = minijax.grad(jnp.minimum, argnums=(0, 1))(2.0, 2.0)
    assert [float(v) for v in g] == [0.5, 0.5]
    assert float(minijax.grad(jnp.maximum)(3.0, 2.0)) == 1.0
    assert float(minijax.grad(jnp.maximum)(1.0, 2.0)) == 0.0


def test_clip_gradient_inside_outside_and_on_bounds():
    f = lambda x: jnp.clip(x, -1.0, 1.0)
    grads = minijax.vmap(minijax.grad(f))(jnp.array([-2.0, -1.0, 0.0, 1.0, 2.0]))
    np.testing.assert_array_equal(grads, [0.0, 0.5, 1.0, 0.5, 0.0])


def test_where_routes_gradient_to_the_chosen_branch():
    f = lambda x, y: jnp.sum(jnp.where(x > 0, x * y, y ** 2))
    gx, gy = minijax.grad(f, argnums=(0, 1))(jnp.array([1.0, -1.0]), jnp.array([3.0, 4.0]))
    np.testing.assert_array_equal(gx, [3.0, 0.0])
    np.testing.assert_array_equal(gy, [1.0, 8.0])
    # the "double where" trick keeps nan out of the gradient of an unsafe branch
    safe_log = lambda x: jnp.where(x > 0, jnp.log(jnp.where(x > 0, x, 1.0)), 0.0)
    assert float(minijax.grad(safe_log)(0.0)) == 0.0
    assert float(minijax.grad(safe_log)(2.0)) == 0.5


ZERO_DERIVATIVE = {
    "floor": jnp.floor, "ceil": jnp.ceil, "round": jnp.round, "rint": jnp.rint, "trunc": jnp.trunc,
    "sign": jnp.sign, "heaviside": lambda x: jnp.heaviside(x, 0.5),
    "floor_divide": lambda x: jnp.floor_divide(x, 0.7), "stop_gradient": lax.stop_gradient,
    "astype_int": lambda x: jnp.astype(x, jnp.int32).astype(jnp.float32),
    "comparison": lambda x: jnp.where(x > 0.5, 1.0, 0.0), "isfinite": lambda x: 1.0 * jnp.isfinite(x),
    "nextafter": lambda x: jnp.nextafter(x, 10.0) - x,
}


@pytest.mark.parametrize("name", sorted(ZERO_DERIVATIVE))
def test_piecewise_constant_functions_have_zero_derivative(name):
    fn = ZERO_DERIVATIVE[name]
    xs = jnp.array([-1.3, 0.2, 1.7, 2.4])
    g = minijax.vmap(minijax.grad(lambda x: jnp.sum(fn(x))))(xs)
    expected = -1.0 if name == "nextafter" else 0.0  # nextafter(x) - x: only the "- x" counts
    np.testing.assert_array_equal(g, np.full(4, expected, np.float32))
    _, tangent = minijax.jvp(fn, (xs,), (jnp.ones(4),))
    np.testing.assert_array_equal(np.asarray(tangent), np.full(4, expected))


def test_remainder_derivative_is_one_in_x():
    g = minijax.vmap(minijax.grad(lambda x: jnp.remainder(x, 1.5)))(jnp.array([-2.0, 0.3, 4.0]))
    np.testing.assert_allclose(g, [1.0, 1.0, 1.0])


def test_derivative_of_square_with_float_exponent_at_negative_base():
    # d/dx x**2.0 at x < 0 must not be nan (the exponent's own term is multiplied by 0)
    assert float(minijax.grad(lambda x: x ** 2.0)(-1.5)) == -3.0
    assert float(minijax.grad(lambda x: jnp.power(x, 0.0))(0.0)) == 0.0


# ---------------------------------------------------------------------------
# Against real JAX
# ---------------------------------------------------------------------------
GRAD_ORACLE = [
    ("exp", lambda j: j.exp, 0.7), ("log1p", lambda j: j.log1p, 0.7), ("arcsin", lambda j: j.arcsin, 0.3),
    ("arccosh", lambda j: j.arccosh, 1.7), ("tan", lambda j: j.tan, 0.4), ("sinc", lambda j: j.sinc, 0.3),
    ("cbrt", lambda j: j.cbrt, 2.0), ("log10", lambda j: j.log10, 2.0), ("abs", lambda j: j.abs, -1.5),
    ("logaddexp", lambda j: (lambda x: j.logaddexp(x, 0.3)), 1.1),
    ("logaddexp_tie", lambda j: (lambda x: j.logaddexp(x, 1.1)), 1.1),
    ("hypot", lambda j: (lambda x: j.hypot(x, -2.0)), 1.5),

    ("arctan2", lambda j: (lambda x: j.arctan2(x, 0.4)), -1.1),
    ("power", lambda j: (lambda x: j.power(x, 2.5)), 1.3),
    ("power_exp", lambda j: (lambda y: j.power(1.7, y)), 0.6),
    ("maximum_tie", lambda j: (lambda x: j.maximum(x, 1.0)), 1.0),
    ("clip_edge", lambda j: (lambda x: j.clip(x, 0.0, 1.0)), 1.0),
    ("where", lambda j: (lambda x: j.where(x > 1, j.sin(x), j.cos(x))), 0.5),
    ("remainder", lambda j: (lambda x: j.remainder(x, 0.7)), 2.2),
    ("copysign", lambda j: (lambda x: j.copysign(x, -1.0)), 1.2),
    ("deg2rad", lambda j: j.deg2rad, 30.0), ("floor", lambda j: j.floor, 1.5),
]


@pytest.mark.parametrize("name,make,x", GRAD_ORACLE, ids=[c[0] for c in GRAD_ORACLE])
def test_grad_and_second_derivative_match_real_jax(real_jax, name, make, x):
    ours_f, theirs_f = make(jnp), make(real_jax.numpy)
    np.testing.assert_allclose(float(minijax.grad(ours_f)(x)), float(real_jax.grad(theirs_f)(x)),
                               rtol=1e-5, atol=1e-6)
    if name not in ("sinc",):  # JAX uses a special rule for sinc; away from 0 it agrees anyway
        np.testing.assert_allclose(float(minijax.grad(minijax.grad(ours_f))(x)),
                                   float(real_jax.grad(real_jax.grad(theirs_f))(x)), rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------
# vmap against a Python loop
# ---------------------------------------------------------------------------
def loop(f, in_axes, *args):
    """The meaning of vmap: slice each mapped argument, call f, stack the results on axis 0."""
    size = next(np.shape(a)[ax] for a, ax in zip(args, in_axes) if ax is not None)
    outs = [f(*[a if ax is None else np.take(a, i, axis=ax) for a, ax in zip(args, in_axes)])
            for i in range(size)]
    return np.stack([np.asarray(o) for o in outs])


X = RNG.uniform(0.5, 2.0, (3, 4)).astype(np.float32)
Y = RNG.uniform(-2.0, 2.0, (4, 3)).astype(np.float32)
V = RNG.uniform(-1.0, 1.0, (4,)).astype(np.float32)

VMAP_CASES = [
    ("sin", jnp.sin, (0,), (X,)),
    ("log_axis1", jnp.log, (1,), (X,)),
    ("add_both", jnp.add, (0, 1), (X, Y)),
    ("multiply_unbatched_array", jnp.multiply, (0, None), (X, V)),
    ("subtract_unbatched_scalar", jnp.subtract, (None, 0), (np.float32(1.5), X)),
    ("hypot", jnp.hypot, (1, 0), (X, Y)),
    ("logaddexp_unbatched", jnp.logaddexp, (None, 1), (V, Y)),
    ("power_int_exponent", lambda x: jnp.power(x, 3), (0,), (X,)),
    ("floor_divide_ints", jnp.floor_divide, (0, None), (np.arange(-6, 6).reshape(3, 4), np.int32(4))),
    ("where", jnp.where, (0, 1, None), (X > 1, Y, V)),
    ("clip", lambda x, lo: jnp.clip(x, lo, 1.5), (0, None), (X, np.float32(0.8))),
    ("maximum_scalar_batched", jnp.maximum, (0, None), (V, X[0])),
    ("isclose", jnp.isclose, (0, 0), (X, X + 1e-7)),
    ("copysign", jnp.copysign, (1, None), (Y, V[:4])),
    ("arctan2", jnp.arctan2, (0, 0), (X, X[::-1])),
]


@pytest.mark.parametrize("name,f,in_axes,args", VMAP_CASES, ids=[c[0] for c in VMAP_CASES])
def test_vmap_matches_python_loop(name, f, in_axes, args):
    out = minijax.vmap(f, in_axes=in_axes)(*args)
    expected = loop(f, in_axes, *args)
    assert out.shape == expected.shape and out.dtype == expected.dtype
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-6)


def test_vmap_of_grad_of_elementwise_function():
    f = lambda x: jnp.logaddexp(jnp.sin(x), x ** 2)
    xs = jnp.asarray(V)
    out = minijax.vmap(minijax.grad(f))(xs)
    expected = loop(minijax.grad(f), (0,), V)
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-6)
