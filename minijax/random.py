"""``minijax.random``: explicit-key random numbers, bit-for-bit the same as ``jax.random``.

NumPy keeps a hidden global state that every ``np.random.normal()`` call
advances. That is convenient, but a function that draws random numbers is then
not a *function* of its inputs -- which breaks ``jit``, ``vmap`` and
reproducibility. JAX (and minijax) instead pass the state explicitly, as a
**key**::

    key = random.PRNGKey(0)            # uint32[2]
    key, subkey = random.split(key)    # never use a key twice: split it
    x = random.normal(subkey, (3,))

Same key, same numbers -- on every call, in every order, inside ``vmap`` or
``jit``. Every sampler here is a few lines of lax on top of random bits; the
bits come from one primitive, ``threefry2x32`` (see ``_src/prng.py`` and
``_src/primitives/random_bits.py``).

Bit-for-bit, really
    Keys, bits, integers and uniforms are integer arithmetic, so they match JAX
    exactly. Samplers that use ``log``/``erf``/``erf_inv`` (normal, gumbel,
    exponential, ...) match JAX's float32 numbers exactly too, because minijax
    spells out XLA's own float32 polynomials for those functions, including its
    fused multiply-adds (see ``_log_f32`` below). Differences from JAX:
    float64 ``normal`` agrees to ~1e-13, not to the bit (XLA's float64 erf_inv
    polynomial is not reproduced), and only the threefry PRNG exists.
"""
from __future__ import annotations

import math
import operator

import numpy as np

from ._src import dtypes
from ._src.array import Array
from ._src.core import Tracer, get_aval, concrete_or_error
from ._src import prng
from ._src.prng import KeyArray, KeyReuseWarning, reset_key_reuse_checker  # noqa: F401
from ._src.primitives import elementwise as lax
from ._src.primitives.elementwise import convert_element_type
from ._src.primitives.random_bits import bitcast_convert_type, fma
from ._src.primitives.reductions import argmax, reduce_sum
from ._src.primitives.shape import broadcast_in_dim, broadcast_to_rank_aligned, reshape
from ._src.primitives.slicing import slice_in_dim

__all__ = [
    "PRNGKey", "key", "key_data", "wrap_key_data", "split", "fold_in", "bits", "uniform",
    "normal", "truncated_normal", "randint", "bernoulli", "categorical", "choice",
    "permutation", "gumbel", "exponential", "laplace", "logistic", "multivariate_normal",
    "rademacher", "KeyArray", "KeyReuseWarning",
]


# ---------------------------------------------------------------------------
# Argument checking
# ---------------------------------------------------------------------------
def _raw_key(key, name):
    """``(raw uint32[..., 2] key data, was_typed)`` for a raw or typed key."""
    if isinstance(key, KeyArray):
        return key._base, True
    if not isinstance(key, (Array, Tracer)):
        if isinstance(key, (list, tuple)):
            raise TypeError(f"random.{name}: a key must be an array, not a {type(key).__name__}; "
                            f"make one with random.PRNGKey(seed).")
        key = Array(np.asarray(key))
    aval = get_aval(key)
    if aval.dtype != np.uint32:
        raise TypeError(f"JAX encountered invalid PRNG key data: expected key_data.dtype = uint32; "
                        f"got dtype={aval.dtype.name}. Make keys with random.PRNGKey(seed) or "
                        f"random.key(seed) rather than by hand.")
    if not aval.shape or aval.shape[-1] != 2:
        raise TypeError(f"JAX encountered invalid PRNG key data: expected key_data.shape to end "
                        f"with (2,); got shape={aval.shape}.")
    return key, False


def _single_key(key, name):
    raw, _ = _raw_key(key, name)
    shape = get_aval(raw).shape
    if shape != (2,):
        raise ValueError(f"{name} accepts a single key, but was given a key array of shape "
                         f"{shape[:-1] if isinstance(key, KeyArray) else shape} != (). "
                         f"Use jax.vmap for batching.")
    prng.note_key_use(raw, name)
    return raw


def _wrap_like(raw, typed):
    return KeyArray(raw) if typed else raw


def _shape(shape, name):
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        return tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"random.{name}: shape must be a sequence of integers, e.g. (3,) or "
                        f"(2, 3); got {shape!r}.") from None


def _check_shape(name, shape, *param_shapes):
    """The sample shape must be the broadcast of itself with the parameters' shapes (as JAX)."""
    if param_shapes:
        try:
            combined = np.broadcast_shapes(shape, *param_shapes)
        except ValueError:
            combined = None
        if combined != tuple(shape):
            raise ValueError(f"{name} parameter shapes must be broadcast-compatible with shape "
                             f"argument, and the result of broadcasting the shapes must equal "
                             f"the shape argument, but got result {combined} for shape argument "
                             f"{shape}.")


