"""More ways to create arrays: ranges (linspace, logspace, geomspace), grids (meshgrid,
indices), and triangular/diagonal matrices (tri, tril, triu, diag, diagonal, ...).

None of these needs a new primitive. Triangles and diagonals are *masks*: compare a
row ``iota`` with a column ``iota`` and ``select`` -- the way XLA builds them too.
Selecting (rather than multiplying by a 0/1 matrix) keeps an ``inf`` or ``nan``
outside the mask from leaking in as ``0 * inf = nan``.
"""
from __future__ import annotations

import numpy as np

from .._src import dtypes
from .._src.core import concrete_or_error, get_aval
from .._src.primitives.concatenate import concatenate
from .._src.primitives.elementwise import (add, convert_element_type, div, eq, floor, full, ge, le,
                                           mul, pow, select_n, sign, sub)
from .._src.primitives.reductions import reduce_or, reduce_sum
from .._src.primitives.shape import (broadcast_in_dim, broadcasted_iota, iota, reshape,
                                     transpose)
from .._src.primitives.slicing import slice as lax_slice
from ._util import (as_operand, broadcast_shapes, canonicalize_axis, check_arraylike,
                    promote_dtypes, requested_dtype, result_dtype)

__all__ = ["linspace", "logspace", "geomspace", "meshgrid", "tri", "tril", "triu", "diag",
           "diagflat", "diagonal", "indices", "vander", "fromfunction", "fill_diagonal",
           "tril_indices", "triu_indices", "diag_indices"]


def _static_int(x, what, fname):
    value = concrete_or_error(x, f"The {what} argument of jnp.{fname} must be a concrete "
                                 f"integer: it decides the output's shape, which must be known "
                                 f"while tracing.")
    if value.ndim or value.dtype.kind not in "iub":
        if value.ndim == 0 and float(value) == int(value):
            return int(value)
        raise TypeError(f"jnp.{fname}: {what} must be an integer, got {value!r}.")
    return int(value)


def _scalar_const(value, dtype):
    return convert_element_type(np.asarray(value, dtype), dtype)


# ===========================================================================
# Ranges
# ===========================================================================
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
             device=None):
    """``num`` evenly spaced samples from ``start`` to ``stop`` (inclusive if ``endpoint``).

    Sample ``i`` is ``start * (1 - t_i) + stop * t_i`` with ``t_i = i / div`` (``div`` is
    ``num - 1`` with the endpoint, else ``num``): unlike ``start + i * step`` this hits
    both ends exactly. The endpoint itself is appended as ``stop``. Array ``start``/``stop`` give one range per element, along a new ``axis``.
    """
    del device
    num = _static_int(num, "num", "linspace")
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    check_arraylike("linspace", start, stop)
    want = requested_dtype(dtype)
    dtype = want or result_dtype(start, stop, 1.0)[0]
    compute = dtype if dtypes.is_inexact(dtype) else dtypes.default_float()
    start, stop = (convert_element_type(as_operand(x), compute) for x in (start, stop))
    bshape = broadcast_shapes(get_aval(start).shape, get_aval(stop).shape)
    start, stop = (_broadcast(x, bshape) for x in (start, stop))
    axis = canonicalize_axis(axis, len(bshape) + 1)
    out_shape = bshape[:axis] + (num,) + bshape[axis:]
    keep = tuple(d for d in range(len(out_shape)) if d != axis)
    div_ = (num - 1) if endpoint else num
    if num > 1:
        n_steps = num - 1 if endpoint else num
        steps_shape = bshape[:axis] + (n_steps,) + bshape[axis:]
        # JAX writes start * (1 - t) + stop * t with t = i / div. XLA then rewrites the
        # division by a constant as a multiplication by its reciprocal and reassociates
        # stop * (i * r) into i * (stop * r); we write that form, so float32 results match
        # JAX's (up to XLA:CPU fusing the final multiply-add into one FMA: <= 1 ulp).
        r = _scalar_const(np.asarray(1, compute) / np.asarray(div_, compute), compute)
        i = broadcasted_iota(compute, steps_shape, axis)
        one = _scalar_const(1, compute)
        start_b = broadcast_in_dim(start, steps_shape, keep)
        stop_r = broadcast_in_dim(mul(stop, r), steps_shape, keep)
        out = add(mul(start_b, sub(one, mul(i, r))), mul(i, stop_r))
        if endpoint:
            last = broadcast_in_dim(stop, bshape[:axis] + (1,) + bshape[axis:], keep)
            out = concatenate([out, last], axis)
    elif num == 1:
        out = broadcast_in_dim(start, out_shape, keep)
    else:
        out = full(out_shape, 0, compute)
    if dtypes.is_integer(dtype):
        out = floor(out)
    out = convert_element_type(out, dtype)
    if retstep:
        step = div(sub(stop, start), _scalar_const(div_, compute)) if div_ > 0 else \
            full(bshape, np.nan, compute)
        return out, convert_element_type(step, dtype) if dtypes.is_inexact(dtype) else step
    return out


