"""Fluid density (and speed of sound) from CoolProp's reference equations of state.

CoolProp is imported here, inside the function, and only when ``fluid.density`` is null:
importing it costs seconds, and every sweep point with a given density would pay for it.
The speed of sound comes from the same ``AbstractState`` at no extra cost, so it is reported
whenever the EOS runs; with a given density it is null (it would need the EOS import).
"""

from __future__ import annotations

import math

from ..params import ParameterError
from ._errors import ModelError


def fluid_from_eos(name: str, pressure: float, temperature: float) -> tuple[float, float | None]:
    """(density kg/m3, speed of sound m/s or None) of ``name`` at ``pressure`` Pa, ``temperature`` K.

    Raises ParameterError naming ``fluid.name`` for a fluid CoolProp does not know, and
    ModelError for a state the equation of state cannot handle.
    """
    try:
        import CoolProp.CoolProp as CP
    except ImportError as exc:  # pragma: no cover - CoolProp is a dependency
        raise ModelError(
            f"fluid.density is empty, so the density must come from CoolProp, which is not "
            f"installed ({exc}); install CoolProp or give fluid.density") from None
    try:
        state = CP.AbstractState("HEOS", name)
    except Exception as exc:  # CoolProp raises ValueError, but be safe with a C extension
        raise ParameterError([(
            "fluid.name",
            f"CoolProp does not know the fluid {name!r} ({exc}); use a CoolProp name such as "
            "Water, CO2, Nitrogen or Methane, or give fluid.density",
        )]) from None
    try:
        state.update(CP.PT_INPUTS, pressure, temperature)
        rho = float(state.rhomass())
    except Exception as exc:
        raise ModelError(
            f"CoolProp cannot give the density of {name} at {pressure:g} Pa and "
            f"{temperature:g} K: {exc}") from None
    if not (math.isfinite(rho) and rho > 0.0):
        raise ModelError(f"CoolProp gave a density of {rho!r} for {name} at {pressure:g} Pa "
                         f"and {temperature:g} K")
    try:
        c = float(state.speed_sound())
    except Exception:  # e.g. two-phase states have no single speed of sound
        c = math.nan
    return rho, (c if math.isfinite(c) and c > 0.0 else None)
