"""Reverse-mode differentiation of ``lax.scan`` (and ``fori_loop`` with Python-int bounds).

``grad`` through a scan must not unroll it: partial evaluation splits the JVP'd scan into a
known scan (which stacks the per-step residuals) and a linear tangent scan, and the tangent
scan is transposed into a scan that runs the other way. Oracles: central finite differences
(``check_grads`` in float64), real JAX, eager vs jit, and a Python loop for vmap. The
no-unroll property is checked on the traced program: its size must not depend on ``length``.
"""
from __future__ import annotations

import numpy as np
import pytest

import minijax
import minijax.numpy as jnp
from minijax import lax
from minijax.test_util import check_grads

RNG = np.random.default_rng(0)
W0 = RNG.uniform(-0.6, 0.6, (3, 3))
H0 = RNG.uniform(-1, 1, (3,))
XS = RNG.uniform(-1, 1, (5, 3))


def _rnn(lax_, np_, reverse=False):
    """``h = tanh(W @ h + x)`` over xs; the loss uses the final carry and every y."""
    def f(W, h0, xs):
        def step(h, x):
            h = np_.tanh(W @ h + x)
            return h, np_.sin(h) * 2.0
        h, ys = lax_.scan(step, h0, xs, reverse=reverse)
        return np_.sum(h * h) + np_.sum(ys * ys)
    return f


def _pytree(lax_, np_):
    """A dict/tuple carry, pytree xs and pytree ys."""
    def f(a, b, xs):
        def step(carry, x):
            p, (q, r) = carry["p"], carry["qr"]
            p = p * np_.cos(x["u"]) + q
            q = q * 0.5 + r * x["v"]
            return {"p": p, "qr": (q, r)}, (p * q, {"s": np_.exp(-p * p)})
        init = {"p": a, "qr": (b, a * b)}
        c, (ys, zs) = lax_.scan(step, init, {"u": xs, "v": xs * xs})
        return np_.sum(c["p"]) + np_.sum(c["qr"][0] * c["qr"][1]) + np_.sum(ys) + np_.sum(zs["s"])
    return f


def _counter(lax_, np_):
    """An integer counter carried next to a float carry (and used by the float work)."""
    def f(x, xs):
        def step(carry, xi):
            i, h = carry
            h = h * np_.cos(xi * i.astype(h.dtype)) + xi
            return (i + 1, h), h * h
        (n, h), ys = lax_.scan(step, (np_.asarray(0, np_.int32), x), xs)
        return np_.sum(h) + np_.sum(ys) + n.astype(h.dtype)
    return f


def _fori(lax_, np_):
    def f(x, W):
        return np_.sum(lax_.fori_loop(0, 4, lambda i, h: np_.tanh(W @ h + 0.1 * i), x) ** 2)
    return f


def _nested(lax_, np_):
    """A scan whose body runs another scan over the rows of each x."""
    def f(w, xs):
        def inner(c, x):
            c = np_.sin(c * w + x)
            return c, c * w
        def outer(c, x):
            c2, ys = lax_.scan(inner, c, x)
            return c2 * 0.9, np_.sum(ys)
        c, ys = lax_.scan(outer, np_.ones_like(w), xs)
        return np_.sum(c) + np_.sum(ys * ys)
    return f


def _args64(*xs):
    return [np.asarray(x, np.float64) for x in xs]


