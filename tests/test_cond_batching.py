"""vmap of ``lax.cond`` / ``lax.switch``: only outputs that depend on the batch are batched.

With an unbatched predicate the same branch runs for every example, so an output that only
sees unbatched operands must stay unbatched. ``jacfwd`` relies on this: it is a vmap of a JVP
that returns the primal output with ``out_axes=None``, so ``jacrev(jacfwd(f))`` (and any vmap
with ``out_axes=None``) of a function with a cond used to fail with "vmap has mapped output
but out_axes is None". With a batched predicate every branch runs and a select picks one per
example; the branches' operands are masked too, so an untaken branch's infinite derivative
(``sqrt`` of a negative number) does not turn gradients into NaN.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minijax
import minijax.numpy as jnp
from minijax import lax
from minijax.test_util import check_grads

C = np.array([0.5, -1.5, 2.0])


# Each builder takes (lax, jnp) so the same function runs on minijax and on real JAX.
def _cond_on_x(lax, jnp):
    """Predicate computed from x (unbatched inside hessian's vmaps: it is a primal)."""
    return lambda x: lax.cond(x[0] > 0, lambda x: jnp.sum(jnp.sin(x) * x * C),
                              lambda x: jnp.sum(x ** 3) + jnp.prod(x), x)


def _switch_on_argmax(lax, jnp):
    """Three branches, index from argmax; branches close over the constant C and over x."""
    def f(x):
        i = jnp.argmax(x)
        return lax.switch(i, [lambda y: jnp.sum(jnp.exp(y) * C),
                              lambda y: jnp.sum(y * y * jnp.cos(x)),
                              lambda y: jnp.tanh(y[0] * y[1]) + jnp.sum(y)], x * 2.0)
    return f


def _cond_feeds_switch(lax, jnp):
    """A cond's value and a cond's integer result (used as a switch index) chained."""
    def f(x):
        y = lax.cond(x[0] > 0, lambda x: x * 2.0 + 1.0, lambda x: x * x, x)
        i = lax.cond(x[1] > 0, lambda x: jnp.int32(0), lambda x: jnp.int32(2), x)
        return lax.switch(i, [lambda y: jnp.sum(y ** 2), lambda y: jnp.sum(jnp.exp(y)),
                              lambda y: jnp.sum(jnp.sin(y) * y)], y)
    return f


def _cond_in_scan(lax, jnp):
    def f(x):
        def body(c, xi):
            c = lax.cond(xi > 0, lambda c: c * xi, lambda c: c + jnp.sin(xi) * c, c)
            return c, c * c
        c, ys = lax.scan(body, 1.0, x)
        return c + jnp.sum(ys)
    return f


def _cond_two_outputs(lax, jnp):
    """Outputs of different sensitivity: one from x, one from x only through the other op."""
    def f(x):
        a, b = lax.cond(x[2] > 0, lambda x, y: (jnp.sin(x), jnp.sum(y * y)),
                        lambda x, y: (x * y, jnp.sum(jnp.cos(y))), x, x[::-1] * 0.5)
        return jnp.sum(a * a) + b
    return f


FUNS = {f.__name__.lstrip("_"): f for f in
        (_cond_on_x, _switch_on_argmax, _cond_feeds_switch, _cond_in_scan, _cond_two_outputs)}
# Points chosen so that every function visits more than one of its branches, away from the
# places where the branch choice changes (finite differences must not straddle them).
POINTS = [np.array([0.3, -0.7, 1.2]), np.array([-0.4, 0.9, -0.6]), np.array([0.8, 1.1, 0.2])]


def _as_f32(x):
    return np.asarray(x, np.float32)


# ---------------------------------------------------------------------------
# Second derivatives: every composition of forward and reverse mode against real JAX
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name,how", [(n, h) for n in sorted(FUNS)
                                      for h in ("hessian", "jacrev_jacfwd")]
                         + [("cond_on_x", "jacfwd_jacfwd"), ("cond_feeds_switch", "jacfwd_jacfwd")])
