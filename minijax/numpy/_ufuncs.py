"""Elementwise math: ``jnp.add``, ``jnp.sin``, ``jnp.where``... written on lax primitives.

Every function here follows one recipe:

1. **check and promote** its arguments with the ``promote_args*`` helpers in ``_util``:
   lists are rejected (JAX does not convert Python containers implicitly), dtypes are
   promoted along JAX's lattice (``x_f32 * 2.0`` stays float32), and shapes are
   broadcast NumPy-style;
2. **bind** one or a few lax primitives, which all have derivative and batching rules,
   so every function below works under ``grad``, ``vmap`` and ``jit`` for free.

Three promotion flavours, chosen per function exactly as JAX does:

* ``promote_args``           keep the promoted type (``add``, ``maximum``, ``equal``...);
* ``promote_args_numeric``   bools become integers (``floor_divide``, ``square``...);
* ``promote_args_inexact``   integers and bools become the default float (``sin``, ``divide``...).

Where NumPy and JAX disagree we follow JAX (the promise: lesson code runs unchanged on JAX),
and the docstring says so.
"""
from __future__ import annotations

import builtins
import math
import operator
import warnings

import numpy as np

from .._src import dtypes
from .._src.array import Array
from .._src.core import Tracer, get_aval
from .._src.primitives import elementwise as lax
from .._src.primitives.reductions import reduce_and
from ._util import (as_operand, broadcast_shapes, check_arraylike, promote_args,
                    promote_args_inexact, promote_args_numeric, promote_dtypes, promote_shapes,
                    requested_dtype)

__all__ = [
    # arithmetic
    "add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "remainder", "mod",
    "fmod", "divmod", "negative", "positive", "reciprocal", "power", "pow", "float_power",
    "square", "sqrt", "cbrt", "gcd", "lcm",
    # exponentials and logarithms
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "logaddexp", "logaddexp2",
    # trigonometry
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh",
    "arcsinh", "arccosh", "arctanh", "asin", "acos", "atan", "atan2", "asinh", "acosh", "atanh",
    "hypot", "deg2rad", "rad2deg", "degrees", "radians", "sinc",
    # sign and rounding
    "abs", "absolute", "fabs", "sign", "signbit", "copysign", "floor", "ceil", "trunc", "fix",
    "rint", "round", "around", "nextafter",
    # extrema
    "maximum", "minimum", "fmax", "fmin", "clip", "heaviside",
    # comparison and logic
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "invert",
    "left_shift", "right_shift", "bitwise_left_shift", "bitwise_right_shift", "bitwise_invert",
    "isnan", "isinf", "isposinf", "isneginf", "isfinite", "isclose", "allclose",
    "array_equal", "array_equiv",
    # selection
    "where", "select", "nan_to_num",
    # complex numbers
    "conj", "conjugate", "real", "imag", "iscomplexobj", "isrealobj",
    # dtypes
    "astype", "can_cast", "result_type", "promote_types", "isscalar", "issubdtype",
]


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------
def _dtype(x):
    return get_aval(x).dtype


def _kind(x):
    value = getattr(x, "_value", None)   # a concrete Array: skip building its aval
    return (value if value is not None else get_aval(x)).dtype.kind


def _reject_kinds(fname, x, kinds, error=TypeError, hint=""):
    """Raise a teaching error if ``x`` has one of the dtype ``kinds`` ('b', 'iu', 'c', ...)."""
    if _kind(x) in kinds:
        raise error(f"jnp.{fname} does not accept dtype {_dtype(x).name}.{hint}")


_INT_ONLY = (" It works on integers (and booleans) only; floats have no bits to operate on "
             "this way. Cast first, e.g. x.astype(jnp.int32).")


def _c(x, value):
    """``value`` as a weakly typed scalar of ``x``'s dtype.

    Weak, so that it never changes the result's dtype or weakness: ``deg2rad(2.0)`` stays
    a weak float like its argument, and ``deg2rad(x_f16)`` stays float16.
    """
    dtype = _dtype(x)
    return lax.convert_element_type(np.asarray(value, dtype), dtype, weak_type=True)


def _full_like(x, value, dtype=None):
    aval = get_aval(x)
    return lax.full(aval.shape, value, aval.dtype if dtype is None else dtype)


def _where(cond, x, y):
    """select on already promoted operands of one dtype (rank-0 operands broadcast)."""
    cond, x, y = promote_shapes(cond, x, y)
    return lax.select(cond, x, y)


def _to_bool(x):
    x = as_operand(x)
    return x if _dtype(x) == np.bool_ else lax.ne(x, _c(x, 0))


def _unary_inexact(fname, lax_fn, doc):
    def fn(x, /):
        (x,) = promote_args_inexact(fname, x)
        return lax_fn(x)
    fn.__name__ = fn.__qualname__ = fname
    fn.__doc__ = doc + "\n\nIntegers and booleans are promoted to the default float dtype."
    return fn


def _binary(fname, lax_fn, doc, promote=promote_args):
    def fn(x1, x2, /):
        return lax_fn(*promote(fname, x1, x2))
    fn.__name__ = fn.__qualname__ = fname
    fn.__doc__ = doc + "\n\nArguments broadcast against each other and promote as in JAX."
    return fn


# ---------------------------------------------------------------------------
# Arithmetic
# ---------------------------------------------------------------------------
def add(x1, x2, /):
    """``x1 + x2`` elementwise. For booleans this is logical OR (as in NumPy and JAX)."""
    x1, x2 = promote_args("add", x1, x2)
    return lax.bitwise_or(x1, x2) if _kind(x1) == "b" else lax.add(x1, x2)


def subtract(x1, x2, /):
    """``x1 - x2`` elementwise. Booleans are rejected: use ``logical_xor`` or ``x1 ^ x2``."""
    x1, x2 = promote_args("subtract", x1, x2)
    _reject_kinds("subtract", x1, "b", hint=" Boolean subtraction is ambiguous; use "
                  "jnp.logical_xor(x1, x2), or cast to an integer type first.")
    return lax.sub(x1, x2)


def multiply(x1, x2, /):
    """``x1 * x2`` elementwise. For booleans this is logical AND."""
    x1, x2 = promote_args("multiply", x1, x2)
    return lax.bitwise_and(x1, x2) if _kind(x1) == "b" else lax.mul(x1, x2)


