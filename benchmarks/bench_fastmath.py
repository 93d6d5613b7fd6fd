"""Fast transcendentals: NumPy ufuncs vs numba loops calling libm vs minijax's fastmath.

Run:  python benchmarks/bench_fastmath.py [--repeats N]

Times ``sin(x) * exp(-x*x) + 0.5 * tanh(3*x)`` on float32 vectors of 1e3, 1e5 and
1e7 elements, output allocated per call (as a jitted function would; two extra rows
reuse one output buffer, to show what the page faults of a fresh 40 MB cost), and prints
median times and the speed-up over NumPy (>1 means faster than NumPy), all
measured in one run. Then it checks that LLVM vectorised the fastmath loop (packed
``...ps`` instructions on ``ymm``/``zmm`` registers, no calls to libm in the loop)
and prints the measured max ulp error of each function on a dense sweep.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numba  # noqa: E402

# The low-overhead threading layer; must be chosen before the first parallel compile.
if os.environ.get("NUMBA_THREADING_LAYER") is None:
    numba.config.THREADING_LAYER = "workqueue"

from minijax._src.backends import fastmath  # noqa: E402

F = fastmath.get_functions()
fm_sin, fm_exp, fm_tanh = F["sin", "float32"], F["exp", "float32"], F["tanh", "float32"]
HALF, THREE = np.float32(0.5), np.float32(3.0)


def numpy_expr(x):
    return np.sin(x) * np.exp(-x * x) + HALF * np.tanh(THREE * x)


def make_loop(sin, exp, tanh, parallel):
    @numba.njit(parallel=parallel, error_model="numpy")
    def kernel(x):
        out = np.empty_like(x)
        for i in numba.prange(x.shape[0]):
            v = x[i]
            out[i] = sin(v) * exp(-v * v) + HALF * tanh(THREE * v)
        return out
    return kernel


def make_loop_into(sin, exp, tanh, parallel):
    """The same loop writing into a caller-owned buffer: no allocation, no page faults."""
    @numba.njit(parallel=parallel, error_model="numpy")
    def kernel(x, out):
        for i in numba.prange(x.shape[0]):
            v = x[i]
            out[i] = sin(v) * exp(-v * v) + HALF * tanh(THREE * v)
        return out
    return kernel


@numba.njit(inline="always")
def libm_sin(v):
    return np.sin(v)


@numba.njit(inline="always")
def libm_exp(v):
    return np.exp(v)


@numba.njit(inline="always")
def libm_tanh(v):
    return np.tanh(v)


VARIANTS = {
    "numba loop, libm (serial)": make_loop(libm_sin, libm_exp, libm_tanh, False),
    "numba loop, libm (prange)": make_loop(libm_sin, libm_exp, libm_tanh, True),
    "numba loop, fastmath (serial)": make_loop(fm_sin, fm_exp, fm_tanh, False),
    "numba loop, fastmath (prange)": make_loop(fm_sin, fm_exp, fm_tanh, True),
}
# Output buffer reused across calls (what a runtime that recycles freed buffers gets).
VARIANTS_INTO = {
    "  same, serial, output reused": make_loop_into(fm_sin, fm_exp, fm_tanh, False),
    "  same, prange, output reused": make_loop_into(fm_sin, fm_exp, fm_tanh, True),
}


def median_time(fn, x, repeats):
    fn(x)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def fmt_time(t):
    return f"{t * 1e6:9.1f} us" if t < 1e-3 else f"{t * 1e3:9.2f} ms"


def check_vectorised():
    kernel = VARIANTS["numba loop, fastmath (serial)"]
    asm = kernel.inspect_asm(kernel.signatures[0])
    packed = len(re.findall(r"\bv(?:fmadd|fnmadd|fmsub|fnmsub)\w*ps\b|\bvmulps\b", asm))
    wide = len(re.findall(r"%[yz]mm", asm))
    calls = sorted(set(re.findall(r"call\w*\s+\*?(\S+)", asm)))
    libm = [c for c in calls if re.search(r"sin|cos|exp|tanh", c)]
    return packed, wide, libm


def ulp_table():
    """Max ulp error of every function on a dense sweep (reference: long double)."""
    ranges = {"exp": (-104, 89), "expm1": (-30, 89), "log": (1e-30, 1e30), "log1p": (-0.999, 1e6),
              "tanh": (-10, 10), "logistic": (-100, 100), "sin": (-1e4, 1e4), "cos": (-1e4, 1e4)}
    refs = {"exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p, "tanh": np.tanh,
            "logistic": lambda v: 1 / (1 + np.exp(-v)), "sin": np.sin, "cos": np.cos}
    rows = []
    for (name, dtype), fn in sorted(F.items()):
        lo, hi = ranges[name]
        x = (np.geomspace(lo, hi, 200_001) if name == "log" else np.linspace(lo, hi, 200_001))
        x = x.astype(dtype)

        @numba.njit
        def apply(x, fn=fn):
            out = np.empty_like(x)
            for i in range(x.shape[0]):
                out[i] = fn(x[i])
            return out
        y = apply(x)
        with np.errstate(all="ignore"):
            ref = refs[name](x.astype(np.longdouble))
            ulp = np.spacing(np.abs(ref.astype(dtype))).astype(np.longdouble)
            err = np.abs(y - ref) / ulp
            err[np.isinf(y) & (y == ref.astype(dtype))] = 0
        rows.append((name, dtype, float(np.nanmax(err)), fastmath.ULP_BOUNDS[name, dtype]))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"numba {numba.__version__}, NumPy {np.__version__}, threads {numba.get_num_threads()}, "
          f"threading layer {numba.config.THREADING_LAYER}, cpus {os.cpu_count()}, "
          f"load average {load:.1f} (timings are only comparable within one run)")
    print("expression: sin(x) * exp(-x*x) + 0.5 * tanh(3*x), float32, output allocated per call\n")
    rng = np.random.default_rng(0)
    header = f"{'n':>9}  {'variant':32} {'median':>12}  {'vs NumPy':>8}"
    print(header)
    print("-" * len(header))
    for n in (10**3, 10**5, 10**7):
        x = rng.uniform(-4, 4, n).astype(np.float32)
        expected = numpy_expr(x)
        repeats = args.repeats if n < 10**7 else max(5, args.repeats // 3)
        t_np = median_time(numpy_expr, x, repeats)
        print(f"{n:>9.0e}  {'NumPy ufuncs':32} {fmt_time(t_np)}  {1.0:7.2f}x")
        for name, fn in VARIANTS.items():
            got = fn(x)
            assert got.dtype == np.float32 and np.allclose(got, expected, rtol=1e-5, atol=1e-6), name
            t = median_time(fn, x, repeats)
            print(f"{'':>9}  {name:32} {fmt_time(t)}  {t_np / t:7.2f}x")
        out = np.empty_like(x)
        for name, kernel in VARIANTS_INTO.items():
            t = median_time(lambda v: kernel(v, out), x, repeats)
            print(f"{'':>9}  {name:32} {fmt_time(t)}  {t_np / t:7.2f}x")
    packed, wide, libm = check_vectorised()
    print(f"\nfastmath serial loop: {packed} packed float32 mul/FMA instructions, "
          f"{wide} ymm/zmm operands, libm calls: {libm or 'none'} -> "
          + ("VECTORISED" if packed and wide and not libm else "NOT vectorised"))
    print("\nmax error (ulp) on a dense sweep, vs long double:")
    for name, dtype, err, bound in ulp_table():
        print(f"  {name:9} {dtype:8} {err:6.2f}   (documented bound {bound})")


if __name__ == "__main__":
    main()
