"""jax.numpy shape functions against NumPy (values, dtypes, shapes) and real JAX (dtypes, weak
types, errors), plus vmap and grad through them."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minijax as jax
import minijax.numpy as jnp
from minijax.test_util import check_grads

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True)

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4)
nonempty = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def arr(shape, dtype=np.float32, seed=0):
    n = int(np.prod(shape))
    return (np.arange(n) * 3 % 7 - 2 + seed).reshape(shape).astype(dtype)


def same(got, expected):
    """Values, shape and dtype equal to NumPy's (NumPy inputs are 32-bit, so dtypes agree)."""
    if isinstance(expected, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(expected)
        for g, e in zip(got, expected):
            same(g, e)
        return
    expected = np.asarray(expected)
    assert isinstance(got, jax.Array), type(got)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    np.testing.assert_array_equal(np.asarray(got), expected)


# ---------------------------------------------------------------------------
# Reshaping and axes
# ---------------------------------------------------------------------------
@SETTINGS
@given(shapes, st.sampled_from(["C", "F"]))
def test_reshape_and_ravel(shape, order):
    x = arr(shape)
    same(jnp.ravel(x, order=order), np.ravel(x, order=order))
    same(jnp.reshape(x, (-1,), order=order), np.reshape(x, (-1,), order=order))
    if len(shape) > 1:
        target = shape[::-1]
        same(jnp.reshape(x, target, order=order), np.reshape(x, target, order=order))
        same(jnp.asarray(x).reshape(*target), np.reshape(x, target))


def test_reshape_errors():
    with pytest.raises(TypeError, match="evenly divide"):
        jnp.reshape(jnp.ones(6), (4, -1))
    with pytest.raises(ValueError, match="one unknown dimension"):
        jnp.reshape(jnp.ones(6), (-1, -1))
    with pytest.raises(TypeError, match="cannot reshape"):
        jnp.reshape(jnp.ones(6), (4, 2))


@SETTINGS
@given(hnp.array_shapes(min_dims=0, max_dims=4, max_side=3), st.randoms(use_true_random=False))
def test_transpose_family(shape, rnd):
    x = arr(shape)
    nd = len(shape)
    perm = list(range(nd))
    rnd.shuffle(perm)
    same(jnp.transpose(x), np.transpose(x))
    same(jnp.transpose(x, perm), np.transpose(x, perm))
    same(jnp.permute_dims(x, tuple(perm)), np.transpose(x, perm))
    same(jnp.asarray(x).T, x.T)
    if nd >= 2:
        a, b = rnd.randrange(-nd, nd), rnd.randrange(-nd, nd)
        same(jnp.swapaxes(x, a, b), np.swapaxes(x, a, b))
        same(jnp.asarray(x).swapaxes(a, b), np.swapaxes(x, a, b))
        same(jnp.matrix_transpose(x), np.swapaxes(x, -1, -2))
        k = rnd.randrange(1, nd + 1)
        src = rnd.sample(range(nd), k)
        dst = rnd.sample(range(-nd, 0), k)
        same(jnp.moveaxis(x, src, dst), np.moveaxis(x, src, dst))
        same(jnp.moveaxis(x, src[0], dst[0]), np.moveaxis(x, src[0], dst[0]))


def test_axis_errors():
    x = jnp.ones((2, 3))
    with pytest.raises(ValueError, match="not a permutation"):
        jnp.transpose(x, (0, 0))
    with pytest.raises(ValueError, match="Inconsistent number of elements"):
        jnp.moveaxis(x, (0, 1), 0)
    with pytest.raises(ValueError, match="out of bounds"):
        jnp.swapaxes(x, 0, 2)
    with pytest.raises(ValueError, match="size not equal to one"):
        jnp.squeeze(x, 0)
    with pytest.raises(ValueError, match="repeated axis"):
        jnp.expand_dims(x, (0, 0))
    with pytest.raises(ValueError, match="matrix_transpose"):
        jnp.matrix_transpose(jnp.ones(3))


@SETTINGS
@given(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=2))
def test_squeeze_and_expand_dims(shape):
    x = arr(shape)
    same(jnp.squeeze(x), np.squeeze(x))
    ones = tuple(i for i, s in enumerate(shape) if s == 1)
    if ones:
        same(jnp.squeeze(x, ones[-1]), np.squeeze(x, ones[-1]))
        same(jnp.squeeze(x, tuple(o - len(shape) for o in ones)), np.squeeze(x, ones))
    same(jnp.expand_dims(x, 0), np.expand_dims(x, 0))
    same(jnp.expand_dims(x, (-1, 0)), np.expand_dims(x, (-1, 0)))
    same(jnp.asarray(x).squeeze(), np.squeeze(x))


