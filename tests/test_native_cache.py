"""The native cache: compiled programs reloaded in a new process without importing numba.

Oracles: the same program run through numba (first process) and NumPy; numba's own
dispatcher for the steps saved by hand.
"""
import ctypes
import os
import pickle
import platform
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest

import minijax as jax
import minijax.numpy as jnp
from minijax._src.backends import cpu, cpu_elf, cpu_native

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the native cache reads ELF object files (Linux)")

PROGRAMS = textwrap.dedent("""
    import sys
    import numpy as np
    import minijax as jax, minijax.numpy as jnp
    from minijax import lax
    x = jnp.linspace(-2.0, 2.0, 64).reshape(8, 8)
    v = jnp.arange(10.0)
    programs = {
        "fused": (lambda x: jnp.sin(x) * 2.0 + x * x, (x,)),
        "rows": (lambda x: jnp.log(jnp.sum(jnp.exp(x - x.max(1, keepdims=True)), 1)), (x,)),
        "matmul": (lambda w, x: jnp.tanh(x @ w) @ w, (x * 0.1, x)),
        "grad": (jax.grad(lambda w, x: jnp.sum(jnp.tanh(x @ w) ** 2)), (x * 0.1, x)),
        "fori": (lambda v: lax.fori_loop(0, 100, lambda i, c: c * 0.99 + 1.0, v), (v,)),
        "scan": (lambda v: lax.scan(lambda c, a: (c + a, c * a), 0.0, v), (v,)),
        "ints": (lambda v: (v.astype(jnp.int32) // 3) % 4 + jnp.argmax(v), (v,)),
        "view": (lambda x: (x.T + 1.0).reshape(4, 16)[::-1], (x,)),
        "gather": (lambda v: v[jnp.array([1, 3, 5])] * 2.0, (v,)),
        "random": (lambda k: jax.random.normal(k, (16,)), (jax.random.PRNGKey(0),)),
    }
    for name, (f, args) in programs.items():
        jf = jax.jit(f)
        out = jax.tree_util.tree_leaves(jf(*args))
        (entry,) = jf._cache.values()
        print(name, entry.jaxpr._program.native, [np.asarray(o).tolist() for o in out])
    print("numba imported:", "numba" in sys.modules)
    print("llvmlite imported:", "llvmlite" in sys.modules)
""")


def _run(script, cache, **env):
    env = dict(os.environ, MINIJAX_CACHE_DIR=str(cache), **env)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def _split(lines):
    rows = [line.split(" ", 2) for line in lines[:-2]]
    return {name: native for name, native, _ in rows}, {name: out for name, _, out in rows}


def test_a_fresh_process_runs_cached_programs_without_importing_numba(tmp_path):
    first = _run(PROGRAMS, tmp_path)
    assert first[-2] == "numba imported: True"
    natives, reference = _split(first)
    assert set(natives.values()) == {"False"}       # compiled with numba, then saved
    assert len(list((tmp_path / "kernels").glob("*.native"))) == len(natives)

    second = _run(PROGRAMS, tmp_path)
    natives, outputs = _split(second)
    assert set(natives.values()) == {"True"}
    assert outputs == reference                      # the same bits as numba's run
    assert second[-2] == "numba imported: False"
    if platform.machine() == "x86_64":               # linked by cpu_elf, without LLVM
        assert second[-1] == "llvmlite imported: False"


def test_steps_load_through_llvm_when_the_elf_loader_declines(monkeypatch, tmp_path):
    x = jnp.linspace(0.0, 1.0, 12)
    program, expected = _program(monkeypatch, tmp_path, lambda x: jnp.cos(x) @ jnp.ones((12, 3)), x)
    assert len(list((tmp_path / "kernels").glob("*.native"))) == 1

    def decline(objects, resolve):
        raise cpu_elf.Unsupported("for this test")
    monkeypatch.setattr(cpu_elf, "link", decline)
    rebuilt = cpu.Program(program.jaxpr, program.consts)
    assert rebuilt.native
    np.testing.assert_array_equal(rebuilt(np.asarray(x))[0], np.asarray(expected))


