"""Indexing primitives: ``gather`` (read at integer indices), the ``scatter`` family (write at
integer indices), and ``dynamic_slice`` / ``dynamic_update_slice`` (a block at a traced offset).

One description of "where" serves every primitive here
--------------------------------------------------------
NumPy's advanced indexing ``x[i0, :, i2]`` picks, for every position ``b`` of the (broadcast)
index arrays, the slice ``x[i0[b], :, i2[b]]``. We describe that with two static parameters:

* ``indexed_axes``  the operand axes that index arrays select on, e.g. ``(0, 2)``;
* ``index_dims_at`` where the index arrays' dimensions go in the result.

The operand axes that are *not* indexed are kept whole, in order (we call them the window);
the index dimensions ``B`` are inserted among them at ``index_dims_at``. So for an operand of
shape ``(4, 5, 6)``, ``indexed_axes=(0, 2)``, index arrays of shape ``(7,)``::

    index_dims_at=0   ->  result shape (7, 5)      x[i0, :, i2]  (NumPy: non-adjacent indices)
    index_dims_at=1   ->  result shape (5, 7)

The index arrays are operands (they may be traced); everything else is static.

``gather(x, *idx)``              ``out = x[idx]``                              (linear in ``x``)
``scatter(x, u, *idx)``          ``x[idx] = u``  (the last duplicate wins)      (linear in ``x, u``)
``scatter_add(x, u, *idx)``      ``np.add.at(x, idx, u)``: duplicates ACCUMULATE (linear)
``scatter_mul/min/max``          ``np.multiply.at`` / ``np.minimum.at`` / ``np.maximum.at``

Out-of-bounds indices follow ``mode``: gathers ``'clip'`` (clamp into range) or ``'fill'``
(return ``fill_value``); scatters ``'clip'`` or ``'drop'`` (ignore the update). Negative indices
are *not* special here: ``jax.numpy`` turns ``-1`` into ``n - 1`` before binding, in the jaxpr.

Derivatives, in one table (``idx`` never gets a derivative: it is integer)::

    gather        jvp: gather of the tangent       transpose: scatter_add into zeros
    scatter_add   jvp: scatter_add of tangents     transpose: ct -> operand, gather(ct) -> updates
    scatter       jvp: scatter of tangents         transpose: ct with overwritten slots zeroed ->
                                                   operand; gather(ct) at the winning updates ->
                                                   updates (exact with duplicates too)
    scatter_mul   out = x * prod(u):  d = scatter_mul(dx, u) + scatter_add(0, x[idx] * du)
                  (exact for unique indices; with duplicate indices the ``du`` term misses the
                  other factors, as JAX also refuses to differentiate it)
    scatter_min/max  the derivative flows to whoever attains the extremum, shared equally
                  between ties (operand and every duplicate update), as for ``reduce_max``

Batching never loops: a batched operand gets one more window axis, batched indices one more
index dimension, and when both are batched an ``iota`` index array pairs example ``b`` of the
indices with example ``b`` of the operand.

Where real JAX differs: JAX's ``lax.gather`` / ``lax.scatter`` take XLA's general
``GatherDimensionNumbers`` (slice windows of any size at each index). minijax only needs what
NumPy indexing needs -- whole-axis windows -- which keeps every rule a few lines long.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..core import Primitive, ShapedArray, get_aval, is_undefined_primal
from .elementwise import (add, convert_element_type, div, eq, full, lt, max as lax_max,
                          min as lax_min, mul, select_n, zeros_like_aval)
from .shape import broadcast_in_dim, broadcasted_iota, reshape, squeeze
from .batch_util import batch_size, bdim_at_front, move_axis, move_to_front

GATHER_MODES = ("clip", "fill")
SCATTER_MODES = ("clip", "drop")


# ---------------------------------------------------------------------------
# Shared shape logic
# ---------------------------------------------------------------------------
def _window_axes(ndim, indexed_axes):
    return tuple(a for a in range(ndim) if a not in indexed_axes)


def _check_where(name, operand, indices, indexed_axes, index_dims_at):
    """Validate the index description; return the index shape ``B``."""
    if not indices:
        raise TypeError(f"{name} needs at least one index array")
    if len(indices) != len(indexed_axes):
        raise TypeError(f"{name}: got {len(indices)} index arrays for indexed_axes={indexed_axes}")
    if len(set(indexed_axes)) != len(indexed_axes) or any(
            not 0 <= a < operand.ndim for a in indexed_axes):
        raise TypeError(f"{name}: indexed_axes={indexed_axes} must be distinct axes of an operand "
                        f"of rank {operand.ndim}")
    shapes = {i.shape for i in indices}
    if len(shapes) != 1:
        raise TypeError(f"{name}: index arrays must share one shape (broadcast them first), got "
                        f"{[i.shape for i in indices]}")
    for i in indices:
        if not dtypes.is_integer(i.dtype):
            raise TypeError(f"{name}: index arrays must have an integer dtype, got {i.dtype.name}")
    n_window = operand.ndim - len(indexed_axes)
    if not 0 <= index_dims_at <= n_window:
        raise TypeError(f"{name}: index_dims_at={index_dims_at} must be in [0, {n_window}]")
    for a in indexed_axes:
        if operand.shape[a] == 0 and indices[0].size:
            raise IndexError(f"{name}: cannot index axis {a} of size 0 (operand shape "
                             f"{operand.shape}): there is no element to take.")
    return indices[0].shape


def _result_shape(operand_shape, indexed_axes, index_shape, index_dims_at):
    window = [operand_shape[a] for a in _window_axes(len(operand_shape), indexed_axes)]
    return tuple(window[:index_dims_at]) + tuple(index_shape) + tuple(window[index_dims_at:])


def _to_index_major(x, indexed_axes):
    """View ``x`` with its indexed axes first (NumPy fancy indexing then needs no reordering)."""
    perm = tuple(indexed_axes) + _window_axes(x.ndim, indexed_axes)
    return np.transpose(x, perm), perm


def _in_bounds(indices, sizes):
    ok = np.ones(np.shape(indices[0]), dtype=bool)
    for i, n in zip(indices, sizes):
        ok &= (i >= 0) & (i < n)
    return ok


def default_fill_value(dtype):
    """JAX's gather fill: NaN for inexact, the minimum for signed, the maximum for unsigned ints."""
    dtype = np.dtype(dtype)
    if dtype.kind in "fc":
        return np.nan
    if dtype.kind == "i":
        return np.iinfo(dtype).min
    if dtype.kind == "u":
        return np.iinfo(dtype).max
    return True


