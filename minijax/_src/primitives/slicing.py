"""Static slicing: ``slice`` (start/limit/strides known while tracing) and its transpose, ``pad``."""
from __future__ import annotations

import numpy as np

from ..core import Primitive, ShapedArray, get_aval

slice_p = Primitive("slice")


@slice_p.def_impl
def _slice_impl(x, *, start_indices, limit_indices, strides):
    strides = strides or (1,) * x.ndim
    return x[tuple(slice(s, l, st) for s, l, st in zip(start_indices, limit_indices, strides))]


@slice_p.def_abstract_eval
def _slice_abstract(x, *, start_indices, limit_indices, strides):
    strides = strides or (1,) * x.ndim
    if not (len(start_indices) == len(limit_indices) == len(strides) == x.ndim):
        raise TypeError(f"slice: start/limit/strides must each have {x.ndim} entries")
    shape = []
    for d, (s, l, st) in enumerate(zip(start_indices, limit_indices, strides)):
        if not 0 <= s <= l <= x.shape[d] or st < 1:
            raise TypeError(f"slice: invalid bounds start={s}, limit={l}, stride={st} for axis {d} "
                            f"of size {x.shape[d]}")
        shape.append(max(0, -(-(l - s) // st)))
    return ShapedArray(shape, x.dtype, x.weak_type)


slice_p.def_jvp(lambda p, t, **kw: (slice_p.bind(p[0], **kw), slice_p.bind(t[0], **kw)))


def slice(x, start_indices, limit_indices, strides=None):
    """``x[start:limit:stride]`` on every axis, with static Python integers."""
    return slice_p.bind(x, start_indices=tuple(map(int, start_indices)),
                        limit_indices=tuple(map(int, limit_indices)),
                        strides=None if strides is None else tuple(map(int, strides)))


def slice_in_dim(x, start, limit, stride=1, axis=0):
    shape = get_aval(x).shape
    starts, limits, strides = [0] * len(shape), list(shape), [1] * len(shape)
    starts[axis], limits[axis], strides[axis] = start, limit, stride
    return slice(x, starts, limits, strides if stride != 1 else None)
