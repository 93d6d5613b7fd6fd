"""The core: primitives, traces and tracers, abstract values, and the Jaxpr IR.

How a minijax program runs
--------------------------
Every operation in ``minijax.numpy`` ends in ``some_primitive.bind(*args)``.
``bind`` asks: *who is interpreting right now?* The answer is a **trace**.
Traces form a stack. At the bottom sits the eval trace, which simply runs the
primitive's NumPy ``impl``. Each transformation (``jvp``, ``vmap``, ``jit`` /
``make_jaxpr``) pushes a new trace and wraps the values it follows in
**tracers**. ``bind`` picks the highest-level trace among its arguments, lifts
all arguments into it, and lets that trace process the primitive -- usually by
applying one of the primitive's rules and calling ``bind`` again on the trace
below. That is the whole dispatch story; it is why transformations compose in
any order.

A primitive keeps all of its rules on itself (impl, abstract_eval, jvp,
transpose, batch, lowerings), so one module per primitive family explains
everything about those operations.
"""
from __future__ import annotations

import itertools
from contextlib import contextmanager
from typing import Any, Callable

import numpy as np

from . import dtypes
from .. import errors


# ---------------------------------------------------------------------------
# Abstract values
# ---------------------------------------------------------------------------
class ShapedArray:
    """What a tracer knows about a value: its shape, dtype and weak-typedness."""

    __slots__ = ("shape", "dtype", "weak_type", "_hash")

    def __init__(self, shape, dtype, weak_type=False):
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.weak_type = bool(weak_type)
        self._hash = None

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: int(np.prod(self.shape, dtype=np.int64)))

    def update(self, shape=None, dtype=None, weak_type=None):
        return ShapedArray(self.shape if shape is None else shape,
                           self.dtype if dtype is None else dtype,
                           self.weak_type if weak_type is None else weak_type)

    def str_short(self):
        return f"{dtypes.short_name(self.dtype)}[{','.join(map(str, self.shape))}]"

    def __eq__(self, other):
        return (isinstance(other, ShapedArray) and self.shape == other.shape
                and self.dtype == other.dtype and self.weak_type == other.weak_type)

    def __hash__(self):
        h = self._hash
        if h is None:   # avals are immutable and used as dictionary keys on every eager op
            h = self._hash = hash((self.shape, self.dtype, self.weak_type))
        return h

    def __repr__(self):
        weak = ", weak_type=True" if self.weak_type else ""
        return f"ShapedArray({self.str_short()}{weak})"


def get_aval(x) -> ShapedArray:
    """The abstract value of anything that can be an operand."""
    aval = getattr(x, "aval", None)
    if aval is not None:
        return aval
    if dtypes.is_python_scalar(x):  # Python scalars are weakly typed -- except bool, as in JAX
        return ShapedArray((), dtypes.dtype_of_scalar(x), weak_type=not isinstance(x, bool))
    if isinstance(x, (np.ndarray, np.generic)):
        return ShapedArray(np.shape(x), dtypes.canonicalize(x.dtype))
    raise TypeError(f"Value {x!r} of type {type(x).__name__} is not a valid minijax type.")


