"""Non-elementwise primitives written as numba code: matmuls, shape changes, slices.

Loop kernels (``cpu_kernels``) cover elementwise work and reductions. The
equations between them -- a ``dot_general``, a ``transpose``, a ``slice`` --
are written here as a few lines of numba-compatible NumPy, so that a whole
program (and the body of a ``scan`` or ``while_loop``) can run inside one
compiled function instead of returning to Python between steps.

``LOWERINGS[name](eqn, ins, outs)`` returns source lines. ``ins`` are the
names of the operands (NumPy arrays; rank-0 values are 0-d arrays) and
``outs`` the names to assign. Every output is a C-contiguous array of the
equation's dtype: functions that numba compiles must return the same types
on every path (both branches of a ``cond``, every trip of a loop).

``dot_general`` calls ``np.dot`` through ``cpu_helpers._dot``, which numba
compiles into a call to the BLAS that SciPy ships (``scipy.linalg.cython_blas``)
and caches on disk; integer and boolean matmuls use a plain loop
(``cpu_helpers._matmul3``). Copies that reorder or window an array are loop
nests (see ``loop_nest``).
"""
from __future__ import annotations

import importlib.util

import numpy as np


def dtype_source(dtype) -> str:
    """A dtype as source numba accepts: ``np.float32``, and ``np.bool_`` (the spelling every NumPy has)."""
    dtype = np.dtype(dtype)
    return "np.bool_" if dtype == np.bool_ else f"np.{dtype.name}"


def _dtype(v) -> str:
    return dtype_source(v.aval.dtype)


def shape_source(shape) -> str:
    """A shape as Python source: ``(3, 4)``, ``(3,)``, ``()``."""
    return repr(tuple(int(d) for d in shape))


def empty_source(name, shape, dtype) -> str:
    """The line allocating ``name``: ``a3 = np.empty((3, 4), np.float32)``."""
    return f"{name} = np.empty({shape_source(shape)}, {dtype_source(dtype)})"


def _index(pieces) -> str:
    return ", ".join(pieces) if pieces else "()"


# ---------------------------------------------------------------------------
# Copies written as loop nests
#
# Shapes are known when the source is written, so every copy that reorders or
# windows an array is spelled out as a loop nest over constant ranges. numba
# compiles such a loop in a few milliseconds; its own ``np.transpose(x, axes)``
# and array-into-slice assignment (``y[2:5] = x``) cost about 3 s each the first
# time a process compiles them, which a learner would pay in every new kernel.
# ---------------------------------------------------------------------------
def loop_nest(shape, prefix, statement) -> list[str]:
    """Lines looping over every index of ``shape``; the innermost line is ``statement(indices)``.

    ``indices`` are the loop variables' names (``{prefix}0``, ``{prefix}1``, ...),
    an empty list for a rank-0 shape.
    """
    indices = [f"{prefix}{d}" for d in range(len(shape))]
    lines = ["    " * d + f"for {i} in range({int(n)}):"
             for d, (i, n) in enumerate(zip(indices, shape))]
    return lines + ["    " * len(shape) + statement(indices)]


def gather_copy(out, shape, dtype, src, source_index) -> list[str]:
    """``out`` = a new C-contiguous array whose element ``i`` is ``src[source_index(i)]``."""
    return [empty_source(out, shape, dtype)] + \
        loop_nest(shape, f"{out}_i",
                  lambda i: f"{out}[{_index(i)}] = {src}[{_index(source_index(i))}]")


def scatter_copy(dst, src, src_shape, target_index) -> list[str]:
    """Write every element ``i`` of ``src`` into ``dst[target_index(i)]`` (``dst`` exists)."""
    return loop_nest(src_shape, f"{dst}_j",
                     lambda i: f"{dst}[{_index(target_index(i))}] = {src}[{_index(i)}]")


def _shape_dtype(v):
    return v.aval.shape, v.aval.dtype


def _offset(start, stride, i) -> str:
    """The source expression ``start + stride * i``, without the parts that do nothing."""
    term = i if stride == 1 else f"{stride} * {i}"
    return term if start == 0 else f"{start} + {term}"


def _permuted_index(perm):
    """Source index of a transpose: output axis ``d`` walks input axis ``perm[d]``."""
    def source(i):
        index = [None] * len(perm)
        for d, axis in enumerate(perm):
            index[axis] = i[d]
        return index
    return source


# ---------------------------------------------------------------------------
# Shape changes: views where memory order is kept, loop-nest copies where it is not
# ---------------------------------------------------------------------------
def _reshape(eqn, ins, outs):
    shape = eqn.outputs[0].aval.shape
    return [f"{outs[0]} = {ins[0]}.reshape({shape_source(shape)})"]