def test_second_derivatives_match_real_jax(real_jax, name, how):
    def compose(mod, f):
        return {"hessian": mod.hessian, "jacrev_jacfwd": lambda g: mod.jacrev(mod.jacfwd(g)),
                "jacfwd_jacfwd": lambda g: mod.jacfwd(mod.jacfwd(g))}[how](f)

    ours = compose(minijax, FUNS[name](lax, jnp))
    theirs = compose(real_jax, FUNS[name](real_jax.lax, real_jax.numpy))
    for x in POINTS[1:]:
        want = np.asarray(theirs(_as_f32(x)))
        got = ours(_as_f32(x))
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(np.asarray(got), want, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("name", sorted(FUNS))
def test_gradients_against_finite_differences(x64, name):
    f = FUNS[name](lax, jnp)
    for x in POINTS[:2]:
        check_grads(f, (x,), order=2)


@pytest.mark.parametrize("name,how", [("cond_on_x", "hessian"), ("switch_on_argmax", "hessian"),
                                      ("cond_two_outputs", "jacrev_jacfwd")])
def test_jit_of_second_derivatives_equals_eager(name, how):
    f = FUNS[name](lax, jnp)
    x = _as_f32(POINTS[1])
    d2 = minijax.hessian(f) if how == "hessian" else minijax.jacrev(minijax.jacfwd(f))
    np.testing.assert_allclose(np.asarray(minijax.jit(d2)(x)), np.asarray(d2(x)),
                               rtol=1e-5, atol=1e-6)
    # and differentiating a jitted function (predicate without a concrete value inside jit)
    np.testing.assert_allclose(np.asarray(minijax.hessian(minijax.jit(f))(x)),
                               np.asarray(minijax.hessian(f)(x)), rtol=1e-5, atol=1e-6)


def test_per_example_hessians_with_a_batched_predicate(real_jax):
    """vmap(hessian(f)): the predicate x[0] > 0 differs per example."""
    xs = _as_f32(np.stack(POINTS))
    ours = minijax.vmap(minijax.hessian(FUNS["cond_on_x"](lax, jnp)))(xs)
    loop = np.stack([np.asarray(minijax.hessian(FUNS["cond_on_x"](lax, jnp))(x)) for x in xs])
    theirs = real_jax.vmap(real_jax.hessian(FUNS["cond_on_x"](real_jax.lax, real_jax.numpy)))(xs)
    np.testing.assert_allclose(np.asarray(ours), loop, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=2e-4, atol=2e-5)


# ---------------------------------------------------------------------------
# vmap(..., out_axes=None) of outputs that do not depend on the batch
# ---------------------------------------------------------------------------
def _two_way(lax, jnp):
    """First output depends on the batched ``a``; the second only on the unbatched ``b``."""
    return lambda a, b: lax.cond(b[0] > 0, lambda a, b: (a * 2.0 + b[1], jnp.sin(b) + 1.0),
                                 lambda a, b: (a - b[0], b * b), a, b)


def _three_way(lax, jnp):
    return lambda i, a, b: lax.switch(i, [lambda a, b: (a * C, b + 1.0, b),
                                          lambda a, b: (a + C, jnp.exp(b), b),
                                          lambda a, b: (jnp.sin(a), b * 3.0, b)], a, b)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_out_axes_none_for_an_unbatched_cond_output(real_jax, sign):
    a = _as_f32(np.arange(4.0) - 1.5)
    b = _as_f32(sign * np.array([0.7, 0.2]))
    kw = dict(in_axes=(0, None), out_axes=(0, None))
    ours = minijax.vmap(_two_way(lax, jnp), **kw)(a, b)
    theirs = real_jax.vmap(_two_way(real_jax.lax, real_jax.numpy), **kw)(a, b)
    loop = [_two_way(lax, jnp)(ai, b) for ai in a]
    assert ours[1].shape == (2,)
    np.testing.assert_allclose(np.asarray(ours[0]), np.stack([np.asarray(o[0]) for o in loop]),
                               rtol=1e-6)
    np.testing.assert_allclose(np.asarray(ours[1]), np.asarray(loop[0][1]), rtol=1e-6)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(o), np.asarray(t), rtol=1e-6)
    jitted = minijax.jit(minijax.vmap(_two_way(lax, jnp), **kw))(a, b)
    for o, j in zip(ours, jitted):
        np.testing.assert_allclose(np.asarray(j), np.asarray(o), rtol=1e-6)


