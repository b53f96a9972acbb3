"""``sweepgui calibrate``: on synthetic runs in the engine's default state folder (closed-form
law, no Nix), and end to end on the shipped example through ``sweepgui run`` (real Nix),
where a held-out point off the grid, computed by the built-in model in-process, must be read
back within the compensated residual."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sweepgui.cli import main
from sweepgui.model import run_point
from sweepgui.resources import resources_dir
from sweepgui.results import default_state_dir
from tests.results.synth import write_run

RHO = [800.0, 900.0, 1000.0, 1100.0]
TEMPS = [283.15, 303.15, 323.15]
A0, A1, B0, B1 = 1.6e8, -2.0e6, 4500.0, -0.2   # rho = (A0 + A1 dT) tau^2 - (B0 + B1 dT)
T0 = 303.15


def _law(params):
    rho, dt = params["fluid"]["density"], params["state"]["temperature"] - T0
    tau = math.sqrt((rho + B0 + B1 * dt) / (A0 + A1 * dt))
    return {"fluid": {"density": rho, "speed_of_sound": None},
            "natural_frequencies": [1 / tau, 2.756 / tau], "stable": True,
            "model": {"name": "synthetic-law", "version": "1"}}


def _sweep(tmp_path: Path, rho=RHO, temps=TEMPS, statuses=None) -> Path:
    path = tmp_path / "cal.toml"
    path.write_text(f'[variable]\n"fluid.density" = {json.dumps(rho)}\n'
                    f'"state.temperature" = {json.dumps(temps)}\n')
    write_run(tmp_path, [("fluid.density", {"fluid.density": rho}),
                         ("state.temperature", {"state.temperature": temps})],
              result=_law, state=default_state_dir(path), statuses=statuses)
    return path


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_report_and_prediction(tmp_path, capsys):
    sweep = _sweep(tmp_path)
    f = 1 / math.sqrt((950.0 + B0 + B1 * 10.0) / (A0 + A1 * 10.0))   # 950 kg/m3 at 313.15 K
    code, out, err = _run(capsys, "calibrate", sweep, "--json", "--order", "1",
                          "--predict", f"f={f!r},state.temperature=313.15")
    assert code == 0, err
    doc = json.loads(out)
    assert {"mode", "order", "reference", "coefficients", "formula", "condition", "residual",
            "points", "prediction"} <= set(doc)
    assert (doc["mode"], doc["order"], doc["points"]) == (1, 1, 12)
    assert doc["reference"]["state.temperature"] == T0
    assert doc["coefficients"]["A_10"]["value"] == pytest.approx(A1, rel=1e-9)
    assert doc["coefficients"]["B_00"]["value"] == pytest.approx(B0, rel=1e-9)
    assert doc["coefficients"]["A_00"]["unit"] == "kg/(m3 s2)"
    res = doc["residual"]
    assert res["unit"] == "kg/m3" and res["compensated_max"] < 1e-9 and res["compensated_rms"] < 1e-9
    # uncompensated: (A0, B0) applied at 283.15 K and 323.15 K, by hand
    want = max(abs(A0 * (r + B0 + B1 * dt) / (A0 + A1 * dt) - B0 - r) for r in RHO for dt in (-20, 20))
    assert res["uncompensated_max"] == pytest.approx(want, rel=1e-9)
    assert doc["prediction"]["density"] == pytest.approx(950.0, abs=1e-9)
    assert doc["prediction"]["unit"] == "kg/m3" and "note" not in doc["prediction"]


def test_text_report(tmp_path, capsys):
    sweep = _sweep(tmp_path)
    code, out, _ = _run(capsys, "calibrate", sweep, "--reference", "state.temperature=283.15",
                        "--predict", "f=210")
    assert code == 0
    assert "Calibration of mode 1 from 12 points, order 1 (linear compensation for state.temperature)" in out
    assert "A(T)*tau^2 - B(T)" in out and "T0 = 283.15 K" in out
    assert "A_10" in out and "kg/(m3 s2 K)" in out and "condition number" in out
    assert "uncompensated" in out and "compensated, order 1" in out
    assert "Prediction: f = 210 Hz at T = 283.15 K" in out


def test_prediction_outside_the_range_is_flagged(tmp_path, capsys):
    sweep = _sweep(tmp_path)
    code, out, _ = _run(capsys, "calibrate", sweep, "--json", "--predict",
                        "f=200,state.temperature=400,state.pressure=3e5")
    assert code == 0
    doc = json.loads(out)
    assert "state.temperature=400 not in 283.15..323.15" in doc["prediction"]["note"]
    _, _, err = _run(capsys, "calibrate", sweep, "--predict", "f=200,state.pressure=3e5")
    assert "state.pressure is not swept" in err


@pytest.mark.parametrize("kwargs, argv, words", [
    ({"rho": [900.0, 1000.0]}, [], "at least 3 densities"),
    ({"temps": [293.15, 313.15]}, ["--order", "2"], "only 2 distinct states"),
    ({"statuses": {5: "failed"}}, [], "fluid.density=900, state.temperature=323.15 (failed"),
    ({}, ["--mode", "4"], "modes 1..2"),
    ({}, ["--reference", "state.temperature=warm"], "expected a number"),
    ({}, ["--reference", "fluid.density=1000"], "reference fluid.density"),
    ({}, ["--predict", "state.temperature=300"], "give the measured frequency"),
    ({}, ["--predict", "g=3"], "--predict g: expected f"),
    ({}, ["--predict", "f=-3"], "expected a positive number"),
])
def test_exit_2_with_a_plain_reason(tmp_path, capsys, kwargs, argv, words):
    sweep = _sweep(tmp_path, **kwargs)
    code, out, err = _run(capsys, "calibrate", sweep, *argv)
    assert code == 2 and words in err and "Traceback" not in err and out == ""


def test_not_run_sweep_says_how_to_run_it(tmp_path, capsys):
    path = tmp_path / "new.toml"
    path.write_text('[variable]\n"fluid.density" = [1.0, 2.0, 3.0]\n')
    code, _, err = _run(capsys, "calibrate", path)
    assert code == 2 and "has not been run" in err and f"sweepgui run {path}" in err


# -- end to end: the shipped example through real Nix builds -------------------------------
def _nested(flat: dict) -> dict:
    out: dict = {}
    for path, value in flat.items():
        group, _, name = path.partition(".")
        out.setdefault(group, {})[name] = value
    return out


@pytest.mark.nix
@pytest.mark.skipif(shutil.which("nix-build") is None, reason="Nix is not installed")
def test_example_compensation_and_held_out_points(tmp_path, capsys):
    from sweepgui.sweep import load_sweep

    sweep = tmp_path / "calibration.toml"
    shutil.copy(resources_dir() / "examples" / "calibration.toml", sweep)
    run = subprocess.run([sys.executable, "-m", "sweepgui", "run", str(sweep)], capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr

    figures = {}
    for order in (0, 1, 2):
        code, out, err = _run(capsys, "calibrate", sweep, "--order", order, "--json")
        assert code == 0, err
        figures[order] = json.loads(out)["residual"]
    r2 = figures[2]
    assert r2["compensated_max"] * 20 <= r2["uncompensated_max"]
    assert r2["compensated_max"] < figures[1]["compensated_max"] < figures[0]["uncompensated_max"]
    print("calibration example, max |error| kg/m3:",
          {k: (v["uncompensated_max"], v["compensated_max"]) for k, v in figures.items()},
          file=sys.stderr)

    # held-out states between the grid values: the built-in model in-process, the
    # calibration through the CLI's --predict
    base = load_sweep(sweep).base_values()
    for rho, temp, pres in ((975.0, 309.0, 1.7e6), (680.0, 292.0, 8.8e6), (1130.0, 344.0, 4.1e6)):
        flat = dict(base, **{"fluid.density": rho, "state.temperature": temp, "state.pressure": pres})
        f1 = run_point(_nested(flat))["natural_frequencies"][0]
        code, out, err = _run(capsys, "calibrate", sweep, "--order", "2", "--json", "--predict",
                              f"f={f1!r},state.temperature={temp},state.pressure={pres}")
        assert code == 0, err
        doc = json.loads(out)
        error = doc["prediction"]["density"] - rho
        assert abs(error) <= doc["residual"]["compensated_max"], (rho, temp, pres, error)
