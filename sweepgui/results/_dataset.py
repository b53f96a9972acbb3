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
"""

from __future__ import annotations

import json
import os
from math import prod
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ._source import (
    MANIFEST_NAME,
    ResultsError,
    SummaryCache,
    read_manifest,
    read_result_file,
    read_result_summary,
    summarize,
)
from ._units import parameter_unit

DONE = ("built", "cached")
KNOWN_KEYS = ("parameters", "fluid", "natural_frequencies", "spectrum", "stable", "derived", "model")
STRING_VARS = ("status", "error", "store_path", "drv", "machine", "model_name", "model_version")


def _resolve(source: Any, state_dir: Any) -> tuple[dict[str, Any], Path | None]:
    if isinstance(source, dict):
        return source, Path(state_dir) if state_dir is not None else None
    path = Path(source)
    if path.name == MANIFEST_NAME and path.is_file():
        path = path.parent
    return read_manifest(path), path


def _coord_values(values: list[Any]) -> np.ndarray:
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
        size = len(d["values"][paths[0]])
        dims.append(name)
        shape.append(size)
        for path in paths:
            unit = units.get(path)
            attrs = {"parameter": path, "units": unit if unit is not None else parameter_unit(path)}
            if name != path:
                attrs["zip"] = name
            coords[path] = xr.Variable((name,), _coord_values(d["values"][path]), attrs)
    return dims, tuple(shape), coords


def _padded(rows: list[list[float] | None], n: int) -> np.ndarray:
    rows = [r if isinstance(r, list) else None for r in rows]
    width = max((len(r) for r in rows if r), default=0)
    out = np.full((n, width), np.nan)
    for i, r in enumerate(rows):
        if r:
            try:
                out[i, : len(r)] = np.asarray(r, dtype=float)
            except (TypeError, ValueError):  # a custom model's odd entries: NaN, not a crash
                out[i, : len(r)] = [_num(v) for v in r]
    return out


def _error_text(point: dict[str, Any]) -> str:
    """The engine's reason, with the model's own first words of the log tail (the why)."""
    error = str(point.get("error") or "")
    tail = [str(t).strip() for t in point.get("log_tail") or [] if str(t).strip()]
    model_lines = [t for t in tail if not t.startswith("sweepgui:")]
    if error and model_lines and model_lines[-1] not in error:
        return f"{error}: {model_lines[-1]}"
    return error or (tail[-1] if tail else "")


def _put(store: dict[str, np.ndarray], key: str, i: int, n: int, value: Any) -> None:
    arr = store.get(key)
    if arr is None:
        arr = store[key] = np.full(n, np.nan)
    arr[i] = _num(value)


def _num(x: Any) -> float:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else np.nan


def load_dataset(
    source: str | os.PathLike[str] | dict[str, Any],
    with_spectra: bool = True,
    *,
    state_dir: str | os.PathLike[str] | None = None,
    cache: bool = True,
) -> xr.Dataset:
    """Merge the results of a sweep run into one labelled dataset.

    Parameters
    ----------
    source
        The sweep's state folder (holding ``manifest.json``), the manifest file, or the
        manifest as a dict (e.g. the GUI's live copy during a run).
    with_spectra
        Also load ``magnitude`` and ``phase`` over ``frequency``. Spectra are most of the
        bytes; without them a re-opened sweep reads only a small summary cache.
    state_dir
        Where to keep the summary cache when ``source`` is a dict.
    cache
        Use (and update) the summary cache.

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
    manifest, sd = _resolve(source, state_dir)
    dims, shape, coords = _coords(manifest)
    n = prod(shape)
    store = SummaryCache(sd) if cache else None

    strings = {k: np.full(n, "", dtype=object) for k in STRING_VARS}
    strings["status"][:] = "missing"
    seconds = np.full(n, np.nan)
    density = np.full(n, np.nan)
    sound = np.full(n, np.nan)
    stable = np.full(n, np.nan)
    freqs: list[list[float] | None] = [None] * n
    derived: dict[str, np.ndarray] = {}
    spectra: list[dict[str, Any] | None] = [None] * n
    model = manifest.get("model") or {}
    outs: list[str] = []

    for p in manifest.get("points") or []:
        i = p.get("index")
        if not isinstance(i, int) or not 0 <= i < n:
            continue  # a manifest of another shape: ignore what does not fit the grid
        status = str(p.get("status") or "missing")
        strings["status"][i] = status
        strings["error"][i] = _error_text(p)
        strings["machine"][i] = str(p.get("machine") or "")
        strings["drv"][i] = str(p.get("drv") or "")
        seconds[i] = _num(p.get("seconds"))
        out = p.get("out")
        if status not in DONE or not out:
            continue
        out = str(out)
        strings["store_path"][i] = out
        summary = store.get(out) if store is not None else None
        if summary is None or with_spectra:
            try:
                if with_spectra:
                    result = read_result_file(out)
                    sp = result.get("spectrum")
                    spectra[i] = sp if isinstance(sp, dict) else None
                    summary = summarize(result)
                else:
                    summary = read_result_summary(out)
            except ResultsError as exc:
                strings["status"][i] = "failed"
                strings["error"][i] = str(exc)
                continue
            if store is not None:
                store.put(out, summary)
        outs.append(out)
        nat = summary.get("natural_frequencies")
        freqs[i] = nat if isinstance(nat, list) else None
        fluid = summary.get("fluid") or {}
        density[i] = _num(fluid.get("density"))
        sound[i] = _num(fluid.get("speed_of_sound"))
        st = summary.get("stable")
        stable[i] = 1.0 if st is True else 0.0 if st is False else np.nan
        m = summary.get("model") or model
        strings["model_name"][i] = str(m.get("name") or "")
        strings["model_version"][i] = str(m.get("version") or "")
        for key, value in (summary.get("derived") or {}).items():
            _put(derived, f"derived.{key}", i, n, value)
        for key, value in summary.items():  # a custom model's own numbers
            if key not in KNOWN_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool):
                _put(derived, f"output.{key}", i, n, value)
    if store is not None:
        store.save(outs)

    nf = _padded(freqs, n)
    data: dict[str, Any] = {
        "natural_frequency": xr.Variable(
            (*dims, "mode"), nf.reshape(*shape, nf.shape[1]),
            {"units": "Hz", "long_name": "natural frequency"}),
        "fluid_density": xr.Variable(dims, density.reshape(shape),
                                     {"units": "kg/m3", "long_name": "fluid density used by the model"}),
        "speed_of_sound": xr.Variable(dims, sound.reshape(shape), {"units": "m/s"}),
        "stable": xr.Variable(dims, stable.reshape(shape),
                              {"units": "", "long_name": "1 stable, 0 beyond divergence, NaN unknown"}),
        "seconds": xr.Variable(dims, seconds.reshape(shape), {"units": "s", "long_name": "build time"}),
    }
    for key, arr in strings.items():
        data[key] = xr.Variable(dims, arr.reshape(shape))
    for key, arr in derived.items():
        unit = _DERIVED_UNITS.get(key.partition(".")[2], "") if key.startswith("derived.") else ""
        data[key] = xr.Variable(dims, arr.reshape(shape), {"units": unit})
    coords["mode"] = xr.Variable(("mode",), np.arange(1, nf.shape[1] + 1), {"long_name": "mode number"})
    if with_spectra:
        data.update(_spectra(spectra, dims, shape, coords))

    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update(_provenance(manifest))
    return ds


