"""Staging: turn a Python function into a Jaxpr by running it on abstract tracers.

While ``trace_to_jaxpr`` runs ``fun``, a *dynamic* JaxprTrace sits on the
stack. Every ``bind`` lands here; instead of computing, we write down an
equation ``outs = prim[params] ins`` and hand back fresh tracers that know only
their shape and dtype. Concrete arrays the function closes over become the
jaxpr's constants (scalars are written inline as literals).

``make_jaxpr`` prints the result; ``jit`` compiles it.
"""
from __future__ import annotations

import functools

import numpy as np

from .. import core
from ..core import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, ShapedArray, Tracer, Var, get_aval
from ...tree_util import tree_flatten, tree_unflatten


class JaxprTracer(Tracer):
    __slots__ = ("_trace", "_aval")

    def __init__(self, trace, aval):
        self._trace = trace
        self._aval = aval

    @property
    def aval(self):
        return self._aval


class JaxprBuilder:
    """Collects equations and constants while a function is being staged."""

    def __init__(self):
        self.eqns: list[JaxprEqn] = []
        self.tracer_to_var: dict[int, Var] = {}
        self.const_vals: dict[int, object] = {}   # id(tracer) -> concrete value
        self.tracers: list[JaxprTracer] = []      # keep tracers alive so ids stay unique

    def new_tracer(self, trace, aval):
        tracer = JaxprTracer(trace, aval)
        self.tracers.append(tracer)
        return tracer

    def add_var(self, tracer):
        var = self.tracer_to_var[id(tracer)] = Var(tracer.aval)
        return var

    def get_var(self, tracer):
        return self.tracer_to_var[id(tracer)]

    def build(self, in_tracers, out_tracers) -> tuple[Jaxpr, list]:
        constvars, constvals, literals = [], [], {}
        for tid, val in self.const_vals.items():
            var = self.tracer_to_var[tid]
            if np.ndim(val) == 0 and not isinstance(val, Tracer):
                # Keep the exact type: a uint32 zero must stay uint32 when the jaxpr is re-run.
                from ..array import Array
                value = np.asarray(val._value if hasattr(val, "_value") else val, var.aval.dtype)
                literals[var] = Literal(Array(value, var.aval.weak_type), var.aval)
            else:
                constvars.append(var)
                constvals.append(val)
        invars = [self.get_var(t) for t in in_tracers]
        eqns = [JaxprEqn(e.primitive, [literals.get(v, v) for v in e.inputs], e.params, e.outputs)
                for e in self.eqns]
        outvars = [literals.get(self.get_var(t), self.get_var(t)) for t in out_tracers]
        jaxpr = Jaxpr(constvars, invars, eqns, outvars)
        return _drop_unused_constants(jaxpr, constvals)


def _drop_unused_constants(jaxpr, constvals):
    used = {id(v) for e in jaxpr.eqns for v in e.inputs} | {id(v) for v in jaxpr.outvars}
    keep = [(v, c) for v, c in zip(jaxpr.constvars, constvals) if id(v) in used]
    jaxpr.constvars = [v for v, _ in keep]
    return jaxpr, [c for _, c in keep]


class JaxprTrace(core.Trace):
    @property
    def builder(self) -> JaxprBuilder:
        return self.main.global_data

    def new_arg(self, aval):
        tracer = self.builder.new_tracer(self, aval)
        self.builder.add_var(tracer)
        return tracer

    def pure(self, val):
        builder = self.builder
        tracer = builder.new_tracer(self, get_aval(val).update())
        builder.add_var(tracer)
        builder.const_vals[id(tracer)] = val
        return tracer

    lift = pure

    def process_custom_jvp_call(self, fun, jvp, tracers):
        from ..custom_derivatives import stage_custom_jvp_call
        return stage_custom_jvp_call(self, fun, jvp, tracers)

    def process_custom_vjp_call(self, fun, fwd, bwd, tracers, out_tree_thunk=None):
        from ..custom_derivatives import stage_custom_vjp_call
        return stage_custom_vjp_call(self, fun, fwd, bwd, tracers)

    def process_primitive(self, primitive, tracers, params):
        avals_out = primitive.abstract_eval(*[t.aval for t in tracers], **params)
        many = primitive.multiple_results
        avals_out = avals_out if many else [avals_out]
        builder = self.builder
        outs = [builder.new_tracer(self, a) for a in avals_out]
        inputs = [builder.get_var(t) for t in tracers]
        outvars = [builder.add_var(t) for t in outs]
        builder.eqns.append(JaxprEqn(primitive, inputs, params, outvars))
        return outs if many else outs[0]


