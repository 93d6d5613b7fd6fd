"""custom_jvp / custom_vjp: user-supplied derivative rules, checked against closed forms and JAX."""
from __future__ import annotations

from functools import partial

import numpy as np
import pytest

import minijax
import minijax.numpy as jnp
from minijax import lax


def make_softplus(jax_mod, np_):
    """log(1 + e^x): autodiff of the naive formula overflows; the custom rule does not."""
    @jax_mod.custom_jvp
    def softplus(x):
        return np_.log(1.0 + np_.exp(x))

    @softplus.defjvp
    def softplus_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return softplus(x), t / (1.0 + np_.exp(-x))

    return softplus


def test_custom_jvp_rule_is_used_by_grad():
    softplus = make_softplus(minijax, jnp)
    # naive autodiff would give exp(100)/(1+exp(100)) = inf/inf = nan in float32
    assert float(minijax.grad(softplus)(100.0)) == 1.0
    assert float(minijax.grad(softplus)(0.0)) == pytest.approx(0.5)


def test_custom_jvp_matches_jax_grad_of_grad_and_vmap(real_jax):
    ours, theirs = make_softplus(minijax, jnp), make_softplus(real_jax, real_jax.numpy)
    x = np.array([-2.0, 0.5, 3.0], np.float32)
    for transform in (
        lambda j, f, x: j.vmap(j.grad(f))(x),
        lambda j, f, x: j.vmap(j.grad(j.grad(f)))(x),
        lambda j, f, x: j.jacfwd(lambda v: f(v) * 2.0)(x),
        lambda j, f, x: j.jacrev(lambda v: f(v) * 2.0)(x),
    ):
        expected = real_jax.jit(lambda a: transform(real_jax, theirs, a))(x)  # jit: a fast oracle
        np.testing.assert_allclose(np.asarray(transform(minijax, ours, x)), np.asarray(expected),
                                   rtol=1e-6)


def test_custom_jvp_plain_call_runs_the_function():
    softplus = make_softplus(minijax, jnp)
    assert float(softplus(0.0)) == pytest.approx(np.log(2.0))


def test_custom_jvp_rule_output_is_actually_used():
    """A deliberately 'wrong' rule proves the rule, not autodiff of the body, is used."""
    @minijax.custom_jvp
    def f(x):
        return jnp.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        return f(primals[0]), 10.0 * tangents[0]

    assert float(minijax.grad(f)(0.3)) == 10.0
    assert float(minijax.jvp(f, (0.3,), (2.0,))[1]) == 20.0
    _, f_vjp = minijax.vjp(f, 0.3)
    assert float(f_vjp(1.0)[0]) == 10.0


def test_custom_jvp_nondiff_argnums(real_jax):
    def build(j):
        @partial(j.custom_jvp, nondiff_argnums=(0,))
        def apply(fn, x):
            return fn(x)

        @apply.defjvp
        def apply_jvp(fn, primals, tangents):
            (x,), (t,) = primals, tangents
            return apply(fn, x), 2.0 * t
        return apply

    ours = minijax.grad(lambda x: build(minijax)(jnp.sin, x))(1.0)
    theirs = real_jax.grad(lambda x: build(real_jax)(real_jax.numpy.sin, x))(1.0)
    assert float(ours) == float(theirs) == 2.0


def test_custom_jvp_defjvps(real_jax):
    def build(j):
        @j.custom_jvp
        def f(x, y):
            return x * y
        f.defjvps(lambda xd, ans, x, y: 10.0 * xd * y, lambda yd, ans, x, y: 100.0 * x * yd)
        return f

    gx, gy = minijax.grad(build(minijax), argnums=(0, 1))(2.0, 3.0)
    rx, ry = real_jax.grad(build(real_jax), argnums=(0, 1))(2.0, 3.0)
    assert (float(gx), float(gy)) == (float(rx), float(ry)) == (30.0, 200.0)


def test_custom_jvp_pytree_arguments_and_outputs():
    @minijax.custom_jvp
    def f(d):
        return {"s": d["a"] * d["b"], "t": d["a"]}

    @f.defjvp
    def f_jvp(primals, tangents):
        (d,), (t,) = primals, tangents
        return f(d), {"s": t["a"] * d["b"] + d["a"] * t["b"], "t": t["a"]}

    g = minijax.grad(lambda d: f(d)["s"] + f(d)["t"])({"a": 2.0, "b": 5.0})
    assert (float(g["a"]), float(g["b"])) == (6.0, 2.0)


def test_custom_jvp_without_rule_errors():
    f = minijax.custom_jvp(lambda x: x)
    with pytest.raises(AttributeError, match="No JVP defined"):
        f(1.0)


def test_custom_jvp_bad_tangent_structure_errors():
    @minijax.custom_jvp
    def f(x):
        return x, x

    @f.defjvp
    def f_jvp(primals, tangents):
        return f(primals[0]), tangents[0]

    with pytest.raises(TypeError, match="structure"):
        minijax.jvp(f, (1.0,), (1.0,))


