"""Shared fixtures. ``x64`` turns on 64-bit mode for one test (tight finite-difference checks)."""
from __future__ import annotations

import os

import pytest

# Notebooks under tests/fixtures are inputs for the autograder tests (some deliberately broken),
# not notebooks to validate with nbval.
collect_ignore_glob = ["fixtures/*"]

os.environ.setdefault("NUMBA_ENABLE_CUDASIM", os.environ.get("NUMBA_ENABLE_CUDASIM", "0"))


@pytest.fixture
def x64():
    import minijax
    previous = minijax.config.jax_enable_x64
    minijax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        minijax.config.update("jax_enable_x64", previous)


@pytest.fixture
def real_jax():
    """The real JAX, as an oracle; tests that use it are skipped where JAX is not installed."""
    return pytest.importorskip("jax")