def test_the_native_cache_can_be_turned_off(tmp_path):
    _run(PROGRAMS, tmp_path, MINIJAX_NATIVE_CACHE="0")
    assert not list((tmp_path / "kernels").glob("*.native"))
    assert list((tmp_path / "kernels").glob("*.py"))


def _program(monkeypatch, tmp_path, f, *args):
    monkeypatch.setenv("MINIJAX_CACHE_DIR", str(tmp_path))
    jf = jax.jit(f)
    expected = jf(*args)
    (entry,) = jf._cache.values()
    return entry.jaxpr._program, expected


def test_a_damaged_or_foreign_native_file_is_ignored(monkeypatch, tmp_path):
    x = jnp.linspace(0.0, 1.0, 12)
    program, expected = _program(monkeypatch, tmp_path, lambda x: jnp.exp(x) * 3.0 + 0.25, x)
    (native_file,) = (tmp_path / "kernels").glob("*.native")
    specs = program._compiled_specs()
    module_path = str(native_file)[:-len(".native")] + ".py"
    assert cpu_native.load(module_path, specs, program._numba_function) is not None

    saved = pickle.loads(native_file.read_bytes())
    saved["environment"] = ("another machine",)
    native_file.write_bytes(pickle.dumps(saved))
    assert cpu_native.load(module_path, specs, program._numba_function) is None

    native_file.write_bytes(b"not a pickle")
    assert cpu_native.load(module_path, specs, program._numba_function) is None
    rebuilt = cpu.Program(program.jaxpr, program.consts)
    assert not rebuilt.native
    np.testing.assert_array_equal(rebuilt(np.asarray(x))[0], expected)


class _Recorder:
    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, name):
        self.calls += 1
        return self.fn


@numba.njit
def _scale_into(x, out):
    for i in range(x.shape[0]):
        out[i] = x[i] * 2.0


def _native_step(tmp_path, dispatcher, specs, *example):
    dispatcher(*example)
    module_path = str(tmp_path / "minijax_kernels_test.py")
    assert cpu_native.save(module_path, [("step", dispatcher, specs)])
    recorder = _Recorder(dispatcher)
    steps = cpu_native.load(module_path, {"step": specs}, recorder)
    assert steps is not None
    return steps["step"], recorder


def test_the_entry_checks_every_array_before_running_native_code(tmp_path):
    specs = [(np.dtype(np.float32), (5,)), (np.dtype(np.float32), (5,))]
    x = np.arange(5, dtype=np.float32)
    step, recorder = _native_step(tmp_path, _scale_into, specs, x, np.empty(5, np.float32))

    out = np.zeros(5, np.float32)
    assert step(x, out) is None
    np.testing.assert_array_equal(out, x * 2.0)
    assert recorder.calls == 0

    frozen = np.zeros(5, np.float32)
    frozen.flags.writeable = False
    wrong = [
        (x.astype(np.float64), np.zeros(5, np.float32)),     # dtype
        (np.arange(6, dtype=np.float32), np.zeros(6, np.float32)),   # shape
        (np.arange(10, dtype=np.float32)[::2], np.zeros(5, np.float32)),   # not contiguous
        (x.reshape(5, 1), np.zeros(5, np.float32)),           # rank
        (x.astype(">f4"), np.zeros(5, np.float32)),           # byte order
        (x, frozen),                                          # output not writable
    ]
    for n, args in enumerate(wrong, start=1):
        try:
            step(*args)
        except Exception:   # numba itself may refuse some; what matters is who ran it
            pass
        assert recorder.calls == n, f"case {n} ran native code on the wrong arrays"


@numba.njit
def _checked_log(x):
    if x[0] < 0:
        raise ValueError("negative input")
    return np.log(x), x.reshape(2, 2)


