"""Creation extras: linspace/logspace/geomspace, meshgrid, indices, tri/tril/triu,
diag/diagflat/diagonal/trace, vander, fill_diagonal.

Oracles: NumPy for values/shapes/dtypes, real JAX for linspace's float32 rounding,
finite differences for the (linear) gradients of the masking functions.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minijax
import minijax.numpy as jnp
from minijax.test_util import check_grads


def _same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_array_equal(got, want)


def _within_one_ulp(got, want, scale):
    """|got - want| <= one float32 ulp of the range's magnitude."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=float(np.spacing(np.float32(scale))))


_floats = st.floats(-50, 50, allow_nan=False, width=32)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(_floats, _floats, st.integers(0, 40), st.booleans())
def test_linspace_float32_matches_jax(start, stop, num, endpoint):
    rj = pytest.importorskip("jax").numpy
    got = jnp.linspace(start, stop, num, endpoint=endpoint)
    want = rj.linspace(start, stop, num, endpoint=endpoint)
    assert got.dtype == want.dtype == np.float32
    # XLA:CPU may fuse the last multiply-add into one FMA, so allow one ulp of rounding.
    _within_one_ulp(got, want, max(abs(start), abs(stop), 1e-30))
    if num and endpoint:
        assert np.asarray(got)[-1] == np.float32(stop)   # the endpoint is exact
    if num:
        assert np.asarray(got)[0] == np.float32(start)


def test_linspace_options():
    rj = pytest.importorskip("jax").numpy
    rng = np.random.default_rng(0)
    s = rng.standard_normal((2, 3)).astype(np.float32)
    e = rng.standard_normal((3,)).astype(np.float32)
    for axis in (0, 1, -1):
        got, want = jnp.linspace(s, e, 7, axis=axis), rj.linspace(s, e, 7, axis=axis)
        _within_one_ulp(got, want, 4.0)
        np.testing.assert_allclose(got, np.linspace(s, e, 7, axis=axis), rtol=1e-5, atol=1e-6)
    _same(jnp.linspace(5, 23, 17, dtype=np.int32), rj.linspace(5, 23, 17, dtype=np.int32))
    out, step = jnp.linspace(0.0, 1.0, 5, retstep=True)
    np.testing.assert_allclose(out, np.linspace(0.0, 1.0, 5))
    assert float(step) == 0.25
    assert jnp.linspace(0, 1, 0).shape == (0,)
    _same(jnp.linspace(2.0, 3.0, 1), np.array([2.0], np.float32))
    with pytest.raises(ValueError, match="must be non-negative"):
        jnp.linspace(0, 1, -1)


def test_linspace_is_differentiable_in_its_endpoints(x64):
    check_grads(lambda a, b: jnp.linspace(a, b, 6), (np.float64(0.5), np.float64(2.0)), order=2)


def test_logspace_geomspace_match_numpy():
    cases = [(0, 3, 7), (1, 3, 5), (-1, 2, 4)]
    for args in cases:
        np.testing.assert_allclose(jnp.logspace(*args), np.logspace(*args), rtol=1e-6)
        np.testing.assert_allclose(jnp.logspace(*args, base=2.0, endpoint=False),
                                   np.logspace(*args, base=2.0, endpoint=False), rtol=1e-6)
    for args in [(1, 1000, 4), (-2, -200, 6), (0.5, 8.0, 5)]:
        got = jnp.geomspace(*args)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, np.geomspace(*args), rtol=1e-5)


@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("sparse", [False, True])
def test_meshgrid_matches_numpy(indexing, sparse):
    xs = [np.arange(3), np.arange(4.0), np.arange(2)]
    for n in (1, 2, 3):
        got = jnp.meshgrid(*xs[:n], indexing=indexing, sparse=sparse)
        want = np.meshgrid(*[x for x in xs[:n]], indexing=indexing, sparse=sparse)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w.astype(np.float32 if w.dtype == np.float64 else np.int32))
    with pytest.raises(ValueError, match="indexing"):
        jnp.meshgrid(xs[0], indexing="yx")


def test_indices_and_vander():
    _same(jnp.indices((2, 3)), np.indices((2, 3)).astype(np.int32))
    for g, w in zip(jnp.indices((2, 3), sparse=True), np.indices((2, 3), sparse=True)):
        _same(g, w.astype(np.int32))
    x = np.array([1, 2, 3], np.int32)
    _same(jnp.vander(x), np.vander(x).astype(np.int32))
    f = np.array([0.5, -2.0, 3.0], np.float32)
    for N in (None, 0, 2, 5):
        for increasing in (False, True):
            np.testing.assert_allclose(jnp.vander(f, N, increasing),
                                       np.vander(f, N, increasing), rtol=1e-6)
    _same(jnp.fromfunction(lambda i, j: i + 2 * j, (2, 3), dtype=np.float32),
          np.fromfunction(lambda i, j: i + 2 * j, (2, 3), dtype=np.float32))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(-6, 6))
