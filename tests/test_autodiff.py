"""Autodiff: every lax primitive's derivative, compositions, higher order, and the grad API.

Oracles: central finite differences (float64, under the ``x64`` fixture), the
transpose identity <u, J v> = <J^T u, v>, closed-form derivatives, and real JAX
when it is installed.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minijax
import minijax.numpy as jnp
from minijax import lax
from minijax.test_util import check_grads

# ---------------------------------------------------------------------------
# A table of every differentiable lax function: how to call it, and on what.
# Each entry: name -> (function of the lax module and the inputs, input maker).
# Inputs are chosen away from kinks and outside singularities.
# ---------------------------------------------------------------------------


def _u(lo, hi, shape=(3,)):
    return lambda rng: [rng.uniform(lo, hi, shape)]


def _uu(lo1, hi1, lo2, hi2, shape=(3,)):
    return lambda rng: [rng.uniform(lo1, hi1, shape), rng.uniform(lo2, hi2, shape)]


def _away_from_integers(rng):
    return [np.array([-1.7, -0.3, 0.4, 1.2, 2.6])]


def _distinct_pair(rng):
    x = rng.uniform(-2, 2, (4,))
    return [x, x + np.array([0.5, -0.5, 0.7, -0.9])]


UNARY = {name: (lambda lax_, x, n=name: getattr(lax_, n)(x), dom) for name, dom in {
    "sin": _u(-3, 3), "cos": _u(-3, 3), "tan": _u(-1.2, 1.2), "asin": _u(-0.9, 0.9),
    "acos": _u(-0.9, 0.9), "atan": _u(-3, 3), "sinh": _u(-2, 2), "cosh": _u(-2, 2),
    "tanh": _u(-2, 2), "asinh": _u(-3, 3), "acosh": _u(1.2, 3), "atanh": _u(-0.9, 0.9),
    "exp": _u(-2, 2), "exp2": _u(-2, 2), "expm1": _u(-2, 2), "log": _u(0.3, 3),
    "log1p": _u(-0.5, 3), "sqrt": _u(0.3, 3), "rsqrt": _u(0.3, 3), "cbrt": _u(0.3, 3),
    "logistic": _u(-3, 3), "erf": _u(-2, 2), "erfc": _u(-2, 2), "erf_inv": _u(-0.8, 0.8),
    "lgamma": _u(0.5, 4), "digamma": _u(0.5, 4), "abs": _away_from_integers, "neg": _u(-3, 3),
    "square": _u(-3, 3), "reciprocal": _u(0.5, 3), "tan": _u(-1.2, 1.2),
}.items()}

BINARY = {name: (lambda lax_, x, y, n=name: getattr(lax_, n)(x, y), dom) for name, dom in {
    "add": _uu(-2, 2, -2, 2), "sub": _uu(-2, 2, -2, 2), "mul": _uu(-2, 2, -2, 2),
    "div": _uu(-2, 2, 0.5, 2), "pow": _uu(0.5, 2, -2, 2), "atan2": _uu(-2, 2, 0.5, 2),
    "max": _distinct_pair, "min": _distinct_pair, "rem": _uu(2.1, 2.4, 0.7, 0.9),
}.items()}

OTHER = {
    "integer_pow": (lambda lax_, x: lax_.integer_pow(x, 3), _u(-2, 2)),
    "integer_pow_neg": (lambda lax_, x: lax_.integer_pow(x, -2), _u(0.5, 2)),
    "select_n": (lambda lax_, x, y: lax_.select_n(lax_.gt(x, 0.0), x, lax_.sin(y)),
                 _uu(-2, 2, -2, 2)),
    "clamp": (lambda lax_, x: lax_.clamp(-1.0, x, 1.0), lambda rng: [np.array([-1.5, -0.5, 0.3, 2.0])]),
    "reduce_sum": (lambda lax_, x: lax_.reduce_sum(x, (1,)), _u(-2, 2, (2, 3))),
    "reduce_max": (lambda lax_, x: lax_.reduce_max(x, (0,)), lambda rng: [np.array([[1., 5.], [2., 3.]])]),
    "reduce_min": (lambda lax_, x: lax_.reduce_min(x, (0, 1)), lambda rng: [np.array([[1., 5.], [2., 3.]])]),
    "reduce_prod": (lambda lax_, x: lax_.reduce_prod(x, (1,)), _u(0.5, 2, (2, 3))),
    "broadcast_in_dim": (lambda lax_, x: lax_.broadcast_in_dim(x, (2, 3, 4), (1,)), _u(-2, 2)),
    "reshape": (lambda lax_, x: lax_.reshape(x, (3, 2)), _u(-2, 2, (2, 3))),
    "transpose": (lambda lax_, x: lax_.transpose(x, (1, 0)), _u(-2, 2, (2, 3))),
    "squeeze": (lambda lax_, x: lax_.squeeze(x, (0,)), _u(-2, 2, (1, 3))),
    "expand_dims": (lambda lax_, x: lax_.expand_dims(x, (0, 2)), _u(-2, 2)),
    "rev": (lambda lax_, x: lax_.rev(x, (0,)), _u(-2, 2)),
    "concatenate": (lambda lax_, x, y: lax_.concatenate([x, y, x], 0), _uu(-2, 2, -2, 2)),
    "slice": (lambda lax_, x: lax_.slice(x, (0, 1), (2, 3)), _u(-2, 2, (3, 3))),
    "slice_in_dim": (lambda lax_, x: lax_.slice_in_dim(x, 1, 3, axis=1), _u(-2, 2, (2, 4))),
    "index_in_dim": (lambda lax_, x: lax_.index_in_dim(x, 1, axis=1), _u(-2, 2, (2, 4))),
    "pad": (lambda lax_, x: lax_.pad(x, 0.5, [(1, 2, 1)]), _u(-2, 2)),
    "cumsum": (lambda lax_, x: lax_.cumsum(x, axis=0), _u(-2, 2, (4,))),
    "cumprod": (lambda lax_, x: lax_.cumprod(x, axis=1), _u(0.5, 2, (2, 3))),
    "cummax": (lambda lax_, x: lax_.cummax(x, axis=0), lambda rng: [np.array([0.3, -1., 2., 1.5])]),
    "cummin": (lambda lax_, x: lax_.cummin(x, axis=0), lambda rng: [np.array([0.3, -1., 2., 1.5])]),
    "dot_general": (lambda lax_, x, y: lax_.dot_general(x, y, (((1,), (0,)), ((), ()))),
                    lambda rng: [rng.normal(size=(2, 3)), rng.normal(size=(3, 4))]),
    "dot": (lambda lax_, x, y: lax_.dot(x, y), lambda rng: [rng.normal(size=(2, 3)),
                                                           rng.normal(size=(3,))]),
    "dynamic_slice": (lambda lax_, x: lax_.dynamic_slice(x, (1,), (2,)), _u(-2, 2, (4,))),
    "dynamic_update_slice": (lambda lax_, x, y: lax_.dynamic_update_slice(
        x, lax_.slice(y, (0,), (2,)), (1,)), _uu(-2, 2, -2, 2, (4,))),
    "sort": (lambda lax_, x: lax_.sort(x), lambda rng: [np.array([0.3, -1., 2., 1.5])]),
    "batch_matmul": (lambda lax_, x, y: lax_.batch_matmul(x, y),
                     lambda rng: [rng.normal(size=(2, 2, 3)), rng.normal(size=(2, 3, 2))]),
    "dynamic_slice_in_dim": (lambda lax_, x: lax_.dynamic_slice_in_dim(x, 1, 2, axis=1),
                             _u(-2, 2, (2, 4))),
    "dynamic_index_in_dim": (lambda lax_, x: lax_.dynamic_index_in_dim(x, 2, axis=1, keepdims=False),
                             _u(-2, 2, (2, 4))),
    "dynamic_update_slice_in_dim": (lambda lax_, x, y: lax_.dynamic_update_slice_in_dim(
        x, lax_.mul(y, y), 1, axis=0), lambda rng: [rng.normal(size=(4, 2)), rng.normal(size=(2, 2))]),
    "dynamic_update_index_in_dim": (lambda lax_, x, y: lax_.dynamic_update_index_in_dim(
        x, lax_.sin(y), 2, axis=0), lambda rng: [rng.normal(size=(4, 2)), rng.normal(size=(2,))]),
    # complex numbers in the middle, real inputs and outputs at the ends
    "complex": (lambda lax_, x, y: lax_.real(lax_.mul(lax_.complex(x, y), lax_.complex(y, x))),
                _uu(-2, 2, -2, 2)),
    "real": (lambda lax_, x, y: lax_.real(lax_.exp(lax_.complex(x, y))), _uu(-1, 1, -1, 1)),
    "imag": (lambda lax_, x, y: lax_.imag(lax_.mul(lax_.complex(x, y), lax_.complex(x, y))),
             _uu(-2, 2, -2, 2)),
    "conj": (lambda lax_, x, y: lax_.imag(lax_.mul(lax_.conj(lax_.complex(x, y)), lax_.complex(y, x))),
             _uu(-2, 2, -2, 2)),
}

DIFFERENTIABLE = {**UNARY, **BINARY, **OTHER}

# lax functions whose derivative is zero (or undefined) by nature: checked separately.
ZERO_DERIVATIVE = {"sign", "floor", "ceil", "round", "is_finite", "eq", "ne", "lt", "le", "gt",
                   "ge", "argmax", "argmin", "nextafter"}
# Integer/bool-only or value-free functions: nothing to differentiate.
NOT_DIFFERENTIABLE = {"bitwise_and", "bitwise_not", "bitwise_or", "bitwise_xor", "not_",
                      "population_count", "shift_left", "shift_right_arithmetic",
                      "shift_right_logical", "reduce_and", "reduce_or", "reduce_xor", "iota",
                      "broadcasted_iota", "select", "full", "full_like", "zeros_like_array",
                      "associative_scan", "annotations", "rng_bit_generator", "random_bits",
                      "top_k", "sort_key_val", "cond", "switch", "fori_loop", "while_loop", "scan",
                      "map", "bitcast_convert_type"}
# Checked by their own tests below (test_stop_gradient, test_convert_element_type_*).
SEPARATELY_TESTED = {"stop_gradient", "convert_element_type",
                     "polygamma"}  # tests/test_special.py


def _present(table):
    return sorted(name for name in table if hasattr(lax, name.split("_neg")[0]))


def _lax_function_names():
    return {n for n in dir(lax) if not n.startswith("_") and callable(getattr(lax, n))
            and not isinstance(getattr(lax, n), type)}


def test_every_lax_function_is_classified():
    """A new lax function must be added to the derivative table (or to a non-diff list)."""
    known = set(DIFFERENTIABLE) | ZERO_DERIVATIVE | NOT_DIFFERENTIABLE | SEPARATELY_TESTED
    missing = sorted(_lax_function_names() - known)
    assert not missing, (f"lax functions without a derivative check in tests/test_autodiff.py: "
                         f"{missing}; add them to the table")


@pytest.mark.parametrize("name", _present(DIFFERENTIABLE))
def test_primitive_derivatives_match_finite_differences(name, x64):
    fun, make_args = DIFFERENTIABLE[name]
    args = [np.asarray(a, np.float64) for a in make_args(np.random.default_rng(0))]
    f = lambda *xs: fun(lax, *xs)  # noqa: E731
    check_grads(f, args, order=2)


@pytest.mark.parametrize("name", _present(DIFFERENTIABLE))
def test_primitive_derivatives_match_real_jax(name, real_jax):
    """float32 gradients of sum(f(x) * w) equal real JAX's for the same lax call."""
    fun, make_args = DIFFERENTIABLE[name]
    args = [np.asarray(a, np.float32) for a in make_args(np.random.default_rng(1))]

    def scalar(lax_, jnp_):
        def g(*xs):
            out = fun(lax_, *xs)
            w = jnp_.cos(jnp_.arange(out.size, dtype=jnp_.float32).reshape(out.shape))
            return jnp_.sum(out * w)
        return g

    argnums = tuple(range(len(args)))
    ours = minijax.grad(scalar(lax, jnp), argnums=argnums)(*args)
    theirs = real_jax.jit(real_jax.grad(scalar(real_jax.lax, real_jax.numpy), argnums=argnums))(*args)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("name", sorted(n for n in ZERO_DERIVATIVE if hasattr(lax, n)))
