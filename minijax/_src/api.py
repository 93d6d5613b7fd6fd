"""The differentiation API: jvp, linearize, vjp, grad, value_and_grad, jacfwd, jacrev, hessian.

These functions only handle the user-facing parts -- pytrees, ``argnums``,
``has_aux``, error messages. The machinery is in ``interpreters/ad.py``.
"""
from __future__ import annotations

import functools

import numpy as np

from . import dtypes
from .core import get_aval
from .interpreters import ad
from .interpreters.tracing import flatten_fun
from .primitives.elementwise import zeros_like_aval
from ..tree_util import tree_flatten, tree_map, tree_structure, tree_unflatten


def _check_differentiable_input(x, argnum, fname, allow_int):
    aval = get_aval(x)
    if dtypes.is_inexact(aval.dtype):
        return
    if allow_int and aval.dtype.kind in "biu":
        return
    raise TypeError(
        f"{fname} requires real- or complex-valued inputs (input dtype that is a sub-dtype of "
        f"np.inexact), but got {aval.dtype.name}. If you want to use Boolean- or integer-valued "
        f"inputs, use vjp or set allow_int to True.\n"
        f"(Argument {argnum} of the differentiated function.) Most often the fix is to pass a "
        f"float, e.g. f(3.0) instead of f(3), or to cast with x.astype(jnp.float32).")


def _as_float_input(x):
    """Arrays pass through; Python/NumPy scalars and arrays become minijax arrays."""
    from ..numpy import asarray
    return x if hasattr(x, "aval") else asarray(x)


