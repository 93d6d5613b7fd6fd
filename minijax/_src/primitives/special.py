"""Special functions: ``digamma`` and ``polygamma``, and the derivative of ``lgamma``.

The family is a chain of derivatives, which is why it lives in one place::

    d/dx lgamma(x)          = digamma(x)            (psi)
    d/dx digamma(x)         = polygamma(1, x)       (trigamma)
    d/dx polygamma(n, x)    = polygamma(n + 1, x)

so each JVP rule is one line, and grad of grad of ... of ``lgamma`` works to any order.

How the values are computed (float64 NumPy, vectorised, no SciPy)
-----------------------------------------------------------------
Both functions are smooth and easy for large ``x``, where an asymptotic series with a handful of
Bernoulli-number terms is accurate to ~1e-16 once ``x >= 10``. Smaller ``x`` is moved up with the
recurrences ``psi(x) = psi(x + 1) - 1/x`` and
``psi_n(x) = psi_n(x + 1) - (-1)**n n! / x**(n+1)``; negative ``x`` uses the reflection formula
``psi(x) = psi(1 - x) - pi / tan(pi x)`` for digamma, and the recurrence for polygamma.
Poles (``x = 0, -1, -2, ...``) give NaN for digamma and for even ``n`` and +inf for odd ``n``,
as JAX does. Where JAX differs: ``jax.scipy.special.polygamma(n, inf)`` is NaN; the limit is 0,
which is what minijax returns.

This module registers ``lgamma``'s JVP (``lgamma`` itself is in ``elementwise``), so importing
it is what makes ``grad(lax.lgamma)`` work.
"""
from __future__ import annotations

import math

import numpy as np

from ..core import Primitive, ShapedArray
from .batch_util import elementwise_batch_rule
from .elementwise import _check_kinds, _quiet, defjvp_unary, lgamma_p

# Bernoulli numbers B_2, B_4, ..., B_16 (exact fractions as floats).
_BERNOULLI = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510]
_LARGE = 10.0       # the asymptotic series is used from here on


def _digamma_large(x):
    """psi(x) ~ log x - 1/(2x) - sum_k B_2k / (2k x^2k), for x >= 10 (error < 1e-16)."""
    inv2 = 1.0 / (x * x)
    series = np.zeros_like(x)
    for k in reversed(range(1, len(_BERNOULLI) + 1)):      # Horner in 1/x^2
        series = (series + _BERNOULLI[k - 1] / (2 * k)) * inv2
    return np.log(x) - 0.5 / x - series


def _digamma_positive(x):
    """psi(x) for x > 0: shift up to x >= 10, subtracting 1/x at each step."""
    acc = np.zeros_like(x)
    x = x.copy()
    while True:
        small = x < _LARGE
        if not small.any():
            break
        acc = acc - np.where(small, 1.0 / np.where(small, x, 1.0), 0.0)
        x = np.where(small, x + 1.0, x)
    return acc + _digamma_large(x)


def _digamma_impl(x):
    dtype = np.asarray(x).dtype
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        finite = np.isfinite(x)
        pole = finite & (x <= 0) & (x == np.floor(x))
        negative = finite & (x < 0.5) & ~pole
        # reflection: psi(x) = psi(1 - x) - pi / tan(pi x), with 1 - x >= 0.5
        base = np.where(negative, 1.0 - x, np.where(finite & ~pole & (x > 0), x, 1.0))
        out = _digamma_positive(base)
        out = np.where(negative, out - np.pi / np.tan(np.pi * x), out)
        out = np.where(pole, np.nan, out)
        out = np.where(x == np.inf, np.inf, out)
        out = np.where(np.isnan(x) | (x == -np.inf), np.nan, out)
    return out.astype(dtype)


