"""vmap core semantics: in_axes/out_axes, nesting, axis_size, errors, and composition with autodiff.

Oracle: a Python loop over examples followed by np.stack.
"""
from __future__ import annotations

import numpy as np
import pytest

import minijax
import minijax.numpy as jnp
from minijax import lax

RNG = np.random.default_rng(0)


def loop(f, in_axes, *args, out_axis=0):
    """vmap's definition: slice every mapped argument, call f, stack the results."""
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
    size = next(np.shape(a)[ax] for a, ax in zip(args, axes) if ax is not None)
    outs = []
    for i in range(size):
        sliced = [a if ax is None else np.take(a, i, axis=ax) for a, ax in zip(args, axes)]
        outs.append(np.asarray(f(*sliced)))
    return np.stack(outs, axis=out_axis)


def f_mixed(x, y):
    return jnp.sum(jnp.sin(x) * y) + x * 2.0


@pytest.mark.parametrize("in_axes", [0, 1, -1, (0, None), (1, None), (None, 0), (-2, 0)])
def test_in_axes_int_negative_none_tuple(in_axes):
    x = RNG.normal(size=(3, 3)).astype(np.float32)
    y = RNG.normal(size=(3, 3)).astype(np.float32)
    if in_axes == (None, 0):
        y = RNG.normal(size=(4, 3)).astype(np.float32)
    out = minijax.vmap(f_mixed, in_axes=in_axes)(x, y)
    np.testing.assert_allclose(np.asarray(out), loop(f_mixed, in_axes, x, y), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("out_axes", [0, 1, -1])
def test_out_axes(out_axes):
    x = RNG.normal(size=(4, 3)).astype(np.float32)
    f = lambda v: jnp.stack([v, v * 2.0])  # noqa: E731  (per-example shape (2, 3))
    out = minijax.vmap(f, out_axes=out_axes)(x)
    expected = loop(f, 0, x, out_axis=out_axes % 3)
    assert out.shape == expected.shape
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-6)


def test_out_axes_none_for_unbatched_output_and_error_for_batched():
    x = jnp.ones((4, 3))
    out, const = minijax.vmap(lambda v: (v * 2.0, jnp.float32(7.0)), out_axes=(0, None))(x)
    assert out.shape == (4, 3) and const.shape == ()
    with pytest.raises(ValueError, match="out_axes"):
        minijax.vmap(lambda v: v * 2.0, out_axes=None)(x)


def test_dict_in_axes_prefix_and_pytree_outputs():
    params = {"w": jnp.array(RNG.normal(size=(3,)), dtype=jnp.float32), "b": jnp.float32(0.5)}
    xs = np.asarray(RNG.normal(size=(5, 3)), np.float32)

    def predict(p, x):
        return {"y": jnp.sum(p["w"] * x) + p["b"], "x2": x * 2.0}

    out = minijax.vmap(predict, in_axes=({"w": None, "b": None}, 0))(params, xs)
    expected = [predict(params, x) for x in xs]
    np.testing.assert_allclose(np.asarray(out["y"]), [float(e["y"]) for e in expected], rtol=1e-5)
    assert out["x2"].shape == (5, 3)
    # a per-leaf prefix: map over the weights' rows but share the bias
    ws = jnp.array(RNG.normal(size=(5, 3)), dtype=jnp.float32)
    out2 = minijax.vmap(predict, in_axes=({"w": 0, "b": None}, 0))({"w": ws, "b": params["b"]}, xs)
    np.testing.assert_allclose(np.asarray(out2["y"]),
                               np.sum(np.asarray(ws) * xs, axis=1) + 0.5, rtol=1e-5)


def test_nested_vmap_is_an_outer_product():
    x, y = np.arange(3.0, dtype=np.float32), np.arange(4.0, dtype=np.float32)
    table = minijax.vmap(minijax.vmap(lambda a, b: a * b + 1.0, (None, 0)), (0, None))(x, y)
    np.testing.assert_allclose(np.asarray(table), np.outer(x, y) + 1.0)
    inner_axis_one = minijax.vmap(minijax.vmap(jnp.sum, in_axes=1), in_axes=0)(jnp.ones((2, 3, 4)))
    assert inner_axis_one.shape == (2, 4)