def test_zero_derivative_primitives(name, x64):
    x = np.array([-1.7, -0.3, 0.4, 1.2])
    y = np.array([0.5, -0.3, 2.0, 1.0])
    fn = getattr(lax, name)
    if name in {"eq", "ne", "lt", "le", "gt", "ge", "nextafter"}:
        call = lambda a: fn(a, y)  # noqa: E731
    elif name in {"argmax", "argmin"}:
        call = lambda a: fn(a, 0, np.int32)  # noqa: E731
    else:
        call = fn
    # Used inside a differentiable computation, they contribute nothing to the gradient.
    g = minijax.grad(lambda a: jnp.sum(a * lax.convert_element_type(call(a), np.float64)))(x)
    expected = np.asarray(call(x), np.float64) * np.ones_like(x)
    np.testing.assert_allclose(np.asarray(g), expected)


def test_convert_element_type_up_and_down_cast_derivatives(x64):
    x = np.array([0.3, -1.2, 2.0], np.float32)
    check_grads(lambda a: lax.convert_element_type(a, np.float64) ** 2, (x,), order=2)
    y = np.array([0.3, -1.2, 2.0])
    check_grads(lambda a: lax.convert_element_type(a * 3.0, np.float32), (y,), order=1,
                atol=1e-3, rtol=1e-3)


