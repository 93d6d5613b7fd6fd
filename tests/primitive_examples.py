"""Example operands for every primitive, shared by the per-primitive test files.

``CASES`` holds at least one example per Primitive under ``minijax._src.primitives``: a function
that binds it (checked by ``test_vmap_primitives.test_case_binds_the_primitive_it_claims``) and
the shape, dtype and kind of values of each operand (``Arg``). ``test_vmap_primitives.py`` runs
them under ``vmap``; ``test_jit_primitives.py`` under ``jit``.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field

import numpy as np

import minijax.numpy as jnp
from minijax import lax
from minijax._src import core
from minijax._src.array import Array
from minijax._src.primitives import elementwise as ew, indexing, linalg, random_bits, special

__all__ = ["Arg", "Case", "CASES", "F", "all_primitives", "case", "make_values", "wrap"]


def all_primitives():
    """Every Primitive instance in the modules of ``minijax._src.primitives`` (deduplicated)."""
    import minijax._src.primitives as pkg
    found = {}
    for info in pkgutil.iter_modules(pkg.__path__):
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, core.Primitive):
                found[id(value)] = value
    return sorted(found.values(), key=lambda p: p.name)


# ---------------------------------------------------------------------------
# Example inputs
# ---------------------------------------------------------------------------
@dataclass
class Arg:
    """One operand: its per-example shape, dtype and what values it holds."""
    shape: tuple
    dtype: str = "float32"
    kind: str = "normal"     # normal | pos | unit | big | int | small_int | bool | uint | index:n |
    #                          spd | tri | complex | shift | which:n
    weak: bool = False


def make_values(rng, arg: Arg, shape):
    k = arg.kind
    if k == "normal":
        v = rng.normal(size=shape)
    elif k == "pos":
        v = rng.uniform(0.2, 2.0, size=shape)
    elif k == "unit":
        v = rng.uniform(-0.9, 0.9, size=shape)
    elif k == "big":
        v = rng.uniform(1.2, 3.0, size=shape)
    elif k == "int":
        v = rng.integers(-20, 20, size=shape)
        v = np.where(v == 0, 3, v)   # no division by zero in integer div/rem
    elif k == "small_int":
        v = rng.integers(-3, 4, size=shape)
    elif k == "bool":
        v = rng.random(size=shape) < 0.5
    elif k == "uint":
        v = rng.integers(0, 2**32, size=shape, dtype=np.uint64)
    elif k == "shift":
        v = rng.integers(0, 8, size=shape)
    elif k.startswith("index:"):
        v = rng.integers(0, int(k.split(":")[1]), size=shape)
    elif k.startswith("which:"):
        v = rng.integers(0, int(k.split(":")[1]), size=shape)
    elif k == "complex":
        v = rng.normal(size=shape) + 1j * rng.normal(size=shape)
    elif k == "spd":   # symmetric positive definite matrices in the last two axes
        a = rng.normal(size=shape)
        n = shape[-1]
        v = a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    elif k == "tri":   # well-conditioned lower-triangular matrices
        n = shape[-1]
        v = np.tril(rng.normal(size=shape)) + 3 * np.eye(n)
    else:
        raise ValueError(k)
    return np.asarray(v).astype(arg.dtype)


def wrap(value, weak):
    return Array(np.asarray(value), weak_type=weak)


@dataclass
class Case:
    name: str
    fn: object
    args: list
    prims: tuple                      # primitive names this case must bind
    axes: list = field(default=None)  # vmap in_axes; default: test_vmap_primitives.default_axes
    rtol: float = 1e-6

    def __repr__(self):
        return self.name


def F(*shape, **kw):
    return Arg(tuple(shape), **kw)


# ---------------------------------------------------------------------------
# The table: at least one case per primitive
# ---------------------------------------------------------------------------
CASES: list[Case] = []


def case(name, fn, args, prims=None, axes=None, rtol=1e-6):
    prims = (name,) if prims is None else tuple(prims)
    CASES.append(Case(name, fn, list(args), prims, axes, rtol))


UNARY_DOMAINS = {
    "float": ["exp", "exp2", "expm1", "sin", "cos", "tan", "atan", "sinh", "cosh", "tanh",
              "asinh", "cbrt", "logistic", "erf", "erfc", "floor", "ceil", "is_finite",
              "sign", "neg", "abs", "square", "stop_gradient"],
    "pos": ["log", "log1p", "sqrt", "rsqrt", "lgamma"],
    "unit": ["asin", "acos", "atanh", "erf_inv"],
    "big": ["acosh"],
}
for kind, names in UNARY_DOMAINS.items():
    for name in names:
        prim = getattr(ew, f"{name}_p")
        k = "normal" if kind == "float" else kind
        case(name, (lambda p: lambda x: p.bind(x))(prim), [F(3, kind=k)])
        case(f"{name}[weak]", (lambda p: lambda x: p.bind(x))(prim), [F(2, 3, kind=k, weak=True)],
             prims=[name])

for name in ["neg", "sign", "abs", "square"]:
    case(f"{name}[int32]", (lambda p: lambda x: p.bind(x))(getattr(ew, f"{name}_p")),
         [F(4, dtype="int32", kind="int")], prims=[name])
case("not", lax.bitwise_not, [F(4, dtype="int32", kind="int")])
case("not[bool]", lax.bitwise_not, [F(4, dtype="bool", kind="bool")], prims=["not"])
case("population_count", lax.population_count, [F(4, dtype="uint32", kind="uint")])
case("real", lax.real, [F(3, dtype="complex64", kind="complex")])
case("imag", lax.imag, [F(3, dtype="complex64", kind="complex")])
case("conj", lax.conj, [F(3, dtype="complex64", kind="complex")])
case("round", lambda x: lax.round(x, 0), [F(5)])
case("round[even]", lambda x: lax.round(x, 1), [F(5)], prims=["round"])
case("integer_pow", lambda x: lax.integer_pow(x, 3), [F(4)])
case("integer_pow[neg]", lambda x: lax.integer_pow(x, -2), [F(4, kind="pos")],
     prims=["integer_pow"])
case("convert_element_type", lambda x: lax.convert_element_type(x, np.int32), [F(4)])
case("convert_element_type[weak]", lambda x: lax.convert_element_type(x, np.float32, True),
     [F(4, dtype="int32", kind="int")], prims=["convert_element_type"])
case("bitcast_convert_type", lambda x: lax.bitcast_convert_type(x, np.int32), [F(4)])
case("bitcast_convert_type[narrow]", lambda x: lax.bitcast_convert_type(x, np.uint16), [F(4)],
     prims=["bitcast_convert_type"])
case("bitcast_convert_type[widen]", lambda x: lax.bitcast_convert_type(x, np.uint32),
     [F(3, 2, dtype="uint16", kind="shift")], prims=["bitcast_convert_type"],
     axes=[(0,), (1,)])   # the last axis is consumed: it cannot be the batch axis

FLOAT_BINARY = {"add": "normal", "sub": "normal", "mul": "normal", "div": "pos", "rem": "pos",
                "pow": "pos", "max": "normal", "min": "normal", "atan2": "normal",
                "nextafter": "normal", "complex": "normal"}
for name, kind in FLOAT_BINARY.items():
    prim = getattr(ew, f"{name}_p")
    fn = (lambda p: lambda x, y: p.bind(x, y))(prim)
    case(name, fn, [F(3, kind=kind), F(3, kind=kind)])
    # rank-0 operands next to arrays: unbatched scalar (None) and batched scalar (0)
    case(f"{name}[scalar rhs]", fn, [F(2, 3, kind=kind), F(kind=kind)], prims=[name])
    case(f"{name}[scalar lhs]", fn, [F(kind=kind), F(3, kind=kind)], prims=[name])
    case(f"{name}[weak]", fn, [F(3, kind=kind, weak=True), F(3, kind=kind, weak=True)],
         prims=[name])
for name in ["add", "sub", "mul", "div", "rem", "max", "min"]:
    case(f"{name}[int32]", (lambda p: lambda x, y: p.bind(x, y))(getattr(ew, f"{name}_p")),
         [F(4, dtype="int32", kind="int"), F(4, dtype="int32", kind="int")], prims=[name])
for name, fn in [("and", lax.bitwise_and), ("or", lax.bitwise_or), ("xor", lax.bitwise_xor)]:
    case(name, fn, [F(4, dtype="int32", kind="int"), F(4, dtype="int32", kind="int")])
    case(f"{name}[bool]", fn, [F(4, dtype="bool", kind="bool"), F(dtype="bool", kind="bool")],
         prims=[name])
for name in ["shift_left", "shift_right_logical", "shift_right_arithmetic"]:
    case(name, getattr(lax, name), [F(4, dtype="int32", kind="int"),
                                    F(4, dtype="int32", kind="shift")])
for name in ["eq", "ne", "lt", "le", "gt", "ge"]:
    fn = getattr(lax, name)
    case(name, fn, [F(4, kind="small_int"), F(4, kind="small_int")])
    case(f"{name}[int scalar]", fn, [F(4, dtype="int32", kind="small_int"),
                                     F(dtype="int32", kind="small_int")], prims=[name])
# Python scalars (weakly typed constants) next to batched values
case("add[python scalar]", lambda x: lax.add(x, 2.0), [F(3)], prims=["add"])
case("mul[python scalar weak]", lambda x: lax.mul(x, 2.0), [F(3, weak=True)], prims=["mul"])
case("select_n", lambda p, a, b: lax.select_n(p, a, b),
     [F(4, dtype="bool", kind="bool"), F(4), F(4)])
case("select_n[int which]", lambda p, a, b, c: lax.select_n(p, a, b, c),
     [F(4, dtype="int32", kind="which:3"), F(4), F(4), F(4)], prims=["select_n"])
case("select_n[scalar pred]", lambda p, a, b: lax.select_n(p, a, b),
     [F(dtype="bool", kind="bool"), F(2, 3), F(2, 3)], prims=["select_n"])
case("fma", random_bits.fma, [F(3), F(3), F(3)])
case("fma[scalar]", random_bits.fma, [F(3), F(), F(3)], prims=["fma"])

# reductions
for name in ["reduce_sum", "reduce_max", "reduce_min", "reduce_prod"]:
    fn = getattr(lax, name)
    case(name, (lambda g: lambda x: g(x, (1,)))(fn), [F(3, 4)])
    case(f"{name}[all axes]", (lambda g: lambda x: g(x, (0, 1)))(fn), [F(3, 4)], prims=[name])
    case(f"{name}[int32]", (lambda g: lambda x: g(x, (0,)))(fn), [F(3, 4, dtype="int32",
                                                                   kind="small_int")],
         prims=[name])
for name in ["reduce_and", "reduce_or", "reduce_xor"]:
    case(name, (lambda g: lambda x: g(x, (0,)))(getattr(lax, name)),
         [F(3, 4, dtype="bool", kind="bool")])
case("reduce_sum[weak]", lambda x: lax.reduce_sum(x, (0,)), [F(3, 2, weak=True)],
     prims=["reduce_sum"])
case("argmax", lambda x: lax.argmax(x, 1, np.int32), [F(3, 4)])
case("argmin", lambda x: lax.argmin(x, 0, np.int32), [F(3, 4)])

# shape
case("broadcast_in_dim", lambda x: lax.broadcast_in_dim(x, (2, 3, 4), (0, 2)), [F(2, 4)])
case("broadcast_in_dim[scalar]", lambda x: lax.broadcast_in_dim(x, (2, 3), ()), [F()],
     prims=["broadcast_in_dim"])
case("reshape", lambda x: lax.reshape(x, (6, 2)), [F(3, 4)])
case("transpose", lambda x: lax.transpose(x, (2, 0, 1)), [F(2, 3, 4)])
case("squeeze", lambda x: lax.squeeze(x, (1,)), [F(3, 1, 2)])
case("rev", lambda x: lax.rev(x, (0, 1)), [F(3, 4)])
case("concatenate", lambda a, b, c: lax.concatenate([a, b, c], 1),
     [F(2, 3), F(2, 1), F(2, 2)])
case("slice", lambda x: lax.slice(x, (1, 0), (4, 3), (2, 1)), [F(5, 3)])
case("pad", lambda x, v: lax.pad(x, v, [(1, 2, 1), (-1, 0, 0)]), [F(3, 4), F()])
case("pad[int]", lambda x, v: lax.pad(x, v, [(2, -1, 0)]),
     [F(4, dtype="int32", kind="int"), F(dtype="int32", kind="int")], prims=["pad"])

# cumulative
for name in ["cumsum", "cumprod", "cummax", "cummin"]:
    fn = getattr(lax, name)
    case(name, (lambda g: lambda x: g(x, axis=1))(fn), [F(3, 4)])
    case(f"{name}[reverse]", (lambda g: lambda x: g(x, axis=0, reverse=True))(fn), [F(3, 4)],
         prims=[name])

# sorting
case("sort", lambda x: lax.sort(x, dimension=0), [F(5, 2)])
case("sort[keys+values]", lambda k, v: lax.sort((k, v), dimension=-1, num_keys=1),
     [F(2, 5, kind="small_int"), F(2, 5)], prims=["sort"])
case("sort[2 keys]", lambda a, b, c: lax.sort((a, b, c), dimension=0, num_keys=2),
     [F(6, dtype="int32", kind="small_int"), F(6, dtype="int32", kind="small_int"), F(6)],
     prims=["sort"])

# indexing
case("gather", lambda x, i: indexing.gather(x, [i], (0,)), [F(5, 3), F(4, dtype="int32",
                                                                       kind="index:5")])
case("gather[2 idx]", lambda x, i, j: indexing.gather(x, [i, j], (0, 2), index_dims_at=1),
     [F(4, 3, 5), F(2, 2, dtype="int32", kind="index:4"), F(2, 2, dtype="int32",
                                                             kind="index:5")],
     prims=["gather"])
case("gather[fill]", lambda x, i: indexing.gather(x, [i], (1,), mode="fill", fill_value=-1.0),
     [F(2, 3), F(4, dtype="int32", kind="index:6")], prims=["gather"])
for name in ["scatter", "scatter_add", "scatter_mul", "scatter_min", "scatter_max"]:
    fn = getattr(indexing, name)
    case(name, (lambda g: lambda x, u, i: g(x, u, [i], (0,)))(fn),
         [F(5, 2), F(3, 2), F(3, dtype="int32", kind="index:5")])
    case(f"{name}[axis 1]", (lambda g: lambda x, u, i: g(x, u, [i], (1,), index_dims_at=1))(fn),
         [F(2, 4), F(2, 3), F(3, dtype="int32", kind="index:4")], prims=[name])
case("dynamic_slice", lambda x, i, j: lax.dynamic_slice(x, (i, j), (2, 2)),
     [F(4, 5), F(dtype="int32", kind="index:6"), F(dtype="int32", kind="index:4")])
case("dynamic_update_slice", lambda x, u, i: lax.dynamic_update_slice(x, u, (i, 1)),
     [F(5, 4), F(2, 3), F(dtype="int32", kind="index:6")])

# linear algebra
case("dot_general", lambda a, b: lax.dot_general(a, b, (((1,), (0,)), ((), ()))),
     [F(2, 3), F(3, 4)], rtol=1e-5)
case("dot_general[batch dims]", lambda a, b: lax.dot_general(a, b, (((2,), (1,)), ((0,), (0,)))),
     [F(2, 3, 4), F(2, 4, 3)], prims=["dot_general"], rtol=1e-5)
case("dot_general[vector]", lambda a, b: lax.dot(a, b), [F(4), F(4)], prims=["dot_general"],
     rtol=1e-5)
case("dot_general[int]", lambda a, b: lax.dot(a, b),
     [F(2, 3, dtype="int32", kind="small_int"), F(3, dtype="int32", kind="small_int")],
     prims=["dot_general"])
case("solve", linalg.solve, [F(3, 3, kind="spd"), F(3, 2)], rtol=1e-5)
case("det", linalg.det, [F(3, 3, kind="spd")], rtol=1e-5)
case("slogdet", linalg.slogdet, [F(3, 3, kind="spd")], rtol=1e-5)
case("triangular_solve", lambda a, b: linalg.triangular_solve(a, b, left_side=True, lower=True),
     [F(3, 3, kind="tri"), F(3, 2)], rtol=1e-5)
case("cholesky", linalg.cholesky, [F(3, 3, kind="spd")], rtol=1e-5)
case("eigh", linalg.eigh, [F(3, 3, kind="spd")], rtol=1e-4, axes=[(0,), (1,), (-1,)])
case("qr", linalg.qr, [F(4, 3)], rtol=1e-5)
case("svd", lambda a: linalg.svd(a, full_matrices=False), [F(4, 3)], rtol=1e-4)

# control flow
case("cond", lambda p, x, y: lax.cond(p, lambda a, b: a * b, lambda a, b: a - b, x, y),
     [F(dtype="bool", kind="bool"), F(3), F(3)])
case("cond[switch]", lambda i, x: lax.switch(i, [jnp.sin, jnp.cos, lambda v: v * 2.0], x),
     [F(dtype="int32", kind="which:3"), F(2, 2)], prims=["cond"])
case("scan", lambda c, xs: lax.scan(lambda a, x: (a * 0.5 + x, a * x), c, xs),
     [F(2), F(4, 2)])
case("while", lambda n, x: lax.while_loop(lambda s: s[0] < n, lambda s: (s[0] + 1, s[1] * 1.5),
                                          (0, x)),
     [F(dtype="int32", kind="index:5"), F(3)])

# special functions
case("digamma", special.digamma, [F(2, 3, kind="pos")])
case("digamma[weak]", special.digamma, [F(3, kind="normal", weak=True)], prims=["digamma"])
case("polygamma", lambda x: special.polygamma(2, x), [F(2, 3, kind="pos")])

# random bits
case("threefry2x32", random_bits.threefry2x32,
     [F(dtype="uint32", kind="uint"), F(dtype="uint32", kind="uint"),
      F(4, dtype="uint32", kind="uint"), F(4, dtype="uint32", kind="uint")])
