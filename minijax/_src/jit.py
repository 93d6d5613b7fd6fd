"""``jit``: trace a function once per input signature, compile it, and reuse the result.

``jit(f)(x)`` does three things:

1. **Signature.** From the arguments it builds a cache key: the pytree
   structure, each leaf's shape/dtype/weak type, and the values of static
   arguments. Values themselves are not part of the key -- that is the point.
2. **Trace** (first time per key): run ``f`` on abstract tracers to get a
   Jaxpr (``make_jaxpr`` shows it). Python side effects such as ``print``
   happen only now.
3. **Call** the ``pjit`` primitive with that Jaxpr. Evaluated eagerly, pjit
   compiles the Jaxpr with the CPU backend (numba) once and runs the machine
   code. Under other transformations pjit has rules like any primitive:
   ``vmap(jit(f))`` batches the Jaxpr and stays compiled; ``grad(jit(f))``
   differentiates the Jaxpr's equations; ``jit(grad(f))`` compiles the whole
   derivative program.
"""
from __future__ import annotations

import functools
import logging
import time

from . import core
from .array import ArrayImpl, wrap_output
from .config import config
from .dtypes import _x64_flag   # (the flag object itself: the hot path reads it per call)
from .core import ClosedJaxpr, Primitive, eval_jaxpr, get_aval
from .interpreters.tracing import abstractify, flatten_fun, trace_to_jaxpr
from ..tree_util import tree_flatten, tree_unflatten

logger = logging.getLogger("minijax")

# ---------------------------------------------------------------------------
# The pjit primitive: "call this jaxpr, compiled"
# ---------------------------------------------------------------------------
pjit_p = Primitive("pjit", multiple_results=True)


@pjit_p.def_abstract_eval
def _pjit_abstract(*avals, jaxpr, name):
    expected = [a.update(weak_type=False) for a in jaxpr.in_avals]
    got = [a.update(weak_type=False) for a in avals]
    if [(a.shape, a.dtype) for a in expected] != [(a.shape, a.dtype) for a in got]:
        raise TypeError(f"pjit {name} called with {[a.str_short() for a in got]}, compiled for "
                        f"{[a.str_short() for a in expected]}")
    return jaxpr.out_avals


@pjit_p.def_impl
def _pjit_impl(*args, jaxpr, name):
    return compiled_program(jaxpr, name)(*args)


@pjit_p.def_jvp
def _pjit_jvp(primals, tangents, *, jaxpr, name):
    # Differentiate the equations inside: a nested JVP over the jaxpr's interpreter. Under jit
    # this is itself staged and compiled; outside jit it runs equation by equation.
    from .interpreters.ad import jvp_flat
    return jvp_flat(lambda *xs: eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, *xs), primals, tangents)


pjit_p.jvp_accepts_zeros = True   # jvp_flat below starts symbolic-zero tangents as such


@pjit_p.def_batch
def _pjit_batch(args, dims, *, jaxpr, name):
    from .interpreters.batching import vmap
    in_axes = tuple(None if d is None else d for d in dims)
    batched = vmap(lambda *xs: eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, *xs), in_axes=in_axes)
    new_jaxpr, consts = trace_to_jaxpr(lambda *xs: batched(*xs), [get_aval(a) for a in args])
    outs = pjit_p.bind(*args, name=name, jaxpr=ClosedJaxpr(new_jaxpr, consts))
    return outs, [0] * len(outs)


@pjit_p.def_transpose
def _pjit_transpose(cts, *args, jaxpr, name):
    from .interpreters.ad import backward_pass
    linear = [core.is_undefined_primal(a) for a in args]
    if not all(linear):
        raise NotImplementedError("transposing a partially linear pjit")
    return backward_pass(jaxpr.jaxpr, jaxpr.consts, cts)


def compiled_program(jaxpr: ClosedJaxpr, name: str):
    """The backend program for ``jaxpr``, compiled on first use and kept on the jaxpr."""
    program = getattr(jaxpr, "_program", None)
    if program is None:
        from .backends import cpu
        start = time.perf_counter()
        flat = inline_calls(jaxpr.jaxpr)
        program = cpu.Program(flat, list(jaxpr.consts) + getattr(flat, "_extra_consts", []))
        jaxpr._program = program
        if config.jax_log_compiles:
            logger.warning("Finished compiling %s in %.3f s%s", name, time.perf_counter() - start,
                           " (machine code loaded from the native cache)" if program.native else "")
    return program


