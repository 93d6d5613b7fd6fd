"""Devices: where an Array's buffer lives.

minijax computes on the CPU with NumPy and numba. A CUDA device appears when
``numba.cuda`` finds a GPU (or its simulator); detecting it is deferred until
someone asks, so ``import minijax`` never loads numba.
"""
from __future__ import annotations

import os

from .config import config


class Device:
    platform = "cpu"
    device_kind = "cpu"

    def __init__(self, id: int = 0):
        self.id = id

    def __repr__(self):
        return f"{type(self).__name__}(id={self.id})"

    def __str__(self):
        return f"{self.platform}:{self.id}"

    def __eq__(self, other):
        return type(other) is type(self) and other.id == self.id

    def __hash__(self):
        return hash((type(self).__name__, self.id))


class CpuDevice(Device):
    platform = "cpu"
    device_kind = "cpu"


class CudaDevice(Device):
    platform = "gpu"
    device_kind = "cuda"


_CPU = [CpuDevice(0)]
_cuda_devices = None


def _cuda():
    global _cuda_devices
    if _cuda_devices is None:
        _cuda_devices = []
        if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" or os.path.exists("/dev/nvidiactl"):
            try:
                from numba import cuda
                if cuda.is_available():
                    _cuda_devices = [CudaDevice(i) for i in range(len(cuda.gpus))]
            except Exception:  # no driver, no toolkit: simply no GPU
                _cuda_devices = []
    return _cuda_devices


def devices(backend: str | None = None):
    """List the devices of ``backend`` (default: the default backend)."""
    backend = backend or default_backend()
    if backend == "cpu":
        return list(_CPU)
    if backend in ("gpu", "cuda"):
        found = _cuda()
        if not found:
            raise RuntimeError(
                "Unknown backend: 'gpu' requested, but no CUDA GPU is available (numba.cuda found "
                "none). Run on the CPU, or set NUMBA_ENABLE_CUDASIM=1 to use numba's CUDA simulator.")
        return list(found)
    raise RuntimeError(f"Unknown backend {backend!r}; expected 'cpu' or 'gpu'.")


def default_backend() -> str:
    return "gpu" if config.jax_platform_name in ("gpu", "cuda") else "cpu"


def local_devices(backend=None):
    return devices(backend)


def device_count(backend=None):
    return len(devices(backend))


def default_device():
    return devices()[0]
