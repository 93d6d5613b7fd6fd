"""Static slicing and padding: ``slice`` and ``pad``, each other's transpose.

``slice`` keeps ``x[start:limit:stride]`` on every axis; ``pad`` puts ``lo``
fill values before, ``hi`` after and ``interior`` between neighbouring
elements of every axis (negative ``lo``/``hi`` crop instead). Both only move
numbers around, so both are linear:

=========  ==================================================================
primitive  transpose
=========  ==================================================================
slice      pad the cotangent with zeros back to the operand's shape (the
           stride becomes interior padding)
pad        undo the edge padding with a negated ``pad``, then ``slice`` with
           stride ``interior + 1`` to drop the interior fill
=========  ==================================================================

All bounds are static Python integers: they decide the output's shape, which
must be known while tracing.
"""
from __future__ import annotations

import builtins

import numpy as np

from ..core import Primitive, ShapedArray, get_aval, is_undefined_primal
from .batch_util import bdim_at_front, batch_size, move_to_front
from .elementwise import _lift_scalars, same_dtypes

# ---------------------------------------------------------------------------
# slice
# ---------------------------------------------------------------------------
slice_p = Primitive("slice")


@slice_p.def_impl
def _slice_impl(x, *, start_indices, limit_indices, strides):
    strides = strides or (1,) * x.ndim
    return x[tuple(builtins.slice(s, l, st)
                   for s, l, st in zip(start_indices, limit_indices, strides))]


