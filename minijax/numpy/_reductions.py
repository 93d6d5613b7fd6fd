"""Reductions and cumulative reductions: sum, mean, max, var, cumsum, nan-aware variants, ...

They all follow NumPy's conventions:

* ``axis``: an int, a tuple of ints (negative ones count from the end), or ``None`` for all;
* ``keepdims=True`` leaves the reduced axes in place with size 1, so the result
  broadcasts against the input (``x - x.mean(axis=0, keepdims=True)``);
* ``where=mask`` only reduces the elements where ``mask`` is True;
* ``initial=`` is combined into the result (and makes ``max`` of nothing well defined).

Dtypes follow JAX: booleans and narrow integers are summed as the default integer
(int32, or int64 under x64); ``mean``/``var``/``std`` of integers are floats;
results are never weakly typed. Each function ends in one of the ``reduce_*``
primitives, so ``grad`` and ``vmap`` work through all of them.
"""
from __future__ import annotations

import builtins

import numpy as np

from .._src import dtypes
from .._src.core import get_aval
from .._src.primitives import cumulative as lax_cum
from .._src.primitives import reductions as lax_red
from .._src.primitives.elementwise import (add, convert_element_type, div, full, max as _max,
                                           min as _min, mul, ne, select_n, sqrt, sub)
from .._src.primitives.shape import broadcast_to_rank_aligned, expand_dims as _expand_dims
from .._src.primitives.shape import reshape as _reshape
from ._util import as_operand, check_arraylike, requested_dtype

__all__ = ["sum", "prod", "mean", "max", "amax", "min", "amin", "argmax", "argmin", "var", "std",
           "all", "any", "cumsum", "cumprod", "cumulative_sum", "cumulative_prod", "nancumsum",
           "nancumprod", "ptp", "average", "count_nonzero", "nansum", "nanmean",
           "nanmax", "nanmin", "nanprod", "nanvar", "nanstd", "nanargmax", "nanargmin"]


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def _operand(fname, a):
    check_arraylike(fname, a)
    return as_operand(a)


def _axes(axis, ndim):
    """``None`` -> all axes; int or tuple -> a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    raw = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    axes = []
    for a in raw:
        a = int(a)
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of bounds for array of dimension {ndim}")
        axes.append(a % ndim)
    if len(set(axes)) != len(axes):
        raise ValueError(f"duplicate value in 'axis': {axis}")
    return tuple(sorted(axes))


def _one_axis(fname, axis, ndim):
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"jnp.{fname}: axis must be an int or None, got {axis!r}")
    return _axes(axis, ndim)[0]


def _strong(x, dtype=None):
    """``x`` as a strongly typed array of ``dtype`` (reductions never return weak types)."""
    aval = get_aval(x)
    dtype = aval.dtype if dtype is None else dtype
    if aval.dtype == dtype and not aval.weak_type:
        return x
    return convert_element_type(x, dtype, weak_type=False)


def _keep(x, axes, keepdims):
    return _expand_dims(x, axes) if keepdims else x


def _count(shape, axes):
    return int(np.prod([shape[i] for i in axes], dtype=np.int64))


def _summing_dtype(dtype, promote_integers=True):
    """bool -> default int; narrow ints -> the default int/uint (JAX's ``promote_integers``)."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return dtypes.default_int()
    if promote_integers and dtype.kind == "i" and dtype.itemsize < dtypes.default_int().itemsize:
        return dtypes.default_int()
    if promote_integers and dtype.kind == "u" and dtype.itemsize < dtypes.default_uint().itemsize:
        return dtypes.default_uint()
    return dtype


def _float_dtype(dtype):
    """Integers and bools become floats for mean/var: 64-bit ints give float64, others float32."""
    dtype = np.dtype(dtype)
    if dtypes.is_inexact(dtype):
        return dtype
    return dtypes.canonicalize(np.float64 if dtype.itemsize == 8 else np.float32)


def _mask(where, shape):
    """``where`` as a boolean array broadcast to ``shape``."""
    w = as_operand(where)
    if get_aval(w).dtype != np.bool_:
        w = ne(w, convert_element_type(np.asarray(0, get_aval(w).dtype), get_aval(w).dtype))
    return broadcast_to_rank_aligned(w, shape)


def _fill_masked(x, where, fill):
    """``x`` where ``where`` holds, ``fill`` (a Python scalar) elsewhere."""
    if where is None:
        return x
    aval = get_aval(x)
    return select_n(_mask(where, aval.shape), full(aval.shape, fill, aval.dtype), x)


def _const(value, dtype):
    return convert_element_type(np.asarray(value).astype(dtype), dtype)


def _isnan(x):
    return ne(x, x)


# ---------------------------------------------------------------------------
# sum and prod
# ---------------------------------------------------------------------------
def _sum_like(fname, lax_fn, combine, identity, a, axis, dtype, keepdims, initial, where,
              promote_integers):
    a = _operand(fname, a)
    want = requested_dtype(dtype) if dtype is not None else \
        _summing_dtype(get_aval(a).dtype, promote_integers)
    compute = dtypes.float32 if want == dtypes.float16 else want   # sum float16 in float32
    x = _strong(a, compute)
    axes = _axes(axis, get_aval(x).ndim)
    x = _fill_masked(x, where, identity)
    out = lax_fn(x, axes)
    if initial is not None:
        out = combine(out, _strong(as_operand(initial), compute))
    return _keep(_strong(out, want), axes, keepdims)


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None,
        promote_integers=True):
    """Sum of the elements over ``axis``. Booleans count as integers (``sum(x > 0)`` counts)."""
    return _sum_like("sum", lax_red.reduce_sum, add, 0, a, axis, dtype, keepdims, initial, where,
                     promote_integers)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None,
         promote_integers=True):
    """Product of the elements over ``axis`` (1 for an empty reduction)."""
    return _sum_like("prod", lax_red.reduce_prod, mul, 1, a, axis, dtype, keepdims, initial, where,
                     promote_integers)


