"""The CPU backend: compile a Jaxpr into machine code with numba.

How a program is compiled
-------------------------
1. **Fold constants**: equations whose inputs are all known at compile time
   are evaluated once (``fold_constants``).
2. **Partition** the equations into steps (``cpu_kernels.partition``): runs of
   elementwise equations become fused **loop kernels**; every other equation
   is a library step.
3. **Group** consecutive steps that numba can run -- kernels, matmuls, shape
   changes, and ``cond``/``while``/``scan`` whose bodies qualify -- into
   **segments**: one numba function each (``cpu_functions``), so the program
   stays in machine code from one step to the next and loops never return to
   Python. A step numba cannot run (a sort, a gather, a decomposition) calls
   its primitive's NumPy ``impl`` between segments.
4. **Generate** the Python source of every kernel and segment
   (``jit(f).lower(x).as_text()`` prints it), write it to the cache
   directory named by its hash, and import it: numba's ``cache=True`` then
   reuses the machine code in a fresh process.
5. **Run**: ``Program.__call__`` walks the steps with a flat list of values.

Only loops that are big enough run in parallel (``prange``): starting threads
costs more than it saves on small arrays.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import sys
import threading

import numpy as np

from .. import core
from ..core import Literal, Var
from . import cpu_lowerings as lowering
from . import cpu_native
from .cpu_functions import POOL_MIN_SIZE, ModuleBuilder, step_can_emit
from .cpu_kernels import LibraryStep, LoopKernel, partition
from .cpu_rows import RowKernel

_compile_lock = threading.Lock()


class Segment:
    """Consecutive steps compiled into one numba function (see ``cpu_functions.Function``)."""

    def __init__(self, steps):
        self.steps = steps
        self.eqns = [e for s in steps for e in _equations(s)]
        defined = {id(o) for e in self.eqns for o in e.outputs}
        self.inputs, seen = [], set()
        for e in self.eqns:
            for v in e.inputs:
                if isinstance(v, Var) and id(v) not in defined and id(v) not in seen:
                    seen.add(id(v))
                    self.inputs.append(v)
        self.outputs: list = []      # set by ``_group`` once later steps are known
        self.function = None         # the cpu_functions.Function, once written
        self.name = ""

    def describe(self):
        counts: dict[str, int] = {}
        for s in self.steps:
            key = "fused loop" if isinstance(s, LoopKernel) else s.eqn.primitive.name
            counts[key] = counts.get(key, 0) + 1
        parts = ", ".join(f"{n} {k}" + ("s" if n > 1 and k == "fused loop" else "")
                          for k, n in counts.items())
        return f"# {self.name}: one numba function for {len(self.eqns)} equations ({parts})"


def _equations(step):
    if isinstance(step, LoopKernel):
        return step.eqns + ([step.reduction] if step.reduction else [])
    if isinstance(step, Segment):
        return step.eqns
    return [step.eqn]


def _step_inputs(step):
    return step.inputs if isinstance(step, (LoopKernel, Segment)) else step.eqn.inputs


def _group(steps, jaxpr: core.Jaxpr):
    """Merge runs of steps numba can run into segments (a lone kernel or library call stays)."""
    from .cpu_control import handles
    groups, run = [], []

    def flush():
        worth_it = len(run) >= 2 or any(isinstance(s, LibraryStep) and handles(s.eqn) for s in run)
        groups.extend([Segment(list(run))] if worth_it else run)
        run.clear()

    for step in steps:
        if step_can_emit(step):
            run.append(step)
        else:
            flush()
            groups.append(step)
    flush()
    needed = {id(v) for v in jaxpr.outvars if isinstance(v, Var)}
    for group in reversed(groups):
        if isinstance(group, Segment):
            group.outputs = [o for e in group.eqns for o in e.outputs if id(o) in needed]
        needed.update(id(v) for v in _step_inputs(group) if isinstance(v, Var))
    return [g for g in groups if not (isinstance(g, Segment) and not g.outputs)]


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
    """A compiled jaxpr: an ordered list of segments, loop kernels and library steps."""

    def __init__(self, jaxpr: core.Jaxpr, consts):
        self.jaxpr, self.consts = fold_constants(jaxpr, list(consts))
        self.steps = _group(partition(self.jaxpr), self.jaxpr)
        builder = ModuleBuilder()
        for step in self.steps:
            if isinstance(step, LoopKernel):
                builder.add_kernel(step)
            elif isinstance(step, Segment):
                sub = core.Jaxpr([], step.inputs, step.eqns, step.outputs)
                step.function = builder.add_function(sub, "segment", buffers=True)
                step.name = step.function.name
        self.source = builder.source()
        self.module = None
        self.native = False          # loaded from the native cache, without numba
        self._save_native = False    # write the native cache after the first successful call
        self._functions = self._load_functions() if builder.pieces else {}
        self._plan()

    def _compiled_specs(self):
        """``{name: [(dtype, shape)]}``: each compiled step's arguments, inputs then buffers."""
        specs = {}
        for step in self.steps:
            if isinstance(step, (LoopKernel, Segment)):
                buffers = step.outputs if isinstance(step, LoopKernel) else step.function.buffer_outputs
                specs[step.name] = [(v.aval.dtype, v.aval.shape) for v in step.inputs + buffers]
        return specs

    def _load_functions(self):
        """The compiled steps: from the native cache when it has them, else through numba."""
        path = _module_path(self.source)
        if os.path.exists(path):
            native = cpu_native.load(path, self._compiled_specs(), self._numba_function)
            if native is not None:
                self.native = True
                return native
        self.module = _load_module(self.source)
        self._save_native = cpu_native.enabled()
        return {name: getattr(self.module, name) for name in self._compiled_specs()}

    def _numba_function(self, name):
        if self.module is None:
            self.module = _load_module(self.source)
        return getattr(self.module, name)

    def _write_native(self):
        self._save_native = False
        specs = self._compiled_specs()
        steps = [(step.name, entry[0], specs[step.name])
                 for step, entry in zip(self.steps, self._plan_steps)
                 if isinstance(step, (LoopKernel, Segment))]
        cpu_native.save(_module_path(self.source), steps)

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

        def buffer_types(vs):
            return [(v.aval.shape, v.aval.dtype, v.aval.size) for v in vs]

        for v, c in zip(self.jaxpr.constvars, self.consts):
            template[slot(v)] = np.asarray(c)
        self._in_slots = [slot(v) for v in self.jaxpr.invars]
        self._plan_steps = []
        for step in self.steps:
            if isinstance(step, LoopKernel):
                fn = self._functions[step.name]
                entry = (fn, None, buffer_types(step.outputs), step.inputs, step.outputs)
            elif isinstance(step, Segment):
                fn = self._functions[step.name]
                entry = (fn, None, buffer_types(step.function.buffer_outputs), step.inputs,
                         step.outputs)
            else:
                eqn = step.eqn
                entry = (None, eqn, [v.aval.dtype for v in eqn.outputs], eqn.inputs, eqn.outputs)
            fn, eqn, types, ins, outs = entry
            self._plan_steps.append((fn, eqn, types, [slot(v) for v in ins],
                                     [slot(v) for v in outs]))
        self._out_slots = [slot(v) for v in self.jaxpr.outvars]
        self._template = template
        self._pool = BufferPool()
        self._single = self._single_step_plan()

    def _single_step_plan(self):
        """For the common program of ONE compiled step reading only arguments and constants:
        where each of its inputs comes from, and where each output of the program comes from,
        so that a call skips the general walk over steps."""
        if len(self._plan_steps) != 1 or self._plan_steps[0][0] is None:
            return None
        fn, _, types, ins, outs = self._plan_steps[0]
        arg_of = {slot: k for k, slot in enumerate(self._in_slots)}
        sources = []
        for slot in ins:
            if slot in arg_of:
                sources.append((arg_of[slot], None))
            elif self._template[slot] is not None:
                sources.append((-1, _program_input(self._template[slot])))
            else:
                return None
        produced = {slot: k for k, slot in enumerate(outs)}
        picks = []
        for slot in self._out_slots:
            if slot in produced:
                picks.append(("out", produced[slot]))
            elif slot in arg_of:
                picks.append(("arg", arg_of[slot]))
            else:
                picks.append(("const", self._template[slot]))
        return fn, sources, types, picks

    def _demote(self, n, error):
        """Replace compiled step ``n`` by NumPy evaluation of its equations, and say why once."""
        import warnings
        step = self.steps[n]
        warnings.warn(f"minijax could not compile {step.name} with numba "
                      f"({type(error).__name__}); running it with NumPy instead. Please report "
                      f"this with the output of jit(f).lower(...).as_text().", RuntimeWarning,
                      stacklevel=3)
        fallback = _numpy_steps(_equations(step), _step_inputs(step), step.outputs)
        entry = self._plan_steps[n]
        self._plan_steps[n] = (fallback,) + entry[1:]
        return fallback

    def as_text(self) -> str:
        lines = ["# minijax CPU program: steps in order", ""]
        for s in self.steps:
            ins = ", ".join(v.aval.str_short() for v in getattr(s, "inputs", ()))
            if isinstance(s, RowKernel):
                lines.append(f"# {s.name}({ins}) fuses {len(s.eqns)} equations, {s.describe()}")
            elif isinstance(s, LoopKernel):
                lines.append(f"# {s.name}({ins}) fuses {len(s.eqns)} elementwise op(s)"
                             + (f" + {s.reduction.primitive.name}" if s.reduction else ""))
            else:
                lines.append(s.describe())
        return "\n".join(lines) + "\n\n" + self.source

    def numba_functions(self):
        """Every numba dispatcher of this program's generated module."""
        if self.module is None:
            return []
        return [f for f in vars(self.module).values()
                if hasattr(f, "stats") and getattr(f, "__module__", None) == self.module.__name__]

    def _run_compiled(self, n, fn, inputs, types):
        """Run compiled step ``n`` on ``inputs`` plus output buffers of ``types``; its outputs."""
        n_in = len(inputs)
        for shape, dtype, size in types:
            inputs.append(self._pool.get(shape, dtype, size))
        try:
            results = fn(*inputs)
        except Exception as error:  # numba refused the code: never show its traceback
            results = self._demote(n, error)(*inputs)
        # A loop kernel returns nothing: it filled the buffers it was given.
        return inputs[n_in:] if results is None else results

    def _call_single(self, args):
        fn, sources, types, picks = self._single
        inputs = [_program_input(args[k]) if k >= 0 else const for k, const in sources]
        results = self._run_compiled(0, fn, inputs, types)
        return [results[k] if where == "out" else (args[k] if where == "arg" else k)
                for where, k in picks]

    def __call__(self, *args):
        if self._single is not None and self._plan_steps[0][0] is self._single[0]:
            outs = self._call_single(args)
        else:
            outs = self._call_steps(args)
        if self._save_native:
            self._write_native()
        return outs

    def _call_steps(self, args):
        env = list(self._template)
        for i, a in zip(self._in_slots, args):
            env[i] = _program_input(a)
        for n, (fn, eqn, types, ins, outs) in enumerate(self._plan_steps):
            if fn is not None:
                results = self._run_compiled(n, fn, [_c_contiguous(env[i]) for i in ins], types)
            else:
                prim = eqn.primitive
                results = prim.impl(*[env[i] for i in ins], **eqn.params)
                if not prim.multiple_results:
                    results = (results,)
                results = [np.asarray(r).astype(d, copy=False) for r, d in zip(results, types)]
            for i, r in zip(outs, results):
                env[i] = r
        return [env[i] for i in self._out_slots]