def test_convert_element_type_gradient_keeps_input_dtype():
    x = jnp.array([1.0, 2.0], dtype=jnp.float32)
    g = minijax.grad(lambda a: jnp.sum(lax.convert_element_type(a, jnp.float16) * 2))(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(np.asarray(g), [2.0, 2.0])


# ---------------------------------------------------------------------------
# Hypothesis: random compositions of elementwise ops and reductions
# ---------------------------------------------------------------------------
_UNARY_OPS = {
    "sin": lax.sin, "cos": lax.cos, "tanh": lax.tanh, "logistic": lax.logistic, "atan": lax.atan,
    "neg": lax.neg, "half_square": lambda x: lax.mul(lax.mul(x, x), 0.5),
    "exp_sin": lambda x: lax.exp(lax.sin(x)), "soft_abs": lambda x: lax.sqrt(lax.add(lax.mul(x, x), 1.0)),
    "log1p_sq": lambda x: lax.log1p(lax.mul(x, x)),
}
_BINARY_OPS = {
    "add": lax.add, "sub": lax.sub, "mul": lax.mul,
    "safe_div": lambda a, b: lax.div(a, lax.add(lax.mul(b, b), 1.0)),
}
_REDUCTIONS = {
    "none": lambda x: x, "sum": lambda x: lax.reduce_sum(x, (0,)),
    "prod": lambda x: lax.reduce_prod(lax.tanh(x), (0,)),
    "broadcast_sum": lambda x: lax.reduce_sum(lax.broadcast_in_dim(x, (2, 3), (1,)), (1,)),
}

_expr = st.recursive(
    st.sampled_from(["x", "y"]),
    lambda sub: st.one_of(
        st.tuples(st.just("u"), st.sampled_from(sorted(_UNARY_OPS)), sub),
        st.tuples(st.just("b"), st.sampled_from(sorted(_BINARY_OPS)), sub, sub)),
    max_leaves=4)


def _evaluate(expr, env):
    if isinstance(expr, str):
        return env[expr]
    if expr[0] == "u":
        return _UNARY_OPS[expr[1]](_evaluate(expr[2], env))
    return _BINARY_OPS[expr[1]](_evaluate(expr[2], env), _evaluate(expr[3], env))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(expr=_expr, reduction=st.sampled_from(sorted(_REDUCTIONS)), seed=st.integers(0, 100))
def test_random_compositions_second_order(expr, reduction, seed):
    minijax.config.update("jax_enable_x64", True)
    try:
        rng = np.random.default_rng(seed)
        x, y = rng.uniform(-1.5, 1.5, (3,)), rng.uniform(-1.5, 1.5, (3,))

        def f(a, b):
            return _REDUCTIONS[reduction](_evaluate(expr, {"x": a, "y": b}))

        check_grads(f, (x, y), order=2)
    finally:
        minijax.config.update("jax_enable_x64", False)


# ---------------------------------------------------------------------------
# jvp / vjp consistency, linearize, higher order
# ---------------------------------------------------------------------------
def _f_vec(x, y):
    return jnp.sin(x) * y + jnp.exp(x * 0.5) / (1.0 + y * y)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vjp_is_transpose_of_jvp(seed, x64):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=4), rng.normal(size=4)
    vx, vy, u = rng.normal(size=4), rng.normal(size=4), rng.normal(size=4)
    _, jv = minijax.jvp(_f_vec, (x, y), (vx, vy))
    _, f_vjp = minijax.vjp(_f_vec, x, y)
    ux, uy = f_vjp(u)
    lhs = float(np.dot(u, np.asarray(jv)))
    rhs = float(np.dot(np.asarray(ux), vx) + np.dot(np.asarray(uy), vy))
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)


