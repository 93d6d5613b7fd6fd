"""Chapter 03 exercises: autograd (source of solutions/03_autograd.ipynb)."""
from _build import answer, demo, locked, md, tests

FILENAME = "03_autograd.ipynb"

SETUP = '''
import numpy as np
import minijax as jax
import minijax.numpy as jnp
from minijax.course import check
from minijax.course.testing import assert_allclose, assert_equal, cases

check.chapter = "03"   # check("q1") runs the visible tests of question 1 of this chapter
'''

TEST_IMPORTS = '''
import numpy as np, minijax as jax, minijax.numpy as jnp
from minijax.course.testing import assert_allclose, assert_equal, cases
'''

CELLS = [
    md("""
        # Exercises 03 — Autograd

        Three questions on [Lesson 03](../lessons/03_autograd.ipynb): `grad`, pytrees of
        parameters, and functions that must survive tracing. Replace every
        `raise NotImplementedError()` with your answer; `check("q1")` gives a verdict on the
        visible tests at any time.
        """),
    locked("setup", SETUP),
    md("""
        ## Question 1 — the tangent line (2 points)

        Write `tangent_line(f, x0)` returning the pair `(slope, intercept)` of the tangent to
        the curve `y = f(x)` at `x0`: `slope = f'(x0)`, computed with `jax.grad`, and
        `intercept = f(x0) - slope * x0`.
        """),
    answer("q1_answer", '''
        def tangent_line(f, x0):
            """(slope, intercept) of the tangent of f at x0."""
            ### BEGIN SOLUTION
            slope = jax.grad(f)(x0)
            return slope, f(x0) - slope * x0
            ### END SOLUTION
        '''),
    tests("q1_tests", 2, TEST_IMPORTS, '''
        with cases("q1") as t:
            with t.case("x**2 at 3.0: slope 6, intercept -9"):
                slope, intercept = tangent_line(lambda x: x ** 2, 3.0)
                assert_allclose(slope, 2 * 3.0)
                assert_allclose(intercept, 3.0 ** 2 - 2 * 3.0 * 3.0)
            with t.case("sin at 0.0: slope 1, intercept 0"):
                slope, intercept = tangent_line(jnp.sin, 0.0)
                assert_allclose(slope, float(np.cos(0.0)))
                assert_allclose(intercept, 0.0)
            ### BEGIN HIDDEN TESTS
            with t.case("a cubic at 2.0"):
                p = lambda x: x ** 3 - 2 * x ** 2 + 3
                slope, intercept = tangent_line(p, 2.0)
                assert_allclose(slope, 3 * 2.0 ** 2 - 4 * 2.0, rtol=1e-5)
                assert_allclose(intercept, (2.0 ** 3 - 2 * 2.0 ** 2 + 3) - slope * 2.0, rtol=1e-5)
            with t.case("exp at 1.0"):
                slope, intercept = tangent_line(jnp.exp, 1.0)
                assert_allclose(slope, np.e, rtol=1e-5)
                assert_allclose(intercept, 0.0, atol=1e-5)
            ### END HIDDEN TESTS
        '''),
    md("""
        ## Question 2 — one step of gradient descent on a pytree (3 points)

        The model is linear, `pred = x @ params["w"] + params["b"]`, and the loss is the mean
        squared error against `y`. Write `sgd_step(params, x, y, lr)` returning the new
        parameter dict after one step `p - lr * gradient` for every leaf. Use `jax.grad` on a
        loss of the whole dict and `jax.tree_util.tree_map` for the update.
        """),
    answer("q2_answer", '''
        def loss(params, x, y):
            pred = x @ params["w"] + params["b"]
            return jnp.mean((pred - y) ** 2)

        def sgd_step(params, x, y, lr):
            """params after one gradient-descent step on loss(params, x, y)."""
            ### BEGIN SOLUTION
            grads = jax.grad(loss)(params, x, y)
            return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads)
            ### END SOLUTION
        '''),
    tests("q2_tests", 3, TEST_IMPORTS, '''
        rng = np.random.RandomState(0)
        X = rng.normal(size=(8, 3)).astype(np.float32)
        Y = rng.normal(size=8).astype(np.float32)
        w0, b0 = np.array([0.5, -0.2, 0.1], np.float32), np.float32(0.3)

        def reference_step(w, b, lr):   # the gradient of the mean squared error, by hand
            r = X @ w + b - Y
            return w - lr * 2 * X.T @ r / len(Y), b - lr * 2 * r.mean()

        params0 = {"w": jnp.array(w0), "b": jnp.array(b0)}
        with cases("q2") as t:
            with t.case("returns a dict with the same keys",
                        hint="tree_map keeps the structure of params."):
                assert_equal(sorted(sgd_step(params0, jnp.array(X), jnp.array(Y), 0.1)), ["b", "w"])
            with t.case("one step with lr=0.1 matches the hand-derived gradient"):
                new = sgd_step(params0, jnp.array(X), jnp.array(Y), 0.1)
                w1, b1 = reference_step(w0, b0, 0.1)
                assert_allclose(new["w"], w1, rtol=1e-4, atol=1e-5)
                assert_allclose(new["b"], b1, rtol=1e-4, atol=1e-5, check_dtype=False)
            ### BEGIN HIDDEN TESTS
            with t.case("lr=0 changes nothing"):
                new = sgd_step(params0, jnp.array(X), jnp.array(Y), 0.0)
                assert_allclose(new["w"], w0)
            with t.case("ten steps lower the loss"):
                p = params0
                for _ in range(10):
                    p = sgd_step(p, jnp.array(X), jnp.array(Y), 0.05)
                before = float(np.mean((X @ w0 + b0 - Y) ** 2))
                after = float(np.mean((X @ np.asarray(p["w"]) + float(p["b"]) - Y) ** 2))
                assert after < before, f"loss went from {before:.4f} to {after:.4f}"
            ### END HIDDEN TESTS
        '''),
    md("""
        ## Question 3 — make it traceable (explain with code, 3 points)

        This soft-threshold function works under `jax.grad` for one number at a time, but fails
        under `jax.jit` and `jax.vmap`:

        ```python
        def soft_threshold(x, t):
            if x > t:
                return x - t
            if x < -t:
                return x + t
            return 0.0 * x
        ```

        1. *Explain with code*: run the broken version under `jax.jit` inside a
           `try`/`except`, and store the name of the exception's class in `jit_error`.
        2. Rewrite `soft_threshold` without Python `if`s on the value (hint: `jnp.where`), so
           that it works under `jax.jit`, `jax.vmap` and `jax.grad`.
        """),
    answer("q3_answer", '''
        def soft_threshold_broken(x, t):
            if x > t:
                return x - t
            if x < -t:
                return x + t
            return 0.0 * x

        ### BEGIN SOLUTION
        try:
            jax.jit(soft_threshold_broken)(1.0, 0.5)
        except Exception as e:
            jit_error = type(e).__name__

        def soft_threshold(x, t):
            """Shrink x towards 0 by t; values within [-t, t] become 0."""
            return jnp.where(x > t, x - t, jnp.where(x < -t, x + t, 0.0 * x))
        ### END SOLUTION
        '''),
    demo("jit_error, jax.jit(soft_threshold)(jnp.array([-2.0, 0.3, 1.5]), 1.0)"),
    tests("q3_tests", 3, TEST_IMPORTS, '''
        xs = np.array([-2.0, -0.5, 0.3, 1.5, 4.0], dtype=np.float32)
        expected = np.sign(xs) * np.maximum(np.abs(xs) - 1.0, 0.0)
        with cases("q3") as t:
            with t.case("jit_error names the error of the broken version under jit"):
                def probe(x):
                    if x > 0:
                        return x
                    return -x
                try:
                    jax.jit(probe)(1.0)
                    actual = "no exception"
                except Exception as e:
                    actual = type(e).__name__
                assert_equal(jit_error, actual)
            with t.case("values under jax.jit", hint="jnp.where(cond, a, b) picks elementwise."):
                assert_allclose(jax.jit(soft_threshold)(jnp.array(xs), 1.0), expected)
            with t.case("works under jax.vmap"):
                got = jax.vmap(soft_threshold, in_axes=(0, None))(jnp.array(xs), 1.0)
                assert_allclose(got, expected)
            ### BEGIN HIDDEN TESTS
            with t.case("its gradient under vmap is 1 outside [-t, t] and 0 inside"):
                g = jax.vmap(jax.grad(soft_threshold), in_axes=(0, None))(jnp.array(xs), 1.0)
                assert_allclose(g, (np.abs(xs) > 1.0).astype(np.float32))
            with t.case("t = 0 is the identity"):
                assert_allclose(soft_threshold(jnp.array(xs), 0.0), xs)
            ### END HIDDEN TESTS
        '''),
    md("""
        ## Check your work

        Before you hand in: *Kernel → Restart & Run All*, then `check` each question.
        """),
    demo('check("q3")'),
]
