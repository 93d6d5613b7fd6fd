"""Products of arrays: dot, matmul (``a @ b``), tensordot, einsum, kron, cross, trace.

Every function here ends in the single ``dot_general`` primitive (see
``_src/primitives/linalg.py``): they only differ in *which axes* they contract,
which they batch over and which they keep. Reading them side by side is a good
way to learn ``dot_general``'s ``dimension_numbers``:

=============  =====================================  =====================
function       contract                               batch
=============  =====================================  =====================
dot(a, b)      a's last axis with b's second-to-last   none
matmul(a, b)   a's last axis with b's second-to-last   the leading axes
tensordot      the ``axes`` you name                   none
einsum         labels shared and not in the output     labels shared *and* kept
=============  =====================================  =====================
"""
from __future__ import annotations

import string

import numpy as np

from .._src import dtypes
from .._src.core import get_aval
from .._src.primitives import linalg as lax_linalg
from .._src.primitives.elementwise import convert_element_type, eq, mul, select_n, sub
from .._src.primitives.reductions import reduce_or, reduce_sum
from .._src.primitives.shape import broadcast_in_dim, broadcasted_iota, reshape, transpose
from ._util import (as_operand, broadcast_shapes, canonicalize_axis, check_arraylike,
                    promote_dtypes, promote_shapes, requested_dtype)

__all__ = ["dot", "matmul", "vdot", "vecdot", "inner", "outer", "tensordot", "einsum", "kron",
           "cross", "trace", "matvec", "vecmat"]


def _promote(fname, *args):
    check_arraylike(fname, *args)
    return promote_dtypes(*[as_operand(a) for a in args])


def _pref(preferred_element_type):
    return None if preferred_element_type is None else requested_dtype(preferred_element_type)


def dot(a, b, *, precision=None, preferred_element_type=None):
    """NumPy's ``dot``: a scalar operand multiplies; otherwise contract ``a``'s last axis
    with ``b``'s second-to-last (its only axis if ``b`` is a vector).

    The output axes are ``a``'s remaining axes followed by ``b``'s.
    """
    a, b = _promote("dot", a, b)
    an, bn = get_aval(a).ndim, get_aval(b).ndim
    if an == 0 or bn == 0:
        a, b = promote_shapes(a, b)
        return mul(a, b)
    b_axis = 0 if bn == 1 else bn - 2
    return lax_linalg.dot_general(a, b, (((an - 1,), (b_axis,)), ((), ())), precision,
                                  _pref(preferred_element_type))


def matmul(a, b, *, precision=None, preferred_element_type=None):
    """Matrix product with NumPy's ``@`` rules (``a @ b`` calls this).

    Vectors get a temporary axis (prepended for ``a``, appended for ``b``) that is
    dropped again; all axes before the last two are batch axes and broadcast.
    """
    a, b = _promote("matmul", a, b)
    for i, x in enumerate((a, b)):
        if get_aval(x).ndim == 0:
            raise ValueError(f"matmul input operand {i} must have ndim at least 1, but it has "
                             f"ndim 0. Use jnp.multiply (or *) to scale by a scalar.")
    a_vec, b_vec = get_aval(a).ndim == 1, get_aval(b).ndim == 1
    pref = _pref(preferred_element_type)
    if b_vec or (a_vec and get_aval(b).ndim >= 2):
        # A vector operand needs no temporary axis: contract it directly (one dot_general).
        a_axis = get_aval(a).ndim - 1
        b_axis = 0 if b_vec else get_aval(b).ndim - 2
        return lax_linalg.dot_general(a, b, (((a_axis,), (b_axis,)), ((), ())), precision, pref)
    if a_vec:
        a = reshape(a, (1,) + get_aval(a).shape)
    if b_vec:
        b = reshape(b, get_aval(b).shape + (1,))
    ash, bsh = get_aval(a).shape, get_aval(b).shape
    if len(bsh) == 2:
        # b has no batch axes: contract directly, a's leading axes are free axes.
        out = lax_linalg.dot_general(a, b, (((len(ash) - 1,), (0,)), ((), ())), precision, pref)
    elif len(ash) == 2:
        # a has no batch axes: result is (m, *batch, n); move m next to n.
        out = lax_linalg.dot_general(a, b, (((1,), (len(bsh) - 2,)), ((), ())), precision, pref)
        nd = get_aval(out).ndim
        out = transpose(out, tuple(range(1, nd - 1)) + (0, nd - 1))
    else:
        batch = broadcast_shapes(ash[:-2], bsh[:-2])
        a = _broadcast_batch(a, batch)
        b = _broadcast_batch(b, batch)
        nb = len(batch)
        out = lax_linalg.dot_general(a, b, (((nb + 1,), (nb,)), (tuple(range(nb)),) * 2),
                                     precision, pref)
    shape = get_aval(out).shape
    if a_vec and b_vec:
        return reshape(out, shape[:-2])
    if a_vec:
        return reshape(out, shape[:-2] + shape[-1:])
    if b_vec:
        return reshape(out, shape[:-1])
    return out