def test_linearize_matches_jvp(x64):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=4), rng.normal(size=4)
    out, f_jvp = minijax.linearize(_f_vec, x, y)
    for _ in range(3):
        v = (rng.normal(size=4), rng.normal(size=4))
        expected_out, expected_t = minijax.jvp(_f_vec, (x, y), v)
        np.testing.assert_allclose(np.asarray(f_jvp(*v)), np.asarray(expected_t), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(out), np.asarray(expected_out))


def _nth(f, n):
    for _ in range(n):
        f = minijax.grad(f)
    return f


@pytest.mark.parametrize("x", [-1.3, 0.4, 2.0])
def test_fourth_derivative_of_polynomial_and_sin(x, x64):
    poly = lambda t: 3.0 * t ** 5 - 2.0 * t ** 4 + t ** 2 - 7.0  # noqa: E731
    # d^n/dx^n by hand
    d = [poly(x), 15 * x ** 4 - 8 * x ** 3 + 2 * x, 60 * x ** 3 - 24 * x ** 2 + 2,
         180 * x ** 2 - 48 * x, 360 * x - 48]
    for n in range(1, 5):
        assert float(_nth(poly, n)(x)) == pytest.approx(d[n], rel=1e-12)
    sin_derivs = [math.sin, math.cos, lambda t: -math.sin(t), lambda t: -math.cos(t), math.sin]
    for n in range(1, 5):
        assert float(_nth(jnp.sin, n)(x)) == pytest.approx(sin_derivs[n](x), rel=1e-12, abs=1e-14)


