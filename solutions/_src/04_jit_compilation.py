"""Chapter 04 exercises: jit compilation (source of solutions/04_jit_compilation.ipynb)."""
from _build import answer, demo, locked, md, tests

FILENAME = "04_jit_compilation.ipynb"

SETUP = '''
import functools

import numpy as np
import minijax as jax
import minijax.numpy as jnp
from minijax.course import check
from minijax.course.testing import assert_allclose, assert_equal, cases

check.chapter = "04"   # check("q1") runs the visible tests of question 1 of this chapter
'''

TEST_IMPORTS = '''
import functools, textwrap
import numpy as np, minijax as jax, minijax.numpy as jnp
from minijax.course.testing import assert_allclose, assert_equal, cases
'''

CELLS = [
    md("""
        # Exercises 04 — jit compilation

        Four questions on [Lesson 04](../lessons/04_jit_compilation.ipynb): control flow that
        survives tracing, static arguments, when a jitted function is traced again, and
        globals baked into a compiled program. Replace every `raise NotImplementedError()`
        with your answer; `check("q1")` gives a verdict on the visible tests at any time.

        Compiling takes a moment (about a second per new shape): that is `jit` at work, not
        your code being slow.
        """),
    locked("setup", SETUP),
    md("""
        ## Question 1 — clip by norm, under `jit` (fix a function, 3 points)

        Gradient clipping rescales a vector whose length (Euclidean norm) exceeds `max_norm`
        so that its norm becomes exactly `max_norm`, and leaves shorter vectors alone. This
        version works eagerly but fails under `jax.jit`:

        ```python
        def clip_by_norm_broken(v, max_norm):
            norm = jnp.sqrt(jnp.sum(v ** 2))
            if norm > max_norm:
                return v * (max_norm / norm)
            return v
        ```

        1. *Explain with code*: call the broken version under `jax.jit` inside a
           `try`/`except`, and store the **name** of the exception's class (a string) in
           `jit_error`.
        2. Write `clip_by_norm(v, max_norm)` without a Python `if` on a traced value, using
           `jax.lax.cond` (a choice between two computations) or `jnp.where`. It must work
           under `jax.jit` with `max_norm` an ordinary (traced, not static) argument, and for
           arrays of any shape (the norm is taken over all entries).
        """),
    answer("q1_answer", '''
        def clip_by_norm_broken(v, max_norm):
            norm = jnp.sqrt(jnp.sum(v ** 2))
            if norm > max_norm:
                return v * (max_norm / norm)
            return v

        ### BEGIN SOLUTION
        try:
            jax.jit(clip_by_norm_broken)(jnp.array([3.0, 4.0]), 1.0)
        except Exception as e:
            jit_error = type(e).__name__
        ### END SOLUTION

        def clip_by_norm(v, max_norm):
            """v rescaled to norm max_norm if it is longer than that, else v unchanged."""
            ### BEGIN SOLUTION
            norm = jnp.sqrt(jnp.sum(v * v))
            return jax.lax.cond(norm > max_norm,
                                lambda v: v * (max_norm / norm),   # too long: rescale
                                lambda v: v,                       # short enough: keep
                                v)
            ### END SOLUTION
        '''),
    demo("jit_error, jax.jit(clip_by_norm)(jnp.array([3.0, 4.0]), 1.0)"),
    tests("q1_tests", 3, TEST_IMPORTS, '''
        clip_jit = jax.jit(lambda v, max_norm: clip_by_norm(v, max_norm))   # one for all cases
        with cases("q1") as t:
            with t.case("jit_error names the error of the broken version under jit"):
                def probe(v):
                    if jnp.sum(v) > 0:
                        return v
                    return -v
                try:
                    jax.jit(probe)(jnp.ones(2))
                    actual = "no exception"
                except Exception as e:
                    actual = type(e).__name__
                assert_equal(jit_error, actual)
            with t.case("under jit, [3, 4] with max_norm 1 becomes [0.6, 0.8]",
                        hint="jax.lax.cond(pred, true_fun, false_fun, operand) or jnp.where."):
                v = np.array([3.0, 4.0], np.float32)
                assert_allclose(clip_jit(jnp.array(v), 1.0), v / 5.0)
            with t.case("under jit, a short vector is left as it is"):
                v = np.array([0.3, -0.4], np.float32)
                assert_allclose(clip_jit(jnp.array(v), 1.0), v)
            ### BEGIN HIDDEN TESTS
            with t.case("max_norm is traced: one jitted function, several max_norm values"):
                v = np.array([3.0, 4.0], np.float32)
                assert_allclose(clip_jit(jnp.array(v), 2.0), v * (2.0 / 5.0))
                assert_allclose(clip_jit(jnp.array(v), 10.0), v)
            with t.case("the zero vector stays zero"):
                assert_allclose(clip_jit(jnp.zeros(2), 1.0), np.zeros(2, np.float32))
            with t.case("a 2-D array: the norm is over all entries"):
                m = np.array([[1.0, 2.0], [2.0, 4.0]], np.float32)     # norm 5
                assert_allclose(clip_by_norm(jnp.array(m), 1.0), m / 5.0)
            with t.case("the result never has a norm above max_norm (random vectors)"):
                rng = np.random.RandomState(4)
                for _ in range(5):
                    v = (rng.normal(size=2) * 3).astype(np.float32)
                    out = np.asarray(clip_jit(jnp.array(v), 1.5))
                    expected = v * min(1.0, 1.5 / np.linalg.norm(v))
                    assert_allclose(out, expected.astype(np.float32), rtol=1e-5)
            with t.case("its gradient (grad of the sum at [3, 4], max_norm 1)"):
                v = np.array([3.0, 4.0], np.float32)
                n = np.linalg.norm(v)
                expected = 1.0 / n - v.sum() * v / n ** 3     # d/dv sum(v / |v|)
                got = jax.grad(lambda u: jnp.sum(clip_by_norm(u, 1.0)))(jnp.array(v))
                assert_allclose(got, expected.astype(np.float32), rtol=1e-4, atol=1e-6)
            ### END HIDDEN TESTS
        '''),
    md("""
        ## Question 2 — a shape that depends on an argument (static arguments, 3 points)

        Polynomial regression feeds a model with the powers of its input. Write
        `poly_features(x, degree)`: for a 1-D array `x` of length `n`, return the
        `(n, degree + 1)` matrix whose column `k` is `x ** k`, for `k = 0, 1, ..., degree`
        (column 0 is all ones). No Python loop over the entries of `x`.

        `degree` decides the *shape* of the result, so under `jit` it cannot be a tracer.
        Define `poly_features_jit`, a jitted version of `poly_features` that is called as
        `poly_features_jit(x, 3)` (`degree` passed by position).
        """),
    answer("q2_answer", '''
        def poly_features(x, degree):
            """The (n, degree + 1) matrix [x**0, x**1, ..., x**degree] (as columns)."""
            ### BEGIN SOLUTION
            return x[:, None] ** jnp.arange(degree + 1)
            ### END SOLUTION

        ### BEGIN SOLUTION
        poly_features_jit = jax.jit(poly_features, static_argnums=1)   # degree is static
        ### END SOLUTION
        '''),
    demo("poly_features_jit(jnp.array([1.0, 2.0, 3.0]), 3)"),
    tests("q2_tests", 3, TEST_IMPORTS, '''
        def powers(v, columns):      # NumPy's Vandermonde matrix, increasing powers, float32
            return np.vander(v, columns, increasing=True).astype(np.float32)

        x_np = np.array([-2.0, 0.0, 1.5, 3.0], np.float32)
        with cases("q2") as t:
            with t.case("poly_features(x, 3): columns 1, x, x**2, x**3",
                        hint="x[:, None] ** jnp.arange(degree + 1) broadcasts to (n, degree + 1)."):
                assert_allclose(poly_features(jnp.array(x_np), 3), powers(x_np, 4))
            with t.case("poly_features_jit(x, 3) gives the same matrix",
                        hint="degree decides a shape: mark it static (Lesson 04, Static arguments)."):
                assert_allclose(poly_features_jit(jnp.array(x_np), 3),
                                powers(x_np, 4))
            ### BEGIN HIDDEN TESTS
            with t.case("poly_features_jit is made with jax.jit"):
                assert hasattr(poly_features_jit, "lower"), (
                    "poly_features_jit should be the result of jax.jit(...)")
            with t.case("poly_features_jit(x, 1): a new static value, a new shape (4, 2)"):
                assert_allclose(poly_features_jit(jnp.array(x_np), 1),
                                powers(x_np, 2))
            with t.case("degree 0 is one column of ones"):
                assert_allclose(poly_features(jnp.array(x_np), 0), np.ones((4, 1), np.float32))
            with t.case("degree 5 on other values"):
                y = np.linspace(-1, 1, 7).astype(np.float32)
                assert_allclose(poly_features(jnp.array(y), 5), powers(y, 6),
                                atol=1e-6)
            ### END HIDDEN TESTS
        '''),
    md("""
        ## Question 3 — when does `jit` trace again? (explain with code, 3 points)

        A jitted function runs its Python body only when it *traces*; calls it has seen before
        (same shapes, same dtypes, same static values) go straight to the compiled program.
        For the function below, predict for each of the six calls, **in order**, whether it
        traces (`True`) or reuses a program traced earlier (`False`). Write your predictions
        as a list of six booleans `predicted_traces`, with a comment saying why for each.

        ```python
        @functools.partial(jax.jit, static_argnums=1)
        def step(x, n):
            return x * n

        step(jnp.ones(3), 2)      # call 1
        step(jnp.zeros(3), 2)     # call 2
        step(jnp.ones(4), 2)      # call 3
        step(jnp.arange(3), 2)    # call 4
        step(jnp.ones(3), 3)      # call 5
        step(jnp.ones(3), 2)      # call 6
        ```

        The test cell counts the traces with a Python side effect in the body (which, as the
        lesson showed, runs only while tracing) and compares.
        """),
    answer("q3_answer", '''
        ### BEGIN SOLUTION
        predicted_traces = [
            True,    # call 1: the first call always traces
            False,   # call 2: other values, same shape float32[3] and same n: reused
            True,    # call 3: a new shape, float32[4]
            True,    # call 4: a new dtype, int32[3]
            True,    # call 5: a new static value, n=3
            False,   # call 6: float32[3] with n=2 was traced in call 1 and kept
        ]
        ### END SOLUTION
        '''),
    tests("q3_tests", 3, TEST_IMPORTS, '''
        traced = []

        @functools.partial(jax.jit, static_argnums=1)
        def step(x, n):
            traced.append(True)          # runs only while tracing
            return x * n

        calls = [(jnp.ones(3), 2), (jnp.zeros(3), 2), (jnp.ones(4), 2), (jnp.arange(3), 2),
                 (jnp.ones(3), 3), (jnp.ones(3), 2)]
        actual = []
        for x, n in calls:
            before = len(traced)
            step(x, n)
            actual.append(len(traced) > before)
        hints = ["", "Only shapes, dtypes and static values matter, not the numbers.",
                 "", "jnp.arange(3) is int32.", "n is static: its value is part of the cache key.",
                 "Compiled programs are kept, not replaced."]
        with cases("q3") as t:
            for i in range(6):
                with t.case(f"call {i + 1}", hint=hints[i]):
                    assert_equal(bool(predicted_traces[i]), actual[i], err_msg=f"call {i + 1} traces?")
            ### BEGIN HIDDEN TESTS
            with t.case("predicted_traces holds exactly six booleans"):
                assert_equal(len(predicted_traces), 6)
                assert all(isinstance(p, bool) for p in predicted_traces), predicted_traces
            ### END HIDDEN TESTS
        '''),
    md("""
        ## Question 4 — a global baked into the program (explain with code, 2 points)

        ```python
        scale = 2.0

        @jax.jit
        def scaled(x):
            return scale * x

        first = scaled(jnp.ones(2))
        scale = 10.0
        second = scaled(jnp.ones(2))
        third = scaled(jnp.ones(3))
        ```

        1. Predict `second` and `third` **without running the code**, and write them as
           Python lists of floats `predicted_second` and `predicted_third`. (Think about
           which calls trace, and what a trace reads.)
        2. Write `scaled_pure(x, scale)`, the pure version: `scale` comes in as an argument,
           so a jitted `scaled_pure` always uses the value it is given.
        """),
    answer("q4_answer", '''
        ### BEGIN SOLUTION
        predicted_second = [2.0, 2.0]          # same shape: the program traced with scale=2.0
        predicted_third = [10.0, 10.0, 10.0]   # a new shape traces again and reads scale=10.0
        ### END SOLUTION

        def scaled_pure(x, scale):
            """scale * x, with everything it uses passed in."""
            ### BEGIN SOLUTION
            return scale * x
            ### END SOLUTION
        '''),
    tests("q4_tests", 2, TEST_IMPORTS, '''
        program = """
        scale = 2.0

        @jax.jit
        def scaled(x):
            return scale * x

        first = scaled(jnp.ones(2))
        scale = 10.0
        second = scaled(jnp.ones(2))
        third = scaled(jnp.ones(3))
        """
        namespace = {"jax": jax, "jnp": jnp}      # run it apart from your own variables
        exec(textwrap.dedent(program), namespace)
        with cases("q4") as t:
            with t.case("predicted_second", hint="The second call does not trace: what did the trace read?"):
                assert_allclose(np.asarray(predicted_second, np.float32), np.asarray(namespace["second"]))
            with t.case("predicted_third", hint="A new shape means a new trace."):
                assert_allclose(np.asarray(predicted_third, np.float32), np.asarray(namespace["third"]))
            ### BEGIN HIDDEN TESTS
            with t.case("jax.jit(scaled_pure) uses the scale it is given, every call"):
                pure = jax.jit(scaled_pure)
                assert_allclose(pure(jnp.ones(2), 2.0), np.full(2, 2.0, np.float32))
                assert_allclose(pure(jnp.ones(2), 10.0), np.full(2, 10.0, np.float32))
            ### END HIDDEN TESTS
        '''),
    md("""
        ## Check your work

        Before you hand in: *Kernel → Restart & Run All*, then `check` each question.
        """),
    demo('check("q1")'),
]