def _float_dtype(dtype, name, allow_complex=False):
    dtype = dtypes.canonicalize(dtypes.default_float() if dtype is None else dtype)
    ok = dtype.kind == "f" or (allow_complex and dtype.kind == "c")
    if not ok:
        what = "a float or complex" if allow_complex else "a float"
        raise ValueError(f"dtype argument to `{name}` must be {what} dtype, got {dtype.name}")
    return dtype


def _operand(x, dtype=None):
    """A Python scalar / NumPy value / Array as an operand, optionally converted to ``dtype``."""
    if not isinstance(x, (Array, Tracer)):
        x = np.asarray(x)
        x = Array(x.astype(dtypes.canonicalize(x.dtype)))
    return x if dtype is None else convert_element_type(x, dtype)


def _const(value, dtype):
    return Array(np.asarray(value, dtype))


# ---------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------
def _check_impl(impl):
    if impl not in (None, "threefry2x32", "threefry", "fry"):
        raise ValueError(f"minijax.random only implements the threefry2x32 PRNG, got impl={impl!r}.")


def PRNGKey(seed, *, impl=None):
    """A raw key: ``uint32[2]`` holding ``[seed >> 32, seed & 0xFFFFFFFF]``.

    With 64-bit mode off (the default) the seed is truncated to 32 bits, as in JAX.
    """
    _check_impl(impl)
    return prng.seed_key(seed)


def key(seed, *, impl=None):
    """A typed key: a scalar of dtype ``key<fry>`` (arithmetic on it raises TypeError)."""
    _check_impl(impl)
    return KeyArray(prng.seed_key(seed))


def key_data(keys):
    """The ``uint32[..., 2]`` words behind typed keys (raw keys are returned unchanged)."""
    raw, _ = _raw_key(keys, "key_data")
    return raw


def wrap_key_data(key_bits_array, *, impl=None):
    """Typed keys from ``uint32[..., 2]`` key words (the inverse of ``key_data``)."""
    _check_impl(impl)
    raw, typed = _raw_key(key_bits_array, "wrap_key_data")
    if typed:
        raise TypeError("wrap_key_data expects uint32 key data, got typed keys (already wrapped).")
    return KeyArray(raw)


def split(key, num=2):
    """``num`` new independent keys (``num`` may be a shape tuple) from one key.

    Never use ``key`` again after splitting it: ``key, subkey = random.split(key)``.
    """
    raw, typed = _raw_key(key, "split")
    if get_aval(raw).shape != (2,):
        raise ValueError(f"split accepts a single key, but was given a key array of shape "
                         f"{get_aval(raw).shape[:-1] if typed else get_aval(raw).shape} != (). "
                         f"Use jax.vmap for batching.")
    prng.note_key_use(raw, "split")
    shape = _shape(num, "split")
    return _wrap_like(prng.split(raw, shape), typed)


def fold_in(key, data):
    """A new key from ``key`` and an integer ``data`` (e.g. a step number or a device id)."""
    raw, typed = _raw_key(key, "fold_in")
    if get_aval(raw).shape != (2,):
        raise ValueError("fold_in accepts a single key; use jax.vmap for batching.")
    prng.note_key_use(raw, "fold_in")
    return _wrap_like(prng.fold_in(raw, data), typed)


# ---------------------------------------------------------------------------
# Bits and uniform floats
# ---------------------------------------------------------------------------
def bits(key, shape=(), dtype=None):
    """Uniformly random unsigned integers of ``dtype`` (uint8/16/32, uint64 under x64)."""
    raw = _single_key(key, "bits")
    dtype = dtypes.canonicalize(dtypes.default_uint() if dtype is None else dtype)
    if dtype.kind != "u":
        raise ValueError(f"dtype argument to `bits` must be an unsigned int dtype, got {dtype.name}")
    return prng.random_bits(raw, dtype.itemsize * 8, _shape(shape, "bits"))


def _uniform(raw, shape, dtype, minval, maxval):
    """Floats in [minval, maxval): random mantissa bits under the exponent of 1.0, minus 1."""
    finfo = np.finfo(dtype)
    nbits, nmant = finfo.bits, finfo.nmant
    uint = prng.UINT_DTYPES[nbits]
    minval = broadcast_to_rank_aligned(_operand(minval, dtype), shape) if shape else _operand(minval, dtype)
    maxval = broadcast_to_rank_aligned(_operand(maxval, dtype), shape) if shape else _operand(maxval, dtype)
    rbits = prng.random_bits(raw, nbits, shape)
    # [1, 2): exponent bits of 1.0, mantissa = the top `nmant` random bits.
    one_bits = np.array(1.0, dtype).view(uint)
    mantissa = lax.shift_right_logical(rbits, _const(nbits - nmant, uint))
    floats = lax.sub(bitcast_convert_type(lax.bitwise_or(mantissa, _const(one_bits, uint)), dtype),
                     _const(1.0, dtype))
    scaled = _fma(floats, lax.sub(maxval, minval), minval)
    return lax.max(minval, scaled)