# ---------------------------------------------------------------------------
# gather
# ---------------------------------------------------------------------------
gather_p = Primitive("gather")


@gather_p.def_impl
def _gather_impl(x, *indices, indexed_axes, index_dims_at, mode, fill_value):
    xt, _ = _to_index_major(x, indexed_axes)
    sizes = [x.shape[a] for a in indexed_axes]
    safe = tuple(np.clip(i, 0, max(n - 1, 0)) for i, n in zip(indices, sizes))
    out = xt[safe]                                   # shape B + window
    if mode == "fill":
        ok = _in_bounds(indices, sizes).reshape(np.shape(indices[0]) + (1,) * (out.ndim - np.ndim(indices[0])))
        fill = default_fill_value(x.dtype) if fill_value is None else fill_value
        out = np.where(ok, out, np.asarray(fill).astype(x.dtype))
    nb = np.ndim(indices[0])
    return np.moveaxis(out, tuple(range(nb)), tuple(range(index_dims_at, index_dims_at + nb)))


@gather_p.def_abstract_eval
def _gather_abstract(x, *indices, indexed_axes, index_dims_at, mode, fill_value):
    if mode not in GATHER_MODES:
        raise ValueError(f"gather mode must be one of {GATHER_MODES}, got {mode!r}")
    b = _check_where("gather", x, indices, indexed_axes, index_dims_at)
    return ShapedArray(_result_shape(x.shape, indexed_axes, b, index_dims_at), x.dtype, x.weak_type)


@gather_p.def_jvp
def _gather_jvp(primals, tangents, **params):
    x, *indices = primals
    t = tangents[0]
    tangent_params = dict(params, fill_value=0 if params["mode"] == "fill" else None)
    return gather_p.bind(x, *indices, **params), gather_p.bind(t, *indices, **tangent_params)


