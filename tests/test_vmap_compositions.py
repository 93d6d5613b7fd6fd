"""vmap composed with everything else, as a matrix; pytrees, in/out axes, errors; no unrolling.

Oracles: a Python loop over the examples (vmap's definition), closed-form derivatives, and
real JAX running the very same code where it is installed.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import minijax
import minijax.numpy as jnp
from minijax import lax

RNG = np.random.default_rng(42)


def loop(f, xs_list, in_axes, out_axis=0):
    """stack([f(*example_i) for i]) -- what vmap(f, in_axes, out_axis)(*xs_list) must equal."""
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(xs_list)
    size = next(np.shape(x)[a] for x, a in zip(xs_list, axes) if a is not None)
    outs = [np.asarray(f(*[x if a is None else jnp.asarray(np.take(np.asarray(x), i, axis=a))
                           for x, a in zip(xs_list, axes)])) for i in range(size)]
    return np.stack(outs, axis=out_axis)


def close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


def count(jaxpr, name):
    """How many equations bind primitive ``name``, looking inside sub-jaxprs too."""
    n = 0
    for eqn in jaxpr.eqns:
        n += eqn.primitive.name == name
        for p in eqn.params.values():
            for sub in (p if isinstance(p, tuple) else (p,)):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    n += count(inner, name)
    return n


# ---------------------------------------------------------------------------
# A small model: logistic regression with an L2 term; per-example loss and its gradient by hand
# ---------------------------------------------------------------------------
def loss(params, x, y):
    w, b = params["w"], params["b"]
    logit = jnp.dot(x, w) + b
    return jnp.logaddexp(0.0, logit) - y * logit + 0.01 * jnp.sum(w * w)


def loss_grad_by_hand(params, x, y):
    w, b = np.asarray(params["w"]), float(params["b"])
    p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
    return {"w": (p - y) * x + 0.02 * w, "b": p - y}


def _data(n=8, d=5, dtype=np.float64):
    params = {"w": RNG.normal(size=(d,)).astype(dtype), "b": dtype(0.3)}
    xs = RNG.normal(size=(n, d)).astype(dtype)
    ys = (RNG.random(n) < 0.5).astype(dtype)
    return params, xs, ys


# ---------------------------------------------------------------------------
# The composition matrix
# ---------------------------------------------------------------------------
def test_vmap_of_grad_per_example_gradients(x64):
    params, xs, ys = _data()
    g = minijax.vmap(minijax.grad(loss), in_axes=(None, 0, 0))(params, xs, ys)
    for i in range(len(xs)):
        want = loss_grad_by_hand(params, xs[i], ys[i])
        close(g["w"][i], want["w"], rtol=1e-12, atol=1e-12)
        close(g["b"][i], want["b"], rtol=1e-12, atol=1e-12)
    assert g["w"].shape == xs.shape and g["b"].shape == ys.shape


def test_grad_of_vmap_is_the_sum_of_per_example_gradients(x64):
    params, xs, ys = _data()
    total = lambda p: jnp.sum(minijax.vmap(loss, in_axes=(None, 0, 0))(p, xs, ys))  # noqa: E731
    g = minijax.grad(total)(params)
    per = [loss_grad_by_hand(params, x, y) for x, y in zip(xs, ys)]
    close(g["w"], sum(p["w"] for p in per), rtol=1e-12)
    close(g["b"], sum(p["b"] for p in per), rtol=1e-12)


def test_vmap_of_vmap_pairwise_distances():
    a = RNG.normal(size=(4, 3)).astype(np.float32)
    b = RNG.normal(size=(5, 3)).astype(np.float32)
    dist = lambda u, v: jnp.sqrt(jnp.sum((u - v) ** 2))  # noqa: E731
    table = minijax.vmap(minijax.vmap(dist, (None, 0)), (0, None))(a, b)
    close(table, np.linalg.norm(a[:, None] - b[None], axis=-1))
    # the inner map on a non-leading axis, the outer map's output on the last axis
    table_t = minijax.vmap(minijax.vmap(dist, (None, 1)), (0, None), out_axes=-1)(a, b.T)
    close(table_t, np.linalg.norm(a[:, None] - b[None], axis=-1).T)


def test_jvp_of_vmap_and_vmap_of_jvp(x64):
    xs, ts = RNG.normal(size=(6, 3)), RNG.normal(size=(6, 3))
    f = lambda v: jnp.tanh(v) * jnp.max(v)  # noqa: E731
    y1, t1 = minijax.jvp(minijax.vmap(f), (xs,), (ts,))
    y2, t2 = minijax.vmap(lambda x, t: minijax.jvp(f, (x,), (t,)))(xs, ts)
    want = []
    for x, t in zip(xs, ts):
        k = np.argmax(x)
        want.append((1 - np.tanh(x) ** 2) * t * x[k] + np.tanh(x) * t[k])
    close(t1, np.stack(want), rtol=1e-12)
    close(t2, np.stack(want), rtol=1e-12)
    close(y1, y2, rtol=1e-15)


@pytest.mark.parametrize("jac", ["jacfwd", "jacrev"])
def test_vmap_of_jacobians(x64, jac):
    xs = RNG.normal(size=(5, 3))
    f = lambda v: jnp.stack([jnp.sin(v[0]) * v[1], jnp.sum(v ** 2), v[2] / (1 + v[0] ** 2)])  # noqa
    jacs = minijax.vmap(getattr(minijax, jac)(f))(xs)
    want = []
    for v in xs:
        a, b, c = v
        want.append([[np.cos(a) * b, np.sin(a), 0.0], [2 * a, 2 * b, 2 * c],
                     [-2 * a * c / (1 + a * a) ** 2, 0.0, 1 / (1 + a * a)]])
    assert jacs.shape == (5, 3, 3)
    close(jacs, np.array(want), rtol=1e-12, atol=1e-12)


def test_jit_of_vmap_of_grad_matches_eager_and_hand(x64):
    params, xs, ys = _data()
    per_example = minijax.vmap(minijax.grad(loss), in_axes=(None, 0, 0))
    jitted = minijax.jit(per_example)
    for _ in range(2):     # second call hits the compile cache
        g = jitted(params, xs, ys)
        want = per_example(params, xs, ys)
        close(g["w"], want["w"], rtol=1e-12)
        close(g["b"], want["b"], rtol=1e-12)
    close(g["w"][3], loss_grad_by_hand(params, xs[3], ys[3])["w"], rtol=1e-12)


def test_vmap_of_jit_and_jit_inside_nested_vmaps():
    xs = RNG.normal(size=(4, 3)).astype(np.float32)
    f = minijax.jit(lambda v: jnp.cumsum(jnp.exp(v)) / jnp.sum(v * v))
    close(minijax.vmap(f)(xs), loop(f, [xs], 0))
    close(minijax.vmap(f, in_axes=1)(xs.T), loop(f, [xs], 0))
    g = minijax.jit(minijax.vmap(lambda a, b: f(a) * b, (0, None)))
    close(minijax.vmap(g, (None, 0))(xs, np.arange(3.0, dtype=np.float32)),
          np.stack([loop(f, [xs], 0) * b for b in range(3)]))
    # the jaxpr of vmap(jit(f)) keeps one pjit call holding the batched body
    jaxpr = minijax.make_jaxpr(minijax.vmap(f))(xs)
    assert count(jaxpr, "pjit") == 1 and count(jaxpr, "exp") == 1


def test_vmap_of_hessian_vector_products(x64):
    xs, vs = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))
    f = lambda x: jnp.sum(jnp.sin(x) * x[0])  # noqa: E731
    hvp = lambda x, v: minijax.jvp(minijax.grad(f), (x,), (v,))[1]  # noqa: E731
    out = minijax.vmap(hvp)(xs, vs)
    close(out, np.stack([np.asarray(minijax.hessian(f)(x)) @ v for x, v in zip(xs, vs)]),
          rtol=1e-12)


# ---------------------------------------------------------------------------
# Pytrees, in_axes / out_axes prefixes
# ---------------------------------------------------------------------------
def test_in_axes_pytree_prefixes_dict_tuple_none():
    ws = RNG.normal(size=(3, 4)).astype(np.float32)
    b = np.float32(0.5)
    xs = RNG.normal(size=(4, 6)).astype(np.float32)     # examples along axis 1

    def f(p, inputs):
        x, scale = inputs
        return jnp.dot(p["w"], x) * scale + p["b"]

    out = minijax.vmap(f, in_axes=({"w": None, "b": None}, (1, None)))(
        {"w": ws, "b": b}, (xs, np.float32(2.0)))
    close(out, np.stack([ws @ xs[:, i] * 2.0 + b for i in range(6)]))
    # None for a whole subtree, an int for the other
    out2 = minijax.vmap(f, in_axes=(None, (1, 0)))({"w": ws, "b": b}, (xs, np.ones(6, np.float32)))
    close(out2, np.stack([ws @ xs[:, i] + b for i in range(6)]))
    # a list of in_axes is accepted like a tuple
    out3 = minijax.vmap(lambda a, c: a * c, in_axes=[0, None])(xs, np.float32(3.0))
    close(out3, xs * 3)


def test_out_axes_pytree_prefixes():
    xs = RNG.normal(size=(5, 2)).astype(np.float32)

    def f(x):
        return {"same": x, "sum": jnp.sum(x)}, (x * 2.0, jnp.float32(1.0))

    d, (t, c) = minijax.vmap(f, out_axes=({"same": 1, "sum": 0}, (-1, None)))(xs)
    close(d["same"], xs.T)
    close(d["sum"], xs.sum(1))
    close(t, (2 * xs).T)
    assert c.shape == () and float(c) == 1.0


def test_out_axes_none_for_unbatched_outputs_and_its_error():
    xs = jnp.ones((4, 3))
    y, k = minijax.vmap(lambda v: (v + 1.0, jnp.arange(3)), out_axes=(0, None))(xs)
    assert y.shape == (4, 3) and k.shape == (3,)
    with pytest.raises(ValueError, match="out_axes"):
        minijax.vmap(lambda v: (v, v), out_axes=(0, None))(xs)


def test_axis_size_with_all_none_in_axes():
    c = jnp.arange(3.0)
    out = minijax.vmap(lambda v: v * 2.0, in_axes=None, axis_size=4)(c)
    assert out.shape == (4, 3)
    close(out, np.tile(np.arange(3.0) * 2, (4, 1)))
    out2 = minijax.vmap(lambda: jnp.float32(7.0), axis_size=2)()
    close(out2, [7.0, 7.0])


def test_vmap_preserves_weak_types_and_dtypes():
    out = minijax.vmap(lambda v: v * 2.0)(jnp.arange(3.0, dtype=jnp.float32))
    assert out.dtype == np.float32 and not out.weak_type
    weak = minijax.vmap(lambda v: v * 2, in_axes=None, axis_size=3)(1.5)
    assert weak.dtype == jnp.ones(()).dtype and weak.weak_type
    ints = minijax.vmap(lambda v: v // 2)(jnp.arange(4))
    assert ints.dtype == jnp.arange(4).dtype


# ---------------------------------------------------------------------------
# Errors: sizes per argument, bad in_axes
# ---------------------------------------------------------------------------
def test_mismatched_sizes_lists_every_argument():
    with pytest.raises(ValueError) as info:
        minijax.vmap(lambda a, b, c: a + b + c, in_axes=(0, 1, None))(
            jnp.ones((3, 2)), jnp.ones((2, 4)), jnp.ones(2))
    msg = str(info.value)
    assert "inconsistent sizes" in msg
    assert "size 3" in msg and "size 4" in msg
    assert "(3, 2)" in msg and "(2, 4)" in msg


@pytest.mark.parametrize("kwargs, args, exc, pattern", [
    (dict(in_axes=2), (np.ones((2, 3)),), ValueError, "axis 2"),
    (dict(in_axes=-3), (np.ones((2, 3)),), ValueError, "axis -3"),
    (dict(in_axes=0), (1.0,), ValueError, "rank"),
    (dict(in_axes=(0,)), (np.ones(2), np.ones(2)), ValueError, "len"),
    (dict(in_axes=1.5), (np.ones(2),), TypeError, "in_axes"),
    (dict(in_axes="0"), (np.ones(2),), TypeError, "in_axes"),
    (dict(in_axes=({"y": 0},)), ({"x": np.ones(2)},), ValueError, "prefix"),
    (dict(in_axes=None), (np.ones(2),), ValueError, "axis_size"),
])
def test_bad_in_axes_errors(kwargs, args, exc, pattern):
    with pytest.raises(exc, match=pattern):
        minijax.vmap(lambda *a: a[0], **kwargs)(*args)


def test_bad_axes_leaves_and_out_axes_errors():
    """Non-int leaves are TypeErrors (as in JAX); an out_axes entry past the output's rank and an
    axis_size that disagrees with the mapped axes are ValueErrors, never silently wrapped."""
    with pytest.raises(TypeError, match="in_axes"):
        minijax.vmap(lambda a, b: a, in_axes=(0, 1.5))(np.ones(2), np.ones(2))
    with pytest.raises(TypeError, match="out_axes"):
        minijax.vmap(lambda a: a, out_axes=1.5)(np.ones(2))
    with pytest.raises(ValueError, match="out_axes"):
        minijax.vmap(lambda a: a, out_axes=2)(np.ones(3))
    with pytest.raises(ValueError, match="axis_size"):
        minijax.vmap(lambda a: a, axis_size=4)(np.ones(3))


def test_mismatched_sizes_names_the_pytree_leaf():
    with pytest.raises(ValueError) as info:
        minijax.vmap(lambda a, p: a + p["w"][0], in_axes=(0, {"w": 1}))(
            jnp.ones(3), {"w": jnp.ones((2, 5))})
    assert "['w']" in str(info.value) and "size 5" in str(info.value)


def test_keyword_arguments_are_mapped_over_axis_0():
    out = minijax.vmap(lambda a, b: a * b, in_axes=(None,))(jnp.float32(2.0), b=jnp.arange(3.0))
    close(out, [0.0, 2.0, 4.0])


def test_bad_axes_raise_the_same_exception_types_as_jax(real_jax):
    def kind(lib, **kwargs):
        try:
            lib.vmap(lambda *a: a[0], **kwargs)(*args)
        except Exception as e:   # noqa: BLE001  (comparing exception types)
            return type(e)
        return None

    for kwargs, args in [(dict(in_axes=2), (np.ones((2, 3)),)),
                         (dict(in_axes=(0,)), (np.ones(2), np.ones(2))),
                         (dict(in_axes=1.5), (np.ones(2),)),
                         (dict(in_axes=None), (np.ones(2),)),
                         (dict(out_axes=None), (np.ones(2),)),
                         (dict(out_axes=1.5), (np.ones(2),)),
                         (dict(in_axes=(0, 1.5)), (np.ones(2), np.ones(2))),
                         (dict(out_axes=2), (np.ones(2),)),
                         (dict(axis_size=4), (np.ones(3),)),
                         (dict(in_axes=0), (np.ones(3), np.ones(2)))]:
        assert kind(minijax, **kwargs) is kind(real_jax, **kwargs), kwargs


# ---------------------------------------------------------------------------
# Vectorised, not unrolled
# ---------------------------------------------------------------------------
def test_vmap_of_matmul_is_one_dot_general():
    w = np.ones((3, 4), np.float32)
    xs = np.ones((7, 5, 3), np.float32)
    for f, in_axes, args in [(jnp.dot, (0, None), (xs, w)),
                             (jnp.matmul, (0, 0), (xs, np.ones((7, 3, 2), np.float32))),
                             (lambda a, b: a @ b, (None, 0), (w.T, xs.transpose(0, 2, 1))),
                             (lambda v: jnp.dot(v, v), 0, (np.ones((7, 3), np.float32),))]:
        jaxpr = minijax.make_jaxpr(minijax.vmap(f, in_axes=in_axes))(*args)
        assert count(jaxpr, "dot_general") == 1, jaxpr
        out = minijax.vmap(f, in_axes=in_axes)(*args)
        close(out, loop(f, list(args), in_axes))


FUNCTIONS = [
    lambda x: jnp.sum(jnp.sin(x) ** 2) + x[0],
    lambda x: jnp.tanh(x @ jnp.ones((3, 3))) * jnp.max(x),
    lambda x: jnp.cumsum(jnp.sort(x))[::-1],
    lambda x: jnp.where(x > 0, x, 0.1 * x).reshape(3, 1).T,
    lambda x: minijax.grad(lambda v: jnp.sum(jnp.exp(v) * v))(x),
    lambda x: lax.fori_loop(0, 3, lambda i, c: c * 0.5 + x[i], 0.0),
]


@pytest.mark.parametrize("f", FUNCTIONS, ids=[f"f{i}" for i in range(len(FUNCTIONS))])
def test_make_jaxpr_of_vmap_has_no_per_example_unrolling(f):
    """Same number of equations for 2 and for 9 examples, and no more than one example needs
    beyond a few axis moves; values equal the loop."""
    one = minijax.make_jaxpr(f)(np.ones(3, np.float32))
    sizes = []
    for n in (2, 9):
        xs = RNG.normal(size=(n, 3)).astype(np.float32)
        jaxpr = minijax.make_jaxpr(minijax.vmap(f))(xs)
        sizes.append(len(jaxpr.eqns))
        close(minijax.vmap(f)(xs), loop(f, [xs], 0), rtol=1e-5, atol=1e-5)
    assert sizes[0] == sizes[1]
    assert sizes[0] <= 2 * len(one.eqns) + 4, (sizes, len(one.eqns))


# ---------------------------------------------------------------------------
# Hypothesis: random programs of elementwise, reduction, shape and indexing ops
# ---------------------------------------------------------------------------
# Each op maps (np-like module, x of shape (3, 4), y of shape (3, 4), i an int index) -> (3, 4).
OPS = {
    "sin": lambda m, x, y, i: m.sin(x),
    "tanh*2": lambda m, x, y, i: m.tanh(x) * 2.0,
    "square": lambda m, x, y, i: x * x / 4.0,
    "add_y": lambda m, x, y, i: x + y,
    "mul_y": lambda m, x, y, i: x * y,
    "max_y": lambda m, x, y, i: m.maximum(x, y),
    "add_row": lambda m, x, y, i: x + y[0],
    "center_rows": lambda m, x, y, i: x - m.mean(x, axis=1, keepdims=True),
    "scale_cols": lambda m, x, y, i: x / (1.0 + m.max(m.abs(x), axis=0)),
    "sum_all": lambda m, x, y, i: x * 0.1 + m.sum(x) * 0.01,
    "flip": lambda m, x, y, i: m.flip(x, axis=1),
    "transpose_roundtrip": lambda m, x, y, i: m.reshape(m.transpose(x), (12,))[::-1].reshape(3, 4),
    "concat_slice": lambda m, x, y, i: m.concatenate([x, y], axis=1)[:, 2:6],
    "cumsum": lambda m, x, y, i: m.cumsum(x, axis=0) / 3.0,
    "where": lambda m, x, y, i: m.where(x > y, x, y * 0.5),
    "dot": lambda m, x, y, i: (x @ y.T) @ x / 10.0,
    "take_row": lambda m, x, y, i: x + x[i],
    "at_add": lambda m, x, y, i: x.at[i].add(1.0),
    "sort": lambda m, x, y, i: m.sort(x, axis=1),
}


def program(ops):
    def run(m, x, y, i):
        for name in ops:
            x = OPS[name](m, x, y, i)
        return x
    return run


def _move(a, axis):
    return np.moveaxis(a, 0, axis)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(ops=st.lists(st.sampled_from(sorted(OPS)), min_size=1, max_size=5),
       x_axis=st.sampled_from([0, 1, 2, -1]), y_axis=st.sampled_from([0, 2, None]),
       out_axis=st.sampled_from([0, 1, -1]), seed=st.integers(0, 2**16))
def test_hypothesis_programs_vmap_like_a_loop(ops, x_axis, y_axis, out_axis, seed):
    rng = np.random.default_rng(seed)
    n = 4
    xs = rng.normal(size=(n, 3, 4)).astype(np.float32)
    ys = rng.normal(size=(n, 3, 4)).astype(np.float32) if y_axis is not None else \
        rng.normal(size=(3, 4)).astype(np.float32)
    idx = rng.integers(0, 3, size=n).astype(np.int32)
    run = program(ops)
    f = lambda x, y, i: run(jnp, x, y, i)  # noqa: E731
    x_in = _move(xs, x_axis)
    y_in = ys if y_axis is None else _move(ys, y_axis)
    in_axes = (x_axis, y_axis, 0)
    out = minijax.vmap(f, in_axes=in_axes, out_axes=out_axis)(x_in, y_in, idx)
    want = loop(f, [x_in, y_in, idx], in_axes, out_axis=out_axis % 3)
    assert out.shape == want.shape and out.dtype == np.float32
    close(out, want, rtol=1e-4, atol=1e-5)


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.sampled_from(sorted(set(OPS) - {"sort"})), min_size=1, max_size=4),
       seed=st.integers(0, 2**16))
def test_hypothesis_per_example_gradients_of_programs(x64, ops, seed):
    rng = np.random.default_rng(seed)
    xs, ys = rng.normal(size=(3, 3, 4)), rng.normal(size=(3, 4))
    idx = rng.integers(0, 3, size=3).astype(np.int32)
    run = program(ops)
    g = minijax.grad(lambda x, y, i: jnp.sum(run(jnp, x, y, i) ** 2))
    out = minijax.vmap(g, in_axes=(0, None, 0))(xs, ys, idx)
    want = np.stack([np.asarray(g(jnp.asarray(x), jnp.asarray(ys), jnp.asarray(i)))
                     for x, i in zip(xs, idx)])
    close(out, want, rtol=1e-10, atol=1e-12)


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.sampled_from(sorted(OPS)), min_size=1, max_size=5),
       x_axis=st.sampled_from([0, 1, -1]), seed=st.integers(0, 2**16))
def test_hypothesis_programs_against_real_jax(real_jax, ops, x_axis, seed):
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(4, 3, 4)).astype(np.float32)
    ys = rng.normal(size=(3, 4)).astype(np.float32)
    idx = rng.integers(0, 3, size=4).astype(np.int32)
    run = program(ops)
    x_in = _move(xs, x_axis)
    ours = minijax.vmap(lambda x, y, i: run(jnp, x, y, i), in_axes=(x_axis, None, 0))(x_in, ys, idx)
    theirs = real_jax.vmap(lambda x, y, i: run(real_jax.numpy, x, y, i),
                           in_axes=(x_axis, None, 0))(x_in, ys, idx)
    close(ours, np.asarray(theirs), rtol=1e-4, atol=1e-5)


def test_per_example_gradients_against_real_jax(real_jax):
    params, xs, ys = _data(dtype=np.float32)
    ours = minijax.jit(minijax.vmap(minijax.grad(loss), in_axes=(None, 0, 0)))(params, xs, ys)

    def jloss(p, x, y):
        m = real_jax.numpy
        logit = m.dot(x, p["w"]) + p["b"]
        return m.logaddexp(0.0, logit) - y * logit + 0.01 * m.sum(p["w"] * p["w"])

    theirs = real_jax.vmap(real_jax.grad(jloss), in_axes=(None, 0, 0))(params, xs, ys)
    close(ours["w"], np.asarray(theirs["w"]), rtol=1e-5)
    close(ours["b"], np.asarray(theirs["b"]), rtol=1e-5)
