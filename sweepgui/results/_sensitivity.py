"""Sensitivities of the natural frequencies to each swept parameter.

For every swept numeric parameter x and mode n: df_n/dx by differences on the grid
(``grid_gradient``), in Hz per *user* unit of x (per bar, per kelvin, per m/s, per
kg/m3); the relative sensitivity (1/f_n) df_n/dx; and the apparent density error

    e_x = (df_n/dx) / (df_n/drho) - drho_fluid/dx      [kg/m3 per unit of x]

the density change a densitometer calibrated on f_n(rho) would wrongly read when x
changes at constant true density. The last term removes the true change of density
when the density comes from the equation of state (e.g. pressure compresses the water,
which the instrument *should* see); with a given or swept density it is zero.

df/drho comes, in this order of preference, from the grid when ``fluid.density`` is
swept; otherwise from the built-in model re-run in-process at the point with its density
perturbed by +-0.1 % (see ``_density``); otherwise (a custom model) from the uniform-beam
law df/drho = -f A_f / (2 m) with the model's derived masses, if it reports them.
Parameters swept inside a zip group are not separable (they move together), so no
partial derivative is reported for them; non-numeric dimensions neither.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from ._density import density_slope
from ._gradient import grid_gradient
from ._units import per, user_unit
from .slope import gradient_at, slope_at

DENSITY = "fluid.density"
Array = npt.NDArray[Any]


@dataclass(frozen=True)
class Sensitivity:
    """df_n/dx of one mode to one swept parameter at one grid point."""

    parameter: str
    mode: int
    at: dict[str, Any]
    value: float | None             # df/dx in `unit`
    unit: str                       # e.g. "Hz/bar"
    relative: float | None          # (1/f) df/dx in `relative_unit`
    relative_unit: str              # e.g. "1/bar"
    apparent_density_error: float | None
    apparent_density_error_unit: str | None
    frequency: float | None         # f_n at `at`, Hz

    def to_dict(self) -> dict[str, Any]:
        return {k: _clean(v) for k, v in asdict(self).items()}


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    return v


class SensitivityList(list[Sensitivity]):
    """A list of ``Sensitivity`` with what the user should know about how it was made.

    Attributes
    ----------
    at : dict
        The grid point (every swept parameter, SI units).
    notes : list of str
        Skipped parameters and the source of df/drho.
    density_derivative : list of float or None
        df_n/drho per mode at ``at`` in Hz/(kg/m3), if known.
    density_derivative_source : str
        "grid", "model", "uniform-beam formula" or "" (unknown).
    """

    def __init__(self, items: Iterable[Sensitivity] = (), at: dict[str, Any] | None = None,
                 notes: list[str] | None = None, density_derivative: Array | None = None,
                 source: str = "") -> None:
        super().__init__(items)
        self.at = at or {}
        self.notes = notes or []
        self.density_derivative = density_derivative
        self.density_derivative_source = source

    def to_json(self) -> dict[str, Any]:
        return {
            "sensitivities": [s.to_dict() for s in self],
            "at": _clean(self.at),
            "density_derivative": {
                "value": None if self.density_derivative is None
                else [_clean(float(v)) for v in self.density_derivative],
                "unit": "Hz/(kg/m3)", "source": self.density_derivative_source or None},
            "notes": self.notes,
        }


def _dimension_paths(ds: xr.Dataset) -> dict[str, list[str]]:
    try:
        dims = json.loads(ds.attrs.get("dimensions", "{}"))
    except ValueError:
        dims = {}
    return dims or {d: [d] for d in ds.natural_frequency.dims if d != "mode"}


def _numeric(coord: xr.DataArray) -> bool:
    return np.issubdtype(coord.dtype, np.number) and not np.issubdtype(coord.dtype, np.bool_)


def grid_index(ds: xr.Dataset, at: dict[str, float] | None = None) -> dict[str, int]:
    """Per dimension, the index of the grid point nearest to ``at`` (the centre by default).

    Raises ValueError naming the parameter if ``at`` names one that is not swept.
    """
    dims = _dimension_paths(ds)
    at = dict(at or {})
    owner = {p: d for d, paths in dims.items() for p in paths}
    for path in at:
        if path not in owner:
            swept = ", ".join(owner) or "none"
            raise ValueError(f"{path}: not a swept parameter of this sweep (swept: {swept})")
    index: dict[str, int] = {}
    for d, paths in dims.items():
        size = ds.sizes[d]
        given = [p for p in paths if p in at]
        if not given:
            index[d] = (size - 1) // 2
            continue
        dist = np.zeros(size)
        for p in given:
            c = ds[p].values
            if not _numeric(ds[p]):
                match = c.astype(str) == str(at[p])
                if not match.any():
                    raise ValueError(f"{p}={at[p]}: not one of its swept values "
                                     f"({', '.join(map(str, c))})")
                dist += np.where(match, 0.0, np.inf)
                continue
            try:
                target = float(at[p])
            except (TypeError, ValueError):
                raise ValueError(f"{p}={at[p]}: expected a number") from None
            span = float(np.nanmax(c) - np.nanmin(c)) or 1.0  # zip members in units of their range
            dist += ((c.astype(float) - target) / span) ** 2
        index[d] = int(np.argmin(np.where(np.isnan(dist), np.inf, dist)))
    return index


def _point(ds: xr.Dataset, index: dict[str, int]) -> dict[str, Any]:
    point = {}
    for paths in _dimension_paths(ds).values():
        for p in paths:
            v = ds[p].values[index[str(ds[p].dims[0])]]
            point[p] = v.item() if hasattr(v, "item") else v
    return point


def sensitivities(
    ds: xr.Dataset,
    at: dict[str, float] | None = None,
    mode: int | None = None,
    *,
    allow_model: bool = True,
) -> SensitivityList:
    """Sensitivities of every mode (or only ``mode``, 1-based) at one grid point.

    Parameters
    ----------
    ds
        A dataset from ``load_dataset`` (spectra not needed).
    at
        Parameter path -> value (SI); the nearest grid point is used. Default: the centre.
    mode
        Only this mode (1-based).
    allow_model
        When the density is not swept, allow re-running the built-in model in-process
        to get df/drho.
    """
    here = _Here(ds, grid_index(ds, at))
    modes = _modes(ds, mode)
    notes: list[str] = []
    dfdrho, source = _density_derivative(here, allow_model, notes)
    out: list[Sensitivity] = []
    for d, paths in _dimension_paths(ds).items():
        path = _separable(ds, d, paths, notes)
        if path is not None:
            out += _of_parameter(here, path, modes, dfdrho)
    if not np.all(np.isfinite(ds.fluid_density.isel(here.index).values)):
        notes.append("the point at 'at' has no result (failed or not built): values are NaN")
    return SensitivityList(out, at=here.point, notes=notes,
                           density_derivative=None if dfdrho is None else np.asarray(dfdrho),
                           source=source)


@dataclass(frozen=True)
class _Here:
    """One grid point of a dataset: per dimension its index, and the swept values there."""

    ds: xr.Dataset
    index: dict[str, int]

    @property
    def point(self) -> dict[str, Any]:
        return _point(self.ds, self.index)

    def line(self, var: xr.DataArray, d: str) -> xr.DataArray:
        """``var`` along dimension ``d`` through this point."""
        return var.isel({k: v for k, v in self.index.items() if k != d})

    def slope(self, var: xr.DataArray, d: str, path: str) -> Array:
        """d var / d path here, per SI unit of ``path``."""
        ln = self.line(var, d)
        return np.asarray(gradient_at(ln.values, self.ds[path].values.astype(float), self.index[d],
                                      axis=ln.dims.index(d)))


def _modes(ds: xr.Dataset, mode: int | None) -> list[int]:
    modes = [int(m) for m in ds["mode"].values]
    if mode is None:
        return modes
    if mode not in modes:
        raise ValueError(f"mode {mode}: " + (f"this sweep has modes 1..{len(modes)}" if modes
                                             else "this sweep has no natural frequencies"))
    return [mode]


def _density_derivative(here: _Here, allow_model: bool, notes: list[str]) -> tuple[Array | None, str]:
    """df_n/drho per mode at the point, and where it comes from (grid, model, formula)."""
    ds = here.ds
    if DENSITY in _dimension_paths(ds) and ds.sizes[DENSITY] >= 2:
        return here.slope(ds.natural_frequency, DENSITY, DENSITY), "grid"
    dfdrho, source, note = density_slope(ds, here.point, here.index, allow_model=allow_model)
    if note:
        notes.append(note)
    if dfdrho is not None:
        notes.append(f"df/drho from the {source} (fluid.density is not swept)")
    return dfdrho, source


def _separable(ds: xr.Dataset, d: str, paths: list[str], notes: list[str]) -> str | None:
    """The one numeric parameter of dimension ``d`` that can be differentiated alone, or
    None (with a note saying why not)."""
    if len(paths) != 1 or d != paths[0]:
        notes.append(f"zip '{d}' ({', '.join(paths)}): its parameters move together, "
                     "so no partial derivative is reported for them")
        return None
    if not _numeric(ds[d]):
        return None
    if ds.sizes[d] < 2:
        notes.append(f"{d}: a single value, no derivative")
        return None
    return d


def _of_parameter(here: _Here, path: str, modes: list[int], dfdrho: Array | None) -> list[Sensitivity]:
    """The sensitivities of ``modes`` to one swept parameter at the point."""
    ds, nf = here.ds, here.ds.natural_frequency
    uu = user_unit(path, ds[path].attrs.get("units"))
    ln = here.line(nf, path)
    # Hz per user unit: the rule and unit of the app's slope read-out too (one owner)
    g, unit = slope_at(ln.values, ds[path].values.astype(float), here.index[path], path,
                       ds[path].attrs.get("units"), axis=ln.dims.index(path))
    drho_true = float(here.slope(ds.fluid_density, path, path)) * uu.scale
    f_at = nf.isel(here.index).values
    out = []
    for m in modes:
        value, f = float(g[m - 1]), float(f_at[m - 1])
        ade = None
        if path != DENSITY and dfdrho is not None:
            slope_rho = float(dfdrho[m - 1])
            # a mode blind to density (slope 0) cannot measure it: no finite error
            ade = (value / slope_rho if slope_rho else math.nan) - (
                drho_true if np.isfinite(drho_true) else 0.0)
        out.append(Sensitivity(
            parameter=path, mode=m, at=here.point, value=value, unit=unit,
            relative=value / f if f else math.nan, relative_unit=per("1", uu.name),
            apparent_density_error=ade,
            apparent_density_error_unit=per("kg/m3", uu.name) if ade is not None else None,
            frequency=f,
        ))
    return out


def sensitivity_fields(ds: xr.Dataset) -> xr.Dataset:
    """Sensitivities at every grid point, for maps and live views.

    For each swept numeric parameter ``p`` (not in a zip) with two or more values:
    ``dfdx.<p>`` (dims..., mode) in Hz per user unit, ``relative.<p>`` in 1/user unit and,
    when ``fluid.density`` is swept too, ``apparent_density_error.<p>`` in kg/m3 per user
    unit (df/drho taken on the grid at the same point). Holes (failed or not yet built
    points) are NaN and their neighbours fall back to one-sided differences, so the
    fields fill in as points land. The units are in each variable's ``units`` attribute.
    """
    dims = _dimension_paths(ds)
    nf = ds.natural_frequency
    out: dict[str, xr.DataArray] = {}

    def along(var: xr.DataArray, d: str, path: str) -> xr.DataArray:
        g = grid_gradient(var.values, ds[path].values.astype(float), axis=var.dims.index(d))
        return var.copy(data=g)

    dfdrho = along(nf, DENSITY, DENSITY) if DENSITY in dims and ds.sizes[DENSITY] >= 2 else None
    for d, paths in dims.items():
        if len(paths) != 1 or d != paths[0] or not _numeric(ds[d]) or ds.sizes[d] < 2:
            continue
        uu = user_unit(d, ds[d].attrs.get("units"))
        g = along(nf, d, d) * uu.scale
        out[f"dfdx.{d}"] = g.assign_attrs(units=per("Hz", uu.name), parameter=d)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"relative.{d}"] = (g / nf).assign_attrs(units=per("1", uu.name), parameter=d)
            if dfdrho is not None and d != DENSITY:
                drho = along(ds.fluid_density, d, d) * uu.scale
                ade = g / dfdrho - drho.fillna(0.0)
                out[f"apparent_density_error.{d}"] = ade.assign_attrs(
                    units=per("kg/m3", uu.name), parameter=d)
    return xr.Dataset(out, coords=ds.natural_frequency.coords, attrs=dict(ds.attrs))
