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

import importlib
import pkgutil
import zlib
from dataclasses import dataclass, field

import numpy as np
import pytest

import minijax
import minijax.numpy as jnp
from minijax import lax
from minijax._src import core
from minijax._src.array import Array
from minijax._src.primitives import elementwise as ew, indexing, linalg, random_bits, special

# Primitives that need no batching rule, and why.
NO_BATCH_RULE_NEEDED = {
    "iota": "nullary: it takes no operands, so no operand can carry a batch axis",
}


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


def _values(rng, arg: Arg, shape):
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


def _wrap(value, weak):
    return Array(np.asarray(value), weak_type=weak)


@dataclass
class Case:
    name: str
    fn: object
    args: list
    prims: tuple                      # primitive names this case must bind
    axes: list = field(default=None)  # in_axes tuples; default: see default_axes
    rtol: float = 1e-6

    def __repr__(self):
        return self.name


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