# ---------------------------------------------------------------------------
# Broadcasting
# ---------------------------------------------------------------------------
@SETTINGS
@given(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
def test_broadcasting(bshapes):
    xs = [arr(s, seed=i) for i, s in enumerate(bshapes.input_shapes)]
    assert jnp.broadcast_shapes(*bshapes.input_shapes) == np.broadcast_shapes(*bshapes.input_shapes)
    same(jnp.broadcast_arrays(*xs), np.broadcast_arrays(*xs))
    target = bshapes.result_shape
    same(jnp.broadcast_to(xs[0], target), np.broadcast_to(xs[0], target))


def test_broadcast_errors():
    with pytest.raises(ValueError, match="Incompatible shapes"):
        jnp.broadcast_to(jnp.ones(3), (2,))
    with pytest.raises(ValueError, match="Incompatible shapes"):
        jnp.broadcast_shapes((2,), (3,))
    assert jnp.broadcast_shapes(3, (2, 1)) == (2, 3)


# ---------------------------------------------------------------------------
# Joining and splitting
# ---------------------------------------------------------------------------
@SETTINGS
@given(nonempty, st.integers(1, 3), st.data())
def test_concatenate_stack(shape, count, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    xs = []
    for i in range(count):
        s = list(shape)
        s[axis] = data.draw(st.integers(0, 3))
        xs.append(arr(tuple(s), seed=i))
    same(jnp.concatenate(xs, axis), np.concatenate(xs, axis))
    same(jnp.concat(xs, axis=axis), np.concatenate(xs, axis))
    same(jnp.concatenate(xs, axis=None), np.concatenate(xs, axis=None))
    equal = [arr(shape, seed=i) for i in range(count)]
    stack_axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    same(jnp.stack(equal, stack_axis), np.stack(equal, stack_axis))
    same(list(jnp.unstack(np.stack(equal, stack_axis), axis=stack_axis)), equal)
    same(jnp.hstack(equal), np.hstack(equal))
    same(jnp.vstack(equal), np.vstack(equal))
    same(jnp.dstack(equal), np.dstack(equal))
    if len(shape) <= 2:
        same(jnp.column_stack(equal), np.column_stack(equal))


def test_join_dtypes_follow_jax_promotion():
    assert jnp.concatenate([jnp.ones(2, jnp.int8), jnp.ones(2, jnp.float16)]).dtype == np.float16
    assert jnp.concatenate([jnp.ones(2, jnp.int32), jnp.ones(2)]).dtype == np.float32
    ints = [jnp.ones(2, jnp.int32), jnp.ones(2, jnp.int32)]
    assert jnp.stack(ints, dtype=jnp.float32).dtype == np.float32
    out = jnp.stack([1.0, 2.0])
    assert out.dtype == np.float32 and out.weak_type
    assert not jnp.concatenate([jnp.array([1.0]), jnp.ones(1)]).weak_type
    # an array counts as a sequence of its rows
    same(jnp.concatenate(jnp.asarray(arr((2, 3)))), np.concatenate(arr((2, 3))))


def test_join_errors():
    with pytest.raises(ValueError, match="Zero-dimensional"):
        jnp.concatenate([jnp.ones(()), jnp.ones(())])
    with pytest.raises(ValueError, match="at least one array"):
        jnp.concatenate([])
    with pytest.raises(ValueError, match="same shape"):
        jnp.stack([jnp.ones(2), jnp.ones(3)])
    with pytest.raises(TypeError, match="different numbers of dimensions"):
        jnp.concatenate([jnp.ones(2), jnp.ones((2, 2))])
    with pytest.raises(TypeError, match="differ in dimensions"):
        jnp.concatenate([jnp.ones((2, 3)), jnp.ones((3, 3))], axis=1)


@SETTINGS
@given(nonempty, st.data())
def test_split_family(shape, data):
    x = arr(shape)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[axis]
    sections = data.draw(st.integers(1, 4))
    same(jnp.array_split(x, sections, axis), np.array_split(x, sections, axis))
    if n % sections == 0:
        same(jnp.split(x, sections, axis), np.split(x, sections, axis))
    points = data.draw(st.lists(st.integers(-n - 1, n + 1), max_size=3))
    same(jnp.split(x, points, axis), np.split(x, points, axis))
    same(jnp.array_split(x, np.array(points, np.int32), axis), np.array_split(x, points, axis))
    if len(shape) >= 2 and shape[1] % 1 == 0:
        same(jnp.hsplit(x, [1]), np.hsplit(x, [1]))
        same(jnp.vsplit(x, [1]), np.vsplit(x, [1]))
    if len(shape) >= 3:
        same(jnp.dsplit(x, [1]), np.dsplit(x, [1]))


def test_split_errors():
    with pytest.raises(ValueError, match="equal division"):
        jnp.split(jnp.ones(5), 2)
    with pytest.raises(ValueError, match="larger than 0"):
        jnp.array_split(jnp.ones(5), 0)


# ---------------------------------------------------------------------------
# Repeating, flipping, rolling
# ---------------------------------------------------------------------------
@SETTINGS
@given(hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
       st.lists(st.integers(0, 3), min_size=0, max_size=4))
def test_tile(shape, reps):
    x = arr(shape)
    same(jnp.tile(x, tuple(reps)), np.tile(x, tuple(reps)))
    same(jnp.tile(x, 2), np.tile(x, 2))


@SETTINGS
@given(shapes, st.data())
def test_repeat(shape, data):
    x = arr(shape)
    r = data.draw(st.integers(0, 3))
    same(jnp.repeat(x, r), np.repeat(x, r))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    same(jnp.repeat(x, r, axis=axis), np.repeat(x, r, axis=axis))
    counts = data.draw(st.lists(st.integers(0, 3), min_size=shape[axis], max_size=shape[axis]))
    same(jnp.repeat(x, np.array(counts, np.int32), axis=axis), np.repeat(x, counts, axis=axis))
    same(jnp.asarray(x).repeat(2, axis=axis), np.repeat(x, 2, axis=axis))


def test_repeat_total_length_matches_jax(real_jax):
    x = np.arange(3, dtype=np.int32)
    for repeats in (2, np.array([1, 2, 0], np.int32)):
        for total in (2, 5, 8):
            ours = jnp.repeat(x, repeats, total_repeat_length=total)
            theirs = real_jax.numpy.repeat(x, repeats, total_repeat_length=total)
            np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_repeat_needs_concrete_repeats():
    with pytest.raises(jax.errors.ConcretizationTypeError, match="repeats"):
        jax.jit(lambda r: jnp.repeat(jnp.arange(3), r))(jnp.array([1, 2, 3]))


@SETTINGS
@given(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4), st.data())
def test_flip_roll_rot90(shape, data):
    x = arr(shape)
    same(jnp.flip(x), np.flip(x))
    if shape:
        axis = data.draw(st.integers(-len(shape), len(shape) - 1))
        same(jnp.flip(x, axis), np.flip(x, axis))
        same(jnp.flipud(x), np.flipud(x))
        shift = data.draw(st.integers(-6, 6))
        same(jnp.roll(x, shift), np.roll(x, shift))
        same(jnp.roll(x, shift, axis), np.roll(x, shift, axis))
    if len(shape) >= 2:
        same(jnp.fliplr(x), np.fliplr(x))
        shifts = (data.draw(st.integers(-5, 5)), data.draw(st.integers(-5, 5)))
        same(jnp.roll(x, shifts, (0, -1)), np.roll(x, shifts, (0, -1)))
        same(jnp.roll(x, 2, (0, 1)), np.roll(x, 2, (0, 1)))
        k = data.draw(st.integers(-5, 5))
        same(jnp.rot90(x, k), np.rot90(x, k))
        same(jnp.rot90(x, k, axes=(-1, 0)), np.rot90(x, k, axes=(-1, 0)))


# ---------------------------------------------------------------------------
# Padding
# ---------------------------------------------------------------------------
@SETTINGS
@given(nonempty, st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap", "maximum",
                                  "minimum", "mean", "empty"]), st.data())
