"""The native cache: a compiled program's machine code, loaded in a new process without numba.

numba's own disk cache (``cache=True``) spares a new process the compile, but not numba:
importing it and starting its compiler costs about 0.45 s here (SciPy's import alone, which
numba does to find BLAS, is 0.13 s) -- far more than loading the cached code takes, and more
than JAX's whole cold compile. So, next to the generated module, each program keeps a second,
lower-level copy of what numba produced:

**Saving** (``save``; numba is loaded anyway, the program has just run through it): for each
compiled step, take the object code numba emitted for the overload that ran. Besides the
function itself it holds numba's *Python wrapper*, the code numba's dispatcher calls once it
has picked an overload: it unboxes the arrays, runs the function, and boxes what comes back
(or sets the exception it raised). Next to it goes a small *entry function*, written here in
LLVM IR: the wrapper trusts its caller about argument types, so the entry first checks each
array's rank, shape, dtype, byte order and layout (and that outputs are writable) by reading
NumPy's array struct, then calls the wrapper. The file also records, for each symbol the
objects leave undefined, where it comes from: numba's C helper extensions (``_helperlib``,
``_dynfunc``, the NRT allocator), the Python process itself (``sinf``, ``PyErr_*``), or
numba's small runtime module, whose object code is saved alongside.

**Loading** (``load``): on x86-64, ``cpu_elf`` places the objects in memory and patches
their addresses itself -- no LLVM, no numba, a millisecond or two per program; elsewhere
llvmlite's MCJIT links them (~35 ms to import llvmlite once). numba's C extensions are loaded
as plain extension modules for their helper addresses, and each step becomes a ``ctypes``
function of its arrays, as fast to call as numba's dispatcher. ``numba`` is never imported.

Anything it cannot vouch for -- another Python, numba, NumPy or CPU, a damaged file, a
parallel kernel (its thread pool lives in numba), a constant only numba can unpickle -- means
no native copy, and the program goes through numba's cache as before. Arrays that fail the
entry's checks are handed to numba too.

Only ELF object files (Linux) are saved; elsewhere programs always go through numba.
"""
from __future__ import annotations

import ctypes
import functools
import importlib.machinery
import importlib.util
import os
import pickle
import struct
import sys

import numpy as np

from . import cpu_elf

FORMAT = 1                      # bump when the file layout changes
ENTRY = "minijax_native_entry"  # the entry function's name inside each step's objects

_llvm = None          # llvmlite.binding, initialised on first use
_loaded: list = []    # loaded code (cpu_elf.LoadedCode or MCJIT engines): kept for the process


def enabled() -> bool:
    return os.environ.get("MINIJAX_NATIVE_CACHE", "1").lower() not in ("0", "false", "no")


def path_for(module_path: str) -> str:
    return module_path[:-3] + ".native"


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------
class NativeStep:
    """One compiled step, called like the numba function it replaces.

    Its entry function checks each argument's dtype, shape and layout, then calls the
    *Python wrapper* numba compiled alongside the function: the code numba's dispatcher runs
    once it has picked the overload, which unboxes the arrays, runs the function, and boxes
    what it returns (or sets the exception it raised). A failed check returns ``_MISMATCH``,
    and the call goes through numba instead.
    """

    def __init__(self, address, n_args, environment, fallback):
        py = ctypes.py_object
        self.entry = ctypes.PYFUNCTYPE(py, py, py, *[py] * n_args)(address)
        self.environment = environment   # numba's constants for boxing; the code points at it
        self._fallback = fallback        # () -> the numba function, imported only if needed

    def __call__(self, *arrays):
        result = self.entry(arrays, _MISMATCH, *arrays)
        if result is _MISMATCH:
            return self._fallback()(*arrays)
        return result


_MISMATCH = object()