def true_divide(x1, x2, /):
    """``x1 / x2`` elementwise, always in floating point (``1 / 2 == 0.5``; ``1 / 0 == inf``)."""
    x1, x2 = promote_args_inexact("true_divide", x1, x2)
    return lax.div(x1, x2)


divide = true_divide


def _int_floor_divide(x1, x2):
    """lax.div truncates toward zero; floor division rounds toward -inf: fix the remainders."""
    q = lax.div(x1, x2)
    if _kind(x1) == "u":
        return q
    r = lax.rem(x1, x2)
    wrong_way = lax.bitwise_and(lax.ne(r, _c(r, 0)),
                                lax.ne(lax.lt(r, _c(r, 0)), lax.lt(x2, _c(x2, 0))))
    return _where(wrong_way, lax.sub(q, _c(q, 1)), q)


def _int_remainder(x1, x2):
    r = lax.rem(x1, x2)
    if _kind(x1) == "u":
        return r
    wrong_sign = lax.bitwise_and(lax.ne(r, _c(r, 0)),
                                 lax.ne(lax.lt(r, _c(r, 0)), lax.lt(x2, _c(x2, 0))))
    return _where(wrong_sign, lax.add(r, x2), r)


def _float_divmod(x1, x2):
    """NumPy's algorithm: the remainder has the sign of the divisor, the quotient is floored.

    ``fmod`` gives a remainder with the sign of ``x1``; where that sign is wrong, move one
    divisor over. Division by zero gives ``x1 / 0`` (inf or nan) as the quotient and nan as
    the remainder, like NumPy.
    """
    mod = lax.rem(x1, x2)
    x1, x2, mod = promote_shapes(x1, x2, mod)
    div = lax.div(lax.sub(x1, mod), x2)
    wrong_sign = lax.bitwise_and(lax.ne(mod, _c(mod, 0)),
                                 lax.ne(lax.lt(x2, _c(x2, 0)), lax.lt(mod, _c(mod, 0))))
    mod = lax.select(wrong_sign, lax.add(mod, x2), mod)
    div = lax.select(wrong_sign, lax.sub(div, _c(div, 1)), div)
    div = lax.round(div, 1)  # div is an integer up to rounding error
    div = _where(lax.eq(x2, _c(x2, 0)), lax.div(x1, x2), div)
    return div, mod


def _check_divmod_kind(fname, x):
    _reject_kinds(fname, x, "c", hint=" Complex numbers have no ordering, so floor division "
                  "and remainders are not defined for them.")


def floor_divide(x1, x2, /):
    """``x1 // x2``: the quotient rounded toward -inf, for integers *and* floats (as NumPy).

    Integer division by zero does not raise (there are no exceptions inside compiled code);
    the result is an arbitrary integer, as in JAX.
    """
    x1, x2 = promote_args_numeric("floor_divide", x1, x2)
    _check_divmod_kind("floor_divide", x1)
    if dtypes.is_integer(_dtype(x1)):
        return _int_floor_divide(x1, x2)
    return _float_divmod(x1, x2)[0]


def remainder(x1, x2, /):
    """``x1 % x2`` with Python's sign rule: the result has the sign of ``x2``.

    ``remainder(-7, 2) == 1`` (``fmod(-7, 2) == -1`` keeps the sign of ``x1`` instead).
    """
    x1, x2 = promote_args_numeric("remainder", x1, x2)
    _check_divmod_kind("remainder", x1)
    if dtypes.is_integer(_dtype(x1)):
        return _int_remainder(x1, x2)
    return _float_divmod(x1, x2)[1]


mod = remainder


def fmod(x1, x2, /):
    """C's ``fmod``: the remainder of truncated division; it has the sign of ``x1``."""
    x1, x2 = promote_args_numeric("fmod", x1, x2)
    _check_divmod_kind("fmod", x1)
    return lax.rem(x1, x2)


def divmod(x1, x2, /):
    """``(floor_divide(x1, x2), remainder(x1, x2))``, computed together."""
    x1, x2 = promote_args_numeric("divmod", x1, x2)
    _check_divmod_kind("divmod", x1)
    if dtypes.is_integer(_dtype(x1)):
        return _int_floor_divide(x1, x2), _int_remainder(x1, x2)
    return _float_divmod(x1, x2)


def negative(x, /):
    """``-x``. Booleans are rejected (JAX does too): use ``jnp.logical_not`` or ``~x``."""
    (x,) = promote_args("negative", x)
    _reject_kinds("negative", x, "b", hint=" To flip booleans use jnp.logical_not(x) or ~x.")
    return lax.neg(x)


def positive(x, /):
    """``+x``: returns ``x`` unchanged (as an array)."""
    (x,) = promote_args("positive", x)
    return x


def reciprocal(x, /):
    """``1 / x``, in floating point (``reciprocal(2) == 0.5``)."""
    (x,) = promote_args_inexact("reciprocal", x)
    return lax.div(_c(x, 1), x)


def _static_int(x):
    """``x`` as a Python int if it is a concrete integer scalar (not a tracer), else None."""
    if isinstance(x, bool) or isinstance(x, Tracer):
        return None
    if isinstance(x, (int, np.integer)) or (isinstance(x, Array) and x.ndim == 0
                                            and dtypes.is_integer(x.dtype)):
        return operator.index(x)
    return None


def _int_pow(x, y):
    """Integer ``x ** y`` for an integer array ``y``, by binary exponentiation.

    One multiply-and-square step per bit of the exponent: a fixed number of steps, so it
    traces to a fixed program. Negative exponents give the truncated result of ``1 / x**|y|``
    (``1`` for ``x == 1``, ``+-1`` for ``x == -1``, else ``0``); NumPy raises for them instead.
    """
    x, y = promote_shapes(x, y)
    negative_y = lax.lt(y, _c(y, 0)) if _kind(y) == "i" else None
    e = y if negative_y is None else lax.select(negative_y, _c(y, 0), y)
    acc = _full_like(x, 1)
    base = x
    for _ in range(_dtype(y).itemsize * 8):
        odd = lax.ne(lax.bitwise_and(e, _c(e, 1)), _c(e, 0))
        acc = _where(odd, lax.mul(acc, base), acc)
        base = lax.mul(base, base)
        e = lax.shift_right_logical(e, _c(e, 1))
    if negative_y is None:
        return acc
    odd_y = lax.ne(lax.bitwise_and(y, _c(y, 1)), _c(y, 0))
    minus_one = lax.select(odd_y, _full_like(x, -1), _full_like(x, 1))
    small = lax.select(lax.eq(x, _c(x, 1)), _full_like(x, 1),
                       lax.select(lax.eq(x, _c(x, -1)), minus_one, _full_like(x, 0)))
    return lax.select(negative_y, small, acc)