CASES = {
    "rnn": (_rnn, lambda: (W0, H0, XS)),
    "rnn_reverse": (lambda l, n: _rnn(l, n, reverse=True), lambda: (W0, H0, XS)),
    "pytree": (_pytree, lambda: (H0, H0[::-1] * 0.5, XS[:, 0])),
    "counter": (_counter, lambda: (H0[:2], XS[:4, :2])),
    "fori": (_fori, lambda: (H0, W0)),
    "nested": (_nested, lambda: (H0[:2] + 0.5, XS[:3, :, None][:, :, [0, 0]].reshape(3, 3, 2))),
    "length1": (_rnn, lambda: (W0, H0, XS[:1])),
    "length0": (_rnn, lambda: (W0, H0, XS[:0])),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_grads_match_finite_differences(name, x64):
    make, args = CASES[name]
    check_grads(make(lax, jnp), _args64(*args()), order=2, modes=["rev"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_grads_match_real_jax(name, real_jax):
    make, args = CASES[name]
    args = [np.asarray(a, np.float32) for a in args()]
    argnums = tuple(range(len(args)))
    ours = minijax.grad(make(lax, jnp), argnums=argnums)(*args)
    theirs = real_jax.grad(make(real_jax.lax, real_jax.numpy), argnums=argnums)(*args)
    for a, b in zip(ours, theirs):
        assert np.asarray(a).shape == np.asarray(b).shape
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-5, atol=2e-5)


def test_vjp_of_ys_and_carry_matches_real_jax(real_jax):
    def make(lax_, np_):
        def f(W, xs):
            def step(h, x):
                h = np_.tanh(W @ h + x)
                return h, h[0] * x
            return lax_.scan(step, np_.zeros(3, np_.float32), xs, reverse=True)
        return f

    W, xs = W0.astype(np.float32), XS.astype(np.float32)
    ct = (np.linspace(-1, 1, 3).astype(np.float32), np.cos(XS).astype(np.float32))
    out, pullback = minijax.vjp(make(lax, jnp), W, xs)
    out_j, pullback_j = real_jax.vjp(make(real_jax.lax, real_jax.numpy), W, xs)
    for a, b in zip(list(out) + list(pullback(ct)), list(out_j) + list(pullback_j(ct))):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-5, atol=2e-5)


def test_hessian_of_a_small_scan_matches_real_jax(real_jax, x64):
    def make(lax_, np_):
        def f(x):
            c, ys = lax_.scan(lambda c, w: (np_.sin(c * w) + c, c * c * w), x, np_.arange(1.0, 4.0))
            return np_.sum(c) + np_.sum(ys)
        return f

    x = np.array([0.3, -0.7])
    ours = minijax.hessian(make(lax, jnp))(x)
    real_jax.config.update("jax_enable_x64", True)
    try:
        theirs = real_jax.hessian(make(real_jax.lax, real_jax.numpy))(x)
    finally:
        real_jax.config.update("jax_enable_x64", False)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------------------
# The traced gradient program is a loop, not a copy of the body per step
# ---------------------------------------------------------------------------
def _all_eqns(jaxpr):
    """Every equation, including those inside scan/cond/while bodies."""
    for eqn in jaxpr.eqns:
        yield eqn
        for value in eqn.params.values():
            for sub in (value if isinstance(value, tuple) else (value,)):
                if isinstance(sub, minijax._src.core.Jaxpr):
                    yield from _all_eqns(sub)


def _grad_program(f, *args):
    return minijax.make_jaxpr(minijax.grad(f))(*args).jaxpr


@pytest.mark.parametrize("loop", ["scan", "fori"])
def test_grad_program_size_does_not_depend_on_length(loop):
    W = jnp.asarray(W0, np.float32)

    def f_of(n):
        if loop == "fori":
            return lambda h: jnp.sum(lax.fori_loop(0, n, lambda i, h: jnp.tanh(W @ h + 0.01 * i),
                                                   h))
        return lambda h: jnp.sum(lax.scan(lambda h, x: (jnp.tanh(W @ h + x), h * x), h,
                                          jnp.ones((n, 3)))[1])

    short, long = (_grad_program(f_of(n), jnp.asarray(H0, np.float32)) for n in (10, 1000))
    assert len(short.eqns) == len(long.eqns)
    assert len(list(_all_eqns(short))) == len(list(_all_eqns(long)))
    scans = [e for e in long.eqns if e.primitive.name == "scan"]
    assert len(scans) >= 2                                  # the forward scan and the reversed one
    assert {e.params["length"] for e in scans} == {1000}
    assert [e.params["reverse"] for e in scans] == [False, True]
    assert len(list(_all_eqns(long))) < 60                  # an unrolled body would be thousands


def test_loop_invariant_residuals_are_not_stacked():
    w = np.linspace(-1e-3, 1e-3, 7).astype(np.float32)   # closed over: exp(w) is loop-invariant

    def f(c, xs):
        c, _ = lax.scan(lambda c, x: (c * jnp.exp(w) + x, None), c, xs)
        return jnp.sum(c)

    jaxpr = _grad_program(f, jnp.zeros(7), jnp.ones(1000))
    shapes = {v.aval.shape for e in _all_eqns(jaxpr) for v in e.outputs}
    assert (1000, 7) not in shapes                  # exp(w) is computed once, not 1000 times
    grad = minijax.grad(f)(jnp.zeros(7), jnp.ones(1000))
    np.testing.assert_allclose(np.asarray(grad), np.exp(1000.0 * w), rtol=1e-3)


# ---------------------------------------------------------------------------
# Composition with jit and vmap
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["rnn", "rnn_reverse", "counter", "nested"])
def test_jit_of_grad_matches_eager(name):
    make, args = CASES[name]
    args = [jnp.asarray(np.asarray(a, np.float32)) for a in args()]
    argnums = tuple(range(len(args)))
    g = minijax.grad(make(lax, jnp), argnums=argnums)
    for a, b in zip(minijax.jit(g)(*args), g(*args)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def test_vmap_of_grad_matches_a_loop():
    f = _rnn(lax, jnp)
    W = jnp.asarray(W0, np.float32)
    hs = RNG.uniform(-1, 1, (4, 3)).astype(np.float32)
    xs = RNG.uniform(-1, 1, (4, 5, 3)).astype(np.float32)
    g = minijax.grad(f, argnums=(0, 1))
    batched = minijax.vmap(g, in_axes=(None, 0, 0))(W, hs, xs)
    for k, (gW, gh) in enumerate(zip(*batched)):
        eW, eh = g(W, hs[k], xs[k])
        np.testing.assert_allclose(np.asarray(gW), np.asarray(eW), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np.asarray(gh), np.asarray(eh), rtol=1e-5, atol=1e-6)
