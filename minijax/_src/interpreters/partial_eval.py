"""Partial evaluation: compute what is known now, record what is not.

A ``PartialEvalTracer`` is either *known* (it wraps a real value, or a tracer
of a lower-level transformation) or *unknown* (only its shape and dtype are
known). When a primitive sees only known inputs it is simply run; as soon as
one input is unknown, the application is recorded as a *recipe*. Afterwards
``tracers_to_jaxpr`` walks the recipes backwards from the outputs and writes
them out as a Jaxpr whose constants are the known values the recipes used.

Linearization (``ad.linearize_flat``) runs a JVP with known primals and
unknown tangents through this trace: the primal computation happens
immediately and the tangent computation becomes a linear jaxpr.
"""
from __future__ import annotations

from .. import core
from ..core import Jaxpr, JaxprEqn, ShapedArray, Tracer, Var, get_aval


class LambdaBinding:
    """Recipe of an input of the jaxpr being built."""


class ConstRecipe:
    """Recipe of a known value that an unknown computation needs (a residual)."""

    __slots__ = ("val",)

    def __init__(self, val):
        self.val = val


class EqnRecipe:
    """One recorded primitive application; its output tracers point back here."""

    __slots__ = ("primitive", "inputs", "params", "out_avals")

    def __init__(self, primitive, inputs, params, out_avals):
        self.primitive, self.inputs, self.params, self.out_avals = primitive, inputs, params, out_avals


class PartialEvalTracer(Tracer):
    __slots__ = ("_trace", "known", "_aval", "recipe", "index")

    def __init__(self, trace, aval, known=None, recipe=None, index=0):
        self._trace, self._aval, self.known = trace, aval, known
        self.recipe, self.index = recipe, index

    @property
    def aval(self):
        return self._aval

    @property
    def is_known(self):
        return self.recipe is None

    def full_lower(self):
        return core.full_lower(self.known) if self.is_known else self

    def concrete_value(self):
        if not self.is_known:
            return None
        k = self.known
        return k.concrete_value() if isinstance(k, Tracer) else getattr(k, "_value", k)


class PartialEvalTrace(core.Trace):
    def new_arg(self, aval) -> PartialEvalTracer:
        return PartialEvalTracer(self, aval, recipe=LambdaBinding())

    def pure(self, val):
        return PartialEvalTracer(self, get_aval(val), known=val)

    lift = pure

    def instantiate(self, tracer: PartialEvalTracer) -> PartialEvalTracer:
        """Make a known tracer unknown, so it can enter a recorded equation as a constant."""
        if tracer.is_known:
            return PartialEvalTracer(self, tracer.aval, recipe=ConstRecipe(tracer.known))
        return tracer

    def process_primitive(self, primitive, tracers, params):
        if all(t.is_known for t in tracers):
            return primitive.bind(*[t.known for t in tracers], **params)
        if primitive.partial_eval is not None:  # control flow: inline or split its body
            return primitive.partial_eval(self, tracers, **params)
        inputs = [self.instantiate(t) for t in tracers]
        avals_out = primitive.abstract_eval(*[t.aval for t in inputs], **params)
        if not primitive.multiple_results:
            avals_out = [avals_out]
        recipe = EqnRecipe(primitive, inputs, params, avals_out)
        outs = [PartialEvalTracer(self, a, recipe=recipe, index=i) for i, a in enumerate(avals_out)]
        return outs if primitive.multiple_results else outs[0]


def _toposort(out_tracers):
    """Unknown tracers reachable from the outputs, each listed after its inputs."""
    order, visited = [], set()
    stack = [(t, False) for t in reversed(out_tracers)]
    while stack:
        tracer, expanded = stack.pop()
        if expanded:
            order.append(tracer)
            continue
        if id(tracer) in visited:
            continue
        visited.add(id(tracer))
        stack.append((tracer, True))
        if isinstance(tracer.recipe, EqnRecipe):
            stack.extend((t, False) for t in reversed(tracer.recipe.inputs) if id(t) not in visited)
    return order


def tracers_to_jaxpr(in_tracers, out_tracers) -> tuple[Jaxpr, list]:
    tracer_vars: dict[int, Var] = {id(t): Var(t.aval) for t in in_tracers}
    constvars, constvals, eqns = [], [], []
    recipe_outputs: dict[int, list[Var]] = {}
    for tracer in _toposort(out_tracers):
        recipe = tracer.recipe
        if id(tracer) in tracer_vars:
            continue
        if isinstance(recipe, LambdaBinding):
            raise ValueError("a tracer from another linearization leaked into this one")
        if isinstance(recipe, ConstRecipe):
            var = tracer_vars[id(tracer)] = Var(tracer.aval)
            constvars.append(var)
            constvals.append(recipe.val)
        elif isinstance(recipe, EqnRecipe):
            if id(recipe) not in recipe_outputs:
                outs = [Var(a) for a in recipe.out_avals]
                recipe_outputs[id(recipe)] = outs
                ins = [tracer_vars[id(t)] for t in recipe.inputs]
                eqns.append(JaxprEqn(recipe.primitive, ins, recipe.params, outs))
            tracer_vars[id(tracer)] = recipe_outputs[id(recipe)][tracer.index]
    invars = [tracer_vars[id(t)] for t in in_tracers]
    outvars = [tracer_vars[id(t)] for t in out_tracers]
    return Jaxpr(constvars, invars, eqns, outvars), constvals


__all__ = ["PartialEvalTrace", "PartialEvalTracer", "tracers_to_jaxpr", "ShapedArray"]
