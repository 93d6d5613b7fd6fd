"""Indexing: ``x[...]``, functional updates ``x.at[...]``, and take / nonzero & friends.

How ``x[index]`` becomes primitives
-----------------------------------
Any NumPy index expression is first *normalized*: the Ellipsis is expanded, ``None`` inserts
unit axes, boolean masks become integer arrays (``mask.nonzero()``), and every axis of the
(expanded) array gets one action. Then, in order:

1. ``reshape``                      insert the ``None`` axes;
2. ``slice`` (+ ``rev``)            every static ``start:stop:step`` (and static ints, as
                                    one-element slices);
3. ``gather``                       the integer *arrays* (advanced indexing), all broadcast
                                    to one shape ``B``, which lands where NumPy puts it: in
                                    place when the advanced indices sit next to each other
                                    (``x[:, i, j]``), first otherwise (``x[i, :, j]``);
4. ``dynamic_slice`` + ``squeeze``  traced integer scalars (``x[i]`` inside ``jit``).

Out of bounds: static slices are clipped as in Python. Integer indices count from the end
when negative; beyond that, reads *clamp* into range by default (JAX cannot raise an error
from inside a compiled program), and ``.at[...].get(mode='fill')`` returns ``fill_value``
instead. Updates (``.at[...].set`` etc.) *drop* out-of-bounds writes by default.

``x.at[index].op(v)`` normalizes the index the same way but turns *everything* into one
scatter: slices become constant integer arrays, the updates are broadcast to the shape
``x[index]`` would have. Duplicate indices accumulate for add/multiply/min/max (like
``np.add.at``), unlike NumPy's ``x[i] += v``.

Boolean masks need concrete values: the number of True entries decides the result's shape,
and shapes must be known while tracing (``NonConcreteBooleanIndexError`` otherwise).

Where real JAX differs: JAX's default read mode is "promise_in_bounds": the value of an
out-of-bounds read is clamped, but its gradient is silently dropped. minijax clamps both, so
the gradient goes to the element that was actually read (what finite differences see).
``.at[].apply`` with *traced* duplicate indices applies the function once per position (JAX:
once per occurrence, which minijax reproduces when the indices are concrete).
"""
from __future__ import annotations

import builtins
import warnings

import numpy as np

from .. import errors
from .._src import dtypes
from .._src.array import Array
from .._src.core import Tracer, concrete_or_error, get_aval
from .._src.primitives import indexing as lax_idx
from .._src.primitives.concatenate import concatenate
from .._src.primitives.elementwise import (add, convert_element_type, div, lt,
                                           max as lax_max, min as lax_min, mul, neg, rem,
                                           select_n, sub)
from .._src.primitives.shape import (broadcast_in_dim, broadcast_to_rank_aligned, reshape, rev,
                                     squeeze, transpose)
from .._src.primitives.slicing import slice as lax_slice
from ._util import as_operand, canonicalize_axis, check_arraylike

__all__ = ["take", "take_along_axis", "nonzero", "flatnonzero", "argwhere", "extract", "compress",
           "choose", "diag_indices", "diag_indices_from", "tril_indices", "triu_indices",
           "tril_indices_from", "triu_indices_from", "unravel_index", "ravel_multi_index", "ix_",
           "put", "bincount"]


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------
def _index_dtype():
    return dtypes.default_int()


def _const_int(value, dtype=None):
    dtype = dtype or _index_dtype()
    return convert_element_type(np.asarray(value, dtype), dtype)


def _is_operand(x):
    return isinstance(x, (Array, Tracer))


def _is_int_like_scalar(x):
    return (isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)))


def _static_int(x):
    """A Python int from an int, a NumPy integer, or a concrete integer scalar array; else None."""
    if _is_int_like_scalar(x):
        return int(x)
    if isinstance(x, (np.ndarray, Array)) and x.ndim == 0 and dtypes.is_integer(x.dtype):
        return int(x)
    if isinstance(x, Tracer) and x.ndim == 0 and dtypes.is_integer(x.dtype):
        value = x.concrete_value()
        return None if value is None else int(np.asarray(value))
    return None


def _index_array_kind(dtype, original):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return "mask"
    if dtypes.is_integer(dtype):
        return "int"
    raise TypeError(f"Indexer must have integer or boolean type, got indexer with type "
                    f"{dtype.name}. (Hint: index with integers, e.g. x[jnp.int32(i)] or "
                    f"x[i.astype(int)].) Got {original!r}.")


def _normalize_index_operand(i, n):
    """Integer index array -> default int dtype, negative entries counted from the end.

    Constants (NumPy values and concrete Arrays) are normalized right away with NumPy; traced
    indices get ``select_n(i < 0, i, i + n)`` in the program.
    """
    if not isinstance(i, Tracer):
        arr = np.asarray(i).astype(np.int64)
        arr = np.where(arr < 0, arr + n, arr)
        return Array(arr.astype(_index_dtype()))
    dtype = get_aval(i).dtype
    i = convert_element_type(i, _index_dtype()) if dtype != _index_dtype() else i
    if dtype.kind == "u":
        return i
    return select_n(lt(i, _const_int(0)), i, add(i, _const_int(n)))


def _shape_of(i):
    return get_aval(i).shape if _is_operand(i) else np.shape(i)


def _broadcast_index_arrays(arrays):
    shapes = [_shape_of(a) for a in arrays]
    try:
        target = tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise IndexError(f"shape mismatch: indexing arrays could not be broadcast together with "
                         f"shapes {' '.join(str(tuple(s)) for s in shapes)}") from None
    return [broadcast_to_rank_aligned(a, target) if _shape_of(a) != target else a
            for a in arrays], target


# ---------------------------------------------------------------------------
# Normalizing an index expression
# ---------------------------------------------------------------------------
class _Axis:
    """What happens to one axis of the (``None``-expanded) array.

    kind: 'full' | 'slice' (start, stop, step) | 'int' (static) | 'dyn' (traced scalar)
          | 'adv' (integer array, possibly 0-d)
    entry: position in the index tuple (for NumPy's "are the advanced indices adjacent" rule)
    """

    __slots__ = ("kind", "value", "entry", "new")

    def __init__(self, kind, value, entry, new=False):
        self.kind, self.value, self.entry, self.new = kind, value, entry, new


def _split_index(index):
    if isinstance(index, tuple):
        return list(index)
    if isinstance(index, list):
        raise TypeError(
            "Using a non-tuple sequence for multidimensional indexing is not allowed; use "
            "`arr[array(seq)]` instead of `arr[seq]` (a list is ambiguous: NumPy used to read "
            "x[[0, 1]] as x[0, 1]). See https://github.com/jax-ml/jax/issues/4564 for more "
            "information.")
    return [index]


