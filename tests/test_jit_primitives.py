"""jit, one primitive at a time and on random programs: compiled results equal eager ones.

``jit(f)(*args)`` must give what ``f(*args)`` gives: the same pytree of outputs, each with the
same shape, dtype and weak_type, and values within float32 tolerance (exactly equal for integers,
booleans and the random-bits primitives, whose samples must stay bit-identical).

Part 1, every primitive. The example table of ``primitive_examples.py`` (shared with the vmap
tests) has at least one example per primitive under ``minijax._src.primitives``; this file adds
examples for the call primitives (``pjit``, ``custom_jvp_call``, ``custom_vjp_call``), for the
nullary ``iota``, and a second, different shape for the structural primitives (shape, indexing,
linear algebra, control flow). Every example runs

* as written ("base", each example jitted on its own), and -- in groups of examples jitted
  together, to compile fewer programs -- with non-contiguous operands ("strided": ``x.T`` or
  ``x[..., ::2]`` views), for elementwise primitives with rank-0 operands ("rank0");
* for elementwise primitives, reductions and cumulative ops, also on a LARGE shape of 2**17
  elements ("large", and on a sample "large.T" with transposed operands), the size at which
  the numba backend switches to parallel ``prange`` loops.

A primitive with no jit example fails ``test_every_primitive_has_a_jit_example`` unless it is
listed in ``NO_JIT_EXAMPLE`` with the reason. A kernel numba refuses to compile (the backend then
warns and falls back to NumPy) is an error here: the point is to run the compiled code.

Part 2, random programs. A hypothesis strategy composes small programs from a vocabulary of
jnp/lax operations (see ``OPS``) on random shapes, keeping values in safe domains; each program
runs eagerly, under ``jit``, and with plain NumPy. A subset is also checked under
``jit(grad(sum . prog))`` against eager ``grad``, and ``jit(vmap(prog))`` against a loop.
"""
from __future__ import annotations

import importlib
import math
import pkgutil
import zlib

import numpy as np
import pytest

import minijax as jax
import minijax.numpy as jnp
from minijax import lax
from minijax._src import core
from minijax._src.primitives import (cumulative, elementwise, indexing, linalg, random_bits,
                                     reductions, special)
from primitive_examples import CASES, Case, F, make_values, wrap

pytest.importorskip("numba")
pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

# A kernel that numba cannot compile silently runs with NumPy instead (with a RuntimeWarning);
# here that is a failure: these tests are about the compiled code.
pytestmark = pytest.mark.filterwarnings("error:minijax could not compile:RuntimeWarning")

LARGE = (256, 512)      # 2**17 elements: large enough to run in parallel (see the fixture below)


@pytest.fixture(autouse=True)
def _large_examples_run_in_parallel(monkeypatch):
    """The backend parallelises only kernels with a lot of work (thread start-up is costly);
    here any kernel of LARGE's size does, so the prange code paths are what gets tested."""
    from minijax._src.backends import cpu_kernels
    monkeypatch.setattr(cpu_kernels, "PARALLEL_MIN_WORK", 1 << 17)

F32_EPS = float(np.finfo(np.float32).eps)


def _names(*modules):
    return {v.name for m in modules for v in vars(m).values() if isinstance(v, core.Primitive)}


ELEMENTWISE = _names(elementwise, special, random_bits)
REDUCTIONS = _names(reductions)
CUMULATIVE = _names(cumulative)
EXACT = _names(random_bits)      # threefry2x32, fma, bitcast_convert_type: bit-identical
SUM_LIKE = {"reduce_sum", "cumsum", "dot_general"}
PROD_LIKE = {"reduce_prod", "cumprod"}

NO_JIT_EXAMPLE = {
    "custom_lin": "exists only inside linearized programs, which are transposed before they run; "
                  "forward mode through a custom_vjp function raises -- eagerly and under jit "
                  "alike (test_custom_lin_forward_mode_fails_alike)",
}


def every_primitive():
    """Every Primitive instance in any module under ``minijax._src`` (not just primitives/)."""
    import minijax._src as pkg
    found = {}
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, core.Primitive):
                found[id(value)] = value
    return sorted(found.values(), key=lambda p: p.name)


# ---------------------------------------------------------------------------
# Examples this file adds: call primitives, nullary iota, and second shapes
# ---------------------------------------------------------------------------
JIT_CASES: list[Case] = []
REFERENCES = {}     # case name -> NumPy function computing the expected outputs


def jcase(name, fn, args, prims, rtol=1e-6, ref=None):
    JIT_CASES.append(Case(name, fn, list(args), tuple(prims), None, rtol))
    if ref is not None:
        REFERENCES[name] = ref


@jax.custom_jvp
def _softplus(x):
    return jnp.log1p(jnp.exp(x))


@_softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return _softplus(x), t * lax.logistic(x)


@jax.custom_vjp
def _scaled_clip(x, y):
    return jnp.clip(x, -1.0, 1.0) * y


_scaled_clip.defvjp(lambda x, y: (_scaled_clip(x, y), (x, y)),
                    lambda res, g: (g * res[1], g * jnp.clip(res[0], -1.0, 1.0)))

_inner_jit = jax.jit(lambda x, y: jnp.sin(x) * y + 1.0)
_static_jit = jax.jit(lambda x, n: x ** n - x, static_argnums=1)

# call primitives: a jitted function called by a jitted function, custom derivative rules
for suffix, shape in [("", (5, 3)), ("[large]", LARGE)]:
    jcase(f"pjit{suffix}", lambda x, y: _inner_jit(x, y) * 2.0 + _static_jit(y, 3),
          [F(*shape), F(*shape)], ["pjit"],
          ref=lambda x, y: (np.sin(x) * y + 1) * 2 + (y ** 3 - y))
    jcase(f"custom_jvp_call{suffix}", lambda x: _softplus(x) - x, [F(*shape)], ["custom_jvp_call"],
          ref=lambda x: np.log1p(np.exp(x)) - x)
    jcase(f"custom_vjp_call{suffix}", lambda x, y: _scaled_clip(x, y) + x,
          [F(*shape), F(*shape)], ["custom_vjp_call"],
          ref=lambda x, y: np.clip(x, -1, 1) * y + x)
jcase("pjit[nested]", lambda x: jax.jit(lambda v: _inner_jit(v, v) - 1.0)(x), [F(4)], ["pjit"],
      ref=lambda x: np.sin(x) * x)

# iota: nullary, and inside a computation
jcase("iota", lambda: lax.iota(np.int32, 7), [], ["iota"], ref=lambda: np.arange(7, dtype=np.int32))
jcase("iota[large float]", lambda: lax.iota(np.float32, LARGE[0] * LARGE[1]), [], ["iota"],
      ref=lambda: np.arange(LARGE[0] * LARGE[1], dtype=np.float32))
