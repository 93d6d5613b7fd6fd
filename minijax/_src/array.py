"""Array: an immutable n-dimensional value placed on a device.

An Array wraps a read-only NumPy buffer. It never changes after it is made:
``x[i] = v`` raises and points to ``x.at[i].set(v)``, and ``np.asarray(x)``
hands out a read-only view, so nothing can write through it either.
"""
from __future__ import annotations

import numpy as np

from . import dtypes
from .array_methods import ArrayMethods
from . import core
from .core import ShapedArray
from .devices import default_device


class ArrayImpl(ArrayMethods):
    """A concrete, immutable minijax array. ``minijax.Array`` is this class.

    Like JAX, the concrete class is called ``ArrayImpl`` (that is what ``type(x)`` shows).
    """

    __slots__ = ("_value", "weak_type", "_device", "_aval")
    __array_priority__ = 100

    def __init__(self, value: np.ndarray, weak_type: bool = False, device=None):
        value = np.asarray(value)
        if value.flags.writeable:
            value = value.view()
            value.setflags(False)   # = write=False; positional, because keyword parsing costs more
        self._value = value
        self.weak_type = bool(weak_type)
        self._device = device
        self._aval = None

    # -- what the array is ------------------------------------------------
    @property
    def aval(self):
        aval = self._aval
        if aval is None:   # computed once: the array never changes
            aval = self._aval = ShapedArray(self._value.shape, self._value.dtype, self.weak_type)
        return aval

    shape = property(lambda self: self._value.shape)
    dtype = property(lambda self: self._value.dtype)
    ndim = property(lambda self: self._value.ndim)
    size = property(lambda self: self._value.size)
    itemsize = property(lambda self: self._value.itemsize)
    nbytes = property(lambda self: self._value.nbytes)

    @property
    def device(self):
        """The device holding this array (a property in current JAX)."""
        return self._device or default_device()

    def devices(self):
        return {self.device}

    def block_until_ready(self):
        """Wait until the value is computed. minijax computes eagerly, so it already is."""
        return self

    def copy_to_host_async(self):
        return None

    # -- conversion to Python and NumPy ------------------------------------
    def __array__(self, dtype=None, copy=None):
        if copy:
            return np.array(self._value, dtype=dtype, copy=True)
        if dtype is not None and np.dtype(dtype) != self.dtype:
            return self._value.astype(dtype)
        return self._value

    def item(self, *args):
        return self._value.item(*args)

    def tolist(self):
        return self._value.tolist()

    def __bool__(self):
        if self.size != 1:
            raise ValueError(
                f"The truth value of an array with {self.size} elements is ambiguous. "
                "Use a.any() or a.all().")
        return bool(self._value)

    def __int__(self):
        return int(self._value)

    def __float__(self):
        return float(self._value)

    def __complex__(self):
        return complex(self._value)

    def __index__(self):
        if not dtypes.is_integer(self.dtype) or self.ndim:
            raise TypeError(
                f"only integer scalar arrays can be converted to a scalar index; this array has "
                f"dtype {self.dtype} and shape {self.shape}.")
        return int(self._value)

    def __format__(self, spec):
        if self.ndim == 0:
            return format(self._value.item(), spec)
        return format(str(self), spec)

    def __reduce__(self):
        return (_rebuild, (np.array(self._value), self.weak_type))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def copy(self):
        return Array(np.array(self._value), self.weak_type)

    # -- printing ------------------------------------------------------------
    def __str__(self):
        return str(self._value)

    def __repr__(self):
        prefix = "Array("
        extra = f"dtype={self.dtype.name}" + (", weak_type=True" if self.weak_type else "")
        if self.size == 0:
            return f"{prefix}[], shape={self.shape}, {extra})"
        width = np.get_printoptions()["linewidth"]
        body = np.array2string(self._value, prefix=prefix, suffix=",", separator=", ",
                               max_line_width=width)
        last_line = body[body.rfind("\n") + 1:]
        sep = " "
        if len(prefix) * (body.count("\n") == 0) + len(last_line) + 2 + len(extra) > width:
            sep = "\n" + " " * len(prefix)
        return f"{prefix}{body},{sep}{extra})"


def _rebuild(value, weak_type):
    return Array(value, weak_type)


Array = ArrayImpl


def to_numpy(x):
    """The NumPy value behind an operand (used by the eager interpreter)."""
    if isinstance(x, Array):
        return x._value
    if isinstance(x, np.ndarray):
        return x
    if dtypes.is_python_scalar(x):
        return np.asarray(x, dtypes.dtype_of_scalar(x))
    if isinstance(x, np.generic):
        return np.asarray(x)
    raise TypeError(f"Value {x!r} of type {type(x).__name__} is not a valid minijax type.")


def wrap_output(value, aval: ShapedArray) -> Array:
    """Wrap an ``impl`` result as an Array of exactly the abstract value its rule promised.

    Every eager operation ends here, so it skips ``__init__`` and its conversions: ``value`` is
    already a NumPy result. A writeable result is frozen through a view, so that a buffer the
    impl may share with someone else (an input it returned unchanged) is not frozen for them.
    """
    if type(value) is not np.ndarray:
        value = np.asarray(value)
    if value.dtype != aval.dtype:
        value = value.astype(aval.dtype)
    if value.shape != aval.shape:
        raise AssertionError(
            f"internal error: impl produced shape {value.shape}, rule promised {aval.shape}")
    if value.flags.writeable:
        value = value.view()
        value.setflags(False)
    out = _new(Array)
    out._value = value
    out.weak_type = aval.weak_type
    out._device = None
    out._aval = aval
    return out


_new = object.__new__


core._ArrayImpl, core.to_numpy, core.wrap_output = ArrayImpl, to_numpy, wrap_output
