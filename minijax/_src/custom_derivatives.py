"""``custom_jvp`` and ``custom_vjp``: replace autodiff's derivative with your own.

Use them when the derivative autodiff would build is numerically poor (a
``log(1 + exp(x))`` that overflows) or too expensive (an iterative solver).

* Under ``jvp``/``grad`` the JVP trace calls your rule instead of tracing
  through the function; every other interpreter just runs the function.
* A ``custom_vjp`` function, under differentiation, runs ``fwd`` for the
  primal output and residuals, and emits a ``custom_lin`` equation whose
  transpose calls your ``bwd``. So reverse mode uses ``bwd``; forward mode
  (``jvp``) is impossible and says so, as in JAX.
"""
from __future__ import annotations

import functools

from .core import Primitive, find_top_trace, full_lower, get_aval
from ..tree_util import tree_flatten, tree_unflatten


def _resolve(args, nondiff_argnums):
    diff = [a for i, a in enumerate(args) if i not in nondiff_argnums]
    fixed = {i: args[i] for i in nondiff_argnums}
    return diff, fixed


def _merge(fixed, diff, n):
    it = iter(diff)
    return [fixed[i] if i in fixed else next(it) for i in range(n)]


class custom_jvp:
    """Decorator: ``@custom_jvp def f(x): ...`` then ``@f.defjvp def f_jvp(primals, tangents): ...``.

    The rule returns ``(primal_out, tangent_out)``.
    """

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.fun, self.nondiff_argnums, self.jvp = fun, tuple(nondiff_argnums), None

    def defjvp(self, jvp):
        self.jvp = jvp
        return jvp

    def defjvps(self, *jvps):
        """One rule per argument: ``jvp_i(tangent_i, primal_out, *primals) -> tangent contribution``."""
        def jvp(primals, tangents):
            out = self.fun(*primals)
            total = None
            for rule, t in zip(jvps, tangents):
                if rule is not None:
                    term = rule(t, out, *primals)
                    total = term if total is None else total + term
            return out, total
        self.jvp = jvp

    def __call__(self, *args):
        if self.jvp is None:
            raise AttributeError(f"No JVP defined for custom_jvp function {self.__name__} using "
                                 "defjvp: decorate a rule with @f.defjvp.")
        n = len(args)
        diff, fixed = _resolve(args, self.nondiff_argnums)
        leaves, in_tree = tree_flatten(tuple(diff))
        out_tree = {}

        def flat_fun(*flat):
            out = self.fun(*_merge(fixed, tree_unflatten(in_tree, flat), n))
            out_leaves, out_tree["t"] = tree_flatten(out)
            return out_leaves

        def flat_jvp(primals, tangents):
            p = tree_unflatten(in_tree, primals)
            t = tree_unflatten(in_tree, tangents)
            nondiff = [fixed[i] for i in sorted(fixed)]
            out, t_out = self.jvp(*nondiff, tuple(p), tuple(t))
            out_leaves, out_tree["t"] = tree_flatten(out)
            t_leaves, t_tree = tree_flatten(t_out)
            if t_tree != out_tree["t"]:
                raise TypeError(
                    f"Custom JVP rule for {self.__name__} must produce primal and tangent outputs "
                    f"with equal container (pytree) structures, but got {out_tree['t']} and {t_tree}.")
            t_leaves = [_match_dtype(t, p) for t, p in zip(t_leaves, out_leaves)]
            return out_leaves, t_leaves

        outs = custom_jvp_call(flat_fun, flat_jvp, leaves)
        return tree_unflatten(out_tree["t"], outs)


def _match_dtype(t, like):
    from .primitives.elementwise import convert_element_type
    if get_aval(t).dtype != get_aval(like).dtype:
        return convert_element_type(t, get_aval(like).dtype)
    return t


