"""Fast, vectorisable ``exp``/``log``/``tanh``/``sin``/... for the numba CPU backend.

Why this file exists
--------------------
Inside a numba loop, ``np.exp(x[i])`` becomes a call to the C library's scalar
``expf``. A call is a wall for LLVM's loop vectoriser, so a fused loop such as
``sin(x) * exp(-x*x) + 0.5 * tanh(3*x)`` runs one element at a time -- slower
than NumPy, whose ufuncs use SIMD kernels (numba's SVML hook is not installed
here). XLA's answer, which we copy, is to write each function as a short,
*branch-free* sequence of multiplies, adds, compares/selects and integer bit
tricks. LLVM inlines it into the loop and turns every operation into a packed
AVX instruction that handles 8 (float32) or 4 (float64) lanes at once.

Every function follows the same recipe:

1. **Range reduction.** Write the argument as ``x = k*c + r`` with ``k`` an
   integer and ``r`` small (Cody-Waite: ``c`` is split into a few constants
   whose products with ``k`` are exact, so ``r`` is accurate).
2. **Polynomial.** Approximate the function on the small interval by a
   polynomial in ``r`` (here: truncated Taylor series with one or two extra
   terms, evaluated by Horner's rule, which LLVM turns into FMAs).
3. **Reconstruction.** Undo step 1, e.g. ``exp(x) = 2**k * exp(r)`` where
   ``2**k`` is built directly from its bits: ``(k + 127) << 23`` for float32.
4. **Special values with selects**, never branches: ``a if cond else b`` on
   scalars compiles to a vector blend. Written so NaN falls through: a
   comparison with NaN is False, so ``hi if x > hi else x`` keeps NaN.

The few operations Python has no spelling for (round-to-nearest, reading a
float's bits as an integer) are tiny numba ``@intrinsic`` functions that emit
one LLVM instruction each; they are defined in ``_install_intrinsics``.

Using them
----------
``get_functions()`` returns ``{("exp", "float32"): fn, ...}``; the ``fn`` are
``numba.njit`` dispatchers to call from other jitted code (they are not fast
from Python). ``install(namespace)`` puts them into a dict as
``_fm_<name>_<dtype>`` (and ``_fm_<name>_f32``/``_f64``) so generated source
can call ``_fm_exp_float32(x)``. numba is imported on the first call only.

Call each function with a scalar of its own dtype (a float32 function with a
float64 argument silently computes in the wrong precision). The kernels that
call them must not use the ``nnan``/``ninf``/``reassoc`` fast-math flags
(``fastmath=True``), which would let LLVM delete the NaN/inf handling;
``fastmath=False`` or ``{"contract"}`` are fine. The functions are *not*
``inline="always"``: numba-level inlining would compile them with the caller's
flags and lose the fused multiply-adds; LLVM inlines them anyway (measured:
the loop still vectorises, see ``benchmarks/bench_fastmath.py``).

Accuracy (max error measured against float64/long double, in units in the last
place of the result; the tests in ``tests/test_fastmath.py`` assert
``ULP_BOUNDS``) is stated in each function's docstring. NumPy's own float32
SIMD functions are accurate to about 1-4 ulp, so these are comparable.

==========  ==============  ===============  ======================================
function    bound (meas.)   domain           special values (as NumPy)
==========  ==============  ===============  ======================================
exp         1 (0.91)        all              overflow inf, underflow 0 / subnormal
expm1       2 (1.4 / 1.7)   all              overflow inf, -1 below; keeps -0
log         1 (0.77)        all              0 -> -inf, <0 -> NaN, inf -> inf
log1p       2 (1.4)         all              -1 -> -inf, <-1 -> NaN; keeps -0
tanh        3 (2.5)         all              +-1 when saturated; keeps -0
logistic    3 (2.2)         all              0 / 1 when saturated, tiny stay exact
sin, cos    2 (1.5)         |x| <= 4e6 f32,  NaN outside the domain and for +-inf
                            1.6e6 f64
==========  ==============  ===============  ======================================

NaN in gives NaN out everywhere. Speed (``benchmarks/bench_fastmath.py``): each
float32 function costs ~0.45-0.55 ns per element on one core here, about NumPy's
AVX-512 ufuncs; fused, they avoid NumPy's temporaries. The loop is vectorised
with 256-bit registers because LLVM prefers them on this CPU; compiling with
``NUMBA_CPU_FEATURES=<host features>,-prefer-256-bit`` uses 512-bit ones
(measured ~1.5x faster still).
"""
from __future__ import annotations

