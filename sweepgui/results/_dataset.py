"""The finished points of a sweep as one labelled N-dimensional ``xarray.Dataset``.

Dimensions are the sweep's dimensions in file order (a zip group is one dimension, its
member parameters are coordinates along it), then ``mode`` for natural frequencies and
``frequency`` for spectra. Points that failed, were cancelled or have not run yet are
NaN in every number, and their ``status`` (and ``error``) say why.

Spectra share one frequency axis when every loaded point has the same frequency grid
(the usual case: the analysis band is not swept). If the band differs between points
(``analysis.f_min``, ``f_max`` or ``frequencies`` swept), the spectra are indexed by
``frequency_index`` instead, with each point's own frequencies in ``spectrum_frequency``
(NaN-padded to the longest grid), so nothing is resampled behind the user's back.

The steps: the manifest (``_resolve``), the grid (``_coords``), what the manifest says of
each point (``_point_fields``), the results as columns (``_summary.load_results``) spread
onto the grid (``_result_fields``), the spectra (``_spectra``), provenance.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from math import prod
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..nix.manifest_schema import FILENAME as MANIFEST_NAME
from ..nix.store import ResultError, read_result
from ._columns import Array
from ._source import read_manifest
from ._summary import ResultTable, load_results
from ._units import parameter_unit

DONE = ("built", "cached")
STRING_VARS = ("status", "error", "store_path", "drv", "machine", "model_name", "model_version")
_DERIVED_UNITS = {
    "tube_mass_per_length": "kg/m", "fluid_mass_per_length": "kg/m", "fluid_area": "m2",
    "axial_force": "N", "length": "m", "outer_diameter": "m", "inner_diameter": "m",
    "youngs_modulus": "Pa", "gauge_pressure": "Pa",
}


def load_dataset(
    source: str | os.PathLike[str] | dict[str, Any],
    with_spectra: bool = True,
    *,
    state_dir: str | os.PathLike[str] | None = None,
    cache: bool = True,
    exact_spectra: bool = True,
) -> xr.Dataset:
    """Merge the results of a sweep run into one labelled dataset.

    Parameters
    ----------
    source
        The sweep's state folder (holding ``manifest.json``), the manifest file, or the
        manifest as a dict (e.g. the GUI's live copy during a run).
    with_spectra
        Also load ``magnitude`` and ``phase`` over ``frequency``.
    state_dir
        Where the result columns are cached when ``source`` is a dict.
    cache
        Use (and update) the result columns in the state folder; False reads every result
        from the store.
    exact_spectra
        True: the spectra exactly as the model wrote them, read from the store (exports).
        False: the float32 spectra of the state folder's columns (fast; what plots draw).

    Returns
    -------
    xarray.Dataset
        Variables ``natural_frequency`` (dims..., mode), ``fluid_density``,
        ``speed_of_sound``, ``stable`` (1.0/0.0, NaN if unknown), ``seconds``, the strings
        ``status``, ``error``, ``store_path``, ``drv``, ``machine``, ``model_name``,
        ``model_version``, the model's ``derived.*`` quantities, a custom model's other
        top-level numbers as ``output.*``, and with spectra
        ``magnitude`` and ``phase``. Provenance in ``attrs``.
    """
    manifest, folder = _resolve(source, state_dir)
    dims, shape, coords = _coords(manifest)
    points = _point_fields(manifest, prod(shape))
    outs = [points.strings["store_path"][i] for i in points.done]
    table = load_results(outs, folder, spectra=with_spectra and not exact_spectra, cache=cache)
    results = _result_fields(table, points, manifest.get("model") or {})
    data = _variables(points, results, dims, shape)
    coords["mode"] = xr.Variable(("mode",), np.arange(1, results.nf.shape[1] + 1),
                                 {"long_name": "mode number"})
    if with_spectra:
        spectra = _exact_spectra(points) if exact_spectra else _table_spectra(table, points)
        data.update(_spectra(spectra, dims, shape, coords))
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update(_provenance(manifest))
    return ds


# -- the manifest ---------------------------------------------------------------------

def _resolve(source: Any, state_dir: Any) -> tuple[dict[str, Any], Path | None]:
    if isinstance(source, dict):
        return source, Path(state_dir) if state_dir is not None else None
    path = Path(source)
    if path.name == MANIFEST_NAME and path.is_file():
        path = path.parent
    return read_manifest(path), path


def _coord_values(values: list[Any]) -> Array:
    numbers = [v for v in values if v is not None]
    if numbers and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers):
        if len(numbers) < len(values) or any(isinstance(v, float) for v in numbers):
            # None: fluid.density "eos" (from the equation of state) -> NaN on this axis;
            # the density the model used is in the fluid_density variable
            return np.asarray([np.nan if v is None else v for v in values], dtype=float)
        return np.asarray(values, dtype=int)
    return np.asarray([str(v) for v in values], dtype=object)


def _coords(manifest: dict[str, Any]) -> tuple[list[str], tuple[int, ...], dict[str, Any]]:
    dims: list[str] = []
    shape: list[int] = []
    coords: dict[str, Any] = {}
    for d in manifest.get("dimensions") or []:
        name, paths = str(d["name"]), list(d["paths"])
        units = d.get("units") or {}
        dims.append(name)
        shape.append(len(d["values"][paths[0]]))
        for path in paths:
            unit = units.get(path)
            attrs = {"parameter": path, "units": unit if unit is not None else parameter_unit(path)}
            if name != path:
                attrs["zip"] = name
            coords[path] = xr.Variable((name,), _coord_values(d["values"][path]), attrs)
    return dims, tuple(shape), coords


@dataclass
class _Points:
    """What the manifest says of each grid point (flat, C order)."""

    n: int
    strings: dict[str, Array]
    seconds: Array
    done: list[int] = field(default_factory=list)   # points whose result should exist


def _point_fields(manifest: dict[str, Any], n: int) -> _Points:
    strings = {k: np.full(n, "", dtype=object) for k in STRING_VARS}
    strings["status"][:] = "missing"
    points = _Points(n, strings, np.full(n, np.nan))
    for p in manifest.get("points") or []:
        i = p.get("index")
        if not isinstance(i, int) or not 0 <= i < n:
            continue  # a live manifest of another shape: ignore what does not fit the grid
        status = str(p.get("status") or "missing")
        strings["status"][i] = status
        strings["error"][i] = _error_text(p)
        strings["machine"][i] = str(p.get("machine") or "")
        strings["drv"][i] = str(p.get("drv") or "")
        points.seconds[i] = _num(p.get("seconds"))
        if status in DONE and p.get("out"):
            strings["store_path"][i] = str(p["out"])
            points.done.append(i)
    return points


def _error_text(point: dict[str, Any]) -> str:
    """The engine's reason, with the model's own first words of the log tail (the why)."""
    error = str(point.get("error") or "")
    tail = [str(t).strip() for t in point.get("log_tail") or [] if str(t).strip()]
    model_lines = [t for t in tail if not t.startswith("sweepgui:")]
    if error and model_lines and model_lines[-1] not in error:
        return f"{error}: {model_lines[-1]}"
    return error or (tail[-1] if tail else "")


def _num(x: Any) -> float:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else np.nan


# -- the results ----------------------------------------------------------------------

@dataclass
class _Results:
    """The results' numbers on the flat grid (NaN where a point has none)."""

    nf: Array
    density: Array
    sound: Array
    stable: Array
    extra: dict[str, Array]


def _result_fields(table: ResultTable, points: _Points, model: dict[str, Any]) -> _Results:
    """Spread the table's rows (one per ``points.done``) onto the grid; a result that
    cannot be read makes its point failed, with the reason."""
    n, s = points.n, points.strings
    done = np.asarray(points.done, dtype=np.intp)
    ok = table.ok
    for i, err in zip(points.done, table.errors):
        if err:
            s["status"][i], s["error"][i] = "failed", err
    here, rows = done[ok], np.flatnonzero(ok)

    def spread(column: Array) -> Array:
        out = np.full(n, np.nan)
        out[here] = column[rows]
        return out

    nf = np.full((n, table.natural_frequency.shape[1]), np.nan)
    nf[here] = table.natural_frequency[rows]
    given = table.model_given[rows]
    s["model_name"][here] = np.where(given, table.model_name[rows], str(model.get("name") or ""))
    s["model_version"][here] = np.where(given, table.model_version[rows], str(model.get("version") or ""))
    extra = {k: spread(v) for k, v in table.numbers.items() if table.present[k][rows].any()}
    return _Results(nf, spread(table.fluid_density), spread(table.speed_of_sound),
                    spread(table.stable), extra)


def _variables(points: _Points, r: _Results, dims: list[str], shape: tuple[int, ...]
               ) -> dict[str, Any]:
    def var(a: Array, attrs: dict[str, str]) -> xr.Variable:
        return xr.Variable(dims, a.reshape(shape), attrs)

    data: dict[str, Any] = {
        "natural_frequency": xr.Variable(
            (*dims, "mode"), r.nf.reshape(*shape, r.nf.shape[1]),
            {"units": "Hz", "long_name": "natural frequency"}),
        "fluid_density": var(r.density, {"units": "kg/m3", "long_name": "fluid density used by the model"}),
        "speed_of_sound": var(r.sound, {"units": "m/s"}),
        "stable": var(r.stable, {"units": "", "long_name": "1 stable, 0 beyond divergence, NaN unknown"}),
        "seconds": var(points.seconds, {"units": "s", "long_name": "build time"}),
    }
    for key, arr in points.strings.items():
        data[key] = xr.Variable(dims, arr.reshape(shape))
    for key, arr in r.extra.items():
        unit = _DERIVED_UNITS.get(key.partition(".")[2], "") if key.startswith("derived.") else ""
        data[key] = var(arr, {"units": unit})
    return data


# -- spectra --------------------------------------------------------------------------

@dataclass
class _Spectra:
    """Spectra on the flat grid: per point its grid's number (-1: none), the grids, and
    magnitude and phase rows (NaN-padded)."""

    grid_of: Array
    grids: list[Array]
    magnitude: Array
    phase: Array


def _exact_spectra(points: _Points) -> _Spectra:
    """The spectra as the model wrote them (read from the store: float64, exact)."""
    n = points.n
    grid_of = np.full(n, -1, dtype=np.intp)
    grids: list[Array] = []
    known: dict[bytes, int] = {}
    mags: dict[int, list[float]] = {}
    phases: dict[int, list[float]] = {}
    for i in points.done:
        if points.strings["status"][i] not in DONE:
            continue  # its result could not be read
        try:
            sp = read_result(points.strings["store_path"][i]).get("spectrum")
        except ResultError as exc:
            points.strings["status"][i], points.strings["error"][i] = "failed", str(exc)
            continue
        if not isinstance(sp, dict):
            continue
        mags[i], phases[i] = _floats(sp.get("magnitude")), _floats(sp.get("phase"))
        grid = _floats(sp.get("frequency"))
        if grid:
            g = np.asarray(grid, dtype=float)
            grid_of[i] = known.setdefault(g.tobytes(), len(grids))
            if grid_of[i] == len(grids):
                grids.append(g)
    return _Spectra(grid_of, grids, _rows(mags, n), _rows(phases, n))


def _floats(values: Any) -> list[float]:
    if not isinstance(values, list):
        return []
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError):  # a custom model's odd entries: NaN, not a crash
        return [_num(v) for v in values]