# ---------------------------------------------------------------------------
# custom_vjp
# ---------------------------------------------------------------------------
def make_scaled(j, np_):
    """f(x, y) = sin(x) * y, with a bwd that doubles the x-cotangent (so we can see it is used)."""
    @j.custom_vjp
    def f(x, y):
        return np_.sin(x) * y

    def fwd(x, y):
        return f(x, y), {"cos": np_.cos(x), "pair": (np_.sin(x), y)}  # a pytree of residuals

    def bwd(res, g):
        return res["cos"] * res["pair"][1] * g * 2.0, res["pair"][0] * g

    f.defvjp(fwd, bwd)
    return f


def test_custom_vjp_grad_uses_bwd(real_jax):
    ours = minijax.grad(make_scaled(minijax, jnp), argnums=(0, 1))(1.0, 2.0)
    theirs = real_jax.grad(make_scaled(real_jax, real_jax.numpy), argnums=(0, 1))(1.0, 2.0)
    np.testing.assert_allclose([float(v) for v in ours], [float(v) for v in theirs], rtol=1e-6)
    assert float(ours[0]) == pytest.approx(2 * np.cos(1.0) * 2.0, rel=1e-6)


def test_custom_vjp_grad_of_grad_vmap_jacrev(real_jax):
    ours, theirs = make_scaled(minijax, jnp), make_scaled(real_jax, real_jax.numpy)
    x, y = np.array([0.5, 1.5], np.float32), np.array([2.0, -1.0], np.float32)
    for transform in (
        lambda j, f, x, y: j.grad(j.grad(f))(x[0], y[0]),
        lambda j, f, x, y: j.vmap(j.grad(f))(x, y),
        lambda j, f, x, y: j.jacrev(f)(x, y),
        lambda j, f, x, y: j.grad(lambda a: j.numpy.sum(j.vmap(f)(a, y)))(x),
    ):
        expected = real_jax.jit(lambda a, b: transform(real_jax, theirs, a, b))(x, y)
        np.testing.assert_allclose(np.asarray(transform(minijax, ours, x, y)),
                                   np.asarray(expected), rtol=1e-5)


def test_custom_vjp_forward_mode_is_an_error():
    f = make_scaled(minijax, jnp)
    with pytest.raises(TypeError, match="custom_vjp"):
        minijax.jvp(f, (1.0, 2.0), (1.0, 1.0))


def test_custom_vjp_plain_call_and_make_jaxpr():
    f = make_scaled(minijax, jnp)
    assert float(f(1.0, 2.0)) == pytest.approx(np.sin(1.0) * 2.0, rel=1e-6)
    text = str(minijax.make_jaxpr(f)(1.0, 2.0))
    assert "sin" in text


def test_custom_vjp_nondiff_argnums(real_jax):
    def build(j):
        @partial(j.custom_vjp, nondiff_argnums=(0,))
        def f(k, x):
            return x * k

        def fwd(k, x):
            return f(k, x), None

        def bwd(k, res, g):
            return (g * k * 3,)

        f.defvjp(fwd, bwd)
        return f

    ours = minijax.grad(lambda x: build(minijax)(2.0, x))(1.0)
    theirs = real_jax.grad(lambda x: build(real_jax)(2.0, x))(1.0)
    assert float(ours) == float(theirs) == 6.0


def test_custom_vjp_gradient_clipping():
    @minijax.custom_vjp
    def clip_gradient(x):
        return x

    def fwd(x):
        return x, None

    def bwd(_, g):
        return (lax.max(lax.min(g, 1.0), -1.0),)

    clip_gradient.defvjp(fwd, bwd)
    assert float(minijax.grad(lambda x: clip_gradient(x) * 5.0)(1.0)) == 1.0
    assert float(minijax.grad(lambda x: clip_gradient(x) * 0.5)(1.0)) == 0.5


def test_custom_vjp_bwd_must_return_tuple():
    f = minijax.custom_vjp(lambda x: x)
    f.defvjp(lambda x: (x, None), lambda res, g: g)
    with pytest.raises(TypeError, match="tuple"):
        minijax.grad(f)(1.0)


def test_custom_vjp_without_rule_errors():
    f = minijax.custom_vjp(lambda x: x)
    with pytest.raises(AttributeError, match="No VJP defined"):
        f(1.0)


def test_custom_rules_survive_grad_of_vmap():
    """vmap sits above grad here, so vmap must hand the rule down instead of inlining the body."""
    softplus = make_softplus(minijax, jnp)
    g = minijax.grad(lambda x: jnp.sum(minijax.vmap(softplus)(x)))(jnp.array([100.0, 0.0]))
    np.testing.assert_allclose(np.asarray(g), [1.0, 0.5], rtol=1e-6)
    scaled = make_scaled(minijax, jnp)
    y = jnp.array([2.0, -1.0])
    g = minijax.grad(lambda x: jnp.sum(minijax.vmap(scaled)(x, y)))(jnp.array([0.5, 1.5]))
    np.testing.assert_allclose(np.asarray(g), 2 * np.cos([0.5, 1.5]) * np.array([2.0, -1.0]),
                               rtol=1e-6)
    # an unbatched argument collects the sum of the per-example cotangents
    gy = minijax.grad(lambda b: jnp.sum(minijax.vmap(scaled, in_axes=(0, None))(
        jnp.array([0.5, 1.5]), b)))(3.0)
    assert float(gy) == pytest.approx(np.sin(0.5) + np.sin(1.5), rel=1e-6)