@gather_p.def_transpose
def _gather_transpose(ct, x, *indices, indexed_axes, index_dims_at, mode, fill_value):
    # Each gathered element came from one operand slot; a slot read k times collects k cotangents.
    # Filled (out-of-bounds) elements came from nowhere: their cotangent is dropped.
    zeros = zeros_like_aval(x.aval)
    out = scatter_add_p.bind(zeros, ct, *indices, indexed_axes=indexed_axes,
                             index_dims_at=index_dims_at, mode=_scatter_mode_for(mode),
                             unique_indices=False)
    return [out] + [None] * len(indices)


def _scatter_mode_for(gather_mode):
    return "clip" if gather_mode == "clip" else "drop"


def _gather_mode_for(scatter_mode):
    return "clip" if scatter_mode == "clip" else "fill"


def gather(operand, indices, indexed_axes, index_dims_at=0, mode="clip", fill_value=None):
    """``operand`` read at integer ``indices`` (a list of same-shape arrays, one per indexed axis).

    See the module docstring for the meaning of ``indexed_axes`` and ``index_dims_at``.
    """
    return gather_p.bind(operand, *indices, indexed_axes=tuple(int(a) for a in indexed_axes),
                         index_dims_at=int(index_dims_at), mode=mode, fill_value=fill_value)


# ---------------------------------------------------------------------------
# The scatter family
# ---------------------------------------------------------------------------
def _scatter_impl(combine):
    def impl(x, updates, *indices, indexed_axes, index_dims_at, mode, unique_indices):
        out = np.array(x, copy=True)
        view, _ = _to_index_major(out, indexed_axes)   # a view: writing to it writes to `out`
        nb = np.ndim(indices[0])
        u = np.moveaxis(updates, tuple(range(index_dims_at, index_dims_at + nb)), tuple(range(nb)))
        sizes = [x.shape[a] for a in indexed_axes]
        if mode == "clip":
            where = tuple(np.clip(i, 0, max(n - 1, 0)) for i, n in zip(indices, sizes))
        else:   # drop the updates whose index is out of bounds
            ok = _in_bounds(indices, sizes)
            where = tuple(np.asarray(i)[ok] for i in indices)
            u = u[ok]
        if combine is None:
            view[where] = u
        else:
            combine.at(view, where, u)
        return out
    return impl


def _scatter_abstract(name):
    def rule(x, updates, *indices, indexed_axes, index_dims_at, mode, unique_indices):
        if mode not in SCATTER_MODES:
            raise ValueError(f"{name} mode must be one of {SCATTER_MODES}, got {mode!r}")
        if x.dtype != updates.dtype:
            raise TypeError(f"{name}: operand and updates must have the same dtype, got "
                            f"{x.dtype.name} and {updates.dtype.name} (jnp's .at[] casts for you)")
        b = _check_where(name, x, indices, indexed_axes, index_dims_at)
        expected = _result_shape(x.shape, indexed_axes, b, index_dims_at)
        if updates.shape != expected:
            raise TypeError(f"{name}: updates must have shape {expected} (what gather would "
                            f"return for these indices), got {updates.shape}")
        return ShapedArray(x.shape, x.dtype, x.weak_type)
    return rule


def _make_scatter(name, combine):
    prim = Primitive(name)
    prim.def_impl(_scatter_impl(combine))
    prim.def_abstract_eval(_scatter_abstract(name))
    return prim


scatter_p = _make_scatter("scatter", None)
scatter_add_p = _make_scatter("scatter_add", np.add)
scatter_mul_p = _make_scatter("scatter_mul", np.multiply)
scatter_min_p = _make_scatter("scatter_min", np.minimum)
scatter_max_p = _make_scatter("scatter_max", np.maximum)


def _gather_like(params, ct, indices, fill_value=0):
    """Read ``ct`` (operand-shaped) at the scatter's indices: the updates-shaped view of it."""
    return gather_p.bind(ct, *indices, indexed_axes=params["indexed_axes"],
                         index_dims_at=params["index_dims_at"],
                         mode=_gather_mode_for(params["mode"]),
                         fill_value=fill_value if params["mode"] == "drop" else None)


