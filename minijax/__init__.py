"""minijax: a small, readable re-implementation of JAX, for learning how JAX works.

    import minijax as jax
    import minijax.numpy as jnp

Arrays are immutable NumPy-backed values; ``grad``, ``vmap`` (and friends) are
interpreters over the same primitives, so they compose in any order.
"""
from __future__ import annotations

__version__ = "0.1.0"

from ._src.config import config
from ._src.array import Array
from ._src.devices import (default_backend, device_count, devices, local_devices,
                           default_device)
from ._src.api import (grad, hessian, jacfwd, jacobian, jacrev, jvp, linearize,
                       value_and_grad, vjp)
from ._src.custom_derivatives import custom_jvp, custom_vjp
from ._src.interpreters.batching import vmap
from ._src.jit import jit
from ._src.interpreters.tracing import ShapeDtypeStruct, make_jaxpr
from ._src.device_put import device_put, device_get, block_until_ready
from . import errors, lax, numpy, random, tree_util
from .tree_util import tree_map, tree_leaves, tree_structure  # noqa: F401  (jax.tree_map-era names)

__all__ = [
    "Array", "config", "custom_jvp", "custom_vjp", "default_backend", "device_count",
    "device_get", "device_put", "devices", "errors", "grad", "hessian", "jacfwd", "jacobian",
    "jacrev", "jit", "jvp", "lax", "linearize", "local_devices", "make_jaxpr", "numpy",
    "random", "ShapeDtypeStruct", "tree_util", "value_and_grad", "vjp", "vmap", "block_until_ready",
]
