"""Helpers for writing batching (vmap) rules.

A batching rule receives each operand together with its batch dimension
(``None`` for an operand that is the same for every example) and returns the
result with its batch dimension. Most rules move the batch axis to the front,
apply the primitive once to the whole batch, and report batch dimension 0.
"""
from __future__ import annotations

from ..core import get_aval

not_mapped = None


def move_to_front(x, bdim):
    """Make ``bdim`` axis 0 (a no-op when it already is)."""
    from .shape import transpose
    if bdim == 0 or bdim is None:
        return x
    ndim = get_aval(x).ndim
    perm = (bdim,) + tuple(i for i in range(ndim) if i != bdim)
    return transpose(x, perm)


def move_axis(x, src, dst):
    from .shape import transpose
    if src == dst:
        return x
    ndim = get_aval(x).ndim
    order = [i for i in range(ndim) if i != src]
    order.insert(dst, src)
    return transpose(x, tuple(order))


def batch_size(args, dims):
    for x, d in zip(args, dims):
        if d is not None:
            return get_aval(x).shape[d]
    raise ValueError("no batched operand")


def bdim_at_front(x, bdim, size):
    """``x`` with a leading batch axis, broadcasting an unbatched ``x`` to ``size`` copies."""
    from .shape import broadcast_in_dim
    if bdim is None:
        shape = get_aval(x).shape
        return broadcast_in_dim(x, (size,) + shape, tuple(range(1, len(shape) + 1)))
    return move_to_front(x, bdim)


def elementwise_batch_rule(prim):
    """Batch an elementwise primitive: align every operand to ``(batch,) + common_shape``."""
    from .shape import broadcast_in_dim

    def rule(args, dims, **params):
        size = batch_size(args, dims)
        shapes = [get_aval(x).shape[:d] + get_aval(x).shape[d + 1:] if d is not None
                  else get_aval(x).shape for x, d in zip(args, dims)]
        common = max(shapes, key=len)
        aligned = []
        for x, d, s in zip(args, dims, shapes):
            if d is None and s == ():
                aligned.append(x)  # rank-0 operands broadcast inside the primitive
            elif d is None:
                aligned.append(broadcast_in_dim(x, (size,) + common, tuple(range(1, len(s) + 1))))
            else:
                x = move_to_front(x, d)
                if s != common:
                    x = broadcast_in_dim(x, (size,) + common, (0,))
                aligned.append(x)
        return prim.bind(*aligned, **params), 0

    prim.def_batch(rule)
    return rule