def _fma(a, b, c):
    """``a * b + c`` rounded once, as XLA's CPU backend computes it (see ``random_bits.fma``)."""
    shape = get_aval(a).shape
    b = b if get_aval(b).shape in ((), shape) else broadcast_to_rank_aligned(b, shape)
    c = c if get_aval(c).shape in ((), shape) else broadcast_to_rank_aligned(c, shape)
    return fma(a, b, c)


def uniform(key, shape=(), dtype=None, minval=0.0, maxval=1.0):
    """Uniform floats in ``[minval, maxval)``."""
    raw = _single_key(key, "uniform")
    dtype = _float_dtype(dtype, "uniform")
    shape = _shape(shape, "uniform")
    _check_shape("uniform", shape, np.shape(minval), np.shape(maxval))
    return _uniform(raw, shape, dtype, minval, maxval)


# ---------------------------------------------------------------------------
# Normal and friends: inverse-CDF sampling via erf_inv
# ---------------------------------------------------------------------------
# ---------------------------------------------------------------------------
# float32 log, log1p and erf_inv computed the way XLA's CPU backend computes them
# ---------------------------------------------------------------------------
# Bit-identical samples need bit-identical math. XLA does not call the C library's logf: it
# inlines a Cephes-style polynomial (the one in Eigen), and its compiler fuses each multiply
# followed by an add into one fused multiply-add (FMA, rounded once). NumPy's log differs from
# it in the last bit for about 0.1% of inputs, which would make 0.1% of normal samples differ.
# So for float32 we spell XLA's algorithms out in lax operations. Other dtypes use lax.log etc.
_F32 = np.dtype(np.float32)


def _f32(bits_or_value, as_bits=False):
    if as_bits:
        return Array(np.array(bits_or_value, np.uint32).view(np.float32))
    return Array(np.asarray(bits_or_value, np.float32))


def _log_f32(x):
    """Natural log as XLA computes it: split x = m * 2**e with m in [sqrt(1/2), sqrt(2)),
    then log(m) from a degree-9 polynomial and e * log(2) in two parts (for accuracy)."""
    min_normal = _f32(0x00800000, True)
    clamped = lax.select(lax.ge(min_normal, x), _bcast(min_normal, x), x)
    b = bitcast_convert_type(clamped, np.uint32)
    exponent = convert_element_type(
        lax.sub(convert_element_type(lax.shift_right_logical(b, _const(23, np.uint32)), np.int32),
                _const(127, np.int32)), _F32)
    e = lax.add(exponent, _f32(1.0))
    m = bitcast_convert_type(lax.bitwise_or(lax.bitwise_and(b, _const(0x807FFFFF, np.uint32)),
                                            _const(0x3F000000, np.uint32)), _F32)   # in [0.5, 1)
    small = lax.lt(m, _f32(0x3F3504F3, True))                                        # sqrt(1/2)
    zero = _bcast(_f32(0.0), x)
    e = lax.sub(e, lax.select(small, _bcast(_f32(1.0), x), zero))
    m = lax.add(lax.sub(m, _f32(1.0)), lax.select(small, m, zero))
    m2 = lax.mul(m, m)
    m3 = lax.mul(m2, m)
    c = [_f32(h, True) for h in (0x3D9021BB, 0xBDEBD1B8, 0x3DEF251A, 0xBDFE5D4F, 0x3E11E9BF,
                                  0xBE2AAE50, 0x3E4CCEAC, 0xBE7FFFFC, 0x3EAAAAAA)]
    y = _fma(_fma(m, c[0], c[1]), m, c[2])
    y1 = _fma(_fma(m, c[3], c[4]), m, c[5])
    y2 = _fma(_fma(m, c[6], c[7]), m, c[8])
    y = _fma(_fma(y, m3, y1), m3, y2)
    y = _fma(y, m3, lax.mul(e, _f32(0xB95E8083, True)))          # e * (log(2) - 0.693359375)
    r = lax.add(_fma(m2, _f32(-0.5), m), y)
    r = _fma(e, _f32(0x3F318000, True), r)                         # e * 0.693359375
    nan, inf = _bcast(_f32(np.nan), x), _bcast(_f32(np.inf), x)
    r = lax.select(lax.ne(x, x), nan, r)
    r = lax.select(lax.lt(x, _f32(0.0)), nan, r)
    r = lax.select(lax.eq(x, _f32(0.0)), lax.neg(inf), r)
    return lax.select(lax.eq(x, _f32(np.inf)), inf, r)


