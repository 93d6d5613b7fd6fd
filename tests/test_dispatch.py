"""The eager and jit fast paths keep their memos honest.

Eager operations memoize dtype promotion and shape/dtype rules, and ``jit`` keeps a fast
per-signature table of compiled runners. These tests pin what those caches must not change:
64-bit mode toggled between calls, weak types, leaked tracers, and who owns NumPy buffers.
"""
from __future__ import annotations

import numpy as np
import pytest

import minijax as jax
import minijax.numpy as jnp
from minijax import errors, lax


def _signature(x):
    return x.dtype, x.weak_type, x.shape


def test_promotion_memo_follows_x64_toggling(x64):
    jax.config.update("jax_enable_x64", False)
    first = [_signature(f()) for f in _PROMOTIONS]
    jax.config.update("jax_enable_x64", True)
    second = [_signature(f()) for f in _PROMOTIONS]
    jax.config.update("jax_enable_x64", False)
    third = [_signature(f()) for f in _PROMOTIONS]
    assert first == third
    # (as real JAX 0.10 gives them; test_promotion_memo_matches_real_jax checks that)
    assert first == [(np.int32, True, ()), (np.float32, True, ()), (np.float32, False, (3,)),
                     (np.int32, False, (3,)), (np.float32, False, (3,)), (np.float32, True, ())]
    assert second == [(np.int64, True, ()), (np.float64, True, ()), (np.float32, False, (3,)),
                      (np.int32, False, (3,)), (np.float64, False, (3,)), (np.float64, True, ())]


_PROMOTIONS = [
    lambda: jnp.add(1, 2),                                  # two weak ints: the default int
    lambda: jnp.sin(1),                                     # weak int -> the default float
    lambda: jnp.ones(3, np.float32) * 2.0,                  # float32 wins over a weak float
    lambda: jnp.arange(3, dtype=np.int32) + 1,              # int32 wins over a weak int
    lambda: jnp.arange(3.0) / 2,                            # the default float, strong
    lambda: jnp.multiply(2.0, 3),                           # both weak
]


def test_promotion_memo_matches_real_jax(real_jax, x64):   # x64: restores minijax's flag
    previous = real_jax.config.jax_enable_x64
    try:
        for flag in (False, True, False):
            jax.config.update("jax_enable_x64", flag)
            real_jax.config.update("jax_enable_x64", flag)
            ours = [_signature(f()) for f in _PROMOTIONS]
            theirs = [_signature(f()) for f in _real_promotions(real_jax.numpy)]
            assert ours == theirs, flag
    finally:
        real_jax.config.update("jax_enable_x64", previous)


def _real_promotions(rnp):
    return [lambda: rnp.add(1, 2), lambda: rnp.sin(1), lambda: rnp.ones(3, np.float32) * 2.0,
            lambda: rnp.arange(3, dtype=np.int32) + 1, lambda: rnp.arange(3.0) / 2,
            lambda: rnp.multiply(2.0, 3)]


def test_python_scalar_operands_match_real_jax(real_jax):
    x = jnp.arange(3, dtype=np.float32)
    rx = real_jax.numpy.arange(3, dtype=np.float32)
    for op in (lambda a: a * 2.0, lambda a: 2 * a, lambda a: a - True, lambda a: 1j + a):
        ours, theirs = op(x), op(rx)
        assert (ours.dtype, ours.weak_type) == (theirs.dtype, theirs.weak_type)
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_leaked_tracer_in_eager_bind_is_reported():
    leaked = []
    jax.jit(lambda x: leaked.append(x) or x)(1.0)
    with pytest.raises(errors.UnexpectedTracerError):
        lax.add(leaked[0], 1.0)


def test_eager_results_are_frozen_but_numpy_inputs_are_not():
    a = np.ones(3, np.float32)
    out = lax.stop_gradient(a)         # an impl that hands back its input buffer
    assert a.flags.writeable           # the caller's array is untouched
    assert not np.asarray(out).flags.writeable
    a[0] = 5.0                         # still writable; minijax copies or views, never freezes it
    assert not np.asarray(jnp.add(out, out)).flags.writeable


def test_jit_fast_path_distinguishes_weak_and_strong_inputs():
    f = jax.jit(lambda x: x * 2)
    weak, strong = jnp.asarray(3.0), jnp.asarray(3.0, dtype=np.float32)
    assert weak.weak_type and not strong.weak_type
    for _ in range(2):   # the second round goes through the fast table
        assert f(weak).weak_type and not f(strong).weak_type
        assert f(jnp.arange(3)).dtype == np.int32
    assert f._cache_size() == 3


def test_jit_fast_path_with_pytrees_and_several_outputs():
    f = jax.jit(lambda p, x: {"y": p["w"] * x + p["b"], "n": jnp.sum(x)})
    params = {"w": jnp.ones(3), "b": jnp.zeros(3)}
    for _ in range(3):
        out = f(params, jnp.arange(3.0))
        np.testing.assert_array_equal(np.asarray(out["y"]), np.arange(3.0))
        assert float(out["n"]) == 3.0
        assert not np.asarray(out["y"]).flags.writeable
    assert f.cache_hits == 2 and f.cache_misses == 1
