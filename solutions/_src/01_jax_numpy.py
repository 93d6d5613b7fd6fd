"""Chapter 01 exercises: JAX's NumPy (source of solutions/01_jax_numpy.ipynb)."""
from _build import answer, demo, locked, md, tests

FILENAME = "01_jax_numpy.ipynb"

SETUP = '''
import numpy as np
import minijax as jax
import minijax.numpy as jnp
from minijax.course import check
from minijax.course.testing import assert_allclose, assert_equal, cases

check.chapter = "01"   # check("q1") runs the visible tests of question 1 of this chapter
'''

TEST_IMPORTS = '''
import numpy as np, minijax as jax, minijax.numpy as jnp
from minijax.course.testing import assert_allclose, assert_equal, cases
'''

CELLS = [
    md("""
        # Exercises 01 — JAX's NumPy

        Three questions on [Lesson 01](../lessons/01_jax_numpy.ipynb): creating arrays, 32-bit
        defaults and weak types. Replace every `raise NotImplementedError()` with your answer.
        Run `check("q1")` (and so on) at any time for a verdict on the visible tests; the grader
        also runs hidden tests, and gives credit per test case.

        Run the setup cell first.
        """),
    locked("setup", SETUP),
    md("""
        ## Question 1 — odd numbers (2 points)

        Write `odd_numbers(n)`, returning the first `n` odd numbers `1, 3, 5, ...` as a JAX
        array of JAX's default integer dtype. Use `jnp.arange`, no Python loop.
        """),
    answer("q1_answer", '''
        def odd_numbers(n):
            """The first n odd numbers, as an int32 JAX array."""
            ### BEGIN SOLUTION
            return jnp.arange(1, 2 * n, 2)
            ### END SOLUTION
        '''),
    demo("odd_numbers(5)"),
    tests("q1_tests", 2, TEST_IMPORTS, '''
        with cases("q1") as t:
            with t.case("odd_numbers(5) is [1, 3, 5, 7, 9]"):
                assert_allclose(odd_numbers(5), np.arange(1, 10, 2).astype(np.int32))
            with t.case("the result is a JAX array",
                        hint="Build it with jnp.arange, not with a list or NumPy."):
                assert isinstance(odd_numbers(3), jax.Array), type(odd_numbers(3)).__name__
            ### BEGIN HIDDEN TESTS
            with t.case("odd_numbers(1) is [1]"):
                assert_allclose(odd_numbers(1), np.array([1], dtype=np.int32))
            with t.case("odd_numbers(0) is empty"):
                assert_allclose(odd_numbers(0), np.zeros(0, dtype=np.int32))
            with t.case("the first 100 odd numbers sum to 100**2"):
                assert_allclose(odd_numbers(100).sum(), np.int32(100 ** 2))
            ### END HIDDEN TESTS
        '''),
    md("""
        ## Question 2 — standardize the columns (3 points)

        `x` is a 2-D `float32` array of shape `(samples, features)`. Write `standardize(x)`,
        which subtracts each column's mean and divides by each column's standard deviation
        (the means and deviations are taken *over the samples*, i.e. along axis 0). The result
        has the shape of `x` and stays `float32`.
        """),
    answer("q2_answer", '''
        def standardize(x):
            """(x - column mean) / column standard deviation, in x's dtype."""
            ### BEGIN SOLUTION
            return (x - x.mean(axis=0)) / x.std(axis=0)
            ### END SOLUTION
        '''),
    tests("q2_tests", 3, TEST_IMPORTS, '''
        data = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 60.0]], dtype=np.float32)
        expected = (data - data.mean(axis=0)) / data.std(axis=0)
        with cases("q2") as t:
            with t.case("values on a 3 x 2 example",
                        hint="Reduce along axis=0: one mean per column."):
                assert_allclose(standardize(jnp.array(data)), expected, check_dtype=False)
            with t.case("shape (3, 2) is kept"):
                assert_allclose(standardize(jnp.array(data)).shape, np.array([3, 2]))
            with t.case("stays float32"):
                assert_equal(standardize(jnp.array(data)).dtype, jnp.float32)
            ### BEGIN HIDDEN TESTS
            rng = np.random.RandomState(0)
            big = (rng.normal(size=(50, 4)) * [1.0, 5.0, 0.1, 3.0] + [0.0, 2.0, -1.0, 9.0])
            big = big.astype(np.float32)
            with t.case("every column gets mean 0"):
                assert_allclose(standardize(jnp.array(big)).mean(axis=0), np.zeros(4),
                                atol=1e-5, check_dtype=False)
            with t.case("every column gets standard deviation 1"):
                assert_allclose(standardize(jnp.array(big)).std(axis=0), np.ones(4),
                                atol=1e-4, check_dtype=False)
            ### END HIDDEN TESTS
        '''),
    md("""
        ## Question 3 — predict the dtype (explain with code, 3 points)

        Before running anything, predict the dtype of each expression below and write your
        predictions as strings (`"float32"`, `"int32"`, ...) in a dict `predicted`, keyed by
        the expression exactly as written. Then run the test cell: it evaluates each
        expression and compares. In a comment next to each entry, say which rule decides it
        (32-bit defaults, weak Python scalars, true division).

        | expression |
        |---|
        | `jnp.ones(3) * 2.0` |
        | `jnp.arange(3) + 2.5` |
        | `jnp.arange(3) * 2` |
        | `jnp.arange(4) / 2` |
        | `jnp.ones(3, dtype=jnp.int8) + 1` |
        """),
    answer("q3_answer", '''
        ### BEGIN SOLUTION
        predicted = {
            "jnp.ones(3) * 2.0": "float32",              # a weak Python float adopts float32
            "jnp.arange(3) + 2.5": "float32",            # int32 meets a float: default float
            "jnp.arange(3) * 2": "int32",                # a weak Python int keeps int32
            "jnp.arange(4) / 2": "float32",              # true division of ints gives a float
            "jnp.ones(3, dtype=jnp.int8) + 1": "int8",   # weak scalars never widen an array
        }
        ### END SOLUTION
        '''),
    tests("q3_tests", 3, TEST_IMPORTS, '''
        expressions = ["jnp.ones(3) * 2.0", "jnp.arange(3) + 2.5", "jnp.arange(3) * 2",
                       "jnp.arange(4) / 2", "jnp.ones(3, dtype=jnp.int8) + 1"]
        with cases("q3") as t:
            for expr in expressions:
                with t.case(f"dtype of {expr}", hint="Lesson 01, 'Weakly typed Python scalars'."):
                    actual = str(eval(expr, {"jnp": jnp}).dtype)
                    assert_equal(str(predicted.get(expr)), actual, err_msg=expr)
            ### BEGIN HIDDEN TESTS
            with t.case("predicted holds exactly the five expressions"):
                assert_equal(sorted(predicted), sorted(expressions))
            ### END HIDDEN TESTS
        '''),
    md("""
        ## Check your work

        `check("q2")` re-runs the visible tests of one question; the grader runs them and the
        hidden ones, in a fresh kernel, from top to bottom. Before you hand in:
        *Kernel → Restart & Run All*.
        """),
    demo('check("q1")'),
]