def _transpose(eqn, ins, outs):
    perm = tuple(eqn.params["permutation"])
    if perm == tuple(range(len(perm))):
        return [f"{outs[0]} = {ins[0]}"]
    return gather_copy(outs[0], *_shape_dtype(eqn.outputs[0]), ins[0], _permuted_index(perm))


def _rev(eqn, ins, outs):
    dims = set(eqn.params["dimensions"])
    shape = eqn.inputs[0].aval.shape
    if not dims:
        return [f"{outs[0]} = {ins[0]}"]
    return gather_copy(outs[0], *_shape_dtype(eqn.outputs[0]), ins[0], lambda i: [
        f"{n - 1} - {i[d]}" if d in dims else i[d] for d, n in enumerate(shape)])


def _slice(eqn, ins, outs):
    starts = eqn.params["start_indices"]
    strides = eqn.params["strides"] or (1,) * len(starts)
    return gather_copy(outs[0], *_shape_dtype(eqn.outputs[0]), ins[0], lambda i: [
        _offset(a, s, i[d]) for d, (a, s) in enumerate(zip(starts, strides))])


def _concatenate(eqn, ins, outs):
    return [f"{outs[0]} = np.concatenate(({''.join(i + ', ' for i in ins)}), "
            f"axis={eqn.params['dimension']})"]


def _pad(eqn, ins, outs):
    out = eqn.outputs[0]
    config = eqn.params["padding_config"]
    return [f"{outs[0]} = np.full({shape_source(out.aval.shape)}, {ins[1]}[()], {_dtype(out)})"] + \
        scatter_copy(outs[0], ins[0], eqn.inputs[0].aval.shape, lambda i: [
            _offset(lo, interior + 1, i[d]) for d, (lo, _, interior) in enumerate(config)])


def _supports_pad(eqn):
    return all(lo >= 0 and hi >= 0 for lo, hi, _ in eqn.params["padding_config"])


def _clamped_starts(eqn, ins, sizes, prefix):
    """Lines computing each start index clamped so the window fits (XLA's rule)."""
    shape = eqn.inputs[0].aval.shape
    return [f"{prefix}{d} = min(max(int({s}[()]), 0), {n - k})"
            for d, (s, n, k) in enumerate(zip(ins, shape, sizes))]


def _dynamic_slice(eqn, ins, outs):
    sizes = eqn.params["slice_sizes"]
    start = f"{outs[0]}_s"
    lines = _clamped_starts(eqn, ins[1:], sizes, start)
    return lines + gather_copy(outs[0], *_shape_dtype(eqn.outputs[0]), ins[0], lambda i: [
        f"{start}{d} + {i[d]}" for d in range(len(sizes))])


def _dynamic_update_slice(eqn, ins, outs):
    sizes = eqn.inputs[1].aval.shape
    start = f"{outs[0]}_s"
    lines = _clamped_starts(eqn, ins[2:], sizes, start)
    return lines + [f"{outs[0]} = {ins[0]}.copy()"] + scatter_copy(
        outs[0], ins[1], sizes, lambda i: [f"{start}{d} + {i[d]}" for d in range(len(sizes))])


def _bitcast(eqn, ins, outs):
    return [f"{outs[0]} = {ins[0]}.view({_dtype(eqn.outputs[0])})"]


def _supports_bitcast(eqn):
    return eqn.inputs[0].aval.dtype.itemsize == eqn.outputs[0].aval.dtype.itemsize