_LOG1P_NUM = (4.5270000862445199635215E-5, 4.9854102823193375972212E-1,
              6.5787325942061044846969E0, 2.9911919328553073277375E1,
              6.0949667980987787057556E1, 5.7112963590585538103336E1, 2.0039553499201281259648E1)
_LOG1P_DEN = (1.0, 1.5062909083469192043167E1, 8.3047565967967209469434E1,
              2.2176239823732856465394E2, 3.0909872225312059774938E2,
              2.1642788614495947685003E2, 6.0118660497603843919306E1)


def _log1p_f32(x):
    """log(1 + x) as XLA computes it: a rational approximation for |x| < sqrt(2) - 1,
    ``log(1 + x)`` otherwise."""
    large = _log_f32(lax.add(x, _f32(1.0)))
    x2 = lax.mul(x, x)
    zero = _bcast(_f32(0.0), x)
    num, den = zero, zero
    for c in _LOG1P_NUM:
        num = _fma(num, x, _f32(c))
    for c in _LOG1P_DEN:
        den = _fma(den, x, _f32(c))
    ratio = lax.div(num, den)
    s = lax.add(x, _fma(x2, _f32(-0.5), lax.mul(lax.mul(x, x2), ratio)))
    return lax.select(lax.lt(lax.abs(x), _f32(0x3ED413CD, True)), s, large)


def _log(x):
    return _log_f32(x) if get_aval(x).dtype == _F32 else lax.log(x)


def _log1p(x):
    return _log1p_f32(x) if get_aval(x).dtype == _F32 else lax.log1p(x)


def _bcast(scalar, like):
    shape = get_aval(like).shape
    return broadcast_in_dim(scalar, shape, ()) if shape else scalar


_ERF_NUM = (0x39702D51, 0x3B5F5DA2, 0x3D50B6EB, 0x3E3DA740, 0x3F906EBA)
_ERF_DEN = (0xB3FD3906, 0x37C588DF, 0x3A856D28, 0x3C6687D4, 0x3DE34C21, 0x3EFEB44A, 0x3F800000)


def _erf(x):
    """erf as XLA computes it for float32: ``x * P(x^2) / Q(x^2)``, and +-1 beyond |x| ~ 3.83."""
    if get_aval(x).dtype != _F32:
        return lax.erf(x)
    x2 = lax.mul(x, x)

    def horner(coefs):
        acc = _fma(x2, _f32(coefs[0], True), _f32(coefs[1], True))
        for c in coefs[2:]:
            acc = _fma(x2, acc, _f32(c, True))
        return acc

    ratio = lax.div(lax.mul(x, horner(_ERF_NUM)), horner(_ERF_DEN))
    one = lax.select(lax.lt(x, _f32(0.0)), _bcast(_f32(-1.0), x), _bcast(_f32(1.0), x))
    return lax.select(lax.ge(lax.abs(x), _f32(0x407547CB, True)), one, ratio)


# XLA's float32 erf_inv (M. Giles, "Approximating the erfinv function"): a degree-8 polynomial
# in w = -log(1 - x^2) (shifted), one coefficient set for w < 5 and one for the tails.
_ERFINV_SMALL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                 -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_ERFINV_LARGE = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                 -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _erf_inv(x):
    """Inverse error function computed the way XLA computes it, so samples match JAX's.

    float32 (and float16, via float32) uses XLA's polynomial; float64 uses ``lax.erf_inv``
    (accurate, but not XLA's float64 polynomial: may differ from JAX in the last bits).
    """
    dtype = get_aval(x).dtype
    if dtype == np.float16:
        return convert_element_type(_erf_inv(convert_element_type(x, np.float32)), dtype)
    if dtype != _F32:
        return lax.erf_inv(x)
    w = lax.neg(_log1p_f32(lax.mul(x, lax.neg(x))))
    small = lax.lt(w, _f32(5.0))
    w = lax.select(small, lax.add(w, _f32(-2.5)), lax.add(lax.sqrt(w), _f32(-3.0)))

    def coef(i):
        return lax.select(small, _bcast(_f32(_ERFINV_SMALL[i]), x),
                          _bcast(_f32(_ERFINV_LARGE[i]), x))

    p = coef(0)
    for i in range(1, len(_ERFINV_SMALL)):
        p = _fma(p, w, coef(i))
    at_edge = lax.eq(lax.abs(x), _f32(1.0))
    return lax.select(at_edge, lax.mul(x, _f32(np.inf)), lax.mul(p, x))