def load(module_path: str, steps: dict, fallback):
    """``{name: NativeStep}`` for the program whose generated module is ``module_path``.

    ``steps`` maps each compiled step's name to its argument specs ``[(dtype, shape)]``;
    ``fallback(name)`` returns that step's numba function. None when there is no usable
    native copy (the caller then imports the module with numba).
    """
    path = path_for(module_path)
    if not enabled() or not os.path.exists(path):
        return None
    try:
        with open(path, "rb") as f:
            saved = pickle.load(f)
        if saved.get("format") != FORMAT or set(saved["steps"]) != set(steps):
            return None
        if saved["environment"] != environment():
            return None
        loaded = {}
        for name, entry in saved["steps"].items():
            specs = [(np.dtype(d), tuple(s)) for d, s in entry["specs"]]
            if specs != [(np.dtype(d), tuple(s)) for d, s in steps[name]]:
                return None
            linked = _link(entry)
            if linked is None:
                return None
            loaded[name] = NativeStep(*linked, lambda name=name: fallback(name))
        return loaded
    except Exception:   # a damaged or foreign file: numba's cache is still there
        return None


def _llvmlite():
    global _llvm
    if _llvm is None:
        import llvmlite.binding as llvm
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        _llvm = llvm
    return _llvm


@functools.lru_cache(maxsize=None)
def environment() -> tuple:
    """What the saved machine code depends on: Python, numba's build, NumPy's object layout,
    the CPU. (What minijax's own helpers compile to is part of the module hash: see
    ``cpu._module_path``.)"""
    built = []
    for rel in ("_helperlib", "_dynfunc", "core/runtime/_nrt_python"):
        path = _numba_extension_path(rel)
        st = os.stat(path)
        built.append((path, st.st_size, st.st_mtime_ns))
    return (sys.version, np.__version__, tuple(built), _array_layout(), _cpu())


def _cpu() -> tuple:
    """The processor, as precisely as it is cheap to tell: code compiled for one CPU's
    instruction set extensions must not run on another."""
    import platform
    try:
        with open("/proc/cpuinfo") as f:
            lines = f.read().split("\n\n")[0].splitlines()
        keep = ("vendor_id", "cpu family", "model", "model name", "flags", "Features",
                "CPU implementer", "CPU part")
        described = tuple(sorted(line for line in lines if line.split(":")[0].strip() in keep))
    except OSError:
        described = (platform.processor(),)
    return (platform.machine(),) + described


#: Byte offsets in NumPy's array object (``PyArrayObject_fields``) and dtype object that the
#: entry functions read; ``_array_layout`` checks them on live objects before any is trusted.
_LAYOUT = {"data": 16, "nd": 24, "dimensions": 32, "descr": 56, "flags": 64,
           "descr.byteorder": 26, "descr.type_num": 28}
_C_CONTIGUOUS, _WRITEABLE = 0x1, 0x400


def _array_layout():
    """``_LAYOUT`` as a tuple if this NumPy lays its objects out that way, else None."""
    def at(obj, offset, ctype):
        return ctype.from_address(id(obj) + _LAYOUT[offset]).value

    a = np.zeros((3, 5), np.float32)
    frozen = a.T.view()
    frozen.flags.writeable = False
    dims = ctypes.c_int64.from_address(at(a, "dimensions", ctypes.c_void_p))
    ok = (at(a, "data", ctypes.c_void_p) == a.ctypes.data and at(a, "nd", ctypes.c_int32) == 2
          and (dims.value, ctypes.c_int64.from_address(ctypes.addressof(dims) + 8).value) == (3, 5)
          and at(a, "descr", ctypes.c_void_p) == id(a.dtype)
          and at(a.dtype, "descr.type_num", ctypes.c_int32) == a.dtype.num
          and at(np.dtype(">f4"), "descr.byteorder", ctypes.c_char) == b">"
          and at(a, "flags", ctypes.c_int32) & (_C_CONTIGUOUS | _WRITEABLE) == _C_CONTIGUOUS | _WRITEABLE
          and at(frozen, "flags", ctypes.c_int32) & (_C_CONTIGUOUS | _WRITEABLE) == 0)
    return tuple(sorted(_LAYOUT.items())) if ok else None


def _numba_extension_path(rel: str) -> str:
    """Where one of numba's C extensions is, found without importing numba."""
    spec = importlib.util.find_spec("numba")
    base = spec.submodule_search_locations[0]
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(base, rel + suffix)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(rel)


_HELPERS = {"helperlib": ("_helperlib", "numba_"), "dynfunc": ("_dynfunc", "numba_"),
            "nrt": ("core/runtime/_nrt_python", "NRT_")}
_modules: dict = {}


