"""Dtypes: the 32-bit defaults, weak types, and JAX's type-promotion lattice.

Three ideas live here.

* **Canonical dtypes.** Unless ``jax_enable_x64`` is on, every 64-bit type is
  narrowed to its 32-bit sibling (float64 -> float32, int64 -> int32, ...).
* **Weak types.** A Python scalar has no dtype of its own, so ``x * 2.0`` takes
  the dtype of ``x``. We record that "weakness" on values that came from
  Python scalars; it disappears as soon as a strongly typed operand joins in.
* **Promotion.** JAX promotes along a lattice (a graph of "can be widened to"
  edges) rather than NumPy's value-based table. The result type of two types is
  their least upper bound in that graph. The lattice avoids surprises such as
  ``int64 + float16 -> float64``: in JAX it is float16.
"""
from __future__ import annotations

import warnings

import numpy as np

from .config import config

bool_ = np.dtype(np.bool_)
int8, int16, int32, int64 = (np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64))
uint8, uint16, uint32, uint64 = (np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64))
float16, float32, float64 = (np.dtype(t) for t in (np.float16, np.float32, np.float64))
complex64, complex128 = np.dtype(np.complex64), np.dtype(np.complex128)

_NARROW = {int64: int32, uint64: uint32, float64: float32, complex128: complex64}
_SHORT = {
    "bool": "bool", "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
    "uint8": "u8", "uint16": "u16", "uint32": "u32", "uint64": "u64",
    "float16": "f16", "float32": "f32", "float64": "f64",
    "complex64": "c64", "complex128": "c128",
}


# The flag object itself: ``config.jax_enable_x64`` goes through ``Config.__getattr__``, and
# promotion reads this flag on every eager operation. ``config.update`` sets ``.value`` in place.
_x64_flag = config._flags["jax_enable_x64"]


def x64_enabled() -> bool:
    return _x64_flag.value


def short_name(dtype) -> str:
    """'f32' for float32, as jaxprs print it."""
    return _SHORT.get(np.dtype(dtype).name, np.dtype(dtype).name)


def canonicalize(dtype, *, warn: bool = False):
    """Map ``dtype`` to the dtype minijax really uses (32-bit unless x64 is on)."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "biufc":
        raise TypeError(
            f"minijax arrays hold numbers or booleans; dtype {dtype} is not supported. "
            "Strings and Python objects cannot live in an Array.")
    if not _x64_flag.value and dtype in _NARROW:
        narrow = _NARROW[dtype]
        if warn:
            warnings.warn(
                f"Explicitly requested dtype {dtype.name} requested in array is not available, "
                f"and will be truncated to dtype {narrow.name}. To enable more dtypes, set the "
                "jax_enable_x64 configuration option or the JAX_ENABLE_X64 shell environment "
                "variable: minijax.config.update('jax_enable_x64', True).",
                UserWarning, stacklevel=4)
        return narrow
    return dtype


def default_float():
    return float64 if _x64_flag.value else float32


def default_int():
    return int64 if _x64_flag.value else int32


def default_uint():
    return uint64 if _x64_flag.value else uint32


def default_complex():
    return complex128 if _x64_flag.value else complex64


def is_float(dtype) -> bool:
    return np.dtype(dtype).kind == "f"


def is_inexact(dtype) -> bool:
    return np.dtype(dtype).kind in "fc"


def is_integer(dtype) -> bool:
    return np.dtype(dtype).kind in "iu"


# ---------------------------------------------------------------------------
# The promotion lattice. Nodes are dtypes plus three "weak" categories that
# stand for Python scalars: 'i*' (int), 'f*' (float), 'c*' (complex).
# ---------------------------------------------------------------------------
_WEAK_INT, _WEAK_FLOAT, _WEAK_COMPLEX = "i*", "f*", "c*"

_EDGES = {
    bool_: [_WEAK_INT],
    _WEAK_INT: [uint8, int8],
    uint8: [int16, uint16], uint16: [int32, uint32], uint32: [int64, uint64],
    uint64: [_WEAK_FLOAT],
    int8: [int16], int16: [int32], int32: [int64], int64: [_WEAK_FLOAT],
    _WEAK_FLOAT: [float16, _WEAK_COMPLEX],
    float16: [float32], float32: [float64, complex64], float64: [complex128],
    _WEAK_COMPLEX: [complex64], complex64: [complex128], complex128: [],
}


def _upper_bounds(node):
    """Every node reachable from ``node`` (itself included)."""
    seen, todo = [], [node]
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.append(n)
            todo.extend(_EDGES[n])
    return seen


_UPPER = {n: set(_upper_bounds(n)) for n in _EDGES}


def _least_upper_bound(nodes):
    common = set.intersection(*(_UPPER[n] for n in nodes))
    # The least element is the one all other common bounds are reachable from.
    for candidate in common:
        if all(other in _UPPER[candidate] for other in common):
            return candidate
    raise TypeError(f"no common type for {nodes}")  # unreachable for this lattice


def _node(dtype, weak):
    dtype = np.dtype(dtype)
    if weak:
        return {"b": bool_, "i": _WEAK_INT, "u": _WEAK_INT, "f": _WEAK_FLOAT,
                "c": _WEAK_COMPLEX}[dtype.kind]
    return dtype


_result_type_cache: dict = {}


def result_type(*typed) -> tuple[np.dtype, bool]:
    """Memoized front of ``_result_type`` (promotion is a pure function of its inputs)."""
    key = (typed, _x64_flag.value)
    out = _result_type_cache.get(key)
    if out is None:
        out = _result_type_cache[key] = _result_type(*typed)
    return out


def _result_type(*typed) -> tuple[np.dtype, bool]:
    """Promote ``(dtype, weak_type)`` pairs; return the result ``(dtype, weak_type)``.

    >>> result_type((float32, False), (float32, True))   # x_f32 * 2.0
    (dtype('float32'), False)
    """
    node = _least_upper_bound([_node(d, w) for d, w in typed])
    if node == _WEAK_INT:
        return default_int(), True
    if node == _WEAK_FLOAT:
        return default_float(), True
    if node == _WEAK_COMPLEX:
        return default_complex(), True
    return canonicalize(node), False


def dtype_of_scalar(value) -> np.dtype:
    """Default dtype for a Python scalar: bool, int32, float32, complex64 (64-bit under x64)."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, int):
        return int64 if _x64_flag.value else int32
    if isinstance(value, float):
        return float64 if _x64_flag.value else float32
    if isinstance(value, complex):
        return complex128 if _x64_flag.value else complex64
    raise TypeError(f"{value!r} is not a Python scalar")


PYTHON_SCALARS = (bool, int, float, complex)


def is_python_scalar(value) -> bool:
    return type(value) in PYTHON_SCALARS


def iinfo(dtype):
    return np.iinfo(dtype)


def finfo(dtype):
    return np.finfo(dtype)
