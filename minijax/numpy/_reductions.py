"""Reductions: sum, mean, max, ... with NumPy's ``axis``/``keepdims`` conventions."""
from __future__ import annotations

from .._src import dtypes
from .._src.core import get_aval
from .._src.primitives import reductions as lax_red
from .._src.primitives.shape import expand_dims as _expand_dims
from ._util import as_operand, canonicalize_axes, promote_dtypes_numeric, requested_dtype

__all__ = ["sum"]


def _keep(x, axes, keepdims):
    return _expand_dims(x, axes) if keepdims else x


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """Sum of elements over ``axis`` (all axes by default). Booleans are counted as integers."""
    (a,) = promote_dtypes_numeric(as_operand(a))
    if dtype is not None:
        from .._src.primitives.elementwise import convert_element_type
        a = convert_element_type(a, requested_dtype(dtype))
    axes = canonicalize_axes(axis, get_aval(a).ndim)
    return _keep(lax_red.reduce_sum(a, axes), axes, keepdims)
