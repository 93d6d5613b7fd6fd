"""``cond``, ``while_loop`` and ``scan`` written as numba control flow.

Each body (a branch, a loop body, a loop condition) is a jaxpr of its own; it
becomes a numba function (``cpu_functions.Function``), and its parent calls
it from a Python-syntax ``if``/``while``/``for`` that numba compiles. For
``lax.fori_loop(0, n, body, x)`` the generated code reads::

    b0 = a1.copy()                       # the carry, as an array the loop owns
    b1 = a2.copy()
    for t_4 in range(n):
        b0, b1, = body_2(a0, b0, b1)
    a3 = b0 ...

A body's inputs and outputs keep one type on every trip, which numba needs:
the initial carry is copied if it might be a read-only buffer, and a body
returns arrays it allocated (see ``Function.owned``).
"""
from __future__ import annotations

import numpy as np

from .cpu_library import scatter_copy, shape_source

_NAMES = ("cond", "while", "scan")


def handles(eqn) -> bool:
    return eqn.primitive.name in _NAMES


def supports(eqn, can_emit) -> bool:
    """Can this control-flow equation (and everything in its bodies) be written as numba code?"""
    name = eqn.primitive.name
    if name not in _NAMES:
        return False
    avals = [v.aval for v in list(eqn.inputs) + list(eqn.outputs)]
    if any(a.dtype.kind not in "biuf" for a in avals):
        return False
    return all(can_emit(j) for j in bodies(eqn))


def bodies(eqn):
    p = eqn.params
    name = eqn.primitive.name
    if name == "cond":
        return list(p["branches"])
    if name == "while":
        return [p["cond_jaxpr"], p["body_jaxpr"]]
    return [p["jaxpr"]]


def emit(fn, eqn, ins, outs) -> list[str]:
    return {"cond": _cond, "while": _while, "scan": _scan}[eqn.primitive.name](fn, eqn, ins, outs)


def _targets(names) -> str:
    """Left-hand side unpacking a returned tuple (``a,`` for a single name)."""
    return ", ".join(names) + ("," if len(names) == 1 else "")


def _cond(fn, eqn, ins, outs):
    branches = eqn.params["branches"]
    names = [fn.builder.add_function(b, "branch").name for b in branches]
    index, operands = ins[0], ", ".join(ins[1:])
    k = fn.temp("which")
    lines = [f"{k} = min(max(int({index}[()]), 0), {len(branches) - 1})"]
    for i, name in enumerate(names):
        keyword = "if" if i == 0 else ("else" if i == len(names) - 1 else "elif")
        test = "" if keyword == "else" else f" {k} == {i}"
        lines.append(f"{keyword}{test}:")
        call = f"{name}({operands})"
        lines.append(f"    {_targets(outs)} = {call}" if outs else f"    {call}")
    return lines


def _carry_names(fn, n):
    return [fn.temp("carry") for _ in range(n)]


def _while(fn, eqn, ins, outs):
    p = eqn.params
    nc, nb = p["cond_nconsts"], p["body_nconsts"]
    cond_fn = fn.builder.add_function(p["cond_jaxpr"], "loop_cond").name
    body_fn = fn.builder.add_function(p["body_jaxpr"], "loop_body",
                                      owned_inputs=range(nb, len(p["body_jaxpr"].invars))).name
    cond_consts, body_consts, init = ins[:nc], ins[nc:nc + nb], ins[nc + nb:]
    carry = _carry_names(fn, len(init))
    lines = [f"{c} = {fn.owned(i)}" for c, i in zip(carry, init)]
    lines.append(f"while {cond_fn}({', '.join(cond_consts + carry)})[0][()]:")
    if carry:
        lines.append(f"    {_targets(carry)} = {body_fn}({', '.join(body_consts + carry)})")
    else:
        lines.append(f"    {body_fn}({', '.join(body_consts)})")
    lines += [f"{o} = {c}" for o, c in zip(outs, carry)]
    return lines


def _scan(fn, eqn, ins, outs):
    p = eqn.params
    nc, nk, length = p["num_consts"], p["num_carry"], p["length"]
    jaxpr = p["jaxpr"]
    body_fn = fn.builder.add_function(jaxpr, "scan_body", owned_inputs=range(nc, nc + nk)).name
    consts, init, xs = ins[:nc], ins[nc:nc + nk], ins[nc + nk:]
    carry = _carry_names(fn, nk)
    lines = [f"{c} = {fn.owned(i)}" for c, i in zip(carry, init)]
    ys = outs[nk:]
    for y, v in zip(ys, eqn.outputs[nk:]):
        lines.append(f"{y} = np.empty({shape_source(v.aval.shape)}, np.{np.dtype(v.aval.dtype).name})")
    t, i, r = fn.temp("t"), fn.temp("i"), fn.temp("step")
    lines.append(f"for {t} in range({length}):")
    body = [f"{i} = {length - 1} - {t}" if p["reverse"] else f"{i} = {t}"]
    x_args = []
    for x, v in zip(xs, jaxpr.invars[nc + nk:]):
        if v.aval.ndim == 0:   # one element of a vector, as the 0-d array the body expects
            name = fn.temp("x")
            body += [f"{name} = np.empty((), np.{np.dtype(v.aval.dtype).name})",
                     f"{name}[()] = {x}[{i}]"]
            x_args.append(name)
        else:
            x_args.append(f"{x}[{i}]")
    body.append(f"{r} = {body_fn}({', '.join(consts + carry + x_args)})")
    body += [f"{c} = {r}[{k}]" for k, c in enumerate(carry)]
    for k, (y, v) in enumerate(zip(ys, jaxpr.outvars[nk:])):
        if v.aval.ndim == 0:
            body.append(f"{y}[{i}] = {r}[{nk + k}][()]")
        else:   # row i of the stacked output, element by element (see cpu_library.loop_nest)
            body += [f"{y}_row = {r}[{nk + k}]"] + scatter_copy(
                y, f"{y}_row", v.aval.shape, lambda j: [i] + j)
    lines += ["    " + line for line in body]
    lines += [f"{o} = {c}" for o, c in zip(outs[:nk], carry)]
    return lines