def test_axis_size_with_no_mapped_inputs():
    out = minijax.vmap(lambda x: x * 2.0, in_axes=None, axis_size=3)(jnp.float32(1.5))
    np.testing.assert_allclose(np.asarray(out), [3.0, 3.0, 3.0])
    with pytest.raises(ValueError, match="axis_size"):
        minijax.vmap(lambda x: x, in_axes=None)(1.0)


def test_mismatched_sizes_message_lists_each_argument():
    with pytest.raises(ValueError) as info:
        minijax.vmap(lambda a, b: a + b)(jnp.ones(3), jnp.ones(2))
    msg = str(info.value)
    assert "inconsistent sizes" in msg
    assert "size 3" in msg and "size 2" in msg
    assert "(3,)" in msg and "(2,)" in msg


def test_in_axes_out_of_range_and_wrong_length():
    with pytest.raises(ValueError, match="axis 2"):
        minijax.vmap(lambda a: a, in_axes=2)(jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="in_axes"):
        minijax.vmap(lambda a, b: a, in_axes=(0,))(jnp.ones(2), jnp.ones(2))


# ---------------------------------------------------------------------------
# Composition with autodiff
# ---------------------------------------------------------------------------
def loss(w, x, y):
    return (jnp.sum(jnp.tanh(w * x)) - y) ** 2


def test_per_example_gradients_vmap_of_grad(x64):
    w = RNG.normal(size=(3,))
    xs, ys = RNG.normal(size=(6, 3)), RNG.normal(size=(6,))
    per_example = minijax.vmap(minijax.grad(loss), in_axes=(None, 0, 0))(w, xs, ys)
    expected = np.stack([np.asarray(minijax.grad(loss)(w, x, y)) for x, y in zip(xs, ys)])
    np.testing.assert_allclose(np.asarray(per_example), expected, rtol=1e-12)
    # and the mean of per-example gradients is the gradient of the mean loss
    mean_loss = lambda w_: jnp.sum(minijax.vmap(loss, (None, 0, 0))(w_, xs, ys)) / 6.0  # noqa
    np.testing.assert_allclose(np.asarray(minijax.grad(mean_loss)(w)), expected.mean(0), rtol=1e-10)


def test_grad_of_vmap_equals_sum_of_grads(x64):
    xs = RNG.normal(size=(5,))
    f = lambda v: jnp.sum(minijax.vmap(lambda t: jnp.sin(t) * t ** 2)(v))  # noqa: E731
    expected = np.cos(xs) * xs ** 2 + 2 * xs * np.sin(xs)
    np.testing.assert_allclose(np.asarray(minijax.grad(f)(xs)), expected, rtol=1e-12)


def test_jvp_of_vmap_and_vmap_of_jvp(x64):
    xs, ts = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))
    g = lambda v: jnp.exp(v) * jnp.sum(v)  # noqa: E731
    out1, tan1 = minijax.jvp(minijax.vmap(g), (xs,), (ts,))
    out2, tan2 = minijax.vmap(lambda x, t: minijax.jvp(g, (x,), (t,)))(xs, ts)
    expected = np.stack([np.exp(x) * np.sum(t) + np.exp(x) * t * np.sum(x) for x, t in zip(xs, ts)])
    for tangent in (tan1, tan2):
        np.testing.assert_allclose(np.asarray(tangent), expected, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(out1), np.asarray(out2))


def test_vmap_of_jacfwd_and_jacrev(x64):
    xs = RNG.normal(size=(4, 2))
    f = lambda v: jnp.stack([jnp.sin(lax.reduce_sum(v, (0,))), jnp.sum(v * v)])  # noqa: E731
    jf = minijax.vmap(minijax.jacfwd(f))(xs)
    jr = minijax.vmap(minijax.jacrev(f))(xs)
    expected = np.stack([np.stack([np.cos(x.sum()) * np.ones(2), 2 * x]) for x in xs])
    assert jf.shape == (4, 2, 2)
    np.testing.assert_allclose(np.asarray(jf), expected, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(jr), expected, rtol=1e-12)


def test_vmap_of_hessian(x64):
    xs = RNG.normal(size=(3, 2))
    f = lambda v: jnp.sum(v ** 3) + jnp.sum(v) ** 2  # noqa: E731
    hs = minijax.vmap(minijax.hessian(f))(xs)
    expected = np.stack([np.diag(6 * x) + 2.0 for x in xs])
    np.testing.assert_allclose(np.asarray(hs), expected, rtol=1e-12)
