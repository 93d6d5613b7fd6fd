"""Structured control flow: ``cond``/``switch``, ``while_loop``, ``fori_loop``, ``scan``.

Python's ``if`` and ``for`` run while a function is being traced, so they cannot
depend on traced values. These functions instead trace their branch or loop
body *once* into a small Jaxpr and make it a parameter of a primitive. The
primitive then has the usual rules:

* ``impl``: run the chosen branch / iterate the body (each body is compiled by
  the CPU backend, so loops do not re-dispatch every operation from Python);
* ``jvp``: differentiate the body, carrying tangents through the loop;
* ``batch``: vmap the body; a batched ``cond`` predicate becomes a ``select``
  of both branches, a batched ``while`` predicate keeps finished lanes frozen;
* ``partial_eval`` (used by reverse mode): with known predicates the chosen
  branch is simply inlined; a ``scan`` with unknown tangents is unrolled into
  its steps. ``while_loop`` cannot be reverse-differentiated (as in JAX): its
  trip count is not known in advance.
"""
from __future__ import annotations

import numpy as np

from .. import core, dtypes
from ..core import Jaxpr, Primitive, ShapedArray, Tracer, Var, eval_jaxpr, get_aval
from ...tree_util import tree_flatten, tree_unflatten, tree_structure


# ---------------------------------------------------------------------------
# Tracing bodies into closed-over-nothing jaxprs
# ---------------------------------------------------------------------------
def _trace(fun, in_avals):
    """Trace ``fun`` (flat in, flat out) to a jaxpr whose constants become leading inputs."""
    from ..interpreters.tracing import trace_to_jaxpr
    jaxpr, consts = trace_to_jaxpr(fun, in_avals)
    jaxpr = Jaxpr([], list(jaxpr.constvars) + list(jaxpr.invars), jaxpr.eqns, jaxpr.outvars)
    return jaxpr, consts


def _run(jaxpr, *args):
    return eval_jaxpr(jaxpr, [], *args)


def _compiled(jaxpr):
    """Compile a body once (cached on the jaxpr) for fast repeated eager execution."""
    program = getattr(jaxpr, "_program", None)
    if program is None:
        from ..backends.cpu import Program
        program = jaxpr._program = Program(jaxpr, [])
    return program


def _avals_str(avals):
    return "(" + ", ".join(a.str_short() for a in avals) + ")"


def _same_types(avals_a, avals_b):
    return [(a.shape, a.dtype) for a in avals_a] == [(b.shape, b.dtype) for b in avals_b]


def _jvp_jaxpr(jaxpr):
    """A jaxpr computing (outs, out_tangents) from (ins, in_tangents)."""
    from ..interpreters.ad import jvp_flat
    n = len(jaxpr.invars)
    avals = jaxpr.in_avals
    tangent_avals = [a.update(weak_type=False) for a in avals]

    def f(*args):
        primals_out, tangents_out = jvp_flat(lambda *xs: _run(jaxpr, *xs), args[:n], args[n:])
        return list(primals_out) + list(tangents_out)

    return _trace(f, list(avals) + tangent_avals)


def _batch_jaxpr(jaxpr, in_batched, size):
    """A jaxpr taking batched (axis 0) / unbatched inputs and returning all outputs batched."""
    from ..interpreters.batching import vmap
    in_axes = tuple(0 if b else None for b in in_batched)
    avals = [a.update(shape=(size,) + a.shape) if b else a
             for a, b in zip(jaxpr.in_avals, in_batched)]
    return _trace(vmap(lambda *xs: _run(jaxpr, *xs), in_axes=in_axes, axis_size=size), avals)


# ---------------------------------------------------------------------------
# cond / switch
# ---------------------------------------------------------------------------
cond_p = Primitive("cond", multiple_results=True)


@cond_p.def_impl
def _cond_impl(index, *operands, branches):
    i = int(np.clip(int(index), 0, len(branches) - 1))
    return _compiled(branches[i])(*operands)


