"""Synthetic sweep runs for the results tests: a manifest and result files whose numbers
follow closed-form beam laws, written the way the engine and the model write them (the
manifest is built from the schema's types and checked against it before it is written).

Physics (Euler-Bernoulli uniform beam, mass per length m = rho_t A_t + rho_f A_f):
  f_n = (lambda_n^2 / (2 pi L^2)) sqrt(E I / m)
and for a pinned-pinned beam under axial compression P (fixed ends: P = (1-2nu) p_g A_f)
  f_n = (n^2 pi / (2 L^2)) sqrt(E I / m) sqrt(1 - P / (n^2 P_cr)),  P_cr = pi^2 E I / L^2.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sweepgui.nix.manifest_schema import FORMAT, Manifest, ModelEntry, PointEntry, check_manifest
from sweepgui.params import field_info
from sweepgui.sweep.status import Status

# clamped-clamped lambda_n = beta_n L
CC_ROOTS = (4.730040744862704, 7.853204624095838, 10.995607838001671, 14.137165491257464)

DEMO = {
    "pipe": {"length": 0.5, "outer_diameter": 0.010, "wall_thickness": 0.001,
             "boundary": "clamped-clamped", "axial_restraint": "free"},
    "material": {"name": "316L", "youngs_modulus": 193e9, "density": 7990.0, "poisson_ratio": 0.27,
                 "thermal_expansion": 16e-6, "modulus_temperature_coefficient": -3.9e-4,
                 "reference_temperature": 293.15},
    "fluid": {"name": "Water", "density": None},
    "state": {"pressure": 1e5, "temperature": 293.15, "flow_velocity": 0.0},
    "analysis": {"theory": "euler-bernoulli", "elements": 40, "modes": 4, "f_min": 0.0,
                 "f_max": 2000.0, "frequencies": 21, "damping_ratio": 1e-3,
                 "excitation_position": 0.5, "response_position": 0.5, "ambient_pressure": 1e5},
}


def get(params: dict[str, Any], path: str) -> Any:
    g, n = path.split(".")
    return params[g][n]


def section(params: dict[str, Any]) -> dict[str, float]:
    d_o = params["pipe"]["outer_diameter"]
    d_i = d_o - 2 * params["pipe"]["wall_thickness"]
    a_t = math.pi / 4 * (d_o**2 - d_i**2)
    a_f = math.pi / 4 * d_i**2
    inertia = math.pi / 64 * (d_o**4 - d_i**4)
    return {"A_t": a_t, "A_f": a_f, "I": inertia}


def fluid_density(params: dict[str, Any]) -> float:
    """Given density, or a made-up 'EOS' (water-like compressibility and expansion)."""
    rho = params["fluid"]["density"]
    if rho is not None:
        return rho
    p, t = params["state"]["pressure"], params["state"]["temperature"]
    return 998.2 * (1 + 4.6e-10 * (p - 1e5) - 2.1e-4 * (t - 293.15))


def beam_frequencies(params: dict[str, Any]) -> list[float]:
    s = section(params)
    e, L = params["material"]["youngs_modulus"], params["pipe"]["length"]
    m = params["material"]["density"] * s["A_t"] + fluid_density(params) * s["A_f"]
    root = math.sqrt(e * s["I"] / m)
    modes = params["analysis"]["modes"]
    if params["pipe"]["boundary"] == "pinned-pinned":
        p_cr = math.pi**2 * e * s["I"] / L**2
        force = 0.0
        if params["pipe"]["axial_restraint"] == "fixed":
            p_g = params["state"]["pressure"] - params["analysis"]["ambient_pressure"]
            force = (1 - 2 * params["material"]["poisson_ratio"]) * p_g * s["A_f"]
        return [n**2 * math.pi / (2 * L**2) * root * math.sqrt(1 - force / (n**2 * p_cr))
                for n in range(1, modes + 1)]
    return [lam**2 / (2 * math.pi * L**2) * root for lam in CC_ROOTS[:modes]]


def beam_result(params: dict[str, Any]) -> dict[str, Any]:
    """A result dict in the model's JSON contract, from the closed-form law."""
    s = section(params)
    rho = fluid_density(params)
    freqs = beam_frequencies(params)
    a = params["analysis"]
    grid = [a["f_min"] + (a["f_max"] - a["f_min"]) * k / (a["frequencies"] - 1)
            for k in range(a["frequencies"])]
    mag = [sum(1.0 / abs(fn**2 - f**2 + 1e-9) for fn in freqs) for f in grid]
    return {
        "parameters": params,
        "fluid": {"density": rho, "speed_of_sound": 1482.0},
        "natural_frequencies": freqs,
        "spectrum": {"frequency": grid, "magnitude": mag, "phase": [-0.5 * k for k in range(len(grid))]},
        "stable": True,
        "derived": {"tube_mass_per_length": params["material"]["density"] * s["A_t"],
                    "fluid_mass_per_length": rho * s["A_f"], "fluid_area": s["A_f"],
                    "axial_force": 0.0, "length": params["pipe"]["length"],
                    "outer_diameter": params["pipe"]["outer_diameter"],
                    "inner_diameter": params["pipe"]["outer_diameter"] - 2 * params["pipe"]["wall_thickness"],
                    "youngs_modulus": params["material"]["youngs_modulus"],
                    "gauge_pressure": params["state"]["pressure"] - params["analysis"]["ambient_pressure"]},
        "model": {"name": "synthetic-beam", "version": "1.0"},
    }


