"""Row fusion: several passes over each row of a matrix in ONE loop nest.

``logsumexp`` along the last axis needs two passes over every row: one for the
row's maximum ``m``, one for ``sum(exp(x - m))``. As separate loop kernels,
each pass streams the whole matrix from memory. Fused row by row, the second
pass re-reads a row that the first has just brought into cache::

    for i0 in prange(rows):
        acc0 = -inf
        for j0 in range(cols):            # pass 1: the row's max
            acc0 = max(acc0, x[i0, j0])
        m = acc0
        acc1 = 0.0
        for j0 in range(cols):            # pass 2: reads the same row again
            acc1 += exp(x[i0, j0] - m)
        out[i0] = log(acc1) + m           # per-row epilogue, no array in between

``fuse_rows`` looks, after ``partition``, for a loop kernel that reduces
trailing axes and grows a group from the steps that follow it while each one is

* another *pass*: a loop kernel over the same full shape, reading per-row
  values of the group only through a broadcast (optionally closing with a
  reduction over the same trailing axes);
* a *row step*: an elementwise kernel over the row shape (``log`` of the sum);
* a reshape or squeeze of a per-row value that only adds or drops unit axes.

A group with at least two passes becomes a ``RowKernel``. Per-row values live
in registers; full-shape values a later pass or step needs are written out.
"""
from __future__ import annotations

from ..core import Literal, Var
from . import cpu_lowerings as lowering
from .cpu_kernels import LibraryStep, LoopKernel, _Names


class RowKernel(LoopKernel):
    """A group of passes and row steps (see the module docstring); ``eqns`` lists them all."""

    def __init__(self, shape, nkept, stages):
        super().__init__(shape)
        self.nkept = nkept
        self.stages = stages   # ("pass" | "row", LoopKernel) or ("alias", eqn), in order
        self.eqns = [e for kind, s in stages for e in _stage_eqns(kind, s)]

    def describe(self):
        passes = sum(1 for kind, _ in self.stages if kind == "pass")
        return f"{passes} passes over each row"


def _stage_eqns(kind, stage):
    if kind == "alias":
        return [stage]
    return stage.eqns + ([stage.reduction] if stage.reduction else [])


def _row_shape(shape, kept):
    """Is ``shape`` the kept (row) shape, maybe followed by unit axes?"""
    return tuple(shape[:len(kept)]) == kept and all(d == 1 for d in shape[len(kept):])


class _Group:
    def __init__(self, first: LoopKernel):
        red = first.reduction
        self.shape = first.shape
        self.nkept = len(first.shape) - len(red.params["axes"])
        self.kept = tuple(first.shape[:self.nkept])
        self.axes = tuple(red.params["axes"])
        self.stages = [("pass", first)]
        self.row_vars = {id(red.outputs[0])}
        self.defined = {id(o) for e in _stage_eqns("pass", first) for o in e.outputs}

    def _reads_rows_only_by_broadcast(self, kernel):
        for eqn in kernel.eqns + ([kernel.reduction] if kernel.reduction else []):
            for v in eqn.inputs:
                if not isinstance(v, Var) or id(v) not in self.row_vars:
                    continue
                if eqn.primitive.name != "broadcast_in_dim":
                    return False
                dims = tuple(eqn.params["broadcast_dimensions"])
                if dims[:self.nkept] != tuple(range(self.nkept)):
                    return False
        return True

    def try_add(self, step) -> bool:
        if isinstance(step, RowKernel):
            return False
        if isinstance(step, LoopKernel) and any(len(e.outputs) != 1 for e in step.eqns):
            return False
        if isinstance(step, LibraryStep):
            eqn = step.eqn
            if eqn.primitive.name in ("reshape", "squeeze") and id(eqn.inputs[0]) in self.row_vars \
                    and _row_shape(eqn.outputs[0].aval.shape, self.kept):
                self.stages.append(("alias", eqn))
                self.row_vars.add(id(eqn.outputs[0]))
                return True
            return False
        red = step.reduction
        if step.shape == self.shape and (red is None or tuple(red.params["axes"]) == self.axes):
            if red is not None and red.primitive.name in ("argmax", "argmin"):
                return False
            if not self._reads_rows_only_by_broadcast(step):
                return False
            self.stages.append(("pass", step))
            if red is not None:
                self.row_vars.add(id(red.outputs[0]))
            return True
        if _row_shape(step.shape, self.kept) and red is None:
            # Its operands have the row shape (or are scalars): fine as per-row scalars.
            self.stages.append(("row", step))
            self.row_vars.update(id(o) for e in step.eqns for o in e.outputs)
            return True
        return False

    def passes(self):
        return sum(1 for kind, _ in self.stages if kind == "pass")


