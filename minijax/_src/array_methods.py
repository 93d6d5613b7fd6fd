"""Operators and methods shared by concrete Arrays and by tracers.

Every method forwards to a ``minijax.numpy`` function, so ``x + y`` inside
``grad`` or ``jit`` binds exactly the primitives that ``jnp.add(x, y)`` would.
``minijax.numpy`` is imported lazily: it sits above this layer.
"""
from __future__ import annotations

import importlib

_jnp_module = None


def _jnp():
    global _jnp_module
    if _jnp_module is None:
        _jnp_module = importlib.import_module("minijax.numpy")
    return _jnp_module


def _binary(name, reflected=False):
    fn = None   # the jnp function, looked up on first use (jnp is imported after this module)

    if reflected:
        def method(self, other):
            nonlocal fn
            if fn is None:
                fn = getattr(_jnp(), name)
            return fn(other, self)
    else:
        def method(self, other):
            nonlocal fn
            if fn is None:
                fn = getattr(_jnp(), name)
            return fn(self, other)
    method.__name__ = name
    return method


def _forward(name):
    def method(self, *args, **kwargs):
        return getattr(_jnp(), name)(self, *args, **kwargs)
    method.__name__ = name
    method.__doc__ = f"Same as ``jnp.{name}(self, ...)``."
    return method


class ArrayMethods:
    """Mixin: arithmetic operators, comparisons, and NumPy-style methods."""

    __slots__ = ()
    __hash__ = None  # arrays compare elementwise, so they cannot be dict keys (as in JAX)

    __add__, __radd__ = _binary("add"), _binary("add", True)
    __sub__, __rsub__ = _binary("subtract"), _binary("subtract", True)
    __mul__, __rmul__ = _binary("multiply"), _binary("multiply", True)
    __truediv__, __rtruediv__ = _binary("true_divide"), _binary("true_divide", True)
    __floordiv__, __rfloordiv__ = _binary("floor_divide"), _binary("floor_divide", True)
    __mod__, __rmod__ = _binary("remainder"), _binary("remainder", True)
    __pow__, __rpow__ = _binary("power"), _binary("power", True)
    __matmul__, __rmatmul__ = _binary("matmul"), _binary("matmul", True)
    __and__, __rand__ = _binary("bitwise_and"), _binary("bitwise_and", True)
    __or__, __ror__ = _binary("bitwise_or"), _binary("bitwise_or", True)
    __xor__, __rxor__ = _binary("bitwise_xor"), _binary("bitwise_xor", True)
    __lshift__, __rlshift__ = _binary("left_shift"), _binary("left_shift", True)
    __rshift__, __rrshift__ = _binary("right_shift"), _binary("right_shift", True)
    __eq__, __ne__ = _binary("equal"), _binary("not_equal")
    __lt__, __le__ = _binary("less"), _binary("less_equal")
    __gt__, __ge__ = _binary("greater"), _binary("greater_equal")
    __divmod__ = _binary("divmod")
    __rdivmod__ = _binary("divmod", True)

    def __neg__(self):
        return _jnp().negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _jnp().abs(self)

    def __invert__(self):
        return _jnp().invert(self)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object: this array is a scalar (shape ()).")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d array: it is a scalar (shape ()).")
        return (self[i] for i in range(self.shape[0]))

    def __getitem__(self, index):
        return _jnp()._getitem(self, index)

    def __setitem__(self, index, value):
        raise TypeError(
            f"{type(self).__name__} is immutable: JAX arrays do not support in-place item "
            "assignment, so that transformations (grad, jit, vmap) can treat every value as a "
            "constant. Instead of x[idx] = y, use x = x.at[idx].set(y) (or .add, .multiply, .min, "
            ".max, ...), which returns an updated copy and leaves x unchanged.")

    @property
    def at(self):
        """Functional updates: ``x.at[idx].set(v)`` returns a new array, ``x`` is unchanged."""
        return _jnp()._IndexUpdateHelper(self)

    @property
    def T(self):
        return _jnp().transpose(self)

    @property
    def mT(self):
        return _jnp().matrix_transpose(self)

    @property
    def real(self):
        return _jnp().real(self)

    @property
    def imag(self):
        return _jnp().imag(self)

    def astype(self, dtype, copy=False, device=None):
        return _jnp().astype(self, dtype)

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        return _jnp().reshape(self, shape, order=order)

    def transpose(self, *axes):
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = axes[0]
        return _jnp().transpose(self, axes or None)

    sum = _forward("sum")
    prod = _forward("prod")
    mean = _forward("mean")
    var = _forward("var")
    std = _forward("std")
    max = _forward("max")
    min = _forward("min")
    argmax = _forward("argmax")
    argmin = _forward("argmin")
    all = _forward("all")
    any = _forward("any")
    cumsum = _forward("cumsum")
    cumprod = _forward("cumprod")
    ravel = _forward("ravel")
    flatten = _forward("ravel")
    squeeze = _forward("squeeze")
    swapaxes = _forward("swapaxes")
    clip = _forward("clip")
    round = _forward("round")
    dot = _forward("dot")
    conj = _forward("conjugate")
    conjugate = _forward("conjugate")
    sort = _forward("sort")
    argsort = _forward("argsort")
    repeat = _forward("repeat")
    take = _forward("take")
    trace = _forward("trace")
    diagonal = _forward("diagonal")
    nonzero = _forward("nonzero")
    ptp = _forward("ptp")