def power(x1, x2, /):
    """``x1 ** x2`` elementwise.

    A concrete integer exponent (``x ** 2``) becomes ``lax.integer_pow``: exact, cheap, and
    simple to differentiate. Integer arrays raised to integer arrays stay integers (JAX's
    rule; NumPy's too). Anything else is computed in floating point with ``lax.pow``.
    """
    check_arraylike("power", x1, x2)
    exponent = _static_int(x2)
    if exponent is not None:
        (x1,) = promote_args_numeric("power", x1)
        if exponent < 0 and dtypes.is_integer(_dtype(x1)):
            raise TypeError(f"Integers cannot be raised to negative powers, got "
                            f"{_dtype(x1).name} ** {exponent}. Use a float base: "
                            f"jnp.power(x.astype(float), {exponent}), or 1 / x ** {-exponent}.")
        return lax.integer_pow(x1, exponent)
    x1, x2 = promote_args_numeric("power", x1, x2)
    if dtypes.is_integer(_dtype(x1)):
        return _int_pow(x1, x2)
    return lax.pow(x1, x2)


pow = power


def float_power(x1, x2, /):
    """``x1 ** x2`` computed in floating point (integers are promoted to float first).

    NumPy computes this in float64; minijax (like JAX) uses the promoted inexact dtype,
    which is float32 unless ``jax_enable_x64`` is on.
    """
    x1, x2 = promote_args_inexact("float_power", x1, x2)
    return lax.pow(x1, x2)


def square(x, /):
    """``x * x``; booleans become integers first."""
    (x,) = promote_args_numeric("square", x)
    return lax.square(x)


sqrt = _unary_inexact("sqrt", lax.sqrt, "Square root, elementwise (``nan`` for negative reals).")


def cbrt(x, /):
    """Cube root, elementwise; defined for negative numbers too (``cbrt(-8) == -2``)."""
    (x,) = promote_args_inexact("cbrt", x)
    _reject_kinds("cbrt", x, "c", hint=" Use x ** (1/3) for a complex cube root.")
    return lax.cbrt(x)


def _check_integer_args(fname, x):
    if not dtypes.is_integer(_dtype(x)):
        raise ValueError(f"jnp.{fname} requires integer arguments, got {_dtype(x).name}. "
                         f"Cast first, e.g. x.astype(jnp.int32).")


_EUCLID_STEPS = {1: 12, 2: 25, 4: 48, 8: 94}  # enough Euclid steps for any value of that width


def gcd(x1, x2, /):
    """Greatest common divisor (always >= 0; ``gcd(0, 0) == 0``), integers only.

    Euclid's algorithm with a fixed number of steps (enough for the worst case, consecutive
    Fibonacci numbers), so it traces to a fixed program.
    """
    x1, x2 = promote_args_numeric("gcd", x1, x2)
    _check_integer_args("gcd", x1)
    a, b = (x1, x2) if _kind(x1) == "u" else (lax.abs(x1), lax.abs(x2))
    a, b = promote_shapes(a, b)
    for _ in range(_EUCLID_STEPS[_dtype(a).itemsize]):
        nonzero = lax.ne(b, _c(b, 0))
        safe_b = lax.select(nonzero, b, _full_like(b, 1))
        a, b = lax.select(nonzero, b, a), lax.select(nonzero, lax.rem(a, safe_b), b)
    return a


def lcm(x1, x2, /):
    """Least common multiple (always >= 0; 0 if either argument is 0), integers only."""
    x1, x2 = promote_args_numeric("lcm", x1, x2)
    _check_integer_args("lcm", x1)
    d = gcd(x1, x2)
    x1, x2, d = promote_shapes(x1, x2, d)
    zero = lax.eq(d, _c(d, 0))
    safe_d = _where(zero, _c(d, 1), d)
    out = lax.mul(x1, lax.div(x2, safe_d))
    out = out if _kind(out) == "u" else lax.abs(out)
    return _where(zero, _c(out, 0), out)


# ---------------------------------------------------------------------------
# Exponentials and logarithms
# ---------------------------------------------------------------------------
exp = _unary_inexact("exp", lax.exp, "``e ** x``, elementwise.")
exp2 = _unary_inexact("exp2", lax.exp2, "``2 ** x``, elementwise.")
expm1 = _unary_inexact("expm1", lax.expm1,
                       "``exp(x) - 1``, accurate for tiny ``x`` (where exp(x) rounds to 1).")
log = _unary_inexact("log", lax.log, "Natural logarithm, elementwise (``-inf`` at 0).")
log1p = _unary_inexact("log1p", lax.log1p,
                       "``log(1 + x)``, accurate for tiny ``x`` (where 1 + x rounds to 1).")


def log2(x, /):
    """Base-2 logarithm, elementwise: ``log(x) / log(2)``."""
    (x,) = promote_args_inexact("log2", x)
    return lax.div(lax.log(x), _c(x, math.log(2)))


def log10(x, /):
    """Base-10 logarithm, elementwise: ``log(x) / log(10)``."""
    (x,) = promote_args_inexact("log10", x)
    return lax.div(lax.log(x), _c(x, math.log(10)))


def _logaddexp_value(x1, x2, exp_fn, log1p_scale):
    amax = lax.max(x1, x2)
    delta = lax.sub(x1, x2)
    # log(e^a + e^b) = max(a, b) + log1p(e^-|a - b|): never overflows. Where a - b is nan
    # (both +inf, both -inf, or a nan input) the sum a + b is the right answer.
    tail = lax.log1p(exp_fn(lax.neg(lax.abs(delta))))
    if log1p_scale != 1:
        tail = lax.div(tail, _c(tail, log1p_scale))
    out = lax.add(amax, tail)
    return _where(lax.ne(delta, delta), lax.add(x1, x2), out)