def test_native_steps_return_arrays_and_raise_like_numba(tmp_path):
    specs = [(np.dtype(np.float64), (4,))]
    step, recorder = _native_step(tmp_path, _checked_log, specs, np.ones(4))
    x = np.arange(1.0, 5.0)
    fresh, view = step(x)
    # (numba calls libm's log; NumPy may use its own SIMD log, which can differ in the last bit)
    np.testing.assert_allclose(fresh, np.log(x), rtol=4e-16, atol=0)
    np.testing.assert_array_equal(view, x.reshape(2, 2))
    del x                               # the view must keep its memory alive
    np.testing.assert_array_equal(view, np.arange(1.0, 5.0).reshape(2, 2))
    with pytest.raises(ValueError, match="negative input"):
        step(-np.ones(4))
    assert recorder.calls == 0


def test_parallel_programs_are_not_saved(monkeypatch, tmp_path):
    from minijax._src.backends import cpu_kernels
    monkeypatch.setattr(cpu_kernels, "PARALLEL_MIN_WORK", 1)
    program, _ = _program(monkeypatch, tmp_path, lambda x: jnp.sin(x) * 3.0 - 1.5,
                          jnp.linspace(0.0, 1.0, 1 << 12))
    assert "prange" in program.source
    assert not list((tmp_path / "kernels").glob("*.native"))


def test_elf_symbols_reads_defined_and_undefined_names():
    import llvmlite.binding as llvm
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    module = llvm.parse_assembly(
        "declare double @sin(double)\n"
        "define double @twice_sin(double %x) {\n"
        "  %s = call double @sin(double %x)\n"
        "  %r = fadd double %s, %s\n"
        "  ret double %r\n}\n")
    machine = llvm.Target.from_default_triple().create_target_machine()
    defined, undefined = cpu_native.elf_symbols(machine.emit_object(module))
    assert "twice_sin" in defined and "sin" in undefined
    with pytest.raises(ValueError):
        cpu_native.elf_symbols(b"MZ not an ELF file")


def _object(ir, codemodel):
    import llvmlite.binding as llvm
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    machine = llvm.Target.from_default_triple().create_target_machine(codemodel=codemodel)
    return machine.emit_object(llvm.parse_assembly(ir))


TWICE_COS = """
declare double @cos(double)
@scale = internal constant double 2.0
@calls = global i64 0
define double @twice_cos(double %x) {
  %c = call double @cos(double %x)
  %s = load double, ptr @scale
  %n = load i64, ptr @calls
  %n1 = add i64 %n, 1
  store i64 %n1, ptr @calls
  %r = fmul double %c, %s
  ret double %r
}
"""


@pytest.mark.skipif(platform.machine() != "x86_64", reason="cpu_elf links x86-64 code")
def test_cpu_elf_links_large_code_model_objects_against_resolved_symbols():
    looked_up = []

    def resolve(name):
        looked_up.append(name)
        return ctypes.cast(ctypes.CDLL(None).cos, ctypes.c_void_p).value if name == "cos" else None
    code = cpu_elf.link([_object(TWICE_COS, "large")], resolve)
    assert looked_up == ["cos"]
    twice_cos = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_double)(code.symbols["twice_cos"])
    for x in (0.0, 0.5, -3.0):
        assert twice_cos(x) == 2.0 * np.cos(x)
    assert ctypes.c_int64.from_address(code.symbols["calls"]).value == 3   # writable data


@pytest.mark.skipif(platform.machine() != "x86_64", reason="cpu_elf links x86-64 code")
def test_cpu_elf_refuses_what_it_does_not_handle():
    libm_cos = ctypes.cast(ctypes.CDLL(None).cos, ctypes.c_void_p).value
    with pytest.raises(cpu_elf.Unsupported, match="relocation type"):   # small model: PC32
        cpu_elf.link([_object(TWICE_COS, "small")], lambda name: libm_cos)
    with pytest.raises(cpu_elf.Unsupported, match="unresolved symbol cos"):
        cpu_elf.link([_object(TWICE_COS, "large")], lambda name: None)
    with pytest.raises(cpu_elf.Unsupported):
        cpu_elf.link([b"not an object file"], lambda name: None)
