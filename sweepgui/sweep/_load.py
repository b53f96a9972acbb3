"""Reading sweep files: TOML text -> Sweep, every problem located at its file, line and key."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..params import GROUPS, parameter_paths
from ._errors import SweepError, did_you_mean
from ._locate import KeyLocator, _parse_key, toml_lines
from ._spec import GENERATORS, VariableSpec
from ._sweep import ModelSettings, RunSettings, Sweep

SECTIONS = ("fixed", "variable", "zip", "run", "model")

_Settings = TypeVar("_Settings", bound=BaseModel)


def load_sweep(path: str | os.PathLike[str]) -> Sweep:
    """Read and check the sweep file at ``path``; raise SweepError naming file, line and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise SweepError(f"not UTF-8 text ({e.reason} at byte {e.start})", file=path) from None
    except OSError as e:
        raise SweepError(f"cannot read the sweep file: {e.strerror or e}", file=path) from None
    return loads_sweep(text, source=path)


def loads_sweep(text: str, source: str | Path | None = None,
                base_dir: str | Path | None = None) -> Sweep:
    """Parse and check sweep-file ``text``.

    ``source`` names the file in messages; relative paths of ``[run]`` and ``[model]``
    are resolved against ``base_dir`` (default: the folder of ``source``, else the
    current folder).
    """
    src = Path(source).absolute() if source is not None else None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise _syntax_error(e, text, src) from None
    loc = KeyLocator(text)

    def err(reason: str, section: str, key: str | None = None) -> SweepError:
        return SweepError(reason, file=src, line=loc.line(section, key or ""), key=key,
                          section=section)

    for name, table in data.items():
        if name not in SECTIONS:
            if name in GROUPS:
                reason = (f"'{name}' is a parameter group: write its parameters under [fixed] "
                          f"(e.g. {name}.x = ...) or [variable]")
            else:
                reason = (f"unknown table [{name}]{did_you_mean(name, SECTIONS)}; a sweep file "
                          "has the tables [fixed], [variable], [zip], [run] and [model]")
            raise err(reason, name)
        if not isinstance(table, dict):
            raise err(f"'{name}' must be a table: write [{name}] on a line of its own, then "
                      "its keys", name)

    fixed = flatten(data.get("fixed", {}), "", is_variable=False)
    variables = flatten(data.get("variable", {}), "", is_variable=True)
    for section, items in (("fixed", fixed), ("variable", variables)):
        seen: set[str] = set()
        for path, _ in items:
            if path in seen:
                raise err(f"'{path}' is given twice in [{section}]", section, path)
            seen.add(path)
        # tomllib groups dotted keys by table; the file's order is the order of lines
        # (sort calls the key at once, so the loop's current section is the right one)
        items.sort(key=lambda kv: loc.line(section, kv[0]) or 0)
    specs = {}
    for path, raw in variables:
        try:
            specs[path] = VariableSpec.from_toml(raw)
        except ValueError as e:
            raise err(str(e), "variable", path) from None
    zips = {}
    for group, members in data.get("zip", {}).items():
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise err(f"zip group '{group}' must be a list of variable paths, e.g. "
                      f'{group} = ["state.pressure", "state.temperature"]', "zip", group)
        zips[group] = members
    run = _settings(RunSettings, data.get("run", {}), "run", err)
    model = _settings(ModelSettings, data.get("model", {}), "model", err)
    # without base_dir, the Sweep takes the folder of the source (Sweep._base_dir_from_source)
    where: dict[str, Any] = {"base_dir": Path(base_dir).absolute()} if base_dir else {}
    sweep = Sweep(fixed=dict(fixed), variables=specs, zips=zips, run=run, model=model,
                  source=src, **where)
    sweep._locator = loc
    sweep.check()
    return sweep


def flatten(table: dict[str, Any], prefix: str, is_variable: bool) -> list[tuple[str, Any]]:
    """Dotted path -> value; ``pipe.length``, ``"pipe.length"`` and ``[fixed.pipe]`` alike."""
    known = _known()
    out: list[tuple[str, Any]] = []
    for key, value in table.items():
        path = prefix + key
        leaf = (path in known or not isinstance(value, dict)
                or (is_variable and any(k in GENERATORS for k in value)))
        if leaf:
            out.append((path, value))
        else:
            out.extend(flatten(value, path + ".", is_variable))
    return out


def _known() -> set[str]:
    return set(parameter_paths())


def _settings(cls: type[_Settings], raw: dict[str, Any], section: str,
              err: Callable[[str, str, str | None], SweepError]) -> _Settings:
    try:
        return cls.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        key = ".".join(str(p) for p in first.get("loc", ())) or None
        if key is None:  # a rule between keys: name the first key its message mentions
            key = next((k for k in raw if k in first.get("msg", "")), None)
        if first.get("type") == "extra_forbidden":
            reason = (f"unknown key '{key}' in [{section}]{did_you_mean(key or '', cls.model_fields)}"
                      f"; known: {', '.join(cls.model_fields)}")
        else:
            reason = str(first.get("msg", "invalid")).removeprefix("Value error, ")
            if not isinstance(first.get("input"), dict):
                reason += f" (got {first.get('input')!r})"
        raise err(reason, section, key) from None


_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)|\s*\(at end of document\)")
_HEADER = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]")


def _syntax_error(e: tomllib.TOMLDecodeError, text: str, src: Path | None) -> SweepError:
    """tomllib's message with its line moved into SweepError.line and the key on that line."""
    msg = str(e)
    m = _AT.search(msg)
    lines = toml_lines(text)
    line, column = (int(m.group(1)), int(m.group(2))) if m and m.group(1) else (len(lines), None)
    reason = _AT.sub("", msg)
    reason = f"TOML syntax error: {reason}" + (f" (column {column})" if column else "")
    if reason.startswith("TOML syntax error: Invalid value"):
        reason += '; text needs quotes, e.g. fluid.name = "Water"'

    key = section = None
    if 1 <= line <= len(lines):
        parsed = _parse_key(lines[line - 1], 0)
        if parsed and not lines[line - 1].lstrip().startswith("["):
            key = ".".join(parsed[0])
        for above in reversed(lines[:line]):
            h = _HEADER.match(above)
            if h:
                section = h.group(1)
                break
    return SweepError(reason, file=src, line=line, key=key, section=section)
