"""Shape manipulation: reshape, transpose, stack, split, pad, roll, ...

Every function here is a short recipe over a handful of primitives
(``reshape``, ``transpose``, ``broadcast_in_dim``, ``squeeze``, ``rev``,
``slice``, ``pad``, ``concatenate``). None of them compute new numbers, so
all of them are linear: gradients flow through them with no extra rules.

Shapes are static in JAX: every size and index that decides an output shape
(``split`` points, ``repeat`` counts, ``insert``/``delete`` positions, pad
widths) must be a concrete Python value, never a traced one.
"""
from __future__ import annotations

import builtins
import operator

import numpy as np

from .._src import dtypes
from .._src.core import Tracer, concrete_or_error, get_aval
from .._src.primitives import shape as lax_shape
from .._src.primitives.concatenate import concatenate as _lax_concatenate
from .._src.primitives.elementwise import convert_element_type
from .._src.primitives.slicing import pad as _lax_pad, slice_in_dim as _slice_in_dim
from ._util import (as_operand, broadcast_shapes as _broadcast_shapes, canonicalize_axis,
                    promote_dtypes, requested_dtype)

__all__ = [
    "reshape", "ravel", "transpose", "permute_dims", "matrix_transpose", "swapaxes", "moveaxis",
    "expand_dims", "squeeze", "broadcast_to", "broadcast_arrays", "broadcast_shapes",
    "concatenate", "concat", "stack", "unstack", "hstack", "vstack", "dstack", "column_stack",
    "split", "array_split", "hsplit", "vsplit", "dsplit", "tile", "repeat", "flip", "fliplr",
    "flipud", "roll", "rot90", "pad", "atleast_1d", "atleast_2d", "atleast_3d", "shape", "ndim",
    "size", "append", "insert", "delete", "resize", "trim_zeros",
]


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def _shape_of(a):
    return get_aval(as_operand(a)).shape


def _axes_tuple(axis):
    return (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)


