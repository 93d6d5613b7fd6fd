"""Whole programs in one numba function: matmuls, shape ops and control flow inside compiled code.

The oracle is eager evaluation (itself tested against NumPy elsewhere). Each test also checks
the *structure* the backend promises -- what ran inside numba and what did not -- through the
program's steps, since speed alone is not something a test should assert.
"""
from __future__ import annotations

import numpy as np
import pytest

import minijax as jax
import minijax.numpy as jnp
from minijax import lax

pytest.importorskip("numba")

from minijax._src.backends import cpu  # noqa: E402

RNG = np.random.default_rng(7)


def program_of(jitted, *args):
    return jitted.lower(*args).compile()._program


def kinds(program):
    return [type(s).__name__ for s in program.steps]


def assert_same(compiled, eager, rtol=2e-6, atol=1e-6):
    compiled, eager = np.asarray(compiled), np.asarray(eager)
    assert compiled.dtype == eager.dtype and compiled.shape == eager.shape
    np.testing.assert_allclose(compiled, eager, rtol=rtol, atol=atol)


def test_matmul_chain_is_one_numba_function_calling_blas():
    def mlp(x, w1, w2):
        return jnp.tanh(x @ w1) @ w2.T
    x, w1, w2 = (jnp.asarray(RNG.standard_normal(s).astype(np.float32)) for s in
                 [(6, 4), (4, 5), (3, 5)])
    f = jax.jit(mlp)
    program = program_of(f, x, w1, w2)
    assert kinds(program) == ["Segment"]
    assert program.source.count("_dot(") == 2
    assert_same(f(x, w1, w2), mlp(x, w1, w2), rtol=1e-5)


@pytest.mark.parametrize("dtype", ["int32", "bool", "float64"])
def test_matmuls_of_every_dtype_inside_a_segment(dtype, x64):
    a = jnp.asarray(RNG.integers(0, 3, (2, 3, 4)).astype(dtype))
    b = jnp.asarray(RNG.integers(0, 3, (2, 4, 5)).astype(dtype))

    def f(a, b):   # a batched contraction feeding an elementwise op: one segment
        ab = jnp.einsum("bij,bjk->bik", a, b)
        return ab, ab.astype(jnp.float32) * 2.0
    out, _ = jax.jit(f)(a, b)
    expected, _ = f(a, b)
    assert_same(out, expected)
    assert "Segment" in kinds(program_of(jax.jit(f), a, b))


def test_shape_operations_inside_a_segment_match_eager():
    x = jnp.asarray(RNG.standard_normal((4, 6)).astype(np.float32))

    def f(x):
        y = jnp.transpose(x * 2.0)[::-1, 1::2]                  # transpose, rev, strided slice
        z = lax.pad(y, np.float32(-1.0), [(1, 2, 1), (0, 1, 0)])  # interior padding
        w = jnp.concatenate([z, z[:, :1] + 1.0], axis=1)
        d = lax.dynamic_slice(w, (jnp.int32(2), jnp.int32(9)), (3, 2))       # start clamped
        u = lax.dynamic_update_slice(w, d * 10.0, (jnp.int32(-4), jnp.int32(1)))
        return u.reshape(-1), lax.bitcast_convert_type(d, jnp.int32)
    program = program_of(jax.jit(f), x)
    assert kinds(program) == ["Segment"]
    for got, want in zip(jax.jit(f)(x), f(x)):
        assert_same(got, want)


def test_copies_inside_a_segment_are_loop_nests_not_numpy_array_functions():
    """numba takes ~3 s, once per process, to compile its own ``np.transpose(x, axes)`` or an
    array assigned into a slice, and ~1.5 s for a broadcast product; a fresh lesson kernel
    paid that on its first ``jit(vmap(grad(...)))``. Every copy is written as a loop instead."""
    x = jnp.asarray(RNG.standard_normal((3, 4, 5)).astype(np.float32))
    v = jnp.asarray(RNG.standard_normal(6).astype(np.float32))

    def f(x, v):
        t = jnp.transpose(x, (2, 0, 1))[::-1, 1:, ::2]
        p = lax.pad(t, np.float32(0.0), [(1, 0, 1), (0, 2, 0), (2, 1, 0)])
        u = lax.dynamic_update_slice(p, t[:2] * 3.0, (jnp.int32(1), jnp.int32(0), jnp.int32(2)))
        outer = jnp.einsum("i,j->ij", v, v + 1.0)                 # dot_general with k == 1
        batched = jnp.einsum("bij,bkj->bik", x, x)                # operands permuted for BLAS
        _, rows = lax.scan(lambda c, r: (c + r.sum(), r * c), np.float32(1.0), x)
        return u, outer, batched, rows
    program = program_of(jax.jit(f), x, v)
    assert kinds(program) == ["Segment"], program.as_text()
    source = program.source
    for slow in ("np.transpose(", "np.ascontiguousarray(", "_l * "):
        assert slow not in source, slow
    slice_assignment = [line for line in source.splitlines()
                        if "=" in line and ":" in line.split("=")[0] and "[" in line.split("=")[0]]
    assert not slice_assignment, slice_assignment
    for got, want in zip(jax.jit(f)(x, v), f(x, v)):
        assert_same(got, want, rtol=1e-5, atol=1e-5)