def _normal_real(raw, shape, dtype):
    lo = np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype), dtype=dtype)
    u = _uniform(raw, shape, dtype, lo, np.array(1.0, dtype))
    return lax.mul(_const(np.sqrt(2), dtype), _erf_inv(u))


def normal(key, shape=(), dtype=None):
    """Standard normal samples (mean 0, variance 1): ``sqrt(2) * erf_inv(uniform(-1, 1))``."""
    raw = _single_key(key, "normal")
    dtype = _float_dtype(dtype, "normal", allow_complex=True)
    shape = _shape(shape, "normal")
    if dtype.kind == "c":
        real = np.finfo(dtype).dtype
        k1, k2 = (reshape(slice_in_dim(prng.split(raw, (2,)), i, i + 1), (2,)) for i in (0, 1))
        re, im = _normal_real(k1, shape, real), _normal_real(k2, shape, real)
        scale = _const(1 / np.sqrt(2), real)
        from ._src.primitives.elementwise import convert_element_type as cvt
        return lax.add(cvt(lax.mul(re, scale), dtype),
                       lax.mul(cvt(lax.mul(im, scale), dtype), _const(1j, dtype)))
    return _normal_real(raw, shape, dtype)


def truncated_normal(key, lower, upper, shape=None, dtype=None):
    """Standard normal samples conditioned on ``lower < x < upper``."""
    raw = _single_key(key, "truncated_normal")
    dtype = _float_dtype(dtype, "truncated_normal")
    if shape is None:
        shape = np.broadcast_shapes(np.shape(lower), np.shape(upper))
    else:
        shape = _shape(shape, "truncated_normal")
        _check_shape("truncated_normal", shape, np.shape(lower), np.shape(upper))
    sqrt2 = _const(np.sqrt(2), dtype)
    lower, upper = _operand(lower, dtype), _operand(upper, dtype)
    # XLA rewrites x / sqrt(2) as x * (1 / sqrt(2)); so do we, to get the same bits.
    inv_sqrt2 = lax.div(_const(1.0, dtype), sqrt2)
    a = _erf(lax.mul(lower, inv_sqrt2))
    b = _erf(lax.mul(upper, inv_sqrt2))
    u = _uniform(raw, shape, dtype, a, b)
    out = lax.mul(sqrt2, _erf_inv(u))
    # Keep samples strictly inside (lower, upper) despite rounding.
    lo = lax.nextafter(lax.stop_gradient(lower), _const(np.inf, dtype))
    hi = lax.nextafter(lax.stop_gradient(upper), _const(-np.inf, dtype))
    lo = broadcast_to_rank_aligned(lo, shape) if shape else lo
    hi = broadcast_to_rank_aligned(hi, shape) if shape else hi
    return lax.min(lax.max(out, lo), hi)


def exponential(key, shape=(), dtype=None):
    """Exponential(1) samples: ``-log(1 - u)``."""
    raw = _single_key(key, "exponential")
    dtype = _float_dtype(dtype, "exponential")
    u = _uniform(raw, _shape(shape, "exponential"), dtype, 0.0, 1.0)
    return lax.neg(_log1p(lax.neg(u)))


def laplace(key, shape=(), dtype=None):
    """Laplace(0, 1) samples: ``sign(u) * log(1 - |u|)`` for u uniform in (-1, 1)."""
    raw = _single_key(key, "laplace")
    dtype = _float_dtype(dtype, "laplace")
    lo = -1.0 + float(np.finfo(dtype).epsneg)
    u = _uniform(raw, _shape(shape, "laplace"), dtype, lo, 1.0)
    return lax.mul(lax.sign(u), _log1p(lax.neg(lax.abs(u))))


def logistic(key, shape=(), dtype=None):
    """Standard logistic samples: ``log(u) - log(1 - u)``."""
    raw = _single_key(key, "logistic")
    dtype = _float_dtype(dtype, "logistic")
    u = _uniform(raw, _shape(shape, "logistic"), dtype, float(np.finfo(dtype).tiny), 1.0)
    return lax.sub(_log(u), _log1p(lax.neg(u)))


def _gumbel(raw, shape, dtype):
    u = _uniform(raw, shape, dtype, float(np.finfo(dtype).tiny), 1.0)
    return lax.neg(_log(lax.neg(_log(u))))


def gumbel(key, shape=(), dtype=None, mode=None):
    """Standard Gumbel samples: ``-log(-log(u))``."""
    raw = _single_key(key, "gumbel")
    dtype = _float_dtype(dtype, "gumbel")
    if mode not in (None, "low"):
        raise ValueError(f"minijax.random.gumbel supports mode=None/'low' only, got {mode!r}.")
    return _gumbel(raw, _shape(shape, "gumbel"), dtype)