def _static_ints(value, what, fname):
    """A concrete NumPy integer array for ``value``, or a teaching error if it is traced."""
    arr = concrete_or_error(
        value, f"jnp.{fname}: {what} decides the shape of the result, so it must be a concrete "
               f"value (a Python int/list or a NumPy array), not a traced one. Pass it as a "
               f"static argument (static_argnums) or compute it outside jit.")
    if arr.dtype.kind not in "biu" and not (arr.size == 0 and arr.dtype.kind == "f"):
        raise TypeError(f"jnp.{fname}: {what} must be integers, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _take_static(x, idx, axis):
    """``x`` indexed along ``axis`` by the concrete index list ``idx``, without a gather.

    Consecutive indices become one ``slice``; descending runs a reversed slice; a
    repeated index a ``broadcast_in_dim``. The pieces are joined by ``concatenate``.
    """
    idx = [int(i) for i in np.asarray(idx).ravel()]
    shape = get_aval(x).shape
    if not idx:
        return _slice_in_dim(x, 0, 0, axis=axis)
    pieces, i = [], 0
    while i < len(idx):
        j, step = i + 1, None
        if j < len(idx) and idx[j] - idx[i] in (1, -1, 0):
            step = idx[j] - idx[i]
            while j < len(idx) and idx[j] - idx[j - 1] == step:
                j += 1
        start, count = idx[i], j - i
        if step == -1:
            piece = lax_shape.rev(_slice_in_dim(x, idx[j - 1], start + 1, axis=axis), (axis,))
        elif step == 0:
            one = _slice_in_dim(x, start, start + 1, axis=axis)
            target = shape[:axis] + (count,) + shape[axis + 1:]
            piece = lax_shape.broadcast_in_dim(one, target, tuple(range(len(shape))))
        else:
            piece = _slice_in_dim(x, start, start + count, axis=axis)
        pieces.append(piece)
        i = j
    return _lax_concatenate(pieces, axis)


# ---------------------------------------------------------------------------
# Reshaping and reordering axes
# ---------------------------------------------------------------------------
def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    """Same data, new shape; one entry of ``shape`` may be -1 (inferred from the size).

    ``order='F'`` reads and writes elements with the first index changing fastest.
    """
    if shape is None:
        shape = newshape
    if shape is None:
        raise TypeError("jnp.reshape() missing required argument 'shape'")
    if order not in ("C", "F"):
        raise NotImplementedError(f"jnp.reshape: order={order!r} is not supported; use 'C' or 'F'.")
    a = as_operand(a)
    size = get_aval(a).size
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    shape = tuple(operator.index(s) for s in shape)
    if shape.count(-1) > 1:
        raise ValueError("can only specify one unknown dimension (-1) in a reshape")
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
        if known == 0 or size % known:
            raise TypeError(f"cannot reshape array of shape {get_aval(a).shape} (size {size}) into "
                            f"shape {shape} because the product of specified axis sizes ({known}) "
                            f"does not evenly divide {size}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    if order == "F":
        flipped = lax_shape.transpose(a, tuple(range(get_aval(a).ndim))[::-1])
        out = lax_shape.reshape(flipped, shape[::-1])
        return lax_shape.transpose(out, tuple(range(len(shape)))[::-1])
    return lax_shape.reshape(a, shape)


def ravel(a, order="C"):
    """The elements as a 1-D array (row-major for ``order='C'``)."""
    return reshape(a, (-1,), order)


def transpose(a, axes=None):
    """Permute the axes; by default reverse them (``x.T``)."""
    a = as_operand(a)
    ndim = get_aval(a).ndim
    if axes is None:
        axes = tuple(range(ndim))[::-1]
    else:
        axes = tuple(canonicalize_axis(x, ndim) for x in _axes_tuple(axes))
        if sorted(axes) != list(range(ndim)):
            raise ValueError(f"transpose: axes {axes} is not a permutation of the {ndim} axes of "
                             f"an array of shape {get_aval(a).shape}")
    return lax_shape.transpose(a, axes)


def permute_dims(a, /, axes):
    """Array-API name for ``transpose(a, axes)``."""
    return transpose(a, axes)


def matrix_transpose(x, /):
    """Swap the last two axes (a batch of matrices, each transposed)."""
    x = as_operand(x)
    ndim = get_aval(x).ndim
    if ndim < 2:
        raise ValueError(f"x must be at least two-dimensional for matrix_transpose; "
                         f"got ndim={ndim}")
    return lax_shape.transpose(x, tuple(range(ndim - 2)) + (ndim - 1, ndim - 2))


def swapaxes(a, axis1, axis2):
    """Exchange two axes."""
    a = as_operand(a)
    ndim = get_aval(a).ndim
    perm = list(range(ndim))
    i, j = canonicalize_axis(axis1, ndim), canonicalize_axis(axis2, ndim)
    perm[i], perm[j] = perm[j], perm[i]
    return lax_shape.transpose(a, perm)


def moveaxis(a, source, destination):
    """Move axes ``source`` to positions ``destination``; the others keep their order."""
    a = as_operand(a)
    ndim = get_aval(a).ndim
    src = [canonicalize_axis(s, ndim) for s in _axes_tuple(source)]
    dst = [canonicalize_axis(d, ndim) for d in _axes_tuple(destination)]
    if len(src) != len(dst):
        raise ValueError(f"Inconsistent number of elements: {len(src)} vs {len(dst)}")
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError(f"moveaxis: repeated axis in source {source} or destination {destination}")
    rest = [i for i in range(ndim) if i not in src]
    perm = [None] * ndim
    for s, d in zip(src, dst):
        perm[d] = s
    it = iter(rest)
    perm = [p if p is not None else next(it) for p in perm]
    return lax_shape.transpose(a, perm)


def expand_dims(a, axis):
    """Insert unit axes at positions ``axis`` of the result."""
    a = as_operand(a)
    axes = _axes_tuple(axis)
    out_ndim = get_aval(a).ndim + len(axes)
    canon = [canonicalize_axis(x, out_ndim) for x in axes]
    if len(set(canon)) != len(canon):
        raise ValueError(f"repeated axis in expand_dims: {axis}")
    return lax_shape.expand_dims(a, sorted(canon))


def squeeze(a, axis=None):
    """Remove unit axes: all of them, or the ones named by ``axis`` (which must have size 1)."""
    a = as_operand(a)
    shape = get_aval(a).shape
    if axis is None:
        dims = tuple(i for i, s in enumerate(shape) if s == 1)
    else:
        dims = tuple(canonicalize_axis(x, len(shape)) for x in _axes_tuple(axis))
        bad = [d for d in dims if shape[d] != 1]
        if bad:
            raise ValueError(f"cannot select an axis to squeeze out which has size not equal to "
                             f"one, got shape={shape} and dimensions={dims}")
    return lax_shape.squeeze(a, dims)


# ---------------------------------------------------------------------------
# Broadcasting
# ---------------------------------------------------------------------------
def broadcast_shapes(*shapes):
    """The shape NumPy broadcasting gives ``shapes`` (ints count as 1-D shapes)."""
    shapes = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    return _broadcast_shapes(*shapes) if shapes else ()


def broadcast_to(array, shape):
    """``array`` repeated (without copying) along new or unit axes to ``shape``."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    return lax_shape.broadcast_to_rank_aligned(as_operand(array), shape)


def broadcast_arrays(*args):
    """All arguments broadcast to their common shape (a list)."""
    arrays = [as_operand(a) for a in args]
    target = broadcast_shapes(*[get_aval(a).shape for a in arrays])
    return [broadcast_to(a, target) for a in arrays]


# ---------------------------------------------------------------------------
# Joining
# ---------------------------------------------------------------------------
def _as_sequence(arrays, fname):
    if isinstance(arrays, (np.ndarray,)) or hasattr(arrays, "aval"):
        arrays = as_operand(arrays)
        return list(unstack(arrays)) if get_aval(arrays).ndim else [arrays]
    try:
        return [as_operand(a) for a in arrays]
    except TypeError:
        raise TypeError(f"jnp.{fname} expects a sequence of arrays, got "
                        f"{type(arrays).__name__}") from None


def concatenate(arrays, axis=0, dtype=None):
    """Join arrays along an existing axis; ``axis=None`` flattens them first."""
    arrays = _as_sequence(arrays, "concatenate")
    if not arrays:
        raise ValueError("Need at least one array to concatenate.")
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    if any(get_aval(a).ndim == 0 for a in arrays):
        raise ValueError("Zero-dimensional arrays cannot be concatenated.")
    ndims = {get_aval(a).ndim for a in arrays}
    if len(ndims) > 1:
        raise TypeError(f"Cannot concatenate arrays with different numbers of dimensions: got "
                        f"{', '.join(str(get_aval(a).shape) for a in arrays)}.")
    arrays = promote_dtypes(*arrays)
    if dtype is not None:
        arrays = [convert_element_type(a, requested_dtype(dtype)) for a in arrays]
    axis = canonicalize_axis(axis, get_aval(arrays[0]).ndim)
    return _lax_concatenate(arrays, axis)


def concat(arrays, /, *, axis=0):
    """Array-API name for ``concatenate``."""
    return concatenate(arrays, axis)


def stack(arrays, axis=0, out=None, dtype=None):
    """Join arrays of one shape along a new axis."""
    arrays = _as_sequence(arrays, "stack")
    if not arrays:
        raise ValueError("Need at least one array to stack.")
    shapes = [get_aval(a).shape for a in arrays]
    if len(set(shapes)) > 1:
        raise ValueError(f"All input arrays must have the same shape. Got "
                         f"{', '.join(map(str, shapes))}.")
    arrays = promote_dtypes(*arrays)
    if dtype is not None:
        arrays = [convert_element_type(a, requested_dtype(dtype)) for a in arrays]
    axis = canonicalize_axis(axis, len(shapes[0]) + 1)
    return _lax_concatenate([lax_shape.expand_dims(a, [axis]) for a in arrays], axis)


def unstack(x, /, *, axis=0):
    """Split along ``axis`` into a tuple of arrays without that axis (inverse of ``stack``)."""
    x = as_operand(x)
    ndim = get_aval(x).ndim
    if ndim == 0:
        raise ValueError("Unstack requires arrays with rank > 0, however a scalar array was "
                         "passed.")
    axis = canonicalize_axis(axis, ndim)
    return tuple(lax_shape.squeeze(_slice_in_dim(x, i, i + 1, axis=axis), (axis,))
                 for i in range(get_aval(x).shape[axis]))


def hstack(tup, dtype=None):
    """Concatenate along axis 1 (axis 0 for 1-D arrays)."""
    arrays = atleast_1d(*_as_sequence(tup, "hstack"))
    arrays = arrays if isinstance(arrays, list) else [arrays]
    return concatenate(arrays, 0 if get_aval(arrays[0]).ndim == 1 else 1, dtype)


def vstack(tup, dtype=None):
    """Stack as rows: 1-D arrays become rows, then concatenate along axis 0."""
    arrays = atleast_2d(*_as_sequence(tup, "vstack"))
    return concatenate(arrays if isinstance(arrays, list) else [arrays], 0, dtype)


def dstack(tup, dtype=None):
    """Stack along the third axis (depth)."""
    arrays = atleast_3d(*_as_sequence(tup, "dstack"))
    return concatenate(arrays if isinstance(arrays, list) else [arrays], 2, dtype)


def column_stack(tup):
    """1-D arrays become columns of a 2-D array; 2-D arrays are joined along axis 1."""
    arrays = [reshape(a, (-1, 1)) if get_aval(a).ndim < 2 else a
              for a in _as_sequence(tup, "column_stack")]
    return concatenate(arrays, 1)


# ---------------------------------------------------------------------------
# Splitting
# ---------------------------------------------------------------------------
def _split(fname, ary, indices_or_sections, axis, equal):
    ary = as_operand(ary)
    shape = get_aval(ary).shape
    axis = canonicalize_axis(axis, len(shape))
    n = shape[axis]
    spec = _static_ints(indices_or_sections, "indices_or_sections", fname)
    if spec.ndim == 0:
        sections = int(spec)
        if sections <= 0:
            raise ValueError(f"jnp.{fname}: number of sections must be larger than 0, "
                             f"got {sections}")
        if equal and n % sections:
            raise ValueError(f"array split does not result in an equal division: rest is "
                             f"{n % sections}")
        size, extra = divmod(n, sections)
        sizes = [size + 1] * extra + [size] * (sections - extra)
        bounds = np.cumsum([0] + sizes)
    else:
        points = [builtins.min(builtins.max(int(p) + (n if p < 0 else 0), 0), n)
                  for p in spec.ravel()]
        bounds = [0] + points + [n]
    return [_slice_in_dim(ary, int(lo), builtins.max(int(lo), int(hi)), axis=axis)
            for lo, hi in zip(bounds[:-1], bounds[1:])]


def split(ary, indices_or_sections, axis=0):
    """Split into equal sections (an int) or at the given indices (a sequence); a list."""
    return _split("split", ary, indices_or_sections, axis, equal=True)


def array_split(ary, indices_or_sections, axis=0):
    """Like ``split``, but ``n`` sections need not divide the axis (the first ones get one more)."""
    return _split("array_split", ary, indices_or_sections, axis, equal=False)


def hsplit(ary, indices_or_sections):
    """``split`` along axis 1 (axis 0 for 1-D arrays)."""
    ndim = len(_shape_of(ary))
    return _split("hsplit", ary, indices_or_sections, 1 if ndim > 1 else 0, equal=True)


def vsplit(ary, indices_or_sections):
    """``split`` along axis 0."""
    return _split("vsplit", ary, indices_or_sections, 0, equal=True)


def dsplit(ary, indices_or_sections):
    """``split`` along axis 2."""
    if len(_shape_of(ary)) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return _split("dsplit", ary, indices_or_sections, 2, equal=True)


# ---------------------------------------------------------------------------
# Repeating
# ---------------------------------------------------------------------------
def tile(A, reps):
    """Repeat the whole array ``reps`` times along each axis."""
    A = as_operand(A)
    if hasattr(reps, "aval"):
        reps = tuple(_static_ints(reps, "reps", "tile").ravel())
    else:
        reps = _axes_tuple(reps)
    reps = tuple(operator.index(r) for r in reps)
    if any(r < 0 for r in reps):
        raise ValueError(f"jnp.tile: reps must be non-negative, got {reps}")
    shape = get_aval(A).shape
    ndim = builtins.max(len(shape), len(reps))
    shape = (1,) * (ndim - len(shape)) + shape
    reps = (1,) * (ndim - len(reps)) + reps
    A = lax_shape.reshape(A, shape)
    # (s0, s1) -> broadcast to (r0, s0, r1, s1) -> reshape to (r0*s0, r1*s1)
    interleaved = tuple(v for pair in zip(reps, shape) for v in pair)
    big = lax_shape.broadcast_in_dim(A, interleaved, tuple(range(1, 2 * ndim, 2)))
    return lax_shape.reshape(big, tuple(r * s for r, s in zip(reps, shape)))


def repeat(a, repeats, axis=None, *, total_repeat_length=None):
    """Repeat each element ``repeats`` times (an int, or one count per element) along ``axis``."""
    a = as_operand(a)
    if axis is None:
        a, axis = ravel(a), 0
    shape = get_aval(a).shape
    axis = canonicalize_axis(axis, len(shape))
    counts = _static_ints(repeats, "repeats", "repeat")
    if np.any(counts < 0):
        raise ValueError(f"jnp.repeat: repeats may not contain negative values, got {counts}")
    n = shape[axis]
    if counts.ndim == 0 or counts.size == 1:
        r = int(counts.reshape(()))
        target = shape[:axis + 1] + (r,) + shape[axis + 1:]
        dims = tuple(range(axis + 1)) + tuple(range(axis + 2, len(shape) + 1))
        out = lax_shape.reshape(lax_shape.broadcast_in_dim(a, target, dims),
                                shape[:axis] + (n * r,) + shape[axis + 1:])
        idx = None
    else:
        if counts.shape != (n,):
            raise ValueError(f"jnp.repeat: repeats has shape {counts.shape}, but needs one count "
                             f"per element along axis {axis}, i.e. shape ({n},)")
        idx = np.repeat(np.arange(n), counts)
        out = None
    if total_repeat_length is not None:
        idx = np.repeat(np.arange(n), np.broadcast_to(counts, (n,))) if idx is None else idx
        total = int(total_repeat_length)
        if len(idx) >= total:
            idx = idx[:total]
        else:   # JAX fills the rest with the last element
            idx = np.concatenate([idx, np.full(total - len(idx), n - 1)])
        out = None
    return out if out is not None else _take_static(a, idx, axis)


# ---------------------------------------------------------------------------
# Reversing and rotating
# ---------------------------------------------------------------------------
def flip(m, axis=None):
    """Reverse the order of elements along ``axis`` (all axes by default)."""
    m = as_operand(m)
    ndim = get_aval(m).ndim
    axes = range(ndim) if axis is None else _axes_tuple(axis)
    return lax_shape.rev(m, tuple(canonicalize_axis(x, ndim) for x in axes))


def fliplr(m):
    """Reverse the columns (axis 1)."""
    if len(_shape_of(m)) < 2:
        raise ValueError("fliplr requires an array with at least 2 dimensions")
    return flip(m, 1)


def flipud(m):
    """Reverse the rows (axis 0)."""
    if len(_shape_of(m)) < 1:
        raise ValueError("flipud requires an array with at least 1 dimension")
    return flip(m, 0)


def roll(a, shift, axis=None):
    """Shift elements cyclically by ``shift`` along ``axis`` (the flattened array if None)."""
    a = as_operand(a)
    shape = get_aval(a).shape
    if isinstance(shift, Tracer) and shift.concrete_value() is None:
        return _roll_traced(a, shift, axis)
    shifts = _static_ints(shift, "the shift", "roll")
    if axis is None:
        return reshape(roll(ravel(a), int(shifts.sum()), 0), shape)
    axes = np.asarray(_axes_tuple(axis))
    shifts, axes = np.broadcast_arrays(shifts, axes)
    if shifts.ndim > 1:
        raise ValueError("jnp.roll: shift and axis must be ints or 1-D sequences")
    for s, ax in zip(shifts.ravel(), axes.ravel()):
        ax = canonicalize_axis(ax, len(shape))
        n = shape[ax]
        if n:
            a = _take_static(a, (np.arange(n) - int(s)) % n, ax)
    return a


def _roll_traced(a, shift, axis):
    """A shift known only at run time: a window of ``concatenate([a, a])`` at a traced start."""
    from .._src.primitives.elementwise import rem, sub
    from .._src.primitives.indexing import dynamic_slice_in_dim
    shape = get_aval(a).shape
    if axis is None:
        return reshape(_roll_traced(ravel(a), shift, 0), shape)
    if get_aval(shift).ndim or not isinstance(axis, (int, np.integer)):
        raise NotImplementedError("jnp.roll with a traced shift supports one scalar shift and one "
                                  "integer axis in minijax.")
    axis = canonicalize_axis(axis, len(shape))
    n = shape[axis]
    if n == 0:
        return a
    idx = dtypes.default_int()
    s = convert_element_type(shift, idx)
    n_c = convert_element_type(np.asarray(n, idx), idx)
    start = rem(sub(n_c, rem(s, n_c)), n_c)      # in [0, n): where the rolled array begins
    return dynamic_slice_in_dim(_lax_concatenate([a, a], axis), start, n, axis)


def rot90(m, k=1, axes=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``axes`` (first axis toward the second)."""
    m = as_operand(m)
    ndim = get_aval(m).ndim
    if len(axes) != 2:
        raise ValueError("rot90: len(axes) must be 2.")
    ax0, ax1 = (canonicalize_axis(x, ndim) for x in axes)
    if ax0 == ax1:
        raise ValueError(f"rot90: axes must be different, got {axes}.")
    k = operator.index(k) % 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, ax0), ax1)
    perm = list(range(ndim))
    perm[ax0], perm[ax1] = perm[ax1], perm[ax0]
    if k == 1:
        return lax_shape.transpose(flip(m, ax1), perm)
    return flip(lax_shape.transpose(m, perm), ax1)


