"""Shape primitives: broadcasting, reshaping, transposing, squeezing.

None of these change a single number; they only rearrange or repeat them. That
makes them *linear*, and their transposes are other shape primitives:

=====================  =======================================
primitive              transpose
=====================  =======================================
broadcast_in_dim       reduce_sum over the broadcast axes
reshape                reshape back
transpose              transpose by the inverse permutation
squeeze                reshape back (re-insert the unit axes)
rev                    rev along the same axes
=====================  =======================================
"""
from __future__ import annotations

import numpy as np

from ..core import Primitive, ShapedArray, get_aval, is_undefined_primal

# ---------------------------------------------------------------------------
# broadcast_in_dim: place operand axis i at output axis broadcast_dimensions[i]
# ---------------------------------------------------------------------------
broadcast_in_dim_p = Primitive("broadcast_in_dim")


@broadcast_in_dim_p.def_impl
def _broadcast_in_dim_impl(x, *, shape, broadcast_dimensions):
    expanded = [1] * len(shape)
    for src, dst in enumerate(broadcast_dimensions):
        expanded[dst] = x.shape[src]
    return np.broadcast_to(np.reshape(x, expanded), shape)


@broadcast_in_dim_p.def_abstract_eval
def _broadcast_in_dim_abstract(x, *, shape, broadcast_dimensions):
    if len(broadcast_dimensions) != x.ndim:
        raise TypeError(f"broadcast_in_dim: operand of rank {x.ndim} needs {x.ndim} "
                        f"broadcast_dimensions, got {broadcast_dimensions}")
    for src, dst in enumerate(broadcast_dimensions):
        if not (0 <= dst < len(shape)) or x.shape[src] not in (1, shape[dst]):
            raise TypeError(f"broadcast_in_dim: cannot broadcast operand shape {x.shape} to "
                            f"{shape} with broadcast_dimensions={broadcast_dimensions}")
    return ShapedArray(shape, x.dtype, x.weak_type)


@broadcast_in_dim_p.def_jvp
def _broadcast_in_dim_jvp(primals, tangents, **params):
    return broadcast_in_dim_p.bind(primals[0], **params), broadcast_in_dim_p.bind(tangents[0], **params)


@broadcast_in_dim_p.def_transpose
def _broadcast_in_dim_transpose(ct, x, *, shape, broadcast_dimensions):
    from .reductions import reduce_sum
    in_shape = x.aval.shape
    new_axes = tuple(d for d in range(len(shape)) if d not in broadcast_dimensions)
    stretched = tuple(dst for src, dst in enumerate(broadcast_dimensions)
                      if in_shape[src] == 1 and shape[dst] != 1)
    summed = reduce_sum(ct, tuple(sorted(new_axes + stretched)))
    return [reshape(summed, in_shape)]


def broadcast_in_dim(x, shape, broadcast_dimensions):
    """Broadcast ``x`` to ``shape``, its axis i landing on output axis ``broadcast_dimensions[i]``."""
    shape, dims = tuple(int(d) for d in shape), tuple(int(d) for d in broadcast_dimensions)
    if get_aval(x).shape == shape and dims == tuple(range(len(shape))):
        return x
    return broadcast_in_dim_p.bind(x, shape=shape, broadcast_dimensions=dims)


def broadcast_to_rank_aligned(x, shape):
    """NumPy-style broadcasting of ``x`` to ``shape`` (trailing axes aligned)."""
    x_shape = get_aval(x).shape
    if x_shape == tuple(shape):
        return x
    lead = len(shape) - len(x_shape)
    if lead < 0 or any(s not in (1, t) for s, t in zip(x_shape, shape[lead:])):
        raise ValueError(f"Incompatible shapes for broadcasting: {x_shape} and requested shape "
                         f"{tuple(shape)}")
    return broadcast_in_dim(x, shape, tuple(range(lead, len(shape))))


# ---------------------------------------------------------------------------
# reshape
# ---------------------------------------------------------------------------
reshape_p = Primitive("reshape")
reshape_p.def_impl(lambda x, *, new_sizes: np.reshape(x, new_sizes))


@reshape_p.def_abstract_eval
def _reshape_abstract(x, *, new_sizes):
    if int(np.prod(new_sizes, dtype=np.int64)) != x.size:
        raise TypeError(f"cannot reshape array of shape {x.shape} (size {x.size}) into shape "
                        f"{new_sizes} (size {int(np.prod(new_sizes, dtype=np.int64))})")
    return ShapedArray(new_sizes, x.dtype, x.weak_type)


reshape_p.def_jvp(lambda p, t, new_sizes: (reshape(p[0], new_sizes), reshape(t[0], new_sizes)))
reshape_p.def_transpose(lambda ct, x, new_sizes: [reshape(ct, x.aval.shape)])


def reshape(x, new_sizes):
    new_sizes = tuple(int(d) for d in new_sizes)
    if get_aval(x).shape == new_sizes:
        return x
    return reshape_p.bind(x, new_sizes=new_sizes)


# ---------------------------------------------------------------------------
# transpose
# ---------------------------------------------------------------------------
transpose_p = Primitive("transpose")
transpose_p.def_impl(lambda x, *, permutation: np.transpose(x, permutation))


