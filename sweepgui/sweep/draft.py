"""The sweep being edited, as plain data: what the forms and the file both show.

A :class:`SweepDraft` holds exactly what a sweep file holds -- explicit fixed values, variables
(a list or one generator each, in order), zip groups, ``[run]`` and ``[model]`` -- so that the
forms and the TOML file are two views of one thing.  ``to_toml()`` writes the file format of
``sweepgui.sweep`` and ``to_sweep()`` hands that text to its loader, so the forms can never
build a sweep the file loader would read differently.  Values shown in the forms for fields the
file does not set come from :meth:`SweepDraft.resolved` (defaults, then the material preset,
then the file).

No Qt here: the draft is checked on worker threads and tested without a display; the GUI's
``SweepModel`` wraps it with signals.
"""

from __future__ import annotations

import copy
import difflib
import functools
import math
import tomllib
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sweepgui.params import Parameters, field_info, format_validation_error, parameter_paths
from sweepgui.params.presets import MATERIAL_FIELDS, material_presets

from ._load import loads_sweep
from ._spec import GENERATORS, MAX_POINTS, VariableSpec
from ._sweep import Sweep
from ._values import EOS
from ._write import toml_key, toml_value

MODES = ("fixed", "list", *GENERATORS)
# How many sweep points the forms still validate one by one (more: the engine's plan does it).
VALIDATE_POINTS_UP_TO = 4000


# -- numbers and rules in words ------------------------------------------------------------------

def format_number(value: Any) -> str:
    """Shortest text that reads back to the same number; exponents for very large/small ones."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return repr(value)
    a = abs(value)
    text = repr(value)
    if a != 0 and (a >= 1e6 or a < 1e-3):
        if "e" not in text:  # repr chose positional: rebuild the shortest scientific form
            import numpy as np

            return str(np.format_float_scientific(value, unique=True, trim="-", exp_digits=1)
                       ).replace("e+", "e")
        mantissa, _, exp = text.partition("e")
        return f"{mantissa}e{int(exp)}"
    return text[:-2] if text.endswith(".0") else text


def format_list(values: list[Any]) -> str:
    """Values as the list box of the forms writes them (``"1, 2.5, 1e-6"``)."""
    return ", ".join(format_number(v) for v in values)


def bounds_phrase(ge: float | None = None, gt: float | None = None, le: float | None = None,
                  lt: float | None = None) -> str:
    """A field's allowed range in words: "between 0 and 1", "more than 0 and at most 100"."""
    if ge is not None and le is not None:
        return f"between {format_number(ge)} and {format_number(le)}"
    parts = []
    if gt is not None:
        parts.append(f"more than {format_number(gt)}")
    elif ge is not None:
        parts.append(f"at least {format_number(ge)}")
    if lt is not None:
        parts.append(f"less than {format_number(lt)}")
    elif le is not None:
        parts.append(f"at most {format_number(le)}")
    return " and ".join(parts)


# pydantic's error types -> the rule in plain words (the bounds come from the field itself)
_BOUND_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_PLAIN = {
    "float_type": "must be a number", "float_parsing": "must be a number",
    "int_type": "must be a whole number", "int_from_float": "must be a whole number",
    "int_parsing": "must be a whole number", "finite_number": "must be a finite number",
    "string_type": "must be text", "string_too_short": "must not be empty",
    "bool_type": "must be true or false",
}


def plain_errors(exc: Any) -> list[tuple[str, str]]:
    """(dotted path, message in plain words) of a pydantic ValidationError.

    "must be between 0 and 1 (got 1.5)" instead of "Input should be less than or equal to 1":
    a bound names the field's whole range (both ends), from the field's own definition.
    Messages of the parameters' own rules (cross-field checks) are kept as they are.
    """
    plain: list[tuple[str, str]] = []
    for (path, msg), err in zip(format_validation_error(exc), exc.errors()):
        kind = err.get("type", "")
        inp = err.get("input")
        ctx = err.get("ctx") or {}
        try:
            info = field_info(path)
        except KeyError:
            info = None
        if kind in _BOUND_ERRORS and info is not None:
            words = f"must be {bounds_phrase(info.ge, info.gt, info.le, info.lt)}"
        elif kind == "literal_error" and info is not None and info.choices:
            words = "must be one of " + ", ".join(info.choices)
        elif kind == "string_too_long" and "max_length" in ctx:
            words = f"is too long (at most {ctx['max_length']} characters)"
        elif kind in _PLAIN:
            words = _PLAIN[kind]
        else:
            plain.append((path, msg))
            continue
        if inp is not None and not isinstance(inp, (dict, list)):
            shown = repr(inp) if isinstance(inp, str) else format_number(inp)
            words += f" (got {shown})"
        plain.append((path, words))
    return plain