jcase("iota[in expression]", lambda x: x * lax.iota(np.float32, 6) + 1.0, [F(6)],
      ["iota", "mul"], ref=lambda x: x * np.arange(6, dtype=np.float32) + 1)
jcase("iota[2d dimension]", lambda x: x + lax.broadcasted_iota(np.float32, LARGE, 1),
      [F(*LARGE)], ["iota"], ref=lambda x: x + np.arange(LARGE[1], dtype=np.float32))

# shape
jcase("broadcast_in_dim[large]", lambda x: lax.broadcast_in_dim(x, LARGE, (1,)) * 2.0,
      [F(LARGE[1])], ["broadcast_in_dim"], ref=lambda x: np.broadcast_to(x * 2, LARGE))
jcase("broadcast_in_dim[scalar to 1d]", lambda x: lax.broadcast_in_dim(x, (300,), ()), [F()],
      ["broadcast_in_dim"], ref=lambda x: np.full(300, x))
jcase("reshape[3d]", lambda x: lax.reshape(x, (8, 24)) + 1.0, [F(4, 6, 8)], ["reshape"],
      ref=lambda x: x.reshape(8, 24) + 1)
jcase("reshape[large]", lambda x: lax.reshape(jnp.sin(x), (LARGE[1], LARGE[0])), [F(*LARGE)],
      ["reshape"], ref=lambda x: np.sin(x).reshape(LARGE[::-1]))
jcase("transpose[large]", lambda x: lax.transpose(x, (1, 0)) * 3.0, [F(*LARGE)], ["transpose"],
      ref=lambda x: x.T * 3)
jcase("transpose[3d]", lambda x: lax.transpose(x, (1, 2, 0)), [F(5, 6, 7)], ["transpose"],
      ref=lambda x: x.transpose(1, 2, 0))
jcase("squeeze[2 axes]", lambda x: lax.squeeze(x, (0, 2)), [F(1, 7, 1)], ["squeeze"],
      ref=lambda x: x[0, :, 0])
jcase("rev[large]", lambda x: lax.rev(x, (1,)) - x, [F(*LARGE)], ["rev"],
      ref=lambda x: x[:, ::-1] - x)
jcase("concatenate[large]", lambda a, b: lax.concatenate([a, b, a], 0),
      [F(*LARGE), F(7, LARGE[1])], ["concatenate"],
      ref=lambda a, b: np.concatenate([a, b, a], 0))
jcase("slice[large strided]", lambda x: lax.slice(x, (3, 1), (250, 500), (3, 2)), [F(*LARGE)],
      ["slice"], ref=lambda x: x[3:250:3, 1:500:2])
jcase("pad[interior, large]", lambda x, v: lax.pad(x, v, [(2, 1, 0), (-3, 4, 1)]),
      [F(*LARGE), F()], ["pad"], ref=None)

# reductions of one long axis (2**18 elements: parallel partial results, or a serial loop)
for _name, _fn, _ref in [("reduce_sum", lambda x: lax.reduce_sum(x, (0,)), np.sum),
                         ("reduce_max", lambda x: lax.reduce_max(x, (0,)), np.max),
                         ("argmax", lambda x: lax.argmax(x, 0, np.int32), np.argmax),
                         ("argmin", lambda x: lax.argmin(x, 0, np.int32), np.argmin)]:
    jcase(f"{_name}[1-D 2**18]", _fn, [F(1 << 18)], [_name], rtol=1e-5, ref=_ref)

# sorting
jcase("sort[1000]", lambda x: lax.sort(x, dimension=0), [F(1000)], ["sort"],
      ref=lambda x: np.sort(x))
jcase("sort[rows]", lambda x: lax.sort(x, dimension=1), [F(64, 33)], ["sort"],
      ref=lambda x: np.sort(x, axis=1))

# indexing
jcase("gather[large]", lambda x, i: indexing.gather(x, [i], (0,)),
      [F(1000, 8), F(500, dtype="int32", kind="index:1000")], ["gather"],
      ref=lambda x, i: x[i])
for _name in ["scatter_add", "scatter_min", "scatter_max", "scatter_mul"]:
    jcase(f"{_name}[duplicates]",
          (lambda g: lambda x, u, i: g(x, u, [i], (0,)))(getattr(indexing, _name)),
          [F(20, 4), F(200, 4), F(200, dtype="int32", kind="index:20")], [_name])
jcase("dynamic_slice[large]", lambda x, i, j: lax.dynamic_slice(x, (i, j), (100, 200)),
      [F(*LARGE), F(dtype="int32", kind="index:300"), F(dtype="int32", kind="index:400")],
      ["dynamic_slice"])
jcase("dynamic_update_slice[large]", lambda x, u, i: lax.dynamic_update_slice(x, u, (i, 7)),
      [F(*LARGE), F(30, 40), F(dtype="int32", kind="index:300")], ["dynamic_update_slice"])

# linear algebra
jcase("dot_general[64x128x32]", lambda a, b: a @ b, [F(64, 128), F(128, 32)], ["dot_general"],
      rtol=1e-5, ref=lambda a, b: a @ b)
jcase("dot_general[batched]", lambda a, b: lax.dot_general(a, b, (((2,), (1,)), ((0,), (0,)))),
      [F(4, 16, 32), F(4, 32, 8)], ["dot_general"], rtol=1e-5, ref=lambda a, b: a @ b)
for _name, _fn in [("solve", lambda a, b: linalg.solve(a, b)), ("det", linalg.det),
                   ("slogdet", linalg.slogdet), ("cholesky", linalg.cholesky),
                   ("eigh", linalg.eigh)]:
    _args = [F(2, 6, 6, kind="spd")] + ([F(2, 6, 3)] if _name == "solve" else [])
    jcase(f"{_name}[batched 6x6]", _fn, _args, [_name], rtol=1e-4)
jcase("triangular_solve[8x8]",
      lambda a, b: linalg.triangular_solve(a, b, left_side=True, lower=True),
      [F(8, 8, kind="tri"), F(8, 5)], ["triangular_solve"], rtol=1e-5)
jcase("qr[10x6]", linalg.qr, [F(10, 6)], ["qr"], rtol=1e-4)
jcase("svd[10x6]", lambda a: linalg.svd(a, full_matrices=False), [F(10, 6)], ["svd"], rtol=1e-4)

# control flow, with large operands (whose bodies are compiled as parallel loops)
jcase("cond[large]", lambda p, x: lax.cond(p, lambda v: jnp.sin(v) * 2.0, lambda v: v * v - 1.0, x),
      [F(dtype="bool", kind="bool"), F(*LARGE)], ["cond"],
      ref=lambda p, x: np.sin(x) * 2 if p else x * x - 1)
