"""The model's code as a Nix input: exactly the files the model runs with.

Built-in model: ``sweepgui/__init__.py``, ``resources.py``, ``atomic.py``, ``params/**``, ``model/**`` and
``resources/materials.toml`` are copied into a content-addressed staging folder, which
the Nix expression adds to the store. Editing the model (or the parameter definitions)
changes that store path and so rebuilds the points; editing the GUI changes nothing.

Custom model (``[model] executable``): the one file is added to the store as it is, so an
edit of the script rebuilds its points.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent          # .../sweepgui
_SOURCES = ("__init__.py", "resources.py", "atomic.py", "params", "model")
_SKIP_DIRS = {"__pycache__"}
_SKIP_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True)
class ModelSource:
    """What the Nix expression receives as the model.

    Attributes
    ----------
    kind : "builtin" | "custom"
    path : Path
        A folder (built-in) or the executable (custom) to add to the store.
    store_name : str
        The name of its store path.
    source_hash : str
        ``sha256:`` of the model's files (names and contents).
    name, version : str
        For the manifest.
    """

    kind: str
    path: Path
    store_name: str
    source_hash: str
    name: str
    version: str


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sweepgui" / "model-src"


def _builtin_files() -> list[tuple[str, Path]]:
    """(relative name in the staging folder, source file), sorted."""
    files: list[tuple[str, Path]] = []
    for entry in _SOURCES:
        src = _PACKAGE / entry
        if src.is_file():
            files.append((f"sweepgui/{entry}", src))
            continue
        for dirpath, dirnames, filenames in os.walk(src):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
            for fn in sorted(filenames):
                if fn.endswith(_SKIP_SUFFIXES):
                    continue
                full = Path(dirpath) / fn
                files.append((f"sweepgui/{full.relative_to(_PACKAGE).as_posix()}", full))
    materials = _PACKAGE.parent / "resources" / "materials.toml"
    if materials.is_file():
        files.append(("resources/materials.toml", materials))
    return sorted(files)


def _model_version() -> str:
    try:
        from .. import model as _model

        for attr in ("MODEL_VERSION", "__version__", "VERSION"):
            v = getattr(_model, attr, None)
            if isinstance(v, str):
                return v
    except Exception:
        pass
    from .. import __version__

    return __version__


def builtin_model_source(cache_root: Path | None = None) -> ModelSource:
    """Stage the built-in model's files (once per content) and describe them."""
    files = _builtin_files()
    h = hashlib.sha256()
    contents = []
    for rel, src in files:
        data = src.read_bytes()
        contents.append((rel, data))
        h.update(rel.encode() + b"\0" + len(data).to_bytes(8, "little") + data)
    digest = h.hexdigest()
    root = cache_root or _cache_root()
    target = root / digest[:32]
    if not (target / ".complete").exists():
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
        for rel, data in contents:
            dest = tmp / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        (tmp / ".complete").write_text("")
        try:
            os.replace(tmp, target)
        except OSError:  # another process staged the same content first
            shutil.rmtree(tmp, ignore_errors=True)
    return ModelSource(kind="builtin", path=target, store_name="sweepgui-model",
                       source_hash="sha256:" + digest, name="sweepgui-pipe",
                       version=_model_version())


def store_safe(text: str, limit: int = 60) -> str:
    """Text reduced to the characters a store path name allows ([A-Za-z0-9+-._?=])."""
    safe = re.sub(r"[^A-Za-z0-9+\-._?=]+", "_", text).strip("_")
    safe = safe.lstrip(".") or "x"  # a store name must not start with a dot
    return safe[:limit]


def custom_model_source(executable: Path) -> ModelSource:
    """Describe a custom model executable (``EXE PARAMS.json OUT`` contract)."""
    exe = Path(executable).resolve()
    if exe.is_dir():
        raise FileNotFoundError(f"model executable {exe} is a folder: name the script in it")
    if not exe.is_file():
        raise FileNotFoundError(f"model executable {exe} does not exist")
    data = exe.read_bytes()
    if not exe.name.endswith(".py") and not os.access(exe, os.X_OK):
        raise PermissionError(f"model executable {exe} is not executable "
                              f"(run `chmod +x {exe}`, or name it .py to run it with Python)")
    return ModelSource(kind="custom", path=exe,
                       store_name="sweepgui-model-" + store_safe(exe.name),
                       source_hash="sha256:" + hashlib.sha256(data).hexdigest(),
                       name=exe.name, version="")