def test_mixed_modes_agree_at_fourth_and_fifth_order(x64):
    """grad-of-grad, jvp-of-grad and jacfwd-of-jacrev are different programs for one derivative."""
    f = lambda t: jnp.exp(jnp.sin(t))  # noqa: E731
    x = 0.7
    g2 = minijax.grad(lambda t: minijax.jvp(minijax.grad(f), (t,), (1.0,))[1])  # third derivative
    fourth_a = _nth(f, 4)(x)
    fourth_b = minijax.jacfwd(minijax.jacrev(g2))(x)  # fifth derivative
    fifth = _nth(f, 5)(x)
    assert float(fourth_b) == pytest.approx(float(fifth), rel=1e-10)
    # the 5th derivative against a central difference of the 4th
    eps = 1e-4
    fd = (float(_nth(f, 4)(x + eps)) - float(_nth(f, 4)(x - eps))) / (2 * eps)
    assert float(fifth) == pytest.approx(fd, rel=1e-6)
    assert np.isfinite(float(fourth_a))


# ---------------------------------------------------------------------------
# Jacobians and Hessians
# ---------------------------------------------------------------------------
def _vector_funs(np_):
    return {
        "affine_sin": lambda x: np_.sin(x) * 2.0 + x,
        "cross_terms": lambda x: np_.stack([x[0] * x[1], np_.exp(x[1]) - x[2], np_.sum(x * x)]),
        "tall": lambda x: np_.stack([np_.sin(x[0]), x[0] * x[0], np_.tanh(x[0] * 3.0), x[0]]),
    }


@pytest.mark.parametrize("name", ["affine_sin", "cross_terms", "tall"])
def test_jacfwd_equals_jacrev_equals_jax(name, real_jax):
    x = np.array([0.3, -1.2, 0.8], np.float32)
    f = _vector_funs(jnp)[name]
    fwd, rev = minijax.jacfwd(f)(x), minijax.jacrev(f)(x)
    assert fwd.shape == rev.shape
    np.testing.assert_allclose(np.asarray(fwd), np.asarray(rev), rtol=1e-6, atol=1e-6)
    expected = real_jax.jit(real_jax.jacfwd(_vector_funs(real_jax.numpy)[name]))(x)
    assert fwd.shape == expected.shape and fwd.dtype == expected.dtype
    np.testing.assert_allclose(np.asarray(fwd), np.asarray(expected), rtol=1e-5, atol=1e-6)