import numpy as np

__all__ = ["get_functions", "install", "has_fast_version", "ULP_BOUNDS", "FUNCTION_NAMES"]

# The intrinsics are created by _install_intrinsics() once numba is imported.
_rint = _floor = _fabs = _fma = _pow2i = _split_sqrt2 = None

f32, f64 = np.float32, np.float64

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------
_LOG2E_32 = f32(1.44269504088896341)
# ln 2 = _LN2_HI + _LN2_LO; _LN2_HI has only 10 significant bits so k*_LN2_HI is exact.
_LN2_HI_32, _LN2_LO_32 = f32(0.693359375), f32(-2.12194440e-4)
_LOG2E_64 = f64(1.44269504088896338700e+00)
# fdlibm's split: _LN2_HI_64 has 32 significant bits.
_LN2_HI_64, _LN2_LO_64 = f64(6.93147180369123816490e-01), f64(1.90821492927058770002e-10)

# pi/2 = _PIO2_1 + _PIO2_2 + _PIO2_2T  (33 + 33 bits + the rest, fdlibm's split). For
# integer n < 2**20, n * _PIO2_1 and n * _PIO2_2 are exact in float64: Cody-Waite reduction.
_2_OVER_PI = f64(6.36619772367581382433e-01)
_PIO2_1 = f64(1.57079632673412561417e+00)
_PIO2_2 = f64(6.07710050630396597660e-11)
_PIO2_2T = f64(2.02226624879595063154e-21)
# For float32: pi/2 = _PIO2_A32 + _PIO2_B32 + _PIO2_C32 (+ 1e-23), each the float32 nearest
# to what is left. With fused multiply-adds, x - n*_PIO2_A32 is exact for |x| <= 4e6.
_2_OVER_PI_32 = f32(6.36619772367581382433e-01)
_PIO2_A32, _PIO2_B32, _PIO2_C32 = f32(1.5707964), f32(-4.371139e-08), f32(-1.7151245e-15)
# Beyond these |x| the reductions are no longer exact: sin/cos return NaN there.
_TRIG_MAX_F32, _TRIG_MAX_F64 = f32(4.0e6), f64(1.6e6)


def _taylor(dtype, start, stop, step=1):
    """Coefficients 1/k! for k in range(start, stop, step), rounded to ``dtype``."""
    import math
    return tuple(dtype(1.0 / math.factorial(k)) for k in range(start, stop, step))


# exp(r) on |r| <= ln2/2: degree 7 (float32) and 13 (float64) Taylor polynomials.
(_E2_32, _E3_32, _E4_32, _E5_32, _E6_32, _E7_32) = _taylor(f32, 2, 8)
(_E2_64, _E3_64, _E4_64, _E5_64, _E6_64, _E7_64, _E8_64, _E9_64, _E10_64,
 _E11_64, _E12_64, _E13_64) = _taylor(f64, 2, 14)
# sin(r), cos(r) on |r| <= pi/4 (alternating signs applied below).
(_S3_32, _S5_32, _S7_32, _S9_32) = _taylor(f32, 3, 11, 2)
(_C4_32, _C6_32, _C8_32, _C10_32) = _taylor(f32, 4, 12, 2)
(_S3_64, _S5_64, _S7_64, _S9_64, _S11_64, _S13_64, _S15_64, _S17_64) = _taylor(f64, 3, 19, 2)
(_C4_64, _C6_64, _C8_64, _C10_64, _C12_64, _C14_64, _C16_64) = _taylor(f64, 4, 18, 2)
# log(1+f) = 2*atanh(s), s = f/(2+f): the series 2/3, 2/5, 2/7, ... in z = s*s.
(_L1_32, _L2_32, _L3_32, _L4_32, _L5_32) = tuple(f32(2.0 / k) for k in range(3, 13, 2))
(_L1_64, _L2_64, _L3_64, _L4_64, _L5_64, _L6_64, _L7_64, _L8_64, _L9_64) = tuple(
    f64(2.0 / k) for k in range(3, 21, 2))