def _rows(rows: dict[int, list[float]], n: int) -> Array:
    out = np.full((n, max((len(r) for r in rows.values()), default=0)), np.nan)
    for i, r in rows.items():
        out[i, : len(r)] = r
    return out


def _table_spectra(table: ResultTable, points: _Points) -> _Spectra:
    """The spectra of the state folder's columns (float32, as drawn)."""
    assert table.magnitude is not None and table.phase is not None and table.grid_of is not None
    assert table.frequency_grids is not None and table.grid_sizes is not None
    n = points.n
    done = np.asarray(points.done, dtype=np.intp)
    grid_of = np.full(n, -1, dtype=np.intp)
    grid_of[done] = table.grid_of
    grid_of[done[~table.ok]] = -1
    mag = np.full((n, table.magnitude.shape[1]), np.nan, dtype=np.float32)
    pha = np.full((n, table.phase.shape[1]), np.nan, dtype=np.float32)
    mag[done], pha[done] = table.magnitude, table.phase
    grids = [table.frequency_grids[g, : int(k)] for g, k in enumerate(table.grid_sizes)]
    used = sorted(set(grid_of[grid_of >= 0].tolist()))
    renumber = {g: k for k, g in enumerate(used)}
    grid_of = np.asarray([renumber.get(g, -1) for g in grid_of.tolist()], dtype=np.intp)
    return _Spectra(grid_of, [grids[g] for g in used], mag, pha)


