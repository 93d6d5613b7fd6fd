"""Elementwise primitives: arithmetic, transcendental functions, comparisons.

Each primitive is defined once, with all of its rules beside it:

* ``impl``            the NumPy function that computes it eagerly;
* ``abstract_eval``   output shape and dtype (shared helpers below);
* ``jvp``             forward-mode derivative, written with lax functions so that it
                      can itself be differentiated (grad of grad) and batched;
* ``transpose``       only for primitives that are linear in some input
                      (add, sub, neg, mul, div, convert_element_type, select_n);
* ``batch``           elementwise ops batch trivially (see ``batching.py``).

Shapes: binary primitives take operands of the *same* shape, except that a
rank-0 operand (a scalar) broadcasts. ``minijax.numpy`` inserts explicit
``broadcast_in_dim`` for everything else, exactly like JAX's ``lax`` layer.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from ..core import Primitive, ShapedArray, Zero, get_aval, is_undefined_primal, is_zero

FLOAT = "fc"            # floating or complex
NUMBER = "iufc"         # any number
INT_OR_BOOL = "biu"
ANY = "biufc"

_KIND_NAMES = {"b": "bool", "i": "signed integer", "u": "unsigned integer",
               "f": "floating", "c": "complex floating"}


def _check_kinds(name, dtype, kinds):
    if np.dtype(dtype).kind not in kinds:
        accepted = ", ".join(_KIND_NAMES[k] for k in kinds)
        raise TypeError(f"{name} does not accept dtype {np.dtype(dtype).name}. "
                        f"Accepted dtypes are: {accepted}.")


def _quiet(fn):
    """Run a NumPy ufunc without its divide-by-zero / invalid / overflow warnings (JAX is silent).

    ``np.errstate`` costs more than a small addition, so when NumPy exposes the context variable
    behind it we set that directly (the same mechanism, without the Python wrapper).
    """
    if _IGNORE_EXTOBJ is None:
        def impl(*args, **params):
            with np.errstate(all="ignore"):
                return fn(*args, **params)
    else:
        var, ignore = _EXTOBJ_VAR, _IGNORE_EXTOBJ

        def impl(*args, **params):
            token = var.set(ignore)
            try:
                return fn(*args, **params)
            finally:
                var.reset(token)
    impl.__name__ = getattr(fn, "__name__", "impl")
    return impl


def _fast_errstate():
    try:
        from numpy._core import _ufunc_config as config
        return config._extobj_contextvar, config._make_extobj(all="ignore")
    except (ImportError, AttributeError, TypeError):  # another NumPy: use np.errstate
        return None, None


_EXTOBJ_VAR, _IGNORE_EXTOBJ = _fast_errstate()


# ---------------------------------------------------------------------------
# Shape/dtype rules shared by whole families
# ---------------------------------------------------------------------------
def broadcast_shapes_scalar(name, *avals):
    """Operands must share one shape, except rank-0 operands, which broadcast."""
    shapes = {a.shape for a in avals if a.shape != ()}
    if len(shapes) > 1:
        raise TypeError(f"{name} got incompatible shapes for broadcasting: "
                        f"{', '.join(str(a.shape) for a in avals)}.")
    return shapes.pop() if shapes else ()


def same_dtypes(name, avals):
    kinds = {a.dtype for a in avals}
    if len(kinds) > 1:
        raise TypeError(
            f"lax.{name} requires arguments to have the same dtypes, got "
            f"{', '.join(a.dtype.name for a in avals)}. (Tip: jnp.{name} is a similar function "
            "that does automatic type promotion on inputs.)")
    return avals[0].dtype


def _unary_abstract(name, kinds, out_dtype=None):
    def rule(x: ShapedArray, **_):
        _check_kinds(name, x.dtype, kinds)
        dtype = x.dtype if out_dtype is None else out_dtype
        return ShapedArray(x.shape, dtype, x.weak_type and out_dtype is None)
    return rule


def _binary_abstract(name, kinds, out_dtype=None):
    def rule(x: ShapedArray, y: ShapedArray, **_):
        dtype = same_dtypes(name, [x, y])
        _check_kinds(name, dtype, kinds)
        shape = broadcast_shapes_scalar(name, x, y)
        weak = x.weak_type and y.weak_type and out_dtype is None
        return ShapedArray(shape, dtype if out_dtype is None else out_dtype, weak)
    return rule


def unary(name, numpy_fn, kinds=FLOAT, out_dtype=None, quiet=True):
    prim = Primitive(name)
    prim.def_impl(_quiet(numpy_fn) if quiet else numpy_fn)
    prim.def_abstract_eval(_unary_abstract(name, kinds, out_dtype))
    return prim


def binary(name, numpy_fn, kinds=NUMBER, out_dtype=None, quiet=True):
    prim = Primitive(name)
    prim.def_impl(_quiet(numpy_fn) if quiet else numpy_fn)
    prim.def_abstract_eval(_binary_abstract(name, kinds, out_dtype))
    return prim


# ---------------------------------------------------------------------------
# Rule helpers
# ---------------------------------------------------------------------------
def zeros_like_aval(aval):
    """A zero tangent (or cotangent) for a value of ``aval``."""
    return full(aval.shape, 0, aval.dtype)


def full(shape, fill, dtype):
    from .shape import broadcast_in_dim
    scalar = convert_element_type(np.asarray(fill, dtype), dtype)
    return broadcast_in_dim(scalar, tuple(shape), ()) if shape else scalar


def unbroadcast(ct, aval):
    """Sum a cotangent down to a rank-0 operand that was broadcast by a binary primitive."""
    if aval.shape == () and np.shape(ct) != ():
        from .reductions import reduce_sum
        ct = reduce_sum(ct, tuple(range(len(np.shape(ct)))))
    return ct


def defjvp_unary(prim, derivative):
    """JVP of ``y = prim(x)`` is ``t * derivative(x, y)``: state the derivative only."""
    def jvp(primals, tangents, **params):
        (x,), (t,) = primals, tangents
        y = prim.bind(x, **params)
        return y, mul(t, derivative(x, y))
    prim.def_jvp(jvp)


def defjvp_zero(prim, reason="it is piecewise constant"):
    """Derivative is zero almost everywhere (floor, sign, comparisons, ...)."""
    def jvp(primals, tangents, **params):
        y = prim.bind(*primals, **params)
        return y, zeros_like_aval(get_aval(y))
    prim.def_jvp(jvp)
    prim.zero_derivative_reason = reason


def _const(x, value):
    """``value`` as a scalar of ``x``'s dtype (keeps float32 programs float32)."""
    return convert_element_type(np.asarray(value, get_aval(x).dtype), get_aval(x).dtype)