def test_pad_modes(shape, mode, data):
    x = arr(shape)
    widths = [(data.draw(st.integers(0, 7)), data.draw(st.integers(0, 7))) for _ in shape]
    expected = np.pad(x, widths, mode=mode) if mode != "empty" else np.pad(x, widths)
    same(jnp.pad(x, widths, mode=mode), expected)
    same(jnp.pad(x, 2, mode=mode), np.pad(x, 2, mode=mode) if mode != "empty" else np.pad(x, 2))


def test_pad_constant_values():
    x = arr((2, 3))
    same(jnp.pad(x, ((1, 2), (0, 1)), constant_values=((1, 2), (3, 4))),
         np.pad(x, ((1, 2), (0, 1)), constant_values=((1, 2), (3, 4))))
    same(jnp.pad(x, (1, 2), constant_values=9), np.pad(x, (1, 2), constant_values=9))
    same(jnp.pad(x, 1, constant_values=(5, 6)), np.pad(x, 1, constant_values=(5, 6)))
    xi = arr((3,), np.int32)
    same(jnp.pad(xi, 1, mode="reflect"), np.pad(xi, 1, mode="reflect"))
    # a traced fill value works (it is just an operand of the pad primitive)
    f = jax.jit(lambda v: jnp.pad(jnp.ones(2), 1, constant_values=v))
    same(f(jnp.float32(4.0)), np.pad(np.ones(2, np.float32), 1, constant_values=4.0))


