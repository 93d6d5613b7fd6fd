"""Pytrees: nested containers of arrays that transformations walk through.

A pytree is any nesting of tuples, lists, dicts, namedtuples, ``None`` and
registered classes, with arrays (or anything else) at the leaves.
``tree_flatten`` splits a tree into its leaves and a ``PyTreeDef`` that
remembers the shape of the nesting; ``tree_unflatten`` puts it back. That is
how ``grad`` can differentiate with respect to a dict of parameters: it
flattens the dict, works on a flat list of arrays, and rebuilds the dict.
"""
from __future__ import annotations

import collections
import functools
from typing import Any, Callable, NamedTuple

__all__ = [
    "PyTreeDef", "tree_flatten", "tree_unflatten", "tree_leaves", "tree_structure", "tree_map",
    "tree_reduce", "tree_all", "tree_transpose", "register_pytree_node",
    "register_pytree_node_class", "all_leaves", "treedef_is_leaf", "tree_flatten_with_path",
    "tree_map_with_path", "keystr", "SequenceKey", "DictKey", "GetAttrKey", "FlattenedIndexKey",
]


class _NodeType(NamedTuple):
    flatten: Callable[[Any], tuple[list, Any]]      # node -> (children, aux_data)
    unflatten: Callable[[Any, list], Any]           # (aux_data, children) -> node
    keys: Callable[[Any, Any], list] | None = None  # (node, aux) -> key entries for paths


class SequenceKey(NamedTuple):
    idx: int

    def __str__(self):
        return f"[{self.idx}]"


class DictKey(NamedTuple):
    key: Any

    def __str__(self):
        return f"[{self.key!r}]"


class GetAttrKey(NamedTuple):
    name: str

    def __str__(self):
        return f".{self.name}"


class FlattenedIndexKey(NamedTuple):
    key: int

    def __str__(self):
        return f"[<flat index {self.key}>]"


def _sorted_keys(d):
    try:
        return sorted(d)
    except TypeError:
        raise ValueError(
            f"Comparator raised exception while sorting pytree dictionary keys {list(d)}; "
            "pytree dict keys must be mutually comparable (e.g. all strings).") from None


_registry: dict[type, _NodeType] = {
    tuple: _NodeType(lambda t: (list(t), None), lambda _, c: tuple(c),
                     lambda t, _: [SequenceKey(i) for i in range(len(t))]),
    list: _NodeType(lambda l: (list(l), None), lambda _, c: list(c),
                    lambda l, _: [SequenceKey(i) for i in range(len(l))]),
    dict: _NodeType(lambda d: ([d[k] for k in _sorted_keys(d)], tuple(_sorted_keys(d))),
                    lambda keys, c: dict(zip(keys, c)),
                    lambda d, keys: [DictKey(k) for k in keys]),
    type(None): _NodeType(lambda n: ([], None), lambda _, c: None, lambda n, _: []),
}


def _ordered_dict_node():
    return _NodeType(lambda d: (list(d.values()), tuple(d.keys())),
                     lambda keys, c: collections.OrderedDict(zip(keys, c)),
                     lambda d, keys: [DictKey(k) for k in keys])


_registry[collections.OrderedDict] = _ordered_dict_node()
_registry[collections.defaultdict] = _NodeType(
    lambda d: ([d[k] for k in _sorted_keys(d)], (d.default_factory, tuple(_sorted_keys(d)))),
    lambda aux, c: collections.defaultdict(aux[0], zip(aux[1], c)),
    lambda d, aux: [DictKey(k) for k in aux[1]])


def _is_namedtuple(cls):
    return issubclass(cls, tuple) and hasattr(cls, "_fields")


def _node_type(x) -> _NodeType | None:
    cls = type(x)
    node = _registry.get(cls)
    if node is None and _is_namedtuple(cls):
        node = _NodeType(lambda t: (list(t), None), lambda _, c, cls=cls: cls(*c),
                         lambda t, _: [GetAttrKey(f) for f in type(t)._fields])
    return node


def register_pytree_node(nodetype: type, flatten_func, unflatten_func, flatten_with_keys_func=None):
    """Teach pytrees about ``nodetype``.

    ``flatten_func(node) -> (children, aux_data)`` and ``unflatten_func(aux_data, children) -> node``;
    aux_data must be hashable and comparable (it is part of the tree structure).
    """
    if nodetype in _registry:
        raise ValueError(f"Duplicate custom PyTreeDef type registration for {nodetype}.")
    _registry[nodetype] = _NodeType(lambda n: tuple(flatten_func(n)),
                                    lambda aux, c: unflatten_func(aux, c))
    return nodetype


def register_pytree_node_class(cls):
    """Class decorator: use ``obj.tree_flatten()`` and ``cls.tree_unflatten(aux, children)``."""
    register_pytree_node(cls, lambda o: o.tree_flatten(), cls.tree_unflatten)
    return cls


