"""Sorting and everything built on it: sort, argsort, lexsort, searchsorted, unique,
partition, and the order statistics median / quantile / percentile.

All of it rests on one primitive, ``sort`` (``_src/primitives/sorting.py``), which
sorts several arrays together by their first ``num_keys``:

* ``argsort(x)`` sorts ``(x, iota)`` and keeps the second output;
* ``lexsort(keys)`` sorts ``(*reversed(keys), iota)`` with ``num_keys=len(keys)``;
* ``descending=True`` reverses before and after an ascending stable sort, which keeps
  equal elements in their original order (as JAX does).

Shapes must be known while tracing, so ``unique`` (whose output length depends on the
*values*) only works on concrete arrays -- unless you promise a ``size=``.
"""
from __future__ import annotations

import numpy as np

from .._src import dtypes
from .._src.array import Array
from .._src.core import Tracer, get_aval
from .._src.primitives import sorting as lax_sorting
from .._src.primitives.concatenate import concatenate
from .._src.primitives.elementwise import (add, bitwise_not, ceil, convert_element_type, div, eq,
                                           floor, full, lt, le, max as lax_max,
                                           min as lax_min, mul, ne,
                                           select_n, sub)
from .._src.primitives.reductions import reduce_or, reduce_sum
from .._src.primitives.shape import broadcast_in_dim, broadcasted_iota, reshape, rev, transpose
from .._src.primitives.slicing import slice_in_dim
from ._util import (as_operand, canonicalize_axis, canonicalize_axes, check_arraylike,
                    promote_dtypes_inexact)

__all__ = ["sort", "argsort", "lexsort", "searchsorted", "unique", "unique_values",
           "unique_counts", "unique_inverse", "unique_all", "partition", "argpartition",
           "median", "quantile", "percentile", "nanmedian", "nanquantile", "nanpercentile",
           "sort_complex"]


def _index_dtype():
    return dtypes.default_int()


def _flatten_or_axis(a, axis):
    """(array, axis): ``axis=None`` means the flattened array."""
    a = as_operand(a)
    if axis is None:
        return reshape(a, (get_aval(a).size,)), 0
    return a, canonicalize_axis(axis, get_aval(a).ndim)


def _check_sort_args(fname, kind, order):
    if kind is not None:
        # Accepted for NumPy compatibility; JAX ignores it too (use stable=).
        pass
    if order is not None:
        raise TypeError(f"'order' argument to jnp.{fname} is not supported (it applies to "
                        f"structured arrays, which minijax does not have).")


def _scalar_error(fname, a):
    if get_aval(a).ndim == 0:
        raise ValueError(f"jnp.{fname} needs an array with at least one axis, got a scalar. "
                         f"Use axis=None to flatten, or jnp.atleast_1d first.")


def sort(a, axis=-1, *, kind=None, order=None, stable=True, descending=False):
    """Sorted copy of ``a`` along ``axis`` (``None``: flattened). NaNs sort to the end."""
    check_arraylike("sort", a)
    _check_sort_args("sort", kind, order)
    a, axis = _flatten_or_axis(a, axis)
    _scalar_error("sort", a)
    if descending:
        return rev(lax_sorting.sort(rev(a, (axis,)), axis, is_stable=stable), (axis,))
    return lax_sorting.sort(a, axis, is_stable=stable)


def argsort(a, axis=-1, *, kind=None, order=None, stable=True, descending=False, dtype=None):
    """Indices that sort ``a`` along ``axis``: ``a[argsort(a)]`` is sorted (int32).

    With ``stable=True`` (the default) equal elements keep their original order, also
    for ``descending=True``.
    """
    check_arraylike("argsort", a)
    _check_sort_args("argsort", kind, order)
    a, axis = _flatten_or_axis(a, axis)
    _scalar_error("argsort", a)
    shape = get_aval(a).shape
    from ._util import requested_dtype
    idx = broadcasted_iota(requested_dtype(dtype) or _index_dtype(), shape, axis)
    if descending:
        # Sort the reversed array (indices reversed along with it), then reverse back:
        # ties end up in their original order.
        _, perm = lax_sorting.sort((rev(a, (axis,)), rev(idx, (axis,))), axis, is_stable=stable)
        return rev(perm, (axis,))
    _, perm = lax_sorting.sort((a, idx), axis, is_stable=stable, num_keys=1)
    return perm