def _is_inlined(primitive) -> bool:
    """Is this a call (jit, custom_jvp/vjp) that is spliced into its caller before compiling?"""
    from .custom_derivatives import custom_jvp_call_p, custom_vjp_call_p
    return primitive in (pjit_p, custom_jvp_call_p, custom_vjp_call_p)


def inline_calls(jaxpr: core.Jaxpr) -> core.Jaxpr:
    """Splice nested pjit equations (jit inside jit) into one flat program, for better fusion."""
    if not any(_is_inlined(e.primitive) for e in jaxpr.eqns):
        return jaxpr
    eqns, constvars, rename = [], list(jaxpr.constvars), {}

    def sub(v):
        return rename.get(id(v), v) if isinstance(v, core.Var) else v

    extra_consts = []
    for eqn in jaxpr.eqns:
        if not _is_inlined(eqn.primitive):
            eqns.append(core.JaxprEqn(eqn.primitive, [sub(v) for v in eqn.inputs], eqn.params,
                                      eqn.outputs))
            continue
        if eqn.primitive is pjit_p:
            inner = inline_calls(eqn.params["jaxpr"].jaxpr)
            inner_consts = eqn.params["jaxpr"].consts
        else:  # custom_jvp_call / custom_vjp_call: at run time, just the body
            inner, inner_consts = inline_calls(eqn.params["call_jaxpr"]), []
        local = {}
        for v, c in zip(inner.constvars, inner_consts):
            nv = core.Var(v.aval)
            constvars.append(nv)
            extra_consts.append(c)
            local[id(v)] = nv
        for v, outer in zip(inner.invars, eqn.inputs):
            local[id(v)] = sub(outer)
        for ie in inner.eqns:
            outs = [core.Var(o.aval) for o in ie.outputs]
            for o, n in zip(ie.outputs, outs):
                local[id(o)] = n
            eqns.append(core.JaxprEqn(ie.primitive, [local.get(id(v), v) if isinstance(v, core.Var)
                                                     else v for v in ie.inputs], ie.params, outs))
        for o, inner_out in zip(eqn.outputs, inner.outvars):
            rename[id(o)] = local.get(id(inner_out), inner_out) if isinstance(inner_out, core.Var) \
                else inner_out
    flat = core.Jaxpr(constvars, jaxpr.invars, eqns, [sub(v) for v in jaxpr.outvars])
    flat._extra_consts = extra_consts
    return flat


# ---------------------------------------------------------------------------
# The user-facing wrapper
# ---------------------------------------------------------------------------
class _CacheEntry:
    __slots__ = ("jaxpr", "out_tree")

    def __init__(self, jaxpr, out_tree):
        self.jaxpr, self.out_tree = jaxpr, out_tree


def _hashable_static(value, where):
    try:
        hash(value)
    except TypeError:
        raise ValueError(
            f"Non-hashable static arguments are not supported. An error occurred while trying to "
            f"hash an object of type {type(value).__name__}, {value!r}, passed as {where}. jit "
            f"caches one compiled program per static value, so static values must be hashable: "
            f"pass a tuple instead of a list, or make the argument non-static.") from None
    return value