# scatter_add: linear in (operand, updates) together.
@scatter_add_p.def_jvp
def _scatter_add_jvp(primals, tangents, **params):
    (x, u, *indices), (tx, tu, *_) = primals, tangents
    return scatter_add_p.bind(x, u, *indices, **params), scatter_add_p.bind(tx, tu, *indices, **params)


@scatter_add_p.def_transpose
def _scatter_add_transpose(ct, x, u, *indices, **params):
    ct_x = ct if is_undefined_primal(x) else None
    ct_u = _gather_like(params, ct, indices) if is_undefined_primal(u) else None
    return [ct_x, ct_u] + [None] * len(indices)


# scatter (set): linear in (operand, updates) together.
@scatter_p.def_jvp
def _scatter_jvp(primals, tangents, **params):
    (x, u, *indices), (tx, tu, *_) = primals, tangents
    return scatter_p.bind(x, u, *indices, **params), scatter_p.bind(tx, tu, *indices, **params)


def _winning_updates(u_aval, operand_shape, indices, params):
    """Bool mask over the updates: True where that update is the one left in the result.

    Number every update element 1, 2, ...; scatter the numbers (the same winner rule as the
    values); read back at each update's destination: an update won iff it reads its own number.
    """
    ids_dtype = dtypes.default_int()
    count = int(np.prod(u_aval.shape, dtype=np.int64))
    ids = add(reshape(broadcasted_iota(ids_dtype, (count,), 0), u_aval.shape),
              convert_element_type(np.asarray(1, ids_dtype), ids_dtype))
    slots = scatter_p.bind(full(operand_shape, 0, ids_dtype), ids, *indices, **params)
    return eq(_gather_like(params, slots, indices), ids)


@scatter_p.def_transpose
def _scatter_transpose(ct, x, u, *indices, **params):
    ct_x = ct_u = None
    if is_undefined_primal(x):   # overwritten slots did not reach the output
        ct_x = scatter_p.bind(ct, zeros_like_aval(u.aval if is_undefined_primal(u) else get_aval(u)),
                              *indices, **params)
    if is_undefined_primal(u):   # each winning update received its slot's cotangent
        ct_u = _gather_like(params, ct, indices)
        if not params["unique_indices"]:
            won = _winning_updates(u.aval, get_aval(ct).shape, indices, params)
            ct_u = select_n(won, zeros_like_aval(get_aval(ct_u)), ct_u)
    return [ct_x, ct_u] + [None] * len(indices)


# scatter_mul: linear in the operand only (out = x * P, with P the product of the updates).
@scatter_mul_p.def_jvp
def _scatter_mul_jvp(primals, tangents, **params):
    (x, u, *indices), (tx, tu, *_) = primals, tangents
    out = scatter_mul_p.bind(x, u, *indices, **params)
    from_x = scatter_mul_p.bind(tx, u, *indices, **params)
    # Exact when indices are unique: d(x_s * u_j) = dx_s * u_j + x_s * du_j.
    from_u = scatter_add_p.bind(zeros_like_aval(get_aval(tx)), mul(_gather_like(params, x, indices), tu),
                                *indices, **params)
    return out, add(from_x, from_u)


@scatter_mul_p.def_transpose
def _scatter_mul_transpose(ct, x, u, *indices, **params):
    if is_undefined_primal(u):
        raise TypeError("internal error: scatter_mul is not linear in its updates")
    # Multiplying each slot by a constant is a diagonal map: its own transpose.
    return [scatter_mul_p.bind(ct, u, *indices, **params), None] + [None] * len(indices)


# scatter_min / scatter_max: the tangent of whoever attains the extremum (ties share equally).
def _extremum_scatter_jvp(prim):
    def jvp(primals, tangents, **params):
        (x, u, *indices), (tx, tu, *_) = primals, tangents
        out = prim.bind(x, u, *indices, **params)
        t_dtype = get_aval(tx).dtype
        x_wins = eq(x, out)
        u_wins = eq(u, _gather_like(params, out, indices, fill_value=None))
        zeros_x, zeros_u = zeros_like_aval(get_aval(tx)), zeros_like_aval(get_aval(tu))
        count = add(convert_element_type(x_wins, t_dtype),
                    scatter_add_p.bind(zeros_x, convert_element_type(u_wins, t_dtype), *indices,
                                       **params))
        total = add(select_n(x_wins, zeros_x, tx),
                    scatter_add_p.bind(zeros_x, select_n(u_wins, zeros_u, tu), *indices, **params))
        return out, div(total, count)
    prim.def_jvp(jvp)