def lexsort(keys, axis=-1):
    """Indirect sort by several keys: the *last* key is the primary one (as in NumPy)."""
    keys = [as_operand(k) for k in keys]
    if not keys:
        raise TypeError("need sequence of keys with len > 0 in lexsort")
    shapes = {get_aval(k).shape for k in keys}
    if len(shapes) != 1:
        raise ValueError(f"all keys need to be the same shape, got {sorted(shapes)}.")
    shape = shapes.pop()
    if not shape:
        raise TypeError("jnp.lexsort needs keys with at least one axis.")
    axis = canonicalize_axis(axis, len(shape))
    idx = broadcasted_iota(_index_dtype(), shape, axis)
    outs = lax_sorting.sort(tuple(keys[::-1]) + (idx,), axis, num_keys=len(keys))
    return outs[-1]


def sort_complex(a):
    """Sort (flattened along the last axis) and return a complex array."""
    from .._src import dtypes as _d
    out = sort(a, axis=-1)
    dtype = get_aval(out).dtype
    if dtype.kind != "c":
        out = convert_element_type(out, _d.default_complex() if dtype.itemsize < 8 or
                                   not _d.x64_enabled() else np.complex128)
    return out


def searchsorted(a, v, side="left", sorter=None, *, method="scan"):
    """Where to insert ``v`` into the sorted 1-D ``a`` to keep it sorted.

    ``side='left'`` gives the first suitable index (count of ``a < v``), ``'right'`` the
    last (count of ``a <= v``). Computed by comparing every ``v`` with every ``a`` and
    counting -- JAX's ``method='compare_all'`` -- which is simple and vectorizes well;
    the other methods give identical answers.
    """
    check_arraylike("searchsorted", a, v)
    if side not in ("left", "right"):
        raise ValueError(f"side={side!r} is not valid: use 'left' or 'right'.")
    if method not in ("scan", "scan_unrolled", "sort", "compare_all"):
        raise ValueError(f"method={method!r} is not valid: use 'scan', 'scan_unrolled', 'sort' "
                         f"or 'compare_all'.")
    a, v = as_operand(a), as_operand(v)
    if get_aval(a).ndim != 1:
        raise ValueError(f"a should be 1-dimensional, got shape {get_aval(a).shape}.")
    if sorter is not None:
        a = _permute(a, as_operand(sorter))
    from ._util import promote_dtypes
    a, v = promote_dtypes(a, v)
    n = get_aval(a).shape[0]
    vshape = get_aval(v).shape
    grid = vshape + (n,)
    a_b = broadcast_in_dim(a, grid, (len(vshape),))
    v_b = broadcast_in_dim(v, grid, tuple(range(len(vshape))))
    before = lt(a_b, v_b) if side == "left" else le(a_b, v_b)
    return reduce_sum(convert_element_type(before, _index_dtype()), (len(vshape),))


def _permute(a, perm):
    """``a[perm]`` for a permutation ``perm`` of a 1-D array, with two sorts (no gather):
    argsort(perm) is the inverse permutation, and sorting ``a`` by it applies ``perm``."""
    n = get_aval(a).shape[0]
    inverse = lax_sorting.sort((perm, broadcasted_iota(_index_dtype(), (n,), 0)), 0)[1]
    return lax_sorting.sort((inverse, a), 0)[1]


# ---------------------------------------------------------------------------
# unique
# ---------------------------------------------------------------------------
def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
           equal_nan=True, size=None, fill_value=None, sorted=True):
    """Sorted unique elements, optionally with first indices, inverse map and counts.

    The number of unique elements depends on the data, so under ``jit``/``vmap``/``grad``
    you must pass ``size=``: the output is then cut or padded to ``size`` (padding with
    ``fill_value``, by default the smallest unique value; padded counts are 0).
    """
    check_arraylike("unique", ar)
    ar = as_operand(ar)
    if size is None:
        if isinstance(ar, Tracer) and ar.concrete_value() is None:
            from .. import errors
            raise errors.ConcretizationTypeError(
                ar, "The error arose for the first argument of jnp.unique(): the number of "
                    "unique elements decides the output's shape, which must be known while "
                    "tracing. Pass a concrete size= (e.g. jnp.unique(x, size=x.size)), which "
                    "pads or cuts the result to that length.\n")
        return _unique_eager(np.asarray(ar.concrete_value() if isinstance(ar, Tracer) else ar),
                             return_index, return_inverse, return_counts, axis, equal_nan)
    if axis is not None:
        raise NotImplementedError("jnp.unique(axis=..., size=...) is not supported; use "
                                  "axis=None or call it on a concrete array without size.")
    return _unique_sized(ar, int(size), fill_value, return_index, return_inverse, return_counts,
                         equal_nan)


