"""``python -m sweepgui.model PARAMS.json OUT.json``: results, bad input, start-up path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sweepgui
from sweepgui.params import Parameters

FAST = {"fluid": {"density": 998.2}, "analysis": {"elements": 8, "modes": 3, "frequencies": 5}}
REPO = Path(sweepgui.__file__).resolve().parent.parent


def run_model(tmp: Path, params_text: str, *extra: str, out: str = "out.json",
              cwd: Path | None = None, env: dict | None = None) -> tuple[int, str, Path]:
    src = tmp / "params.json"
    src.write_text(params_text)
    proc = subprocess.run(
        [sys.executable, "-m", "sweepgui.model", str(src), str(tmp / out), *extra],
        capture_output=True, text=True, timeout=60, cwd=cwd, env=env,
    )
    assert "Traceback" not in proc.stderr
    return proc.returncode, proc.stderr, tmp / out


def test_writes_the_contract_json(tmp_path):
    rc, err, out = run_model(tmp_path, json.dumps(FAST))
    assert rc == 0, err
    r = json.loads(out.read_text())
    assert set(r) == {"parameters", "fluid", "natural_frequencies", "spectrum", "stable",
                      "derived", "model"}
    assert Parameters.model_validate(r["parameters"]).analysis.elements == 8  # full, resolved
    assert r["parameters"]["pipe"]["length"] == 0.5 and r["parameters"]["fluid"]["density"] == 998.2
    assert len(r["natural_frequencies"]) == 3 and r["natural_frequencies"] == sorted(r["natural_frequencies"])
    assert {k: len(v) for k, v in r["spectrum"].items()} == {"frequency": 5, "magnitude": 5, "phase": 5}
    assert set(r["derived"]) == {"tube_mass_per_length", "fluid_mass_per_length", "fluid_area",
                                 "axial_force", "length", "outer_diameter", "inner_diameter",
                                 "youngs_modulus", "gauge_pressure"}
    assert r["model"]["name"] == "sweepgui-pipe" and r["stable"] is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "params.json"]  # no temp


@pytest.mark.parametrize("text,field", [
    ('{"pipe": {"length": -1}}', "pipe.length"),
    ('{"pipe": {"wall_thickness": 0.006}}', "pipe"),
    ('{"analysis": {"modes": "many", "f_min": 3000}}', "analysis.modes"),
    ('{"fluid": {"density": 1e9}, "state": {"temprature": 300}}', "state.temprature"),
    ('[1, 2]', "(parameters)"),
    ('{"pipe": ', "line 1 column"),
    ('{"fluid": {"name": "Unobtainium"}}', "fluid.name"),
])
def test_bad_input_exit_2_names_the_field_and_writes_nothing(tmp_path, text, field):
    rc, err, out = run_model(tmp_path, text)
    assert rc == 2 and field in err and not out.exists()
    assert "params.json" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.json"]  # no temp file either


def test_multiple_bad_fields_are_all_named(tmp_path):
    rc, err, _ = run_model(tmp_path, '{"pipe": {"length": 0}, "analysis": {"elements": 1}}')
    assert rc == 2 and "pipe.length" in err and "analysis.elements" in err


def test_wrong_argument_count_and_unreadable_or_unwritable_files(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sweepgui.model", "only-one.json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "usage" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "sweepgui.model", str(tmp_path / "none.json"),
                           str(tmp_path / "o.json")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "none.json" in proc.stderr and "Traceback" not in proc.stderr
    rc, err, out = run_model(tmp_path, json.dumps(FAST), out="missing-dir/out.json")
    assert rc == 2 and "missing-dir" in err and not out.exists()


def test_state_outside_the_eos_exits_3_without_output(tmp_path):
    rc, err, out = run_model(tmp_path, '{"state": {"temperature": 150.0}}')
    assert rc == 3 and "Water" in err and not out.exists()


def test_runs_from_a_copy_of_params_and_model_alone_without_scipy_or_coolprop(tmp_path):
    # The engine copies exactly these files into the Nix store; a given density must not
    # import CoolProp (seconds) nor scipy (start-up budget).
    from sweepgui.nix.modelsrc import _SOURCES  # the engine's own list of the model's files

    pkg = tmp_path / "copy" / "sweepgui"
    pkg.mkdir(parents=True)
    for name in _SOURCES:
        if (REPO / "sweepgui" / name).is_dir():
            shutil.copytree(REPO / "sweepgui" / name, pkg / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(REPO / "sweepgui" / name, pkg / name)
    (tmp_path / "p.json").write_text(json.dumps(FAST))
    code = (
        # the editable install's finder would serve any module missing from the copy
        "import runpy, sys; sys.argv = ['m', 'p.json', 'o.json']\n"
        "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]\n"
        "try:\n    runpy.run_module('sweepgui.model', run_name='__main__')\n"
        "except SystemExit as e:\n    assert e.code == 0, e.code\n"
        "import sweepgui\n"
        f"assert sweepgui.__file__.startswith({str(pkg)!r}), sweepgui.__file__\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('scipy', 'CoolProp', 'PySide6')]\n"
        "assert not bad, bad\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "copy")}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "o.json").read_text())["stable"] is True