def _broadcast_batch(x, batch):
    shape = get_aval(x).shape
    target = tuple(batch) + shape[-2:]
    if shape == target:
        return x
    lead = len(target) - len(shape)
    return broadcast_in_dim(x, target, tuple(range(lead, len(target))))


def matvec(x1, x2, /):
    """Batched matrix-vector product: ``x1 @ x2[..., None]`` without the extra axis."""
    x1, x2 = _promote("matvec", x1, x2)
    return _squeeze_last(matmul(x1, reshape(x2, get_aval(x2).shape + (1,))))


def vecmat(x1, x2, /):
    """Batched vector-matrix product: ``x1[..., None, :] @ x2`` without the extra axis."""
    x1, x2 = _promote("vecmat", x1, x2)
    shape = get_aval(x1).shape
    out = matmul(reshape(x1, shape[:-1] + (1,) + shape[-1:]), x2)
    oshape = get_aval(out).shape
    return reshape(out, oshape[:-2] + oshape[-1:])


def _squeeze_last(x):
    return reshape(x, get_aval(x).shape[:-1])


def _conj(x):
    if dtypes.np.dtype(get_aval(x).dtype).kind == "c":
        from . import conjugate
        return conjugate(x)
    return x


def vdot(a, b, *, precision=None, preferred_element_type=None):
    """Flatten both, conjugate the first, and take the dot product."""
    a, b = _promote("vdot", a, b)
    a, b = reshape(a, (get_aval(a).size,)), reshape(b, (get_aval(b).size,))
    return dot(_conj(a), b, precision=precision, preferred_element_type=preferred_element_type)


def vecdot(x1, x2, /, *, axis=-1, precision=None, preferred_element_type=None):
    """Array-API vector dot product along ``axis``, broadcasting the other axes."""
    x1, x2 = _promote("vecdot", x1, x2)
    x1, x2 = _broadcast_full(x1, x2)
    nd = get_aval(x1).ndim
    axis = canonicalize_axis(axis, nd)
    if get_aval(x1).shape[axis] != get_aval(x2).shape[axis]:
        raise ValueError(f"vecdot requires the contracted axes to match, got shapes "
                         f"{get_aval(x1).shape} and {get_aval(x2).shape} at axis {axis}.")
    batch = tuple(d for d in range(nd) if d != axis)
    return lax_linalg.dot_general(_conj(x1), x2, (((axis,), (axis,)), (batch, batch)), precision,
                                  _pref(preferred_element_type))


def _broadcast_full(*xs):
    """Broadcast to one shape (including rank-0 operands, unlike promote_shapes)."""
    target = broadcast_shapes(*[get_aval(x).shape for x in xs])
    out = []
    for x in xs:
        shape = get_aval(x).shape
        out.append(x if shape == target else
                   broadcast_in_dim(x, target, tuple(range(len(target) - len(shape), len(target)))))
    return out


def inner(a, b, *, precision=None, preferred_element_type=None):
    """Contract the last axis of ``a`` with the last axis of ``b`` (scalars multiply)."""
    a, b = _promote("inner", a, b)
    an, bn = get_aval(a).ndim, get_aval(b).ndim
    if an == 0 or bn == 0:
        a, b = promote_shapes(a, b)
        return mul(a, b)
    return lax_linalg.dot_general(a, b, (((an - 1,), (bn - 1,)), ((), ())), precision,
                                  _pref(preferred_element_type))


def outer(a, b, out=None):
    """``outer(a, b)[i, j] = a.ravel()[i] * b.ravel()[j]``: a dot_general with nothing contracted."""
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.outer is not supported.")
    a, b = _promote("outer", a, b)
    a, b = reshape(a, (get_aval(a).size,)), reshape(b, (get_aval(b).size,))
    return lax_linalg.dot_general(a, b, (((), ()), ((), ())))