def _make_logaddexp(exp_fn, log1p_scale):
    """A custom_jvp, as in JAX: the value formula has kinks (max, |a - b|) that cancel exactly,
    so autodiff through it would get the second derivative wrong where x1 == x2. The rule
    states the smooth derivative instead: d out = t1 * b**(x1 - out) + t2 * b**(x2 - out)."""
    from .._src.custom_derivatives import custom_jvp

    @custom_jvp
    def core(x1, x2):
        return _logaddexp_value(x1, x2, exp_fn, log1p_scale)

    @core.defjvp
    def core_jvp(primals, tangents):
        (x1, x2), (t1, t2) = primals, tangents
        out = core(x1, x2)

        def weight(x):  # b**(x - out); where x - out is nan (x == out == +-inf) use 1
            d = lax.sub(x, out)
            return exp_fn(_where(lax.ne(d, d), _c(d, 0), d))

        return out, lax.add(lax.mul(t1, weight(x1)), lax.mul(t2, weight(x2)))

    return core


_logaddexp_e = _make_logaddexp(lax.exp, 1)
_logaddexp_2 = _make_logaddexp(lax.exp2, math.log(2))


def logaddexp(x1, x2, /):
    """``log(exp(x1) + exp(x2))`` without overflow: the "soft maximum" of log-probabilities."""
    return _logaddexp_e(*promote_args_inexact("logaddexp", x1, x2))


def logaddexp2(x1, x2, /):
    """``log2(2**x1 + 2**x2)`` without overflow."""
    return _logaddexp_2(*promote_args_inexact("logaddexp2", x1, x2))


# ---------------------------------------------------------------------------
# Trigonometric and hyperbolic functions
# ---------------------------------------------------------------------------
sin = _unary_inexact("sin", lax.sin, "Sine (argument in radians), elementwise.")
cos = _unary_inexact("cos", lax.cos, "Cosine (argument in radians), elementwise.")
tan = _unary_inexact("tan", lax.tan, "Tangent (argument in radians), elementwise.")
arcsin = _unary_inexact("arcsin", lax.asin, "Inverse sine, elementwise (``nan`` outside [-1, 1]).")
arccos = _unary_inexact("arccos", lax.acos, "Inverse cosine, elementwise (``nan`` outside [-1, 1]).")
arctan = _unary_inexact("arctan", lax.atan, "Inverse tangent, elementwise.")
sinh = _unary_inexact("sinh", lax.sinh, "Hyperbolic sine, elementwise.")
cosh = _unary_inexact("cosh", lax.cosh, "Hyperbolic cosine, elementwise.")
tanh = _unary_inexact("tanh", lax.tanh, "Hyperbolic tangent, elementwise.")
arcsinh = _unary_inexact("arcsinh", lax.asinh, "Inverse hyperbolic sine, elementwise.")
arccosh = _unary_inexact("arccosh", lax.acosh,
                         "Inverse hyperbolic cosine, elementwise (``nan`` below 1).")
arctanh = _unary_inexact("arctanh", lax.atanh,
                         "Inverse hyperbolic tangent, elementwise (``nan`` outside [-1, 1]).")
arctan2 = _binary("arctan2", lax.atan2,
                  "The angle of the point ``(x2, x1)``: ``arctan(x1 / x2)`` in the right "
                  "quadrant, in [-pi, pi].", promote_args_inexact)

# The array-API standard's names for the same functions.
asin, acos, atan, atan2 = arcsin, arccos, arctan, arctan2
asinh, acosh, atanh = arcsinh, arccosh, arctanh


def hypot(x1, x2, /):
    """``sqrt(x1**2 + x2**2)`` without overflow or underflow in the squares."""
    x1, x2 = promote_args_inexact("hypot", x1, x2)
    _reject_kinds("hypot", x1, "c", ValueError, " hypot is defined for real numbers; for complex "
                  "z use jnp.abs(z).")
    # s * sqrt((x1/s)**2 + (x2/s)**2) equals the plain formula for any s > 0, and with
    # s = max(|x1|, |x2|) the squares cannot overflow. s is a constant to autodiff
    # (stop_gradient): then every derivative is exactly that of sqrt(x1**2 + x2**2), even
    # where |x1| == |x2| and max() itself has a kink.
    a, b = lax.abs(x1), lax.abs(x2)
    s = lax.stop_gradient(lax.max(a, b))
    s = _where(lax.eq(s, _c(s, 0)), _c(s, 1), s)
    r1, r2 = lax.div(*promote_shapes(x1, s)), lax.div(*promote_shapes(x2, s))
    out = lax.mul(*promote_shapes(s, lax.sqrt(lax.add(*promote_shapes(lax.mul(r1, r1),
                                                                       lax.mul(r2, r2))))))
    any_inf = lax.bitwise_or(*promote_shapes(isinf(a), isinf(b)))
    return _where(any_inf, _c(out, np.inf), out)


def deg2rad(x, /):
    """Degrees to radians: ``x * pi / 180``."""
    (x,) = promote_args_inexact("deg2rad", x)
    return lax.mul(x, _c(x, np.pi / 180))


def rad2deg(x, /):
    """Radians to degrees: ``x * 180 / pi``."""
    (x,) = promote_args_inexact("rad2deg", x)
    return lax.mul(x, _c(x, 180 / np.pi))


radians, degrees = deg2rad, rad2deg


def sinc(x, /):
    """Normalised sinc: ``sin(pi x) / (pi x)``, with ``sinc(0) == 1``.

    The ``where`` guards the division at 0, both in the value and in the derivative (the
    first derivative at 0 is correctly 0; JAX additionally uses a custom rule to get the
    higher derivatives at exactly 0 right, minijax does not).
    """
    (x,) = promote_args_inexact("sinc", x)
    is_zero = lax.eq(x, _c(x, 0))
    pi_x = lax.mul(_where(is_zero, _c(x, 1), x), _c(x, np.pi))
    return _where(is_zero, _c(x, 1), lax.div(lax.sin(pi_x), pi_x))


# ---------------------------------------------------------------------------
# Sign and rounding
# ---------------------------------------------------------------------------
def abs(x, /):
    """``|x|``. Unsigned integers and booleans come back unchanged; ``|complex|`` is real."""
    (x,) = promote_args("abs", x)
    return x if _kind(x) in "bu" else lax.abs(x)


absolute = abs


