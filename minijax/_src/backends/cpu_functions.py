"""Whole functions: a jaxpr written as ONE numba function.

A loop kernel (``cpu_kernels``) covers a run of elementwise work. This module
strings kernels, matmuls, shape changes (``cpu_library``) and control flow
(``cpu_control``) together into a single function, so that the program runs
from start to end in machine code::

    @numba.njit(cache=True, error_model='numpy')
    def segment_3(a0, a1, a2):
        a3 = _dot(a0, a1)                       # dot_general -> BLAS
        a4 = np.empty((128, 256), np.float32)
        kernel_1(a3, a2, a4)                    # tanh(. + b), fused
        return (a4,)

The bodies of ``cond``, ``while_loop`` and ``scan`` are written the same way
and called from a loop in their parent, so a ``fori_loop`` with a thousand
trips never comes back to Python.

Values are NumPy arrays; rank-0 values are 0-d arrays. Every value a function
computes is C-contiguous, and values that leave a loop body or a branch are
freshly allocated (see ``Function.fresh``): numba insists that a variable keep
one type on every path, and an array it may not write to (like the read-only
buffers behind user Arrays) has a different type from one it may.
"""
from __future__ import annotations

import numpy as np

from .. import core
from ..core import Literal, Var
from . import cpu_control, cpu_library
from . import cpu_lowerings as lowering
from .cpu_library import dtype_source, empty_source
from .cpu_rewrites import absorb_transposes
from .cpu_kernels import LoopKernel, emit_kernel, parallel_mode, partition
from .cpu_rows import RowKernel, emit_row_kernel

POOL_MIN_SIZE = 1 << 15       # elements; smaller outputs are cheap to allocate inside numba

KERNEL_DECORATOR = ("@numba.njit(cache=True, fastmath={{'reassoc', 'contract'}}, "
                    "parallel={parallel}, error_model='numpy')")
FUNCTION_DECORATOR = "@numba.njit(cache=True, error_model='numpy')"


def can_emit(jaxpr: core.Jaxpr) -> bool:
    """Can every equation of ``jaxpr`` be written as numba code? (Remembered on the jaxpr.)"""
    ok = getattr(jaxpr, "_numba_ok", None)
    if ok is None:
        ok = all(step_can_emit(s) for s in partition(jaxpr))
        try:
            jaxpr._numba_ok = ok
        except AttributeError:
            pass
    return ok


def step_can_emit(step) -> bool:
    if isinstance(step, LoopKernel):
        return True
    eqn = step.eqn
    return (cpu_library.supports(eqn) or cpu_library.emits_empty(eqn)
            or cpu_control.supports(eqn, can_emit))


class ModuleBuilder:
    """Collects the functions of one generated module, callees and callers alike."""

    def __init__(self):
        self.pieces: list[str] = []
        self._count = 0

    def fresh_name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def add_kernel(self, kernel: LoopKernel) -> str:
        kernel.name = self.fresh_name("kernel")
        mode = parallel_mode(kernel)
        source = emit_row_kernel(kernel, mode != "serial") if isinstance(kernel, RowKernel) \
            else emit_kernel(kernel, mode)
        self.pieces.append(KERNEL_DECORATOR.format(parallel=mode != "serial") + "\n" + source)
        return kernel.name

    def add_function(self, jaxpr: core.Jaxpr, prefix: str, *, buffers=False, owned_inputs=(),
                     destinations=()):
        """Write ``jaxpr`` as a numba function; returns a ``Function``.

        ``owned_inputs``: positions of arguments the caller passes as arrays it allocated
        (a loop's carry), which the function may hand back without copying.
        ``destinations``: positions of outputs the caller provides storage for, where a
        kernel computes them (see ``Function``). For a loop body these are its carry:
        output ``k`` becomes argument ``owned_inputs[k]`` on the next trip.
        """
        fn = Function(self, jaxpr, self.fresh_name(prefix), buffers=buffers,
                      owned_inputs=owned_inputs, destinations=destinations)
        self.pieces.append(FUNCTION_DECORATOR + "\n" + fn.source)
        return fn

    def source(self) -> str:
        return "\n\n\n".join([lowering.PRELUDE] + self.pieces) + "\n"


