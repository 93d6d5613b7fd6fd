"""Small scalar functions that generated CPU kernels call (imported with ``*``).

They are compiled inline into the kernels. NumPy semantics are kept where
Python's would differ: ``max`` propagates NaN, integer division rounds toward
zero (XLA's rule, which ``lax.div`` follows) and never traps on division by zero.
"""
from __future__ import annotations

import numba
import numpy as np

__all__ = ["_idiv", "_irem", "_fmax", "_fmin", "_round_half_away", "_maximum_f", "_minimum_f"]


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