def test_pad_errors():
    with pytest.raises(NotImplementedError, match="Unimplemented padding mode"):
        jnp.pad(jnp.ones(3), 1, mode="foo")
    with pytest.raises(ValueError, match="negative"):
        jnp.pad(jnp.ones(3), -1)
    with pytest.raises(ValueError, match="empty axis"):
        jnp.pad(jnp.ones((0,)), 1, mode="edge")
    with pytest.raises(ValueError, match="unsupported keyword"):
        jnp.pad(jnp.ones(3), 1, mode="edge", constant_values=1)


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------
@SETTINGS
@given(hnp.array_shapes(min_dims=0, max_dims=4, max_side=3))
def test_atleast_and_queries(shape):
    x = arr(shape)
    for ours, theirs in [(jnp.atleast_1d, np.atleast_1d), (jnp.atleast_2d, np.atleast_2d),
                         (jnp.atleast_3d, np.atleast_3d)]:
        same(ours(x), theirs(x))
        same(ours(x, x[..., None]), theirs(x, x[..., None]))
    assert jnp.shape(x) == np.shape(x) and jnp.ndim(x) == np.ndim(x) and jnp.size(x) == np.size(x)
    assert jnp.shape(jnp.asarray(x)) == shape
    if shape:
        assert jnp.size(x, -1) == shape[-1]


@SETTINGS
@given(nonempty, st.data())
def test_append_insert_delete(shape, data):
    x = arr(shape)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[axis]
    same(jnp.append(x, x), np.append(x, x))
    same(jnp.append(x, x, axis=axis), np.append(x, x, axis=axis))
    idx = data.draw(st.lists(st.integers(-n, n - 1), max_size=3, unique=True))
    same(jnp.delete(x, np.array(idx, np.int32), axis=axis), np.delete(x, idx, axis=axis))
    same(jnp.delete(x, slice(0, None, 2), axis=axis), np.delete(x, slice(0, None, 2), axis=axis))
    same(jnp.delete(x, 0), np.delete(x, 0))
    pos = data.draw(st.integers(-n, n))
    same(jnp.insert(x, pos, 7.0, axis=axis), np.insert(x, pos, 7.0, axis=axis))
    positions = data.draw(st.lists(st.integers(-n, n), min_size=1, max_size=3))
    same(jnp.insert(x, np.array(positions, np.int32), -1.0, axis=axis),
         np.insert(x, positions, -1.0, axis=axis))
    same(jnp.insert(x, 1, np.array([5.0, 6.0], np.float32)), np.insert(x, 1, [5.0, 6.0]))


def test_insert_block_values_like_numpy():
    x = np.arange(6, dtype=np.int32).reshape(2, 3)
    vals = np.array([[7, 8], [9, 10]], np.int32)
    same(jnp.insert(x, 1, vals, axis=1), np.insert(x, 1, vals, axis=1))
    same(jnp.insert(x, np.array([1, 1, 3]), np.array([[7], [9]], np.int32), axis=1),
         np.insert(x, [1, 1, 3], np.array([[7], [9]], np.int32), axis=1))
    with pytest.raises(IndexError):
        jnp.delete(jnp.ones(3), 5)


