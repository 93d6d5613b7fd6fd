"""Pytrees: flatten/unflatten round trips, structure reprs, registration, and use in transforms."""
from __future__ import annotations

import collections

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minijax
import minijax.numpy as jnp
from minijax import tree_util as tu

Point = collections.namedtuple("Point", ["x", "y"])


class Box:
    """A user class registered with register_pytree_node."""

    def __init__(self, a, b, name):
        self.a, self.b, self.name = a, b, name

    def __eq__(self, other):
        return (isinstance(other, Box) and (self.a, self.b, self.name) == (other.a, other.b, other.name))


tu.register_pytree_node(Box, lambda bx: ((bx.a, bx.b), bx.name),
                        lambda name, children: Box(children[0], children[1], name))


@tu.register_pytree_node_class
class Linear:
    """A user class registered with the class decorator (tree_flatten / tree_unflatten methods)."""

    def __init__(self, w, b, activation="tanh"):
        self.w, self.b, self.activation = w, b, activation

    def tree_flatten(self):
        return (self.w, self.b), self.activation

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(*children, activation=aux)

    def __call__(self, x):
        return getattr(jnp, self.activation)(self.w * x + self.b)


EXAMPLES = [
    ({"a": 1, "b": (2, [3])}, [1, 2, 3], "PyTreeDef({'a': *, 'b': (*, [*])})"),
    ([1, None, (2,)], [1, 2], "PyTreeDef([*, None, (*,)])"),
    (None, [], "PyTreeDef(None)"),
    ((), [], "PyTreeDef(())"),
    (5, [5], "PyTreeDef(*)"),
    ({"b": 1, "a": [2, {"c": 3}]}, [2, 3, 1], "PyTreeDef({'a': [*, {'c': *}], 'b': *})"),
    (Point(1, (2, 3)), [1, 2, 3], "PyTreeDef(CustomNode(namedtuple[Point], [*, (*, *)]))"),
    ([Box(1, 2, "n")], [1, 2], "PyTreeDef([CustomNode(Box[n], [*, *])])"),
]


@pytest.mark.parametrize("tree,leaves,text", EXAMPLES)
def test_flatten_leaves_repr_and_round_trip(tree, leaves, text):
    got_leaves, treedef = tu.tree_flatten(tree)
    assert got_leaves == leaves
    assert repr(treedef) == text
    assert tu.tree_unflatten(treedef, got_leaves) == tree
    assert treedef.num_leaves == len(leaves)


@pytest.mark.parametrize("tree,leaves,text", EXAMPLES)
def test_matches_real_jax(tree, leaves, text, real_jax):
    jt = real_jax.tree_util
    if isinstance(tree, list) and tree and isinstance(tree[0], Box):
        pytest.skip("Box is registered with minijax only")
    ours, theirs = tu.tree_flatten(tree), jt.tree_flatten(tree)
    assert ours[0] == theirs[0]
    assert repr(ours[1]) == repr(theirs[1])
    assert ours[1].num_nodes == theirs[1].num_nodes


def test_none_is_an_empty_subtree_not_a_leaf():
    assert tu.tree_leaves([1, None, 2]) == [1, 2]
    assert tu.tree_leaves([1, None, 2], is_leaf=lambda x: x is None) == [1, None, 2]
    assert tu.tree_map(lambda x: x * 10, {"a": None, "b": 2}) == {"a": None, "b": 20}


def test_tree_map_multiple_trees_and_mismatch():
    out = tu.tree_map(lambda x, y: x + y, {"a": 1, "b": (2,)}, {"a": 10, "b": (20,)})
    assert out == {"a": 11, "b": (22,)}
    with pytest.raises(ValueError):
        tu.tree_map(lambda x, y: x + y, {"a": 1}, {"b": 1})


def test_unflatten_wrong_number_of_leaves():
    with pytest.raises(ValueError, match="expected 2, got 1"):
        tu.tree_unflatten(tu.tree_structure((1, 2)), [1])


def test_structure_equality_and_hash():
    s1 = tu.tree_structure({"a": 1, "b": [2, 3]})
    s2 = tu.tree_structure({"b": [0, 0], "a": 9})
    assert s1 == s2 and hash(s1) == hash(s2)
    assert s1 != tu.tree_structure({"a": 1, "b": (2, 3)})
    assert tu.tree_structure(Point(1, 2)) != tu.tree_structure((1, 2))


