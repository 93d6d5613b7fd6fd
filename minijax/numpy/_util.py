"""Shared helpers for ``minijax.numpy``: argument checks, dtype promotion, broadcasting.

NumPy functions accept almost anything and broadcast implicitly. The ``lax``
primitives below them are strict: equal dtypes, equal shapes (scalars aside).
These helpers bridge the two, so each jnp function can be a few lines.
"""
from __future__ import annotations

import numpy as np

from .._src import dtypes
from .._src.array import Array, wrap_output
from .._src.core import ShapedArray, Tracer, get_aval
from .._src.primitives.elementwise import convert_element_type
from .._src.primitives.shape import broadcast_in_dim


def is_arraylike(x) -> bool:
    return isinstance(x, (Array, Tracer, np.ndarray, np.generic)) or dtypes.is_python_scalar(x)


def check_arraylike(fname: str, *args):
    """Reject lists/tuples etc. where JAX does: they would be slow, and are often a bug."""
    for pos, arg in enumerate(args):
        if type(arg) in _FAST_OPERANDS:   # the common operands, without the isinstance chain
            continue
        if not is_arraylike(arg):
            hint = ""
            if isinstance(arg, (list, tuple)):
                hint = (f" JAX does not accept {type(arg).__name__}s here, to avoid silently "
                        f"converting Python containers element by element; wrap it: "
                        f"jnp.{fname}(jnp.array(x)).")
            raise TypeError(f"{fname} requires ndarray or scalar arguments, got "
                            f"{type(arg).__name__} at position {pos}.{hint}")


def as_operand(x):
    """Python scalars and NumPy values become operands the primitives accept."""
    if isinstance(x, (Array, Tracer)):
        return x
    from ._creation import asarray
    return asarray(x)


def result_dtype(*args):
    """JAX's promoted ``(dtype, weak_type)`` for a list of operands."""
    return dtypes.result_type(*[_typed(a) for a in args])


_PY_SCALARS = dtypes.PYTHON_SCALARS
_FAST_OPERANDS = (Array, *_PY_SCALARS)


def _typed(a):
    """``(dtype, weak_type)`` of an operand. Python scalars are weak, except bools (as in JAX)."""
    t = type(a)
    if t is Array:   # the common case: no aval needed
        return a._value.dtype, a.weak_type
    if t in _PY_SCALARS:
        return dtypes.dtype_of_scalar(a), t is not bool
    aval = get_aval(a)
    return aval.dtype, aval.weak_type


def promote_dtypes(*args):
    """Convert every operand to the common promoted dtype."""
    dtype, weak = _target_type(args, None)
    return [_convert(a, dtype, weak) for a in args]


def promote_dtypes_inexact(*args):
    """Like ``promote_dtypes``, then integers and bools become floats (sin(1) -> float): float64
    for 64-bit integers, float32 otherwise (as in JAX, even in 64-bit mode)."""
    dtype, weak = _target_type(args, "inexact")
    return [_convert(a, dtype, weak) for a in args]


def promote_dtypes_numeric(*args):
    """Like ``promote_dtypes``, but bools become integers (for arithmetic such as sum)."""
    dtype, weak = _target_type(args, "numeric")
    return [_convert(a, dtype, weak) for a in args]


_TARGETS: dict = {}


def _target_type(args, flavor):
    """The ``(dtype, weak_type)`` that ``args`` promote to, for one of the three flavours.

    A pure function of the operands' ``(dtype, weak_type)`` pairs and of 64-bit mode, so it
    is memoized on exactly those: eager code promotes the same few type pairs over and over.
    """
    key = (flavor, dtypes.x64_enabled(), *[_typed(a) for a in args])
    target = _TARGETS.get(key)
    if target is None:
        dtype, weak = dtypes.result_type(*key[2:])
        if flavor == "inexact" and not dtypes.is_inexact(dtype):
            # As in JAX: 64-bit integers become float64, narrower ones (and bools) float32,
            # even in 64-bit mode.
            dtype = np.dtype(np.float64) if np.dtype(dtype).itemsize == 8 else np.dtype(np.float32)
        elif flavor == "numeric" and dtype == np.bool_:
            dtype = dtypes.default_int()
        target = (dtype, weak)
        if len(_TARGETS) < 4096:
            _TARGETS[key] = target
    return target