# ---------------------------------------------------------------------------
# Dtype conversion
# ---------------------------------------------------------------------------
convert_element_type_p = Primitive("convert_element_type")


@convert_element_type_p.def_impl
def _convert_impl(x, *, new_dtype, weak_type):
    with np.errstate(all="ignore"):
        return np.asarray(x).astype(new_dtype)


@convert_element_type_p.def_abstract_eval
def _convert_abstract(x, *, new_dtype, weak_type):
    return ShapedArray(x.shape, new_dtype, weak_type)


@convert_element_type_p.def_jvp
def _convert_jvp(primals, tangents, *, new_dtype, weak_type):
    (x,), (t,) = primals, tangents
    y = convert_element_type_p.bind(x, new_dtype=new_dtype, weak_type=weak_type)
    if dtypes.is_inexact(new_dtype) and dtypes.is_inexact(get_aval(x).dtype):
        return y, convert_element_type_p.bind(t, new_dtype=new_dtype, weak_type=weak_type)
    return y, zeros_like_aval(get_aval(y))


@convert_element_type_p.def_transpose
def _convert_transpose(ct, x, *, new_dtype, weak_type):
    old = x.aval
    return [convert_element_type_p.bind(ct, new_dtype=old.dtype, weak_type=old.weak_type)]


def convert_element_type(x, new_dtype, weak_type=False):
    """Cast ``x`` to ``new_dtype`` (canonicalized: float64 -> float32 unless x64 is on)."""
    new_dtype = dtypes.canonicalize(new_dtype)
    if dtypes.is_python_scalar(x) or isinstance(x, (np.ndarray, np.generic)):
        # A constant: convert it now, so a traced program shows it as a literal (2.0:f32[]).
        from ..array import Array
        with np.errstate(all="ignore"):
            return Array(np.asarray(x).astype(new_dtype), weak_type)
    aval = get_aval(x)
    if aval.dtype == new_dtype and aval.weak_type == weak_type:
        return x
    return convert_element_type_p.bind(x, new_dtype=new_dtype, weak_type=bool(weak_type))


# ---------------------------------------------------------------------------
# Linear arithmetic
# ---------------------------------------------------------------------------
neg_p = unary("neg", np.negative, NUMBER)
neg_p.def_jvp(lambda p, t: (neg(p[0]), neg(t[0])))
neg_p.def_transpose(lambda ct, x: [neg(ct)])

add_p = binary("add", np.add, NUMBER)
def _sum_of_terms(out, terms):
    """Add the non-zero tangent terms (``Zero`` terms drop out), shaped like ``out``."""
    terms = [t for t in terms if not is_zero(t)]
    if not terms:
        return Zero(get_aval(out))
    total = terms[0]
    for t in terms[1:]:
        total = add(total, t)
    return _broadcast_like(total, out)


