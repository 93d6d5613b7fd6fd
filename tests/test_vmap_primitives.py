"""vmap, one primitive at a time: every batching rule against its definition.

The definition of ``vmap(f)(xs)`` is ``stack([f(x) for x in xs])``. For every primitive defined
under ``minijax._src.primitives`` this file

* checks that it HAS a batching rule (or is listed below as not needing one, with the reason);
* runs at least one example that really binds it (checked on the example's jaxpr), under several
  ``in_axes`` choices -- 0, 1, -1 and ``None`` for each operand in turn, including unbatched
  rank-0 operands next to batched arrays -- and compares value, shape, dtype and weak_type
  with the Python loop;
* checks that the batched program has the same number of equations for a batch of 2 and of 5:
  a rule that looped over the batch in Python would grow with it.
"""
from __future__ import annotations

import zlib

import numpy as np
import pytest

import minijax
import minijax.numpy as jnp
from minijax import lax
from minijax._src.primitives import indexing
from primitive_examples import CASES, Case, all_primitives
from primitive_examples import make_values as _values, wrap as _wrap

# Primitives that need no batching rule, and why.
NO_BATCH_RULE_NEEDED = {
    "iota": "nullary: it takes no operands, so no operand can carry a batch axis",
}


def default_axes(args):
    """0 everywhere; -1 everywhere; 1 on the first operand; None on each operand in turn."""
    n = len(args)
    combos = [(0,) * n, tuple(-1 if a.shape else 0 for a in args)]
    if args[0].shape:
        combos.append((1 if len(args[0].shape) >= 1 else 0,) + (0,) * (n - 1))
    if n > 1:
        for i in range(n):
            combos.append(tuple(None if j == i else 0 for j in range(n)))
    out = []
    for c in combos:       # drop duplicates, keep order
        if c not in out:
            out.append(c)
    return out


# ---------------------------------------------------------------------------
# Helpers: build batched inputs, run the loop oracle
# ---------------------------------------------------------------------------
def batched_inputs(c: Case, axes, size, seed):
    rng = np.random.default_rng(seed)
    out = []
    for arg, ax in zip(c.args, axes):
        if ax is None:
            out.append(_wrap(_values(rng, arg, arg.shape), arg.weak))
        else:
            v = _values(rng, arg, (size,) + arg.shape)
            out.append(_wrap(np.moveaxis(v, 0, ax), arg.weak))
    return out


def example(x, ax, i):
    return x if ax is None else _wrap(np.take(np.asarray(x), i, axis=ax), x.weak_type)


def loop_oracle(fn, inputs, axes, size):
    results = [fn(*[example(x, ax, i) for x, ax in zip(inputs, axes)]) for i in range(size)]
    leaves = [minijax.tree_util.tree_leaves(r) for r in results]
    return [(np.stack([np.asarray(l[k]) for l in leaves]), leaves[0][k])
            for k in range(len(leaves[0]))]


def prim_names(jaxpr):
    return {e.primitive.name for e in jaxpr.eqns}


def _axes_id(a):
    return ",".join("N" if x is None else str(x) for x in a)


PARAMS = [pytest.param(c, axes, id=f"{c.name}-({_axes_id(axes)})")
          for c in CASES for axes in (c.axes or default_axes(c.args))]


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------
def test_every_primitive_has_a_batch_rule_or_a_reason():
    prims = all_primitives()
    assert len(prims) > 100     # the scan found the whole family, not just one module
    missing = [p.name for p in prims if p.batch is None and p.name not in NO_BATCH_RULE_NEEDED]
    assert not missing, f"primitives without a batching rule: {missing}"
    names = {p.name for p in prims}
    assert set(NO_BATCH_RULE_NEEDED) <= names   # no stale exemptions


def test_every_primitive_is_exercised_by_a_case():
    needed = {p.name for p in all_primitives()} - set(NO_BATCH_RULE_NEEDED)
    covered = {name for c in CASES for name in c.prims}
    assert needed - covered == set(), f"no vmap example for: {sorted(needed - covered)}"


@pytest.mark.parametrize("c", CASES, ids=repr)
def test_case_binds_the_primitive_it_claims(c):
    inputs = batched_inputs(c, (None,) * len(c.args), 1, seed=1)
    names = prim_names(minijax.make_jaxpr(c.fn)(*inputs))
    assert set(c.prims) <= names, f"{c.name}: jaxpr binds {sorted(names)}"


@pytest.mark.parametrize("c, axes", PARAMS)
def test_vmap_matches_loop(c, axes):
    size = 3
    inputs = batched_inputs(c, axes, size, seed=zlib.crc32(c.name.encode()))
    outs = minijax.tree_util.tree_leaves(minijax.vmap(c.fn, in_axes=axes)(*inputs))
    expected = loop_oracle(c.fn, inputs, axes, size)
    assert len(outs) == len(expected)
    for out, (want, one) in zip(outs, expected):
        assert out.shape == want.shape, (out.shape, want.shape)
        assert out.dtype == one.dtype
        assert out.weak_type == one.weak_type, "vmap changed weak_type"
        if want.dtype.kind in "fc":
            np.testing.assert_allclose(np.asarray(out), want, rtol=c.rtol, atol=c.rtol)
        else:
            np.testing.assert_array_equal(np.asarray(out), want)


