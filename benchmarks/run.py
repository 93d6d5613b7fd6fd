"""minijax benchmarks: medians and ratios against NumPy (and JAX when installed), in one run.

    python benchmarks/run.py            # everything
    python benchmarks/run.py --quick    # smaller sizes, fewer repeats

Each row times the same computation three ways in this process. "vs NumPy" is
NumPy's median time divided by minijax's: above 1 means minijax is faster.
Timings are wall-clock medians; outputs are allocated on every call (as in
real use). Nothing here is asserted: see tests/ for correctness.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import minijax  # noqa: E402
import minijax.numpy as jnp  # noqa: E402

try:  # the optional oracle
    import jax
    import jax.numpy as rjnp
    jax.config.update("jax_platform_name", "cpu")
except ImportError:  # pragma: no cover
    jax = rjnp = None


def median_time(fn, repeats, min_time=0.2):
    fn()  # warm up (compiles)
    times = []
    deadline = time.perf_counter() + min_time
    while len(times) < repeats or time.perf_counter() < deadline:
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        if len(times) > 10 * repeats:
            break
    return statistics.median(times)


def block(x):
    return x.block_until_ready() if hasattr(x, "block_until_ready") else x


ROWS = []


def row(name, numpy_fn, minijax_fn, jax_fn=None, repeats=7):
    t_np = median_time(numpy_fn, repeats)
    t_mj = median_time(lambda: block(minijax_fn()), repeats)
    t_jax = median_time(lambda: block(jax_fn()), repeats) if (jax_fn and jax) else None
    ROWS.append((name, t_np, t_mj, t_jax))
    print(_format(ROWS[-1]), flush=True)


def _fmt_time(t):
    if t is None:
        return "-"
    return f"{t * 1e6:9.1f} us" if t < 1e-3 else f"{t * 1e3:9.2f} ms"


def _format(r):
    name, t_np, t_mj, t_jax = r
    vs_np = f"{t_np / t_mj:6.2f}x"
    vs_jax = f"{t_jax / t_mj:6.2f}x" if t_jax else "     -"
    return f"{name:38s} {_fmt_time(t_np):>12s} {_fmt_time(t_mj):>12s} {_fmt_time(t_jax):>12s} " \
           f"{vs_np:>9s} {vs_jax:>9s}"


def fused_elementwise(sizes):
    def expr(m):
        return lambda x: m.sin(x) * m.exp(-x * x) + 0.5 * m.tanh(3 * x)

    def poly(m):
        return lambda x: 3 * x * x - 2 * x + 1
    for size in sizes:
        x_np = np.linspace(-3, 3, size, dtype=np.float32)
        x_mj = jnp.asarray(x_np)
        for label, make in (("transcendental", expr), ("polynomial 3x^2-2x+1", poly)):
            f_mj = minijax.jit(make(jnp))
            f_jax = jax.jit(make(rjnp)) if jax else None
            x_jax = rjnp.asarray(x_np) if jax else None
            row(f"{label} n={size:.0e}", lambda: make(np)(x_np), lambda: f_mj(x_mj),
                (lambda: f_jax(x_jax)) if jax else None)


def logsumexp_rows(n):
    def lse(m):
        def f(x):
            mx = m.max(x, axis=1, keepdims=True)
            return m.log(m.sum(m.exp(x - mx), axis=1)) + mx[:, 0]
        return f
    x_np = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    f_mj = minijax.jit(lse(jnp))
    f_jax = jax.jit(lse(rjnp)) if jax else None
    x_mj = jnp.asarray(x_np)
    x_jax = rjnp.asarray(x_np) if jax else None   # both libraries get arrays they already hold
    row(f"row logsumexp {n}x{n}", lambda: lse(np)(x_np), lambda: f_mj(x_mj),
        (lambda: f_jax(x_jax)) if jax else None)


def mlp_forward(n):
    rng = np.random.default_rng(1)
    x, w1, w2 = (rng.standard_normal((n, n)).astype(np.float32) / np.sqrt(n) for _ in range(3))

    def f(m):
        return lambda x, w1, w2: m.tanh(x @ w1) @ w2
    f_mj = minijax.jit(f(jnp))
    args_mj = [jnp.asarray(a) for a in (x, w1, w2)]
    f_jax = jax.jit(f(rjnp)) if jax else None
    args_jax = [rjnp.asarray(a) for a in (x, w1, w2)] if jax else None
    row(f"tanh(X@W1)@W2 {n}^2", lambda: f(np)(x, w1, w2), lambda: f_mj(*args_mj),
        (lambda: f_jax(*args_jax)) if jax else None)


def mlp_step(batch=128, sizes=(784, 256, 256, 10)):
    rng = np.random.default_rng(2)
    params = [(rng.standard_normal((a, b)).astype(np.float32) * np.sqrt(2 / a),
               np.zeros(b, np.float32)) for a, b in zip(sizes[:-1], sizes[1:])]
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    labels = rng.integers(0, sizes[-1], batch)
    y = np.eye(sizes[-1], dtype=np.float32)[labels]

    def loss(m):
        def f(params, x, y):
            h = x
            for w, b in params[:-1]:
                h = m.maximum(h @ w + b, 0.0)
            w, b = params[-1]
            logits = h @ w + b
            logits = logits - m.max(logits, axis=1, keepdims=True)
            logp = logits - m.log(m.sum(m.exp(logits), axis=1, keepdims=True))
            return -m.mean(m.sum(logp * y, axis=1))
        return f

    def numpy_step(params, x, y):  # hand-written backprop
        acts, h = [x], x
        for w, b in params[:-1]:
            h = np.maximum(h @ w + b, 0.0)
            acts.append(h)
        w, b = params[-1]
        logits = h @ w + b
        logits = logits - logits.max(1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(1, keepdims=True)
        loss = -np.mean(np.sum(np.log(p) * y, 1))
        g = (p - y) / x.shape[0]
        grads = []
        for i in range(len(params) - 1, -1, -1):
            w, _ = params[i]
            grads.append((acts[i].T @ g, g.sum(0)))
            if i:
                g = (g @ w.T) * (acts[i] > 0)
        return loss, grads[::-1]

    p_mj = [(jnp.asarray(w), jnp.asarray(b)) for w, b in params]
    step_mj = minijax.jit(minijax.value_and_grad(loss(jnp)))
    x_mj, y_mj = jnp.asarray(x), jnp.asarray(y)
    step_jax = jax.jit(jax.value_and_grad(loss(rjnp))) if jax else None
    if jax:
        p_jax = [(rjnp.asarray(w), rjnp.asarray(b)) for w, b in params]
        x_jax, y_jax = rjnp.asarray(x), rjnp.asarray(y)
    row("MLP 784-256-256-10 b128 value_and_grad", lambda: numpy_step(params, x, y),
        lambda: step_mj(p_mj, x_mj, y_mj)[0],
        (lambda: step_jax(p_jax, x_jax, y_jax)[0]) if jax else None)


def per_example_grads(batch=256, dim=64):
    rng = np.random.default_rng(3)
    w = rng.standard_normal(dim).astype(np.float32) / 8
    xs = rng.standard_normal((batch, dim)).astype(np.float32)
    ys = rng.standard_normal(batch).astype(np.float32)

    def loss(m):
        return lambda w, x, y: (m.tanh(m.dot(x, w)) - y) ** 2

    def numpy_loop():
        out = []
        for x, y in zip(xs, ys):
            t = np.tanh(x @ w)
            out.append(2 * (t - y) * (1 - t * t) * x)
        return np.stack(out)
    f_mj = minijax.jit(minijax.vmap(minijax.grad(loss(jnp)), in_axes=(None, 0, 0)))
    args_mj = [jnp.asarray(a) for a in (w, xs, ys)]
    f_jax = jax.jit(jax.vmap(jax.grad(loss(rjnp)), in_axes=(None, 0, 0))) if jax else None
    args_jax = [rjnp.asarray(a) for a in (w, xs, ys)] if jax else None
    row(f"per-example grads b{batch} (vs NumPy loop)", numpy_loop, lambda: f_mj(*args_mj),
        (lambda: f_jax(*args_jax)) if jax else None)


def fori_loop_newton(steps=1000):
    """A loop of many tiny steps: the cost is per trip, so where the loop runs is what counts."""
    a_np = np.array([2.0, 9.0, 100.0], np.float32)

    def numpy_loop():
        y = a_np
        for _ in range(steps):
            y = np.float32(0.5) * (y + a_np / y)
        return y

    def newton(m):
        def f(a):
            return m.lax.fori_loop(0, steps, lambda i, y: 0.5 * (y + a / y), a)
        return f
    f_mj = minijax.jit(newton(minijax))
    a_mj = jnp.asarray(a_np)
    f_jax = jax.jit(newton(jax)) if jax else None
    a_jax = rjnp.asarray(a_np) if jax else None
    row(f"fori_loop {steps} steps (vs NumPy loop)", numpy_loop, lambda: f_mj(a_mj),
        (lambda: f_jax(a_jax)) if jax else None)


def eager_dispatch():
    x_np = np.ones(16, np.float32)
    x_mj = jnp.asarray(x_np)
    x_jax = rjnp.asarray(x_np) if jax else None
    row("eager small op (x + x), per call", lambda: x_np + x_np, lambda: x_mj + x_mj,
        (lambda: x_jax + x_jax) if jax else None, repeats=2000)


def _fresh_processes(script, runs, **env):
    """Run ``script`` in ``runs`` new processes; the numbers each printed.

    Bytecode writing is left on (some shells turn it off), so minijax's modules load from
    ``.pyc`` files as an installed JAX's do."""
    env = dict(os.environ, **env)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    results = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        results.append([float(v) for v in done.stdout.split()])
    return results


