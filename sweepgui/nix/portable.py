"""The portable interpreter: this app's Python as one self-contained, content-addressed store path.

A point's store path is a function of all its inputs, the interpreter included, and any
machine with Nix must be able to build it. A Python that lives outside the store (a venv, a
Debian python3) is neither: its path means nothing on a colleague's builder, and its files
are not an input. So the app copies what a model needs into one folder and adds it to the
store (``nix-store --add``: the path is the hash of the contents):

``bin/python3.X``
    the interpreter's own executable (not a venv's link);
``lib/python3.X/``
    its standard library and ``lib-dynload`` (Python finds them next to its executable);
``site/``
    the distributions the model needs (numpy, scipy, pydantic, CoolProp and what they
    require), each with every file its RECORD lists;
``lib/sys/``
    every shared library the executable and the extension modules load (ldd), down to the
    dynamic loader and libc, under their sonames.

Every ``.py`` is compiled with hash-based ``.pyc`` files (deterministic, valid in the store).
A builder runs ``lib/sys/<loader> --library-path lib/sys bin/python3.X``: the host's own
loader and libraries are never used, so a builder whose builds see only the store (no /usr,
/lib) runs it, and the closure copy brings it there. The path is the same wherever the
points run, so adding remote builders to a sweep that ran locally rebuilds nothing.

Made once per environment (keyed by the interpreter's identity: version and installed
distributions) and remembered in the user's cache folder, with a GC root.
"""

from __future__ import annotations

import compileall
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ._nixcmd import NixError, nix_command, nix_env, run_nix

if TYPE_CHECKING:
    from email.message import Message

# what the built-in model imports (its dependency closure is added)
MODEL_DISTRIBUTIONS = ("numpy", "scipy", "pydantic", "CoolProp")
# never needed by a model, and large
_SKIP_STDLIB = {"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3",
                "pydoc_data", "__pycache__", "site-packages", "dist-packages", "config-3.11"}
FORMAT = 2  # bump when the layout changes


@dataclass(frozen=True)
class Portable:
    """A portable interpreter in the store."""

    store_path: str
    python: str        # <store>/bin/python3.X
    loader: str        # <store>/lib/sys/ld-linux-...
    library_path: str  # <store>/lib/sys
    site: str          # <store>/site

    def command(self) -> list[str]:
        """How to start this Python on any machine (its own loader and libraries)."""
        return [self.loader, "--library-path", self.library_path, self.python]

    @classmethod
    def at(cls, store_path: str) -> Portable:
        info = json.loads(Path(store_path, "portable.json").read_text())
        return cls(store_path, f"{store_path}/{info['python']}", f"{store_path}/{info['loader']}",
                   f"{store_path}/lib/sys", f"{store_path}/site")


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sweepgui" / "portable"


def _requirements(name: str, seen: set[str]) -> None:
    key = name.lower().replace("_", "-")
    if key in seen:
        return
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return
    seen.add(key)
    from packaging.requirements import Requirement  # pip's vendored copy is not importable

    for text in dist.requires or []:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        _requirements(req.name, seen)


def distribution_name(dist: metadata.Distribution) -> str:
    """A distribution's normalised name (``pyyaml``, ``typing-extensions``); "" for a broken
    one whose metadata has no Name."""
    # its metadata is an email Message (PackageMetadata's .get is typed from Python 3.12 on)
    name = cast("Message", dist.metadata).get("Name")
    return (name or "").lower().replace("_", "-")


def model_distributions() -> list[metadata.Distribution]:
    """The installed distributions a model needs (MODEL_DISTRIBUTIONS and what they require)."""
    names: set[str] = set()
    for n in MODEL_DISTRIBUTIONS:
        _requirements(n, names)
    out: list[metadata.Distribution] = []
    for dist in metadata.distributions():
        name = distribution_name(dist)
        if name in names and name not in {d.metadata["Name"].lower().replace("_", "-")
                                          for d in out}:
            out.append(dist)
    return sorted(out, key=lambda d: d.metadata["Name"].lower())


def identity(dists: list[metadata.Distribution] | None = None) -> dict[str, Any]:
    dists = model_distributions() if dists is None else dists
    return {"format": FORMAT, "python": sys.version, "executable": _real_python(),
            "machine": os.uname().machine,
            "packages": {d.metadata["Name"]: d.version for d in dists}}


def _real_python() -> str:
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


_LDD = re.compile(r"^\s*(?:(\S+)\s+=>\s+)?(/\S+)\s+\(0x[0-9a-f]+\)")