def fabs(x, /):
    """``|x|`` computed in floating point (integers are promoted to float; complex rejected)."""
    (x,) = promote_args_inexact("fabs", x)
    _reject_kinds("fabs", x, "c", hint=" Use jnp.abs for the magnitude of complex numbers.")
    return lax.abs(x)


def sign(x, /):
    """-1, 0 or +1 by the sign of ``x`` (``x / |x|`` for complex; ``nan`` stays ``nan``)."""
    (x,) = promote_args("sign", x)
    _reject_kinds("sign", x, "b", hint=" Booleans have no sign; cast with x.astype(int).")
    return lax.sign(x)


def signbit(x, /):
    """True where the sign bit is set: ``x < 0``, and also for ``-0.0`` and ``-nan``.

    Reads the bit itself (``lax.bitcast_convert_type`` to a same-width integer), which is
    the only way to tell ``-0.0`` from ``0.0``: they compare equal.
    """
    (x,) = promote_args("signbit", x)
    _reject_kinds("signbit", x, "c", ValueError, " Complex numbers have no single sign bit; "
                  "use jnp.signbit(x.real) or jnp.signbit(x.imag).")
    kind = _kind(x)
    if kind == "b" or kind == "u":
        return _full_like(x, False, np.bool_)
    if kind == "i":
        return lax.lt(x, _c(x, 0))
    as_int = lax.bitcast_convert_type(x, np.dtype(f"int{_dtype(x).itemsize * 8}"))
    return lax.lt(as_int, _c(as_int, 0))


def copysign(x1, x2, /):
    """``|x1|`` with the sign (bit) of ``x2``: ``copysign(1.0, -0.0) == -1.0``."""
    x1, x2 = promote_args_inexact("copysign", x1, x2)
    _reject_kinds("copysign", x1, "c")
    magnitude = lax.abs(x1)
    neg_sign, magnitude, neg_magnitude = promote_shapes(signbit(x2), magnitude, lax.neg(magnitude))
    return lax.select(neg_sign, neg_magnitude, magnitude)


def _rounding(fname, lax_fn, doc):
    def fn(x, /):
        (x,) = promote_args(fname, x)
        _reject_kinds(fname, x, "c", hint=" Round the parts: jnp.floor(z.real), jnp.floor(z.imag).")
        if not dtypes.is_float(_dtype(x)):
            return x  # integers and booleans are already whole numbers
        return lax_fn(x)
    fn.__name__ = fn.__qualname__ = fname
    fn.__doc__ = doc + "\n\nIntegers and booleans are returned unchanged (with their dtype)."
    return fn


floor = _rounding("floor", lax.floor, "The largest whole number <= ``x``, elementwise.")
ceil = _rounding("ceil", lax.ceil, "The smallest whole number >= ``x``, elementwise.")
trunc = _rounding("trunc", lax.round_toward_zero,
                  "Round toward zero (drop the fractional part), elementwise.")
fix = _rounding("fix", lax.round_toward_zero, "Round toward zero; NumPy's older name for trunc.")


def _complex_parts(fn, z):
    return lax.complex(fn(lax.real(z)), fn(lax.imag(z)))


def rint(x, /):
    """Round to the nearest whole number, halves to even (``rint(2.5) == 2.0``); floats out."""
    (x,) = promote_args_inexact("rint", x)
    if _kind(x) == "c":
        return _complex_parts(lambda v: lax.round(v, 1), x)
    return lax.round(x, 1)


def _round_int(x, decimals):
    """Round integers to a negative number of decimals, halves to even, in exact arithmetic."""
    factor = 10 ** (-decimals)
    big = np.iinfo(_dtype(x)).max
    if factor > big:
        return _full_like(x, 0)
    q = _int_floor_divide(x, _c(x, factor))
    r = lax.sub(x, lax.mul(q, _c(q, factor)))             # 0 <= r < factor
    twice = lax.mul(r, _c(r, 2)) if factor <= big // 2 else None
    if twice is None:
        return lax.mul(q, _c(q, factor))
    q_odd = lax.ne(lax.bitwise_and(q, _c(q, 1)), _c(q, 0))
    up = lax.bitwise_or(lax.gt(twice, _c(twice, factor)),
                        lax.bitwise_and(lax.eq(twice, _c(twice, factor)), q_odd))
    q = _where(up, lax.add(q, _c(q, 1)), q)
    return lax.mul(q, _c(q, factor))


def round(a, decimals=0, out=None):
    """Round to ``decimals`` decimal places, halves to even (NumPy's rule: 0.5 -> 0, 1.5 -> 2).

    ``decimals`` must be a Python int (negative rounds to tens, hundreds, ...). Integers are
    unchanged for ``decimals >= 0``. Complex numbers round their real and imaginary parts.
    """
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.round is not supported: JAX arrays "
                                  "are immutable. Use the return value instead.")
    try:
        decimals = operator.index(decimals)
    except TypeError:
        raise TypeError(f"jnp.round: decimals must be a Python int, got {decimals!r}.") from None
    (a,) = promote_args("round", a)
    if _kind(a) == "b":
        raise ValueError("jnp.round does not accept booleans (they are already whole); cast "
                         "first if you need numbers: x.astype(jnp.int32).")
    if _kind(a) in "iu":
        return a if decimals >= 0 else _round_int(a, decimals)

    def round_real(x):
        if decimals == 0:
            return lax.round(x, 1)
        if decimals > 0:
            factor = _c(x, 10.0 ** decimals)
            return lax.div(lax.round(lax.mul(x, factor), 1), factor)
        factor = _c(x, 10.0 ** -decimals)
        return lax.mul(lax.round(lax.div(x, factor), 1), factor)

    return _complex_parts(round_real, a) if _kind(a) == "c" else round_real(a)


around = round


def nextafter(x1, x2, /):
    """The next representable float after ``x1`` in the direction of ``x2``."""
    x1, x2 = promote_args_inexact("nextafter", x1, x2)
    _reject_kinds("nextafter", x1, "c")
    return lax.nextafter(x1, x2)


# ---------------------------------------------------------------------------
# Extrema and clipping
# ---------------------------------------------------------------------------
maximum = _binary("maximum", lax.max, "Elementwise maximum; ``nan`` wins (see ``fmax``).\n\n"
                  "Its derivative follows the larger input; at ties it is split 0.5 / 0.5.")
