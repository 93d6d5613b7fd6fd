"""The CPU backend: compile a Jaxpr into fused loops with numba.

How a program is compiled
-------------------------
1. **Partition** the jaxpr's equations into *steps*. Runs of elementwise
   equations over one output shape become one **loop kernel**: a single loop
   nest computes all of them per element, so no temporary arrays are made
   between them. A reduction whose input comes from such a run joins it (the
   reduction accumulates inside the same loop). Anything else -- a matmul, a
   sort, a gather -- is a **library step** that calls the primitive's NumPy
   ``impl`` (NumPy's matmul already calls BLAS).
2. **Generate** Python source for every loop kernel (see ``Program.source``;
   ``jit(f).lower(x).as_text()`` prints it) and compile it with
   ``numba.njit``. Each elementwise primitive knows how to write itself as a
   scalar expression (``scalar_lowerings`` below).
3. **Cache** the source on disk, named by its hash, so numba's own
   ``cache=True`` can reuse the machine code in a fresh process.

Only loops that are big enough run in parallel (``prange``): starting threads
costs more than it saves on small arrays.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import threading

import numpy as np

from .. import core
from ..core import Literal, Var
from . import cpu_lowerings as lowering

PARALLEL_MIN_SIZE = 1 << 17   # elements; below this a serial loop wins on 2 cores
_compile_lock = threading.Lock()


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
        self.fn = None



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
    consumers: dict[int, int] = {}
    for eqn in jaxpr.eqns:
        for v in eqn.inputs:
            if isinstance(v, Var):
                consumers[id(v)] = consumers.get(id(v), 0) + 1
    for v in jaxpr.outvars:
        if isinstance(v, Var):
            consumers[id(v)] = consumers.get(id(v), 0) + 1

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
        if eqn.outputs and out_shape != () and eqn.outputs[0].aval.size > 0 and \
                _fusible(eqn, out_shape):
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
    for i, kernel in kernels:
        kernel.outputs = _kernel_outputs(kernel, steps[i + 1:], outvar_ids)
    # A kernel none of whose values is used later is dead code (e.g. the `0.0 * x` a JVP leaves
    # behind for a constant factor): drop it, or its generated function would `return` nothing.
    return [s for s in steps if not (isinstance(s, LoopKernel) and not s.outputs)]


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


def emit_kernel(kernel: LoopKernel, parallel: bool) -> str:
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
        return f"{name(v)}[{', '.join(idx)}]"

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
    for d in range(ndim):
        if suffix_reduction and d == red_axes[0]:
            pad = "    " * depth
            lines.append(f"{pad}acc = {lowering.reduction_init(red)}")
            if red.primitive.name in ("argmax", "argmin"):
                lines.append(f"{pad}best = {lowering.reduction_init(red, best=True)}")
        rng = "prange" if (parallel and d == 0) else "range"
        lines.append(f"{'    ' * depth}for {idx[d]} in {rng}({shape[d]}):")
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
                lines.append(f"{pad}{name(out)}[{', '.join(idx)}] = {name(out)}_e")

    if red is not None:
        value = read(red.inputs[0])
        out = red.outputs[0]
        kept_idx = ", ".join(idx[d] for d in kept)
        target = f"{name(out)}[{kept_idx}]" if kept else f"{name(out)}[()]"
        if suffix_reduction:
            lines.extend(lowering.accumulate(red, "acc", value, pad, red_axes, idx))
            close = "    " * (depth - len(red_axes))
            lines.append(f"{close}{target} = acc")
        else:
            lines.append(f"{pad}{target} = {lowering.combine(red, target, value)}")
    lines.append(f"    return {', '.join(name(v) for v in kernel.outputs)}"
                 + ("," if len(kernel.outputs) == 1 else ""))
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Whole programs: source, disk cache, and execution
# ---------------------------------------------------------------------------
def cache_dir() -> str:
    from ..config import config
    configured = config.read("minijax_cache_dir") if "minijax_cache_dir" in config._flags else None
    base = configured or os.environ.get("MINIJAX_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")), "minijax")
    path = os.path.join(base, "kernels")
    os.makedirs(path, exist_ok=True)
    return path


POOL_MIN_SIZE = 1 << 15   # elements; smaller buffers are cheap to allocate fresh
FOLD_MAX_SIZE = 1 << 12   # larger constants are cheaper to recompute (fused) than to keep


class BufferPool:
    """Recycles output buffers of earlier calls once nothing else refers to them.

    A fresh large array costs a page fault per 4 KiB page on first write, often more than
    the arithmetic itself. A buffer handed to the user stays referenced by their Array (so it
    is never reused while alive); when they drop it, the next call writes into it again.
    """

    def __init__(self, keep=4):
        self.free: dict = {}
        self.keep = keep

    def get(self, shape, dtype, size):
        if size < POOL_MIN_SIZE:
            return np.empty(shape, dtype)
        candidates = self.free.setdefault((shape, dtype), [])
        for buf in candidates:
            # Referenced only by this list, the loop variable and getrefcount's argument.
            if sys.getrefcount(buf) <= 3:
                return buf
        buf = np.empty(shape, dtype)
        if len(candidates) < self.keep:
            candidates.append(buf)
        return buf


def fold_constants(jaxpr: core.Jaxpr, consts):
    """Evaluate, once, every equation whose inputs are all known constants.

    Derivative programs are full of them (``ones``, ``0.5 * 2``): computing them at compile
    time means the compiled program never recomputes them.
    """
    known = {id(v): c for v, c in zip(jaxpr.constvars, consts)}
    constvars, constvals, eqns = list(jaxpr.constvars), list(consts), []
    for eqn in jaxpr.eqns:
        foldable = (all(isinstance(v, Literal) or id(v) in known for v in eqn.inputs)
                    and all(v.aval.size <= FOLD_MAX_SIZE for v in eqn.outputs))
        if not foldable or eqn.primitive.impl is None:
            eqns.append(eqn)
            continue
        args = [np.asarray(v.val, v.aval.dtype) if isinstance(v, Literal) else
                np.asarray(known[id(v)]) for v in eqn.inputs]
        outs = eqn.primitive.impl(*args, **eqn.params)
        outs = outs if eqn.primitive.multiple_results else [outs]
        for v, o in zip(eqn.outputs, outs):
            value = np.asarray(o).astype(v.aval.dtype, copy=False)
            known[id(v)] = value
            constvars.append(v)
            constvals.append(value)
    if len(eqns) == len(jaxpr.eqns):
        return jaxpr, list(consts)
    folded = core.Jaxpr(constvars, jaxpr.invars, eqns, jaxpr.outvars)
    return folded, constvals


class Program:
    """A compiled jaxpr: an ordered list of loop kernels and library steps."""

    def __init__(self, jaxpr: core.Jaxpr, consts):
        self.jaxpr, self.consts = fold_constants(jaxpr, list(consts))
        self.steps = partition(self.jaxpr)
        kernels = [s for s in self.steps if isinstance(s, LoopKernel)]
        pieces = [lowering.PRELUDE]
        for k in kernels:
            parallel = int(np.prod(k.shape, dtype=np.int64)) >= PARALLEL_MIN_SIZE
            decorator = (f"@numba.njit(cache=True, fastmath={{'reassoc', 'contract'}}, parallel={parallel}, "
                         f"error_model='numpy')")
            pieces.append(decorator + "\n" + emit_kernel(k, parallel))
        self.source = "\n\n\n".join(pieces) + "\n"
        self.module = _load_module(self.source) if kernels else None
        for k in kernels:
            k.fn = getattr(self.module, k.name)
        self._plan()

    def _plan(self):
        """Give every value a slot in a flat list, so a call is list indexing, not dict lookups."""
        slots: dict[int, int] = {}
        template: list = []

        def slot(v):
            if isinstance(v, Literal):
                template.append(np.asarray(v.val, v.aval.dtype))
                return len(template) - 1
            if id(v) not in slots:
                slots[id(v)] = len(template)
                template.append(None)
            return slots[id(v)]

        for v, c in zip(self.jaxpr.constvars, self.consts):
            template[slot(v)] = np.asarray(c)
        self._in_slots = [slot(v) for v in self.jaxpr.invars]
        self._plan_steps = []
        for step in self.steps:
            if isinstance(step, LoopKernel):
                ins = [slot(v) for v in step.inputs]
                out_types = [(v.aval.shape, v.aval.dtype, v.aval.size) for v in step.outputs]
                self._plan_steps.append((step.fn, None, out_types, ins,
                                         [slot(v) for v in step.outputs]))
            else:
                eqn = step.eqn
                ins = [slot(v) for v in eqn.inputs]
                dtypes_out = [v.aval.dtype for v in eqn.outputs]
                self._plan_steps.append((None, eqn, dtypes_out, ins, [slot(v) for v in eqn.outputs]))
        self._out_slots = [slot(v) for v in self.jaxpr.outvars]
        self._template = template
        self._pool = BufferPool()

    def _demote(self, n, error):
        """Replace loop kernel ``n`` by NumPy evaluation of its equations, and say why once."""
        import warnings
        step = [s for s in self.steps if isinstance(s, LoopKernel)][
            sum(1 for p in self._plan_steps[:n] if p[0] is not None)]
        warnings.warn(f"minijax could not compile {step.name} with numba "
                      f"({type(error).__name__}); running it with NumPy instead. Please report "
                      f"this with the output of jit(f).lower(...).as_text().", RuntimeWarning,
                      stacklevel=3)
        fallback = _numpy_kernel(step)
        entry = self._plan_steps[n]
        self._plan_steps[n] = (fallback,) + entry[1:]
        return fallback

    def as_text(self) -> str:
        lines = ["# minijax CPU program: steps in order", ""]
        for s in self.steps:
            if isinstance(s, LoopKernel):
                ins = ", ".join(f"{v.aval.str_short()}" for v in s.inputs)
                lines.append(f"# {s.name}({ins}) fuses {len(s.eqns)} elementwise op(s)"
                             + (f" + {s.reduction.primitive.name}" if s.reduction else ""))
            else:
                lines.append(s.describe())
        return "\n".join(lines) + "\n\n" + self.source

    def __call__(self, *args):
        env = list(self._template)
        for i, a in zip(self._in_slots, args):
            env[i] = a
        pool = self._pool
        for n, (kernel, eqn, dtypes_out, ins, outs) in enumerate(self._plan_steps):
            if kernel is not None:
                inputs = [_c_contiguous(env[i]) for i in ins]
                inputs += [pool.get(shape, dtype, size) for shape, dtype, size in dtypes_out]
                try:
                    results = kernel(*inputs)
                except Exception as error:  # numba refused the kernel: never show its traceback
                    kernel = self._demote(n, error)
                    results = kernel(*inputs)
            else:
                prim = eqn.primitive
                results = prim.impl(*[env[i] for i in ins], **eqn.params)
                if not prim.multiple_results:
                    results = (results,)
                results = [np.asarray(r).astype(d, copy=False) for r, d in zip(results, dtypes_out)]
            for i, r in zip(outs, results):
                env[i] = r
        return [env[i] for i in self._out_slots]



def _numpy_kernel(kernel: LoopKernel):
    """Evaluate a loop kernel's equations one by one with their NumPy implementations."""
    eqns = kernel.eqns + ([kernel.reduction] if kernel.reduction else [])

    def run(*args):
        inputs = args[:len(kernel.inputs)]
        env = {id(v): x for v, x in zip(kernel.inputs, inputs)}
        for eqn in eqns:
            args = [np.asarray(v.val, v.aval.dtype) if isinstance(v, Literal) else env[id(v)]
                    for v in eqn.inputs]
            outs = eqn.primitive.impl(*args, **eqn.params)
            outs = outs if eqn.primitive.multiple_results else [outs]
            for v, out in zip(eqn.outputs, outs):
                env[id(v)] = np.asarray(out).astype(v.aval.dtype, copy=False)
        return tuple(env[id(v)] for v in kernel.outputs)
    return run


def _c_contiguous(x):
    """The C-ordered array numba kernels are compiled for (keeping rank-0 arrays rank-0,
    which ``np.ascontiguousarray`` would turn into shape (1,))."""
    if type(x) is not np.ndarray:
        x = np.asarray(x)
    return x if x.flags.c_contiguous else np.ascontiguousarray(x).reshape(x.shape)


def cache_stats(program) -> tuple[int, int]:
    """(hits, misses) of numba's disk cache over the program's kernels, in this process."""
    hits = misses = 0
    for step in program.steps:
        if isinstance(step, LoopKernel):
            hits += sum(step.fn.stats.cache_hits.values())
            misses += sum(step.fn.stats.cache_misses.values())
    return hits, misses


def _load_module(source: str):
    """Write ``source`` under the cache dir (named by its hash) and import it."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    module_name = f"minijax_kernels_{digest}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    with _compile_lock:
        lowering.configure_numba()
        path = os.path.join(cache_dir(), module_name + ".py")
        if not os.path.exists(path):
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w") as f:
                f.write(source)
            os.replace(tmp, path)
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[module_name] = module
        return module