# ---------------------------------------------------------------------------
# Primitives
# ---------------------------------------------------------------------------
class Primitive:
    """A named operation with the rules every interpreter needs.

    ``impl(*np_arrays, **params)``      concrete evaluation with NumPy
    ``abstract_eval(*avals, **params)`` output shape/dtype (a ShapedArray, or a list if
                                         ``multiple_results``)
    ``jvp(primals, tangents, **params)`` forward-mode rule -> (primals_out, tangents_out)
    ``transpose(cts, *args, **params)``  for primitives linear in some inputs; ``args`` holds
                                         ``UndefinedPrimal`` for the linear ones
    ``batch(args, dims, **params)``      vmap rule -> (outs, out_dims)
    ``lowerings[platform]``              code generators for the jit backends
    """

    def __init__(self, name: str, multiple_results: bool = False):
        self.name = name
        self.multiple_results = multiple_results
        self.impl: Callable | None = None
        self.abstract_eval: Callable | None = None
        self.jvp: Callable | None = None
        self.transpose: Callable | None = None
        self.batch: Callable | None = None
        self.lowerings: dict[str, Any] = {}
        self.not_differentiable: str | None = None
        # Optional: how partial evaluation (reverse mode) handles this primitive when some inputs
        # are unknown -- used by control flow, whose bodies must be split or inlined.
        self.partial_eval: Callable | None = None
        # True when ``jvp`` handles symbolic ``Zero`` tangents itself (others get real zeros).
        self.jvp_accepts_zeros = False

    def __repr__(self):
        return self.name

    def bind(self, *args, **params):
        if len(trace_stack) == 1 and dynamic_trace is None:
            # Nothing is being traced: evaluate eagerly without the trace machinery.
            # (eval_primitive hands a leaked tracer back to bind_with_trace, which reports it.)
            return eval_primitive(self, args, params)
        return self.bind_with_trace(args, params)

    def bind_with_trace(self, args, params):
        """The general ``bind``: let the highest trace among ``args`` process this primitive."""
        trace = find_top_trace(args)
        tracers = [trace.full_raise(a) for a in args]
        outs = trace.process_primitive(self, tracers, params)
        if self.multiple_results:
            return [full_lower(o) for o in outs]
        return full_lower(outs)

    # Decorator-style registration, so a rule can sit right below its primitive.
    def def_impl(self, f):
        self.impl = f
        return f

    def def_abstract_eval(self, f):
        self.abstract_eval = f
        return f

    def def_jvp(self, f):
        self.jvp = f
        return f

    def def_transpose(self, f):
        self.transpose = f
        return f

    def def_batch(self, f):
        self.batch = f
        return f

    def def_lowering(self, platform):
        def register(f):
            self.lowerings[platform] = f
            return f
        return register


# ---------------------------------------------------------------------------
# The trace stack
# ---------------------------------------------------------------------------
class MainTrace:
    """One level of the interpreter stack; ``global_data`` is per-transformation state."""

    def __init__(self, level, trace_type, global_data=None):
        self.level = level
        self.trace_type = trace_type
        self.global_data = global_data
        self.active = True

    def __repr__(self):
        return f"MainTrace({self.level}, {self.trace_type.__name__})"


trace_stack: list[MainTrace] = []
dynamic_trace: MainTrace | None = None


@contextmanager
def new_main(trace_type, global_data=None, dynamic=False):
    """Push a trace for the duration of a ``with`` block.

    A *dynamic* main (used when staging a program into a Jaxpr) catches every
    ``bind``, even of constants that no tracer touches, so nothing is evaluated
    eagerly behind the trace's back.
    """
    global dynamic_trace
    main = MainTrace(len(trace_stack), trace_type, global_data)
    trace_stack.append(main)
    prev_dynamic = dynamic_trace
    if dynamic:
        dynamic_trace = main
    try:
        yield main
    finally:
        dynamic_trace = prev_dynamic
        trace_stack.pop()
        main.active = False


class Trace:
    """An interpreter. Subclasses say how to wrap values and process primitives."""

    def __init__(self, main: MainTrace):
        self.main = main

    def pure(self, val):
        raise NotImplementedError

    def lift(self, tracer):
        return self.pure(tracer)

    def full_raise(self, val):
        if not isinstance(val, Tracer):
            return self.pure(val)
        if not val._trace.main.active:
            raise errors.UnexpectedTracerError(val)
        level = val._trace.main.level
        if val._trace.main is self.main:
            return val
        if level < self.main.level:
            return self.lift(val)
        raise errors.UnexpectedTracerError(val)

    def process_primitive(self, primitive, tracers, params):
        raise NotImplementedError

    def process_custom_jvp_call(self, fun, jvp, tracers):
        """How this trace handles a ``custom_jvp`` function: by default, just run it."""
        del jvp
        return fun(*tracers)

    def process_custom_vjp_call(self, fun, fwd, bwd, tracers, out_tree_thunk=None):
        del fwd, bwd
        return fun(*tracers)