def _add_jvp(primals, tangents):
    out = add(*primals)
    return out, _sum_of_terms(out, tangents)


def _sub_jvp(primals, tangents):
    out = sub(*primals)
    tx, ty = tangents
    return out, _sum_of_terms(out, [tx, ty if is_zero(ty) else neg(ty)])


add_p.def_jvp(_add_jvp)
add_p.jvp_accepts_zeros = True
add_p.def_transpose(lambda ct, x, y: [unbroadcast(ct, x.aval) if is_undefined_primal(x) else None,
                                      unbroadcast(ct, y.aval) if is_undefined_primal(y) else None])

sub_p = binary("sub", np.subtract, NUMBER)
sub_p.def_jvp(_sub_jvp)
sub_p.jvp_accepts_zeros = True
sub_p.def_transpose(lambda ct, x, y: [
    unbroadcast(ct, x.aval) if is_undefined_primal(x) else None,
    unbroadcast(neg(ct), y.aval) if is_undefined_primal(y) else None])

mul_p = binary("mul", np.multiply, NUMBER)


@mul_p.def_jvp
def _mul_jvp(primals, tangents):
    (x, y), (tx, ty) = primals, tangents
    out = mul(x, y)
    return out, _sum_of_terms(out, [tx if is_zero(tx) else mul(tx, y),
                                    ty if is_zero(ty) else mul(x, ty)])


mul_p.jvp_accepts_zeros = True


@mul_p.def_transpose
def _mul_transpose(ct, x, y):
    if is_undefined_primal(x) and is_undefined_primal(y):
        raise TypeError("internal error: mul is not linear in both of its operands at once")
    if is_undefined_primal(x):
        return [unbroadcast(mul(ct, y), x.aval), None]
    return [None, unbroadcast(mul(x, ct), y.aval)]


def _div_impl(x, y):
    if np.result_type(x, y).kind in "iu":  # C-style: round toward zero
        with np.errstate(all="ignore"):
            q = np.floor_divide(x, np.where(y == 0, 1, y))
            r = x - q * y
            fix = (r != 0) & ((x < 0) != (y < 0))  # floor went one below the truncation
        return np.where(y == 0, -1, q + fix).astype(np.result_type(x, y))
    return np.true_divide(x, y)


div_p = binary("div", _div_impl, NUMBER)


@div_p.def_jvp
def _div_jvp(primals, tangents):
    (x, y), (tx, ty) = primals, tangents
    out = div(x, y)
    return out, sub(div(tx, y), mul(ty, div(out, y)))


@div_p.def_transpose
def _div_transpose(ct, x, y):
    if is_undefined_primal(y):
        raise TypeError("internal error: div is linear only in its numerator")
    return [unbroadcast(div(ct, y), x.aval), None]


# ---------------------------------------------------------------------------
# Nonlinear arithmetic
# ---------------------------------------------------------------------------
rem_p = binary("rem", np.fmod, NUMBER)
rem_p.def_jvp(lambda p, t: (rem(*p), sub(t[0], mul(t[1], round_toward_zero(div(*p))))))


def round_toward_zero(x):
    return select_n(lt(x, _const(x, 0)), floor(x), ceil(x)) if dtypes.is_float(get_aval(x).dtype) else x


def _pow_impl(x, y):
    return np.power(x, y)


pow_p = binary("pow", _pow_impl, FLOAT)


@pow_p.def_jvp
def _pow_jvp(primals, tangents):
    (x, y), (tx, ty) = primals, tangents
    z = pow(x, y)
    # d/dx x**y = y * x**(y-1), taken as 0 where y == 0 (x**0 is constant, even at x = 0, where
    # 0 * 0**-1 would give NaN). d/dy x**y = log(x) * x**y. Our tangents are never symbolic
    # zeros, so a constant exponent still multiplies this term by 0: use log|x| (the real part
    # of the complex log) and log(1) at x == 0, so that 0 * log(0) or 0 * log(-1) cannot turn
    # the derivative of, say, (-1.5) ** 2.0 into NaN.
    y_zero = eq(y, _const(y, 0))
    dx = select_n(y_zero, mul(y, pow(x, sub(y, _const(y, 1)))), zeros_like_aval(get_aval(z)))
    safe_x = select_n(eq(x, _const(x, 0)), x, _const(x, 1))
    if dtypes.is_float(get_aval(x).dtype):
        safe_x = abs(safe_x)
    dy = mul(log(safe_x), z)
    return z, add(mul(tx, dx), mul(ty, dy))