_extremum_scatter_jvp(scatter_min_p)
_extremum_scatter_jvp(scatter_max_p)


def _scatter_fn(prim):
    def fn(operand, updates, indices, indexed_axes, index_dims_at=0, mode="drop",
           unique_indices=False):
        return prim.bind(operand, updates, *indices, indexed_axes=tuple(int(a) for a in indexed_axes),
                         index_dims_at=int(index_dims_at), mode=mode,
                         unique_indices=bool(unique_indices))
    fn.__name__ = prim.name
    fn.__doc__ = (f"``{prim.name}``: write ``updates`` into ``operand`` at integer ``indices`` "
                  "(see the module docstring for ``indexed_axes`` / ``index_dims_at``).")
    return fn


scatter = _scatter_fn(scatter_p)
scatter_add = _scatter_fn(scatter_add_p)
scatter_mul = _scatter_fn(scatter_mul_p)
scatter_min = _scatter_fn(scatter_min_p)
scatter_max = _scatter_fn(scatter_max_p)


# ---------------------------------------------------------------------------
# Batching gather and scatter
# ---------------------------------------------------------------------------
def _batch_iota(size, index_shape):
    """``b`` at every position of example ``b``: pairs batched indices with batched operands."""
    return broadcasted_iota(dtypes.default_int(), (size,) + tuple(index_shape), 0)


def _batched_indices(indices, dims, size):
    """Every index array with the batch as its leading dimension, in one common dtype."""
    out = [bdim_at_front(i, d, size) for i, d in zip(indices, dims)]
    return out


@gather_p.def_batch
def _gather_batch(args, dims, *, indexed_axes, index_dims_at, mode, fill_value):
    (x, *indices), (xd, *idims) = args, dims
    size = batch_size(args, dims)
    if all(d is None for d in idims):
        # Only the operand is batched: the batch axis is one more (leading) window axis.
        x = move_to_front(x, xd)
        out = gather_p.bind(x, *indices, indexed_axes=tuple(a + 1 for a in indexed_axes),
                            index_dims_at=index_dims_at + 1, mode=mode, fill_value=fill_value)
        return out, 0
    indices = _batched_indices(indices, idims, size)
    index_shape = get_aval(indices[0]).shape[1:]
    if xd is None:
        # Only the indices are batched: the batch is one more index dimension.
        out = gather_p.bind(x, *indices, indexed_axes=indexed_axes, index_dims_at=index_dims_at,
                            mode=mode, fill_value=fill_value)
        return out, index_dims_at
    # Both batched: index the operand's batch axis too, with b at every position of example b.
    x = move_to_front(x, xd)
    indices = [_batch_iota(size, index_shape)] + [convert_element_type(i, dtypes.default_int())
                                                  for i in indices]
    out = gather_p.bind(x, *indices, indexed_axes=(0,) + tuple(a + 1 for a in indexed_axes),
                        index_dims_at=index_dims_at, mode=mode, fill_value=fill_value)
    return out, index_dims_at


def _scatter_batch(prim):
    def rule(args, dims, *, indexed_axes, index_dims_at, mode, unique_indices):
        (x, u, *indices), (xd, ud, *idims) = args, dims
        size = batch_size(args, dims)
        x = bdim_at_front(x, xd, size)
        if all(d is None for d in idims):
            # Same indices for every example: the batch is a leading window axis of x and u.
            u = bdim_at_front(u, ud, size)
            out = prim.bind(x, u, *indices, indexed_axes=tuple(a + 1 for a in indexed_axes),
                            index_dims_at=index_dims_at + 1, mode=mode,
                            unique_indices=unique_indices)
            return out, 0
        # Batched indices: index the batch axis of x with an iota; the batch becomes the leading
        # index dimension, which sits at `index_dims_at` in the updates.
        indices = _batched_indices(indices, idims, size)
        index_shape = get_aval(indices[0]).shape[1:]
        indices = [_batch_iota(size, index_shape)] + [convert_element_type(i, dtypes.default_int())
                                                      for i in indices]
        u = move_axis(bdim_at_front(u, ud, size), 0, index_dims_at)
        out = prim.bind(x, u, *indices, indexed_axes=(0,) + tuple(a + 1 for a in indexed_axes),
                        index_dims_at=index_dims_at, mode=mode, unique_indices=unique_indices)
        return out, 0
    prim.def_batch(rule)