jcase("cond[switch large]", lambda i, x: lax.switch(i, [jnp.cos, jnp.tanh, lambda v: -v], x),
      [F(dtype="int32", kind="which:3"), F(*LARGE)], ["cond"],
      ref=lambda i, x: [np.cos, np.tanh, np.negative][int(i)](x))
jcase("while[large carry]",
      lambda n, x: lax.while_loop(lambda s: s[0] < n, lambda s: (s[0] + 1, s[1] * 0.5 + 1.0),
                                  (0, x))[1],
      [F(dtype="int32", kind="index:6"), F(*LARGE)], ["while"])
jcase("fori_loop[large]", lambda x: lax.fori_loop(0, 4, lambda i, v: jnp.tanh(v) + i, x),
      [F(*LARGE)], ["scan"])     # (static trip count: fori_loop is a scan)
jcase("fori_loop[traced bound]", lambda n, x: lax.fori_loop(0, n, lambda i, v: v * 0.5 + i, x),
      [F(dtype="int32", kind="index:5"), F(3, 4)], ["while"])
jcase("scan[long]", lambda c, xs: lax.scan(lambda a, x: (a * 0.9 + jnp.sin(x), a - x), c, xs),
      [F(512), F(40, 512)], ["scan"])
jcase("scan[large carry]", lambda c: lax.scan(lambda a, _: (jnp.cos(a) + a, a * 2.0), c, None,
                                              length=3),
      [F(*LARGE)], ["scan"])


# ---------------------------------------------------------------------------
# Variants: operands at other shapes and layouts
# ---------------------------------------------------------------------------
def _family(c: Case):
    if set(c.prims) <= ELEMENTWISE:
        return "elementwise"
    if set(c.prims) <= REDUCTIONS | CUMULATIVE:
        return "reduction"
    return "other"


def _large_values(rng, c: Case, arg, shape):
    """Values for the large variant; products of many numbers need factors near 1."""
    if set(c.prims) & {"reduce_prod", "cumprod"}:
        if arg.dtype == "float32":
            return (1.0 + 0.002 * rng.normal(size=shape)).astype(np.float32)
        return rng.choice(np.array([-1, 1, 3], arg.dtype), size=shape)
    return make_values(rng, arg, shape)


def _strided(v):
    """The same values in a non-contiguous layout: a transposed copy's transpose (``x.T``), or
    every other element of a twice-as-long buffer (``x[..., ::2]``)."""
    if v.ndim >= 2 and v.shape[-1] > 1 and v.shape[-2] > 1:
        return np.swapaxes(np.ascontiguousarray(np.swapaxes(v, -1, -2)), -1, -2)
    buf = np.zeros(v.shape[:-1] + (2 * v.shape[-1],), v.dtype)
    buf[..., ::2] = v
    return buf[..., ::2]


def variant_inputs(c: Case, variant: str, seed: int):
    rng = np.random.default_rng(seed)
    out = []
    for arg in c.args:
        if variant == "rank0":
            v = make_values(rng, arg, ())
        elif variant.startswith("large") and arg.shape:
            v = _large_values(rng, c, arg, LARGE)
        else:
            v = make_values(rng, arg, arg.shape)
        if (variant == "strided" or variant == "large.T") and v.ndim >= 1 and v.shape[-1] > 1:
            v = _strided(v)
        out.append(wrap(v, arg.weak))
    return out


def variants_of(c: Case, first_of_its_primitive: bool):
    """The variants an example runs in, besides "base"."""
    out = []
    family = _family(c)
    already_large = any(math.prod(a.shape) >= 1 << 17 for a in c.args)
    if not already_large and any(a.shape and a.shape[-1] > 1 for a in c.args):
        out.append("strided")
    if family == "elementwise" and not c.name.endswith("[widen]"):
        out.append("rank0")
    # Large: every reduction example (each reduces other axes or dtypes); one example per
    # elementwise primitive plus its int/bool versions (other loops). Transposed large inputs
    # ("large.T") on a sample: numba compiles every loop again for the copies they become.
    if not already_large and (family == "reduction" or (
            family == "elementwise" and not c.name.endswith("[widen]")
            and (first_of_its_primitive or c.name.endswith(("[int32]", "[bool]"))))):
        out.append("large")
        if c.prims[0] in ("reduce_sum", "reduce_max", "argmax", "argmin", "cumsum", "add",
                          "mul", "sin", "exp", "log", "select_n", "max", "convert_element_type"):
            out.append("large.T")
    return out


# Cases where jit != eager today: (case name, variant) -> reason. strict: fixing flips them.
KNOWN_BUGS: dict = {}   # (example name, variant) -> reason, for a strict xfail

# "base" runs every example on its own: jit(example)(*args) against example(*args). The other
# variants run in GROUPS: one jitted function computes GROUP_SIZE examples side by side (each
# output is still compared with its own example's eager result, and a failure names the
# example). Compiling is what costs time here, and a group compiles as one program.
GROUP_SIZE = 16


def _params():
    params, by_variant, seen = [], {}, set()
    for c in CASES + JIT_CASES:
        first = not set(c.prims) <= seen
        seen |= set(c.prims)
        params.append(pytest.param(c, "base", id=f"{c.name}-base"))
        for variant in variants_of(c, first):
            bug = KNOWN_BUGS.get((c.name, variant))
            if bug:    # alone, so that it can be marked
                params.append(pytest.param(c, variant, id=f"{c.name}-{variant}",
                                           marks=pytest.mark.xfail(strict=True, reason=bug)))
            else:
                by_variant.setdefault(variant, []).append(c)
    groups = []
    for variant, cases in by_variant.items():
        for i in range(0, len(cases), GROUP_SIZE):
            g = cases[i:i + GROUP_SIZE]
            groups.append(pytest.param(g, variant, id=f"{variant}-{g[0].name}..{g[-1].name}"))
    return params, groups


PARAMS, GROUP_PARAMS = _params()


# ---------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------
def _float_tolerance(c: Case, variant: str, inputs):
    rtol = max(c.rtol, 2e-6)
    atol = rtol
    n = np.size(inputs[0]) if inputs else 0
    if set(c.prims) & SUM_LIKE and n >= 1 << 17:
        # Summing 2**17 float32 numbers in another order moves the result by some eps * sum|x|.
        atol = 8 * F32_EPS * float(np.sum(np.abs(np.asarray(inputs[0], np.float64))))
    if set(c.prims) & PROD_LIKE and n >= 1 << 17:
        # ... and a product of n factors by some eps * sqrt(n), relatively.
        rtol = 4 * F32_EPS * math.sqrt(n)
    return rtol, atol