integer_pow_p = Primitive("integer_pow")
integer_pow_p.def_impl(_quiet(lambda x, *, y: np.power(x, y) if y >= 0 else np.power(x.astype(x.dtype), float(y)).astype(x.dtype)))
integer_pow_p.def_abstract_eval(lambda x, *, y: _unary_abstract("integer_pow", NUMBER)(x))


@integer_pow_p.def_jvp
def _integer_pow_jvp(primals, tangents, *, y):
    (x,), (t,) = primals, tangents
    out = integer_pow(x, y)
    if y == 0:
        return out, zeros_like_aval(get_aval(out))
    slope = _const(x, y) if y == 1 else mul(_const(x, y), integer_pow(x, y - 1))
    return out, mul(t, slope)


def _minmax_jvp(op, wins):
    """max/min: the tangent follows the winning operand; ties split it evenly (as JAX)."""
    def jvp(primals, tangents):
        (x, y), (tx, ty) = primals, tangents
        out = op(x, y)
        tx_b, ty_b = _broadcast_like(tx, out), _broadcast_like(ty, out)
        tie = mul(_const(out, 0.5), add(tx_b, ty_b))
        return out, select_n(wins(x, y), select_n(eq(x, y), ty_b, tie), tx_b)
    return jvp


def _broadcast_like(x, like):
    from .shape import broadcast_in_dim
    shape = get_aval(like).shape
    return broadcast_in_dim(x, shape, ()) if get_aval(x).shape != shape else x


max_p = binary("max", np.maximum, ANY)
max_p.def_jvp(_minmax_jvp(lambda x, y: max(x, y), lambda x, y: gt(x, y)))
min_p = binary("min", np.minimum, ANY)
min_p.def_jvp(_minmax_jvp(lambda x, y: min(x, y), lambda x, y: lt(x, y)))

atan2_p = binary("atan2", np.arctan2, FLOAT)


@atan2_p.def_jvp
def _atan2_jvp(primals, tangents):
    (x, y), (tx, ty) = primals, tangents
    denom = add(mul(x, x), mul(y, y))
    return atan2(x, y), div(sub(mul(tx, y), mul(ty, x)), denom)


nextafter_p = binary("nextafter", np.nextafter, "f")
defjvp_zero(nextafter_p)

# ---------------------------------------------------------------------------
# Transcendental functions
# ---------------------------------------------------------------------------
exp_p = unary("exp", np.exp)
defjvp_unary(exp_p, lambda x, y: y)
exp2_p = unary("exp2", np.exp2)
defjvp_unary(exp2_p, lambda x, y: mul(y, _const(y, math.log(2.0))))
log_p = unary("log", np.log)
defjvp_unary(log_p, lambda x, y: div(_const(x, 1), x))
log1p_p = unary("log1p", np.log1p)
defjvp_unary(log1p_p, lambda x, y: div(_const(x, 1), add(x, _const(x, 1))))
expm1_p = unary("expm1", np.expm1)
defjvp_unary(expm1_p, lambda x, y: add(y, _const(y, 1)))

sin_p = unary("sin", np.sin)
defjvp_unary(sin_p, lambda x, y: cos(x))
cos_p = unary("cos", np.cos)
defjvp_unary(cos_p, lambda x, y: neg(sin(x)))
tan_p = unary("tan", np.tan)
defjvp_unary(tan_p, lambda x, y: add(_const(y, 1), mul(y, y)))
asin_p = unary("asin", np.arcsin)
defjvp_unary(asin_p, lambda x, y: rsqrt(sub(_const(x, 1), mul(x, x))))
acos_p = unary("acos", np.arccos)
defjvp_unary(acos_p, lambda x, y: neg(rsqrt(sub(_const(x, 1), mul(x, x)))))
atan_p = unary("atan", np.arctan)
defjvp_unary(atan_p, lambda x, y: div(_const(x, 1), add(_const(x, 1), mul(x, x))))

sinh_p = unary("sinh", np.sinh)
defjvp_unary(sinh_p, lambda x, y: cosh(x))
cosh_p = unary("cosh", np.cosh)
defjvp_unary(cosh_p, lambda x, y: sinh(x))
tanh_p = unary("tanh", np.tanh)
defjvp_unary(tanh_p, lambda x, y: sub(_const(y, 1), mul(y, y)))
asinh_p = unary("asinh", np.arcsinh)
defjvp_unary(asinh_p, lambda x, y: rsqrt(add(mul(x, x), _const(x, 1))))
acosh_p = unary("acosh", np.arccosh)
defjvp_unary(acosh_p, lambda x, y: rsqrt(mul(sub(x, _const(x, 1)), add(x, _const(x, 1)))))
atanh_p = unary("atanh", np.arctanh)
defjvp_unary(atanh_p, lambda x, y: div(_const(x, 1), sub(_const(x, 1), mul(x, x))))