FIRST_RESULT = textwrap.dedent("""
    import time
    t0 = time.perf_counter()
    import {jax} as jax, {jax}.numpy as jnp
    x = jnp.ones(8)
    t1 = time.perf_counter()
    jax.jit(lambda x: jnp.sin(x) * 2.0 + x * x)(x).block_until_ready()
    print(f"{{t1 - t0:.4f}} {{time.perf_counter() - t1:.4f}}")
""")


# A derivative program like lesson 05's, compiled cold (``jax`` and ``jnp`` are either library).
PER_EXAMPLE_GRADS = textwrap.dedent("""
    def loss(params, x, y):
        p = 1.0 / (1.0 + jnp.exp(-(jnp.dot(x, params["w"]) + params["b"])))
        return -(y * jnp.log(p) + (1.0 - y) * jnp.log(1.0 - p))
    params = {"w": jnp.ones(2) * 0.5, "b": jnp.zeros(())}
    xs, ys = jnp.ones((512, 2)), jnp.ones(512)
    grads = jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0, 0)))(params, xs, ys)
    jax.block_until_ready(grads)
""")


def compile_times():
    """Compile cost and start-up, each measured in fresh processes (best of three).

    A new process pays: the import; for a program compiled before, loading its machine code
    (from the native cache, without numba or LLVM, or -- with MINIJAX_NATIVE_CACHE=0 -- through
    numba, whose start-up alone is ~0.45 s); for a new program, numba's start-up and the
    compile. JAX's cold compile is its first jit in an already started process."""
    script = textwrap.dedent("""
        import time
        import minijax as jax, minijax.numpy as jnp
        t0 = time.perf_counter()
        from minijax._src.backends import cpu_helpers   # numba start-up (once per process)
        jax.jit(lambda x: x + 1.0)(jnp.ones(2))         # ... including its first compile/load
        t1 = time.perf_counter()
        jax.jit(lambda x: jnp.sin(x) * 2.0 + x * x)(jnp.ones(8)).block_until_ready()
        t2 = time.perf_counter()
    """) + PER_EXAMPLE_GRADS + textwrap.dedent("""
        print(f"{t1 - t0:.4f} {t2 - t1:.4f} {time.perf_counter() - t2:.4f}")
    """)
    with tempfile.TemporaryDirectory() as cache:
        (startup, cold, cold_grads), = _fresh_processes(script, 1, MINIJAX_CACHE_DIR=cache)
    first_result = FIRST_RESULT.format(jax="minijax")
    with tempfile.TemporaryDirectory() as cache:
        _fresh_processes(first_result, 1, MINIJAX_CACHE_DIR=cache)      # fills both caches
        native = _fresh_processes(first_result, 3, MINIJAX_CACHE_DIR=cache)
        via_numba = _fresh_processes(first_result, 3, MINIJAX_CACHE_DIR=cache,
                                     MINIJAX_NATIVE_CACHE="0")
    best = min(native, key=sum)
    print(f"{'numba start-up, once per process':38s} {startup * 1e3:9.1f} ms")
    print(f"{'compile: cold, after start-up':38s} {cold * 1e3:9.1f} ms")
    print(f"{'compile: cold, per-example grads':38s} {cold_grads * 1e3:9.1f} ms"
          "   (jit(vmap(grad(logistic loss))), as in lesson 05)")
    print(f"{'new process: import minijax':38s} {best[0] * 1e3:9.1f} ms")
    print(f"{'new process: cached program ready':38s} {best[1] * 1e3:9.1f} ms"
          "   (native cache: no numba, no LLVM)")
    print(f"{'  ... through numba instead':38s} {min(r[1] for r in via_numba) * 1e3:9.1f} ms"
          "   (MINIJAX_NATIVE_CACHE=0: numba start-up + its cache)")
    print(f"{'new process to first result':38s} {sum(best) * 1e3:9.1f} ms")
    if jax:
        jscript = textwrap.dedent("""
            import time, jax, jax.numpy as jnp
            x = jnp.ones(8); t = time.perf_counter()
            jax.jit(lambda x: jnp.sin(x) * 2.0 + x * x)(x).block_until_ready()
            t2 = time.perf_counter()
        """) + PER_EXAMPLE_GRADS + textwrap.dedent("""
            print(f"{t2 - t:.4f} {time.perf_counter() - t2:.4f}")
        """)
        jax_cold, jax_cold_grads = min(_fresh_processes(jscript, 3))
        jax_fresh = min(_fresh_processes(FIRST_RESULT.format(jax="jax"), 3), key=sum)
        print(f"{'JAX: cold compile, started process':38s} {jax_cold * 1e3:9.1f} ms")
        print(f"{'JAX: cold compile, per-example grads':38s} {jax_cold_grads * 1e3:9.1f} ms")
        print(f"{'JAX: new process: import jax':38s} {jax_fresh[0] * 1e3:9.1f} ms")
        print(f"{'JAX: new process: first jit':38s} {jax_fresh[1] * 1e3:9.1f} ms")
        print(f"{'JAX: new process to first result':38s} {sum(jax_fresh) * 1e3:9.1f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    args = parser.parse_args()
    print(f"{'benchmark':38s} {'NumPy':>12s} {'minijax':>12s} {'JAX':>12s} {'vs NumPy':>9s} "
          f"{'vs JAX':>9s}")
    fused_elementwise((1_000, 100_000) if args.quick else (1_000, 100_000, 10_000_000))
    logsumexp_rows(500 if args.quick else 2000)
    mlp_forward(256 if args.quick else 1024)
    mlp_step()
    per_example_grads()
    fori_loop_newton()
    eager_dispatch()
    compile_times()


if __name__ == "__main__":
    main()