_SCALAR_AVALS: dict = {}


def _convert(a, dtype, weak):
    t = type(a)
    if t is Array:
        if a._value.dtype == dtype and a.weak_type == weak:
            return a
        return convert_element_type(a, dtype, weak_type=weak)
    if t in _PY_SCALARS:
        # A constant, made directly as convert_element_type makes constants (``dtype`` is
        # canonical). All such scalars of one type share an aval, so the eager memo hits fast.
        aval = _SCALAR_AVALS.get((dtype, weak))
        if aval is None:
            aval = _SCALAR_AVALS[dtype, weak] = ShapedArray((), dtype, weak)
        return wrap_output(np.asarray(a, dtype), aval)
    a = as_operand(a)
    aval = get_aval(a)
    if aval.dtype == dtype and aval.weak_type == weak:
        return a
    return convert_element_type(a, dtype, weak_type=weak)


def broadcast_shapes(*shapes):
    """NumPy's broadcasting rule, with an error that names the shapes."""
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ValueError(f"Incompatible shapes for broadcasting: "
                         f"{', '.join(str(tuple(s)) for s in shapes)}.") from None


def promote_shapes(*args):
    """Broadcast operands to a common shape (rank-0 operands stay scalars: primitives take them)."""
    shapes = [a._value.shape if type(a) is Array else get_aval(a).shape for a in args]
    distinct = {s for s in shapes if s != ()}
    if len(distinct) <= 1:
        return list(args)   # equal shapes, or scalars next to one shape: nothing to do
    target = broadcast_shapes(*shapes)
    out = []
    for a, s in zip(args, shapes):
        if s == target or s == ():
            out.append(a)
        else:
            lead = len(target) - len(s)
            out.append(broadcast_in_dim(a, target, tuple(range(lead, len(target)))))
    return out


def _already_uniform(args):
    """Fast path: Arrays of one shape, dtype and weak type need no promotion at all.

    Eager results of one operation share a single (memoized) aval object, so usually an
    identity test decides; otherwise the buffers' shapes and dtypes are compared.
    """
    first = args[0]
    if type(first) is not Array:
        return False
    aval = first._aval
    for a in args:
        if type(a) is not Array:
            return False
        if a._aval is aval and aval is not None:
            continue
        v, v0 = a._value, first._value
        if v.shape != v0.shape or v.dtype != v0.dtype or a.weak_type != first.weak_type:
            return False
    return True


def promote_args(fname, *args):
    """Check, promote (JAX's lattice) and broadcast ``args`` for a NumPy-style function."""
    if _already_uniform(args):
        return args
    check_arraylike(fname, *args)
    return promote_shapes(*promote_dtypes(*args))


def promote_args_inexact(fname, *args):
    check_arraylike(fname, *args)
    return promote_shapes(*promote_dtypes_inexact(*args))


def promote_args_numeric(fname, *args):
    check_arraylike(fname, *args)
    return promote_shapes(*promote_dtypes_numeric(*args))


def canonicalize_axis(axis, ndim, fname="axis"):
    axis = int(axis)
    if not -ndim <= axis < max(ndim, 1) and not (ndim == 0 and axis in (0, -1)):
        raise ValueError(f"axis {axis} is out of bounds for array of dimension {ndim}")
    return axis % ndim if ndim else 0


def canonicalize_axes(axis, ndim):
    """``None`` -> all axes; int or tuple -> a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    axes = tuple(canonicalize_axis(a, ndim) for a in axis)
    if len(set(axes)) != len(axes):
        raise ValueError(f"repeated axis in {axis}")
    return tuple(sorted(axes))


def requested_dtype(dtype):
    """The dtype a user asked for, canonicalized with a warning if it is 64-bit without x64."""
    if dtype is None:
        return None
    return dtypes.canonicalize(_to_numpy_dtype(dtype), warn=True)


def _to_numpy_dtype(dtype):
    scalar_type = getattr(dtype, "dtype", None)
    if isinstance(scalar_type, np.dtype):
        return scalar_type
    if dtype is float:
        return dtypes.default_float()
    if dtype is int:
        return dtypes.default_int()
    if dtype is complex:
        return dtypes.default_complex()
    return np.dtype(dtype)
