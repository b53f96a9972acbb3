"""Writing sweep files: Sweep -> TOML text that reads back equal, saved atomically."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..atomic import atomic_write
from ._values import EOS

if TYPE_CHECKING:
    from ._sweep import Sweep

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
            "\r": "\\r"}


def toml_string(s: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for c in s:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def toml_key(part: str) -> str:
    return part if _BARE.fullmatch(part) else toml_string(part)


def toml_value(v: Any) -> str:
    """Floats as repr (the shortest text that reads back as the same float)."""
    if v is None:
        return toml_string(EOS)  # TOML has no null; "eos" = from the equation of state
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"{v!r} cannot be written to a sweep file: use a finite number")
        return repr(v)
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise ValueError(f"{v!r} ({type(v).__name__}) cannot be written to a sweep file")


def sweep_to_toml(sweep: Sweep) -> str:
    parts: list[str] = []
    if sweep.fixed:
        parts.append("[fixed]\n" + "".join(
            f"{'.'.join(toml_key(p) for p in path.split('.'))} = {toml_value(v)}\n"
            for path, v in sweep.fixed.items()))
    if sweep.variables:
        parts.append("[variable]\n" + "".join(
            f"{toml_string(path)} = {toml_value(spec.to_toml_value())}\n"
            for path, spec in sweep.variables.items()))
    if sweep.zips:
        parts.append("[zip]\n" + "".join(
            f"{toml_key(group)} = {toml_value(list(members))}\n"
            for group, members in sweep.zips.items()))
    for name, settings in (("run", sweep.run), ("model", sweep.model)):
        values = {k: v for k, v in settings.model_dump().items() if v is not None}
        if values:
            parts.append(f"[{name}]\n" + "".join(
                f"{toml_key(k)} = {toml_value(v)}\n" for k, v in values.items()))
    return "\n".join(parts)


def _rebased(name: str | None, old: Path, new: Path) -> str | None:
    """A relative path written for folder ``old``, rewritten to point at the same file from ``new``."""
    if not name or Path(name).expanduser().is_absolute() or old == new:
        return name
    return Path(os.path.relpath(old / name, new)).as_posix()


def save_sweep(sweep: Sweep, path: str | Path) -> Sweep:
    """Write ``sweep`` to ``path`` atomically (temp file + rename) and return the saved Sweep.

    The returned copy has ``source`` = path; relative ``[run] machines`` and
    ``[model] executable`` paths are rewritten so that they still name the same files
    from the new folder. The sweep is not checked: a draft can be saved.
    """
    path = Path(path).absolute()
    folder = path.parent
    saved = sweep.model_copy(update={
        "source": path,
        "base_dir": folder,
        "run": sweep.run.model_copy(update={
            "machines": _rebased(sweep.run.machines, sweep.base_dir, folder)}),
        "model": sweep.model.model_copy(update={
            "executable": _rebased(sweep.model.executable, sweep.base_dir, folder)}),
    })
    text = saved.to_toml()
    atomic_write(path, text, fsync=True)
    from ._locate import KeyLocator

    saved._locator = KeyLocator(text)  # later errors point at lines of the saved file
    return saved