def fuse_rows(steps, jaxpr):
    """Replace runs of steps that pass over the same rows several times by ``RowKernel``s."""
    out, i = [], 0
    while i < len(steps):
        step = steps[i]
        red = getattr(step, "reduction", None)
        if isinstance(step, LoopKernel) and red is not None and \
                red.primitive.name not in ("argmax", "argmin"):
            axes = tuple(red.params["axes"])
            ndim = len(step.shape)
            if 0 < len(axes) < ndim and axes == tuple(range(ndim - len(axes), ndim)):
                group, j = _Group(step), i + 1
                while j < len(steps) and group.try_add(steps[j]):
                    j += 1
                while j > i + 1 and group.stages[-1][0] == "alias":   # (trailing views stay views)
                    group.stages.pop()
                    j -= 1
                if group.passes() >= 2:
                    out.append(_make_kernel(group, steps[j:], jaxpr))
                    i = j
                    continue
        out.append(step)
        i += 1
    return out


def _make_kernel(group: _Group, later_steps, jaxpr) -> RowKernel:
    kernel = RowKernel(group.shape, group.nkept, group.stages)
    defined = {id(o) for e in kernel.eqns for o in e.outputs}
    seen = set()
    for e in kernel.eqns:
        for v in e.inputs:
            if isinstance(v, Var) and id(v) not in defined and id(v) not in seen:
                seen.add(id(v))
                kernel.inputs.append(v)
    needed_after = {id(v) for v in jaxpr.outvars if isinstance(v, Var)}
    for step in later_steps:
        needed_after.update(id(v) for v in step.inputs if isinstance(v, Var))
    outputs = []
    for kind, stage in group.stages:
        if kind == "pass":   # full-shape values a later pass or step reads, and needed rows
            outputs += [o for o in stage.outputs if o.aval.shape == group.shape]
            if stage.reduction is not None and id(stage.reduction.outputs[0]) in needed_after:
                outputs.append(stage.reduction.outputs[0])
        else:
            outputs += [o for e in _stage_eqns(kind, stage) for o in e.outputs
                        if id(o) in needed_after]
    kernel.outputs = list({id(o): o for o in outputs}.values())
    return kernel


# ---------------------------------------------------------------------------
# Code generation
# ---------------------------------------------------------------------------
ROW_BLOCKS = 16   # blocks of rows in a parallel row kernel, each pipelined on its own