def _slice_entry(s, position):
    out = []
    for v in (s.start, s.stop, s.step):
        if v is None:
            out.append(None)
            continue
        value = _static_int(v)
        if value is None:
            raise IndexError(
                f"Slice entries must be static integers. Got {s} at position {position}. A slice's "
                f"bounds decide the result's shape, which must be known while tracing. Use "
                f"lax.dynamic_slice(x, (start,), (size,)) for a fixed-size window at a traced "
                f"offset, or mark the bound static with jit(..., static_argnums=...).")
        out.append(value)
    if out[2] == 0:
        raise ValueError("slice step cannot be zero")
    return builtins.slice(*out)


def _classify(item, position):
    """One entry of the index tuple -> (kind, value)."""
    if item is None:
        return "newaxis", None
    if item is Ellipsis:
        return "ellipsis", None
    if isinstance(item, builtins.slice):
        return "slice", _slice_entry(item, position)
    if isinstance(item, (bool, np.bool_)):
        return "boolscalar", bool(item)
    if _is_int_like_scalar(item):
        return "int", int(item)
    if isinstance(item, (float, complex)):
        _index_array_kind(np.asarray(item).dtype, item)
    if isinstance(item, (str, bytes)):
        raise TypeError(f"JAX does not support string indexing; got idx={item!r}")
    if isinstance(item, (list, tuple)):
        if _contains_operand(item):
            from ._creation import asarray
            item = asarray(item)
        else:
            item = np.asarray(item) if len(item) else np.zeros((0,), np.int64)
    if isinstance(item, (np.ndarray, np.generic, Array, Tracer)):
        kind = _index_array_kind(item.dtype, item)
        if kind == "mask":
            mask = _concrete_mask(item)
            return ("boolscalar", bool(mask)) if mask.ndim == 0 else ("mask", mask)
        if isinstance(item, (np.ndarray, np.generic)):
            return ("int", int(item)) if np.ndim(item) == 0 else ("array", item)
        return ("dyn", item) if get_aval(item).ndim == 0 else ("array", item)
    raise TypeError(f"Indexing with {type(item).__name__} ({item!r}) is not supported. Valid "
                    f"indices are integers, slices, None, Ellipsis, and integer or boolean arrays.")


def _contains_operand(obj):
    if isinstance(obj, (list, tuple)):
        return any(_contains_operand(o) for o in obj)
    return _is_operand(obj)


def _concrete_mask(mask):
    if isinstance(mask, Tracer):
        value = mask.concrete_value()
        if value is None:
            raise errors.NonConcreteBooleanIndexError(mask)
        return np.asarray(value, dtype=bool)
    return np.asarray(mask, dtype=bool)


def _normalize(shape, index, ints_as_arrays=False):
    """Return (axes: list[_Axis] over the expanded array, expanded_shape)."""
    items = [(_classify(item, pos)) for pos, item in enumerate(_split_index(index))]
    if sum(1 for kind, _ in items if kind == "ellipsis") > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(np.ndim(v) if kind == "mask" else
                   (1 if kind in ("slice", "int", "dyn", "array") else 0) for kind, v in items)
    if consumed > len(shape):
        raise IndexError(f"Too many indices: array is {len(shape)}-dimensional, but {consumed} "
                         f"were indexed")
    if not any(kind == "ellipsis" for kind, _ in items):
        items.append(("ellipsis", None))   # trailing axes are kept whole
    axes, expanded, dim, entry = [], [], 0, 0
    for kind, value in items:
        if kind == "ellipsis":
            for _ in range(len(shape) - consumed):
                axes.append(_Axis("full", None, entry))
                expanded.append(shape[dim])
                dim += 1
        elif kind == "newaxis":
            axes.append(_Axis("full", None, entry, new=True))
            expanded.append(1)
        elif kind == "boolscalar":
            # NumPy: a 0-d boolean adds an axis of length 1 (True) or 0 (False). We insert a unit
            # axis and index it with [0] or [] -- an advanced index like any other.
            axes.append(_Axis("adv", np.zeros((1 if value else 0,), np.int64), entry, new=True))
            expanded.append(1)
        elif kind == "mask":
            m = value
            covered = shape[dim:dim + m.ndim]
            if m.shape != tuple(covered):
                raise IndexError(f"boolean index did not match shape of indexed array in index "
                                 f"{entry}: got {m.shape}, expected {list(covered)}")
            for k, idx in enumerate(np.nonzero(m)):
                axes.append(_Axis("adv", idx, entry + k))
                expanded.append(shape[dim])
                dim += 1
            entry += m.ndim - 1
        else:
            axes.append(_Axis({"array": "adv"}.get(kind, kind), value, entry))
            expanded.append(shape[dim])
            dim += 1
        entry += 1
    if ints_as_arrays or any(a.kind == "adv" for a in axes):
        # NumPy: as soon as one advanced index is present, integers count as (0-d) advanced
        # indices too -- they broadcast with the arrays and take part in the placement rule.
        for a in axes:
            if a.kind in ("int", "dyn"):
                a.kind = "adv"
    return axes, tuple(expanded)


def _advanced_position(axes):
    """Where the broadcast advanced-index dimensions go in the result (NumPy's rule)."""
    adv = [k for k, a in enumerate(axes) if a.kind == "adv"]
    entries = sorted({axes[k].entry for k in adv})
    adjacent = entries == list(range(entries[0], entries[0] + len(entries)))
    if not adjacent:
        return 0
    return sum(1 for a in axes[:adv[0]] if a.kind != "adv")


def _check_static_int(i, n, axis):
    if n == 0:
        raise IndexError(f"index is out of bounds for axis {axis} with size 0")
    i = i + n if i < 0 else i
    return builtins.min(builtins.max(i, 0), n - 1)   # JAX clamps static ints too


# ---------------------------------------------------------------------------
# Reading: x[index] and x.at[index].get(...)
# ---------------------------------------------------------------------------
_GET_MODES = {None: "clip", "promise_in_bounds": "clip", "clip": "clip", "fill": "fill",
              "drop": "fill"}
_SET_MODES = {None: "drop", "promise_in_bounds": "drop", "drop": "drop", "fill": "drop",
              "clip": "clip"}


def _mode_name(mode):
    name = getattr(mode, "name", mode)
    if isinstance(name, str):
        name = {"FILL_OR_DROP": "fill", "PROMISE_IN_BOUNDS": "promise_in_bounds",
                "CLIP": "clip"}.get(name, name.lower() if name.isupper() else name)
    if name not in _GET_MODES:
        raise ValueError(f'Unknown gather mode "{mode}": use one of None, "promise_in_bounds", '
                         f'"clip", "drop" or "fill".')
    return name


