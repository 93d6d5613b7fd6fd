"""dot_general, products (dot/matmul/einsum/...), and jnp.linalg.

Oracles: NumPy (np.einsum, np.linalg), finite differences via ``check_grads`` under
x64 (forward *and* reverse mode, to second order), Python loops for vmap, and real
JAX for error messages and dtypes.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minijax
import minijax.numpy as jnp
from minijax._src.primitives import linalg as lax_linalg
from minijax.test_util import check_grads

LETTERS = "abcdefgh"

# (lhs shape, rhs shape, dimension_numbers): a zoo of contractions.
DOT_CASES = [
    ((3, 4), (4, 5), (((1,), (0,)), ((), ()))),                 # matmul
    ((4, 3), (4, 5), (((0,), (0,)), ((), ()))),                 # a.T @ b
    ((3, 4), (5, 4), (((1,), (1,)), ((), ()))),                 # a @ b.T
    ((4, 3), (5, 4), (((0,), (1,)), ((), ()))),                 # a.T @ b.T
    ((2, 3, 4), (2, 4, 5), (((2,), (1,)), ((0,), (0,)))),       # batched matmul
    ((3, 2, 4), (4, 5, 2), (((2,), (0,)), ((1,), (2,)))),       # batch axes in the middle/end
    ((2, 3, 4, 5), (5, 3, 6, 4), (((3, 1), (0, 1)), ((), ()))),  # two contracting axes
    ((2, 3, 4, 5), (4, 7, 2, 5), (((3,), (3,)), ((2, 0), (0, 2)))),  # batch order != axis order
    ((3,), (3,), (((0,), (0,)), ((), ()))),                     # inner product
    ((3,), (4,), (((), ()), ((), ()))),                         # outer product
    ((2, 3), (3, 2), (((), ()), ((0,), (1,)))),                 # batch only (elementwise-ish)
    ((), (3, 2), (((), ()), ((), ()))),                         # scalar times matrix
    ((6, 2, 3, 4), (3, 6, 5), (((2,), (0,)), ((0,), (1,)))),
    ((2, 3), (2, 3), (((0, 1), (0, 1)), ((), ()))),             # full contraction
    ((2, 3), (3, 2), (((0, 1), (1, 0)), ((), ()))),             # contraction in swapped order
]


def _einsum_spec(ls, rs, dn):
    """The np.einsum equivalent of a dot_general, built independently of our code."""
    (lc, rc), (lb, rb) = dn
    lhs = list(LETTERS[:len(ls)])
    rhs = [None] * len(rs)
    fresh = iter("pqrstuvw")
    for l, r in zip(lc + lb, rc + rb):
        rhs[r] = lhs[l]
    rhs = [c if c is not None else next(fresh) for c in rhs]
    out = ([lhs[d] for d in lb] + [lhs[d] for d in range(len(ls)) if d not in lc + lb]
           + [rhs[d] for d in range(len(rs)) if d not in rc + rb])
    return f"{''.join(lhs)},{''.join(rhs)}->{''.join(out)}"


@pytest.mark.parametrize("ls,rs,dn", DOT_CASES)
def test_dot_general_values_match_einsum(ls, rs, dn):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(ls).astype(np.float32)
    y = rng.standard_normal(rs).astype(np.float32)
    out = lax_linalg.dot_general(x, y, dn)
    expected = np.einsum(_einsum_spec(ls, rs, dn), x, y)
    assert out.dtype == np.float32
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("ls,rs,dn", DOT_CASES)
def test_dot_general_grads_second_order(x64, ls, rs, dn):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal(ls), rng.standard_normal(rs)
    check_grads(lambda a, b: lax_linalg.dot_general(a, b, dn), (x, y), order=2)


@pytest.mark.parametrize("ls,rs,dn", DOT_CASES)
def test_dot_general_vjp_is_the_transpose(x64, ls, rs, dn):
    # <ct, dot(x, y)> = <vjp_x(ct), x> = <vjp_y(ct), y> (bilinearity), checked exactly.
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal(ls), rng.standard_normal(rs)
    out, pullback = minijax.vjp(lambda a, b: lax_linalg.dot_general(a, b, dn), x, y)
    ct = rng.standard_normal(np.shape(out))
    gx, gy = pullback(ct)
    assert gx.shape == x.shape and gy.shape == y.shape
    total = float(np.sum(ct * np.asarray(out)))
    np.testing.assert_allclose(float(np.sum(np.asarray(gx) * x)), total, rtol=1e-10)
    np.testing.assert_allclose(float(np.sum(np.asarray(gy) * y)), total, rtol=1e-10)


VMAP_AXES = [(0, None), (None, 0), (0, 0), (1, None), (None, 1), (1, 0), (-1, 1)]


def _fits(shape, axis):
    return axis is None or -len(shape) - 1 <= axis <= len(shape)


VMAP_CASES = [(ls, rs, dn, axes) for ls, rs, dn in DOT_CASES[:9] + DOT_CASES[11:13]
              for axes in VMAP_AXES if _fits(ls, axes[0]) and _fits(rs, axes[1])]


@pytest.mark.parametrize("ls,rs,dn,in_axes", VMAP_CASES)
def test_dot_general_vmap_matches_loop(ls, rs, dn, in_axes):
    ax, ay = in_axes
    rng = np.random.default_rng(3)
    B = 3
    xs = np.moveaxis(rng.standard_normal((B,) + ls), 0, ax) if ax is not None else \
        rng.standard_normal(ls)
    ys = np.moveaxis(rng.standard_normal((B,) + rs), 0, ay) if ay is not None else \
        rng.standard_normal(rs)
    f = lambda a, b: lax_linalg.dot_general(a, b, dn)  # noqa: E731
    got = minijax.vmap(f, in_axes=(ax, ay))(xs, ys)
    pick = lambda v, a, i: np.take(v, i, axis=a) if a is not None else v  # noqa: E731
    expected = np.stack([np.asarray(f(pick(xs, ax, i), pick(ys, ay, i))) for i in range(B)])
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_dot_general_vmap_uses_no_loop():
    # The batch rule is one dot_general: a vmapped matmul traces to a single equation.
    jaxpr = minijax.make_jaxpr(minijax.vmap(lambda a, b: a @ b))(np.ones((5, 2, 3), np.float32),
                                                                   np.ones((5, 3, 4), np.float32))
    names = [e.primitive.name for e in jaxpr.eqns]
    assert names.count("dot_general") == 1


def test_dot_general_dtypes():
    i8 = np.ones((2, 3), np.int8)
    out = lax_linalg.dot_general(i8, i8.T, (((1,), (0,)), ((), ())), preferred_element_type=np.int32)
    assert out.dtype == np.int32 and np.all(np.asarray(out) == 3)
    b = np.array([[True, False], [False, False]])
    out = lax_linalg.dot_general(b, b, (((1,), (0,)), ((), ())))
    assert out.dtype == np.bool_ and np.array_equal(out, [[True, False], [False, False]])
    mixed = lax_linalg.dot_general(np.ones((2, 3), np.float32), np.ones((3, 2), np.int32),
                                   (((1,), (0,)), ((), ())))
    assert mixed.dtype == np.float32


@pytest.mark.parametrize("dn,pattern", [
    ((((1,), (0,)), ((), ())), "contracting dimensions to have the same shape, got (3,) and (4,)"),
    ((((1,), (0,)), ((0,), (0,))), "rhs batch dimensions to be disjoint from contracting"),
    ((((1, 1), (0, 1)), ((), ())), "lhs contracting dimensions to be distinct"),
    ((((5,), (0,)), ((), ())), "nonnegative and less than the number of axes"),
])
def test_dot_general_errors(dn, pattern):
    with pytest.raises(TypeError, match=pattern.replace("(", r"\(").replace(")", r"\)")):
        lax_linalg.dot_general(np.ones((2, 3)), np.ones((4, 2)), dn)


def test_matmul_shape_error_matches_jax(real_jax):
    with pytest.raises(TypeError) as ours:
        jnp.ones(3) @ jnp.ones(4)
    with pytest.raises(TypeError) as theirs:
        real_jax.numpy.ones(3) @ real_jax.numpy.ones(4)
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="ndim at least 1"):
        jnp.matmul(jnp.ones(3), 2.0)


# ---------------------------------------------------------------------------
# dot / matmul / inner / outer / tensordot / kron / cross / vdot / einsum
# ---------------------------------------------------------------------------
_batch = st.lists(st.integers(1, 3), min_size=0, max_size=2)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), _batch, _batch,
       st.booleans(), st.booleans())
def test_matmul_matches_numpy(m, k, n, ba, bb, a_vec, b_vec):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    ashape = (k,) if a_vec else tuple(ba) + (m, k)
    bshape = (k,) if b_vec else tuple(bb) + (k, n)
    a = rng.standard_normal(ashape).astype(np.float32)
    b = rng.standard_normal(bshape).astype(np.float32)
    try:
        expected = np.matmul(a, b)
    except ValueError:
        with pytest.raises(ValueError):
            jnp.matmul(a, b)
        return
    out = jnp.array(a) @ jnp.array(b)
    assert out.shape == expected.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    if len(ashape) <= 2 or len(bshape) <= 2:
        np.testing.assert_allclose(jnp.dot(a, b), np.dot(a, b), rtol=1e-5, atol=1e-5)


def test_products_match_numpy():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((2, 3)), rng.standard_normal((4, 3))
    t3, t4 = rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 4, 5))
    c = lambda got, want: np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-5)  # noqa
    c(jnp.dot(t3, t4), np.dot(t3, t4))
    c(jnp.dot(2.0, x), 2.0 * x)
    c(jnp.inner(x, y), np.inner(x, y))
    c(jnp.outer(x, y), np.outer(x, y))
    c(jnp.vdot(x, x), np.vdot(x, x))
    c(jnp.tensordot(t3, t4, 2), np.tensordot(t3, t4, 2))
    c(jnp.tensordot(t3, t4, ((1, 2), (0, 1))), np.tensordot(t3, t4, ((1, 2), (0, 1))))
    c(jnp.tensordot(t3, t4, (1, 0)), np.tensordot(t3, t4, (1, 0)))
    c(jnp.kron(x, y), np.kron(x, y))
    c(jnp.kron(x[0], t3), np.kron(x[0], t3))
    c(jnp.cross(x, y[:2]), np.cross(x, y[:2]))
    c(jnp.cross(t3[:, :, :3], y[0]), np.cross(t3[:, :, :3], y[0]))
    c(jnp.cross(x[:, :2], y[:2]), np.cross(np.pad(x[:, :2], ((0, 0), (0, 1))), y[:2]))
    c(jnp.cross(x.T, y[:2].T, axis=0), np.cross(x.T, y[:2].T, axis=0))
    c(jnp.vecdot(x, y[:2]), np.sum(x * y[:2], -1))
    c(jnp.trace(t3, 1, 1, 2), np.trace(t3, 1, 1, 2))
    with pytest.raises(TypeError, match="exceeds input ranks"):
        jnp.tensordot(x, y, 3)


EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]), ("iij->ij", [(3, 3, 2)]), ("ijj->i", [(2, 3, 3)]),
    ("...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)]), ("i,i", [(3,), (3,)]), ("ij->", [(2, 3)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ijk,jil->kl", [(3, 4, 5), (4, 3, 2)]), ("i,j,k->ijk", [(2,), (3,), (4,)]),
    ("ab,bc,cd->ad", [(2, 3), (3, 4), (4, 5)]), ("ab,bc,cd,de", [(2, 3), (3, 4), (4, 5), (5, 2)]),
    (",i->i", [(), (3,)]), ("ij,j->", [(2, 3), (3,)]), ("...i,...i->...", [(4, 3), (3,)]),
    ("i...->...", [(3, 4, 5)]), ("ji", [(2, 3)]), ("ba,ca->bc", [(2, 3), (4, 3)]),
    ("abc,cd,ab->d", [(2, 3, 4), (4, 5), (2, 3)]),
]


@pytest.mark.parametrize("spec,shapes", EINSUM_CASES)
def test_einsum_matches_numpy(spec, shapes):
    rng = np.random.default_rng(5)
    ops = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    out = jnp.einsum(spec, *ops)
    expected = np.einsum(spec, *ops)
    assert out.shape == expected.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("spec,shapes", [c for c in EINSUM_CASES if len(c[1]) >= 2][:8])
def test_einsum_grads(x64, spec, shapes):
    rng = np.random.default_rng(6)
    ops = [rng.standard_normal(s) for s in shapes]
    check_grads(lambda *xs: jnp.einsum(spec, *xs), ops, order=2)


def test_einsum_forms_dtypes_and_errors(real_jax):
    rj = real_jax.numpy
    a, b = np.ones((2, 3)), np.ones(3)
    np.testing.assert_allclose(jnp.einsum(a, [0, 1], b, [1], [0]), np.einsum(a, [0, 1], b, [1], [0]))
    i8 = np.arange(3, dtype=np.int8)
    assert jnp.einsum("i,i->", i8, i8).dtype == rj.einsum("i,i->", i8, i8).dtype
    assert jnp.einsum("ij,jk", np.ones((2, 3), np.float32), np.ones((3, 4), np.int32)).dtype == \
        np.float32
    with pytest.raises(ValueError, match="Size of label 'j'"):
        jnp.einsum("ij,jk->", np.ones((2, 3)), np.ones((4, 4)))
    with pytest.raises(ValueError, match="correct number of indices"):
        jnp.einsum("i", np.ones((2, 3)))
    # No NumPy on tracers: einsum stages into dot_generals.
    jaxpr = minijax.make_jaxpr(lambda x, y: jnp.einsum("ij,jk->ki", x, y))(
        np.ones((2, 3), np.float32), np.ones((3, 4), np.float32))
    assert "dot_general" in [e.primitive.name for e in jaxpr.eqns]


# ---------------------------------------------------------------------------
# jnp.linalg
# ---------------------------------------------------------------------------
def _well_conditioned(rng, *shape):
    return rng.standard_normal(shape) + 3 * np.eye(shape[-1])


def _spd(rng, *shape):
    a = rng.standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def test_linalg_values_match_numpy():
    rng = np.random.default_rng(7)
    a = _well_conditioned(rng, 2, 4, 4).astype(np.float32)
    b = rng.standard_normal((2, 4, 3)).astype(np.float32)
    s = _spd(rng, 2, 4, 4).astype(np.float32)
    m = rng.standard_normal((3, 5, 2)).astype(np.float32)
    L = jnp.linalg
    c = lambda got, want: np.testing.assert_allclose(np.asarray(got), want, rtol=2e-4, atol=2e-4)  # noqa
    c(L.inv(a), np.linalg.inv(a))
    c(L.solve(a, b), np.linalg.solve(a, b))
    c(L.solve(a, b[0, :, 0]), np.linalg.solve(a, b[0, :, 0]))
    c(L.solve(a[0], b), np.linalg.solve(a[0], b))
    c(L.det(a), np.linalg.det(a))
    sign, logdet = L.slogdet(a)
    c(sign, np.linalg.slogdet(a)[0])
    c(logdet, np.linalg.slogdet(a)[1])
    c(L.cholesky(s), np.linalg.cholesky(s))
    c(L.cholesky(s, upper=True), np.swapaxes(np.linalg.cholesky(s), -1, -2))
    w, v = L.eigh(s)
    c(w, np.linalg.eigh(s)[0])
    c(np.asarray(v) @ (np.asarray(w)[..., None] * np.swapaxes(np.asarray(v), -1, -2)), s)
    c(L.eigvalsh(s), np.linalg.eigvalsh(s))
    c(L.matrix_power(a[0], 3), np.linalg.matrix_power(a[0], 3))
    c(L.matrix_power(a[0], -2), np.linalg.matrix_power(a[0], -2))
    c(L.matrix_power(a, 0), np.linalg.matrix_power(a, 0))
    c(L.pinv(m), np.linalg.pinv(m))
    c(L.svd(m, full_matrices=False).S, np.linalg.svd(m)[1])
    u, sv, vh = L.svd(m, full_matrices=False)
    c(np.asarray(u) @ (np.asarray(sv)[..., None] * np.asarray(vh)), m)
    q, r = L.qr(m)
    c(np.asarray(q) @ np.asarray(r), m)
    c(np.abs(L.qr(m, mode="r")), np.abs(np.linalg.qr(m, mode="r")))
    np.testing.assert_array_equal(L.matrix_rank(m), np.linalg.matrix_rank(m))
    assert int(L.matrix_rank(np.ones((3, 3)))) == 1
    c(L.multi_dot([m[0, :, 0], m[0], m[0].T, m[0, :, 1]]),
      np.linalg.multi_dot([m[0, :, 0], m[0], m[0].T, m[0, :, 1]]))
    assert L.det(np.eye(2, dtype=np.int32)).dtype == np.float32


def test_linalg_errors_match_jax_types(real_jax):
    for name in ("inv", "det", "cholesky", "eigh", "slogdet"):
        with pytest.raises(ValueError, match=r"\[\.\.\., n, n\]"):
            getattr(jnp.linalg, name)(np.ones((3, 4)))
        if name in ("inv", "det", "slogdet"):
            with pytest.raises(ValueError):
                getattr(real_jax.numpy.linalg, name)(np.ones((3, 4)))
    with pytest.raises(ValueError, match="Invalid shapes for solve"):
        jnp.linalg.solve(np.ones((2, 3, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="Invalid order 'fro' for vector norm"):
        jnp.linalg.norm(np.ones(3), ord="fro")
    with pytest.raises(ValueError, match="Invalid order '3' for matrix norm"):
        jnp.linalg.norm(np.ones((3, 3)), ord=3)
    with pytest.raises(ValueError, match="Improper number of axes"):
        jnp.linalg.norm(np.ones((3, 3, 3)), axis=(0, 1, 2))


LINALG_FUNS = {
    "solve": (lambda a, b: jnp.linalg.solve(a, b), lambda r: (_well_conditioned(r, 2, 3, 3),
                                                               r.standard_normal((2, 3, 2)))),
    "inv": (jnp.linalg.inv, lambda r: (_well_conditioned(r, 2, 3, 3),)),
    "det": (jnp.linalg.det, lambda r: (_well_conditioned(r, 2, 3, 3),)),
    "slogdet": (lambda a: jnp.linalg.slogdet(a)[1], lambda r: (_well_conditioned(r, 3, 3),)),
    "cholesky": (jnp.linalg.cholesky, lambda r: (_spd(r, 2, 3, 3),)),
    "eigvalsh": (jnp.linalg.eigvalsh, lambda r: (_spd(r, 4, 4),)),
    # eigenvectors are defined up to sign: differentiate a sign-free function of them
    "eigh_vectors": (lambda a: jnp.linalg.eigh(a)[1] ** 2, lambda r: (_spd(r, 2, 3, 3),)),
    "triangular_solve": (lambda a, b: lax_linalg.triangular_solve(a, b, left_side=True, lower=True),
                         lambda r: (_well_conditioned(r, 2, 3, 3), r.standard_normal((2, 3, 2)))),
    "triangular_solve_right_t": (
        lambda a, b: lax_linalg.triangular_solve(a, b, transpose_a=True, unit_diagonal=True),
        lambda r: (_well_conditioned(r, 3, 3), r.standard_normal((2, 3)))),
    "qr": (lambda a: jnp.linalg.qr(a), lambda r: (r.standard_normal((2, 4, 3)),)),
    "svdvals": (jnp.linalg.svdvals, lambda r: (r.standard_normal((2, 4, 3)),)),
    "svd_vectors": (lambda a: [x ** 2 for x in jnp.linalg.svd(a, full_matrices=False)[::2]],
                    lambda r: (r.standard_normal((4, 3)),)),
    "matrix_power": (lambda a: jnp.linalg.matrix_power(a, -3),
                     lambda r: (_well_conditioned(r, 3, 3),)),
}


@pytest.mark.parametrize("name", sorted(LINALG_FUNS))
def test_linalg_grads_second_order(x64, name):
    fun, make = LINALG_FUNS[name]
    check_grads(fun, make(np.random.default_rng(8)), order=2)


def test_linalg_grad_of_grad_det_closed_form(x64):
    # d det / dA = det(A) A^{-T}; check grad against that and grad-of-grad runs.
    a = _well_conditioned(np.random.default_rng(9), 3, 3)
    g = minijax.grad(jnp.linalg.det)(a)
    np.testing.assert_allclose(g, np.linalg.det(a) * np.linalg.inv(a).T, rtol=1e-10)
    h = minijax.jacfwd(minijax.grad(jnp.linalg.det))(a)
    assert h.shape == (3, 3, 3, 3) and np.all(np.isfinite(h))


@pytest.mark.parametrize("name", ["solve", "inv", "det", "slogdet", "cholesky", "eigvalsh",
                                  "triangular_solve", "svdvals"])
def test_linalg_vmap_matches_loop(name):
    fun, make = LINALG_FUNS[name]
    rng = np.random.default_rng(10)
    batches = [make(rng) for _ in range(3)]
    args = [np.stack([b[i] for b in batches]).astype(np.float32) for i in range(len(batches[0]))]
    got = minijax.vmap(fun)(*args)
    expected = np.stack([np.asarray(fun(*[x[i] for x in args])) for i in range(3)])
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    if len(args) == 2:   # one operand unbatched
        got = minijax.vmap(fun, in_axes=(None, 0))(args[0][0], args[1])
        expected = np.stack([np.asarray(fun(args[0][0], args[1][i])) for i in range(3)])
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


VECTOR_ORDS = [None, 1, 2, np.inf, -np.inf, 0, 3, -1, 0.5]
MATRIX_ORDS = [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]


def test_norm_matches_numpy():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    m = rng.standard_normal((3, 5, 2)).astype(np.float32)
    c = lambda got, want: np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-5)  # noqa
    for ord in VECTOR_ORDS:
        c(jnp.linalg.norm(x[0], ord), np.linalg.norm(x[0], ord))
        c(jnp.linalg.norm(x, ord, axis=1, keepdims=True), np.linalg.norm(x, ord, axis=1, keepdims=True))
    for ord in MATRIX_ORDS:
        c(jnp.linalg.norm(x, ord), np.linalg.norm(x, ord))
        c(jnp.linalg.norm(m, ord, axis=(2, 0)), np.linalg.norm(m, ord, axis=(2, 0)))
        c(jnp.linalg.norm(m, ord, axis=(0, 1), keepdims=True),
          np.linalg.norm(m, ord, axis=(0, 1), keepdims=True))
    c(jnp.linalg.norm(m), np.linalg.norm(m))
    c(jnp.linalg.vector_norm(m), np.linalg.norm(m.ravel()))
    c(jnp.linalg.matrix_norm(m), np.linalg.norm(m, axis=(1, 2)))
    assert jnp.linalg.norm(np.ones(3, np.int32)).dtype == np.float32


@pytest.mark.parametrize("ord", [None, 1, 2, np.inf, 3])
def test_vector_norm_grads(x64, ord):
    x = np.random.default_rng(12).standard_normal((3, 4))
    check_grads(lambda v: jnp.linalg.norm(v, ord, axis=1), (x,), order=2)


@pytest.mark.parametrize("ord", [None, "nuc", 2, 1, np.inf])
def test_matrix_norm_grads(x64, ord):
    x = np.random.default_rng(13).standard_normal((3, 4))
    check_grads(lambda v: jnp.linalg.norm(v, ord), (x,), order=2)


def test_two_norm_gradient_is_finite_at_nonzero_points():
    x = np.array([3.0, 0.0, -4.0], np.float32)     # contains a zero entry, but x != 0
    g = minijax.grad(jnp.linalg.norm)(x)
    np.testing.assert_allclose(g, x / 5.0, rtol=1e-6)
    hess = minijax.hessian(jnp.linalg.norm)(x)
    assert np.all(np.isfinite(hess))
