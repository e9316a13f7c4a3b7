"""The simulation kernel as a plain shared library, so that a run need not load numba.

A process's fixed cost is mostly numba's: importing it (~0.4 s) and readying its compiler to
load even a cached function (~0.5 s), against a few milliseconds to ``dlopen`` a library. So
the kernel (:func:`her2lab.boolnet._kernel._chunks`, which allocates nothing) is compiled
once by numba as a C-callable function, its machine code written to an object file and linked
by the system's C compiler into ``simkernel-<key>.so`` in a cache folder; later processes load
that with :mod:`ctypes` (which releases the GIL during the call, so threads run chunk ranges in
parallel) and never import numba. The key covers the kernel's source and the host CPU (the code
is compiled for it), so a library is never used for code or a CPU it was not built from.

It is the same machine code as numba's own: results are bit for bit those of
``_kernel.simulate_chunks``. Any failure (no C compiler, a read-only cache, an unexpected
symbol) leaves the numba kernel in use and a ``simkernel-<key>.failed`` file saying why, so
later processes do not pay for the build again (delete it to retry); ``HER2LAB_NATIVE=0`` turns
the library off.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from her2lab.boolnet._abi import ARGS

_HERE = Path(__file__).resolve().parent
_SOURCES = (_HERE / "_kernel.py", _HERE / "_abi.py", Path(__file__).resolve())
_SYMBOL = "her2lab_simulate_chunks"

_CTYPES = {"int64": ctypes.c_int64, "uint64": ctypes.c_uint64, "float64": ctypes.c_double}


def _cpu_signature() -> bytes:
    """What the compiled code depends on besides its source: the machine and the CPU's model
    and feature flags (numba compiles for the host CPU)."""
    parts = [platform.machine(), platform.system(), sys.platform]
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith(("model name", "flags", "Features", "CPU part")):
                    parts.append(line.strip())
                elif not line.strip():
                    break  # the first processor's block is enough
    except OSError:
        parts.append(platform.processor())
    return "\n".join(parts).encode()


def _key() -> str:
    h = hashlib.sha256()
    for src in _SOURCES:
        h.update(src.read_bytes())
    h.update(_cpu_signature())
    return h.hexdigest()[:20]


def _cache_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("NUMBA_CACHE_DIR"):
        dirs.append(Path(os.environ["NUMBA_CACHE_DIR"]) / "her2lab")
    dirs.append(_HERE / "__pycache__")
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    dirs.append(Path(base) / "her2lab")
    return dirs


def _wrapper_source() -> str:
    """Source of the C-callable wrapper: typed pointers and scalars in, arrays rebuilt with
    ``carray`` from one vector of their dimensions, then the kernel."""
    params, body, call = ["c_lo", "c_hi", "dims"], [], []
    at = 0
    for name, _dtype, ndim in ARGS:
        if ndim == 0:
            params.append(name)
            call.append(name)
            continue
        params.append(f"p_{name}")
        shape = ", ".join(f"dims[{at + k}]" for k in range(ndim))
        body.append(f"    {name} = carray(p_{name}, ({shape},))")
        call.append(name)
        at += ndim
    return (f"def wrapper({', '.join(params)}):\n" + "\n".join(body)
            + f"\n    inner(c_lo, c_hi, {', '.join(call)})\n")


def _build(target: Path, cc: str) -> None:
    """Compile the kernel with numba as a C function and link it into ``target`` with the C
    compiler ``cc``."""
    from numba import carray, cfunc, njit, types

    from her2lab.boolnet import _kernel

    nb = {"int64": types.int64, "uint64": types.uint64, "float64": types.float64,
          "int8": types.int8}
    sig_args = [types.int64, types.int64, types.CPointer(types.int64)]
    for _name, dtype, ndim in ARGS:
        sig_args.append(nb[dtype] if ndim == 0 else types.CPointer(nb[dtype]))
    inner = njit(nogil=True, error_model="numpy")(_kernel._chunks)
    scope: dict[str, object] = {"carray": carray, "inner": inner}
    exec(compile(_wrapper_source(), "<her2lab native wrapper>", "exec"), scope)
    compiled = cfunc(types.void(*sig_args), nopython=True, error_model="numpy")(
        scope["wrapper"])
    import llvmlite.binding as ll

    library = compiled._library
    library._ensure_finalized()
    module = library._final_module
    codegen = library._codegen
    # position-independent code for a shared library, for the CPU numba compiles for
    machine = ll.Target.from_default_triple().create_target_machine(
        cpu=codegen._get_host_cpu_name(), features=codegen._tm_features, opt=3, reloc="pic",
        codemodel="default")
    # every definition but the entry point local to the library: calls among them (the
    # reference-count helpers among others) are then direct, not through the PLT
    local = {ll.Linkage.internal, ll.Linkage.private}
    for v in [*module.functions, *module.global_variables]:
        if not v.is_declaration and v.linkage not in local and v.name != compiled.native_name:
            v.visibility = "hidden"
    obj = machine.emit_object(module)
    # Numba's error paths (raising an exception, freeing an array's memory) name helpers of
    # the Python process; the kernel never takes them (it raises nothing and its arrays own
    # no memory), so they are linked to local stubs that abort.
    stubs = ["#include <stdlib.h>"]
    for f in module.functions:
        if f.is_declaration and not f.name.startswith("llvm."):
            stubs.append(f'__attribute__((visibility("hidden"))) void {f.name}(void) '
                         "{ abort(); }")
    for g in module.global_variables:
        if g.is_declaration:
            stubs.append(f'__attribute__((visibility("hidden"))) char {g.name}[64];')
    with tempfile.TemporaryDirectory() as tmp:
        o_path = Path(tmp) / "kernel.o"
        o_path.write_bytes(obj)
        c_path = Path(tmp) / "stubs.c"
        c_path.write_text("\n".join(stubs) + "\n")
        so_tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            subprocess.run(
                [cc, "-shared", "-fPIC", "-O1", "-o", str(so_tmp), str(o_path), str(c_path),
                 f"-Wl,--defsym={_SYMBOL}={compiled.native_name}", "-Wl,--no-undefined",
                 "-Wl,-Bsymbolic", "-lm"],
                check=True, capture_output=True, timeout=300,
            )
            os.replace(so_tmp, target)
        finally:
            so_tmp.unlink(missing_ok=True)


def load() -> Callable[..., None] | None:
    """The kernel from the shared library (built first if need be), or None when it cannot
    be had (then the numba kernel is used). A failed build leaves ``simkernel-<key>.failed``
    (with the reason) so that later processes do not try again for the same source and CPU."""
    if os.environ.get("HER2LAB_NATIVE", "1") == "0":
        return None
    try:
        key = _key()
    except OSError:
        return None
    name, failed = f"simkernel-{key}.so", f"simkernel-{key}.failed"
    dirs = _cache_dirs()
    for d in dirs:
        if (d / name).is_file():
            try:
                return _entry(ctypes.CDLL(str(d / name)))
            except (OSError, AttributeError):
                continue
    if any((d / failed).is_file() for d in dirs):
        return None
    cc = os.environ.get("CC") or "cc"
    if shutil.which(cc) is None:
        return None
    for d in dirs:
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(d, os.W_OK):
            break
    else:
        return None
    try:
        _build(d / name, cc)
        return _entry(ctypes.CDLL(str(d / name)))
    except Exception as exc:  # any failure: the numba kernel is used instead
        with contextlib.suppress(OSError):
            (d / failed).write_text(f"{type(exc).__name__}: {exc}\n")
        return None


def _entry(lib: ctypes.CDLL) -> Callable[..., None]:
    fn = getattr(lib, _SYMBOL)
    fn.restype = None
    types = [ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
    types += [_CTYPES[dtype] if ndim == 0 else ctypes.c_void_p for _n, dtype, ndim in ARGS]
    fn.argtypes = types
    return fn