@transpose_p.def_abstract_eval
def _transpose_abstract(x, *, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise ValueError(f"transpose permutation {permutation} is not a permutation of the "
                         f"{x.ndim} axes of an array of shape {x.shape}")
    return ShapedArray(tuple(x.shape[p] for p in permutation), x.dtype, x.weak_type)


transpose_p.def_jvp(lambda p, t, permutation: (transpose(p[0], permutation),
                                               transpose(t[0], permutation)))
transpose_p.def_transpose(lambda ct, x, permutation: [transpose(ct, tuple(np.argsort(permutation)))])


def transpose(x, permutation):
    permutation = tuple(int(p) for p in permutation)
    if permutation == tuple(range(len(permutation))):
        return x
    return transpose_p.bind(x, permutation=permutation)


# ---------------------------------------------------------------------------
# squeeze: drop unit axes
# ---------------------------------------------------------------------------
squeeze_p = Primitive("squeeze")
squeeze_p.def_impl(lambda x, *, dimensions: np.squeeze(x, dimensions))


@squeeze_p.def_abstract_eval
def _squeeze_abstract(x, *, dimensions):
    for d in dimensions:
        if not 0 <= d < x.ndim or x.shape[d] != 1:
            raise ValueError(f"cannot select an axis to squeeze out which has size not equal to "
                             f"one: axis {d} of shape {x.shape}")
    shape = tuple(s for i, s in enumerate(x.shape) if i not in dimensions)
    return ShapedArray(shape, x.dtype, x.weak_type)


squeeze_p.def_jvp(lambda p, t, dimensions: (squeeze(p[0], dimensions), squeeze(t[0], dimensions)))
squeeze_p.def_transpose(lambda ct, x, dimensions: [reshape(ct, x.aval.shape)])


def squeeze(x, dimensions):
    dimensions = tuple(sorted(int(d) for d in dimensions))
    if not dimensions:
        return x
    return squeeze_p.bind(x, dimensions=dimensions)


def expand_dims(x, dimensions):
    """Insert unit axes at ``dimensions`` (positions in the output)."""
    shape = list(get_aval(x).shape)
    for d in sorted(dimensions):
        shape.insert(d, 1)
    return reshape(x, tuple(shape))


# ---------------------------------------------------------------------------
# rev: reverse the order of elements along some axes
# ---------------------------------------------------------------------------
rev_p = Primitive("rev")
rev_p.def_impl(lambda x, *, dimensions: np.flip(x, dimensions) if dimensions else x)


@rev_p.def_abstract_eval
def _rev_abstract(x, *, dimensions):
    if len(set(dimensions)) != len(dimensions) or any(not 0 <= d < x.ndim for d in dimensions):
        raise ValueError(f"rev: dimensions {dimensions} must be distinct axes of an array of "
                         f"rank {x.ndim}")
    return x


rev_p.def_jvp(lambda p, t, dimensions: (rev(p[0], dimensions), rev(t[0], dimensions)))
rev_p.def_transpose(lambda ct, x, dimensions: [rev(ct, dimensions)])


def rev(operand, dimensions):
    """Reverse ``operand`` along each axis in ``dimensions`` (lax.rev; jnp.flip builds on it)."""
    dimensions = tuple(sorted(int(d) for d in dimensions))
    if not dimensions:
        return operand
    return rev_p.bind(operand, dimensions=dimensions)


__all__ = ["broadcast_in_dim", "broadcast_to_rank_aligned", "reshape", "transpose", "squeeze",
           "expand_dims", "rev", "is_undefined_primal"]


# ---------------------------------------------------------------------------
# Batching: move the batch axis to the front, shift the static axis parameters by one
# ---------------------------------------------------------------------------
from .batch_util import move_to_front  # noqa: E402


@broadcast_in_dim_p.def_batch
def _broadcast_in_dim_batch(args, dims, *, shape, broadcast_dimensions):
    (x,), (d,) = args, dims
    x = move_to_front(x, d)
    size = get_aval(x).shape[0]
    return broadcast_in_dim(x, (size,) + tuple(shape),
                            (0,) + tuple(b + 1 for b in broadcast_dimensions)), 0


@reshape_p.def_batch
def _reshape_batch(args, dims, *, new_sizes):
    x = move_to_front(args[0], dims[0])
    return reshape(x, (get_aval(x).shape[0],) + tuple(new_sizes)), 0


@transpose_p.def_batch
def _transpose_batch(args, dims, *, permutation):
    x = move_to_front(args[0], dims[0])
    return transpose(x, (0,) + tuple(p + 1 for p in permutation)), 0


@squeeze_p.def_batch
def _squeeze_batch(args, dims, *, dimensions):
    x = move_to_front(args[0], dims[0])
    return squeeze(x, tuple(d + 1 for d in dimensions)), 0


@rev_p.def_batch
def _rev_batch(args, dims, *, dimensions):
    x = move_to_front(args[0], dims[0])
    return rev(x, tuple(d + 1 for d in dimensions)), 0


# ---------------------------------------------------------------------------
# iota: 0, 1, 2, ... along one dimension of a new array (what arange builds on)
# ---------------------------------------------------------------------------
iota_p = Primitive("iota")


@iota_p.def_impl
def _iota_impl(*, dtype, shape, dimension):
    ramp = np.arange(shape[dimension], dtype=dtype)
    view = [1] * len(shape)
    view[dimension] = shape[dimension]
    return np.broadcast_to(ramp.reshape(view), shape)


iota_p.def_abstract_eval(lambda *, dtype, shape, dimension: ShapedArray(shape, dtype, False))
# iota takes no operands, so it is never batched and its jvp is never asked for (no tangents in).


def iota(dtype, size):
    """``[0, 1, ..., size-1]`` as an array of ``dtype``."""
    from .. import dtypes
    return iota_p.bind(dtype=dtypes.canonicalize(dtype), shape=(int(size),), dimension=0)


def broadcasted_iota(dtype, shape, dimension):
    from .. import dtypes
    return iota_p.bind(dtype=dtypes.canonicalize(dtype), shape=tuple(int(s) for s in shape),
                       dimension=int(dimension))