def test_triangles_and_diagonals_match_numpy(n, m, k):
    x = np.arange(n * m, dtype=np.float32).reshape(n, m) - 3.5
    _same(jnp.tri(n, m, k), np.tri(n, m, k, dtype=np.float32))
    _same(jnp.tril(x, k), np.tril(x, k))
    _same(jnp.triu(x, k), np.triu(x, k))
    _same(jnp.diag(x, k), np.diag(x, k))
    _same(jnp.diag(x[0], k), np.diag(x[0], k))
    _same(jnp.diagflat(x, k), np.diagflat(x, k))
    t = np.arange(2 * n * m, dtype=np.int32).reshape(2, n, m)
    for a1, a2 in [(0, 1), (1, 2), (2, 0), (-1, -2)]:
        _same(jnp.diagonal(t, k, a1, a2), np.diagonal(t, k, a1, a2))
        _same(jnp.trace(t, k, a1, a2), np.asarray(np.trace(t, k, a1, a2), np.int32))
    stacked = np.stack([x, -x])
    _same(jnp.tril(stacked, k), np.tril(stacked, k))


def test_diagonal_keeps_inf_and_nan_out():
    x = np.array([[1.0, np.inf], [np.nan, 2.0]], np.float32)
    _same(jnp.diagonal(x), np.array([1.0, 2.0], np.float32))
    _same(jnp.trace(x), np.float32(3.0))
    _same(jnp.tril(x), np.array([[1.0, 0.0], [np.nan, 2.0]], np.float32))


def test_trace_dtypes_and_methods():
    assert jnp.trace(np.ones((2, 3), np.int8)).dtype == np.int32
    assert int(jnp.trace(np.ones((2, 3), bool))) == 2
    a = jnp.arange(9.0).reshape(3, 3)
    assert float(a.trace()) == 12.0
    _same(a.diagonal(1), np.array([1.0, 5.0], np.float32))
    _same(jnp.linalg.trace(np.ones((2, 3, 4)), offset=1), np.full(2, 3.0, np.float32))
    _same(jnp.linalg.diagonal(np.arange(8.0).reshape(2, 2, 2)), np.array([[0.0, 3.0], [4.0, 7.0]],
                                                                          np.float32))


def test_fill_diagonal():
    _same(jnp.fill_diagonal(jnp.zeros((3, 4)), 5.0, inplace=False),
          np.array([[5, 0, 0, 0], [0, 5, 0, 0], [0, 0, 5, 0]], np.float32))
    want = np.zeros((4, 3), np.float32)
    np.fill_diagonal(want, [1.0, 2.0])
    _same(jnp.fill_diagonal(jnp.zeros((4, 3)), jnp.array([1.0, 2.0]), inplace=False), want)
    cube = np.zeros((3, 3, 3), np.int32)
    np.fill_diagonal(cube, 7)
    _same(jnp.fill_diagonal(jnp.zeros((3, 3, 3), np.int32), 7, inplace=False), cube)
    with pytest.raises(NotImplementedError, match="inplace=False"):
        jnp.fill_diagonal(jnp.zeros((2, 2)), 1.0)


def test_masking_functions_grads(x64):
    x = np.random.default_rng(1).standard_normal((3, 4))
    check_grads(lambda a: jnp.tril(a, 1), (x,), order=2)
    check_grads(lambda a: jnp.triu(a, -1), (x,), order=2)
    check_grads(lambda a: jnp.diagonal(a, 1), (x,), order=2)
    check_grads(lambda a: jnp.trace(a, -1), (x,), order=2)
    check_grads(lambda v: jnp.diag(v, -2), (x[0],), order=2)
    check_grads(lambda a, v: jnp.fill_diagonal(a, v, inplace=False), (x, x[0, 0]), order=1)


def test_creation_under_vmap_matches_loop():
    xs = np.random.default_rng(2).standard_normal((3, 4, 4)).astype(np.float32)
    for fun in (lambda a: jnp.tril(a, -1), lambda a: jnp.diagonal(a), lambda a: jnp.trace(a),
                lambda a: jnp.diag(a[0], 1), lambda a: jnp.linspace(a[0, 0], a[1, 1], 5)):
        got = minijax.vmap(fun)(xs)
        want = np.stack([np.asarray(fun(x)) for x in xs])
        np.testing.assert_allclose(got, want, rtol=1e-6)
