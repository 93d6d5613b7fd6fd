"""Lesson 04: jit compilation. Cells in order; built by tools/build_lessons.py."""
from build_lessons import code, md

FILENAME = "04_jit_compilation.ipynb"

# nbval skips comparing the output of cells with this tag: timings change from run to run, and the
# generated source follows every improvement of the backend (the cell must still run without error).
IGNORE_OUTPUT = "nbval-ignore-output"

CELLS = [
    md("""
    # Lesson 04 — jit compilation

    **What you will learn**

    - how `jax.jit` turns a Python function into one compiled program, and how to time it fairly;
    - what *tracing* is, and how to read what the tracer saw with `jax.make_jaxpr`;
    - how to look at the code minijax generates, with `jax.jit(f).lower(x).as_text()`;
    - when a jitted function is traced and compiled again, and how the compile log tells you why;
    - static arguments: `static_argnums`, `static_argnames` and `functools.partial(jax.jit, ...)`;
    - the side-effect surprise: a `print` inside a jitted function runs only once;
    - control flow under `jit`: why a Python `if` fails, and `jax.lax.cond` / `jax.lax.fori_loop` instead;
    - when `jit` does *not* make your program faster.

    JIT stands for *just in time*: the function is compiled the first time you call it, for the shapes and
    dtypes you call it with — not ahead of time, and not one operation at a time.
    """),
    code("""
    import functools
    import time

    import minijax as jax
    import minijax.numpy as jnp
    """, tags=["no-output"]),
    md("""
    ## Eager mode, one operation at a time

    Without `jit`, every `jnp` call runs on its own as soon as Python reaches it: it loops over the whole
    array, writes a fresh result array, and returns to Python for the next line. The function below makes
    nine such passes over its input and allocates eight temporary arrays along the way:
    """),
    code("""
    def f(x):
        return jnp.sin(x) * jnp.exp(-x * x) + 0.5 * jnp.tanh(3 * x)

    x = jnp.linspace(-3, 3, 1_000_000)
    f(x)[:4]
    """),
    md("""
    `jax.jit(f)` returns a new function with the same meaning. Calling it the first time *traces* `f`
    (records which operations it performs), compiles that record into one program, and runs it. Later
    calls with arguments of the same shape and dtype go straight to the compiled program.
    (`jit` also works as a decorator — `@jax.jit` above a `def` — which we will use below.)

    ### Timing it fairly

    Two rules for measuring:

    1. **Wait for the result.** The real JAX dispatches work *asynchronously*: a call returns as soon as
       the work is queued, before it is done. `.block_until_ready()` waits until the numbers exist.
       (minijax computes synchronously, but keeping the call makes the code honest on JAX too.)
    2. **Time the first call separately.** It includes tracing and compiling; the later calls do not.

    The numbers printed below are from the machine that built this notebook; yours will differ.
    """),
    code("""
    def median_ms(fn, *args, repeat=20):
        \"\"\"Median wall time of fn(*args) in milliseconds, after one warm-up call.\"\"\"
        fn(*args).block_until_ready()
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn(*args).block_until_ready()
            times.append(time.perf_counter() - start)
        return 1e3 * sorted(times)[len(times) // 2]

    f_jit = jax.jit(f)

    start = time.perf_counter()
    f_jit(x).block_until_ready()               # the first call: tracing + compiling + running
    first_call = 1e3 * (time.perf_counter() - start)

    print(f"eager f(x):             {median_ms(f, x):8.2f} ms")
    print(f"jit, first call:        {first_call:8.2f} ms")
    print(f"jit, every later call:  {median_ms(f_jit, x):8.2f} ms")
    """, tags=[IGNORE_OUTPUT]),
    md("""
    On a typical machine the compiled function runs several times faster than the eager one, because
    it makes **one** pass over the data: for each element it computes the whole expression while the
    value is still in a register, and it never allocates the eight temporaries. Combining operations
    like this is called **fusion**. The first call is the slow one: it pays for tracing and compiling,
    once. (Both JAX and minijax can keep compiled code in a disk cache, so that compiling a program
    that was compiled before — even by another Python process — costs much less.)

    Compiling must not change the answer:
    """),
    code("""
    jnp.allclose(f(x), f_jit(x))
    """),
    md("""

    ## What tracing sees

    To trace, `jit` does not call `f` with your array. It calls it with a **tracer**: a stand-in that
    carries only the *shape* and *dtype* (the *abstract value*), and that records every `jnp` operation
    applied to it. The record is called a **jaxpr** (a "JAX expression"). `jax.make_jaxpr` shows it
    without compiling anything:
    """),
    code("""
    jax.make_jaxpr(f)(jnp.ones(3))
    """),
    md("""
    Read it like a tiny program: the input `a` is a `float32` vector of length 3 (`f32[3]`), each line
    applies one *primitive* operation (`sin`, `neg`, `mul`, ...) and names its result, and `in` lists
    what is returned. Notice what is **missing**: the numbers in `x`, Python's own code, the names of
    your variables. Only the operations on arrays survive. The constants `3.0` and `0.5` became
    `float32` scalars, because Python numbers are weakly typed (Lesson 01).

    ## The generated source

    The jaxpr is what a compiler receives. The real JAX hands it to XLA, and its `lower(...).as_text()`
    shows the intermediate language XLA reads (StableHLO). minijax has its own, much smaller
    compiler: it writes Python source for the [numba](https://numba.pydata.org) compiler, which turns it
    into machine code. The same call shows that source:
    """),
    code("""
    lowered = f_jit.lower(x)
    print(lowered.as_text())
    """, tags=[IGNORE_OUTPUT]),
    md("""
    (If you run this cell on the real JAX, you see StableHLO instead: a different language, the same
    idea.)

    The whole function became **one loop**: the nine operations of the jaxpr are now nine lines in the
    loop body, each working on a single number (`v0[i0]`). That is fusion, written out. Because the array
    is large, the loop is a `prange` — numba spreads its iterations over the CPU cores. Every constant is
    spelled `np.float32(...)`, so that the arithmetic stays in 32 bits, and the `_fm_...` helpers are
    minijax's own fast `float32` versions of `sin`, `exp` and `tanh`. (The backend keeps improving, so
    the source you see may differ in its details from the one stored in this notebook.)

    `lowered.compile()` gives the compiled program itself. It accepts only arguments of the exact shapes
    and dtypes it was compiled for:
    """),
    code("""
    compiled = lowered.compile()
    compiled(x)[:4]
    """),
    md("""
    ## Tracing again: the compile log

    A compiled program is specialised to the shapes and dtypes of the tracers. Call the jitted function
    with a new shape or dtype and it must trace and compile again; call it again with a shape it has
    seen and it reuses the program it kept.

    The flag `jax_log_compiles` logs every compilation, through Python's `logging` module (logger
    `"minijax"`, or `"jax"` on the real JAX). A small handler prints the `Compiling ...` lines here, and
    skips the lines that report how long compiling took, since those would differ on every run:
    """),
    code("""
    import logging

    class PrintCompiles(logging.Handler):
        def emit(self, record):
            message = record.getMessage()
            if message.startswith("Compiling"):
                print("LOG:", message.splitlines()[0])

    compile_log = logging.getLogger("minijax")
    compile_log.addHandler(PrintCompiles())
    compile_log.propagate = False           # show the log only through our handler
    jax.config.update("jax_log_compiles", True)
    """, tags=["no-output"]),
    code("""
    @jax.jit
    def poly(x):
        return 3 * x ** 2 - 2 * x + 1

    for arg in [jnp.ones(3), jnp.arange(3.0), jnp.ones(5), jnp.arange(5), jnp.ones(3)]:
        print(f"call with {arg.dtype}{list(arg.shape)}:", poly(arg))
    """),
    md("""
    Five calls, three compilations:

    1. the first call compiles for `float32[3]`;
    2. `jnp.arange(3.0)` has other *values* but the same shape and dtype: no log line, the program is reused;
    3. a length-5 vector is a new shape: compile again;
    4. `jnp.arange(5)` is `int32`: a new dtype, compile again (and the arithmetic is now integer arithmetic);
    5. back to `float32[3]`: that program was kept, so nothing is compiled.

    So feed a jitted function a *few* shapes many times, not many shapes once each. If your data comes in
    ragged sizes, padding it to a handful of fixed sizes keeps the number of compilations small.

    ## Static arguments

    Sometimes an argument *should* be an ordinary Python value while tracing — for example a count that
    decides how many times a Python loop runs. Traced, it has no value, and `range` cannot use it:
    """),
    code("""
    def repeat_sin(x, n):
        for _ in range(n):
            x = jnp.sin(x)
        return x

    jax.jit(repeat_sin)(x, 3)
    """, tags=["raises-exception"]),
    md("""
    Mark it **static**: `jit` then passes the value itself into the function, and makes it part of the
    cache key. You name static arguments by position (`static_argnums`) or by name (`static_argnames`):
    """),
    code("""
    repeat_sin_jit = jax.jit(repeat_sin, static_argnums=1)

    print(repeat_sin_jit(x, 3)[:3])
    print(repeat_sin_jit(x, 3)[:3])
    print(repeat_sin_jit(x, 4)[:3])
    """),
    md("""
    Each new static value is a new program: `n=3` compiled once, `n=4` compiled again. The tracer saw a
    Python loop run three times, so the jaxpr simply contains three `sin`s — the loop is *unrolled*:
    """),
    code("""
    jax.make_jaxpr(repeat_sin, static_argnums=1)(jnp.ones(2), 3)
    """),
    md("""
    To use the decorator form with options, wrap `jax.jit` in `functools.partial`:
    """),
    code("""
    @functools.partial(jax.jit, static_argnames="mode")
    def normalize(v, mode):
        if mode == "max":                    # fine: `mode` is a Python string here
            return v / jnp.max(jnp.abs(v))
        return v / jnp.sqrt(jnp.sum(v * v))

    v = jnp.array([3.0, -4.0])
    print(normalize(v, mode="max"), normalize(v, mode="l2"))
    """),
    md("""
    Good static arguments take few different values: sizes, flags, names of modes. Static values must be
    hashable (they are dictionary keys in the cache), so pass a tuple rather than a list. Never make a
    big array static: every new array would be a new compilation.
    """),
    code("""
    jax.config.update("jax_log_compiles", False)
    """, tags=["no-output"]),
    md("""
    ## The side-effect surprise

    Python code inside a jitted function runs **while tracing**, and only then. A `print` shows the
    tracer, once; the compiled program knows nothing about it:
    """),
    code("""
    @jax.jit
    def noisy(x):
        print("  Python runs noisy(), x is", x)
        return x * 2

    print("first call:");      y = noisy(jnp.ones(3))
    print("second call:");     y = noisy(jnp.ones(3))
    print("new shape:");       y = noisy(jnp.ones(4))
    """),
    md("""
    The second call printed nothing: it ran the compiled program, which contains only the
    multiplication. The same holds for every other side effect — appending to a list, writing a file,
    reading a global variable. A global is read once, at trace time, and baked into the program as a
    constant:
    """),
    code("""
    scale = 2.0

    @jax.jit
    def scaled(x):
        return scale * x

    print(scaled(jnp.ones(2)))
    scale = 10.0                 # too late: the traced program already holds 2.0
    print(scaled(jnp.ones(2)))
    """),
    md("""
    The rule that keeps you safe: a jitted function should be a *pure function* — everything it uses
    comes in through its arguments, everything it produces goes out through its return value. Pass
    `scale` as an argument and the surprise disappears. (For printing values *during* the run, the real
    JAX offers `jax.debug.print`; minijax does not have it yet.)

    ## Control flow under `jit`

    In Lesson 03 a Python `if` on a traced value failed under `vmap`. Under `jit` it fails the same way:
    the tracer does not know whether `x` is positive, so Python cannot pick a branch.
    """),
    code("""
    @jax.jit
    def bounce(x):
        if x > 0:
            return x
        return -0.5 * x

    bounce(3.0)
    """, tags=["raises-exception"]),
    md("""
    The error names the ways out. For a choice between two values, `jnp.where(x > 0, x, -0.5 * x)`
    computes both and selects. For a choice between two *functions*, use
    `jax.lax.cond(predicate, true_fun, false_fun, operand)`: both branches are traced into the program,
    and at run time only the chosen one executes.
    """),
    code("""
    @jax.jit
    def bounce(x):
        return jax.lax.cond(x > 0, lambda v: v, lambda v: -0.5 * v, x)

    bounce(3.0), bounce(-3.0)
    """),
    md("""
    The jaxpr holds both branches inside one `cond` equation:
    """),
    code("""
    jax.make_jaxpr(bounce)(3.0)
    """),
    md("""
    (`bounce` is already jitted, so its jaxpr is a single call of the jitted program; the `cond` sits
    inside.)

    Loops follow the same logic. A Python `for` loop is unrolled at trace time, as in `repeat_sin`: fine
    for a few steps, but a thousand steps make a thousand-line program that is slow to compile, and the
    count must be static. `jax.lax.fori_loop(lower, upper, body, init)` keeps the loop a loop:
    `body(i, value)` is traced **once**, and the bounds may even be traced values. Here it runs Newton's
    method for square roots, $y \\leftarrow \\tfrac12 (y + a / y)$:
    """),
    code("""
    def newton_sqrt(a, steps):
        return jax.lax.fori_loop(0, steps, lambda i, y: 0.5 * (y + a / y), a)

    newton_sqrt_jit = jax.jit(newton_sqrt)
    newton_sqrt_jit(jnp.array([2.0, 9.0, 100.0]), 10)
    """),
    md("""
    `steps` was *not* marked static, so calling with 20 steps reuses the same compiled program. The jaxpr
    (of the plain function this time) shows a single `while` whose body is the one line of Newton's
    update; the loop counter `i` is part of the state the loop carries:
    """),
    code("""
    jax.make_jaxpr(newton_sqrt)(jnp.array([2.0]), 10)
    """),
    md("""
    Under `jit` the loop itself is compiled. In the generated source below, the loop's condition and
    body are small functions of their own (`loop_cond_...`, `loop_body_...`), and the function that
    calls them contains an ordinary `while` statement, which numba turns into machine code. However
    many steps you ask for, the loop never comes back to Python between them. It does not ask for
    new memory between them either: the body writes the next `(i, y)` into arrays set aside before
    the loop (`dst_...`), and those trade places with a spare set after every step:
    """),
    code("""
    print(newton_sqrt_jit.lower(jnp.array([2.0, 9.0, 100.0]), 10).as_text())
    """, tags=[IGNORE_OUTPUT]),
    md("""
    ## When `jit` does not help

    `jit` removes Python overhead and fuses operations. Where there is little of either, it buys little:

    - **A function you call once.** Compiling costs far more than one eager call saves.
    - **One big operation.** A large matrix product already runs in an optimised library (BLAS) in
      eager mode; there is nothing to fuse, so eager and compiled take about the same time (timed below).
    - **Shapes that keep changing.** Every new shape is a new compilation (see the log above).
    - **Wrapping `jit` again and again.** The cache belongs to the jitted function. Writing
      `jax.jit(...)` *inside* a loop creates a new jitted function every time, and each one compiles.
      Jit once, outside the loop, and call the result many times:
    """),
    code("""
    jax.config.update("jax_log_compiles", True)

    for step in range(3):
        y = jax.jit(lambda v: v * 2 + 1)(jnp.ones(3))      # a new jitted function each step

    print("--- jit once, call three times:")
    double_plus_one = jax.jit(lambda v: v * 2 + 1)
    for step in range(3):
        y = double_plus_one(jnp.ones(3))

    jax.config.update("jax_log_compiles", False)
    """),
    md("""
    And the big matrix product, eager against compiled. Expect the two times to be close (on a busy
    machine, timings of a few milliseconds jump around; run the cell twice):
    """),
    code("""
    A = jnp.ones((500, 500))
    B = jnp.ones((500, 500))
    matmul_jit = jax.jit(jnp.matmul)

    print(f"eager A @ B: {median_ms(jnp.matmul, A, B):6.2f} ms")
    print(f"jit   A @ B: {median_ms(matmul_jit, A, B):6.2f} ms")
    """, tags=[IGNORE_OUTPUT]),
    md("""
    ## Summary

    - `jax.jit(f)` traces `f` with abstract tracers, compiles the resulting jaxpr into one fused program,
      and caches it per shape, dtype and static value; the first call pays for compiling.
    - `jax.make_jaxpr(f)(x)` shows what tracing recorded; `jax.jit(f).lower(x).as_text()` shows what the
      compiler received (minijax: numba source; JAX: StableHLO).
    - `jax_log_compiles` tells you every time a function is compiled, and why.
    - Static arguments are plain Python values during tracing; each new value compiles again.
    - Side effects run only at trace time: keep jitted functions pure.
    - Use `jnp.where`, `jax.lax.cond` and `jax.lax.fori_loop` for control flow that depends on traced
      values.

    **Next:** [Lesson 05 — Vectorization](05_vectorization.ipynb): writing a function for one example and
    letting `jax.vmap` run it on a whole batch.
    """),
]