def _needed(files: list[str]) -> dict[str, str]:
    """soname -> path of every shared library ``files`` load (as ldd resolves them)."""
    out: dict[str, str] = {}
    for f in files:
        try:
            p = subprocess.run(["ldd", f], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        for line in p.stdout.splitlines():
            m = _LDD.match(line)
            if not m:
                continue
            name, path = m.group(1) or os.path.basename(m.group(2)), m.group(2)
            out.setdefault(name, path)
    return out


def _copy_stdlib(src: Path, dst: Path) -> None:
    def ignore(folder: str, names: list[str]) -> list[str]:
        here = Path(folder)
        return [n for n in names if n in _SKIP_STDLIB or n.endswith((".pyc", ".pyo"))
                or (here == src and n.startswith("config-"))]
    shutil.copytree(src, dst, ignore=ignore, symlinks=False)


def _copy_dist(dist: metadata.Distribution, site: Path) -> None:
    # a distribution in a folder locates its files as Paths (typed: any SimplePath)
    root = Path(cast("os.PathLike[str]", dist.locate_file("")))
    for f in dist.files or []:
        rel = Path(str(f))
        if rel.is_absolute() or ".." in rel.parts or "__pycache__" in rel.parts \
                or rel.suffix in (".pyc", ".pyo"):
            continue
        src = root / rel
        if not src.is_file():
            continue
        target = site / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        if os.access(src, os.X_OK):
            target.chmod(0o755)


def build_tree(dst: Path, dists: list[metadata.Distribution] | None = None) -> dict[str, Any]:
    """Lay out the portable interpreter in ``dst`` (see the module doc); returns its info."""
    dists = model_distributions() if dists is None else dists
    py = _real_python()
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    (dst / "bin").mkdir(parents=True)
    shutil.copyfile(py, dst / "bin" / version)
    (dst / "bin" / version).chmod(0o755)
    stdlib = Path(sysconfig.get_paths(scheme="posix_prefix",
                                      vars={"base": sys.base_prefix,
                                            "installed_base": sys.base_prefix})["stdlib"])
    if not (stdlib / "os.py").exists():
        stdlib = Path(os.path.dirname(os.__file__))
    _copy_stdlib(stdlib, dst / "lib" / version)
    dynload = dst / "lib" / version / "lib-dynload"
    if not dynload.exists():  # some Pythons keep it elsewhere
        import _struct  # noqa: F401 - an extension module of the standard library

        struct_file = sys.modules["_struct"].__file__
        if struct_file is None:  # built into the interpreter: no folder to take them from
            raise NixError(f"could not find the extension modules (lib-dynload) of {py}")
        src = Path(struct_file).parent
        shutil.copytree(src, dynload)
    site = dst / "site"
    site.mkdir()
    for d in dists:
        _copy_dist(d, site)
    binaries = [str(dst / "bin" / version)] + [str(p) for p in dst.rglob("*.so*") if p.is_file()]
    libs = _needed(binaries)
    sysdir = dst / "lib" / "sys"
    sysdir.mkdir(parents=True)
    loader = None
    tree = str(dst)
    for name, path in sorted(libs.items()):
        if os.path.realpath(path).startswith(tree):
            continue  # shipped inside a package (numpy.libs, ...) and found through its rpath
        shutil.copyfile(os.path.realpath(path), sysdir / os.path.basename(name))
        (sysdir / os.path.basename(name)).chmod(0o755)
        if os.path.basename(name).startswith("ld-linux") or os.path.basename(name).startswith("ld64"):
            loader = os.path.basename(name)
    if loader is None:
        raise NixError(f"could not find the dynamic loader of {py} (ldd said: {libs})")
    # hash-based .pyc files: deterministic, and valid in the store (no mtimes there)
    from py_compile import PycInvalidationMode

    for folder in (dst / "lib" / version, site):
        # ddir: the file names inside the .pyc do not name this temporary folder (Python
        # puts the real path in when it imports them)
        compileall.compile_dir(str(folder), quiet=2, workers=0,
                               ddir=f"/sweepgui-python/{folder.relative_to(dst)}",
                               invalidation_mode=PycInvalidationMode.UNCHECKED_HASH)
    info = {"format": FORMAT, "python": f"bin/{version}", "loader": f"lib/sys/{loader}",
            "identity": identity(dists)}
    (dst / "portable.json").write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
    # the same bytes wherever it is made: no mode bits but the executable bit count (NAR)
    return info


def _record(key: str) -> Path:
    return _cache_dir() / f"{key}.json"


def _valid(path: str) -> bool:
    from .store import invalid_paths

    try:
        return bool(path) and not invalid_paths([path])
    except NixError:
        return False


def ensure_portable(progress: Callable[[str], None] | None = None) -> Portable:
    """The portable interpreter of this environment: the remembered one, or made now
    (the first time about a minute; then a few milliseconds). Raises NixError."""
    ident = identity()
    key = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:32]
    rec = _record(key)
    if rec.exists():
        try:
            path = json.loads(rec.read_text())["store_path"]
        except (OSError, ValueError, KeyError):
            path = ""
        if _valid(path):
            return Portable.at(path)
    if progress:
        progress("making the portable Python (once per environment, about a minute)")
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sweepgui-portable-") as tmp:
        tree = Path(tmp) / "sweepgui-python"
        build_tree(tree)
        out = run_nix([nix_command("nix-store"), "--add", str(tree)], env=nix_env(),
                      timeout=1800, what="adding the portable Python to the Nix store").strip()
    rec.parent.mkdir(parents=True, exist_ok=True)
    root = rec.with_suffix(".gcroot")
    from .gcroots import add_root

    add_root(root, out)
    from ..atomic import atomic_write

    atomic_write(rec, json.dumps({"store_path": out, "identity": ident,
                                  "seconds": round(time.monotonic() - t0, 1)}, indent=1))
    return Portable.at(out)


def tree_size(store_path: str) -> str:
    """The size of a store path as Nix counts it (its NAR), e.g. "312 MB"."""
    try:
        out = run_nix([nix_command("nix-store"), "--query", "--size", store_path],
                      env=nix_env(), timeout=30, what="nix-store --query --size")
        return f"{int(out.strip()) / 1e6:.0f} MB"
    except (NixError, ValueError):
        return "size unknown"
