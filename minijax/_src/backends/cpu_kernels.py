"""Loop kernels: runs of elementwise equations fused into one loop nest.

``partition`` walks a jaxpr's equations in order. Consecutive elementwise
equations over one output shape join one **loop kernel**: a single loop nest
computes all of them per element, so no temporary arrays are made between
them. A reduction whose input comes from such a run closes it (it
accumulates inside the same loop). Any other equation -- a matmul, a
transpose, a loop -- is a ``LibraryStep``; ``cpu_functions`` decides whether
it is written into numba code too or run with NumPy.

``emit_kernel`` writes one kernel as Python source for ``numba.njit``. Each
elementwise primitive knows how to write itself as a scalar expression
(``cpu_lowerings.SCALAR_LOWERINGS``).
"""
from __future__ import annotations

import numpy as np

from .. import core
from ..core import Literal, Var
from . import cpu_lowerings as lowering
from .cpu_library import dtype_source


# ---------------------------------------------------------------------------
# Steps of a compiled program
# ---------------------------------------------------------------------------
class LibraryStep:
    """Run one equation with its primitive's NumPy implementation."""

    def __init__(self, eqn):
        self.eqn = eqn
        self.inputs, self.outputs = eqn.inputs, eqn.outputs

    def describe(self):
        return f"# library call: {self.eqn.primitive.name} (NumPy implementation)"


class LoopKernel:
    """A fused loop nest: elementwise equations over one shape, optionally ending in a reduction."""

    def __init__(self, shape):
        self.shape = shape
        self.eqns: list = []
        self.reduction = None          # the reduction equation that closes the kernel, if any
        self.name = ""
        self.inputs: list = []         # external vars read by the kernel
        self.outputs: list = []        # vars the kernel materializes



def _is_scalar_input(v):
    return v.aval.shape == ()


def _fusible(eqn, shape):
    """Can ``eqn`` join a loop kernel over ``shape``?"""
    prim = eqn.primitive
    if prim.name not in lowering.SCALAR_LOWERINGS and prim.name not in ("broadcast_in_dim", "iota"):
        return False
    if prim.multiple_results and prim.name not in lowering.MULTI_OUTPUT:
        return False
    if any(o.aval.shape != shape for o in eqn.outputs):
        return False
    if prim.name == "broadcast_in_dim":
        return True
    for v in eqn.inputs:
        if v.aval.shape not in ((), shape):
            return False
    return lowering.supports(eqn)


def partition(jaxpr: core.Jaxpr):
    """Split the program into loop kernels and library steps (see the module docstring)."""
    steps, current = [], None

    def flush():
        nonlocal current
        if current is not None and (current.eqns or current.reduction):
            steps.append(current)
        current = None

    for eqn in jaxpr.eqns:
        out_shape = eqn.outputs[0].aval.shape if eqn.outputs else ()
        if eqn.primitive.name in lowering.REDUCTIONS and lowering.supports(eqn) and \
                eqn.inputs[0].aval.size > 0:
            in_shape = eqn.inputs[0].aval.shape
            if current is None or current.shape != in_shape:
                flush()
                current = LoopKernel(in_shape)
            current.reduction = eqn
            flush()
            continue
        if eqn.outputs and eqn.outputs[0].aval.size > 0 and _fusible(eqn, out_shape):
            if current is None or current.shape != out_shape:
                flush()
                current = LoopKernel(out_shape)
            current.eqns.append(eqn)
            continue
        flush()
        steps.append(LibraryStep(eqn))
    flush()

    outvar_ids = {id(v) for v in jaxpr.outvars if isinstance(v, Var)}
    kernels = [(i, s) for i, s in enumerate(steps) if isinstance(s, LoopKernel)]
    for i, kernel in kernels:
        kernel.name = f"kernel_{i}"
        kernel.inputs = _kernel_inputs(kernel)
    for i, kernel in kernels:   # (after every kernel knows its inputs)
        kernel.outputs = _kernel_outputs(kernel, steps[i + 1:], outvar_ids)
    # A kernel none of whose values is used later is dead code (e.g. the `0.0 * x` a JVP leaves
    # behind for a constant factor): drop it.
    steps = [s for s in steps if not (isinstance(s, LoopKernel) and not s.outputs)]
    from .cpu_rows import fuse_rows
    return fuse_rows(steps, jaxpr)


