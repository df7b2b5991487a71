"""Run-time guards inside the sandbox: forbidden work fails, in every thread and in forked children.

Copied into the sandbox folder next to ``worker.py`` and ``wire.py``; imports nothing from the autograder
package. ``install`` runs after the libraries the lab's trusted files import are loaded and before the
submission is imported:

- each forbidden aten operator (``[forbidden] aten`` in lab.toml: names or fnmatch patterns) gets a kernel
  that raises, registered at the dispatcher for every backend and composite key that has a kernel, so
  every route (torch.*, Tensor methods, ``torch.ops.aten``, ``torch._C._VariableFunctions``, inside
  ``_DisableTorchDispatch``, from any thread) ends there;
- each forbidden Python function (``numpy.linalg.lstsq``...) is replaced in every module that binds it,
  together with the private kernel behind it (``numpy.linalg._umath_linalg``); autograd's engine when the
  lab forbids autograd; ``_posixsubprocess.fork_exec``, which starts programs without an audit event;
- an audit hook, which cannot be removed once added, refuses imports of the forbidden libraries (and of
  the sandbox's own modules again: a way to fresh unguarded copies), files under the blocked paths, and,
  when student code causes them, code built at run time (exec, eval, compile, code objects), frame and
  garbage-collector introspection and ctypes; it refuses starting programs from anywhere.

Each refusal is recorded as a violation (read with the function ``install`` returns) and raises
ForbiddenAPI. The guards never keep a reference to what they replace, so nothing reachable from student
code leads back to the forbidden implementation. They live in the student's process, so they are one layer:
the static rule and the sandbox's isolation stand behind them.
"""
from __future__ import annotations

import ast
import fnmatch
import importlib
import importlib.util
import os
import re
import stat
import sys
import warnings
from pathlib import Path
from typing import Any, Callable

# Modules no sandbox may import, whatever the lab: other interpreters escape the audit hook.
ALWAYS_BLOCKED = ("_xxsubinterpreters", "_xxinterpchannels", "_interpreters", "_interpchannels")
# Private kernels behind public NumPy functions: guarded with them.
KERNELS = {
    "numpy.linalg.lstsq": ("numpy.linalg._umath_linalg.lstsq",),
    "numpy.linalg.solve": ("numpy.linalg._umath_linalg.solve", "numpy.linalg._umath_linalg.solve1"),
    "numpy.linalg.inv": ("numpy.linalg._umath_linalg.inv",),
    "numpy.linalg.tensorsolve": ("numpy.linalg._umath_linalg.solve",),
    "numpy.linalg.tensorinv": ("numpy.linalg._umath_linalg.inv",),
}
# Forbidding any of these forbids autograd: its engine and forward-mode duals are guarded.
AUTOGRAD = ("torch.autograd", "torch.Tensor.backward", "torch.func")
AUTOGRAD_ATEN = ("_make_dual", "_unpack_dual")
# Dispatch keys whose kernels only redispatch (or compute shapes only): left alone.
WRAPPER_KEYS = ("Autograd", "Autocast", "FuncTorch", "Tracer", "ADInplaceOrView", "Functionalize", "Python", "Meta",
                "BackendSelect", "Named", "Batched", "PreDispatch", "Conjugate", "Negative", "ZeroTensor", "debug")
# Audit events refused from anywhere: the sandbox never starts a program or adds a hook once guarded.
ALWAYS_DENIED = frozenset({"os.exec", "os.posix_spawn", "os.spawn", "os.system", "os.forkpty", "subprocess.Popen",
                           "sys.addaudithook"})
# Audit events refused when student code causes them (directly, or through a library it called).
STUDENT_DENIED = frozenset({"compile", "exec", "code.__new__", "function.__new__", "marshal.load", "marshal.loads",
                            "pickle.find_class", "sys.settrace", "sys.setprofile", "gc.get_objects",
                            "gc.get_referrers", "gc.get_referents", "os.link", "os.symlink"})
# Introspection refused when student code does it itself (libraries look at their own callers' frames,
# e.g. torch.manual_seed keeps a formatted stack).
STUDENT_DIRECT = frozenset({"sys._getframe", "sys._current_frames", "object.__getattr__"})
LABELS = {"compile": "compile (code built at run time)", "exec": "exec/eval (code built at run time)",
          "object.__getattr__": "an object's internals (__code__, frames)", "os.exec": "os.exec (starting a program)",
          "subprocess.Popen": "subprocess (starting a program)", "os.system": "os.system (starting a program)"}
