"""The Array type: JAX's reprs, immutability, conversion rules, and jnp.array's input checks."""
from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import minijax
import minijax.numpy as jnp


# -- reprs quoted in the foundation issue --------------------------------------------------------
def test_repr_matches_jax_for_the_tutorial_cells():
    assert repr(jnp.ones((1, 10))) == \
        "Array([[1., 1., 1., 1., 1., 1., 1., 1., 1., 1.]], dtype=float32)"
    assert repr(jnp.zeros((2, 3))) == \
        "Array([[0., 0., 0.],\n       [0., 0., 0.]], dtype=float32)"
    assert repr(jnp.arange(1, 20, 2)) == \
        "Array([ 1,  3,  5,  7,  9, 11, 13, 15, 17, 19], dtype=int32)"


@pytest.mark.parametrize("make, expected", [
    (lambda: jnp.asarray(2.0), "Array(2., dtype=float32, weak_type=True)"),
    (lambda: jnp.array(3), "Array(3, dtype=int32, weak_type=True)"),
    (lambda: jnp.array([True, False]), "Array([ True, False], dtype=bool)"),
    (lambda: jnp.zeros((0, 3)), "Array([], shape=(0, 3), dtype=float32)"),
    (lambda: jnp.array([1, 2]) * 2.5, "Array([2.5, 5. ], dtype=float32, weak_type=True)"),
    (lambda: jnp.float32(3), "Array(3., dtype=float32)"),
])
def test_small_reprs(make, expected):
    assert repr(make()) == expected


def test_repr_agrees_with_real_jax_on_wide_and_tall_arrays(real_jax):
    import jax.numpy as rjnp
    for build in (lambda m: m.arange(100.0), lambda m: m.arange(30.0).reshape(3, 10),
                  lambda m: m.arange(12).reshape(2, 2, 3), lambda m: m.ones((2, 2), dtype=bool)):
        assert repr(build(jnp)) == repr(build(rjnp))


def test_str_is_numpys():
    assert str(jnp.ones(3)) == str(np.ones(3, np.float32))


def test_type_name_is_arrayimpl_and_array_is_the_public_alias():
    a = jnp.ones(3)
    assert type(a).__name__ == "ArrayImpl"
    assert isinstance(a, minijax.Array)


# -- immutability ---------------------------------------------------------------------------------
def test_item_assignment_raises_and_points_to_at():
    c = jnp.arange(1, 20, 2)
    with pytest.raises(TypeError, match=r"x = x.at\[idx\].set\(y\)"):
        c[4] = -1
    assert c.tolist() == list(range(1, 20, 2))


def test_numpy_view_is_read_only_and_cannot_change_the_array():
    x = jnp.arange(5)
    view = np.asarray(x)
    assert not view.flags.writeable
    with pytest.raises(ValueError):
        view[0] = 100
    assert x.tolist() == [0, 1, 2, 3, 4]


def test_array_from_a_numpy_array_does_not_alias_it():
    source = np.arange(3.0)
    x = jnp.array(source)
    source[0] = 42
    assert x.tolist() == [0.0, 1.0, 2.0]


def test_arrays_are_unhashable():
    with pytest.raises(TypeError, match="unhashable"):
        hash(jnp.ones(2))


# -- attributes and conversions -------------------------------------------------------------------
def test_attributes():
    x = jnp.zeros((2, 3), dtype=jnp.int32)
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and x.dtype == np.int32
    assert len(x) == 2
    assert x.T.shape == (3, 2)
    assert x.block_until_ready() is x
    assert x.device == minijax.devices()[0]
    assert x.devices() == {minijax.devices()[0]}


def test_python_conversions():
    assert float(jnp.asarray(2.5)) == 2.5
    assert int(jnp.array(7)) == 7
    assert jnp.array(3).item() == 3
    assert [1, 2, 3][jnp.array(1)] == 2
    assert f"{jnp.asarray(0.125):.2f}" == "0.12"
    with pytest.raises(ValueError, match="ambiguous"):
        bool(jnp.ones(2))


def test_iteration_gives_arrays():
    rows = list(jnp.arange(6).reshape(3, 2))
    assert len(rows) == 3 and all(isinstance(r, minijax.Array) for r in rows)
    assert [r.tolist() for r in rows] == [[0, 1], [2, 3], [4, 5]]
    with pytest.raises(TypeError, match="0-d"):
        iter(jnp.asarray(1.0))


def test_numpy_operand_on_the_left_still_gives_an_array():
    out = np.ones(3, np.float32) + jnp.ones(3)
    assert isinstance(out, minijax.Array)


def test_pickle_round_trip():
    x = jnp.arange(4.0)
    y = pickle.loads(pickle.dumps(x))
    assert isinstance(y, minijax.Array) and y.tolist() == x.tolist() and y.dtype == x.dtype


# -- jnp.array: accepted and rejected inputs ------------------------------------------------------
@pytest.mark.parametrize("data, dtype", [
    ([1, 2, 3], np.int32), ((1.0, 3.0), np.float32), ([[1, 2], [3, 4]], np.int32),
    ([True, False], np.bool_), (np.arange(3.0), np.float32), (np.arange(3), np.int32),
    ([1, 2.5], np.float32), (7, np.int32),
])
def test_default_dtypes_are_32_bit(data, dtype):
    x = jnp.array(data)
    assert x.dtype == dtype
    np.testing.assert_array_equal(np.asarray(x), np.asarray(data, dtype))


def test_dtype_argument_is_respected():
    assert jnp.array([1, 2], dtype=jnp.float32).dtype == np.float32
    assert jnp.array([1.7, 2.2], dtype=jnp.int32).tolist() == [1, 2]


def test_float64_request_warns_and_gives_float32():
    with pytest.warns(UserWarning, match="jax_enable_x64"):
        x = jnp.array([1.0, 2.0], dtype=jnp.float64)
    assert x.dtype == np.float32


def test_x64_mode_gives_64_bit_defaults(x64):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert jnp.array([1.0]).dtype == np.float64
        assert jnp.array([1]).dtype == np.int64
        assert jnp.array([1.0], dtype=jnp.float64).dtype == np.float64


def test_set_is_rejected_with_a_teaching_message():
    with pytest.raises(TypeError, match=r"unordered.*sorted\(s\)"):
        jnp.array({2, 3, 5})


@pytest.mark.parametrize("bad, error, phrase", [
    ({"a": 1}, TypeError, "dict"),
    ("abc", TypeError, "string"),
    (None, ValueError, "None"),
    ([[1, 2], [3]], ValueError, "ragged"),
    ([1, [2, 3]], ValueError, "ragged"),
    (frozenset({1}), TypeError, "unordered"),
])
def test_other_bad_inputs_are_rejected(bad, error, phrase):
    with pytest.raises(error, match=phrase):
        jnp.array(bad)


def test_asarray_returns_the_same_array():
    x = jnp.ones(3)
    assert jnp.asarray(x) is x


def test_lists_of_arrays_and_scalars_stack():
    x = jnp.array([jnp.asarray(1.0), 2.0, np.float32(3)])
    assert x.tolist() == [1.0, 2.0, 3.0] and x.dtype == np.float32