_INF32, _INF64 = f32(np.inf), f64(np.inf)
_NAN32, _NAN64 = f32(np.nan), f64(np.nan)
_TINY32, _TINY64 = f32(np.finfo(np.float32).tiny), f64(np.finfo(np.float64).tiny)
_TWO23, _TWO54 = f32(2.0 ** 23), f64(2.0 ** 54)
_ZERO32, _HALF32, _ONE32, _TWO32 = f32(0.0), f32(0.5), f32(1.0), f32(2.0)
_ZERO64, _HALF64, _ONE64, _TWO64 = f64(0.0), f64(0.5), f64(1.0), f64(2.0)
# Below these |x|, f(x) rounds to x itself for sin, tanh (_X_IS_F*) and expm1, log1p
# (_X_IS_F*_1P); returning x exactly also keeps the sign of -0.0 as NumPy does.
_X_IS_F32, _X_IS_F64 = f32(2.0 ** -12), f64(2.0 ** -27)
_X_IS_F32_1P, _X_IS_F64_1P = f32(2.0 ** -25), f64(2.0 ** -54)


# ---------------------------------------------------------------------------
# exp and expm1
# ---------------------------------------------------------------------------
def exp_f32(x):
    """exp(x) for float32. Max error 1 ulp (measured 0.91) over all float32, subnormal results too.

    ``x > 88.72`` gives inf, ``x < -103.97`` gives 0, NaN gives NaN.
    Reduction ``x = k*ln2 + r``; ``2**k`` is applied in two halves so that
    ``k = 128`` (overflow) and ``k = -150`` (deepest subnormal) need no branch.
    """
    x = f32(89.0) if x > f32(89.0) else x          # selects that keep NaN
    x = f32(-104.0) if x < f32(-104.0) else x
    k = _rint(x * _LOG2E_32)
    r = x - k * _LN2_HI_32
    r = r - k * _LN2_LO_32
    p = _E7_32
    p = p * r + _E6_32
    p = p * r + _E5_32
    p = p * r + _E4_32
    p = p * r + _E3_32
    p = p * r + _E2_32
    p = p * r + _ONE32
    p = p * r + _ONE32
    k = k if k > f32(-160.0) else f32(-160.0)      # NaN -> a harmless integer
    k1 = _floor(k * _HALF32)
    return p * _pow2i(k1) * _pow2i(k - k1)


def exp_f64(x):
    """exp(x) for float64. Max error 1 ulp (measured 0.86); ``x > 709.78`` -> inf, ``x < -745.2`` -> 0."""
    x = f64(710.0) if x > f64(710.0) else x
    x = f64(-746.0) if x < f64(-746.0) else x
    k = _rint(x * _LOG2E_64)
    r = x - k * _LN2_HI_64
    r = r - k * _LN2_LO_64
    p = _E13_64
    p = p * r + _E12_64
    p = p * r + _E11_64
    p = p * r + _E10_64
    p = p * r + _E9_64
    p = p * r + _E8_64
    p = p * r + _E7_64
    p = p * r + _E6_64
    p = p * r + _E5_64
    p = p * r + _E4_64
    p = p * r + _E3_64
    p = p * r + _E2_64
    p = p * r + _ONE64
    p = p * r + _ONE64
    k = k if k > f64(-1100.0) else f64(-1100.0)
    k1 = _floor(k * _HALF64)
    return p * _pow2i(k1) * _pow2i(k - k1)


def expm1_f32(x):
    """exp(x) - 1 for float32, accurate near 0. Max error 2 ulp (measured 1.4); inf above 88.72.

    With ``x = k*ln2 + r`` and ``q = expm1(r)`` (a polynomial ``r + r*r*(...)``
    that keeps full relative accuracy for tiny ``r``):
    ``expm1(x) = 2**k * (q + (1 - 2**-k))``, exact in the ``1 - 2**-k`` part.
    """
    x = f32(89.0) if x > f32(89.0) else x
    x = f32(-30.0) if x < f32(-30.0) else x        # expm1(-30) rounds to -1
    k = _rint(x * _LOG2E_32)
    r = x - k * _LN2_HI_32
    r = r - k * _LN2_LO_32
    p = _E7_32
    p = p * r + _E6_32
    p = p * r + _E5_32
    p = p * r + _E4_32
    p = p * r + _E3_32
    p = p * r + _E2_32
    q = r * r * p + r
    k = k if k > f32(-50.0) else f32(-50.0)        # NaN -> a harmless integer
    mk = -k if -k > f32(-100.0) else f32(-100.0)   # 2**-k for k up to 128 is ~0 anyway
    s = q + (_ONE32 - _pow2i(mk))
    k1 = _floor(k * _HALF32)
    y = s * _pow2i(k1) * _pow2i(k - k1)
    return x if _fabs(x) < _X_IS_F32_1P else y