def trace_to_jaxpr(fun, in_avals) -> tuple[Jaxpr, list]:
    """Stage ``fun`` (taking and returning flat lists of arrays) for arguments of ``in_avals``."""
    builder = JaxprBuilder()
    with core.new_main(JaxprTrace, builder, dynamic=True) as main:
        trace = JaxprTrace(main)
        in_tracers = [trace.new_arg(a) for a in in_avals]
        outs = fun(*in_tracers)
        out_tracers = [trace.full_raise(o) for o in outs]
        jaxpr, consts = builder.build(in_tracers, out_tracers)
    return jaxpr, consts


def abstractify(x) -> ShapedArray:
    """The abstract value used to stage ``x``; a ``ShapeDtypeStruct`` is accepted too."""
    if isinstance(x, ShapeDtypeStruct):
        return ShapedArray(x.shape, x.dtype, getattr(x, "weak_type", False))
    try:
        return get_aval(x)
    except TypeError:
        raise TypeError(
            f"Argument {x!r} of type {type(x).__name__} is not a valid JAX type: transformed "
            "functions take arrays, scalars, or pytrees (lists, tuples, dicts) of them. Pass other "
            "values through static_argnums or close over them.") from None


class ShapeDtypeStruct:
    """A stand-in argument that has a shape and dtype but no data."""

    def __init__(self, shape, dtype, weak_type=False):
        from .. import dtypes
        self.shape, self.dtype, self.weak_type = tuple(shape), dtypes.canonicalize(dtype), weak_type

    def __repr__(self):
        return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype.name})"


def flatten_fun(fun, in_tree):
    """Wrap ``fun`` so it takes flat leaves; ``out_tree()`` reports the output structure."""
    store = {}

    def flat_fun(*leaves):
        args, kwargs = tree_unflatten(in_tree, leaves)
        out = fun(*args, **kwargs)
        out_leaves, store["tree"] = tree_flatten(out)
        return out_leaves

    return flat_fun, lambda: store["tree"]


def make_jaxpr(fun, static_argnums=(), return_shape=False):
    """Return a function that, given example arguments, returns ``fun``'s ClosedJaxpr.

    >>> make_jaxpr(lambda x: jnp.sin(x) * 2.0 + x)(1.0)
    { lambda ; a:f32[]. let
        b:f32[] = sin a
        c:f32[] = mul b 2.0:f32[]
        d:f32[] = add c a
      in (d,) }
    """
    static_argnums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)

    @functools.wraps(fun)
    def jaxpr_maker(*args, **kwargs):
        static = {i: args[i] for i in static_argnums}
        dynamic = [a for i, a in enumerate(args) if i not in static]

        def with_static(*dyn, **kw):
            it = iter(dyn)
            full = [static[i] if i in static else next(it) for i in range(len(args))]
            return fun(*full, **kw)

        leaves, in_tree = tree_flatten((tuple(dynamic), kwargs))
        flat_fun, out_tree = flatten_fun(with_static, in_tree)
        jaxpr, consts = trace_to_jaxpr(flat_fun, [abstractify(x) for x in leaves])
        closed = ClosedJaxpr(jaxpr, consts)
        if return_shape:
            shapes = [ShapeDtypeStruct(a.shape, a.dtype, a.weak_type) for a in jaxpr.out_avals]
            return closed, tree_unflatten(out_tree(), shapes)
        return closed

    return jaxpr_maker
