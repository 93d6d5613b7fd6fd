"""A minimal loader for x86-64 ELF object files: machine code into memory, ready to call.

An object file (``.o``) is machine code that is not yet placed anywhere: each section
(``.text`` for code, ``.rodata`` for constants, ...) can go at any address, and a table of
*relocations* lists every place that must be patched once addresses are known -- "write the
address of ``sinf`` plus 0 here", "write the distance from here to the constant pool there".
A *linker* chooses the addresses and applies the patches; that is all this module does.

numba compiles for the *large code model*, in which code reaches everything through full
64-bit values, so its objects use just two kinds of relocation:

* ``R_X86_64_64``   (1):  write ``S + A``      (the symbol's address plus an addend);
* ``R_X86_64_PC64`` (24): write ``S + A - P``  (the same, relative to the patched place).

No call needs to be within 2 GiB of its target, so there are no stubs and no global offset
table, and a small loader can do what LLVM's runtime linker would. ``link`` refuses anything
else (another machine, another relocation type, thread-local storage) with ``Unsupported``;
the caller then links through llvmlite instead.

Code and data go into separate anonymous memory maps; once patched, the code map is made
read-and-execute only. Unwind tables (``.eh_frame``) are not loaded: nothing unwinds through
this code (numba reports errors through return codes, not C++ exceptions).
"""
from __future__ import annotations

import ctypes
import struct

_EM_X86_64 = 62
_SHT_SYMTAB, _SHT_RELA, _SHT_NOBITS = 2, 4, 8
_SHF_ALLOC, _SHF_EXECINSTR, _SHF_TLS = 0x2, 0x4, 0x400
_SHN_UNDEF, _SHN_ABS, _SHN_COMMON = 0, 0xFFF1, 0xFFF2
_STB_LOCAL = 0
_R_X86_64_64, _R_X86_64_PC64 = 1, 24
_PROT_READ, _PROT_WRITE, _PROT_EXEC = 1, 2, 4
_MAP_PRIVATE, _MAP_ANONYMOUS = 0x02, 0x20
_PAGE = 4096


class Unsupported(Exception):
    """The objects need something this loader does not do."""


class Section:
    def __init__(self, index, fields, name):
        (_, self.kind, self.flags, _, self.offset, self.size, self.link, self.info,
         self.align, _) = fields
        self.index, self.name = index, name
        self.address = None   # where it was placed, if it is loaded

    @property
    def loaded(self) -> bool:
        return bool(self.flags & _SHF_ALLOC) and self.name != ".eh_frame"