def expm1_f64(x):
    """exp(x) - 1 for float64, accurate near 0. Max error 2 ulp (measured 1.7)."""
    x = f64(710.0) if x > f64(710.0) else x
    x = f64(-60.0) if x < f64(-60.0) else x
    k = _rint(x * _LOG2E_64)
    r = x - k * _LN2_HI_64
    r = r - k * _LN2_LO_64
    p = _E13_64
    p = p * r + _E12_64
    p = p * r + _E11_64
    p = p * r + _E10_64
    p = p * r + _E9_64
    p = p * r + _E8_64
    p = p * r + _E7_64
    p = p * r + _E6_64
    p = p * r + _E5_64
    p = p * r + _E4_64
    p = p * r + _E3_64
    p = p * r + _E2_64
    q = r * r * p + r
    k = k if k > f64(-100.0) else f64(-100.0)
    mk = -k if -k > f64(-1000.0) else f64(-1000.0)
    s = q + (_ONE64 - _pow2i(mk))
    k1 = _floor(k * _HALF64)
    y = s * _pow2i(k1) * _pow2i(k - k1)
    return x if _fabs(x) < _X_IS_F64_1P else y


# ---------------------------------------------------------------------------
# log and log1p
# ---------------------------------------------------------------------------
def _log_special_f32(x, y):
    """NumPy's answers where the formula does not apply: inf, NaN, 0, negatives."""
    y = y if x < _INF32 else x                     # +inf -> inf, NaN -> NaN
    y = _NAN32 if x < _ZERO32 else y
    return -_INF32 if x == _ZERO32 else y


def _log_special_f64(x, y):
    y = y if x < _INF64 else x
    y = _NAN64 if x < _ZERO64 else y
    return -_INF64 if x == _ZERO64 else y


def _log_finite_f32(x):
    """log(x) for finite x > 0 (anything else gives garbage; see _log_special_f32)."""
    tiny = x < _TINY32                              # subnormal: scale into the normal range
    x = x * _TWO23 if tiny else x
    m, e = _split_sqrt2(x)                          # x = m * 2**e, m in [sqrt(1/2), sqrt(2))
    e = e - f32(23.0) if tiny else e
    f = m - _ONE32                                  # exact
    s = f / (_TWO32 + f)
    z = s * s
    R = z * (_L1_32 + z * (_L2_32 + z * (_L3_32 + z * (_L4_32 + z * _L5_32))))
    hfsq = _HALF32 * f * f
    # log(1+f) = f - hfsq + s*(hfsq + R), summed small-to-large
    return e * _LN2_HI_32 - ((hfsq - (s * (hfsq + R) + e * _LN2_LO_32)) - f)


def _log_finite_f64(x):
    tiny = x < _TINY64
    x = x * _TWO54 if tiny else x
    m, e = _split_sqrt2(x)
    e = e - f64(54.0) if tiny else e
    f = m - _ONE64
    s = f / (_TWO64 + f)
    z = s * s
    R = _L9_64
    R = R * z + _L8_64
    R = R * z + _L7_64
    R = R * z + _L6_64
    R = R * z + _L5_64
    R = R * z + _L4_64
    R = R * z + _L3_64
    R = R * z + _L2_64
    R = R * z + _L1_64
    R = R * z
    hfsq = _HALF64 * f * f
    return e * _LN2_HI_64 - ((hfsq - (s * (hfsq + R) + e * _LN2_LO_64)) - f)


def log_f32(x):
    """Natural log for float32. Max error 1 ulp (measured 0.77); subnormals handled.

    log(0) = -inf, log(x<0) = NaN, log(inf) = inf. ``x = m * 2**e`` is read
    from the bits (``m`` in [0.707, 1.414)), then ``log(m) = log(1+f)`` uses
    the series of ``2*atanh(f/(2+f))`` (fdlibm's formulation).
    """
    return _log_special_f32(x, _log_finite_f32(x))