class custom_vjp:
    """Decorator: ``@custom_vjp def f(x): ...`` then ``f.defvjp(f_fwd, f_bwd)``.

    ``f_fwd(*args) -> (out, residuals)``; ``f_bwd(residuals, out_cotangent) -> tuple`` with one
    cotangent per argument.
    """

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.fun, self.nondiff_argnums = fun, tuple(nondiff_argnums)
        self.fwd = self.bwd = None

    def defvjp(self, fwd, bwd):
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args):
        if self.fwd is None:
            raise AttributeError(f"No VJP defined for custom_vjp function {self.__name__} using "
                                 "defvjp: call f.defvjp(f_fwd, f_bwd).")
        n = len(args)
        diff, fixed = _resolve(args, self.nondiff_argnums)
        nondiff = [fixed[i] for i in sorted(fixed)]
        leaves, in_tree = tree_flatten(tuple(diff))
        out_tree = {}

        def flat_fun(*flat):
            out = self.fun(*_merge(fixed, tree_unflatten(in_tree, flat), n))
            out_leaves, out_tree["t"] = tree_flatten(out)
            return out_leaves

        def flat_fwd(primals):
            out, res = self.fwd(*_merge(fixed, tree_unflatten(in_tree, primals), n))
            out_leaves, out_tree["t"] = tree_flatten(out)
            return out_leaves, res

        def flat_bwd(res, cts_out):
            cts_in = self.bwd(*nondiff, res, tree_unflatten(out_tree["t"], cts_out))
            if not isinstance(cts_in, tuple):
                raise TypeError(f"Custom VJP bwd rule of {self.__name__} must return a tuple "
                                f"with one cotangent per argument, got {type(cts_in).__name__}.")
            flat, tree = tree_flatten(cts_in)
            if tree != in_tree:
                raise TypeError(f"Custom VJP bwd rule of {self.__name__} must produce cotangents "
                                f"matching the arguments' structure {in_tree}, got {tree}.")
            return flat

        outs = custom_vjp_call(flat_fun, flat_fwd, flat_bwd, leaves)
        return tree_unflatten(out_tree["t"], outs)


# ---------------------------------------------------------------------------
# Dispatch: the top trace decides what a custom-derivative call means
# ---------------------------------------------------------------------------
def custom_jvp_call(fun, jvp, args):
    """Call ``fun`` (flat list in, flat list out) with JVP rule ``jvp(primals, tangents)``.

    The highest trace among ``args`` handles the call: the JVP trace applies the rule,
    vmap batches both ``fun`` and ``jvp`` (see ``batch_custom_jvp_call``), everything else
    just runs ``fun``.
    """
    trace = find_top_trace(args)
    tracers = [trace.full_raise(x) for x in args]
    return [full_lower(o) for o in trace.process_custom_jvp_call(fun, jvp, tracers)]


def custom_vjp_call(fun, fwd, bwd, args):
    """Like ``custom_jvp_call`` for ``fwd(primals) -> (outs, residuals)``, ``bwd(res, cts)``."""
    trace = find_top_trace(args)
    tracers = [trace.full_raise(x) for x in args]
    return [full_lower(o) for o in trace.process_custom_vjp_call(fun, fwd, bwd, tracers)]


def _batched_inputs(trace, tracers):
    from .primitives.batch_util import move_to_front
    vals = [t.val if d is None else move_to_front(t.val, d)
            for t, d in ((t, t.batch_dim) for t in tracers)]
    dims = [None if t.batch_dim is None else 0 for t in tracers]
    return vals, dims, trace.axis_size


def batch_custom_jvp_call(trace, fun, jvp, tracers):
    """vmap of a custom_jvp function: a new custom_jvp function on whole batches.

    Its body is ``vmap(fun)`` and its rule is ``vmap(jvp)``, so a transformation
    *below* vmap (``grad(vmap(f))``) still sees -- and uses -- the custom rule.
    """
    from .interpreters.batching import BatchTracer, vmap
    vals, dims, size = _batched_inputs(trace, tracers)
    fun_b = vmap(lambda *xs: fun(*xs), in_axes=tuple(dims), axis_size=size)

    def jvp_b(primals, tangents):
        # A tangent has the shape of its primal, so it is batched exactly where the primal is.
        return vmap(lambda p, t: tuple(jvp(list(p), list(t))), in_axes=(list(dims), list(dims)),
                    axis_size=size)(list(primals), list(tangents))

    outs = custom_jvp_call(lambda *xs: list(fun_b(*xs)), lambda p, t: list(map(list, jvp_b(p, t))),
                           vals)
    return [BatchTracer(trace, o, 0) for o in outs]