minimum = _binary("minimum", lax.min, "Elementwise minimum; ``nan`` wins (see ``fmin``).\n\n"
                  "Its derivative follows the smaller input; at ties it is split 0.5 / 0.5.")


def _nan_ignoring(fname, lax_fn, x1, x2):
    x1, x2 = promote_args(fname, x1, x2)
    out = lax_fn(x1, x2)
    if not dtypes.is_inexact(_dtype(out)):
        return out
    out = _where(lax.ne(x1, x1), x2, out)  # x1 is nan: take x2
    return _where(lax.ne(x2, x2), x1, out)  # x2 is nan: take x1 (nan only if both are)


def fmax(x1, x2, /):
    """Elementwise maximum that ignores ``nan``: ``fmax(nan, 1) == 1``."""
    return _nan_ignoring("fmax", lax.max, x1, x2)


def fmin(x1, x2, /):
    """Elementwise minimum that ignores ``nan``: ``fmin(nan, 1) == 1``."""
    return _nan_ignoring("fmin", lax.min, x1, x2)


def clip(arr=None, /, min=None, max=None, *, a=None, a_min=None, a_max=None):
    """Limit the values of ``arr`` to ``[min, max]`` (either bound may be ``None``).

    ``clip(x, lo, hi)`` is ``minimum(maximum(x, lo), hi)``, so it promotes like them
    (``clip(int_array, 0, 2.5)`` is a float array) and its derivative is 1 inside the range,
    0 outside, and 0.5 exactly on a bound. The older keywords ``a``/``a_min``/``a_max``
    still work but are deprecated (as in NumPy 2 and JAX).
    """
    for old, new, value in (("a", "arr", a), ("a_min", "min", a_min), ("a_max", "max", a_max)):
        if value is not None:
            warnings.warn(f"Passing '{old}' to jnp.clip is deprecated; use '{new}' instead.",
                          DeprecationWarning, stacklevel=2)
    arr = a if arr is None else arr
    min = a_min if min is None else min
    max = a_max if max is None else max
    if arr is None:
        raise TypeError("jnp.clip() missing its array argument: call jnp.clip(x, min, max).")
    check_arraylike("clip", *(v for v in (arr, min, max) if v is not None))
    arr = as_operand(arr)
    if min is not None:
        arr = maximum(min, arr)
    if max is not None:
        arr = minimum(max, arr)
    return arr


def heaviside(x1, x2, /):
    """Step function: 0 where ``x1 < 0``, 1 where ``x1 > 0``, and ``x2`` where ``x1 == 0``."""
    x1, x2 = promote_args_inexact("heaviside", x1, x2)
    _reject_kinds("heaviside", x1, "c")
    zero, one = _c(x1, 0), _c(x1, 1)
    return _where(lax.lt(x1, zero), zero, _where(lax.gt(x1, zero), one, x2))


# ---------------------------------------------------------------------------
# Comparisons and logic
# ---------------------------------------------------------------------------
equal = _binary("equal", lax.eq, "``x1 == x2`` elementwise, as a bool array.")
not_equal = _binary("not_equal", lax.ne, "``x1 != x2`` elementwise, as a bool array.")
less = _binary("less", lax.lt, "``x1 < x2`` elementwise, as a bool array.")
less_equal = _binary("less_equal", lax.le, "``x1 <= x2`` elementwise, as a bool array.")
greater = _binary("greater", lax.gt, "``x1 > x2`` elementwise, as a bool array.")
greater_equal = _binary("greater_equal", lax.ge, "``x1 >= x2`` elementwise, as a bool array.")


def _logical(fname, lax_fn):
    def fn(x1, x2, /):
        check_arraylike(fname, x1, x2)
        return lax_fn(*promote_shapes(_to_bool(x1), _to_bool(x2)))
    fn.__name__ = fn.__qualname__ = fname
    fn.__doc__ = (f"Elementwise logical {fname.split('_')[1].upper()}; nonzero means True. "
                  "Returns a bool array.")
    return fn


logical_and = _logical("logical_and", lax.bitwise_and)
logical_or = _logical("logical_or", lax.bitwise_or)
logical_xor = _logical("logical_xor", lax.bitwise_xor)


def logical_not(x, /):
    """Elementwise logical NOT; nonzero means True. Returns a bool array."""
    check_arraylike("logical_not", x)
    return lax.bitwise_not(_to_bool(x))


def _bitwise(fname, lax_fn):
    def fn(x1, x2, /):
        x1, x2 = promote_args(fname, x1, x2)
        _reject_kinds(fname, x1, "fc", hint=_INT_ONLY)
        return lax_fn(x1, x2)
    fn.__name__ = fn.__qualname__ = fname
    fn.__doc__ = (f"Elementwise bitwise {fname.split('_')[1].upper()} of integers "
                  "(logical for booleans).")
    return fn