@pytest.mark.parametrize("c", CASES, ids=repr)
def test_batched_program_does_not_grow_with_the_batch(c):
    """A rule that loops over the batch in Python would emit more equations for more examples."""
    axes = (0,) * len(c.args)
    counts = []
    for size in (2, 5):
        inputs = batched_inputs(c, axes, size, seed=2)
        jaxpr = minijax.make_jaxpr(minijax.vmap(c.fn, in_axes=axes))(*inputs)
        counts.append(len(jaxpr.eqns))
        assert set(c.prims) & prim_names(jaxpr) or c.name.startswith(("dynamic", "cond")), \
            f"the batched program of {c.name} lost its primitive: {prim_names(jaxpr)}"
    assert counts[0] == counts[1]


def test_out_axes_on_primitive_outputs():
    x = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    for out_axes in (0, 1, -1):
        out = minijax.vmap(lambda v: lax.reduce_sum(v, (1,)), in_axes=1, out_axes=out_axes)(x)
        want = np.moveaxis(np.stack([x[:, i].sum(1) for i in range(3)]), 0, out_axes)
        np.testing.assert_allclose(np.asarray(out), want)


def test_doubly_batched_rules_nested_vmap():
    """Rules called with the batch axis at a non-leading position (from an inner vmap)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 3, 5)).astype(np.float32)
    i = rng.integers(0, 5, size=(3, 4, 2)).astype(np.int32)
    f = lambda a, j: indexing.gather(a, [j], (0,))      # noqa: E731
    out = minijax.vmap(minijax.vmap(f, in_axes=(0, 1)), in_axes=(1, 0))(x, i)
    want = np.stack([np.stack([x[b, a][i[a, :, b]] for b in range(2)]) for a in range(3)])
    np.testing.assert_array_equal(np.asarray(out), want)
    g = lambda a, b: lax.dot_general(a, b, (((0,), (0,)), ((), ())))   # noqa: E731
    y = rng.normal(size=(5, 3, 2)).astype(np.float32)
    out = minijax.vmap(minijax.vmap(g, in_axes=(0, 1)), in_axes=(1, 1))(x, y)
    want = np.stack([np.stack([x[b, a] @ y[:, a, b] for b in range(2)]) for a in range(3)])
    np.testing.assert_allclose(np.asarray(out), want, rtol=1e-5)


def test_cond_with_batched_predicate_runs_both_branches_per_example():
    p = np.array([True, False, True])
    x = np.array([1.0, 2.0, 3.0], np.float32)
    out = minijax.vmap(lambda q, v: lax.cond(q, jnp.exp, jnp.negative, v))(p, x)
    np.testing.assert_allclose(np.asarray(out), np.where(p, np.exp(x), -x), rtol=1e-6)


def test_while_loop_with_different_trip_counts():
    n = np.array([0, 3, 1, 5], np.int32)
    out = minijax.vmap(lambda k: lax.while_loop(lambda s: s[0] < k,
                                                lambda s: (s[0] + 1, s[1] * 2.0),
                                                (0, jnp.float32(1.0)))[1])(n)
    np.testing.assert_allclose(np.asarray(out), 2.0 ** n)


def test_jnp_functions_of_every_family_vmap_like_a_loop():
    """The jnp layer on top of the rules: broadcasting, indexing, .at, linalg, reductions."""
    rng = np.random.default_rng(7)
    xs = rng.normal(size=(4, 3, 3)).astype(np.float32)
    idx = rng.integers(0, 3, size=(4,)).astype(np.int32)
    funcs = [
        lambda a, i: a[i] + a[:, i],
        lambda a, i: a.at[i].add(1.0).at[:, 0].set(a[i, i]),
        lambda a, i: jnp.where(a > 0, a, a[i] * 2),
        lambda a, i: jnp.cumsum(jnp.sort(a, axis=0), axis=1)[i],
        lambda a, i: jnp.linalg.norm(a @ a.T + jnp.eye(3), axis=0) * jnp.max(a),
        lambda a, i: jnp.concatenate([a, jnp.flip(a, 1), jnp.roll(a, i, axis=0)]),
        lambda a, i: jnp.take(a.ravel(), jnp.arange(3) + i) * jnp.argmax(a, axis=1),
    ]
    for f in funcs:
        out = minijax.vmap(f)(xs, idx)
        want = np.stack([np.asarray(f(jnp.asarray(x), jnp.asarray(i))) for x, i in zip(xs, idx)])
        np.testing.assert_allclose(np.asarray(out), want, rtol=1e-5, atol=1e-6)


def test_random_bits_under_vmap_of_keys():
    keys = minijax.random.split(minijax.random.PRNGKey(0), 4)
    out = minijax.vmap(lambda k: minijax.random.normal(k, (3,)))(keys)
    want = np.stack([np.asarray(minijax.random.normal(k, (3,))) for k in keys])
    np.testing.assert_array_equal(np.asarray(out), want)
