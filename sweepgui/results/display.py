"""Display units: how the app shows a parameter's values to an instrument engineer.

Files, exports and the sweep's own numbers stay SI (pressure in Pa, temperature in K); only
what is shown changes: pressures in bar, temperatures in degrees Celsius, Young's modulus in
GPa (the units sensitivities are reported per, see ``_units.user_unit``). Values that span
decades (a logspace sweep) are shown on a log scale.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._units import parameter_unit, user_unit

LOG_RATIO = 100.0  # positive values with max/min at least this go on a log scale
ZERO_CELSIUS = 273.15


@dataclass(frozen=True)
class DisplayUnit:
    """``shown = si / scale - offset`` (1 bar = 1e5 Pa; 0 degC = 273.15 K)."""

    name: str
    scale: float = 1.0
    offset: float = 0.0

    def to_display(self, si: Any) -> Any:
        """SI value(s) (a number, a list or an array) in this unit."""
        if isinstance(si, (list, tuple)):
            si = np.asarray(si, dtype=float)
        return si / self.scale - self.offset

    def to_si(self, shown: Any) -> Any:
        """Shown value(s) back in SI."""
        if isinstance(shown, (list, tuple)):
            shown = np.asarray(shown, dtype=float)
        return (shown + self.offset) * self.scale

    @property
    def ratio_scale(self) -> bool:
        """Zero means zero (not degrees Celsius): ratios, and so log scales, make sense."""
        return self.offset == 0.0


def display_unit(path: str, si_unit: str | None = None) -> DisplayUnit:
    """The unit the app shows ``path`` in (SI unit ``si_unit``, default: the parameter's)."""
    si = parameter_unit(path) if si_unit is None else si_unit
    if si == "K":
        return DisplayUnit("°C", 1.0, ZERO_CELSIUS)
    uu = user_unit(path, si)
    return DisplayUnit(uu.name, uu.scale)


def axis_label(path: str, unit: DisplayUnit | None = None) -> str:
    """``state.pressure (bar)``; a dimensionless or unknown unit: the path alone."""
    unit = unit or display_unit(path)
    return f"{path} ({unit.name})" if unit.name and unit.name != "1" else path


def number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        return None
    return float(v)


def format_value(v: Any, unit: DisplayUnit | None = None, with_unit: bool = False,
                 digits: int = 6) -> str:
    """A value as shown: ``11`` (bar) for 1.1e6 Pa, ``20`` for 293.15 K; words unchanged."""
    x = number(v)
    if x is None:
        return "eos" if v is None else str(v)
    if unit is not None:
        x = float(unit.to_display(x))
    if not math.isfinite(x):
        text = "nan"
    else:
        text = f"{x + 0.0:.{digits}g}"  # + 0.0: no "-0"
    if with_unit and unit is not None and unit.name and unit.name != "1":
        text += f" {unit.name}"
    return text


def spans_decades(values: Iterable[Any], ratio: float = LOG_RATIO) -> bool:
    """True when the numbers are all positive and max/min >= ``ratio`` (e.g. a logspace sweep)."""
    nums = [x for x in (number(v) for v in values) if x is not None and math.isfinite(x)]
    if len(nums) < 2 or min(nums) <= 0.0:
        return False
    return max(nums) / min(nums) >= ratio
