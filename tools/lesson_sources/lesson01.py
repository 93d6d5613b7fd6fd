"""Lesson 01: JAX's NumPy. Cells in order; built by tools/build_lessons.py."""
from build_lessons import code, md

FILENAME = "01_jax_numpy.ipynb"

CELLS = [
    md("""
    # Lesson 01 — JAX's NumPy

    **What you will learn**

    - what JAX offers on top of NumPy, and what *minijax* (the library this course builds) is;
    - how to import it, so that the very same code also runs on the real JAX;
    - how to create arrays with `jnp.ones`, `jnp.zeros` and `jnp.arange`, and how to read their printout;
    - the default dtypes (`float32`, `int32`, `bool`), what *weakly typed* Python scalars are, and how to switch on 64-bit mode;
    - which device your arrays live on, and how to plot them with matplotlib.

    JAX is a numerical computing library from Google DeepMind. If you know NumPy, you can already read most JAX
    code, because JAX deliberately copies the NumPy API. What JAX adds on top is a set of *transformations*
    of your Python functions:

    - just-in-time compilation (`jit`),
    - automatic differentiation (`grad` and friends),
    - automatic vectorisation (`vmap`),
    - running the same program on CPUs, GPUs and TPUs,
    - a reproducible, explicit random-number system.

    This course uses **minijax**, a small re-implementation of JAX written for reading. Every code cell in these
    lessons also runs on the real JAX: swap `import minijax as jax` for `import jax` (and
    `minijax.numpy` for `jax.numpy`) and you get the same results. This is only a first taste; later lessons
    open up each transformation.

    We start with the import. By convention the package is bound to the name `jax`:
    """),
    code("""
    import minijax as jax
    """, tags=["no-output"]),
    md("""
    ## JAX's NumPy

    The NumPy-like part of JAX is its own module, `jax.numpy`. The customary short name is `jnp`, next to the
    familiar `np` for NumPy itself:
    """),
    code("""
    import minijax.numpy as jnp
    """, tags=["no-output"]),
    md("""
    Because the API mirrors NumPy's, you do not need to learn new function names. A row of ten ones:
    """),
    code("""
    a = jnp.ones((1,10))
    a
    """),
    md("""
    Read the printout closely: it says `Array(...)`, not `array(...)`, and it ends with `dtype=float32`.
    NumPy would have given you `float64`. JAX works in 32-bit precision unless you ask otherwise
    (more on that below), because 32-bit numbers are what accelerators are fast at.

    On a machine without a GPU or TPU, the real JAX may print a warning that it fell back to the CPU.
    Choosing the CPU explicitly silences it. minijax understands the same setting (it runs on the CPU anyway):
    """),
    code("""
    jax.config.update('jax_platform_name','cpu')
    """, tags=["no-output"]),
    md("""
    More familiar creation functions work just as in NumPy. A 2×3 block of zeros:
    """),
    code("""
    b = jnp.zeros((2,3))
    b
    """),
    md("""
    And the odd numbers below 20, with start, stop and step exactly as in Python's `range`:
    """),
    code("""
    c = jnp.arange(1,20,2)
    c
    """),
    md("""
    This time the dtype is `int32` (NumPy would say `int64`): integers are 32-bit by default too.

    ---

    ## Going further

    ### The attributes you know from NumPy

    Shape, dtype, number of dimensions and number of elements read the same as in NumPy:
    """),
    code("""
    a.shape, a.dtype, a.ndim, a.size
    """),
    md("""
    Methods such as `sum`, `mean`, `max`, `reshape` and `astype` are there too. Each one returns a **new**
    array; none of them changes `c`:
    """),
    code("""
    print(c.sum(), c.mean(), c.max())
    print(c.reshape(2, 5))
    print(c.astype(jnp.float32))
    """),
    md("""
    To hand a value back to plain Python, use `.item()` (for a single element) or `.tolist()`:
    """),
    code("""
    c[0].item(), c[:3].tolist()
    """),
    md("""
    ### Default dtypes

    Whatever Python gives you, JAX stores it in 32 bits: integers become `int32`, floats `float32`,
    and booleans stay `bool`.
    """),
    code("""
    print(jnp.array([1, 2, 3]).dtype)
    print(jnp.array([1.5, 2.5]).dtype)
    print(jnp.array([True, False]).dtype)
    """),
    md("""
    ### Weakly typed Python scalars

    What should `float32 array * 2.0` be? The Python float `2.0` is a 64-bit number, so NumPy's old rules
    would have promoted the result to `float64`. JAX instead treats a bare Python number as *weakly typed*:
    it has a kind (integer, float, complex) but no fixed width, and it adopts the width of the array it meets.
    Your `float32` data stays `float32`:
    """),
    code("""
    x = jnp.ones(3)
    x * 2.0
    """),
    md("""
    An array made directly from a Python scalar remembers that it is weak, and its printout says so:
    """),
    code("""
    jnp.array(2.0)
    """),
    md("""
    Weak types matter when kinds mix: an integer array plus a Python float becomes a float array of the default
    width (still weak, since half of it came from Python):
    """),
    code("""
    jnp.arange(3) + 2.5
    """),
    md("""
    ### 64-bit mode

    If you *ask* for `float64` while 64-bit mode is off, JAX gives you `float32` and warns you.
    Here we catch the warning to print its message:
    """),
    code("""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        z = jnp.zeros(3, dtype=jnp.float64)
    print(z.dtype)
    print(caught[0].message)
    """),
    md("""
    The flag `jax_enable_x64` switches the defaults to 64 bits. Set it at the very start of a program
    (or with the environment variable `JAX_ENABLE_X64=1`) and leave it alone afterwards; we switch it
    back off at once so that the rest of the course sees the usual defaults:
    """),
    code("""
    jax.config.update("jax_enable_x64", True)
    print(jnp.zeros(3, dtype=jnp.float64).dtype, jnp.arange(3).dtype, jnp.array(1.0).dtype)
    jax.config.update("jax_enable_x64", False)
    print(jnp.arange(3).dtype)
    """),
    md("""
    ### Devices

    Every array lives on a *device*. On this machine there is just the CPU:
    """),
    code("""
    jax.devices(), jax.default_backend()
    """),
    code("""
    c.devices()
    """),
    md("""
    `jax.device_put` moves data onto the default device. Given NumPy arrays (or a list, tuple or dict of them)
    it returns JAX arrays in the same structure:
    """),
    code("""
    import numpy as np

    jax.device_put({"weights": np.ones(2), "bias": np.zeros(1)})
    """),
    md("""
    Notice `float64` NumPy data arriving as `float32`: the same 32-bit default at work.

    ### A small plot

    matplotlib accepts JAX arrays wherever it accepts NumPy arrays. (The two `course_style` lines set
    this course's figure style — size, fonts, grid — once, for every plot that follows.)
    """),
    code("""
    import matplotlib.pyplot as plt
    import course_style             # the course's figure style (lessons/course_style.py)
    course_style.use()

    t = jnp.linspace(0, 2 * jnp.pi, 100)
    fig, ax = plt.subplots()
    ax.plot(t, jnp.sin(t), label="sin")
    ax.plot(t, jnp.cos(t), label="cos")
    ax.set_xlabel("t")
    ax.legend()
    plt.show()
    """),
    md("""
    ## Summary

    - `import minijax as jax` and `import minijax.numpy as jnp` give you a NumPy-shaped API;
    - arrays print as `Array(..., dtype=...)` and default to 32-bit dtypes;
    - Python scalars are weakly typed and do not widen your arrays;
    - `jax_enable_x64` turns on 64-bit defaults.

    **Next:** [Lesson 02 — Differences from NumPy](02_differences_from_numpy.ipynb): what you *cannot* do with
    a JAX array that you can do with a NumPy array, and why.
    """),
]