def assert_same(got, want, rtol=2e-6, atol=2e-6, exact=False, what=""):
    """``got`` (compiled) equals ``want`` (eager): types exactly, values to tolerance."""
    got_leaves, got_tree = jax.tree_util.tree_flatten(got)
    want_leaves, want_tree = jax.tree_util.tree_flatten(want)
    assert got_tree == want_tree, f"{what}: output structure {got_tree} != {want_tree}"
    for k, (g, w) in enumerate(zip(got_leaves, want_leaves)):
        where = f"{what} output {k}"
        assert isinstance(g, jax.Array), f"{where}: jit returned {type(g)}"
        assert g.dtype == w.dtype, f"{where}: dtype {g.dtype} != {w.dtype}"
        assert g.shape == w.shape, f"{where}: shape {g.shape} != {w.shape}"
        assert g.weak_type == w.weak_type, f"{where}: weak_type {g.weak_type} != {w.weak_type}"
        g, w = np.asarray(g), np.asarray(w)
        if exact or w.dtype.kind not in "fc":
            np.testing.assert_array_equal(g, w, err_msg=where)
        else:   # (NaN must be NaN in both, inf equal inf)
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=where)


def _prim_names(jaxpr):
    return {e.primitive.name for e in jaxpr.eqns}


# ---------------------------------------------------------------------------
# Part 1 tests: every primitive
# ---------------------------------------------------------------------------
def test_every_primitive_has_a_jit_example():
    prims = every_primitive()
    names = {p.name for p in prims}
    assert len(prims) > 100 and {"pjit", "custom_jvp_call", "cond", "scan"} <= names
    covered = {name for c in CASES + JIT_CASES for name in c.prims}
    missing = names - covered - set(NO_JIT_EXAMPLE)
    assert not missing, f"primitives without a jit example: {sorted(missing)}"
    assert set(NO_JIT_EXAMPLE) <= names, "stale NO_JIT_EXAMPLE entry"
    assert not set(NO_JIT_EXAMPLE) & covered, "an exempt primitive now has an example"


def test_every_primitive_runs_in_the_variants():
    """Strided operands reach (nearly) every primitive, the large (prange) shape every
    elementwise primitive and reduction, rank-0 operands every elementwise primitive."""
    covered = {}
    for p in GROUP_PARAMS + PARAMS:
        group, variant = p.values
        for c in (group if isinstance(group, list) else [group]):
            covered.setdefault(variant, set()).update(c.prims)
    assert ELEMENTWISE | REDUCTIONS | CUMULATIVE <= covered["large"]
    assert len(covered["large.T"]) >= 10
    assert ELEMENTWISE <= covered["rank0"]
    nullary_or_scalar = {"iota"}
    assert {p.name for p in every_primitive()} - set(NO_JIT_EXAMPLE) - nullary_or_scalar \
        <= covered["strided"]


@pytest.mark.parametrize("c", JIT_CASES, ids=repr)
def test_jit_case_binds_the_primitive_it_claims(c):
    inputs = variant_inputs(c, "base", seed=1)
    names = _prim_names(jax.make_jaxpr(c.fn)(*inputs))
    assert set(c.prims) <= names, f"{c.name}: jaxpr binds {sorted(names)}"


@pytest.mark.parametrize("c, variant", PARAMS)
def test_jit_matches_eager(c, variant):
    inputs = variant_inputs(c, variant, seed=zlib.crc32(f"{c.name}/{variant}".encode()))
    if variant in ("strided", "large.T"):
        assert any(not np.asarray(x).flags.c_contiguous for x in inputs)
    if variant != "base":   # the variant still binds the primitive (and traces at this shape)
        assert set(c.prims) <= _prim_names(jax.make_jaxpr(c.fn)(*inputs))
    want = c.fn(*inputs)
    got = jax.jit(c.fn)(*inputs)
    rtol, atol = _float_tolerance(c, variant, inputs)
    assert_same(got, want, rtol, atol, exact=bool(set(c.prims) & EXACT), what=c.name)
    _check_reference(c, inputs, got, rtol, atol)


def _check_reference(c, inputs, got, rtol, atol):
    """Where this file knows the NumPy answer too, the compiled result equals it."""
    ref = REFERENCES.get(c.name)
    if ref is not None:
        expected = ref(*[np.asarray(x) for x in inputs])
        for g, e in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(expected)):
            np.testing.assert_allclose(np.asarray(g), np.asarray(e, np.asarray(g).dtype),
                                       rtol=max(rtol, 1e-5), atol=max(atol, 1e-5))


def test_jit_of_a_callable_without_a_name():
    import functools
    f = functools.partial(lambda a, x: a * jnp.sin(x), 2.0)
    x = jnp.linspace(-1.0, 1.0, 5)
    assert_same(jax.jit(f)(x), f(x))


def test_custom_lin_forward_mode_fails_alike():
    """custom_lin (the tangent of a custom_vjp function) has no forward-mode value."""
    x, t = jnp.ones(3), jnp.ones(3)
    f = lambda x, t: jax.jvp(lambda v: _scaled_clip(v, v), (x,), (t,))   # noqa: E731
    with pytest.raises(TypeError, match="custom_vjp"):
        f(x, t)
    with pytest.raises(TypeError, match="custom_vjp"):
        jax.jit(f)(x, t)
    # ... while reverse mode never runs it: the linear program is transposed first.
    g = lambda x: jnp.sum(_scaled_clip(x, x * 2.0))   # noqa: E731
    assert_same(jax.jit(jax.grad(g))(x * 0.5), jax.grad(g)(x * 0.5))


@pytest.mark.parametrize("group, variant", GROUP_PARAMS)
def test_jit_matches_eager_in_other_shapes_and_layouts(group, variant):
    """strided: non-contiguous operands (``x.T``, ``x[..., ::2]``); rank0: every operand rank-0;
    large / large.T: 2**17 elements per operand (the parallel ``prange`` loops), contiguous and
    transposed."""
    inputs = [variant_inputs(c, variant, seed=zlib.crc32(f"{c.name}/{variant}".encode()))
              for c in group]
    bounds = np.cumsum([0] + [len(x) for x in inputs])
    flat = [x for xs in inputs for x in xs]

    def everything(*args):
        return [c.fn(*args[lo:hi]) for c, lo, hi in zip(group, bounds[:-1], bounds[1:])]
    got = jax.jit(everything)(*flat)
    failures = []
    for c, xs, g in zip(group, inputs, got):
        try:
            if variant in ("strided", "large.T"):
                assert any(not np.asarray(x).flags.c_contiguous for x in xs), "contiguous"
            assert set(c.prims) <= _prim_names(jax.make_jaxpr(c.fn)(*xs))
            rtol, atol = _float_tolerance(c, variant, xs)
            assert_same(g, c.fn(*xs), rtol, atol, exact=bool(set(c.prims) & EXACT), what=c.name)
            _check_reference(c, xs, g, rtol, atol)
        except AssertionError as error:
            failures.append(f"{c.name}: {error}")
    assert not failures, "\n\n".join(failures)