def test_jacobian_against_finite_differences(x64):
    f = lambda x: jnp.stack([x[0] * jnp.sin(x[1]), x[1] ** 3, jnp.exp(x[0] - x[1])])  # noqa: E731
    x = np.array([0.4, 1.1])
    jac = np.asarray(minijax.jacobian(f)(x))
    eps = 1e-6
    fd = np.stack([(np.asarray(f(x + eps * e)) - np.asarray(f(x - eps * e))) / (2 * eps)
                   for e in np.eye(2)], axis=1)
    np.testing.assert_allclose(jac, fd, rtol=1e-7, atol=1e-8)


def test_hessian_symmetric_and_matches_jax(real_jax):
    def f(np_):
        return lambda x: np_.sum(np_.sin(x) * x[0]) + x[1] ** 2 * x[2] + np_.prod(np_.cos(x))
    x = np.array([0.3, -0.7, 1.1], np.float32)
    if not hasattr(jnp, "prod"):
        pytest.skip("jnp.prod not available yet")
    h = np.asarray(minijax.hessian(f(jnp))(x))
    np.testing.assert_allclose(h, h.T, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(h, np.asarray(real_jax.jit(real_jax.hessian(f(real_jax.numpy)))(x)), rtol=1e-5,
                               atol=1e-5)


def test_hessian_of_quadratic_form(x64):
    a = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, -1.0], [0.0, -1.0, 4.0]])
    f = lambda x: 0.5 * jnp.sum(x * jnp.sum(a * x, axis=1))  # noqa: E731  (x^T A x / 2)
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(np.asarray(minijax.hessian(f)(x)), (a + a.T) / 2, rtol=1e-12)


_PYTREE_CASES = {
    "dict_in_dict_out": (lambda np_: lambda d: {"o": d["a"] * d["b"], "p": (jnp_sin(np_)(d["a"]),)},
                         lambda np_: ({"a": np_.array([1.0, 2.0]), "b": np_.array(3.0)},)),
    "tuple_in_list_out": (lambda np_: lambda t: [t[0] * t[1][0], t[1][1] - t[0]],
                          lambda np_: ((np_.array([0.5, -1.0]), [np_.array(2.0), np_.array([1.0, 4.0])]),)),
}


def jnp_sin(np_):
    return np_.sin


@pytest.mark.parametrize("case", sorted(_PYTREE_CASES))
@pytest.mark.parametrize("which", ["jacfwd", "jacrev", "hessian_like"])
def test_pytree_jacobian_layout_matches_jax(case, which, real_jax):
    make_f, make_args = _PYTREE_CASES[case]

    def run(mod, np_):
        f = make_f(np_)
        args = make_args(np_)
        if which == "hessian_like":
            jac = mod.jacfwd(mod.jacrev(lambda *a: mod.tree_util.tree_leaves(f(*a))[0]))
        else:
            jac = getattr(mod, which)(f)
        return mod.jit(jac)(*args) if mod is not minijax else jac(*args)  # jit: fast oracle

    ours, theirs = run(minijax, jnp), run(real_jax, real_jax.numpy)
    o_leaves, o_tree = minijax.tree_util.tree_flatten(ours)
    t_leaves, t_tree = real_jax.tree_util.tree_flatten(theirs)
    assert str(o_tree) == str(t_tree)
    for a, b in zip(o_leaves, t_leaves):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)


def test_hessian_of_dict_matches_jax(real_jax):
    def f(np_):
        return lambda d: np_.sum(d["w"] ** 2) * d["b"] + np_.sum(np_.sin(d["w"]))
    params = {"w": np.array([1.0, -2.0], np.float32), "b": np.float32(0.5)}
    ours = minijax.hessian(f(jnp))(params)
    theirs = real_jax.jit(real_jax.hessian(f(real_jax.numpy)))(params)
    assert str(minijax.tree_util.tree_structure(ours)) == str(real_jax.tree_util.tree_structure(theirs))
    for a, b in zip(minijax.tree_util.tree_leaves(ours), real_jax.tree_util.tree_leaves(theirs)):
        assert a.shape == b.shape
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)


# ---------------------------------------------------------------------------
# The grad API: argnums, has_aux, allow_int, kwargs, weak types, errors
# ---------------------------------------------------------------------------
def test_grad_of_python_scalar_is_weakly_typed():
    g = minijax.grad(lambda x: x ** 2)(3.0)
    assert repr(g) == "Array(6., dtype=float32, weak_type=True)"
    g32 = minijax.grad(lambda x: x ** 2)(jnp.float32(3.0))
    assert repr(g32) == "Array(6., dtype=float32)"


