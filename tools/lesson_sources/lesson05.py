"""Lesson 05: Vectorization with vmap. Cells in order; built by tools/build_lessons.py."""
from build_lessons import code, md

FILENAME = "05_vectorization.ipynb"

IGNORE_OUTPUT = "nbval-ignore-output"   # timings change from run to run: nbval skips comparing them

CELLS = [
    md("""
    # Lesson 05 — Vectorization

    **What you will learn**

    - how to go from a function for *one* example, via a Python loop, to `jax.vmap` running it on a batch;
    - what `in_axes` and `out_axes` mean, with a picture and a table of shapes;
    - batched matrix-vector products, shared arguments (`None`) and nested `vmap`;
    - per-example gradients of a small model: `jax.vmap(jax.grad(loss))`;
    - what `vmap` does to the jaxpr (there is no loop in it), and how much faster than a loop it runs;
    - the error you get when the batch sizes do not match.

    Writing code for a single example is easy; writing it for a batch means thinking about an extra axis
    in every line. `vmap` ("vectorizing map") lets you write the first and run the second.
    """),
    code("""
    import time

    import matplotlib.pyplot as plt
    import minijax as jax
    import minijax.numpy as jnp
    from minijax import random

    import course_style             # the course's figure style (lessons/course_style.py)
    course_style.use()
    """, tags=["no-output"]),
    md("""
    ## One example at a time

    Our model for this lesson is a single artificial *neuron*. It scores a point $x \\in \\mathbb{R}^2$ with
    weights $w$ and a bias $b$, and squashes the score into a probability with the logistic sigmoid:
    $p = \\sigma(w \\cdot x + b)$, where $\\sigma(z) = 1 / (1 + e^{-z})$. Written for **one** point:
    """),
    code("""
    def neuron(w, b, x):
        z = jnp.dot(w, x) + b
        return 1 / (1 + jnp.exp(-z))

    w = jnp.array([1.0, 1.0])
    b = jnp.float32(0.0)
    neuron(w, b, jnp.array([0.5, -2.0]))
    """),
    md("""
    Now forty points: two clouds of twenty, one around $(1.5, 1.5)$ labelled 1 and one around
    $(-1.5, -1.5)$ labelled 0. (The random numbers come from explicit *keys*; Lesson 06 explains them.)
    One label is wrong on purpose — we will find it later with per-example gradients.
    """),
    code("""
    key_ones, key_zeros = random.split(random.PRNGKey(0))
    xs = jnp.concatenate([random.normal(key_ones, (20, 2)) + 1.5,
                          random.normal(key_zeros, (20, 2)) - 1.5])
    ys = jnp.concatenate([jnp.ones(20), jnp.zeros(20)])
    ys = ys.at[3].set(0.0)                 # the mislabelled point
    xs.shape, ys.shape
    """),
    md("""
    The obvious way to score all of them is a Python loop, then `jnp.stack` to put the answers back into
    one array:
    """),
    code("""
    probs_loop = jnp.stack([neuron(w, b, x) for x in xs])
    probs_loop[:5]
    """),
    md("""
    It works, but Python calls `neuron` forty times, and every call runs its handful of tiny array
    operations one by one. The fast way is to rewrite the function for a whole batch — here
    `xs @ w + b` instead of `jnp.dot(w, x) + b` — which means rethinking every line with the extra axis
    in mind. For a real model that is tedious and easy to get wrong.

    ## `jax.vmap`

    `jax.vmap(neuron, in_axes=(None, None, 0))` does the rewriting for you. `in_axes` has one entry per
    argument: `None` means "the same value for every example" (`w` and `b`), `0` means "this argument
    carries the batch along axis 0" (`xs`):
    """),
    code("""
    neuron_batch = jax.vmap(neuron, in_axes=(None, None, 0))
    probs = neuron_batch(w, b, xs)
    print(probs.shape)
    print(jnp.allclose(probs, probs_loop))
    """),
    md("""
    Same numbers, no loop. `neuron` itself was not changed: it still believes it works on a single point.

    ## `in_axes` and `out_axes`, pictured

    `in_axes` says **which axis of an argument to slice** into examples. Each slice is what one
    conceptual call of the function sees. On a 4×3 array, `in_axes=0` hands out rows, `in_axes=1`
    hands out columns, and `None` gives every call the whole array:
    """),
    code("""
    def draw_slices(ax, in_axes, shape=(4, 3)):
        colors = plt.cm.tab10.colors
        for i in range(shape[0]):
            for j in range(shape[1]):
                call = {0: i, 1: j, None: 0}[in_axes]
                ax.add_patch(plt.Rectangle((j, -i), 0.92, -0.92, color=colors[call], alpha=0.75))
                ax.text(j + 0.46, -i - 0.46, f"call {call}" if in_axes is not None else "all",
                        ha="center", va="center", fontsize=7)
        ax.set_xlim(-0.1, shape[1]); ax.set_ylim(-shape[0], 0.1)
        ax.set_aspect("equal"); ax.axis("off")
        ax.set_title(f"in_axes={in_axes}")

    fig, axes = plt.subplots(1, 3, figsize=(6, 2.4))
    for ax, in_axes in zip(axes, [0, 1, None]):
        draw_slices(ax, in_axes)
    plt.show()
    """),
    md("""
    `out_axes` is the mirror image: it says **where the batch axis goes in the result**. Here is a table
    for a function that maps a vector of length 3 to a vector of length 2 (multiplication by a fixed
    2×3 matrix), applied to five examples laid out in different ways:
    """),
    code("""
    M = jnp.arange(6.0).reshape(2, 3)
    def apply_M(v):                  # one example: (3,) -> (2,)
        return M @ v

    batch_rows = jnp.ones((5, 3))    # five examples as rows
    batch_cols = jnp.ones((3, 5))    # five examples as columns

    print(f"{'in_axes':>8} {'input':>8} {'out_axes':>9} {'output':>8}")
    for in_axes, data, out_axes in [(0, batch_rows, 0), (1, batch_cols, 0),
                                    (0, batch_rows, 1), (-1, batch_cols, -1)]:
        out = jax.vmap(apply_M, in_axes=in_axes, out_axes=out_axes)(data)
        print(f"{in_axes:>8} {str(data.shape):>8} {out_axes:>9} {str(out.shape):>8}")
    """),
    md("""
    Negative axes count from the end, as in NumPy. A single integer (as here) applies to every argument;
    a tuple gives one entry per argument, and an entry may itself be a dict or tuple matching the
    structure of a pytree argument.

    ## Batched matrix-vector products

    A common chore: you have a *batch* of matrices and a batch of vectors, and want each matrix times
    its own vector. With `vmap`, write the product for one pair and map both arguments along axis 0:
    """),
    code("""
    k1, k2 = random.split(random.PRNGKey(1))
    Ms = random.normal(k1, (5, 2, 3))       # five 2x3 matrices
    vs = random.normal(k2, (5, 3))          # five vectors of length 3

    batched_matvec = jax.vmap(jnp.dot)      # in_axes=0 for both arguments (the default)
    out = batched_matvec(Ms, vs)
    print(out.shape)
    print(jnp.allclose(out, jnp.einsum("bij,bj->bi", Ms, vs), atol=1e-6))
    """),
    md("""
    (The `einsum` line is the hand-written batched version; compare how easy each is to read.) With
    `None`, one matrix is shared by all the vectors:
    """),
    code("""
    jax.vmap(jnp.dot, in_axes=(None, 0))(Ms[0], vs).shape
    """),
    md("""
    And `vmap` of a `vmap` maps over two axes: every matrix times every vector, a 5×5 grid of results.
    The inner `vmap` runs over the vectors, the outer one over the matrices:
    """),
    code("""
    all_pairs = jax.vmap(jax.vmap(jnp.dot, in_axes=(None, 0)), in_axes=(0, None))
    grid = all_pairs(Ms, vs)
    print(grid.shape)
    print(jnp.allclose(grid[3, 1], Ms[3] @ vs[1]))
    """),
    md("""
    ## Per-example gradients

    Training computes the gradient of the **mean** loss over a batch. Sometimes you want the gradient of
    **each example's** loss instead: to clip each one (as in differentially private training), to see
    which examples pull hardest on the model, or to spot bad data. Composing `grad` and `vmap` gives
    them all in one call.

    The loss of one example is the binary cross-entropy of our neuron:
    """),
    code("""
    def loss(params, x, y):
        p = neuron(params["w"], params["b"], x)
        return -(y * jnp.log(p) + (1 - y) * jnp.log(1 - p))

    params = {"w": w, "b": b}
    per_example_grads = jax.vmap(jax.grad(loss), in_axes=(None, 0, 0))(params, xs, ys)
    jax.tree_util.tree_map(jnp.shape, per_example_grads)
    """),
    md("""
    The gradient tree has the structure of `params`, with a leading axis of 40: one gradient per example.
    Their mean is exactly the ordinary gradient of the mean loss:
    """),
    code("""
    def mean_loss(params, xs, ys):
        return jnp.mean(jax.vmap(loss, in_axes=(None, 0, 0))(params, xs, ys))

    full = jax.grad(mean_loss)(params, xs, ys)
    print(jnp.allclose(per_example_grads["w"].mean(axis=0), full["w"], atol=1e-6))
    print(jnp.allclose(per_example_grads["b"].mean(axis=0), full["b"], atol=1e-6))
    """),
    md("""
    The size of each example's gradient says how much that example disagrees with the model. The
    mislabelled point (number 3) stands out at once:
    """),
    code("""
    norms = jnp.sqrt(jnp.sum(per_example_grads["w"] ** 2, axis=1) + per_example_grads["b"] ** 2)
    worst = int(jnp.argmax(norms))
    print("largest gradient: example", worst, "label", ys[worst], "at", xs[worst])

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(6, 2.6))
    ax1.bar(range(len(norms)), norms, color=["crimson" if i == worst else "gray" for i in range(len(norms))])
    ax1.set_xlabel("example"); ax1.set_title("gradient norm")
    ax2.scatter(xs[:, 0], xs[:, 1], c=ys, cmap="coolwarm", s=15)
    ax2.scatter(xs[worst, 0], xs[worst, 1], s=120, facecolors="none", edgecolors="crimson")
    ax2.set_title("data (colour = label)")
    plt.show()
    """),
    md("""
    ## What `vmap` does to the program

    `vmap` is a transformation of the traced program, like `grad`. Compare the jaxpr of the neuron for
    one point with the jaxpr of its batched version:
    """),
    code("""
    one_x = jnp.array([0.5, -2.0])
    jax.make_jaxpr(neuron)(w, b, one_x)
    """),
    code("""
    jax.make_jaxpr(neuron_batch)(w, b, xs)
    """),
    md("""
    The same operations, in the same order — but on bigger arrays, and with **no loop**. Each
    primitive has a *batching rule* that says how to run it on a stacked batch: the vector-vector
    `dot_general` became a matrix-vector contraction over axis 1 of `xs` (`f32[40]` out instead of
    `f32[]`), and the elementwise operations (`add`, `neg`, `exp`, `div`) simply work on the longer
    vector. The unbatched arguments `w` and `b` stay as they were. This is why `vmap` is fast: the batch
    goes through each operation in one call, instead of through Python once per example.

    ## Timing: loop against `vmap`

    Let us time per-example gradients for 512 examples, both ways, each compiled with `jit` (Lesson 04)
    so that the comparison is fair: the loop calls a compiled gradient once per example; the `vmap`
    version is a single compiled call for the whole batch. (The cell takes a moment, nearly all of it in
    the loop: each label appears first, and its time when the measurement is done.)
    """),
    code("""
    big_xs = random.normal(random.PRNGKey(2), (512, 2))
    big_ys = (big_xs[:, 0] + big_xs[:, 1] > 0).astype(jnp.float32)

    grad_one = jax.jit(jax.grad(loss))
    grad_all = jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0, 0)))

    def with_loop(params, xs, ys):
        return [grad_one(params, x, y) for x, y in zip(xs, ys)]

    def median_ms(fn, *args, repeat=3):
        jax.block_until_ready(fn(*args))                 # warm-up: compiles
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            jax.block_until_ready(fn(*args))
            times.append(time.perf_counter() - start)
        return 1e3 * sorted(times)[len(times) // 2]

    # each label is printed before its measurement, so you can watch the slow one run
    print("Python loop of grad: ", end="", flush=True)
    print(f"{median_ms(with_loop, params, big_xs, big_ys):9.3f} ms")
    print("vmap of grad:        ", end="", flush=True)
    print(f"{median_ms(grad_all, params, big_xs, big_ys):9.3f} ms")
    """, tags=[IGNORE_OUTPUT]),
    md("""
    On a typical machine the `vmap` version is faster by **two orders of magnitude or more**. The
    loop's time is almost all overhead — slicing out each example and entering the compiled function
    512 times from Python — while the arithmetic per example is tiny. The vectorized version pays that
    overhead once. Both compute the same numbers:
    """),
    code("""
    looped = with_loop(params, big_xs, big_ys)
    print(jnp.allclose(jnp.stack([g["w"] for g in looped]), grad_all(params, big_xs, big_ys)["w"],
                       atol=1e-6))
    """),
    md("""
    ## When the batch sizes disagree

    Every mapped argument must have the same size along its mapped axis; `vmap` cannot pair 3 matrices
    with 4 vectors. The error lists the size it found for each argument:
    """),
    code("""
    jax.vmap(jnp.dot)(jnp.ones((3, 2, 2)), jnp.ones((4, 2)))
    """, tags=["raises-exception"]),
    md("""
    ## Summary

    - Write the function for one example; `jax.vmap(f, in_axes=..., out_axes=...)` runs it on a batch.
    - `in_axes`: per argument, the axis that holds the batch, or `None` for an argument shared by every
      example; `out_axes`: where the batch axis goes in the result.
    - `vmap` composes: `vmap(vmap(f))` maps over two axes, `vmap(grad(loss))` gives per-example
      gradients, and `jit(vmap(...))` compiles the batched program.
    - `vmap` rewrites each primitive with its batching rule; the jaxpr has the same operations on bigger
      arrays and no loop, which is why it beats a Python loop by a wide margin.

    **Next:** [Lesson 06 — Random numbers](06_random_numbers.ipynb): why JAX asks you to pass random
    keys around explicitly, and how to do it right.
    """),
]