# ===========================================================================
# Part 2: random programs
# ===========================================================================
# A program is a list of steps over registers. Every register has a static type (``Reg``):
# shape, dtype, whether its bits are `exact` (no rounding happened: inputs, ints, bools,
# selections, shape ops -- so jit must reproduce them bit for bit, and only exact values may
# feed discontinuous ops such as comparisons and float->int casts, where a 1-ulp difference
# would flip the result), a bound on |value| and an error scale: float32 rounding in any
# correct implementation moves a value by about eps * err, which sets the tolerance.
FLOAT, INT, BOOL = "float32", "int32", "bool"
MAX_BOUND = 1e4


class Reg:
    __slots__ = ("shape", "dtype", "exact", "bound", "err")

    def __init__(self, shape, dtype, exact, bound, err=None):
        self.shape, self.dtype, self.exact = tuple(shape), dtype, exact
        self.bound = float(bound)
        self.err = float(max(bound, err or 0.0))

    @property
    def size(self):
        return math.prod(self.shape)


def _erf_np(v):
    return np.vectorize(math.erf, otypes=[np.float64])(v)


# Unary float functions: name -> (jnp, numpy, output bound given input bound, Lipschitz const).
# Domains are made safe inside the function (log(|x| + 1), sqrt(|x| + 1), exp(-|x|), ...).
UNARY = {
    "sin": (jnp.sin, np.sin, lambda b: min(b, 1.0), 1.0),
    "cos": (jnp.cos, np.cos, lambda b: 1.0, 1.0),
    "tanh": (jnp.tanh, np.tanh, lambda b: min(b, 1.0), 1.0),
    "atan": (jnp.arctan, np.arctan, lambda b: min(b, 1.6), 1.0),
    "logistic": (lax.logistic, lambda v: 1 / (1 + np.exp(-v)), lambda b: 1.0, 0.25),
    "erf": (lax.erf, _erf_np, lambda b: 1.0, 1.13),
    "exp": (lambda v: jnp.exp(-jnp.abs(v)), lambda v: np.exp(-np.abs(v)), lambda b: 1.0, 1.0),
    "log": (lambda v: jnp.log(jnp.abs(v) + 1.0), lambda v: np.log(np.abs(v) + 1),
            lambda b: math.log(b + 1), 1.0),
    "sqrt": (lambda v: jnp.sqrt(jnp.abs(v) + 1.0), lambda v: np.sqrt(np.abs(v) + 1),
             lambda b: math.sqrt(b + 1), 0.5),
    "affine": (lambda v: v * 0.5 + 1.5, lambda v: v * np.float32(0.5) + np.float32(1.5),
               lambda b: 0.5 * b + 1.5, 0.5),
    "rsub": (lambda v: 2.0 - v, lambda v: np.float32(2.0) - v, lambda b: b + 2, 1.0),
    "square": (lambda v: v * v, lambda v: v * v, lambda b: b * b, None),   # Lipschitz 2|v|
}
BOUNDED_UNARY = ["sin", "cos", "tanh", "atan", "logistic", "erf", "exp"]


def _unary_reg(name, r):
    out_bound = UNARY[name][2](r.bound)
    lip = UNARY[name][3]
    err = 2 * r.bound * r.err if lip is None else lip * r.err
    return Reg(r.shape, FLOAT, False, out_bound, max(err, out_bound))


def _broadcast(*shapes):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        return None


class Op:
    """One kind of step: how to type it, draw its parameters and run it (jnp or NumPy)."""

    def __init__(self, name, arity, typer, jfn, nfn, params=None):
        self.name, self.arity, self.typer = name, arity, typer
        self.jfn, self.nfn = jfn, nfn
        self.params = params or (lambda rng, *regs: None)

    def out(self, regs, p):
        """The result's Reg, or None if the op does not apply to these operands/params."""
        try:
            r = self.typer(*regs, p)
        except (ValueError, TypeError, IndexError):
            return None
        if r is None or r.bound > MAX_BOUND or r.err > MAX_BOUND:
            return None
        return r


def _float(r):
    return r.dtype == FLOAT


def _num(r):
    return r.dtype in (FLOAT, INT)


OPS: list[Op] = []


def op(name, arity, typer, jfn, nfn, params=None):
    OPS.append(Op(name, arity, typer, jfn, nfn, params))


# -- elementwise unary (transcendental included) --------------------------------------------
for _u in UNARY:
    op(_u, 1, (lambda u: lambda r, p: _unary_reg(u, r) if _float(r) and (
        u not in ("sin", "cos") or r.bound <= 100) else None)(_u),
       (lambda u: lambda v, p: UNARY[u][0](v))(_u), (lambda u: lambda v, p: UNARY[u][1](v))(_u))
op("neg", 1, lambda r, p: Reg(r.shape, r.dtype, r.exact, r.bound, r.err) if _num(r) else None,
   lambda v, p: -v, lambda v, p: -v)
op("abs", 1, lambda r, p: Reg(r.shape, r.dtype, r.exact, r.bound, r.err) if _num(r) else None,
   lambda v, p: jnp.abs(v), lambda v, p: np.abs(v))


# -- elementwise binary, broadcasting (size-1 axes, rank-0) and promotion ---------------------
def _binary_typer(kind):
    def typer(a, b, p):
        shape = _broadcast(a.shape, b.shape)
        if shape is None or not (_num(a) and _num(b)):
            return None
        dtype = FLOAT if FLOAT in (a.dtype, b.dtype) else INT
        exact = dtype == INT and a.exact and b.exact
        if dtype == INT and kind in ("div", "atan2"):
            return None
        if kind in ("add", "sub"):
            bound, err = a.bound + b.bound, a.err + b.err
        elif kind == "mul":
            bound, err = a.bound * b.bound, a.err * b.bound + b.err * a.bound
        elif kind == "div":
            bound, err = a.bound, a.err + b.err * a.bound
        elif kind == "atan2":
            bound, err = 1.6, a.err + b.err
        elif kind == "rem":
            if dtype != INT:
                return None
            bound, err = b.bound + 1, 0
        else:   # max, min: selections
            bound, err = max(a.bound, b.bound), max(a.err, b.err)
            exact = a.exact and b.exact and a.dtype == b.dtype
        if dtype == INT and bound > 1e6:
            return None
        return Reg(shape, dtype, exact, bound, err)
    return typer


