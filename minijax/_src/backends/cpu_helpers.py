"""Small scalar functions that generated CPU kernels call (imported with ``*``).

They are compiled inline into the kernels. NumPy semantics are kept where
Python's would differ: ``max`` propagates NaN, integer division rounds toward
zero (XLA's rule, which ``lax.div`` follows) and never traps on division by zero.
"""
from __future__ import annotations

import numba
import numpy as np

__all__ = ["_idiv", "_irem", "_fmax", "_fmin", "_round_half_away", "_maximum_f", "_minimum_f",
           "_threefry2x32_scalar", "_shift_left", "_shift_right_logical", "_matmul3",
           "_dot", "_dot_into"]


@numba.njit(inline="always")
def _fmax(a, b):
    return a if (a > b or a != a) else b


@numba.njit(inline="always")
def _fmin(a, b):
    return a if (a < b or a != a) else b


def _llvm_float_intrinsic(llvm_name):
    """A two-argument float intrinsic: ``llvm.maximum``/``llvm.minimum`` propagate NaN like NumPy,
    and -- unlike a compare-and-select -- LLVM vectorises them, including as reductions."""
    from llvmlite import ir
    from numba.extending import intrinsic

    @intrinsic
    def call(typingctx, a, b):
        def codegen(context, builder, signature, args):
            ty = args[0].type
            fn = builder.module.declare_intrinsic(llvm_name, [ty], ir.FunctionType(ty, [ty, ty]))
            return builder.call(fn, args)
        return a(a, b), codegen
    return call


_maximum_f = _llvm_float_intrinsic("llvm.maximum")
_minimum_f = _llvm_float_intrinsic("llvm.minimum")


@numba.njit(inline="always")
def _idiv(a, b):
    if b == 0:
        return -1
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


@numba.njit(inline="always")
def _irem(a, b):
    if b == 0:
        return a
    r = abs(a) % abs(b)
    return r if a >= 0 else -r


@numba.njit(inline="always")
def _round_half_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


@numba.njit(inline="always")
def _shift_left(x, y, bits):
    """``x << y``; shifting by ``bits`` or more (or by a negative count) gives 0, as in XLA."""
    return x << y if 0 <= y < bits else x ^ x


@numba.njit(inline="always")
def _shift_right_logical(u, y, bits):
    """``u >> y`` on the unsigned bit pattern ``u``; out-of-range counts give 0."""
    return u >> y if 0 <= y < bits else u ^ u


@numba.njit(inline="always")
def _rotl32(x, r):
    return np.uint32(((x << np.uint32(r)) | (x >> np.uint32(32 - r))) & np.uint32(0xFFFFFFFF))


@numba.njit(inline="always")
def _threefry2x32_scalar(k1, k2, x1, x2):
    """Threefry-2x32, 20 rounds, on one pair of counter words (the loop body of the
    ``threefry2x32`` primitive; see primitives/random_bits.py for the array version)."""
    k1, k2, x1, x2 = np.uint32(k1), np.uint32(k2), np.uint32(x1), np.uint32(x2)
    k3 = np.uint32(k1 ^ k2 ^ np.uint32(0x1BD11BDA))
    a = np.uint32(x1 + k1)
    b = np.uint32(x2 + k2)
    for group in range(5):
        if group % 2 == 0:
            r0, r1, r2, r3 = 13, 15, 26, 6
        else:
            r0, r1, r2, r3 = 17, 29, 16, 24
        a = np.uint32(a + b)
        b = np.uint32(_rotl32(b, r0) ^ a)
        a = np.uint32(a + b)
        b = np.uint32(_rotl32(b, r1) ^ a)
        a = np.uint32(a + b)
        b = np.uint32(_rotl32(b, r2) ^ a)
        a = np.uint32(a + b)
        b = np.uint32(_rotl32(b, r3) ^ a)
        # key injection: rotate through (k1, k2, k3)
        s = (group + 1) % 3
        t = (group + 2) % 3
        ka = k1 if s == 0 else (k2 if s == 1 else k3)
        kb = k1 if t == 0 else (k2 if t == 1 else k3)
        a = np.uint32(a + ka)
        b = np.uint32(b + kb + np.uint32(group + 1))
    return a, b


@numba.njit(cache=True)
def _matmul3(a, b):
    """Batched matmul (B, M, K) @ (B, K, N) as loops, for the dtypes BLAS has no routine for."""
    out = np.zeros((a.shape[0], a.shape[1], b.shape[2]), a.dtype)
    for i in range(a.shape[0]):
        for m in range(a.shape[1]):
            for k in range(a.shape[2]):
                x = a[i, m, k]
                for n in range(b.shape[2]):
                    out[i, m, n] += x * b[i, k, n]
    return out


# Matmuls go through these two rather than a bare ``np.dot`` in generated code. numba compiles
# its BLAS call anew in every process, for every combination of dtype and memory order
# (0.2-0.5 s each); a cached function here is compiled once per machine and loaded after.
@numba.njit(cache=True)
def _dot(a, b):
    """``a @ b`` for 2-d float arrays, by BLAS (a transposed view is passed as it is)."""
    return np.dot(a, b)


@numba.njit(cache=True)
def _dot_into(a, b, out):
    """``out[...] = a @ b`` for 2-d float arrays, by BLAS."""
    np.dot(a, b, out)


def _install_fast_math():
    """Export ``_fm_<name>_<dtype>`` for every vectorisable function fastmath.py provides."""
    try:
        from .fastmath import get_functions
    except ImportError:
        return
    for (name, dtype), fn in get_functions().items():
        symbol = f"_fm_{name}_{dtype}"
        globals()[symbol] = fn
        __all__.append(symbol)


_install_fast_math()
