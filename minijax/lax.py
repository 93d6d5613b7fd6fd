"""``minijax.lax``: the primitive operations themselves, one-to-one with the primitives.

Unlike ``minijax.numpy`` these functions do not promote dtypes or broadcast
shapes: ``lax.add`` wants operands of one dtype and one shape (a Python scalar
is the one exception). They are what every ``jnp`` function is built from.
"""
from __future__ import annotations

from ._src.primitives.elementwise import (  # noqa: F401
    abs, acos, acosh, add, bitcast_convert_type, complex, conj, imag, real, asin, asinh, atan, atan2, atanh, bitwise_and, bitwise_not, bitwise_or,
    bitwise_xor, cbrt, ceil, convert_element_type, cos, cosh, div, eq, erf, erf_inv, erfc, exp,
    exp2, expm1, floor, ge, gt, integer_pow, is_finite, le, lgamma, log, log1p, logistic, lt,
    max, min, mul, ne, neg, nextafter, population_count, pow, rem, round, rsqrt, select, select_n,
    shift_left, shift_right_arithmetic, shift_right_logical, sign, sin, sinh, sqrt, square,
    stop_gradient, sub, tan, tanh)
from ._src.primitives.reductions import (  # noqa: F401
    argmax, argmin, reduce_and, reduce_max, reduce_min, reduce_or, reduce_prod, reduce_sum,
    reduce_xor)
from ._src.primitives.shape import (  # noqa: F401
    broadcast_in_dim, broadcasted_iota, expand_dims, iota, reshape, rev, squeeze, transpose)
from ._src.primitives.concatenate import concatenate  # noqa: F401
from ._src.primitives.slicing import index_in_dim, pad, slice, slice_in_dim  # noqa: F401
from ._src.primitives.cumulative import (  # noqa: F401
    associative_scan, cummax, cummin, cumprod, cumsum)
from ._src.primitives.indexing import (  # noqa: F401
    dynamic_index_in_dim, dynamic_slice, dynamic_slice_in_dim, dynamic_update_index_in_dim,
    dynamic_update_slice, dynamic_update_slice_in_dim)
from ._src.primitives.linalg import batch_matmul, dot, dot_general  # noqa: F401
from ._src.primitives.sorting import sort, sort_key_val  # noqa: F401
from ._src.primitives.special import digamma, polygamma  # noqa: F401
from ._src.primitives.control_flow import cond, fori_loop, map, scan, switch, while_loop  # noqa: F401

bitwise_not = bitwise_not
not_ = bitwise_not