@cond_p.def_abstract_eval
def _cond_abstract(index, *operands, branches):
    return branches[0].out_avals


@cond_p.def_jvp
def _cond_jvp(primals, tangents, *, branches):
    index, *ops = primals
    _, *op_tangents = tangents
    jvp_branches, extra = [], []
    for br in branches:
        jb, consts = _jvp_jaxpr(br)
        if consts:
            raise NotImplementedError("internal: jvp of a cond branch captured constants")
        jvp_branches.append(jb)
    outs = cond_p.bind(index, *ops, *op_tangents, branches=tuple(jvp_branches))
    n = len(branches[0].outvars)
    return outs[:n], outs[n:]


@cond_p.def_batch
def _cond_batch(args, dims, *, branches):
    from .batch_util import batch_size, bdim_at_front
    from .elementwise import select_n, convert_element_type
    from .shape import broadcast_in_dim
    size = batch_size(args, dims)
    index, *ops = args
    index_dim, *op_dims = dims
    ops = [bdim_at_front(x, d, size) if d is not None else x for x, d in zip(ops, op_dims)]
    in_batched = [d is not None for d in op_dims]
    batched = [_batch_jaxpr(br, in_batched, size) for br in branches]
    if any(c for _, c in batched):
        raise NotImplementedError("internal: batched cond branch captured constants")
    if index_dim is None:
        return cond_p.bind(index, *ops, branches=tuple(b for b, _ in batched)), \
            [0] * len(branches[0].outvars)
    # A different branch per example: compute every branch, then pick per example.
    index = bdim_at_front(index, index_dim, size)
    results = [_run(b, *ops) for b, _ in batched]
    outs = []
    for k in range(len(branches[0].outvars)):
        candidates = [r[k] for r in results]
        shape = get_aval(candidates[0]).shape
        which = broadcast_in_dim(index, shape, (0,)) if shape != (size,) else index
        if get_aval(which).dtype != np.bool_ and len(candidates) > 1:
            which = convert_element_type(which, np.int32)
        outs.append(select_n(which, *candidates))
    return outs, [0] * len(outs)


def _cond_partial_eval(trace, tracers, *, branches):
    """Reverse mode: pick the branch when the index is known, else compute all and select."""
    index, *ops = tracers
    if index.is_known:
        concrete = index.concrete_value()
        if concrete is not None:
            i = int(np.clip(int(np.asarray(concrete)), 0, len(branches) - 1))
            return _run(branches[i], *ops)
    from .elementwise import select_n
    results = [_run(br, *ops) for br in branches]
    which = index
    outs = []
    for k in range(len(branches[0].outvars)):
        candidates = [r[k] for r in results]
        shape = get_aval(candidates[0]).shape
        from .shape import broadcast_in_dim
        w = broadcast_in_dim(which, shape, ()) if shape else which
        outs.append(select_n(w, *candidates))
    return outs


cond_p.partial_eval = _cond_partial_eval


def switch(index, branches, *operands):
    """Apply ``branches[index](*operands)``; ``index`` is clamped into range, as in JAX."""
    branches = list(branches)
    if not branches:
        raise ValueError("Empty branch sequence: lax.switch needs at least one branch.")
    return _switch(_as_index(index, len(branches)), branches, operands)


