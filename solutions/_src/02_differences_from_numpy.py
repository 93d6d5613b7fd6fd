"""Chapter 02 exercises: differences from NumPy (source of solutions/02_differences_from_numpy.ipynb)."""
from _build import answer, demo, locked, md, tests

FILENAME = "02_differences_from_numpy.ipynb"

SETUP = '''
import numpy as np
import minijax as jax
import minijax.numpy as jnp
from minijax.course import check
from minijax.course.testing import assert_allclose, assert_equal, cases

check.chapter = "02"   # check("q1") runs the visible tests of question 1 of this chapter
'''

TEST_IMPORTS = '''
import numpy as np, minijax as jax, minijax.numpy as jnp
from minijax.course.testing import assert_allclose, assert_equal, cases
'''

CELLS = [
    md("""
        # Exercises 02 — Differences from NumPy

        Three questions on [Lesson 02](../lessons/02_differences_from_numpy.ipynb): immutable
        arrays and the `.at[...]` updates. Replace every `raise NotImplementedError()` with your
        answer; `check("q1")` gives a verdict on the visible tests at any time.
        """),
    locked("setup", SETUP),
    md("""
        ## Question 1 — a new diagonal (2 points)

        Write `set_diagonal(m, value)`: given a square matrix `m`, return a **new** matrix equal
        to `m` except that its diagonal is `value`. `m` itself must not change (it cannot: it is
        a JAX array). Use `.at[...]` with two index arrays.
        """),
    answer("q1_answer", '''
        def set_diagonal(m, value):
            """A copy of the square matrix m with every diagonal entry set to value."""
            ### BEGIN SOLUTION
            i = jnp.arange(m.shape[0])
            return m.at[i, i].set(value)
            ### END SOLUTION
        '''),
    tests("q1_tests", 2, TEST_IMPORTS, '''
        m_np = np.arange(9.0, dtype=np.float32).reshape(3, 3)
        expected = m_np.copy()
        np.fill_diagonal(expected, -1.0)
        with cases("q1") as t:
            with t.case("3 x 3 matrix, diagonal set to -1"):
                assert_allclose(set_diagonal(jnp.array(m_np), -1.0), expected)
            with t.case("the input is left as it was"):
                m = jnp.array(m_np)
                set_diagonal(m, 5.0)
                assert_allclose(m, m_np)
            ### BEGIN HIDDEN TESTS
            with t.case("1 x 1 matrix"):
                assert_allclose(set_diagonal(jnp.ones((1, 1)), 7.0), np.full((1, 1), 7.0, np.float32))
            with t.case("integer matrix keeps int32"):
                got = set_diagonal(jnp.zeros((4, 4), dtype=jnp.int32), 3)
                assert_allclose(got, 3 * np.eye(4, dtype=np.int32))
            ### END HIDDEN TESTS
        '''),
    md("""
        ## Question 2 — counting with repeated indices (3 points)

        Write `bincount(indices, length)`: an `int32` array of the given `length` whose entry
        `k` counts how often `k` occurs in the integer array `indices` (like `np.bincount`
        with `minlength=length`). Use a single `.at[...].add(...)`: remember that repeated
        indices *accumulate*.
        """),
    answer("q2_answer", '''
        def bincount(indices, length):
            """How often each of 0 .. length-1 occurs in indices, as int32 counts."""
            ### BEGIN SOLUTION
            return jnp.zeros(length, dtype=jnp.int32).at[indices].add(1)
            ### END SOLUTION
        '''),
    tests("q2_tests", 3, TEST_IMPORTS, '''
        idx = np.array([0, 1, 1, 3, 1], dtype=np.int32)
        with cases("q2") as t:
            with t.case("bincount([0, 1, 1, 3, 1], 5)",
                        hint="x.at[idx].add(1) counts every repeated index."):
                assert_allclose(bincount(jnp.array(idx), 5), np.bincount(idx, minlength=5).astype(np.int32))
            with t.case("the counts are int32"):
                assert_equal(bincount(jnp.array(idx), 5).dtype, jnp.int32)
            ### BEGIN HIDDEN TESTS
            with t.case("one index repeated 7 times"):
                same = np.full(7, 2, dtype=np.int32)
                assert_allclose(bincount(jnp.array(same), 3), np.bincount(same, minlength=3).astype(np.int32))
            rng = np.random.RandomState(1)
            many = rng.randint(0, 10, size=200).astype(np.int32)
            with t.case("200 random indices"):
                assert_allclose(bincount(jnp.array(many), 10), np.bincount(many, minlength=10).astype(np.int32))
            ### END HIDDEN TESTS
        '''),
    md("""
        ## Question 3 — fix a NumPy habit (explain with code, 3 points)

        This function works on NumPy arrays and fails on JAX arrays:

        ```python
        def clip_top(x, k):
            x[x > k] = k      # in place
            return x
        ```

        1. *Explain with code*: call the broken version above on `jnp.arange(5.0)` inside a
           `try`/`except`, and store the **name** of the exception's class (a string) in
           `broken_error`.
        2. Write a fixed `clip_top` that returns a new array, leaves `x` unchanged, and also
           works under `jax.jit`.
        """),
    answer("q3_answer", '''
        def clip_top_numpy_style(x, k):
            x[x > k] = k
            return x

        ### BEGIN SOLUTION
        try:
            clip_top_numpy_style(jnp.arange(5.0), 2.0)
        except Exception as e:
            broken_error = type(e).__name__

        def clip_top(x, k):
            """x with every value above k replaced by k (a new array)."""
            return jnp.minimum(x, k)
        ### END SOLUTION
        '''),
    demo("broken_error, clip_top(jnp.arange(5.0), 2.0)"),
    tests("q3_tests", 3, TEST_IMPORTS, '''
        x_np = np.array([0.5, 3.0, -1.0, 2.5, 7.0], dtype=np.float32)
        with cases("q3") as t:
            with t.case("broken_error names the exception of the in-place version"):
                try:
                    x = jnp.arange(5.0)
                    x[x > 2.0] = 2.0
                    actual = "no exception"
                except Exception as e:
                    actual = type(e).__name__
                assert_equal(broken_error, actual)
            with t.case("clip_top values", hint="jnp.minimum or jnp.where build a new array."):
                assert_allclose(clip_top(jnp.array(x_np), 2.0), np.minimum(x_np, 2.0))
            with t.case("works under jax.jit"):
                assert_allclose(jax.jit(clip_top)(jnp.array(x_np), 2.0), np.minimum(x_np, 2.0))
            ### BEGIN HIDDEN TESTS
            with t.case("the input is left as it was"):
                x = jnp.array(x_np)
                clip_top(x, 0.0)
                assert_allclose(x, x_np)
            with t.case("a 2-D input"):
                m = np.arange(12.0, dtype=np.float32).reshape(3, 4)
                assert_allclose(clip_top(jnp.array(m), 5.0), np.minimum(m, 5.0))
            ### END HIDDEN TESTS
        '''),
    md("""
        ## Check your work

        Before you hand in: *Kernel → Restart & Run All*, then `check` each question.
        """),
    demo('check("q2")'),
]
