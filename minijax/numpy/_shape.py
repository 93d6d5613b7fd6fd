"""Shape manipulation: reshape, transpose, stack, concatenate, broadcast_to, ..."""
from __future__ import annotations

import numpy as np

from .._src.core import get_aval
from .._src.primitives import shape as lax_shape
from ._util import as_operand, canonicalize_axis, promote_dtypes

__all__ = ["reshape", "transpose", "ravel", "broadcast_to", "expand_dims", "stack", "matrix_transpose"]


def reshape(a, shape=None, order="C", *, newshape=None):
    """Same data, new shape; one entry of ``shape`` may be -1 (inferred)."""
    if order != "C":
        raise NotImplementedError("jnp.reshape supports order='C' only.")
    shape = newshape if shape is None else shape
    a = as_operand(a)
    size = get_aval(a).size
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise ValueError("can only specify one unknown dimension (-1) in a reshape")
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape array of shape {get_aval(a).shape} (size {size}) "
                             f"into shape {shape}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    return lax_shape.reshape(a, shape)


def ravel(a, order="C"):
    return reshape(a, (-1,), order)


def transpose(a, axes=None):
    a = as_operand(a)
    ndim = get_aval(a).ndim
    axes = tuple(range(ndim))[::-1] if axes is None else tuple(canonicalize_axis(x, ndim) for x in axes)
    return lax_shape.transpose(a, axes)


def matrix_transpose(x, /):
    x = as_operand(x)
    ndim = get_aval(x).ndim
    if ndim < 2:
        raise ValueError(f"x must be at least two-dimensional for matrix_transpose; got ndim={ndim}")
    return lax_shape.transpose(x, tuple(range(ndim - 2)) + (ndim - 1, ndim - 2))


def broadcast_to(array, shape):
    return lax_shape.broadcast_to_rank_aligned(as_operand(array), tuple(shape))


def expand_dims(a, axis):
    a = as_operand(a)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out_ndim = get_aval(a).ndim + len(axes)
    return lax_shape.expand_dims(a, sorted(canonicalize_axis(x, out_ndim) for x in axes))


def stack(arrays, axis=0, out=None, dtype=None):
    """Join arrays of one shape along a new axis."""
    arrays = [as_operand(a) for a in arrays]
    if not arrays:
        raise ValueError("Need at least one array to stack.")
    shapes = {get_aval(a).shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"All input arrays must have the same shape, got {sorted(shapes)}.")
    arrays = promote_dtypes(*arrays)
    axis = canonicalize_axis(axis, get_aval(arrays[0]).ndim + 1)
    expanded = [lax_shape.expand_dims(a, [axis]) for a in arrays]
    from .._src.primitives.concatenate import concatenate
    return concatenate(expanded, axis)
