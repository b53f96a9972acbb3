"""Material presets from ``resources/materials.toml`` (each value with its source)."""

from __future__ import annotations

import tomllib
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