def _kernel_inputs(kernel: LoopKernel):
    """Variables the kernel reads but does not compute itself."""
    defined = {id(o) for e in kernel.eqns for o in e.outputs}
    inputs, seen = [], set()
    for e in kernel.eqns + ([kernel.reduction] if kernel.reduction else []):
        for v in e.inputs:
            if isinstance(v, Var) and id(v) not in defined and id(v) not in seen:
                seen.add(id(v))
                inputs.append(v)
    return inputs


def _kernel_outputs(kernel: LoopKernel, later_steps, outvar_ids):
    """Values the kernel must write to memory: those used after it (the rest stay in registers)."""
    needed_later = set(outvar_ids)
    for step in later_steps:
        for v in step.inputs:
            if isinstance(v, Var):
                needed_later.add(id(v))
    outputs = [o for e in kernel.eqns for o in e.outputs if id(o) in needed_later]
    if kernel.reduction is not None:
        outputs.append(kernel.reduction.outputs[0])
    return outputs


# ---------------------------------------------------------------------------
# Code generation for one loop kernel
# ---------------------------------------------------------------------------
class _Names:
    def __init__(self):
        self.names: dict[int, str] = {}

    def __call__(self, v):
        if id(v) not in self.names:
            self.names[id(v)] = f"v{len(self.names)}"
        return self.names[id(v)]


# Starting numba's worker threads costs ~70-150 us per call here, as much as a serial loop
# needs for ~10^6 cheap elements: only kernels with more work than this run in parallel.
PARALLEL_MIN_WORK = 1 << 22   # elements x per-element cost (see ``work_per_element``)
CHUNKS = 64                   # a full reduction is split into this many partial results
_COSTLY = {"exp", "log", "sin", "cos", "tan", "tanh", "logistic", "log1p", "expm1", "exp2",
           "asin", "acos", "atan", "atan2", "sinh", "cosh", "asinh", "acosh", "atanh", "pow",
           "erf", "erfc", "cbrt", "rem", "div"}


def work_per_element(kernel: LoopKernel) -> int:
    """A rough cost of one element: 1 per cheap operation, 8 per transcendental function,
    40 for a Threefry block (calibrated on this machine's scalar loops)."""
    cost = 1 if kernel.reduction is not None else 0
    for eqn in kernel.eqns:
        name = eqn.primitive.name
        cost += 40 if name == "threefry2x32" else (8 if name in _COSTLY else 1)
    return max(cost, 1)


def parallel_mode(kernel: LoopKernel) -> str:
    """How the kernel's outer loop is shared among threads: "serial", "outer" or "chunks".

    "outer" runs the first loop as a ``prange``: right when each iteration writes its own
    elements (elementwise work, or a reduction over trailing axes, one row per iteration).
    A reduction over every axis has no independent rows: "chunks" gives each thread a block
    of the first axis and a partial result, combined at the end. A reduction over leading
    axes (every iteration updating the same outputs) stays serial, as do argmax/argmin over
    everything (they would need partial indices too).
    """
    size = 1
    for d in kernel.shape:
        size *= d
    if not kernel.shape or size * work_per_element(kernel) < PARALLEL_MIN_WORK:
        return "serial"
    red = kernel.reduction
    if red is None:
        return "outer"
    ndim, axes = len(kernel.shape), tuple(red.params["axes"])
    if axes != tuple(range(ndim - len(axes), ndim)):
        return "serial"
    if axes[0] != 0:
        return "outer"
    return "serial" if red.primitive.name in ("argmax", "argmin") else "chunks"


