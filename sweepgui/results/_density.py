"""df/drho at one point when the sweep does not vary the fluid density.

The apparent density error of a parameter needs df/drho. If density is not a sweep
dimension, the built-in model is cheap (milliseconds) and deterministic, so it is run
in-process at the point itself with the density given explicitly as rho(1 +- 1e-3), or
rho +- 1 kg/m3 for light fluids (central difference; one-sided up from the empty tube,
rho = 0; the spectrum is cut to two frequencies since only the natural frequencies
matter). A custom model cannot be re-run here; then the uniform-beam law
df/drho = -f A_f / (2 (m_tube + m_fluid)) is used if the model reports those derived
quantities, else df/drho is unknown and the apparent density error is not reported.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import xarray as xr

BUILTIN_MODEL = "sweepgui-pipe"
REL_STEP = 1e-3
MIN_STEP = 1.0  # kg/m3


def _nested(flat: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for path, value in flat.items():
        group, _, name = path.partition(".")
        out.setdefault(group, {})[name] = value
    return out


def _model_slope(ds: xr.Dataset, point: dict[str, Any], rho: float) -> tuple[np.ndarray, str]:
    from sweepgui.model import run_point  # lazily: only this path needs the model

    flat = json.loads(ds.attrs.get("fixed_parameters", "{}"))
    flat.update(point)
    flat["analysis.frequencies"] = 2
    # A step of 1e-3 of the density, but at least 1 kg/m3: a smaller one drowns in the
    # eigen-solver's round-off (1e-3 kg/m3 of a gas or of the empty tube was 1 % off).
    # Central, except near the empty tube, which has no negative density below it.
    step = REL_STEP * max(rho, MIN_STEP / REL_STEP)
    low, high = max(rho - step, 0.0), rho + step
    freqs, versions = [], set()
    for r in (high, low):
        flat["fluid.density"] = r
        result = run_point(_nested(flat))
        freqs.append(np.asarray(result["natural_frequencies"], dtype=float))
        versions.add(str((result.get("model") or {}).get("version", "")))
    note = ""
    built = ds.attrs.get("model_version", "")
    if built and built not in versions:
        note = (f"df/drho from the installed model version {', '.join(sorted(versions))}, "
                f"but the sweep was built with {built}")
    return (freqs[0] - freqs[1]) / (high - low), note


def density_slope(
    ds: xr.Dataset, point: dict[str, Any], here: dict[str, int], allow_model: bool = True
) -> tuple[np.ndarray | None, str, str]:
    """(df_n/drho per mode in Hz/(kg/m3) or None, its source, a note for the user)."""
    nf = ds.natural_frequency.isel(here).values
    rho = float(ds.fluid_density.isel(here).values)
    if not np.isfinite(rho) or not np.all(np.isfinite(nf)):
        return None, "", "no result at this point, so df/drho is unknown"
    builtin = ds.attrs.get("model_name") == BUILTIN_MODEL and ds.attrs.get("model_kind") != "custom"
    if builtin and allow_model:
        try:
            slope, note = _model_slope(ds, point, rho)
            if slope.shape == nf.shape:
                return slope, "model", note
        except Exception as exc:
            model_note = f"re-running the model for df/drho failed ({exc}); "
        else:
            model_note = ""
    else:
        model_note = ""
    names = ("derived.fluid_area", "derived.tube_mass_per_length", "derived.fluid_mass_per_length")
    if all(n in ds for n in names):
        a_f, m_t, m_f = (float(ds[n].isel(here).values) for n in names)
        if all(np.isfinite([a_f, m_t, m_f])) and m_t + m_f > 0:
            return -nf * a_f / (2 * (m_t + m_f)), "uniform-beam formula", model_note.rstrip("; ")
    return None, "", model_note + ("fluid.density is not swept and df/drho cannot be computed: "
                                   "add fluid.density as a variable to get apparent density errors")