def test_register_pytree_node_class_round_trip():
    layer = Linear(2.0, 0.5, activation="sin")
    leaves, treedef = tu.tree_flatten(layer)
    assert leaves == [2.0, 0.5]
    rebuilt = tu.tree_unflatten(treedef, [3.0, 1.0])
    assert isinstance(rebuilt, Linear) and rebuilt.activation == "sin" and rebuilt.w == 3.0


def test_duplicate_registration_is_an_error():
    with pytest.raises(ValueError, match="Duplicate"):
        tu.register_pytree_node(Box, lambda b: ((), None), lambda a, c: Box(0, 0, ""))


def test_paths_and_keystr():
    pairs, _ = tu.tree_flatten_with_path({"a": [1, 2], "b": Point(3, 4)})
    assert [tu.keystr(p) for p, _ in pairs] == ["['a'][0]", "['a'][1]", "['b'].x", "['b'].y"]
    assert [v for _, v in pairs] == [1, 2, 3, 4]


def test_tree_transpose_and_reduce():
    out = tu.tree_transpose(tu.tree_structure([0, 0]), tu.tree_structure((0, 0)), [(1, 2), (3, 4)])
    assert out == ([1, 3], [2, 4])
    assert tu.tree_reduce(lambda a, b: a + b, {"x": 1, "y": [2, 3]}) == 6


def test_ordered_dict_keeps_insertion_order():
    d = collections.OrderedDict([("z", 1), ("a", 2)])
    leaves, treedef = tu.tree_flatten(d)
    assert leaves == [1, 2]
    assert list(tu.tree_unflatten(treedef, [5, 6]).keys()) == ["z", "a"]


_leaf = st.integers(-5, 5)
_trees = st.recursive(
    st.one_of(_leaf, st.none()),
    lambda sub: st.one_of(
        st.lists(sub, max_size=3),
        st.lists(sub, max_size=3).map(tuple),
        st.dictionaries(st.sampled_from("abcd"), sub, max_size=3),
        st.tuples(sub, sub).map(lambda t: Point(*t))),
    max_leaves=8)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(_trees)
def test_round_trip_random_trees(tree):
    leaves, treedef = tu.tree_flatten(tree)
    assert tu.tree_unflatten(treedef, leaves) == tree
    assert tu.tree_map(lambda x: x, tree) == tree
    assert treedef.flatten_up_to(tree) == leaves


# ---------------------------------------------------------------------------
# Transformations accept and return pytrees
# ---------------------------------------------------------------------------
def test_grad_through_registered_classes():
    layer = Linear(jnp.array([1.0, -2.0]), jnp.array([0.5, 0.0]))
    g = minijax.grad(lambda m: jnp.sum(m(jnp.array([0.3, 0.7]))))(layer)
    assert isinstance(g, Linear) and g.activation == "tanh"
    x = np.array([0.3, 0.7])
    pre = np.array([1.0, -2.0]) * x + np.array([0.5, 0.0])
    np.testing.assert_allclose(np.asarray(g.b), 1 - np.tanh(pre) ** 2, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(g.w), (1 - np.tanh(pre) ** 2) * x, rtol=1e-6)


def test_grad_through_namedtuple_and_none():
    def f(p):
        return p.x * p.y[0] + (0.0 if p.y[1] is None else 1.0)
    g = minijax.grad(f)(Point(2.0, (3.0, None)))
    assert isinstance(g, Point) and g.y[1] is None
    assert (float(g.x), float(g.y[0])) == (3.0, 2.0)


def test_vmap_over_dict_returns_dict():
    batch = {"a": jnp.array([1.0, 2.0, 3.0]), "b": jnp.array([[1.0], [2.0], [3.0]])}
    out = minijax.vmap(lambda d: {"s": d["a"] * d["b"], "a": d["a"]})(batch)
    assert set(out) == {"s", "a"} and out["s"].shape == (3, 1)
    np.testing.assert_allclose(np.asarray(out["s"])[:, 0], [1.0, 4.0, 9.0])
