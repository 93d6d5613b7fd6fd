"""Lesson 06: Random numbers. Cells in order; built by tools/build_lessons.py."""
from build_lessons import code, md

FILENAME = "06_random_numbers.ipynb"

CELLS = [
    md("""
    # Lesson 06 — Random numbers

    **What you will learn**

    - how NumPy's random numbers depend on a hidden global state, and why that clashes with `jit` and `vmap`;
    - JAX's alternative: an explicit **key** that you pass to every sampler;
    - how to make new keys with `random.split` and `random.fold_in`, pictured as a tree;
    - drawing uniform, normal and categorical samples, with histograms;
    - reproducibility: the same key gives the same numbers, whatever order you call things in;
    - the most common mistake — using a key twice — and a checker that catches it;
    - sampling inside `vmap` and `jit`.

    The tutorial lists "better random numbers" among JAX's advantages. They take a little getting used
    to, and this lesson is about exactly that.
    """),
    code("""
    import numpy as np
    import matplotlib.pyplot as plt
    import minijax as jax
    import minijax.numpy as jnp
    from minijax import random

    import course_style             # the course's figure style (lessons/course_style.py)
    course_style.use()
    """, tags=["no-output"]),
    md("""
    ## NumPy: a hidden, global state

    NumPy's classic random functions draw from one generator hidden inside the `np.random` module.
    Seeding sets its state; every draw reads the state and moves it on. So the same call gives new
    numbers each time:
    """),
    code("""
    np.random.seed(0)
    print(np.random.random(3))
    print(np.random.random(3))      # the same call, other numbers: the hidden state moved on
    """),
    md("""
    That is convenient, but it means a function that draws random numbers is not a *function* of its
    arguments: its result depends on every draw anyone made before it. Swap two lines of a program and the
    numbers change:
    """),
    code("""
    def measurement():
        return np.random.normal()

    def noise():
        return np.random.uniform()

    np.random.seed(0)
    a = measurement()
    b = noise()

    np.random.seed(0)
    b_swapped = noise()             # the same two calls, in the other order
    a_swapped = measurement()

    print(a, a_swapped)
    """),
    md("""
    Lesson 04 showed the other problem: under `jit`, Python code runs once, while tracing. A NumPy draw
    inside a jitted function happens at that moment, and its result is baked into the program as a
    constant — every later call "draws" the same number:
    """),
    code("""
    @jax.jit
    def add_noise(x):
        return x + np.random.normal()     # runs once, at trace time

    print(add_noise(jnp.zeros(2)))
    print(add_noise(jnp.zeros(2)))
    """),
    md("""
    And with `vmap`, or with work split across many devices, "the next number from the global state" has
    no sensible meaning at all: which example goes first?

    ## JAX: explicit keys

    JAX removes the hidden state. A random **key** is a small array that *is* the state, and you pass it
    to every sampler. A sampler is a pure function of its key: it never changes the key, and the same key
    always gives the same numbers.
    """),
    code("""
    key = random.PRNGKey(0)
    key
    """),
    md("""
    The key is two unsigned 32-bit integers made from the seed. Draw with it:
    """),
    code("""
    print(random.uniform(key, (3,)))
    print(random.uniform(key, (3,)))     # the same key: the same numbers
    """),
    md("""
    These are, bit for bit, the numbers the real JAX draws for `PRNGKey(0)`: minijax implements the
    same generator (*Threefry*, a counter-based generator built from a cipher), so every seed, key and
    sample agrees with JAX.

    ## New keys: `split` and `fold_in`

    To get *different* numbers you need a different key. `random.split(key)` turns one key into two new,
    statistically independent keys (or into `num` keys, with a second argument). The customary pattern
    keeps one of them to split again later and hands the other to a sampler:
    """),
    code("""
    key = random.PRNGKey(0)
    key, subkey = random.split(key)
    print("new key:", key)
    print("subkey: ", subkey)
    print(random.normal(subkey, (3,)))
    """),
    code("""
    random.split(random.PRNGKey(0), 4)    # four keys at once, one per row
    """),
    md("""
    `random.fold_in(key, data)` mixes an integer into a key. It is the tool when the new key should be
    tied to a *name* — a step number, a layer index, the id of a worker — rather than to a position in
    a sequence of splits:
    """),
    code("""
    base = random.PRNGKey(0)
    for step in range(3):
        print(step, random.fold_in(base, step))
    """),
    md("""
    Look closely: these are the rows of `random.split(base, 4)` above. That is no accident. In JAX's
    current scheme, the `i`-th key of a split and `fold_in(key, i)` are both "the key's cipher applied to
    the number `i`". It is one more reason for the rule of this lesson: once a key has been split *or*
    folded, do not use it for anything else.
    """),
    md("""
    Keys form a **tree**: every key descends from the seed through a path of splits and fold-ins, and
    keys on different paths are independent. The picture labels each key with its first word, in
    hexadecimal:
    """),
    code("""
    root = random.PRNGKey(0)
    left, right = random.split(root)
    left_a, left_b = random.split(left)
    tree = {
        "PRNGKey(0)": (root, (3.0, 2), None),
        "left": (left, (1.5, 1), "PRNGKey(0)"),
        "right": (right, (4.5, 1), "PRNGKey(0)"),
        "left_a": (left_a, (0.75, 0), "left"),
        "left_b": (left_b, (2.25, 0), "left"),
    }
    for i in range(3):
        tree[f"fold_in({i})"] = (random.fold_in(right, i), (3.5 + i, 0), "right")

    fig, ax = plt.subplots()
    for name, (k, (x, y), parent) in tree.items():
        if parent is not None:
            px, py = tree[parent][1]
            ax.plot([px, x], [py, y], color="gray", zorder=0)
            if not name.startswith("fold_in"):      # (the fold_in nodes carry their own label)
                ax.text((px + x) / 2, (py + y) / 2, "split", fontsize=7, color="gray", ha="center")
        ax.text(x, y, f"{name}\\n{int(k[0]):08x}", ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle="round", facecolor="lightyellow", edgecolor="gray"))
    ax.set_xlim(0, 6); ax.set_ylim(-0.5, 2.5)
    ax.axis("off")
    plt.show()
    """),
    md("""
    ## Samplers and their histograms

    Every sampler takes a key first, then a shape (and its own parameters). Ten thousand draws of each
    of three kinds, each with its own subkey:
    """),
    code("""
    k_uniform, k_normal, k_cat = random.split(random.PRNGKey(42), 3)
    u = random.uniform(k_uniform, (10_000,))                    # uniform on [0, 1)
    n = random.normal(k_normal, (10_000,))                      # mean 0, standard deviation 1
    probs = jnp.array([0.1, 0.2, 0.3, 0.4])
    c = random.categorical(k_cat, jnp.log(probs), shape=(10_000,))   # takes log-probabilities

    print(f"uniform:     min {u.min():.4f}  max {u.max():.4f}  mean {u.mean():.3f}")
    print(f"normal:      mean {n.mean():+.3f}  std {n.std():.3f}")
    freqs = jnp.mean(c[:, None] == jnp.arange(4), axis=0)       # fraction of draws equal to 0, 1, 2, 3
    print(f"categorical: frequencies {freqs}")
    """),
    code("""
    fig, axes = plt.subplots(1, 3, figsize=(7, 2.4))
    axes[0].hist(u, bins=20, density=True, color="tab:blue")
    axes[0].set_title("uniform")
    grid = jnp.linspace(-4, 4, 100)
    axes[1].hist(n, bins=40, density=True, color="tab:orange")
    axes[1].plot(grid, jnp.exp(-grid ** 2 / 2) / jnp.sqrt(2 * jnp.pi), color="black", lw=1)
    axes[1].set_title("normal")
    axes[2].bar(range(4), freqs, color="tab:green", label="drawn")
    axes[2].plot(range(4), probs, "k_", markersize=20, label="probs")
    axes[2].set_title("categorical")
    axes[2].legend()
    plt.show()
    """),
    md("""
    The black curve is the normal density and the black marks are the requested probabilities: the
    samples follow them. Many more samplers exist with the same calling convention — `randint`,
    `bernoulli`, `choice`, `permutation`, `exponential`, `gumbel`, `truncated_normal`,
    `multivariate_normal`, ...

    ## Reproducibility

    Because a sampler is a pure function of its key, a program that derives all its keys from one seed
    gives the same numbers on every run — and, unlike NumPy's global state, **the order of the calls does
    not matter**. Here is the swapped-lines experiment again, with keys:
    """),
    code("""
    k_measure, k_noise = random.split(random.PRNGKey(0))

    a = random.normal(k_measure)
    b = random.uniform(k_noise)

    b_swapped = random.uniform(k_noise)     # the same two calls, in the other order
    a_swapped = random.normal(k_measure)

    print(a, a_swapped, bool(a == a_swapped))
    """),
    md("""
    Each result depends on its own key, and on nothing else: not on what was drawn before, not on
    whether it runs inside `jit`, not on the machine.

    ## The key-reuse mistake

    The price of explicit keys is that *you* must never use one key twice. Passing the same key to two
    samplers does not give two independent random vectors. Here a uniform and a normal sample drawn with
    the same key are almost perfectly correlated — they come from the same random bits:
    """),
    code("""
    key = random.PRNGKey(7)
    u = random.uniform(key, (1000,))
    n = random.normal(key, (1000,))          # mistake: the same key again

    print(f"correlation: {np.corrcoef(u, n)[0, 1]:.3f}")
    fig, ax = plt.subplots()
    ax.scatter(u, n, s=3)
    ax.set_xlabel("uniform(key)"); ax.set_ylabel("normal(key)")
    plt.show()
    """),
    md("""
    Independent samples would fill the rectangle as a shapeless cloud; these lie on one curve. Nothing
    crashed, and no number looks wrong on its own — which is why this bug is easy to miss.

    ### A checker for key reuse (minijax only)

    minijax can watch for this mistake. The flag `minijax_check_key_reuse` makes every sampler (and
    `split` and `fold_in`, which also *use up* their key) remember the keys it consumed, and warn with
    a `KeyReuseWarning` when a key comes back. This flag does not exist in the real JAX, so the cell
    catches the `AttributeError` there. (JAX has an experimental checker of its own, switched on with
    `jax_debug_key_reuse`: it works with typed keys from `random.key`, see below, and raises an error
    instead of warning.)
    """),
    code("""
    import warnings

    try:
        jax.config.update("minijax_check_key_reuse", True)
    except AttributeError:
        print("this library has no minijax_check_key_reuse flag")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        key = random.PRNGKey(7)
        u = random.uniform(key, (1000,))
        n = random.normal(key, (1000,))      # the same mistake again

    for warning in caught:
        print(f"{warning.category.__name__}: {warning.message}")
    """),
    md("""
    The warning names the key and both samplers, and says how to fix it. Split first, and give each
    sampler its own subkey — the checker stays quiet:
    """),
    code("""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        key = random.PRNGKey(8)
        key, k_u, k_n = random.split(key, 3)
        u = random.uniform(k_u, (1000,))
        n = random.normal(k_n, (1000,))

    print(len(caught), "warnings;", f"correlation: {np.corrcoef(u, n)[0, 1]:+.3f}")
    """),
    md("""
    In a loop, split at every step, carrying the new key forward:
    """),
    code("""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        key = random.PRNGKey(9)
        for step in range(3):
            key, subkey = random.split(key)
            print(step, random.normal(subkey, (2,)))

    print(len(caught), "warnings")
    try:
        jax.config.update("minijax_check_key_reuse", False)
    except AttributeError:
        pass
    """),
    md("""
    ## Random numbers under `vmap` and `jit`

    Keys are ordinary arrays, so the transformations of the previous lessons apply. `vmap` over a batch of
    keys gives one independent sample per key — here three samples of two numbers each:
    """),
    code("""
    keys = random.split(random.PRNGKey(0), 3)
    jax.vmap(lambda k: random.normal(k, (2,)))(keys)
    """),
    md("""
    And a jitted sampler is fast and still a pure function of its key: unlike the NumPy draw above, it
    gives new numbers for a new key and the same numbers for the same key. (The first call compiles the
    whole generator into the program; on minijax that takes a second or two, the later calls are quick.)
    """),
    code("""
    @jax.jit
    def add_noise(x, key):
        return x + random.normal(key, x.shape)

    k1, k2 = random.split(random.PRNGKey(1))
    print(add_noise(jnp.zeros(2), k1))
    print(add_noise(jnp.zeros(2), k2))
    print(add_noise(jnp.zeros(2), k1))
    """),
    md("""
    ## Typed keys

    Newer JAX code makes keys with `random.key(seed)` instead of `random.PRNGKey(seed)`. The result is a
    *typed* key: a scalar whose dtype says "key", with the same two words inside (`random.key_data`
    shows them). It works with every sampler, and it protects you from treating a key as a number:
    """),
    code("""
    typed = random.key(0)
    print(random.key_data(typed))
    print(random.uniform(typed, (3,)))       # the same numbers as with PRNGKey(0)
    """),
    code("""
    typed + 1
    """, tags=["raises-exception"]),
    md("""
    ## Summary

    - NumPy's global random state makes results depend on call history, and does not survive `jit`.
    - JAX passes the state explicitly: `key = random.PRNGKey(seed)` (or `random.key(seed)`), and every
      sampler takes a key first. Same key, same numbers — in any order, under `jit` and `vmap`.
    - Make new keys with `random.split` (a sequence of fresh keys) and `random.fold_in` (a key tied to an
      integer); keys form a tree rooted at the seed.
    - Never use a key twice: split first. minijax's `minijax_check_key_reuse` flag warns when you do.

    **Next:** Lesson 07 — running the same programs on accelerators (GPU and TPU).
    """),
]