def _segment_primitives(program):
    return [e.primitive.name for step in program.steps for e in step.function.jaxpr.eqns]


def _transposed_and_plain_product(x, w):
    product = x @ w
    return product.T * 2.0, product


@pytest.mark.parametrize("case", ["weight gradient", "batched", "product also used"])
def test_a_transposed_product_is_computed_transposed_instead_of_copied(case):
    """``transpose(a @ b)`` is written as ``b.T @ a.T`` (the weight gradient of a matmul is
    one), unless the product itself is needed too."""
    x = jnp.asarray(RNG.standard_normal((6, 4)).astype(np.float32))
    w = jnp.asarray(RNG.standard_normal((4, 5)).astype(np.float32))
    a = jnp.asarray(RNG.standard_normal((3, 4, 2)).astype(np.float32))
    b = jnp.asarray(RNG.standard_normal((3, 2, 5)).astype(np.float32))
    f, args, absorbed = {
        "weight gradient": (jax.grad(lambda w, x: jnp.sum(jnp.tanh(x @ w))), (w, x), True),
        "batched": (lambda a, b: jnp.einsum("bij,bjk->bki", a, b) * 2.0, (a, b), True),
        "product also used": (_transposed_and_plain_product, (x, w), False),
    }[case]
    program = program_of(jax.jit(f), *args)
    assert kinds(program) == ["Segment"]
    assert ("transpose" not in _segment_primitives(program)) == absorbed, program.as_text()
    for got, want in zip(jax.tree_util.tree_leaves(jax.jit(f)(*args)),
                         jax.tree_util.tree_leaves(f(*args))):
        assert_same(got, want, rtol=1e-5, atol=1e-5)


def test_fori_loop_runs_as_a_numba_loop_calling_its_body():
    def newton(a):
        return lax.fori_loop(0, 50, lambda i, y: 0.5 * (y + a / y), a)
    a = jnp.asarray([2.0, 9.0, 100.0])
    program = program_of(jax.jit(newton), a)
    assert kinds(program) == ["Segment"]
    assert "for t_" in program.source and "def scan_body_" in program.source
    assert_same(jax.jit(newton)(a), newton(a))
    np.testing.assert_allclose(np.asarray(jax.jit(newton)(a)), np.sqrt([2.0, 9.0, 100.0]),
                               rtol=1e-6)


def _fib_body(c):            # (a, b) -> (b, a + b): one carry passes another through
    a, b = c
    return b, a[::-1] + b


_M = (np.arange(36, dtype=np.float32).reshape(6, 6) / 36.0)


def _read_after_write_body(c):
    """Next trip, ``b * 2`` is written into the set that holds this trip's ``b`` -- the next
    ``a`` -- and the matmul reads that ``a`` after the write, unless ``b`` was copied."""
    a, b, s = c
    return b, b * 2.0, s + jnp.dot(_M, a)


def _view_body(c):           # a carry that is a reshaped view of last trip's carry
    a, b = c
    return b.reshape(2, 3).reshape(6), a[::-1] * 2.0 + b


def _nested_body(c):         # a carry that comes out of a loop inside the loop
    a, b = c
    inner = lax.fori_loop(0, 2, lambda i, v: v + b, a)
    return inner, b[::-1] * 0.5 + inner


