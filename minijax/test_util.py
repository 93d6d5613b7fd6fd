"""Checking derivatives numerically, as ``jax.test_util.check_grads`` does.

``check_grads(f, args, order=2)`` compares:

* forward mode with central finite differences along a random direction, and
* reverse mode with forward mode through the identity <u, J v> = <J^T u, v>,

recursively up to ``order``. Run it under 64-bit mode
(``config.update('jax_enable_x64', True)``) for tight tolerances.
"""
from __future__ import annotations

import numpy as np

from ._src import dtypes
from ._src.api import jvp, vjp
from .tree_util import tree_flatten, tree_map, tree_unflatten

__all__ = ["check_grads", "check_jvp", "check_vjp", "numerical_jvp"]


def _tol(dtype, atol, rtol):
    default = 1e-5 if np.dtype(dtype) == np.float64 else 2e-2
    return (atol if atol is not None else default), (rtol if rtol is not None else default)


def _rand_like(rng, tree):
    return tree_map(lambda x: np.asarray(rng.standard_normal(np.shape(x)), dtype=_dtype(x)), tree)


def _dtype(x):
    return np.dtype(x.dtype) if hasattr(x, "dtype") else np.asarray(x).dtype


def _axpy(a, x, y):
    return tree_map(lambda xi, yi: np.asarray(yi) + a * np.asarray(xi), x, y)


def _inner(x, y):
    xs, _ = tree_flatten(x)
    ys, _ = tree_flatten(y)
    return sum(float(np.vdot(np.asarray(a, np.float64), np.asarray(b, np.float64)))
               for a, b in zip(xs, ys))


def numerical_jvp(f, primals, tangents, eps):
    """Central difference (f(x + eps v) - f(x - eps v)) / 2 eps."""
    plus = f(*_axpy(eps, tangents, primals))
    minus = f(*_axpy(-eps, tangents, primals))
    return tree_map(lambda a, b: (np.asarray(a, np.float64) - np.asarray(b, np.float64)) / (2 * eps),
                    plus, minus)


def _assert_close(actual, expected, atol, rtol, what):
    a_leaves, _ = tree_flatten(actual)
    e_leaves, _ = tree_flatten(expected)
    for a, e in zip(a_leaves, e_leaves):
        np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(e, np.float64),
                                   atol=atol, rtol=rtol, err_msg=what)


def check_jvp(f, primals, atol=None, rtol=None, eps=None, rng=None):
    rng = rng or np.random.default_rng(0)
    dtype = _dtype(tree_flatten(primals)[0][0])
    eps = eps or (1e-4 if dtype == np.float64 else 1e-2)
    atol, rtol = _tol(dtype, atol, rtol)
    tangents = _rand_like(rng, primals)
    _, out_t = jvp(f, tuple(primals), tuple(tangents))
    expected = numerical_jvp(f, primals, tangents, eps)
    _assert_close(out_t, expected, atol, rtol, "JVP does not match finite differences")


def check_vjp(f, primals, atol=None, rtol=None, rng=None):
    rng = rng or np.random.default_rng(1)
    dtype = _dtype(tree_flatten(primals)[0][0])
    atol, rtol = _tol(dtype, atol, rtol)
    tangents = _rand_like(rng, primals)
    out, out_t = jvp(f, tuple(primals), tuple(tangents))
    _, f_vjp = vjp(f, *primals)
    cotangent = _rand_like(rng, out)
    cts_in = f_vjp(tree_map(lambda c: c, cotangent))
    lhs = _inner(cotangent, out_t)       # <u, J v>
    rhs = _inner(cts_in, tangents)       # <J^T u, v>
    np.testing.assert_allclose(lhs, rhs, atol=atol * 10, rtol=rtol,
                               err_msg="VJP is not the transpose of the JVP")


def check_grads(f, args, order, modes=("fwd", "rev"), atol=None, rtol=None, eps=None):
    """Check derivatives of ``f`` at ``args`` up to ``order`` against finite differences."""
    args = tuple(args)

    def check(fun, order):
        if "fwd" in modes:
            check_jvp(fun, args, atol, rtol, eps)
        if "rev" in modes:
            check_vjp(fun, args, atol, rtol)
        if order > 1:
            v = _rand_like(np.random.default_rng(order), args)
            if "fwd" in modes:
                check(lambda *xs: jvp(fun, xs, v)[1], order - 1)
            if "rev" in modes:
                def pullback(*xs):
                    out, f_vjp = vjp(fun, *xs)
                    u = _rand_like(np.random.default_rng(order + 7), out)
                    return f_vjp(u)
                check(pullback, order - 1)

    check(f, order)