sqrt_p = unary("sqrt", np.sqrt)
defjvp_unary(sqrt_p, lambda x, y: div(_const(y, 0.5), y))
rsqrt_p = unary("rsqrt", lambda x: np.reciprocal(np.sqrt(x)))
defjvp_unary(rsqrt_p, lambda x, y: mul(_const(y, -0.5), div(y, x)))
cbrt_p = unary("cbrt", np.cbrt, "f")
defjvp_unary(cbrt_p, lambda x, y: div(_const(y, 1 / 3), mul(y, y)))


def _logistic_impl(x):
    # 1 / (1 + exp(-x)) overflows exp for very negative x; this form does not.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)


logistic_p = unary("logistic", _logistic_impl)
defjvp_unary(logistic_p, lambda x, y: mul(y, sub(_const(y, 1), y)))

_erf_scalar = np.frompyfunc(math.erf, 1, 1)
_erfc_scalar = np.frompyfunc(math.erfc, 1, 1)
_lgamma_scalar = np.frompyfunc(math.lgamma, 1, 1)
erf_p = unary("erf", lambda x: np.asarray(_erf_scalar(x)).astype(x.dtype), "f")
defjvp_unary(erf_p, lambda x, y: mul(_const(x, 2 / math.sqrt(math.pi)), exp(neg(mul(x, x)))))
erfc_p = unary("erfc", lambda x: np.asarray(_erfc_scalar(x)).astype(x.dtype), "f")
defjvp_unary(erfc_p, lambda x, y: mul(_const(x, -2 / math.sqrt(math.pi)), exp(neg(mul(x, x)))))
lgamma_p = unary("lgamma", lambda x: np.asarray(_lgamma_scalar(x)).astype(x.dtype), "f")


def _erf_inv_impl(x):
    """Inverse error function, by Newton's method on erf (accurate to float64 rounding)."""
    x64 = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        # Start from a good closed-form approximation (Winitzki), then polish with Newton.
        a = 0.147
        ln = np.log1p(-x64 * x64)
        first = 2 / (np.pi * a) + ln / 2
        y = np.sign(x64) * np.sqrt(np.sqrt(first * first - ln / a) - first)
        for _ in range(4):
            err = np.asarray(_erf_scalar(y), np.float64) - x64
            y = y - err / (2 / np.sqrt(np.pi) * np.exp(-y * y))
        y = np.where(x64 == 1, np.inf, np.where(x64 == -1, -np.inf, y))
        y = np.where(np.abs(x64) > 1, np.nan, y)
    return y.astype(np.asarray(x).dtype)


erf_inv_p = unary("erf_inv", _erf_inv_impl, "f")
defjvp_unary(erf_inv_p, lambda x, y: mul(_const(y, math.sqrt(math.pi) / 2), exp(mul(y, y))))

# ---------------------------------------------------------------------------
# Piecewise-constant and sign-like functions
# ---------------------------------------------------------------------------
sign_p = unary("sign", np.sign, NUMBER)
defjvp_zero(sign_p)
floor_p = unary("floor", np.floor, "f")
defjvp_zero(floor_p)
ceil_p = unary("ceil", np.ceil, "f")
defjvp_zero(ceil_p)
round_p = Primitive("round")
round_p.def_impl(lambda x, *, rounding_method: np.round(x) if rounding_method == 1 else
                 (np.sign(x) * np.floor(np.abs(x) + 0.5)).astype(x.dtype))
round_p.def_abstract_eval(lambda x, *, rounding_method: _unary_abstract("round", "f")(x))
defjvp_zero(round_p)
is_finite_p = unary("is_finite", np.isfinite, "f", out_dtype=dtypes.bool_)
defjvp_zero(is_finite_p)

abs_p = unary("abs", np.abs, NUMBER)


@abs_p.def_abstract_eval
def _abs_abstract(x):
    _check_kinds("abs", x.dtype, NUMBER)
    # |z| of a complex number is real: complex64 -> float32, complex128 -> float64.
    return ShapedArray(x.shape, _real_dtype(x.dtype), x.weak_type)


@abs_p.def_jvp
def _abs_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    y = abs(x)
    if get_aval(x).dtype.kind == "c":  # d|z| = Re(conj(z) dz) / |z|
        return y, div(real(mul(conj(x), t)), y)
    return y, mul(t, sign(x))


def _real_dtype(dtype):
    dtype = np.dtype(dtype)
    return np.dtype(np.float32 if dtype == np.complex64 else np.float64) if dtype.kind == "c" else dtype


