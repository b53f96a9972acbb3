"""Exports of a merged sweep with provenance in every row: CSV, netCDF, JSON.

The formats are one table, ``EXPORT_FORMATS`` (name -> suffixes, writer, whether it holds
spectra): the CLI's ``--format`` and the GUI's export menu list it, and a new format is
one ``register_format`` call at the end of this module.

Every row (CSV, JSON) and every point (netCDF) carries its store path, derivation, model
name and version; the sweep file's hash is in every row too (and in the netCDF's global
attributes with the rest of the provenance). Numbers are written as Python's ``repr``
(the shortest text that reads back to the same double), so exports re-import with
identical numbers. Missing values are ``nan`` in CSV, ``null`` in JSON, NaN in netCDF;
the ``status`` column says why. Files are written to a temp file and renamed.

CSV columns: ``index``, the swept parameters, ``f1 [Hz]`` .. ``fN [Hz]`` (none if the
model reports no natural frequencies), a custom model's own top-level numbers
``output.NAME [?]`` (unit unknown; NaN where a point lacks them),
``fluid_density [kg/m3]``, ``speed_of_sound [m/s]``, ``stable``, ``status``, ``error``,
``machine``, ``seconds [s]``, provenance (``store_path``, ``drv``, ``model_name``,
``model_version``, ``sweep_hash``, ``sweep_file``), then the fixed parameters. A header
``name [unit]`` marks a numeric column (``[-]`` dimensionless); ``read_csv`` parses them.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..atomic import atomic_path, atomic_write
from ._units import parameter_unit

PROVENANCE = ("store_path", "drv", "model_name", "model_version")


@dataclass(frozen=True)
class ExportFormat:
    """One way to write a merged sweep: an entry of ``EXPORT_FORMATS``.

    Attributes
    ----------
    name : str
        What ``--format`` and ``export(..., format=)`` take, e.g. "csv".
    title : str
        For menus and file dialogs, e.g. "CSV".
    suffixes : tuple of str
        File suffixes that name it; the first is the default of a new file.
    write : callable (dataset, path) -> None
        Writes the file; must be atomic (temp file + rename: ``atomic_write`` or
        ``atomic_path``).
    spectra : bool
        Whether the format holds the spectra (then they are loaded for it).
    """

    name: str
    title: str
    suffixes: tuple[str, ...]
    write: Callable[[xr.Dataset, Path], None]
    spectra: bool = False

    @property
    def suffix(self) -> str:
        return self.suffixes[0]


# The one table of export formats: the CLI's --format and the GUI's menu list it. A new
# format is one more entry (see register_format), nothing else.
EXPORT_FORMATS: dict[str, ExportFormat] = {}


def register_format(fmt: ExportFormat) -> ExportFormat:
    """Add (or replace) an export format; returns it."""
    EXPORT_FORMATS[fmt.name] = fmt
    return fmt


def format_from_path(path: str | os.PathLike[str]) -> str | None:
    """The name of the format a file's suffix names (.csv, .nc, .json...), or None."""
    suffix = Path(path).suffix.lower()
    return next((f.name for f in EXPORT_FORMATS.values() if suffix in f.suffixes), None)


def _header(name: str, unit: str | None) -> str:
    if unit is None:
        return name
    return f"{name} [{unit or '-'}]"


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (float, np.floating)):
        return repr(float(v))  # 'nan' for missing; shortest round-trip text otherwise
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return str(v)


def _jsonable(v: Any) -> Any:
    if isinstance(v, (np.floating, float)):
        v = float(v)
        return v if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _stable(v: float) -> bool | None:
    return None if not np.isfinite(v) else bool(v)


def _numeric_parameter(path: str, value: Any) -> bool:
    try:
        from sweepgui.params import field_info

        return field_info(path).numeric
    except KeyError:  # a custom model's own parameter
        return isinstance(value, (int, float)) and not isinstance(value, bool)


def _swept(ds: xr.Dataset) -> list[str]:
    try:
        dims = json.loads(ds.attrs.get("dimensions", "{}"))
    except ValueError:
        dims = {}
    return [p for paths in dims.values() for p in paths]


def _fixed(ds: xr.Dataset) -> dict[str, Any]:
    try:
        fixed = json.loads(ds.attrs.get("fixed_parameters", "{}"))
    except ValueError:
        return {}
    return fixed if isinstance(fixed, dict) else {}


def _flat(ds: xr.Dataset, name: str) -> np.ndarray:
    var = ds[name]
    dims = [d for d in ds.natural_frequency.dims if d != "mode"]
    extra = [d for d in var.dims if d not in dims]
    var = var.broadcast_like(ds.status).transpose(*dims, *extra)
    # the point count, not -1: with no modes (a custom model without natural frequencies)
    # the array is empty and -1 cannot be inferred
    return var.values.reshape((ds.status.size, *var.shape[len(dims):]))


def _outputs(ds: xr.Dataset) -> list[str]:
    """A custom model's own numbers (``output.*`` variables of the dataset)."""
    return sorted(str(k) for k in ds.data_vars if str(k).startswith("output."))