for _p in (scatter_p, scatter_add_p, scatter_mul_p, scatter_min_p, scatter_max_p):
    _scatter_batch(_p)


# ---------------------------------------------------------------------------
# dynamic_slice / dynamic_update_slice: a static-size block at traced start indices.
# Start indices are clamped so the block stays inside the operand (lax semantics).
# ---------------------------------------------------------------------------
def _clamped_starts(starts, operand_shape, sizes):
    return [int(np.clip(int(s), 0, n - k)) for s, n, k in zip(starts, operand_shape, sizes)]


def _check_starts(name, operand, starts):
    if len(starts) != operand.ndim:
        raise ValueError(f"{name}: length of start indices must match the number of operand "
                         f"dimensions ({len(starts)} vs {operand.shape})")
    for s in starts:
        if s.shape != () or not dtypes.is_integer(s.dtype):
            raise TypeError(f"{name}: start indices must be integer scalars, got "
                            f"{s.dtype.name}{list(s.shape)}")


dynamic_slice_p = Primitive("dynamic_slice")


@dynamic_slice_p.def_impl
def _dynamic_slice_impl(x, *starts, slice_sizes):
    begin = _clamped_starts(starts, x.shape, slice_sizes)
    return x[tuple(slice(b, b + k) for b, k in zip(begin, slice_sizes))]


@dynamic_slice_p.def_abstract_eval
def _dynamic_slice_abstract(x, *starts, slice_sizes):
    _check_starts("dynamic_slice", x, starts)
    if len(slice_sizes) != x.ndim or any(not 0 <= k <= n for k, n in zip(slice_sizes, x.shape)):
        raise TypeError(f"dynamic_slice: slice_sizes must be less than or equal to operand shape, "
                        f"got slice_sizes {tuple(slice_sizes)} for operand shape {x.shape}.")
    return ShapedArray(slice_sizes, x.dtype, x.weak_type)


@dynamic_slice_p.def_jvp
def _dynamic_slice_jvp(primals, tangents, *, slice_sizes):
    x, *starts = primals
    return (dynamic_slice_p.bind(x, *starts, slice_sizes=slice_sizes),
            dynamic_slice_p.bind(tangents[0], *starts, slice_sizes=slice_sizes))


@dynamic_slice_p.def_transpose
def _dynamic_slice_transpose(ct, x, *starts, slice_sizes):
    zeros = zeros_like_aval(x.aval)
    return [dynamic_update_slice_p.bind(zeros, ct, *starts)] + [None] * len(starts)


dynamic_update_slice_p = Primitive("dynamic_update_slice")


@dynamic_update_slice_p.def_impl
def _dynamic_update_slice_impl(x, update, *starts):
    begin = _clamped_starts(starts, x.shape, update.shape)
    out = np.array(x, copy=True)
    out[tuple(slice(b, b + k) for b, k in zip(begin, update.shape))] = update
    return out


@dynamic_update_slice_p.def_abstract_eval
def _dynamic_update_slice_abstract(x, update, *starts):
    _check_starts("dynamic_update_slice", x, starts)
    if x.dtype != update.dtype:
        raise TypeError(f"dynamic_update_slice: operand and update must have the same dtype, got "
                        f"{x.dtype.name} and {update.dtype.name}")
    if update.ndim != x.ndim or any(k > n for k, n in zip(update.shape, x.shape)):
        raise TypeError(f"dynamic_update_slice: update shape {update.shape} must have the operand's "
                        f"rank and fit inside operand shape {x.shape}")
    return ShapedArray(x.shape, x.dtype, x.weak_type)


@dynamic_update_slice_p.def_jvp
def _dynamic_update_slice_jvp(primals, tangents):
    (x, u, *starts), (tx, tu, *_) = primals, tangents
    return (dynamic_update_slice_p.bind(x, u, *starts),
            dynamic_update_slice_p.bind(tx, tu, *starts))