# ---------------------------------------------------------------------------
# Padding
# ---------------------------------------------------------------------------
def _pad_pairs(value, ndim, name, fname="pad"):
    """NumPy's pad-width broadcasting: x, (x,), (lo, hi), or ((lo, hi), ...) per axis."""
    arr = np.asarray(value) if not hasattr(value, "aval") else None
    if arr is None or arr.dtype == object:
        raise TypeError(f"jnp.{fname}: {name} must be an int or (nested) sequence of ints")
    try:
        return np.broadcast_to(arr, (ndim, 2))
    except ValueError:
        raise ValueError(f"jnp.{fname}: {name} {value!r} cannot be broadcast to one "
                         f"(before, after) pair for each of the {ndim} axes") from None


_PAD_MODES = ("constant", "empty", "edge", "reflect", "symmetric", "wrap", "maximum", "minimum",
              "mean")


def pad(array, pad_width, mode="constant", **kwargs):
    """Pad an array, as ``np.pad``.

    ``pad_width`` is an int, ``(before, after)``, or one such pair per axis. Modes:
    ``constant`` (``constant_values``, 0 by default), ``edge``, ``reflect``, ``symmetric``,
    ``wrap``, ``maximum``/``minimum``/``mean`` (over the whole axis) and ``empty``.
    """
    array = as_operand(array)
    aval = get_aval(array)
    if callable(mode):
        raise NotImplementedError("jnp.pad with a callable mode is not supported in minijax.")
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unimplemented padding mode '{mode}' for np.pad. Supported "
                                  f"modes: {', '.join(_PAD_MODES)}.")
    allowed = {"constant": {"constant_values"}, "reflect": {"reflect_type"},
               "symmetric": {"reflect_type"}}.get(mode, set())
    unknown = set(kwargs) - allowed
    if unknown:
        raise ValueError(f"jnp.pad: unsupported keyword arguments for mode '{mode}': "
                         f"{sorted(unknown)}")
    if aval.ndim == 0:
        return array
    widths = _pad_pairs(_static_ints(pad_width, "pad_width", "pad"), aval.ndim, "pad_width")
    if np.any(widths < 0):
        raise ValueError(f"index can't contain negative values: pad_width={pad_width!r}")
    if mode in ("constant", "empty"):
        return _pad_constant(array, widths, kwargs.get("constant_values", 0))
    if kwargs.get("reflect_type", "even") != "even":
        raise NotImplementedError("jnp.pad: only reflect_type='even' is supported in minijax.")
    out = array
    for axis, (lo, hi) in enumerate(widths):
        lo, hi = int(lo), int(hi)
        if lo == hi == 0:
            continue
        n = get_aval(out).shape[axis]
        if mode in ("maximum", "minimum", "mean"):
            out = _pad_stat(out, axis, lo, hi, mode)
            continue
        if n == 0:
            raise ValueError(f"can't extend empty axis {axis} using modes other than 'constant' "
                             f"or 'empty'")
        # Let NumPy tell us, for every output position, which input element it copies;
        # then read those positions with slices.
        idx = np.pad(np.arange(n), (lo, hi), mode=mode)
        out = _take_static(out, idx, axis)
    return out