@pytest.mark.parametrize("body", [_fib_body, _view_body, _nested_body, _read_after_write_body])
@pytest.mark.parametrize("loop", ["fori_loop", "while_loop", "scan"])
def test_loop_bodies_that_write_their_carry_in_place_never_overwrite_a_live_carry(body, loop):
    """Loop bodies write the next carry into one of two sets of arrays that trade places each
    trip. A carry that is last trip's carry passed along (or a view of it) must not end up in
    the set the next trip writes into; 7 trips alternate the sets several times."""
    def f(x, y):
        init = (x, y, x) if body is _read_after_write_body else (x, y)
        if loop == "fori_loop":
            return lax.fori_loop(0, 7, lambda i, c: body(c), init)
        if loop == "while_loop":
            def step(c):
                return (c[0] + 1,) + tuple(body(c[1:]))
            return lax.while_loop(lambda c: c[0] < 7, step, (0,) + init)[1:]
        carry, ys = lax.scan(lambda c, _: (body(c), c[0] - c[1]), init, None, length=7)
        return carry + (ys,)
    x = jnp.asarray(RNG.standard_normal(6).astype(np.float32))
    y = jnp.asarray(RNG.standard_normal(6).astype(np.float32))
    program = program_of(jax.jit(f), x, y)
    assert kinds(program) == ["Segment"]
    assert "dst_" in program.source, program.as_text()     # some carry is written in place
    for got, want in zip(jax.jit(f)(x, y), f(x, y)):
        assert_same(got, want, rtol=1e-5, atol=1e-5)


def test_scan_over_a_vector_can_hand_an_element_on_as_its_carry():
    """Each element of ``xs`` reaches the body in one 0-d array the loop refills every trip;
    a carry that is that element must be a copy, or the next trip would overwrite it."""
    def f(xs):
        return lax.scan(lambda prev, x: (x, prev + x * 10.0), np.float32(0.5), xs)
    xs = jnp.asarray(RNG.standard_normal(5).astype(np.float32))
    program = program_of(jax.jit(f), xs)
    assert kinds(program) == ["Segment"]
    for got, want in zip(jax.jit(f)(xs), f(xs)):
        assert_same(got, want)


def test_a_loop_of_small_steps_allocates_nothing_per_trip():
    """Newton's iteration with a trip count known only at run time: the counter and the
    estimate are written in place, and the bound, handed on unchanged, is not copied."""
    def newton(a, steps):
        return lax.fori_loop(0, steps, lambda i, y: 0.5 * (y + a / y), a)
    a = jnp.asarray([2.0, 9.0, 100.0])
    source = program_of(jax.jit(newton), a, 10).source
    body = source[source.index("def loop_body"):]
    body = body[:body.index("\n\n")]
    assert "np.empty" not in body and ".copy()" not in body, body
    assert_same(jax.jit(newton)(a, 10), newton(a, 10))


def test_generated_source_names_bool_as_every_supported_numpy_does():
    """The source says ``np.bool_``, which every NumPy has (``np.bool`` is new in 2.0, and numba
    resolves names against whatever NumPy it runs with)."""
    import re
    flags = jnp.asarray([True, False, True])

    def f(flags, n):
        i, _ = lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, ~c[1]), (0, flags))
        _, ys = lax.scan(lambda c, x: (c, x & c), flags, jnp.stack([flags, ~flags]))
        padded = lax.pad(flags, False, [(1, 1, 0)])
        return i, ys, padded, jnp.einsum("ij,jk->ik", ys, ys.T)
    program = program_of(jax.jit(f), flags, 3)
    assert kinds(program) == ["Segment"]
    assert not re.search(r"np\.bool\b(?!_)", program.source), program.as_text()
    for got, want in zip(jax.jit(f)(flags, 3), f(flags, 3)):
        assert_same(got, want)


def test_while_loop_with_a_carry_passed_through_unchanged():
    # The untouched carry starts as a read-only input buffer; the loop must copy it once so
    # its type is the same on every trip (a numba requirement).
    def f(x, limit):
        def body(c):
            i, x, fixed = c
            return i + 1, x * 1.5, fixed
        return lax.while_loop(lambda c: c[0] < limit, body, (0, x, x))
    x = jnp.arange(3.0)
    got, want = jax.jit(f)(x, 7), f(x, 7)
    for g, w in zip(got, want):
        assert_same(g, w)
    assert kinds(program_of(jax.jit(f), x, 7)) == ["Segment"]


def test_cond_branches_returning_an_operand_or_a_new_array():
    def f(x, flag):
        return lax.cond(flag, lambda v: v, lambda v: jnp.sin(v) + 1.0, x)
    x = jnp.linspace(-1.0, 1.0, 5)
    for flag in (True, False):
        assert_same(jax.jit(f)(x, flag), f(x, flag))