@dynamic_update_slice_p.def_transpose
def _dynamic_update_slice_transpose(ct, x, u, *starts):
    u_aval = u.aval if is_undefined_primal(u) else get_aval(u)
    ct_x = (dynamic_update_slice_p.bind(ct, zeros_like_aval(u_aval), *starts)
            if is_undefined_primal(x) else None)
    ct_u = (dynamic_slice_p.bind(ct, *starts, slice_sizes=u_aval.shape)
            if is_undefined_primal(u) else None)
    return [ct_x, ct_u] + [None] * len(starts)


def _block_indices(starts, operand_shape, block_shape, size):
    """Index arrays (batch, *block_shape) addressing, for each example b, the block at starts[b].

    Used when the start indices are batched: every example reads (or writes) a different block,
    which is a gather (or scatter) with one index array per operand axis.
    """
    idx_dtype = dtypes.default_int()
    full_shape = (size,) + tuple(block_shape)
    out = []
    for d, (s, n, k) in enumerate(zip(starts, operand_shape, block_shape)):
        s = convert_element_type(s, idx_dtype)
        s = lax_min(lax_max(s, _scalar(0, idx_dtype)), _scalar(n - k, idx_dtype))   # clamp
        s = broadcast_in_dim(s, full_shape, (0,))
        out.append(add(s, broadcasted_iota(idx_dtype, full_shape, d + 1)))
    return out


def _scalar(value, dtype):
    return convert_element_type(np.asarray(value, dtype), dtype)


@dynamic_slice_p.def_batch
def _dynamic_slice_batch(args, dims, *, slice_sizes):
    (x, *starts), (xd, *sdims) = args, dims
    size = batch_size(args, dims)
    if all(d is None for d in sdims):
        x = move_to_front(x, xd)
        zero = _scalar(0, get_aval(starts[0]).dtype if starts else dtypes.default_int())
        return dynamic_slice_p.bind(x, zero, *starts, slice_sizes=(size,) + tuple(slice_sizes)), 0
    starts = [bdim_at_front(s, d, size) for s, d in zip(starts, sdims)]
    operand_shape = get_aval(x).shape if xd is None else (
        get_aval(x).shape[:xd] + get_aval(x).shape[xd + 1:])
    indices = _block_indices(starts, operand_shape, slice_sizes, size)
    ndim = len(operand_shape)
    if xd is None:
        out = gather_p.bind(x, *indices, indexed_axes=tuple(range(ndim)), index_dims_at=0,
                            mode="clip", fill_value=None)
        return out, 0
    x = move_to_front(x, xd)
    indices = [_batch_iota(size, tuple(slice_sizes))] + indices
    out = gather_p.bind(x, *indices, indexed_axes=tuple(range(ndim + 1)), index_dims_at=0,
                        mode="clip", fill_value=None)
    return out, 0


@dynamic_update_slice_p.def_batch
def _dynamic_update_slice_batch(args, dims):
    (x, u, *starts), (xd, ud, *sdims) = args, dims
    size = batch_size(args, dims)
    x = bdim_at_front(x, xd, size)
    u = bdim_at_front(u, ud, size)
    if all(d is None for d in sdims):
        zero = _scalar(0, get_aval(starts[0]).dtype if starts else dtypes.default_int())
        return dynamic_update_slice_p.bind(x, u, zero, *starts), 0
    starts = [bdim_at_front(s, d, size) for s, d in zip(starts, sdims)]
    block_shape = get_aval(u).shape[1:]
    indices = [_batch_iota(size, block_shape)] + _block_indices(
        starts, get_aval(x).shape[1:], block_shape, size)
    out = scatter_p.bind(x, u, *indices, indexed_axes=tuple(range(len(indices))), index_dims_at=0,
                         mode="clip", unique_indices=True)
    return out, 0


# ---------------------------------------------------------------------------
# lax-level functions
# ---------------------------------------------------------------------------
def _start_index(s, dim_size, allow_negative):
    """A start index as an integer scalar operand; negative ones count from the end if allowed."""
    if dtypes.is_python_scalar(s) or isinstance(s, (np.integer, np.ndarray)):
        value = int(s)
        if allow_negative and value < 0:
            value += dim_size
        return _scalar(value, dtypes.default_int())
    aval = get_aval(s)
    if aval.shape != () or not dtypes.is_integer(aval.dtype):
        raise TypeError(f"start indices must be integer scalars, got {aval.str_short()}")
    if allow_negative:
        s = select_n(lt(s, _scalar(0, aval.dtype)), s,
                     add(s, _scalar(dim_size, aval.dtype)))
    return s