def _unique_eager(x, return_index, return_inverse, return_counts, axis, equal_nan):
    out = np.unique(x, return_index=True, return_inverse=True, return_counts=True, axis=axis,
                    equal_nan=equal_nan)
    values, index, inverse, counts = out
    if axis is None:
        inverse = inverse.reshape(x.shape)
    idt = _index_dtype()
    results = [Array(values)]
    if return_index:
        results.append(Array(index.astype(idt)))
    if return_inverse:
        results.append(Array(inverse.astype(idt)))
    if return_counts:
        results.append(Array(counts.astype(idt)))
    return results[0] if len(results) == 1 else tuple(results)


def _is_nan(x):
    return ne(x, x)


def _unique_sized(ar, size, fill_value, return_index, return_inverse, return_counts,
                  equal_nan):
    """Fixed-size unique with sorts only: mark the first element of each run of equal
    sorted values, then stable-sort those marks to the front."""
    shape = get_aval(ar).shape
    flat = reshape(ar, (get_aval(ar).size,))
    n = get_aval(flat).shape[0]
    idt = _index_dtype()
    iota = broadcasted_iota(idt, (n,), 0)
    svals, first_idx = lax_sorting.sort((flat, iota), 0)          # stable: first occurrences
    if n:
        prev = slice_in_dim(svals, 0, n - 1)
        nxt = slice_in_dim(svals, 1, n)
        differs = ne(nxt, prev)
        if equal_nan and get_aval(svals).dtype.kind in "fc":
            both_nan = _bool_and(_is_nan(nxt), _is_nan(prev))
            differs = _bool_and(differs, bitwise_not(both_nan))
        is_new = concatenate([full((1,), True, np.bool_), differs], 0)
    else:
        is_new = full((0,), True, np.bool_)
    # Stable sort by "not new": the run starts come first, in sorted order.
    key = convert_element_type(bitwise_not(is_new), np.int32)
    positions = broadcasted_iota(idt, (n,), 0)
    _, uvals, uidx, ustart = lax_sorting.sort((key, svals, first_idx, positions), 0)
    count = reduce_sum(convert_element_type(is_new, idt), (0,))
    if return_counts:   # run k spans sorted positions [start_k, start_{k+1}); the last ends at n
        nxt = concatenate([slice_in_dim(ustart, 1, n), full((1,), n, idt)], 0) if n else ustart
        has_next = lt(add(positions, full((), 1, idt)), broadcast_in_dim(count, (n,), ()))
        run_counts = _fit(sub(select_n(has_next, full((n,), n, idt), nxt), ustart), size)
    uvals, uidx = _fit(uvals, size), _fit(uidx, size)
    slot = broadcasted_iota(idt, (size,), 0)
    valid = lt(slot, broadcast_in_dim(count, (size,), ()))
    if fill_value is None:
        fill_v = broadcast_in_dim(reshape(slice_in_dim(svals, 0, 1), ()), (size,), ()) if n \
            else full((size,), 0, get_aval(svals).dtype)
        fill_i = broadcast_in_dim(reshape(slice_in_dim(first_idx, 0, 1), ()), (size,), ()) if n \
            else full((size,), 0, idt)
    else:
        fill_v = broadcast_in_dim(convert_element_type(as_operand(fill_value),
                                                       get_aval(svals).dtype), (size,), ())
        fill_i = broadcast_in_dim(convert_element_type(as_operand(fill_value), idt), (size,), ())
    values = select_n(valid, fill_v, uvals)
    results = [values]
    if return_index:
        results.append(select_n(valid, fill_i, uidx))
    if return_inverse:
        # Run number of each sorted element (cumulative count of run starts), moved back
        # to the element's original position with the inverse permutation (a sort by index).
        from .._src.primitives.cumulative import cumsum
        run = sub(cumsum(convert_element_type(is_new, idt), 0), full((), 1, idt)) if n else \
            full((0,), 0, idt)
        inverse = lax_sorting.sort((first_idx, run), 0)[1]
        results.append(reshape(inverse, shape))
    if return_counts:
        results.append(select_n(valid, full((size,), 0, idt), run_counts))
    return results[0] if len(results) == 1 else tuple(results)


