"""Errors that teach.

Each error says what happened, why JAX forbids it, and how to fix it. The
class names and base classes match ``jax.errors``, so ``except
jax.errors.TracerBoolConversionError`` (or ``except TypeError``) works for both.

The common cause of the tracer errors: inside ``jit``, ``vmap`` or
``make_jaxpr`` your function runs on *tracers*, stand-ins that know a value's
shape and dtype but not its contents. Anything that needs the contents while
Python runs -- ``if x > 0``, ``int(x)``, ``np.asarray(x)`` -- cannot work there.
(Under plain ``grad`` the values are concrete, so such code works.)
"""
from __future__ import annotations

__all__ = [
    "JAXTypeError", "JAXIndexError", "ConcretizationTypeError", "TracerBoolConversionError",
    "TracerIntegerConversionError", "TracerArrayConversionError", "UnexpectedTracerError",
    "NonConcreteBooleanIndexError", "KeyReuseError",
]


class JAXTypeError(TypeError):
    """Base class of minijax's TypeErrors (as in ``jax.errors``)."""


class JAXIndexError(IndexError):
    """Base class of minijax's IndexErrors (as in ``jax.errors``)."""


_STATIC_HINT = ("mark the argument static, e.g. jit(f, static_argnums=(0,)), so it stays a "
                "Python value")


class ConcretizationTypeError(JAXTypeError):
    """A traced value was used where Python needs a real, concrete number."""

    def __init__(self, tracer, context: str = ""):
        super().__init__(
            f"Abstract tracer value encountered where concrete value is expected: traced array "
            f"with shape {_shape(tracer)} ({_describe(tracer)}).\n"
            f"{context}"
            "What happened: Python needed the actual number inside a traced value (float(x), "
            "x.item(), a shape or an axis computed from x, ...).\n"
            "Why: under jit, vmap and make_jaxpr a value is abstract -- only its shape and dtype "
            "are known while your Python code runs, not its contents.\n"
            "How to fix it: keep the computation in minijax.numpy (x.astype(float) instead of "
            "float(x)); choose with jnp.where or lax.cond; loop with lax.fori_loop / "
            f"lax.while_loop; or {_STATIC_HINT}.")


class TracerBoolConversionError(ConcretizationTypeError):
    """``if x:`` / ``bool(x)`` / ``and``/``or``/``not`` on a traced value."""

    def __init__(self, tracer):
        JAXTypeError.__init__(
            self,
            f"Attempted boolean conversion of traced array with shape {_shape(tracer)}.\n"
            f"What happened: Python's `if`, `while`, `and`, `or` or `not` asked for the truth value "
            f"of a tracer ({_describe(tracer)}).\n"
            "Why: under jit, vmap and make_jaxpr the contents of a value are not known while your "
            "Python code runs, so Python cannot pick a branch. (Under plain grad it works, because "
            "there the values are concrete.)\n"
            "How to fix it: choose between values with jnp.where(cond, a, b), or between functions "
            "with lax.cond(pred, true_fun, false_fun, operand); loop with lax.while_loop; or "
            f"{_STATIC_HINT}.")


class TracerIntegerConversionError(JAXTypeError):
    """``range(x)``, ``list[x]``, ``operator.index(x)`` on a traced value."""

    def __init__(self, tracer):
        super().__init__(
            f"The __index__() method was called on traced array with shape {_shape(tracer)}.\n"
            f"What happened: a tracer ({_describe(tracer)}) was used where Python needs a plain "
            "int: range(x), indexing a Python list or tuple with x, or int(x).\n"
            "Why: under jit, vmap and make_jaxpr the integer's value is not known while your "
            "Python code runs.\n"
            "How to fix it: index arrays (not lists) with traced integers -- x[i] works; loop with "
            f"lax.fori_loop(0, n, body, init); or {_STATIC_HINT}.")


class TracerArrayConversionError(JAXTypeError):
    """``np.asarray(tracer)``, ``np.sin(tracer)``: NumPy cannot see inside a trace."""

    def __init__(self, tracer):
        super().__init__(
            f"The numpy.ndarray conversion method __array__() was called on traced array with "
            f"shape {_shape(tracer)} ({_describe(tracer)}).\n"
            "What happened: a NumPy function (np.sin, np.asarray, ...) received a tracer.\n"
            "Why: NumPy computes immediately on concrete data; it cannot record its work into a "
            "trace, so transformations (grad, jit, vmap) could not see through it.\n"
            "How to fix it: use minijax.numpy inside functions you transform "
            "(import minijax.numpy as jnp; jnp.sin(x) instead of np.sin(x)).")


class UnexpectedTracerError(JAXTypeError):
    """A tracer escaped the transformation that created it (a 'leaked tracer')."""

    def __init__(self, tracer):
        super().__init__(
            f"Encountered an unexpected tracer: {_describe(tracer)} with shape {_shape(tracer)}.\n"
            "What happened: a value created inside a transformed function (jit, grad, vmap, "
            "make_jaxpr, ...) was stored outside it -- in a global, a list, or an attribute -- "
            "and used after the transformation finished (a 'leaked tracer').\n"
            "Why: a tracer only means something while its transformation runs; afterwards there "
            "is no trace left to record or compute with it.\n"
            "How to fix it: return every value you need from the transformed function instead of "
            "storing it on the side; keep transformed functions pure (no side effects).")


class NonConcreteBooleanIndexError(JAXIndexError):
    """``x[mask]`` with a traced boolean mask."""

    def __init__(self, tracer):
        super().__init__(
            f"Array boolean indices must be concrete; got {_describe(tracer)} with shape "
            f"{_shape(tracer)}.\n"
            "Why: boolean-mask indexing makes an array whose size depends on the data, but under "
            "jit and vmap every shape must be known before the data is.\n"
            "How to fix it: keep the shape with jnp.where(mask, x, 0), or reduce with "
            "jnp.sum(x, where=mask).")


class KeyReuseError(JAXTypeError):
    """A PRNG key was used twice (random numbers would repeat)."""


def _shape(tracer):
    """JAX's way of writing an abstract value: ``float32[3,4]``."""
    aval = getattr(tracer, "aval", None)
    if aval is None:
        return "?"
    return f"{aval.dtype.name}[{','.join(map(str, aval.shape))}]"


def _describe(tracer):
    aval = getattr(tracer, "aval", None)
    kind = type(tracer).__name__
    return f"{kind}<{aval.str_short() if aval is not None else '?'}>"