@SETTINGS
@given(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
       hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
def test_resize(shape, new_shape):
    x = arr(shape)
    if x.size == 0:
        return
    same(jnp.resize(x, new_shape), np.resize(x, new_shape))


@pytest.mark.parametrize("trim", ["fb", "f", "b", "B"])
def test_trim_zeros(trim):
    for values in ([0, 1, 0, 2, 0, 0], [0, 0], [3], []):
        x = np.array(values, np.float32)
        same(jnp.trim_zeros(x, trim), np.trim_zeros(x, trim))


def test_trim_zeros_needs_a_concrete_input():
    with pytest.raises(jax.errors.ConcretizationTypeError, match="trim_zeros"):
        jax.jit(jnp.trim_zeros)(jnp.array([0.0, 1.0]))


# ---------------------------------------------------------------------------
# Against real JAX: dtypes and weak types of the results
# ---------------------------------------------------------------------------
WEAK_CASES = [
    ("reshape", lambda m, x: m.reshape(x, (1,))),
    ("ravel", lambda m, x: m.ravel(x)),
    ("flip", lambda m, x: m.flip(x)),
    ("atleast_2d", lambda m, x: m.atleast_2d(x)),
    ("tile", lambda m, x: m.tile(x, 2)),
    ("repeat", lambda m, x: m.repeat(x, 2)),
    ("pad", lambda m, x: m.pad(m.atleast_1d(x), 1)),
    ("pad_edge", lambda m, x: m.pad(m.atleast_1d(x), 1, mode="edge")),
    ("roll", lambda m, x: m.roll(m.atleast_1d(x), 1)),
    ("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 2))),
    ("stack", lambda m, x: m.stack([x, x])),
    ("concatenate", lambda m, x: m.concatenate([m.atleast_1d(x), m.atleast_1d(x)])),
    ("expand_dims", lambda m, x: m.expand_dims(x, 0)),
]


@pytest.mark.parametrize("name, f", WEAK_CASES, ids=[c[0] for c in WEAK_CASES])
@pytest.mark.parametrize("value", [2.0, 3, np.float32(1.5)])
def test_dtypes_match_real_jax(real_jax, name, f, value):
    ours = f(jnp, jnp.asarray(value))
    theirs = f(real_jax.numpy, real_jax.numpy.asarray(value))
    assert ours.dtype == theirs.dtype
    assert ours.weak_type == theirs.weak_type, (ours, theirs)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


# ---------------------------------------------------------------------------
# Transformations through the shape functions
# ---------------------------------------------------------------------------
def test_grad_through_shape_functions(x64):
    x = np.random.default_rng(0).standard_normal((3, 4))

    def f(x):
        y = jnp.pad(x, ((1, 2), (3, 0)), mode="reflect")            # (6, 7)
        y = jnp.roll(jnp.rot90(y), 2, axis=0)                         # (7, 6)
        y = jnp.concatenate([jnp.tile(y, (1, 2)), jnp.repeat(y, 2, axis=1)], axis=1)
        top, bottom = jnp.array_split(y, 2, axis=0)
        y = jnp.insert(jnp.delete(top, 1, axis=1), 0, 0.5, axis=1)
        return jnp.sin(y) * jnp.pad(bottom, ((0, 1), (0, 0)), mode="edge")

    check_grads(f, (x,), order=2)


def test_vmap_through_shape_functions():
    xs = arr((4, 3, 5), seed=1)

    def f(x):
        return jnp.roll(jnp.pad(jnp.flip(x, 1), ((1, 0), (2, 1)), mode="wrap"), (1, -2), (0, 1))

    for in_axes in (0, 1, 2):
        batched = np.moveaxis(xs, 0, in_axes)
        got = jax.vmap(f, in_axes=in_axes)(batched)
        expected = np.stack([np.asarray(f(x)) for x in xs])
        same(got, expected)


def test_jit_through_shape_functions():
    f = jax.jit(lambda x: jnp.hstack(jnp.array_split(jnp.moveaxis(x, 0, -1), 3, axis=1)[::-1]))
    x = arr((2, 5, 4))
    same(f(x), np.hstack(np.array_split(np.moveaxis(x, 0, -1), 3, axis=1)[::-1]))


def test_roll_with_a_traced_shift():
    x = arr((3, 4))
    f = jax.jit(lambda x, s: jnp.roll(x, s, 1))
    g = jax.jit(lambda x, s: jnp.roll(x, s))
    for s in (-5, -1, 0, 1, 3, 4, 9):
        same(f(x, s), np.roll(x, s, 1))
        same(g(x, s), np.roll(x, s))
    shifts = np.array([0, 1, -2], np.int32)
    same(jax.vmap(lambda s: jnp.roll(jnp.arange(4), s))(shifts),
         np.stack([np.roll(np.arange(4, dtype=np.int32), s) for s in shifts]))
