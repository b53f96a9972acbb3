"""What the Calibration tab shows, Qt-free: the fit (on a worker thread) and the maps' grids.

``calibration_for`` runs on a ``BackgroundCall``: it reads the sweep's merged results from the
same ``ResultsSource`` as the sensitivity table and calls ``sweepgui.results.calibrate``, the
function ``sweepgui calibrate`` uses, so the tab shows the CLI's numbers. A sweep whose points
are still to come is not an error: the outcome says how many it waits for. A refusal of the
core (``CalibrationError``) becomes the outcome's message, shown as plain text.

``residual_map`` and ``residual_by_density`` turn a residual ``DataArray`` (over the sweep's
own dimensions) into what the plots draw: a grid over (T, p) -- the error of the largest
magnitude over the densities, or one density -- and (density, error) pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sweepgui.results import Calibration, CalibrationError, calibrate
from sweepgui.sweep.status import DONE, FAILED

DENSITY, TEMPERATURE, PRESSURE = "fluid.density", "state.temperature", "state.pressure"


@dataclass
class CalibrationOutcome:
    """One computation: the calibration, or why there is none (``message``)."""

    key: tuple
    dataset: Any = None
    calibration: Calibration | None = None
    message: str = ""          # the core's refusal ("" when there is a calibration)
    waiting: int = 0           # points without a result that a run would still build
    failed: int = 0            # points that failed
    total: int = 0
    modes: int = 0             # how many modes the results have
    densities: list[float] = field(default_factory=list)   # the density axis, for the picker
    provenance: dict[str, str] = field(default_factory=dict)


def provenance(ds) -> dict[str, str]:
    """Where the numbers come from: the sweep file, its hash, the model, the store paths."""
    attrs = dict(ds.attrs)
    paths = [str(s) for s in ds.store_path.values.ravel()] if "store_path" in ds else []
    return {
        "sweep_file": str(attrs.get("sweep_file") or ""),
        "sweep_hash": str(attrs.get("sweep_hash") or ""),
        "model": " ".join(x for x in (str(attrs.get("model_name") or ""),
                                      str(attrs.get("model_version") or "")) if x),
        "model_kind": str(attrs.get("model_kind") or ""),
        "store_paths": str(sum(1 for p in paths if p)),
        "points": str(len(paths)),
        "created": str(attrs.get("created") or ""),
        "updated": str(attrs.get("updated") or ""),
    }


def calibration_for(source, mode: int, order: int, reference: dict[str, float] | None,
                    dataset=None, key: tuple = ()) -> CalibrationOutcome:
    """The calibration of the sweep on show (``source``: a ``ResultsSource``); ``dataset``: one
    loaded before from the same results, reused (a new mode, order or reference reads nothing)."""
    ds = dataset if dataset is not None else source.dataset(with_spectra=False)
    status = ds.status.values.ravel().astype(str)
    out = CalibrationOutcome(key=key, dataset=ds, total=int(status.size),
                             modes=int(ds.sizes.get("mode", 0)), provenance=provenance(ds))
    # a failed point waits for Rerun failed; any other point without a result (queued,
    # running, cancelled: the next Run builds it) is still to come
    out.failed = int(np.isin(status, list(FAILED)).sum())
    out.waiting = int((~np.isin(status, list(DONE | FAILED))).sum())
    if DENSITY in ds.coords and np.issubdtype(ds[DENSITY].dtype, np.number):
        out.densities = [float(v) for v in ds[DENSITY].values]
    try:
        out.calibration = calibrate(ds, mode=mode, order=order, reference=reference)
    except CalibrationError as exc:
        out.message = str(exc)
    return out


# -- the plots' data ----------------------------------------------------------------------------
def _dim_of(r, path: str) -> str | None:
    if path in r.coords and r[path].dims:
        return str(r[path].dims[0])
    return None


@dataclass
class MapGrid:
    """A residual map: ``values[row, column]`` over ``x`` (columns) and ``y`` (rows)."""

    values: np.ndarray
    x_path: str
    x_values: list
    y_path: str | None = None
    y_values: list = field(default_factory=list)
    reduced: str = ""          # how the density axis was reduced ("" when it is an axis)


def map_axes(r) -> tuple[str | None, str | None, str | None]:
    """(column dimension, row dimension, density dimension reduced or None) of the map of ``r``.

    Temperature across and pressure up when both are swept (the density reduced); with one
    state swept, that state across and the density up; with neither, the density across."""
    rho = _dim_of(r, DENSITY)
    states = []
    for path in (TEMPERATURE, PRESSURE):
        d = _dim_of(r, path)
        if d is not None and d != rho and d not in states and r.sizes[d] > 1:
            states.append(d)
    if len(states) >= 2:
        return states[0], states[1], rho
    if len(states) == 1:
        return states[0], rho, None
    return rho, None, None


def _first_path(r, dim: str) -> str:
    for path in (DENSITY, TEMPERATURE, PRESSURE):
        if _dim_of(r, path) == dim:
            return path
    return dim


def residual_map(r, density_index: int | None = None) -> MapGrid:
    """The map of residuals ``r``: at density ``density_index`` (grid position), or, for None,
    at each (T, p) the error of the largest magnitude over the densities (its sign kept)."""
    x, y, rho = map_axes(r)
    keep = [d for d in (x, y, rho) if d is not None]
    extra = {d: 0 for d in r.dims if d not in keep}   # dimensions of one value
    r = r.isel(extra) if extra else r
    reduced = ""
    if rho is not None:
        if density_index is None:
            a = r.transpose(rho, *[d for d in (y, x) if d is not None]).values
            k = np.nanargmax(np.where(np.isfinite(a), np.abs(a), -1.0), axis=0)
            grid = np.take_along_axis(a, k[None], axis=0)[0]
            reduced = "largest |error| over the densities"
        else:
            k = min(max(int(density_index), 0), r.sizes[rho] - 1)
            grid = r.isel({rho: k}).transpose(*[d for d in (y, x) if d is not None]).values
            reduced = f"at {DENSITY} = {float(r[DENSITY].values[k]):g} kg/m3" if DENSITY in r.coords \
                else f"at {rho}[{k}]"
    else:
        grid = r.transpose(*[d for d in (y, x) if d is not None]).values
    grid = np.atleast_2d(np.asarray(grid, dtype=float))
    x_path = _first_path(r, x)
    y_path = _first_path(r, y) if y is not None else None
    return MapGrid(grid, x_path, [_value(v) for v in r[x_path].values],
                   y_path, [_value(v) for v in r[y_path].values] if y_path else [], reduced)


def _value(v: Any) -> Any:
    return float(v) if isinstance(v, (int, float, np.integer, np.floating)) else str(v)


def residual_by_density(r) -> tuple[np.ndarray, np.ndarray]:
    """(true density, residual) at every point with a finite residual."""
    import xarray as xr

    if DENSITY not in r.coords:
        return np.zeros(0), np.zeros(0)
    rho, res = xr.broadcast(r[DENSITY], r)
    x, y = np.asarray(rho.values, float).ravel(), np.asarray(res.values, float).ravel()
    ok = np.isfinite(x) & np.isfinite(y)
    return x[ok], y[ok]


def envelope(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(densities, lowest, highest residual at each): the band every state's error lies in."""
    xs = np.unique(x)
    lo = np.array([y[x == v].min() for v in xs]) if xs.size else np.zeros(0)
    hi = np.array([y[x == v].max() for v in xs]) if xs.size else np.zeros(0)
    return xs, lo, hi


def symmetric_levels(values: np.ndarray) -> tuple[float, float]:
    """Colour levels symmetric about zero (a diverging scale: blue reads low, red reads high)."""
    finite = np.abs(values[np.isfinite(values)])
    top = float(finite.max()) if finite.size else 1.0
    if not math.isfinite(top) or top <= 0.0:
        top = 1e-12
    return -top, top
