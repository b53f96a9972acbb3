"""End to end with real Nix builds: run the shipped examples (and two small sweeps) with
the engine, then read them back with ``sweepgui sensitivity`` / ``sweepgui export`` and
check the answers against beam theory, and the exports against the store."""

from __future__ import annotations

import json
import math
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from sweepgui.cli import main
from sweepgui.resources import resources_dir
from sweepgui.results import default_state_dir, load_dataset, read_csv

pytestmark = [
    pytest.mark.nix,
    pytest.mark.skipif(shutil.which("nix-build") is None, reason="Nix is not installed"),
]


def _run(sweep_file: Path) -> None:
    from sweepgui.nix.engine import Engine
    from sweepgui.sweep import load_sweep

    events = list(Engine().run(load_sweep(sweep_file)))
    assert type(events[-1]).__name__ == "RunFinished", events[-5:]


def _cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _example(tmp_path: Path, name: str) -> Path:
    dst = tmp_path / name
    shutil.copy(resources_dir() / "examples" / name, dst)
    return dst


def _tube(fixed: dict) -> tuple[float, float]:
    """(A_f, tube mass per metre) from the point's own parameters."""
    d_o, t = fixed["pipe.outer_diameter"], fixed["pipe.wall_thickness"]
    d_i = d_o - 2 * t
    return math.pi / 4 * d_i**2, fixed["material.density"] * math.pi / 4 * (d_o**2 - d_i**2)


def test_density_example_matches_the_uniform_beam_and_exports_reopen(tmp_path, capsys):
    sweep = _example(tmp_path, "density.toml")
    _run(sweep)
    code, out, _ = _cli(capsys, "sensitivity", sweep, "--json")
    assert code == 0
    doc = json.loads(out)
    s = next(s for s in doc["sensitivities"] if s["parameter"] == "fluid.density" and s["mode"] == 1)
    ds = load_dataset(default_state_dir(sweep), with_spectra=False)
    a_f, m_t = _tube(json.loads(ds.attrs["fixed_parameters"]))
    rho = s["at"]["fluid.density"]
    reference = -s["frequency"] * a_f / (2 * (m_t + rho * a_f))
    assert s["value"] == pytest.approx(reference, rel=0.01)

    for fmt, name in (("csv", "r.csv"), ("netcdf", "r.nc")):
        assert _cli(capsys, "export", sweep, "--format", fmt, "-o", tmp_path / name)[0] == 0
    rows = read_csv(tmp_path / "r.csv")
    with xr.open_dataset(tmp_path / "r.nc", engine="h5netcdf") as nc:
        nc = nc.load()
    from sweepgui.sweep import load_sweep

    digest = load_sweep(sweep).content_hash()
    assert nc.attrs["sweep_hash"] == digest and nc.attrs["model_name"] == "sweepgui-pipe"
    for i, r in enumerate(rows):
        store = Path(r["store_path"])
        result = json.loads((store / "result.json").read_text())  # the store is the truth
        assert [r[f"f{k}"] for k in range(1, 7)] == result["natural_frequencies"]
        assert nc.natural_frequency.values[i].tolist() == result["natural_frequencies"]
        assert nc.magnitude.values[i].tolist() == result["spectrum"]["magnitude"]
        assert r["fluid.density"] == result["parameters"]["fluid"]["density"]
        assert r["drv"].endswith(".drv") and str(store).startswith("/nix/store/")
        assert r["model_name"] == "sweepgui-pipe" and r["model_version"] == result["model"]["version"]
        assert r["sweep_hash"] == digest and r["status"] in ("built", "cached")


def test_pressure_temperature_example_gives_errors_per_bar_and_per_kelvin(tmp_path, capsys):
    sweep = _example(tmp_path, "pressure-temperature.toml")
    _run(sweep)
    code, out, _ = _cli(capsys, "sensitivity", sweep, "--json", "--mode", "1")
    assert code == 0
    by = {s["parameter"]: s for s in json.loads(out)["sensitivities"]}
    assert by["state.pressure"]["apparent_density_error_unit"] == "(kg/m3)/bar"
    assert by["state.temperature"]["apparent_density_error_unit"] == "(kg/m3)/K"
    rho = by["fluid.density"]["value"]
    for p in ("state.pressure", "state.temperature"):
        s = by[p]
        assert math.isfinite(s["apparent_density_error"])
        assert s["apparent_density_error"] == pytest.approx(s["value"] / rho, rel=1e-12)
    # Against beam theory: a compressive force P lowers f^2 of a clamped-clamped beam by
    # f0^2 * P * k, k = int(phi'^2) / (EI int(phi''^2)) over its first mode shape
    # (Rayleigh; Blevins' beta L = 4.73004); fixed ends turn 1 K into E A_p alpha of
    # compression and 1 bar into (1 - 2 nu) 1e5 A_f (Poisson), and E(T) adds c/2 per K.
    fixed = json.loads(load_dataset(default_state_dir(sweep), with_spectra=False)
                       .attrs["fixed_parameters"])
    a_f, m_t = _tube(fixed)
    e, nu = fixed["material.youngs_modulus"], fixed["material.poisson_ratio"]
    d_o, length = fixed["pipe.outer_diameter"], fixed["pipe.length"]
    d_i = d_o - 2 * fixed["pipe.wall_thickness"]
    ei = e * math.pi / 64 * (d_o**4 - d_i**4)
    bl = 4.730040745
    x = np.linspace(0.0, 1.0, 20001)
    sigma = (math.cosh(bl) - math.cos(bl)) / (math.sinh(bl) - math.sin(bl))
    phi = np.cosh(bl * x) - np.cos(bl * x) - sigma * (np.sinh(bl * x) - np.sin(bl * x))
    d1 = np.gradient(phi, x)
    k = np.trapezoid(d1**2, x) / np.trapezoid(np.gradient(d1, x) ** 2, x) * length**2 / ei
    per_bar = -0.5 * (1 - 2 * nu) * 1e5 * a_f * k
    per_kelvin = (-0.5 * e * math.pi / 4 * (d_o**2 - d_i**2) * fixed["material.thermal_expansion"] * k
                  + fixed["material.modulus_temperature_coefficient"] / 2)
    assert by["state.pressure"]["relative"] == pytest.approx(per_bar, rel=0.02)
    assert by["state.temperature"]["relative"] == pytest.approx(per_kelvin, rel=0.02)
    f = by["state.pressure"]["frequency"]
    dfdrho = -f * a_f / (2 * (m_t + by["fluid.density"]["at"]["fluid.density"] * a_f))
    for p, rel in (("state.pressure", per_bar), ("state.temperature", per_kelvin)):
        assert by[p]["apparent_density_error"] == pytest.approx(rel * f / dfdrho, rel=0.02)
    # fixed ends, heated: the blocked expansion compresses the tube, so the frequency
    # drops, as a heavier fluid would make it do
    assert by["state.temperature"]["value"] < 0 < by["state.temperature"]["apparent_density_error"]


