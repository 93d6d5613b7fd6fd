"""Cumulative reductions along one axis: cumsum, cumprod, cummax, cummin.

``cumsum`` is linear, and its transpose is a cumsum running the other way:
``ct_in[j] = sum_{i >= j} ct_out[i]``.

The other three are not linear. Their derivatives come from viewing each one as
a *scan* with an associative operator (``*``, ``max``, ``min``). Differentiating
the operator gives an operator on ``(value, tangent)`` pairs, e.g. for ``*``::

    (a, da) . (b, db) = (a * b,  da * b + a * db)

and scanning the pairs with it yields the tangent of the whole cumulative
product, with no division (so zeros in the input are fine). ``associative_scan``
below runs any associative operator in ``log2(n)`` rounds of slices and
concatenations -- all differentiable primitives -- so these JVP rules can be
differentiated again.
"""
from __future__ import annotations

import numpy as np

from ..core import Primitive, get_aval
from .batch_util import move_to_front
from .concatenate import concatenate
from .elementwise import (ANY, NUMBER, _check_kinds, _const, add, eq, gt, lt, max, min, mul,
                          select_n)
from .slicing import pad, slice_in_dim


def _cumulative(name, numpy_accumulate, kinds):
    prim = Primitive(name)

    @prim.def_impl
    def impl(x, *, axis, reverse):
        if reverse:
            x = np.flip(x, axis)
        with np.errstate(all="ignore"):
            out = numpy_accumulate(x, axis=axis).astype(x.dtype)
        return np.flip(out, axis) if reverse else out

    @prim.def_abstract_eval
    def abstract(x, *, axis, reverse):
        _check_kinds(name, x.dtype, kinds)
        if not 0 <= axis < x.ndim:
            raise ValueError(f"{name}: axis {axis} is out of bounds for an array of rank {x.ndim}")
        return x

    @prim.def_batch
    def batch(args, dims, *, axis, reverse):
        x = move_to_front(args[0], dims[0])
        return prim.bind(x, axis=axis + 1, reverse=reverse), 0

    return prim


cumsum_p = _cumulative("cumsum", np.cumsum, NUMBER)
cumprod_p = _cumulative("cumprod", np.cumprod, NUMBER)
cummax_p = _cumulative("cummax", np.maximum.accumulate, ANY)
cummin_p = _cumulative("cummin", np.minimum.accumulate, ANY)


# ---------------------------------------------------------------------------
# A scan with any associative operator, from slices and concatenations
# ---------------------------------------------------------------------------
def associative_scan(fn, elems, reverse=False, axis=0):
    """Inclusive scan of ``elems`` with an associative ``fn(earlier, later) -> combined``.

    ``elems`` is one array, or a list/tuple of arrays scanned together (``fn`` then receives
    and returns containers of the same kind), as in ``lax.associative_scan``.

    Hillis-Steele: after the round with offset ``d`` every element holds the combination of
    the ``2d`` elements ending at it. ``log2(n)`` rounds, each one ``fn`` on shifted slices.
    """
    single = not isinstance(elems, (list, tuple))
    kind = type(elems) if not single else None
    parts = [elems] if single else list(elems)

    def call(a, b):
        out = fn(a[0], b[0]) if single else fn(kind(a), kind(b))
        return [out] if single else list(out)

    axis = _axis(parts[0], axis)
    n = get_aval(parts[0]).shape[axis]
    d = 1
    while d < n:
        early = [slice_in_dim(e, 0, n - d, axis=axis) for e in parts]
        late = [slice_in_dim(e, d, n, axis=axis) for e in parts]
        if reverse:   # scanning from the end: the block at i + d comes first
            merged = call(late, early)
            parts = [concatenate([m, slice_in_dim(e, n - d, n, axis=axis)], axis)
                     for m, e in zip(merged, parts)]
        else:
            merged = call(early, late)
            parts = [concatenate([slice_in_dim(e, 0, d, axis=axis), m], axis)
                     for m, e in zip(merged, parts)]
        d *= 2
    return parts[0] if single else kind(parts)


def _cumulative_jvp(prim, pair_op):
    def jvp(primals, tangents, *, axis, reverse):
        (x,), (t,) = primals, tangents
        _, dy = associative_scan(lambda a, b: pair_op(a[0], a[1], b[0], b[1]), (x, t),
                                 reverse=reverse, axis=axis)
        return prim.bind(x, axis=axis, reverse=reverse), dy
    prim.def_jvp(jvp)


def _mul_pair(a, da, b, db):
    return mul(a, b), add(mul(da, b), mul(a, db))


def _extremum_pair(op, wins):
    def pair(a, da, b, db):
        # the tangent follows the winner; a tie shares it equally (as lax.max does)
        tie = mul(_const(da, 0.5), add(da, db))
        return op(a, b), select_n(wins(a, b), select_n(eq(a, b), db, tie), da)
    return pair


cumsum_p.def_jvp(lambda p, t, axis, reverse: (cumsum_p.bind(p[0], axis=axis, reverse=reverse),
                                              cumsum_p.bind(t[0], axis=axis, reverse=reverse)))
cumsum_p.def_transpose(lambda ct, x, axis, reverse: [cumsum_p.bind(ct, axis=axis,
                                                                   reverse=not reverse)])
_cumulative_jvp(cumprod_p, _mul_pair)
_cumulative_jvp(cummax_p, _extremum_pair(max, gt))
_cumulative_jvp(cummin_p, _extremum_pair(min, lt))


# ---------------------------------------------------------------------------
# lax-level functions
# ---------------------------------------------------------------------------
def _axis(x, axis):
    ndim = get_aval(x).ndim
    if not -ndim <= int(axis) < ndim:
        raise ValueError(f"axis {axis} is out of bounds for an array of rank {ndim}")
    return int(axis) % ndim


def cumsum(operand, axis=0, reverse=False):
    """Running sum along ``axis`` (from the end when ``reverse``)."""
    return cumsum_p.bind(operand, axis=_axis(operand, axis), reverse=bool(reverse))


def cumprod(operand, axis=0, reverse=False, *, exclusive=False):
    """Running product along ``axis``.

    ``exclusive=True`` leaves out the element itself: ``out[i] = prod_{j < i} x[j]``
    (``j > i`` when ``reverse``), so ``out[0]`` is 1. ``reduce_prod``'s derivative uses it.
    """
    axis = _axis(operand, axis)
    out = cumprod_p.bind(operand, axis=axis, reverse=bool(reverse))
    if not exclusive:
        return out
    aval = get_aval(operand)
    n, one = aval.shape[axis], _const(operand, 1)
    config = [(0, 0, 0)] * aval.ndim
    if reverse:   # shift left by one, a 1 enters at the end
        config[axis] = (-1, 1, 0) if n else (0, 0, 0)
    else:         # shift right by one, a 1 enters at the front
        config[axis] = (1, -1, 0) if n else (0, 0, 0)
    return pad(out, one, config)


def cummax(operand, axis=0, reverse=False):
    """Running maximum along ``axis``."""
    return cummax_p.bind(operand, axis=_axis(operand, axis), reverse=bool(reverse))


def cummin(operand, axis=0, reverse=False):
    """Running minimum along ``axis``."""
    return cummin_p.bind(operand, axis=_axis(operand, axis), reverse=bool(reverse))


__all__ = ["cumsum", "cumprod", "cummax", "cummin", "associative_scan"]