class EvalTrace(Trace):
    """The bottom of the stack: run ``impl`` on NumPy arrays, wrap results as Arrays."""

    def pure(self, val):
        return val

    lift = pure

    def process_primitive(self, primitive, args, params):
        return eval_primitive(primitive, args, params)


_abstract_eval_cache: dict = {}


def eval_primitive(primitive, args, params):
    """Eager evaluation: the NumPy ``impl``, with outputs typed exactly as ``abstract_eval`` says.

    Shape/dtype rules are pure functions of the input types, so their results are memoized:
    an eager ``x + y`` costs a dictionary lookup, not a rerun of the typing rules. This is the
    hot path of every eager operation, so it gathers avals and buffers in one pass.
    """
    impl = primitive.impl
    if impl is None:
        raise NotImplementedError(f"primitive {primitive.name} has no eager implementation")
    avals, values = [], []
    for a in args:
        if type(a) is _ArrayImpl:
            avals.append(a._aval or a.aval)
            values.append(a._value)
        elif isinstance(a, Tracer):   # leaked from a finished transformation: report it
            return primitive.bind_with_trace(args, params)
        else:
            avals.append(get_aval(a))
            values.append(to_numpy(a))
    if params:
        try:
            key = (primitive, *avals, *params.items())
            avals_out = _abstract_eval_cache.get(key)
        except TypeError:  # an unhashable parameter: skip the memo
            key = avals_out = None
    else:
        key = (primitive, *avals)
        avals_out = _abstract_eval_cache.get(key)
    if avals_out is None:
        avals_out = primitive.abstract_eval(*avals, **params)
        if key is not None and len(_abstract_eval_cache) < 4096:
            _abstract_eval_cache[key] = avals_out
    outs = impl(*values, **params)
    if primitive.multiple_results:
        return [wrap_output(o, a) for o, a in zip(outs, avals_out)]
    return wrap_output(outs, avals_out)


# Set by array.py, which sits above core: the concrete array type and its two converters.
_ArrayImpl = to_numpy = wrap_output = None


trace_stack.append(MainTrace(0, EvalTrace))


def nothing_traced() -> bool:
    """True when no transformation is active: values are concrete and bind evaluates eagerly."""
    return len(trace_stack) == 1 and dynamic_trace is None


def find_top_trace(args) -> Trace:
    top = trace_stack[0]
    for x in args:
        if isinstance(x, Tracer):
            main = x._trace.main
            if not main.active:
                raise errors.UnexpectedTracerError(x)
            if main.level > top.level:
                top = main
    if dynamic_trace is not None and dynamic_trace.level > top.level:
        top = dynamic_trace
    return top.trace_type(top)


def full_lower(val):
    return val.full_lower() if isinstance(val, Tracer) else val


# ---------------------------------------------------------------------------
# Tracers
# ---------------------------------------------------------------------------
from .array_methods import ArrayMethods  # noqa: E402  (needs nothing above; placed here for reading order)


