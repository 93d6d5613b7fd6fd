"""``jnp.linalg``: norms, solvers, determinants and decompositions.

Each function checks and promotes its input (integers become floats), then calls
one of the primitives in ``_src/primitives/linalg.py`` -- whose JVP rules make all
of this differentiable, twice if you like. Matrix functions work on the last two
axes; leading axes are a batch, as in NumPy.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._src import dtypes
from .._src.core import Tracer, get_aval
from .._src.primitives import linalg as lax_linalg
from .._src.primitives.elementwise import (abs as lax_abs, convert_element_type, div, full, gt,
                                           mul, ne, pow, select_n, sqrt)
from .._src.primitives.reductions import reduce_max, reduce_min, reduce_or, reduce_sum
from .._src.primitives.shape import broadcast_in_dim, expand_dims, reshape, transpose
from ._linalg import cross as _cross, matmul as _matmul, outer as _outer, tensordot as _tensordot
from ._linalg import vecdot  # noqa: F401  (re-exported: jnp.linalg.vecdot)
from ._util import (as_operand, broadcast_shapes, canonicalize_axis, check_arraylike,
                    promote_dtypes_inexact)

__all__ = ["norm", "vector_norm", "matrix_norm", "inv", "solve", "det", "slogdet", "cholesky",
           "eigh", "eigvalsh", "matrix_power", "matrix_rank", "pinv", "qr", "svd", "svdvals",
           "multi_dot", "matmul", "tensordot", "vecdot", "outer", "cross", "trace", "diagonal",
           "matrix_transpose"]


class EighResult(NamedTuple):
    eigenvalues: object
    eigenvectors: object


class SlogdetResult(NamedTuple):
    sign: object
    logabsdet: object


class QRResult(NamedTuple):
    Q: object
    R: object


class SVDResult(NamedTuple):
    U: object
    S: object
    Vh: object


def _inexact(fname, *xs):
    check_arraylike(fname, *xs)
    return promote_dtypes_inexact(*[as_operand(x) for x in xs])


def _square(fname, a):
    (a,) = _inexact(fname, a)
    shape = get_aval(a).shape
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"Argument to {fname} must have shape [..., n, n] (a square matrix or "
                         f"a stack of them), got {shape}.")
    return a


def _matrix(fname, a):
    (a,) = _inexact(fname, a)
    if get_aval(a).ndim < 2:
        raise ValueError(f"Argument to {fname} must have shape [..., m, n] (at least 2-D), got "
                         f"{get_aval(a).shape}.")
    return a


def _mT(x):
    n = get_aval(x).ndim
    return transpose(x, tuple(range(n - 2)) + (n - 1, n - 2))


def matrix_transpose(x, /):
    """Swap the last two axes."""
    x = as_operand(x)
    if get_aval(x).ndim < 2:
        raise ValueError(f"matrix_transpose requires at least 2 dimensions, got shape "
                         f"{get_aval(x).shape}.")
    return _mT(x)


def _const(x, value):
    dtype = get_aval(x).dtype
    return convert_element_type(np.asarray(value, dtype), dtype)


# ---------------------------------------------------------------------------
# Solvers, inverse, determinants
# ---------------------------------------------------------------------------
def inv(a):
    """Matrix inverse (of each matrix in a stack), computed as ``solve(a, I)``.

    Prefer ``solve(a, b)`` to ``inv(a) @ b``: it is cheaper and more accurate.
    """
    return lax_linalg.inv(_square("inv", a))


def solve(a, b):
    """Solve ``a @ x = b`` for ``x``.

    ``b`` is a vector if it is 1-D (then ``x`` has shape ``a.shape[:-1]``); otherwise it
    is a (stack of) matrices of shape ``[..., n, k]`` whose leading axes broadcast
    against ``a``'s. (Before JAX 0.5 a ``b`` with ``b.ndim == a.ndim - 1`` was also a
    vector; now write ``solve(a, b[..., None])[..., 0]`` for that.)
    """
    a = _square("solve", a)
    (a, b) = _inexact("solve", a, b)
    ash, bsh = get_aval(a).shape, get_aval(b).shape
    n = ash[-1]
    if len(bsh) == 1:
        if bsh[0] != n:
            raise ValueError(f"solve: b of shape {bsh} does not match a of shape {ash}: need "
                             f"b.shape[0] == {n}.")
        b = broadcast_in_dim(b, ash[:-2] + (n, 1), (len(ash) - 2,))
        out = lax_linalg.solve(a, b)
        return reshape(out, ash[:-1])
    if len(bsh) < 2 or bsh[-2] != n:
        raise ValueError(f"Invalid shapes for solve: {ash}, {bsh}. b must be a vector of length "
                         f"{n} or have shape [..., {n}, k]; for a stack of vectors use "
                         f"solve(a, b[..., None])[..., 0].")
    batch = broadcast_shapes(ash[:-2], bsh[:-2])
    a = _to_batch(a, batch)
    b = _to_batch(b, batch)
    return lax_linalg.solve(a, b)


def _to_batch(x, batch):
    shape = get_aval(x).shape
    target = tuple(batch) + shape[-2:]
    if shape == target:
        return x
    return broadcast_in_dim(x, target, tuple(range(len(target) - len(shape), len(target))))


def det(a):
    """Determinant of each square matrix (derivative: ``det(a) * trace(inv(a) @ da)``)."""
    return lax_linalg.det(_square("det", a))


def slogdet(a, *, method=None):
    """``(sign, log|det|)``: the determinant in a form that neither overflows nor underflows."""
    del method
    sign, logdet = lax_linalg.slogdet(_square("slogdet", a))
    return SlogdetResult(sign, logdet)


def cholesky(a, *, upper=False, symmetrize_input=True):
    """Cholesky factor: lower ``L`` with ``a = L @ L.T`` (or upper ``U = L.T`` if ``upper``).

    ``a`` must be symmetric positive definite; otherwise the result is NaN (no exception).
    """
    L = lax_linalg.cholesky(_square("cholesky", a), symmetrize_input=symmetrize_input)
    return _mT(L) if upper else L


def eigh(a, UPLO=None, symmetrize_input=True):
    """Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix.

    Each eigenvector is only defined up to its sign, so differentiate functions that do
    not depend on the sign (like ``v * v``), and expect NaN-free gradients only for
    distinct eigenvalues.
    """
    a = _square("eigh", a)
    if UPLO not in (None, "L", "U"):
        raise ValueError(f"UPLO must be 'L' or 'U', got {UPLO!r}.")
    v, w = lax_linalg.eigh(a, lower=UPLO != "U", symmetrize_input=symmetrize_input)
    return EighResult(w, v)


def eigvalsh(a, UPLO="L", *, symmetrize_input=True):
    """Eigenvalues (ascending) of a symmetric matrix."""
    return eigh(a, UPLO, symmetrize_input).eigenvalues


def qr(a, mode="reduced"):
    """QR decomposition ``a = Q @ R``; ``mode`` is 'reduced', 'complete' or 'r'."""
    a = _matrix("qr", a)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"Unsupported QR decomposition mode {mode!r}; use 'reduced', "
                         f"'complete' or 'r'.")
    q, r = lax_linalg.qr(a, full_matrices=mode == "complete")
    return r if mode == "r" else QRResult(q, r)


def svd(a, full_matrices=True, compute_uv=True, hermitian=False, subset_by_index=None):
    """Singular value decomposition ``a = U @ diag(S) @ Vh``, singular values descending."""
    del hermitian
    if subset_by_index is not None:
        raise NotImplementedError("svd(subset_by_index=...) is not supported.")
    a = _matrix("svd", a)
    if not compute_uv:
        return lax_linalg.svd(a, full_matrices=False, compute_uv=False)
    u, s, vh = lax_linalg.svd(a, full_matrices=full_matrices)
    return SVDResult(u, s, vh)


def svdvals(x, /):
    """Singular values only, descending."""
    return svd(x, compute_uv=False)


def matrix_power(a, n):
    """``a @ a @ ... @ a`` (``n`` times) by repeated squaring; ``n < 0`` inverts first."""
    a = as_operand(a)
    shape = get_aval(a).shape
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"matrix_power requires a square matrix (or a stack of them), got "
                         f"shape {shape}.")
    if isinstance(n, Tracer) or not float(n).is_integer():
        raise TypeError(f"matrix_power: exponent must be a concrete integer, got {n!r}.")
    n = int(n)
    if n == 0:
        eye = lax_linalg._eye_like(a)
        return eye
    if n < 0:
        a = inv(a)
        n = -n
    result, base = None, a
    while n:
        if n & 1:
            result = base if result is None else _matmul(result, base)
        n >>= 1
        if n:
            base = _matmul(base, base)
    return result


def pinv(a, rtol=None, hermitian=False, *, rcond=None):
    """Moore-Penrose pseudo-inverse via the SVD: invert the singular values above
    ``rtol * max(singular value)``, set the rest to zero."""
    del hermitian
    a = _matrix("pinv", a)
    m, n = get_aval(a).shape[-2:]
    rtol = rcond if rtol is None else rtol
    u, s, vh = lax_linalg.svd(a, full_matrices=False)
    if rtol is None:
        rtol = 10 * max(m, n) * float(np.finfo(get_aval(s).dtype).eps)
    nd = get_aval(s).ndim
    cutoff = mul(expand_dims(reduce_max(s, (nd - 1,)), (nd - 1,)), _const(s, rtol))
    cutoff = broadcast_in_dim(cutoff, get_aval(s).shape, tuple(range(nd)))
    big = gt(s, cutoff)
    one = full(get_aval(s).shape, 1, get_aval(s).dtype)
    s_inv = select_n(big, full(get_aval(s).shape, 0, get_aval(s).dtype),
                     div(one, select_n(big, one, s)))
    ut = _mT(u)                                            # (..., k, m)
    s_inv_b = broadcast_in_dim(s_inv, get_aval(ut).shape, tuple(range(nd)))
    return _matmul(_mT(vh), mul(s_inv_b, ut))


def matrix_rank(M, rtol=None, *, hermitian=False, tol=None):
    """Number of singular values above ``rtol * max(singular value)`` (int32)."""
    del hermitian
    M = as_operand(M)
    if get_aval(M).ndim < 2:      # a vector (or scalar) has rank 1 unless it is all zeros
        (M,) = _inexact("matrix_rank", M)
        nz = reduce_or(ne(M, _const(M, 0)), tuple(range(get_aval(M).ndim)))
        return convert_element_type(nz, dtypes.default_int())
    M = _matrix("matrix_rank", M)
    s = svd(M, compute_uv=False)
    nd = get_aval(s).ndim
    m, n = get_aval(M).shape[-2:]
    top = reduce_max(s, (nd - 1,))
    if tol is not None:
        cutoff = convert_element_type(as_operand(tol), get_aval(s).dtype)
        cutoff = broadcast_in_dim(cutoff, get_aval(top).shape, ()) if get_aval(cutoff).ndim == 0 \
            else cutoff
    else:
        if rtol is None:
            rtol = max(m, n) * float(np.finfo(get_aval(s).dtype).eps)
        cutoff = mul(top, _const(top, rtol))
    cutoff = broadcast_in_dim(cutoff, get_aval(s).shape, tuple(range(nd - 1)))
    return reduce_sum(convert_element_type(gt(s, cutoff), dtypes.default_int()), (nd - 1,))


def multi_dot(arrays, *, precision=None):
    """``arrays[0] @ arrays[1] @ ...``; a 1-D first (last) array is a row (column) vector.

    (NumPy and JAX choose the cheapest parenthesization; here the product is taken left
    to right, which gives the same result up to rounding.)
    """
    arrays = [as_operand(a) for a in arrays]
    if len(arrays) < 2:
        raise ValueError(f"multi_dot requires at least two arrays, got {len(arrays)}.")
    out = arrays[0]
    for a in arrays[1:]:
        out = _matmul(out, a, precision=precision)
    return out


# ---------------------------------------------------------------------------
# Norms
# ---------------------------------------------------------------------------
def _abs(x):
    return lax_abs(x) if get_aval(x).dtype.kind != "c" else _complex_abs(x)


def _complex_abs(x):
    from .. import numpy as jnp
    return jnp.abs(x)


def _sum(x, axes):
    return reduce_sum(x, tuple(axes))


def _vector_norm(x, axes, ord):
    """Vector p-norm over ``axes`` (usually one axis; all axes for a flattened norm)."""
    if ord is None or ord == 2:
        ax = _abs(x) if get_aval(x).dtype.kind == "c" else x
        return sqrt(_sum(mul(ax, ax), axes))
    if isinstance(ord, str):
        raise ValueError(f"Invalid order '{ord}' for vector norm.")
    if ord == np.inf:
        return reduce_max(_abs(x), axes)
    if ord == -np.inf:
        return reduce_min(_abs(x), axes)
    if ord == 0:
        nz = ne(x, _const(x, 0))
        return _sum(convert_element_type(nz, _real_dtype(x)), axes)
    if ord == 1:
        return _sum(_abs(x), axes)
    ax = _abs(x)
    p = _const(ax, ord)
    return pow(_sum(pow(ax, p), axes), _const(ax, 1.0 / ord))


def _real_dtype(x):
    dtype = get_aval(x).dtype
    return np.finfo(dtype).dtype if dtype.kind == "c" else dtype


def _matrix_norm(x, row, col, ord):
    """Matrix norm over the ``row``/``col`` axes (ord: 'fro', 'nuc', 1, -1, inf, -inf, 2, -2)."""
    if ord is None or ord == "fro":
        return _vector_norm(x, (row, col), None)
    if ord in (1, -1):
        sums = _sum(_abs(x), (row,))
        col_after = col - 1 if col > row else col
        return (reduce_max if ord == 1 else reduce_min)(sums, (col_after,))
    if ord in (np.inf, -np.inf):
        sums = _sum(_abs(x), (col,))
        row_after = row - 1 if row > col else row
        return (reduce_max if ord == np.inf else reduce_min)(sums, (row_after,))
    if ord in ("nuc", 2, -2):
        nd = get_aval(x).ndim
        rest = tuple(d for d in range(nd) if d not in (row, col))
        x = transpose(x, rest + (row, col))
        s = lax_linalg.svd(x, full_matrices=False, compute_uv=False)
        last = (get_aval(s).ndim - 1,)
        if ord == "nuc":
            return reduce_sum(s, last)
        return (reduce_max if ord == 2 else reduce_min)(s, last)
    raise ValueError(f"Invalid order '{ord}' for matrix norm.")


def _keepdims(out, axes, ndim, keepdims):
    if not keepdims:
        return out
    return reshape(out, tuple(1 if d in axes else s for d, s in
                              zip(range(ndim), _full_shape(out, axes, ndim))))


def _full_shape(out, axes, ndim):
    shape = list(get_aval(out).shape)
    for d in sorted(axes):
        shape.insert(d, 1)
    return shape


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm, as ``numpy.linalg.norm``.

    ``axis=None``: the 2-norm of the flattened array if ``ord`` is None, else a vector norm
    (1-D input) or matrix norm (2-D input). One axis: vector norm with ``ord`` in
    {None/2, 1, inf, -inf, 0, any p}. Two axes: matrix norm with ``ord`` in
    {None/'fro', 'nuc', 1, -1, 2, -2, inf, -inf}.

    The 2-norm is ``sqrt(sum(x * x))``: its gradient ``x / norm(x)`` is finite wherever
    ``x != 0`` (at ``x == 0`` it is NaN, as in JAX).
    """
    (x,) = _inexact("norm", x)
    nd = get_aval(x).ndim
    if axis is None:
        if ord is None:
            axes = tuple(range(nd))
            return _keepdims(_vector_norm(x, axes, None), axes, nd, keepdims)
        if nd == 1:
            axis = (0,)
        elif nd == 2:
            axis = (0, 1)
        else:
            raise ValueError("Improper number of dimensions to norm: pass axis= to choose a "
                             "vector (one axis) or matrix (two axes) norm.")
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    axes = tuple(canonicalize_axis(a, nd) for a in axes)
    if len(axes) == 1:
        out = _vector_norm(x, axes, ord)
    elif len(axes) == 2:
        if axes[0] == axes[1]:
            raise ValueError(f"Duplicate axes given to norm: {axis}.")
        out = _matrix_norm(x, axes[0], axes[1], ord)
    else:
        raise ValueError(f"Improper number of axes for norm: axis={axis}. Pass one axis to "
                         f"compute a vector-norm, or two axes to compute a matrix-norm.")
    return _keepdims(out, axes, nd, keepdims)


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """Array-API vector norm; ``axis=None`` treats the whole array as one vector."""
    (x,) = _inexact("vector_norm", x)
    nd = get_aval(x).ndim
    if axis is None:
        axes = tuple(range(nd))
    else:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        axes = tuple(sorted(canonicalize_axis(a, nd) for a in axes))
    if not axes:
        return _abs(x)
    return _keepdims(_vector_norm(x, axes, ord), axes, nd, keepdims)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """Array-API matrix norm over the last two axes."""
    (x,) = _inexact("matrix_norm", x)
    nd = get_aval(x).ndim
    if nd < 2:
        raise ValueError(f"matrix_norm requires at least 2 dimensions, got shape "
                         f"{get_aval(x).shape}.")
    return norm(x, ord=ord, axis=(nd - 2, nd - 1), keepdims=keepdims)