def log_f64(x):
    """Natural log for float64. Max error 1 ulp (measured 0.82); subnormals; specials as log_f32."""
    return _log_special_f64(x, _log_finite_f64(x))


def log1p_f32(x):
    """log(1 + x) for float32, accurate near 0. Max error 2 ulp (measured 1.4); -1 -> -inf.

    ``u = 1 + x`` loses the low bits of ``x``; they are ``d = x - (u - 1)``
    (exact), and ``log1p(x) = log(u) + d/u`` to first order -- which is also
    exactly right when ``u == 1`` (then ``log(u) = 0`` and the answer is ``x``).
    """
    u = _ONE32 + x
    y = _log_finite_f32(u) + (x - (u - _ONE32)) / u
    y = x if _fabs(x) < _X_IS_F32_1P else y
    return _log_special_f32(u, y)


def log1p_f64(x):
    """log(1 + x) for float64, accurate near 0. Max error 2 ulp (measured 1.4)."""
    u = _ONE64 + x
    y = _log_finite_f64(u) + (x - (u - _ONE64)) / u
    y = x if _fabs(x) < _X_IS_F64_1P else y
    return _log_special_f64(u, y)


# ---------------------------------------------------------------------------
# tanh and logistic, built on expm1 / exp of a non-positive argument (no overflow)
# ---------------------------------------------------------------------------
def _expm1_nonpositive_f32(x):
    """expm1(x) for x <= 0 (or NaN): expm1_f32 minus the overflow and subnormal cases."""
    x = f32(-30.0) if x < f32(-30.0) else x        # expm1(-30) rounds to -1
    k = _rint(x * _LOG2E_32)                        # -44 <= k <= 0
    r = x - k * _LN2_HI_32
    r = r - k * _LN2_LO_32
    p = _E7_32
    p = p * r + _E6_32
    p = p * r + _E5_32
    p = p * r + _E4_32
    p = p * r + _E3_32
    p = p * r + _E2_32
    q = r * r * p + r
    k = k if k > f32(-50.0) else f32(-50.0)        # NaN -> a harmless integer
    return (q + (_ONE32 - _pow2i(-k))) * _pow2i(k)


def _expm1_nonpositive_f64(x):
    x = f64(-60.0) if x < f64(-60.0) else x
    k = _rint(x * _LOG2E_64)                        # -87 <= k <= 0
    r = x - k * _LN2_HI_64
    r = r - k * _LN2_LO_64
    p = _E13_64
    p = p * r + _E12_64
    p = p * r + _E11_64
    p = p * r + _E10_64
    p = p * r + _E9_64
    p = p * r + _E8_64
    p = p * r + _E7_64
    p = p * r + _E6_64
    p = p * r + _E5_64
    p = p * r + _E4_64
    p = p * r + _E3_64
    p = p * r + _E2_64
    q = r * r * p + r
    k = k if k > f64(-100.0) else f64(-100.0)
    return (q + (_ONE64 - _pow2i(-k))) * _pow2i(k)


def tanh_f32(x):
    """tanh for float32. Max error 3 ulp (measured 2.5); saturates to +-1, keeps -0, NaN -> NaN.

    ``tanh|x| = -t / (2 + t)`` with ``t = expm1(-2|x|)`` in (-1, 0]: accurate
    for tiny ``x`` (``t ~ -2|x|``), never overflows, no branch on the size of
    ``x``; the sign is copied back at the end.
    """
    t = _expm1_nonpositive_f32(f32(-2.0) * _fabs(x))
    y = -t / (_TWO32 + t)
    y = -y if x < _ZERO32 else y
    return x if _fabs(x) < _X_IS_F32 else y


def tanh_f64(x):
    """tanh for float64. Max error 3 ulp (measured 2.5); saturates to +-1, keeps -0, NaN -> NaN."""
    t = _expm1_nonpositive_f64(f64(-2.0) * _fabs(x))
    y = -t / (_TWO64 + t)
    y = -y if x < _ZERO64 else y
    return x if _fabs(x) < _X_IS_F64 else y