def test_switch_clamps_its_index_like_eager():
    branches = [lambda v: v + 1.0, lambda v: v * 2.0, lambda v: -v]
    f = jax.jit(lambda i, v: lax.switch(i, branches, v))
    for i in (-3, 0, 1, 2, 7):
        assert_same(f(i, jnp.ones(2)), lax.switch(i, branches, jnp.ones(2)))


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_with_scalar_and_matrix_slices_in_both_directions(reverse):
    xs = jnp.asarray(RNG.standard_normal((5, 2, 3)).astype(np.float32))
    ts = jnp.arange(5.0)

    def f(xs, ts):
        def step(c, inputs):
            x, t = inputs
            c = jnp.tanh(c @ x @ x.T * 0.1 + t)   # carry (2, 2); x a (2, 3) slice, t a scalar
            return c, (c.sum(), c * t)     # ys: a scalar and a matrix per step
        return lax.scan(step, jnp.eye(2), (xs, ts), reverse=reverse)
    (c1, (s1, m1)), (c2, (s2, m2)) = jax.jit(f)(xs, ts), f(xs, ts)
    for got, want in [(c1, c2), (s1, s2), (m1, m2)]:
        assert_same(got, want, rtol=1e-5)


def test_scan_of_length_zero_returns_the_initial_carry_and_empty_ys():
    f = jax.jit(lambda c, xs: lax.scan(lambda c, x: (c + x, c * x), c, xs))
    carry, ys = f(jnp.float32(3.0), jnp.zeros((0,)))
    assert float(carry) == 3.0 and ys.shape == (0,) and ys.dtype == np.float32


def test_nested_loops_compile_into_nested_numba_loops():
    def f(x):
        def outer(i, acc):
            return lax.fori_loop(0, i, lambda j, a: a + j * x, acc)
        return lax.fori_loop(0, 6, outer, jnp.zeros_like(x))
    x = jnp.asarray([1.0, -2.0])
    program = program_of(jax.jit(f), x)
    assert kinds(program) == ["Segment"]
    assert program.source.count("while ") >= 1   # the inner loop has a traced trip count
    assert_same(jax.jit(f)(x), f(x))


def test_a_loop_whose_body_numba_cannot_run_stays_correct_from_python():
    # sort has no numba lowering: the scan runs from Python, calling its compiled body.
    def f(xs):
        return lax.scan(lambda c, x: (c + jnp.sort(x)[0], jnp.sort(x)), 0.0, xs)
    xs = jnp.asarray(RNG.standard_normal((4, 5)).astype(np.float32))
    assert "Segment" not in kinds(program_of(jax.jit(f), xs))
    (c1, y1), (c2, y2) = jax.jit(f)(xs), f(xs)
    assert_same(c1, c2)
    assert_same(y1, y2)


def test_eager_loops_run_as_one_compiled_program():
    body_calls = []

    def body(i, v):
        body_calls.append(i)      # runs while tracing only
        return v * 0.5 + 1.0
    out = lax.fori_loop(0, 200, body, jnp.ones(3))
    assert len(body_calls) == 1
    expected = np.ones(3, np.float32)
    for _ in range(200):
        expected = expected * np.float32(0.5) + np.float32(1.0)
    assert_same(out, expected)
    program = cpu.compile_equation(*_while_equation())
    assert program is not None and kinds(program) == ["Segment"]


def _while_equation():
    jaxpr = jax.make_jaxpr(lambda x: lax.while_loop(lambda c: c[0] < 3,
                                                    lambda c: (c[0] + 1, c[1] * 2.0),
                                                    (0, x)))(jnp.ones(2))
    (eqn,) = jaxpr.jaxpr.eqns
    return eqn.primitive, [v.aval for v in eqn.inputs], eqn.params


def test_a_segment_numba_rejects_falls_back_to_numpy_with_a_warning(monkeypatch):
    from minijax._src.backends import cpu_library
    monkeypatch.setitem(cpu_library.LOWERINGS, "transpose",
                        lambda eqn, ins, outs: [f"{outs[0]} = undefined_function({ins[0]})"])
    f = jax.jit(lambda x: jnp.transpose(x * 3.0) + 1.0)
    x = jnp.asarray(RNG.standard_normal((3, 4)).astype(np.float32))
    with pytest.warns(RuntimeWarning, match="could not compile segment"):
        out = f(x)
    assert_same(out, jnp.transpose(x * 3.0) + 1.0)


def _softmax(x):
    e = jnp.exp(x - jnp.max(x, axis=-1, keepdims=True))
    return e / jnp.sum(e, axis=-1, keepdims=True)