def jvp(fun, primals, tangents, has_aux=False):
    """Forward mode: ``(fun(*primals), directional derivative along tangents)``."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("primal and tangent arguments to jvp must be tuples or lists; found "
                        f"{type(primals).__name__} and {type(tangents).__name__}.")
    p_leaves, p_tree = tree_flatten(tuple(primals))
    t_leaves, t_tree = tree_flatten(tuple(tangents))
    if p_tree != t_tree:
        raise TypeError(f"primal and tangent arguments to jvp must have the same tree structure; "
                        f"primals have tree structure {p_tree} whereas tangents have tree "
                        f"structure {t_tree}.")
    p_leaves = [_as_float_input(p) for p in p_leaves]
    t_leaves = [_as_float_input(t) for t in t_leaves]
    for p, t in zip(p_leaves, t_leaves):
        if get_aval(p).shape != get_aval(t).shape:
            raise ValueError(f"jvp called with different primal and tangent shapes: primal "
                             f"{get_aval(p).shape}, tangent {get_aval(t).shape}.")
    flat_fun, out_tree = flatten_fun(_with_aux(fun, has_aux), tree_structure(((tuple(primals)), {})))
    out_p, out_t = ad.jvp_flat(lambda *xs: flat_fun(*xs), p_leaves, t_leaves)
    out_t = [_match_input(t, p) for t, p in zip(out_t, out_p)]
    return _split_aux(out_tree(), out_p, out_t, has_aux)


def _with_aux(fun, has_aux):
    """Normalize ``fun`` to return ``(out, aux)``; aux is ``None`` without has_aux."""
    if has_aux:
        def f(*args, **kw):
            result = fun(*args, **kw)
            if not (isinstance(result, (tuple, list)) and len(result) == 2):
                raise TypeError("has_aux=True requires the function to return a pair "
                                f"(output, auxiliary_data); got {type(result).__name__}.")
            out, aux = result
            return out, _stop(aux)
        return f
    return lambda *args, **kw: (fun(*args, **kw), None)


def _stop(aux):
    from ..lax import stop_gradient
    return tree_map(lambda x: stop_gradient(x) if hasattr(x, "aval") else x, aux)


def _split_aux(tree, primal_leaves, tangent_leaves, has_aux):
    (out, aux) = tree_unflatten(tree, primal_leaves)
    out_tree = tree_structure(out)
    n = out_tree.num_leaves
    tangents = tree_unflatten(out_tree, tangent_leaves[:n])
    return (out, tangents, aux) if has_aux else (out, tangents)


def linearize(fun, *primals, has_aux=False):
    """``(fun(*primals), f_jvp)`` where ``f_jvp(*tangents)`` evaluates the linear map cheaply."""
    p_leaves, in_tree = tree_flatten((primals, {}))
    p_leaves = [_as_float_input(p) for p in p_leaves]
    flat_fun, out_tree = flatten_fun(_with_aux(fun, has_aux), in_tree)
    primals_out, jaxpr, residuals = ad.linearize_flat(flat_fun, p_leaves)
    (out, aux) = tree_unflatten(out_tree(), primals_out)
    n_out = tree_structure(out).num_leaves

    def f_jvp(*tangents):
        t_leaves, t_tree = tree_flatten(tangents)
        if t_tree != tree_structure(primals):
            raise TypeError(f"linearized function expects tangents structured like the primals, "
                            f"{tree_structure(primals)}; got {t_tree}.")
        from .core import eval_jaxpr
        outs = eval_jaxpr(jaxpr, residuals, *map(_as_float_input, t_leaves))
        outs = [_match_input(t, p) for t, p in zip(outs[:n_out], primals_out)]
        return tree_unflatten(tree_structure(out), outs)

    return (out, f_jvp, aux) if has_aux else (out, f_jvp)


def vjp(fun, *primals, has_aux=False):
    """Reverse mode: ``(fun(*primals), f_vjp)``; ``f_vjp(cotangent)`` returns one cotangent per primal."""
    p_leaves, in_tree = tree_flatten((primals, {}))
    p_leaves = [_as_float_input(p) for p in p_leaves]
    flat_fun, out_tree = flatten_fun(_with_aux(fun, has_aux), in_tree)
    primals_out, pullback = ad.vjp_flat(flat_fun, p_leaves)
    (out, aux) = tree_unflatten(out_tree(), primals_out)
    out_struct = tree_structure(out)
    n_out = out_struct.num_leaves

    def f_vjp(cotangent):
        ct_leaves, ct_tree = tree_flatten(cotangent)
        if ct_tree != out_struct:
            raise TypeError(f"Tree structure of cotangent input {ct_tree}, does not match "
                            f"structure of primal output {out_struct}.")
        for c, o in zip(ct_leaves, primals_out[:n_out]):
            if get_aval(_as_float_input(c)).shape != get_aval(o).shape:
                raise ValueError(f"vjp cotangent has shape {np.shape(c)}, but the primal output "
                                 f"has shape {get_aval(o).shape}.")
        # Outputs that carry aux data get zero cotangents: aux is not differentiated.
        extra = [zeros_like_aval(get_aval(o)) for o in primals_out[n_out:]]
        cts_in = pullback(*[_as_float_input(c) for c in ct_leaves], *extra)
        cts_in = [_match_input(ct, p) for ct, p in zip(cts_in, p_leaves)]
        args, _ = tree_unflatten(in_tree, cts_in)
        return tuple(args)

    return (out, f_vjp, aux) if has_aux else (out, f_vjp)


def _match_input(ct, primal):
    """A cotangent has its primal's dtype and weak type (grad of f(3.0) is weakly typed)."""
    from .primitives.elementwise import convert_element_type
    aval = get_aval(primal)
    if not dtypes.is_inexact(aval.dtype):
        return _float0_zeros(aval)
    return convert_element_type(ct, aval.dtype, weak_type=aval.weak_type)


# JAX's dtype for the "gradient" of an integer input: a structured dtype with no data.
float0 = np.dtype([("float0", np.void, 0)])


def _float0_zeros(aval):
    """Integer inputs (with ``allow_int=True``) get a float0 zero: there is no direction to move in."""
    return np.zeros(aval.shape, dtype=float0)


def _normalize_argnums(argnums, nargs, fname):
    """``argnums`` (an int or a tuple of ints, negative allowed) -> (single, positive tuple)."""
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    for a in nums:
        if not isinstance(a, int):
            raise TypeError(f"{fname}: argnums must be an int or a tuple of ints, got {argnums!r}.")
        if a >= nargs:
            raise TypeError(f"differentiating with respect to argnums={argnums!r} requires at least "
                            f"{a + 1} positional arguments to be passed by the caller, but got only "
                            f"{nargs} positional arguments.")
        if a < -nargs:
            raise ValueError(f"{fname}: argnums={argnums!r} must be >= -len(args) = {-nargs}; "
                             f"a negative argnum counts from the last positional argument.")
    return single, tuple(a % nargs for a in nums)