_DERIVED_UNITS = {
    "tube_mass_per_length": "kg/m", "fluid_mass_per_length": "kg/m", "fluid_area": "m2",
    "axial_force": "N", "length": "m", "outer_diameter": "m", "inner_diameter": "m",
    "youngs_modulus": "Pa", "gauge_pressure": "Pa",
}


def _spectra(spectra: list[dict[str, Any] | None], dims: list[str], shape: tuple[int, ...],
             coords: dict[str, Any]) -> dict[str, Any]:
    n = len(spectra)
    grids = [s["frequency"] for s in spectra if s and isinstance(s.get("frequency"), list) and s["frequency"]]
    if not grids:
        return {}
    shared = all(g == grids[0] for g in grids)
    mag = _padded([s.get("magnitude") if s else None for s in spectra], n)
    pha = _padded([s.get("phase") if s else None for s in spectra], n)
    width = max(mag.shape[1], pha.shape[1], max(len(g) for g in grids))
    mag = np.pad(mag, ((0, 0), (0, width - mag.shape[1])), constant_values=np.nan)
    pha = np.pad(pha, ((0, 0), (0, width - pha.shape[1])), constant_values=np.nan)
    fdim = "frequency" if shared else "frequency_index"
    out: dict[str, Any] = {
        "magnitude": xr.Variable((*dims, fdim), mag.reshape(*shape, width),
                                 {"units": "m/N", "long_name": "receptance magnitude"}),
        "phase": xr.Variable((*dims, fdim), pha.reshape(*shape, width), {"units": "rad"}),
    }
    if shared:
        coords["frequency"] = xr.Variable(("frequency",), np.asarray(grids[0], dtype=float), {"units": "Hz"})
    else:
        f = _padded([s.get("frequency") if s else None for s in spectra], n)
        f = np.pad(f, ((0, 0), (0, width - f.shape[1])), constant_values=np.nan)
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
