"""``sort``: sort several arrays together along one axis, ordered by the first ``num_keys``.

``sort_p`` takes any number of same-shaped operands and permutes all of them by
the order of the keys (lexicographic over the first ``num_keys`` operands, NaNs
last, ties kept in their original order). Passing ``iota`` as an extra operand
is how ``argsort`` gets the permutation itself.

Derivatives without a gather
----------------------------
Sorting only moves elements, so the tangent of a sorted output is the input
tangent moved *the same way*. The JVP therefore sorts the tangents as extra
"passenger" operands behind the (primal) keys::

    sort(keys..., tangents..., num_keys=k)[k:]

With the keys fixed, that is a *linear* function of the passengers. Its
transpose sends each cotangent back to where its element came from -- the
inverse permutation. If ``perm`` is the argsort of the keys, sorting the pairs
``(perm, ct)`` by ``perm`` does exactly that: ``ct_in[perm[j]] = ct[j]``.
"""
from __future__ import annotations

import numpy as np

from ..core import Primitive, get_aval, is_undefined_primal
from .batch_util import batch_size, bdim_at_front
from .shape import broadcasted_iota

sort_p = Primitive("sort", multiple_results=True)


@sort_p.def_impl
def _sort_impl(*operands, dimension, is_stable, num_keys):
    keys = operands[:num_keys]
    if num_keys == 1:
        perm = np.argsort(keys[0], axis=dimension, kind="stable")
    else:  # np.lexsort's *last* key is the primary one
        perm = np.lexsort(keys[::-1], axis=dimension)
    return [np.take_along_axis(op, perm, axis=dimension) for op in operands]


@sort_p.def_abstract_eval
def _sort_abstract(*operands, dimension, is_stable, num_keys):
    if not operands:
        raise TypeError("sort needs at least one operand")
    shape = operands[0].shape
    if any(op.shape != shape for op in operands):
        raise TypeError(f"sort requires all operands to have the same shape, got "
                        f"{[op.shape for op in operands]}.")
    if not 0 <= dimension < max(len(shape), 1) or not shape:
        raise ValueError(f"sort: dimension {dimension} is out of bounds for operands of shape "
                         f"{shape} (sorting needs at least one axis).")
    if not 1 <= num_keys <= len(operands):
        raise ValueError(f"sort: num_keys={num_keys} must be between 1 and the number of "
                         f"operands ({len(operands)}).")
    return list(operands)


@sort_p.def_jvp
def _sort_jvp(primals, tangents, *, dimension, is_stable, num_keys):
    params = dict(dimension=dimension, is_stable=is_stable, num_keys=num_keys)
    outs = sort_p.bind(*primals, **params)
    # Tangents ride along as passengers behind the primal keys: the same permutation.
    tangents_out = sort_p.bind(*primals[:num_keys], *tangents, **params)[num_keys:]
    return outs, tangents_out


@sort_p.def_transpose
def _sort_transpose(cts, *operands, dimension, is_stable, num_keys):
    keys = operands[:num_keys]
    if any(is_undefined_primal(k) for k in keys):
        raise TypeError("sort is not linear in its keys; only passengers can be transposed")
    shape = get_aval(keys[0]).shape
    iota = broadcasted_iota(np.int32 if shape[dimension] < 2**31 else np.int64, shape, dimension)
    perm = sort_p.bind(*keys, iota, dimension=dimension, is_stable=True, num_keys=num_keys)[-1]
    linear = [i for i in range(num_keys, len(operands)) if is_undefined_primal(operands[i])]
    # Sorting by perm applies the inverse permutation: ct_in[perm[j]] = ct_out[j].
    unsorted = sort_p.bind(perm, *[cts[i] for i in linear], dimension=dimension,
                           is_stable=True, num_keys=1)[1:]
    out = [None] * len(operands)
    for i, ct in zip(linear, unsorted):
        out[i] = ct
    return out


@sort_p.def_batch
def _sort_batch(args, dims, *, dimension, is_stable, num_keys):
    size = batch_size(args, dims)
    args = [bdim_at_front(x, d, size) for x, d in zip(args, dims)]
    outs = sort_p.bind(*args, dimension=dimension + 1, is_stable=is_stable, num_keys=num_keys)
    return outs, [0] * len(outs)


def sort(operand, dimension=-1, is_stable=True, num_keys=1):
    """``lax.sort``: sort one array, or a sequence of arrays by their first ``num_keys``."""
    single = not isinstance(operand, (tuple, list))
    operands = [operand] if single else list(operand)
    ndim = get_aval(operands[0]).ndim
    dimension = int(dimension)
    if ndim and -ndim <= dimension < 0:
        dimension += ndim
    outs = sort_p.bind(*operands, dimension=dimension, is_stable=bool(is_stable),
                       num_keys=int(num_keys))
    return outs[0] if single else tuple(outs)


def sort_key_val(keys, values, dimension=-1, is_stable=True):
    """Sort ``keys`` and permute ``values`` the same way; returns ``(sorted_keys, values)``."""
    return sort((keys, values), dimension=dimension, is_stable=is_stable, num_keys=1)


__all__ = ["sort", "sort_key_val"]
