"""Linear algebra primitives: ``dot_general`` and the matrix decompositions/solvers.

dot_general
-----------
One primitive covers every product of arrays -- vector dot, matrix multiply,
batched matmul, tensordot, most of einsum. Its ``dimension_numbers`` are
``((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch))``:

* a *contracting* pair of axes is multiplied elementwise and summed away;
* a *batch* pair of axes is walked in lockstep (one product per index);
* every other axis is *free* and survives into the output.

The output layout is fixed (as in XLA/JAX): **batch axes, then lhs free axes,
then rhs free axes**, each group in increasing axis order. ``dot_general`` is
bilinear, so its JVP is two more dot_generals, and its transpose with respect
to one operand is a dot_general of the cotangent with the *other* operand,
followed by a transpose that puts the axes back where that operand had them.

Matrix functions
----------------
``solve``, ``det``, ``slogdet``, ``cholesky``, ``triangular_solve``, ``eigh``,
``qr`` and ``svd`` act on the last two axes; any leading axes are a batch
(that makes their vmap rules one line). Each JVP rule is written with these
same primitives and ``dot_general``, so derivatives of derivatives work.
Only ``solve`` and ``triangular_solve`` are linear (in their right-hand side)
and need transpose rules.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .. import dtypes
from ..core import Primitive, ShapedArray, get_aval, is_undefined_primal, is_zero
from .batch_util import bdim_at_front, batch_size, move_to_front
from .elementwise import (FLOAT, _check_kinds, add, convert_element_type, div, eq, full, mul,
                          select_n, sub, zeros_like_aval)
from .reductions import reduce_sum
from .shape import broadcast_in_dim, broadcasted_iota, transpose

# ===========================================================================
# dot_general
# ===========================================================================
dot_general_p = Primitive("dot_general")


def _free_dims(ndim, contracting, batch):
    return tuple(d for d in range(ndim) if d not in contracting and d not in batch)


def _check_dimension_numbers(lhs, rhs, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    for side, aval, c, b in (("lhs", lhs, lc, lb), ("rhs", rhs, rc, rb)):
        if any(not 0 <= d < aval.ndim for d in c + b):
            raise TypeError(
                f"dot_general requires {side} dimension numbers to be nonnegative and less than "
                f"the number of axes of the {side} value, got {side}_batch of {b} and "
                f"{side}_contracting of {c} for {side} of rank {aval.ndim}")
        if len(set(c)) != len(c):
            raise TypeError(f"dot_general requires {side} contracting dimensions to be distinct, "
                            f"got {side}_contracting {c}.")
        if len(set(b)) != len(b):
            raise TypeError(f"dot_general requires {side} batch dimensions to be distinct, "
                            f"got {side}_batch {b}.")
        if set(c) & set(b):
            raise TypeError(f"dot_general requires {side} batch dimensions to be disjoint from "
                            f"contracting dimensions, got {side}_batch {b} and "
                            f"{side}_contracting {c}.")
    if len(lc) != len(rc):
        raise TypeError(f"dot_general requires equal numbers of lhs and rhs contracting "
                        f"dimensions, got lhs_contracting {lc} and rhs_contracting {rc}.")
    if len(lb) != len(rb):
        raise TypeError(f"dot_general requires equal numbers of lhs and rhs batch dimensions, "
                        f"got lhs_batch {lb} and rhs_batch {rb}.")
    lb_shape = tuple(lhs.shape[d] for d in lb)
    rb_shape = tuple(rhs.shape[d] for d in rb)
    if lb_shape != rb_shape:
        raise TypeError(f"dot_general requires lhs batch dimensions and rhs batch dimensions to "
                        f"have the same shape, got {lb_shape} and {rb_shape}.")
    lc_shape = tuple(lhs.shape[d] for d in lc)
    rc_shape = tuple(rhs.shape[d] for d in rc)
    if lc_shape != rc_shape:
        raise TypeError(f"dot_general requires contracting dimensions to have the same shape, "
                        f"got {lc_shape} and {rc_shape}.")


@dot_general_p.def_abstract_eval
def _dot_general_abstract(lhs, rhs, *, dimension_numbers, preferred_element_type):
    _check_dimension_numbers(lhs, rhs, dimension_numbers)
    if lhs.dtype != rhs.dtype:
        raise TypeError(f"dot_general requires operands of the same dtype, got "
                        f"{lhs.dtype.name} and {rhs.dtype.name} (lax.dot_general and jnp "
                        f"functions promote them for you).")
    (lc, rc), (lb, rb) = dimension_numbers
    shape = (tuple(lhs.shape[d] for d in lb)
             + tuple(lhs.shape[d] for d in _free_dims(lhs.ndim, lc, lb))
             + tuple(rhs.shape[d] for d in _free_dims(rhs.ndim, rc, rb)))
    dtype = lhs.dtype if preferred_element_type is None else preferred_element_type
    weak = lhs.weak_type and rhs.weak_type and preferred_element_type is None
    return ShapedArray(shape, dtype, weak)


@dot_general_p.def_impl
def _dot_general_impl(lhs, rhs, *, dimension_numbers, preferred_element_type):
    """Canonicalize to one batched matmul, as XLA does: (B, M, K) @ (B, K, N).

    Transpose lhs to (batch, free, contracting) and rhs to (batch, contracting, free),
    flatten each group to one axis, call ``np.matmul`` (BLAS for floats), unflatten.
    """
    (lc, rc), (lb, rb) = dimension_numbers
    out_dtype = lhs.dtype if preferred_element_type is None else np.dtype(preferred_element_type)
    if np.promote_types(lhs.dtype, out_dtype) == out_dtype:   # accumulate in the wider type
        lhs, rhs = lhs.astype(out_dtype, copy=False), rhs.astype(out_dtype, copy=False)
    if lhs.ndim == 2 and rhs.ndim == 2 and not lb:           # the common case: one BLAS call
        if (lc, rc) == ((1,), (0,)):
            return (lhs @ rhs).astype(out_dtype, copy=False)
        if (lc, rc) == ((0,), (0,)):
            return (lhs.T @ rhs).astype(out_dtype, copy=False)
        if (lc, rc) == ((1,), (1,)):
            return (lhs @ rhs.T).astype(out_dtype, copy=False)
    lhs_perm, lhs3_shape, rhs_perm, rhs3_shape, out_shape = _matmul_plan(
        lhs.shape, rhs.shape, dimension_numbers)
    lhs3 = np.transpose(lhs, lhs_perm).reshape(lhs3_shape)
    rhs3 = np.transpose(rhs, rhs_perm).reshape(rhs3_shape)
    k = lhs3_shape[2]
    if lhs3.dtype == np.bool_:   # matmul of booleans: "any (a and b)"
        out = np.einsum("bmk,bkn->bmn", lhs3.astype(np.int64), rhs3.astype(np.int64)) > 0
    elif k == 1:   # outer products (e.g. per-example gradients): no sum, so just broadcast
        out = lhs3 * rhs3
    else:
        out = np.matmul(lhs3, rhs3)
    return out.reshape(out_shape).astype(out_dtype, copy=False)


@functools.lru_cache(maxsize=1024)
def _matmul_plan(lhs_shape, rhs_shape, dimension_numbers):
    """How to see ``dot_general`` as one batched matmul: permutations and 3-D shapes.

    Memoized: a compiled program calls the same contraction with the same shapes every time.
    """
    (lc, rc), (lb, rb) = dimension_numbers
    lf, rf = _free_dims(len(lhs_shape), lc, lb), _free_dims(len(rhs_shape), rc, rb)
    b_shape = tuple(lhs_shape[d] for d in lb)
    lf_shape = tuple(lhs_shape[d] for d in lf)
    rf_shape = tuple(rhs_shape[d] for d in rf)
    b, k = math.prod(b_shape), math.prod(lhs_shape[d] for d in lc)
    return (tuple(lb) + tuple(lf) + tuple(lc), (b, math.prod(lf_shape), k),
            tuple(rb) + tuple(rc) + tuple(rf), (b, k, math.prod(rf_shape)),
            b_shape + lf_shape + rf_shape)


@dot_general_p.def_jvp
def _dot_general_jvp(primals, tangents, **params):
    # Bilinear: d(x . y) = dx . y + x . dy
    (x, y), (tx, ty) = primals, tangents
    out = dot_general_p.bind(x, y, **params)
    terms = [dot_general_p.bind(tx, y, **params) if not is_zero(tx) else None,
             dot_general_p.bind(x, ty, **params) if not is_zero(ty) else None]
    terms = [t for t in terms if t is not None]     # a Zero tangent's product is skipped
    return out, terms[0] if len(terms) == 1 else add(*terms)


dot_general_p.jvp_accepts_zeros = True


def _ranks(dims):
    """Position of each entry of ``dims`` in ``sorted(dims)``."""
    order = sorted(dims)
    return [order.index(d) for d in dims]


def _dot_transpose_operand(ct, other, aval, contracting, other_contracting, batch, other_batch,
                           operand_is_lhs):
    """Cotangent of one operand of ``dot_general`` (given the other, known operand).

    ``ct`` has layout (batch, lhs free, rhs free). Contract ct's axes that belong to the
    *other* operand's free dims against those dims of ``other``, keeping the batch axes
    paired. What is left has layout (batch, our free dims, other's contracting dims); the
    other's contracting dims stand for *our* contracting dims, so one transpose puts every
    axis back where the operand had it.
    """
    nb = len(batch)
    free = _free_dims(aval.ndim, contracting, batch)
    other_free = _free_dims(get_aval(other).ndim, other_contracting, other_batch)
    first_other = nb + len(free) if operand_is_lhs else nb
    ct_other_free = tuple(range(first_other, first_other + len(other_free)))
    if get_aval(ct).dtype != get_aval(other).dtype:
        ct = convert_element_type(ct, get_aval(other).dtype)
    r = dot_general(ct, other, ((ct_other_free, other_free), (tuple(range(nb)), other_batch)),
                    preferred_element_type=aval.dtype)
    # Where each of the operand's axes sits in r.
    position = [0] * aval.ndim
    for i, d in enumerate(batch):
        position[d] = i
    for j, d in enumerate(free):
        position[d] = nb + j
    for d, rank in zip(contracting, _ranks(other_contracting)):
        position[d] = nb + len(free) + rank
    return transpose(r, tuple(position))


@dot_general_p.def_transpose
def _dot_general_transpose(ct, lhs, rhs, *, dimension_numbers, preferred_element_type):
    (lc, rc), (lb, rb) = dimension_numbers
    if is_undefined_primal(lhs) and is_undefined_primal(rhs):
        raise TypeError("internal error: dot_general is linear in one operand at a time")
    if is_undefined_primal(lhs):
        return [_dot_transpose_operand(ct, rhs, lhs.aval, lc, rc, lb, rb, True), None]
    return [None, _dot_transpose_operand(ct, lhs, rhs.aval, rc, lc, rb, lb, False)]


def _shift(dims, by=1):
    return tuple(d + by for d in dims)


@dot_general_p.def_batch
def _dot_general_batch(args, dims, *, dimension_numbers, preferred_element_type):
    """vmap: no loop, just new dimension numbers.

    * both operands batched: the vmapped axis becomes one more *batch* dimension
      (first in the output);
    * one operand batched: the vmapped axis becomes one more *free* dimension of that
      operand (cheaper than broadcasting the other operand); its output position
      follows from the fixed (batch, lhs free, rhs free) layout.
    """
    (lhs, rhs), (ld, rd) = args, dims
    (lc, rc), (lb, rb) = dimension_numbers
    kw = dict(preferred_element_type=preferred_element_type)
    if ld is not None and rd is not None:
        lhs, rhs = move_to_front(lhs, ld), move_to_front(rhs, rd)
        dn = ((_shift(lc), _shift(rc)), ((0,) + _shift(lb), (0,) + _shift(rb)))
        return dot_general_p.bind(lhs, rhs, dimension_numbers=dn, **kw), 0
    if ld is not None:
        lhs = move_to_front(lhs, ld)       # axis 0: the first lhs free axis
        dn = ((_shift(lc), rc), (_shift(lb), rb))
        return dot_general_p.bind(lhs, rhs, dimension_numbers=dn, **kw), len(lb)
    rhs = move_to_front(rhs, rd)           # axis 0: the first rhs free axis
    dn = ((lc, _shift(rc)), (lb, _shift(rb)))
    lhs_free = len(_free_dims(get_aval(lhs).ndim, lc, lb))
    return dot_general_p.bind(lhs, rhs, dimension_numbers=dn, **kw), len(lb) + lhs_free


def _canon_dims(dims):
    return tuple(int(d) for d in dims)


def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None):
    """General tensor contraction (``lax.dot_general``).

    ``dimension_numbers = ((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch))``.
    Output axes: batch axes, then lhs free axes, then rhs free axes. Operands of different
    dtypes are promoted to a common dtype first (as JAX does). ``precision`` is accepted and
    ignored (NumPy always computes at full precision).
    """
    del precision
    (lc, rc), (lb, rb) = dimension_numbers
    dn = ((_canon_dims(lc), _canon_dims(rc)), (_canon_dims(lb), _canon_dims(rb)))
    lhs, rhs = _promote_pair(lhs, rhs)
    pref = None if preferred_element_type is None else dtypes.canonicalize(preferred_element_type)
    if pref is not None and pref == get_aval(lhs).dtype:
        pref = None
    return dot_general_p.bind(lhs, rhs, dimension_numbers=dn, preferred_element_type=pref)


def _promote_pair(x, y):
    if dtypes.is_python_scalar(x) or isinstance(x, (np.ndarray, np.generic)):
        x = _as_array(x)
    if dtypes.is_python_scalar(y) or isinstance(y, (np.ndarray, np.generic)):
        y = _as_array(y)
    xa, ya = get_aval(x), get_aval(y)
    if xa.dtype == ya.dtype:
        return x, y
    dtype, weak = dtypes.result_type((xa.dtype, xa.weak_type), (ya.dtype, ya.weak_type))
    return convert_element_type(x, dtype, weak), convert_element_type(y, dtype, weak)


def _as_array(x):
    from ..array import Array
    if dtypes.is_python_scalar(x):
        return Array(np.asarray(x, dtypes.dtype_of_scalar(x)), weak_type=True)
    return Array(np.asarray(x, dtypes.canonicalize(np.asarray(x).dtype)))


def dot(lhs, rhs, precision=None, preferred_element_type=None):
    """``lax.dot``: vector-vector, matrix-vector or matrix-matrix product (ranks 1 or 2)."""
    ls, rs = np.shape(lhs), np.shape(rhs)
    if not (1 <= len(ls) <= 2 and 1 <= len(rs) <= 2):
        raise ValueError(f"lax.dot: dimension_numbers must be specified when not performing "
                         f"simple un-batched matrix-matrix, matrix-vector, or vector-vector "
                         f"products; got lhs_shape={ls} rhs_shape={rs}. Use lax.dot_general.")
    return dot_general(lhs, rhs, (((len(ls) - 1,), (0,)), ((), ())),
                       precision=precision, preferred_element_type=preferred_element_type)


def batch_matmul(lhs, rhs, precision=None):
    """``lax.batch_matmul``: matmul over the last two axes, all leading axes are batch axes."""
    ls, rs = get_aval(lhs).shape, get_aval(rhs).shape
    if len(ls) != len(rs) or len(ls) < 2:
        raise ValueError(f"batch_matmul requires operands of equal rank >= 2, got shapes "
                         f"{ls} and {rs}.")
    n = len(ls)
    batch = tuple(range(n - 2))
    return dot_general(lhs, rhs, (((n - 1,), (n - 2,)), (batch, batch)), precision=precision)


# ===========================================================================
# Helpers for the matrix rules (all written with primitives, so differentiable)
# ===========================================================================
def _mT(x):
    """Swap the last two axes."""
    n = get_aval(x).ndim
    return transpose(x, tuple(range(n - 2)) + (n - 1, n - 2))


def _matmul(a, b):
    """Batched ``a @ b`` for operands with identical leading (batch) axes."""
    n = get_aval(a).ndim
    batch = tuple(range(n - 2))
    return dot_general(a, b, (((n - 1,), (n - 2,)), (batch, batch)))


def _tri_mask(shape, k=0, lower=True):
    """Boolean ``shape``-array: true on and below (``lower``) / above diagonal ``k``."""
    from .elementwise import ge, le
    n = len(shape)
    rows = broadcasted_iota(np.int32, shape, n - 2)
    cols = broadcasted_iota(np.int32, shape, n - 1)
    offset = sub(cols, rows)                       # which diagonal each element is on
    k = full((), k, np.int32)
    return le(offset, k) if lower else ge(offset, k)


def _eye_mask(shape):
    n = len(shape)
    return eq(broadcasted_iota(np.int32, shape, n - 2), broadcasted_iota(np.int32, shape, n - 1))


def _zeros(x):
    return zeros_like_aval(get_aval(x))


def _keep(mask, x):
    """``x`` where ``mask`` else 0 (select, not multiply: inf/nan elsewhere stay out)."""
    return select_n(mask, _zeros(x), x)


def _diag_part(x):
    """Main diagonal of the (square) last two axes: shape (..., n)."""
    return reduce_sum(_keep(_eye_mask(get_aval(x).shape), x), (get_aval(x).ndim - 1,))


def _trace(x):
    return reduce_sum(_diag_part(x), (get_aval(x).ndim - 2,))


def _diag_embed(d):
    """(..., n) -> (..., n, n) with ``d`` on the diagonal."""
    shape = get_aval(d).shape
    out_shape = shape + (shape[-1],)
    n = len(shape)
    return _keep(_eye_mask(out_shape), broadcast_in_dim(d, out_shape, tuple(range(n))))


def _eye_like(x):
    aval = get_aval(x)
    return convert_element_type(_eye_mask(aval.shape), aval.dtype)


def _check_square(name, x):
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{name}: argument must have shape [..., n, n] (a stack of square "
                         f"matrices), got {x.shape}.")
    _check_kinds(name, x.dtype, FLOAT)


def _batch_all(prim, **fixed):
    """vmap rule for primitives that treat all leading axes as a batch."""
    def rule(args, dims, **params):
        size = batch_size(args, dims)
        args = [bdim_at_front(x, d, size) for x, d in zip(args, dims)]
        out = prim.bind(*args, **params)
        return (out, [0] * len(out)) if prim.multiple_results else (out, 0)
    prim.def_batch(rule)


# ===========================================================================
# solve(a, b): x with a @ x = b   (b has shape (..., n, k))
# ===========================================================================
solve_p = Primitive("solve")
solve_p.def_impl(lambda a, b: np.linalg.solve(a, b))


@solve_p.def_abstract_eval
def _solve_abstract(a, b):
    _check_square("solve", a)
    if b.ndim != a.ndim or b.shape[:-2] != a.shape[:-2] or b.shape[-2] != a.shape[-1]:
        raise ValueError(f"solve: right-hand side must have shape [..., n, k] matching a of "
                         f"shape {a.shape}, got {b.shape}.")
    if a.dtype != b.dtype:
        raise TypeError(f"solve requires equal dtypes, got {a.dtype.name} and {b.dtype.name}.")
    return ShapedArray(b.shape, b.dtype, a.weak_type and b.weak_type)


@solve_p.def_jvp
def _solve_jvp(primals, tangents):
    # a x = b  =>  da x + a dx = db  =>  dx = solve(a, db - da x)
    (a, b), (da, db) = primals, tangents
    x = solve(a, b)
    return x, solve(a, sub(db, _matmul(da, x)))


@solve_p.def_transpose
def _solve_transpose(ct, a, b):
    if is_undefined_primal(a):
        raise TypeError("internal error: solve is linear only in its right-hand side")
    return [None, solve(_mT(a), ct)]


_batch_all(solve_p)


def solve(a, b):
    """``x`` with ``a @ x == b``; ``a``: (..., n, n), ``b``: (..., n, k), same leading axes."""
    return solve_p.bind(a, b)


def inv(a):
    """Matrix inverse, as ``solve(a, I)``."""
    return solve(a, _eye_like(a))


# ===========================================================================
# det and slogdet
# ===========================================================================
det_p = Primitive("det")
det_p.def_impl(lambda a: np.linalg.det(a))


@det_p.def_abstract_eval
def _det_abstract(a):
    _check_square("det", a)
    return ShapedArray(a.shape[:-2], a.dtype, a.weak_type)


@det_p.def_jvp
def _det_jvp(primals, tangents):
    # Jacobi's formula: d det(a) = det(a) * trace(a^-1 da)   (needs a invertible)
    (a,), (da,) = primals, tangents
    y = det(a)
    return y, mul(y, _trace(solve(a, da)))


_batch_all(det_p)


def det(a):
    return det_p.bind(a)


slogdet_p = Primitive("slogdet", multiple_results=True)
slogdet_p.def_impl(lambda a: list(np.linalg.slogdet(a)))


@slogdet_p.def_abstract_eval
def _slogdet_abstract(a):
    _check_square("slogdet", a)
    return [ShapedArray(a.shape[:-2], a.dtype), ShapedArray(a.shape[:-2], a.dtype)]


@slogdet_p.def_jvp
def _slogdet_jvp(primals, tangents):
    # sign is piecewise constant; d log|det a| = trace(a^-1 da)
    (a,), (da,) = primals, tangents
    sign, logdet = slogdet_p.bind(a)
    return [sign, logdet], [_zeros(sign), _trace(solve(a, da))]


_batch_all(slogdet_p)


def slogdet(a):
    """``(sign, log|det a|)``: the determinant without overflow."""
    return tuple(slogdet_p.bind(a))


# ===========================================================================
# triangular_solve
# ===========================================================================
triangular_solve_p = Primitive("triangular_solve")


def _op(a, transpose_a, conjugate_a):
    if conjugate_a:
        a = np.conj(a)
    return np.swapaxes(a, -1, -2) if transpose_a else a


def _triangle(a, lower, unit_diagonal):
    """Only one triangle of ``a`` is read; the rest is treated as zero."""
    t = np.tril(a) if lower else np.triu(a)
    if unit_diagonal:
        n = a.shape[-1]
        t = t.copy()
        t[..., np.arange(n), np.arange(n)] = 1
    return t


@triangular_solve_p.def_impl
def _triangular_solve_impl(a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    op_a = _op(_triangle(a, lower, unit_diagonal), transpose_a, conjugate_a)
    if left_side:                                   # op(a) x = b
        return np.linalg.solve(op_a, b)
    # x op(a) = b  <=>  op(a)^T x^T = b^T
    return np.swapaxes(np.linalg.solve(np.swapaxes(op_a, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)


@triangular_solve_p.def_abstract_eval
def _triangular_solve_abstract(a, b, *, left_side, lower, transpose_a, conjugate_a,
                               unit_diagonal):
    _check_square("triangular_solve", a)
    m = a.shape[-1]
    axis = -2 if left_side else -1
    if b.ndim != a.ndim or b.shape[:-2] != a.shape[:-2] or b.shape[axis] != m:
        side = "[..., m, n]" if left_side else "[..., n, m]"
        raise ValueError(f"triangular_solve: b must have shape {side} with m={m} and the same "
                         f"leading axes as a (shape {a.shape}), got {b.shape} "
                         f"(left_side={left_side}).")
    if a.dtype != b.dtype:
        raise TypeError(f"triangular_solve requires equal dtypes, got {a.dtype.name} and "
                        f"{b.dtype.name}.")
    return ShapedArray(b.shape, b.dtype, a.weak_type and b.weak_type)


def _masked_triangle(a, lower, unit_diagonal):
    """The part of ``a`` that triangular_solve reads, as a traceable expression."""
    k = (-1 if lower else 1) if unit_diagonal else 0   # a unit diagonal is not read either
    mask = _tri_mask(get_aval(a).shape, k, lower)
    return _keep(mask, a)


@triangular_solve_p.def_jvp
def _triangular_solve_jvp(primals, tangents, **params):
    # left:  op(a) x = b  =>  dx = op(a)^-1 (db - op(da) x)
    # right: x op(a) = b  =>  dx = (db - x op(da)) op(a)^-1
    (a, b), (da, db) = primals, tangents
    x = triangular_solve_p.bind(a, b, **params)
    da = _masked_triangle(da, params["lower"], params["unit_diagonal"])
    op_da = _mT(da) if params["transpose_a"] else da
    rhs = sub(db, _matmul(op_da, x) if params["left_side"] else _matmul(x, op_da))
    return x, triangular_solve_p.bind(a, rhs, **params)


@triangular_solve_p.def_transpose
def _triangular_solve_transpose(ct, a, b, *, transpose_a, **params):
    if is_undefined_primal(a):
        raise TypeError("internal error: triangular_solve is linear only in b")
    # x = op(a)^-1 b  =>  ct_b = op(a)^-T ct   (same on the right side)
    return [None, triangular_solve_p.bind(a, ct, transpose_a=not transpose_a, **params)]


_batch_all(triangular_solve_p)


def triangular_solve(a, b, left_side=False, lower=False, transpose_a=False, conjugate_a=False,
                     unit_diagonal=False):
    """Solve ``op(a) x = b`` (``left_side``) or ``x op(a) = b`` with triangular ``a``.

    ``op(a)`` is ``a``, ``a.T`` (``transpose_a``) or their conjugates; only the ``lower``
    (or upper) triangle of ``a`` is read. Same defaults as ``jax.lax.linalg.triangular_solve``.
    """
    return triangular_solve_p.bind(a, b, left_side=bool(left_side), lower=bool(lower),
                                   transpose_a=bool(transpose_a), conjugate_a=bool(conjugate_a),
                                   unit_diagonal=bool(unit_diagonal))


# ===========================================================================
# cholesky: a = L L^T with L lower triangular
# ===========================================================================
cholesky_p = Primitive("cholesky")


@cholesky_p.def_impl
def _cholesky_impl(a):
    try:
        return np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        # JAX does not raise on a matrix that is not positive definite: it returns NaNs.
        return np.full_like(a, np.nan)


@cholesky_p.def_abstract_eval
def _cholesky_abstract(a):
    _check_square("cholesky", a)
    return ShapedArray(a.shape, a.dtype, a.weak_type)


@cholesky_p.def_jvp
def _cholesky_jvp(primals, tangents):
    # dL = L Phi(L^-1 dA L^-T), Phi = lower triangle with the diagonal halved.
    (a,), (da,) = primals, tangents
    L = cholesky_p.bind(a)
    tmp = triangular_solve(L, da, left_side=True, lower=True)                   # L^-1 dA
    tmp = triangular_solve(L, tmp, left_side=False, lower=True, transpose_a=True)  # ... L^-T
    shape = get_aval(a).shape
    half = full((), 0.5, get_aval(a).dtype)
    phi = select_n(_eye_mask(shape), _keep(_tri_mask(shape, 0, True), tmp), mul(tmp, half))
    return L, _matmul(L, phi)


_batch_all(cholesky_p)


def cholesky(x, symmetrize_input=True):
    """Lower Cholesky factor ``L`` of a symmetric positive-definite ``x`` (``x = L L^T``).

    With ``symmetrize_input`` the factorization sees ``(x + x^T) / 2``, so derivatives
    treat the input as symmetric (as JAX does). A non-positive-definite input gives NaNs.
    """
    if symmetrize_input:
        x = _symmetrize(x)
    return cholesky_p.bind(x)


def _symmetrize(x):
    return div(add(x, _mT(x)), full((), 2, get_aval(x).dtype))


# ===========================================================================
# eigh: symmetric eigendecomposition  a = v diag(w) v^T, w ascending
# ===========================================================================
eigh_p = Primitive("eigh", multiple_results=True)


@eigh_p.def_impl
def _eigh_impl(a, *, lower):
    w, v = np.linalg.eigh(a, UPLO="L" if lower else "U")
    return [v, w]


@eigh_p.def_abstract_eval
def _eigh_abstract(a, *, lower):
    _check_square("eigh", a)
    real = np.finfo(a.dtype).dtype
    return [ShapedArray(a.shape, a.dtype), ShapedArray(a.shape[:-1], real)]


@eigh_p.def_jvp
def _eigh_jvp(primals, tangents, *, lower):
    # With a v = v w and v^T v = I:  let M = v^T da v. Then
    #   dw = diag(M),   dv = v (F o M),   F_ij = 1 / (w_j - w_i) off the diagonal, 0 on it.
    # Valid for distinct eigenvalues (F blows up for repeated ones, as in JAX).
    (a,), (da,) = primals, tangents
    v, w = eigh_p.bind(a, lower=lower)
    m = _matmul(_mT(v), _matmul(da, v))
    shape = get_aval(a).shape
    nd = len(shape)
    w_row = broadcast_in_dim(w, shape, tuple(range(nd - 2)) + (nd - 1,))   # w_j
    w_col = broadcast_in_dim(w, shape, tuple(range(nd - 1)))               # w_i
    eye = _eye_mask(shape)
    one = full(shape, 1, get_aval(w).dtype)
    gap = select_n(eye, sub(w_row, w_col), one)   # safe: never divide by the zero diagonal
    f = _keep(_off(eye), div(one, gap))
    dv = _matmul(v, mul(f, m))
    return [v, w], [dv, _diag_part(m)]


def _off(mask):
    from .elementwise import bitwise_not
    return bitwise_not(mask)


_batch_all(eigh_p)


def eigh(x, lower=True, symmetrize_input=True, sort_eigenvalues=True):
    """``(v, w)``: eigenvectors (columns) and ascending eigenvalues of a symmetric ``x``.

    The order ``(v, w)`` follows ``jax.lax.linalg.eigh``; ``jnp.linalg.eigh`` returns
    ``(w, v)`` like NumPy. ``sort_eigenvalues`` is accepted; NumPy always sorts.
    """
    del sort_eigenvalues
    if symmetrize_input:
        x = _symmetrize(x)
    v, w = eigh_p.bind(x, lower=bool(lower))
    return v, w


# ===========================================================================
# qr: a = q r  (reduced: q (..., m, k), r (..., k, n), k = min(m, n))
# ===========================================================================
qr_p = Primitive("qr", multiple_results=True)


@qr_p.def_impl
def _qr_impl(a, *, full_matrices):
    q, r = np.linalg.qr(a, mode="complete" if full_matrices else "reduced")
    return [q, r]


@qr_p.def_abstract_eval
def _qr_abstract(a, *, full_matrices):
    if a.ndim < 2:
        raise ValueError(f"qr: argument must have shape [..., m, n], got {a.shape}.")
    _check_kinds("qr", a.dtype, FLOAT)
    *batch, m, n = a.shape
    k = m if full_matrices else min(m, n)
    return [ShapedArray(tuple(batch) + (m, k), a.dtype), ShapedArray(tuple(batch) + (k, n), a.dtype)]


@qr_p.def_jvp
def _qr_jvp(primals, tangents, *, full_matrices):
    # For m >= n (reduced): with C = q^T da r^-1 and  omega = tril(C, -1) - tril(C, -1)^T,
    #   dq = q omega + (da - q q^T da) r^-1,     dr = (q^T da - omega r)
    (a,), (da,) = primals, tangents
    q, r = qr_p.bind(a, full_matrices=full_matrices)
    m, n = get_aval(a).shape[-2:]
    if m < n or (full_matrices and m != n):
        raise NotImplementedError("qr derivative is implemented for m >= n with reduced "
                                  "matrices (full_matrices=False), as in JAX.")
    qt_da = _matmul(_mT(q), da)
    c = triangular_solve(r, qt_da, left_side=False, lower=False)          # q^T da r^-1
    low = _keep(_tri_mask(get_aval(c).shape, -1, True), c)
    omega = sub(low, _mT(low))
    da_rinv = triangular_solve(r, da, left_side=False, lower=False)
    dq = add(_matmul(q, omega), sub(da_rinv, _matmul(q, _matmul(_mT(q), da_rinv))))
    dr = sub(qt_da, _matmul(omega, r))
    return [q, r], [dq, dr]


_batch_all(qr_p)


def qr(x, full_matrices=True):
    """``(q, r)`` with orthonormal columns in ``q`` and upper-triangular ``r``."""
    q, r = qr_p.bind(x, full_matrices=bool(full_matrices))
    return q, r


# ===========================================================================
# svd: a = u diag(s) vh  (reduced: u (..., m, k), s (..., k), vh (..., k, n))
# ===========================================================================
svd_p = Primitive("svd", multiple_results=True)


@svd_p.def_impl
def _svd_impl(a, *, full_matrices):
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    return [s, u, vh]


@svd_p.def_abstract_eval
def _svd_abstract(a, *, full_matrices):
    if a.ndim < 2:
        raise ValueError(f"svd: argument must have shape [..., m, n], got {a.shape}.")
    _check_kinds("svd", a.dtype, FLOAT)
    *batch, m, n = a.shape
    batch, k = tuple(batch), min(m, n)
    ku, kv = (m, n) if full_matrices else (k, k)
    return [ShapedArray(batch + (k,), a.dtype), ShapedArray(batch + (m, ku), a.dtype),
            ShapedArray(batch + (kv, n), a.dtype)]


@svd_p.def_jvp
def _svd_jvp(primals, tangents, *, full_matrices):
    # Reduced SVD, distinct nonzero singular values. With M = u^T da v:
    #   ds = diag(M)
    #   du = u (F o (M s + s M^T)) + (I - u u^T) da v / s
    #   dv = v (F o (s M + M^T s)) + (I - v v^T) da^T u / s
    # where F_ij = 1 / (s_j^2 - s_i^2) off the diagonal, 0 on it.
    (a,), (da,) = primals, tangents
    s, u, vh = svd_p.bind(a, full_matrices=full_matrices)
    if full_matrices and get_aval(a).shape[-1] != get_aval(a).shape[-2]:
        raise NotImplementedError("svd derivative needs full_matrices=False for non-square "
                                  "inputs, as in JAX.")
    v = _mT(vh)
    m = _matmul(_mT(u), _matmul(da, v))
    ds = _diag_part(m)
    kshape = get_aval(m).shape
    nd = len(kshape)
    s_row = broadcast_in_dim(s, kshape, tuple(range(nd - 2)) + (nd - 1,))   # s_j
    s_col = broadcast_in_dim(s, kshape, tuple(range(nd - 1)))               # s_i
    eye = _eye_mask(kshape)
    one = full(kshape, 1, get_aval(s).dtype)
    gap = select_n(eye, sub(mul(s_row, s_row), mul(s_col, s_col)), one)
    f = _keep(_off(eye), div(one, gap))
    s_diag = _diag_embed(s)
    du = _matmul(u, mul(f, add(_matmul(m, s_diag), _matmul(s_diag, _mT(m)))))
    dv = _matmul(v, mul(f, add(_matmul(s_diag, m), _matmul(_mT(m), s_diag))))
    # Components outside the span of u / v (only for rectangular inputs).
    dav = _matmul(da, v)
    dav = div(dav, broadcast_in_dim(s, get_aval(dav).shape, tuple(range(nd - 2)) + (nd - 1,)))
    du = add(du, sub(dav, _matmul(u, _matmul(_mT(u), dav))))
    dau = _matmul(_mT(da), u)
    dau = div(dau, broadcast_in_dim(s, get_aval(dau).shape, tuple(range(nd - 2)) + (nd - 1,)))
    dv = add(dv, sub(dau, _matmul(v, _matmul(_mT(v), dau))))
    return [s, u, vh], [ds, du, _mT(dv)]


_batch_all(svd_p)


def svd(x, full_matrices=True, compute_uv=True):
    """``(u, s, vh)`` (or just ``s``) with ``x = u @ diag(s) @ vh``, as ``lax.linalg.svd``."""
    s, u, vh = svd_p.bind(x, full_matrices=bool(full_matrices))
    return (u, s, vh) if compute_uv else s


__all__ = ["dot_general", "dot", "batch_matmul", "solve", "inv", "det", "slogdet",
           "triangular_solve", "cholesky", "eigh", "qr", "svd"]