def getitem(x, index, *, mode=None, fill_value=None):
    """``x[index]`` with NumPy's semantics (JAX's for out-of-bounds integers)."""
    x = as_operand(x)
    gather_mode = _GET_MODES[_mode_name(mode)]
    shape = get_aval(x).shape
    axes, expanded = _normalize(shape, index, ints_as_arrays=gather_mode == "fill")
    if expanded != shape:
        x = reshape(x, expanded)
    # 2. static slices and static ints (as one-element slices), in one `slice` (+ `rev`).
    starts, limits, strides, flips, drop = [], [], [], [], []
    for k, (a, n) in enumerate(zip(axes, expanded)):
        s, l, st = 0, n, 1
        if a.kind == "slice":
            start, stop, step = a.value.indices(n)
            count = len(range(start, stop, step))
            if step > 0:
                s, l, st = start, start + builtins.max(count - 1, 0) * step + (1 if count else 0), step
            else:   # take the same elements in increasing order, then reverse them
                lo = start + (count - 1) * step if count else 0
                s, l, st = lo, lo + builtins.max(count - 1, 0) * -step + (1 if count else 0), -step
                flips.append(k)
        elif a.kind == "int":
            s = _check_static_int(a.value, n, k)
            l = s + 1
            drop.append(k)
        starts.append(s)
        limits.append(l)
        strides.append(st)
    x = lax_slice(x, starts, limits, strides)
    x = rev(x, flips)
    # 3. advanced (integer-array) indices: one gather.
    adv = [k for k, a in enumerate(axes) if a.kind == "adv"]
    if adv:
        sizes = get_aval(x).shape
        arrays = [_normalize_index_operand(axes[k].value, sizes[k]) for k in adv]
        arrays, _ = _broadcast_index_arrays(arrays)
        x = lax_idx.gather(x, arrays, adv, _advanced_position(axes), mode=gather_mode,
                           fill_value=fill_value)
    # 4. traced integer scalars: one dynamic_slice of size 1 on those axes, then squeeze.
    dyn = [k for k, a in enumerate(axes) if a.kind == "dyn"]
    if dyn:
        sizes = list(get_aval(x).shape)
        start_indices = [0] * len(sizes)
        for k in dyn:
            i = axes[k].value
            if get_aval(i).dtype != _index_dtype():
                i = convert_element_type(i, _index_dtype())
            start_indices[k] = i
            sizes[k] = 1
        x = lax_idx.dynamic_slice(x, start_indices, sizes)
    return squeeze(x, sorted(drop + dyn))


# ---------------------------------------------------------------------------
# Writing: one scatter for any index expression
# ---------------------------------------------------------------------------
def _scatter_plan(shape, index):
    """Describe ``x.at[index]`` as one scatter into ``x`` reshaped to ``expanded``.

    Returns ``(expanded, indexed, target, order)``: ``expanded`` is the shape with the ``None``
    axes inserted; ``indexed`` lists ``(axis, index array)`` pairs, all arrays of one shape
    ``B2`` (partial slices become ``arange`` arrays with a dimension of their own, followed by
    the broadcast advanced indices); ``target`` is the shape of ``x[index]`` (what the updates
    broadcast to); ``order`` is the permutation taking an update of shape ``target`` to the
    scatter's layout ``B2 + (the untouched axes)``.
    """
    axes, expanded = _normalize(shape, index, ints_as_arrays=True)
    adv = [k for k, a in enumerate(axes) if a.kind == "adv"]
    arrays, b_shape = [], ()
    if adv:
        arrays = [_normalize_index_operand(axes[k].value, expanded[k]) for k in adv]
        arrays, b_shape = _broadcast_index_arrays(arrays)
    # Partial slices become index arrays of their own dimension (an outer product with B).
    sliced = [k for k, a in enumerate(axes) if a.kind == "slice"
              and a.value.indices(expanded[k]) != (0, expanded[k], 1)]
    ranges = {k: np.arange(*axes[k].value.indices(expanded[k])) for k in sliced}
    # Labels of the dims of x[index] (the gather's view): ('ax', k) for kept axes, ('b', j) for B.
    kept = [k for k, a in enumerate(axes) if a.kind in ("full", "slice")]
    p = _advanced_position(axes) if adv else 0
    labels = [("ax", k) for k in kept[:p]] + [("b", j) for j in range(len(b_shape))] + \
             [("ax", k) for k in kept[p:]]
    # The scatter's index dims B2 = (one per partial slice) + B; window = the whole axes.
    b2_shape = tuple(len(ranges[k]) for k in sliced) + tuple(b_shape)
    indexed = []
    for j, k in enumerate(sliced):
        view = [1] * len(b2_shape)
        view[j] = len(ranges[k])
        const = np.broadcast_to(ranges[k].reshape(view), b2_shape).astype(_index_dtype())
        indexed.append((k, Array(np.ascontiguousarray(const))))
    lead = len(sliced)
    for k, arr in zip(adv, arrays):
        if lead:
            arr = broadcast_in_dim(arr, b2_shape, tuple(range(lead, len(b2_shape))))
        indexed.append((k, arr))
    order = ([labels.index(("ax", k)) for k in sliced] +
             [labels.index(("b", j)) for j in range(len(b_shape))] +
             [i for i, lab in enumerate(labels) if lab[0] == "ax" and lab[1] not in sliced])
    target = tuple(len(ranges[lab[1]]) if lab[0] == "ax" and lab[1] in ranges else
                   expanded[lab[1]] if lab[0] == "ax" else b_shape[lab[1]] for lab in labels)
    return expanded, indexed, target, order


_FUTURE_CAST_WARNING = ("scatter inputs have incompatible types: cannot safely cast value from "
                        "dtype={} to dtype={} with jax_numpy_dtype_promotion=standard. In future "
                        "JAX releases this will result in an error.")


def _cast_updates(x, values, fname):
    """Updates take the operand's dtype; warn (as JAX does) when that cast is not safe."""
    if isinstance(values, (list, tuple)):   # .at[].set accepts nested lists, as in JAX
        from ._creation import asarray
        values = asarray(values)
    check_arraylike(fname, values)
    x_aval = get_aval(x)
    if dtypes.is_python_scalar(values):
        v_typed = (dtypes.dtype_of_scalar(values), True)
    else:
        values = as_operand(values)
        v_typed = (get_aval(values).dtype, get_aval(values).weak_type)
    promoted, _ = dtypes.result_type((x_aval.dtype, x_aval.weak_type), v_typed)
    if promoted != x_aval.dtype:
        warnings.warn(_FUTURE_CAST_WARNING.format(np.dtype(v_typed[0]).name, x_aval.dtype.name),
                      FutureWarning, stacklevel=4)
    if dtypes.is_python_scalar(values):
        return convert_element_type(np.asarray(values).astype(x_aval.dtype), x_aval.dtype)
    return convert_element_type(values, x_aval.dtype, weak_type=get_aval(values).weak_type) \
        if get_aval(values).dtype != x_aval.dtype else values


