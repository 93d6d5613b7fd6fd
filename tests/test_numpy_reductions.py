"""jax.numpy reductions against NumPy (values, shapes, keepdims, where=, initial=) and real JAX
(result dtypes and weak types), plus their errors, gradients and vmap."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minijax as jax
import minijax.numpy as jnp
from minijax.test_util import check_grads

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)


def values(shape, seed=0, dtype=np.float32, nans=False):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, shape)
    if nans:
        x[rng.uniform(size=shape) < 0.3] = np.nan
    return x.astype(dtype)


@st.composite
def array_and_axis(draw, min_side=1, allow_none=True, allow_tuple=True):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=min_side, max_side=4))
    nd = len(shape)
    choices = [st.integers(-nd, nd - 1)]
    if allow_none:
        choices.append(st.none())
    if allow_tuple:
        choices.append(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True)
                       .map(lambda axes: tuple(a - nd if a % 2 else a for a in axes)))
    return shape, draw(st.one_of(*choices)), draw(st.booleans())


def close(got, expected, rtol=1e-5, atol=1e-5):
    expected = np.asarray(expected)
    assert isinstance(got, jax.Array)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_allclose(np.asarray(got, np.float64), expected.astype(np.float64),
                               rtol=rtol, atol=atol)


class _quiet:
    """NumPy warns about all-NaN slices; JAX (and minijax) silently return NaN."""

    def __enter__(self):
        import warnings
        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


# ---------------------------------------------------------------------------
# Values against NumPy
# ---------------------------------------------------------------------------
SIMPLE = [(jnp.sum, np.sum), (jnp.prod, np.prod), (jnp.mean, np.mean), (jnp.max, np.max),
          (jnp.amax, np.amax), (jnp.min, np.min), (jnp.amin, np.amin), (jnp.var, np.var),
          (jnp.std, np.std), (jnp.all, np.all), (jnp.any, np.any), (jnp.ptp, np.ptp),
          (jnp.count_nonzero, np.count_nonzero), (jnp.nansum, np.nansum),
          (jnp.nanprod, np.nanprod)]


@SETTINGS
@given(array_and_axis())
def test_reductions_match_numpy(case):
    shape, axis, keepdims = case
    x = values(shape, seed=len(shape))
    x[..., 0] = 0.0   # so all/any/count_nonzero see zeros
    for ours, theirs in SIMPLE:
        close(ours(x, axis=axis, keepdims=keepdims), theirs(x, axis=axis, keepdims=keepdims),
              rtol=1e-4)
    with _quiet():   # ddof=1 on one element: NumPy warns, both give inf/NaN
        close(jnp.var(x, axis, ddof=1, keepdims=keepdims),
              np.var(x, axis, ddof=1, keepdims=keepdims), rtol=1e-4)
    # methods forward to the same functions
    a = jnp.asarray(x)
    close(a.sum(axis=axis, keepdims=keepdims), np.sum(x, axis=axis, keepdims=keepdims), rtol=1e-4)
    close(a.mean(axis), np.mean(x, axis), rtol=1e-4)
    close(a.ptp(axis), np.ptp(x, axis))


@SETTINGS
@given(array_and_axis())
def test_nan_reductions_match_numpy(case):
    shape, axis, keepdims = case
    x = values(shape, seed=7, nans=True)
    with _quiet():
        for ours, theirs in [(jnp.nansum, np.nansum), (jnp.nanprod, np.nanprod),
                             (jnp.nanmean, np.nanmean), (jnp.nanmax, np.nanmax),
                             (jnp.nanmin, np.nanmin), (jnp.nanvar, np.nanvar),
                             (jnp.nanstd, np.nanstd)]:
            close(ours(x, axis=axis, keepdims=keepdims), theirs(x, axis=axis, keepdims=keepdims),
                  rtol=1e-4)
        close(jnp.nanvar(x, axis, ddof=1), np.nanvar(x, axis, ddof=1), rtol=1e-4)


@SETTINGS
@given(array_and_axis(allow_tuple=False))
def test_arg_reductions(case):
    shape, axis, keepdims = case
    x = np.round(values(shape, seed=3), 1)   # rounding makes ties, which pick the first index
    for ours, theirs in [(jnp.argmax, np.argmax), (jnp.argmin, np.argmin)]:
        got = ours(x, axis=axis, keepdims=keepdims)
        np.testing.assert_array_equal(np.asarray(got), theirs(x, axis=axis, keepdims=keepdims))
        assert got.dtype == np.int32
    xn = values(shape, seed=4, nans=True)
    with _quiet():
        for ours, theirs in [(jnp.nanargmax, np.nanargmax), (jnp.nanargmin, np.nanargmin)]:
            finite = ~np.all(np.isnan(xn), axis=axis, keepdims=keepdims)
            if np.all(finite):
                np.testing.assert_array_equal(np.asarray(ours(xn, axis=axis, keepdims=keepdims)),
                                              theirs(xn, axis=axis, keepdims=keepdims))


def test_nan_arg_reductions_all_nan():
    x = np.array([[np.nan, np.nan], [1.0, np.nan]], np.float32)
    np.testing.assert_array_equal(np.asarray(jnp.nanargmax(x, axis=1)), [-1, 0])
    assert np.isnan(float(jnp.nanmax(np.array([np.nan, np.nan], np.float32))))


@SETTINGS
@given(array_and_axis(), st.integers(0, 2**16))
def test_where_and_initial(case, seed):
    shape, axis, keepdims = case
    x = values(shape, seed=seed % 100)
    mask = np.random.default_rng(seed).uniform(size=shape) < 0.6
    kw = dict(axis=axis, keepdims=keepdims, where=mask)
    close(jnp.sum(x, **kw), np.sum(x, **kw))
    close(jnp.sum(x, initial=1.5, **kw), np.sum(x, initial=1.5, **kw))
    close(jnp.prod(x, initial=2.0, **kw), np.prod(x, initial=2.0, **kw), rtol=1e-4)
    close(jnp.max(x, initial=-1.0, **kw), np.max(x, initial=-1.0, **kw))
    close(jnp.min(x, initial=0.5, **kw), np.min(x, initial=0.5, **kw))
    close(jnp.all(x > 0, **kw), np.all(x > 0, **kw))
    close(jnp.any(x > 0, **kw), np.any(x > 0, **kw))
    close(jnp.max(x, axis=axis, initial=0.0), np.max(x, axis=axis, initial=0.0))
    with _quiet():
        close(jnp.mean(x, **kw), np.mean(x, **kw), rtol=1e-4)
        close(jnp.var(x, **kw), np.var(x, **kw), rtol=1e-4, atol=1e-4)
        close(jnp.nansum(x, **kw), np.nansum(x, **kw))


def test_var_extras():
    x = values((3, 4), seed=1)
    m = np.mean(x, axis=1, keepdims=True)
    close(jnp.var(x, axis=1, mean=m), np.var(x, axis=1, mean=m))
    close(jnp.std(x, axis=0, correction=1), np.std(x, axis=0, correction=1))
    with pytest.raises(ValueError, match="ddof and correction"):
        jnp.var(x, ddof=1, correction=1)
    # more degrees of freedom removed than there are elements: NaN, as in JAX
    assert np.isnan(float(jnp.var(np.ones(3, np.float32), ddof=3)))
    assert np.isnan(float(jnp.var(np.ones(3, np.float32), ddof=4)))


@SETTINGS
@given(array_and_axis(allow_tuple=False, allow_none=False), st.booleans())
def test_average(case, returned):
    shape, axis, keepdims = case
    x = values(shape, seed=2)
    w_full = np.abs(values(shape, seed=3)) + 0.1
    w_axis = np.abs(values((shape[axis],), seed=4)) + 0.1
    for w in (None, w_full, w_axis):
        got = jnp.average(x, axis, weights=w, returned=returned, keepdims=keepdims)
        exp = np.average(x, axis, weights=w, returned=returned, keepdims=keepdims)
        if returned:
            close(got[0], exp[0], rtol=1e-4)
            close(got[1], exp[1], rtol=1e-4)
        else:
            close(got, exp, rtol=1e-4)
    close(jnp.average(x), np.average(x), rtol=1e-4)


def test_average_errors():
    x = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="Axis must be specified"):
        jnp.average(x, weights=np.ones(3, np.float32))
    with pytest.raises(ValueError, match="Length of weights"):
        jnp.average(x, axis=1, weights=np.ones(2, np.float32))


# ---------------------------------------------------------------------------
# Cumulative reductions
# ---------------------------------------------------------------------------
@SETTINGS
@given(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4), st.data())
def test_cumulative(shape, data):
    x = values(shape, seed=5)
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    close(jnp.cumsum(x, axis), np.cumsum(x, axis), rtol=1e-4)
    close(jnp.cumprod(x, axis), np.cumprod(x, axis), rtol=1e-4)
    close(jnp.asarray(x).cumsum(axis), np.cumsum(x, axis), rtol=1e-4)
    xn = values(shape, seed=6, nans=True)
    close(jnp.nancumsum(xn, axis), np.nancumsum(xn, axis), rtol=1e-4)
    close(jnp.nancumprod(xn, axis), np.nancumprod(xn, axis), rtol=1e-4)
    ax = 0 if axis is None and len(shape) == 1 else axis
    if ax is not None:
        for include in (False, True):
            close(jnp.cumulative_sum(x, axis=ax, include_initial=include),
                  np.cumulative_sum(x, axis=ax, include_initial=include), rtol=1e-4)
            close(jnp.cumulative_prod(x, axis=ax, include_initial=include),
                  np.cumulative_prod(x, axis=ax, include_initial=include), rtol=1e-4)


def test_cumulative_dtype_argument():
    x = np.array([1, 2, 3], np.int32)
    out = jnp.cumsum(x, dtype=jnp.float32)
    assert out.dtype == np.float32
    close(out, [1, 3, 6])
    with pytest.raises(ValueError, match="only optional for one-dimensional"):
        jnp.cumulative_sum(np.ones((2, 2), np.float32))


# ---------------------------------------------------------------------------
# Median (written in _sorting.py on jnp.sort; checked here with the same axis/keepdims cases)
# ---------------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(jnp, "sort"), reason="jnp.sort is not implemented yet")
@SETTINGS
@given(array_and_axis())
def test_median(case):
    shape, axis, keepdims = case
    x = values(shape, seed=8)
    close(jnp.median(x, axis=axis, keepdims=keepdims), np.median(x, axis=axis, keepdims=keepdims))
    xn = values(shape, seed=9, nans=True)
    close(jnp.median(xn, axis=axis), np.median(xn, axis=axis))


# ---------------------------------------------------------------------------
# dtypes and weak types against real JAX
# ---------------------------------------------------------------------------
DTYPE_FUNCS = ["sum", "prod", "mean", "max", "min", "var", "std", "cumsum", "cumprod", "ptp",
               "count_nonzero", "average", "nansum", "nanmean", "nanmax", "nanvar", "all", "any",
               "argmax", "cumulative_sum", "nancumsum"]
NOT_FOR_BOOL = {"ptp"}


@pytest.mark.parametrize("name", DTYPE_FUNCS)
@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int16", "int32", "uint32", "float16",
                                   "float32"])
def test_result_dtypes_match_real_jax(real_jax, name, dtype):
    if dtype == "bool" and name in NOT_FOR_BOOL:
        with pytest.raises(TypeError, match="bool"):   # max - min of booleans: JAX refuses too
            getattr(jnp, name)(np.ones(3, bool))
        return
    x = (np.arange(6).reshape(2, 3) % 3).astype(dtype)
    if name == "cumulative_sum":
        x = x.ravel()   # axis may be left out for 1-D input only
    ours = getattr(jnp, name)(x)
    # eval_shape traces without compiling: JAX's dtype rules at a fraction of the cost
    theirs = real_jax.eval_shape(getattr(real_jax.numpy, name), x)
    assert ours.dtype == theirs.dtype, (name, dtype, ours.dtype, theirs.dtype)
    assert ours.weak_type == theirs.weak_type
    assert ours.shape == theirs.shape


@pytest.mark.parametrize("name", ["sum", "mean", "max", "cumsum", "prod", "var", "argmin"])
@pytest.mark.parametrize("value", [2.0, 3])
def test_weak_inputs_give_strong_results(real_jax, name, value):
    x = jnp.broadcast_to(jnp.asarray(value), (3,))
    y = real_jax.numpy.broadcast_to(real_jax.numpy.asarray(value), (3,))
    assert x.weak_type and y.weak_type
    ours, theirs = getattr(jnp, name)(x), real_jax.eval_shape(getattr(real_jax.numpy, name), y)
    assert (ours.dtype, ours.weak_type) == (theirs.dtype, theirs.weak_type)


def test_x64_dtypes_match_real_jax(real_jax, x64):
    real_jax.config.update("jax_enable_x64", True)
    try:
        for dtype in ("bool", "int8", "int32", "uint32", "int64", "float32"):
            x = np.ones(3, dtype)
            for name in ("sum", "mean", "cumsum", "count_nonzero", "argmax", "cumulative_sum"):
                theirs = real_jax.eval_shape(getattr(real_jax.numpy, name), x)
                assert getattr(jnp, name)(x).dtype == theirs.dtype, (name, dtype)
    finally:
        real_jax.config.update("jax_enable_x64", False)


def test_explicit_dtype():
    x = np.array([100, 100, 100], np.int8)
    assert jnp.sum(x, dtype=jnp.int8).dtype == np.int8
    assert int(jnp.sum(x)) == 300
    assert jnp.sum(x, dtype=jnp.float32).dtype == np.float32
    assert jnp.mean(x, dtype=jnp.float16).dtype == np.float16
    assert jnp.sum(np.ones(3, np.int8), promote_integers=False).dtype == np.int8
    assert int(jnp.sum(np.array([1, 2], np.int32), initial=5.5)) == 8


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------
def test_errors():
    with pytest.raises(ValueError, match="zero-size array to reduction operation max"):
        jnp.max(jnp.zeros(0))
    with pytest.raises(ValueError, match="zero-size array to reduction operation min"):
        jnp.min(jnp.zeros((2, 0)), axis=1)
    assert jnp.max(jnp.zeros((0, 3)), axis=1).shape == (0,)
    assert float(jnp.max(jnp.zeros(0), initial=3.0)) == 3.0
    with pytest.raises(ValueError, match="empty sequence"):
        jnp.argmax(jnp.zeros(0))
    with pytest.raises(ValueError, match="to use a where mask one has to specify 'initial'"):
        jnp.max(jnp.ones(3), where=jnp.ones(3, bool))
    with pytest.raises(ValueError, match="out of bounds"):
        jnp.sum(jnp.ones(3), axis=1)
    with pytest.raises(ValueError, match="duplicate"):
        jnp.sum(jnp.ones((2, 2)), axis=(0, -2))
    with pytest.raises(TypeError, match="axis must be an int"):
        jnp.argmax(jnp.ones((2, 3)), axis=(0, 1))
    with pytest.raises(TypeError, match="requires ndarray or scalar"):
        jnp.sum([1, 2, 3])
    assert np.isnan(float(jnp.mean(jnp.zeros(0))))
    assert float(jnp.sum(jnp.zeros(0))) == 0.0 and float(jnp.prod(jnp.zeros(0))) == 1.0


# ---------------------------------------------------------------------------
# Transformations
# ---------------------------------------------------------------------------
def test_grads_of_reductions(x64):
    x = values((3, 4), seed=10, dtype=np.float64)
    mask = np.array([[True, False, True, True]] * 3)
    check_grads(lambda x: jnp.sum(x, axis=1, where=mask, initial=0.5), (x,), order=2)
    check_grads(lambda x: jnp.mean(x, axis=(0, 1), where=mask, keepdims=True), (x,), order=2)
    check_grads(lambda x: jnp.var(x, axis=0, where=mask), (x,), order=2)
    check_grads(lambda x: jnp.max(x, axis=0, initial=-0.5), (x,), order=2)
    check_grads(lambda x: jnp.prod(x, axis=1), (x,), order=2)
    check_grads(lambda x: jnp.average(x, axis=1, weights=np.arange(1.0, 5.0)), (x,), order=2)
    check_grads(lambda x: jnp.cumprod(x, axis=0), (x,), order=2)
    check_grads(lambda x: jnp.ptp(x, axis=1), (x,), order=1)
    xn = x.copy()
    xn[0, 1] = np.nan
    g = jax.grad(lambda x: jnp.nansum(x))(xn)
    np.testing.assert_allclose(np.asarray(g), np.where(np.isnan(xn), 0, 1))
    g = jax.grad(lambda x: jnp.nanmean(x))(xn)
    np.testing.assert_allclose(np.asarray(g), np.where(np.isnan(xn), 0, 1 / 11))


def test_vmap_of_reductions():
    xs = values((5, 3, 4), seed=11)

    def f(x):
        return (jnp.sum(x, axis=0) + jnp.sum(jnp.max(x, axis=-1, keepdims=True))
                + jnp.mean(jnp.var(x, axis=1)) + jnp.prod(jnp.cumsum(x, axis=1), axis=0)
                + jnp.argmax(x, axis=0) + jnp.nanmean(x))

    for in_axes in (0, 1, 2):
        got = jax.vmap(f, in_axes=in_axes)(np.moveaxis(xs, 0, in_axes))
        expected = np.stack([np.asarray(f(x)) for x in xs])
        close(got, expected, rtol=1e-5)