def rows(ds: xr.Dataset) -> tuple[list[str], list[list[Any]]]:
    """The CSV header and one row of values per point (C order over the sweep's dimensions)."""
    swept = _swept(ds)
    fixed = _fixed(ds)
    nf = _flat(ds, "natural_frequency")
    n, modes = nf.shape
    cols: list[tuple[str, Any]] = [("index", np.arange(n))]
    for p in swept:
        numeric = np.issubdtype(ds[p].dtype, np.number)
        cols.append((_header(p, ds[p].attrs.get("units", "") if numeric else None), _flat(ds, p)))
    for k in range(modes):
        cols.append((f"f{k + 1} [Hz]", nf[:, k]))
    for name in _outputs(ds):
        cols.append((_header(name, ds[name].attrs.get("units") or "?"), _flat(ds, name)))
    cols += [("fluid_density [kg/m3]", _flat(ds, "fluid_density")),
             ("speed_of_sound [m/s]", _flat(ds, "speed_of_sound")),
             ("stable", [_stable(v) for v in _flat(ds, "stable")]),
             ("status", _flat(ds, "status")), ("error", _flat(ds, "error")),
             ("machine", _flat(ds, "machine")), ("seconds [s]", _flat(ds, "seconds"))]
    cols += [(k, _flat(ds, k)) for k in PROVENANCE]
    cols += [("sweep_hash", [ds.attrs.get("sweep_hash", "")] * n),
             ("sweep_file", [ds.attrs.get("sweep_file", "")] * n)]
    for p, v in fixed.items():
        numeric = _numeric_parameter(p, v)
        cols.append((_header(p, parameter_unit(p) if numeric else None), [v] * n))
    header = [c[0] for c in cols]
    return header, [[c[1][i] for c in cols] for i in range(n)]


def to_csv_text(ds: xr.Dataset) -> str:
    header, data = rows(ds)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in data:
        w.writerow([_text(v) for v in r])
    return buf.getvalue()


def to_json_obj(ds: xr.Dataset) -> dict[str, Any]:
    """Provenance, dimensions and one record per point (spectra are in the netCDF export)."""
    header, data = rows(ds)
    swept = _swept(ds)
    nmodes = ds.sizes["mode"]
    outputs = [(k, _header(k, ds[k].attrs.get("units") or "?")) for k in _outputs(ds)]
    points = []
    for r in data:
        rec = dict(zip(header, r))
        points.append({
            "index": int(rec["index"]),
            "coordinates": {p: _jsonable(v) for p, v in zip(swept, r[1: 1 + len(swept)])},
            "natural_frequencies": [_jsonable(v) for v in r[1 + len(swept): 1 + len(swept) + nmodes]],
            "fluid_density": _jsonable(rec["fluid_density [kg/m3]"]),
            "speed_of_sound": _jsonable(rec["speed_of_sound [m/s]"]),
            "stable": rec["stable"],
            **{k: _jsonable(rec[k]) for k in ("status", "error", "machine")},
            "seconds": _jsonable(rec["seconds [s]"]),
            **{k: rec[k] for k in (*PROVENANCE, "sweep_hash")},
            "outputs": {k.partition(".")[2]: _jsonable(rec[h]) for k, h in outputs},
        })
    attrs = {k: v for k, v in ds.attrs.items() if k not in ("dimensions", "fixed_parameters", "interpreter")}
    attrs["interpreter"] = json.loads(ds.attrs.get("interpreter", "{}") or "{}")
    dims = json.loads(ds.attrs.get("dimensions", "{}") or "{}")
    return {
        "format": "sweepgui-results", "version": 1, "provenance": attrs,
        "dimensions": [{"name": d, "paths": paths,
                        "values": {p: [_jsonable(v) for v in ds[p].values.tolist()] for p in paths},
                        "units": {p: ds[p].attrs.get("units", "") for p in paths}}
                       for d, paths in dims.items()],
        "fixed_parameters": _fixed(ds),
        "points": points,
    }


def export(ds: xr.Dataset, path: str | os.PathLike[str], format: str | None = None) -> Path:
    """Write ``ds`` to ``path`` in one of ``EXPORT_FORMATS`` (atomically).

    ``format`` defaults to the one the file suffix names (.csv, .nc, .json).
    Returns the path written. ValueError for an unknown format.
    """
    path = Path(path)
    name = format or format_from_path(path)
    fmt = EXPORT_FORMATS.get(name or "")
    if fmt is None:
        raise ValueError(f"{path}: unknown export format {name!r}: choose one of "
                         f"{', '.join(EXPORT_FORMATS)}")
    fmt.write(ds, path)
    return path


def _write_csv(ds: xr.Dataset, path: Path) -> None:
    atomic_write(path, to_csv_text(ds))


def _write_json(ds: xr.Dataset, path: Path) -> None:
    atomic_write(path, json.dumps(to_json_obj(ds), indent=1, allow_nan=False) + "\n")


def _write_netcdf(ds: xr.Dataset, path: Path) -> None:
    out = ds.copy()
    for name in list(out.variables):
        if out[name].dtype == object:  # variable-length strings, as netCDF-4 expects
            out[name] = out[name].astype(str)
    with atomic_path(path) as tmp:
        out.to_netcdf(tmp, engine="h5netcdf")


register_format(ExportFormat("csv", "CSV", (".csv",), _write_csv))
register_format(ExportFormat("netcdf", "netCDF", (".nc", ".nc4", ".netcdf"), _write_netcdf, spectra=True))
register_format(ExportFormat("json", "JSON", (".json",), _write_json))
# the format names (kept for callers that only need the names)
FORMATS = tuple(EXPORT_FORMATS)


def read_csv(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Rows of a CSV export; ``name [unit]`` columns as numbers (int or float), keys without units."""
    out = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        keys = [h.split(" [", 1)[0] for h in header]
        numeric = [h.endswith("]") and " [" in h for h in header]
        for r in reader:
            row: dict[str, Any] = {}
            for k, num, text in zip(keys, numeric, r):
                if k == "index":
                    row[k] = int(text)
                elif k == "stable":
                    row[k] = {"true": True, "false": False}.get(text)
                elif num:
                    row[k] = int(text) if text.lstrip("-").isdigit() else float(text) if text else math.nan
                else:
                    row[k] = text
            out.append(row)
    return out
