"""x[...] (getitem), the gather / dynamic_slice primitives, and take / nonzero & friends.

Oracles: NumPy for in-bounds indexing, real JAX for JAX-specific behaviour (clamping, fill
values), finite differences for gradients, and a Python loop for vmap.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import minijax as jax
import minijax.numpy as jnp
from minijax import errors
from minijax._src.primitives import indexing as lax_idx
from minijax.test_util import check_grads

SETTINGS = dict(deadline=None, derandomize=True)


# ---------------------------------------------------------------------------
# Hypothesis: random NumPy index expressions
# ---------------------------------------------------------------------------
@st.composite
def shape_and_index(draw, max_ndim=4):
    ndim = draw(st.integers(0, max_ndim))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    base = draw(st.sampled_from([(), (2,), (3,), (1, 2), (2, 3)]))
    entries = []
    for n in shape:
        if draw(st.integers(0, 5)) == 0:
            entries.append(None)
        kind = draw(st.sampled_from(["int", "slice", "array", "full", "full"]))
        if kind == "int":
            entries.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            bound = st.one_of(st.none(), st.integers(-n - 2, n + 2))
            step = draw(st.sampled_from([None, 1, 2, 3, -1, -2, -3]))
            entries.append(slice(draw(bound), draw(bound), step))
        elif kind == "array":
            sub = base[draw(st.integers(0, len(base))):]
            sub = tuple(1 if draw(st.booleans()) and d > 1 else d for d in sub)
            entries.append(rng.integers(-n, n, size=sub))
        else:
            entries.append(slice(None))
    if draw(st.integers(0, 3)) == 0:
        entries.append(None)
    # Replace a run of whole-axis slices (possibly empty) by an Ellipsis, sometimes.
    if draw(st.booleans()):
        i = draw(st.integers(0, len(entries)))
        j = i
        while j < len(entries) and isinstance(entries[j], slice) and entries[j] == slice(None):
            j += 1
        j = draw(st.integers(i, j))
        entries = entries[:i] + [Ellipsis] + entries[j:]
    # Drop trailing whole-axis slices sometimes (NumPy keeps the rest of the axes).
    while entries and draw(st.booleans()) and isinstance(entries[-1], slice) \
            and entries[-1] == slice(None):
        entries.pop()
    as_jnp = draw(st.booleans())
    return shape, tuple(entries), as_jnp


def _to_minijax_index(index, as_jnp):
    if not as_jnp:
        return index
    return tuple(jnp.asarray(e) if isinstance(e, np.ndarray) else e for e in index)


@settings(max_examples=150, **SETTINGS)
@given(shape_and_index())
def test_getitem_matches_numpy(case):
    shape, index, as_jnp = case
    xn = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    expected = xn[index]
    out = jnp.asarray(xn)[_to_minijax_index(index, as_jnp)]
    assert out.shape == expected.shape
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(np.asarray(out), expected)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture],
          **SETTINGS)
@given(shape_and_index(max_ndim=3))
def test_getitem_matches_real_jax(real_jax, case):
    shape, index, _ = case
    xn = np.arange(int(np.prod(shape)), dtype=np.int32).reshape(shape)
    expected = np.asarray(real_jax.numpy.asarray(xn)[index])
    out = jnp.asarray(xn)[index]
    assert out.shape == expected.shape
    np.testing.assert_array_equal(np.asarray(out), expected)


@settings(max_examples=40, **SETTINGS)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(0, 2**16),
       st.integers(0, 2))
def test_boolean_mask_eager(shape, seed, start):
    rng = np.random.default_rng(seed)
    xn = rng.standard_normal(shape).astype(np.float32)
    start = min(start, len(shape) - 1)
    mask_ndim = len(shape) - start
    mask = rng.random(shape[start:start + mask_ndim]) > 0.5
    index = (slice(None),) * start + (mask,)
    x = jnp.asarray(xn)
    np.testing.assert_array_equal(np.asarray(x[index]), xn[index])
    np.testing.assert_array_equal(np.asarray(x[index[:start] + (jnp.asarray(mask),)]), xn[index])


def test_boolean_scalar_and_mask_with_arrays():
    xn = np.arange(24.0).reshape(2, 3, 4)
    x = jnp.asarray(xn)
    for index in [(True,), (False,), (slice(None), True), (0, np.array([True, False, True])),
                  (np.array([True, False]), slice(None), np.array([0, 3])),
                  (np.array([[True, False, True], [False, False, True]]), np.array([1, 2, 3]))]:
        np.testing.assert_array_equal(np.asarray(x[index]), xn[index])


# ---------------------------------------------------------------------------
# Simple cases, 0-d arrays, dtypes
# ---------------------------------------------------------------------------
def test_indexing_zero_d_and_weak_type():
    s = jnp.asarray(3.0)
    assert s[()].shape == () and s[...].shape == () and s[None].shape == (1,)
    assert float(s[()]) == 3.0
    assert jnp.asarray(2.5)[None].weak_type           # indexing keeps weak typing
    with pytest.raises(IndexError, match="Too many indices"):
        s[0]


def test_integer_index_dtypes():
    x = jnp.arange(10.0)
    for dtype in (np.int8, np.uint8, np.int16, np.uint32, np.int64):
        idx = np.array([1, 7], dtype)
        np.testing.assert_array_equal(np.asarray(x[idx]), [1.0, 7.0])
        np.testing.assert_array_equal(np.asarray(x[jnp.asarray(idx)]), [1.0, 7.0])
    assert float(x[np.int64(3)]) == 3.0 and float(x[np.uint8(3)]) == 3.0
    assert float(x[jnp.asarray(-2)]) == 8.0


def test_list_inside_tuple_is_an_index_array():
    xn = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(np.asarray(jnp.asarray(xn)[[0, 2], :]), xn[[0, 2], :])
    np.testing.assert_array_equal(np.asarray(jnp.asarray(xn)[1, [3, 0, 3]]), xn[1, [3, 0, 3]])


# ---------------------------------------------------------------------------
# Out of bounds (JAX semantics) and errors
# ---------------------------------------------------------------------------
def test_out_of_bounds_matches_jax(real_jax):
    rjnp = real_jax.numpy
    xn = np.arange(5.0, dtype=np.float32)
    x, rx = jnp.asarray(xn), rjnp.asarray(xn)
    idx = np.array([0, 7, -8, -1, 4, 5])
    for index in [7, -8, 100, -100, (idx,), (slice(-100, 100),), (slice(3, 1),)]:
        np.testing.assert_array_equal(np.asarray(x[index]), np.asarray(rx[index]))
    for mode in ["fill", "clip", "drop", "promise_in_bounds", None]:
        np.testing.assert_array_equal(np.asarray(x.at[idx].get(mode=mode)),
                                      np.asarray(rx.at[idx].get(mode=mode)))
        np.testing.assert_array_equal(np.asarray(x.at[7].get(mode=mode)),
                                      np.asarray(rx.at[7].get(mode=mode)))
    xi, rxi = jnp.arange(5), rjnp.arange(5)
    np.testing.assert_array_equal(np.asarray(xi.at[idx].get(mode="fill")),
                                  np.asarray(rxi.at[idx].get(mode="fill")))
    np.testing.assert_array_equal(np.asarray(x.at[idx].get(mode="fill", fill_value=-5)),
                                  np.asarray(rx.at[idx].get(mode="fill", fill_value=-5)))


def test_traced_index_clamps():
    x = jnp.arange(5.0)
    f = jax.make_jaxpr(lambda x, i: x[i])
    for i in [2, -1, 9, -9]:
        closed = f(x, i)
        (out,) = closed(x, jnp.asarray(i))
        assert float(out) == float(np.arange(5.0)[np.clip(i + 5 if i < 0 else i, 0, 4)])


def test_static_int_on_empty_axis_raises():
    with pytest.raises(IndexError, match="size 0"):
        jnp.zeros((0, 3))[0]


@pytest.mark.parametrize("index, exc, match", [
    ((0, 0, 0), IndexError, "Too many indices"),
    ((Ellipsis, Ellipsis), IndexError, "single ellipsis"),
    (1.0, TypeError, "integer or boolean"),
    ("a", TypeError, "string indexing"),
    ([0, 1], TypeError, "non-tuple sequence"),
    ((np.array([True, False, True]),), IndexError, "boolean index did not match"),
    ((np.array([0, 1]), np.array([0, 1, 2])), IndexError, "could not be broadcast"),
    ((slice(0, 2, 0),), ValueError, "step cannot be zero"),
])
def test_bad_indices(index, exc, match):
    x = jnp.ones((2, 3))
    with pytest.raises(exc, match=match):
        x[index]


def test_float_array_index_is_type_error():
    with pytest.raises(TypeError, match="integer or boolean type"):
        jnp.arange(3.0)[jnp.asarray([0.0])]


def test_traced_slice_bound_raises_index_error():
    with pytest.raises(IndexError, match="Slice entries must be static integers"):
        jax.make_jaxpr(lambda x, i: x[i:i + 2])(jnp.arange(5.0), 1)


def test_boolean_mask_under_tracing_raises_teaching_error():
    x = jnp.arange(4.0)
    for transform in (jax.make_jaxpr, jax.vmap):
        with pytest.raises(errors.NonConcreteBooleanIndexError, match="jnp.where"):
            transform(lambda x: x[x > 1.0])(x if transform is jax.make_jaxpr else x[None])
    with pytest.raises(errors.NonConcreteBooleanIndexError):
        jax.make_jaxpr(lambda x: x.at[x > 1.0].set(0.0))(x)
    # Under grad alone the values are concrete, so masks work (as in JAX).
    g = jax.grad(lambda x: x[x > 1.0].sum())(x)
    np.testing.assert_array_equal(np.asarray(g), [0.0, 0.0, 1.0, 1.0])


# ---------------------------------------------------------------------------
# Immutability
# ---------------------------------------------------------------------------
def test_arrays_are_immutable():
    x = jnp.arange(3.0)
    with pytest.raises(TypeError, match=r"\.at\["):
        x[0] = 1.0
    view = np.asarray(x)
    assert not view.flags.writeable
    with pytest.raises(ValueError):
        view[0] = 5.0
    np.testing.assert_array_equal(np.asarray(x), [0.0, 1.0, 2.0])


# ---------------------------------------------------------------------------
# Tracing: jaxprs, grad, vmap
# ---------------------------------------------------------------------------
def test_make_jaxpr_of_traced_index():
    text = str(jax.make_jaxpr(lambda x, i: x[i])(jnp.arange(5.0), 2))
    assert "dynamic_slice" in text and "squeeze" in text and "select_n" in text
    text = str(jax.make_jaxpr(lambda x, i: x[i])(jnp.arange(5.0), jnp.array([1, 2])))
    assert "gather" in text
    text = str(jax.make_jaxpr(lambda x: x[1:4:2])(jnp.arange(5.0)))
    assert "slice" in text and "gather" not in text


def test_grad_with_traced_integer_index():
    x = jnp.arange(6.0).reshape(2, 3)
    g = jax.grad(lambda x, i: (x[i] ** 2).sum() + (x[i, ::-1] * jnp.arange(3.0)).sum())(x, 1)
    expected = np.zeros((2, 3))
    expected[1] = 2 * np.arange(3.0, 6.0) + np.arange(3.0)[::-1]
    np.testing.assert_allclose(np.asarray(g), expected)
    # the same with i traced by make_jaxpr: grad(f)(x, i) evaluated from the staged program
    closed = jax.make_jaxpr(jax.grad(lambda x, i: (x[i] ** 2).sum()))(x, 1)
    np.testing.assert_allclose(np.asarray(closed(x, jnp.asarray(0))[0]),
                               [[0.0, 2.0, 4.0], [0.0, 0.0, 0.0]])


GRAD_INDICES = [
    (1,), (slice(None, None, -1),), (slice(3, 0, -2), None), (Ellipsis, 1),
    (np.array([0, 2, 2, -1]),), (slice(None), np.array([[1, 0], [2, 2]])),
    (np.array([0, 3]), slice(1, 3), np.array([1, 0])), (np.array([True, False, True, True]),),
    (np.array([0, 9, -9]),),   # out of bounds: clamped (the gradient goes where the value came from)
]


@pytest.mark.parametrize("index", GRAD_INDICES, ids=range(len(GRAD_INDICES)))
def test_getitem_gradients(x64, index):
    x = np.random.default_rng(0).standard_normal((4, 3, 2))
    check_grads(lambda x: jnp.sin(jnp.asarray(x)[index]), (x,), order=2)


def test_take_and_take_along_axis_gradients(x64):
    x = np.random.default_rng(1).standard_normal((3, 4))
    check_grads(lambda x: jnp.take(x, jnp.array([3, 0, 3]), axis=1) ** 2, (x,), order=2)
    idx = jnp.array([[0, 3], [1, 1], [2, 0]])
    check_grads(lambda x: jnp.take_along_axis(x, idx, axis=1) ** 2, (x,), order=2)
    check_grads(lambda x: jnp.take(x, jnp.array([0, 20]), mode="fill", fill_value=0.0) ** 2,
                (x,), order=2)


def _loop(f, *args):
    return np.stack([np.asarray(f(*[a[b] for a in args])) for b in range(args[0].shape[0])])


def test_vmap_getitem_batched_operand_indices_and_both():
    rng = np.random.default_rng(2)
    xs = jnp.asarray(rng.standard_normal((5, 4, 3, 2)).astype(np.float32))
    idx = jnp.asarray(rng.integers(-4, 4, size=(5, 2)))
    scalar_idx = jnp.asarray(rng.integers(-4, 4, size=(5,)))

    def f(x, i):
        return x[i, 1:]

    def g(x, i):                     # non-adjacent advanced indices: B goes first
        return x[i, :, jnp.array([0, 1])]

    def h(x, i):                     # traced scalar index -> dynamic_slice
        return x[i]

    for fun in (f, g):
        np.testing.assert_allclose(np.asarray(jax.vmap(fun)(xs, idx)), _loop(fun, xs, idx))
        np.testing.assert_allclose(np.asarray(jax.vmap(fun, (None, 0))(xs[0], idx)),
                                   _loop(lambda i: fun(xs[0], i), idx))
        np.testing.assert_allclose(np.asarray(jax.vmap(fun, (0, None))(xs, idx[0])),
                                   _loop(lambda x: fun(x, idx[0]), xs))
    np.testing.assert_allclose(np.asarray(jax.vmap(h)(xs, scalar_idx)), _loop(h, xs, scalar_idx))
    np.testing.assert_allclose(np.asarray(jax.vmap(h, (None, 0))(xs[0], scalar_idx)),
                               _loop(lambda i: h(xs[0], i), scalar_idx))
    # A batch axis that is not the leading one.
    np.testing.assert_allclose(np.asarray(jax.vmap(f, (1, 0))(jnp.swapaxes(xs, 0, 1), idx)),
                               _loop(f, xs, idx))


def test_vmap_of_grad_of_getitem():
    xs = jnp.asarray(np.random.default_rng(3).standard_normal((3, 4)).astype(np.float32))
    idx = jnp.array([0, 3, 3])
    out = jax.vmap(jax.grad(lambda x, i: (x[i] ** 2).sum()))(xs, idx)
    expected = np.zeros((3, 4), np.float32)
    for b in range(3):
        expected[b, int(idx[b])] = 2 * float(xs[b, int(idx[b])])
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-6)


# ---------------------------------------------------------------------------
# dynamic_slice / dynamic_update_slice
# ---------------------------------------------------------------------------
def _np_dynamic_slice(x, starts, sizes):
    starts = [s + n if s < 0 else s for s, n in zip(starts, x.shape)]
    starts = [int(np.clip(s, 0, n - k)) for s, n, k in zip(starts, x.shape, sizes)]
    return x[tuple(slice(s, s + k) for s, k in zip(starts, sizes))], starts


@settings(max_examples=40, **SETTINGS)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=3), st.integers(0, 2**16))
def test_dynamic_slice_and_update_match_numpy(shape, seed):
    rng = np.random.default_rng(seed)
    xn = rng.standard_normal(shape).astype(np.float32)
    sizes = [int(rng.integers(0, n + 1)) for n in shape]
    starts = [int(rng.integers(-n - 2, n + 3)) for n in shape]
    expected, clamped = _np_dynamic_slice(xn, starts, sizes)
    out = lax_idx.dynamic_slice(jnp.asarray(xn), starts, sizes)
    np.testing.assert_array_equal(np.asarray(out), expected)
    update = rng.standard_normal(sizes).astype(np.float32)
    expected_upd = xn.copy()
    expected_upd[tuple(slice(s, s + k) for s, k in zip(clamped, sizes))] = update
    out = lax_idx.dynamic_update_slice(jnp.asarray(xn), jnp.asarray(update),
                                   [jnp.asarray(s) for s in starts])
    np.testing.assert_array_equal(np.asarray(out), expected_upd)


def test_dynamic_slice_matches_real_jax(real_jax):
    x = np.arange(10)
    for start in [7, -3, 20, -20]:
        np.testing.assert_array_equal(
            np.asarray(lax_idx.dynamic_slice(jnp.asarray(x), (start,), (5,))),
            np.asarray(real_jax.lax.dynamic_slice(x, (start,), (5,))))
        np.testing.assert_array_equal(
            np.asarray(lax_idx.dynamic_update_slice(jnp.asarray(x), jnp.zeros(3, jnp.int32), (start,))),
            np.asarray(real_jax.lax.dynamic_update_slice(x, np.zeros(3, np.int32), (start,))))


def test_dynamic_slice_errors():
    with pytest.raises(TypeError, match="slice_sizes"):
        lax_idx.dynamic_slice(jnp.arange(10), (0,), (11,))
    with pytest.raises(ValueError, match="number of operand dimensions"):
        lax_idx.dynamic_slice(jnp.arange(10), (0, 1), (1,))


def test_dynamic_slice_gradients(x64):
    x = np.random.default_rng(4).standard_normal((4, 5))
    u = np.random.default_rng(5).standard_normal((2, 3))
    check_grads(lambda x: lax_idx.dynamic_slice(x, (1, jnp.asarray(3)), (2, 2)) ** 2, (x,), order=2)
    check_grads(lambda x, u: lax_idx.dynamic_update_slice(x, u ** 2, (jnp.asarray(3), -2)),
                (x, u), order=2)


def test_dynamic_slice_vmap_batched_starts():
    rng = np.random.default_rng(6)
    xs = jnp.asarray(rng.standard_normal((4, 6, 3)).astype(np.float32))
    us = jnp.asarray(rng.standard_normal((4, 2, 3)).astype(np.float32))
    starts = jnp.asarray(rng.integers(-7, 7, size=(4,)))

    def ds(x, s):
        return lax_idx.dynamic_slice(x, (s, 0), (2, 3))

    def dus(x, u, s):
        return lax_idx.dynamic_update_slice(x, u, (s, 0))

    np.testing.assert_allclose(np.asarray(jax.vmap(ds)(xs, starts)), _loop(ds, xs, starts))
    np.testing.assert_allclose(np.asarray(jax.vmap(ds, (None, 0))(xs[0], starts)),
                               _loop(lambda s: ds(xs[0], s), starts))
    np.testing.assert_allclose(np.asarray(jax.vmap(ds, (0, None))(xs, starts[0])),
                               _loop(lambda x: ds(x, starts[0]), xs))
    np.testing.assert_allclose(np.asarray(jax.vmap(dus)(xs, us, starts)), _loop(dus, xs, us, starts))
    np.testing.assert_allclose(np.asarray(jax.vmap(dus, (None, 0, 0))(xs[0], us, starts)),
                               _loop(lambda u, s: dus(xs[0], u, s), us, starts))
    np.testing.assert_allclose(np.asarray(jax.vmap(dus, (0, 0, None))(xs, us, starts[0])),
                               _loop(lambda x, u: dus(x, u, starts[0]), xs, us))


# ---------------------------------------------------------------------------
# The gather primitive directly
# ---------------------------------------------------------------------------
def test_gather_primitive_shapes_and_errors():
    x = jnp.zeros((4, 5, 6))
    i = jnp.zeros((7,), jnp.int32)
    assert lax_idx.gather(x, [i, i], (0, 2), 0).shape == (7, 5)
    assert lax_idx.gather(x, [i, i], (0, 2), 1).shape == (5, 7)
    with pytest.raises(TypeError, match="integer dtype"):
        lax_idx.gather(x, [jnp.zeros(3)], (0,))
    with pytest.raises(TypeError, match="share one shape"):
        lax_idx.gather(x, [i, jnp.zeros(3, jnp.int32)], (0, 1))
    with pytest.raises(ValueError, match="mode"):
        lax_idx.gather(x, [i], (0,), mode="wrap")


# ---------------------------------------------------------------------------
# take, take_along_axis
# ---------------------------------------------------------------------------
def test_take_modes_match_real_jax(real_jax):
    rjnp = real_jax.numpy
    xn = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    idx = np.array([[1, 9], [-1, -9]])
    for axis in (None, 0, 1, -1):
        for mode in (None, "fill", "clip", "wrap"):
            np.testing.assert_array_equal(
                np.asarray(jnp.take(jnp.asarray(xn), idx, axis=axis, mode=mode)),
                np.asarray(rjnp.take(xn, idx, axis=axis, mode=mode)))
    np.testing.assert_array_equal(np.asarray(jnp.take(xn, idx, fill_value=-1.0)),
                                  np.asarray(rjnp.take(xn, idx, fill_value=-1.0)))
    assert float(jnp.take(xn, 4)) == 4.0
    with pytest.raises(NotImplementedError, match="raise"):
        jnp.take(xn, idx, mode="raise")
    with pytest.raises(ValueError, match="integer"):
        jnp.take(xn, np.array([0.0]))


def test_take_in_bounds_matches_numpy():
    xn = np.random.default_rng(7).standard_normal((3, 4, 2))
    for axis in (None, 0, 1, 2):
        n = xn.size if axis is None else xn.shape[axis]
        idx = np.random.default_rng(8).integers(-n, n, size=(2, 3))
        np.testing.assert_allclose(np.asarray(jnp.take(xn, idx, axis=axis)),
                                   np.take(xn, idx, axis=axis).astype(np.float32))


def test_take_along_axis():
    rng = np.random.default_rng(9)
    xn = rng.standard_normal((3, 4)).astype(np.float32)
    for axis in (0, 1, -1):
        idx = np.argsort(xn, axis=axis)
        np.testing.assert_array_equal(np.asarray(jnp.take_along_axis(xn, idx, axis=axis)),
                                      np.take_along_axis(xn, idx, axis=axis))
    # broadcasting of the other axes, and axis=None
    np.testing.assert_array_equal(np.asarray(jnp.take_along_axis(xn, np.array([[0], [3], [1]]), 1)),
                                  np.take_along_axis(xn, np.array([[0], [3], [1]]), 1))
    np.testing.assert_array_equal(np.asarray(jnp.take_along_axis(xn, np.array([0, 11]), None)),
                                  xn.ravel()[[0, 11]])
    with pytest.raises(ValueError, match="same number of dimensions"):
        jnp.take_along_axis(xn, np.array([0, 1]), axis=1)
    with pytest.raises(TypeError, match="integer"):
        jnp.take_along_axis(xn, np.array([[0.0]]), axis=1)


def test_take_along_axis_out_of_bounds_matches_jax(real_jax):
    xn = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    for idx, axis in [(np.array([[0, 5], [-1, 1]]), 1), (np.array([[0, 1, 2]]), 0)]:
        np.testing.assert_array_equal(
            np.asarray(jnp.take_along_axis(xn, idx, axis=axis)),
            np.asarray(real_jax.numpy.take_along_axis(xn, idx, axis=axis)))


# ---------------------------------------------------------------------------
# nonzero & friends
# ---------------------------------------------------------------------------
@settings(max_examples=30, **SETTINGS)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(0, 2**16),
       st.integers(0, 8))
def test_nonzero_family_matches_numpy(shape, seed, size):
    a = (np.random.default_rng(seed).random(shape) > 0.6).astype(np.int32)
    for got, want in zip(jnp.nonzero(a), np.nonzero(a)):
        np.testing.assert_array_equal(np.asarray(got), want)
        assert got.dtype == jnp.int32
    np.testing.assert_array_equal(np.asarray(jnp.flatnonzero(a)), np.flatnonzero(a))
    np.testing.assert_array_equal(np.asarray(jnp.argwhere(a)), np.argwhere(a))
    np.testing.assert_array_equal(np.asarray(jnp.where(a)[0]), np.nonzero(a)[0]) \
        if hasattr(jnp, "where") and jnp.where.__module__ != __name__ else None
    # size= pads with fill_value or truncates -- eagerly and under vmap (traced values)
    want = [np.concatenate([w[:size], np.full(max(size - len(w), 0), -1)]) for w in np.nonzero(a)]
    got = jnp.nonzero(a, size=size, fill_value=-1)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(np.asarray(g), w)
    batched = jax.vmap(lambda a: jnp.nonzero(a, size=size, fill_value=-1))(jnp.asarray(a)[None])
    for g, w in zip(batched, want):
        np.testing.assert_array_equal(np.asarray(g)[0], w)


def test_nonzero_traced_needs_size():
    with pytest.raises(errors.ConcretizationTypeError, match="size argument"):
        jax.make_jaxpr(jnp.nonzero)(jnp.arange(3))
    closed = jax.make_jaxpr(lambda a: jnp.nonzero(a, size=3, fill_value=(7, 8)))(jnp.eye(2))
    got = closed(jnp.array([[0.0, 1.0], [1.0, 0.0]]))
    np.testing.assert_array_equal(np.asarray(got[0]), [0, 1, 7])
    np.testing.assert_array_equal(np.asarray(got[1]), [1, 0, 8])
    with pytest.raises(ValueError, match="0d"):
        jnp.nonzero(jnp.asarray(1))


def test_argwhere_flatnonzero_with_size():
    a = np.array([[0, 1], [2, 0]])
    np.testing.assert_array_equal(np.asarray(jnp.argwhere(a, size=3)), [[0, 1], [1, 0], [0, 0]])
    np.testing.assert_array_equal(np.asarray(jnp.flatnonzero(a, size=3, fill_value=9)), [1, 2, 9])
    assert jnp.argwhere(jnp.asarray(1)).shape == (1, 0)


def test_extract_and_compress():
    xn = np.arange(12.0).reshape(4, 3)
    cond = np.array([True, False, True, True])
    np.testing.assert_array_equal(np.asarray(jnp.compress(cond, xn, axis=0)),
                                  np.compress(cond, xn, axis=0))
    np.testing.assert_array_equal(np.asarray(jnp.compress(cond[:2], xn, axis=0)),
                                  np.compress(cond[:2], xn, axis=0))
    np.testing.assert_array_equal(np.asarray(jnp.compress(cond, xn)), np.compress(cond, xn))
    np.testing.assert_array_equal(np.asarray(jnp.compress(cond[:3], xn, axis=1, size=3,
                                                          fill_value=-1)),
                                  [[0, 2, -1], [3, 5, -1], [6, 8, -1], [9, 11, -1]])
    np.testing.assert_array_equal(np.asarray(jnp.extract(xn > 4, xn)), np.extract(xn > 4, xn))
    np.testing.assert_array_equal(np.asarray(jnp.extract(xn > 8, xn, size=4, fill_value=-1)),
                                  [9, 10, 11, -1])
    with pytest.raises(ValueError, match="1D"):
        jnp.compress(np.ones((1, 4), bool), xn, axis=0)
    with pytest.raises(ValueError, match="out of bounds"):
        jnp.compress(np.array([0, 0, 0, 0, 1], bool), xn, axis=0)


def test_choose():
    a = np.array([[0, 1, 2], [2, 1, 0]])
    choices = [np.arange(3.0), 10 + np.arange(3.0), 20.0]
    np.testing.assert_array_equal(np.asarray(jnp.choose(a, choices)), np.choose(a, choices))
    bad = np.array([0, 5, -1])
    for mode in ("clip", "wrap"):
        np.testing.assert_array_equal(
            np.asarray(jnp.choose(bad, [np.arange(3.0), 10 + np.arange(3.0)], mode=mode)),
            np.choose(bad, [np.arange(3.0), 10 + np.arange(3.0)], mode=mode))
    with pytest.raises(ValueError, match="invalid entry"):
        jnp.choose(bad, [np.arange(3.0), np.arange(3.0)])


def test_index_helpers():
    for got, want in [(jnp.diag_indices(3, 2), np.diag_indices(3, 2)),
                      (jnp.tril_indices(3, 1, 4), np.tril_indices(3, 1, 4)),
                      (jnp.triu_indices(3, -1), np.triu_indices(3, -1)),
                      (jnp.tril_indices_from(np.zeros((2, 3)), k=1),
                       np.tril_indices_from(np.zeros((2, 3)), k=1)),
                      (jnp.triu_indices_from(np.zeros((3, 3))), np.triu_indices_from(np.zeros((3, 3)))),
                      (jnp.diag_indices_from(np.zeros((2, 2))), np.diag_indices_from(np.zeros((2, 2))))]:
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(np.asarray(g), w)
            assert g.dtype == jnp.int32
    with pytest.raises(ValueError, match="equal length"):
        jnp.diag_indices_from(np.zeros((2, 3)))
    x = jnp.arange(16.0).reshape(4, 4)
    np.testing.assert_array_equal(np.asarray(x[jnp.tril_indices(4)]),
                                  np.arange(16.0).reshape(4, 4)[np.tril_indices(4)])


def test_unravel_and_ravel_multi_index(real_jax):
    flat = np.array([0, 5, 7, 23])
    for got, want in zip(jnp.unravel_index(flat, (2, 3, 4)), np.unravel_index(flat, (2, 3, 4))):
        np.testing.assert_array_equal(np.asarray(got), want)
    oob = np.array([-30, -24, -25, 23, 24, -1])
    for got, want in zip(jnp.unravel_index(oob, (2, 3, 4)),
                         real_jax.numpy.unravel_index(oob, (2, 3, 4))):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    assert jnp.unravel_index(5, (2, 3))[0].weak_type
    coords = (np.array([1, 0, 1]), np.array([2, 1, 0]))
    np.testing.assert_array_equal(np.asarray(jnp.ravel_multi_index(coords, (2, 3))),
                                  np.ravel_multi_index(coords, (2, 3)))
    np.testing.assert_array_equal(np.asarray(jnp.ravel_multi_index(coords, (2, 3), order="F")),
                                  np.ravel_multi_index(coords, (2, 3), order="F"))
    bad = (np.array([1, 5]), np.array([2, -1]))
    for mode in ("clip", "wrap"):
        np.testing.assert_array_equal(np.asarray(jnp.ravel_multi_index(bad, (2, 3), mode=mode)),
                                      np.ravel_multi_index(bad, (2, 3), mode=mode))
    with pytest.raises(ValueError, match="invalid entry"):
        jnp.ravel_multi_index(bad, (2, 3))
    with pytest.raises(errors.ConcretizationTypeError, match="mode='wrap'"):
        jax.make_jaxpr(lambda i: jnp.ravel_multi_index((i, i), (2, 3)))(jnp.array([1]))


def test_ix_():
    xn = np.arange(20.0).reshape(4, 5)
    rows, cols = np.array([0, 3]), np.array([1, 2, 4])
    got = jnp.ix_(rows, cols)
    assert [g.shape for g in got] == [(2, 1), (1, 3)]
    np.testing.assert_array_equal(np.asarray(jnp.asarray(xn)[got]), xn[np.ix_(rows, cols)])
    mask = np.array([True, False, True, False, False])
    np.testing.assert_array_equal(np.asarray(jnp.asarray(xn)[jnp.ix_(rows, mask)]),
                                  xn[np.ix_(rows, mask)])


def test_put_matches_real_jax(real_jax):
    xn = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    for ind, v, mode in [([0, 1], [9.0, 8.0], None), ([0, 10, -1], [9.0, 8.0], "wrap"),
                         ([-1, -7, 10], 7.0, "clip"), ([-1, -7, 10], [1.0, 2.0, 3.0], None),
                         ([0, 1, 2], [9.0, 8.0], None)]:
        got = jnp.put(jnp.asarray(xn), np.array(ind), np.asarray(v, np.float32), mode=mode,
                      inplace=False)
        want = real_jax.numpy.put(xn, np.array(ind), np.asarray(v, np.float32), mode=mode,
                                  inplace=False)
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    with pytest.raises(ValueError, match="inplace=False"):
        jnp.put(jnp.asarray(xn), np.array([0]), 1.0)


def test_bincount_matches_numpy_and_needs_length_under_jit():
    import minijax
    x = np.array([0, 1, 1, 3, 3, 3], np.int32)
    w = np.array([0.5, 1.0, 2.0, 1.0, 1.0, 1.0], np.float32)
    np.testing.assert_array_equal(np.asarray(jnp.bincount(x)), np.bincount(x))
    np.testing.assert_allclose(np.asarray(jnp.bincount(x, w, minlength=6)),
                               np.bincount(x, w, minlength=6))
    assert jnp.bincount(x).dtype == np.int32
    jitted = minijax.jit(lambda v: jnp.bincount(v, length=5))
    np.testing.assert_array_equal(np.asarray(jitted(x)), np.bincount(x, minlength=5))
    with pytest.raises(minijax.errors.ConcretizationTypeError, match="length="):
        minijax.jit(jnp.bincount)(x)