def batch_custom_vjp_call(trace, fun, fwd, bwd, tracers):
    """vmap of a custom_vjp function: batch ``fun``, ``fwd`` and ``bwd`` (residuals at axis 0)."""
    from .interpreters.batching import BatchTracer, vmap
    from .primitives.reductions import reduce_sum
    vals, dims, size = _batched_inputs(trace, tracers)
    fun_b = vmap(lambda *xs: fun(*xs), in_axes=tuple(dims), axis_size=size)
    fwd_b = vmap(lambda xs: fwd(list(xs)), in_axes=(list(dims),), axis_size=size)

    def bwd_b(res, cts):
        cts_in = vmap(lambda r, c: bwd(r, list(c)), axis_size=size)(res, list(cts))
        # An input that was the same for every example collects the sum of its cotangents.
        return [ct if d is not None else reduce_sum(ct, (0,)) for ct, d in zip(cts_in, dims)]

    outs = custom_vjp_call(lambda *xs: list(fun_b(*xs)),
                           lambda p: (lambda o: (list(o[0]), o[1]))(fwd_b(list(p))), bwd_b, vals)
    return [BatchTracer(trace, o, 0) for o in outs]


# ---------------------------------------------------------------------------
# custom_lin: a linear stand-in for "the tangent of a custom_vjp function"
# ---------------------------------------------------------------------------
custom_lin_p = Primitive("custom_lin", multiple_results=True)


@custom_lin_p.def_abstract_eval
def _custom_lin_abstract(*args, num_res, bwd, out_avals, res_tree):
    return [a.update(weak_type=False) for a in out_avals]


@custom_lin_p.def_impl
def _custom_lin_impl(*args, **params):
    raise TypeError("can't apply forward-mode autodiff (jvp) to a custom_vjp function. A custom_vjp "
                    "function only knows its reverse-mode derivative: use grad/vjp, or define the "
                    "function with custom_jvp instead.")


@custom_lin_p.def_transpose
def _custom_lin_transpose(cts, *args, num_res, bwd, out_avals, res_tree):
    res = tree_unflatten(res_tree, args[:num_res])
    cts_in = bwd(res, list(cts))
    return [None] * num_res + list(cts_in)


def custom_lin(residuals, tangents, bwd, out_avals):
    res_leaves, res_tree = tree_flatten(residuals)
    return custom_lin_p.bind(*res_leaves, *tangents, num_res=len(res_leaves), bwd=bwd,
                             out_avals=tuple(out_avals), res_tree=res_tree)


# ---------------------------------------------------------------------------
# Staged custom rules: under make_jaxpr / jit a custom_jvp (custom_vjp) function becomes ONE
# equation that remembers its rule, so differentiating the staged program later (grad of a
# jitted function) still uses the rule instead of differentiating the body.
# ---------------------------------------------------------------------------
custom_jvp_call_p = Primitive("custom_jvp_call", multiple_results=True)
custom_vjp_call_p = Primitive("custom_vjp_call", multiple_results=True)


def _call_body(args, call_jaxpr):
    from .core import eval_jaxpr
    return eval_jaxpr(call_jaxpr, [], *args)


for _p in (custom_jvp_call_p, custom_vjp_call_p):
    _p.def_abstract_eval(lambda *avals, call_jaxpr, num_consts, **_: call_jaxpr.out_avals)
    _p.def_impl(lambda *args, call_jaxpr, num_consts, **_: _call_body(args, call_jaxpr))