def _layer_norm(x):
    mean = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.mean((x - mean) ** 2, axis=-1, keepdims=True)
    return (x - mean) / jnp.sqrt(var + 1e-5) * 2.0 + 0.5


def _logsumexp_and_max(x):
    m = jnp.max(x, axis=1)
    return jnp.log(jnp.sum(jnp.exp(x - m[:, None]), axis=1)) + m, m


def _two_trailing_axes(x):   # (4, 6, 5): reduce the last two axes, twice
    x = x.reshape(4, 6, 5)
    m = jnp.min(x, axis=(1, 2), keepdims=True)
    return jnp.sum(jnp.sqrt(x - m + 1.0), axis=(1, 2)), (x - m).astype(jnp.int32)


@pytest.mark.parametrize("fn", [_softmax, _layer_norm, _logsumexp_and_max, _two_trailing_axes])
@pytest.mark.parametrize("rows", [4, 600])   # 600 x 240: large enough for a parallel row loop
def test_passes_over_the_same_rows_fuse_into_one_row_kernel(fn, rows):
    if fn is _two_trailing_axes:
        rows = 4
    x = jnp.asarray(RNG.standard_normal((rows, 120 if rows == 4 else 240)).astype(np.float32))
    x = x[:, :30] if fn is _two_trailing_axes else x
    program = program_of(jax.jit(fn), x)
    assert "passes over each row" in program.as_text() or \
        program.source.count("for j0 in range(") >= 2, program.as_text()
    got, want = jax.jit(fn)(x), fn(x)
    for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        assert_same(g, w, rtol=2e-5, atol=2e-5)


def _pass_one_writes_an_output(x):   # the first pass's values are an output too
    y = jnp.abs(x) * 2.0
    return y, jnp.sum(jnp.exp(y - jnp.max(y, axis=1, keepdims=True)), axis=1)


@pytest.mark.parametrize("fn", [_softmax, _layer_norm, _logsumexp_and_max, _two_trailing_axes,
                                _pass_one_writes_an_output])
@pytest.mark.parametrize("rows", [1, 3, 16, 17, 50])   # fewer, as many and more rows than blocks
def test_parallel_row_kernels_pipeline_each_block_of_rows(monkeypatch, fn, rows):
    """In parallel, pass 1 of the next row runs inside pass 2 of this one (see cpu_rows)."""
    from minijax._src.backends import cpu_kernels, cpu_rows
    monkeypatch.setattr(cpu_kernels, "PARALLEL_MIN_WORK", 1)
    cols = 30 if fn is _two_trailing_axes else 37
    data = RNG.standard_normal((rows * 4 if fn is _two_trailing_axes else rows, cols))
    data[0, 5] = np.nan if fn is _logsumexp_and_max else data[0, 5]   # NaN stays in its row
    x = jnp.asarray(data.astype(np.float32))
    if fn is _two_trailing_axes:
        fn = lambda x, rows=rows: _two_trailing_axes_rows(x, rows)   # noqa: E731
    program = program_of(jax.jit(fn), x)
    assert "nxt0" in program.source and "prange" in program.source, program.as_text()
    assert f"blocks = {min(rows, cpu_rows.ROW_BLOCKS)}" in program.source
    got, want = jax.jit(fn)(x), fn(x)
    for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        assert_same(g, w, rtol=2e-5, atol=2e-5)


def _two_trailing_axes_rows(x, rows):
    x = x.reshape(rows, 24, 5)
    m = jnp.min(x, axis=(1, 2), keepdims=True)
    return jnp.sum(jnp.sqrt(x - m + 1.0), axis=(1, 2)), (x - m).astype(jnp.int32)


@pytest.mark.parametrize("shapes", [((64, 1, 1), (64, 1, 32)),     # outer products, no sum
                                    ((8, 3, 4), (8, 4, 5)),        # small: a loop, not BLAS
                                    ((2, 40, 50), (2, 50, 30))])   # large enough for BLAS
def test_batched_matmuls_of_every_size_inside_a_segment(shapes):
    a, b = (jnp.asarray(RNG.standard_normal(s).astype(np.float32)) for s in shapes)
    f = lambda a, b: jnp.tanh(a @ b) * 2.0   # noqa: E731
    assert kinds(program_of(jax.jit(f), a, b)) == ["Segment"]
    assert_same(jax.jit(f)(a, b), f(a, b), rtol=1e-5, atol=1e-5)