def tensordot(a, b, axes=2, *, precision=None, preferred_element_type=None):
    """Contract ``axes`` of ``a`` with ``axes`` of ``b``.

    ``axes=N`` pairs the last N axes of ``a`` with the first N of ``b``;
    ``axes=(a_axes, b_axes)`` names them. Remaining axes: ``a``'s, then ``b``'s.
    """
    a, b = _promote("tensordot", a, b)
    an, bn = get_aval(a).ndim, get_aval(b).ndim
    if isinstance(axes, (int, np.integer)):
        axes = int(axes)
        if axes > min(an, bn) or axes < 0:
            raise TypeError(f"Number of tensordot axes (axes {axes}) exceeds input ranks "
                            f"({get_aval(a).shape} and {get_aval(b).shape})")
        a_axes, b_axes = tuple(range(an - axes, an)), tuple(range(axes))
    else:
        try:
            a_axes, b_axes = axes
        except (TypeError, ValueError):
            raise TypeError(f"tensordot axes argument must be an int or a pair of axis "
                            f"sequences, got {axes!r}") from None
        a_axes = (a_axes,) if isinstance(a_axes, (int, np.integer)) else tuple(a_axes)
        b_axes = (b_axes,) if isinstance(b_axes, (int, np.integer)) else tuple(b_axes)
        if len(a_axes) != len(b_axes):
            raise TypeError(f"tensordot requires axes lists to have equal length, got "
                            f"{a_axes} and {b_axes}.")
        a_axes = tuple(canonicalize_axis(x, an) for x in a_axes)
        b_axes = tuple(canonicalize_axis(x, bn) for x in b_axes)
    return lax_linalg.dot_general(a, b, ((a_axes, b_axes), ((), ())), precision,
                                  _pref(preferred_element_type))


def kron(a, b):
    """Kronecker product: every element of ``a`` times the whole of ``b``, tiled."""
    a, b = _promote("kron", a, b)
    an, bn = get_aval(a).ndim, get_aval(b).ndim
    nd = max(an, bn)
    a = reshape(a, (1,) * (nd - an) + get_aval(a).shape)
    b = reshape(b, (1,) * (nd - bn) + get_aval(b).shape)
    ash, bsh = get_aval(a).shape, get_aval(b).shape
    prod = lax_linalg.dot_general(a, b, (((), ()), ((), ())))          # shape ash + bsh
    interleave = tuple(i for pair in zip(range(nd), range(nd, 2 * nd)) for i in pair)
    return reshape(transpose(prod, interleave), tuple(x * y for x, y in zip(ash, bsh)))


# The Levi-Civita symbols: cross products as contractions (exact: each output is a_j b_k - a_k b_j).
_EPS3 = np.zeros((3, 3, 3), np.int8)
for _i, _j, _k in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
    _EPS3[_i, _j, _k], _EPS3[_i, _k, _j] = 1, -1