MAX_VIOLATIONS = 20
INFRASTRUCTURE = ("worker.py", "wire.py", "guards.py")


class ForbiddenAPI(ImportError):
    """Something this lab forbids (an ImportError, so that ``try: import x`` fallbacks keep working)."""


def install(forbidden_names: list[str], forbidden_aten: list[str], student_files: list[str],
            blocked_paths: list[str], folder: str) -> Callable[[], list[str]]:
    """Install every guard; return ``take()``, which returns the violations recorded since its last call."""
    violations: list[str] = []

    def record(label: str) -> None:
        if label not in violations and len(violations) < MAX_VIOLATIONS:
            violations.append(label)

    def take() -> list[str]:
        found = list(violations)
        violations.clear()
        return found

    blocked = tuple(sorted({name for name in forbidden_names if "." not in name} | set(ALWAYS_BLOCKED)))
    preload(folder, student_files, blocked)
    for name in blocked:  # present only if something imported it before the guards: no longer reachable by import
        for module in [key for key in sys.modules if key == name or key.startswith(name + ".")]:
            del sys.modules[module]
    guard_names(forbidden_names, blocked, record)
    aten = list(forbidden_aten) + (list(AUTOGRAD_ATEN) if any(_under(n, AUTOGRAD) for n in forbidden_names) else [])
    library = guard_aten(aten, record) if aten and "torch" not in blocked else None
    guard_programs(record)
    resolve = resolver()
    roots = [(resolve(path, "/"), "open() on a file the sandbox hides") for path in blocked_paths]
    roots += [(resolve(path, "/"), f"{name} (by import)") for name, path in _package_dirs(blocked)]
    sys.addaudithook(audit_hook(blocked, roots, folder, record, keep=library))
    return take


