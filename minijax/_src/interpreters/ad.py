"""Automatic differentiation: forward mode (JVP), and reverse mode derived from it.

Forward mode
    A ``JVPTracer`` carries a primal value and a tangent. Every primitive's
    ``jvp`` rule maps (primals, tangents) to (primal_out, tangent_out).

Reverse mode, without a second set of rules
    1. **Linearize**: run the JVP with concrete primals and *unknown* tangents
       under partial evaluation (``partial_eval.py``). Everything that depends
       only on primals is computed now; what depends on tangents is recorded as
       a *linear* jaxpr, with the primal intermediates it needs as constants
       ("residuals").
    2. **Transpose**: walk that linear jaxpr backwards, giving each equation's
       output cotangent to its primitive's ``transpose`` rule. Only linear
       primitives (add, mul by a constant, reshape, reduce_sum, ...) ever
       appear there, so only they need transpose rules.

Because every rule is written with primitives, the derivative program can be
traced and differentiated again: ``grad(grad(f))`` just works.
"""
from __future__ import annotations

from .. import core
from ..core import Tracer, UndefinedPrimal, Zero, full_lower, get_aval, is_zero
from ..primitives.elementwise import add, zeros_like_aval
from . import partial_eval as pe


# ---------------------------------------------------------------------------
# Forward mode
# ---------------------------------------------------------------------------
class JVPTracer(Tracer):
    __slots__ = ("_trace", "primal", "tangent")

    def __init__(self, trace, primal, tangent):
        self._trace, self.primal, self.tangent = trace, primal, tangent

    @property
    def aval(self):
        return get_aval(self.primal)

    def concrete_value(self):
        # Differentiating does not hide values: `if x > 0` works under grad, as in JAX.
        p = self.primal
        return p.concrete_value() if isinstance(p, Tracer) else getattr(p, "_value", p)


def instantiate_zeros(tangent):
    """A real zero array in place of a symbolic ``Zero``."""
    return zeros_like_aval(tangent.aval) if is_zero(tangent) else tangent


class JVPTrace(core.Trace):
    def pure(self, val):
        return JVPTracer(self, val, Zero(get_aval(val)))

    lift = pure

    def process_primitive(self, primitive, tracers, params):
        primals = [t.primal for t in tracers]
        tangents = [t.tangent for t in tracers]
        if all(is_zero(t) for t in tangents):   # nothing here depends on the inputs
            outs = primitive.bind(*primals, **params)
            if primitive.multiple_results:
                return [JVPTracer(self, o, Zero(get_aval(o))) for o in outs]
            return JVPTracer(self, outs, Zero(get_aval(outs)))
        if primitive.jvp is None:
            raise NotImplementedError(
                f"Differentiation rule for '{primitive.name}' not implemented"
                + (f": {primitive.not_differentiable}" if primitive.not_differentiable else "."))
        if not primitive.jvp_accepts_zeros:
            tangents = [instantiate_zeros(t) for t in tangents]
        primals_out, tangents_out = primitive.jvp(primals, tangents, **params)
        if primitive.multiple_results:
            return [JVPTracer(self, p, t) for p, t in zip(primals_out, tangents_out)]
        return JVPTracer(self, primals_out, tangents_out)

    def process_custom_jvp_call(self, fun, jvp, tracers):
        primals = [t.primal for t in tracers]
        tangents = [instantiate_zeros(t.tangent) for t in tracers]
        primals_out, tangents_out = jvp(primals, tangents)
        return [JVPTracer(self, p, t) for p, t in zip(primals_out, tangents_out)]

    def process_custom_vjp_call(self, fun, fwd, bwd, tracers, out_tree_thunk=None):
        from ..custom_derivatives import custom_lin
        primals = [t.primal for t in tracers]
        tangents = [instantiate_zeros(t.tangent) for t in tracers]
        primals_out, residuals = fwd(primals)
        tangents_out = custom_lin(residuals, tangents, bwd, [get_aval(p) for p in primals_out])
        return [JVPTracer(self, p, t) for p, t in zip(primals_out, tangents_out)]


