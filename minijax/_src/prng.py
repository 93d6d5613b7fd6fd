"""Keys and random bits: the threefry PRNG, written in lax on top of one primitive.

A *raw key* is a ``uint32[2]`` array (what ``random.PRNGKey`` returns). Every
function here is a pure function of keys: nothing is stored between calls.

* ``seed_key(seed)``       seed -> key  ``[seed >> 32, seed & 0xFFFFFFFF]``
* ``threefry_2x32(k, c)``  scramble an array of uint32 counters ``c`` with key ``k``
* ``split(k, shape)``      new, independent keys
* ``fold_in(k, data)``     a new key that depends on ``k`` and an integer
* ``random_bits(k, bit_width, shape)``  uniformly random unsigned integers

JAX has two ways of turning counters into keys and bits, chosen by the flag
``jax_threefry_partitionable`` (True by default since JAX 0.5):

* partitionable: element ``i`` of the output is ``threefry(key, (hi(i), lo(i)))``
  where ``(hi, lo)`` are the two 32-bit halves of the element's index. Each element
  depends only on its own index, so the work can be split across devices freely.
* legacy: ``threefry_2x32(key, iota(n))`` -- the counters are cut into two halves
  that form the pairs, so each output depends on where the array was cut.

Both are implemented here, bit-for-bit as in JAX.

This module also holds ``KeyArray`` (typed keys, ``random.key``) and the
key-reuse checker switched on by ``config.update("minijax_check_key_reuse", True)``.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from . import dtypes
from .config import config
from .core import Tracer, get_aval
from .primitives.concatenate import concatenate
from .primitives.elementwise import (bitwise_or, bitwise_xor, convert_element_type, shift_left,
                                     shift_right_logical, bitwise_and, mul)
from .primitives.random_bits import threefry2x32
from .primitives.shape import broadcast_in_dim, broadcasted_iota, iota, reshape
from .primitives.slicing import slice_in_dim

UINT_DTYPES = {8: np.dtype(np.uint8), 16: np.dtype(np.uint16), 32: np.dtype(np.uint32),
               64: np.dtype(np.uint64)}


def _const(value, dtype=np.uint32):
    from .array import Array
    return Array(np.asarray(value, dtype))


def _zeros(shape, dtype=np.uint32):
    z = _const(0, dtype)
    return broadcast_in_dim(z, tuple(shape), ()) if shape else z


# ---------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------
def seed_key(seed):
    """``uint32[2]`` key ``[seed >> 32, seed & 0xFFFFFFFF]`` for an integer seed.

    Like JAX, a Python int seed is first taken as a 64-bit integer; with x64 off
    it is then truncated to int32, so the high word is 0 (``PRNGKey(2**32 + 5)``
    equals ``PRNGKey(5)``).
    """
    if isinstance(seed, (bool, np.bool_)) or (
            hasattr(seed, "dtype") and np.dtype(seed.dtype) == np.bool_):
        raise TypeError("PRNG key seed must be an integer; got a bool.")
    if isinstance(seed, (int, np.integer)):
        seed = int(seed)
        if not -2 ** 63 <= seed < 2 ** 63:
            raise OverflowError(f"PRNG key seed {seed} does not fit in a 64-bit signed integer; "
                                f"pass a seed between -2**63 and 2**63 - 1.")
        lo = seed & 0xFFFFFFFF
        hi = (seed >> 32) & 0xFFFFFFFF if dtypes.x64_enabled() else 0
        return _const([hi, lo])
    if isinstance(seed, float) or not hasattr(seed, "dtype") and not isinstance(seed, Tracer):
        raise TypeError(f"PRNG key seed must be an integer; got {seed!r} of type "
                        f"{type(seed).__name__}. Use e.g. random.PRNGKey(0), or int(seed).")
    if not hasattr(seed, "aval"):
        from .array import Array
        seed = Array(np.asarray(seed, dtypes.canonicalize(np.asarray(seed).dtype)))
    aval = get_aval(seed)
    if aval.shape:
        raise TypeError(f"PRNG key seed must be a scalar; got an array of shape {aval.shape}. "
                        f"Use vmap(random.PRNGKey)(seeds) to make a batch of keys.")
    if aval.dtype.kind not in "iu":
        raise TypeError(f"PRNG key seed must be an integer; got dtype {aval.dtype.name}.")
    lo = convert_element_type(seed, np.uint32)   # wraps modulo 2**32: the low word
    if aval.dtype.itemsize == 8:
        hi = convert_element_type(shift_right_logical(seed, 32), np.uint32)
    else:
        hi = _const(0)
    return concatenate([reshape(hi, (1,)), reshape(lo, (1,))], 0)


# ---------------------------------------------------------------------------
# The counter-mode hash: threefry_2x32(key, counts)
# ---------------------------------------------------------------------------
def key_words(key):
    """The two uint32 words of a single raw key, as rank-0 arrays."""
    return (reshape(slice_in_dim(key, 0, 1), ()), reshape(slice_in_dim(key, 1, 2), ()))


def threefry_2x32(key, count):
    """Scramble the uint32 array ``count`` with ``key`` (JAX's legacy counter layout).

    The flattened counters are cut into a first and a second half (padded with a zero
    if their number is odd); element ``i`` of the first half is paired with element
    ``i`` of the second, each pair goes through the cipher, and the two output halves
    are joined back in the same order.
    """
    k1, k2 = key_words(key)
    shape = get_aval(count).shape
    n = math.prod(shape)
    flat = reshape(count, (n,))
    if n % 2:
        flat = concatenate([flat, _zeros((1,))], 0)
    half = (n + 1) // 2
    y1, y2 = threefry2x32(k1, k2, slice_in_dim(flat, 0, half), slice_in_dim(flat, half, 2 * half))
    out = concatenate([y1, y2], 0)
    return reshape(slice_in_dim(out, 0, n), shape)


def _index_words(shape):
    """``(hi, lo)``: the two 32-bit halves of each element's row-major index in ``shape``."""
    n = math.prod(shape)
    if n >= 2 ** 32:
        raise NotImplementedError(f"minijax.random draws fewer than 2**32 numbers at once; "
                                  f"shape {shape} has {n}.")
    lo = reshape(iota(np.uint32, n), tuple(shape)) if shape else _const(0)
    return _zeros(shape), lo


def _partitionable():
    return bool(config.jax_threefry_partitionable)


# ---------------------------------------------------------------------------
# split and fold_in
# ---------------------------------------------------------------------------
def split(key, shape):
    """``shape + (2,)`` new raw keys derived from the raw key ``key``."""
    shape = tuple(int(d) for d in shape)
    if _partitionable():
        k1, k2 = key_words(key)
        hi, lo = _index_words(shape)
        b1, b2 = threefry2x32(k1, k2, hi, lo)
        b1, b2 = (broadcast_in_dim(b, shape + (1,), tuple(range(len(shape)))) for b in (b1, b2))
        return concatenate([b1, b2], len(shape))
    num = math.prod(shape)
    return reshape(threefry_2x32(key, iota(np.uint32, 2 * num)), shape + (2,))


def fold_in(key, data):
    """A new raw key from ``key`` and the 32-bit integer ``data``: ``threefry(key, (0, data))``."""
    if isinstance(data, (int, np.integer)):
        if not 0 <= int(data) < 2 ** 32:
            raise OverflowError(f"fold_in data must fit in uint32 (0 <= data < 2**32), got {data}.")
        data = _const(int(data))
    else:
        if not hasattr(data, "aval"):
            from .array import Array
            data = Array(np.asarray(data))
        aval = get_aval(data)
        if aval.shape:
            raise TypeError(f"fold_in data must be a scalar, got shape {aval.shape}.")
        if aval.dtype.kind not in "iu":
            raise TypeError(f"fold_in data must be an integer, got dtype {aval.dtype.name}.")
        data = convert_element_type(data, np.uint32)
    counts = concatenate([_zeros((1,)), reshape(data, (1,))], 0)
    return threefry_2x32(key, counts)


# ---------------------------------------------------------------------------
# Random bits
# ---------------------------------------------------------------------------
def random_bits(key, bit_width, shape):
    """Uniform random unsigned integers of ``bit_width`` bits (8, 16, 32 or 64)."""
    if bit_width not in UINT_DTYPES:
        raise TypeError(f"random bits need a bit width of 8, 16, 32 or 64, got {bit_width}.")
    if bit_width == 64 and not dtypes.x64_enabled():
        raise TypeError("64-bit random bits need 64-bit mode: "
                        "config.update('jax_enable_x64', True).")
    shape = tuple(int(d) for d in shape)
    dtype = UINT_DTYPES[bit_width]
    if _partitionable():
        k1, k2 = key_words(key)
        hi, lo = _index_words(shape)
        b1, b2 = threefry2x32(k1, k2, hi, lo)
        if bit_width == 64:
            return bitwise_or(shift_left(convert_element_type(b1, dtype), 32),
                              convert_element_type(b2, dtype))
        return convert_element_type(bitwise_xor(b1, b2), dtype)
    return _random_bits_legacy(key, bit_width, shape, dtype)


def _random_bits_legacy(key, bit_width, shape, dtype):
    size = math.prod(shape)
    words = -(-bit_width * size // 32)          # ceil: how many 32-bit words we need
    if words >= 2 ** 32 - 1:
        raise NotImplementedError("minijax.random draws fewer than 2**32 words at once.")
    bits = threefry_2x32(key, iota(np.uint32, words))
    if bit_width == 64:
        half = words // 2
        hi = convert_element_type(slice_in_dim(bits, 0, half), dtype)
        lo = convert_element_type(slice_in_dim(bits, half, words), dtype)
        bits = bitwise_or(shift_left(hi, 32), lo)
    elif bit_width in (8, 16):
        # Cut every 32-bit word into 32 // bit_width pieces, lowest bits first (a little-endian
        # view of the words), then keep the first ``size`` pieces.
        per_word = 32 // bit_width
        grid = broadcast_in_dim(bits, (words, per_word), (0,))
        shifts = mul(_const(bit_width), broadcasted_iota(np.uint32, (words, per_word), 1))
        mask = _const(np.iinfo(dtype).max)
        pieces = bitwise_and(shift_right_logical(grid, shifts), mask)
        bits = slice_in_dim(reshape(convert_element_type(pieces, dtype), (words * per_word,)),
                            0, size)
    return reshape(bits, shape)


# ---------------------------------------------------------------------------
# Typed keys: random.key(seed) -> a scalar of dtype key<fry>
# ---------------------------------------------------------------------------
class PRNGKeyDtype:
    """The dtype of typed keys. It prints as JAX's does: ``key<fry>`` (fry = threefry)."""

    name = "key<fry>"
    impl = "fry"
    itemsize = 8
    kind = "V"

    def __repr__(self):
        return "key<fry>"

    __str__ = __repr__

    def __eq__(self, other):
        return isinstance(other, PRNGKeyDtype) or other == "key<fry>"

    def __hash__(self):
        return hash("key<fry>")


key_dtype = PRNGKeyDtype()


class KeyArray:
    """An array of typed PRNG keys (``random.key(0)``): shape ``()`` per key, dtype ``key<fry>``.

    It wraps the raw ``uint32[..., 2]`` key data (``random.key_data`` gives it back).
    Keys are not numbers: arithmetic raises a TypeError, which is the point of typed
    keys -- ``key + 1`` is almost always a bug (use ``random.fold_in(key, 1)``).
    KeyArray is a pytree whose one leaf is the key data, so it passes through
    ``vmap``, ``grad`` and ``make_jaxpr`` like any container.
    """

    __slots__ = ("_base",)
    __array_priority__ = 2000

    def __init__(self, base):
        self._base = base

    @property
    def shape(self):
        return tuple(get_aval(self._base).shape[:-1])

    dtype = property(lambda self: key_dtype)
    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: math.prod(self.shape))

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object: this is a single key (shape ()).")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a single key (shape ()); split it first.")
        return (self[i] for i in range(self.shape[0]))

    def __getitem__(self, index):
        index = index if isinstance(index, tuple) else (index,)
        if any(i is Ellipsis for i in index):
            raise IndexError("KeyArray indexing does not support `...`; index the key "
                             "dimensions explicitly.")
        if len(index) > self.ndim:
            raise IndexError(f"too many indices for a key array of shape {self.shape}")
        if all(isinstance(i, (int, np.integer, slice)) for i in index):
            from .primitives.shape import squeeze
            base, drop = self._base, []
            for axis, i in enumerate(index):
                n = self.shape[axis]
                if isinstance(i, slice):
                    start, stop, step = i.indices(n)
                    if step != 1:
                        raise IndexError("KeyArray slices must have step 1")
                    base = slice_in_dim(base, start, max(start, stop), 1, axis)
                else:
                    j = int(i) + (n if i < 0 else 0)
                    if not 0 <= j < n:
                        raise IndexError(f"index {i} is out of bounds for axis {axis} with "
                                         f"size {n}")
                    base = slice_in_dim(base, j, j + 1, 1, axis)
                    drop.append(axis)
            return KeyArray(squeeze(base, drop) if drop else base)
        return KeyArray(self._base[index])

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return KeyArray(reshape(self._base, tuple(shape) + (2,)))

    def _no_arithmetic(self, *args, **kwargs):
        raise TypeError(
            "typed PRNG keys (dtype key<fry>) do not support arithmetic or comparison: a key is "
            "not a number. To derive new keys use random.split(key) or random.fold_in(key, i); "
            "to see the raw uint32 words use random.key_data(key).")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _no_arithmetic
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = _no_arithmetic
    __pow__ = __rpow__ = __neg__ = __pos__ = __abs__ = __invert__ = _no_arithmetic
    __and__ = __rand__ = __or__ = __ror__ = __xor__ = __rxor__ = _no_arithmetic
    __lshift__ = __rshift__ = __lt__ = __le__ = __gt__ = __ge__ = _no_arithmetic
    __hash__ = None

    def __eq__(self, other):
        if isinstance(other, KeyArray):
            from .primitives.elementwise import eq
            from .primitives.reductions import reduce_and
            same = eq(self._base, other._base)
            return reduce_and(same, (get_aval(same).ndim - 1,))
        return self._no_arithmetic()

    def __array__(self, dtype=None, copy=None):
        raise TypeError("a typed PRNG key cannot be converted to a NumPy array; use "
                        "np.asarray(random.key_data(key)) for its uint32 words.")

    def __repr__(self):
        data = np.asarray(self._base) if not isinstance(self._base, Tracer) else self._base
        return f"Array({self.shape}, dtype=key<fry>) overlaying:\n{data}"


