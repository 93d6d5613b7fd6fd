"""vmap: automatic vectorization by carrying a batch dimension through every primitive.

A ``BatchTracer`` holds a value that has one extra axis -- the batch axis, at
position ``batch_dim`` -- and stands for one example of the batch. When a
primitive is applied, its ``batch`` rule receives the full batched values and
their batch dimensions, and applies the primitive to the whole batch at once
(one ``dot_general`` with a batch dimension instead of a Python loop of matmuls).
"""
from __future__ import annotations

import functools

from .. import core
from ..core import Tracer, full_lower, get_aval
from ..primitives.batch_util import move_axis
from .tracing import flatten_fun
from ...tree_util import tree_flatten, tree_unflatten, tree_structure


class BatchTracer(Tracer):
    __slots__ = ("_trace", "val", "batch_dim")

    def __init__(self, trace, val, batch_dim):
        self._trace, self.val, self.batch_dim = trace, val, batch_dim

    @property
    def aval(self):
        aval = get_aval(self.val)
        if self.batch_dim is None:
            return aval
        shape = aval.shape[:self.batch_dim] + aval.shape[self.batch_dim + 1:]
        return aval.update(shape=shape)

    def full_lower(self):
        return full_lower(self.val) if self.batch_dim is None else self


class BatchTrace(core.Trace):
    @property
    def axis_size(self):
        return self.main.global_data

    def pure(self, val):
        return BatchTracer(self, val, None)

    lift = pure

    def process_primitive(self, primitive, tracers, params):
        vals = [t.val for t in tracers]
        dims = [t.batch_dim for t in tracers]
        if all(d is None for d in dims):
            return primitive.bind(*vals, **params)
        if primitive.batch is None:
            raise NotImplementedError(f"Batching rule for '{primitive.name}' not implemented")
        outs, out_dims = primitive.batch(vals, dims, **params)
        if primitive.multiple_results:
            return [BatchTracer(self, o, d) for o, d in zip(outs, out_dims)]
        return BatchTracer(self, outs, out_dims)

    # A custom derivative rule must survive vmap, so grad(vmap(f)) still uses it.
    def process_custom_jvp_call(self, fun, jvp, tracers):
        from ..custom_derivatives import batch_custom_jvp_call, custom_jvp_call
        if all(t.batch_dim is None for t in tracers):
            return custom_jvp_call(fun, jvp, [t.val for t in tracers])
        return batch_custom_jvp_call(self, fun, jvp, tracers)

    def process_custom_vjp_call(self, fun, fwd, bwd, tracers, out_tree_thunk=None):
        from ..custom_derivatives import batch_custom_vjp_call, custom_vjp_call
        if all(t.batch_dim is None for t in tracers):
            return custom_vjp_call(fun, fwd, bwd, [t.val for t in tracers])
        return batch_custom_vjp_call(self, fun, fwd, bwd, tracers)


def _check_axis_spec(spec, name):
    """in_axes/out_axes leaves must be ints or None (bools are not axes)."""
    leaves = tree_flatten(spec, is_leaf=lambda x: x is None)[0]
    if any(not (x is None or (isinstance(x, int) and not isinstance(x, bool))) for x in leaves):
        raise TypeError(f"vmap {name} must be an int, None, or (nested) container with those "
                        f"types as leaves, but got {spec!r}.")


def _broadcast_prefix(prefix, tree, name):
    """Expand an in_axes/out_axes prefix to one entry per leaf of ``tree``."""
    leaves, treedef = tree_flatten(tree)
    if prefix is None or isinstance(prefix, int):
        return [prefix] * len(leaves)
    try:
        struct = tree_structure(prefix, is_leaf=lambda x: x is None)
        subtrees = struct.flatten_up_to(prefix)
        parts = struct.flatten_up_to(tree)
    except ValueError as e:
        raise ValueError(f"vmap {name} specification must be a tree prefix of the corresponding "
                         f"value, got specification {prefix!r} for value tree {treedef}.") from e
    out = []
    for axis, sub in zip(subtrees, parts):
        out.extend([axis] * len(tree_flatten(sub)[0]))
    return out


def _leaf_names(args):
    """``args[0]['w']``-style names for the leaves of the positional arguments."""
    from ...tree_util import keystr, tree_flatten_with_path
    pairs, _ = tree_flatten_with_path(tuple(args))
    return [f"args{keystr(path)}" for path, _ in pairs]