def _slice_sizes(shape, start_indices, limit_indices, strides):
    strides = strides or (1,) * len(shape)
    if not (len(start_indices) == len(limit_indices) == len(strides) == len(shape)):
        raise TypeError(f"slice: start_indices, limit_indices and strides must each have one "
                        f"entry per axis of the operand (rank {len(shape)}), got "
                        f"{start_indices}, {limit_indices}, {strides}")
    sizes = []
    for d, (s, l, st) in enumerate(zip(start_indices, limit_indices, strides)):
        if not 0 <= s <= l <= shape[d] or st < 1:
            raise TypeError(f"slice: invalid bounds start={s}, limit={l}, stride={st} for axis {d} "
                            f"of size {shape[d]}; need 0 <= start <= limit <= size and stride >= 1")
        sizes.append(-(-(l - s) // st))
    return tuple(sizes)


@slice_p.def_abstract_eval
def _slice_abstract(x, *, start_indices, limit_indices, strides):
    return ShapedArray(_slice_sizes(x.shape, start_indices, limit_indices, strides), x.dtype,
                       x.weak_type)


slice_p.def_jvp(lambda p, t, **kw: (slice_p.bind(p[0], **kw), slice_p.bind(t[0], **kw)))


@slice_p.def_transpose
def _slice_transpose(ct, x, *, start_indices, limit_indices, strides):
    from .elementwise import zeros_like_aval
    shape = x.aval.shape
    strides = strides or (1,) * len(shape)
    out = _slice_sizes(shape, start_indices, limit_indices, strides)
    config = []
    for n, size, s, st in zip(out, shape, start_indices, strides):
        used = n + max(n - 1, 0) * (st - 1)     # the footprint of the kept elements
        config.append((s, size - s - used, st - 1) if n else (0, size, 0))
    zero = zeros_like_aval(ShapedArray((), x.aval.dtype))
    return [pad(ct, zero, config)]


@slice_p.def_batch
def _slice_batch(args, dims, *, start_indices, limit_indices, strides):
    x = move_to_front(args[0], dims[0])
    size = get_aval(x).shape[0]
    strides = None if strides is None else (1,) + tuple(strides)
    return slice_p.bind(x, start_indices=(0,) + tuple(start_indices),
                        limit_indices=(size,) + tuple(limit_indices), strides=strides), 0


def slice(operand, start_indices, limit_indices, strides=None):
    """``operand[start:limit:stride]`` on every axis, with static Python integers (lax.slice)."""
    start_indices, limit_indices = tuple(map(int, start_indices)), tuple(map(int, limit_indices))
    strides = None if strides is None or all(s == 1 for s in strides) else tuple(map(int, strides))
    if (strides is None and all(s == 0 for s in start_indices)
            and limit_indices == get_aval(operand).shape):
        return operand
    return slice_p.bind(operand, start_indices=start_indices, limit_indices=limit_indices,
                        strides=strides)


def slice_in_dim(operand, start_index, limit_index, stride=1, axis=0):
    """Slice along one axis only; ``None`` and negative indices work as in Python."""
    shape = get_aval(operand).shape
    axis = int(axis) % len(shape) if shape else 0
    start, limit, _ = builtins.slice(start_index, limit_index).indices(shape[axis])
    limit = builtins.max(start, limit)
    starts, limits, strides = [0] * len(shape), list(shape), [1] * len(shape)
    starts[axis], limits[axis], strides[axis] = start, limit, int(stride)
    return slice(operand, starts, limits, strides)


def index_in_dim(operand, index, axis=0, keepdims=True):
    """Element ``index`` along ``axis`` (a static int), with or without that axis."""
    from .shape import squeeze
    shape = get_aval(operand).shape
    index = int(index) + (shape[axis] if index < 0 else 0)
    out = slice_in_dim(operand, index, index + 1, 1, axis)
    return out if keepdims else squeeze(out, (axis,))


# ---------------------------------------------------------------------------
# pad
# ---------------------------------------------------------------------------
pad_p = Primitive("pad")


@pad_p.def_impl
def _pad_impl(x, padding_value, *, padding_config):
    # Pad with the non-negative parts first (edges and interior), then crop the negative edges.
    grown = [n + lo_pos + hi_pos + max(n - 1, 0) * interior
             for n, (lo_pos, hi_pos, interior) in zip(
                 x.shape, [(max(lo, 0), max(hi, 0), i) for lo, hi, i in padding_config])]
    out = np.full(grown, padding_value, dtype=x.dtype)
    place = tuple(builtins.slice(max(lo, 0), max(lo, 0) + n + max(n - 1, 0) * i, i + 1)
                  for n, (lo, hi, i) in zip(x.shape, padding_config))
    out[place] = x
    crop = tuple(builtins.slice(max(-lo, 0), size - max(-hi, 0))
                 for size, (lo, hi, _) in zip(grown, padding_config))
    return out[crop]


def _padded_shape(shape, padding_config):
    if len(padding_config) != len(shape):
        raise ValueError(f"pad: padding_config needs one (lo, hi, interior) triple per axis of the "
                         f"operand (rank {len(shape)}), got {padding_config}")
    out = []
    for d, (n, (lo, hi, interior)) in enumerate(zip(shape, padding_config)):
        if interior < 0:
            raise ValueError(f"pad: interior padding must be >= 0, got {interior} on axis {d}")
        size = lo + hi + n + max(n - 1, 0) * interior
        if size < 0:
            raise ValueError(f"pad: negative padding (lo={lo}, hi={hi}) removes more than the "
                             f"{n + max(n - 1, 0) * interior} elements of axis {d}")
        out.append(size)
    return tuple(out)


@pad_p.def_abstract_eval
def _pad_abstract(x, padding_value, *, padding_config):
    dtype = same_dtypes("pad", [x, padding_value])
    if padding_value.shape != ():
        raise TypeError(f"pad: padding_value must be a scalar, got shape {padding_value.shape}")
    return ShapedArray(_padded_shape(x.shape, padding_config), dtype,
                       x.weak_type and padding_value.weak_type)


@pad_p.def_jvp
def _pad_jvp(primals, tangents, *, padding_config):
    # pad is linear in (operand, padding_value) together.
    return pad_p.bind(*primals, padding_config=padding_config), \
        pad_p.bind(*tangents, padding_config=padding_config)


@pad_p.def_transpose
def _pad_transpose(ct, x, padding_value, *, padding_config):
    from .reductions import reduce_sum
    from .elementwise import sub, zeros_like_aval
    zero = zeros_like_aval(ShapedArray((), get_aval(ct).dtype))
    unpadded = pad(ct, zero, [(-lo, -hi, 0) for lo, hi, _ in padding_config])
    shape = get_aval(unpadded).shape
    ct_x = slice(unpadded, (0,) * len(shape), shape, [i + 1 for _, _, i in padding_config])
    ct_pv = None
    if is_undefined_primal(padding_value):
        every = tuple(range(len(shape)))
        ct_pv = sub(reduce_sum(ct, every), reduce_sum(ct_x, every))
    return [ct_x if is_undefined_primal(x) else None, ct_pv]


@pad_p.def_batch
def _pad_batch(args, dims, *, padding_config):
    (x, pv), (dx, dpv) = args, dims
    size = batch_size(args, dims)
    config = ((0, 0, 0),) + tuple(padding_config)
    x = bdim_at_front(x, dx, size)
    if dpv is None:
        return pad(x, pv, config), 0
    # A different fill value per example: pad with zeros, then pick the fill wherever a
    # padded mask says "this is padding".
    from .elementwise import select_n, zeros_like_aval, full
    from .shape import broadcast_in_dim
    aval = get_aval(x)
    padded = pad(x, zeros_like_aval(ShapedArray((), aval.dtype)), config)
    out_shape = get_aval(padded).shape
    mask = pad(full(aval.shape, True, np.bool_), full((), False, np.bool_), config)
    fill = broadcast_in_dim(move_to_front(pv, dpv), out_shape, (0,))
    return select_n(mask, fill, padded), 0


def pad(operand, padding_value, padding_config):
    """Pad ``operand`` with the scalar ``padding_value`` (lax.pad).

    ``padding_config`` holds one ``(lo, hi, interior)`` triple per axis: ``lo`` values before,
    ``hi`` after, ``interior`` between each pair of elements. Negative ``lo``/``hi`` crop.
    """
    config = tuple((int(lo), int(hi), int(i)) for lo, hi, i in padding_config)
    operand, padding_value = _lift_scalars(operand, padding_value)
    if all(c == (0, 0, 0) for c in config) and len(config) == get_aval(operand).ndim:
        return operand
    return pad_p.bind(operand, padding_value, padding_config=config)


__all__ = ["slice", "slice_in_dim", "index_in_dim", "pad"]