# ---------------------------------------------------------------------------
# max and min
# ---------------------------------------------------------------------------
def _extremum(fname, lax_fn, combine, a, axis, keepdims, initial, where):
    a = _strong(_operand(fname, a))
    aval = get_aval(a)
    axes = _axes(axis, aval.ndim)
    op = "max" if fname.endswith("max") else "min"
    if initial is None and where is not None:
        raise ValueError(f"reduction operation {op} does not have an identity, so to use a where "
                         f"mask one has to specify 'initial'")
    if initial is None and builtins.any(aval.shape[i] == 0 for i in axes):
        raise ValueError(f"zero-size array to reduction operation {op} which has no identity "
                         f"(pass initial= to say what the {op} of no elements should be)")
    if where is not None:
        identity = lax_red._identity("reduce_" + op, aval.dtype)
        a = _fill_masked(a, where, identity)
    out = lax_fn(a, axes)
    if initial is not None:
        out = combine(out, _strong(as_operand(initial), aval.dtype))
    return _keep(out, axes, keepdims)


def max(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """Largest element over ``axis``. NaN propagates (see ``nanmax`` to ignore NaNs)."""
    return _extremum("max", lax_red.reduce_max, _max, a, axis, keepdims, initial, where)


def min(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """Smallest element over ``axis``. NaN propagates (see ``nanmin`` to ignore NaNs)."""
    return _extremum("min", lax_red.reduce_min, _min, a, axis, keepdims, initial, where)


amax, amin = max, min


def ptp(a, axis=None, out=None, keepdims=False):
    """Peak to peak: ``max - min`` over ``axis``."""
    return sub(max(a, axis, keepdims=keepdims), min(a, axis, keepdims=keepdims))


# ---------------------------------------------------------------------------
# argmax and argmin
# ---------------------------------------------------------------------------
def _arg_extremum(fname, lax_fn, a, axis, keepdims):
    a = _operand(fname, a)
    shape = get_aval(a).shape
    if axis is None:
        flat = _reshape(a, (int(np.prod(shape, dtype=np.int64)),))
        if get_aval(flat).shape[0] == 0:
            raise ValueError(f"attempt to get {fname} of an empty sequence")
        out = lax_fn(flat, 0)
        return _reshape(out, (1,) * len(shape)) if keepdims else out
    ax = _one_axis(fname, axis, len(shape))
    if shape[ax] == 0:
        raise ValueError(f"attempt to get {fname} of an empty sequence")
    return _keep(lax_fn(a, ax), (ax,), keepdims)


def argmax(a, axis=None, out=None, keepdims=None):
    """Index of the largest element along ``axis`` (of the flattened array when None).

    Ties give the first index; a NaN counts as the largest value.
    """
    return _arg_extremum("argmax", lax_red.argmax, a, axis, keepdims)


def argmin(a, axis=None, out=None, keepdims=None):
    """Index of the smallest element along ``axis`` (first one on ties; NaN wins)."""
    return _arg_extremum("argmin", lax_red.argmin, a, axis, keepdims)


# ---------------------------------------------------------------------------
# Logical reductions and counting
# ---------------------------------------------------------------------------
def _as_bool(a):
    aval = get_aval(a)
    return a if aval.dtype == np.bool_ else ne(a, _const(0, aval.dtype))


def all(a, axis=None, out=None, keepdims=False, *, where=None):
    """True where every element over ``axis`` is nonzero (True for no elements)."""
    x = _as_bool(_operand("all", a))
    axes = _axes(axis, get_aval(x).ndim)
    return _keep(_strong(lax_red.reduce_and(_fill_masked(x, where, True), axes)), axes, keepdims)


def any(a, axis=None, out=None, keepdims=False, *, where=None):
    """True where some element over ``axis`` is nonzero (False for no elements)."""
    x = _as_bool(_operand("any", a))
    axes = _axes(axis, get_aval(x).ndim)
    return _keep(_strong(lax_red.reduce_or(_fill_masked(x, where, False), axes)), axes, keepdims)


def count_nonzero(a, axis=None, keepdims=False):
    """Number of nonzero elements over ``axis`` (as the default integer dtype)."""
    x = _as_bool(_operand("count_nonzero", a))
    return sum(convert_element_type(x, dtypes.default_int()), axis, keepdims=keepdims)


# ---------------------------------------------------------------------------
# Mean, variance, standard deviation, average
# ---------------------------------------------------------------------------
def _mean_dtypes(a, dtype):
    """(dtype of the result, dtype to compute in)."""
    want = requested_dtype(dtype) if dtype is not None else _float_dtype(get_aval(a).dtype)
    return want, (dtypes.float32 if want == dtypes.float16 else want)


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """Arithmetic mean over ``axis``; integers give floats. Empty reductions give NaN."""
    a = _operand("mean", a)
    want, compute = _mean_dtypes(a, dtype)
    x = _strong(a, compute)
    shape = get_aval(x).shape
    axes = _axes(axis, len(shape))
    total = lax_red.reduce_sum(_fill_masked(x, where, 0), axes)
    if where is None:
        count = _const(_count(shape, axes), compute)
    else:
        count = lax_red.reduce_sum(convert_element_type(_mask(where, shape), compute), axes)
    return _keep(_strong(div(total, count), want), axes, keepdims)


def _var(fname, a, axis, dtype, ddof, keepdims, where, mean_value, correction, ignore_nan):
    a = _operand(fname, a)
    if correction is not None:
        if ddof:
            raise ValueError("ddof and correction can't be provided simultaneously.")
        ddof = correction
    if dtypes.np.dtype(get_aval(a).dtype).kind == "c":
        raise NotImplementedError(f"jnp.{fname} of complex arrays is not supported in minijax.")
    want, compute = _mean_dtypes(a, dtype)
    x = _strong(a, compute)
    shape = get_aval(x).shape
    axes = _axes(axis, len(shape))
    valid = None if where is None else _mask(where, shape)
    if ignore_nan:
        not_nan = ne(_isnan(x), full((), True, np.bool_))
        valid = not_nan if valid is None else select_n(valid, valid, not_nan)
    if valid is None:
        count = _const(_count(shape, axes), compute)
        xs = x
    else:
        count = lax_red.reduce_sum(convert_element_type(valid, compute), axes)
        xs = select_n(valid, full(shape, 0, compute), x)
    if mean_value is None:
        centre = div(lax_red.reduce_sum(xs, axes), count)
        centre = _expand_dims(centre, axes)
    else:
        centre = _strong(as_operand(mean_value), compute)
    centered = sub(x, broadcast_to_rank_aligned(centre, shape) if get_aval(centre).shape != shape
                   else centre)
    squares = mul(centered, centered)
    if valid is not None:
        squares = select_n(valid, full(shape, 0, compute), squares)
    normalizer = _max(sub(count, _const(ddof, compute)), _const(0, compute))
    out = div(lax_red.reduce_sum(squares, axes), normalizer)
    return _keep(_strong(out, want), axes, keepdims)


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None,
        correction=None):
    """Variance: mean squared distance from the mean, divided by ``N - ddof``."""
    return _var("var", a, axis, dtype, ddof, keepdims, where, mean, correction, False)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None,
        correction=None):
    """Standard deviation: ``sqrt(var(...))``."""
    return sqrt(var(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean,
                    correction=correction))


