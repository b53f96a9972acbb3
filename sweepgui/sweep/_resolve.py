"""From a Sweep's content to checked values: the meaning checks, in file order.

Each problem becomes a SweepError at the key that caused it. The cross-field checks
(which need whole points) happen in ``_points``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..params import iter_fields, parameter_paths
from ..params.presets import MATERIAL_FIELDS, material_presets, material_problem
from ._errors import did_you_mean
from ._spec import MAX_POINTS, too_many
from ._sweep import Dimension
from ._values import coerce_value

if TYPE_CHECKING:
    from ._sweep import Sweep


@dataclass(frozen=True)
class Resolved:
    base: dict[str, Any]                       # every path -> value where no variable sets it
    fixed: dict[str, Any]                      # checked [fixed] values
    dimensions: list[Dimension]
    variable_presets: dict[str, dict[str, Any]]  # material.name values that are presets


def _preset_fields(name: Any) -> dict[str, Any] | None:
    preset = material_presets().get(name) if isinstance(name, str) else None
    if preset is None:
        return None  # not a preset: the name is just a label
    return {f"material.{k}": preset[k] for k in MATERIAL_FIELDS}


def _checked_preset(sweep: Sweep, section: str, name: Any) -> dict[str, Any] | None:
    fields = _preset_fields(name)
    try:
        return fields and {p: coerce_value(p, v) for p, v in fields.items()}
    except ValueError as e:
        raise sweep.error(f"material preset '{name}' (resources/materials.toml): {e}",
                          section, "material.name") from None


def _check_materials(sweep: Sweep, fixed: dict[str, Any], values: dict[str, list[Any]]) -> None:
    """Every material.name is a preset, or a material of the user's own with every property
    given; swept names must give different materials (not one material under two labels).

    For the built-in model only: a custom model receives the name as text and may have
    materials of its own (the preset names still fill their values, as documented).
    """
    if sweep.model.executable is not None:
        return
    given = {p.split(".", 1)[1] for p in (*fixed, *values) if p.startswith("material.")}
    if "material.name" in fixed:
        problem = material_problem(fixed["material.name"], given)
        if problem:
            raise sweep.error(problem, "fixed", "material.name")
    names = values.get("material.name", [])
    seen: dict[tuple[Any, ...], Any] = {}
    for name in names:
        problem = material_problem(name, given)
        if problem:
            raise sweep.error(problem, "variable", "material.name")
        preset = material_presets().get(name, {})
        # what this name sets at a point: the preset's values where nothing explicit does
        own = tuple(preset.get(f) if f"material.{f}" not in fixed and f"material.{f}" not in values
                    else None for f in MATERIAL_FIELDS)
        if own in seen:
            raise sweep.error(
                f"the material names {seen[own]!r} and {name!r} give the same material: every "
                "property in which their presets differ is set in [fixed] or [variable], so "
                "their points would differ only in the label; sweep the properties instead, "
                "or leave the preset's ones out", "variable", "material.name")
        seen[own] = name


def resolve(sweep: Sweep) -> Resolved:
    known = parameter_paths()
    known_set = set(known)

    def check_path(section: str, path: str) -> None:
        if path not in known_set:
            raise sweep.error(f"unknown parameter '{path}'{did_you_mean(path, known)}",
                              section, path)

    def coerce(section: str, path: str, value: Any) -> Any:
        try:
            return coerce_value(path, value)
        except ValueError as e:
            raise sweep.error(str(e), section, path) from None

    fixed: dict[str, Any] = {}
    for path, raw in sweep.fixed.items():
        check_path("fixed", path)
        if isinstance(raw, (list, tuple, dict)):
            raise sweep.error(f"'{path}' in [fixed] takes one value; to sweep it, move it to "
                              "[variable]", "fixed", path)
        fixed[path] = coerce("fixed", path, raw)

    values: dict[str, list[Any]] = {}
    for path, spec in sweep.variables.items():
        check_path("variable", path)
        if path in fixed:
            raise sweep.error(f"'{path}' is both fixed and variable; remove it from one of "
                              "[fixed] and [variable]", "variable", path)
        values[path] = _variable_values(sweep, path, spec, coerce)

    _check_materials(sweep, fixed, values)
    dims = _dimensions(sweep, values, known_set)
    count = math.prod(d.size for d in dims)
    if count > MAX_POINTS:
        sizes = " x ".join(f"{d.size} ({d.name})" for d in dims)
        raise sweep.error(f"the sweep has {count:,} points = {sizes}, more than the limit of "
                          f"{MAX_POINTS:,}; use fewer values, or zip variables that move "
                          "together", "variable", None)

    base = {f.path: f.default for f in iter_fields()}
    base.update(_checked_preset(sweep, "fixed", fixed.get("material.name")) or {})
    base.update(fixed)  # explicit material fields override the preset's
    for path in values:
        base.pop(path, None)
    variable_presets = {}
    for name in values.get("material.name", []):
        fields = _checked_preset(sweep, "variable", name)
        if fields:
            variable_presets[name] = fields
    return Resolved(base=base, fixed=fixed, dimensions=dims, variable_presets=variable_presets)


def _variable_values(sweep: Sweep, path: str, spec: Any, coerce: Any) -> list[Any]:
    from ..params import field_info

    info = field_info(path)
    if spec.generator is not None and not info.numeric:
        raise sweep.error(f"{spec.generator} makes numbers, but '{path}' takes {info.kind} "
                          "values: list them instead", "variable", path)
    try:
        n = spec.count()
        if n > MAX_POINTS:
            raise ValueError(too_many(spec.generator or "the list", n))
        raw = spec.expand()
    except ValueError as e:
        raise sweep.error(str(e), "variable", path) from None
    if not raw:
        hint = " (arange excludes its stop: is stop above start?)" if spec.generator == "arange" else ""
        raise sweep.error(f"'{path}' has no values, so the sweep has no points{hint}",
                          "variable", path)
    out = [coerce("variable", path, v) for v in raw]
    seen: set[Any] = set()
    for v in out:
        if v in seen:
            raise sweep.error(f"'{path}' has the value {v!r} more than once; each point would "
                              "be computed once anyway, so list it once", "variable", path)
        seen.add(v)
    return out


def _dimensions(sweep: Sweep, values: dict[str, list[Any]], known: set[str]) -> list[Dimension]:
    member_of: dict[str, str] = {}
    for group, members in sweep.zips.items():
        if group in known:
            raise sweep.error(f"the zip group '{group}' is named like a parameter; give the "
                              "group its own name, e.g. pt", "zip", group)
        if not members:
            raise sweep.error(f"the zip group '{group}' lists no variables", "zip", group)
        for m in members:
            if m not in values:
                if m in known:
                    why = "not in [variable]: give its values there"
                else:
                    why = f"not a parameter{did_you_mean(m, known)}"
                raise sweep.error(f"'{m}' in zip group '{group}' is {why}", "zip", group)
            if m in member_of:
                raise sweep.error(f"'{m}' is in two zip groups, '{member_of[m]}' and '{group}'",
                                  "zip", group)
            member_of[m] = group
        counts = {m: len(values[m]) for m in members}
        if len(set(counts.values())) > 1:
            listed = ", ".join(f"{m} has {n}" for m, n in counts.items())
            raise sweep.error(f"zipped variables move together and need equally many values: "
                              f"{listed}", "zip", group)
        rows = list(zip(*(values[m] for m in members)))
        if len(set(rows)) < len(rows):
            first = next(i for i, r in enumerate(rows) if rows.index(r) != i)
            raise sweep.error(f"zip group '{group}' repeats the values {rows[first]!r} "
                              f"(positions {rows.index(rows[first]) + 1} and {first + 1})",
                              "zip", group)
    dims: list[Dimension] = []
    for path in values:
        zipped = member_of.get(path)  # the zip group of path, if any
        if zipped is None:
            dims.append(Dimension(path, [path], {path: values[path]}))
        elif all(d.name != zipped for d in dims):
            members = list(sweep.zips[zipped])
            dims.append(Dimension(zipped, members, {m: values[m] for m in members}))
    return dims