def emit_kernel(kernel: LoopKernel, mode: str) -> str:
    """The kernel's source; ``mode`` comes from ``parallel_mode``."""
    name = _Names()
    shape = kernel.shape
    ndim = len(shape)
    idx = [f"i{d}" for d in range(ndim)]
    # Outputs are passed in (allocated, or recycled, by the caller: see ``BufferPool``).
    args = [name(v) for v in kernel.inputs] + [name(v) for v in kernel.outputs]
    lines = [f"def {kernel.name}({', '.join(args)}):"]

    # Rank-0 inputs are read once, before the loop.
    for v in kernel.inputs:
        if _is_scalar_input(v):
            lines.append(f"    {name(v)}_s = {name(v)}[()]")

    def read(v):
        if isinstance(v, Literal):
            return lowering.literal(v.val, v.aval.dtype)
        if id(v) in local:
            return local[id(v)]
        if _is_scalar_input(v):
            return f"{name(v)}_s"
        return f"{name(v)}[{at}]"

    at = ", ".join(idx) if idx else "()"
    red = kernel.reduction
    red_axes = tuple(red.params["axes"]) if red is not None else ()
    kept = [d for d in range(ndim) if d not in red_axes]
    suffix_reduction = red is not None and red_axes == tuple(range(ndim - len(red_axes), ndim))

    if red is not None and not suffix_reduction:  # (argmax/argmin are only fused as suffixes)
        lines.append(f"    {name(red.outputs[0])}[...] = {lowering.reduction_init(red)}")

    # Loop nest. With a suffix reduction, the accumulator lives in a register between
    # the kept (outer) loops and the reduced (inner) loops.
    local: dict[int, str] = {}
    depth = 1
    chunks = min(CHUNKS, shape[0]) if mode == "chunks" else 0
    if chunks:
        step = -(-shape[0] // chunks)
        lines += [f"    partial = np.empty({chunks}, {dtype_source(red.outputs[0].aval.dtype)})",
                  f"    for c in prange({chunks}):"]
        depth += 1
    for d in range(ndim):
        if suffix_reduction and d == red_axes[0]:
            pad = "    " * depth
            lines.append(f"{pad}acc = {lowering.reduction_init(red)}")
            if red.primitive.name in ("argmax", "argmin"):
                lines.append(f"{pad}best = {lowering.reduction_init(red, best=True)}")
        if chunks and d == 0:
            bounds = f"c * {step}, min({shape[0]}, (c + 1) * {step})"
        else:
            bounds = f"{shape[d]}"
        rng = "prange" if (mode == "outer" and d == 0) else "range"
        lines.append(f"{'    ' * depth}for {idx[d]} in {rng}({bounds}):")
        depth += 1
    pad = "    " * depth
    if ndim == 0:
        pad = "    "

    for eqn in kernel.eqns:
        expr = lowering.scalar_expr(eqn, [read(v) for v in eqn.inputs], idx, name)
        lines.append(f"{pad}{', '.join(name(o) + '_e' for o in eqn.outputs)} = {expr}")
        for out in eqn.outputs:
            local[id(out)] = f"{name(out)}_e"
            if out in kernel.outputs:
                lines.append(f"{pad}{name(out)}[{at}] = {name(out)}_e")

    if red is not None:
        value = read(red.inputs[0])
        out = red.outputs[0]
        kept_idx = ", ".join(idx[d] for d in kept)
        target = f"{name(out)}[{kept_idx}]" if kept else f"{name(out)}[()]"
        if suffix_reduction:
            lines.extend(lowering.accumulate(red, "acc", value, pad, red_axes, idx))
            close = "    " * (depth - len(red_axes))
            if chunks:
                lines += [f"{close}partial[c] = acc",
                          f"    acc = {lowering.reduction_init(red)}",
                          f"    for c in range({chunks}):",
                          f"        acc = {lowering.combine(red, 'acc', 'partial[c]')}"]
                close = "    "
            lines.append(f"{close}{target} = acc")
        else:
            lines.append(f"{pad}{target} = {lowering.combine(red, target, value)}")
    # Nothing is returned: the caller holds the output buffers (and boxing a tuple of arrays
    # would cost more than a small kernel's arithmetic).
    return "\n".join(lines)
