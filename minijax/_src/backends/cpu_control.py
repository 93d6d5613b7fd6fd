"""``cond``, ``while_loop`` and ``scan`` written as numba control flow.

Each body (a branch, a loop body, a loop condition) is a jaxpr of its own; it
becomes a numba function (``cpu_functions.Function``), and its parent calls
it from a Python-syntax ``if``/``while``/``for`` that numba compiles. For
``lax.fori_loop(0, n, body, x)`` the generated code reads::

    b0 = a1.copy()                       # the carry, as an array the loop owns
    b1 = a2.copy()
    dst_5 = np.empty((), np.int32)       # where the body writes the next carry ...
    dst_6 = np.empty((3,), np.float32)
    spare_7 = np.empty((), np.int32)     # ... and where it writes the one after
    spare_8 = np.empty((3,), np.float32)
    for t_4 in range(n):
        b0, b1, = body_2(a0, b0, b1, dst_5, dst_6)
        dst_5, dst_6, spare_7, spare_8 = spare_7, spare_8, dst_5, dst_6
    a3 = b0 ...

A body's inputs and outputs keep one type on every trip, which numba needs:
the initial carry is copied if it might be a read-only buffer, and a body
returns arrays it allocated (see ``Function.owned``) or the destinations it
was given (see ``_destinations``).
"""
from __future__ import annotations

import numpy as np

from .cpu_library import empty_source, scatter_copy

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


def _allocate(fn, variables, prefix):
    """Names of new arrays shaped like ``variables``, and the lines allocating them."""
    names = [fn.temp(prefix) for _ in variables]
    return names, [empty_source(n, v.aval.shape, v.aval.dtype) for n, v in zip(names, variables)]


def _destinations(fn, body):
    """Storage for the carry a loop body writes in place: two sets that trade places each trip.

    The body of trip t reads its carry from one set (or from the initial copies) and writes
    into the other, so a kernel never overwrites an array it is still reading; ``swap`` is
    the line that exchanges them after the trip. A loop of small steps then allocates
    nothing per trip.
    """
    current, lines = _allocate(fn, body.buffer_outputs, "dst")
    spare, more = _allocate(fn, body.buffer_outputs, "spare")
    swap = f"{_targets(current + spare)} = {', '.join(spare + current)}" if current else None
    return current, lines + more, swap


def _while(fn, eqn, ins, outs):
    p = eqn.params
    nc, nb = p["cond_nconsts"], p["body_nconsts"]
    ncarry = len(p["body_jaxpr"].outvars)
    cond = fn.builder.add_function(p["cond_jaxpr"], "loop_cond", destinations=[0])
    body = fn.builder.add_function(p["body_jaxpr"], "loop_body",
                                   owned_inputs=range(nb, len(p["body_jaxpr"].invars)),
                                   destinations=range(ncarry))
    cond_consts, body_consts, init = ins[:nc], ins[nc:nc + nb], ins[nc + nb:]
    carry = _carry_names(fn, len(init))
    lines = [f"{c} = {fn.owned(i)}" for c, i in zip(carry, init)]
    flag, flag_lines = _allocate(fn, cond.buffer_outputs, "flag")   # written by each test
    dst, dst_lines, swap = _destinations(fn, body)
    lines += flag_lines + dst_lines
    lines.append(f"while {cond.name}({', '.join(cond_consts + carry + flag)})[0][()]:")
    call = f"{body.name}({', '.join(body_consts + carry + dst)})"
    lines.append(f"    {_targets(carry)} = {call}" if carry else f"    {call}")
    if swap:
        lines.append(f"    {swap}")
    lines += [f"{o} = {c}" for o, c in zip(outs, carry)]
    return lines


def _scan(fn, eqn, ins, outs):
    p = eqn.params
    nc, nk, length = p["num_consts"], p["num_carry"], p["length"]
    jaxpr = p["jaxpr"]
    body = fn.builder.add_function(jaxpr, "scan_body", owned_inputs=range(nc, nc + nk),
                                   destinations=range(nk))
    consts, init, xs = ins[:nc], ins[nc:nc + nk], ins[nc + nk:]
    carry = _carry_names(fn, nk)
    lines = [f"{c} = {fn.owned(i)}" for c, i in zip(carry, init)]
    dst, dst_lines, swap = _destinations(fn, body)
    lines += dst_lines
    ys = outs[nk:]
    for y, v in zip(ys, eqn.outputs[nk:]):
        lines.append(empty_source(y, v.aval.shape, v.aval.dtype))
    t, i, r = fn.temp("t"), fn.temp("i"), fn.temp("step")
    trip = [f"{i} = {length - 1} - {t}" if p["reverse"] else f"{i} = {t}"]
    x_args = []
    for x, v in zip(xs, jaxpr.invars[nc + nk:]):
        if v.aval.ndim == 0:   # one element of a vector, in the 0-d array the body expects
            name = fn.temp("x")   # (allocated once: a body copies an input it hands back)
            lines.append(empty_source(name, (), v.aval.dtype))
            trip.append(f"{name}[()] = {x}[{i}]")
            x_args.append(name)
        else:
            x_args.append(f"{x}[{i}]")
    lines.append(f"for {t} in range({length}):")
    trip.append(f"{r} = {body.name}({', '.join(consts + carry + x_args + dst)})")
    trip += [f"{c} = {r}[{k}]" for k, c in enumerate(carry)]
    for k, (y, v) in enumerate(zip(ys, jaxpr.outvars[nk:])):
        if v.aval.ndim == 0:
            trip.append(f"{y}[{i}] = {r}[{nk + k}][()]")
        else:   # row i of the stacked output, element by element (see cpu_library.loop_nest)
            trip += [f"{y}_row = {r}[{nk + k}]"] + scatter_copy(
                y, f"{y}_row", v.aval.shape, lambda j: [i] + j)
    if swap:
        trip.append(swap)
    lines += ["    " + line for line in trip]
    lines += [f"{o} = {c}" for o, c in zip(outs[:nk], carry)]
    return lines