def preload(folder: str, student_files: list[str], blocked: tuple[str, ...]) -> None:
    """Import the libraries the lab's trusted files (probes, given files) import, before any guard: their
    own start-up may load native code or build classes with exec, which the guards refuse afterwards."""
    local = {path.stem for path in Path(folder).glob("*.py")} | {Path(name).stem for name in student_files}
    for path in Path(folder).glob("*.py"):
        if path.name in student_files or path.name in INFRASTRUCTURE:
            continue
        for node in ast.walk(ast.parse(path.read_text(), path.name)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and not node.level and node.module else []
            for name in names:
                if name.partition(".")[0] not in local and not _under(name, blocked):
                    try:
                        importlib.import_module(name)
                    except ImportError:  # reported as it always is, when the probes import it
                        continue


def guard_names(names: list[str], blocked: tuple[str, ...], record: Callable[[str], None]) -> None:
    """Replace each forbidden function (and the private kernels behind it) by a guard in every module and
    class that binds it; a forbidden class's constructor raises. Whole modules are left to the import block,
    the dispatcher guard and the static rule."""
    targets: dict[int, str] = {}
    for name in names:
        if _under(name, blocked):
            continue
        for label, (owner, attr, value) in [(name, _lookup(name)), *((k, _lookup(k)) for k in KERNELS.get(name, ()))]:
            if value is None or isinstance(value, type(sys)):
                continue
            if isinstance(value, type):
                value.__init__ = _refuse(label, record)
            elif isinstance(owner, type):
                _set(owner, attr, _refuse(label, record))
            else:
                targets[id(value)] = label
    if targets:
        for module in list(sys.modules.values()):
            namespace = getattr(module, "__dict__", {})
            for attr, value in list(namespace.items()):
                if id(value) in targets:
                    namespace[attr] = _refuse(targets[id(value)], record)
    if any(_under(name, AUTOGRAD) for name in names) and "torch" in sys.modules:
        guard_autograd(record)


def guard_autograd(record: Callable[[str], None]) -> None:
    """Autograd's engine (backward, autograd.grad, torch.func.grad) refuses to run; no new engine can be made."""
    import torch.autograd.variable

    class Refused:
        def __getattr__(self, name: str) -> Any:
            return _refuse("torch.autograd (backward)", record)

    torch.autograd.variable.Variable._execution_engine = Refused()
    engine = torch._C._ImperativeEngine
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", {})
        for attr in [attr for attr, value in namespace.items() if value is engine]:
            namespace[attr] = Refused
    del engine


def guard_aten(patterns: list[str], record: Callable[[str], None]) -> Any:
    """Register a raising kernel for every overload of every aten operator matching ``patterns``, at each
    dispatch key that computes it; returns the registration, which must stay alive."""
    import torch

    library = torch._C._dispatch_library("IMPL", "aten", "")
    warnings.filterwarnings("ignore", message=".*[Oo]verrid")  # replacing kernels is the point
    for full in torch._C._dispatch_get_all_op_names():
        namespace, _, name = full.partition("::")
        base = name.partition(".")[0]
        if namespace != "aten" or not any(fnmatch.fnmatchcase(base, pattern) for pattern in patterns):
            continue
        kernel = _refuse(f"torch.ops.aten.{base}", record)
        for line in torch._C._dispatch_dump(full).splitlines():
            match = re.match(r"(\w+)(\[alias\])?: registered", line)
            if match and not match.group(1).startswith(WRAPPER_KEYS):
                library.impl(name, match.group(1), kernel)
    return library


def guard_programs(record: Callable[[str], None]) -> None:
    """``_posixsubprocess.fork_exec`` (subprocess, multiprocessing's spawn and forkserver) raises no audit
    event: replace it. A forked child keeps every guard, so ``os.fork`` stays."""
    import _posixsubprocess

    _posixsubprocess.fork_exec = _refuse("_posixsubprocess.fork_exec (starting a program)", record)


def audit_hook(blocked: tuple[str, ...], roots: list[tuple[str, str]], folder: str, record: Callable[[str], None],
               keep: Any) -> Callable[[str, tuple], None]:
    """The audit hook. Everything it calls is bound here (C functions, closures, constants), so rebinding
    module attributes or builtins from student code changes nothing, and it never calls an object the
    student made; ``keep`` (the dispatcher registration) lives as long as the hook, which nothing reaches.

    Code is trusted if it comes from the Python installation (the interpreter, the standard library, the
    installed packages) or is this sandbox's own worker, wire or guards; everything else (the submission,
    the probes, any file written or source compiled at run time) is blamed for what it causes."""
    getframe, get_ident, resolve, getcwd = sys._getframe, _thread_ident(), resolver(), os.getcwd
    installed = frozenset(sys.modules)
    loaded = frozenset(resolve(path, "/") for path in _extension_files())
    trusted_files = frozenset(os.path.join(folder, name) for name in INFRASTRUCTURE)
    trusted_roots = tuple(sorted({root.rstrip("/") + "/" for root in _trusted_roots(folder, resolve)}))
    roots = tuple(roots)
    always, caused, direct, labels, denied = ALWAYS_DENIED, STUDENT_DENIED, STUDENT_DIRECT, dict(LABELS), ForbiddenAPI
    kind, is_a, str_type, bytes_type, int_type, everything = type, isinstance, str, bytes, int, slice(None)
    importing, module_loading = "<frozen importlib", frozenset({"compile", "exec", "marshal.loads"})
    busy: set[int] = set()

    def plain(path: object) -> str | None:
        """A path as a plain str (read through the base types, never the student's methods), else None."""
        if is_a(path, bytes_type):
            return bytes_type.decode(bytes_type.__getitem__(path, everything), "utf-8", "surrogateescape")
        return str_type.__getitem__(path, everything) if is_a(path, str_type) else None

    def hidden(path: str | None) -> str | None:
        """The label of the blocked folder ``path`` lies in, else None."""
        if path is None:
            return None
        real = resolve(path, getcwd())
        for root, label in roots:
            if real == root or real.startswith(root + "/"):
                return label
        return None

    def untrusted(filename: str) -> bool:
        if filename in trusted_files or filename.startswith("<frozen "):
            return False
        for root in trusted_roots:
            if filename.startswith(root):
                return False
        return True

    def by_student() -> bool:
        """Whether untrusted code caused the event: an untrusted frame comes before the body of a trusted
        module being imported (a library's own start-up code, even if the student's import started it)."""
        frame = getframe(2)
        while frame is not None:
            code = frame.f_code
            if untrusted(code.co_filename):
                return True
            if code.co_name == "<module>" and not code.co_filename.startswith(importing):
                return False
            frame = frame.f_back
        return False

    def loading(event: str) -> bool:
        """Whether the import system itself reads, compiles or runs a module's code (the code of an
        untrusted module then runs in frames of its untrusted file, blamed for what they cause)."""
        return event in module_loading and getframe(2).f_code.co_filename.startswith(importing)

    def refuse(label: str, blame: bool) -> None:
        if blame:
            record(label)
        raise denied(f"{label} is not allowed in the sandbox")

    def hook(event: str, args: tuple) -> None:
        if event not in always and event not in caused and event not in direct and event != "import" \
                and event != "open" and not event.startswith("ctypes."):
            return
        me = get_ident()
        if me in busy:  # the hook's own frame and attribute reads raise events too
            return
        busy.add(me)
        try:
            if event in always:
                refuse(labels.get(event, event), by_student())
            elif event == "import":
                name, filename = plain(args[0]) or "", plain(args[1])
                if name.partition(".")[0] in blocked or name in installed or hidden(filename) is not None \
                        or (filename is not None and resolve(filename, getcwd()) in loaded):
                    refuse(f"{name} (by import)", by_student())
            elif event == "open":
                path = args[0]
                label = hidden(plain(path))
                if label is not None:
                    refuse(label, by_student())
                if kind(path) is not str_type and kind(path) is not bytes_type and kind(path) is not int_type \
                        and by_student():
                    refuse("open() of a path object", True)
            elif event in direct:
                if untrusted(getframe(1).f_code.co_filename):
                    refuse(labels.get(event, event), True)
            elif not loading(event) and by_student():
                refuse(labels.get(event, event), True)
        finally:
            busy.discard(me)

    hook.keep = keep
    return hook


# ---- helpers (run at install time, or bound into the hook above) ----


def _refuse(label: str, record: Callable[[str], None]) -> Callable[..., Any]:
    """A stand-in that records ``label`` and raises, whatever it is called with."""

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        record(label)
        raise ForbiddenAPI(f"{label} is forbidden in this lab")

    forbidden.__name__ = forbidden.__qualname__ = label.rpartition(".")[2].partition(" ")[0] or label
    return forbidden


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def _lookup(name: str) -> tuple[Any, str, Any]:
    """(owner, attribute, value) for a dotted name, importing its module; value None if it does not exist."""
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            owner = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:-1]:
                owner = getattr(owner, attr)
            return owner, parts[-1], getattr(owner, parts[-1])
        except AttributeError:
            break
    return None, parts[-1], None


