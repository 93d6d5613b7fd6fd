"""The sort primitive and what is built on it: sort, argsort, lexsort, searchsorted,
unique, partition, quantile/percentile/median (and nan-variants).

Oracles: NumPy, real JAX (tie order, NaN placement, padding of ``unique(size=)``),
finite differences for gradients (x64), Python loops for vmap.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minijax
import minijax.numpy as jnp
from minijax._src.primitives import sorting as lax_sorting
from minijax.test_util import check_grads


def _same(got, want, tol=0.0):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w, tol)
        return
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    if tol:
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    else:
        np.testing.assert_array_equal(got, want)


SPECIAL = np.array([3.0, -0.0, 0.0, np.nan, -1.0, np.inf, 0.0, -0.0, -np.inf, 3.0], np.float32)


@pytest.mark.parametrize("descending", [False, True])
def test_sort_and_argsort_match_jax_on_ties_and_nans(real_jax, descending):
    rj = real_jax.numpy
    _same(jnp.sort(SPECIAL, descending=descending), rj.sort(SPECIAL, descending=descending))
    _same(jnp.argsort(SPECIAL, descending=descending), rj.argsort(SPECIAL, descending=descending))
    ints = np.array([[2, 1, 2, 0, 1], [1, 1, 0, 0, 2]], np.int32)
    for axis in (0, 1, None):
        _same(jnp.argsort(ints, axis, descending=descending),
              rj.argsort(ints, axis, descending=descending))
        _same(jnp.sort(ints, axis, descending=descending),
              rj.sort(ints, axis, descending=descending))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.lists(st.integers(-3, 3), min_size=1, max_size=12), st.integers(1, 3))
def test_sort_argsort_match_numpy(values, rows):
    x = np.array(values * rows, np.int32).reshape(rows, -1)
    for axis in (0, -1, None):
        _same(jnp.sort(x, axis), np.sort(x, axis))
        _same(jnp.argsort(x, axis), np.argsort(x, axis, kind="stable").astype(np.int32))
    f = x.astype(np.float32) / 2
    _same(jnp.sort(f, 1), np.sort(f, 1))
    _same(jnp.array(f).sort(), np.sort(f))


def test_lax_sort_multiple_operands():
    keys = np.array([2, 1, 2, 0], np.int32)
    vals = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    k, v = lax_sorting.sort_key_val(keys, vals)
    _same(k, np.array([0, 1, 2, 2], np.int32))
    _same(v, np.array([4.0, 2.0, 1.0, 3.0], np.float32))
    a = np.array([1, 0, 1, 0], np.int32)
    b = np.array([3, 5, 2, 5], np.int32)
    outs = lax_sorting.sort((a, b, np.arange(4, dtype=np.int32)), num_keys=2)
    _same(outs[2], np.lexsort((b, a)).astype(np.int32))
    with pytest.raises(ValueError, match="num_keys"):
        lax_sorting.sort((a, b), num_keys=3)
    with pytest.raises(TypeError, match="same shape"):
        lax_sorting.sort((a, b[:2]))


def test_lexsort_searchsorted_partition():
    rng = np.random.default_rng(0)
    k1, k2 = rng.integers(0, 3, 10), rng.integers(0, 3, 10)
    _same(jnp.lexsort((k1, k2)), np.lexsort((k1, k2)).astype(np.int32))
    m = rng.integers(0, 3, (4, 6))
    _same(jnp.lexsort((m[0], m[1]), axis=0), np.lexsort((m[0], m[1]), axis=0).astype(np.int32))
    a = np.array([1, 2, 2, 3, 5], np.float32)
    v = np.array([[2, 0], [5.5, 2.5]], np.float32)
    for side in ("left", "right"):
        _same(jnp.searchsorted(a, v, side=side), np.searchsorted(a, v, side=side).astype(np.int32))
    unsorted = np.array([3.0, 1.0, 2.0, 7.0], np.float32)
    sorter = np.argsort(unsorted)
    _same(jnp.searchsorted(unsorted, np.float32(2.5), sorter=sorter),
          np.asarray(np.searchsorted(unsorted, 2.5, sorter=sorter), np.int32))
    x = rng.standard_normal(9).astype(np.float32)
    for kth in (0, 4, -1):
        p = np.asarray(jnp.partition(x, kth))
        kk = kth % 9
        assert p[kk] == np.sort(x)[kk]
        assert np.all(p[:kk] <= p[kk]) and np.all(p[kk + 1:] >= p[kk])
        idx = np.asarray(jnp.argpartition(x, kth))
        assert x[idx][kk] == np.sort(x)[kk]
    with pytest.raises(ValueError, match="side"):
        jnp.searchsorted(a, v, side="middle")


def test_unique_eager_matches_numpy():
    u = np.array([[3, 1, 2], [1, 3, 3]], np.int32)
    _same(jnp.unique(u), np.unique(u))
    values, index, inverse, counts = np.unique(u, return_index=True, return_inverse=True,
                                               return_counts=True)
    _same(jnp.unique(u, return_index=True, return_inverse=True, return_counts=True),
          (values, index.astype(np.int32), inverse.reshape(u.shape).astype(np.int32),
           counts.astype(np.int32)))
    _same(jnp.unique(u, axis=1), np.unique(u, axis=1))
    f = np.array([3.0, np.nan, np.nan, 1.0], np.float32)
    _same(jnp.unique(f), np.array([1.0, 3.0, np.nan], np.float32))   # NaNs collapse to one


def _sized_unique_oracle(x, size, fill_value=None):
    """JAX's documented ``unique(size=)`` from NumPy's answer: cut or pad to ``size``; values
    pad with ``fill_value`` (default: the smallest value), indices with the first index of
    the smallest value, counts with 0."""
    values, index, inverse, counts = np.unique(x, return_index=True, return_inverse=True,
                                               return_counts=True)
    k = len(values)
    pad = lambda arr, fill: np.concatenate([arr, np.full(max(0, size - k), fill, arr.dtype)])[:size]  # noqa: E731
    fill = values[0] if fill_value is None else fill_value
    i32 = lambda a: a.astype(np.int32)  # noqa: E731
    return (pad(values, fill), i32(pad(index, index[0])), i32(inverse.reshape(x.shape)),
            i32(pad(counts, 0)))


@pytest.mark.parametrize("size", [1, 3, 5, 8])
def test_unique_with_size(size):
    u = np.array([3, 1, 2, 1, 3], np.int32)
    kw = dict(return_index=True, return_inverse=True, return_counts=True)
    _same(jnp.unique(u, size=size, **kw), _sized_unique_oracle(u, size))
    _same(jnp.unique(u, size=size, fill_value=-7), _sized_unique_oracle(u, size, -7)[0])
    f = np.array([2.0, np.nan, 1.0, np.nan, 2.0], np.float32)
    _same(jnp.unique(f, size=size), _sized_unique_oracle(f, size)[0])


def test_unique_with_size_matches_jax(real_jax):
    u = np.array([3, 1, 2, 1, 3], np.int32)
    kw = dict(return_index=True, return_inverse=True, return_counts=True)
    _same(jnp.unique(u, size=5, **kw), real_jax.numpy.unique(u, size=5, **kw))


def test_unique_under_tracing_needs_size():
    with pytest.raises(minijax.errors.ConcretizationTypeError, match="size="):
        minijax.vmap(jnp.unique)(np.ones((2, 3)))
    xs = np.array([[1, 2, 2, 5], [4, 4, 4, 0]], np.int32)
    got = minijax.vmap(lambda x: jnp.unique(x, size=3, return_counts=True))(xs)
    for i in range(2):
        _same((got[0][i], got[1][i]), jnp.unique(xs[i], size=3, return_counts=True))
    jaxpr = minijax.make_jaxpr(lambda x: jnp.unique(x, size=4))(xs[0])
    assert "sort" in [e.primitive.name for e in jaxpr.eqns]


QS = [0.3, np.array([0.0, 0.25, 0.5, 0.99, 1.0], np.float32)]


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_matches_jax(real_jax, method):
    # NumPy's 'nearest' rounds ties to even; JAX (and minijax) send them to the lower value.
    a = np.random.default_rng(1).standard_normal((4, 5, 3)).astype(np.float32)
    q = np.array([0.0, 0.25, 0.5, 0.99, 1.0], np.float32)   # 0.5 * 19 = 9.5 is a tie
    _same(jnp.quantile(a, q, axis=(0, 2), method=method, keepdims=True),
          real_jax.numpy.quantile(a, q, axis=(0, 2), method=method, keepdims=True), tol=1e-5)


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint"])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_quantile_shapes_and_values_match_numpy(method, axis, keepdims):
    a = np.random.default_rng(1).standard_normal((4, 5, 3)).astype(np.float32)
    for q in QS:
        got = jnp.quantile(a, q, axis=axis, method=method, keepdims=keepdims)
        want = np.quantile(a, q, axis=axis, method=method, keepdims=keepdims)
        assert got.shape == want.shape and got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_quantile_median_match_numpy():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((6, 7)).astype(np.float32)
    for method in ("linear", "lower", "higher", "midpoint"):
        np.testing.assert_allclose(jnp.quantile(a, QS[1], axis=1, method=method),
                                   np.quantile(a, QS[1], axis=1, method=method), rtol=1e-5)
    np.testing.assert_allclose(jnp.percentile(a, 30.0), np.percentile(a, 30.0), rtol=1e-5)
    np.testing.assert_allclose(jnp.median(a, axis=0), np.median(a, axis=0), rtol=1e-6)
    _same(jnp.median(np.arange(6)), np.asarray(2.5, np.float32))
    assert jnp.median(np.ones(3, np.float16)).dtype == np.float16
    an = a.copy()
    an[0, 1] = np.nan
    an[3, :] = np.nan
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.testing.assert_allclose(jnp.nanmedian(an, axis=1), np.nanmedian(an, axis=1),
                                       rtol=1e-6)
            np.testing.assert_allclose(jnp.nanquantile(an, 0.3, axis=0),
                                       np.nanquantile(an, 0.3, axis=0), rtol=1e-5)
            np.testing.assert_allclose(jnp.nanpercentile(an, 80.0, axis=1),
                                       np.nanpercentile(an, 80.0, axis=1), rtol=1e-5)
    assert np.isnan(np.asarray(jnp.median(an, axis=1))[0])
    with pytest.raises(ValueError, match="method"):
        jnp.quantile(a, 0.5, method="bogus")
    with pytest.raises(ValueError, match="rank <= 1"):
        jnp.quantile(a, np.ones((2, 2)) / 2)


# ---------------------------------------------------------------------------
# Derivatives and vmap
# ---------------------------------------------------------------------------
def test_sort_grads(x64):
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    check_grads(lambda a: jnp.sort(a, axis=1), (x,), order=2)
    check_grads(lambda a: jnp.sort(a, axis=0, descending=True), (x,), order=2)
    check_grads(lambda a, b: lax_sorting.sort((a, b), 0), (x, y), order=2)
    keys = np.array([[1, 0, 1, 0, 1]] * 3)
    check_grads(lambda a, b: lax_sorting.sort((keys, a, b), 1, num_keys=2)[1:], (x, y), order=2)


def test_sort_gradient_routes_to_original_positions(x64):
    x = np.array([3.0, 1.0, 2.0])
    weights = np.array([10.0, 20.0, 30.0])
    g = minijax.grad(lambda a: jnp.sum(jnp.sort(a) * weights))(x)
    # sorted = [x1, x2, x0] -> x1 gets 10, x2 gets 20, x0 gets 30
    np.testing.assert_array_equal(g, [30.0, 10.0, 20.0])


def test_order_statistic_grads(x64):
    a = np.random.default_rng(4).standard_normal((4, 5))
    check_grads(lambda v: jnp.median(v, axis=1), (a,), order=2)
    check_grads(lambda v: jnp.quantile(v, np.array([0.2, 0.7]), axis=0), (a,), order=2)
    check_grads(lambda v: jnp.percentile(v, 40.0), (a,), order=1)


@pytest.mark.parametrize("fun", [
    lambda x: jnp.sort(x),
    lambda x: jnp.argsort(x, descending=True),
    lambda x: jnp.median(x),
    lambda x: jnp.quantile(x, np.array([0.1, 0.9], np.float32)),
    lambda x: jnp.searchsorted(jnp.sort(x), 0.0),
])
def test_vmap_matches_loop(fun):
    xs = np.random.default_rng(5).standard_normal((4, 7)).astype(np.float32)
    for axis in (0, 1):
        batched = xs if axis == 0 else xs.T
        got = minijax.vmap(fun, in_axes=axis)(batched)
        expected = np.stack([np.asarray(fun(x)) for x in xs])
        np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_lax_sort_vmap_with_unbatched_operand():
    keys = np.random.default_rng(6).standard_normal((3, 5)).astype(np.float32)
    vals = np.arange(5, dtype=np.float32)
    got = minijax.vmap(lambda k, v: lax_sorting.sort_key_val(k, v)[1], in_axes=(0, None))(keys, vals)
    expected = np.stack([vals[np.argsort(k, kind="stable")] for k in keys])
    np.testing.assert_array_equal(got, expected)
