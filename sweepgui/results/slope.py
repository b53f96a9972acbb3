"""The local slope of a result along one swept parameter at one grid point.

One rule for every number of this kind the app shows: ``sweepgui sensitivity`` (through
``sensitivities``) and the desktop app's slope read-out both call ``slope_at``, so the two
always agree. The rule is ``grid_gradient``'s: the three-point formula for unequal spacing
(exact for quadratics, also on a logspace grid), one-sided at an edge or next to a missing
point; the unit is the one sensitivities are reported per (Hz/bar for a pressure, Hz/K, ...).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.typing import ArrayLike

from ._gradient import grid_gradient
from ._units import per, user_unit

Array = npt.NDArray[Any]


def gradient_at(f: ArrayLike, x: ArrayLike, at: int, axis: int = 0) -> Array:
    """df/dx (per SI unit of x) at sample ``at`` along ``axis`` of ``f``; NaN marks unknown
    samples of ``f``, and a result that cannot be had (no known neighbour) is NaN."""
    g = grid_gradient(np.asarray(f, dtype=float), np.asarray(x, dtype=float), axis=axis)
    return np.asarray(np.take(g, at, axis=axis))


def slope_at(f: ArrayLike, x: ArrayLike, at: int, path: str, si_unit: str | None = None,
             numerator: str = "Hz", axis: int = 0) -> tuple[Any, str]:
    """df/d(path) at sample ``at`` of a line of the grid, in ``numerator`` per user unit.

    Parameters
    ----------
    f
        Samples along the line (more axes allowed, e.g. modes); NaN = not known (yet).
    x
        SI values of ``path`` along the line (any order, unequal spacing allowed).
    at
        Index of the point along the line.
    path, si_unit
        The parameter, and its SI unit (default: the parameter model's).

    Returns
    -------
    (value, unit)
        ``value`` (a float for a 1-D line) in e.g. Hz/bar, and the unit text.
    """
    uu = user_unit(path, si_unit)
    g = gradient_at(f, x, at, axis=axis) * uu.scale
    return (float(g) if np.ndim(g) == 0 else g), per(numerator, uu.name)