class Function:
    """One jaxpr as the source of one numba function.

    With ``buffers=True`` (a program segment called from Python), large outputs
    that a loop kernel computes are passed in as extra arguments, listed in
    ``buffer_outputs``, so the caller can recycle them (``cpu.BufferPool``).
    Otherwise (a loop body or branch) every output is returned freshly allocated,
    except at ``destinations``: there an output a loop kernel computes is written
    into an array the caller passes in (also listed in ``buffer_outputs``), so a
    loop allocates nothing per trip. A loop alternates between two sets of such
    arrays; for that to be safe, no carry output that is not written into them
    may be one of them: it is an array allocated by this very call, or a carry
    handed on unchanged from a position that is never written in place, or else
    it is copied (a view of an input might be a view of last trip's destination).
    """

    def __init__(self, builder: ModuleBuilder, jaxpr: core.Jaxpr, name: str, *, buffers: bool,
                 owned_inputs=(), destinations=()):
        jaxpr = absorb_transposes(jaxpr)
        self.builder, self.jaxpr, self.name = builder, jaxpr, name
        self.names: dict[int, str] = {}
        for v in jaxpr.invars:   # arguments are named first: a0, a1, ...
            self.local(v)
        # Locals this function allocated (so numba may write them, and they type alike).
        self.fresh: set[str] = {self.local(jaxpr.invars[i]) for i in owned_inputs}
        # Locals allocated by this call itself (not inputs it owns, nor views of them).
        self.allocated_here: set[str] = set()
        self.lines: list[str] = []
        self.steps = partition(jaxpr)
        self.destinations = tuple(destinations)
        # The argument each carry output becomes on the next trip.
        self.next_input = dict(zip(self.destinations, (jaxpr.invars[i] for i in owned_inputs)))
        self.buffer_outputs = self._choose_buffers() if buffers else self._destination_buffers()
        self.source = self._emit(copy_outputs=not buffers)

    # -- names ----------------------------------------------------------------------------------
    def local(self, v) -> str:
        if id(v) not in self.names:
            self.names[id(v)] = f"a{len(self.names)}"
        return self.names[id(v)]

    def temp(self, prefix="t") -> str:
        return self.builder.fresh_name(prefix)

    def operand(self, v) -> str:
        """A name holding ``v``: literals become 0-d arrays."""
        if isinstance(v, Literal):
            name = self.temp("lit")
            self.lines.append(f"{name} = np.full((), {lowering.literal(v.val, v.aval.dtype)}, "
                              f"{dtype_source(v.aval.dtype)})")
            self.fresh.add(name)
            self.allocated_here.add(name)
            return name
        return self.local(v)

    def owned(self, name: str) -> str:
        """``name`` as an array this function allocated (copying it if it might not be)."""
        return name if name in self.fresh else f"{name}.copy()"

    # -- code -----------------------------------------------------------------------------------
    def _choose_buffers(self):
        outvar_ids = {id(v) for v in self.jaxpr.outvars if isinstance(v, Var)}
        chosen, seen = [], set()
        for step in self.steps:
            if isinstance(step, LoopKernel):
                for v in step.outputs:
                    if id(v) in outvar_ids and id(v) not in seen and v.aval.size >= POOL_MIN_SIZE:
                        seen.add(id(v))
                        chosen.append(v)
        return chosen

    def _destination_buffers(self):
        kernel_outputs = {id(v) for step in self.steps if isinstance(step, LoopKernel)
                          for v in step.outputs}
        chosen, seen = [], set()
        for i in self.destinations:
            v = self.jaxpr.outvars[i]
            if id(v) in kernel_outputs and id(v) not in seen:
                seen.add(id(v))
                chosen.append(v)
        return chosen

    def _emit(self, copy_outputs: bool) -> str:
        buffer_ids = {id(v) for v in self.buffer_outputs}
        args = [self.local(v) for v in self.jaxpr.invars + self.buffer_outputs]
        for step in self.steps:
            if isinstance(step, LoopKernel):
                self._emit_kernel(step, buffer_ids)
            else:
                self._emit_equation(step.eqn)
        # The carry inputs whose arrays some trip writes into: last trip's destinations.
        in_place = {id(self.next_input[k]) for k in self.destinations
                    if k in self.next_input and id(self.jaxpr.outvars[k]) in buffer_ids}
        outs = []
        for i, v in enumerate(self.jaxpr.outvars):
            name = self.operand(v)
            if not copy_outputs:
                outs.append(name)
            elif self._might_be_a_destination(i, name, buffer_ids, in_place):
                outs.append(f"{name}.copy()")
            else:
                outs.append(self.owned(name))
        body = "\n".join("    " + line for line in self.lines) or "    pass"
        return (f"def {self.name}({', '.join(args)}):\n{body}\n"
                f"    return ({', '.join(outs)}{',' if len(outs) == 1 else ''})")

    def _might_be_a_destination(self, i, name, buffer_ids, in_place) -> bool:
        """Could carry output ``i``, not written in place, be an array some trip writes into?"""
        if i not in self.next_input or not self.buffer_outputs:
            return False
        v = self.jaxpr.outvars[i]
        if id(v) in buffer_ids or name in self.allocated_here:
            return False
        passed_on = any(v is arg for arg in self.next_input.values())
        # A carry handed on from a position never written in place holds no destination
        # (by induction over trips: the initial carries are copies, not destinations).
        return not passed_on or id(v) in in_place

    def _emit_kernel(self, kernel: LoopKernel, buffer_ids):
        kname = self.builder.add_kernel(kernel)
        for v in kernel.outputs:
            name = self.local(v)
            self.fresh.add(name)
            if id(v) not in buffer_ids:
                self.allocated_here.add(name)
                self.lines.append(empty_source(name, v.aval.shape, v.aval.dtype))
        args = [self.local(v) for v in kernel.inputs + kernel.outputs]
        self.lines.append(f"{kname}({', '.join(args)})")

    def _emit_equation(self, eqn):
        ins = [self.operand(v) for v in eqn.inputs]
        outs = [self.local(v) for v in eqn.outputs]
        if cpu_control.handles(eqn):
            self.lines.extend(cpu_control.emit(self, eqn, ins, outs))
            self.fresh.update(outs)
            return
        lines = cpu_library.emit(eqn, ins, outs)
        self.lines.extend(lines)
        # Views of arrays this function allocated are its own too; anything else may alias
        # a read-only input.
        if cpu_library.allocates(eqn):
            self.allocated_here.update(outs)
        if cpu_library.allocates(eqn) or all(i in self.fresh for i in ins):
            self.fresh.update(outs)

