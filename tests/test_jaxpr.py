"""make_jaxpr: the traced program, printed in JAX's format."""
from __future__ import annotations

import re

import numpy as np
import pytest

import minijax
import minijax.numpy as jnp


def test_issue_example_prints_exactly():
    text = str(minijax.make_jaxpr(lambda x: jnp.sin(x) * 2.0 + x)(1.0))
    assert text == ("{ lambda ; a:f32[]. let\n"
                    "    b:f32[] = sin a\n"
                    "    c:f32[] = mul b 2.0:f32[]\n"
                    "    d:f32[] = add c a\n"
                    "  in (d,) }")


def test_jaxpr_structure():
    closed = minijax.make_jaxpr(lambda x, y: (x + y, jnp.sum(x * y)))(jnp.ones(3), jnp.ones(3))
    assert [e.primitive.name for e in closed.eqns] == ["add", "mul", "reduce_sum"]
    assert [a.shape for a in closed.in_avals] == [(3,), (3,)]
    assert [a.shape for a in closed.out_avals] == [(3,), ()]


def test_closed_over_array_becomes_constvar():
    c = jnp.array([1.0, 2.0, 3.0])
    closed = minijax.make_jaxpr(lambda x: x * c)(jnp.ones(3))
    assert str(closed).startswith("{ lambda a:f32[3]; b:f32[3]. let")
    np.testing.assert_array_equal(np.asarray(closed.consts[0]), [1.0, 2.0, 3.0])


def test_jaxpr_can_be_evaluated_and_transformed():
    from minijax._src.core import eval_jaxpr
    closed = minijax.make_jaxpr(lambda x: jnp.sin(x) * x)(0.5)
    (out,) = eval_jaxpr(closed.jaxpr, closed.consts, 0.5)
    assert float(out) == pytest.approx(np.sin(0.5) * 0.5, rel=1e-6)
    g = minijax.grad(lambda x: eval_jaxpr(closed.jaxpr, closed.consts, x)[0])(0.5)
    assert float(g) == pytest.approx(np.cos(0.5) * 0.5 + np.sin(0.5), rel=1e-6)


def test_weak_types_and_dtypes_in_binders():
    text = str(minijax.make_jaxpr(lambda i: i * 2 + 1)(jnp.int32(3)))
    assert "a:i32[]" in text and "mul a 2:i32[]" in text
    text = str(minijax.make_jaxpr(lambda x: x > 1.0)(jnp.ones(2)))
    assert "b:bool[2] = gt a 1.0:f32[]" in text


def test_make_jaxpr_of_grad_shows_the_derivative_program():
    text = str(minijax.make_jaxpr(minijax.grad(lambda x: jnp.sin(x) * x))(1.0))
    assert "cos a" in text and "sin a" in text


def test_static_argnums_and_return_shape():
    closed = minijax.make_jaxpr(lambda x, n: x * n, static_argnums=1)(jnp.ones(2), 3)
    assert len(closed.in_avals) == 1 and "3.0:f32[]" in str(closed)
    closed, shape = minijax.make_jaxpr(lambda x: {"y": x * 2.0},
                                       return_shape=True)(jnp.ones(2))
    assert shape["y"].shape == (2,) and shape["y"].dtype == np.float32


# ---------------------------------------------------------------------------
# Against real JAX: same text once parameter lists are stripped and line breaks
# normalized (JAX prints short jaxprs on one line, separating equations with ';').
# ---------------------------------------------------------------------------
def _normalize(text):
    text = re.sub(r"\[[^\[\]]*=[^\[\]]*\]", "", text)   # drop [axes=(0,) out_sharding=None]
    return re.sub(r"[\s;]+", " ", text).strip()


PROGRAMS = {
    "sum_axis": (lambda j, n: lambda x, y: n.sum(x * y, axis=0),
                 lambda n: (n.ones((2, 3)), n.ones((2, 3)))),
    "neg_exp": (lambda j, n: lambda x: n.exp(-x) * 3.0 - x, lambda n: (n.ones(3),)),
    "int_arith": (lambda j, n: lambda i: i * 2 + 1, lambda n: (n.int32(3),)),
    "closed_const": (lambda j, n: lambda x: x * n.array([1.0, 2.0, 3.0]), lambda n: (n.ones(3),)),
    "reshape_T": (lambda j, n: lambda x: n.reshape(x, (3, 2)).T, lambda n: (n.ones((2, 3)),)),
    "vmap_sum_sin": (lambda j, n: j.vmap(lambda x: n.sum(n.sin(x))), lambda n: (n.ones((2, 3)),)),
    "jvp_sin": (lambda j, n: lambda x: j.jvp(n.sin, (x,), (1.0,)), lambda n: (2.0,)),
    "tuple_out": (lambda j, n: lambda x, y: (x + y, x * y), lambda n: (1.0, n.float32(2.0))),
    "cube": (lambda j, n: lambda x: x ** 3, lambda n: (1.0,)),
    "tanh_div": (lambda j, n: lambda x: n.tanh(x) / 2.0, lambda n: (n.ones(2),)),
    "compare": (lambda j, n: lambda x: x > 1.0, lambda n: (n.ones(2),)),
    "astype": (lambda j, n: lambda x: x.astype(n.int32), lambda n: (n.ones(2),)),
    "sum_all": (lambda j, n: lambda x: n.sum(x), lambda n: (n.ones((2, 3)),)),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_matches_real_jax_text(name, real_jax):
    make, args = PROGRAMS[name]
    ours = str(minijax.make_jaxpr(make(minijax, jnp))(*args(jnp)))
    theirs = str(real_jax.make_jaxpr(make(real_jax, real_jax.numpy))(*args(real_jax.numpy)))
    assert _normalize(ours) == _normalize(theirs), f"\nminijax:\n{ours}\njax:\n{theirs}"
