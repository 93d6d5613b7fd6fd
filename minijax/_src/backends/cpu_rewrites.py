"""Small rewrites of a jaxpr before the CPU backend writes it as code.

Reverse-mode derivatives of matrix products are full of transposed products: the
gradient of ``x @ w`` with respect to ``w`` comes out of the transpose rule as
``transpose(dot_general(g, x))``. Written as it stands, that is a product into
one array followed by a copy that reorders it into another. But a product can
produce its transpose directly -- ``(a @ b).T == b.T @ a.T`` -- so
``absorb_transposes`` swaps the operands of such a product and drops the copy.
"""
from __future__ import annotations

from collections import Counter

from ..core import Jaxpr, JaxprEqn, Var


def _swapped_order(dot: JaxprEqn):
    """The permutation of ``dot``'s output that swapping its operands produces.

    ``dot_general``'s output axes are: batch axes, lhs free axes, rhs free axes. With the
    operands swapped they are batch, rhs free, lhs free.
    """
    (lc, rc), (lb, _) = dot.params["dimension_numbers"]
    lhs, rhs = (v.aval for v in dot.inputs)
    nb = len(lb)
    nl, nr = lhs.ndim - len(lc) - nb, rhs.ndim - len(rc) - nb
    return (tuple(range(nb)) + tuple(range(nb + nl, nb + nl + nr)) +
            tuple(range(nb, nb + nl)))


def _swap_operands(dot: JaxprEqn, output) -> JaxprEqn:
    (lc, rc), (lb, rb) = dot.params["dimension_numbers"]
    params = dict(dot.params, dimension_numbers=((rc, lc), (rb, lb)))
    return JaxprEqn(dot.primitive, [dot.inputs[1], dot.inputs[0]], params, [output])


def absorb_transposes(jaxpr: Jaxpr) -> Jaxpr:
    """``transpose(dot_general(a, b))`` -> ``dot_general(b, a)`` where that is the same array.

    Only where the product is used by the transpose alone (otherwise both arrays are needed
    anyway). The new product takes the product's place in the program and defines the
    transpose's output variable, so the rest of the program is unchanged.
    """
    uses = Counter(id(v) for eqn in jaxpr.eqns for v in eqn.inputs if isinstance(v, Var))
    uses.update(id(v) for v in jaxpr.outvars if isinstance(v, Var))
    products = {id(eqn.outputs[0]): eqn for eqn in jaxpr.eqns
                if eqn.primitive.name == "dot_general"}
    replaced, dropped = {}, set()
    for eqn in jaxpr.eqns:
        if eqn.primitive.name != "transpose":
            continue
        dot = products.get(id(eqn.inputs[0]))
        if dot is None or uses[id(eqn.inputs[0])] != 1 or id(dot) in replaced:
            continue
        if tuple(eqn.params["permutation"]) == _swapped_order(dot):
            replaced[id(dot)] = _swap_operands(dot, eqn.outputs[0])
            dropped.add(id(eqn))
    if not dropped:
        return jaxpr
    eqns = [replaced.get(id(eqn), eqn) for eqn in jaxpr.eqns if id(eqn) not in dropped]
    return Jaxpr(jaxpr.constvars, jaxpr.invars, eqns, jaxpr.outvars)