def _pad_constant(array, widths, constant_values):
    aval = get_aval(array)
    if isinstance(constant_values, Tracer) or (hasattr(constant_values, "aval")
                                                and get_aval(constant_values).ndim == 0):
        values = [[constant_values, constant_values]] * aval.ndim
    else:
        values = np.asarray(constant_values)
        values = np.broadcast_to(values, (aval.ndim, 2))
    out = array
    for axis, ((lo, hi), (v_lo, v_hi)) in enumerate(zip(widths, values)):
        for amount, value, before in ((int(lo), v_lo, True), (int(hi), v_hi, False)):
            if amount:
                fill = convert_element_type(value if hasattr(value, "aval") else np.asarray(value),
                                            aval.dtype)
                config = [(0, 0, 0)] * aval.ndim
                config[axis] = (amount, 0, 0) if before else (0, amount, 0)
                out = _lax_pad(out, fill, config)
    if aval.weak_type and not get_aval(out).weak_type:
        out = convert_element_type(out, aval.dtype, weak_type=True)
    return out


def _pad_stat(x, axis, lo, hi, mode):
    from .._src.primitives import reductions as lax_red
    from .._src.primitives.elementwise import div
    shape = get_aval(x).shape
    if mode == "mean":
        stat = lax_red.reduce_sum(x, (axis,))
        count = convert_element_type(np.asarray(shape[axis]), get_aval(x).dtype)
        stat = div(stat, count)
        if dtypes.is_integer(get_aval(x).dtype):   # NumPy rounds the mean to the integer dtype
            raise NotImplementedError("jnp.pad(mode='mean') of integer arrays is not supported in "
                                      "minijax; convert to float first.")
    else:
        stat = (lax_red.reduce_max if mode == "maximum" else lax_red.reduce_min)(x, (axis,))
    kept = tuple(i for i in range(len(shape)) if i != axis)
    parts = []
    for amount in (lo, hi):
        target = shape[:axis] + (amount,) + shape[axis + 1:]
        parts.append(lax_shape.broadcast_in_dim(stat, target, kept))
    return _lax_concatenate([parts[0], x, parts[1]], axis)