# ---------------------------------------------------------------------------
# dot_general: one (batched) matmul after transposes and reshapes
# ---------------------------------------------------------------------------
def _dot_general(eqn, ins, outs):
    from ..primitives.linalg import _matmul_plan
    lhs, rhs = (v.aval for v in eqn.inputs)
    out = eqn.outputs[0]
    dims = eqn.params["dimension_numbers"]
    (lc, rc), (lb, _) = dims
    compute = np.dtype(out.aval.dtype) if np.promote_types(lhs.dtype, out.aval.dtype) == \
        out.aval.dtype else lhs.dtype
    if compute == np.bool_:   # "any (a and b)": count in integers, then compare with 0
        compute = np.dtype(np.int32)
    cast = f".astype({dtype_source(compute)})" if lhs.dtype != compute else ""
    o = outs[0]
    blas = compute.kind == "f"
    if blas and lhs.ndim == 2 and rhs.ndim == 2 and not lb:
        # The common cases: a transposed view is Fortran-ordered, which BLAS reads directly.
        a = {(1,): f"{ins[0]}{cast}", (0,): f"{ins[0]}{cast}.T"}.get(tuple(lc))
        b = {(0,): f"{ins[1]}{cast}", (1,): f"{ins[1]}{cast}.T"}.get(tuple(rc))
        if a is not None and b is not None:
            return [f"{o} = _dot({a}, {b}){_astype(compute, out)}"]
    lperm, l3, rperm, r3, out_shape = _matmul_plan(lhs.shape, rhs.shape, dims)
    lines = (_permuted_operand(f"{o}_l", ins[0], lhs, lperm, compute, l3) +
             _permuted_operand(f"{o}_r", ins[1], rhs, rperm, compute, r3))
    b, m, k = l3
    n = r3[2]
    if k == 1:   # outer products (per-example gradients): no sum, just a product per element
        lines += [empty_source(f"{o}_3", (b, m, n), compute)] + loop_nest(
            (b, m, n), f"{o}_i", lambda i: f"{o}_3[{i[0]}, {i[1]}, {i[2]}] = "
                                           f"{o}_l[{i[0]}, {i[1]}, 0] * {o}_r[{i[0]}, 0, {i[2]}]")
    elif blas and (b == 1 or m * k * n >= SMALL_MATMUL):
        lines += [empty_source(f"{o}_3", (b, m, n), compute),
                  f"for {o}_b in range({b}):",
                  f"    _dot_into({o}_l[{o}_b], {o}_r[{o}_b], {o}_3[{o}_b])"]
    else:
        lines.append(f"{o}_3 = _matmul3({o}_l, {o}_r)")
    return lines + [f"{o} = {o}_3.reshape({shape_source(out_shape)}){_astype(compute, out)}"]


def _permuted_operand(name, x, aval, perm, compute, shape3):
    """Lines binding ``name`` to operand ``x`` cast to ``compute``, its axes permuted, as 3-d."""
    lines = []
    if aval.dtype != compute:
        lines.append(f"{name}_c = {x}.astype({dtype_source(compute)})")
        x = f"{name}_c"
    if tuple(perm) != tuple(range(len(perm))):
        lines += gather_copy(f"{name}_t", tuple(aval.shape[p] for p in perm), compute, x,
                             _permuted_index(perm))
        x = f"{name}_t"
    return lines + [f"{name} = {x}.reshape({shape3!r})"]


SMALL_MATMUL = 4096   # multiply-adds; below this a loop beats one BLAS call per batch element


def _astype(compute, out):
    target = np.dtype(out.aval.dtype)
    return "" if target == compute else f".astype({dtype_source(target)})"


_HAVE_SCIPY = importlib.util.find_spec("scipy") is not None


def _supports_dot(eqn):
    kinds = {v.aval.dtype.kind for v in list(eqn.inputs) + list(eqn.outputs)}
    if not kinds <= set("biuf"):
        return False
    # numba's np.dot needs SciPy's BLAS; without it only integer matmuls are written as loops.
    return _HAVE_SCIPY or "f" not in kinds


LOWERINGS = {
    "reshape": _reshape, "squeeze": _reshape, "transpose": _transpose, "rev": _rev,
    "slice": _slice, "concatenate": _concatenate, "pad": _pad,
    "dynamic_slice": _dynamic_slice, "dynamic_update_slice": _dynamic_update_slice,
    "bitcast_convert_type": _bitcast, "dot_general": _dot_general,
}

_EXTRA_CHECKS = {"pad": _supports_pad, "bitcast_convert_type": _supports_bitcast,
                 "dot_general": _supports_dot}


def supports(eqn) -> bool:
    """Can ``eqn`` be written as numba code by this module?"""
    name = eqn.primitive.name
    if name not in LOWERINGS:
        return False
    if any(v.aval.dtype.kind not in "biuf" for v in list(eqn.inputs) + list(eqn.outputs)):
        return False
    check = _EXTRA_CHECKS.get(name)
    return check is None or check(eqn)


def emit(eqn, ins, outs) -> list[str]:
    if all(v.aval.size == 0 for v in eqn.outputs):   # nothing to compute
        return [empty_source(o, v.aval.shape, v.aval.dtype)
                for o, v in zip(outs, eqn.outputs)]
    return LOWERINGS[eqn.primitive.name](eqn, ins, outs)


_ALLOCATING = {"dot_general", "concatenate", "pad", "dynamic_update_slice"}


def allocates(eqn) -> bool:
    """Is every output of ``eqn`` a new array (rather than, possibly, a view of an input)?"""
    return eqn.primitive.name in _ALLOCATING or emits_empty(eqn)


def emits_empty(eqn) -> bool:
    """Equations whose outputs are all empty arrays are written as ``np.empty``, whatever they are."""
    return bool(eqn.outputs) and all(v.aval.size == 0 for v in eqn.outputs) and \
        all(v.aval.dtype.kind in "biuf" for v in eqn.outputs)

