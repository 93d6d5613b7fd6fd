"""Reductions over a tuple of axes: sum, max, min, prod, and, or, argmax, argmin.

``reduce_sum`` is linear; its transpose broadcasts the cotangent back over the
reduced axes. ``reduce_max``'s derivative flows to the positions that attained
the maximum (shared equally between ties, as JAX does).
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..core import Primitive, ShapedArray, get_aval
from .elementwise import (convert_element_type, div, eq, mul, select_n, zeros_like_aval,
                          _check_kinds, ANY, NUMBER)
from .shape import broadcast_in_dim


def _reduced_shape(name, x: ShapedArray, axes):
    for a in axes:
        if not 0 <= a < x.ndim:
            raise ValueError(f"{name}: axis {a} is out of bounds for an array of rank {x.ndim}")
    return tuple(s for i, s in enumerate(x.shape) if i not in axes)


def _identity(name, dtype):
    """The value a reduction over zero elements returns (as lax does; jnp raises instead)."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return name == "reduce_min"
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return info.min if name == "reduce_max" else info.max
    return -np.inf if name == "reduce_max" else np.inf


def _reduction(name, numpy_fn, kinds, out_dtype=None):
    prim = Primitive(name)

    @prim.def_impl
    def impl(x, *, axes):
        with np.errstate(all="ignore"):
            if name in ("reduce_max", "reduce_min") and x.size == 0:
                return numpy_fn(x, axis=axes, initial=_identity(name, x.dtype))
            return numpy_fn(x, axis=axes)

    @prim.def_abstract_eval
    def abstract(x, *, axes):
        _check_kinds(name, x.dtype, kinds)
        shape = _reduced_shape(name, x, axes)
        return ShapedArray(shape, x.dtype if out_dtype is None else out_dtype,
                           x.weak_type and out_dtype is None)

    return prim


def _keep_dims_broadcast(y, operand_shape, axes):
    """Broadcast a reduced result back to the operand's shape."""
    kept = tuple(i for i in range(len(operand_shape)) if i not in axes)
    return broadcast_in_dim(y, operand_shape, kept)


reduce_sum_p = _reduction("reduce_sum", np.sum, NUMBER)
reduce_sum_p.def_jvp(lambda p, t, axes: (reduce_sum(p[0], axes), reduce_sum(t[0], axes)))
reduce_sum_p.def_transpose(
    lambda ct, x, axes: [_keep_dims_broadcast(ct, x.aval.shape, axes)])


def _extremum_jvp(prim):
    def jvp(primals, tangents, *, axes):
        (x,), (t,) = primals, tangents
        y = prim.bind(x, axes=axes)
        shape = get_aval(x).shape
        hit = convert_element_type(eq(x, _keep_dims_broadcast(y, shape, axes)), get_aval(t).dtype)
        count = reduce_sum(hit, axes)
        return y, div(reduce_sum(mul(t, hit), axes), count)
    prim.def_jvp(jvp)


reduce_max_p = _reduction("reduce_max", np.max, ANY)
_extremum_jvp(reduce_max_p)
reduce_min_p = _reduction("reduce_min", np.min, ANY)
_extremum_jvp(reduce_min_p)

reduce_prod_p = _reduction("reduce_prod", np.prod, NUMBER)


@reduce_prod_p.def_jvp
def _reduce_prod_jvp(primals, tangents, *, axes):
    # d prod(x) = sum_i t_i * prod_{j != i} x_j. Computing prod_{j!=i} as prod/x_i fails at zeros,
    # so multiply exclusive cumulative products from the left and from the right instead.
    from .cumulative import cumprod
    from .shape import reshape, transpose
    (x,), (t,) = primals, tangents
    aval = get_aval(x)
    kept = [i for i in range(aval.ndim) if i not in axes]
    perm = tuple(kept) + tuple(axes)
    size = int(np.prod([aval.shape[a] for a in axes], dtype=np.int64))
    flat_shape = tuple(aval.shape[i] for i in kept) + (size,)
    flat, t_flat = reshape(transpose(x, perm), flat_shape), reshape(transpose(t, perm), flat_shape)
    last = get_aval(flat).ndim - 1
    left = cumprod(flat, last, exclusive=True)
    right = cumprod(flat, last, exclusive=True, reverse=True)
    return reduce_prod(x, axes), reduce_sum(mul(t_flat, mul(left, right)), (last,))


reduce_and_p = _reduction("reduce_and", np.all, "b")
reduce_or_p = _reduction("reduce_or", np.any, "b")
reduce_xor_p = _reduction("reduce_xor", lambda x, axis: np.logical_xor.reduce(x, axis=axis), "b")


def _zero_jvp(prim):
    def jvp(primals, tangents, **params):
        y = prim.bind(*primals, **params)
        return y, zeros_like_aval(get_aval(y))
    prim.def_jvp(jvp)


for _p in (reduce_and_p, reduce_or_p, reduce_xor_p):
    _zero_jvp(_p)


def _arg_reduction(name, numpy_fn):
    prim = Primitive(name)

    @prim.def_impl
    def impl(x, *, axes, index_dtype):
        (axis,) = axes
        return numpy_fn(x, axis=axis).astype(index_dtype)

    @prim.def_abstract_eval
    def abstract(x, *, axes, index_dtype):
        if len(axes) != 1:
            raise ValueError(f"{name} reduces over exactly one axis, got {axes}")
        _check_kinds(name, x.dtype, ANY)
        return ShapedArray(_reduced_shape(name, x, axes), index_dtype, False)

    _zero_jvp(prim)
    return prim


argmax_p = _arg_reduction("argmax", np.argmax)
argmin_p = _arg_reduction("argmin", np.argmin)


def _axes(axes):
    return tuple(sorted(int(a) for a in axes))


def reduce_sum(x, axes):
    return reduce_sum_p.bind(x, axes=_axes(axes))


def reduce_max(x, axes):
    return reduce_max_p.bind(x, axes=_axes(axes))


def reduce_min(x, axes):
    return reduce_min_p.bind(x, axes=_axes(axes))


def reduce_prod(x, axes):
    return reduce_prod_p.bind(x, axes=_axes(axes))


def reduce_and(x, axes):
    return reduce_and_p.bind(x, axes=_axes(axes))


def reduce_or(x, axes):
    return reduce_or_p.bind(x, axes=_axes(axes))


def reduce_xor(x, axes):
    return reduce_xor_p.bind(x, axes=_axes(axes))


def argmax(x, axis, index_dtype=None):
    return argmax_p.bind(x, axes=(int(axis),),
                         index_dtype=np.dtype(index_dtype or dtypes.default_int()))


def argmin(x, axis, index_dtype=None):
    return argmin_p.bind(x, axes=(int(axis),),
                         index_dtype=np.dtype(index_dtype or dtypes.default_int()))


# ---------------------------------------------------------------------------
# Batching: reduce the same axes, shifted past a leading batch axis
# ---------------------------------------------------------------------------
from .batch_util import move_to_front  # noqa: E402


def _reduction_batch(prim):
    def rule(args, dims, *, axes, **params):
        x = move_to_front(args[0], dims[0])
        return prim.bind(x, axes=tuple(a + 1 for a in axes), **params), 0
    prim.def_batch(rule)


for _p in (reduce_sum_p, reduce_max_p, reduce_min_p, reduce_prod_p, reduce_and_p, reduce_or_p,
           reduce_xor_p, argmax_p, argmin_p):
    _reduction_batch(_p)