class ObjectFile:
    """The sections, symbols and relocations of one ELF64 little-endian x86-64 object."""

    def __init__(self, data: bytes):
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            raise Unsupported("not a 64-bit little-endian ELF file")
        if struct.unpack_from("<H", data, 0x12)[0] != _EM_X86_64:
            raise Unsupported("not x86-64 code")
        self.data = data
        offset, = struct.unpack_from("<Q", data, 0x28)
        entry_size, count, names_at = struct.unpack_from("<HHH", data, 0x3A)
        fields = [struct.unpack_from("<IIQQQQIIQQ", data, offset + i * entry_size)
                  for i in range(count)]
        names = fields[names_at][4]
        self.sections = [Section(i, f, self._string(names + f[0])) for i, f in enumerate(fields)]
        if any(s.flags & _SHF_TLS for s in self.sections):
            raise Unsupported("thread-local storage")
        self.addresses: list = []   # per symbol, once linked
        self.symbols = []           # (name, binding, section index, value, size)
        for table in (s for s in self.sections if s.kind == _SHT_SYMTAB):
            strings = self.sections[table.link].offset
            for j in range(table.size // 24):
                name_at, info, _, section, value, size = struct.unpack_from(
                    "<IBBHQQ", data, table.offset + j * 24)
                self.symbols.append((self._string(strings + name_at) if name_at else "",
                                     info >> 4, section, value, size))

    def _string(self, at: int) -> str:
        return self.data[at:self.data.index(b"\0", at)].decode()

    def relocations(self):
        """(target section, offset in it, symbol index, type, addend) for loaded sections."""
        for rela in (s for s in self.sections if s.kind == _SHT_RELA):
            target = self.sections[rela.info]
            if not target.loaded:
                continue
            for j in range(rela.size // 24):
                offset, info, addend = struct.unpack_from("<QQq", self.data, rela.offset + j * 24)
                yield target, offset, info >> 32, info & 0xFFFFFFFF, addend


class LoadedCode:
    """Linked objects in memory; ``symbols`` maps each global name to its address."""

    def __init__(self, symbols: dict, maps: list):
        self.symbols = symbols
        self._maps = maps   # (address, size) of the memory maps, kept for the process


def link(objects: list, resolve) -> LoadedCode:
    """Place ``objects`` (bytes of ELF object files) in memory and apply their relocations.

    A symbol none of them defines is looked up with ``resolve(name)``, which returns an
    address or None (then ``Unsupported`` is raised, before any relocation is applied).
    """
    files = [ObjectFile(data) for data in objects]
    code_size = data_size = 0
    placed = []   # (file, section, is code, offset in its map)
    commons: dict = {}
    for f in files:
        for s in f.sections:
            if s.loaded:
                is_code = bool(s.flags & _SHF_EXECINSTR)
                size = code_size if is_code else data_size
                start = -(-size // max(s.align, 1)) * max(s.align, 1)
                placed.append((f, s, is_code, start))
                if is_code:
                    code_size = start + s.size
                else:
                    data_size = start + s.size
        for name, binding, section, value, size in f.symbols:
            if section == _SHN_COMMON and name not in commons:   # value is the alignment
                start = -(-data_size // max(value, 1)) * max(value, 1)
                commons[name] = start
                data_size = start + size
    code_map = _map(code_size)
    data_map = _map(data_size)
    for f, s, is_code, start in placed:
        s.address = (code_map if is_code else data_map) + start
        if s.kind != _SHT_NOBITS and s.size:
            ctypes.memmove(s.address, f.data[s.offset:s.offset + s.size], s.size)

    defined = {name: data_map + start for name, start in commons.items()}
    for f in files:
        for name, binding, section, value, _ in f.symbols:
            if name and binding != _STB_LOCAL and section not in (_SHN_UNDEF, _SHN_COMMON):
                defined.setdefault(name, _symbol_address(f, section, value))
    for f in files:
        for name, binding, section, value, _ in f.symbols:
            if section == _SHN_UNDEF and name:
                address = defined.get(name) or resolve(name)
                if not address:
                    raise Unsupported(f"unresolved symbol {name}")
                defined.setdefault(name, address)
            elif section == _SHN_COMMON:
                address = defined[name]
            elif name and binding != _STB_LOCAL:
                address = defined[name]
            else:
                address = _symbol_address(f, section, value)
            f.addresses.append(address)

    patches = [(target.address + offset, f.addresses[symbol] + addend, kind)
               for f in files for target, offset, symbol, kind, addend in f.relocations()]
    unknown = {kind for _, _, kind in patches} - {_R_X86_64_64, _R_X86_64_PC64}
    if unknown:
        raise Unsupported(f"relocation type {min(unknown)}")
    for place, value, kind in patches:
        if kind == _R_X86_64_PC64:
            value -= place
        ctypes.c_uint64.from_address(place).value = value % (1 << 64)
    if code_size:
        _protect(code_map, code_size, _PROT_READ | _PROT_EXEC)
    return LoadedCode(defined, [(code_map, code_size), (data_map, data_size)])


def _symbol_address(f: ObjectFile, section: int, value: int) -> int:
    if section == _SHN_ABS:
        return value
    target = f.sections[section]
    if target.address is None:
        return 0   # a symbol in a section that is not loaded (e.g. .eh_frame)
    return target.address + value


_libc = None


def _libc_functions():
    global _libc
    if _libc is None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mmap.restype = ctypes.c_void_p
        libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                              ctypes.c_int, ctypes.c_long]
        libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        _libc = libc
    return _libc


def _map(size: int) -> int:
    """A fresh, zeroed, writable memory map of at least ``size`` bytes (never unmapped)."""
    size = max(-(-size // _PAGE) * _PAGE, _PAGE)
    address = _libc_functions().mmap(None, size, _PROT_READ | _PROT_WRITE,
                                     _MAP_PRIVATE | _MAP_ANONYMOUS, -1, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        raise Unsupported("mmap failed")
    return address


def _protect(address: int, size: int, prot: int):
    size = -(-size // _PAGE) * _PAGE
    if _libc_functions().mprotect(address, size, prot) != 0:
        raise Unsupported(f"mprotect failed (errno {ctypes.get_errno()})")