def compile_equation(primitive, avals, params):
    """A program running one equation -- a whole loop or cond -- in numba, or None if it can't.

    Eager ``lax.fori_loop``/``scan``/``while_loop``/``cond`` use this, so even outside ``jit``
    a loop does not return to Python on every trip.
    """
    invars = [Var(a) for a in avals]
    out_avals = primitive.abstract_eval(*avals, **params)
    outvars = [Var(a) for a in (out_avals if primitive.multiple_results else [out_avals])]
    eqn = core.JaxprEqn(primitive, invars, params, outvars)
    if not step_can_emit(LibraryStep(eqn)):
        return None
    return Program(core.Jaxpr([], invars, [eqn], outvars), [])


def _numpy_steps(eqns, inputs, outputs):
    """Evaluate equations one by one with their primitives' NumPy implementations."""
    n_in = len(inputs)

    def run(*args):   # (any trailing output buffers are not needed)
        env = {id(v): x for v, x in zip(inputs, args[:n_in])}
        for eqn in eqns:
            vals = [np.asarray(v.val, v.aval.dtype) if isinstance(v, Literal) else env[id(v)]
                    for v in eqn.inputs]
            outs = eqn.primitive.impl(*vals, **eqn.params)
            outs = outs if eqn.primitive.multiple_results else [outs]
            for v, out in zip(eqn.outputs, outs):
                env[id(v)] = np.asarray(out).astype(v.aval.dtype, copy=False)
        return tuple(env[id(v)] for v in outputs)
    return run


