"""digamma / polygamma primitives and the derivative of lgamma.

Oracles: closed-form values (Euler's gamma, zeta(3), pi), the recurrence and reflection
identities, finite differences of ``math.lgamma`` (the standard library's own lgamma), brute-force
series, ``check_grads``, a Python loop for vmap, and real JAX where installed.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import minijax
import minijax.numpy as jnp
from minijax import lax
from minijax._src.primitives.special import digamma, digamma_p, polygamma
from minijax.test_util import check_grads

EULER_GAMMA = 0.5772156649015329
ZETA3 = 1.2020569031595942


def f64(x):
    return jnp.asarray(np.asarray(x, np.float64))


def values(x, fn=digamma):
    return np.asarray(fn(f64(x)))


def test_known_values(x64):
    np.testing.assert_allclose(values(1.0), -EULER_GAMMA, rtol=1e-15)
    np.testing.assert_allclose(values(0.5), -EULER_GAMMA - 2 * math.log(2), rtol=1e-15)
    # psi(n) = H_{n-1} - gamma
    n = np.arange(2, 40)
    harmonic = np.array([sum(1.0 / k for k in range(1, m)) for m in n])
    np.testing.assert_allclose(values(n.astype(float)), harmonic - EULER_GAMMA, rtol=1e-14)
    # psi(1/4) = -gamma - pi/2 - 3 log 2
    np.testing.assert_allclose(values(0.25), -EULER_GAMMA - math.pi / 2 - 3 * math.log(2),
                               rtol=1e-14)


def test_polygamma_known_values(x64):
    np.testing.assert_allclose(np.asarray(polygamma(1, f64(1.0))), math.pi ** 2 / 6, rtol=1e-14)
    np.testing.assert_allclose(np.asarray(polygamma(1, f64(0.5))), math.pi ** 2 / 2, rtol=1e-14)
    np.testing.assert_allclose(np.asarray(polygamma(2, f64(1.0))), -2 * ZETA3, rtol=1e-14)
    np.testing.assert_allclose(np.asarray(polygamma(3, f64(1.0))), math.pi ** 4 / 15, rtol=1e-14)
    np.testing.assert_allclose(np.asarray(polygamma(0, f64(3.0))), values(3.0), rtol=0)


def test_recurrence_and_reflection_identities(x64):
    rng = np.random.default_rng(0)
    x = rng.uniform(-30, 60, 400)
    x = x[np.abs(x - np.round(x)) > 1e-2]
    np.testing.assert_allclose(values(x + 1), values(x) + 1 / x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(values(1 - x) - values(x), math.pi / np.tan(math.pi * x),
                               rtol=1e-11, atol=1e-11)
    trigamma = lambda v: values(v, lambda a: polygamma(1, a))  # noqa: E731
    np.testing.assert_allclose(trigamma(x) + trigamma(1 - x),
                               math.pi ** 2 / np.sin(math.pi * x) ** 2, rtol=1e-11)


def test_digamma_is_the_derivative_of_math_lgamma(x64):
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(0.05, 60, 200), rng.uniform(-8, 0, 100)])
    x = x[np.abs(x - np.round(x)) > 0.05]
    h = 1e-5
    fd = np.array([(math.lgamma(v + h) - math.lgamma(v - h)) / (2 * h) for v in x])
    np.testing.assert_allclose(values(x), fd, rtol=1e-6, atol=1e-7)


def test_trigamma_against_a_brute_force_series(x64):
    for v in (-19.3, -2.5, 0.01, 0.7, 3.3, 12.0):
        k = np.arange(400000)
        brute = np.sum(1.0 / (v + k) ** 2) + 1 / (v + 400000) + 0.5 / (v + 400000) ** 2
        np.testing.assert_allclose(np.asarray(polygamma(1, f64(v))), brute, rtol=1e-12)


def test_poles_and_non_finite_inputs(x64):
    out = values([0.0, -1.0, -3.0, np.inf, -np.inf, np.nan])
    assert np.isnan(out[[0, 1, 2, 4, 5]]).all() and out[3] == np.inf
    tri = values([0.0, -2.0, np.inf], lambda a: polygamma(1, a))
    assert tri[0] == np.inf and tri[1] == np.inf and tri[2] == 0.0
    assert np.isnan(values([0.0], lambda a: polygamma(2, a))).all()


def test_dtypes_and_weak_types():
    x32 = jnp.asarray(np.array([0.5, 2.0], np.float32))
    assert digamma(x32).dtype == np.float32
    np.testing.assert_allclose(np.asarray(digamma(x32)), [-1.9635100, 0.4227843], rtol=1e-6)
    weak = lax.convert_element_type(np.float32(2.0), np.float32, weak_type=True)
    assert digamma(weak).weak_type and polygamma(1, weak).weak_type
    with pytest.raises(TypeError, match="digamma"):
        digamma(jnp.arange(3))
    with pytest.raises(ValueError, match="order"):
        polygamma(-1, x32)
    with pytest.raises(ValueError, match="order"):
        polygamma(1.5, x32)


def test_lgamma_gradients(x64):
    x = f64([0.3, 1.7, 4.0, 25.0, -0.5])
    check_grads(lax.lgamma, (x,), order=1)
    check_grads(lax.lgamma, (x,), order=2)
    check_grads(digamma, (x,), order=2)
    check_grads(lambda v: polygamma(2, v), (x,), order=1)
    g = minijax.grad(lambda v: jnp.sum(lax.lgamma(v)))(x)
    np.testing.assert_allclose(np.asarray(g), np.asarray(digamma(x)), rtol=1e-15)
    gg = minijax.grad(minijax.grad(lax.lgamma))(f64(3.5))
    np.testing.assert_allclose(float(gg), float(polygamma(1, f64(3.5))), rtol=1e-15)


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x=st.floats(0.01, 1e4))
def test_hypothesis_grad_of_lgamma_matches_finite_differences(x64, x):
    h = 1e-6 * max(1.0, x)
    fd = (math.lgamma(x + h) - math.lgamma(x - h)) / (2 * h)
    np.testing.assert_allclose(float(minijax.grad(lax.lgamma)(f64(x))), fd, rtol=1e-6, atol=1e-6)


def test_vmap_jit_and_jaxpr():
    xs = np.linspace(0.5, 5.0, 12, dtype=np.float32).reshape(3, 4)
    out = minijax.vmap(digamma, in_axes=1)(xs)
    want = np.stack([np.asarray(digamma(jnp.asarray(xs[:, i]))) for i in range(4)])
    np.testing.assert_array_equal(np.asarray(out), want)
    per = minijax.vmap(minijax.grad(lambda v: lax.lgamma(v) * 2.0))(xs[0])
    np.testing.assert_allclose(np.asarray(per), 2 * np.asarray(digamma(jnp.asarray(xs[0]))),
                               rtol=1e-6)
    np.testing.assert_allclose(np.asarray(minijax.jit(lambda v: polygamma(1, v))(xs)),
                               np.asarray(polygamma(1, jnp.asarray(xs))), rtol=1e-6)
    text = str(minijax.make_jaxpr(minijax.grad(lax.lgamma))(np.float32(2.0)))
    assert "digamma" in text
    assert digamma_p.batch is not None


def test_against_real_jax(real_jax, x64):
    real_jax.config.update("jax_enable_x64", True)
    try:
        rng = np.random.default_rng(3)
        x = np.concatenate([rng.uniform(-4.5, 30, 300), 10 ** rng.uniform(-4, 6, 100)])
        x = x[np.abs(x - np.round(x)) > 1e-3]
        sp = real_jax.scipy.special
        np.testing.assert_allclose(values(x), np.asarray(sp.digamma(x)), rtol=1e-12, atol=1e-12)
        # (JAX's polygamma is inaccurate for x < -5, so compare on the range where it is right)
        for n in (1, 2, 3):
            np.testing.assert_allclose(np.asarray(polygamma(n, f64(x))),
                                       np.asarray(sp.polygamma(n, x)), rtol=1e-11)
    finally:
        real_jax.config.update("jax_enable_x64", False)