def _register_pytree():
    from ..tree_util import register_pytree_node
    register_pytree_node(KeyArray, lambda k: ((k._base,), None),
                         lambda _, children: KeyArray(children[0]))


_register_pytree()


def is_typed(key):
    return isinstance(key, KeyArray)


# ---------------------------------------------------------------------------
# The key-reuse checker
# ---------------------------------------------------------------------------
class KeyReuseWarning(UserWarning):
    """The same concrete PRNG key fed two samplers (see ``minijax_check_key_reuse``)."""


# key bytes -> the sampler that consumed it. The table is bounded: the oldest entries are
# forgotten first.
_consumed: dict[bytes, str] = {}
_MAX_REMEMBERED = 100_000


def note_key_use(raw_key, sampler: str):
    """Record that ``sampler`` consumed ``raw_key``; warn if some sampler already did.

    Only concrete keys are checked (a traced key has no value yet). ``split`` and
    ``fold_in`` count as consuming the key too: after ``k1, k2 = split(key)``, using
    ``key`` again would correlate with ``k1`` and ``k2``.
    """
    if not config.minijax_check_key_reuse or isinstance(raw_key, Tracer):
        return
    data = np.asarray(raw_key, np.uint32).tobytes()
    previous = _consumed.get(data)
    if previous is not None:
        words = np.asarray(raw_key).tolist()
        warnings.warn(
            f"PRNG key {words} was already used by random.{previous} and is now used again by "
            f"random.{sampler}. Reusing a key gives the same (or correlated) random numbers. "
            f"Split it instead: `key, subkey = random.split(key)`, and give each sampler its "
            f"own subkey.", KeyReuseWarning, stacklevel=3)
        return
    if len(_consumed) >= _MAX_REMEMBERED:
        _consumed.pop(next(iter(_consumed)))
    _consumed[data] = sampler


def reset_key_reuse_checker():
    """Forget every key seen so far."""
    _consumed.clear()