# ---------------------------------------------------------------------------
# Rank helpers and shape queries
# ---------------------------------------------------------------------------
def _atleast(arys, n, placer):
    out = []
    for a in arys:
        a = as_operand(a)
        shape = get_aval(a).shape
        out.append(a if len(shape) >= n else lax_shape.reshape(a, placer(shape)))
    return out[0] if len(out) == 1 else out


def atleast_1d(*arys):
    """View inputs as arrays with at least one dimension (scalars become shape (1,))."""
    return _atleast(arys, 1, lambda s: (1,))


def atleast_2d(*arys):
    """At least 2-D: a 1-D array of length N becomes shape (1, N)."""
    return _atleast(arys, 2, lambda s: (1,) * (2 - len(s)) + s)


def atleast_3d(*arys):
    """At least 3-D: (N,) becomes (1, N, 1) and (M, N) becomes (M, N, 1)."""
    return _atleast(arys, 3, lambda s: {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)])


def shape(a):
    """The shape of ``a`` as a tuple of ints."""
    return tuple(np.shape(a)) if not hasattr(a, "aval") else get_aval(a).shape


def ndim(a):
    """The number of axes of ``a``."""
    return len(shape(a))


def size(a, axis=None):
    """The number of elements of ``a`` (along ``axis`` if given)."""
    s = shape(a)
    if axis is None:
        return int(np.prod(s, dtype=np.int64))
    picked = [s[canonicalize_axis(x, len(s))] for x in _axes_tuple(axis)]
    return int(np.prod(picked, dtype=np.int64))