_EPS2 = np.array([[0, 1], [-1, 0]], np.int8)


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors (2-vectors are padded with a zero z-component; two
    2-vectors give the scalar z-component, as NumPy does)."""
    a, b = _promote("cross", a, b)
    if axis is not None:
        axisa = axisb = axisc = axis
    a = _move_to_last(a, axisa)
    b = _move_to_last(b, axisb)
    na, nb = get_aval(a).shape[-1], get_aval(b).shape[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(f"Dimension must be either 2 or 3 for cross product, got vectors of "
                         f"length {na} and {nb}.")
    dtype = get_aval(a).dtype
    if na == 2 and nb == 2:
        eps = convert_element_type(_EPS2, dtype)
        a, b = _broadcast_leading(a, b)
        return einsum("...j,...k,jk->...", a, b, eps)
    a, b = _pad3(a), _pad3(b)
    a, b = _broadcast_leading(a, b)
    out = einsum("...j,...k,ijk->...i", a, b, convert_element_type(_EPS3, dtype))
    nd = get_aval(out).ndim
    axisc = canonicalize_axis(axisc, nd)
    return transpose(out, tuple(range(axisc)) + (nd - 1,) + tuple(range(axisc, nd - 1)))


def _move_to_last(x, axis):
    nd = get_aval(x).ndim
    axis = canonicalize_axis(axis, nd)
    return transpose(x, tuple(d for d in range(nd) if d != axis) + (axis,))


def _pad3(x):
    if get_aval(x).shape[-1] == 3:
        return x
    from .._src.primitives.concatenate import concatenate
    shape = get_aval(x).shape
    zero = broadcast_in_dim(convert_element_type(np.zeros((), get_aval(x).dtype),
                                                 get_aval(x).dtype), shape[:-1] + (1,), ())
    return concatenate([x, zero], len(shape) - 1)


def _broadcast_leading(a, b):
    ash, bsh = get_aval(a).shape, get_aval(b).shape
    lead = broadcast_shapes(ash[:-1], bsh[:-1])
    return _broadcast_batch_1(a, lead), _broadcast_batch_1(b, lead)


def _broadcast_batch_1(x, lead):
    shape = get_aval(x).shape
    target = tuple(lead) + shape[-1:]
    if shape == target:
        return x
    return broadcast_in_dim(x, target, tuple(range(len(target) - len(shape), len(target))))


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """Sum along a diagonal (``offset`` above the main one) of the ``axis1``/``axis2`` plane.

    Small integers and booleans are summed in the default integer type, as ``jnp.sum`` does.
    """
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.trace is not supported.")
    from ._creation_extra import diagonal
    d = diagonal(a, offset, axis1, axis2)
    want = requested_dtype(dtype)
    if want is None:
        want = _sum_dtype(get_aval(d).dtype)
    if get_aval(d).dtype != want:
        d = convert_element_type(d, want)
    return reduce_sum(d, (get_aval(d).ndim - 1,))


def _sum_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return dtypes.default_int()
    if dtype.kind == "i" and dtype.itemsize < dtypes.default_int().itemsize:
        return dtypes.default_int()
    if dtype.kind == "u" and dtype.itemsize < dtypes.default_uint().itemsize:
        return dtypes.default_uint()
    return dtype


# ===========================================================================
# einsum
# ===========================================================================
def einsum(subscripts, /, *operands, out=None, optimize="auto", precision=None,
           preferred_element_type=None, _dot_general=None):
    """Einstein summation: ``einsum('ij,jk->ik', a, b)`` is ``a @ b``.

    Each operand's axes get labels. A label that is repeated within one operand takes
    a diagonal; a label missing from the output is summed over; a label shared by two
    operands and kept in the output is a batch axis. Without ``->`` the output holds
    the labels used exactly once, in alphabetical order. ``...`` stands for the
    leading (broadcast) axes. Operands are contracted pairwise, left to right, each
    pair with one ``dot_general`` (JAX picks the order with opt_einsum; the result is
    the same up to rounding). The interleaved form ``einsum(a, [0, 1], b, [1, 2])`` works too.
    """
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.einsum is not supported.")
    del optimize, _dot_general
    if not isinstance(subscripts, str):
        subscripts, operands = _interleaved_to_subscripts(subscripts, operands)
    check_arraylike("einsum", *operands)
    operands = promote_dtypes(*[as_operand(x) for x in operands])
    inputs, output = _parse_subscripts(subscripts, [get_aval(x).shape for x in operands])
    pref = _pref(preferred_element_type)
    return _contract(list(zip(operands, inputs)), output, precision, pref)


def _interleaved_to_subscripts(first, rest):
    args = (first,) + tuple(rest)
    ops, subs = list(args[0::2]), list(args[1::2])
    out = None
    if len(args) % 2 == 1:          # trailing output sublist
        out = ops.pop()
    letters = string.ascii_letters

    def term(sub):
        return "".join("..." if s is Ellipsis else letters[int(s)] for s in sub)

    text = ",".join(term(s) for s in subs)
    if out is not None:
        text += "->" + term(out)
    return text, ops


def _parse_subscripts(subscripts, shapes):
    """Return one label list per operand and the output label list ('...' expanded)."""
    spec = subscripts.replace(" ", "")
    if "->" in spec:
        lhs, out = spec.split("->")
        explicit = True
    else:
        lhs, out, explicit = spec, "", False
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: subscripts {subscripts!r} name {len(terms)} operands but "
                         f"{len(shapes)} were given.")
    used = set(spec) - set(".,->")
    free = [c for c in string.ascii_uppercase + string.ascii_lowercase if c not in used]
    n_ell = 0
    for t, shape in zip(terms, shapes):
        if "..." in t:
            n_ell = max(n_ell, len(shape) - (len(t) - 3))
    ell = free[:n_ell]      # labels for the axes that '...' stands for
    inputs = []
    for i, (t, shape) in enumerate(zip(terms, shapes)):
        if "..." in t:
            k = len(shape) - (len(t) - 3)
            if k < 0:
                raise ValueError(f"Einstein sum subscript {t!r} has more labels than operand "
                                 f"{i} (shape {shape}) has axes.")
            before, after = t.split("...")
            labels = list(before) + ell[n_ell - k:] + list(after)
        else:
            labels = list(t)
        if len(labels) != len(shape):
            raise ValueError(f"Einstein sum subscript {t!r} does not contain the correct number "
                             f"of indices for operand {i} (shape {shape}).")
        for c in labels:
            if c not in ell and not c.isalpha():
                raise ValueError(f"einsum: invalid subscript character {c!r}.")
        inputs.append(labels)
    sizes = {}
    for i, (labels, shape) in enumerate(zip(inputs, shapes)):
        for c, s in zip(labels, shape):
            if c in sizes and sizes[c] != s and 1 not in (s, sizes[c]):
                raise ValueError(f"Size of label '{c}' for operand {i} ({s}) does not match "
                                 f"previous terms ({sizes[c]}).")
            if c not in sizes or sizes[c] == 1:
                sizes[c] = s
    if explicit:
        if "..." in out:
            before, after = out.split("...")
            output = list(before) + ell + list(after)
        else:
            output = list(out)
        for c in output:
            if not any(c in labels for labels in inputs):
                raise ValueError(f"einsum: output subscript {c!r} does not appear in the inputs.")
        if len(set(output)) != len(output):
            raise ValueError(f"einsum: output subscript {out!r} repeats a label.")
    else:
        counts = {}
        for labels in inputs:
            for c in labels:
                counts[c] = counts.get(c, 0) + 1
        output = ell + sorted(c for c, n in counts.items() if n == 1 and c not in ell)
    return inputs, output


def _take_diagonal(x, labels):
    """Collapse a label repeated within one operand to its diagonal."""
    while True:
        dup = next((c for c in labels if labels.count(c) > 1), None)
        if dup is None:
            return x, labels
        i = labels.index(dup)
        j = labels.index(dup, i + 1)
        shape = get_aval(x).shape
        mask = eq(broadcasted_iota(np.int32, shape, i), broadcasted_iota(np.int32, shape, j))
        zero = broadcast_in_dim(convert_element_type(np.zeros((), get_aval(x).dtype),
                                                     get_aval(x).dtype), shape, ())
        kept = select_n(mask, zero, x)
        x = reduce_or(kept, (j,)) if get_aval(x).dtype == np.bool_ else reduce_sum(kept, (j,))
        labels = labels[:j] + labels[j + 1:]


def _sum_out(x, labels, keep):
    axes = tuple(i for i, c in enumerate(labels) if c not in keep)
    if not axes:
        return x, labels
    x = reduce_or(x, axes) if get_aval(x).dtype == np.bool_ else reduce_sum(x, axes)
    return x, [c for c in labels if c in keep]


def _expand_ones(x, labels, other_labels, other_shape):
    """Broadcast size-1 axes (from '...') up to the partner's size for shared labels."""
    shape = list(get_aval(x).shape)
    target = list(shape)
    for i, c in enumerate(labels):
        if c in other_labels:
            s = other_shape[other_labels.index(c)]
            if shape[i] == 1 and s != 1:
                target[i] = s
    if target != shape:
        x = broadcast_in_dim(reshape(x, tuple(shape)), tuple(target), tuple(range(len(shape))))
    return x