def emit_row_kernel(kernel: RowKernel, parallel: bool) -> str:
    """The numba source of a row kernel.

    In parallel, rows are split into blocks for the threads, and each block is *pipelined*
    when it can be: the first pass over row ``i + 1`` (usually the max, which streams the row
    in from memory) runs in the same loop as the second pass over row ``i`` (the expensive
    ``exp``, on a row already in cache), so the memory reads hide behind the arithmetic::

        nxt0 = max over row start
        for i0 in range(start, stop):
            acc0 = nxt0                                  # row i0's max, computed last time
            for j0 in range(cols):
                acc1 += exp(x[i0, j0] - acc0)            # pass 2, row i0
                nxt0 = max(nxt0, x[i0 + 1, j0])          # pass 1, row i0 + 1
    """
    name = _Names()
    nkept, shape = kernel.nkept, kernel.shape
    kidx = [f"i{d}" for d in range(nkept)]
    jidx = [f"j{d}" for d in range(len(shape) - nkept)]
    args = [name(v) for v in kernel.inputs + kernel.outputs]
    lines = [f"def {kernel.name}({', '.join(args)}):"]
    for v in kernel.inputs:
        if v.aval.shape == ():
            lines.append(f"    {name(v)}_s = {name(v)}[()]")
    row: dict[int, str] = {}        # per-row values, held in registers
    output_ids = {id(v) for v in kernel.outputs}

    def element(v, idx):
        """Source reading ``v`` at index ``idx``: a literal, register, scalar or array element."""
        if isinstance(v, Literal):
            return lowering.literal(v.val, v.aval.dtype)
        if id(v) in row:
            return row[id(v)]
        if v.aval.shape == ():
            return f"{name(v)}_s"
        if len(idx) < v.aval.ndim:   # a row-shaped array read in a row step: unit axes are 0
            idx = idx + ["0"] * (v.aval.ndim - len(idx))
        return f"{name(v)}[{', '.join(idx)}]"

    def expression(eqn, idx, local):
        if eqn.primitive.name == "broadcast_in_dim" and id(eqn.inputs[0]) in row:
            return row[id(eqn.inputs[0])]
        operands = [local.get(id(v)) or element(v, idx) for v in eqn.inputs]
        return lowering.scalar_expr(eqn, operands, idx, name)

    def pass_body(stage, acc, row_index):
        """(the accumulator's initial line or None, the loop body's lines) for one pass."""
        red = stage.reduction
        full = row_index + jidx
        local: dict[int, str] = {}
        body = []
        for eqn in stage.eqns:
            value = f"{name(eqn.outputs[0])}_e"
            body.append(f"{value} = {expression(eqn, full, local)}")
            local[id(eqn.outputs[0])] = value
            if id(eqn.outputs[0]) in output_ids:
                body.append(f"{name(eqn.outputs[0])}[{', '.join(full)}] = {value}")
        if red is None:
            return None, body
        x = red.inputs[0]
        body.append(f"{acc} = {lowering.combine(red, acc, local.get(id(x)) or element(x, full))}")
        return f"{acc} = {lowering.reduction_init(red)}", body

    def loop_nest(pad, bodies):
        out = []
        for d, j in enumerate(jidx):
            out.append(f"{pad}for {j} in range({shape[nkept + d]}):")
            pad += "    "
        return out + [pad + line for body in bodies for line in body]

    def emit_stage(n, kind, stage, pad):
        if kind == "alias":
            row[id(stage.outputs[0])] = row[id(stage.inputs[0])]
        elif kind == "row":
            row_idx = kidx + ["0"] * (len(stage.shape) - nkept)   # (unit axes: index 0)
            for eqn in stage.eqns:
                value = f"{name(eqn.outputs[0])}_r"
                lines.append(f"{pad}{value} = {expression(eqn, row_idx, {})}")
                row[id(eqn.outputs[0])] = value
        else:
            init, body = pass_body(stage, f"acc{n}", kidx)
            lines.extend([pad + init] if init else [])
            lines.extend(loop_nest(pad, [body]))
            if stage.reduction is not None:
                row[id(stage.reduction.outputs[0])] = f"acc{n}"

    stages = list(enumerate(kernel.stages))
    second = next((n for n, (kind, _) in stages[1:] if kind == "pass"), None)
    if parallel and nkept == 1 and second is not None:
        rows, first = shape[0], kernel.stages[0][1]
        blocks = min(ROW_BLOCKS, rows)
        lines += [f"    blocks = {blocks}",
                  "    for block in prange(blocks):",
                  f"        start = block * {rows} // blocks",
                  f"        stop = (block + 1) * {rows} // blocks",
                  "        if start >= stop:",
                  "            continue"]
        pad = "        "
        init, body = pass_body(first, "nxt0", ["start"])          # pass 1 of the first row
        lines += [pad + init] + loop_nest(pad, [body])
        lines.append(f"{pad}for i0 in range(start, stop):")
        pad += "    "
        lines.append(f"{pad}acc0 = nxt0")
        row[id(first.reduction.outputs[0])] = "acc0"
        for n, (kind, stage) in stages[1:second]:
            emit_stage(n, kind, stage, pad)
        init, body = pass_body(kernel.stages[second][1], f"acc{second}", kidx)
        _, ahead = pass_body(first, "nxt0", ["i0 + 1"])
        lines.extend([pad + init] if init else [])
        lines += [f"{pad}if i0 + 1 < stop:", f"{pad}    {pass_body(first, 'nxt0', [])[0]}"]
        lines += loop_nest(pad + "    ", [body, ahead])
        lines += [f"{pad}else:"] + loop_nest(pad + "    ", [body])
        if kernel.stages[second][1].reduction is not None:
            row[id(kernel.stages[second][1].reduction.outputs[0])] = f"acc{second}"
        rest = stages[second + 1:]
    else:
        for d in range(nkept):
            loop = "prange" if (parallel and d == 0) else "range"
            lines.append(f"{'    ' * (d + 1)}for {kidx[d]} in {loop}({shape[d]}):")
        pad = "    " * (nkept + 1)
        rest = stages
    for n, (kind, stage) in rest:
        emit_stage(n, kind, stage, pad)
    for v in kernel.outputs:            # per-row values someone needs later
        if id(v) in row:
            index = kidx + ["0"] * (v.aval.ndim - nkept)
            lines.append(f"{pad}{name(v)}[{', '.join(index)}] = {row[id(v)]}")
    return "\n".join(lines)
