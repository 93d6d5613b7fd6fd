"""Global configuration flags, set with ``minijax.config.update(name, value)``.

JAX keeps a handful of process-wide switches (64-bit mode, the default
platform, logging of compiles). We keep the same names so that notebooks
written against minijax run unchanged on JAX.
"""
from __future__ import annotations

import os


class _Flag:
    def __init__(self, name, default, doc, validate=None):
        self.name, self.value, self.doc, self.validate = name, default, doc, validate


def _platform(value):
    if value not in ("cpu", "cuda", "gpu"):
        raise ValueError(
            f"jax_platform_name must be 'cpu', 'cuda' or 'gpu', got {value!r}.")
    return value


def _bool(value):
    if not isinstance(value, (bool, int)):
        raise TypeError(f"expected True or False, got {value!r}")
    return bool(value)


class Config:
    """Holds every flag. Read flags as attributes: ``config.jax_enable_x64``."""

    def __init__(self):
        env_x64 = os.environ.get("JAX_ENABLE_X64", "0").lower() in ("1", "true", "yes")
        flags = [
            _Flag("jax_enable_x64", env_x64,
                  "Use 64-bit floats and ints by default (float64/int64).", _bool),
            _Flag("jax_platform_name", "cpu",
                  "Platform on which arrays are placed by default.", _platform),
            _Flag("jax_log_compiles", False, "Log every jit (re)compilation.", _bool),
            _Flag("jax_debug_nans", False, "Raise FloatingPointError when an operation produces a NaN.", _bool),
            _Flag("jax_threefry_partitionable", True,
                  "Use the partitionable threefry derivation for split/fold_in/bits.", _bool),
            _Flag("jax_enable_checks", False, "Run extra internal consistency checks.", _bool),
            _Flag("jax_default_matmul_precision", None, "Accepted for compatibility; ignored on CPU.", None),
            _Flag("minijax_check_key_reuse", False,
                  "Warn when the same PRNG key feeds two samplers.", _bool),
        ]
        object.__setattr__(self, "_flags", {f.name: f for f in flags})

    def update(self, name, value):
        """Set flag ``name`` to ``value``; an unknown name raises AttributeError listing the known ones."""
        flag = self._flags.get(name)
        if flag is None:
            known = ", ".join(sorted(self._flags))
            raise AttributeError(
                f"Unrecognized config option: {name!r}. Known options: {known}.")
        flag.value = flag.validate(value) if flag.validate else value

    def read(self, name):
        return self._flags[name].value

    def __getattr__(self, name):
        flags = object.__getattribute__(self, "_flags")
        if name in flags:
            return flags[name].value
        raise AttributeError(f"config has no option {name!r}")

    def __setattr__(self, name, value):
        raise AttributeError(
            f"Set options with config.update({name!r}, value), not by attribute assignment.")

    def __repr__(self):
        items = ", ".join(f"{k}={f.value!r}" for k, f in sorted(self._flags.items()))
        return f"Config({items})"


config = Config()