def logistic_f32(x):
    """logistic (sigmoid) 1/(1+exp(-x)) for float32. Max error 3 ulp (measured 2.2), all x.

    With ``t = exp(-|x|)`` in (0, 1]: ``1/(1+t)`` for ``x >= 0`` and ``t/(1+t)``
    for ``x < 0``, so tiny results (``x << 0``) keep full relative accuracy.
    """
    t = exp_f32(-_fabs(x))
    return (t if x < _ZERO32 else _ONE32) / (_ONE32 + t)


def logistic_f64(x):
    """logistic (sigmoid) for float64. Max error 3 ulp (measured 2.2), for all x."""
    t = exp_f64(-_fabs(x))
    return (t if x < _ZERO64 else _ONE64) / (_ONE64 + t)


# ---------------------------------------------------------------------------
# sin and cos
# ---------------------------------------------------------------------------
def _sin_poly_f32(r, z):
    return r + r * z * (-_S3_32 + z * (_S5_32 + z * (-_S7_32 + z * _S9_32)))


def _cos_poly_f32(z):
    hz = _HALF32 * z
    w = _ONE32 - hz                      # 1 - z/2, and below its rounding error ((1-w) - hz)
    p = z * z * (_C4_32 + z * (-_C6_32 + z * (_C8_32 - z * _C10_32)))
    return w + (((_ONE32 - w) - hz) + p)


def _sin_poly_f64(r, z):
    p = -_S17_64
    p = p * z + _S15_64
    p = p * z - _S13_64
    p = p * z + _S11_64
    p = p * z - _S9_64
    p = p * z + _S7_64
    p = p * z - _S5_64
    p = p * z + _S3_64
    return r - r * z * p


def _cos_poly_f64(z):
    p = _C16_64
    p = p * z - _C14_64
    p = p * z + _C12_64
    p = p * z - _C10_64
    p = p * z + _C8_64
    p = p * z - _C6_64
    p = p * z + _C4_64
    hz = _HALF64 * z
    w = _ONE64 - hz
    return w + (((_ONE64 - w) - hz) + z * z * p)


def _reduce_pio2_f32(x):
    """(r, q): x = n*pi/2 + r, |r| <= pi/4 (about), q = n mod 4 (as floats).

    Cody-Waite with fused multiply-adds: for |x| <= 4e6 the first step
    ``x - n*_PIO2_A32`` is exact (both are multiples of 2**-23 and the
    difference is below 1), the next two are rounded once each, relative to a
    result that is already close to r: about 0.5 ulp of r in all.
    """
    n = _rint(x * _2_OVER_PI_32)
    r = _fma(-n, _PIO2_A32, x)
    r = _fma(-n, _PIO2_B32, r)
    r = _fma(-n, _PIO2_C32, r)
    q = n - f32(4.0) * _floor(n * f32(0.25))
    return r, q


def _reduce_pio2_f64(x):
    n = _rint(x * _2_OVER_PI)
    t = x - n * _PIO2_1                  # exact (n < 2**20)
    w = n * _PIO2_2                      # exact
    r = t - w                            # exact when r is tiny (Sterbenz) ...
    e = (t - r) - w                      # ... and otherwise its rounding error is e
    r = r + (e - n * _PIO2_2T)
    q = n - f64(4.0) * _floor(n * f64(0.25))
    return r, q


def sin_f32(x):
    """sin for float32. Max error 2 ulp (measured 1.5) for |x| <= 4e6; NaN beyond.

    ``x = n*pi/2 + r`` (Cody-Waite reduction, see _reduce_pio2_f32). Beyond 4e6
    (where float32 spacing is already 0.25-0.5, so angles are barely defined)
    the reduction would need Payne-Hanek's multi-word 2/pi; rather than return
    a wrong number we return NaN there (and for +-inf, as NumPy does). The
    quadrant ``q = n mod 4`` picks sin or cos of ``r`` and a sign.
    """
    r, q = _reduce_pio2_f32(x)
    z = r * r
    s, c = _sin_poly_f32(r, z), _cos_poly_f32(z)
    odd = (q == _ONE32) | (q == f32(3.0))
    y = c if odd else s
    y = -y if q >= _TWO32 else y
    y = x if _fabs(x) < _X_IS_F32 else y
    return y if _fabs(x) <= _TRIG_MAX_F32 else _NAN32