def test_grad_dtype_follows_input(x64):
    assert minijax.grad(lambda x: x * 2.0)(np.float32(1.0)).dtype == np.float32
    assert minijax.grad(lambda x: x * 2.0)(np.float64(1.0)).dtype == np.float64


def test_argnums_int_tuple_negative():
    f = lambda x, y, z: x * y ** 2 + z ** 3  # noqa: E731
    assert float(minijax.grad(f)(1.0, 2.0, 3.0)) == 4.0
    assert float(minijax.grad(f, argnums=1)(1.0, 2.0, 3.0)) == 4.0
    assert float(minijax.grad(f, argnums=-1)(1.0, 2.0, 3.0)) == 27.0
    gx, gz = minijax.grad(f, argnums=(0, 2))(1.0, 2.0, 3.0)
    assert (float(gx), float(gz)) == (4.0, 27.0)
    single_tuple = minijax.grad(f, argnums=(1,))(1.0, 2.0, 3.0)
    assert isinstance(single_tuple, tuple) and len(single_tuple) == 1


def test_argnums_out_of_range_is_type_error():
    with pytest.raises(TypeError, match="argnums=2 requires at least 3 positional arguments"):
        minijax.grad(lambda x, y: x * y, argnums=2)(1.0, 2.0)


def test_kwargs_are_passed_through_undifferentiated():
    f = lambda x, scale=1.0: scale * x ** 2  # noqa: E731
    assert float(minijax.grad(f)(3.0, scale=10.0)) == 60.0
    assert float(minijax.value_and_grad(f)(3.0, scale=2.0)[0]) == 18.0


def test_has_aux_grad_and_value_and_grad():
    def loss(w):
        pred = w * 3.0
        return (pred - 1.0) ** 2, {"pred": pred}
    g, aux = minijax.grad(loss, has_aux=True)(2.0)
    assert float(g) == 30.0 and float(aux["pred"]) == 6.0
    (value, aux2), g2 = minijax.value_and_grad(loss, has_aux=True)(2.0)
    assert float(value) == 25.0 and float(aux2["pred"]) == 6.0 and float(g2) == 30.0


def test_has_aux_requires_a_pair():
    with pytest.raises(TypeError, match="has_aux"):
        minijax.grad(lambda x: x * 2.0, has_aux=True)(1.0)


def test_value_and_grad_matches_jax(real_jax):
    def f(np_):
        return lambda x, y: np_.sum(np_.tanh(x) * y)
    x, y = np.array([0.5, -1.0], np.float32), np.array([2.0, 3.0], np.float32)
    (v, (gx, gy)) = minijax.value_and_grad(f(jnp), argnums=(0, 1))(x, y)
    (rv, (rgx, rgy)) = real_jax.jit(real_jax.value_and_grad(f(real_jax.numpy), argnums=(0, 1)))(x, y)
    np.testing.assert_allclose(float(v), float(rv), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(gx), np.asarray(rgx), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(gy), np.asarray(rgy), rtol=1e-6)


def test_non_scalar_output_error_message():
    with pytest.raises(TypeError) as info:
        minijax.grad(lambda x: x * 2.0)(jnp.array([1.0, 2.0]))
    assert str(info.value) == ("Gradient only defined for scalar-output functions. "
                               "Output had shape: (2,).")


def test_integer_input_error_explains_allow_int():
    with pytest.raises(TypeError, match="allow_int") as info:
        minijax.grad(lambda x: x * 2)(3)
    assert "int32" in str(info.value) and "float" in str(info.value)


def test_allow_int_gives_float0_zero():
    gi, gf = minijax.grad(lambda i, x: i * x, argnums=(0, 1), allow_int=True)(3, 2.0)
    assert gi.dtype == minijax._src.api.float0 and gi.shape == ()
    assert float(gf) == 3.0


def test_integer_output_is_rejected():
    with pytest.raises(TypeError, match="real-valued outputs"):
        minijax.grad(lambda x: lax.convert_element_type(x, np.int32))(1.5)


def test_stop_gradient():
    g = minijax.grad(lambda x: lax.stop_gradient(x) * x + lax.stop_gradient(x ** 2))(3.0)
    assert float(g) == 3.0


