"""The primitives behind ``minijax.random``: the threefry2x32 block cipher and bitcasts.

``threefry2x32``
    Threefry-2x32 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
    SC 2011) is a *counter-based* random number generator: a keyed scrambling
    function ``(key, counter) -> random-looking 64 bits``. Nothing is stored
    between calls, so the same key and counter always give the same bits, and
    a million counters can be scrambled at once (that is what makes it a good
    fit for vectorised hardware and for ``vmap``). Everything else in
    ``minijax.random`` -- split, fold_in, uniform, normal, ... -- is ordinary
    lax code on top of this one primitive.

    Operands: the two 32-bit words of the key ``k1, k2`` and the two 32-bit
    words of the counters ``x1, x2``; all uint32, one shape (rank-0 operands
    broadcast). Results: two uint32 arrays of that shape.

    Keys and random bits are integers, and a cipher is nowhere near smooth:
    there is no derivative to take. Its ``jvp`` rule therefore raises a
    TypeError explaining that keys are not differentiable (a key that merely
    rides along with a zero tangent is accepted).

``fma``
    ``a * b + c`` rounded once (a fused multiply-add). XLA's CPU compiler fuses
    every multiply that feeds an add, so polynomials inside its ``log``,
    ``erf_inv`` and the ``uniform`` scaling round once per step; to reproduce
    JAX's float32 samples bit-for-bit, minijax's samplers use this primitive where
    XLA fuses. (float32/float16: exact product in float64, one rounding; float64:
    plain ``a * b + c``, NumPy has no vectorised fused multiply-add.)

``bitcast_convert_type``
    Reinterpret the bits of an array as another dtype (NumPy's ``.view``), as
    ``lax.bitcast_convert_type``. ``uniform`` uses it to turn 23 random bits
    into the mantissa of a float in [1, 2). Narrower targets add a trailing
    axis; wider targets consume one.
"""
from __future__ import annotations

import numpy as np

from ..core import Primitive, ShapedArray, Tracer, get_aval
from .batch_util import batch_size, bdim_at_front, move_to_front
from .elementwise import (add, broadcast_shapes_scalar, mul, same_dtypes, zeros_like_aval,
                          elementwise_batch_rule, _check_kinds)

# ---------------------------------------------------------------------------
# threefry2x32
# ---------------------------------------------------------------------------
threefry2x32_p = Primitive("threefry2x32", multiple_results=True)

# Rotation distances of Threefry-2x32 (from the Random123 paper), in two groups of four rounds.
ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
# The key-schedule parity constant: the third key word is k1 ^ k2 ^ C240.
C240 = 0x1BD11BDA


def _rotl(x, r):
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


@threefry2x32_p.def_impl
def _threefry2x32_impl(k1, k2, x1, x2):
    """20 rounds of Threefry-2x32 on whole uint32 arrays at once (no loop over elements).

    Every ``+`` wraps around modulo 2**32, which is exactly what uint32 NumPy arithmetic does.
    """
    k1, k2, x1, x2 = np.broadcast_arrays(*(np.asarray(a, np.uint32) for a in (k1, k2, x1, x2)))
    ks = (k1, k2, k1 ^ k2 ^ np.uint32(C240))
    x = [x1 + ks[0], x2 + ks[1]]
    with np.errstate(over="ignore"):
        for i in range(5):                       # 5 groups x 4 rounds = 20 rounds
            for r in ROTATIONS[i % 2]:
                x[0] = x[0] + x[1]
                x[1] = _rotl(x[1], r) ^ x[0]
            # Key injection after every four rounds: rotate through the key schedule.
            x[0] = x[0] + ks[(i + 1) % 3]
            x[1] = x[1] + ks[(i + 2) % 3] + np.uint32(i + 1)
    return [x[0].astype(np.uint32), x[1].astype(np.uint32)]


@threefry2x32_p.def_abstract_eval
def _threefry2x32_abstract(k1, k2, x1, x2):
    for name, a in zip(("k1", "k2", "x1", "x2"), (k1, k2, x1, x2)):
        if a.dtype != np.uint32:
            raise TypeError(f"threefry2x32 takes uint32 operands (two key words, two counter "
                            f"words), but operand {name} has dtype {a.dtype.name}.")
    shape = broadcast_shapes_scalar("threefry2x32", k1, k2, x1, x2)
    return [ShapedArray(shape, np.uint32), ShapedArray(shape, np.uint32)]