def _switch(index, branches, operands):
    leaves, in_tree = tree_flatten(operands)
    leaves = [_operand(x) for x in leaves]
    avals = [get_aval(x) for x in leaves]
    traced, out_trees, all_consts = [], [], []
    for br in branches:
        store = {}

        def flat(*xs, br=br, store=store):
            out = br(*tree_unflatten(in_tree, xs))
            out_leaves, store["tree"] = tree_flatten(out)
            return [_operand(o) for o in out_leaves]

        jaxpr, consts = _trace(flat, avals)
        traced.append((jaxpr, consts))
        out_trees.append(store["tree"])
        all_consts.append(consts)
    for k, t in enumerate(out_trees[1:], 1):
        if t != out_trees[0]:
            raise TypeError(f"branch 0 and {k} outputs must have same type structure, got "
                            f"{out_trees[0]} and {t}. Every branch of lax.cond/lax.switch must "
                            f"return the same kind of pytree.")
        if not _same_types(traced[0][0].out_avals, traced[k][0].out_avals):
            raise TypeError(
                f"branches 0 and {k} of lax.cond/switch must return arrays of identical shapes and "
                f"dtypes, got {_avals_str(traced[0][0].out_avals)} and "
                f"{_avals_str(traced[k][0].out_avals)}. Both sides of a cond are compiled into one "
                f"program, so they must agree; cast or reshape so they match.")
    # Every branch receives every branch's constants (and ignores the others').
    const_avals = [[get_aval(c) for c in consts] for consts in all_consts]
    padded = []
    for k, (jaxpr, consts) in enumerate(traced):
        own_consts, own_ops = jaxpr.invars[:len(consts)], jaxpr.invars[len(consts):]
        before = [Var(a) for j in range(k) for a in const_avals[j]]
        after = [Var(a) for j in range(k + 1, len(traced)) for a in const_avals[j]]
        padded.append(Jaxpr([], before + own_consts + after + own_ops, jaxpr.eqns, jaxpr.outvars))
    flat_consts = [c for consts in all_consts for c in consts]
    # Branch outputs may differ in weak type; unify on the first branch's.
    outs = cond_p.bind(index, *flat_consts, *leaves, branches=tuple(padded))
    return tree_unflatten(out_trees[0], outs)


def cond(pred, true_fun, false_fun, *operands, operand=None):
    """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)`` -- traceable ``if``."""
    if operand is not None:
        operands = (operand,)
    aval = get_aval(_operand(pred))
    if aval.shape != ():
        raise TypeError(f"Pred type must be a scalar, got {aval.str_short()} of shape {aval.shape}. "
                        "lax.cond chooses one branch for the whole computation; for an elementwise "
                        "choice use jnp.where(pred, x, y).")
    if aval.dtype.kind not in "biu":
        raise TypeError(f"Pred must be a boolean or integer scalar, got {aval.dtype.name}. Compare "
                        "explicitly, e.g. lax.cond(x > 0, ...).")
    from .elementwise import convert_element_type, ne
    pred = _operand(pred)
    index = pred if aval.dtype == np.bool_ else ne(pred, 0)
    return _switch(convert_element_type(index, np.int32), [false_fun, true_fun], operands)


def _as_index(index, n):
    from .elementwise import convert_element_type, max as lax_max, min as lax_min
    index = _operand(index)
    aval = get_aval(index)
    if aval.shape != () or aval.dtype.kind not in "iu":
        raise TypeError(f"lax.switch index must be an integer scalar, got {aval.str_short()}.")
    index = convert_element_type(index, np.int32)
    return lax_min(lax_max(index, np.int32(0)), np.int32(n - 1)) if isinstance(index, Tracer) else \
        convert_element_type(np.int32(np.clip(int(np.asarray(index)), 0, n - 1)), np.int32)


def _operand(x):
    if isinstance(x, (Tracer,)) or hasattr(x, "aval"):
        return x
    from ... import numpy as jnp
    return jnp.asarray(x)


# ---------------------------------------------------------------------------
# while_loop
# ---------------------------------------------------------------------------
while_p = Primitive("while", multiple_results=True)


