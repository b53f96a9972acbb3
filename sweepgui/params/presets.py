"""Material presets from ``resources/materials.toml`` (each value with its source).

A material is a preset, whose values fill the properties not given explicitly, or a
material of the user's own, which must give every property: an unknown name never runs
with the defaults' values under its label. ``material_problem`` says why a name cannot be
used (sweep files report it at their line); ``material_with_preset`` applies the rule to one
material's input (the parameter model does).

Names must match a preset exactly: "316l" or "titanium grade 2" are refused with a
suggestion rather than mapped, so that one material has one spelling in sweep files,
results, exports and store paths.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache
from typing import Any

from ..resources import resources_dir

MATERIAL_FIELDS = (
    "youngs_modulus", "density", "poisson_ratio", "thermal_expansion",
    "modulus_temperature_coefficient", "reference_temperature",
)


@lru_cache(maxsize=1)
def material_presets() -> dict[str, dict[str, Any]]:
    """name -> {field: value, ..., "source": text}."""
    import tomllib  # lazily, as difflib below: the model's start-up pays for every import

    with open(resources_dir() / "materials.toml", "rb") as fh:
        return tomllib.load(fh)


def material_preset(name: str) -> dict[str, Any]:
    """The material fields of a preset (name included), without its source text.

    Raises KeyError naming the known presets if there is none of that name.
    """
    presets = material_presets()
    if name not in presets:
        raise KeyError(f"no material preset {name!r}; known: {', '.join(presets)}")
    values = {k: presets[name][k] for k in MATERIAL_FIELDS}
    return {"name": name, **values}


def _squash(name: str) -> str:
    return "".join(c for c in name.casefold() if c.isalnum())


def closest_preset(name: str) -> str | None:
    """The preset a mistyped name most likely means ("316l", "hastelloy c22"), or None."""
    import difflib

    presets = list(material_presets())
    same = [p for p in presets if _squash(p) == _squash(name)]
    if same:
        return same[0]
    close = difflib.get_close_matches(name.casefold(), [p.casefold() for p in presets], n=1,
                                      cutoff=0.6)
    return next((p for p in presets if close and p.casefold() == close[0]), None)


def material_problem(name: Any, given: Collection[str]) -> str | None:
    """Why material ``name`` with the properties ``given`` (field names) cannot be used.

    None when ``name`` is a preset or every property is given (a material of one's own).
    The presets are read only when a property is missing: a point's complete parameters
    (as the engine sends them to the model) never need ``resources/``.
    """
    missing = [f for f in MATERIAL_FIELDS if f not in given]
    if not missing or not isinstance(name, str) or name in material_presets():
        return None
    near = closest_preset(name)
    hint = f" (did you mean '{near}'?)" if near else ""
    return (f"{name!r} is not a material preset{hint}; the presets are "
            f"{', '.join(material_presets())} (resources/materials.toml). For a material of "
            f"your own, give all of its properties; missing: "
            f"{', '.join('material.' + f for f in missing)}")


def material_with_preset(data: dict[str, Any], default_name: str) -> dict[str, Any]:
    """One material's input with the preset's values for the properties it does not give.

    Raises ValueError ("material.name: ...") for a name that is no preset when a property
    is missing.
    """
    name = data.get("name", default_name)
    if name == default_name or all(f in data for f in MATERIAL_FIELDS):
        # the fields' defaults are the default preset's values (a test keeps them equal), so
        # the model needs no resources/ for the defaults or for complete parameters
        return data
    try:
        problem = material_problem(name, data)
        preset = material_presets().get(name) if isinstance(name, str) else None
    except OSError as exc:
        raise ValueError(f"material.name: the presets ({exc.filename}) cannot be read "
                         f"({exc.strerror}); give every material property") from None
    if problem:
        raise ValueError(f"material.name: {problem}")
    if preset is None:
        return data  # not text: the name field reports it
    return {**{f: preset[f] for f in MATERIAL_FIELDS if f not in data}, **data}