def _set(owner: type, attr: str, value: Any) -> None:
    """Set a class attribute where the class allows it (a C type such as numpy.ndarray does not)."""
    try:
        setattr(owner, attr, value)
    except TypeError:
        pass


def _package_dirs(modules: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, folder) of the blocked packages that are installed (found without importing them)."""
    dirs = []
    for name in modules:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for location in (spec.submodule_search_locations or []) if spec else []:
            dirs.append((name, location))
    return dirs


def _trusted_roots(folder: str, resolve: Callable[[str, str], str]) -> set[str]:
    """The Python installation's folders: its prefixes and the import path outside the sandbox folder."""
    sandbox = resolve(folder, "/")
    found = set()
    for path in (sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix, *sys.path):
        if path and os.path.isdir(path):
            for form in (os.path.abspath(path), resolve(path, "/")):
                if form != sandbox and not sandbox.startswith(form.rstrip("/") + "/"):
                    found.add(form)
    return found


def _thread_ident() -> Callable[[], int]:
    import _thread

    return _thread.get_ident


def _extension_files() -> list[str]:
    """The files of the native extension modules loaded now (loading one again gives fresh, unguarded objects)."""
    files = []
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path.endswith((".so", ".pyd")):
            files.append(path)
    return files


def resolver() -> Callable[[str, str], str]:
    """``resolve(path, cwd)``: the absolute path with every symbolic link followed, like os.path.realpath
    but calling only the C functions bound here (student code can rebind os.lstat, not these references)."""
    lstat, readlink, is_link, os_error = os.lstat, os.readlink, stat.S_ISLNK, OSError

    def resolve(path: str, cwd: str) -> str:
        pending = [part for part in (path if path.startswith("/") else cwd + "/" + path).split("/") if part]
        pending.reverse()
        done: list[str] = []
        hops = 0
        while pending:
            part = pending.pop()
            if part == "..":
                if done:
                    done.pop()
                continue
            if part == ".":
                continue
            current = "/" + "/".join([*done, part])
            try:
                link = is_link(lstat(current).st_mode) and hops < 40
            except os_error:
                link = False
            if link:
                hops += 1
                target = readlink(current)
                if target.startswith("/"):
                    done = []
                pending += [piece for piece in target.split("/") if piece][::-1]
                continue
            done.append(part)
        return "/" + "/".join(done)

    return resolve