def cos_f32(x):
    """cos for float32. Max error 2 ulp (measured 1.5) for |x| <= 4e6; NaN beyond."""
    r, q = _reduce_pio2_f32(x)
    z = r * r
    s, c = _sin_poly_f32(r, z), _cos_poly_f32(z)
    odd = (q == _ONE32) | (q == f32(3.0))
    y = s if odd else c
    y = -y if ((q == _ONE32) | (q == _TWO32)) else y
    return y if _fabs(x) <= _TRIG_MAX_F32 else _NAN32


def sin_f64(x):
    """sin for float64. Max error 2 ulp (measured 1.48) for |x| <= 1.6e6; NaN beyond.

    3-part Cody-Waite reduction (fdlibm's constants) with the rounding error of
    the middle step carried along; beyond 1.6e6 it would need Payne-Hanek.
    """
    r, q = _reduce_pio2_f64(x)
    z = r * r
    s, c = _sin_poly_f64(r, z), _cos_poly_f64(z)
    odd = (q == _ONE64) | (q == f64(3.0))
    y = c if odd else s
    y = -y if q >= _TWO64 else y
    y = x if _fabs(x) < _X_IS_F64 else y
    return y if _fabs(x) <= _TRIG_MAX_F64 else _NAN64


def cos_f64(x):
    """cos for float64. Max error 2 ulp (measured 1.45) for |x| <= 1.6e6; NaN beyond."""
    r, q = _reduce_pio2_f64(x)
    z = r * r
    s, c = _sin_poly_f64(r, z), _cos_poly_f64(z)
    odd = (q == _ONE64) | (q == f64(3.0))
    y = s if odd else c
    y = -y if ((q == _ONE64) | (q == _TWO64)) else y
    return y if _fabs(x) <= _TRIG_MAX_F64 else _NAN64


# ---------------------------------------------------------------------------
# Registry and numba glue
# ---------------------------------------------------------------------------
_PY_FUNCTIONS = {
    ("exp", "float32"): exp_f32, ("exp", "float64"): exp_f64,
    ("expm1", "float32"): expm1_f32, ("expm1", "float64"): expm1_f64,
    ("log", "float32"): log_f32, ("log", "float64"): log_f64,
    ("log1p", "float32"): log1p_f32, ("log1p", "float64"): log1p_f64,
    ("tanh", "float32"): tanh_f32, ("tanh", "float64"): tanh_f64,
    ("logistic", "float32"): logistic_f32, ("logistic", "float64"): logistic_f64,
    ("sin", "float32"): sin_f32, ("sin", "float64"): sin_f64,
    ("cos", "float32"): cos_f32, ("cos", "float64"): cos_f64,
}
FUNCTION_NAMES = tuple(sorted({name for name, _ in _PY_FUNCTIONS}))


def has_fast_version(name: str, dtype: str) -> bool:
    """Is there a vectorisable ``name`` for ``dtype`` here (exported as ``_fm_<name>_<dtype>``)?"""
    return (name, dtype) in _PY_FUNCTIONS

#: Documented worst-case error in ulps, per (name, dtype); asserted by the tests.
ULP_BOUNDS = {
    ("exp", "float32"): 1, ("exp", "float64"): 1,
    ("expm1", "float32"): 2, ("expm1", "float64"): 2,
    ("log", "float32"): 1, ("log", "float64"): 1,
    ("log1p", "float32"): 2, ("log1p", "float64"): 2,
    ("tanh", "float32"): 3, ("tanh", "float64"): 3,
    ("logistic", "float32"): 3, ("logistic", "float64"): 3,
    ("sin", "float32"): 2, ("sin", "float64"): 2,
    ("cos", "float32"): 2, ("cos", "float64"): 2,
}

_jitted: dict | None = None


