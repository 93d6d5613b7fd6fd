"""Chapter 06 exercises: random numbers (source of solutions/06_random_numbers.ipynb)."""
from _build import answer, demo, locked, md, tests

FILENAME = "06_random_numbers.ipynb"

SETUP = '''
import numpy as np
import minijax as jax
import minijax.numpy as jnp
from minijax import random
from minijax.course import check
from minijax.course.testing import assert_allclose, assert_equal, cases

check.chapter = "06"   # check("q1") runs the visible tests of question 1 of this chapter
'''

TEST_IMPORTS = '''
import warnings
import numpy as np, minijax as jax, minijax.numpy as jnp
from minijax import random
from minijax.course.testing import assert_allclose, assert_equal, cases
'''

CELLS = [
    md("""
        # Exercises 06 — Random numbers

        Three questions on [Lesson 06](../lessons/06_random_numbers.ipynb): splitting keys,
        the key-reuse mistake, and reproducible randomness under `jit`. Replace every
        `raise NotImplementedError()` with your answer; `check("q1")` gives a verdict on the
        visible tests at any time.

        The rule of the lesson holds everywhere: a key is used **once** — by one sampler, or
        by one `split` / `fold_in` — and never again.
        """),
    locked("setup", SETUP),
    md("""
        ## Question 1 — initialise a network, one key per layer (write the function, 3 points)

        A multilayer perceptron with layer sizes `sizes = [n0, n1, ..., nL]` has `L` layers;
        layer `i` maps `sizes[i]` inputs to `sizes[i + 1]` outputs. Write `init_mlp(key, sizes)`
        returning a list of `L` dicts `{"w": ..., "b": ...}`, exactly as follows:

        - split the key once into one subkey per layer: `keys = random.split(key, L)`;
        - layer `i`: `"w"` is `random.normal(keys[i], (sizes[i], sizes[i + 1]))` times
          `jnp.sqrt(2.0 / sizes[i])` (He initialisation), and `"b"` is `jnp.zeros(sizes[i + 1])`.
        """),
    answer("q1_answer", '''
        def init_mlp(key, sizes):
            """A list of {"w", "b"} dicts, one per layer, each layer with its own subkey."""
            ### BEGIN SOLUTION
            keys = random.split(key, len(sizes) - 1)
            params = []
            for k, n_in, n_out in zip(keys, sizes[:-1], sizes[1:]):
                w = random.normal(k, (n_in, n_out)) * jnp.sqrt(2.0 / n_in)
                params.append({"w": w, "b": jnp.zeros(n_out)})
            return params
            ### END SOLUTION
        '''),
    demo("jax.tree_util.tree_map(jnp.shape, init_mlp(random.PRNGKey(0), [3, 4, 2]))"),
    tests("q1_tests", 3, TEST_IMPORTS, '''
        def recipe(key, sizes):      # the specification above, line by line
            keys = random.split(key, len(sizes) - 1)
            return [np.asarray(random.normal(keys[i], (sizes[i], sizes[i + 1])))
                    * np.float32(np.sqrt(2.0 / sizes[i])) for i in range(len(sizes) - 1)]

        with cases("q1") as t:
            with t.case("[3, 4, 2]: two layers, w of shapes (3, 4) and (4, 2), b of (4,) and (2,)"):
                params = init_mlp(random.PRNGKey(0), [3, 4, 2])
                assert_equal(len(params), 2)
                assert_equal([tuple(p["w"].shape) for p in params], [(3, 4), (4, 2)])
                assert_equal([tuple(p["b"].shape) for p in params], [(4,), (2,)])
            with t.case("the weights follow the recipe (split once, keys[i] for layer i)",
                        hint="keys = random.split(key, len(sizes) - 1), then keys[i] for layer i."):
                params = init_mlp(random.PRNGKey(0), [3, 4, 2])
                for p, w in zip(params, recipe(random.PRNGKey(0), [3, 4, 2])):
                    assert_allclose(p["w"], w, rtol=1e-6)
            ### BEGIN HIDDEN TESTS
            with t.case("biases are float32 zeros"):
                params = init_mlp(random.PRNGKey(1), [2, 3, 5])
                for p, n in zip(params, [3, 5]):
                    assert_allclose(p["b"], np.zeros(n, np.float32))
            with t.case("layers of equal shape get different numbers (no key reused)"):
                params = init_mlp(random.PRNGKey(2), [4, 4, 4, 4])
                ws = [np.asarray(p["w"]) for p in params]
                for i in range(3):
                    for j in range(i + 1, 3):
                        assert not np.allclose(ws[i], ws[j]), f"layers {i} and {j} are equal"
            with t.case("the same key gives the same network; another key, another network"):
                a = init_mlp(random.PRNGKey(3), [5, 6])
                b = init_mlp(random.PRNGKey(3), [5, 6])
                c = init_mlp(random.PRNGKey(4), [5, 6])
                assert_allclose(a[0]["w"], np.asarray(b[0]["w"]))
                assert not np.allclose(np.asarray(a[0]["w"]), np.asarray(c[0]["w"]))
            with t.case("a wide layer has standard deviation close to sqrt(2 / n_in)"):
                w = np.asarray(init_mlp(random.PRNGKey(5), [50, 400])[0]["w"])
                assert abs(w.std() / np.sqrt(2.0 / 50) - 1) < 0.05, w.std()
                assert abs(w.mean()) < 0.01, w.mean()
            with t.case("four layers follow the recipe"):
                params = init_mlp(random.PRNGKey(6), [2, 3, 3, 3, 1])
                for p, w in zip(params, recipe(random.PRNGKey(6), [2, 3, 3, 3, 1])):
                    assert_allclose(p["w"], w, rtol=1e-6)
            ### END HIDDEN TESTS
        '''),
    md("""
        ## Question 2 — fix the key-reuse bug (explain with code, 3 points)

        This function is meant to return a signal and an independent, ten times smaller noise:

        ```python
        def noisy_signal_buggy(key, n):
            signal = random.normal(key, (n,))
            noise = 0.1 * random.normal(key, (n,))
            return signal, noise
        ```

        1. *Explain with code*: call the buggy version with `random.PRNGKey(0)` and `n = 1000`,
           and store the correlation coefficient of its signal and noise
           (`np.corrcoef(signal, noise)[0, 1]`, a Python float) in `buggy_correlation`. In a
           comment, say why it has that value.
        2. Write `noisy_signal(key, n)` that returns `(signal, noise)` with the same
           distributions (standard normal; normal with standard deviation 0.1) but
           independent: split the key first and give each sampler its own subkey. Do not use
           `key` itself after splitting it.
        """),
    answer("q2_answer", '''
        def noisy_signal_buggy(key, n):
            signal = random.normal(key, (n,))
            noise = 0.1 * random.normal(key, (n,))
            return signal, noise

        ### BEGIN SOLUTION
        signal, noise = noisy_signal_buggy(random.PRNGKey(0), 1000)
        # 1.0: the same key gives the same numbers, so noise is exactly 0.1 * signal
        buggy_correlation = float(np.corrcoef(signal, noise)[0, 1])
        ### END SOLUTION

        def noisy_signal(key, n):
            """(signal, noise): independent standard normal and 0.1 * standard normal draws."""
            ### BEGIN SOLUTION
            k_signal, k_noise = random.split(key)
            return random.normal(k_signal, (n,)), 0.1 * random.normal(k_noise, (n,))
            ### END SOLUTION
        '''),
    demo("round(buggy_correlation, 6)"),
    tests("q2_tests", 3, TEST_IMPORTS, '''
        with cases("q2") as t:
            with t.case("buggy_correlation of the buggy version",
                        hint="Same key, same numbers: how is noise related to signal?"):
                assert_allclose(float(buggy_correlation), 1.0, atol=1e-4)
            with t.case("noisy_signal returns two arrays of shape (n,)"):
                s, z = noisy_signal(random.PRNGKey(0), 2000)
                assert_equal((tuple(s.shape), tuple(z.shape)), ((2000,), (2000,)))
            with t.case("signal and noise are uncorrelated", hint="random.split(key) first."):
                s, z = noisy_signal(random.PRNGKey(0), 2000)
                r = float(np.corrcoef(np.asarray(s), np.asarray(z))[0, 1])
                assert abs(r) < 0.1, f"correlation {r:.3f}: the two draws are not independent"
            ### BEGIN HIDDEN TESTS
            with t.case("standard deviations close to 1 and 0.1"):
                s, z = noisy_signal(random.PRNGKey(11), 4000)
                assert abs(float(np.std(s)) - 1.0) < 0.05, float(np.std(s))
                assert abs(float(np.std(z)) - 0.1) < 0.005, float(np.std(z))
            with t.case("reproducible: the same key gives the same signal and noise"):
                s1, z1 = noisy_signal(random.PRNGKey(12), 50)
                s2, z2 = noisy_signal(random.PRNGKey(12), 50)
                assert_allclose(s1, np.asarray(s2))
                assert_allclose(z1, np.asarray(z2))
            with t.case("no key is used twice (minijax's key-reuse checker stays quiet)"):
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    try:
                        jax.config.update("minijax_check_key_reuse", True)
                    except AttributeError:      # the real JAX has no such flag
                        pass
                    try:
                        noisy_signal(random.PRNGKey(20240613), 10)
                    finally:
                        if hasattr(jax.config, "minijax_check_key_reuse"):
                            jax.config.update("minijax_check_key_reuse", False)
                reused = [str(w.message).splitlines()[0] for w in caught
                          if w.category.__name__ == "KeyReuseWarning"]
                assert not reused, reused[0]
            ### END HIDDEN TESTS
        '''),
    md("""
        ## Question 3 — dropout, reproducible under `jit` (write the function, 3 points)

        *Dropout* zeroes each entry of `x` with probability `rate` during training, and divides
        the entries it keeps by `1 - rate` (so that the expected value stays `x`).

        1. Write `dropout(key, x, rate)`: draw a mask with `random.bernoulli` (each entry kept
           with probability `1 - rate`) and return `x / (1 - rate)` where the mask keeps and `0`
           elsewhere. It must work under `jax.jit` with the key as an argument: a new key gives
           a new mask, the same key the same mask.
        2. Write `dropout_steps(key, x, rate, num_steps)`: the dropout of `x` at each of
           `num_steps` training steps, stacked into an array of shape `(num_steps, *x.shape)`.
           Step `i` uses the key `random.fold_in(key, i)`, so that a step's mask depends only
           on the key and the step number. (A Python loop over the steps is fine here, or
           `jax.vmap` over the step keys.)
        """),
    answer("q3_answer", '''
        def dropout(key, x, rate):
            """Zero each entry with probability rate; scale the others by 1 / (1 - rate)."""
            ### BEGIN SOLUTION
            keep = random.bernoulli(key, 1.0 - rate, x.shape)
            return jnp.where(keep, x / (1.0 - rate), 0.0)
            ### END SOLUTION

        def dropout_steps(key, x, rate, num_steps):
            """dropout(fold_in(key, i), x, rate) for i = 0 .. num_steps - 1, stacked."""
            ### BEGIN SOLUTION
            return jnp.stack([dropout(random.fold_in(key, i), x, rate) for i in range(num_steps)])
            ### END SOLUTION
        '''),
    demo("dropout(random.PRNGKey(0), jnp.ones(8), 0.5)"),
    tests("q3_tests", 3, TEST_IMPORTS, '''
        x = jnp.ones(4000)
        with cases("q3") as t:
            with t.case("every entry is either 0 or x / (1 - rate)"):
                out = np.asarray(dropout(random.PRNGKey(0), x, 0.25))
                assert out.shape == (4000,), out.shape
                ok = np.isclose(out, 0.0) | np.isclose(out, 1 / 0.75)
                assert ok.all(), f"unexpected values, e.g. {out[~ok][:3]}"
            with t.case("about a quarter of the entries are dropped with rate 0.25",
                        hint="random.bernoulli(key, 1 - rate, x.shape) is True where an entry is kept."):
                out = np.asarray(dropout(random.PRNGKey(1), x, 0.25))
                dropped = float(np.mean(out == 0))
                assert abs(dropped - 0.25) < 0.03, f"{dropped:.3f} of the entries were dropped"
            with t.case("the same key gives the same mask, another key another mask"):
                a = np.asarray(dropout(random.PRNGKey(2), x, 0.5))
                b = np.asarray(dropout(random.PRNGKey(2), x, 0.5))
                c = np.asarray(dropout(random.PRNGKey(3), x, 0.5))
                assert_allclose(a, b)
                assert not np.array_equal(a, c), "two keys gave the same mask"
            ### BEGIN HIDDEN TESTS
            with t.case("under jax.jit: the same result as without, and new keys give new masks"):
                dropout_jit = jax.jit(dropout)
                k1, k2 = random.split(random.PRNGKey(4))
                a = np.asarray(dropout_jit(k1, x, 0.5))
                assert_allclose(a, np.asarray(dropout(k1, x, 0.5)))
                assert not np.array_equal(a, np.asarray(dropout_jit(k2, x, 0.5)))
            with t.case("rate 0 keeps x unchanged"):
                v = np.linspace(-1, 1, 10).astype(np.float32)
                assert_allclose(dropout(random.PRNGKey(5), jnp.array(v), 0.0), v)
            with t.case("dropout_steps: shape (num_steps, *x.shape)"):
                out = dropout_steps(random.PRNGKey(6), jnp.ones((2, 3)), 0.5, 4)
                assert_equal(tuple(out.shape), (4, 2, 3))
            with t.case("dropout_steps: step i uses fold_in(key, i)",
                        hint="dropout(random.fold_in(key, i), x, rate) for each step i."):
                key = random.PRNGKey(7)
                out = np.asarray(dropout_steps(key, jnp.ones(16), 0.5, 3))
                for i in range(3):
                    assert_allclose(out[i], np.asarray(dropout(random.fold_in(key, i), jnp.ones(16), 0.5)),
                                    err_msg=f"step {i}")
                assert not np.array_equal(out[0], out[1]), "steps 0 and 1 got the same mask"
            ### END HIDDEN TESTS
        '''),
    md("""
        ## Check your work

        Before you hand in: *Kernel → Restart & Run All*, then `check` each question.
        """),
    demo('check("q2")'),
]