def vmap(fun, in_axes=0, out_axes=0, axis_name=None, axis_size=None):
    """Vectorize ``fun`` over a leading (or ``in_axes``-chosen) axis of its arguments.

    ``vmap(f)(xs)`` equals ``jnp.stack([f(x) for x in xs])`` but runs as one batched program.
    """
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)
    if not (in_axes is None or isinstance(in_axes, (int, tuple, dict))):
        raise TypeError(f"vmap in_axes must be an int, None, or (nested) container with those "
                        f"types as leaves, but got {in_axes!r}.")
    _check_axis_spec(in_axes, "in_axes")
    _check_axis_spec(out_axes, "out_axes")

    @functools.wraps(fun)
    def vmapped(*args, **kwargs):
        axes = in_axes
        if isinstance(axes, tuple) and len(axes) != len(args):
            raise ValueError(f"vmap in_axes must be an int, None, or a tuple of entries "
                             f"corresponding to the positional arguments passed to the function, "
                             f"but got len(in_axes)={len(axes)}, len(args)={len(args)}")
        # As in JAX, keyword arguments are always mapped over their leading axis.
        n_pos = len(args)
        kw_names = sorted(kwargs)
        if kw_names:
            pos_axes = axes if isinstance(axes, tuple) else (axes,) * n_pos
            axes = tuple(pos_axes) + (0,) * len(kw_names)
            args = tuple(args) + tuple(kwargs[k] for k in kw_names)
        leaves, in_tree = tree_flatten(args)
        leaf_axes = _broadcast_prefix(axes, args, "in_axes")
        from ..array import Array
        from ... import numpy as jnp
        leaves = [x if isinstance(x, (Array, Tracer)) else jnp.asarray(x) for x in leaves]
        sizes, normalized = {}, []
        for i, (x, a) in enumerate(zip(leaves, leaf_axes)):
            if a is None:
                normalized.append(None)
                continue
            ndim = get_aval(x).ndim
            if not -ndim <= a < ndim:
                raise ValueError(f"vmap was requested to map its argument along axis {a}, which "
                                 f"implies that its rank should be at least {max(a + 1, -a)}, but "
                                 f"is only {ndim} (its shape is {get_aval(x).shape})")
            a %= ndim
            normalized.append(a)
            sizes.setdefault(get_aval(x).shape[a], []).append(i)
        if len(sizes) > 1 or (sizes and axis_size is not None and axis_size not in sizes):
            names = _leaf_names(args)
            lines = [f"  * the `axis_size` argument was {axis_size};"] if axis_size is not None \
                else []
            lines += [f"  * {names[i]} has shape {get_aval(leaves[i]).shape}: axis "
                      f"{normalized[i]} has size {get_aval(leaves[i]).shape[normalized[i]]};"
                      for idxs in sizes.values() for i in idxs]
            raise ValueError("vmap got inconsistent sizes for array axes to be mapped:\n"
                             + "\n".join(lines) + "\nEvery mapped axis must have the same size "
                             "(the batch size); check in_axes, or map a different axis.")
        if not sizes and axis_size is None:
            raise ValueError("vmap must have at least one non-None value in in_axes (or pass "
                             "axis_size=) so it knows the batch size.")
        size = next(iter(sizes)) if sizes else axis_size

        def positional(*a):
            return fun(*a[:n_pos], **dict(zip(kw_names, a[n_pos:])))
        flat_fun, out_tree = flatten_fun(positional, tree_structure((args, {})))
        with core.new_main(BatchTrace, size) as main:
            trace = BatchTrace(main)
            tracers = [BatchTracer(trace, x, a) for x, a in zip(leaves, normalized)]
            outs = flat_fun(*tracers)
            outs = [trace.full_raise(o) for o in outs]
            vals, dims = [o.val for o in outs], [o.batch_dim for o in outs]
        out_struct = out_tree()
        out_axes_flat = _broadcast_prefix(out_axes, tree_unflatten(out_struct, vals), "out_axes")
        results = [_move_out(v, d, oa, size) for v, d, oa in zip(vals, dims, out_axes_flat)]
        return tree_unflatten(out_struct, results)

    return vmapped


def _move_out(val, bdim, out_axis, size):
    from ..primitives.batch_util import bdim_at_front
    if out_axis is None:
        if bdim is not None:
            raise ValueError("vmap has mapped output but out_axes is None: the output varies "
                             "along the batch, so it needs an out_axes entry.")
        return val
    val = bdim_at_front(val, bdim, size)
    ndim = get_aval(val).ndim
    if not -ndim <= out_axis < ndim:
        raise ValueError(f"vmap out_axes entry {out_axis} is out of bounds for an output of rank "
                         f"{ndim} (its per-example rank plus the batch axis); use an axis in "
                         f"[{-ndim}, {ndim - 1}].")
    return move_axis(val, 0, out_axis % ndim)