def _per_axis(flag, n):
    return list(flag) if isinstance(flag, (list, tuple)) else [flag] * n


def _start_indices(start_indices, shape, allow_negative_indices):
    if isinstance(start_indices, np.ndarray):
        start_indices = [int(s) for s in start_indices]
    elif hasattr(start_indices, "aval"):   # one array of starts: read its elements with gathers
        starts = start_indices
        start_indices = [gather_p.bind(starts, _scalar(i, dtypes.default_int()), indexed_axes=(0,),
                                       index_dims_at=0, mode="clip", fill_value=None)
                         for i in range(get_aval(starts).shape[0])]
    start_indices = list(start_indices)
    if len(start_indices) != len(shape):
        raise ValueError(f"Length of slice indices must match number of operand dimensions "
                         f"({len(start_indices)} vs {tuple(shape)})")
    flags = _per_axis(allow_negative_indices, len(shape))
    return [_start_index(s, n, a) for s, n, a in zip(start_indices, shape, flags)]


def dynamic_slice(operand, start_indices, slice_sizes, *, allow_negative_indices=True):
    """``operand[s0:s0+k0, s1:s1+k1, ...]`` with traced starts ``s`` and static sizes ``k``.

    Starts are clamped so that the slice stays in bounds (``dynamic_slice(arange(10), (8,), (5,))``
    is ``[5..9]``): the output shape can never depend on a traced value.
    """
    shape = get_aval(operand).shape
    starts = _start_indices(start_indices, shape, allow_negative_indices)
    return dynamic_slice_p.bind(operand, *starts, slice_sizes=tuple(int(k) for k in slice_sizes))


def dynamic_update_slice(operand, update, start_indices, *, allow_negative_indices=True):
    """``operand`` with the block ``update`` written at traced ``start_indices`` (clamped)."""
    shape = get_aval(operand).shape
    starts = _start_indices(start_indices, shape, allow_negative_indices)
    return dynamic_update_slice_p.bind(operand, update, *starts)


def dynamic_slice_in_dim(operand, start_index, slice_size, axis=0, *, allow_negative_indices=True):
    shape = get_aval(operand).shape
    axis = axis % len(shape)
    starts = [0] * len(shape)
    starts[axis] = start_index
    sizes = list(shape)
    sizes[axis] = slice_size
    flags = [True] * len(shape)
    flags[axis] = allow_negative_indices
    return dynamic_slice(operand, starts, sizes, allow_negative_indices=flags)


def dynamic_index_in_dim(operand, index, axis=0, keepdims=True, *, allow_negative_indices=True):
    out = dynamic_slice_in_dim(operand, index, 1, axis, allow_negative_indices=allow_negative_indices)
    return out if keepdims else squeeze(out, (axis % get_aval(operand).ndim,))


def dynamic_update_slice_in_dim(operand, update, start_index, axis, *, allow_negative_indices=True):
    ndim = get_aval(operand).ndim
    axis = axis % ndim
    starts = [0] * ndim
    starts[axis] = start_index
    flags = [True] * ndim
    flags[axis] = allow_negative_indices
    return dynamic_update_slice(operand, update, starts, allow_negative_indices=flags)


def dynamic_update_index_in_dim(operand, update, index, axis, *, allow_negative_indices=True):
    ndim = get_aval(operand).ndim
    axis = axis % ndim
    if get_aval(update).ndim == ndim - 1:
        shape = list(get_aval(update).shape)
        shape.insert(axis, 1)
        update = reshape(update, shape)
    return dynamic_update_slice_in_dim(operand, update, index, axis,
                                       allow_negative_indices=allow_negative_indices)


__all__ = ["gather", "scatter", "scatter_add", "scatter_mul", "scatter_min", "scatter_max",
           "dynamic_slice", "dynamic_update_slice", "dynamic_slice_in_dim", "dynamic_index_in_dim",
           "dynamic_update_slice_in_dim", "dynamic_update_index_in_dim", "default_fill_value"]