_NOT_DIFFERENTIABLE = (
    "minijax.random keys are not differentiable: a key is a pair of uint32 words fed to a "
    "block cipher (threefry2x32), and its random bits do not change smoothly with the key, so "
    "there is no derivative to take. Differentiate with respect to the parameters of the "
    "distribution instead (e.g. minval/maxval, the mean, or x in x * random.normal(key)), and "
    "pass the key as a non-differentiated argument (grad's argnums), or wrap it in "
    "lax.stop_gradient.")
threefry2x32_p.not_differentiable = _NOT_DIFFERENTIABLE


def _is_known_zero(t):
    if isinstance(t, Tracer):
        return False
    return not np.any(np.asarray(t))


@threefry2x32_p.def_jvp
def _threefry2x32_jvp(primals, tangents):
    # A key that only rides along (lifted into a JVP trace with a concrete zero tangent) is fine;
    # anything else means someone is differentiating with respect to a key.
    if not all(_is_known_zero(t) for t in tangents):
        raise TypeError(_NOT_DIFFERENTIABLE)
    outs = threefry2x32_p.bind(*primals)
    return outs, [zeros_like_aval(get_aval(o)) for o in outs]


@threefry2x32_p.def_batch
def _threefry2x32_batch(args, dims):
    """Elementwise in all four operands: align each to ``(batch,) + common_shape``."""
    from .shape import broadcast_in_dim
    size = batch_size(args, dims)
    shapes = [get_aval(x).shape if d is None else
              get_aval(x).shape[:d] + get_aval(x).shape[d + 1:] for x, d in zip(args, dims)]
    common = max(shapes, key=len)
    aligned = []
    for x, d, s in zip(args, dims, shapes):
        x = bdim_at_front(x, d, size)
        if s != common:      # a rank-0 operand next to rank-n ones: broadcast it explicitly
            x = broadcast_in_dim(x, (size,) + common, (0,))
        aligned.append(x)
    return threefry2x32_p.bind(*aligned), [0, 0]


def threefry2x32(k1, k2, x1, x2):
    """Apply Threefry-2x32 with key ``(k1, k2)`` to counters ``(x1, x2)``; returns two arrays."""
    return threefry2x32_p.bind(k1, k2, x1, x2)


# ---------------------------------------------------------------------------
# fma: a * b + c with one rounding
# ---------------------------------------------------------------------------
fma_p = Primitive("fma")


@fma_p.def_impl
def _fma_impl(a, b, c):
    dtype = np.result_type(a, b, c)
    if dtype.itemsize <= 4:    # the product of two float32s is exact in float64
        wide = np.asarray(a, np.float64) * np.asarray(b, np.float64) + np.asarray(c, np.float64)
        return wide.astype(dtype)
    with np.errstate(all="ignore"):
        return np.asarray(a * b + c, dtype)


@fma_p.def_abstract_eval
def _fma_abstract(a, b, c):
    dtype = same_dtypes("fma", [a, b, c])
    _check_kinds("fma", dtype, "f")
    shape = broadcast_shapes_scalar("fma", a, b, c)
    return ShapedArray(shape, dtype, a.weak_type and b.weak_type and c.weak_type)


@fma_p.def_jvp
def _fma_jvp(primals, tangents):
    (a, b, c), (ta, tb, tc) = primals, tangents
    return fma_p.bind(a, b, c), add(add(mul(ta, b), mul(a, tb)), tc)


elementwise_batch_rule(fma_p)


def fma(a, b, c):
    """``a * b + c`` with a single rounding (what XLA's CPU backend computes)."""
    return fma_p.bind(a, b, c)


from .elementwise import bitcast_convert_type, bitcast_convert_type_p  # noqa: E402,F401


__all__ = ["threefry2x32", "bitcast_convert_type", "fma", "threefry2x32_p",
           "bitcast_convert_type_p", "fma_p"]