def average(a, axis=None, weights=None, returned=False, keepdims=False):
    """Weighted mean over ``axis``; ``returned=True`` also gives the sum of the weights."""
    a = _operand("average", a)
    if weights is None:
        avg = mean(a, axis, keepdims=keepdims)
        shape = get_aval(a).shape
        scale = _const(_count(shape, _axes(axis, len(shape))), get_aval(avg).dtype)
        scale = broadcast_to_rank_aligned(scale, get_aval(avg).shape)
        return (avg, scale) if returned else avg
    from ._util import promote_dtypes_inexact
    a, w = promote_dtypes_inexact(a, as_operand(weights))
    a, w = _strong(a), _strong(w)
    a_shape, w_shape = get_aval(a).shape, get_aval(w).shape
    if a_shape != w_shape:
        if axis is None:
            raise ValueError("Axis must be specified when shapes of a and weights differ.")
        if len(w_shape) != 1:
            raise TypeError("1D weights expected when shapes of a and weights differ.")
        ax = _one_axis("average", axis, len(a_shape))
        if w_shape[0] != a_shape[ax]:
            raise ValueError("Length of weights not compatible with specified axis.")
        from .._src.primitives.shape import broadcast_in_dim
        w = broadcast_in_dim(w, a_shape, (ax,))
    axes = _axes(axis, len(a_shape))
    scale = lax_red.reduce_sum(w, axes)
    avg = div(lax_red.reduce_sum(mul(a, w), axes), scale)
    avg, scale = _keep(avg, axes, keepdims), _keep(scale, axes, keepdims)
    return (avg, scale) if returned else avg