def _helper_module(which: str):
    """One of numba's C extensions, loaded as a plain extension module (numba is not imported)."""
    if which not in _modules:
        rel = _HELPERS[which][0]
        full_name = "numba." + rel.replace("/", ".")
        module = sys.modules.get(full_name)
        if module is None:
            path = _numba_extension_path(rel)
            loader = importlib.machinery.ExtensionFileLoader(full_name, path)
            spec = importlib.util.spec_from_file_location(full_name, path, loader=loader)
            module = importlib.util.module_from_spec(spec)
            loader.exec_module(module)
            if which == "nrt":
                module.memsys_use_cpython_allocator()   # as numba does when it imports it
        _modules[which] = module
    return _modules[which]


def _helper_symbols(which: str) -> dict:
    """``{C symbol: address}`` a helper extension exports, named as numba's code calls them."""
    prefix = _HELPERS[which][1]
    return {(k if k.startswith("_") else prefix + k): v
            for k, v in _helper_module(which).c_helpers.items()}


def _unpickle(data, size, hashed):
    """What numba's C helper ``numba_unpickle`` does, without importing numba to do it.

    Compiled code calls it for constants it needs as Python objects -- the dtype and array
    type when it returns an array -- passing the address and length of the pickled bytes
    in its data section; the result is a new reference, cached per address.
    """
    key = (data, ctypes.string_at(hashed, 20))
    obj = _unpickled.get(key)
    if obj is None:
        obj = _unpickled[key] = pickle.loads(ctypes.string_at(data, size))
    return obj


_unpickled: dict = {}
_UNPICKLE = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_void_p, ctypes.c_int,
                              ctypes.c_void_p)(_unpickle)
_UNPICKLE_ADDRESS = ctypes.cast(_UNPICKLE, ctypes.c_void_p).value


def _link(entry: dict):
    """Load one step's objects: (entry address, argument count, numba environment), or None.

    x86-64 objects are placed in memory by ``cpu_elf``, with no LLVM at all; others (or any
    that loader refuses) are linked by llvmlite's MCJIT.
    """
    resolve = _resolver(entry["externals"])
    try:
        code = cpu_elf.link(entry["objects"], resolve)
        symbols = code.symbols
        _loaded.append(code)
    except cpu_elf.Unsupported:
        symbols = _link_with_llvm(entry, resolve)
        if symbols is None:
            return None
    env = _helper_module("dynfunc").Environment({})
    env.consts.extend(pickle.loads(entry["consts"]))
    slot, address = symbols.get(entry["env_name"]), symbols.get(ENTRY)
    if not slot or not address:
        return None
    ctypes.c_void_p.from_address(slot).value = id(env)
    return address, len(entry["specs"]), env


def _resolver(externals: dict):
    """``resolve(name) -> address or None`` for the symbols the objects leave undefined."""
    tables: dict = {}
    process = ctypes.CDLL(None)

    def resolve(name):
        source = externals.get(name)
        if source == "process":
            try:
                return ctypes.cast(getattr(process, name), ctypes.c_void_p).value
            except AttributeError:
                return None
        if source is None:
            return None
        if name == "numba_unpickle" and "numba.core.serialize" not in sys.modules:
            return _UNPICKLE_ADDRESS
        if source not in tables:
            tables[source] = _helper_symbols(source)
        return tables[source].get(name)
    return resolve


def _link_with_llvm(entry: dict, resolve):
    """``{name: address}`` of the entry and environment slot, linked by MCJIT; or None.

    MCJIT aborts the whole process on a symbol it cannot resolve, so every undefined symbol
    is resolved first and handed to it.
    """
    llvm = _llvmlite()
    machine = llvm.Target.from_default_triple().create_target_machine(codemodel="jitdefault")
    engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), machine)
    for name in entry["externals"]:
        address = resolve(name)
        if not address:
            return None
        llvm.add_symbol(name, address)
    for obj in entry["objects"]:
        engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
    engine.finalize_object()
    _loaded.append(engine)
    return {ENTRY: engine.get_function_address(ENTRY),
            entry["env_name"]: engine.get_global_value_address(entry["env_name"])}


