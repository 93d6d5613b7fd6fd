"""Moving values onto and off devices. On the CPU this is conversion to/from Array."""
from __future__ import annotations

import numpy as np

from ..tree_util import tree_map
from .array import Array


def device_put(x, device=None):
    """Turn a pytree of NumPy arrays / scalars into minijax Arrays (on ``device``)."""
    from .. import numpy as jnp

    def put(leaf):
        arr = leaf if isinstance(leaf, Array) else jnp.asarray(leaf)
        if isinstance(arr, Array) and device is not None:
            return Array(arr._value, arr.weak_type, device)
        return arr
    return tree_map(put, x)


def device_get(x):
    """Turn a pytree of Arrays into NumPy arrays (read-only views of the buffers)."""
    return tree_map(lambda leaf: np.asarray(leaf) if isinstance(leaf, Array) else leaf, x)


def block_until_ready(x):
    return tree_map(lambda leaf: leaf.block_until_ready() if hasattr(leaf, "block_until_ready")
                    else leaf, x)