class JittedFunction:
    """What ``jit(f)`` returns: callable, with ``lower`` for inspecting the compiled program."""

    def __init__(self, fun, static_argnums=(), static_argnames=(), donate_argnums=()):
        functools.update_wrapper(self, fun)
        if not hasattr(self, "__name__"):   # a functools.partial or a callable object
            self.__name__ = getattr(type(fun), "__name__", "function")
        self._fun = fun
        self._static_argnums = _as_tuple(static_argnums)
        self._static_argnames = _as_tuple(static_argnames)
        self._cache: dict = {}
        self._fast: dict = {}
        self.cache_hits = self.cache_misses = 0
        import inspect  # (imported here: it is slow to import, and only jit needs it)
        try:
            self._signature = inspect.signature(fun)
        except (TypeError, ValueError):
            self._signature = None

    # -- signature and tracing ------------------------------------------------------------------
    def _split(self, args, kwargs):
        nargs = len(args)
        static_nums = tuple(i % nargs if i < 0 else i for i in self._static_argnums if -nargs <= i < nargs)
        static_names = set(self._static_argnames)
        if self._signature is not None:
            params = list(self._signature.parameters)
            for i in self._static_argnums:   # a static positional argument passed by keyword
                if -len(params) <= i < len(params):
                    static_names.add(params[i])
            for name in self._static_argnames:
                if name in params and params.index(name) < nargs:
                    static_nums += (params.index(name),)
        static_pos = {i: _hashable_static(args[i], f"static argument {i}") for i in set(static_nums)}
        static_kw = {k: _hashable_static(v, f"static argument {k!r}") for k, v in kwargs.items()
                     if k in static_names}
        dyn_args = tuple(a for i, a in enumerate(args) if i not in static_pos)
        dyn_kwargs = {k: v for k, v in kwargs.items() if k not in static_kw}
        return static_pos, static_kw, dyn_args, dyn_kwargs, nargs

    def _entry(self, args, kwargs):
        static_pos, static_kw, dyn_args, dyn_kwargs, nargs = self._split(args, kwargs)
        leaves, in_tree = tree_flatten((dyn_args, dyn_kwargs))
        avals = tuple(abstractify(x) for x in leaves)
        key = (in_tree, avals, tuple(sorted(static_pos.items())), tuple(sorted(static_kw.items())),
               config.jax_enable_x64)   # (x64 changes the dtypes tracing produces)
        entry = self._cache.get(key)
        if entry is not None:
            self.cache_hits += 1
            return entry, leaves
        self.cache_misses += 1
        if config.jax_log_compiles:
            logger.warning("Compiling %s for %s%s (%s)", self.__name__,
                           ", ".join(a.str_short() for a in avals),
                           f", static {dict(static_pos, **static_kw)}" if static_pos or static_kw
                           else "", self._retrace_reason(key))

        def fun_with_statics(*dyn, **kw):
            it = iter(dyn)
            full = [static_pos[i] if i in static_pos else next(it) for i in range(nargs)]
            return self._fun(*full, **kw, **static_kw)

        flat_fun, out_tree = flatten_fun(fun_with_statics, in_tree)
        jaxpr, consts = trace_to_jaxpr(flat_fun, list(avals))
        entry = self._cache[key] = _CacheEntry(ClosedJaxpr(jaxpr, consts), out_tree())
        return entry, leaves

    def _retrace_reason(self, key):
        if not self._cache:
            return "first call"
        old = next(reversed(self._cache))
        if old[0] != key[0]:
            return "new argument structure"
        if old[1] != key[1]:
            changes = [f"{a.str_short()} -> {b.str_short()}" for a, b in zip(old[1], key[1]) if a != b]
            return "new shapes/dtypes: " + ", ".join(changes)
        if old[4] != key[4]:
            return f"jax_enable_x64 is now {key[4]}"
        return "new static argument values"

    # -- calling ----------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        # The hot path, inlined: positional Arrays only, nothing traced, no static arguments.
        # Its key is exactly what ``_fast_key`` builds for such calls.
        if not kwargs and len(core.trace_stack) == 1 and core.dynamic_trace is None \
                and not (self._static_argnums or self._static_argnames):
            key = [_x64_flag.value, None]
            for a in args:
                if type(a) is not ArrayImpl:
                    break
                key.append(a._aval or a.aval)
            else:
                run = self._fast.get(tuple(key))
                if run is not None:
                    self.cache_hits += 1
                    return run(args)
        fast = self._fast_key(args, kwargs)
        fast_key = None
        if fast is not None:
            fast_key, leaves = fast
            run = self._fast.get(fast_key)
            if run is not None:
                self.cache_hits += 1
                return run(leaves)
        entry, leaves = self._entry(args, kwargs)
        outs = pjit_p.bind(*leaves, name=self.__name__, jaxpr=entry.jaxpr)
        if fast_key is not None:
            self._fast[fast_key] = _fast_runner(entry, self.__name__)
        return tree_unflatten(entry.out_tree, outs)

    def _fast_key(self, args, kwargs):
        """A cheap cache key for the common call: Arrays only, nothing traced, nothing static.

        Returns None when the full path (pytrees, tracers, statics) is needed.
        """
        if kwargs or self._static_argnums or self._static_argnames or not core.nothing_traced():
            return None
        leaves, tree = args, None
        for a in args:
            if type(a) is not ArrayImpl:   # a pytree (dict of params, ...)
                leaves, tree = tree_flatten(args)
                break
        key = [_x64_flag.value, tree]   # 64-bit mode changes what tracing produces
        for a in leaves:
            if type(a) is not ArrayImpl:
                return None
            key.append(a._aval or a.aval)   # an Array's aval is computed once, hash cached
        return tuple(key), leaves

    def lower(self, *args, **kwargs):
        """Trace for these arguments and return a ``Lowered`` (``.as_text()``, ``.compile()``)."""
        entry, _ = self._entry(args, kwargs)
        return Lowered(entry, self.__name__)

    def trace(self, *args, **kwargs):
        entry, _ = self._entry(args, kwargs)
        return Traced(entry, self.__name__)

    def clear_cache(self):
        self._cache.clear()
        self._fast.clear()

    def _cache_size(self):
        return len(self._cache)

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return functools.partial(self, obj)

    def __repr__(self):
        return f"<minijax.jit of {getattr(self._fun, '__qualname__', self._fun)}>"