def _broadcast_updates(u, target):
    u_shape = get_aval(u).shape
    if len(u_shape) > len(target):
        raise ValueError(f"Cannot broadcast to shape with fewer dimensions: arr_shape={u_shape} "
                         f"shape={target}. The updates must broadcast to the shape of x[idx], "
                         f"{target}; drop the extra leading axes (e.g. with .reshape).")
    try:
        return broadcast_to_rank_aligned(u, target)
    except ValueError:
        raise ValueError(f"Incompatible shapes for broadcasting: updates of shape {u_shape} "
                         f"cannot be broadcast to the indexed shape {target}.") from None


_ELEMENTWISE_FALLBACK = {
    "scatter": lambda x, u: u,
    "scatter_add": add,
    "scatter_mul": mul,
    "scatter_min": lax_min,
    "scatter_max": lax_max,
}


def _static_block(shape, index):
    """``(expanded, starts, sizes, target)`` when ``index`` picks one in-bounds block with unit
    steps (ints, ``a:b`` slices, ``None``, ``...``), else None. Such updates need no index
    arrays: slice out the block, combine, and write it back with ``dynamic_update_slice``.
    ``target`` is the shape of ``x[index]`` (the block without the integer-indexed axes)."""
    axes, expanded = _normalize(shape, index)
    starts, sizes = [], []
    for a, n in zip(axes, expanded):
        if a.kind == "full":
            starts.append(0)
            sizes.append(n)
        elif a.kind == "slice":
            start, stop, step = a.value.indices(n)
            if step != 1:
                return None
            starts.append(start)
            sizes.append(builtins.max(stop - start, 0))
        elif a.kind == "int" and -n <= a.value < n:
            starts.append(a.value % n)
            sizes.append(1)
        else:   # index arrays, traced ints, out-of-bounds ints: the general scatter
            return None
    target = tuple(k for a, k in zip(axes, sizes) if a.kind != "int")
    return expanded, starts, sizes, target


def _scatter(x, index, values, prim, fname, *, mode=None, unique_indices=False, cast=True):
    """``x`` with ``values`` combined in at ``x[index]`` by the scatter primitive ``prim``."""
    x = as_operand(x)
    set_mode = _SET_MODES[_mode_name(mode)]
    shape = get_aval(x).shape
    u = _cast_updates(x, values, fname) if cast else values
    block = _static_block(shape, index)
    if block is not None and tuple(block[2]) != block[0]:
        expanded, starts, sizes, target = block
        xe = reshape(x, expanded)
        u = reshape(_broadcast_updates(u, target), sizes)
        if prim is lax_idx.scatter_p:
            new = u
        else:
            old = lax_slice(xe, starts, [s + k for s, k in zip(starts, sizes)])
            new = _ELEMENTWISE_FALLBACK[prim.name](old, u)
        new = convert_element_type(new, get_aval(x).dtype, weak_type=get_aval(x).weak_type)
        return reshape(lax_idx.dynamic_update_slice(xe, new, starts), shape)
    expanded, indexed, target, order = _scatter_plan(shape, index)
    u = _broadcast_updates(u, target)
    if not indexed:   # x.at[...] / x.at[:, :]: every element, no index at all
        out = _ELEMENTWISE_FALLBACK[prim.name](reshape(x, expanded), u)
        aval = get_aval(x)
        return reshape(convert_element_type(out, aval.dtype, weak_type=aval.weak_type), shape)
    u = transpose(u, order)
    out = prim.bind(reshape(x, expanded), u, *[arr for _, arr in indexed],
                    indexed_axes=tuple(k for k, _ in indexed), index_dims_at=0, mode=set_mode,
                    unique_indices=bool(unique_indices))
    return reshape(out, shape)


def _multiplicity(x_shape, index, mode):
    """Largest number of times one element is hit by ``index`` (None if indices are traced)."""
    expanded, indexed, _, _ = _scatter_plan(x_shape, index)
    if not indexed:
        return 1
    if any(isinstance(arr, Tracer) for _, arr in indexed):
        return None
    counts = np.zeros(expanded, np.int64)
    where = []
    for k, arr in indexed:
        i = np.asarray(arr)
        where.append(i)
    ok = np.ones(where[0].shape, bool)
    if _SET_MODES[_mode_name(mode)] == "clip":
        where = [np.clip(i, 0, expanded[k] - 1) for (k, _), i in zip(indexed, where)]
    for (k, _), i in zip(indexed, where):
        ok &= (i >= 0) & (i < expanded[k])
    axes_order = [k for k, _ in indexed] + [a for a in range(len(expanded))
                                            if a not in [k for k, _ in indexed]]
    view = np.transpose(counts, axes_order)
    np.add.at(view, tuple(i[ok] for i in where), 1)
    return int(counts.max()) if counts.size else 1