# ---------------------------------------------------------------------------
# Inserting and deleting (with concrete positions)
# ---------------------------------------------------------------------------
def append(arr, values, axis=None):
    """``arr`` with ``values`` joined at the end (both flattened when ``axis`` is None)."""
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], 0)
    return concatenate([arr, values], axis)


def _index_positions(obj, n, fname):
    if isinstance(obj, builtins.slice):
        return np.arange(n)[obj], False
    idx = _static_ints(obj, "the indices", fname)
    return idx, idx.ndim == 0


def insert(arr, obj, values, axis=None):
    """``arr`` with ``values`` inserted before the positions ``obj`` (concrete) along ``axis``."""
    arr = as_operand(arr)
    if axis is None:
        arr, axis = ravel(arr), 0
    shape = get_aval(arr).shape
    axis = canonicalize_axis(axis, len(shape))
    n = shape[axis]
    idx, scalar = _index_positions(obj, n, "insert")
    if np.any((idx < -n) | (idx > n)):
        raise IndexError(f"jnp.insert: index out of bounds for axis {axis} with size {n}")
    values = convert_element_type(as_operand(values), get_aval(arr).dtype)
    vshape = get_aval(values).shape
    if len(vshape) < len(shape):
        values = lax_shape.reshape(values, (1,) * (len(shape) - len(vshape)) + vshape)
    if scalar:   # the values form one block inserted at a single position
        values = moveaxis(values, 0, axis)
        count = get_aval(values).shape[axis]
        order = np.insert(np.arange(n), int(idx), n + np.arange(count))
    else:
        count = len(idx)
        order = np.insert(np.arange(n), idx, n + np.arange(count))
    target = shape[:axis] + (count,) + shape[axis + 1:]
    values = broadcast_to(values, target)
    joined = _lax_concatenate([arr, values], axis)
    return _take_static(joined, order, axis)