class Traced:
    def __init__(self, entry, name):
        self._entry, self._name = entry, name

    @property
    def jaxpr(self):
        return self._entry.jaxpr

    def lower(self):
        return Lowered(self._entry, self._name)


class Lowered:
    """A traced program ready to compile; ``as_text()`` shows the generated numba source."""

    def __init__(self, entry, name):
        self._entry, self._name = entry, name

    @property
    def jaxpr(self):
        return self._entry.jaxpr

    def as_text(self) -> str:
        return compiled_program(self._entry.jaxpr, self._name).as_text()

    def compile(self):
        program = compiled_program(self._entry.jaxpr, self._name)
        return Compiled(self._entry, program)


class Compiled:
    """A compiled program; call it with arguments of the traced shapes and dtypes."""

    def __init__(self, entry, program):
        self._entry, self._program = entry, program

    def as_text(self):
        return self._program.as_text()

    def __call__(self, *args, **kwargs):
        import numpy as np
        from .array import wrap_output
        leaves, _ = tree_flatten((args, kwargs))
        outs = self._program(*[np.asarray(x) for x in leaves])
        outs = [wrap_output(o, a) for o, a in zip(outs, self._entry.jaxpr.out_avals)]
        return tree_unflatten(self._entry.out_tree, outs)




def _fast_runner(entry, name):
    """Call the compiled program directly on the Arrays' buffers (no tracing machinery)."""
    program = compiled_program(entry.jaxpr, name)
    avals = entry.jaxpr.out_avals
    tree = entry.out_tree
    if tree.num_leaves == 1 and tree.node is None:   # f returns one array: no pytree to rebuild
        (aval,) = avals

        def run(args):
            return wrap_output(program(*[a._value for a in args])[0], aval)
        return run

    def run(args):
        outs = program(*[a._value for a in args])
        return tree_unflatten(tree, [wrap_output(o, a) for o, a in zip(outs, avals)])
    return run


def _as_tuple(x):
    if x is None:
        return ()
    if isinstance(x, (int, str)):
        return (x,)
    return tuple(x)


def jit(fun=None, *, static_argnums=(), static_argnames=(), donate_argnums=(), **unused):
    """Compile ``fun`` with the CPU backend; usable as ``jit(f)``, ``@jit`` or ``@partial(jit, ...)``."""
    if fun is None:
        return functools.partial(jit, static_argnums=static_argnums,
                                 static_argnames=static_argnames, donate_argnums=donate_argnums)
    if not callable(fun):
        raise TypeError(f"Expected a callable value, got {fun!r}")
    return JittedFunction(fun, static_argnums, static_argnames, donate_argnums)