def value_and_grad(fun, argnums=0, has_aux=False, allow_int=False):
    """``(f(x), df/dx)`` in one pass. ``fun`` must return a scalar (plus aux if ``has_aux``)."""
    fname = "value_and_grad"

    @functools.wraps(fun)
    def value_and_grad_f(*args, **kwargs):
        single, nums = _normalize_argnums(argnums, len(args), fname)
        diff_args = tuple(args[i] for i in nums)
        for i, a in zip(nums, diff_args):
            for leaf in tree_flatten(a)[0]:
                _check_differentiable_input(_as_float_input(leaf), i, "grad", allow_int)

        def partial_fun(*diff):
            full = list(args)
            for i, d in zip(nums, diff):
                full[i] = d
            return fun(*full, **kwargs)

        result = vjp(partial_fun, *diff_args, has_aux=has_aux)
        out, f_vjp = result[0], result[1]
        out_aval = get_aval(_as_float_input(out)) if not isinstance(out, (list, tuple, dict)) else None
        if out_aval is None:
            raise TypeError(f"Gradient only defined for scalar-output functions. Output was "
                            f"{out!r}. (For a container of outputs use jacrev or vjp.)")
        if out_aval.shape != ():
            raise TypeError(f"Gradient only defined for scalar-output functions. Output had shape: "
                            f"{out_aval.shape}.")
        if not dtypes.is_inexact(out_aval.dtype):
            raise TypeError(f"grad requires real-valued outputs (output dtype that is a sub-dtype "
                            f"of np.floating), but got {out_aval.dtype.name}. For holomorphic or "
                            f"integer outputs use vjp directly.")
        from ..numpy import ones_like
        grads = f_vjp(ones_like(out))
        grads = grads[0] if single else grads
        if has_aux:
            return (out, result[2]), grads
        return out, grads

    return value_and_grad_f