_BIN = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / (jnp.abs(b) + 1.0), lambda a, b: a / (np.abs(b) + np.float32(1))),
    "atan2": (lambda a, b: jnp.arctan2(a, jnp.abs(b) + 1.0),
              lambda a, b: np.arctan2(a, np.abs(b) + np.float32(1))),
    "rem": (lambda a, b: jnp.remainder(a, jnp.abs(b) + 1),
            lambda a, b: np.remainder(a, np.abs(b) + 1)),
    "max": (jnp.maximum, np.maximum),
    "min": (jnp.minimum, np.minimum),
}
for _b, (_jf, _nf) in _BIN.items():
    op(_b, 2, _binary_typer(_b), (lambda f: lambda a, b, p: f(a, b))(_jf),
       (lambda f: lambda a, b, p: f(a, b))(_nf))
op("add_scalar", 1, lambda r, p: Reg(r.shape, r.dtype, r.dtype == INT and r.exact, r.bound + 3,
                                     r.err + 3) if _num(r) else None,
   lambda v, p: 3 + v if p else v + 3, lambda v, p: v + v.dtype.type(3),
   params=lambda rng, r: rng.coin())     # a Python scalar (weak type) on either side


op("rem_scalar", 1, lambda r, p: Reg(r.shape, INT, r.exact, 3) if r.dtype == INT else None,
   lambda v, p: jnp.remainder(v, 3), lambda v, p: np.remainder(v, np.int32(3)))


# -- comparisons and logic (exact operands only: a 1-ulp difference must not flip them) -------
op("gt", 2, lambda a, b, p: Reg(_broadcast(a.shape, b.shape), BOOL, True, 1)
   if a.exact and b.exact and _num(a) and _num(b) and _broadcast(a.shape, b.shape) is not None
   else None, lambda a, b, p: a > b, lambda a, b, p: a > b)
op("positive", 1, lambda r, p: Reg(r.shape, BOOL, True, 1) if r.exact and _num(r) else None,
   lambda v, p: v > 0, lambda v, p: v > 0)
op("xor", 2, lambda a, b, p: Reg(_broadcast(a.shape, b.shape), BOOL, True, 1)
   if a.dtype == BOOL == b.dtype and _broadcast(a.shape, b.shape) is not None else None,
   lambda a, b, p: jnp.logical_xor(a, b), lambda a, b, p: np.logical_xor(a, b))
op("not", 1, lambda r, p: Reg(r.shape, BOOL, True, 1) if r.dtype == BOOL else None,
   lambda v, p: jnp.logical_not(v), lambda v, p: np.logical_not(v))


# -- casts between float32, int32 and bool --------------------------------------------------
op("to_int", 1, lambda r, p: Reg(r.shape, INT, True, 4 * r.bound + 1)
   if r.exact and r.dtype != INT else None,
   lambda v, p: (v * 4.0).astype(jnp.int32) if v.dtype != jnp.bool_ else v.astype(jnp.int32),
   lambda v, p: (v * np.float32(4)).astype(np.int32) if v.dtype != bool else v.astype(np.int32))
op("to_float", 1, lambda r, p: Reg(r.shape, FLOAT, r.exact and r.bound < 2 ** 24, r.bound)
   if r.dtype != FLOAT else None,
   lambda v, p: v.astype(jnp.float32), lambda v, p: v.astype(np.float32))
op("to_bool", 1, lambda r, p: Reg(r.shape, BOOL, True, 1) if r.exact and r.dtype != BOOL else None,
   lambda v, p: v.astype(jnp.bool_), lambda v, p: v.astype(bool))


# -- reductions over random axes -------------------------------------------------------------
def _axes_params(rng, r):
    """None (all axes) or a random non-empty set of axes, some written negative; keepdims."""
    nd = len(r.shape)
    if not nd or rng.coin(0.2):
        return (None, rng.coin())
    axes = rng.permutation(nd)[:rng.integers(1, nd)]
    return (tuple(int(a) - nd if rng.coin(0.3) else int(a) for a in axes), rng.coin())


def _reduced(r, p):
    axes, keep = p
    nd = len(r.shape)
    ax = set(range(nd)) if axes is None else {a % nd for a in axes}
    shape = tuple(1 if i in ax else d for i, d in enumerate(r.shape) if keep or i not in ax)
    return shape, math.prod(r.shape[i] for i in ax) if nd else 1


def _reduction_typer(kind):
    def typer(r, p):
        shape, n = _reduced(r, p)
        if kind in ("any", "all"):
            return Reg(shape, BOOL, True, 1) if r.dtype == BOOL else None
        if not _num(r):
            return None
        if kind in ("max", "min"):
            return Reg(shape, r.dtype, r.exact, r.bound, r.err)
        if kind == "mean":
            return Reg(shape, FLOAT, False, r.bound, r.err) if _float(r) else None
        if r.dtype == INT:
            return Reg(shape, INT, r.exact, n * r.bound) if n * r.bound < 1e6 else None
        return Reg(shape, FLOAT, False, n * r.bound, n * r.err)
    return typer


for _name, _jf, _nf in [("sum", jnp.sum, np.sum), ("max", jnp.max, np.max),
                        ("min", jnp.min, np.min), ("mean", jnp.mean, np.mean),
                        ("any", jnp.any, np.any), ("all", jnp.all, np.all)]:
    op(f"reduce_{_name}", 1, _reduction_typer(_name),
       (lambda f: lambda v, p: f(v, axis=p[0], keepdims=p[1]))(_jf),
       (lambda f: lambda v, p: f(v, axis=p[0], keepdims=p[1]))(_nf), params=_axes_params)


# -- shape: transpose, reshape, slicing, new size-1 axes ------------------------------------
op("transpose", 1, lambda r, p: Reg(tuple(r.shape[i] for i in p), r.dtype, r.exact, r.bound, r.err)
   if len(r.shape) >= 2 else None,
   lambda v, p: jnp.transpose(v, p), lambda v, p: np.transpose(v, p),
   params=lambda rng, r: tuple(int(i) for i in rng.permutation(len(r.shape))))
op(".T", 1, lambda r, p: Reg(r.shape[::-1], r.dtype, r.exact, r.bound, r.err)
   if len(r.shape) >= 2 else None, lambda v, p: v.T, lambda v, p: v.T)


def _reshape_params(rng, r):
    options = [(-1,), r.shape[::-1], (1,) + r.shape, (r.size,) if r.shape else (1, 1)]
    if len(r.shape) >= 2:
        options.append((r.shape[0] * r.shape[1],) + r.shape[2:])
    return rng.pick(options)


op("reshape", 1, lambda r, p: Reg((r.size,) if p == (-1,) else p, r.dtype, r.exact, r.bound, r.err),
   lambda v, p: jnp.reshape(v, p), lambda v, p: np.reshape(v, p), params=_reshape_params)