def delete(arr, obj, axis=None, *, assume_unique_indices=False):
    """``arr`` without the entries ``obj`` (int, sequence or slice; concrete) along ``axis``."""
    arr = as_operand(arr)
    if axis is None:
        arr, axis = ravel(arr), 0
    shape = get_aval(arr).shape
    axis = canonicalize_axis(axis, len(shape))
    n = shape[axis]
    idx, _ = _index_positions(obj, n, "delete")
    if np.any((idx < -n) | (idx >= n)):
        raise IndexError(f"jnp.delete: index out of bounds for axis {axis} with size {n}")
    keep = np.delete(np.arange(n), idx)
    return _take_static(arr, keep, axis)


def resize(a, new_shape):
    """A new array of ``new_shape`` filled by cycling through the elements of ``a``."""
    a = as_operand(a)
    new_shape = (new_shape,) if isinstance(new_shape, (int, np.integer)) else tuple(
        operator.index(s) for s in new_shape)
    if any(s < 0 for s in new_shape):
        raise ValueError("all elements of `new_shape` must be non-negative")
    flat = ravel(a)
    n, total = get_aval(flat).shape[0], int(np.prod(new_shape, dtype=np.int64))
    if n == 0:
        from ._creation import zeros
        return zeros(new_shape, get_aval(a).dtype)
    copies = -(-total // n)
    flat = _slice_in_dim(tile(flat, copies), 0, total)
    return lax_shape.reshape(flat, new_shape)


def trim_zeros(filt, trim="fb", axis=None):
    """Drop leading (``'f'``) and/or trailing (``'b'``) zeros of a concrete 1-D array."""
    filt = as_operand(filt)
    value = concrete_or_error(
        filt, "jnp.trim_zeros: the result's length depends on the values of the input, so the "
              "input must be concrete (it cannot run under jit).")
    if value.ndim != 1:
        raise ValueError(f"jnp.trim_zeros: expected a 1-D array, got shape {value.shape}")
    nz = np.flatnonzero(value)
    trim = trim.lower()
    start = (nz[0] if nz.size else value.size) if "f" in trim else 0
    stop = (nz[-1] + 1 if nz.size else 0) if "b" in trim else value.size
    return _slice_in_dim(filt, int(start), builtins.max(int(start), int(stop)))
