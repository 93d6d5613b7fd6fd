"""Elementwise math: ``jnp.add``, ``jnp.sin``, ``jnp.where``... written on lax primitives.

Each function promotes its arguments (``promote_args*`` in ``_util``) and
binds one or a few primitives. Functions that only make sense for floats
(``sin``, ``exp``) promote integers to the default float type, as JAX does.
"""
from __future__ import annotations

from .._src import dtypes
from .._src.primitives import elementwise as lax
from ._util import promote_args, promote_args_inexact, promote_args_numeric

__all__ = ["add", "subtract", "multiply", "true_divide", "divide", "negative", "sin", "cos",
           "exp", "log", "tanh", "sqrt", "equal", "not_equal", "less", "less_equal", "greater",
           "greater_equal", "power", "abs", "absolute"]


def _binary(fname, lax_fn, promote=promote_args):
    def fn(x, y, /):
        return lax_fn(*promote(fname, x, y))
    fn.__name__ = fname
    fn.__doc__ = f"Elementwise ``{fname}`` with NumPy broadcasting and JAX type promotion."
    return fn


def _unary_inexact(fname, lax_fn):
    def fn(x, /):
        return lax_fn(*promote_args_inexact(fname, x))
    fn.__name__ = fname
    fn.__doc__ = f"Elementwise ``{fname}``; integer inputs are promoted to float."
    return fn


add = _binary("add", lax.add)
subtract = _binary("subtract", lax.sub)
multiply = _binary("multiply", lax.mul)
true_divide = _binary("true_divide", lax.div, promote_args_inexact)
divide = true_divide

sin, cos, exp, log, tanh, sqrt = (_unary_inexact(n, getattr(lax, n))
                                  for n in ("sin", "cos", "exp", "log", "tanh", "sqrt"))

equal = _binary("equal", lax.eq)
not_equal = _binary("not_equal", lax.ne)
less = _binary("less", lax.lt)
less_equal = _binary("less_equal", lax.le)
greater = _binary("greater", lax.gt)
greater_equal = _binary("greater_equal", lax.ge)


def negative(x, /):
    (x,) = promote_args_numeric("negative", x)
    return lax.neg(x)


def abs(x, /):
    (x,) = promote_args("abs", x)
    return x if x.dtype == bool or dtypes.np.dtype(x.dtype).kind == "u" else lax.abs(x)


absolute = abs


def power(x1, x2, /):
    """``x1 ** x2``. A Python-int exponent becomes ``integer_pow`` (exact, and cheap to differentiate)."""
    if isinstance(x2, int) and not isinstance(x2, bool):
        (x1,) = promote_args_numeric("power", x1)
        if x2 < 0 and dtypes.is_integer(x1.dtype):
            raise ValueError("Integers cannot be raised to negative integer powers.")
        return lax.integer_pow(x1, x2)
    x1, x2 = promote_args_inexact("power", x1, x2)
    return lax.pow(x1, x2)
