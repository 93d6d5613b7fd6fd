"""Chapter 05 exercises: vectorization (source of solutions/05_vectorization.ipynb)."""
from _build import answer, demo, locked, md, tests

FILENAME = "05_vectorization.ipynb"

SETUP = '''
import numpy as np
import minijax as jax
import minijax.numpy as jnp
from minijax.course import check
from minijax.course.testing import assert_allclose, assert_equal, cases

check.chapter = "05"   # check("q1") runs the visible tests of question 1 of this chapter
'''

TEST_IMPORTS = '''
import numpy as np, minijax as jax, minijax.numpy as jnp
from minijax.course.testing import assert_allclose, assert_equal, cases
'''

CELLS = [
    md("""
        # Exercises 05 — Vectorization

        Four questions on [Lesson 05](../lessons/05_vectorization.ipynb): writing a function for
        one example and letting `jax.vmap` run it on a batch, `in_axes` and `out_axes`, and
        per-example gradients. Replace every `raise NotImplementedError()` with your answer;
        `check("q1")` gives a verdict on the visible tests at any time.

        In every question: write the function for **one** example and let `vmap` add the batch.
        No Python loops over examples.
        """),
    locked("setup", SETUP),
    md("""
        ## Question 1 — all pairwise distances (write the function, 3 points)

        1. Write `distance(x, y)`: the Euclidean distance between two points `x` and `y`, each
           a 1-D array of length `d`. It returns a scalar.
        2. Write `pairwise_distances(xs, ys)`: for points `xs` of shape `(n, d)` and `ys` of shape
           `(m, d)`, the `(n, m)` matrix whose entry `[i, j]` is `distance(xs[i], ys[j])`. Build it
           from `distance` with two `jax.vmap`s (the inner one maps over `ys`, the outer one
           over `xs`; use `in_axes` with `None` for the argument that is shared).
        """),
    answer("q1_answer", '''
        def distance(x, y):
            """Euclidean distance between two points (1-D arrays of the same length)."""
            ### BEGIN SOLUTION
            return jnp.sqrt(jnp.sum((x - y) ** 2))
            ### END SOLUTION

        def pairwise_distances(xs, ys):
            """The (n, m) matrix of distances between the rows of xs and the rows of ys."""
            ### BEGIN SOLUTION
            one_to_all = jax.vmap(distance, in_axes=(None, 0))      # x fixed, every y
            return jax.vmap(one_to_all, in_axes=(0, None))(xs, ys)  # every x
            ### END SOLUTION
        '''),
    demo("pairwise_distances(jnp.array([[0.0, 0.0], [1.0, 1.0]]), jnp.array([[3.0, 4.0]]))"),
    tests("q1_tests", 3, TEST_IMPORTS, '''
        def reference(a, b):      # NumPy broadcasting: (n, 1, d) - (1, m, d)
            return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)).astype(np.float32)

        rng = np.random.RandomState(5)
        A = rng.normal(size=(4, 3)).astype(np.float32)
        B = rng.normal(size=(6, 3)).astype(np.float32)
        with cases("q1") as t:
            with t.case("distance([0, 0], [3, 4]) is 5"):
                assert_allclose(distance(jnp.array([0.0, 0.0]), jnp.array([3.0, 4.0])), np.float32(5.0))
            with t.case("4 points against 6 points: a (4, 6) matrix",
                        hint="The inner vmap pairs one x with every y; the outer one runs it for every x."):
                assert_allclose(pairwise_distances(jnp.array(A), jnp.array(B)), reference(A, B))
            ### BEGIN HIDDEN TESTS
            with t.case("the order of the arguments: (m, n) when swapped"):
                assert_allclose(pairwise_distances(jnp.array(B), jnp.array(A)), reference(B, A))
            with t.case("the distances of a set to itself: symmetric, zero diagonal"):
                got = np.asarray(pairwise_distances(jnp.array(A), jnp.array(A)))
                assert_allclose(np.diag(got), np.zeros(4, np.float32), atol=1e-6)
                assert_allclose(got, got.T)
            with t.case("one point against one point: shape (1, 1)"):
                assert_allclose(pairwise_distances(jnp.array(A[:1]), jnp.array(B[:1])),
                                reference(A[:1], B[:1]))
            with t.case("points in 1-D and in 5-D"):
                p, q = rng.normal(size=(3, 1)).astype(np.float32), rng.normal(size=(2, 1)).astype(np.float32)
                assert_allclose(pairwise_distances(jnp.array(p), jnp.array(q)), reference(p, q))
                p, q = rng.normal(size=(2, 5)).astype(np.float32), rng.normal(size=(3, 5)).astype(np.float32)
                assert_allclose(pairwise_distances(jnp.array(p), jnp.array(q)), reference(p, q))
            ### END HIDDEN TESTS
        '''),
    md("""
        ## Question 2 — data stored in columns (`in_axes` and `out_axes`, 3 points)

        `affine(W, b, x)` maps one example `x` (length `d`) to `W @ x + b` (length `k`). In this
        data set the examples are the **columns** of `X`, of shape `(d, B)`, and the results must
        come back as columns too.

        1. Write `affine_columns(W, b, X)`: one `W` (shape `(k, d)`) and one `b` (shape `(k,)`)
           shared by every example; returns the `(k, B)` array whose column `j` is
           `affine(W, b, X[:, j])`.
        2. Write `affine_per_example(Ws, bs, X)`: every example has its own weights, `Ws` of
           shape `(B, k, d)` and `bs` of shape `(B, k)`; returns the `(k, B)` array whose column
           `j` is `affine(Ws[j], bs[j], X[:, j])`.

        Use one `jax.vmap` of `affine` in each, with the right `in_axes` and `out_axes`: no
        transposes, no `.T`.
        """),
    answer("q2_answer", '''
        def affine(W, b, x):
            return W @ x + b

        def affine_columns(W, b, X):
            """affine(W, b, .) applied to every column of X; results as columns."""
            ### BEGIN SOLUTION
            return jax.vmap(affine, in_axes=(None, None, 1), out_axes=1)(W, b, X)
            ### END SOLUTION

        def affine_per_example(Ws, bs, X):
            """affine(Ws[j], bs[j], X[:, j]) for every j; results as columns."""
            ### BEGIN SOLUTION
            return jax.vmap(affine, in_axes=(0, 0, 1), out_axes=1)(Ws, bs, X)
            ### END SOLUTION
        '''),
    tests("q2_tests", 3, TEST_IMPORTS, '''
        rng = np.random.RandomState(6)
        W = rng.normal(size=(2, 3)).astype(np.float32)
        b = rng.normal(size=2).astype(np.float32)
        X = rng.normal(size=(3, 5)).astype(np.float32)          # five examples, as columns
        Ws = rng.normal(size=(5, 2, 3)).astype(np.float32)
        bs = rng.normal(size=(5, 2)).astype(np.float32)
        with cases("q2") as t:
            with t.case("affine_columns: a (2, 5) result, W @ X + b[:, None]",
                        hint="in_axes=(None, None, 1) takes columns; out_axes=1 puts them back as columns."):
                assert_allclose(affine_columns(jnp.array(W), jnp.array(b), jnp.array(X)),
                                W @ X + b[:, None], rtol=1e-5, atol=1e-5)
            with t.case("affine_per_example: a (2, 5) result, column j from Ws[j] and bs[j]"):
                expected = (np.einsum("jkd,dj->kj", Ws, X) + bs.T).astype(np.float32)
                assert_allclose(affine_per_example(jnp.array(Ws), jnp.array(bs), jnp.array(X)),
                                expected, rtol=1e-5, atol=1e-5)
            ### BEGIN HIDDEN TESTS
            with t.case("affine_columns with a single example (B = 1)"):
                assert_allclose(affine_columns(jnp.array(W), jnp.array(b), jnp.array(X[:, :1])),
                                W @ X[:, :1] + b[:, None], rtol=1e-5, atol=1e-5)
            with t.case("affine_columns with k = 4 outputs and B = 7 examples"):
                W4 = rng.normal(size=(4, 3)).astype(np.float32)
                b4 = rng.normal(size=4).astype(np.float32)
                X7 = rng.normal(size=(3, 7)).astype(np.float32)
                assert_allclose(affine_columns(jnp.array(W4), jnp.array(b4), jnp.array(X7)),
                                W4 @ X7 + b4[:, None], rtol=1e-5, atol=1e-5)
            with t.case("affine_per_example: each column uses its own weights"):
                same = np.broadcast_to(W, (5, 2, 3)).copy()
                got = affine_per_example(jnp.array(same), jnp.array(bs), jnp.array(X))
                assert_allclose(got, W @ X + bs.T, rtol=1e-5, atol=1e-5)
            ### END HIDDEN TESTS
        '''),
    md("""
        ## Question 3 — per-example gradients, clipped (write the function, 4 points)

        A linear model with parameters `params = {"w": ..., "b": ...}` predicts
        `jnp.dot(params["w"], x) + params["b"]` for one example `x`; `loss` below is its squared
        error on one example.

        1. Write `per_example_grads(params, xs, ys)`: the gradient of `loss` for every example,
           as a dict like `params` whose leaves have a leading batch axis (`"w"`: `(B, d)`,
           `"b"`: `(B,)`). Use `jax.vmap(jax.grad(loss), in_axes=...)`.
        2. Write `clipped_mean_grad(params, xs, ys, max_norm)`, the gradient used by
           differentially private training: compute each example's gradient, clip it so that its
           norm is at most `max_norm` (the norm over *all* its leaves together:
           `sqrt(sum(g_w ** 2) + g_b ** 2)`; a gradient within the limit is unchanged), then
           average the clipped gradients over the batch. Return a dict like `params`.
        """),
    answer("q3_answer", '''
        def loss(params, x, y):
            pred = jnp.dot(params["w"], x) + params["b"]
            return (pred - y) ** 2

        def per_example_grads(params, xs, ys):
            """{"w": (B, d), "b": (B,)}: the gradient of loss for each example."""
            ### BEGIN SOLUTION
            return jax.vmap(jax.grad(loss), in_axes=(None, 0, 0))(params, xs, ys)
            ### END SOLUTION

        def clipped_mean_grad(params, xs, ys, max_norm):
            """Mean over the batch of the per-example gradients, each clipped to max_norm."""
            ### BEGIN SOLUTION
            g = per_example_grads(params, xs, ys)
            norms = jnp.sqrt(jnp.sum(g["w"] ** 2, axis=1) + g["b"] ** 2)     # (B,)
            factor = jnp.minimum(1.0, max_norm / norms)                       # (B,)
            return {"w": jnp.mean(g["w"] * factor[:, None], axis=0),
                    "b": jnp.mean(g["b"] * factor)}
            ### END SOLUTION
        '''),
    tests("q3_tests", 4, TEST_IMPORTS, '''
        rng = np.random.RandomState(7)
        X = rng.normal(size=(8, 3)).astype(np.float32)
        Y = rng.normal(size=8).astype(np.float32)
        w0, b0 = np.array([0.5, -1.0, 2.0], np.float32), np.float32(0.25)
        params0 = {"w": jnp.array(w0), "b": jnp.array(b0)}

        r = X @ w0 + b0 - Y                      # residual of each example
        gw, gb = 2 * r[:, None] * X, 2 * r       # d/dw (w.x + b - y)^2 = 2 r x,  d/db = 2 r

        def reference_clipped(max_norm):
            norms = np.sqrt((gw ** 2).sum(1) + gb ** 2)
            f = np.minimum(1.0, max_norm / norms)
            return (gw * f[:, None]).mean(0), (gb * f).mean()

        with cases("q3") as t:
            with t.case("per_example_grads: shapes (8, 3) and (8,)",
                        hint="in_axes=(None, 0, 0): params shared, one x and one y per example."):
                g = per_example_grads(params0, jnp.array(X), jnp.array(Y))
                assert_equal(sorted(g), ["b", "w"])
                assert_equal((tuple(g["w"].shape), tuple(g["b"].shape)), ((8, 3), (8,)))
            with t.case("per_example_grads: the values (2 r x and 2 r)"):
                g = per_example_grads(params0, jnp.array(X), jnp.array(Y))
                assert_allclose(g["w"], gw, rtol=1e-4, atol=1e-5)
                assert_allclose(g["b"], gb, rtol=1e-4, atol=1e-5)
            with t.case("clipped_mean_grad with max_norm = 1.0",
                        hint="One norm per example over both leaves; scale by min(1, max_norm / norm)."):
                got = clipped_mean_grad(params0, jnp.array(X), jnp.array(Y), 1.0)
                ew, eb = reference_clipped(1.0)
                assert_allclose(got["w"], ew.astype(np.float32), rtol=1e-4, atol=1e-5)
                assert_allclose(got["b"], np.float32(eb), rtol=1e-4, atol=1e-5, check_dtype=False)
            ### BEGIN HIDDEN TESTS
            with t.case("the mean of the per-example gradients is the gradient of the mean loss"):
                g = per_example_grads(params0, jnp.array(X), jnp.array(Y))
                assert_allclose(np.asarray(g["w"]).mean(0), gw.mean(0), rtol=1e-4, atol=1e-5)
            with t.case("a large max_norm clips nothing: the plain mean gradient"):
                got = clipped_mean_grad(params0, jnp.array(X), jnp.array(Y), 1e6)
                assert_allclose(got["w"], gw.mean(0).astype(np.float32), rtol=1e-4, atol=1e-5)
                assert_allclose(got["b"], np.float32(gb.mean()), rtol=1e-4, atol=1e-5,
                                check_dtype=False)
            with t.case("a tiny max_norm: every example is clipped"):
                got = clipped_mean_grad(params0, jnp.array(X), jnp.array(Y), 0.01)
                ew, eb = reference_clipped(0.01)
                assert_allclose(got["w"], ew.astype(np.float32), rtol=1e-4, atol=1e-7)
                assert_allclose(got["b"], np.float32(eb), rtol=1e-4, atol=1e-7, check_dtype=False)
            with t.case("a batch of one example"):
                g = per_example_grads(params0, jnp.array(X[:1]), jnp.array(Y[:1]))
                assert_allclose(g["w"], gw[:1], rtol=1e-4, atol=1e-5)
            ### END HIDDEN TESTS
        '''),
    md("""
        ## Question 4 — predict the shapes (explain with code, 2 points)

        With `A = jnp.ones((5, 3))`, `B = jnp.ones((3, 4))` and `v = jnp.ones(3)`, predict the
        shape of each result below **before running it**, and write the predictions as tuples
        in a dict `predicted_shapes`, keyed by the expression exactly as written. Add a comment
        saying which axis each `vmap` maps over and where the batch axis ends up.

        | expression |
        |---|
        | `jax.vmap(jnp.dot, in_axes=(0, None))(A, v)` |
        | `jax.vmap(jnp.sum, in_axes=1)(B)` |
        | `jax.vmap(lambda x: 2 * x, out_axes=1)(A)` |
        | `jax.vmap(jnp.outer)(A, A)` |
        | `jax.vmap(jax.vmap(jnp.dot, in_axes=(None, 1)), in_axes=(0, None))(A, B)` |

        Then, also as code: `vmap` refuses to pair 3 matrices with 4 vectors. Store the
        **name** of the exception's class raised by
        `jax.vmap(jnp.dot)(jnp.ones((3, 2, 2)), jnp.ones((4, 2)))` in `mismatch_error`.
        """),
    answer("q4_answer", '''
        ### BEGIN SOLUTION
        predicted_shapes = {
            # rows of A, v shared: one dot product per row
            "jax.vmap(jnp.dot, in_axes=(0, None))(A, v)": (5,),
            # columns of B: one sum per column
            "jax.vmap(jnp.sum, in_axes=1)(B)": (4,),
            # rows of A in, each (3,) result; the batch axis (5) goes to position 1
            "jax.vmap(lambda x: 2 * x, out_axes=1)(A)": (3, 5),
            # pairs of rows: one 3 x 3 outer product per row
            "jax.vmap(jnp.outer)(A, A)": (5, 3, 3),
            # outer vmap over rows of A, inner over columns of B: a 5 x 4 grid (= A @ B)
            "jax.vmap(jax.vmap(jnp.dot, in_axes=(None, 1)), in_axes=(0, None))(A, B)": (5, 4),
        }

        try:
            jax.vmap(jnp.dot)(jnp.ones((3, 2, 2)), jnp.ones((4, 2)))
        except Exception as e:
            mismatch_error = type(e).__name__
        ### END SOLUTION
        '''),
    tests("q4_tests", 2, TEST_IMPORTS, '''
        env = {"jax": jax, "jnp": jnp, "A": jnp.ones((5, 3)), "B": jnp.ones((3, 4)), "v": jnp.ones(3)}
        expressions = ["jax.vmap(jnp.dot, in_axes=(0, None))(A, v)",
                       "jax.vmap(jnp.sum, in_axes=1)(B)",
                       "jax.vmap(lambda x: 2 * x, out_axes=1)(A)",
                       "jax.vmap(jnp.outer)(A, A)",
                       "jax.vmap(jax.vmap(jnp.dot, in_axes=(None, 1)), in_axes=(0, None))(A, B)"]
        with cases("q4") as t:
            for expr in expressions:
                with t.case(f"shape of {expr}", hint="Lesson 05, 'in_axes and out_axes, pictured'."):
                    actual = tuple(eval(expr, env).shape)
                    assert_equal(tuple(predicted_shapes.get(expr, ())), actual, err_msg=expr)
            with t.case("mismatch_error names the exception for mismatched batch sizes"):
                try:
                    jax.vmap(jnp.dot)(jnp.ones((3, 2, 2)), jnp.ones((4, 2)))
                    actual = "no exception"
                except Exception as e:
                    actual = type(e).__name__
                assert_equal(mismatch_error, actual)
            ### BEGIN HIDDEN TESTS
            with t.case("predicted_shapes holds exactly the five expressions"):
                assert_equal(sorted(predicted_shapes), sorted(expressions))
            ### END HIDDEN TESTS
        '''),
    md("""
        ## Check your work

        Before you hand in: *Kernel → Restart & Run All*, then `check` each question.
        """),
    demo('check("q3")'),
]
