"""Units of parameters, in SI and in the units an instrument engineer reads.

Parameters are stored in SI (pressure in Pa). Sensitivities are reported per *user*
unit: per bar for pressures, per GPa for Young's modulus, per kelvin, per m/s, per
kg/m3 — so "Hz/bar" rather than "Hz/Pa" with a 1e-5 in front.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UserUnit:
    """A reporting unit: ``value_in_user_unit = value_si / scale``."""

    name: str
    scale: float


_BY_SI = {"Pa": UserUnit("bar", 1e5)}
_BY_PATH = {"material.youngs_modulus": UserUnit("GPa", 1e9)}


def parameter_unit(path: str) -> str:
    """The SI unit of a parameter path (from the parameter models); "" if unknown."""
    try:
        from sweepgui.params import field_info

        return field_info(path).unit
    except (KeyError, ImportError):
        return ""


def user_unit(path: str, si_unit: str | None = None) -> UserUnit:
    """The unit sensitivities per ``path`` are reported in."""
    si = parameter_unit(path) if si_unit is None else si_unit
    return _BY_PATH.get(path) or _BY_SI.get(si) or UserUnit(si, 1.0)


def per(numerator: str, denominator: str) -> str:
    """``Hz/bar``, ``Hz/(kg/m3)``, ``1/K``; a dimensionless denominator gives the numerator."""
    if not denominator:
        return numerator
    if "/" in denominator or " " in denominator:
        denominator = f"({denominator})"
    if "/" in numerator and numerator != "1":
        numerator = f"({numerator})"
    return f"{numerator}/{denominator}"