def grad(fun, argnums=0, has_aux=False, allow_int=False):
    """The gradient of scalar-valued ``fun`` with respect to argument(s) ``argnums``.

    >>> grad(lambda x: x ** 2)(3.0)
    Array(6., dtype=float32, weak_type=True)
    """
    vg = value_and_grad(fun, argnums, has_aux, allow_int)

    @functools.wraps(fun)
    def grad_f(*args, **kwargs):
        (value, g) = vg(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g

    return grad_f


def _size(x):
    return int(np.prod(get_aval(x).shape, dtype=np.int64))


def _std_basis(leaves):
    """The identity matrix, cut into one block per leaf: ``total`` one-hot tangents per leaf.

    Leaf ``k`` gets an array of shape ``(total,) + leaf.shape``; row ``i`` is the ``i``-th
    one-hot direction of the *concatenated* flat input, restricted to that leaf.
    """
    from .. import lax
    total = sum(_size(x) for x in leaves)
    eye = lax.eq(lax.broadcasted_iota(np.int32, (total, total), 0),
                 lax.broadcasted_iota(np.int32, (total, total), 1))
    blocks, start = [], 0
    for x in leaves:
        n, aval = _size(x), get_aval(x)
        block = lax.slice_in_dim(eye, start, start + n, axis=1)
        block = lax.convert_element_type(block, aval.dtype)
        blocks.append(lax.reshape(block, (total,) + aval.shape))
        start += n
    return blocks, total


def _split_axis(t, axis, leaves, shape_of):
    """Cut axis ``axis`` of ``t`` (length sum of leaf sizes) into one piece per leaf, reshaped."""
    from .. import lax
    pieces, start = [], 0
    for x in leaves:
        n = _size(x)
        piece = lax.slice_in_dim(t, start, start + n, axis=axis)
        pieces.append(lax.reshape(piece, shape_of(x)))
        start += n
    return pieces


def _diff_args(args, argnums, fname, allow_int=False):
    single, nums = _normalize_argnums(argnums, len(args), fname)
    diff = tuple(_as_float_tree(args[i]) for i in nums)
    for i, a in zip(nums, diff):
        for leaf in tree_flatten(a)[0]:
            _check_differentiable_input(leaf, i, fname, allow_int)
    return single, nums, diff


def _substitute(fun, args, kwargs, nums):
    """``fun`` as a function of the differentiated arguments only."""
    def partial_fun(*diff):
        full = list(args)
        for i, d in zip(nums, diff):
            full[i] = d
        return fun(*full, **kwargs)
    return partial_fun


def jacfwd(fun, argnums=0, has_aux=False, holomorphic=False):
    """Jacobian by forward mode: one JVP per *input* element, all at once with ``vmap``.

    Cheap when there are few inputs and many outputs (a tall Jacobian). The result is nested
    as ``out_tree`` of ``arg_tree``: ``jac[out_leaf][arg_leaf]`` has shape
    ``out.shape + arg.shape``.
    """

    @functools.wraps(fun)
    def jacfun(*args, **kwargs):
        from .interpreters.batching import vmap
        single, nums, diff = _diff_args(args, argnums, "jacfwd")
        partial_fun = _substitute(fun, args, kwargs, nums)
        d_leaves, d_tree = tree_flatten(diff)
        basis, _ = _std_basis(d_leaves)

        def push(*tangent_leaves):
            tangents = tree_unflatten(d_tree, tangent_leaves)
            res = jvp(partial_fun, diff, tangents, has_aux=has_aux)
            return (res[0], res[1], res[2]) if has_aux else (res[0], res[1], None)

        # Primal outputs (and aux) are the same for every basis vector: out_axes=None.
        out, tangents, aux = vmap(push, in_axes=0, out_axes=(None, -1, None))(*basis)

        def per_out(t, o):
            o_shape = get_aval(o).shape
            pieces = _split_axis(t, len(o_shape), d_leaves, lambda x: o_shape + get_aval(x).shape)
            per_arg = tree_unflatten(d_tree, pieces)
            return per_arg[0] if single else per_arg

        jac = tree_map(per_out, tangents, out)
        return (jac, aux) if has_aux else jac

    return jacfun


def jacrev(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False):
    """Jacobian by reverse mode: one VJP per *output* element, all at once with ``vmap``.

    Cheap when there are few outputs and many inputs (a wide Jacobian, e.g. a gradient).
    Same layout as ``jacfwd``: ``jac[out_leaf][arg_leaf]``.
    """

    @functools.wraps(fun)
    def jacfun(*args, **kwargs):
        from .interpreters.batching import vmap
        single, nums, diff = _diff_args(args, argnums, "jacrev", allow_int)
        partial_fun = _substitute(fun, args, kwargs, nums)
        result = vjp(partial_fun, *diff, has_aux=has_aux)
        out, f_vjp = result[0], result[1]
        o_leaves, o_tree = tree_flatten(out)
        basis, _ = _std_basis(o_leaves)
        cts = vmap(lambda *ct: f_vjp(tree_unflatten(o_tree, ct)))(*basis)

        # cts: one tree per argument; each leaf has a leading axis over all output elements.
        d_leaves = tree_flatten(diff)[0]
        ct_leaves, ct_tree = tree_flatten(cts)
        split = [_split_axis(c, 0, o_leaves, lambda o, x=x: get_aval(o).shape + get_aval(x).shape)
                 for c, x in zip(ct_leaves, d_leaves)]
        per_out = []
        for k in range(len(o_leaves)):
            arg_tree = tree_unflatten(ct_tree, [pieces[k] for pieces in split])
            per_out.append(arg_tree[0] if single else arg_tree)
        jac = tree_unflatten(o_tree, per_out)
        return (jac, result[2]) if has_aux else jac

    return jacfun


jacobian = jacrev


def hessian(fun, argnums=0, has_aux=False, holomorphic=False):
    """Matrix of second derivatives: forward-over-reverse, ``jacfwd(jacrev(f))``."""
    return jacfwd(jacrev(fun, argnums, has_aux=has_aux), argnums, has_aux=has_aux)


def _as_float_tree(tree):
    return tree_map(_as_float_input, tree)