def _spectra(sp: _Spectra, dims: list[str], shape: tuple[int, ...],
             coords: dict[str, Any]) -> dict[str, Any]:
    if not sp.grids:
        return {}
    shared = len(sp.grids) == 1
    width = max(sp.magnitude.shape[1], sp.phase.shape[1], max(len(g) for g in sp.grids))

    def wide(a: Array) -> Array:
        return np.pad(a, ((0, 0), (0, width - a.shape[1])), constant_values=np.nan)

    fdim = "frequency" if shared else "frequency_index"
    out: dict[str, Any] = {
        "magnitude": xr.Variable((*dims, fdim), wide(sp.magnitude).reshape(*shape, width),
                                 {"units": "m/N", "long_name": "receptance magnitude"}),
        "phase": xr.Variable((*dims, fdim), wide(sp.phase).reshape(*shape, width), {"units": "rad"}),
    }
    if shared:
        coords["frequency"] = xr.Variable(("frequency",), sp.grids[0], {"units": "Hz"})
    else:
        f = np.full((len(sp.grid_of), width), np.nan)
        for i, g in enumerate(sp.grid_of.tolist()):
            if g >= 0:
                f[i, : len(sp.grids[g])] = sp.grids[g]
        out["spectrum_frequency"] = xr.Variable((*dims, fdim), f.reshape(*shape, width), {"units": "Hz"})
    return out