def _bool_and(x, y):
    from .._src.primitives.elementwise import bitwise_and
    return bitwise_and(x, y)


def _fit(x, size):
    """Cut or pad (with zeros) a 1-D array to ``size``."""
    n = get_aval(x).shape[0]
    if n >= size:
        return slice_in_dim(x, 0, size)
    return concatenate([x, full((size - n,), 0, get_aval(x).dtype)], 0)


def unique_values(x, /, *, size=None, fill_value=None):
    """Array-API: the unique values (sorted)."""
    return unique(x, size=size, fill_value=fill_value)


def unique_counts(x, /, *, size=None, fill_value=None):
    """Array-API: ``(values, counts)``."""
    return unique(x, return_counts=True, size=size, fill_value=fill_value)


def unique_inverse(x, /, *, size=None, fill_value=None):
    """Array-API: ``(values, inverse_indices)``."""
    return unique(x, return_inverse=True, size=size, fill_value=fill_value)


def unique_all(x, /, *, size=None, fill_value=None):
    """Array-API: ``(values, indices, inverse_indices, counts)``."""
    return unique(x, return_index=True, return_inverse=True, return_counts=True, size=size,
                  fill_value=fill_value)


# ---------------------------------------------------------------------------
# partition
# ---------------------------------------------------------------------------
def partition(a, kth, axis=-1):
    """Rearranged copy with the ``kth`` element in its sorted place, smaller ones before it
    and larger ones after. (Here simply a full sort, which satisfies that contract; JAX's
    order within the two sides differs.)"""
    a = as_operand(a)
    _check_kth(a, kth, axis, "partition")
    return sort(a, axis)


def argpartition(a, kth, axis=-1):
    """Indices that would partition ``a`` (here: a stable argsort, see ``partition``)."""
    a = as_operand(a)
    _check_kth(a, kth, axis, "argpartition")
    return argsort(a, axis)


def _check_kth(a, kth, axis, fname):
    if isinstance(kth, Tracer):
        raise TypeError(f"jnp.{fname}: kth must be a concrete integer.")
    shape = get_aval(a).shape
    if not shape:
        raise ValueError(f"jnp.{fname} needs an array with at least one axis.")
    n = shape[canonicalize_axis(axis, len(shape))]
    if not -n <= int(kth) < n:
        raise ValueError(f"kth(={kth}) out of bounds for an axis of length {n}.")


