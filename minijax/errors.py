"""Errors that teach.

Each error says what happened, why JAX forbids it, and how to fix it. The
class names match ``jax.errors`` so ``except jax.errors.X`` works for both.
"""
from __future__ import annotations


class JAXTypeError(TypeError):
    pass


class ConcretizationTypeError(JAXTypeError):
    """A traced value was used where Python needs a real, concrete number."""

    def __init__(self, tracer, context: str = ""):
        super().__init__(
            f"Abstract tracer value encountered where concrete value is expected: {_describe(tracer)}\n"
            f"{context}"
            "While tracing (under jit, vmap, or make_jaxpr), values are abstract: only their shape "
            "and dtype are known, not their contents, so Python cannot decide anything that depends "
            "on them.\n"
            "How to fix it: express value-dependent logic with minijax.lax.cond / lax.switch / "
            "jnp.where, loops with lax.fori_loop / lax.while_loop / lax.scan, or mark the argument "
            "static with jit(f, static_argnums=...) so it stays a Python value.")


class TracerBoolConversionError(ConcretizationTypeError):
    """``if x:`` / ``bool(x)`` on a traced value."""

    def __init__(self, tracer):
        JAXTypeError.__init__(
            self,
            f"Attempted boolean conversion of traced array with shape {_shape(tracer)}.\n"
            f"The value is a tracer ({_describe(tracer)}): under jit/vmap its contents are not known "
            "while Python runs your function, so `if`, `while`, `and`, `or` and `not` cannot look "
            "at it.\n"
            "How to fix it: choose between values with jnp.where(cond, a, b) or "
            "lax.cond(pred, true_fun, false_fun, *operands); loop with lax.while_loop; or pass the "
            "deciding argument as static: jit(f, static_argnums=(i,)).")


class TracerIntegerConversionError(ConcretizationTypeError):
    """``int(x)``, ``range(x)`` or using a tracer as a Python index."""

    def __init__(self, tracer):
        JAXTypeError.__init__(
            self,
            f"The __index__() method was called on traced array with shape {_shape(tracer)}.\n"
            f"The value is a tracer ({_describe(tracer)}), so it has no concrete integer value while "
            "Python runs your function; it cannot size a range(), index a Python list, or become an "
            "int().\n"
            "How to fix it: mark the argument static with jit(f, static_argnums=(i,)), loop with "
            "lax.fori_loop(0, n, body, init), or index arrays with traced integers directly "
            "(x[i] works under jit).")


class TracerArrayConversionError(JAXTypeError):
    """``np.asarray(tracer)``: NumPy cannot see inside a trace."""

    def __init__(self, tracer):
        super().__init__(
            f"The numpy.ndarray conversion method __array__() was called on traced array with shape "
            f"{_shape(tracer)} ({_describe(tracer)}).\n"
            "NumPy functions run eagerly on concrete data and cannot be recorded into a trace.\n"
            "How to fix it: use minijax.numpy (import minijax.numpy as jnp) instead of numpy inside "
            "functions you transform, e.g. jnp.sin(x) instead of np.sin(x).")


class UnexpectedTracerError(Exception):
    """A tracer escaped the transformation that created it (a 'leaked tracer')."""

    def __init__(self, tracer):
        super().__init__(
            f"Encountered an unexpected tracer: {_describe(tracer)}.\n"
            "A tracer created inside a transformed function (jit, grad, vmap, ...) was stored "
            "outside it -- in a global, a list, or an attribute -- and used after the "
            "transformation finished. Its trace no longer exists, so the value has no meaning.\n"
            "How to fix it: return every value you need from the transformed function instead of "
            "storing it on the side; keep functions pure.")


class NonConcreteBooleanIndexError(JAXTypeError):
    def __init__(self, tracer):
        super().__init__(
            f"Array boolean indices must be concrete; got {_describe(tracer)}.\n"
            "Boolean-mask indexing produces an array whose size depends on the data, and shapes must "
            "be known while tracing.\n"
            "How to fix it: use jnp.where(mask, x, 0) to keep the shape, or jnp.sum(x, where=mask) "
            "for reductions.")


class KeyReuseError(RuntimeError):
    pass


def _shape(tracer):
    return getattr(getattr(tracer, "aval", None), "shape", "?")


def _describe(tracer):
    aval = getattr(tracer, "aval", None)
    kind = type(tracer).__name__
    return f"{kind}<{aval.str_short() if aval is not None else '?'}>"