class Tracer(ArrayMethods):
    """A stand-in for an array while a transformation follows it.

    Tracers support every operator and method that Arrays have (they share
    ``ArrayMethods``), so user code cannot tell them apart -- until it asks for
    a concrete value, which is where the teaching errors come from.
    """

    __array_priority__ = 1000
    _trace: Trace

    @property
    def aval(self) -> ShapedArray:
        raise NotImplementedError

    shape = property(lambda self: self.aval.shape)
    dtype = property(lambda self: self.aval.dtype)
    ndim = property(lambda self: self.aval.ndim)
    size = property(lambda self: self.aval.size)
    weak_type = property(lambda self: self.aval.weak_type)

    def full_lower(self):
        return self

    def concrete_value(self):
        """The concrete value behind this tracer, if one exists (e.g. the primal of a JVP tracer)."""
        return None

    def _concrete_or(self, error):
        value = self.concrete_value()
        if value is None:
            raise error(self)
        return value

    def __bool__(self):
        return bool(self._concrete_or(errors.TracerBoolConversionError))

    def __int__(self):
        value = self.concrete_value()
        if value is None:
            raise errors.ConcretizationTypeError(
                self, "The problem arose with the `int` function. If trying to convert the data "
                      "type of a value, try using `x.astype(int)` or `jnp.array(x, int)` instead.\n")
        return int(value)

    def __index__(self):
        return self._concrete_or(errors.TracerIntegerConversionError).__index__()

    def __float__(self):
        value = self.concrete_value()
        if value is None:
            raise errors.ConcretizationTypeError(
                self, "The problem arose with the `float` function. If trying to convert the data "
                      "type of a value, try using `x.astype(float)` instead.\n")
        return float(value)

    def __complex__(self):
        return complex(self._concrete_or(errors.ConcretizationTypeError))

    def __array__(self, dtype=None, copy=None):
        raise errors.TracerArrayConversionError(self)

    def item(self, *args):
        return self._concrete_or(errors.ConcretizationTypeError).item(*args)

    def tolist(self):
        return self._concrete_or(errors.ConcretizationTypeError).tolist()

    def __repr__(self):
        return f"Traced<{self.aval.str_short()}>with<{type(self._trace).__name__}>"


def concrete_or_error(x, context: str = ""):
    """Return a NumPy value for ``x`` or raise ConcretizationTypeError explaining ``context``."""
    if isinstance(x, Tracer):
        value = x.concrete_value()
        if value is None:
            raise errors.ConcretizationTypeError(x, context + "\n" if context else "")
        return np.asarray(value)
    return np.asarray(x)


# ---------------------------------------------------------------------------
# The Jaxpr IR: a typed, first-order program of primitive applications
# ---------------------------------------------------------------------------
class Var:
    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval


class Literal:
    """A scalar constant written inline in a jaxpr (``2.0:f32[]``)."""

    __slots__ = ("val", "aval")

    def __init__(self, val, aval: ShapedArray):
        self.val = val
        self.aval = aval


class JaxprEqn:
    __slots__ = ("primitive", "inputs", "params", "outputs")

    def __init__(self, primitive, inputs, params, outputs):
        self.primitive, self.inputs, self.params, self.outputs = primitive, inputs, params, outputs


class Jaxpr:
    """``{ lambda constvars ; invars . let eqns in outvars }``"""

    def __init__(self, constvars, invars, eqns, outvars):
        self.constvars, self.invars = list(constvars), list(invars)
        self.eqns, self.outvars = list(eqns), list(outvars)

    in_avals = property(lambda self: [v.aval for v in self.invars])
    out_avals = property(lambda self: [v.aval for v in self.outvars])

    def __repr__(self):
        return pretty_print(self)


class ClosedJaxpr:
    """A Jaxpr together with the values of its constvars."""

    def __init__(self, jaxpr: Jaxpr, consts):
        self.jaxpr, self.consts = jaxpr, list(consts)

    in_avals = property(lambda self: self.jaxpr.in_avals)
    out_avals = property(lambda self: self.jaxpr.out_avals)
    eqns = property(lambda self: self.jaxpr.eqns)

    def __repr__(self):
        return pretty_print(self.jaxpr)

    def __call__(self, *args):
        return eval_jaxpr(self.jaxpr, self.consts, *args)


def _var_names():
    letters = "abcdefghijklmnopqrstuvwxyz"
    for n in itertools.count(1):
        for chars in itertools.product(letters, repeat=n):
            yield "".join(chars)


def _format_param(value, names, indent):
    if isinstance(value, (Jaxpr, ClosedJaxpr)):
        inner = value.jaxpr if isinstance(value, ClosedJaxpr) else value
        return pretty_print(inner, names, indent + 2)
    if isinstance(value, np.dtype):
        return value.name
    if isinstance(value, tuple) and value and isinstance(value[0], (Jaxpr, ClosedJaxpr)):
        pad = " " * (indent + 2)
        parts = [pad + _format_param(v, names, indent + 2) for v in value]
        return "(\n" + "\n".join(parts) + "\n" + " " * indent + ")"
    if callable(value) and not isinstance(value, type):
        return getattr(value, "__name__", repr(value))
    return str(value)