# ---------------------------------------------------------------------------
# Order statistics: quantile, percentile, median (and the nan-ignoring versions)
# ---------------------------------------------------------------------------
_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(fname, a, q, axis, method, keepdims, ignore_nans):
    if method not in _METHODS:
        raise ValueError(f"method can only be 'linear', 'lower', 'higher', 'midpoint' or "
                         f"'nearest', got {method!r}.")
    check_arraylike(fname, a, q)
    a, q = promote_dtypes_inexact(as_operand(a), as_operand(q))
    if get_aval(a).dtype != get_aval(q).dtype:    # e.g. a weakly typed q
        q = convert_element_type(q, get_aval(a).dtype)
    qshape = get_aval(q).shape
    if len(qshape) > 1:
        raise ValueError(f"q must be have rank <= 1, got shape {qshape}")
    ashape = get_aval(a).shape
    nd = len(ashape)
    axes = canonicalize_axes(axis, nd)
    if not axes and nd:
        raise ValueError(f"jnp.{fname}: axis=() reduces nothing.")
    kept = tuple(d for d in range(nd) if d not in axes)
    kept_shape = tuple(ashape[d] for d in kept)
    n = int(np.prod([ashape[d] for d in axes], dtype=np.int64)) if nd else 1
    # Move the reduced axes last and flatten them into one axis of length n.
    x = reshape(transpose(a, kept + axes), kept_shape + (n,))
    last = len(kept_shape)
    dtype = get_aval(x).dtype
    sorted_x = lax_sorting.sort(x, last)
    isnan = _is_nan(x)
    if ignore_nans:
        count = reduce_sum(convert_element_type(bitwise_not(isnan), dtype), (last,))
    else:
        count = full(kept_shape, n, dtype)
        any_nan = reduce_or(isnan, (last,))
    out_shape = qshape + kept_shape
    grid = out_shape + (n,)
    q_b = broadcast_in_dim(q, out_shape, tuple(range(len(qshape))))
    count_b = broadcast_in_dim(count, out_shape, tuple(range(len(qshape), len(out_shape))))
    one = full((), 1, dtype)
    zero = full((), 0, dtype)
    top = sub(count_b, one)
    pos = mul(q_b, top)
    low, high = floor(pos), ceil(pos)
    high_w = sub(pos, low)
    low_w = sub(one, high_w)
    low = lax_max(zero, lax_min(low, top))
    high = lax_max(zero, lax_min(high, top))
    sorted_b = broadcast_in_dim(sorted_x, grid, tuple(range(len(qshape), len(grid))))
    slots = broadcasted_iota(dtype, grid, len(grid) - 1)

    def pick(index):
        """``sorted[..., index]`` with a one-hot select (works for traced indices, no gather)."""
        hit = eq(slots, broadcast_in_dim(index, grid, tuple(range(len(out_shape)))))
        return reduce_sum(select_n(hit, full(grid, 0, dtype), sorted_b), (len(grid) - 1,))

    if method == "linear":
        out = add(mul(pick(low), low_w), mul(pick(high), high_w))
    elif method == "lower":
        out = pick(low)
    elif method == "higher":
        out = pick(high)
    elif method == "midpoint":
        out = mul(add(pick(low), pick(high)), full((), 0.5, dtype))
    else:  # nearest; a tie (weight exactly 0.5) goes to the lower neighbour, as in JAX
        out = select_n(le(high_w, full((), 0.5, dtype)), pick(high), pick(low))
    if not ignore_nans:
        nan_b = broadcast_in_dim(any_nan, out_shape, tuple(range(len(qshape), len(out_shape))))
        out = select_n(nan_b, out, full(out_shape, np.nan, dtype))
    if keepdims:
        keep_shape = tuple(1 if d in axes else ashape[d] for d in range(nd))
        out = reshape(out, qshape + keep_shape)
    return out


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False):
    """The ``q``-th quantile(s) (``0 <= q <= 1``) of ``a`` over ``axis``.

    With ``method='linear'`` the value at fractional sorted position ``q * (n - 1)`` is
    interpolated between its two neighbours. The axes of ``q`` come first in the result.
    NaN in the data gives NaN (see ``nanquantile``).
    """
    _no_out(out, overwrite_input, "quantile")
    return _quantile("quantile", a, q, axis, method, keepdims, ignore_nans=False)


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False):
    """``quantile`` ignoring NaNs (all-NaN slices give NaN)."""
    _no_out(out, overwrite_input, "nanquantile")
    return _quantile("nanquantile", a, q, axis, method, keepdims, ignore_nans=True)


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False):
    """``quantile`` with ``q`` in percent (0..100)."""
    _no_out(out, overwrite_input, "percentile")
    (q,) = promote_dtypes_inexact(as_operand(q))
    return _quantile("percentile", a, div(q, full((), 100, get_aval(q).dtype)), axis, method,
                     keepdims, ignore_nans=False)


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=False):
    """``percentile`` ignoring NaNs."""
    _no_out(out, overwrite_input, "nanpercentile")
    (q,) = promote_dtypes_inexact(as_operand(q))
    return _quantile("nanpercentile", a, div(q, full((), 100, get_aval(q).dtype)), axis, method,
                     keepdims, ignore_nans=True)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """Middle value over ``axis`` (the mean of the two middle values for even counts)."""
    _no_out(out, overwrite_input, "median")
    return _quantile("median", a, 0.5, axis, "midpoint", keepdims, ignore_nans=False)


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """``median`` ignoring NaNs."""
    _no_out(out, overwrite_input, "nanmedian")
    return _quantile("nanmedian", a, 0.5, axis, "midpoint", keepdims, ignore_nans=True)


def _no_out(out, overwrite_input, fname):
    if out is not None:
        raise NotImplementedError(f"The 'out' argument to jnp.{fname} is not supported "
                                  f"(JAX arrays are immutable; use the return value).")
    if overwrite_input:
        raise ValueError(f"jnp.{fname} cannot overwrite its input: JAX arrays are immutable. "
                         f"Pass overwrite_input=False.")

