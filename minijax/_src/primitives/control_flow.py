"""Structured control flow: ``cond``/``switch``, ``while_loop``, ``fori_loop``, ``scan``.

Python's ``if`` and ``for`` run while a function is being traced, so they cannot
depend on traced values. These functions instead trace their branch or loop
body *once* into a small Jaxpr and make it a parameter of a primitive. The
primitive then has the usual rules:

* ``impl``: run the chosen branch / iterate the body (each body is compiled by
  the CPU backend, so loops do not re-dispatch every operation from Python; a
  short scan is interpreted until it has run enough to repay a compilation);
* ``jvp``: differentiate the body, carrying tangents through the loop;
* ``batch``: vmap the body; a batched ``cond`` predicate becomes a ``select``
  of both branches, a batched ``while`` predicate keeps finished lanes frozen;
* ``partial_eval`` (used by reverse mode): with known predicates the chosen
  branch is simply inlined. ``while_loop`` cannot be reverse-differentiated (as in
  JAX): its trip count is not known in advance.

Reverse mode through ``scan`` keeps the loop a loop, whatever its length. Partial
evaluation splits the differentiated scan in two: a *known* scan does all the
primal work now and also returns, stacked along the scan axis, the per-step
values ("residuals") that the derivative needs, while an *unknown* scan, linear
in the tangents, is recorded and reads those residuals back as its ``xs``. A carry
is unknown if one step can make it so, which is found by repeating the split until
nothing changes. The ``transpose`` rule then turns that linear scan into a scan
running the opposite way, carrying the carry's cotangent from the last step back
to the first and summing the cotangents of the constants it closes over.
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


def _run_whole(primitive, args, params):
    """Run this control-flow equation as one compiled program (loop included), if the backend
    can compile all of its bodies; None otherwise (the caller then loops in Python)."""
    bodies = [v for v in params.values() if isinstance(v, Jaxpr)] + \
        [b for v in params.values() if isinstance(v, tuple) for b in v]
    key = (tuple((a.shape, a.dtype) for a in args), tuple(id(b) for b in bodies),
           tuple((k, v) for k, v in sorted(params.items()) if isinstance(v, (int, bool))))
    cache = getattr(bodies[0], "_whole_programs", None)   # lives as long as the body does
    if cache is None:
        cache = bodies[0]._whole_programs = {}
    entry = cache.get(key)
    if entry is None:
        from ..backends.cpu import compile_equation
        avals = [ShapedArray(a.shape, a.dtype) for a in args]
        entry = cache[key] = (compile_equation(primitive, avals, params), bodies)
    program = entry[0]
    return None if program is None else program(*args)


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


def _join_branch_consts(traced):
    """Give every branch every branch's constants, so all branches share one signature.

    ``traced`` is a list of ``(jaxpr, consts)`` whose jaxprs take their own constants first.
    Returns ``(jaxprs, flat_consts)``: branch ``k`` takes ``*flat_consts, *operands`` and
    ignores the constants that belong to the other branches.
    """
    const_avals = [[get_aval(c) for c in consts] for _, consts in traced]
    padded = []
    for k, (jaxpr, consts) in enumerate(traced):
        own_consts, own_ops = jaxpr.invars[:len(consts)], jaxpr.invars[len(consts):]
        before = [Var(a) for j in range(k) for a in const_avals[j]]
        after = [Var(a) for j in range(k + 1, len(traced)) for a in const_avals[j]]
        padded.append(Jaxpr([], before + own_consts + after + own_ops, jaxpr.eqns, jaxpr.outvars))
    return padded, [c for _, consts in traced for c in consts]


def _shared_passthrough(branches, op_dims):
    """For each output: the operand position every branch returns unchanged (an unbatched one),
    else None. Such an output is the same whichever branch runs, so it needs no select."""
    shared = []
    for k in range(len(branches[0].outvars)):
        pos = set()
        for br in branches:
            v = br.outvars[k]
            pos.add(next((j for j, iv in enumerate(br.invars) if iv is v), None)
                    if isinstance(v, Var) else None)
        j = pos.pop() if len(pos) == 1 else None
        shared.append(j if j is not None and op_dims[j] is None else None)
    return shared


def _only_when_taken(taken, x, linear=False):
    """``x`` where ``taken``, else a value that carries no derivative.

    When every branch is computed and a select keeps one per example, the branches that were
    not taken still see the operands. If one of them has an infinite or NaN derivative there
    (``sqrt`` at a negative number), reverse mode would multiply it by the zero cotangent the
    select hands back -- and ``0 * nan`` is ``nan``. Masking the operand on the way *in* as
    well makes the untaken branch's cotangent stop at this select. ``linear`` operands (a
    tangent under partial evaluation) are masked with zeros, others with ``stop_gradient``.
    """
    from .elementwise import select_n, stop_gradient, zeros_like_aval
    from .shape import broadcast_in_dim
    aval = get_aval(x)
    if aval.dtype.kind not in "fc":
        return x    # integers and booleans carry no derivative
    t_shape = get_aval(taken).shape
    if t_shape and t_shape != aval.shape:
        taken = broadcast_in_dim(taken, aval.shape, tuple(range(len(t_shape))))
    other = zeros_like_aval(aval) if linear else stop_gradient(x)
    return select_n(taken, other, x)


@cond_p.def_batch
def _cond_batch(args, dims, *, branches):
    """Batch only the outputs that can differ along the batch.

    With an unbatched index the same branch runs for every example, so the result stays one
    ``cond``: an output is batched if, in some branch, it depends on a batched operand (all
    branches are then made to batch it, broadcasting where needed, since the branches must
    agree on their output types). An output that only sees unbatched operands stays
    unbatched -- e.g. the primal half of a vmapped JVP, which ``jacfwd`` returns with
    ``out_axes=None``.

    With a batched index each example may take a different branch: every branch is computed
    and ``select_n`` picks per example. Then every output is batched unless all branches
    return the very same unbatched operand.
    """
    from .batch_util import batch_size, bdim_at_front
    from .elementwise import select_n, convert_element_type
    from .shape import broadcast_in_dim
    size = batch_size(args, dims)
    index, *ops = args
    index_dim, *op_dims = dims
    n_out = len(branches[0].outvars)
    in_batched = [d is not None for d in op_dims]
    ops = [bdim_at_front(x, d, size) if d is not None else x for x, d in zip(ops, op_dims)]
    if index_dim is None:
        traced = [_batch_body(br, in_batched, size, [False] * n_out) for br in branches]
        out_batched = [any(t[2][k] for t in traced) for k in range(n_out)]
        traced = [(jb, consts) if ob == out_batched else
                  _batch_body(br, in_batched, size, out_batched)[:2]
                  for br, (jb, consts, ob) in zip(branches, traced)]
        new_branches, consts = _join_branch_consts(traced)
        outs = cond_p.bind(index, *consts, *ops, branches=tuple(new_branches))
        return outs, [0 if b else None for b in out_batched]
    # A different branch per example: compute every branch, then pick per example.
    from .elementwise import eq
    index = bdim_at_front(index, index_dim, size)
    shared = _shared_passthrough(branches, op_dims)
    # Inexact operands are batched so each example's copy can be masked (_only_when_taken).
    maskable = [get_aval(x).dtype.kind in "fc" and len(branches) > 1 for x in ops]
    unmasked = ops
    ops = [bdim_at_front(x, None, size) if m and not b else x
           for x, m, b in zip(ops, maskable, in_batched)]
    in_batched = [b or m for b, m in zip(in_batched, maskable)]
    results = []
    for i, br in enumerate(branches):
        jb, consts, _ = _batch_body(br, in_batched, size, [j is None for j in shared])
        taken = eq(index, np.asarray(i, get_aval(index).dtype))
        ops_i = [_only_when_taken(taken, x) if m else x for x, m in zip(ops, maskable)]
        results.append(_run(jb, *consts, *ops_i))
    outs, out_dims = [], []
    for k in range(n_out):
        if shared[k] is not None:
            outs.append(unmasked[shared[k]])
            out_dims.append(None)
            continue
        candidates = [r[k] for r in results]
        shape = get_aval(candidates[0]).shape
        which = broadcast_in_dim(index, shape, (0,)) if shape != (size,) else index
        if get_aval(which).dtype != np.bool_ and len(candidates) > 1:
            which = convert_element_type(which, np.int32)
        outs.append(select_n(which, *candidates))
        out_dims.append(0)
    return outs, out_dims


def _cond_partial_eval(trace, tracers, *, branches):
    """Reverse mode: pick the branch when the index is known, else compute all and select.

    The index is an integer, so it is always known (no tangent reaches it); it has no concrete
    value under ``jit`` or ``vmap``, and then every branch runs on masked operands
    (``_only_when_taken``) and a ``select_n`` keeps the chosen one.
    """
    index, *ops = tracers
    if index.is_known:
        concrete = index.concrete_value()
        if concrete is not None:
            i = int(np.clip(int(np.asarray(concrete)), 0, len(branches) - 1))
            return _run(branches[i], *ops)
    if len(branches) == 1:
        return _run(branches[0], *ops)
    from .elementwise import eq, select_n
    from .shape import broadcast_in_dim
    results = []
    for i, br in enumerate(branches):
        taken = eq(index, np.asarray(i, get_aval(index).dtype))
        results.append(_run(br, *[_only_when_taken(taken, x, linear=not x.is_known)
                                  for x in ops]))
    outs = []
    for k in range(len(branches[0].outvars)):
        candidates = [r[k] for r in results]
        shape = get_aval(candidates[0]).shape
        w = broadcast_in_dim(index, shape, ()) if shape else index
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
    traced, out_trees = [], []
    for br in branches:
        store = {}

        def flat(*xs, br=br, store=store):
            out = br(*tree_unflatten(in_tree, xs))
            out_leaves, store["tree"] = tree_flatten(out)
            return [_operand(o) for o in out_leaves]

        jaxpr, consts = _trace(flat, avals)
        traced.append((jaxpr, consts))
        out_trees.append(store["tree"])
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
    padded, flat_consts = _join_branch_consts(traced)
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
    outs = _run_whole(while_p, [np.asarray(x) for x in args],
                      dict(cond_jaxpr=cond_jaxpr, body_jaxpr=body_jaxpr,
                           cond_nconsts=cond_nconsts, body_nconsts=body_nconsts))
    if outs is not None:
        return outs
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
    body = _scan_body_runner(jaxpr, length)
    if body is None:   # worth compiling: the whole loop, if numba can run its body
        outs = _run_whole(scan_p, [np.asarray(a) for a in args],
                          dict(jaxpr=jaxpr, num_consts=num_consts, num_carry=num_carry,
                               length=length, reverse=reverse))
        if outs is not None:
            return outs
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


# Compiling a body costs a numba compilation (a fraction of a second, once per body); running it
# equation by equation costs microseconds per equation and step. So a body is interpreted until
# the work spent interpreting it (equations x steps, over all its runs) would have paid for a
# compilation: the many one-off short scans that differentiating a scan creates never compile,
# while a long loop, or a body run again and again (under jit, say), soon does.
_COMPILE_MIN_WORK = 2000   # equations x steps


def _scan_body_runner(jaxpr, length):
    """An interpreter for a body not yet worth compiling, or None once it is."""
    if not getattr(jaxpr, "_worth_compiling", False):
        work = getattr(jaxpr, "_interpreted_work", 0) + length * max(len(jaxpr.eqns), 1)
        if work < _COMPILE_MIN_WORK:
            jaxpr._interpreted_work = work
            return lambda *args: [np.asarray(o) for o in _run(jaxpr, *args)]
        jaxpr._worth_compiling = True
    return None


@scan_p.def_abstract_eval
def _scan_abstract(*avals, jaxpr, num_consts, num_carry, length, reverse):
    outs = jaxpr.out_avals
    return list(outs[:num_carry]) + [a.update(shape=(length,) + a.shape) for a in outs[num_carry:]]


def _jvp_body(jaxpr, num_consts, num_carry, nonzeros, instantiate):
    """The JVP of a scan body, with tangents only for the inputs marked in ``nonzeros``.

    The traced body takes ``(consts, consts_t, carry, carry_t, xs, xs_t)`` and returns
    ``(carry, carry_t, ys, ys_t)``, where each ``*_t`` holds only the non-zero tangents.
    Returns ``(body, consts, out_nonzeros)``; ``instantiate`` forces outputs to be non-zero.
    """
    from ..interpreters import ad
    nc, nk = num_consts, num_carry
    groups = [(0, nc), (nc, nc + nk), (nc + nk, len(jaxpr.invars))]
    store = {}

    def body(*args):
        args = iter(args)
        primals, tangents = [None] * len(jaxpr.invars), [None] * len(jaxpr.invars)
        for lo, hi in groups:
            for i in range(lo, hi):
                primals[i] = next(args)
            for i in range(lo, hi):
                aval = ad.tangent_aval(jaxpr.in_avals[i])
                tangents[i] = next(args) if nonzeros[i] else core.Zero(aval)
        with core.new_main(ad.JVPTrace) as main:
            trace = ad.JVPTrace(main)
            outs = _run(jaxpr, *[ad.JVPTracer(trace, p, t) for p, t in zip(primals, tangents)])
            outs = [trace.full_raise(o) for o in outs]
            nz = [not core.is_zero(o.tangent) or inst for o, inst in zip(outs, instantiate)]
            p_out = [core.full_lower(o.primal) for o in outs]
            t_out = [core.full_lower(ad.instantiate_zeros(o.tangent)) if n else None
                     for o, n in zip(outs, nz)]
        store["nonzeros"] = nz
        result = []
        for lo, hi in [(0, nk), (nk, len(outs))]:
            result += p_out[lo:hi] + [t for t in t_out[lo:hi] if t is not None]
        return result

    avals = []
    for lo, hi in groups:
        avals += jaxpr.in_avals[lo:hi]
        avals += [ad.tangent_aval(a) for a, n in zip(jaxpr.in_avals[lo:hi], nonzeros[lo:hi]) if n]
    new_body, consts = _trace(body, avals)
    return new_body, consts, store["nonzeros"]


@scan_p.def_jvp
def _scan_jvp(primals, tangents, *, jaxpr, num_consts, num_carry, length, reverse):
    """Scan the JVP of the body, carrying the tangents along; symbolic-zero tangents stay out.

    A carry tangent that starts at zero but becomes non-zero after one step must be carried
    from the start, so which carry tangents are non-zero is found by iterating to a fixpoint.
    """
    from ..interpreters.ad import instantiate_zeros
    nc, nk = num_consts, num_carry
    n_out = len(jaxpr.outvars)
    nonzeros = [not core.is_zero(t) for t in tangents]
    while True:
        body, body_consts, out_nz = _jvp_body(jaxpr, nc, nk, nonzeros,
                                              nonzeros[nc:nc + nk] + [False] * (n_out - nk))
        now = [a or b for a, b in zip(nonzeros[nc:nc + nk], out_nz[:nk])]
        if now == nonzeros[nc:nc + nk]:
            break
        nonzeros[nc:nc + nk] = now
    args = list(body_consts)
    for lo, hi in [(0, nc), (nc, nc + nk), (nc + nk, len(primals))]:
        args += primals[lo:hi]
        args += [instantiate_zeros(t) for t, n in zip(tangents[lo:hi], nonzeros[lo:hi]) if n]
    n_ct = sum(nonzeros[:nc])
    n_kt = sum(nonzeros[nc:nc + nk])
    outs = iter(scan_p.bind(*args, jaxpr=body, num_consts=len(body_consts) + nc + n_ct,
                            num_carry=nk + n_kt, length=length, reverse=reverse))
    out_avals = _scan_abstract(*[get_aval(p) for p in primals], jaxpr=jaxpr, num_consts=nc,
                               num_carry=nk, length=length, reverse=reverse)
    primals_out, tangents_out = [], []
    for lo, hi in [(0, nk), (nk, n_out)]:
        primals_out += [next(outs) for _ in range(lo, hi)]
        tangents_out += [next(outs) if out_nz[i] else
                         core.Zero(out_avals[i].update(weak_type=False)) for i in range(lo, hi)]
    return primals_out, tangents_out


scan_p.jvp_accepts_zeros = True


# Reverse mode through scan, in two steps (see the module docstring):
#   1. partial evaluation splits the JVP'd scan into a *known* scan (primal work, which also
#      stacks the per-step residuals as extra ys) and an *unknown* scan (the linear tangent work,
#      which reads those residuals back as xs);
#   2. the transpose rule runs the linear scan backwards.
class _BodySplit:
    """The scan body split for a given pattern of unknown inputs (see ``_split_body``)."""

    known_jaxpr = known_consts = unknown_jaxpr = out_unknowns = residuals = None


def _split_body(jaxpr, num_consts, num_carry, unknowns, instantiate):
    """Partially evaluate a scan body whose inputs marked in ``unknowns`` are not known yet.

    Returns a ``_BodySplit`` with
      * ``known_jaxpr`` (leading inputs ``known_consts``, then the known body inputs):
        computes the known outputs, then the residuals of kind ``"stack"``;
      * ``unknown_jaxpr``: constvars are the residuals, invars the unknown body inputs;
      * ``out_unknowns``: which body outputs are unknown (``instantiate`` forces some to be);
      * ``residuals``: per constvar of ``unknown_jaxpr`` a pair ``(kind, where)``:
        ``("input", i)`` is known const or xs input ``i`` itself (a carry changes every step,
        so it is stacked), ``("value", v)`` a value that does
        not depend on the body inputs, ``("stack", k)`` the known jaxpr's extra output ``k``.
    """
    from ..interpreters import partial_eval as pe
    split = _BodySplit()

    def known_fun(*known_args):
        with core.new_main(pe.PartialEvalTrace) as main:
            trace = pe.PartialEvalTrace(main)
            known_iter = iter(known_args)
            ins, unknown_ins, arg_index = [], [], {}
            for i, (aval, unknown) in enumerate(zip(jaxpr.in_avals, unknowns)):
                if unknown:
                    ins.append(trace.new_arg(aval))
                    unknown_ins.append(ins[-1])
                else:
                    arg = next(known_iter)
                    if not num_consts <= i < num_consts + num_carry:
                        arg_index[id(arg)] = i
                    ins.append(trace.pure(arg))
            outs = [trace.full_raise(o) for o in _run(jaxpr, *ins)]
            split.out_unknowns = [not o.is_known or inst for o, inst in zip(outs, instantiate)]
            known_outs = [o.known for o, u in zip(outs, split.out_unknowns) if not u]
            unknown_outs = [trace.instantiate(o) for o, u in zip(outs, split.out_unknowns) if u]
            split.unknown_jaxpr, res_vals = pe.tracers_to_jaxpr(unknown_ins, unknown_outs)
        stacked, stack_index, residuals = [], {}, []
        for val in res_vals:
            if id(val) in arg_index:
                residuals.append(("input", arg_index[id(val)]))
            elif isinstance(val, Tracer):
                if id(val) not in stack_index:
                    stack_index[id(val)] = len(stacked)
                    stacked.append(val)
                residuals.append(("stack", stack_index[id(val)]))
            else:
                residuals.append(("value", val))
        split.residuals = residuals
        return known_outs + stacked

    known_avals = [a for a, u in zip(jaxpr.in_avals, unknowns) if not u]
    split.known_jaxpr, split.known_consts = _trace(known_fun, known_avals)
    return split


def _dce(jaxpr):
    """Drop equations whose outputs nothing uses (inputs are kept as they are)."""
    live = {id(v) for v in jaxpr.outvars if isinstance(v, Var)}
    kept = []
    for eqn in reversed(jaxpr.eqns):
        if any(id(v) in live for v in eqn.outputs):
            kept.append(eqn)
            live.update(id(v) for v in eqn.inputs if isinstance(v, Var))
    return Jaxpr(jaxpr.constvars, jaxpr.invars, kept[::-1], jaxpr.outvars)


def _prune_unused_inputs(jaxpr, args, num_consts, num_carry):
    """Drop the consts and xs a scan body never reads (a carry is always kept)."""
    used = {id(v) for e in jaxpr.eqns for v in e.inputs if isinstance(v, Var)}
    used.update(id(v) for v in jaxpr.outvars if isinstance(v, Var))
    keep = [num_consts <= i < num_consts + num_carry or id(v) in used
            for i, v in enumerate(jaxpr.invars)]
    if all(keep):
        return jaxpr, list(args), num_consts
    pruned = Jaxpr([], [v for v, k in zip(jaxpr.invars, keep) if k], jaxpr.eqns, jaxpr.outvars)
    return pruned, [a for a, k in zip(args, keep) if k], sum(keep[:num_consts])


def _hoist_invariant(known_jaxpr, n_invariant_ins, n_known_outs):
    """Split off the stacked residuals that do not change from step to step.

    A residual computed from the scan's constants only (say ``exp(w)`` for a closed-over
    ``w``) would be stacked ``length`` times for nothing; instead it is computed once, before
    the loop. Returns the known jaxpr without those outputs, the jaxpr that computes them
    from the first ``n_invariant_ins`` inputs, and for every stacked residual whether it moved.
    """
    variant = {id(v) for v in known_jaxpr.invars[n_invariant_ins:]}
    for eqn in known_jaxpr.eqns:
        if any(isinstance(v, Var) and id(v) in variant for v in eqn.inputs):
            variant.update(id(v) for v in eqn.outputs)
    res_outs = known_jaxpr.outvars[n_known_outs:]
    hoisted = [not (isinstance(v, Var) and id(v) in variant) for v in res_outs]
    if not any(hoisted):
        return _dce(known_jaxpr), None, hoisted
    ins = known_jaxpr.invars[:n_invariant_ins]
    outer = _dce(Jaxpr([], ins, [e for e in known_jaxpr.eqns
                                 if not any(id(v) in variant for v in e.outputs)],
                       [v for v, h in zip(res_outs, hoisted) if h]))
    inner = _dce(Jaxpr([], known_jaxpr.invars, known_jaxpr.eqns,
                       known_jaxpr.outvars[:n_known_outs]
                       + [v for v, h in zip(res_outs, hoisted) if not h]))
    return inner, outer, hoisted


def _scan_partial_eval(trace, tracers, *, jaxpr, num_consts, num_carry, length, reverse):
    """Split a scan with some unknown inputs into a known scan and an unknown (recorded) scan."""
    from ..interpreters import partial_eval as pe
    params = dict(jaxpr=jaxpr, num_consts=num_consts, num_carry=num_carry, length=length,
                  reverse=reverse)
    if all(t.is_known for t in tracers):
        return scan_p.bind(*[t.known for t in tracers], **params)
    nc, nk = num_consts, num_carry
    n_out = len(jaxpr.outvars)
    unknowns = [not t.is_known for t in tracers]
    # Fixpoint: a carry is unknown if its initial value is, or if one step makes it so (then it
    # must be unknown from the start, since the known scan cannot carry it).
    while True:
        split = _split_body(jaxpr, nc, nk, unknowns, unknowns[nc:nc + nk] + [False] * (n_out - nk))
        now = [u or o for u, o in zip(unknowns[nc:nc + nk], split.out_unknowns[:nk])]
        if now == unknowns[nc:nc + nk]:
            break
        unknowns[nc:nc + nk] = now

    # The known scan: known inputs -> known outputs + stacked residuals.
    known_in = [t.known for t, u in zip(tracers, unknowns) if not u]
    n_known_consts = sum(1 for u in unknowns[:nc] if not u)
    n_known_carry = sum(1 for u in unknowns[nc:nc + nk] if not u)
    n_known_outs = sum(1 for u in split.out_unknowns if not u)
    kconsts = list(split.known_consts)
    known_jaxpr, hoist_jaxpr, hoisted = _hoist_invariant(
        split.known_jaxpr, len(kconsts) + n_known_consts, n_known_outs)
    invariant_vals = []
    if hoist_jaxpr is not None:
        invariant_vals = _run(hoist_jaxpr, *kconsts, *known_in[:n_known_consts])
    if known_jaxpr.outvars:
        known_jaxpr, known_args, n_kc = _prune_unused_inputs(
            known_jaxpr, kconsts + known_in, len(kconsts) + n_known_consts, n_known_carry)
        known_outs = scan_p.bind(*known_args, jaxpr=known_jaxpr, num_consts=n_kc,
                                 num_carry=n_known_carry, length=length, reverse=reverse)
    else:
        known_outs = []
    outs_known, stacked_moving = known_outs[:n_known_outs], iter(known_outs[n_known_outs:])
    invariant_iter = iter(invariant_vals)
    stacked = [next(invariant_iter) if h else next(stacked_moving) for h in hoisted]
    if not any(split.out_unknowns):
        return outs_known

    # The unknown scan: consts = [invariant residuals, unknown consts], carry = unknown carry,
    # xs = [unknown xs, per-step residuals]. Duplicate residuals are passed once.
    uj = split.unknown_jaxpr
    res_const_vars, res_const_vals, res_x_vars, res_x_vals = [], [], [], []
    seen, rename = {}, {}
    for var, (kind, where) in zip(uj.constvars, split.residuals):
        if kind == "input":
            key = ("input", where)
            per_step = where >= nc + nk
            value = tracers[where].known
        elif kind == "stack":
            key = ("stack", where)
            per_step = not hoisted[where]
            value = stacked[where]
        else:
            key = ("value", id(where))
            per_step, value = False, where
        if key in seen:
            rename[var] = seen[key]
            continue
        seen[key] = var
        if per_step:
            res_x_vars.append(var)
            res_x_vals.append(value)
        else:
            res_const_vars.append(var)
            res_const_vals.append(value)
    uk_in_vars = iter(uj.invars)
    uk_consts = [next(uk_in_vars) for u in unknowns[:nc] if u]
    uk_carry = [next(uk_in_vars) for u in unknowns[nc:nc + nk] if u]
    uk_xs = list(uk_in_vars)
    eqns = [core.JaxprEqn(e.primitive, [rename.get(v, v) if isinstance(v, Var) else v
                                        for v in e.inputs], e.params, e.outputs)
            for e in uj.eqns]
    outvars = [rename.get(v, v) if isinstance(v, Var) else v for v in uj.outvars]
    unknown_jaxpr = Jaxpr([], res_const_vars + uk_consts + uk_carry + uk_xs + res_x_vars,
                          eqns, outvars)

    def residual(val):
        return trace.instantiate(trace.pure(val))

    ins = ([residual(v) for v in res_const_vals]
           + [t for t, u in zip(tracers[:nc], unknowns[:nc]) if u]
           + [trace.instantiate(t) for t, u in zip(tracers[nc:nc + nk], unknowns[nc:nc + nk]) if u]
           + [t for t, u in zip(tracers[nc + nk:], unknowns[nc + nk:]) if u]
           + [residual(v) for v in res_x_vals])
    uk_params = dict(jaxpr=unknown_jaxpr, num_consts=len(res_const_vars) + len(uk_consts),
                     num_carry=len(uk_carry), length=length, reverse=reverse)
    out_avals = scan_p.abstract_eval(*[t.aval for t in ins], **uk_params)
    recipe = pe.EqnRecipe(scan_p, ins, uk_params, out_avals)
    unknown_outs = iter([pe.PartialEvalTracer(trace, a, recipe=recipe, index=i)
                         for i, a in enumerate(out_avals)])
    known_iter = iter(outs_known)
    return [next(unknown_outs) if u else next(known_iter) for u in split.out_unknowns]


scan_p.partial_eval = _scan_partial_eval


@scan_p.def_transpose
def _scan_transpose(cts, *args, jaxpr, num_consts, num_carry, length, reverse):
    """Run the linear scan backwards: carry cotangents flow from the last step to the first.

    The linear inputs (``UndefinedPrimal``) are some consts, the carry and some xs; the others
    are residuals, only read. The transposed scan carries (cotangent of the carry, running sum
    of the linear consts' cotangents) and emits the linear xs' cotangents as its ys.
    """
    from ..interpreters.ad import backward_pass
    from .elementwise import add, zeros_like_aval
    nc, nk = num_consts, num_carry
    consts, carry, xs = args[:nc], args[nc:nc + nk], args[nc + nk:]
    const_lin = [core.is_undefined_primal(c) for c in consts]
    x_lin = [core.is_undefined_primal(x) for x in xs]
    const_vars, carry_vars = jaxpr.invars[:nc], jaxpr.invars[nc:nc + nk]
    x_vars = jaxpr.invars[nc + nk:]
    # The body as a linear function of (linear consts, carry, linear xs), residuals as constvars.
    linear_body = Jaxpr(
        [v for v, lin in zip(const_vars, const_lin) if not lin]
        + [v for v, lin in zip(x_vars, x_lin) if not lin],
        [v for v, lin in zip(const_vars, const_lin) if lin] + list(carry_vars)
        + [v for v, lin in zip(x_vars, x_lin) if lin],
        jaxpr.eqns, jaxpr.outvars)
    res_consts = [c for c, lin in zip(consts, const_lin) if not lin]
    res_xs = [x for x, lin in zip(xs, x_lin) if not lin]
    lin_const_avals = [c.aval.update(weak_type=False) for c, lin in zip(consts, const_lin) if lin]
    n_rc, n_lc, n_rx = len(res_consts), len(lin_const_avals), len(res_xs)
    carry_avals = [v.aval.update(weak_type=False) for v in carry_vars]
    y_avals = [a.update(weak_type=False) for a in jaxpr.out_avals[nk:]]

    def real(ct, aval):
        ct = zeros_like_aval(aval) if ct is None or core.is_zero(ct) else ct
        return _cast(ct, aval)

    ct_carry = [real(ct, a) for ct, a in zip(cts[:nk], carry_avals)]
    ct_ys = [real(ct, a.update(shape=(length,) + a.shape)) for ct, a in zip(cts[nk:], y_avals)]

    def transposed_body(*a):
        res_c, ct_k = a[:n_rc], a[n_rc:n_rc + nk]
        acc = a[n_rc + nk:n_rc + nk + n_lc]
        res_x, ct_y = a[n_rc + nk + n_lc:n_rc + nk + n_lc + n_rx], a[n_rc + nk + n_lc + n_rx:]
        cts_in = backward_pass(linear_body, list(res_c) + list(res_x), list(ct_k) + list(ct_y))
        ct_c, ct_prev, ct_x = cts_in[:n_lc], cts_in[n_lc:n_lc + nk], cts_in[n_lc + nk:]
        acc = [_cast(add(s, c), aval) for s, c, aval in zip(acc, ct_c, lin_const_avals)]
        return [_cast(c, aval) for c, aval in zip(ct_prev, carry_avals)] + acc + list(ct_x)

    in_avals = ([get_aval(c) for c in res_consts] + carry_avals + lin_const_avals
                + [get_aval(x).update(shape=get_aval(x).shape[1:]) for x in res_xs] + y_avals)
    body_t, body_consts = _trace(transposed_body, in_avals)
    body_t, t_args, t_nc = _prune_unused_inputs(
        body_t, [*body_consts, *res_consts, *ct_carry,
                 *[zeros_like_aval(a) for a in lin_const_avals], *res_xs, *ct_ys],
        len(body_consts) + n_rc, nk + n_lc)
    outs = scan_p.bind(*t_args, jaxpr=body_t, num_consts=t_nc, num_carry=nk + n_lc,
                       length=length, reverse=not reverse)
    ct_consts, ct_xs = iter(outs[nk:nk + n_lc]), iter(outs[nk + n_lc:])
    return ([next(ct_consts) if lin else None for lin in const_lin]
            + [ct if core.is_undefined_primal(c) else None for c, ct in zip(carry, outs[:nk])]
            + [next(ct_xs) if lin else None for lin in x_lin])


def _cast(x, aval):
    """``x`` with ``aval``'s dtype (a cotangent must match the carry it flows into)."""
    from .elementwise import convert_element_type
    return x if get_aval(x).dtype == aval.dtype else convert_element_type(x, aval.dtype)


def _batch_body(jaxpr, in_batched, size, force_out):
    """vmap a body over axis 0 of the inputs marked in ``in_batched``; others stay unbatched.

    Returns ``(jaxpr, consts, out_batched)``: an output is batched when it depends on a batched
    input or ``force_out`` asks for it (then it is broadcast); all batch axes are at 0.
    """
    from ..interpreters.batching import BatchTrace, BatchTracer
    from .batch_util import bdim_at_front
    store = {}

    def body(*args):
        with core.new_main(BatchTrace, size) as main:
            trace = BatchTrace(main)
            ins = [BatchTracer(trace, a, 0 if b else None) for a, b in zip(args, in_batched)]
            outs = [trace.full_raise(o) for o in _run(jaxpr, *ins)]
            vals, dims = [o.val for o in outs], [o.batch_dim for o in outs]
        store["batched"] = [d is not None or f for d, f in zip(dims, force_out)]
        return [bdim_at_front(v, d, size) if b else v
                for v, d, b in zip(vals, dims, store["batched"])]

    avals = [a.update(shape=(size,) + a.shape) if b else a
             for a, b in zip(jaxpr.in_avals, in_batched)]
    new_body, consts = _trace(body, avals)
    return new_body, consts, store["batched"]


@scan_p.def_batch
def _scan_batch(args, dims, *, jaxpr, num_consts, num_carry, length, reverse):
    """Batch consts and carry at axis 0 and xs at axis 1 (axis 0 is the scan axis).

    Only what depends on the batch is batched: a carry is batched if its initial value is or
    if one step makes it so (found by iterating to a fixpoint), so e.g. the primal part of a
    vmapped JVP stays unbatched.
    """
    from .batch_util import batch_size, bdim_at_front, move_axis
    size = batch_size(args, dims)
    nc, nk = num_consts, num_carry
    n_out = len(jaxpr.outvars)
    batched = [d is not None for d in dims]
    while True:
        body, body_consts, out_b = _batch_body(jaxpr, batched, size,
                                               batched[nc:nc + nk] + [False] * (n_out - nk))
        now = [a or b for a, b in zip(batched[nc:nc + nk], out_b[:nk])]
        if now == batched[nc:nc + nk]:
            break
        batched[nc:nc + nk] = now
    new_args = []
    for i, (x, d, b) in enumerate(zip(args, dims, batched)):
        if b:
            x = bdim_at_front(x, d, size)
            if i >= nc + nk:
                x = move_axis(x, 0, 1)
        new_args.append(x)
    outs = scan_p.bind(*body_consts, *new_args, jaxpr=body, num_consts=len(body_consts) + nc,
                       num_carry=nk, length=length, reverse=reverse)
    return outs, [(0 if i < nk else 1) if b else None for i, b in enumerate(out_b)]


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
