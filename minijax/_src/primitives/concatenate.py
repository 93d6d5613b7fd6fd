"""concatenate: join arrays along an existing axis. Its transpose slices the cotangent apart."""
from __future__ import annotations

import numpy as np

from ..core import Primitive, ShapedArray, get_aval, is_undefined_primal
from .elementwise import same_dtypes

concatenate_p = Primitive("concatenate")


@concatenate_p.def_impl
def _concatenate_impl(*operands, dimension):
    return np.concatenate(operands, axis=dimension)


@concatenate_p.def_abstract_eval
def _concatenate_abstract(*operands, dimension):
    dtype = same_dtypes("concatenate", list(operands))
    first = operands[0].shape
    for op in operands:
        if len(op.shape) != len(first) or any(a != b for i, (a, b) in enumerate(zip(op.shape, first))
                                               if i != dimension):
            raise TypeError(f"Cannot concatenate arrays with shapes that differ in dimensions "
                            f"other than the one being concatenated: {[o.shape for o in operands]}")
    shape = list(first)
    shape[dimension] = sum(op.shape[dimension] for op in operands)
    return ShapedArray(shape, dtype, all(op.weak_type for op in operands))


@concatenate_p.def_jvp
def _concatenate_jvp(primals, tangents, *, dimension):
    return concatenate(primals, dimension), concatenate(tangents, dimension)


@concatenate_p.def_transpose
def _concatenate_transpose(ct, *operands, dimension):
    from .slicing import slice_in_dim
    cts, start = [], 0
    for op in operands:
        size = (op.aval if is_undefined_primal(op) else get_aval(op)).shape[dimension]
        cts.append(slice_in_dim(ct, start, start + size, axis=dimension)
                   if is_undefined_primal(op) else None)
        start += size
    return cts


@concatenate_p.def_batch
def _concatenate_batch(args, dims, *, dimension):
    from .batch_util import batch_size, bdim_at_front
    size = batch_size(args, dims)
    return concatenate([bdim_at_front(x, d, size) for x, d in zip(args, dims)], dimension + 1), 0


def concatenate(operands, dimension):
    operands = list(operands)
    if len(operands) == 1:
        return operands[0]
    return concatenate_p.bind(*operands, dimension=int(dimension))