@pytest.mark.parametrize("index", [0, 1, 2, 7])
def test_out_axes_none_for_unbatched_switch_outputs(real_jax, index):
    a = _as_f32(np.arange(12.0).reshape(4, 3) / 5)
    b = _as_f32([0.3, -0.2])
    kw = dict(in_axes=(None, 0, None), out_axes=(0, None, None))
    ours = minijax.vmap(_three_way(lax, jnp), **kw)(index, a, b)
    theirs = real_jax.vmap(_three_way(real_jax.lax, real_jax.numpy), **kw)(index, a, b)
    assert [o.shape for o in ours] == [(4, 3), (2,), (2,)]
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(o), np.asarray(t), rtol=1e-6)
    jitted = minijax.jit(minijax.vmap(_three_way(lax, jnp), **kw), static_argnums=0)(index, a, b)
    for o, j in zip(ours, jitted):
        np.testing.assert_allclose(np.asarray(j), np.asarray(o), rtol=1e-6)


def test_batched_index_keeps_an_operand_every_branch_returns_unbatched(real_jax):
    """All branches return ``b`` unchanged, so it does not vary even with a batched index."""
    idx = np.array([0, 1, 2, 5, -3], np.int32)
    a = _as_f32(np.arange(15.0).reshape(5, 3) / 7)
    b = _as_f32([0.3, -0.2])
    kw = dict(in_axes=(0, 0, None), out_axes=(0, 0, None))
    ours = minijax.vmap(_three_way(lax, jnp), **kw)(idx, a, b)
    theirs = real_jax.vmap(_three_way(real_jax.lax, real_jax.numpy), **kw)(idx, a, b)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(o), np.asarray(t), rtol=1e-6)


def test_out_axes_none_still_rejects_an_output_one_branch_batches(real_jax):
    """In the true branch the output reads the batched ``a``: it is batched, whichever runs."""
    def f(lax, jnp):
        return lambda a, b: lax.cond(b > 0, lambda a, b: a + b, lambda a, b: b * 2.0, a, b)
    a, b = _as_f32(np.arange(3.0)), np.float32(-1.0)   # the false branch runs
    with pytest.raises(ValueError):
        real_jax.vmap(f(real_jax.lax, real_jax.numpy), in_axes=(0, None), out_axes=None)(a, b)
    with pytest.raises(ValueError, match="out_axes is None"):
        minijax.vmap(f(lax, jnp), in_axes=(0, None), out_axes=None)(a, b)
    out = minijax.vmap(f(lax, jnp), in_axes=(0, None))(a, b)
    np.testing.assert_allclose(np.asarray(out), np.full(3, -2.0, np.float32))


def test_unbatched_predicate_stays_one_cond_and_leaves_unbatched_outputs_alone():
    a = _as_f32(np.arange(4.0))
    b = _as_f32([0.7, 0.2])
    jaxpr = minijax.make_jaxpr(minijax.vmap(_two_way(lax, jnp), in_axes=(0, None)))(a, b)
    conds = [e for e in jaxpr.eqns if e.primitive.name == "cond"]
    assert len(conds) == 1
    assert [v.aval.shape for v in conds[0].outputs] == [(4,), (2,)]   # b's output: no batch axis


# ---------------------------------------------------------------------------
# Batched predicate: a per-example branch choice
# ---------------------------------------------------------------------------
def _per_example(p, x, w):
    return lax.cond(p, lambda x, w: (jnp.exp(x) * w, jnp.sum(x)),
                    lambda x, w: (-x + w, jnp.float32(0.0)), x, w)


@settings(max_examples=15, deadline=None, derandomize=True)
@given(st.lists(st.booleans(), min_size=1, max_size=5), st.booleans())
def test_batched_predicate_matches_a_python_loop(preds, batch_w):
    n = len(preds)
    p = np.array(preds)
    x = _as_f32(np.linspace(-1, 1, 3 * n).reshape(n, 3))
    w = _as_f32(np.linspace(0.5, 2, 3 * n).reshape(n, 3)) if batch_w else _as_f32([1., 2., 3.])
    in_axes = (0, 0, 0 if batch_w else None)
    ours = minijax.vmap(_per_example, in_axes=in_axes)(p, x, w)
    loop = [_per_example(p[i], x[i], w[i] if batch_w else w) for i in range(n)]
    for k in range(2):
        want = np.stack([np.asarray(o[k]) for o in loop])
        assert ours[k].shape == want.shape and ours[k].dtype == want.dtype
        np.testing.assert_allclose(np.asarray(ours[k]), want, rtol=1e-6)