square_p = unary("square", np.square, NUMBER)
defjvp_unary(square_p, lambda x, y: mul(_const(x, 2), x))

# ---------------------------------------------------------------------------
# Complex numbers: real, imag, conj are linear; complex builds x + iy
# ---------------------------------------------------------------------------
real_p = Primitive("real")
real_p.def_impl(np.real)
real_p.def_abstract_eval(lambda x: (_check_kinds("real", x.dtype, "c"),
                                    ShapedArray(x.shape, _real_dtype(x.dtype), x.weak_type))[1])
real_p.def_jvp(lambda p, t: (real(p[0]), real(t[0])))
real_p.def_transpose(lambda ct, x: [complex(ct, zeros_like_aval(get_aval(ct)))])

imag_p = Primitive("imag")
imag_p.def_impl(np.imag)
imag_p.def_abstract_eval(lambda x: (_check_kinds("imag", x.dtype, "c"),
                                    ShapedArray(x.shape, _real_dtype(x.dtype), x.weak_type))[1])
imag_p.def_jvp(lambda p, t: (imag(p[0]), imag(t[0])))
# JAX's convention for complex cotangents: ct(imag) maps to complex(0, -ct).
imag_p.def_transpose(lambda ct, x: [complex(zeros_like_aval(get_aval(ct)), neg(ct))])

conj_p = unary("conj", np.conj, "c")
conj_p.def_jvp(lambda p, t: (conj(p[0]), conj(t[0])))
conj_p.def_transpose(lambda ct, x: [conj(ct)])

complex_p = Primitive("complex")
complex_p.def_impl(lambda x, y: np.asarray(x + 1j * y,
                                           np.complex64 if x.dtype == np.float32 else np.complex128))


@complex_p.def_abstract_eval
def _complex_abstract(x, y):
    dtype = same_dtypes("complex", [x, y])
    _check_kinds("complex", dtype, "f")
    if dtype == np.float16:
        raise TypeError("complex does not accept float16 parts: there is no complex32. "
                        "Convert the parts to float32 first.")
    out = np.complex64 if dtype == np.float32 else np.complex128
    return ShapedArray(broadcast_shapes_scalar("complex", x, y), out, x.weak_type and y.weak_type)


complex_p.def_jvp(lambda p, t: (complex(*p), complex(*t)))
complex_p.def_transpose(lambda ct, x, y: [
    unbroadcast(real(ct), x.aval) if is_undefined_primal(x) else None,
    unbroadcast(neg(imag(ct)), y.aval) if is_undefined_primal(y) else None])

# bitcast_convert_type reinterprets the bits: float32 -> int32 exposes the sign bit. Between widths,
# one element becomes several along a new trailing axis (or a trailing axis merges into one).
bitcast_convert_type_p = Primitive("bitcast_convert_type")