# ---------------------------------------------------------------------------
# Saving (numba is loaded: the program has just run through it)
# ---------------------------------------------------------------------------
def save(module_path: str, steps: list) -> bool:
    """Write the native copy of a program that has run once through numba.

    ``steps`` holds ``(name, numba dispatcher, specs)`` per compiled step. Returns whether a
    file was written; a program that cannot be saved (see the module docstring) is not.
    """
    if not enabled():
        return False
    try:
        described = {name: _describe(fn, specs) for name, fn, specs in steps}
    except Exception:
        return False
    if not described or any(d is None for d in described.values()):
        return False
    data = {"format": FORMAT, "environment": environment(), "steps": described}
    path = path_for(module_path)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
    return True


def _describe(dispatcher, specs):
    """The objects, entry and external symbols of one step, or None if it can't be native."""
    cres = _overload_for(dispatcher, specs)
    if cres is None:
        return None
    consts = pickle.dumps(list(cres.environment.consts), protocol=pickle.HIGHEST_PROTOCOL)
    if b"numba" in consts:
        return None   # a constant that would need numba to unpickle
    code = cres.library._get_compiled_object()
    llvm = _llvmlite()
    module = llvm.parse_assembly(_entry_ir(cres, specs))
    module.verify()
    entry = cres.library.codegen._tm.emit_object(module)
    objects = [code, entry]
    externals = _classify(objects)
    if externals is None:
        return None
    if any(source == "runtime" for source in externals.values()):
        objects.append(_runtime_object())
        externals = _classify(objects)
        if externals is None or "runtime" in externals.values():
            return None
    return {"specs": [(np.dtype(d).str, tuple(s)) for d, s in specs], "objects": objects,
            "externals": externals, "consts": consts, "env_name": cres.fndesc.env_name}


def _overload_for(dispatcher, specs):
    """The compile result numba used for these argument types (C-ordered arrays)."""
    from numba.core import types
    from numba.np.numpy_support import as_dtype
    for sig, cres in getattr(dispatcher, "overloads", {}).items():
        if len(sig) == len(specs) and all(
                isinstance(t, types.Array) and t.layout == "C" and t.ndim == len(shape)
                and as_dtype(t.dtype) == np.dtype(dtype) for t, (dtype, shape) in zip(sig, specs)):
            return cres
    return None


def _entry_ir(cres, specs) -> str:
    """LLVM IR of ``PyObject* minijax_native_entry(args, mismatch, a0, a1, ...)``.

    ``args`` is the tuple of arrays ``a0, a1, ...``. The entry checks that each array has the
    dtype, shape and layout the step was compiled for (outputs must also be writable) --
    numba's wrapper trusts its caller on this -- and then returns what numba's Python wrapper
    returns for ``args``. If a check fails it returns ``mismatch`` (a new reference).
    """
    body, params = [], []

    def check(lines, condition):
        label = f"ok{len(params)}_{len(body)}"
        body.extend(lines)
        body.append(f"  br i1 {condition}, label %{label}, label %bad")
        body.append(f"{label}:")

    for n, (argtype, (dtype, shape)) in enumerate(zip(cres.fndesc.argtypes, specs)):
        dtype, a = np.dtype(dtype), f"%a{n}"
        params.append(f"ptr {a}")
        flags_needed = _C_CONTIGUOUS | (_WRITEABLE if argtype.mutable else 0)
        check([f"  {a}.ndp = getelementptr i8, ptr {a}, i64 {_LAYOUT['nd']}",
               f"  {a}.nd = load i32, ptr {a}.ndp",
               f"  {a}.flagsp = getelementptr i8, ptr {a}, i64 {_LAYOUT['flags']}",
               f"  {a}.flags = load i32, ptr {a}.flagsp",
               f"  {a}.need = and i32 {a}.flags, {flags_needed}",
               f"  {a}.c1 = icmp eq i32 {a}.nd, {len(shape)}",
               f"  {a}.c2 = icmp eq i32 {a}.need, {flags_needed}",
               f"  {a}.descrp = getelementptr i8, ptr {a}, i64 {_LAYOUT['descr']}",
               f"  {a}.descr = load ptr, ptr {a}.descrp",
               f"  {a}.nump = getelementptr i8, ptr {a}.descr, i64 {_LAYOUT['descr.type_num']}",
               f"  {a}.num = load i32, ptr {a}.nump",
               f"  {a}.c3 = icmp eq i32 {a}.num, {dtype.num}",
               f"  {a}.orderp = getelementptr i8, ptr {a}.descr, i64 {_LAYOUT['descr.byteorder']}",
               f"  {a}.order = load i8, ptr {a}.orderp",
               f"  {a}.c4 = icmp ne i8 {a}.order, {ord('>')}",
               f"  {a}.c12 = and i1 {a}.c1, {a}.c2",
               f"  {a}.c34 = and i1 {a}.c3, {a}.c4",
               f"  {a}.c = and i1 {a}.c12, {a}.c34"], f"{a}.c")
        if shape:   # (read only once the rank is known to match)
            lines = [f"  {a}.dimsp = getelementptr i8, ptr {a}, i64 {_LAYOUT['dimensions']}",
                     f"  {a}.dims = load ptr, ptr {a}.dimsp"]
            previous = "true"
            for i, size in enumerate(shape):
                lines += [f"  {a}.d{i}p = getelementptr i64, ptr {a}.dims, i64 {i}",
                          f"  {a}.d{i} = load i64, ptr {a}.d{i}p",
                          f"  {a}.e{i} = icmp eq i64 {a}.d{i}, {size}",
                          f"  {a}.s{i} = and i1 {previous}, {a}.e{i}"]
                previous = f"{a}.s{i}"
            check(lines, previous)
    wrapper = cres.fndesc.llvm_cpython_wrapper_name
    return "\n".join([
        f'declare ptr @"{wrapper}"(ptr, ptr, ptr)',
        "declare void @Py_IncRef(ptr)", "",
        f'define ptr @{ENTRY}(ptr %args, ptr %mismatch, {", ".join(params)}) {{',
        "entry:", *body,
        f'  %result = call ptr @"{wrapper}"(ptr null, ptr %args, ptr null)',
        "  ret ptr %result",
        "bad:",
        "  call void @Py_IncRef(ptr %mismatch)",
        "  ret ptr %mismatch",
        "}", ""])