def _contract(pairs, output, precision, pref):
    pairs = [_take_diagonal(x, list(labels)) for x, labels in pairs]
    # Sum out labels that appear in one operand only and not in the output.
    for i, (x, labels) in enumerate(pairs):
        elsewhere = set(output).union(*[set(l) for j, (_, l) in enumerate(pairs) if j != i])
        pairs[i] = _sum_out(x, labels, elsewhere)
    x, labels = pairs[0]
    for k in range(1, len(pairs)):
        y, ylabels = pairs[k]
        later = set(output).union(*[set(l) for _, l in pairs[k + 1:]])
        x, labels = _sum_out(x, labels, later | set(ylabels))
        y, ylabels = _sum_out(y, ylabels, later | set(labels))
        x = _expand_ones(x, labels, ylabels, get_aval(y).shape)
        y = _expand_ones(y, ylabels, labels, get_aval(x).shape)
        shared = [c for c in labels if c in ylabels]
        batch = [c for c in shared if c in later]
        contract = [c for c in shared if c not in later]
        dn = ((tuple(labels.index(c) for c in contract), tuple(ylabels.index(c) for c in contract)),
              (tuple(labels.index(c) for c in batch), tuple(ylabels.index(c) for c in batch)))
        x = lax_linalg.dot_general(x, y, dn, precision, pref if k == len(pairs) - 1 else None)
        labels = (batch + [c for c in labels if c not in shared]
                  + [c for c in ylabels if c not in shared])
    x, labels = _sum_out(x, labels, set(output))
    if len(pairs) == 1 and pref is not None:
        x = convert_element_type(x, pref)
    return transpose(x, tuple(labels.index(c) for c in output))