@while_p.def_impl
def _while_impl(*args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    cond_consts, body_consts = args[:cond_nconsts], args[cond_nconsts:cond_nconsts + body_nconsts]
    carry = list(args[cond_nconsts + body_nconsts:])
    cond_prog, body_prog = _compiled(cond_jaxpr), _compiled(body_jaxpr)
    while bool(cond_prog(*cond_consts, *carry)[0]):
        carry = [np.asarray(c) for c in body_prog(*body_consts, *carry)]
    return carry


@while_p.def_abstract_eval
def _while_abstract(*avals, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    return body_jaxpr.out_avals


@while_p.def_jvp
def _while_jvp(primals, tangents, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    nc, nb = cond_nconsts, body_nconsts
    cconsts, bconsts, carry = primals[:nc], primals[nc:nc + nb], primals[nc + nb:]
    bconst_t, carry_t = tangents[nc:nc + nb], tangents[nc + nb:]
    n = len(carry)
    jb, _ = _jvp_jaxpr(body_jaxpr)   # inputs: bconsts, carry, bconst_t, carry_t

    def body(*args):
        consts, consts_t, c, ct = args[:nb], args[nb:2 * nb], args[2 * nb:2 * nb + n], args[2 * nb + n:]
        outs = _run(jb, *consts, *c, *consts_t, *ct)
        return list(outs[:n]) + list(outs[n:])

    body_avals = [get_aval(x) for x in list(bconsts) + list(bconst_t) + list(carry) + list(carry_t)]
    new_body, _ = _trace(body, body_avals)
    cond_avals = [get_aval(x) for x in list(cconsts) + list(carry) + list(carry_t)]
    new_cond, _ = _trace(lambda *a: _run(cond_jaxpr, *a[:nc + n]), cond_avals)
    outs = while_p.bind(*cconsts, *bconsts, *bconst_t, *carry, *carry_t, cond_jaxpr=new_cond,
                        body_jaxpr=new_body, cond_nconsts=nc, body_nconsts=2 * nb)
    return outs[:n], outs[n:]


def _while_partial_eval(trace, tracers, **params):
    if all(t.is_known for t in tracers):
        return while_p.bind(*[t.known for t in tracers], **params)
    raise ValueError(
        "Reverse-mode differentiation does not work for lax.while_loop or lax.fori_loop with "
        "dynamic start/stop values: the number of iterations is only known at run time, so the "
        "values needed for the backward pass cannot be stored in advance. Try lax.scan (or "
        "fori_loop with Python-int bounds, which becomes a scan), or use forward mode (jvp/jacfwd).")


while_p.partial_eval = _while_partial_eval


@while_p.def_batch
def _while_batch(args, dims, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    from .batch_util import batch_size, bdim_at_front
    size = batch_size(args, dims)
    nc, nb = cond_nconsts, body_nconsts
    # Simplest sound rule: batch everything (carry and constants) along axis 0.
    args = [bdim_at_front(x, d, size) for x, d in zip(args, dims)]
    from ..interpreters.batching import vmap
    from .reductions import reduce_or
    from .elementwise import select_n
    from .shape import broadcast_in_dim
    cconsts, bconsts, carry = args[:nc], args[nc:nc + nb], args[nc + nb:]
    n = len(carry)
    batched_cond = vmap(lambda *a: _run(cond_jaxpr, *a)[0])
    batched_body = vmap(lambda *a: _run(body_jaxpr, *a))

    def cond_fun(*a):
        return [reduce_or(batched_cond(*a[:nc], *a[nc + nb:]), (0,))]

    def body_fun(*a):
        c_consts, b_consts, c = a[:nc], a[nc:nc + nb], a[nc + nb:]
        alive = batched_cond(*c_consts, *c)
        new = batched_body(*b_consts, *c)
        out = []
        for old, nw in zip(c, new):
            shape = get_aval(nw).shape
            keep = broadcast_in_dim(alive, shape, (0,)) if shape != (size,) else alive
            out.append(select_n(keep, old, nw))
        return out

    avals = [get_aval(x) for x in args]
    cj, _ = _trace(cond_fun, [get_aval(x) for x in list(cconsts) + list(bconsts) + list(carry)])
    bj, _ = _trace(body_fun, avals)
    outs = while_p.bind(*cconsts, *bconsts, *cconsts, *bconsts, *carry, cond_jaxpr=cj,
                        body_jaxpr=bj, cond_nconsts=nc + nb, body_nconsts=nc + nb)
    return outs, [0] * n


def while_loop(cond_fun, body_fun, init_val):
    """``while cond_fun(val): val = body_fun(val)`` as one traceable primitive."""
    leaves, tree = tree_flatten(init_val)
    leaves = [_operand(x) for x in leaves]
    avals = [get_aval(x) for x in leaves]

    def flat_cond(*xs):
        pred = _operand(cond_fun(tree_unflatten(tree, xs)))
        a = get_aval(pred)
        if a.shape != () or a.dtype != np.bool_:
            raise TypeError(f"cond_fun must return a boolean scalar, but got output type(s) "
                            f"[{a.str_short()}].")
        return [pred]

    def flat_body(*xs):
        out = body_fun(tree_unflatten(tree, xs))
        out_leaves, out_tree = tree_flatten(out)
        if out_tree != tree:
            raise TypeError(f"body_fun output and input must have identical types: the carry is "
                            f"{tree} on input but {out_tree} on output.")
        return [_operand(o) for o in out_leaves]

    cj, cconsts = _trace(flat_cond, avals)
    bj, bconsts = _trace(flat_body, avals)
    if not _same_types(bj.out_avals, avals):
        raise TypeError(
            f"body_fun output and input must have identical types, got input carry "
            f"{_avals_str(avals)} and output {_avals_str(bj.out_avals)}. A loop carry keeps one "
            f"shape and dtype on every iteration; cast inside body_fun (e.g. .astype) to keep it.")
    outs = while_p.bind(*cconsts, *bconsts, *leaves, cond_jaxpr=cj, body_jaxpr=bj,
                        cond_nconsts=len(cconsts), body_nconsts=len(bconsts))
    return tree_unflatten(tree, outs)


# ---------------------------------------------------------------------------
# scan
# ---------------------------------------------------------------------------
scan_p = Primitive("scan", multiple_results=True)


@scan_p.def_impl
def _scan_impl(*args, jaxpr, num_consts, num_carry, length, reverse):
    consts = args[:num_consts]
    carry = list(args[num_consts:num_consts + num_carry])
    xs = args[num_consts + num_carry:]
    body = _compiled(jaxpr)
    ys_steps = []
    order = range(length - 1, -1, -1) if reverse else range(length)
    for i in order:
        outs = body(*consts, *carry, *[x[i] for x in xs])
        carry = [np.asarray(c) for c in outs[:num_carry]]
        ys_steps.append(outs[num_carry:])
    if reverse:
        ys_steps.reverse()
    y_avals = jaxpr.out_avals[num_carry:]
    ys = [np.stack([np.asarray(s[k]) for s in ys_steps]) if ys_steps else
          np.zeros((0,) + a.shape, a.dtype) for k, a in enumerate(y_avals)]
    return carry + ys


@scan_p.def_abstract_eval
def _scan_abstract(*avals, jaxpr, num_consts, num_carry, length, reverse):
    outs = jaxpr.out_avals
    return list(outs[:num_carry]) + [a.update(shape=(length,) + a.shape) for a in outs[num_carry:]]


@scan_p.def_jvp
def _scan_jvp(primals, tangents, *, jaxpr, num_consts, num_carry, length, reverse):
    nc, nk = num_consts, num_carry
    jb, _ = _jvp_jaxpr(jaxpr)   # inputs: consts, carry, x, consts_t, carry_t, x_t
    nx = len(primals) - nc - nk

    def body(*a):
        consts, consts_t = a[:nc], a[nc:2 * nc]
        carry, carry_t = a[2 * nc:2 * nc + nk], a[2 * nc + nk:2 * nc + 2 * nk]
        x, x_t = a[2 * nc + 2 * nk:2 * nc + 2 * nk + nx], a[2 * nc + 2 * nk + nx:]
        outs = _run(jb, *consts, *carry, *x, *consts_t, *carry_t, *x_t)
        n_out = len(jaxpr.outvars)
        p, t = outs[:n_out], outs[n_out:]
        return list(p[:nk]) + list(t[:nk]) + list(p[nk:]) + list(t[nk:])

    consts, carry, xs = primals[:nc], primals[nc:nc + nk], primals[nc + nk:]
    consts_t, carry_t, xs_t = tangents[:nc], tangents[nc:nc + nk], tangents[nc + nk:]
    x_avals = [get_aval(x).update(shape=get_aval(x).shape[1:]) for x in list(xs) + list(xs_t)]
    avals = [get_aval(v) for v in list(consts) + list(consts_t) + list(carry) + list(carry_t)]
    new_body, _ = _trace(body, avals + x_avals)
    outs = scan_p.bind(*consts, *consts_t, *carry, *carry_t, *xs, *xs_t, jaxpr=new_body,
                       num_consts=2 * nc, num_carry=2 * nk, length=length, reverse=reverse)
    ny = len(jaxpr.outvars) - nk
    carry_out, carry_t_out = outs[:nk], outs[nk:2 * nk]
    ys, ys_t = outs[2 * nk:2 * nk + ny], outs[2 * nk + ny:]
    return list(carry_out) + list(ys), list(carry_t_out) + list(ys_t)


def _scan_partial_eval(trace, tracers, *, jaxpr, num_consts, num_carry, length, reverse):
    """Reverse mode through scan: unroll it, so each step's residuals are ordinary values."""
    params = dict(jaxpr=jaxpr, num_consts=num_consts, num_carry=num_carry, length=length,
                  reverse=reverse)
    if all(t.is_known for t in tracers):
        return scan_p.bind(*[t.known for t in tracers], **params)
    return _scan_unrolled(tracers, **params)


def _scan_unrolled(args, *, jaxpr, num_consts, num_carry, length, reverse):
    from .shape import squeeze
    from .slicing import slice_in_dim
    from .concatenate import concatenate
    from .shape import expand_dims
    consts = args[:num_consts]
    carry = list(args[num_consts:num_consts + num_carry])
    xs = args[num_consts + num_carry:]
    steps = []
    for i in (range(length - 1, -1, -1) if reverse else range(length)):
        x_i = [squeeze(slice_in_dim(x, i, i + 1, axis=0), (0,)) for x in xs]
        outs = _run(jaxpr, *consts, *carry, *x_i)
        carry = list(outs[:num_carry])
        steps.append(outs[num_carry:])
    if reverse:
        steps.reverse()
    y_avals = jaxpr.out_avals[num_carry:]
    ys = []
    for k, a in enumerate(y_avals):
        if not steps:
            from .elementwise import full
            ys.append(full((0,) + a.shape, 0, a.dtype))
        else:
            ys.append(concatenate([expand_dims(s[k], [0]) for s in steps], 0))
    return carry + ys


scan_p.partial_eval = _scan_partial_eval


@scan_p.def_batch
def _scan_batch(args, dims, *, jaxpr, num_consts, num_carry, length, reverse):
    from .batch_util import batch_size, bdim_at_front, move_axis
    size = batch_size(args, dims)
    nc, nk = num_consts, num_carry
    # Batch consts and carry along axis 0, and xs along axis 1 (axis 0 is the scan axis).
    consts = [bdim_at_front(x, d, size) for x, d in zip(args[:nc], dims[:nc])]
    carry = [bdim_at_front(x, d, size) for x, d in zip(args[nc:nc + nk], dims[nc:nc + nk])]
    xs = []
    for x, d in zip(args[nc + nk:], dims[nc + nk:]):
        x = bdim_at_front(x, d, size)
        xs.append(move_axis(x, 0, 1))
    body, _ = _batch_jaxpr(jaxpr, [True] * len(jaxpr.invars), size)
    outs = scan_p.bind(*consts, *carry, *xs, jaxpr=body, num_consts=nc, num_carry=nk,
                       length=length, reverse=reverse)
    return outs, [0] * nk + [1] * (len(outs) - nk)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Loop ``carry, y = f(carry, x)`` over the leading axis of ``xs``; returns ``(carry, ys)``."""
    init_leaves, carry_tree = tree_flatten(init)
    init_leaves = [_operand(x) for x in init_leaves]
    xs_leaves, xs_tree = tree_flatten(xs)
    xs_leaves = [_operand(x) for x in xs_leaves]
    lengths = {get_aval(x).shape[0] for x in xs_leaves if get_aval(x).ndim}
    if any(get_aval(x).ndim == 0 for x in xs_leaves):
        raise ValueError("scan got an xs leaf that is a scalar: every leaf of xs needs a leading "
                         "axis to scan over.")
    if length is not None:
        lengths.add(int(length))
    if len(lengths) > 1:
        raise ValueError(f"scan got values with different leading axis sizes: {sorted(lengths)}. "
                         "Every leaf of xs (and length=, if given) must agree.")
    if not lengths:
        raise ValueError("scan needs xs with a leading axis, or length= when xs is None.")
    n = lengths.pop()
    carry_avals = [get_aval(x) for x in init_leaves]
    x_avals = [get_aval(x).update(shape=get_aval(x).shape[1:]) for x in xs_leaves]
    store = {}

    def flat_body(*a):
        carry = tree_unflatten(carry_tree, a[:len(carry_avals)])
        x = tree_unflatten(xs_tree, a[len(carry_avals):])
        result = f(carry, x)
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise TypeError("scan body must return a pair (new_carry, y).")
        new_carry, y = result
        c_leaves, c_tree = tree_flatten(new_carry)
        if c_tree != carry_tree:
            raise TypeError(f"scan body function carry input and carry output must have the same "
                            f"pytree structure, but they differ: {carry_tree} vs {c_tree}.")
        y_leaves, store["y_tree"] = tree_flatten(y)
        return [_operand(c) for c in c_leaves] + [_operand(v) for v in y_leaves]

    body, consts = _trace(flat_body, carry_avals + x_avals)
    out_carry = body.out_avals[:len(carry_avals)]
    if not _same_types(out_carry, carry_avals):
        raise TypeError(
            f"scan body function carry input and carry output must have equal types, got input "
            f"{_avals_str(carry_avals)} and output {_avals_str(out_carry)}. Cast inside the body "
            f"so the carry keeps its shape and dtype.")
    # Weak types in the carry follow the initial value.
    outs = scan_p.bind(*consts, *init_leaves, *xs_leaves, jaxpr=body, num_consts=len(consts),
                       num_carry=len(carry_avals), length=n, reverse=bool(reverse))
    carry = tree_unflatten(carry_tree, outs[:len(carry_avals)])
    ys = tree_unflatten(store["y_tree"], outs[len(carry_avals):])
    return carry, ys


def fori_loop(lower, upper, body_fun, init_val):
    """``for i in range(lower, upper): val = body_fun(i, val)``.

    With Python-int bounds this is a ``scan`` (so reverse-mode differentiable); with traced
    bounds it is a ``while_loop``.
    """
    concrete = not isinstance(lower, Tracer) and not isinstance(upper, Tracer)
    if concrete:
        lo, hi = int(lower), int(upper)
        dtype = dtypes.default_int()

        def step(carry, _):
            i, val = carry
            from .elementwise import add
            return (add(i, np.asarray(1, dtype)), body_fun(i, val)), None

        from .elementwise import convert_element_type
        start = convert_element_type(np.asarray(lo, dtype), dtype)
        (_, val), _ = scan(step, (start, init_val), None, length=max(hi - lo, 0))
        return val
    from .elementwise import add, lt, convert_element_type
    lower, upper = _operand(lower), _operand(upper)

    def cond_fun(c):
        return lt(c[0], c[1])

    def body(c):
        i, hi, val = c
        return add(i, np.asarray(1, get_aval(i).dtype)), hi, body_fun(i, val)

    upper = convert_element_type(upper, get_aval(lower).dtype)
    return while_loop(cond_fun, body, (lower, upper, init_val))[2]


def map(f, xs):
    """``jnp.stack([f(x) for x in xs])`` as a scan (sequential, low memory)."""
    _, ys = scan(lambda c, x: (c, f(x)), (), xs)
    return ys


__all__ = ["cond", "switch", "while_loop", "fori_loop", "scan", "map", "ShapedArray"]
