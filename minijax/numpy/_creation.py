"""Creating arrays: from Python data (``array``/``asarray``) and from shapes (``zeros``, ``arange``...).

``jnp.array`` is stricter than ``np.array`` on purpose: a set has no order, so
there is no "right" array for it; a ragged list has no shape. NumPy would
quietly build an object array; minijax explains the problem instead.
"""
from __future__ import annotations

import numpy as np

from .._src import dtypes
from .._src.array import Array
from .._src.core import Tracer, get_aval
from .._src.primitives.elementwise import add, convert_element_type, full as _lax_full, mul
from .._src.primitives.shape import broadcasted_iota, iota
from ._util import requested_dtype

__all__ = ["array", "asarray", "zeros", "ones", "full", "empty", "zeros_like", "ones_like",
           "full_like", "empty_like", "arange", "eye", "identity", "copy"]


def _reject_unsupported(obj):
    if isinstance(obj, (set, frozenset)):
        raise TypeError(
            f"jnp.array does not accept a {type(obj).__name__}: sets are unordered, so there is no "
            f"well-defined order for the array's elements (NumPy silently makes a 0-d object array "
            f"holding the whole set). Convert it to a sequence first: jnp.array(sorted(s)) for a "
            f"reproducible order, or jnp.array(list(s)).")
    if isinstance(obj, dict):
        raise TypeError(
            "jnp.array does not accept a dict: a dict maps keys to values and has no array shape. "
            "Use jnp.array(list(d.values())) for its values, or keep the dict as a pytree.")
    if isinstance(obj, (str, bytes)):
        raise TypeError(
            f"jnp.array does not accept a string ({obj!r}): minijax arrays hold numbers, not text. "
            "Convert it to numbers first, e.g. jnp.array([float(s)]) or jnp.array(list(map(ord, s))).")
    if obj is None:
        raise ValueError(
            "jnp.array does not accept None: there is no number to store. If you meant an empty "
            "array use jnp.array([]); for a missing value use jnp.nan.")


def _contains_tracer(obj):
    if isinstance(obj, Tracer):
        return True
    if isinstance(obj, (list, tuple)):
        return any(_contains_tracer(o) for o in obj)
    return False


def _nested_shape(obj, path="object"):
    """The shape of a nested list, or a ValueError naming the first ragged level."""
    if isinstance(obj, (list, tuple)):
        shapes = [_nested_shape(o, f"{path}[{i}]") for i, o in enumerate(obj)]
        if shapes and any(s != shapes[0] for s in shapes):
            raise ValueError(
                f"jnp.array got a ragged nested sequence: the elements of {path} have different "
                f"shapes {sorted(set(shapes), key=str)}. Arrays are rectangular: pad the rows to one "
                f"length, or keep them as a list of separate arrays.")
        return (len(obj),) + (shapes[0] if shapes else ())
    _reject_unsupported(obj)
    return tuple(np.shape(obj))


def _stack_traced(obj, dtype):
    """``jnp.array([x, y])`` where x or y are tracers: build it with stack."""
    from ._shape import stack
    if isinstance(obj, (list, tuple)):
        return stack([_stack_traced(o, dtype) for o in obj])
    return asarray(obj, dtype)


def _leaf_types(obj, found):
    if isinstance(obj, (list, tuple)):
        for o in obj:
            _leaf_types(o, found)
    else:
        found.append(obj)
    return found


def _infer_dtype(obj, np_value):
    """JAX's default dtype for Python data: bool, int32, float32 or complex64 (64-bit under x64)."""
    leaves = _leaf_types(obj, [])
    typed = [(get_aval(x).dtype, get_aval(x).weak_type) if isinstance(x, (Array, Tracer)) else
             (dtypes.canonicalize(np.asarray(x).dtype), False) if isinstance(x, (np.ndarray, np.generic))
             else (dtypes.dtype_of_scalar(x), True) for x in leaves]
    if not typed:
        return dtypes.default_float()
    dtype, _ = dtypes.result_type(*typed)
    return dtype


def array(object, dtype=None, copy=True, order=None, ndmin=0):
    """Create an Array from a scalar, a nested list/tuple, a NumPy array, or an Array.

    Default dtypes follow JAX: Python ints -> int32, floats -> float32 (64-bit only when
    ``jax_enable_x64`` is on). Sets, dicts, strings, None and ragged lists are rejected.
    """
    _reject_unsupported(object)
    want = requested_dtype(dtype)
    if isinstance(object, (Array, Tracer)):
        out = object if want is None else convert_element_type(object, want)
    elif _contains_tracer(object):
        _nested_shape(object)
        out = _stack_traced(object, want)
    elif isinstance(object, (np.ndarray, np.generic)):
        if object.dtype.kind not in "biufc":
            raise TypeError(f"jnp.array cannot hold NumPy dtype {object.dtype} (kind "
                            f"{object.dtype.kind!r}); minijax arrays hold numbers and booleans.")
        out = Array(np.array(object, dtype=want or dtypes.canonicalize(object.dtype)))
    elif dtypes.is_python_scalar(object) and want is None:
        # A bare Python scalar stays weakly typed, as in JAX: jnp.array(2.5) * x keeps x's dtype.
        out = Array(np.asarray(object, dtypes.dtype_of_scalar(object)),
                    weak_type=not isinstance(object, bool))
    else:
        if isinstance(object, (list, tuple)):
            _nested_shape(object)
        elif not dtypes.is_python_scalar(object) and not hasattr(object, "__array__"):
            raise TypeError(f"jnp.array cannot convert an object of type {type(object).__name__}; "
                            "pass a number, a (nested) list or tuple of numbers, or an array.")
        target = want or _infer_dtype(object, None)
        if isinstance(object, (list, tuple)) and _has_arrays(object):
            object = _to_numpy_nested(object)
        try:
            value = np.array(object, dtype=target)
        except OverflowError:
            raise OverflowError(f"Python int too large to convert to {target.name}: {object!r} "
                                "does not fit; pass dtype= a wider type with x64 enabled.") from None
        out = Array(value)
    if ndmin and get_aval(out).ndim < ndmin:
        from .._src.primitives.shape import reshape
        out = reshape(out, (1,) * (ndmin - get_aval(out).ndim) + get_aval(out).shape)
    return out


