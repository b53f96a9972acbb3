"""Which Python runs the points inside Nix builds, and what identifies it.

Three modes:

``portable`` (the default)
    This app's own Python made into one self-contained, content-addressed store path (see
    :mod:`sweepgui.nix.portable`): a real input of every point, run through its own dynamic
    loader, so any builder with Nix runs it (its builds may see nothing but the store), and
    the points' store paths are the same wherever they are built.
``nixpkgs``
    A Python from the Nix store (the flake provides one with numpy, scipy and pydantic;
    point ``SWEEPGUI_NIX_PYTHON`` at its ``bin/python3``). Pure: its store path is an input
    of every point, and remote builders receive it by closure copy.
``host`` (``SWEEPGUI_INTERPRETER=host``)
    The app's own interpreter (``sys.executable``, e.g. a virtual environment): an impure
    path that works where ``sandbox = false`` (Debian's default). Its identity -- Python
    version and every installed distribution with its version -- is hashed into every point,
    so that changing the environment rebuilds the points.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import stat
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from typing import Any

ENV_VAR = "SWEEPGUI_NIX_PYTHON"
MODE_VAR = "SWEEPGUI_INTERPRETER"  # "host": the app's own Python by path (impure)
STORE_DIR = os.environ.get("NIX_STORE_DIR", "/nix/store")


@dataclass(frozen=True)
class InterpreterInfo:
    """The interpreter the builds will use.

    Attributes
    ----------
    mode : "portable" | "nixpkgs" | "host"
    python : str
        Absolute path of the interpreter as the builder runs it.
    description : str
        One sentence for the user: which mode and why.
    identity : dict
        What identifies the interpreter (hashed into every point in host mode).
    store_path : str | None
        portable and nixpkgs modes: the store path holding the interpreter.
    command : tuple of str
        How to start the interpreter (portable: its own loader and libraries first).
    loader, library_path, site : str
        portable mode: its dynamic loader, shared-library folder and packages folder.
    """

    mode: str
    python: str
    description: str
    identity: dict[str, Any] = field(default_factory=dict)
    store_path: str | None = None
    loader: str = ""
    library_path: str = ""
    site: str = ""

    @property
    def command(self) -> tuple[str, ...]:
        if self.loader:
            return (self.loader, "--library-path", self.library_path, self.python)
        return (self.python,)

    @property
    def identity_hash(self) -> str:
        text = json.dumps(self.identity, sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _store_path_of(path: str) -> str | None:
    prefix = STORE_DIR.rstrip("/") + "/"
    if not path.startswith(prefix):
        return None
    first = path[len(prefix):].split("/", 1)[0]
    return prefix + first if first else None


# Not part of the identity: the model's own source is a separate input of every point
# (editing the GUI, part of the same distribution, must not rebuild anything), and the
# installers never run inside a model (`pip install --upgrade pip` must not rebuild either).
_NOT_IDENTITY = frozenset({"sweepgui", "pip", "setuptools", "wheel"})


def _host_identity(python: str) -> dict[str, Any]:
    from .portable import distribution_name

    packages = {}
    for dist in metadata.distributions():
        name = distribution_name(dist)
        if name and name not in _NOT_IDENTITY:
            packages[name] = dist.version
    return {
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "executable": python,
        "machine": platform.machine(),
        "packages": dict(sorted(packages.items())),
    }


@lru_cache(maxsize=4)
def _detect(env_value: str | None, mode: str | None) -> InterpreterInfo:
    why_not_nixpkgs = f"{ENV_VAR} is not set"
    if env_value:
        store_path = _store_path_of(env_value)
        if store_path is None:
            why_not_nixpkgs = f"{ENV_VAR}={env_value} is not inside {STORE_DIR}"
        elif not os.access(env_value, os.X_OK):
            why_not_nixpkgs = f"{ENV_VAR}={env_value} does not exist or is not executable"
        else:
            return InterpreterInfo(
                mode="nixpkgs", python=env_value, store_path=store_path,
                description=f"Python from the Nix store ({store_path}): pure builds, "
                            "remote builders receive it with the build",
                identity={"store_path": store_path, "python": env_value})
    if mode != "host":
        from .portable import ensure_portable, tree_size

        p = ensure_portable()
        return InterpreterInfo(
            mode="portable", python=p.python, store_path=p.store_path, loader=p.loader,
            library_path=p.library_path, site=p.site,
            description=f"portable Python {platform.python_version()} in the Nix store "
                        f"({p.store_path}, {tree_size(p.store_path)}): an input of every "
                        "point, with its own libraries; any builder with Nix runs it"
                        + (f" ({why_not_nixpkgs})" if env_value else ""),
            identity={"store_path": p.store_path})
    python = sys.executable
    return InterpreterInfo(
        mode="host", python=python,
        description=f"host Python {platform.python_version()} ({python}, {MODE_VAR}=host). "
                    "Its version and installed packages are inputs of every point; "
                    "needs sandbox = false on every builder",
        identity=_host_identity(python))


def detect_interpreter() -> InterpreterInfo:
    """The interpreter mode this app can use here, and why (see the module doc). The first
    call in a new environment makes the portable Python (tens of seconds): not on a GUI
    thread. Raises NixError when it cannot be made."""
    return _detect(os.environ.get(ENV_VAR) or None, os.environ.get(MODE_VAR) or None)


def interpreter_mode() -> str:
    """The mode :func:`detect_interpreter` will use (instant: nothing is made)."""
    env_value = os.environ.get(ENV_VAR)
    if env_value and _store_path_of(env_value) and os.access(env_value, os.X_OK):
        return "nixpkgs"
    return "host" if os.environ.get(MODE_VAR) == "host" else "portable"


def readable_by_build_users(path: str) -> bool:
    """Whether a Nix build user (not root, not the owner) can run ``path`` (see
    :func:`blocking_folder`). A venv under /root (mode 700) fails this."""
    return blocking_folder(path) is None


def blocking_folder(path: str) -> tuple[str, int] | None:
    """What keeps a Nix build user (not root, not the owner) from ``path``: (the file or
    folder, its mode), or None when nothing does.

    Every folder on the way needs o+x, the file itself o+r (and o+x if executable, and a
    folder o+rx so that Python can list it); symlinks are followed.
    """
    seen = set()
    todo = [os.path.abspath(path)]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        parts = p.split("/")
        for i in range(2, len(parts) + 1):
            prefix = "/".join(parts[:i]) or "/"
            try:
                st = os.lstat(prefix)
            except OSError:
                return prefix, 0
            if stat.S_ISLNK(st.st_mode):
                target = os.path.join(os.path.dirname(prefix), os.readlink(prefix))
                rest = "/".join(parts[i:])
                todo.append(os.path.normpath(os.path.join(target, rest)) if rest else
                            os.path.normpath(target))
                break
            last = i == len(parts)
            if not last:
                need = stat.S_IXOTH
            elif stat.S_ISDIR(st.st_mode):
                need = stat.S_IXOTH | stat.S_IROTH
            elif st.st_mode & stat.S_IXUSR:
                need = stat.S_IXOTH | stat.S_IROTH
            else:
                need = stat.S_IROTH
            if (st.st_mode & need) != need:
                return prefix, stat.S_IMODE(st.st_mode)
    return None


def build_user_paths(info: InterpreterInfo) -> list[str]:
    """What a build user must read to run points with ``info`` in host mode: the
    interpreter and the folders its packages are imported from (nothing in nixpkgs mode:
    the store is readable by all)."""
    if info.mode != "host":
        return []
    import sysconfig

    paths = [info.python]
    for key in ("purelib", "platlib", "stdlib"):
        p = sysconfig.get_paths().get(key)
        if p and os.path.isdir(p) and p not in paths:
            paths.append(p)
    return paths
