"""Primitive-level checks for slice, pad, rev, concatenate, the cumulative reductions and the
reductions: values against NumPy, derivatives against finite differences (``check_grads``,
order 2, under x64), and batching rules against a Python loop."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minijax as jax
import minijax.numpy as jnp
from minijax import lax
from minijax._src.primitives import cumulative as cum
from minijax._src.primitives import reductions as red
from minijax._src.primitives import shape as sh
from minijax._src.primitives import slicing as sl
from minijax._src.primitives.concatenate import concatenate
from minijax.test_util import check_grads

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)


def rand(*shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def reference_pad(x, value, config):
    """lax.pad written out the slow way: interior first, then edges, negative edges crop."""
    out = x
    for axis, (lo, hi, interior) in enumerate(config):
        n = out.shape[axis]
        pieces = []
        for i in range(n):
            pieces.append(np.take(out, [i], axis=axis))
            if i < n - 1 and interior:
                shape = list(out.shape)
                shape[axis] = interior
                pieces.append(np.full(shape, value, out.dtype))
        shape = list(out.shape)
        shape[axis] = 0
        out = np.concatenate(pieces, axis) if pieces else np.zeros(shape, out.dtype)
        shape = list(out.shape)
        shape[axis] = max(lo, 0)
        before = np.full(shape, value, out.dtype)
        shape[axis] = max(hi, 0)
        after = np.full(shape, value, out.dtype)
        out = np.concatenate([before, out, after], axis)
        size = out.shape[axis]
        out = np.take(out, np.arange(max(-lo, 0), size - max(-hi, 0)), axis=axis)
    return out


def assert_same(got, expected):
    got = np.asarray(got)
    assert got.shape == np.shape(expected), (got.shape, np.shape(expected))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------
@st.composite
def slice_case(draw):
    shape = draw(st.lists(st.integers(0, 5), min_size=1, max_size=3))
    starts, limits, strides = [], [], []
    for n in shape:
        s = draw(st.integers(0, n))
        l = draw(st.integers(s, n))
        starts.append(s)
        limits.append(l)
        strides.append(draw(st.integers(1, 3)))
    return tuple(shape), starts, limits, strides


@SETTINGS
@given(slice_case())
def test_slice_matches_numpy(case):
    shape, starts, limits, strides = case
    x = rand(*shape, dtype=np.float32)
    got = sl.slice(x, starts, limits, strides)
    assert_same(got, x[tuple(slice(s, l, t) for s, l, t in zip(starts, limits, strides))])


@st.composite
def pad_case(draw):
    shape = draw(st.lists(st.integers(0, 4), min_size=1, max_size=3))
    config = []
    for n in shape:
        interior = draw(st.integers(0, 2))
        full = n + max(n - 1, 0) * interior
        lo = draw(st.integers(-full, 3))
        hi = draw(st.integers(-(full + lo) if full + lo > 0 else 0, 3))
        hi = max(hi, -(full + lo))
        config.append((lo, hi, interior))
    return tuple(shape), config


@SETTINGS
@given(pad_case())
def test_pad_matches_reference(case):
    shape, config = case
    x = rand(*shape, dtype=np.float32)
    got = sl.pad(x, np.float32(-7.0), config)
    assert_same(got, reference_pad(x, np.float32(-7.0), config))
    assert got.dtype == np.float32


def test_pad_matches_real_jax(real_jax):
    x = rand(3, 4, dtype=np.float32)
    for config in [[(1, 2, 1), (-1, 0, 2)], [(0, -2, 0), (2, -3, 1)], [(-3, 2, 0), (0, 0, 3)]]:
        ours = sl.pad(x, np.float32(2.5), config)
        theirs = real_jax.lax.pad(x, np.float32(2.5), config)
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_pad_errors():
    x = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="interior"):
        sl.pad(x, np.float32(0), [(0, 0, -1), (0, 0, 0)])
    with pytest.raises(ValueError, match="negative padding"):
        sl.pad(x, np.float32(0), [(-2, -1, 0), (0, 0, 0)])
    with pytest.raises(TypeError, match="same dtypes"):
        sl.pad(x, np.int32(0), [(1, 1, 0), (0, 0, 0)])
    with pytest.raises(ValueError, match="one \\(lo, hi, interior\\) triple per axis"):
        sl.pad(x, np.float32(0), [(1, 1, 0)])


def test_slice_errors():
    with pytest.raises(TypeError, match="invalid bounds"):
        sl.slice(np.ones(3, np.float32), [2], [1])
    with pytest.raises(TypeError, match="one\\s+entry per axis"):
        sl.slice(np.ones((3, 2), np.float32), [0], [1])


def test_rev_values_and_errors():
    x = rand(2, 3, 4, dtype=np.float32)
    assert_same(sh.rev(x, (0, 2)), x[::-1, :, ::-1])
    with pytest.raises(ValueError, match="distinct axes"):
        sh.rev(x, (3,))


@pytest.mark.parametrize("name, ref", [
    ("cumsum", np.cumsum), ("cumprod", np.cumprod),
    ("cummax", np.maximum.accumulate), ("cummin", np.minimum.accumulate)])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cumulative_values(name, ref, reverse, axis):
    x = rand(3, 4, seed=3, dtype=np.float32)
    got = getattr(cum, name)(x, axis=axis, reverse=reverse)
    expected = np.flip(ref(np.flip(x, axis), axis=axis), axis) if reverse else ref(x, axis=axis)
    assert_same(got, expected)
    assert got.dtype == np.float32


def test_cumprod_exclusive():
    x = np.array([[2., 3., 0., 5.]], np.float32)
    assert_same(cum.cumprod(x, 1, exclusive=True), [[1., 2., 6., 0.]])
    assert_same(cum.cumprod(x, 1, exclusive=True, reverse=True), [[0., 0., 5., 1.]])
    assert np.asarray(cum.cumprod(np.ones((2, 0), np.float32), 1, exclusive=True)).shape == (2, 0)


def test_cumulative_matches_real_jax(real_jax):
    x = rand(5, 3, seed=4, dtype=np.float32)
    for name in ("cumsum", "cumprod", "cummax", "cummin"):
        for reverse in (False, True):
            np.testing.assert_allclose(np.asarray(getattr(cum, name)(x, 0, reverse)),
                                       np.asarray(getattr(real_jax.lax, name)(x, 0, reverse)),
                                       rtol=1e-6)


def test_associative_scan_is_a_scan():
    x = rand(11, seed=5)
    assert_same(cum.associative_scan(lax.add, jnp.asarray(x)), np.cumsum(x))
    assert_same(cum.associative_scan(lax.add, jnp.asarray(x), reverse=True),
                np.cumsum(x[::-1])[::-1])
    # a non-commutative operator: compose affine maps y -> a*y + b, earlier one applied first
    a, b = rand(6, 2, seed=6), rand(6, 2, seed=7)
    out_a, out_b = cum.associative_scan(
        lambda e, l: (lax.mul(e[0], l[0]), lax.add(lax.mul(l[0], e[1]), l[1])),
        (jnp.asarray(a), jnp.asarray(b)), axis=0)
    ya, yb = [a[0]], [b[0]]
    for i in range(1, 6):
        ya.append(ya[-1] * a[i])
        yb.append(a[i] * yb[-1] + b[i])
    assert_same(out_a, np.stack(ya))
    assert_same(out_b, np.stack(yb))


def test_associative_scan_matches_real_jax(real_jax):
    a, b = rand(7, 3, seed=1, dtype=np.float32), rand(7, 3, seed=2, dtype=np.float32)

    def affine(e, l):
        return (e[0] * l[0], l[0] * e[1] + l[1])

    for reverse in (False, True):
        for axis in (0, 1):
            ours = cum.associative_scan(affine, (jnp.asarray(a), jnp.asarray(b)), reverse, axis)
            theirs = real_jax.jit(lambda a, b: real_jax.lax.associative_scan(
                affine, (a, b), reverse=reverse, axis=axis))(a, b)
            for o, t in zip(ours, theirs):
                np.testing.assert_allclose(np.asarray(o), np.asarray(t), rtol=1e-5)


def test_reduce_max_of_empty_gives_identity():
    assert float(red.reduce_max(np.zeros((0,), np.float32), (0,))) == -np.inf
    assert int(red.reduce_min(np.zeros((0,), np.int32), (0,))) == np.iinfo(np.int32).max


# ---------------------------------------------------------------------------
# Derivatives (finite differences, order 2, float64)
# ---------------------------------------------------------------------------
GRAD_CASES = {
    "slice": (lambda x: sl.slice(x, (1, 0), (4, 3), (2, 2)), (5, 4)),
    "slice_unit": (lambda x: sl.slice(x, (0, 1), (3, 3)), (3, 4)),
    "pad": (lambda x: sl.pad(x, 0.5, [(1, -1, 1), (-1, 2, 0)]), (3, 4)),
    "pad_interior": (lambda x: sl.pad(x, 0.0, [(2, 1, 2)]), (4,)),
    "rev": (lambda x: sh.rev(x, (1,)), (3, 4)),
    "cumsum": (lambda x: cum.cumsum(x, 1), (3, 4)),
    "cumsum_reverse": (lambda x: cum.cumsum(x, 0, reverse=True), (3, 4)),
    "cumprod": (lambda x: cum.cumprod(x, 1), (3, 5)),
    "cumprod_reverse": (lambda x: cum.cumprod(x, 0, reverse=True), (4, 2)),
    "cumprod_exclusive": (lambda x: cum.cumprod(x, 0, exclusive=True), (5,)),
    "cummax": (lambda x: cum.cummax(x, 0), (6, 2)),
    "cummin": (lambda x: cum.cummin(x, 1, reverse=True), (2, 6)),
    "reduce_max": (lambda x: red.reduce_max(x, (1,)), (3, 4)),
    "reduce_prod": (lambda x: red.reduce_prod(x, (0, 2)), (2, 3, 2)),
    "reduce_prod_all": (lambda x: red.reduce_prod(x, (0, 1)), (3, 3)),
    "mean": (lambda x: jnp.mean(x, axis=0), (4, 3)),
    "var": (lambda x: jnp.var(x, axis=1, ddof=1), (3, 4)),
    "std": (lambda x: jnp.std(x), (3, 4)),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_grads(name, x64):
    fun, shape = GRAD_CASES[name]
    check_grads(fun, (rand(*shape, seed=11),), order=2)


def test_concatenate_grads(x64):
    f = lambda a, b, c: concatenate([a, lax.mul(b, b), c], 1)
    check_grads(f, (rand(2, 1, seed=1), rand(2, 3, seed=2), rand(2, 2, seed=3)), order=2)


def test_pad_grad_wrt_padding_value(x64):
    check_grads(lambda x, v: sl.pad(x, v, [(1, -1, 1), (2, 0, 0)]),
                (rand(3, 2, seed=4), np.float64(0.3)), order=2)


def test_reduce_prod_with_zeros(x64):
    one_zero = np.array([[1.5, 0.0, -2.0], [0.5, 3.0, 2.0]])
    two_zeros = np.array([[0.0, 1.0], [0.0, 3.0]])
    for x in (one_zero, two_zeros):
        check_grads(lambda x: red.reduce_prod(x, (0, 1)), (x,), order=2)
        check_grads(lambda x: red.reduce_prod(x, (1,)), (x,), order=2)
    # exact gradient at a single zero: the product of all the other entries
    g = jax.grad(lambda x: red.reduce_prod(x, (0, 1)))(one_zero)
    expected = np.zeros_like(one_zero)
    expected[0, 1] = 1.5 * -2.0 * 0.5 * 3.0 * 2.0
    np.testing.assert_allclose(np.asarray(g), expected)
    assert not np.any(np.asarray(jax.grad(lambda x: red.reduce_prod(x, (0, 1)))(two_zeros)))


def test_cumprod_with_zeros(x64):
    x = np.array([1.5, 0.0, -2.0, 0.7])
    check_grads(lambda x: cum.cumprod(x, 0), (x,), order=2)
    g = jax.grad(lambda x: jnp.sum(cum.cumprod(x, 0)))(x)
    # d/dx_j sum_i prod_{k<=i} x_k, brute force
    expected = [sum(np.prod(np.delete(x[:i + 1], j)) for i in range(j, 4)) for j in range(4)]
    np.testing.assert_allclose(np.asarray(g), expected)


def test_reduce_max_ties_share_gradient(x64):
    g = jax.grad(lambda x: red.reduce_max(x, (0,)))(np.array([1.0, 3.0, 3.0, 2.0]))
    np.testing.assert_allclose(np.asarray(g), [0.0, 0.5, 0.5, 0.0])
    g = jax.grad(lambda x: jnp.sum(jnp.max(x, axis=1)))(np.array([[2.0, 2.0], [1.0, 4.0]]))
    np.testing.assert_allclose(np.asarray(g), [[0.5, 0.5], [0.0, 1.0]])


def test_grad_matches_real_jax(real_jax, x64):
    real_jax.config.update("jax_enable_x64", True)
    try:
        x = rand(3, 4, seed=9)
        for f_ours, f_theirs in [
            (lambda x: jnp.sum(jnp.sin(jnp.cumprod(x, axis=1))),
             lambda x: real_jax.numpy.sum(real_jax.numpy.sin(real_jax.numpy.cumprod(x, axis=1)))),
            (lambda x: jnp.sum(sl.pad(x, 1.0, [(1, -2, 1), (0, 1, 2)]) ** 2),
             lambda x: real_jax.numpy.sum(real_jax.lax.pad(x, 1.0, [(1, -2, 1), (0, 1, 2)]) ** 2)),
            (lambda x: jnp.sum(cum.cummax(x, 0)),
             lambda x: real_jax.numpy.sum(real_jax.lax.cummax(x, 0))),
        ]:
            np.testing.assert_allclose(np.asarray(jax.grad(f_ours)(x)),
                                       np.asarray(real_jax.jit(real_jax.grad(f_theirs))(x)),
                                       rtol=1e-10)
    finally:
        real_jax.config.update("jax_enable_x64", False)


# ---------------------------------------------------------------------------
# Batching rules: vmap against a Python loop
# ---------------------------------------------------------------------------
def loop(f, xs, in_axes):
    """The meaning of vmap: f applied to each example, stacked along axis 0."""
    size = next(np.shape(x)[a] for x, a in zip(xs, in_axes) if a is not None)
    outs = [np.asarray(f(*[x if a is None else np.take(x, i, axis=a) for x, a in zip(xs, in_axes)]))
            for i in range(size)]
    return np.stack(outs)


# (name, function of one example, [(batched input shapes, in_axes), ...])
BATCH_CASES = [
    ("slice", lambda x: sl.slice(x, (1, 0), (3, 3), (1, 2)),
     [([(4, 3, 5)], (1,)), ([(4, 3, 5)], (0,)), ([(4, 5, 2)], (2,))]),
    ("pad", lambda x: sl.pad(x, 0.5, [(1, -1, 1), (2, 0, 0)]),
     [([(4, 3, 2)], (0,)), ([(3, 2, 4)], (2,))]),
    ("pad_value", lambda x, v: sl.pad(x, v, [(1, 1, 1)]),
     [([(3, 4), (4,)], (1, 0)), ([(3,), (4,)], (None, 0)), ([(3, 4), ()], (0, None))]),
    ("rev", lambda x: sh.rev(x, (0,)), [([(3, 4, 2)], (0,)), ([(3, 4, 2)], (2,))]),
    ("concatenate", lambda a, b: concatenate([a, b], 0),
     [([(3, 2, 4), (2, 4)], (0, None)), ([(2, 4, 3), (5, 4)], (2, None)),
      ([(2, 4), (5, 4, 3)], (None, 2))]),
    ("concatenate_both", lambda a, b: concatenate([a, b], 1),
     [([(3, 2, 4), (3, 2, 1)], (0, 0)), ([(2, 3, 4), (2, 1, 3)], (1, 2))]),
    ("cumsum", lambda x: cum.cumsum(x, 1, reverse=True),
     [([(3, 4, 5)], (0,)), ([(3, 4, 5)], (2,))]),
    ("cumprod", lambda x: cum.cumprod(x, 0), [([(3, 4, 5)], (1,)), ([(3, 4, 5)], (2,))]),
    ("cummax", lambda x: cum.cummax(x, 1), [([(3, 4, 5)], (0,))]),
    ("cummin", lambda x: cum.cummin(x, 0, reverse=True), [([(3, 4, 5)], (2,))]),
    ("reduce_prod", lambda x: red.reduce_prod(x, (0,)), [([(3, 4, 5)], (1,))]),
    ("argmax", lambda x: red.argmax(x, 1), [([(3, 4, 5)], (2,))]),
]


@pytest.mark.parametrize("name, f, cases", BATCH_CASES, ids=[c[0] for c in BATCH_CASES])
def test_batching_rules(name, f, cases):
    for shapes, in_axes in cases:
        xs = [rand(*shape, seed=i, dtype=np.float32) for i, shape in enumerate(shapes)]
        got = jax.vmap(f, in_axes=in_axes)(*xs)
        np.testing.assert_allclose(np.asarray(got), loop(f, xs, in_axes), rtol=1e-6)


def test_vmap_of_grad_of_cumprod():
    xs = rand(4, 5, seed=8, dtype=np.float32)
    g = jax.vmap(jax.grad(lambda x: jnp.sum(cum.cumprod(x, 0))))(xs)
    expected = np.stack([np.asarray(jax.grad(lambda x: jnp.sum(cum.cumprod(x, 0)))(x)) for x in xs])
    np.testing.assert_allclose(np.asarray(g), expected, rtol=1e-5)


def test_jaxpr_shows_the_primitives():
    text = str(jax.make_jaxpr(lambda x: cum.cumsum(sl.pad(sh.rev(x, (0,)), 0.0, [(1, 0, 0)]), 0))(
        np.ones(3, np.float32)))
    assert "rev[" in text and "pad[" in text and "cumsum[" in text