# ---------------------------------------------------------------------------
# NaN-ignoring reductions
# ---------------------------------------------------------------------------
def _replace_nan(a, value):
    aval = get_aval(a)
    if not dtypes.is_inexact(aval.dtype):
        return a
    return select_n(_isnan(a), a, full(aval.shape, value, aval.dtype))


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """``sum`` treating NaNs as zero."""
    return sum(_replace_nan(_operand("nansum", a), 0), axis, dtype, keepdims=keepdims,
               initial=initial, where=where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """``prod`` treating NaNs as one."""
    return prod(_replace_nan(_operand("nanprod", a), 1), axis, dtype, keepdims=keepdims,
                initial=initial, where=where)


def _nan_extremum(fname, reducer, fill, a, axis, keepdims, initial, where):
    a = _operand(fname, a)
    if not dtypes.is_inexact(get_aval(a).dtype):
        return reducer(a, axis, keepdims=keepdims, initial=initial, where=where)
    out = reducer(_replace_nan(a, fill), axis, keepdims=keepdims, initial=initial, where=where)
    # Where every element was NaN the answer is NaN, as in NumPy (which also warns).
    all_nan = all(_isnan(a), axis, keepdims=keepdims)
    return select_n(all_nan, out, full(get_aval(out).shape, np.nan, get_aval(out).dtype))


def nanmax(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """``max`` ignoring NaNs (NaN only where every element is NaN)."""
    return _nan_extremum("nanmax", max, -np.inf, a, axis, keepdims, initial, where)


def nanmin(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """``min`` ignoring NaNs (NaN only where every element is NaN)."""
    return _nan_extremum("nanmin", min, np.inf, a, axis, keepdims, initial, where)


def _nan_arg(fname, reducer, fill, a, axis, keepdims):
    a = _operand(fname, a)
    if not dtypes.is_inexact(get_aval(a).dtype):
        return reducer(a, axis, keepdims=keepdims)
    out = reducer(_replace_nan(a, fill), axis, keepdims=keepdims)
    all_nan = all(_isnan(a), axis, keepdims=bool(keepdims))
    return select_n(all_nan, out, full(get_aval(out).shape, -1, get_aval(out).dtype))


def nanargmax(a, axis=None, out=None, keepdims=None):
    """``argmax`` ignoring NaNs (-1 where every element is NaN)."""
    return _nan_arg("nanargmax", argmax, -np.inf, a, axis, keepdims)


def nanargmin(a, axis=None, out=None, keepdims=None):
    """``argmin`` ignoring NaNs (-1 where every element is NaN)."""
    return _nan_arg("nanargmin", argmin, np.inf, a, axis, keepdims)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, where=None):
    """``mean`` of the non-NaN elements (NaN where there are none)."""
    a = _operand("nanmean", a)
    if not dtypes.is_inexact(get_aval(a).dtype):
        return mean(a, axis, dtype, keepdims=keepdims, where=where)
    valid = ne(_isnan(a), full((), True, np.bool_))
    if where is not None:
        valid = select_n(_mask(where, get_aval(a).shape), full(get_aval(a).shape, False, np.bool_),
                         valid)
    return mean(a, axis, dtype, keepdims=keepdims, where=valid)


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None):
    """``var`` of the non-NaN elements."""
    return _var("nanvar", a, axis, dtype, ddof, keepdims, where, mean, None, True)


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None):
    """``std`` of the non-NaN elements."""
    return sqrt(nanvar(a, axis, dtype, out, ddof, keepdims, where, mean))