_runtime = None


def _runtime_object() -> bytes:
    """numba's NRT runtime module (refcounting in LLVM IR) as object code."""
    global _runtime
    if _runtime is None:
        from numba.core.runtime import nrt
        library = nrt.rtsys.library
        _runtime = library.codegen._tm.emit_object(library._final_module)
    return _runtime


def _classify(objects):
    """``{undefined symbol: where it comes from}`` over ``objects``, or None if one is unknown.

    "runtime" marks a symbol numba's NRT runtime module defines (the caller then adds it).
    """
    from numba import _helperlib, _dynfunc
    from numba.core.runtime import _nrt_python
    defined, undefined = set(), set()
    for obj in objects:
        d, u = elf_symbols(obj)
        defined |= d
        undefined |= u
    runtime_defines = elf_symbols(_runtime_object())[0]
    tables = {"helperlib": {"numba_" + k for k in _helperlib.c_helpers},
              "dynfunc": {"numba_" + k for k in _dynfunc.c_helpers},
              "nrt": {k if k.startswith("_") else "NRT_" + k for k in _nrt_python.c_helpers}}
    process = ctypes.CDLL(None)
    where = {}
    for name in sorted(undefined - defined):
        source = next((t for t, names in tables.items() if name in names), None)
        if source is None and name in runtime_defines:
            source = "runtime"
        if source is None and hasattr(process, name):
            source = "process"
        if source is None:
            return None   # e.g. numba's thread pool (parallel kernels)
        where[name] = source
    return where


def elf_symbols(obj: bytes) -> tuple[set, set]:
    """(defined, undefined) global symbol names of a 64-bit little-endian ELF object file."""
    if obj[:4] != b"\x7fELF" or obj[4] != 2 or obj[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF object")
    section_offset, = struct.unpack_from("<Q", obj, 0x28)
    entry_size, count = struct.unpack_from("<HH", obj, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", obj, section_offset + i * entry_size)
                for i in range(count)]
    defined, undefined = set(), set()
    for _, kind, _, _, offset, size, link, _, _, _ in sections:
        if kind != 2:   # SHT_SYMTAB
            continue
        strings = sections[link][4]
        for j in range(size // 24):
            name_at, info, _, section, _, _ = struct.unpack_from("<IBBHQQ", obj, offset + j * 24)
            if not name_at or info >> 4 == 0:   # unnamed, or local binding
                continue
            start = strings + name_at
            name = obj[start:obj.index(b"\0", start)].decode()
            (undefined if section == 0 else defined).add(name)
    return defined, undefined