# -- values of a variable ------------------------------------------------------------------------

class DraftError(ValueError):
    """A sweep file the forms cannot represent (bad TOML, unknown section)."""


@functools.lru_cache(maxsize=1)
def _paths() -> tuple[str, ...]:
    """Every parameter path (the field list never changes while the app runs)."""
    return tuple(parameter_paths())


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"pipe": {"length": 1}}`` and ``{"pipe.length": 1}`` both give ``{"pipe.length": 1}``.

    A table stops the descent when its dotted name is a parameter (a generator table).
    """
    known = set(_paths())
    out: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and path not in known:
            out.update(_flatten(value, path + "."))
        else:
            out[path] = value
    return out


def _spec_key(spec: Any) -> Hashable | None:
    """A hashable key of a generator spec (None for lists: they are their own values)."""
    if isinstance(spec, dict) and len(spec) == 1:
        (name, args), = spec.items()
        if isinstance(args, (list, tuple)) and all(
                isinstance(a, (int, float)) and not isinstance(a, bool) for a in args):
            # the type is part of the key: 5 and 5.0 give int and float values
            return name, tuple((type(a), a) for a in args)
    return None


@functools.lru_cache(maxsize=64)
def _generated(key: tuple[str, tuple[tuple[type, float], ...]]) -> tuple[Any, ...]:
    name, args = key
    return tuple(_generate({name: [a for _, a in args]}))


def generate(spec: Any) -> list[Any]:
    """The values of one variable spec (a list, or ``{generator: [a, b, c]}``).

    The loader's own expansion, so that the forms preview exactly what a run computes.
    Raises ValueError with a readable message for a malformed spec. A generator's values are
    remembered: the forms ask for them many times per edit (every row's refresh), and
    expanding 4,000 values each time made typing in a big sweep lag.
    """
    key = _spec_key(spec)
    if key is None:
        return _generate(spec)
    return list(_generated(key))


def _generate(spec: Any) -> list[Any]:
    vs = VariableSpec.from_toml(spec)
    if vs.generator is None and not vs.values:
        raise ValueError("the list of values is empty")
    if vs.count() > MAX_POINTS:
        raise ValueError(f"{vs.generator}: more than {MAX_POINTS:,} values")
    values = vs.expand()
    if not values:
        raise ValueError(f"{vs.generator} gives no values: check start, stop and step")
    return values


# -- the draft -----------------------------------------------------------------------------------

@dataclass
class SweepDraft:
    """What a sweep file holds, editable.

    Parameters
    ----------
    fixed
        Dotted parameter path -> value the file fixes (fields it leaves out keep their default).
    variables
        Dotted path -> a list of values or ``{generator: [a, b, c]}``, in file order.
    zips
        Zip group name -> the paths swept together (one dimension).
    run, model
        The ``[run]`` and ``[model]`` tables as written.
    source
        The file the draft was read from or saved to (None: untitled).
    """

    fixed: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    zips: dict[str, list[str]] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None

    # -- reading ---------------------------------------------------------------------------
    @classmethod
    def from_toml(cls, text: str, source: Path | None = None) -> SweepDraft:
        """Read a sweep file's text; DraftError names the file for bad TOML or sections."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise DraftError(f"{source or 'sweep'}: not valid TOML: {exc}") from None
        unknown = set(data) - {"fixed", "variable", "zip", "run", "model"}
        if unknown:
            raise DraftError(f"{source or 'sweep'}: unknown section(s) {', '.join(sorted(unknown))}")
        return cls(
            fixed=_flatten(data.get("fixed", {})),
            variables=_flatten(data.get("variable", {})),
            zips={k: list(v) for k, v in data.get("zip", {}).items()},
            run=dict(data.get("run", {})),
            model=dict(data.get("model", {})),
            source=source,
        )

    @classmethod
    def from_sweep(cls, sweep: Sweep) -> SweepDraft:
        """From a :class:`~sweepgui.sweep.Sweep` (through its own TOML, the one shared format)."""
        return cls.from_toml(sweep.to_toml(), source=sweep.source)

    def copy(self) -> SweepDraft:
        return copy.deepcopy(self)

    # -- values ----------------------------------------------------------------------------
    def resolved(self) -> dict[str, Any]:
        """Every parameter path -> the value the forms show when it is not swept."""
        values = {p: field_info(p).default for p in _paths()}
        name = self.fixed.get("material.name", values["material.name"])
        preset = material_presets().get(name) if isinstance(name, str) else None
        if preset is not None:
            for f in MATERIAL_FIELDS:
                values[f"material.{f}"] = preset[f]
        values.update(self.fixed)
        for path, spec in self.variables.items():
            try:
                values[path] = generate(spec)[0]
            except ValueError:
                pass
        return values

    def mode(self, path: str) -> str:
        """"fixed", "list" or the generator's name (one of :data:`MODES`)."""
        spec = self.variables.get(path)
        if spec is None:
            return "fixed"
        if isinstance(spec, dict) and len(spec) == 1 and next(iter(spec)) in GENERATORS:
            return str(next(iter(spec)))
        return "list"

    def count(self, path: str) -> int | None:
        """Number of values of a variable (1 for a fixed field; None if its spec is bad)."""
        if path not in self.variables:
            return 1
        try:
            return len(generate(self.variables[path]))
        except ValueError:
            return None

    def dimension_counts(self) -> list[tuple[str, int | None]]:
        """(dimension name, length) in file order; a zip group is one dimension."""
        zipped = {p: g for g, members in self.zips.items() for p in members}
        dims: list[tuple[str, int | None]] = []
        seen: set[str] = set()
        for path in self.variables:
            group = zipped.get(path)
            if group is None:
                dims.append((path, self.count(path)))
            elif group not in seen:
                seen.add(group)
                counts = {self.count(p) for p in self.zips[group] if p in self.variables}
                dims.append((group, counts.pop() if len(counts) == 1 else None))
        return dims

    def point_count(self) -> int | None:
        """Points of the sweep (None while a dimension's length is unknown)."""
        total = 1
        for _, n in self.dimension_counts():
            if n is None:
                return None
            total *= n
        return total

    # -- editing ---------------------------------------------------------------------------
    def set_fixed(self, path: str, value: Any) -> None:
        """Fix ``path`` at ``value`` (None removes it: the default applies)."""
        self._drop_variable(path)
        if value is None:
            self.fixed.pop(path, None)
        else:
            self.fixed[path] = value

    def set_variable(self, path: str, spec: Any) -> None:
        self.fixed.pop(path, None)
        self.variables[path] = spec

    def set_mode(self, path: str, mode: str) -> None:
        """Switch a field between fixed and a kind of sweep, keeping its current value."""
        if mode == self.mode(path):
            return
        current = self.resolved()[path]
        if mode == "fixed":
            self.set_fixed(path, current)
        elif mode == "list":
            self.set_variable(path, [current])
        else:
            start = current if isinstance(current, (int, float)) else 1.0
            if mode == "logspace":
                start = math.log10(start) if start and start > 0 else 0.0
                self.set_variable(path, {mode: [start, start + 1, 5]})
            elif mode == "arange":
                step = abs(start) / 10 or 1.0
                self.set_variable(path, {mode: [start, start + 5 * step, step]})
            else:
                self.set_variable(path, {mode: [start, 2 * start if start else 1.0, 5]})

    def apply_material_preset(self, name: str) -> None:
        """Use a preset: its name, and the preset's values for the material fields."""
        self.set_fixed("material.name", name)
        for f in MATERIAL_FIELDS:
            self.fixed.pop(f"material.{f}", None)  # the loader fills them from the preset

    def _drop_variable(self, path: str) -> None:
        self.variables.pop(path, None)
        for group in list(self.zips):
            members = [p for p in self.zips[group] if p != path]
            if len(members) < 2:
                del self.zips[group]
            else:
                self.zips[group] = members

    # -- checking --------------------------------------------------------------------------
    def problems(self) -> list[tuple[str, str]]:
        """(dotted path or section, message) for everything wrong that the forms can show."""
        out: list[tuple[str, str]] = []
        known = set(_paths())
        for path in list(self.fixed) + list(self.variables):
            if path not in known:
                close = difflib.get_close_matches(path, known, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                out.append((path, f"unknown parameter{hint}: correct it in the sweep file"))
        base = {p: v for p, v in self.resolved().items() if p in known}
        out.extend(_check(base))
        for path, spec in self.variables.items():
            if path not in known:
                continue
            try:
                values = generate(spec)
            except ValueError as exc:
                out.append((path, str(exc)))
                continue
            # each distinct value once (1 and True are not the same value here)
            for v in {(type(v), v): v for v in values[:VALIDATE_POINTS_UP_TO]}.values():
                errs = [e for e in _check({**base, path: v}) if e not in out]
                if errs:
                    out.extend(errs)
                    break
        for group, members in self.zips.items():
            missing = [p for p in members if p not in self.variables]
            if missing:
                out.append((f"zip.{group}",
                            f"zip group {group!r} names {', '.join(missing)}, which are not swept"))
            counts = {self.count(p) for p in members if p in self.variables}
            if len(counts) > 1:
                out.append((f"zip.{group}", f"zip group {group!r}: its variables have different counts"))
        if self.point_count() == 0:
            out.append(("variable", "the sweep has no points"))
        return out

    # -- writing ---------------------------------------------------------------------------
    def to_toml(self) -> str:
        """The sweep file's text (fixed values in the parameters' order, the rest as given)."""
        order = {p: i for i, p in enumerate(_paths())}
        lines: list[str] = []
        fixed = {p: v for p, v in self.fixed.items() if v is not None}
        if fixed:
            lines.append("[fixed]")
            for p in sorted(fixed, key=lambda p: (order.get(p, len(order)), p)):
                lines.append(f"{_key(p, dotted=True)} = {_value(fixed[p])}")
        if self.variables:
            lines += ["", "[variable]"] if lines else ["[variable]"]
            for p, spec in self.variables.items():
                lines.append(f"{_key(p)} = {_value(spec)}")
        tables: tuple[tuple[str, dict[str, Any]], ...] = (
            ("zip", dict(self.zips)), ("run", self.run), ("model", self.model))
        for section, table in tables:
            given = {k: v for k, v in table.items() if v is not None}
            if given:
                lines += ["", f"[{section}]"] if lines else [f"[{section}]"]
                lines += [f"{_key(k)} = {_value(v)}" for k, v in given.items()]
        return "\n".join(lines) + "\n"

    def to_sweep(self, base_dir: Path | None = None) -> Sweep:
        """The checked :class:`~sweepgui.sweep.Sweep` (SweepError names the key)."""
        if base_dir is None:
            base_dir = self.source.parent if self.source else Path.cwd()
        return loads_sweep(self.to_toml(), source=self.source, base_dir=base_dir)


def _check(values: dict[str, Any]) -> list[tuple[str, str]]:
    """Problems of one point's values (dotted paths), in plain words."""
    nested: dict[str, dict[str, Any]] = {}
    for p, v in values.items():
        g, n = p.split(".", 1)
        if v == EOS and p == "fluid.density":
            v = None
        if v is not None or p == "fluid.density":
            nested.setdefault(g, {})[n] = v
    try:
        Parameters.model_validate(nested)
    except Exception as exc:  # pydantic.ValidationError, or a rule's own error
        if hasattr(exc, "errors"):
            return plain_errors(exc)
        return [("", str(exc))]
    return []


def _key(key: str, dotted: bool = False) -> str:
    if dotted:
        return ".".join(toml_key(part) for part in key.split("."))
    return toml_key(key)


def _value(v: Any) -> str:
    return toml_value(str(v) if isinstance(v, Path) else v)