def test_grad_works_with_python_control_flow():
    """Under grad values are concrete, so `if x > 0` is fine (unlike under jit/vmap)."""
    def relu_ish(x):
        if x > 0:
            return x ** 2
        return -x
    assert float(minijax.grad(relu_ish)(3.0)) == 6.0
    assert float(minijax.grad(relu_ish)(-3.0)) == -1.0
    assert float(minijax.grad(minijax.grad(relu_ish))(3.0)) == 2.0


def test_vjp_has_aux_and_structure():
    out, f_vjp, aux = minijax.vjp(lambda x, y: (x * y, {"s": x + y}), 2.0, 5.0, has_aux=True)
    assert float(out) == 10.0 and float(aux["s"]) == 7.0
    gx, gy = f_vjp(1.0)
    assert (float(gx), float(gy)) == (5.0, 2.0)
    with pytest.raises(TypeError, match="structure"):
        f_vjp((1.0, 2.0))


def test_jvp_argument_checks():
    with pytest.raises(TypeError, match="tuples or lists"):
        minijax.jvp(jnp.sin, 1.0, 1.0)
    with pytest.raises(ValueError, match="shapes"):
        minijax.jvp(jnp.sin, (jnp.ones(3),), (jnp.ones(2),))
    with pytest.raises(TypeError, match="tree structure"):
        minijax.jvp(lambda a, b: a * b, (1.0, 2.0), (1.0,))


def test_jvp_tangent_weak_type_follows_primal_output(real_jax):
    for mod, np_ in ((minijax, jnp), (real_jax, real_jax.numpy)):
        _, t = mod.jvp(lambda x: x * 2.0, (2.0,), (np_.float32(1.0),))
        assert t.weak_type is True
        _, t = mod.jvp(lambda x: x * np_.float32(2.0), (2.0,), (1.0,))
        assert t.weak_type is False


def test_grad_of_dict_of_params(x64):
    params = {"w": np.array([[1.0, -2.0], [0.5, 3.0]]), "b": np.array([0.1, -0.2])}
    x = np.array([0.3, -0.7])

    def loss(p):
        y = jnp.tanh(jnp.sum(p["w"] * x, axis=1) + p["b"])
        return jnp.sum(y ** 2)

    g = minijax.grad(loss)(params)
    assert set(g) == {"w", "b"}
    assert g["w"].shape == (2, 2) and g["b"].shape == (2,)
    check_grads(loss, (params,), order=2)
    # one gradient-descent step lowers the loss
    new = minijax.tree_util.tree_map(lambda p, d: p - 0.1 * d, params, g)
    assert float(loss(new)) < float(loss(params))


def test_grad_of_list_and_tuple_inputs():
    g = minijax.grad(lambda l: l[0] * l[1][0] + l[1][1])([2.0, (3.0, 4.0)])
    assert isinstance(g, list) and isinstance(g[1], tuple)
    assert [float(g[0]), float(g[1][0]), float(g[1][1])] == [3.0, 2.0, 1.0]


def test_grad_of_constant_function_is_zero():
    assert float(minijax.grad(lambda x: 1.0)(2.0)) == 0.0
    assert float(minijax.grad(lambda x, y: y, argnums=0)(2.0, 3.0)) == 0.0


def test_constants_carry_symbolic_zero_tangents():
    # d/dx (2x) at x = inf is 2: the constant's tangent is a symbolic zero, never 0 * inf = nan.
    assert float(minijax.grad(lambda x: 2.0 * x)(jnp.inf)) == 2.0
    assert float(minijax.grad(lambda x: jnp.sum(jnp.ones(3) @ (x * jnp.ones((3, 3)))))(jnp.inf)) == 9.0
    # A value that does not depend on the input costs no derivative work at all.
    jaxpr = minijax.make_jaxpr(minijax.grad(lambda x: x * jnp.sin(jnp.ones(3)).sum()))(1.0)
    assert "cos" not in str(jaxpr)


def test_jit_grad_skips_products_with_zero_tangents():
    def loss(w, x):
        return jnp.sum(jnp.tanh(x @ w))
    jaxpr = minijax.make_jaxpr(minijax.grad(loss))(jnp.ones((4, 3)), jnp.ones((2, 4)))
    # forward matmul + the two cotangent products for w; none for the constant x
    assert str(jaxpr).count("dot_general") == 2