def _broadcast(x, shape):
    s = get_aval(x).shape
    if s == tuple(shape):
        return x
    return broadcast_in_dim(x, tuple(shape), tuple(range(len(shape) - len(s), len(shape))))


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """``base ** linspace(start, stop, ...)``: samples evenly spaced on a log scale."""
    want = requested_dtype(dtype)
    dtype = want or result_dtype(start, stop, 1.0)[0]
    compute = dtype if dtypes.is_inexact(dtype) else dtypes.default_float()
    lin = linspace(start, stop, num, endpoint=endpoint, dtype=compute, axis=axis)
    base = convert_element_type(as_operand(base), compute)
    base = _broadcast_base(base, get_aval(lin).shape, axis)
    out = pow(base, lin)
    if dtypes.is_integer(dtype):
        out = floor(out)
    return convert_element_type(out, dtype)


def _broadcast_base(base, shape, axis):
    bs = get_aval(base).shape
    if bs == ():
        return broadcast_in_dim(base, shape, ())
    axis = canonicalize_axis(axis, len(shape))
    rest = shape[:axis] + shape[axis + 1:]
    base = _broadcast(base, rest)
    return broadcast_in_dim(base, shape, tuple(d for d in range(len(shape)) if d != axis))


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """Samples evenly spaced on a log scale, from ``start`` to ``stop`` (same sign, nonzero)."""
    from .._src.primitives.elementwise import abs as lax_abs, log
    want = requested_dtype(dtype)
    dtype = want or result_dtype(start, stop, 1.0)[0]
    compute = dtype if dtypes.is_inexact(dtype) else dtypes.default_float()
    start, stop = (convert_element_type(as_operand(x), compute) for x in (start, stop))
    s = sign(start)
    ten = _scalar_const(10, compute)
    log10 = lambda x: div(log(x), log(ten))                      # noqa: E731
    out = logspace(log10(lax_abs(start)), log10(lax_abs(stop)), num, endpoint=endpoint,
                   base=10.0, dtype=compute, axis=axis)
    axis_c = canonicalize_axis(axis, get_aval(out).ndim)
    out = mul(_broadcast_base(s, get_aval(out).shape, axis_c), out)
    if dtypes.is_integer(dtype):
        out = floor(out)
    return convert_element_type(out, dtype)


# ===========================================================================
# Grids
# ===========================================================================
def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """Coordinate grids from 1-D arrays. ``indexing='xy'`` (default) swaps the first two
    output axes (Cartesian, as in plotting); ``'ij'`` is matrix indexing."""
    del copy
    check_arraylike("meshgrid", *xi)
    if indexing not in ("xy", "ij"):
        raise ValueError(f"Valid values for indexing are 'xy' and 'ij', got {indexing!r}.")
    xi = [as_operand(x) for x in xi]
    for i, x in enumerate(xi):
        if get_aval(x).ndim != 1:
            raise ValueError(f"Arguments to jax.numpy.meshgrid must be 1D, got shape "
                             f"{get_aval(x).shape} for argument {i}.")
    shape = [get_aval(x).shape[0] for x in xi]
    if indexing == "xy" and len(xi) >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    outs = []
    for i, x in enumerate(xi):
        axis = i
        if indexing == "xy" and len(xi) >= 2 and i < 2:
            axis = 1 - i
        if sparse:
            s = [1] * len(xi)
            s[axis] = shape[axis]
            outs.append(reshape(x, tuple(s)))
        else:
            outs.append(broadcast_in_dim(x, tuple(shape), (axis,)))
    return outs


def indices(dimensions, dtype=None, sparse=False):
    """``out[k][i0, i1, ...] = ik``: the index grid of an array of shape ``dimensions``."""
    dtype = requested_dtype(dtype) or dtypes.default_int()
    dimensions = tuple(int(d) for d in dimensions)
    n = len(dimensions)
    if sparse:
        return tuple(reshape(iota(dtype, d), tuple(d if j == i else 1 for j in range(n)))
                     for i, d in enumerate(dimensions))
    grids = [reshape(broadcasted_iota(dtype, dimensions, i), (1,) + dimensions)
             for i in range(n)]
    if not grids:
        return full((0,), 0, dtype)
    return concatenate(grids, 0)