def write_run(
    root: Path,
    dimensions: list[tuple[str, dict[str, list[Any]]]],
    fixed: dict[str, Any] | None = None,
    result: Callable[[dict[str, Any]], dict[str, Any] | None] = beam_result,
    statuses: dict[int, str] | None = None,
    model: ModelEntry | None = None,
    state: Path | None = None,
) -> Path:
    """Write ``root/state/manifest.json`` and one ``root/store/<hash>-<i>/result.json`` per point.

    ``dimensions``: [(name, {path: values})] in order (several paths = a zip group).
    ``result`` returning None makes a failed point (no out). ``statuses`` overrides
    the status of some points (e.g. "queued"). ``state``: the state folder (default
    ``root/state``). Returns the state folder.
    """
    state, store = state or root / "state", root / "store"
    state.mkdir(parents=True, exist_ok=True)
    store.mkdir(exist_ok=True)
    base = json.loads(json.dumps(DEMO))
    for path, v in (fixed or {}).items():
        g, n = path.split(".")
        base[g][n] = v
    sizes = [len(next(iter(vals.values()))) for _, vals in dimensions]
    points: list[PointEntry] = []
    for index, combo in enumerate(itertools.product(*(range(s) for s in sizes))):
        params = json.loads(json.dumps(base))
        coords = {}
        for (_, vals), k in zip(dimensions, combo):
            for path, values in vals.items():
                g, n = path.split(".")
                params[g][n] = values[k]
                coords[path] = values[k]
        digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:32]
        status = Status((statuses or {}).get(index, Status.BUILT))
        res = result(params) if status.done else None
        point: PointEntry = {
            "index": index, "name": f"p{index}", "coordinates": coords, "parameters": params,
            "drv": f"/nix/store/{digest}-p{index}.drv", "out": None, "status": status,
            "machine": "", "seconds": 0.01 * (index % 7) if res else None, "error": None,
            "exit_code": None, "log_tail": [], "finished": None}
        if status.done and res is None:
            point.update(status=Status.FAILED, exit_code=3, error="model failed: EOS out of range")
        elif res is not None:
            out = store / f"{digest}-p{index}"
            out.mkdir()
            (out / "result.json").write_text(json.dumps(res))
            point["out"] = point["point"] = str(out)
        points.append(point)
    manifest: Manifest = {
        "format": FORMAT, "sweep_file": str(root / "sweep.toml"), "sweep_hash": "sha256:" + "ab" * 32,
        "created": "2026-11-25T14:00:00+00:00", "updated": "2026-11-25T14:05:00+00:00",
        "model": model or {"name": "synthetic-beam", "version": "1.0", "kind": "custom", "source_hash": "x"},
        "interpreter": {"mode": "host", "python": "3.11"},
        "dimensions": [{"name": name, "paths": list(vals), "values": vals,
                        "units": {p: field_info(p).unit for p in vals}} for name, vals in dimensions],
        "points": points,
    }
    (state / "manifest.json").write_text(json.dumps(check_manifest(manifest)))
    return state