def jvp_flat(fun, primals, tangents):
    """Forward mode on flat lists: returns (primals_out, tangents_out)."""
    with core.new_main(JVPTrace) as main:
        trace = JVPTrace(main)
        tracers_in = [JVPTracer(trace, p, t) for p, t in zip(primals, tangents)]
        outs = fun(*tracers_in)
        tracers_out = [trace.full_raise(o) for o in outs]
        primals_out = [full_lower(t.primal) for t in tracers_out]
        tangents_out = [full_lower(instantiate_zeros(t.tangent)) for t in tracers_out]
    return primals_out, tangents_out


# ---------------------------------------------------------------------------
# Reverse mode = linearize + transpose
# ---------------------------------------------------------------------------
def linearize_flat(fun, primals):
    """Return ``(primals_out, linear_jaxpr, residuals)``: the JVP with its tangent part staged."""
    with core.new_main(pe.PartialEvalTrace) as main:
        trace = pe.PartialEvalTrace(main)
        tangents_in = [trace.new_arg(tangent_aval(get_aval(p))) for p in primals]
        primals_out, tangents_out = jvp_flat(fun, primals, tangents_in)
        tangents_out = [trace.instantiate(trace.full_raise(t)) for t in tangents_out]
        jaxpr, residuals = pe.tracers_to_jaxpr(tangents_in, tangents_out)
    return primals_out, jaxpr, residuals


def tangent_aval(aval):
    return aval.update(weak_type=False)


def vjp_flat(fun, primals):
    primals_out, jaxpr, residuals = linearize_flat(fun, primals)

    def pullback(*cotangents_out):
        return backward_pass(jaxpr, residuals, cotangents_out)

    return primals_out, pullback


def backward_pass(jaxpr: core.Jaxpr, consts, cotangents_out):
    """Transpose a linear jaxpr: map output cotangents to input cotangents."""
    primal_env = dict(zip(jaxpr.constvars, consts))
    linear = set(map(id, jaxpr.invars))
    ct_env: dict[int, object] = {}

    def read_primal(v):
        if isinstance(v, core.Literal):
            return v.val
        if id(v) in linear:
            return UndefinedPrimal(v.aval)
        return primal_env[v]

    def write_ct(v, ct):
        if ct is None or isinstance(v, core.Literal):
            return
        ct_env[id(v)] = add(ct_env[id(v)], ct) if id(v) in ct_env else ct

    # Equations that touch no linear input are ordinary computations: run them forward.
    linear_eqns = []
    for eqn in jaxpr.eqns:
        if any(id(v) in linear for v in eqn.inputs if not isinstance(v, core.Literal)):
            linear.update(id(v) for v in eqn.outputs)
            linear_eqns.append(eqn)
        else:
            outs = eqn.primitive.bind(*map(read_primal, eqn.inputs), **eqn.params)
            outs = outs if eqn.primitive.multiple_results else [outs]
            primal_env.update(zip(eqn.outputs, outs))

    for v, ct in zip(jaxpr.outvars, cotangents_out):
        write_ct(v, ct)

    for eqn in reversed(linear_eqns):
        cts_out = [ct_env.pop(id(v), None) for v in eqn.outputs]
        if all(ct is None for ct in cts_out):
            continue
        if eqn.primitive.transpose is None:
            raise NotImplementedError(f"Transpose rule (for reverse-mode differentiation) for "
                                      f"'{eqn.primitive.name}' not implemented")
        if eqn.primitive.multiple_results:
            cts_out = [zeros_like_aval(v.aval) if ct is None else ct
                       for v, ct in zip(eqn.outputs, cts_out)]
            ct_arg = cts_out
        else:
            ct_arg = cts_out[0]
        invals = list(map(read_primal, eqn.inputs))
        cts_in = eqn.primitive.transpose(ct_arg, *invals, **eqn.params)
        for v, ct in zip(eqn.inputs, cts_in):
            if not isinstance(v, core.Literal) and id(v) in linear:
                write_ct(v, ct)

    return [ct_env.get(id(v)) if id(v) in ct_env else zeros_like_aval(v.aval)
            for v in jaxpr.invars]