bitwise_and = _bitwise("bitwise_and", lax.bitwise_and)
bitwise_or = _bitwise("bitwise_or", lax.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", lax.bitwise_xor)


def bitwise_not(x, /):
    """``~x``: flip every bit of an integer (logical NOT for booleans)."""
    (x,) = promote_args("bitwise_not", x)
    _reject_kinds("bitwise_not", x, "fc", hint=_INT_ONLY)
    return lax.bitwise_not(x)


invert = bitwise_invert = bitwise_not


def left_shift(x1, x2, /):
    """``x1 << x2``; shifting by the bit width or more gives 0."""
    x1, x2 = promote_args_numeric("left_shift", x1, x2)
    _reject_kinds("left_shift", x1, "fc", hint=_INT_ONLY)
    return lax.shift_left(x1, x2)


def right_shift(x1, x2, /):
    """``x1 >> x2``: arithmetic (sign-filling) for signed integers, logical for unsigned."""
    x1, x2 = promote_args_numeric("right_shift", x1, x2)
    _reject_kinds("right_shift", x1, "fc", hint=_INT_ONLY)
    if _kind(x1) == "u":
        return lax.shift_right_logical(x1, x2)
    return lax.shift_right_arithmetic(x1, x2)


bitwise_left_shift, bitwise_right_shift = left_shift, right_shift


def _float_test(fname, float_fn, default):
    def fn(x, /):
        check_arraylike(fname, x)
        x = as_operand(x)
        if not dtypes.is_inexact(_dtype(x)):
            return _full_like(x, default, np.bool_)
        return float_fn(x)
    fn.__name__ = fn.__qualname__ = fname
    return fn


def _isinf(x):
    return lax.eq(lax.abs(x), _c(lax.abs(x), np.inf))


def _isfinite(x):
    if _kind(x) == "c":
        return lax.bitwise_and(lax.is_finite(lax.real(x)), lax.is_finite(lax.imag(x)))
    return lax.is_finite(x)


def _no_complex(fname, fn):
    def checked(x):
        _reject_kinds(fname, x, "c", ValueError, " Test the parts: x.real and x.imag.")
        return fn(x)
    return checked


isnan = _float_test("isnan", lambda x: lax.ne(x, x), False)
isnan.__doc__ = "True where ``x`` is nan (``nan != nan`` is the classic test). Always False for integers."
isinf = _float_test("isinf", _isinf, False)
isinf.__doc__ = "True where ``x`` is +inf or -inf. Always False for integers."
isposinf = _float_test("isposinf", _no_complex("isposinf", lambda x: lax.eq(x, _c(x, np.inf))), False)
isposinf.__doc__ = "True where ``x`` is +inf."
isneginf = _float_test("isneginf", _no_complex("isneginf", lambda x: lax.eq(x, _c(x, -np.inf))), False)
isneginf.__doc__ = "True where ``x`` is -inf."
isfinite = _float_test("isfinite", _isfinite, True)
isfinite.__doc__ = "True where ``x`` is neither inf nor nan. Always True for integers."


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True where ``|a - b| <= atol + rtol * |b|`` (NumPy's test, not symmetric in a and b).

    Infinities are close only to an infinity of the same sign; nan is close to nothing
    unless ``equal_nan=True``. Integer inputs are compared exactly.
    """
    a, b = promote_args("isclose", a, b)
    if not dtypes.is_inexact(_dtype(a)):
        return lax.eq(a, b)
    tol_dtype = lax._real_dtype(_dtype(a))
    rtol, atol = (lax.convert_element_type(as_operand(t), tol_dtype) for t in (rtol, atol))
    diff = lax.abs(lax.sub(a, b))
    tol = lax.add(*promote_shapes(atol, lax.mul(*promote_shapes(rtol, lax.abs(b)))))
    out = lax.le(*promote_shapes(diff, tol))
    a_inf, b_inf = promote_shapes(isinf(a), isinf(b))
    both_inf_equal = lax.bitwise_and(lax.bitwise_and(a_inf, b_inf), lax.eq(a, b))
    out, any_inf = promote_shapes(out, lax.bitwise_or(a_inf, b_inf))
    out = lax.bitwise_or(lax.bitwise_and(out, lax.bitwise_not(any_inf)), both_inf_equal)
    if equal_nan:
        out = lax.bitwise_or(out, lax.bitwise_and(*promote_shapes(isnan(a), isnan(b))))
    return out


def _all(x):
    return reduce_and(x, tuple(range(get_aval(x).ndim)))


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True if every element of ``a`` is close to ``b`` (see ``isclose``); a 0-d bool Array."""
    return _all(isclose(a, b, rtol, atol, equal_nan))


def array_equal(a1, a2, equal_nan=False):
    """True if ``a1`` and ``a2`` have the same shape and the same elements (0-d bool Array).

    Unlike most jnp functions this one accepts lists (as in JAX): it asks a yes/no question.
    """
    from ._creation import asarray
    try:
        a1, a2 = asarray(a1), asarray(a2)
    except (TypeError, ValueError):
        return Array(np.asarray(False))
    if get_aval(a1).shape != get_aval(a2).shape:
        return Array(np.asarray(False))
    eq = equal(a1, a2)
    if equal_nan:
        eq = lax.bitwise_or(eq, lax.bitwise_and(*promote_shapes(isnan(a1), isnan(a2))))
    return _all(eq)


def array_equiv(a1, a2):
    """True if ``a1`` and ``a2`` broadcast to one shape and are equal there (0-d bool Array)."""
    from ._creation import asarray
    a1, a2 = asarray(a1), asarray(a2)
    try:
        broadcast_shapes(get_aval(a1).shape, get_aval(a2).shape)
    except ValueError:
        return Array(np.asarray(False))
    return _all(equal(a1, a2))


# ---------------------------------------------------------------------------
# Selection
# ---------------------------------------------------------------------------
def where(condition, x=None, y=None, /, *, size=None, fill_value=None):
    """``x`` where ``condition`` is true, else ``y`` (elementwise, broadcasting all three).

    Both branches are computed; ``where`` only picks. So ``where(x > 0, log(x), 0.)`` still
    evaluates ``log`` of non-positive numbers; to keep their nan out of gradients, make the
    input safe first: ``where(x > 0, log(where(x > 0, x, 1.)), 0.)``.

    With only ``condition``, this is ``nonzero(condition)`` (the indices of true elements).
    """
    if x is None and y is None:
        from ._indexing import nonzero
        return nonzero(condition, size=size, fill_value=fill_value)
    if x is None or y is None:
        raise ValueError("Either both or neither of the x and y arguments should be provided "
                         "to jax.numpy.where, got "
                         f"{'x' if x is not None else 'y'} only.")
    if size is not None or fill_value is not None:
        raise ValueError("size and fill_value are only used by the one-argument form "
                         "jnp.where(condition) (which returns indices).")
    check_arraylike("where", condition, x, y)
    x, y = promote_dtypes(x, y)
    condition, x, y = promote_shapes(_to_bool(condition), x, y)
    return lax.select(condition, x, y)


def select(condlist, choicelist, default=0):
    """``choicelist[i]`` where ``condlist[i]`` is the first true condition, else ``default``."""
    if len(condlist) != len(choicelist):
        raise ValueError(f"condlist must have length equal to choicelist ({len(condlist)} vs "
                         f"{len(choicelist)}).")
    if len(condlist) == 0:
        raise ValueError("condlist must be non-empty.")
    out = default
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        out = where(cond, choice, out)
    return out


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """Replace nan by ``nan``, +inf by ``posinf`` and -inf by ``neginf``.

    The infinities default to the largest finite numbers of ``x``'s dtype. Integers pass
    through unchanged; complex numbers are treated part by part.
    """
    del copy
    check_arraylike("nan_to_num", x)
    x = as_operand(x)
    if not dtypes.is_inexact(_dtype(x)):
        return x
    if _kind(x) == "c":
        return _complex_parts(lambda v: nan_to_num(v, nan=nan, posinf=posinf, neginf=neginf), x)
    info = np.finfo(_dtype(x))
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    out = lax.select(lax.ne(x, x), _full_like(x, nan), x)
    out = lax.select(lax.eq(x, _c(x, np.inf)), _full_like(x, posinf), out)
    return lax.select(lax.eq(x, _c(x, -np.inf)), _full_like(x, neginf), out)


# ---------------------------------------------------------------------------
# Complex numbers
# ---------------------------------------------------------------------------
def conjugate(x, /):
    """Complex conjugate (``a - bj`` for ``a + bj``); real inputs come back unchanged."""
    check_arraylike("conjugate", x)
    x = as_operand(x)
    return lax.conj(x) if _kind(x) == "c" else x


conj = conjugate


def real(val, /):
    """The real part; real inputs come back unchanged."""
    check_arraylike("real", val)
    val = as_operand(val)
    return lax.real(val) if _kind(val) == "c" else val


def imag(val, /):
    """The imaginary part; zeros (of the same dtype) for real inputs."""
    check_arraylike("imag", val)
    val = as_operand(val)
    return lax.imag(val) if _kind(val) == "c" else _full_like(val, 0)


def iscomplexobj(x):
    """True if ``x`` has a complex dtype (regardless of its values)."""
    if x is None:
        return False
    dtype = getattr(x, "dtype", None)
    return np.dtype(dtype if dtype is not None else np.asarray(x).dtype).kind == "c"


def isrealobj(x):
    """True if ``x`` does not have a complex dtype."""
    return not iscomplexobj(x)


# ---------------------------------------------------------------------------
# Dtypes
# ---------------------------------------------------------------------------
def astype(x, dtype, /, *, copy=False, device=None):
    """``x`` converted to ``dtype`` (``float64`` means float32 unless x64 is enabled).

    Like NumPy: floats to integers truncate toward zero, anything to bool tests ``!= 0``,
    and complex to real keeps the real part (with a ``ComplexWarning``).
    """
    del copy, device
    check_arraylike("astype", x)
    x = as_operand(x)
    new = requested_dtype(dtype)
    if _kind(x) == "c" and new.kind != "c":
        warnings.warn("Casting complex values to real discards the imaginary part",
                      np.exceptions.ComplexWarning, stacklevel=2)
        x = lax.real(x)
    return lax.convert_element_type(x, new)


def _dtype_arg(x):
    """A dtype, a Python type or an array-like: its (dtype, weak_type) for promotion."""
    if x is None:
        raise TypeError("result_type got None; pass arrays, scalars or dtypes.")
    if isinstance(x, (Array, Tracer)):
        return x.dtype, x.weak_type
    if _is_weak_python_type(x):
        return dtypes.dtype_of_scalar(x(0)), True
    if x is bool:
        return dtypes.bool_, False
    if dtypes.is_python_scalar(x):
        return dtypes.dtype_of_scalar(x), not isinstance(x, bool)
    if isinstance(x, (np.ndarray, np.generic)):
        return dtypes.canonicalize(x.dtype), False
    if isinstance(x, (list, tuple)):
        raise TypeError(f"result_type does not accept a {type(x).__name__}; pass arrays, "
                        "scalars or dtypes.")
    return dtypes.canonicalize(np.dtype(x)), False  # as JAX: int64 means int32 without x64


def _is_weak_python_type(t):
    # identity, not ==: np.dtype('int64') == int is True, but a dtype object is strong.
    return t is int or t is float or t is complex


def result_type(*args, return_weak_type_flag=False):
    """The dtype that combining ``args`` (arrays, scalars, dtypes) produces, by JAX's lattice.

    Python scalars and the types ``int``/``float``/``complex`` are *weak*: they adapt to the
    other operands. The result is canonical (float64 -> float32 unless x64 is enabled).
    """
    if not args:
        raise ValueError("at least one array or dtype is required")
    dtype, weak = dtypes.result_type(*map(_dtype_arg, args))
    return (dtype, weak) if return_weak_type_flag else dtype


def promote_types(a, b):
    """The smallest dtype both ``a`` and ``b`` convert to safely, by JAX's lattice.

    Unlike ``result_type`` this is not narrowed to 32 bits: ``promote_types(float32,
    float64)`` is float64 with or without x64. The Python types ``int``/``float``/``complex``
    count as weak, so ``promote_types(int, int8)`` is int8 (and a weak result is reported as
    its 64-bit type: ``promote_types(int, float)`` is float64). One exception, as in JAX:
    without x64, two types narrower than 64 bits never promote to a 64-bit integer
    (``promote_types(uint32, int8)`` is int32, not int64).
    """
    nodes = []
    for t in (a, b):
        if _is_weak_python_type(t):
            nodes.append(dtypes._node(dtypes.dtype_of_scalar(t(0)), True))
        else:
            nodes.append(dtypes._node(np.dtype(bool if t is bool else t), False))
    node = dtypes._least_upper_bound(nodes)
    weak_to_dtype = {"i*": dtypes.int64, "f*": dtypes.float64, "c*": dtypes.complex128}
    out = weak_to_dtype[node] if isinstance(node, str) else np.dtype(node)
    if (not isinstance(node, str) and out == dtypes.int64 and not dtypes.x64_enabled()
            and not any(isinstance(n, np.dtype) and n.itemsize == 8 for n in nodes)):
        out = dtypes.int32  # only uint32 with a signed type gets here: JAX's x32 lattice
    return out


def can_cast(from_, to, casting="safe"):
    """NumPy's ``can_cast`` on dtypes (arrays are taken by their dtype)."""
    if isinstance(from_, (Array, Tracer)):
        from_ = from_.dtype
    return bool(np.can_cast(from_, to, casting=casting))


def isscalar(element):
    """True for Python/NumPy scalars and for 0-d arrays (JAX counts those as scalars too)."""
    if isinstance(element, (Array, Tracer, np.ndarray)):
        return element.ndim == 0
    return builtins.bool(np.isscalar(element))


def issubdtype(arg1, arg2):
    """NumPy's ``issubdtype``: is ``arg1`` a kind of ``arg2`` (``jnp.floating``, ...)?"""
    return np.issubdtype(arg1, arg2)
