"""``minijax.numpy``: the NumPy API, written on minijax's primitives.

Everything here traces: inside ``grad``, ``jit`` and ``vmap`` these functions
record primitives instead of computing, so learners can use the NumPy they
know. Import it as ``import minijax.numpy as jnp``.
"""
from __future__ import annotations

import numpy as _np

from .._src.array import Array as ndarray
from .._src.dtypes import finfo, iinfo
from ._creation import *  # noqa: F401,F403
from ._ufuncs import *  # noqa: F401,F403
from ._shape import *  # noqa: F401,F403
from ._reductions import *  # noqa: F401,F403
from ._indexing import *  # noqa: F401,F403
from ._linalg import *  # noqa: F401,F403
from ._sorting import *  # noqa: F401,F403
from ._creation_extra import *  # noqa: F401,F403
from . import linalg  # noqa: F401



class _ScalarType:
    """``jnp.float32`` and friends: usable as a dtype, and callable to make a 0-d Array.

    ``jnp.float32(3)`` gives ``Array(3., dtype=float32)`` (NumPy would give a NumPy scalar).
    Anything that accepts a dtype accepts these, because they carry a ``.dtype`` attribute.
    """

    def __init__(self, np_type):
        self.type = np_type
        self.dtype = _np.dtype(np_type)
        self.__name__ = self.dtype.name if np_type is not _np.bool_ else "bool_"

    def __call__(self, x):
        return asarray(x, dtype=self.dtype)

    def __repr__(self):
        return f"minijax.numpy.{self.__name__}"

    def __eq__(self, other):
        return isinstance(other, _ScalarType) and other.dtype == self.dtype

    def __hash__(self):
        return hash(self.dtype)


bool_ = _ScalarType(_np.bool_)
int8, int16, int32, int64 = map(_ScalarType, (_np.int8, _np.int16, _np.int32, _np.int64))
uint8, uint16, uint32, uint64 = map(_ScalarType, (_np.uint8, _np.uint16, _np.uint32, _np.uint64))
float16, float32, float64 = map(_ScalarType, (_np.float16, _np.float32, _np.float64))
complex64, complex128 = _ScalarType(_np.complex64), _ScalarType(_np.complex128)
float_, int_, complex_ = float64, int64, complex128
dtype = _np.dtype
inexact, floating, integer, signedinteger, unsignedinteger, number, complexfloating = (
    _np.inexact, _np.floating, _np.integer, _np.signedinteger, _np.unsignedinteger, _np.number,
    _np.complexfloating)
generic = _np.generic
pi, e, inf, nan, euler_gamma = _np.pi, _np.e, _np.inf, _np.nan, _np.euler_gamma
newaxis = None




def _getitem(x, index):
    """``x[index]`` for Arrays and tracers (see ``_indexing.py``)."""
    from ._indexing import getitem
    return getitem(x, index)


def __getattr__(name):
    if name == "_IndexUpdateHelper":
        from ._indexing import _IndexUpdateHelper
        return _IndexUpdateHelper
    raise AttributeError(f"module 'minijax.numpy' has no attribute {name!r}")