# ---------------------------------------------------------------------------
# Discrete distributions
# ---------------------------------------------------------------------------
def _clip_to(x, dtype):
    """Convert integer ``x`` to integer ``dtype``, clipping out-of-range values first."""
    src = get_aval(x).dtype
    info = np.iinfo(dtype)
    if src.kind in "iu":
        lo = max(int(np.iinfo(src).min), int(info.min))
        hi = min(int(np.iinfo(src).max), int(info.max))
        x = lax.max(x, _const(lo, src))
        x = lax.min(x, _const(hi, src))
    return convert_element_type(x, dtype)


def randint(key, shape, minval, maxval, dtype=None):
    """Integers uniformly in ``[minval, maxval)``.

    Like JAX: two draws of ``nbits`` random bits are combined modulo the span, which
    makes the bias of the modulo negligible for spans that are not powers of two.
    """
    raw = _single_key(key, "randint")
    dtype = dtypes.canonicalize(dtypes.default_int() if dtype is None else dtype)
    if dtype.kind not in "iu":
        raise TypeError(f"randint only accepts integer dtypes, got {dtype.name}")
    shape = _shape(shape, "randint")
    _check_shape("randint", shape, np.shape(minval), np.shape(maxval))
    info = np.iinfo(dtype)
    if info.bits < 32:
        # As JAX: sample 8- and 16-bit integers at 32 bits (less modulo bias), then cast.
        i32 = np.dtype(np.int32)
        minval = lax.min(lax.max(_operand(minval, i32), _const(int(info.min), i32)),
                         _const(int(info.max), i32))
        maxval = lax.min(lax.max(_operand(maxval, i32), _const(int(info.min), i32)),
                         _const(int(info.max) + 1, i32))
        return convert_element_type(_randint(raw, shape, minval, maxval, i32), dtype)
    return _randint(raw, shape, minval, maxval, dtype)