def fromfunction(function, shape, *, dtype=float, **kwargs):
    """``function(*indices(shape))``: build an array from a function of its coordinates."""
    dtype = requested_dtype(dtype)
    grids = [broadcasted_iota(dtype, tuple(int(s) for s in shape), i) for i in range(len(shape))]
    return function(*grids, **kwargs)


# ===========================================================================
# Triangles and diagonals
# ===========================================================================
def _tri_mask(n, m, k, lower=True):
    """(n, m) boolean: true where ``col - row <= k`` (lower) or ``>= k`` (upper)."""
    rows = broadcasted_iota(np.int32, (n, m), 0)
    cols = broadcasted_iota(np.int32, (n, m), 1)
    offset = sub(cols, rows)
    kk = _scalar_const(k, np.int32)
    return le(offset, kk) if lower else ge(offset, kk)


def tri(N, M=None, k=0, dtype=None):
    """Ones on and below diagonal ``k``, zeros above: shape ``(N, M)``."""
    N = _static_int(N, "N", "tri")
    M = N if M is None else _static_int(M, "M", "tri")
    dtype = requested_dtype(dtype) or dtypes.default_float()
    return convert_element_type(_tri_mask(N, M, int(k)), dtype)


def _mask_last_two(m, mask_fn, k, fname):
    m = as_operand(m)
    shape = get_aval(m).shape
    if len(shape) < 2:
        raise ValueError(f"jnp.{fname} requires an array of at least two dimensions, got shape "
                         f"{shape}.")
    mask = broadcast_in_dim(mask_fn(shape[-2], shape[-1], int(k)), shape,
                            (len(shape) - 2, len(shape) - 1))
    zero = full(shape, 0, get_aval(m).dtype)
    return select_n(mask, zero, m)


def tril(m, k=0):
    """Keep diagonal ``k`` and below (of the last two axes); zero the rest."""
    return _mask_last_two(m, lambda n, c, k: _tri_mask(n, c, k, True), k, "tril")


def triu(m, k=0):
    """Keep diagonal ``k`` and above (of the last two axes); zero the rest."""
    return _mask_last_two(m, lambda n, c, k: _tri_mask(n, c, k, False), k, "triu")


def diagonal(a, offset=0, axis1=0, axis2=1):
    """The diagonal ``a[i, i + offset]`` of the ``axis1``/``axis2`` plane, as the last axis.

    Built as: slice out the square block the diagonal runs through, then keep its
    diagonal with an ``iota == iota`` mask and sum the other axis away.
    """
    a = as_operand(a)
    shape = get_aval(a).shape
    nd = len(shape)
    if nd < 2:
        raise ValueError(f"diagonal requires an array of at least two dimensions, got shape "
                         f"{shape}.")
    axis1, axis2 = canonicalize_axis(axis1, nd), canonicalize_axis(axis2, nd)
    if axis1 == axis2:
        raise ValueError("axis1 and axis2 must not be the same axis.")
    offset = int(offset)
    rest = tuple(d for d in range(nd) if d not in (axis1, axis2))
    a = transpose(a, rest + (axis1, axis2))
    n, m = shape[axis1], shape[axis2]
    r0, c0 = min(max(0, -offset), n), min(max(0, offset), m)
    L = max(0, min(n - r0, m - c0))
    lead = tuple(shape[d] for d in rest)
    if (r0, c0, L, L) != (0, 0, n, m):
        a = lax_slice(a, (0,) * len(rest) + (r0, c0), lead + (r0 + L, c0 + L))
    bshape = lead + (L, L)
    mask = eq(broadcasted_iota(np.int32, bshape, len(rest)),
              broadcasted_iota(np.int32, bshape, len(rest) + 1))
    kept = select_n(mask, full(bshape, 0, get_aval(a).dtype), a)
    last = (len(bshape) - 1,)
    return reduce_or(kept, last) if get_aval(a).dtype == np.bool_ else reduce_sum(kept, last)


def diag(v, k=0):
    """1-D ``v`` -> square matrix with ``v`` on diagonal ``k``; 2-D ``v`` -> its diagonal ``k``."""
    v = as_operand(v)
    shape = get_aval(v).shape
    k = int(k)
    if len(shape) == 2:
        return diagonal(v, k)
    if len(shape) != 1:
        raise ValueError(f"diag input must be 1d or 2d, got shape {shape}.")
    n = shape[0]
    size = n + abs(k)
    dtype = get_aval(v).dtype
    if k:
        v = concatenate([v, full((abs(k),), 0, dtype)], 0)          # length ``size``
    # Row i holds v[i] at column i + k (k >= 0); column j holds v[j] at row j - k (k < 0).
    along = 0 if k >= 0 else 1
    grid = broadcast_in_dim(v, (size, size), (along,))
    offset = sub(broadcasted_iota(np.int32, (size, size), 1),
                 broadcasted_iota(np.int32, (size, size), 0))
    mask = eq(offset, _scalar_const(k, np.int32))
    return select_n(mask, full((size, size), 0, dtype), grid)