def pretty_print(jaxpr: Jaxpr, names=None, indent=0) -> str:
    """Print like JAX: one equation per line, ``name:dtype[shape]`` binders."""
    names = {} if names is None else names
    fresh = _var_names()

    def name(v):
        if isinstance(v, Literal):
            val = v.val.item() if hasattr(v.val, "item") else v.val
            if isinstance(val, bool):
                text = str(val)
            elif isinstance(val, float):
                text = repr(val)
            else:
                text = str(val)
            return f"{text}:{v.aval.str_short()}"
        if v not in names:
            taken = set(names.values())
            candidate = next(fresh)
            while candidate in taken:
                candidate = next(fresh)
            names[v] = candidate
        return names[v]

    def binder(v):
        return f"{name(v)}:{v.aval.str_short()}"

    pad = " " * indent
    consts = " ".join(binder(v) for v in jaxpr.constvars)
    args = " ".join(binder(v) for v in jaxpr.invars)
    lines = [f"{{ lambda {consts}; {args}. let"]
    for eqn in jaxpr.eqns:
        outs = " ".join(binder(v) for v in eqn.outputs) or "_"
        params = ""
        if eqn.params:
            params = "[" + " ".join(
                f"{k}={_format_param(v, names, indent + 4)}" for k, v in eqn.params.items()) + "]"
        ins = " ".join(name(v) for v in eqn.inputs)
        lines.append(f"{pad}    {outs} = {eqn.primitive.name}{params} {ins}".rstrip())
    outvars = ", ".join(name(v) for v in jaxpr.outvars)
    trailing = "," if len(jaxpr.outvars) == 1 else ""
    lines.append(f"{pad}  in ({outvars}{trailing}) }}")
    return "\n".join(lines)


def eval_jaxpr(jaxpr: Jaxpr, consts, *args):
    """Interpret a Jaxpr by binding each equation's primitive on the current trace stack.

    Because it uses ``bind``, evaluating a jaxpr under ``grad`` or ``vmap`` differentiates
    or batches it: a jaxpr is just another Python function.
    """
    env: dict[Var, Any] = {}

    def read(v):
        return v.val if isinstance(v, Literal) else env[v]

    if len(args) != len(jaxpr.invars):
        raise TypeError(f"jaxpr expects {len(jaxpr.invars)} arguments, got {len(args)}")
    env.update(zip(jaxpr.constvars, consts))
    env.update(zip(jaxpr.invars, args))
    for eqn in jaxpr.eqns:
        outs = eqn.primitive.bind(*map(read, eqn.inputs), **eqn.params)
        if not eqn.primitive.multiple_results:
            outs = [outs]
        env.update(zip(eqn.outputs, outs))
    return [read(v) for v in jaxpr.outvars]


# ---------------------------------------------------------------------------
# Transposition needs to know which inputs of a linear function are unknown
# ---------------------------------------------------------------------------
class Zero:
    """A tangent known to be zero, with no array behind it (a *symbolic* zero).

    Forward mode starts every value that does not depend on the inputs with a Zero tangent;
    a primitive whose tangent inputs are all Zero needs no derivative work at all, and rules
    that opt in (``Primitive.jvp_accepts_zeros``) drop the terms a Zero would cancel.
    """

    __slots__ = ("aval",)

    def __init__(self, aval):
        self.aval = aval

    def __repr__(self):
        return f"Zero({self.aval})"


def is_zero(x) -> bool:
    return type(x) is Zero


class UndefinedPrimal:
    """Marks the linear input of a primitive being transposed: only its aval is known."""

    __slots__ = ("aval",)

    def __init__(self, aval):
        self.aval = aval

    def __repr__(self):
        return f"UndefinedPrimal({self.aval})"


def is_undefined_primal(x) -> bool:
    return isinstance(x, UndefinedPrimal)