op("expand_dims", 1, lambda r, p: Reg(r.shape[:p] + (1,) + r.shape[p:], r.dtype, r.exact, r.bound,
                                      r.err) if len(r.shape) < 3 else None,
   lambda v, p: jnp.expand_dims(v, p), lambda v, p: np.expand_dims(v, p),
   params=lambda rng, r: rng.integers(0, len(r.shape)))

_SLICES = {"1:": slice(1, None), "::2": slice(None, None, 2), "::-1": slice(None, None, -1),
           "-2:": slice(-2, None), "0": 0}


def _slice_typer(r, p):
    axis, key = p
    if axis >= len(r.shape) or (key == "1:" and r.shape[axis] < 2):
        return None
    n = len(range(*_SLICES[key].indices(r.shape[axis]))) if key != "0" else None
    shape = r.shape[:axis] + (() if n is None else (n,)) + r.shape[axis + 1:]
    return Reg(shape, r.dtype, r.exact, r.bound, r.err)


def _slice_index(p):
    axis, key = p
    return (slice(None),) * axis + (_SLICES[key],)


op("slice", 1, _slice_typer, lambda v, p: v[_slice_index(p)], lambda v, p: v[_slice_index(p)],
   params=lambda rng, r: (rng.integers(0, max(len(r.shape) - 1, 0)), rng.pick(sorted(_SLICES))))


# -- matmul and where -------------------------------------------------------------------------
def _matmul_typer(a, b, p):
    if not (_float(a) and _float(b)) or not a.shape or not b.shape or len(a.shape) > 2 \
            or len(b.shape) > 2:
        return None
    k = a.shape[-1]
    if k != (b.shape[0] if len(b.shape) == 2 else b.shape[-1]):
        return None
    shape = a.shape[:-1] + b.shape[1:]
    return Reg(shape, FLOAT, False, k * a.bound * b.bound, k * (a.err * b.bound + b.err * a.bound))


op("matmul", 2, _matmul_typer, lambda a, b, p: a @ b, lambda a, b, p: a @ b)
op("gram", 1, lambda r, p: _matmul_typer(r, Reg(r.shape[::-1], r.dtype, r.exact, r.bound, r.err), p)
   if r.shape else None, lambda v, p: v @ v.T, lambda v, p: v @ v.T)


def _where_typer(c, a, b, p):
    shape = _broadcast(c.shape, a.shape, b.shape)
    if not c.exact or shape is None or not (_num(a) and _num(b)):
        return None
    dtype = FLOAT if FLOAT in (a.dtype, b.dtype) else INT
    return Reg(shape, dtype, a.exact and b.exact and a.dtype == b.dtype,
               max(a.bound, b.bound), max(a.err, b.err))


op("where", 3, _where_typer,
   lambda c, a, b, p: jnp.where(c if c.dtype == jnp.bool_ else c > 0, a, b),
   lambda c, a, b, p: np.where(c if c.dtype == bool else c > 0, a, b))


# -- control flow wrapping sub-expressions ----------------------------------------------------
def _cond_typer(pred, r, p):
    if not (pred.exact and _num(pred)) or not _float(r):
        return None
    t, f = _unary_reg(p[0], r), _unary_reg(p[1], r)
    return Reg(r.shape, FLOAT, False, max(t.bound, f.bound), max(t.err, f.err))


def _unary_pair(rng, *regs):
    return (rng.pick(sorted(UNARY)), rng.pick(sorted(UNARY)))


op("cond", 2, _cond_typer,
   lambda q, v, p: lax.cond(jnp.max(q) > 0, UNARY[p[0]][0], UNARY[p[1]][0], v),
   lambda q, v, p: UNARY[p[0] if np.max(q) > 0 else p[1]][1](v), params=_unary_pair)


def _fori_typer(r, p):
    if not _float(r):
        return None
    u, n = p
    bound, err = r.bound, r.err
    for _ in range(n):   # c -> u(c) * 0.5 + c * 0.25 + 0.1 * i
        bound = 0.5 * UNARY[u][2](bound) + 0.25 * bound + 0.1 * n
        err = max(0.5 * UNARY[u][3] * err + 0.25 * err, bound)
    return Reg(r.shape, FLOAT, False, bound, err)


def _fori_np(v, p):
    u, n = p
    for i in range(n):
        v = UNARY[u][1](v) * np.float32(0.5) + v * np.float32(0.25) + np.float32(0.1) * i
    return v


op("fori_loop", 1, _fori_typer,
   lambda v, p: lax.fori_loop(0, p[1],
                              lambda i, c: UNARY[p[0]][0](c) * 0.5 + c * 0.25 + 0.1 * i, v),
   _fori_np, params=lambda rng, r: (rng.pick(BOUNDED_UNARY), rng.integers(1, 4)))


def _scan_typer(r, p):
    if not _float(r) or not r.shape:
        return None
    u, which = p
    x = Reg(r.shape[1:], FLOAT, False, r.bound, r.err)
    ux = _unary_reg(u, x)
    carry = Reg(x.shape, FLOAT, False, 2 * ux.bound, 2 * ux.err)
    if which == "carry":
        return carry
    return Reg(r.shape, FLOAT, False, carry.bound + r.bound, carry.err + r.err)


def _scan_jnp(v, p):
    u, which = p
    carry, ys = lax.scan(lambda c, x: (c * 0.5 + UNARY[u][0](x), c - x), jnp.zeros_like(v[0]), v)
    return carry if which == "carry" else ys


def _scan_np(v, p):
    u, which = p
    c, ys = np.zeros_like(v[0]), []
    for x in v:
        c, y = c * np.float32(0.5) + UNARY[u][1](x), c - x
        ys.append(y)
    return c if which == "carry" else np.stack(ys)


op("scan", 1, _scan_typer, _scan_jnp, _scan_np,
   params=lambda rng, r: (rng.pick(BOUNDED_UNARY), rng.pick(["carry", "ys"])))

OPS_BY_NAME = {o.name: o for o in OPS}


# -- programs ---------------------------------------------------------------------------------
class Program:
    def __init__(self, in_regs, steps, outputs):
        self.in_regs, self.steps, self.outputs = in_regs, steps, outputs
        self.regs = list(in_regs) + [s[3] for s in steps]

    def __repr__(self):
        lines = [f"r{i}: {r.dtype}{list(r.shape)} input" for i, r in enumerate(self.in_regs)]
        for k, (name, args, p, r) in enumerate(self.steps, start=len(self.in_regs)):
            lines.append(f"r{k} = {name}({', '.join(f'r{a}' for a in args)}"
                         f"{'' if p is None else f'; {p!r}'})  # {r.dtype}{list(r.shape)}"
                         f"{' exact' if r.exact else ''}")
        lines.append(f"return {', '.join(f'r{o}' for o in self.outputs)}")
        return "\n".join(lines)

    def run(self, *inputs, numpy=False):
        vals = list(inputs)
        for name, args, p, r in self.steps:
            o = OPS_BY_NAME[name]
            if numpy:
                with np.errstate(all="ignore"):
                    vals.append(np.asarray(o.nfn(*[vals[a] for a in args], p)).astype(r.dtype))
            else:
                vals.append(o.jfn(*[vals[a] for a in args], p))
        return tuple(vals[o] for o in self.outputs)

    def __call__(self, *inputs):
        return self.run(*inputs)

    def as_function(self):
        """A plain function (``jit`` of an object without ``__name__`` fails today, see
        test_jit_of_a_callable_without_a_name)."""
        return lambda x, y: self.run(x, y)


