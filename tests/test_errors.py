"""Errors that teach: the right type in the right situation, with what/why/fix in the message."""
from __future__ import annotations

import numpy as np
import pytest

import minijax
import minijax.numpy as jnp
from minijax import errors


def branchy(x):
    if x > 0:
        return x * 2.0
    return -x


def test_python_if_works_under_grad():
    """Values are concrete under grad, so Python control flow on them is fine (as in JAX)."""
    assert float(minijax.grad(branchy)(3.0)) == 2.0
    assert float(minijax.grad(branchy)(-3.0)) == -1.0


@pytest.mark.parametrize("transform", ["make_jaxpr", "vmap"])
def test_bool_conversion_error(transform):
    fn = getattr(minijax, transform)(branchy)
    arg = 3.0 if transform == "make_jaxpr" else jnp.ones(3)
    with pytest.raises(errors.TracerBoolConversionError) as info:
        fn(arg)
    msg = str(info.value)
    assert msg.startswith("Attempted boolean conversion of traced array with shape")
    assert "bool[]" in msg
    assert "jnp.where" in msg and "lax.cond" in msg and "static_argnums" in msg
    # it is also a ConcretizationTypeError and a TypeError, as in JAX
    assert isinstance(info.value, errors.ConcretizationTypeError)
    assert isinstance(info.value, TypeError)


def test_bool_conversion_error_under_vmap_of_grad():
    with pytest.raises(errors.TracerBoolConversionError):
        minijax.vmap(minijax.grad(branchy))(jnp.ones(3))


def test_integer_conversion_error_for_range():
    with pytest.raises(errors.TracerIntegerConversionError) as info:
        minijax.make_jaxpr(lambda n: jnp.zeros(3) * len(range(n)))(3)
    msg = str(info.value)
    assert "__index__" in msg and "int32[]" in msg
    assert "fori_loop" in msg and "static_argnums" in msg


def test_int_of_tracer_is_concretization_error():
    with pytest.raises(errors.ConcretizationTypeError) as info:
        minijax.make_jaxpr(lambda x: x * int(x))(3.0)
    assert "int" in str(info.value)


def test_float_and_item_of_tracer():
    for fn in (lambda x: float(x), lambda x: x.item()):
        with pytest.raises(errors.ConcretizationTypeError) as info:
            minijax.make_jaxpr(fn)(3.0)
        msg = str(info.value)
        assert msg.startswith("Abstract tracer value encountered where concrete value is expected")
        assert "float32[]" in msg and "How to fix it" in msg


def test_numpy_on_tracer_is_array_conversion_error():
    for transform in (minijax.make_jaxpr, minijax.grad):
        with pytest.raises(errors.TracerArrayConversionError) as info:
            transform(lambda x: np.sin(x))(1.0)
        msg = str(info.value)
        assert "__array__()" in msg and "jnp.sin(x) instead of np.sin(x)" in msg


def test_tracer_array_conversion_under_vmap():
    with pytest.raises(errors.TracerArrayConversionError):
        minijax.vmap(lambda x: np.asarray(x) + 1)(jnp.ones(3))


_leaked = []


def _leak(x):
    _leaked.append(x)
    return x * 2.0


@pytest.mark.parametrize("transform", ["make_jaxpr", "vmap", "grad", "jvp"])
def test_leaked_tracer(transform):
    _leaked.clear()
    if transform == "vmap":
        minijax.vmap(_leak)(jnp.ones(3))
    elif transform == "jvp":
        minijax.jvp(_leak, (1.0,), (1.0,))
    else:
        getattr(minijax, transform)(_leak)(1.0)
    (tracer,) = _leaked
    with pytest.raises(errors.UnexpectedTracerError) as info:
        jnp.sin(tracer)
    msg = str(info.value)
    assert "unexpected tracer" in msg and "leaked tracer" in msg
    assert "return every value you need" in msg
    _leaked.clear()


def test_error_classes_mirror_jax(real_jax):
    for name in ["ConcretizationTypeError", "TracerBoolConversionError",
                 "TracerIntegerConversionError", "TracerArrayConversionError",
                 "UnexpectedTracerError", "NonConcreteBooleanIndexError", "KeyReuseError"]:
        ours, theirs = getattr(errors, name), getattr(real_jax.errors, name)
        ours_bases = [c.__name__ for c in ours.__mro__ if c.__name__ != "_JAXErrorMixin"]
        theirs_bases = [c.__name__ for c in theirs.__mro__ if c.__name__ != "_JAXErrorMixin"]
        assert ours_bases == theirs_bases, name


def test_grad_non_scalar_and_integer_messages():
    with pytest.raises(TypeError) as info:
        minijax.grad(lambda x: x * 2.0)(jnp.array([1.0, 2.0]))
    assert str(info.value) == ("Gradient only defined for scalar-output functions. "
                               "Output had shape: (2,).")
    with pytest.raises(TypeError) as info:
        minijax.grad(lambda x: x * 2)(3)
    msg = str(info.value)
    assert "allow_int" in msg and "int32" in msg and "f(3.0)" in msg


def test_errors_match_real_jax_types(real_jax):
    """The same user mistakes raise the same exception types in minijax and JAX."""
    cases = [
        (lambda j, n: j.make_jaxpr(branchy)(3.0)),
        (lambda j, n: j.vmap(branchy)(n.ones(3))),
        (lambda j, n: j.make_jaxpr(lambda k: n.zeros(3) * len(range(k)))(3)),
        (lambda j, n: j.make_jaxpr(lambda x: np.sin(x))(1.0)),
        (lambda j, n: j.grad(lambda x: x * 2.0)(n.ones(2))),
        (lambda j, n: j.grad(lambda x: x * 2)(3)),
    ]
    for case in cases:
        kinds = []
        for mod in (minijax, real_jax):
            with pytest.raises(Exception) as info:
                case(mod, mod.numpy)
            kinds.append(type(info.value).__name__)
        assert kinds[0] == kinds[1]