def _hurwitz_tail(s, x):
    """zeta(s, x) = sum_k (x + k)^-s for x >= 10, by Euler-Maclaurin (s >= 2)."""
    out = x ** (1.0 - s) / (s - 1.0) + 0.5 * x ** (-s)
    rising = s                       # s (s+1) ... (s + 2j - 2)
    power = x ** (-s - 1.0)          # x^(-s - 2j + 1)
    fact = 2.0                       # (2j)!
    inv2 = 1.0 / (x * x)
    for j in range(1, len(_BERNOULLI) + 1):
        out = out + _BERNOULLI[j - 1] / fact * rising * power
        rising *= (s + 2 * j - 1) * (s + 2 * j)
        power = power * inv2
        fact *= (2 * j + 1) * (2 * j + 2)
    return out


def _polygamma_impl(x, *, n):
    """psi_n(x) = (-1)^(n+1) n! zeta(n + 1, x) for n >= 1."""
    dtype = np.asarray(x).dtype
    x = np.asarray(x, np.float64)
    s = n + 1.0
    with np.errstate(all="ignore"):
        finite = np.isfinite(x)
        pole = finite & (x <= 0) & (x == np.floor(x))
        work = np.where(finite & ~pole, x, _LARGE)
        zeta = np.zeros_like(work)
        while True:                   # zeta(s, x) = x^-s + zeta(s, x + 1)
            small = work < _LARGE
            if not small.any():
                break
            zeta = zeta + np.where(small, np.where(small, work, 1.0) ** (-s), 0.0)
            work = np.where(small, work + 1.0, work)
        zeta = zeta + _hurwitz_tail(s, work)
        out = (-1.0) ** (n + 1) * math.factorial(n) * zeta
        out = np.where(pole, np.inf if n % 2 else np.nan, out)
        out = np.where(x == np.inf, 0.0, out)
        out = np.where(np.isnan(x) | (x == -np.inf), np.nan, out)
    return out.astype(dtype)


# ---------------------------------------------------------------------------
# digamma
# ---------------------------------------------------------------------------
digamma_p = Primitive("digamma")
digamma_p.def_impl(_quiet(_digamma_impl))


@digamma_p.def_abstract_eval
def _digamma_abstract(x):
    _check_kinds("digamma", x.dtype, "f")
    return ShapedArray(x.shape, x.dtype, x.weak_type)


# ---------------------------------------------------------------------------
# polygamma(n, x) for a static integer order n >= 1
# ---------------------------------------------------------------------------
polygamma_p = Primitive("polygamma")
polygamma_p.def_impl(_quiet(_polygamma_impl))


@polygamma_p.def_abstract_eval
def _polygamma_abstract(x, *, n):
    _check_kinds("polygamma", x.dtype, "f")
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"polygamma order n must be a Python int >= 1 (n = 0 is digamma), "
                         f"got {n!r}.")
    return ShapedArray(x.shape, x.dtype, x.weak_type)


def digamma(x):
    """``psi(x) = d/dx lgamma(x)`` (``jax.scipy.special.digamma``; float inputs)."""
    return digamma_p.bind(x)


def polygamma(n, x):
    """``psi_n(x)``, the n-th derivative of digamma; ``n`` is a static Python int >= 0."""
    try:
        order = int(n)
    except TypeError:
        raise TypeError("polygamma: the order n must be a concrete integer (it selects the "
                        "series); pass a Python int, not a traced value.") from None
    if order != n or order < 0:
        raise ValueError(f"polygamma order n must be a non-negative integer, got {n!r}.")
    return digamma(x) if order == 0 else polygamma_p.bind(x, n=order)


# The derivative chain: lgamma -> digamma -> polygamma(1) -> polygamma(2) -> ...
defjvp_unary(lgamma_p, lambda x, y: digamma(x))
defjvp_unary(digamma_p, lambda x, y: polygamma_p.bind(x, n=1))


@polygamma_p.def_jvp
def _polygamma_jvp(primals, tangents, *, n):
    from .elementwise import mul
    (x,), (t,) = primals, tangents
    return polygamma_p.bind(x, n=n), mul(t, polygamma_p.bind(x, n=n + 1))


elementwise_batch_rule(digamma_p)
elementwise_batch_rule(polygamma_p)

__all__ = ["digamma", "polygamma", "digamma_p", "polygamma_p"]