def _program_input(x):
    """An argument as the kernels are compiled for it: C-ordered and read-only.

    numba types a read-only array differently from a writable one; the buffers behind Arrays
    are read-only, so a NumPy argument is viewed read-only too, rather than compiling every
    kernel a second time for it.
    """
    if type(x) is not np.ndarray or not x.flags.c_contiguous:
        x = _c_contiguous(x)
    if x.flags.writeable:
        x = x.view()
        x.flags.writeable = False
    return x


def _c_contiguous(x):
    """The C-ordered array numba kernels are compiled for (keeping rank-0 arrays rank-0,
    which ``np.ascontiguousarray`` would turn into shape (1,))."""
    if type(x) is not np.ndarray:
        x = np.asarray(x)
    return x if x.flags.c_contiguous else np.ascontiguousarray(x).reshape(x.shape)


def cache_stats(program) -> tuple[int, int]:
    """(hits, misses) of numba's disk cache over the program's compiled functions, in this process."""
    if program.native:
        return len(program._functions), 0
    hits = misses = 0
    for fn in program.numba_functions():
        hits += sum(fn.stats.cache_hits.values())
        misses += sum(fn.stats.cache_misses.values())
    return hits, misses


def _module_path(source: str) -> str:
    """Where the generated module for ``source`` lives: the cache dir, named by its hash.

    The hash covers the helper modules the source calls into as well (numba compiles them
    into the same machine code), so changing one of them never reuses stale code."""
    digest = hashlib.sha256(source.encode() + _helpers_digest()).hexdigest()[:20]
    return os.path.join(cache_dir(), f"minijax_kernels_{digest}.py")


@functools.lru_cache(maxsize=None)
def _helpers_digest() -> bytes:
    here = os.path.dirname(os.path.abspath(__file__))
    digest = hashlib.sha256()
    for name in ("cpu_helpers.py", "fastmath.py"):
        with open(os.path.join(here, name), "rb") as f:
            digest.update(f.read())
    return digest.digest()


def _load_module(source: str):
    """Write ``source`` under the cache dir (named by its hash) and import it."""
    path = _module_path(source)
    module_name = os.path.basename(path)[:-3]
    if module_name in sys.modules:
        return sys.modules[module_name]
    with _compile_lock:
        lowering.configure_numba()
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