class PyTreeDef:
    """The structure of a pytree with its leaves taken out (leaves print as ``*``)."""

    __slots__ = ("node", "aux", "children", "num_leaves", "num_nodes")

    def __init__(self, node, aux, children):
        self.node, self.aux, self.children = node, aux, tuple(children)
        if node is None:  # a leaf
            self.num_leaves, self.num_nodes = 1, 1
        else:
            self.num_leaves = sum(c.num_leaves for c in self.children)
            self.num_nodes = 1 + sum(c.num_nodes for c in self.children)

    def _key(self):
        return (self.node, self.aux, self.children)

    def __eq__(self, other):
        return isinstance(other, PyTreeDef) and self._key() == other._key()

    def __hash__(self):
        return hash((self.node, _hashable(self.aux), self.children))

    def unflatten(self, leaves):
        return tree_unflatten(self, leaves)

    def flatten_up_to(self, tree):
        """Flatten ``tree`` only as deep as this structure goes (its 'leaves' may be subtrees)."""
        out = []
        _flatten_up_to(self, tree, out)
        return out

    @property
    def num_children(self):
        return len(self.children)

    def _repr_inner(self):
        if self.node is None:
            return "*"
        kids = [c._repr_inner() for c in self.children]
        if self.node is tuple:
            return "(" + ", ".join(kids) + ("," if len(kids) == 1 else "") + ")"
        if self.node is list:
            return "[" + ", ".join(kids) + "]"
        if self.node is dict:
            return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(self.aux, kids)) + "}"
        if self.node is type(None):
            return "None"
        name = getattr(self.node, "__name__", str(self.node))
        if _is_namedtuple(self.node):  # JAX prints namedtuples as custom nodes too
            return f"CustomNode(namedtuple[{name}], [{', '.join(kids)}])"
        return f"CustomNode({name}[{self.aux}], [{', '.join(kids)}])"

    def __repr__(self):
        return f"PyTreeDef({self._repr_inner()})"


def _hashable(aux):
    try:
        hash(aux)
        return aux
    except TypeError:
        return repr(aux)


_LEAF = None


def _flatten(tree, is_leaf, leaves) -> PyTreeDef:
    node = None if (is_leaf is not None and is_leaf(tree)) else _node_type(tree)
    if node is None:
        leaves.append(tree)
        return PyTreeDef(None, None, ())
    children, aux = node.flatten(tree)
    return PyTreeDef(type(tree), aux, [_flatten(c, is_leaf, leaves) for c in children])


def tree_flatten(tree, is_leaf=None):
    """Return ``(leaves, treedef)``. ``None`` is an empty subtree, not a leaf (as in JAX)."""
    leaves: list = []
    treedef = _flatten(tree, is_leaf, leaves)
    return leaves, treedef


def tree_unflatten(treedef: PyTreeDef, leaves):
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(
            f"Too {'few' if len(leaves) < treedef.num_leaves else 'many'} leaves for PyTreeDef; "
            f"expected {treedef.num_leaves}, got {len(leaves)}.")
    it = iter(leaves)
    return _build(treedef, it)


def _build(treedef, it):
    if treedef.node is None:
        return next(it)
    children = [_build(c, it) for c in treedef.children]
    if treedef.node in _registry:
        return _registry[treedef.node].unflatten(treedef.aux, children)
    return treedef.node(*children)  # a namedtuple


def _flatten_up_to(treedef, tree, out):
    if treedef.node is None:
        out.append(tree)
        return
    node = _node_type(tree)
    if node is None or type(tree) is not treedef.node:
        raise ValueError(
            f"Tree structure mismatch: expected a {getattr(treedef.node, '__name__', treedef.node)}"
            f" matching {treedef}, got {type(tree).__name__}: {tree!r}")
    children, aux = node.flatten(tree)
    if len(children) != len(treedef.children) or (aux != treedef.aux):
        raise ValueError(f"Tree structure mismatch: {tree!r} does not match {treedef}.")
    for sub, child in zip(treedef.children, children):
        _flatten_up_to(sub, child, out)


def tree_leaves(tree, is_leaf=None):
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf=None):
    return tree_flatten(tree, is_leaf)[1]


def treedef_is_leaf(treedef):
    return treedef.node is None


def all_leaves(iterable, is_leaf=None):
    return all(tree_structure(x, is_leaf).node is None for x in iterable)


def tree_map(f, tree, *rest, is_leaf=None):
    """Apply ``f`` to every leaf; with several trees, ``f`` gets the matching leaves of each."""
    leaves, treedef = tree_flatten(tree, is_leaf)
    others = [treedef.flatten_up_to(r) for r in rest]
    return treedef.unflatten(f(*xs) for xs in zip(leaves, *others))


def tree_reduce(function, tree, initializer=None, is_leaf=None):
    leaves = tree_leaves(tree, is_leaf)
    if initializer is None:
        return functools.reduce(function, leaves)
    return functools.reduce(function, leaves, initializer)


def tree_all(tree):
    return all(tree_leaves(tree))


def tree_transpose(outer_treedef, inner_treedef, pytree_to_transpose):
    """Turn a tree-of-trees inside out (outer structure becomes inner)."""
    flat = outer_treedef.flatten_up_to(pytree_to_transpose)
    inner = [inner_treedef.flatten_up_to(x) for x in flat]
    transposed = [outer_treedef.unflatten(col) for col in zip(*inner)]
    return inner_treedef.unflatten(transposed)


def _flatten_with_path(tree, is_leaf, path, out):
    node = None if (is_leaf is not None and is_leaf(tree)) else _node_type(tree)
    if node is None:
        out.append((path, tree))
        return
    children, aux = node.flatten(tree)
    keys = node.keys(tree, aux) if node.keys else [FlattenedIndexKey(i) for i in range(len(children))]
    for key, child in zip(keys, children):
        _flatten_with_path(child, is_leaf, path + (key,), out)


def tree_flatten_with_path(tree, is_leaf=None):
    out: list = []
    _flatten_with_path(tree, is_leaf, (), out)
    return out, tree_structure(tree, is_leaf)


def tree_map_with_path(f, tree, *rest, is_leaf=None):
    pairs, treedef = tree_flatten_with_path(tree, is_leaf)
    others = [treedef.flatten_up_to(r) for r in rest]
    return treedef.unflatten(f(p, x, *xs) for (p, x), *xs in zip(pairs, *others))


def keystr(path):
    return "".join(str(k) for k in path)