# ---------------------------------------------------------------------------
# x.at[...]
# ---------------------------------------------------------------------------
class _IndexUpdateHelper:
    """``x.at``: index it (``x.at[idx]``) to get an updater for those positions."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __getitem__(self, index):
        return _IndexUpdateRef(self.array, index)

    def __repr__(self):
        return f"_IndexUpdateHelper({self.array!r})"


class _IndexUpdateRef:
    """``x.at[idx]``: methods return a NEW array; ``x`` itself never changes.

    ``mode`` says what happens to out-of-bounds indices: updates are dropped by default
    ('drop'/'fill'/'promise_in_bounds'), or clamped into range with 'clip'; reads clamp by
    default and return ``fill_value`` with 'fill'. Duplicate indices accumulate for add,
    multiply, min and max (``np.add.at`` semantics); for ``set`` one of them wins.
    """

    __slots__ = ("array", "index")

    def __init__(self, array, index):
        self.array, self.index = array, index

    def __repr__(self):
        return f"_IndexUpdateRef({self.array!r}, {self.index!r})"

    def get(self, *, indices_are_sorted=False, unique_indices=False, mode=None, fill_value=None,
            out_sharding=None, wrap_negative_indices=True):
        """``x[idx]``, with a choice of out-of-bounds behaviour (``mode='fill'``, ``fill_value``)."""
        return getitem(self.array, self.index, mode=mode, fill_value=fill_value)

    def _update(self, prim, values, fname, mode, unique_indices):
        return _scatter(self.array, self.index, values, prim, f"at[].{fname}", mode=mode,
                        unique_indices=unique_indices)

    def set(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
            out_sharding=None, wrap_negative_indices=True):
        """``x[idx] = values``, returned as a new array."""
        return self._update(lax_idx.scatter_p, values, "set", mode, unique_indices)

    def add(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
            out_sharding=None, wrap_negative_indices=True):
        """``x[idx] += values`` -- repeated indices add up (``np.add.at``)."""
        return self._update(lax_idx.scatter_add_p, values, "add", mode, unique_indices)

    def subtract(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
                 out_sharding=None, wrap_negative_indices=True):
        """``x[idx] -= values`` -- repeated indices subtract repeatedly."""
        values = neg(_cast_updates(self.array, values, "at[].subtract"))
        return _scatter(self.array, self.index, values, lax_idx.scatter_add_p, "at[].subtract",
                        mode=mode, unique_indices=unique_indices, cast=False)

    def multiply(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
                 out_sharding=None, wrap_negative_indices=True):
        """``x[idx] *= values`` -- repeated indices multiply repeatedly (``np.multiply.at``)."""
        return self._update(lax_idx.scatter_mul_p, values, "multiply", mode, unique_indices)

    mul = multiply

    def divide(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
               out_sharding=None, wrap_negative_indices=True):
        """``x[idx] /= values``, computed as ``x / P`` with P the product of the divisors at each
        position (1 elsewhere); integer ``x`` gives a float result, like ``jnp.divide``."""
        x = as_operand(self.array)
        ones = _full_like(x, 1)
        divisor = _scatter(ones, self.index, values, lax_idx.scatter_mul_p, "at[].divide",
                           mode=mode, unique_indices=unique_indices)
        return _ufuncs_ref().true_divide(x, divisor)

    def power(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
              out_sharding=None, wrap_negative_indices=True):
        """``x[idx] **= values``, computed as ``x ** P`` with P the product of the exponents at
        each position (1 elsewhere): repeated indices raise repeatedly."""
        x = as_operand(self.array)
        ones = _full_like(x, 1)
        exponent = _scatter(ones, self.index, values, lax_idx.scatter_mul_p, "at[].power",
                            mode=mode, unique_indices=unique_indices)
        out = _ufuncs_ref().power(x, exponent)
        return convert_element_type(out, get_aval(x).dtype, weak_type=get_aval(x).weak_type)

    def min(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
            out_sharding=None, wrap_negative_indices=True):
        """``x[idx] = minimum(x[idx], values)`` -- with repeated indices the smallest wins."""
        return self._update(lax_idx.scatter_min_p, values, "min", mode, unique_indices)

    def max(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
            out_sharding=None, wrap_negative_indices=True):
        """``x[idx] = maximum(x[idx], values)`` -- with repeated indices the largest wins."""
        return self._update(lax_idx.scatter_max_p, values, "max", mode, unique_indices)

    def apply(self, func, *, indices_are_sorted=False, unique_indices=False, mode=None,
              wrap_negative_indices=True):
        """``x[idx] = func(x[idx])`` for an elementwise ``func``; a position listed k times gets
        ``func`` applied k times, as in JAX.

        (minijax counts repetitions from concrete indices; with *traced* duplicate indices it
        applies ``func`` once per position.)
        """
        x = as_operand(self.array)
        times = 1 if unique_indices else _multiplicity(get_aval(x).shape, self.index, mode)
        times = 1 if times is None else times
        shape = get_aval(x).shape
        expanded, indexed, target, order = _scatter_plan(shape, self.index)
        xe = reshape(x, expanded)
        if not indexed:
            out = xe
            for _ in range(times):
                out = as_operand(func(out))
            return reshape(convert_element_type(out, get_aval(x).dtype), shape)
        set_mode = _SET_MODES[_mode_name(mode)]
        arrays = [arr for _, arr in indexed]
        where = dict(indexed_axes=tuple(k for k, _ in indexed), index_dims_at=0)
        values = lax_idx.gather_p.bind(xe, *arrays, **where, mode="clip", fill_value=None)
        if times > 1:
            counts = lax_idx.scatter_add_p.bind(
                _full_like(xe, 0, _index_dtype()),
                _full_like(values, 1, _index_dtype()), *arrays, **where, mode=set_mode,
                unique_indices=False)
            counts = lax_idx.gather_p.bind(counts, *arrays, **where, mode="clip", fill_value=None)
        for r in range(times):
            applied = convert_element_type(as_operand(func(values)), get_aval(x).dtype)
            values = applied if times == 1 else select_n(
                lt(_const_int(r), counts), values, applied)
        out = lax_idx.scatter_p.bind(xe, values, *arrays, **where, mode=set_mode,
                                     unique_indices=bool(unique_indices))
        return reshape(out, shape)


def _full_like(x, value, dtype=None):
    from .._src.primitives.elementwise import full
    aval = get_aval(x)
    return full(aval.shape, value, dtype or aval.dtype)


def _ufuncs_ref():
    import importlib
    return importlib.import_module("minijax.numpy")


# ---------------------------------------------------------------------------
# take, take_along_axis, put
# ---------------------------------------------------------------------------
def _int_indices(fname, indices, error=TypeError, message=None):
    check_arraylike(fname, indices)
    indices = as_operand(indices)
    if not dtypes.is_integer(get_aval(indices).dtype):
        raise error(message or f"{fname} indices must be of integer type, got "
                    f"{get_aval(indices).dtype.name}")
    return indices


def _mode_indices(fname, idx, n, mode):
    """Apply take-style modes to an index array: ('wrap' | 'clip' | 'fill') -> (indices, gather mode)."""
    dtype = _index_dtype()
    idx = convert_element_type(idx, dtype) if get_aval(idx).dtype != dtype else idx
    if mode == "raise":
        raise NotImplementedError(f"The 'raise' mode to jnp.{fname} is not supported (a compiled "
                                  f"program cannot raise); use mode='clip', 'wrap' or 'fill'.")
    if mode == "wrap":
        if n == 0:
            return idx, "clip"
        r = rem(idx, _const_int(n))
        return select_n(lt(r, _const_int(0)), r, add(r, _const_int(n))), "clip"
    if mode == "clip":
        return idx, "clip"
    if mode in (None, "fill"):
        return _normalize_index_operand(idx, n), "fill"
    raise ValueError(f"jnp.{fname}: invalid mode {mode!r}; use 'fill' (default), 'clip' or 'wrap'")


def take(a, indices, axis=None, out=None, mode=None, unique_indices=False,
         indices_are_sorted=False, fill_value=None):
    """Elements of ``a`` at ``indices`` along ``axis`` (of the flattened array when None).

    Out-of-bounds indices give ``fill_value`` (NaN for floats) by default, as in JAX;
    ``mode='clip'`` clamps them and ``mode='wrap'`` wraps them around.
    """
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.take is not supported (arrays are "
                                  "immutable).")
    check_arraylike("take", a)
    a = as_operand(a)
    indices = _int_indices("take", indices, ValueError, "indices must have an integer type")
    if axis is None:
        a = reshape(a, (get_aval(a).size,))
        axis = 0
    shape = get_aval(a).shape
    axis = canonicalize_axis(axis, len(shape))
    idx, gmode = _mode_indices("take", indices, shape[axis], mode)
    return lax_idx.gather(a, [idx], (axis,), axis, mode=gmode, fill_value=fill_value)


def take_along_axis(arr, indices, axis=-1, mode=None, fill_value=None):
    """``out[..., j, ...] = arr[..., indices[..., j, ...], ...]`` along ``axis``.

    Pairs with ``argsort``/``argmax(keepdims=True)``: ``take_along_axis(x, argsort(x), axis)``
    sorts. The other axes broadcast between ``arr`` and ``indices``.
    """
    check_arraylike("take_along_axis", arr)
    arr = as_operand(arr)
    indices = _int_indices("take_along_axis", indices)
    if axis is None:
        if get_aval(indices).ndim != 1:
            raise ValueError(f"when axis=None, `indices` must have a single dimension; got "
                             f"shape {get_aval(indices).shape}")
        arr = reshape(arr, (get_aval(arr).size,))
        axis = 0
    a_shape, i_shape = get_aval(arr).shape, get_aval(indices).shape
    if len(a_shape) != len(i_shape):
        raise ValueError(f"indices and arr must have the same number of dimensions; "
                         f"{len(i_shape)} vs. {len(a_shape)}")
    axis = canonicalize_axis(axis, len(a_shape))
    out_shape = []
    for d, (n, m) in enumerate(zip(a_shape, i_shape)):
        if d == axis:
            out_shape.append(m)
        elif n == m or n == 1 or m == 1:
            out_shape.append(n if m == 1 else m)
        else:
            raise ValueError(f"take_along_axis: arr shape {a_shape} and indices shape {i_shape} "
                             f"are not broadcast-compatible outside axis {axis}")
    out_shape = tuple(out_shape)
    idx, gmode = _mode_indices("take_along_axis", indices, a_shape[axis], mode)
    idx = broadcast_to_rank_aligned(idx, out_shape)
    arrays = []
    for d in range(len(a_shape)):
        if d == axis:
            arrays.append(idx)
        elif a_shape[d] == 1:
            arrays.append(broadcast_in_dim(_const_int(0), out_shape, ()))
        else:
            from .._src.primitives.shape import broadcasted_iota
            arrays.append(broadcasted_iota(_index_dtype(), out_shape, d))
    return lax_idx.gather(arr, arrays, tuple(range(len(a_shape))), 0, mode=gmode,
                          fill_value=fill_value)


def put(a, ind, v, mode=None, *, inplace=True):
    """``a`` with ``a.flat[ind] = v`` -- returned as a new array (pass ``inplace=False``).

    ``v`` is repeated as needed to match ``ind``; ``mode`` 'clip' clamps and 'wrap' wraps
    out-of-bounds indices; the default counts negatives from the end, then clamps.
    """
    if inplace:
        raise ValueError("jax.numpy.put cannot modify arrays in-place, because JAX arrays are "
                         "immutable. Pass inplace=False to instead return an updated array.")
    check_arraylike("put", a, ind, v)
    a = as_operand(a)
    shape, size = get_aval(a).shape, get_aval(a).size
    flat = reshape(a, (size,))
    ind = _int_indices("put", ind)
    ind = reshape(ind, (get_aval(ind).size,))
    v = _cast_updates(a, v, "put")
    v = reshape(v, (get_aval(v).size,))
    n_ind, n_v = get_aval(ind).size, get_aval(v).size
    if n_v == 0 or n_ind == 0:
        return a
    if n_v != n_ind:   # NumPy repeats v cyclically
        reps = -(-n_ind // n_v)
        v = reshape(broadcast_in_dim(v, (reps, n_v), (1,)), (reps * n_v,))
        v = lax_slice(v, (0,), (n_ind,))
    if mode is None:
        ind = _normalize_index_operand(ind, size)
    elif mode == "wrap":
        ind, _ = _mode_indices("put", ind, size, "wrap")
    elif mode == "raise":
        raise NotImplementedError("The 'raise' mode to jnp.put is not supported.")
    elif mode != "clip":
        raise ValueError(f"mode should be one of 'wrap' or 'clip'; got mode={mode!r}")
    out = lax_idx.scatter(flat, v, [ind], (0,), 0, mode="clip")
    return reshape(out, shape)


# ---------------------------------------------------------------------------
# nonzero and friends
# ---------------------------------------------------------------------------
def _as_bool(a):
    aval = get_aval(a)
    if aval.dtype == np.bool_:
        return a
    from .._src.primitives.elementwise import ne
    zero = convert_element_type(np.asarray(0, aval.dtype), aval.dtype)
    return ne(a, zero)


def _concrete_value(a):
    if isinstance(a, Tracer):
        value = a.concrete_value()
        return None if value is None else np.asarray(value)
    return np.asarray(a)


def _fill_tuple(fill_value, ndim, fname):
    if fill_value is None:
        return (0,) * ndim
    if isinstance(fill_value, (tuple, list)):
        if len(fill_value) != ndim:
            raise ValueError(f"jnp.{fname}: fill_value must be a scalar or a tuple of length "
                             f"{ndim}; got {fill_value!r}")
        return tuple(fill_value)
    return (fill_value,) * ndim


def nonzero(a, *, size=None, fill_value=None):
    """Indices of the nonzero elements, one array per dimension.

    The number of nonzeros decides the output's length, so under ``jit``/``vmap`` pass a
    static ``size=``: the result is truncated or padded (with ``fill_value``, default 0).
    """
    check_arraylike("nonzero", a)
    a = as_operand(a)
    shape = get_aval(a).shape
    if len(shape) == 0:
        raise ValueError("Calling nonzero on 0d arrays is not allowed. Use "
                         "jnp.atleast_1d(scalar).nonzero() instead.")
    fills = _fill_tuple(fill_value, len(shape), "nonzero")
    value = _concrete_value(a)
    if value is not None:   # concrete: NumPy finds them, then pad/truncate to `size`
        found = np.nonzero(value)
        if size is not None:
            found = [np.concatenate([f[:size], np.full(builtins.max(size - len(f), 0), fv)])
                     for f, fv in zip(found, fills)]
        return tuple(Array(np.asarray(f).astype(_index_dtype())) for f in found)
    if size is None:
        concrete_or_error(a, "The size argument of jnp.nonzero must be statically specified to "
                             "use jnp.nonzero within JAX transformations (the number of nonzeros "
                             "decides the output shape).")
    if int(size) == 0:
        return tuple(Array(np.zeros((0,), _index_dtype())) for _ in shape)
    return _traced_nonzero(a, shape, int(size), fills)


def _traced_nonzero(a, shape, size, fills):
    """nonzero with a static ``size`` on traced values: rank each True, scatter its position."""
    from .._src.primitives.cumulative import cumsum
    n = int(np.prod(shape, dtype=np.int64))
    dtype = _index_dtype()
    mask = reshape(_as_bool(a), (n,))
    as_int = convert_element_type(mask, dtype)
    rank = sub(cumsum(as_int, 0), as_int)                 # how many Trues come before
    # Non-selected positions get rank `size` (out of bounds): the scatter drops them.
    slot = select_n(mask, _broadcast_scalar(size, (n,)), rank)
    from .._src.primitives.shape import iota
    flat_pos = iota(dtype, n)
    outs = []
    filled = lax_idx.scatter(_broadcast_scalar(-1, (size,)), flat_pos, [slot], (0,), 0, mode="drop")
    missing = lt(filled, _const_int(0))
    strides = np.cumprod((1,) + tuple(shape[::-1]))[:-1][::-1]
    for d, (s, fv) in enumerate(zip(strides, fills)):
        coord = rem(div(filled, _const_int(int(s))), _const_int(builtins.max(shape[d], 1)))
        outs.append(select_n(missing, coord, _broadcast_fill(fv, (size,))))
    return tuple(outs)


def _broadcast_scalar(value, shape):
    return broadcast_in_dim(_const_int(value), shape, ())


def _broadcast_fill(fv, shape):
    fv = as_operand(fv)
    fv = convert_element_type(fv, _index_dtype())
    return broadcast_to_rank_aligned(fv, shape)


def flatnonzero(a, *, size=None, fill_value=None):
    """Indices of the nonzero elements of the flattened array."""
    check_arraylike("flatnonzero", a)
    a = as_operand(a)
    return nonzero(reshape(a, (get_aval(a).size,)), size=size, fill_value=fill_value)[0]


def argwhere(a, *, size=None, fill_value=None):
    """Indices of the nonzero elements, one row per element: shape ``(count, a.ndim)``."""
    check_arraylike("argwhere", a)
    a = as_operand(a)
    ndim = get_aval(a).ndim
    if ndim == 0:
        rows = nonzero(reshape(a, (1,)), size=size, fill_value=fill_value)[0]
        return broadcast_in_dim(_const_int(0), (get_aval(rows).shape[0], 0), ())
    parts = nonzero(a, size=size, fill_value=fill_value)
    count = get_aval(parts[0]).shape[0]
    return concatenate([reshape(p, (count, 1)) for p in parts], 1)


def compress(condition, a, axis=None, *, size=None, fill_value=0, out=None):
    """The slices of ``a`` along ``axis`` where the 1-D ``condition`` is True."""
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.compress is not supported.")
    check_arraylike("compress", condition, a)
    condition, a = as_operand(condition), as_operand(a)
    if get_aval(condition).ndim != 1:
        raise ValueError("condition must be a 1D array")
    if axis is None:
        a = reshape(a, (get_aval(a).size,))
        axis = 0
    shape = get_aval(a).shape
    axis = canonicalize_axis(axis, len(shape))
    n = shape[axis]
    c = get_aval(condition).shape[0]
    if c > n:
        extra = _concrete_value(condition)
        if extra is None or np.any(extra[n:]):
            raise ValueError("condition contains entries that are out of bounds")
        condition = lax_slice(condition, (0,), (n,))
    if size is not None and not 0 <= size <= n:
        raise ValueError(f"size must be positive and not greater than the size of the array "
                         f"axis; got size={size} for a.shape[axis]={n}")
    (idx,) = nonzero(condition, size=size, fill_value=n)   # padding points past the end
    return take(a, idx, axis=axis, mode="fill", fill_value=fill_value)


def extract(condition, arr, *, size=None, fill_value=0):
    """The elements of ``arr`` where ``condition`` is True (both flattened)."""
    check_arraylike("extract", condition, arr)
    condition, arr = as_operand(condition), as_operand(arr)
    return compress(reshape(condition, (get_aval(condition).size,)),
                    reshape(arr, (get_aval(arr).size,)), size=size, fill_value=fill_value)


def choose(a, choices, out=None, mode="raise"):
    """``choices[a[i]][i]`` elementwise (all broadcast together). Modes: 'raise', 'wrap', 'clip'."""
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.choose is not supported.")
    from ._util import broadcast_shapes as _broadcast_shapes, promote_dtypes
    check_arraylike("choose", a, *choices)
    a = _int_indices("choose", a)
    n = len(choices)
    choices = promote_dtypes(*choices)
    everything = [a] + list(choices)
    target = _broadcast_shapes(*[get_aval(x).shape for x in everything])
    a, *choices = [broadcast_to_rank_aligned(x, target) for x in everything]
    a = convert_element_type(a, _index_dtype()) if get_aval(a).dtype != _index_dtype() else a
    if mode == "raise":
        value = _concrete_value(a)
        if value is None:
            concrete_or_error(a, "jnp.choose with mode='raise' needs concrete indices; use "
                                 "mode='wrap' or mode='clip' under jit.")
        if np.any((value < 0) | (value >= n)):
            raise ValueError("invalid entry in choice array")
    elif mode == "wrap":
        a, _ = _mode_indices("choose", a, n, "wrap")
    elif mode == "clip":
        a = lax_min(lax_max(a, _const_int(0)), _const_int(n - 1))
    else:
        raise ValueError(f"mode={mode!r} not understood. Must be 'raise', 'wrap', or 'clip'")
    return select_n(a, *choices)


# ---------------------------------------------------------------------------
# Index helpers: static index arrays computed with NumPy
# ---------------------------------------------------------------------------
def _static_size(n, fname):
    value = _static_int(n)
    if value is None:
        concrete_or_error(n, f"jnp.{fname}: sizes must be concrete integers (they decide the "
                             f"output shape).")
        raise TypeError(f"jnp.{fname}: expected an integer size, got {n!r}")
    return value


def _wrap_ints(arrays):
    return tuple(Array(np.asarray(a).astype(_index_dtype())) for a in arrays)


def diag_indices(n, ndim=2):
    """Indices of the main diagonal of an ``(n, ..., n)`` array (``ndim`` copies of ``arange(n)``)."""
    n, ndim = _static_size(n, "diag_indices"), _static_size(ndim, "diag_indices")
    if n < 0:
        raise ValueError(f"n argument to diag_indices must be nonnegative, got {n}")
    if ndim < 0:
        raise ValueError(f"ndim argument to diag_indices must be nonnegative, got {ndim}")
    return _wrap_ints(np.diag_indices(n, ndim))


def diag_indices_from(arr):
    """``diag_indices`` for a square array ``arr``."""
    check_arraylike("diag_indices_from", arr)
    shape = np.shape(arr) if not _is_operand(arr) else get_aval(arr).shape
    if len(shape) < 2:
        raise ValueError("input array must be at least 2-d")
    if len(set(shape)) != 1:
        raise ValueError("All dimensions of input must be of equal length")
    return diag_indices(shape[0], len(shape))


def tril_indices(n, k=0, m=None):
    """Row and column indices of the lower triangle (diagonal ``k`` and below) of an n x m array."""
    n = _static_size(n, "tril_indices")
    m = n if m is None else _static_size(m, "tril_indices")
    return _wrap_ints(np.tril_indices(n, _static_size(k, "tril_indices"), m))


def triu_indices(n, k=0, m=None):
    """Row and column indices of the upper triangle (diagonal ``k`` and above) of an n x m array."""
    n = _static_size(n, "triu_indices")
    m = n if m is None else _static_size(m, "triu_indices")
    return _wrap_ints(np.triu_indices(n, _static_size(k, "triu_indices"), m))


def tril_indices_from(arr, k=0):
    shape = np.shape(arr) if not _is_operand(arr) else get_aval(arr).shape
    if len(shape) != 2:
        raise ValueError("Only 2-D inputs are accepted")
    return tril_indices(shape[0], k, shape[1])


def triu_indices_from(arr, k=0):
    shape = np.shape(arr) if not _is_operand(arr) else get_aval(arr).shape
    if len(shape) != 2:
        raise ValueError("Only 2-D inputs are accepted")
    return triu_indices(shape[0], k, shape[1])


def unravel_index(indices, shape):
    """Flat indices -> a tuple of coordinate arrays for an array of ``shape`` (C order).

    Unlike NumPy, out-of-bounds indices do not raise: negative ones count from the end, and the
    result is clamped into range.
    """
    check_arraylike("unravel_index", indices)
    shape = tuple(_static_size(s, "unravel_index") for s in shape)
    weak = dtypes.is_python_scalar(indices)
    idx = as_operand(indices)
    if not dtypes.is_integer(get_aval(idx).dtype):
        raise TypeError(f"unravel_index: indices must be integers, got {get_aval(idx).dtype.name}")
    dtype = _index_dtype()
    idx = convert_element_type(idx, dtype) if get_aval(idx).dtype != dtype else idx
    size = int(np.prod(shape, dtype=np.int64))
    idx = select_n(lt(idx, _const_int(0)), idx, add(idx, _const_int(size)))
    idx = lax_min(lax_max(idx, _const_int(0)), _const_int(builtins.max(size - 1, 0)))
    out = []
    for d in range(len(shape)):
        stride = int(np.prod(shape[d + 1:], dtype=np.int64))
        coord = div(idx, _const_int(builtins.max(stride, 1)))
        if d > 0:
            coord = rem(coord, _const_int(builtins.max(shape[d], 1)))
        out.append(convert_element_type(coord, dtype, weak_type=weak))
    return tuple(out)


def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
    """A tuple of coordinate arrays -> flat indices into an array of shape ``dims``.

    ``mode``: 'raise' (needs concrete values), 'clip' (clamp each coordinate) or 'wrap'.
    """
    dims = tuple(_static_size(d, "ravel_multi_index") for d in dims)
    if len(multi_index) != len(dims):
        raise ValueError(f"parameter multi_index must be a sequence of length {len(dims)}")
    check_arraylike("ravel_multi_index", *multi_index)
    coords = [as_operand(c) for c in multi_index]
    for c in coords:
        if not dtypes.is_integer(get_aval(c).dtype):
            raise TypeError(f"only int indices permitted, got {get_aval(c).dtype.name}")
    from ._util import promote_shapes
    coords = promote_shapes(*[convert_element_type(c, _index_dtype()) for c in coords])
    if mode == "raise":
        for c, n in zip(coords, dims):
            value = _concrete_value(c)
            if value is None:
                concrete_or_error(c, "The error occurred because ravel_multi_index was "
                                     "jit-compiled with mode='raise'. Use mode='wrap' or "
                                     "mode='clip' instead.")
            if np.any((value < 0) | (value >= n)):
                raise ValueError("invalid entry in coordinates array")
    elif mode == "clip":
        coords = [lax_min(lax_max(c, _const_int(0)), _const_int(builtins.max(n - 1, 0)))
                  for c, n in zip(coords, dims)]
    elif mode == "wrap":
        coords = [_mode_indices("ravel_multi_index", c, n, "wrap")[0] for c, n in zip(coords, dims)]
    else:
        raise ValueError(f"invalid mode={mode!r}. Expected 'raise', 'wrap', or 'clip'")
    if order == "F":
        coords, dims = coords[::-1], dims[::-1]
    elif order != "C":
        raise ValueError(f"invalid order={order!r}. Expected 'C' or 'F'")
    total = None
    for d, c in enumerate(coords):
        stride = int(np.prod(dims[d + 1:], dtype=np.int64))
        term = mul(c, _const_int(stride)) if stride != 1 else c
        total = term if total is None else add(total, term)
    return total


def ix_(*args):
    """Open-mesh index arrays: ``x[ix_(rows, cols)]`` selects the sub-grid rows x cols."""
    out = []
    n = len(args)
    for k, a in enumerate(args):
        check_arraylike("ix", a)
        a = as_operand(a)
        aval = get_aval(a)
        if aval.ndim != 1:
            raise ValueError(f"Arguments to jax.numpy.ix_ must be 1-dimensional, got shape "
                             f"{aval.shape}")
        if aval.dtype == np.bool_:
            a = nonzero(a)[0]    # needs a concrete mask, as in NumPy
        shape = [1] * n
        shape[k] = get_aval(a).shape[0]
        out.append(reshape(a, tuple(shape)))
    return tuple(out)


def bincount(x, weights=None, minlength=0, *, length=None):
    """Count (or sum ``weights`` of) each non-negative integer in ``x``: a scatter-add.

    The output length must be known while tracing: pass ``length=`` under jit/vmap. Values
    outside ``[0, length)`` are dropped, as in JAX.
    """
    from ._creation import asarray, zeros
    from .._src.core import concrete_or_error
    x = asarray(x)
    if not dtypes.is_integer(x.dtype) or x.ndim != 1:
        raise TypeError(f"bincount requires a 1-D array of non-negative integers, got "
                        f"{x.dtype.name}{list(x.shape)}.")
    if length is None:
        top = concrete_or_error(x, "jnp.bincount needs length= under jit/vmap: the number of "
                                   "bins decides the output shape.")
        length = max(int(top.max()) + 1 if top.size else 0, int(minlength))
    if weights is None:
        weights = 1
        out_dtype = dtypes.default_int()
    else:
        weights = asarray(weights)
        out_dtype = weights.dtype
    return zeros(int(length), out_dtype).at[x].add(weights, mode="drop")