# ---------------------------------------------------------------------------
# Cumulative reductions
# ---------------------------------------------------------------------------
def _cumulative(fname, lax_fn, a, axis, dtype, promote_integers=False):
    a = _operand(fname, a)
    if axis is None:
        a = _reshape(a, (get_aval(a).size,))
        axis = 0
    ax = _one_axis(fname, axis, get_aval(a).ndim)
    want = requested_dtype(dtype) if dtype is not None else \
        _summing_dtype(get_aval(a).dtype, promote_integers)
    return lax_fn(_strong(a, want), ax)


def cumsum(a, axis=None, dtype=None, out=None):
    """Running sum along ``axis`` (of the flattened array when None)."""
    return _cumulative("cumsum", lax_cum.cumsum, a, axis, dtype)


def cumprod(a, axis=None, dtype=None, out=None):
    """Running product along ``axis`` (of the flattened array when None)."""
    return _cumulative("cumprod", lax_cum.cumprod, a, axis, dtype)


def nancumsum(a, axis=None, dtype=None, out=None):
    """``cumsum`` treating NaNs as zero."""
    return cumsum(_replace_nan(_operand("nancumsum", a), 0), axis, dtype)


def nancumprod(a, axis=None, dtype=None, out=None):
    """``cumprod`` treating NaNs as one."""
    return cumprod(_replace_nan(_operand("nancumprod", a), 1), axis, dtype)


def _cumulative_api(fname, lax_fn, identity, x, axis, dtype, include_initial):
    x = _operand(fname, x)
    ndim = get_aval(x).ndim
    if axis is None:
        if ndim != 1:
            raise ValueError(f"The input array has rank {ndim}, however axis was not set to an "
                             f"explicit value. The axis argument is only optional for "
                             f"one-dimensional arrays.")
        axis = 0
    out = _cumulative(fname, lax_fn, x, axis, dtype, promote_integers=True)
    if include_initial:
        from .._src.primitives.slicing import pad
        ax = _one_axis(fname, axis, ndim)
        config = [(0, 0, 0)] * ndim
        config[ax] = (1, 0, 0)
        out = pad(out, _const(identity, get_aval(out).dtype), config)
    return out


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    """Array-API running sum; ``include_initial=True`` starts the result with a 0."""
    return _cumulative_api("cumulative_sum", lax_cum.cumsum, 0, x, axis, dtype, include_initial)


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
    """Array-API running product; ``include_initial=True`` starts the result with a 1."""
    return _cumulative_api("cumulative_prod", lax_cum.cumprod, 1, x, axis, dtype, include_initial)