def diagflat(v, k=0):
    """``diag`` of the flattened input."""
    v = as_operand(v)
    return diag(reshape(v, (get_aval(v).size,)), k)


def fill_diagonal(a, val, wrap=False, *, inplace=True):
    """A copy of ``a`` with its main diagonal set to ``val`` (JAX needs ``inplace=False``).

    Arrays are immutable, so the NumPy default ``inplace=True`` cannot work; pass
    ``inplace=False`` and use the returned array.
    """
    if inplace:
        raise NotImplementedError("JAX arrays are immutable, so fill_diagonal cannot work in "
                                  "place; call jnp.fill_diagonal(a, val, inplace=False) and use "
                                  "the array it returns.")
    a = as_operand(a)
    shape = get_aval(a).shape
    if len(shape) < 2:
        raise ValueError("array must be at least 2-d")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise ValueError("All dimensions of input must be of equal length")
    if wrap and len(shape) == 2 and shape[0] > shape[1] + 1:
        raise NotImplementedError("fill_diagonal(wrap=True) for tall matrices is not supported.")
    mask = eq(broadcasted_iota(np.int32, shape, 0), broadcasted_iota(np.int32, shape, 1))
    for d in range(2, len(shape)):
        from .._src.primitives.elementwise import bitwise_and
        mask = bitwise_and(mask, eq(broadcasted_iota(np.int32, shape, 0),
                                    broadcasted_iota(np.int32, shape, d)))
    dtype = get_aval(a).dtype
    val = convert_element_type(as_operand(val), dtype)
    vshape = get_aval(val).shape
    if vshape == () or get_aval(val).size == 1:
        fill = broadcast_in_dim(reshape(val, ()), shape, ())
    else:
        L = min(shape)
        flat = reshape(val, (get_aval(val).size,))
        reps = -(-L // get_aval(flat).shape[0])
        flat = concatenate([flat] * reps, 0) if reps > 1 else flat
        flat = lax_slice(flat, (0,), (L,))
        if len(shape) == 2 and shape[0] > L:   # rows past the diagonal are never selected
            flat = concatenate([flat, full((shape[0] - L,), 0, dtype)], 0)
        fill = broadcast_in_dim(flat, shape, (0,))
    return select_n(mask, a, fill)


def tril_indices(n, k=0, m=None):
    """Row and column indices of the lower triangle (eager: the count must be static)."""
    rows, cols = np.tril_indices(int(n), int(k), None if m is None else int(m))
    return _int_arrays(rows, cols)


def triu_indices(n, k=0, m=None):
    """Row and column indices of the upper triangle."""
    rows, cols = np.triu_indices(int(n), int(k), None if m is None else int(m))
    return _int_arrays(rows, cols)


def diag_indices(n, ndim=2):
    """Indices of the main diagonal of an ``n``-by-...-by-``n`` array."""
    if n < 0 or ndim < 0:
        raise ValueError("n and ndim must be non-negative.")
    return tuple(iota(dtypes.default_int(), int(n)) for _ in range(int(ndim)))


def _int_arrays(*xs):
    from .._src.array import Array
    return tuple(Array(np.asarray(x, dtypes.default_int())) for x in xs)


def vander(x, N=None, increasing=False):
    """Vandermonde matrix: columns are powers of ``x`` (decreasing unless ``increasing``)."""
    from .._src.primitives.elementwise import integer_pow
    x = as_operand(x)
    shape = get_aval(x).shape
    if len(shape) != 1:
        raise ValueError(f"x must be a one-dimensional array, got shape {shape}.")
    N = shape[0] if N is None else _static_int(N, "N", "vander")
    if N < 0:
        raise ValueError("N must be nonnegative")
    (x,) = promote_dtypes(x)
    if get_aval(x).dtype == np.bool_:
        x = convert_element_type(x, dtypes.default_int())
    powers = range(N) if increasing else range(N - 1, -1, -1)
    cols = [reshape(integer_pow(x, p), shape + (1,)) for p in powers]
    if not cols:
        return full(shape + (0,), 0, get_aval(x).dtype)
    return concatenate(cols, 1)