def _has_arrays(obj):
    return any(isinstance(x, Array) for x in _leaf_types(obj, []))


def _to_numpy_nested(obj):
    if isinstance(obj, (list, tuple)):
        return [_to_numpy_nested(o) for o in obj]
    return np.asarray(obj) if isinstance(obj, Array) else obj


def asarray(a, dtype=None, order=None, copy=None):
    """Like ``array``, but returns ``a`` itself when it already is an Array of the right dtype."""
    if isinstance(a, (Array, Tracer)) and (dtype is None or requested_dtype(dtype) == a.dtype):
        return a
    if dtypes.is_python_scalar(a) and dtype is None:
        return Array(np.asarray(a, dtypes.dtype_of_scalar(a)), weak_type=not isinstance(a, bool))
    return array(a, dtype=dtype)


def copy(a, order=None):
    return array(a, copy=True)


def _shape_tuple(shape, fname):
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"{fname}: shape must be an int or a sequence of ints, got {shape!r}. "
                        "Shapes are static: they cannot depend on traced values.") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"{fname}: negative dimensions are not allowed, got shape {shape}")
    return shape


def full(shape, fill_value, dtype=None):
    """An array of ``shape`` filled with ``fill_value``."""
    shape = _shape_tuple(shape, "full")
    want = requested_dtype(dtype)
    if isinstance(fill_value, (Array, Tracer)) or np.ndim(fill_value):
        from ._shape import broadcast_to
        fill = asarray(fill_value, want)
        return broadcast_to(fill, shape)
    dtype = want or (dtypes.dtype_of_scalar(fill_value) if dtypes.is_python_scalar(fill_value)
                     else dtypes.canonicalize(np.asarray(fill_value).dtype))
    return _lax_full(shape, fill_value, dtype)


def zeros(shape, dtype=None):
    return full(shape, 0, requested_dtype(dtype) or dtypes.default_float())


def ones(shape, dtype=None):
    return full(shape, 1, requested_dtype(dtype) or dtypes.default_float())


def empty(shape, dtype=None):
    """Same as ``zeros``: JAX arrays are never uninitialized."""
    return zeros(shape, dtype)


def _like(a, dtype, shape):
    aval = get_aval(asarray(a))
    return (requested_dtype(dtype) or aval.dtype), (aval.shape if shape is None else shape), aval


def full_like(a, fill_value, dtype=None, shape=None):
    dtype, shape, aval = _like(a, dtype, shape)
    out = full(shape, fill_value, dtype)
    if aval.weak_type and dtype == aval.dtype:
        out = convert_element_type(out, dtype, weak_type=True)
    return out


def zeros_like(a, dtype=None, shape=None):
    return full_like(a, 0, dtype, shape)


def ones_like(a, dtype=None, shape=None):
    return full_like(a, 1, dtype, shape)


def empty_like(a, dtype=None, shape=None):
    return zeros_like(a, dtype, shape)


def _concrete_scalar(x, name):
    from .._src.core import concrete_or_error
    return concrete_or_error(x, f"The {name} argument of jnp.arange must be concrete: it decides "
                                "the array's length, which must be known while tracing.").item()


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in ``[start, stop)``; ints give int32, floats float32."""
    start = _concrete_scalar(start, "start")
    stop = None if stop is None else _concrete_scalar(stop, "stop")
    step = None if step is None else _concrete_scalar(step, "step")
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    if step == 0:
        raise ValueError("jnp.arange: step must not be zero.")
    want = requested_dtype(dtype) or dtypes.result_type(
        *[(dtypes.dtype_of_scalar(v) if dtypes.is_python_scalar(v) else
           dtypes.canonicalize(np.asarray(v).dtype), False) for v in (start, stop, step)])[0]
    if dtypes.is_integer(want) and all(float(v).is_integer() for v in (start, stop, step)):
        n = max(0, -(-(int(stop) - int(start)) // int(step)))
        ramp = iota(want, n)
        if step != 1:
            ramp = mul(ramp, convert_element_type(np.asarray(step, want), want))
        if start != 0:
            ramp = add(ramp, convert_element_type(np.asarray(start, want), want))
        return ramp
    return Array(np.arange(start, stop, step).astype(want))


def eye(N, M=None, k=0, dtype=None):
    """Identity-like matrix: ones on diagonal ``k``, zeros elsewhere."""
    from .._src.primitives.elementwise import eq
    M = N if M is None else M
    dtype = requested_dtype(dtype) or dtypes.default_float()
    rows = broadcasted_iota(dtypes.default_int(), (N, M), 0)
    cols = broadcasted_iota(dtypes.default_int(), (N, M), 1)
    if k:
        rows = add(rows, convert_element_type(np.asarray(k), dtypes.default_int()))
    return convert_element_type(eq(rows, cols), dtype)


def identity(n, dtype=None):
    return eye(n, dtype=dtype)