@bitcast_convert_type_p.def_impl
def _bitcast_impl(x, *, new_dtype):
    x = np.asarray(x)
    if not x.flags.c_contiguous:     # (np.ascontiguousarray would turn a scalar into shape (1,))
        x = x.copy()
    old_size, new_size = x.dtype.itemsize, new_dtype.itemsize
    if old_size == new_size:
        return x.view(new_dtype)
    if old_size > new_size:   # (NumPy cannot re-view a 0-d array with a narrower dtype)
        return x.reshape(x.shape or (1,)).view(new_dtype).reshape(x.shape + (old_size // new_size,))
    return x.view(new_dtype).reshape(x.shape[:-1])


@bitcast_convert_type_p.def_abstract_eval
def _bitcast_abstract(x, *, new_dtype):
    old_size, new_size = x.dtype.itemsize, new_dtype.itemsize
    if x.dtype == np.bool_ or new_dtype == np.bool_:
        raise TypeError("bitcast_convert_type does not convert to or from bool.")
    if old_size == new_size:
        shape = x.shape
    elif old_size > new_size:
        shape = x.shape + (old_size // new_size,)
    else:
        ratio = new_size // old_size
        if not x.shape or x.shape[-1] != ratio:
            raise TypeError(f"bitcast_convert_type from {x.dtype.name} to {new_dtype.name} needs "
                            f"a last axis of size {ratio} (the number of {x.dtype.name} elements "
                            f"that make one {new_dtype.name}), got shape {x.shape}.")
        shape = x.shape[:-1]
    return ShapedArray(shape, new_dtype, False)


defjvp_zero(bitcast_convert_type_p, "it reinterprets bits")

# ---------------------------------------------------------------------------
# Logic and bits (not differentiable: they map to integers or booleans)
# ---------------------------------------------------------------------------
not_p = unary("not", lambda x: np.logical_not(x) if x.dtype == bool else np.invert(x), INT_OR_BOOL)
and_p = binary("and", lambda x, y: np.logical_and(x, y) if x.dtype == bool else np.bitwise_and(x, y), INT_OR_BOOL)
or_p = binary("or", lambda x, y: np.logical_or(x, y) if x.dtype == bool else np.bitwise_or(x, y), INT_OR_BOOL)
xor_p = binary("xor", lambda x, y: np.logical_xor(x, y) if x.dtype == bool else np.bitwise_xor(x, y), INT_OR_BOOL)


def _shift_impl(op, logical=False):
    """Shifts by >= the bit width give 0 (or -1 for arithmetic right shifts of negatives)."""
    def impl(x, y):
        bits = x.dtype.itemsize * 8
        too_far = (y < 0) | (y >= bits)
        safe = np.where(too_far, 0, y)
        if logical:  # shift the bit pattern as unsigned, then reinterpret
            unsigned = np.dtype(f"uint{bits}")
            out = op(x.astype(unsigned), safe.astype(unsigned)).astype(x.dtype)
        else:
            out = op(x, safe.astype(x.dtype))
        overflow = np.where(x < 0, -1, 0) if (op is np.right_shift and not logical) else 0
        return np.where(too_far, overflow, out).astype(x.dtype)
    return impl


shift_left_p = binary("shift_left", _shift_impl(np.left_shift), "iu")
shift_right_logical_p = binary("shift_right_logical", _shift_impl(np.right_shift, logical=True), "iu")
shift_right_arithmetic_p = binary("shift_right_arithmetic", _shift_impl(np.right_shift), "iu")
population_count_p = unary("population_count", lambda x: np.bitwise_count(x).astype(x.dtype), "iu")

for _p in (not_p, and_p, or_p, xor_p, shift_left_p, shift_right_logical_p,
           shift_right_arithmetic_p, population_count_p):
    defjvp_zero(_p, "it operates on integer bits")


def _comparison(name, fn):
    prim = binary(name, fn, ANY, out_dtype=dtypes.bool_)
    defjvp_zero(prim, "comparisons return booleans")
    return prim


eq_p = _comparison("eq", np.equal)
ne_p = _comparison("ne", np.not_equal)
lt_p = _comparison("lt", np.less)
le_p = _comparison("le", np.less_equal)
gt_p = _comparison("gt", np.greater)
ge_p = _comparison("ge", np.greater_equal)

# ---------------------------------------------------------------------------
# Selection: select_n(which, *cases) picks cases[which] elementwise
# ---------------------------------------------------------------------------
select_n_p = Primitive("select_n")


@select_n_p.def_impl
def _select_n_impl(which, *cases):
    if which.dtype == np.bool_:
        return np.where(which, cases[1], cases[0]) if len(cases) == 2 else np.where(which, cases[1], cases[0])
    return np.choose(which.astype(np.int64), np.broadcast_arrays(*cases))


@select_n_p.def_abstract_eval
def _select_n_abstract(which, *cases):
    if not cases:
        raise TypeError("select_n needs at least one case")
    dtype = same_dtypes("select_n", list(cases))
    if which.dtype != np.bool_ and which.dtype.kind not in "iu":
        raise TypeError(f"select_n predicate must be bool or integer, got {which.dtype.name}")
    if which.dtype == np.bool_ and len(cases) > 2:
        raise TypeError("select_n with a boolean predicate takes at most two cases")
    shape = broadcast_shapes_scalar("select_n", which, *cases)
    return ShapedArray(shape, dtype, all(c.weak_type for c in cases))


@select_n_p.def_jvp
def _select_n_jvp(primals, tangents):
    which, *cases = primals
    _, *case_tangents = tangents
    return select_n(which, *cases), select_n(which, *case_tangents)


@select_n_p.def_transpose
def _select_n_transpose(ct, which, *cases):
    if is_undefined_primal(which):
        raise TypeError("select_n is not differentiable with respect to its predicate")
    zeros = zeros_like_aval(get_aval(ct))
    cts = [None]
    for i, case in enumerate(cases):
        if is_undefined_primal(case):
            picked = select_n(which, *[ct if j == i else zeros for j in range(len(cases))])
            cts.append(unbroadcast(picked, case.aval))
        else:
            cts.append(None)
    return cts


# ---------------------------------------------------------------------------
# The lax-level functions: bind the primitive after converting Python scalars
# ---------------------------------------------------------------------------
def _lift_scalars(*args):
    """Give Python scalars the dtype of the typed operand next to them (weakly typed)."""
    if not any(type(a) in (bool, int, float, complex) for a in args):
        return args   # the common case: nothing to convert
    typed = [get_aval(a) for a in args if not dtypes.is_python_scalar(a)]
    if not typed:
        return args
    dtype = typed[0].dtype
    return [convert_element_type(np.asarray(a, dtype), dtype, weak_type=True)
            if dtypes.is_python_scalar(a) else a for a in args]


def _make_unary(prim):
    def fn(x):
        return prim.bind(x)
    fn.__name__ = prim.name
    fn.__doc__ = f"Elementwise ``{prim.name}`` (the ``{prim.name}`` primitive)."
    return fn


_PY_SCALARS = (bool, int, float, complex)


def _make_binary(prim):
    def fn(x, y):
        if type(x) in _PY_SCALARS or type(y) in _PY_SCALARS:
            x, y = _lift_scalars(x, y)
        return prim.bind(x, y)
    fn.__name__ = prim.name
    fn.__doc__ = f"Elementwise ``{prim.name}`` (the ``{prim.name}`` primitive)."
    return fn


neg, sign, floor, ceil, is_finite, abs, square = map(
    _make_unary, (neg_p, sign_p, floor_p, ceil_p, is_finite_p, abs_p, square_p))
exp, exp2, log, log1p, expm1 = map(_make_unary, (exp_p, exp2_p, log_p, log1p_p, expm1_p))
sin, cos, tan, asin, acos, atan = map(_make_unary, (sin_p, cos_p, tan_p, asin_p, acos_p, atan_p))
sinh, cosh, tanh, asinh, acosh, atanh = map(
    _make_unary, (sinh_p, cosh_p, tanh_p, asinh_p, acosh_p, atanh_p))
sqrt, rsqrt, cbrt, logistic = map(_make_unary, (sqrt_p, rsqrt_p, cbrt_p, logistic_p))
erf, erfc, erf_inv, lgamma = map(_make_unary, (erf_p, erfc_p, erf_inv_p, lgamma_p))
bitwise_not, population_count = _make_unary(not_p), _make_unary(population_count_p)
add, sub, mul, div, rem, pow, max, min, atan2, nextafter = map(
    _make_binary, (add_p, sub_p, mul_p, div_p, rem_p, pow_p, max_p, min_p, atan2_p, nextafter_p))
bitwise_and, bitwise_or, bitwise_xor = map(_make_binary, (and_p, or_p, xor_p))
shift_left, shift_right_logical, shift_right_arithmetic = map(
    _make_binary, (shift_left_p, shift_right_logical_p, shift_right_arithmetic_p))
eq, ne, lt, le, gt, ge = map(_make_binary, (eq_p, ne_p, lt_p, le_p, gt_p, ge_p))


real, imag, conj = map(_make_unary, (real_p, imag_p, conj_p))
complex = _make_binary(complex_p)


def bitcast_convert_type(x, new_dtype):
    """Reinterpret the bits of ``x`` as ``new_dtype`` (lax.bitcast_convert_type)."""
    new_dtype = np.dtype(new_dtype)
    if get_aval(x).dtype == new_dtype:
        return x
    return bitcast_convert_type_p.bind(x, new_dtype=new_dtype)


def integer_pow(x, y: int):
    """``x ** y`` for a static Python integer ``y`` (a single multiply chain, no log/exp)."""
    return integer_pow_p.bind(x, y=int(y))


def round(x, rounding_method=0):
    """Round half away from zero (method 0, as lax) or half to even (method 1, as NumPy)."""
    return round_p.bind(x, rounding_method=int(rounding_method))


def select_n(which, *cases):
    return select_n_p.bind(which, *_lift_scalars(*cases))


def select(pred, on_true, on_false):
    """``on_true`` where ``pred`` else ``on_false`` (lax.select)."""
    return select_n(pred, on_false, on_true)


# ---------------------------------------------------------------------------
# stop_gradient: the identity whose derivative is zero
# ---------------------------------------------------------------------------
stop_gradient_p = Primitive("stop_gradient")
stop_gradient_p.def_impl(lambda x: x)
stop_gradient_p.def_abstract_eval(lambda x: x)
defjvp_zero(stop_gradient_p, "stop_gradient blocks derivatives by definition")


def stop_gradient(x):
    """``x`` itself, but differentiation treats it as a constant."""
    return stop_gradient_p.bind(x)


# ---------------------------------------------------------------------------
# Batching: every primitive in this module is elementwise, so one rule fits all
# ---------------------------------------------------------------------------
from .batch_util import elementwise_batch_rule  # noqa: E402

for _prim in [v for v in list(globals().values()) if isinstance(v, Primitive)]:
    elementwise_batch_rule(_prim)