def _install_intrinsics():
    """Define the one-instruction helpers and bind them to this module's globals."""
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    def llvm_unary(llvm_name, doc):
        def typer(typingctx, x):
            if not isinstance(x, types.Float):
                return None

            def codegen(context, builder, sig, args):
                fn = builder.module.declare_intrinsic(llvm_name, [args[0].type])
                return builder.call(fn, args)
            return x(x), codegen
        typer.__doc__ = doc
        return intrinsic(typer)

    def layout(fty):
        """(integer type of the same width, mantissa bits, exponent bias)."""
        return (ir.IntType(32), 23, 127) if fty == types.float32 else (ir.IntType(64), 52, 1023)

    @intrinsic
    def pow2i(typingctx, k):
        """2**k for a float holding an integer in the normal exponent range, built from bits."""
        if not isinstance(k, types.Float):
            return None

        def codegen(context, builder, sig, args):
            ity, mbits, bias = layout(sig.args[0])
            ki = builder.fptosi(args[0], ity)
            bits = builder.shl(builder.add(ki, ir.Constant(ity, bias)), ir.Constant(ity, mbits))
            return builder.bitcast(bits, args[0].type)
        return k(k), codegen

    @intrinsic
    def split_sqrt2(typingctx, x):
        """(m, e) with x = m * 2**e, m in [sqrt(1/2), sqrt(2)), for a positive normal x."""
        if not isinstance(x, types.Float):
            return None

        def codegen(context, builder, sig, args):
            fty = sig.args[0]
            ity, mbits, _ = layout(fty)
            as_int = np.int32 if fty == types.float32 else np.int64
            as_float = np.float32 if fty == types.float32 else np.float64
            c = int(np.array(np.sqrt(0.5), as_float).view(as_int))
            i = builder.bitcast(args[0], ity)
            e = builder.ashr(builder.sub(i, ir.Constant(ity, c)), ir.Constant(ity, mbits))
            m = builder.bitcast(builder.sub(i, builder.shl(e, ir.Constant(ity, mbits))),
                                args[0].type)
            return context.make_tuple(builder, sig.return_type,
                                      [m, builder.sitofp(e, args[0].type)])
        return types.UniTuple(x, 2)(x), codegen

    @intrinsic
    def fma(typingctx, a, b, c):
        """a*b + c with a single rounding (one vfmadd; a libm call without FMA hardware)."""
        if not (isinstance(a, types.Float) and a == b == c):
            return None

        def codegen(context, builder, sig, args):
            t = args[0].type
            fn = builder.module.declare_intrinsic("llvm.fma", [t], ir.FunctionType(t, [t, t, t]))
            return builder.call(fn, args)
        return a(a, b, c), codegen

    globals().update(
        _fma=fma,
        _rint=llvm_unary("llvm.rint", "Round to nearest, ties to even (one vroundps)."),
        _floor=llvm_unary("llvm.floor", "Round down (one vroundps)."),
        _fabs=llvm_unary("llvm.fabs", "Absolute value (clears the sign bit)."),
        _pow2i=pow2i, _split_sqrt2=split_sqrt2)


def get_functions() -> dict:
    """``{(name, dtype_name): numba dispatcher}`` for every function here.

    Compilation is lazy (on the first call from jitted code, per dtype) and
    cached on disk by numba. The first call imports numba.
    """
    global _jitted
    if _jitted is None:
        import numba
        _install_intrinsics()
        jit = numba.njit(fastmath={"contract"}, error_model="numpy", cache=True)
        helpers = [_expm1_nonpositive_f32, _expm1_nonpositive_f64, _log_special_f32, _log_special_f64, _log_finite_f32, _log_finite_f64,
                   _sin_poly_f32, _cos_poly_f32, _sin_poly_f64, _cos_poly_f64,
                   _reduce_pio2_f32, _reduce_pio2_f64]
        compiled = {fn.__name__: jit(fn) for fn in helpers}
        compiled.update({fn.__name__: jit(fn) for fn in _PY_FUNCTIONS.values()})
        # Jitted code resolves names through this module's globals: point them at
        # the dispatchers so that, e.g., tanh_f32 calls the compiled expm1_f32.
        globals().update(compiled)
        _jitted = {key: compiled[fn.__name__] for key, fn in _PY_FUNCTIONS.items()}
    return dict(_jitted)


def install(namespace: dict) -> dict:
    """Add ``_fm_<name>_<dtype>`` (e.g. ``_fm_exp_float32``) and the short aliases
    ``_fm_<name>_f32``/``_f64`` to ``namespace`` (e.g. a dict for ``exec``); return it."""
    for (name, dtype), fn in get_functions().items():
        namespace[f"_fm_{name}_{dtype}"] = fn
        namespace[f"_fm_{name}_f{dtype[-2:]}"] = fn
    return namespace