def _randint(raw, shape, minval, maxval, dtype):
    minval, maxval = _operand(minval), _operand(maxval)
    if get_aval(minval).dtype.kind not in "iu":
        minval = convert_element_type(minval, dtypes.default_int())
    if get_aval(maxval).dtype.kind not in "iu":
        maxval = convert_element_type(maxval, dtypes.default_int())
    # maxval beyond dtype's range (randint(key, s, 0, 256, uint8)): the span needs one more value.
    top = _clip_to(_const(np.iinfo(dtype).max, dtype), get_aval(maxval).dtype)
    maxval_out_of_range = lax.gt(maxval, top)
    minval, maxval = _clip_to(minval, dtype), _clip_to(maxval, dtype)
    if shape:
        minval = broadcast_to_rank_aligned(minval, shape)
        maxval = broadcast_to_rank_aligned(maxval, shape)
        maxval_out_of_range = broadcast_to_rank_aligned(maxval_out_of_range, shape)
    nbits = dtype.itemsize * 8
    udtype = prng.UINT_DTYPES[nbits]
    keys = prng.split(raw, (2,))
    k1, k2 = (reshape(slice_in_dim(keys, i, i + 1), (2,)) for i in (0, 1))
    higher, lower = prng.random_bits(k1, nbits, shape), prng.random_bits(k2, nbits, shape)
    span = convert_element_type(lax.sub(maxval, minval), udtype)
    one = _const(1, udtype)
    # maxval <= minval: always return minval (span 1).
    span = lax.select(lax.le(maxval, minval), _full_like(one, span), span)
    span = lax.select(lax.bitwise_and(maxval_out_of_range, lax.gt(maxval, minval)),
                      lax.add(span, one), span)
    # (hi * 2**nbits + lo) mod span, without overflowing nbits: 2**nbits mod span = m*m mod span.
    # A span of 2**nbits wraps to 0; then "x mod span" must leave x alone (XLA's x % 0 == x).
    span_is_zero = lax.eq(span, _const(0, udtype))
    safe_span = lax.select(span_is_zero, _full_like(one, span), span)

    def rem(a):
        return lax.select(span_is_zero, a, lax.rem(a, safe_span))

    multiplier = rem(_full_like(_const(2 ** (nbits // 2), udtype), span))
    multiplier = rem(lax.mul(multiplier, multiplier))
    offset = rem(lax.add(lax.mul(rem(higher), multiplier), rem(lower)))
    return lax.add(minval, convert_element_type(offset, dtype))


def _full_like(scalar, like):
    shape = get_aval(like).shape
    return broadcast_in_dim(scalar, shape, ()) if shape else scalar


def bernoulli(key, p=0.5, shape=None, mode="low"):
    """Booleans that are True with probability ``p``: ``uniform(key) < p``."""
    raw = _single_key(key, "bernoulli")
    p = _operand(p)
    dtype = get_aval(p).dtype
    if dtype.kind != "f":
        raise TypeError(f"bernoulli probability `p` must have a floating dtype, got {dtype.name}.")
    if shape is None:
        shape = get_aval(p).shape
    else:
        shape = _shape(shape, "bernoulli")
        _check_shape("bernoulli", shape, get_aval(p).shape)
    u = _uniform(raw, shape, dtype, 0.0, 1.0)
    return lax.lt(u, broadcast_to_rank_aligned(p, shape) if shape else p)


def rademacher(key, shape=(), dtype=None):
    """Random signs: -1 or +1 with equal probability."""
    raw = _single_key(key, "rademacher")
    dtype = dtypes.canonicalize(dtypes.default_int() if dtype is None else dtype)
    shape = _shape(shape, "rademacher")
    b = lax.lt(_uniform(raw, shape, np.dtype(np.float32), 0.0, 1.0), _const(0.5, np.float32))
    b = convert_element_type(b, dtype)
    return lax.sub(lax.mul(_const(2, dtype), b), _const(1, dtype))


def categorical(key, logits, axis=-1, shape=None, replace=True, mode=None):
    """Indices drawn with probabilities ``softmax(logits)`` along ``axis`` (the Gumbel-max trick).

    ``argmax(logits + gumbel noise)`` is distributed exactly as the softmax: no normalisation,
    no cumulative sums, and it batches trivially.
    """
    raw = _single_key(key, "categorical")
    if not replace:
        raise NotImplementedError("minijax.random.categorical supports replace=True only.")
    logits = _operand(logits)
    dtype = get_aval(logits).dtype
    if dtype.kind != "f":
        logits = convert_element_type(logits, dtypes.default_float())
        dtype = get_aval(logits).dtype
    lshape = get_aval(logits).shape
    if not lshape:
        raise ValueError("categorical: logits must have at least one axis (the categories).")
    ndim = len(lshape)
    if not -ndim <= axis < ndim:
        raise ValueError(f"categorical: axis {axis} is out of bounds for logits of rank {ndim}.")
    axis = axis % ndim
    batch_shape = lshape[:axis] + lshape[axis + 1:]
    if shape is None:
        shape = batch_shape
    else:
        shape = _shape(shape, "categorical")
        _check_shape("categorical", shape, batch_shape)
    prefix = shape[:len(shape) - len(batch_shape)]
    noise_shape = prefix + lshape
    noise = _gumbel(raw, noise_shape, dtype)
    shifted = lax.add(noise, broadcast_to_rank_aligned(logits, noise_shape))
    return argmax(shifted, len(prefix) + axis, dtypes.default_int())


def _jnp():
    from . import numpy as jnp
    return jnp


def _shuffle(raw, x, axis):
    """Shuffle ``x`` along ``axis``: sort by random 32-bit keys, repeated for very long axes."""
    jnp = _jnp()
    size = get_aval(x).size
    rounds = int(np.ceil(3 * np.log(max(1, size)) / np.log(np.iinfo(np.uint32).max)))
    for _ in range(rounds):
        keys = prng.split(raw, (2,))
        raw, sub = (reshape(slice_in_dim(keys, i, i + 1), (2,)) for i in (0, 1))
        sort_keys = prng.random_bits(sub, 32, get_aval(x).shape)
        order = jnp.argsort(sort_keys, axis=axis, stable=True)
        x = jnp.take_along_axis(x, order, axis=axis)
    return x


def permutation(key, x, axis=0, independent=False):
    """A random permutation of ``arange(x)`` (integer ``x``) or of ``x`` along ``axis``.

    ``independent=True`` shuffles every slice along ``axis`` separately.
    """
    raw = _single_key(key, "permutation")
    jnp = _jnp()
    if np.ndim(x) == 0 and not (hasattr(x, "shape") and x.shape):
        n = int(concrete_or_error(x, "The error occurred in random.permutation, whose length "
                                     "decides the output shape (pass a Python int)."))
        return _shuffle(raw, jnp.arange(n), 0)
    x = _operand(x)
    ndim = get_aval(x).ndim
    axis = axis % ndim
    if independent or ndim == 1:
        return _shuffle(raw, x, axis)
    order = _shuffle(raw, jnp.arange(get_aval(x).shape[axis]), 0)
    return jnp.take(x, order, axis=axis)


def choice(key, a, shape=(), replace=True, p=None, axis=0, mode=None):
    """Samples from ``a`` (an array, or ``arange(a)`` for an int), with or without replacement,
    uniformly or with probabilities ``p``."""
    raw = _single_key(key, "choice")
    jnp = _jnp()
    shape = _shape(shape, "choice")
    if np.ndim(a) == 0 and not (hasattr(a, "shape") and a.shape):
        n_inputs = int(concrete_or_error(a, "random.choice needs a concrete population size."))
        arr = None
    else:
        arr = _operand(a)
        if get_aval(arr).ndim == 0:
            raise ValueError("choice: a must be an int or an array with at least one dimension.")
        axis = axis % get_aval(arr).ndim
        n_inputs = get_aval(arr).shape[axis]
    n_draws = math.prod(shape)
    if n_draws == 0:
        return jnp.zeros(shape if arr is None else (get_aval(arr).shape[:axis] + shape +
                                                    get_aval(arr).shape[axis + 1:]),
                         dtypes.default_int() if arr is None else get_aval(arr).dtype)
    if n_inputs <= 0:
        raise ValueError("a must be greater than 0 unless no samples are taken")
    if not replace and n_draws > n_inputs:
        raise ValueError(f"Cannot take a larger sample (size {n_draws}) than population (size "
                         f"{n_inputs}) when 'replace=False'")
    if p is None:
        if replace:
            ind = _randint(raw, shape, 0, n_inputs, dtypes.default_int())
            result = ind if arr is None else jnp.take(arr, ind, axis=axis)
        else:
            perm = _shuffle(raw, jnp.arange(n_inputs) if arr is None else arr, 0 if arr is None else axis)
            result = slice_in_dim(perm, 0, n_draws, 1, 0 if arr is None else axis)
    else:
        p = _operand(p)
        if get_aval(p).shape != (n_inputs,):
            raise ValueError("p must be None or match the shape of a")
        if get_aval(p).dtype.kind != "f":
            p = convert_element_type(p, dtypes.default_float())
        if replace:
            from ._src.primitives.cumulative import cumsum
            cdf = cumsum(p, 0)
            total = reshape(slice_in_dim(cdf, n_inputs - 1, n_inputs), ())
            dtype = get_aval(p).dtype
            u = _uniform(raw, shape, dtype, 0.0, 1.0)
            r = lax.mul(total, lax.sub(_const(1.0, dtype), u))
            # searchsorted(cdf, r, side="left") = how many cdf entries are < r.
            grid = broadcast_in_dim(cdf, shape + (n_inputs,), (len(shape),))
            below = lax.lt(grid, broadcast_in_dim(r, shape + (n_inputs,), tuple(range(len(shape)))))
            ind = reduce_sum(convert_element_type(below, dtypes.default_int()), (len(shape),))
        else:
            # Gumbel top-k: the k largest of log(p) + gumbel noise are a sample without replacement.
            g = lax.add(_gumbel(raw, (n_inputs,), get_aval(p).dtype), _log(p))
            order = jnp.argsort(lax.neg(g), stable=True)
            ind = slice_in_dim(order, 0, n_draws)
        result = ind if arr is None else jnp.take(arr, ind, axis=axis)
    if arr is None:
        return reshape(result, shape)
    ashape = get_aval(arr).shape
    return reshape(result, ashape[:axis] + shape + ashape[axis + 1:])


def multivariate_normal(key, mean, cov, shape=None, dtype=None, method="cholesky"):
    """Samples from N(mean, cov): ``mean + L @ z`` with ``L = cholesky(cov)``, z standard normal."""
    raw = _single_key(key, "multivariate_normal")
    jnp = _jnp()
    if method != "cholesky":
        raise ValueError(f"minijax.random.multivariate_normal supports method='cholesky' only, "
                         f"got {method!r}.")
    if not hasattr(jnp, "linalg") or not hasattr(jnp.linalg, "cholesky"):
        raise NotImplementedError("multivariate_normal needs jnp.linalg.cholesky, which this "
                                  "minijax build does not have yet.")
    dtype = _float_dtype(dtype, "multivariate_normal")
    mean, cov = _operand(mean, dtype), _operand(cov, dtype)
    mshape, cshape = get_aval(mean).shape, get_aval(cov).shape
    if len(mshape) < 1 or len(cshape) < 2 or cshape[-2:] != (mshape[-1], mshape[-1]):
        raise ValueError(f"multivariate_normal requires mean.shape[-1] == cov.shape[-1] == "
                         f"cov.shape[-2], got mean {mshape} and cov {cshape}.")
    if shape is None:
        shape = np.broadcast_shapes(mshape[:-1], cshape[:-2])
    else:
        shape = _shape(shape, "multivariate_normal")
        _check_shape("multivariate_normal", shape, mshape[:-1], cshape[:-2])
    factor = jnp.linalg.cholesky(cov)
    z = _normal_real(raw, tuple(shape) + mshape[-1:], dtype)
    return mean + jnp.einsum("...ij,...j->...i", factor, z)