def _provenance(manifest: dict[str, Any]) -> dict[str, Any]:
    model = manifest.get("model") or {}
    points = manifest.get("points") or []
    dims = {str(d["name"]): list(d["paths"]) for d in manifest.get("dimensions") or []}
    swept = {p for paths in dims.values() for p in paths}
    fixed = {}
    if points and isinstance(points[0].get("parameters"), dict):
        for group, fields in points[0]["parameters"].items():
            for name, value in (fields or {}).items():
                if f"{group}.{name}" not in swept:
                    fixed[f"{group}.{name}"] = value
    return {
        "title": "sweepgui sweep results",
        "sweep_file": str(manifest.get("sweep_file") or ""),
        "sweep_hash": str(manifest.get("sweep_hash") or ""),
        "created": str(manifest.get("created") or ""),
        "updated": str(manifest.get("updated") or ""),
        "model_name": str(model.get("name") or ""),
        "model_version": str(model.get("version") or ""),
        "model_kind": str(model.get("kind") or ""),
        "model_source_hash": str(model.get("source_hash") or ""),
        "interpreter": json.dumps(manifest.get("interpreter") or {}, sort_keys=True),
        "dimensions": json.dumps(dims),
        "fixed_parameters": json.dumps(fixed, sort_keys=True),
    }