@settings(max_examples=15, deadline=None, derandomize=True)
@given(st.lists(st.integers(-2, 5), min_size=1, max_size=6))
def test_batched_switch_index_matches_a_python_loop(indices):
    idx = np.array(indices, np.int32)
    a = _as_f32(np.linspace(-1, 1, 3 * len(idx)).reshape(len(idx), 3))
    b = _as_f32([0.3, -0.2])
    f = _three_way(lax, jnp)
    ours = minijax.vmap(f, in_axes=(0, 0, None))(idx, a, b)
    loop = [f(int(i), ai, b) for i, ai in zip(idx, a)]
    for k in range(3):
        np.testing.assert_allclose(np.asarray(ours[k]), np.stack([np.asarray(o[k]) for o in loop]),
                                   rtol=1e-6)


def test_nested_vmaps_with_predicates_batched_at_different_levels():
    p = np.array([True, False, True])
    x = _as_f32(np.arange(12.0).reshape(3, 4) / 6 - 1)
    f = lambda p, x: lax.cond(p & (x > 0), lambda x: jnp.sqrt(x), lambda x: x * x, x)
    ours = minijax.vmap(minijax.vmap(f, in_axes=(None, 0)))(p, x)
    want = np.array([[np.sqrt(v) if (pi and v > 0) else v * v for v in row]
                     for pi, row in zip(p, np.asarray(x))], np.float32)
    np.testing.assert_allclose(np.asarray(ours), want, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(minijax.jit(minijax.vmap(minijax.vmap(
        f, in_axes=(None, 0))))(p, x)), want, rtol=1e-6)


# ---------------------------------------------------------------------------
# Gradients through a per-example choice: the untaken branch must not leak NaN
# ---------------------------------------------------------------------------
def _safe_sqrt(lax, jnp):
    return lambda x: lax.cond(x > 0, lambda x: jnp.sqrt(x), lambda x: x * 0.0, x)


def test_untaken_branch_does_not_make_gradients_nan(real_jax):
    xs = _as_f32([4.0, -1.0, 0.25, -9.0])
    g, rg = _safe_sqrt(lax, jnp), _safe_sqrt(real_jax.lax, real_jax.numpy)
    loop = np.array([np.asarray(minijax.grad(g)(x)) for x in xs])
    assert np.all(np.isfinite(loop))
    candidates = {
        "vmap(grad)": minijax.vmap(minijax.grad(g))(xs),
        "grad(sum(vmap))": minijax.grad(lambda x: jnp.sum(minijax.vmap(g)(x)))(xs),
        "jit(vmap(grad))": minijax.jit(minijax.vmap(minijax.grad(g)))(xs),
        "vmap(jit(grad))": minijax.vmap(minijax.jit(minijax.grad(g)))(xs),
    }
    theirs = np.asarray(real_jax.vmap(real_jax.grad(rg))(xs))
    for name, got in candidates.items():
        np.testing.assert_allclose(np.asarray(got), loop, rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(np.asarray(got), theirs, rtol=1e-6, err_msg=name)
    # a scalar whose predicate is only known at run time (inside jit)
    for x in (-1.0, 4.0):
        np.testing.assert_allclose(np.asarray(minijax.jit(minijax.grad(g))(np.float32(x))),
                                   np.asarray(real_jax.grad(rg)(np.float32(x))), rtol=1e-6)


def test_gradient_with_respect_to_an_unbatched_operand_of_a_batched_cond(real_jax):
    """The closed-over ``w`` is unbatched; each example's cotangent must still be masked, so
    with ``w < 0`` and no example taking the ``sqrt(w)`` branch the gradient is 0, not NaN."""
    def loss(mod, lax, jnp):
        per = lambda w: lambda x: lax.cond(x > 0, lambda x, w: jnp.sqrt(w) * x,
                                           lambda x, w: x, x, w)
        return lambda w, xs: jnp.sum(mod.vmap(per(w))(xs))

    ours = minijax.grad(loss(minijax, lax, jnp), argnums=(0, 1))
    theirs = real_jax.grad(loss(real_jax, real_jax.lax, real_jax.numpy), argnums=(0, 1))
    for w, xs in ((4.0, [1.0, -2.0, 3.0]), (-4.0, [-1.0, -2.0, -3.0])):
        w, xs = np.float32(w), _as_f32(xs)
        got, want = ours(w, xs), theirs(w, xs)
        assert np.all(np.isfinite(np.asarray(got[0]))) and np.all(np.isfinite(np.asarray(got[1])))
        for g_, w_ in zip(got, want):
            np.testing.assert_allclose(np.asarray(g_), np.asarray(w_), rtol=1e-6)