@custom_jvp_call_p.def_jvp
def _custom_jvp_call_jvp(primals, tangents, *, call_jaxpr, jvp, num_consts):
    # Closed-over constants are fixed values of the staged function: only the arguments carry
    # tangents into the user's rule.
    consts = list(primals[:num_consts])
    outs, t_outs = jvp(list(primals[num_consts:]), list(tangents[num_consts:]))
    del consts
    return outs, t_outs


@custom_vjp_call_p.def_jvp
def _custom_vjp_call_jvp(primals, tangents, *, call_jaxpr, fwd, bwd, num_consts):
    args, arg_tangents = list(primals[num_consts:]), list(tangents[num_consts:])
    outs, residuals = fwd(args)
    return outs, custom_lin(residuals, arg_tangents, bwd, [get_aval(o) for o in outs])


@custom_jvp_call_p.def_batch
def _custom_jvp_call_batch(args, dims, *, call_jaxpr, jvp, num_consts):
    from .interpreters.batching import vmap
    from .primitives.batch_util import batch_size, bdim_at_front
    size = batch_size(args, dims)
    vals = [bdim_at_front(x, d, size) for x, d in zip(args, dims)]
    consts, xs = vals[:num_consts], vals[num_consts:]
    fun_b = vmap(lambda *a: _call_body(a, call_jaxpr), axis_size=size)

    def jvp_b(p, t):
        out = vmap(lambda p, t: tuple(map(list, jvp(list(p), list(t)))), axis_size=size)(p, t)
        return list(out[0]), list(out[1])

    outs = custom_jvp_call(lambda *a: list(fun_b(*consts, *a)), jvp_b, xs)
    return outs, [0] * len(outs)


@custom_vjp_call_p.def_batch
def _custom_vjp_call_batch(args, dims, *, call_jaxpr, fwd, bwd, num_consts):
    from .interpreters.batching import vmap
    from .primitives.batch_util import batch_size, bdim_at_front
    size = batch_size(args, dims)
    vals = [bdim_at_front(x, d, size) for x, d in zip(args, dims)]
    consts, xs = vals[:num_consts], vals[num_consts:]
    fun_b = vmap(lambda *a: _call_body(a, call_jaxpr), axis_size=size)
    fwd_b = vmap(lambda p: (lambda o: (list(o[0]), o[1]))(fwd(list(p))), axis_size=size)

    def bwd_b(res, cts):
        return list(vmap(lambda r, c: bwd(r, list(c)), axis_size=size)(res, list(cts)))

    outs = custom_vjp_call(lambda *a: list(fun_b(*consts, *a)), lambda p: fwd_b(list(p)), bwd_b,
                           xs)
    return outs, [0] * len(outs)


def stage_custom_jvp_call(trace, fun, jvp, tracers):
    """How a staging trace (make_jaxpr/jit) records a custom_jvp call: one equation."""
    from .interpreters.tracing import trace_to_jaxpr
    from .core import Jaxpr
    jaxpr, consts = trace_to_jaxpr(fun, [t.aval for t in tracers])
    call = Jaxpr([], list(jaxpr.constvars) + list(jaxpr.invars), jaxpr.eqns, jaxpr.outvars)
    return custom_jvp_call_p.bind(*consts, *tracers, call_jaxpr=call, jvp=jvp,
                                  num_consts=len(consts))


def stage_custom_vjp_call(trace, fun, fwd, bwd, tracers):
    from .interpreters.tracing import trace_to_jaxpr
    from .core import Jaxpr
    jaxpr, consts = trace_to_jaxpr(fun, [t.aval for t in tracers])
    call = Jaxpr([], list(jaxpr.constvars) + list(jaxpr.invars), jaxpr.eqns, jaxpr.outvars)
    return custom_vjp_call_p.bind(*consts, *tracers, call_jaxpr=call, fwd=fwd, bwd=bwd,
                                  num_consts=len(consts))