# ---------------------------------------------------------------------------
# Array-API style helpers that live in jnp.linalg too
# ---------------------------------------------------------------------------
def matmul(x1, x2, /, *, precision=None, preferred_element_type=None):
    """Array-API ``matmul`` (same as ``jnp.matmul``)."""
    return _matmul(x1, x2, precision=precision, preferred_element_type=preferred_element_type)


def tensordot(x1, x2, /, *, axes=2, precision=None, preferred_element_type=None):
    """Array-API ``tensordot`` (same as ``jnp.tensordot``)."""
    return _tensordot(x1, x2, axes, precision=precision,
                      preferred_element_type=preferred_element_type)


def outer(x1, x2, /):
    """Outer product of two 1-D arrays."""
    for i, x in enumerate((x1, x2)):
        if np.ndim(x) != 1 and get_aval(as_operand(x)).ndim != 1:
            raise ValueError(f"Input arrays must be one-dimensional, but argument {i} has shape "
                             f"{get_aval(as_operand(x)).shape}.")
    return _outer(x1, x2)


def cross(x1, x2, /, *, axis=-1):
    """Cross product of 3-vectors along ``axis``."""
    for x in (x1, x2):
        if get_aval(as_operand(x)).shape[axis] != 3:
            raise ValueError("Both input arrays must be (arrays of) 3-dimensional vectors, but "
                             f"got shapes {get_aval(as_operand(x1)).shape} and "
                             f"{get_aval(as_operand(x2)).shape}.")
    return _cross(x1, x2, axis=axis)


def trace(x, /, *, offset=0, dtype=None):
    """Sum of diagonal ``offset`` of each matrix (last two axes)."""
    from ._linalg import trace as _trace
    return _trace(x, offset, -2, -1, dtype)


def diagonal(x, /, *, offset=0):
    """Diagonal ``offset`` of each matrix (last two axes)."""
    from ._creation_extra import diagonal as _diagonal
    return _diagonal(x, offset, -2, -1)