def test_pinned_tube_with_fixed_ends_follows_the_axial_load_law_through_nix(tmp_path, capsys):
    sweep = tmp_path / "pinned.toml"
    sweep.write_text(textwrap.dedent("""\
        [fixed]
        pipe.boundary = "pinned-pinned"
        pipe.axial_restraint = "fixed"
        analysis.theory = "euler-bernoulli"
        analysis.frequencies = 11
        fluid.density = 1000.0
        [variable]
        "state.pressure" = [1.0e5, 11.0e5, 21.0e5, 41.0e5]
        """))
    _run(sweep)
    code, out, _ = _cli(capsys, "sensitivity", sweep, "--json", "--mode", "1", "--at", "state.pressure=11e5")
    assert code == 0
    s = json.loads(out)["sensitivities"][0]
    fixed = json.loads(load_dataset(default_state_dir(sweep), with_spectra=False)
                       .attrs["fixed_parameters"])
    a_f, m_t = _tube(fixed)
    e, nu, length = fixed["material.youngs_modulus"], fixed["material.poisson_ratio"], fixed["pipe.length"]
    d_o, d_i = fixed["pipe.outer_diameter"], fixed["pipe.outer_diameter"] - 2 * fixed["pipe.wall_thickness"]
    ei = e * math.pi / 64 * (d_o**4 - d_i**4)
    m = m_t + 1000.0 * a_f
    f0, p_cr = math.pi / (2 * length**2) * math.sqrt(ei / m), math.pi**2 * ei / length**2
    force = (1 - 2 * nu) * 10e5 * a_f
    f = f0 * math.sqrt(1 - force / p_cr)
    dfdp = -f0**2 / (2 * f) * (1 - 2 * nu) * a_f / p_cr * 1e5           # Hz/bar
    assert s["value"] == pytest.approx(dfdp, rel=0.01)
    assert s["apparent_density_error"] == pytest.approx(dfdp / (-f * a_f / (2 * m)), rel=0.01)


CUSTOM = textwrap.dedent("""\
    import json, math, sys
    p = json.load(open(sys.argv[1]))
    rho = p["fluid"]["density"]
    if rho == 1010.0:
        sys.exit("density 1010 is out of this model's range")
    f = 200.0 * math.sqrt(0.276 / (0.226 + 5.0e-5 * rho))
    json.dump({"parameters": p, "fluid": {"density": rho, "speed_of_sound": None},
               "natural_frequencies": [f, 2.76 * f], "stable": True,
               "spectrum": {"frequency": [0.0, 500.0], "magnitude": [1.0, 2.0], "phase": [0.0, -3.1]},
               "model": {"name": "toy", "version": "0.1"}}, open(sys.argv[2], "w"))
    """)


def test_failed_points_export_as_nan_with_their_status(tmp_path, capsys):
    (tmp_path / "toy.py").write_text(CUSTOM)
    sweep = tmp_path / "toy.toml"
    sweep.write_text('[variable]\n"fluid.density" = [990.0, 1000.0, 1010.0]\n'
                     '[model]\nexecutable = "toy.py"\n')
    _run(sweep)
    code, _, err = _cli(capsys, "export", sweep, "-o", tmp_path / "toy.csv")
    assert code == 0 and "1 of 3 points have no result (status failed)" in err
    rows = read_csv(tmp_path / "toy.csv")
    assert all(r["status"] in ("built", "cached") for r in rows[:2])  # cached when run before
    bad = rows[2]
    assert bad["status"] == "failed" and bad["fluid.density"] == 1010.0
    assert math.isnan(bad["f1"]) and math.isnan(bad["f2"]) and math.isnan(bad["fluid_density"])
    assert bad["store_path"] == "" and bad["drv"].endswith(".drv")
    assert "exit code" in bad["error"] and "density 1010 is out of this model's range" in bad["error"]
    code, _, err = _cli(capsys, "export", sweep, "-o", tmp_path / "toy.nc")
    with xr.open_dataset(tmp_path / "toy.nc", engine="h5netcdf") as nc:
        assert nc.status.values.tolist()[2] == "failed" and nc.status.values[0] in ("built", "cached")
        assert math.isnan(float(nc.natural_frequency[2, 0])) and math.isnan(float(nc.magnitude[2, 1]))
        assert float(nc.natural_frequency[0, 0]) == rows[0]["f1"]