class _Rng:
    """The random choices inside one program (ops, operands, parameters)."""

    def __init__(self, seed):
        self.gen = np.random.default_rng(seed)

    def integers(self, lo, hi):          # inclusive
        return int(self.gen.integers(lo, hi + 1))

    def coin(self, p=0.5):
        return bool(self.gen.random() < p)

    def pick(self, options):
        return options[self.integers(0, len(options) - 1)]

    def permutation(self, n):
        return [int(i) for i in self.gen.permutation(n)]


def generate_program(x_shape, y_kind, n_steps, seed):
    """A well-typed random program: ``n_steps`` steps, each an op drawn uniformly among those
    that apply to some registers (operands: mostly the latest register, else any)."""
    rng = _Rng(seed)
    y_shape = {"scalar": (), "same": x_shape, "suffix": x_shape[1:],
               "size-1 axes": tuple(1 if i % 2 else d for i, d in enumerate(x_shape))}[y_kind]
    regs = [Reg(x_shape, FLOAT, True, 2.0), Reg(y_shape, FLOAT, True, 2.0)]
    steps = []
    ops = list(OPS)
    while len(steps) < n_steps and ops:
        o = ops.pop(rng.integers(0, len(ops) - 1))
        for _ in range(12):
            args = tuple(len(regs) - 1 if (k == 0 and rng.coin(0.6)) else
                         rng.integers(0, len(regs) - 1) for k in range(o.arity))
            p = o.params(rng, *[regs[a] for a in args])
            r = o.out([regs[a] for a in args], p)
            if r is not None:
                steps.append((o.name, args, p, r))
                regs.append(r)
                ops = list(OPS)
                break
    n = len(regs)
    outputs = (n - 1,) if n <= 3 else (n - 1, rng.integers(2, n - 2))
    return Program(regs[:2], steps, outputs)


_SHAPES = st.lists(st.sampled_from([1, 2, 3, 5]), min_size=0, max_size=3).map(tuple)


def programs(min_steps=4, max_steps=8):
    """Shrinks toward fewer steps (a prefix of the same program) and smaller shapes."""
    return st.builds(generate_program, _SHAPES,
                     st.sampled_from(["same", "scalar", "suffix", "size-1 axes"]),
                     st.integers(min_steps, max_steps), st.integers(0, 2 ** 32 - 1))


def _program_inputs(prog, seed, batch=None):
    rng = np.random.default_rng(seed)
    out = []
    for k, r in enumerate(prog.in_regs):    # (a batch, if any, is of x only)
        shape = r.shape if batch is None or k else (batch,) + r.shape
        out.append(jnp.asarray(rng.uniform(-2, 2, size=shape).astype(np.float32)))
    return out


def _tolerance(r: Reg):
    return 4e-6, 16 * F32_EPS * r.err


def assert_program_outputs(prog, got, want, what, factor=1.0):
    assert len(got) == len(want)
    for k, (g, w, o) in enumerate(zip(got, want, prog.outputs)):
        r = prog.regs[o]
        where = f"{what}: output r{o}\n{prog!r}"
        assert g.dtype == w.dtype == np.dtype(r.dtype), (where, g.dtype, w.dtype)
        assert g.shape == w.shape == r.shape, (where, g.shape, w.shape)
        assert getattr(g, "weak_type", False) == getattr(w, "weak_type", False), where
        g, w = np.asarray(g), np.asarray(w)
        if r.exact or r.dtype != FLOAT:
            np.testing.assert_array_equal(g, w, err_msg=where)
        else:
            rtol, atol = _tolerance(r)
            np.testing.assert_allclose(g, w, rtol=rtol * factor, atol=atol * factor, err_msg=where)


HYP = dict(deadline=None, derandomize=True, database=None, print_blob=False,
           suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                  HealthCheck.filter_too_much])


@settings(max_examples=60, **HYP)
@given(prog=programs())
def test_random_program_jit_equals_eager_and_numpy(prog):
    inputs = _program_inputs(prog, seed=len(prog.steps))
    eager = prog(*inputs)
    compiled = jax.jit(prog.as_function())(*inputs)
    assert_program_outputs(prog, compiled, eager, "jit vs eager")
    expected = prog.run(*[np.asarray(x) for x in inputs], numpy=True)
    assert_program_outputs(prog, compiled, [np.asarray(e) for e in expected], "jit vs NumPy",
                           factor=2.0)


def _loss(prog):
    def loss(x, y):
        outs = [o for o in prog(x, y) if o.dtype == jnp.float32]
        return sum((jnp.sum(o) for o in outs), jnp.sum(x) * 0.0)
    return loss


@settings(max_examples=15, **HYP)
@given(prog=programs(min_steps=3, max_steps=6))
def test_random_program_jit_of_grad_equals_eager_grad(prog):
    x, y = _program_inputs(prog, seed=1)
    grad = jax.grad(_loss(prog), argnums=(0, 1))
    want = grad(x, y)
    got = jax.jit(grad)(x, y)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        w = np.asarray(w)
        scale = max(1.0, float(np.max(np.abs(w), initial=0.0)))
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-4, atol=1e-4 * scale,
                                   err_msg=repr(prog))


@settings(max_examples=12, **HYP)
@given(prog=programs(min_steps=3, max_steps=6))
def test_random_program_jit_of_vmap_equals_a_loop(prog):
    xs, y = _program_inputs(prog, seed=2, batch=3)
    got = jax.jit(jax.vmap(prog.as_function(), in_axes=(0, None)))(xs, y)
    rows = [prog(xs[i], y) for i in range(3)]
    want = [jnp.stack([row[k] for row in rows]) for k in range(len(prog.outputs))]
    for k, (g, w, o) in enumerate(zip(got, want, prog.outputs)):
        r = prog.regs[o]
        assert g.dtype == w.dtype and g.shape == w.shape, (repr(prog), g.shape, w.shape)
        if r.exact or r.dtype != FLOAT:
            np.testing.assert_array_equal(np.asarray(g), np.asarray(w), err_msg=repr(prog))
        else:
            rtol, atol = _tolerance(r)
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=rtol, atol=atol,
                                       err_msg=repr(prog))
