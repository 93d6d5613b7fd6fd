"""jit: compiled results equal eager ones; caching, static arguments, inspection, disk cache."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import minijax as jax
import minijax.numpy as jnp
from minijax import lax

pytest.importorskip("numba")

RNG = np.random.default_rng(0)
X = jnp.array(RNG.uniform(-2, 2, size=(7, 5)).astype(np.float32))
POS = jnp.array(RNG.uniform(0.1, 3, size=(7, 5)).astype(np.float32))
INTS = jnp.array(RNG.integers(-20, 20, size=(7, 5)).astype(np.int32))
NONZERO_INTS = jnp.array(np.where(np.asarray(INTS) == 0, 3, np.asarray(INTS)).astype(np.int32))

UNARY_FLOAT = ["neg", "sin", "cos", "tan", "exp", "exp2", "expm1", "tanh", "logistic", "sinh",
               "cosh", "atan", "asinh", "floor", "ceil", "round", "sign", "abs", "square",
               "is_finite", "erf", "erfc", "stop_gradient"]
UNARY_POSITIVE = ["log", "log1p", "sqrt", "rsqrt", "cbrt", "acosh"]
BINARY_FLOAT = ["add", "sub", "mul", "div", "rem", "max", "min", "atan2", "eq", "ne", "lt", "le",
                "gt", "ge"]
BINARY_INT = ["add", "sub", "mul", "div", "rem", "max", "min", "bitwise_and", "bitwise_or",
              "bitwise_xor", "eq", "lt"]


def assert_same(compiled, eager, rtol=2e-6, atol=1e-6):
    assert compiled.dtype == eager.dtype, (compiled.dtype, eager.dtype)
    assert compiled.shape == eager.shape
    np.testing.assert_allclose(np.asarray(compiled), np.asarray(eager), rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", UNARY_FLOAT)
def test_unary_float_primitives_match_eager(name):
    fn = getattr(lax, name)
    assert_same(jax.jit(fn)(X), fn(X))


@pytest.mark.parametrize("name", UNARY_POSITIVE)
def test_unary_positive_domain_primitives_match_eager(name):
    fn = getattr(lax, name)
    x = POS + 1.0 if name == "acosh" else POS
    assert_same(jax.jit(fn)(x), fn(x))


@pytest.mark.parametrize("name", BINARY_FLOAT)
def test_binary_float_primitives_match_eager(name):
    fn = getattr(lax, name)
    assert_same(jax.jit(fn)(X, POS), fn(X, POS))


@pytest.mark.parametrize("name", BINARY_INT)
def test_binary_int_primitives_match_eager(name):
    fn = getattr(lax, name)
    assert_same(jax.jit(fn)(INTS, NONZERO_INTS), fn(INTS, NONZERO_INTS))


@pytest.mark.parametrize("axes", [(0,), (1,), (0, 1)])
@pytest.mark.parametrize("name", ["reduce_sum", "reduce_max", "reduce_min", "reduce_prod"])
def test_reductions_fused_with_producers_match_eager(name, axes):
    fn = getattr(lax, name)

    def f(x):
        return fn(lax.mul(lax.sin(x), 1.5), axes)
    assert_same(jax.jit(f)(X), f(X), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_arg_reductions(name):
    fn = getattr(lax, name)
    assert_same(jax.jit(lambda x: fn(x, 1))(X), fn(X, 1))
    assert_same(jax.jit(lambda x: fn(x, 0))(X), fn(X, 0))


def test_float32_stays_float32_with_python_literals():
    def f(x):
        return x * 0.1 + 3 - jnp.exp(x) / 7.0
    out = jax.jit(f)(X)
    assert out.dtype == np.float32
    assert_same(out, f(X), rtol=1e-5)


def test_weak_type_of_output_is_preserved():
    out = jax.jit(lambda x: x * 2)(3.0)
    assert repr(out) == "Array(6., dtype=float32, weak_type=True)"


def test_broadcasting_and_mixed_shapes():
    row = jnp.arange(5.0)
    col = jnp.arange(7.0).reshape(7, 1)
    f = lambda a, b, c: jnp.tanh(a * b + c) - 1.0
    assert_same(jax.jit(f)(X, row, col), f(X, row, col))


def test_row_logsumexp_matches_numpy():
    def logsumexp(x):
        m = jnp.max(x, axis=1, keepdims=True)
        return jnp.log(jnp.sum(jnp.exp(x - m), axis=1)) + m[:, 0]
    x = np.asarray(X)
    expected = np.log(np.exp(x - x.max(1, keepdims=True)).sum(1)) + x.max(1)
    np.testing.assert_allclose(np.asarray(jax.jit(logsumexp)(X)), expected, rtol=1e-5)


def test_matmul_and_pytrees():
    params = {"w": jnp.ones((5, 3)), "b": jnp.arange(3.0)}

    def f(p, x):
        return {"out": jnp.tanh(x @ p["w"] + p["b"]), "n": x.shape[0]}
    got, want = jax.jit(f)(params, X), f(params, X)
    assert_same(got["out"], want["out"], rtol=1e-5)
    assert int(got["n"]) == 7


def test_cache_hits_and_misses():
    f = jax.jit(lambda x: x + 1)
    f(jnp.ones(3))
    f(jnp.zeros(3))
    f(jnp.ones(4))
    f(jnp.ones(4, dtype=jnp.int32))
    assert (f.cache_misses, f.cache_hits) == (3, 1)
    assert f._cache_size() == 3


def test_trace_runs_python_side_effects_once():
    calls = []

    @jax.jit
    def f(x):
        calls.append(1)
        return x * 2
    f(1.0)
    f(2.0)
    f(3.0)
    assert len(calls) == 1


def test_static_argnums_and_argnames():
    def power(x, n):
        out = x
        for _ in range(n - 1):
            out = out * x
        return out
    f = jax.jit(power, static_argnums=1)
    assert float(f(2.0, 3)) == 8.0 and float(f(2.0, 4)) == 16.0
    g = jax.jit(power, static_argnames="n")
    assert float(g(2.0, n=5)) == 32.0
    assert f.cache_misses == 2


def test_non_hashable_static_argument_raises_value_error():
    f = jax.jit(lambda x, shape: jnp.reshape(x, shape), static_argnums=1)
    with pytest.raises(ValueError, match="Non-hashable static arguments"):
        f(jnp.ones(4), [2, 2])


def test_python_control_flow_on_traced_value_raises_teaching_error():
    @jax.jit
    def f(x):
        if x > 0:
            return x
        return -x
    with pytest.raises(jax.errors.TracerBoolConversionError, match="lax.cond"):
        f(1.0)


def test_lower_shows_generated_numba_source_and_compile_returns_a_callable():
    f = jax.jit(lambda x: jnp.sin(x) * 2.0 + x)
    lowered = f.lower(X)
    text = lowered.as_text()
    assert "numba.njit" in text and "def kernel_" in text
    assert "np.float64" not in text        # no silent float64 upcast in float32 programs
    compiled = lowered.compile()
    assert_same(compiled(X), jnp.sin(X) * 2.0 + X)


def test_elementwise_chain_is_fused_into_one_kernel():
    f = jax.jit(lambda x: jnp.sin(x) * jnp.exp(-x * x) + 0.5 * jnp.tanh(3 * x))
    text = f.lower(X).as_text()
    assert text.count("def kernel_") == 1
    assert "library call" not in text


def test_log_compiles_reports_each_compile_with_its_reason(caplog):
    f = jax.jit(lambda x: x * 3)
    jax.config.update("jax_log_compiles", True)
    try:
        with caplog.at_level(logging.WARNING, logger="minijax"):
            f(jnp.ones(2))
            f(jnp.ones(2))
            f(jnp.ones(3))
    finally:
        jax.config.update("jax_log_compiles", False)
    messages = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Compiling")]
    assert len(messages) == 2
    assert "first call" in messages[0] and "f32[2] -> f32[3]" in messages[1]


def test_compositions_equal_eager():
    def loss(w, x):
        return jnp.sum(jnp.tanh(x @ w) ** 2)
    w = jnp.ones((5, 2)) * 0.1
    eager = jax.grad(loss)(w, X)
    assert_same(jax.jit(jax.grad(loss))(w, X), eager, rtol=1e-5)
    assert_same(jax.grad(jax.jit(loss))(w, X), eager, rtol=1e-5)
    per_example = jax.vmap(jax.grad(loss), in_axes=(None, 0))(w, X[:, None, :])
    assert_same(jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0)))(w, X[:, None, :]),
                per_example, rtol=1e-5)
    assert_same(jax.vmap(jax.jit(jnp.sin))(X), jnp.sin(X))
    inner = jax.jit(lambda x: x * 2.0)
    assert_same(jax.jit(lambda x: inner(x) + inner(x + 1.0))(X), X * 2.0 + (X + 1.0) * 2.0)


def test_jit_inside_jit_is_inlined_into_one_program():
    inner = jax.jit(lambda x: jnp.sin(x))
    outer = jax.jit(lambda x: inner(x) * 2.0)
    text = outer.lower(X).as_text()
    assert "pjit" not in text and text.count("def kernel_") == 1


def test_scalar_inputs_broadcast_inside_kernels():
    f = jax.jit(lambda x: lax.broadcast_in_dim(x, (3,), ()) * 2.0)
    assert f(np.float32(2.0)).tolist() == [4.0, 4.0, 4.0]


def test_disk_cache_is_reused_by_a_fresh_process(tmp_path):
    script = textwrap.dedent("""
        import minijax as jax, minijax.numpy as jnp
        from minijax._src.backends.cpu import cache_stats
        f = jax.jit(lambda x: jnp.cos(x) * 3.0 - x)
        y = f(jnp.arange(8.0))
        (entry,) = f._cache.values()
        hits, misses = cache_stats(entry.jaxpr._program)
        print(hits, misses, float(y.sum()))
    """)
    env = dict(os.environ, MINIJAX_CACHE_DIR=str(tmp_path))
    first = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert len(list((tmp_path / "kernels").glob("*.py"))) == 1
    second = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    hits1, misses1, value1 = first.stdout.split()
    hits2, misses2, value2 = second.stdout.split()
    assert (int(hits1), int(misses1)) == (0, 1)   # compiled and written to disk
    assert (int(hits2), int(misses2)) == (1, 0)   # loaded from disk, not recompiled
    assert value1 == value2


def test_custom_rules_survive_staging():
    @jax.custom_jvp
    def softplus(x):
        return jnp.log1p(jnp.exp(x))

    @softplus.defjvp
    def softplus_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return softplus(x), t / (1.0 + jnp.exp(-x))

    @jax.custom_vjp
    def clip_gradient(x):
        return x
    clip_gradient.defvjp(lambda x: (x, None), lambda _, g: (jnp.clip(g, -1.0, 1.0),))

    x = jnp.array([100.0, 1.0, -3.0])
    f = lambda x: jnp.sum(softplus(x))
    expected = 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))
    for g in (jax.grad(jax.jit(f)), jax.jit(jax.grad(f))):
        np.testing.assert_allclose(np.asarray(g(x)), expected, rtol=1e-6)   # no NaN at x = 100
    assert "custom_jvp_call" in str(jax.make_jaxpr(f)(x))
    h = lambda x: jnp.sum(clip_gradient(x) * 10.0)
    assert jax.grad(jax.jit(h))(x).tolist() == [1.0, 1.0, 1.0]
    assert float(jax.jit(h)(x)) == float(h(x))


def test_a_kernel_numba_rejects_falls_back_to_numpy_with_a_warning(monkeypatch):
    from minijax._src.backends import cpu_lowerings
    # Sabotage one lowering so the generated source cannot compile.
    monkeypatch.setitem(cpu_lowerings.SCALAR_LOWERINGS, "cosh",
                        lambda e, a, i: f"undefined_function({a[0]})")
    f = jax.jit(lambda x: jnp.cosh(x) * 0.25 + 1.0)
    x = jnp.linspace(-1.0, 1.0, 11)
    with pytest.warns(RuntimeWarning, match="could not compile"):
        out = f(x)
    assert_same(out, jnp.cosh(x) * 0.25 + 1.0)
    assert_same(f(x), jnp.cosh(x) * 0.25 + 1.0)   # stays on the NumPy path, no second warning


def test_output_buffers_are_recycled_only_when_nothing_refers_to_them():
    f = jax.jit(lambda x: x * 2.0 + 1.0)
    big = 1 << 16
    x1, x2 = jnp.ones(big), jnp.full((big,), 3.0)
    y1 = f(x1)
    address = np.asarray(y1).__array_interface__["data"][0]
    y2 = f(x2)                                 # y1 is alive: its buffer must not be reused
    assert float(y1[0]) == 3.0 and float(y2[0]) == 7.0
    assert np.asarray(y2).__array_interface__["data"][0] != address
    del y1
    y3 = f(x1)                                 # y1's buffer is free again: reuse it
    assert np.asarray(y3).__array_interface__["data"][0] == address
    assert float(y3[-1]) == 3.0 and float(y2[-1]) == 7.0


def test_static_argnums_argument_may_be_passed_by_keyword():
    def poly(x, degree):
        return sum(x ** k for k in range(degree + 1))
    f = jax.jit(poly, static_argnums=1)
    assert float(f(2.0, degree=3)) == 15.0
    assert float(f(2.0, 3)) == 15.0


def test_max_and_min_propagate_nan_like_numpy():
    x = np.array([[1.0, np.nan, 3.0], [-0.0, 0.0, -1.0], [np.inf, -np.inf, 2.0]], np.float32)
    f = jax.jit(lambda x: (jnp.max(x, axis=1), jnp.min(x, axis=1), jnp.maximum(x, 0.5),
                           jnp.minimum(x, 0.5)))
    for got, want in zip(f(jnp.asarray(x)), (x.max(1), x.min(1), np.maximum(x, 0.5),
                                             np.minimum(x, 0.5))):
        np.testing.assert_array_equal(np.asarray(got), want)


def test_constant_subexpressions_are_folded_at_compile_time():
    f = jax.jit(lambda x: x * (jnp.ones(3) * 2.0 + 1.0))
    text = f.lower(jnp.ones(3)).as_text()
    assert text.count("def kernel_") == 1 and "np.float32(2.0)" not in text   # ones*2+1 folded
    assert_same(f(jnp.arange(3.0)), jnp.arange(3.0) * 3.0)
    big = jax.jit(lambda x: x + jnp.zeros((200, 200)).sum())   # large constants stay fused
    assert "broadcast" not in big.lower(1.0).as_text().split("# Generated")[0]
    assert float(big(1.0)) == 1.0


def test_random_bits_compile_to_a_numba_loop_and_stay_bit_identical():
    from minijax import random
    key = random.PRNGKey(0)
    samplers = [lambda k: random.uniform(k, (1000,)), lambda k: random.normal(k, (7, 5)),
                lambda k: random.bits(k, (64,)), lambda k: random.split(k, 4),
                lambda k: random.randint(k, (9,), -5, 17)]
    for sample in samplers:
        np.testing.assert_array_equal(np.asarray(jax.jit(sample)(key)), np.asarray(sample(key)))
    text = jax.jit(samplers[0]).lower(key).as_text()
    assert "_threefry2x32_scalar(" in text and "library call: threefry2x32" not in text


@pytest.mark.parametrize("dtype", [np.int32, np.uint32, np.int8, np.uint8])
@pytest.mark.parametrize("name", ["shift_left", "shift_right_logical", "shift_right_arithmetic"])
def test_shifts_match_eager_including_out_of_range_counts(name, dtype):
    op = getattr(lax, name)
    signed = np.dtype(dtype).kind == "i"
    x = np.array([1, -3 if signed else 200, 77, 5, 9, 0], dtype)
    y = np.array([0, 1, 3, 40, -1 if signed else 250, 7], dtype)
    assert_same(jax.jit(op)(x, y), op(x, y))


@pytest.mark.filterwarnings("error")   # a numba refusal (and NumPy fallback) would fail here
@pytest.mark.parametrize("axes", [(0,), (1,), (0, 1)])
@pytest.mark.parametrize("reduce", [jnp.sum, jnp.max, jnp.argmax, jnp.any])
def test_large_reductions_share_work_among_threads_without_races(axes, reduce, monkeypatch):
    from minijax._src.backends import cpu_kernels
    monkeypatch.setattr(cpu_kernels, "PARALLEL_MIN_WORK", 1 << 16)
    # 2**18 elements: the kernels run in parallel. A reduction over every axis is split into
    # per-thread partial results; one over leading axes must not let threads race on outputs.
    x = jnp.asarray(np.random.default_rng(3).standard_normal((1024, 256)).astype(np.float32))
    if reduce is jnp.argmax:   # (takes one axis)
        x, axes = (x, axes[0]) if len(axes) == 1 else (x.reshape(-1), 0)
    if reduce is jnp.any:
        f = lambda x: reduce(x > 3.5, axis=axes)   # noqa: E731
    else:
        f = lambda x: reduce(x * 2.0, axis=axes)   # noqa: E731
    assert_same(jax.jit(f)(x), f(x), rtol=1e-5, atol=1e-3)
    if axes in ((1,), (0, 1), 0) and reduce is not jnp.argmax:   # (the others stay serial)
        assert "prange" in jax.jit(f).lower(x).as_text()


def test_toggling_x64_retraces_like_jax():
    f = jax.jit(lambda x: x + jnp.arange(3))
    x = jnp.ones(3, jnp.int32)
    assert f(x).dtype == np.int32
    jax.config.update("jax_enable_x64", True)
    try:   # same argument, but jnp.arange now makes int64: a new trace is due
        assert f(x).dtype == np.int64
    finally:
        jax.config.update("jax_enable_x64", False)
    assert f(x).dtype == np.int32
