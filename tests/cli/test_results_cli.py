"""``sweepgui sensitivity`` and ``sweepgui export`` on a run in the engine's default state
folder (``<folder>/.sweepgui/<file name>/<sweep hash>/``), written here with closed-form
beam results."""

import json
import math
import subprocess
import sys

import pytest

from sweepgui.cli import main
from sweepgui.results import default_state_dir
from tests.results.synth import DEMO, section, write_run

RHO = [980.0, 990.0, 1000.0, 1010.0, 1020.0]
P = [1e5, 2e5, 4e5]


@pytest.fixture
def sweep(tmp_path):
    path = tmp_path / "density.toml"
    path.write_text('[variable]\n"fluid.density" = [980.0, 990.0, 1000.0, 1010.0, 1020.0]\n'
                    '"state.pressure" = [1e5, 2e5, 4e5]\n')
    write_run(tmp_path, [("fluid.density", {"fluid.density": RHO}),
                         ("state.pressure", {"state.pressure": P})],
              state=default_state_dir(path), statuses={0: "failed"})
    return path


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_sensitivity_json(sweep, capsys):
    code, out, _ = _run(capsys, "sensitivity", sweep, "--json")
    assert code == 0
    doc = json.loads(out)
    items = doc["sensitivities"]
    keys = {"parameter", "mode", "at", "value", "unit", "relative", "apparent_density_error",
            "apparent_density_error_unit"}
    assert all(keys <= set(s) for s in items)
    rho1 = next(s for s in items if s["parameter"] == "fluid.density" and s["mode"] == 1)
    assert rho1["at"] == {"fluid.density": 1000.0, "state.pressure": 2e5}
    s = section(DEMO)
    m = DEMO["material"]["density"] * s["A_t"] + 1000.0 * s["A_f"]
    f1 = rho1["frequency"]
    assert rho1["value"] == pytest.approx(-f1 * s["A_f"] / (2 * m), rel=1e-4)
    assert rho1["unit"] == "Hz/(kg/m3)"
    p1 = next(s for s in items if s["parameter"] == "state.pressure" and s["mode"] == 1)
    assert p1["unit"] == "Hz/bar" and p1["apparent_density_error_unit"] == "(kg/m3)/bar"
    # free ends, given density: pressure does not move this synthetic tube at all
    assert p1["value"] == 0.0 and p1["apparent_density_error"] == 0.0


def test_sensitivity_text_at_and_mode(sweep, capsys):
    code, out, _ = _run(capsys, "sensitivity", sweep, "--at", "fluid.density=988,state.pressure=4e5",
                        "--mode", "2")
    assert code == 0
    assert "Sensitivities at fluid.density=990, state.pressure=400000" in out
    lines = [ln for ln in out.splitlines() if ln.startswith(("fluid.density ", "state.pressure "))]
    assert len(lines) == 2 and all(ln.split()[1] == "2" for ln in lines)
    assert "Hz/(kg/m3)" in out and "(kg/m3)/bar" in out


@pytest.mark.parametrize("argv, message", [
    (["--at", "state.temperature=300"], "state.temperature: not a swept parameter"),
    (["--at", "fluid.density"], "expected PATH=VALUE"),
    (["--mode", "9"], "modes 1..4"),
    (["--at", "state.pressure=high"], "state.pressure=high: expected a number"),
])
def test_sensitivity_bad_input_is_exit_2_with_a_message(sweep, capsys, argv, message):
    code, out, err = _run(capsys, "sensitivity", sweep, *argv)
    assert code == 2 and message in err and "Traceback" not in err


def test_not_run_sweep_says_how_to_run_it(tmp_path, capsys):
    path = tmp_path / "new.toml"
    path.write_text("[variable]\n")
    for argv in (["sensitivity", path], ["export", path, "-o", tmp_path / "x.csv"]):
        code, _, err = _run(capsys, *argv)
        assert code == 2 and "has not been run" in err and f"sweepgui run {path}" in err
    code, _, err = _run(capsys, "sensitivity", tmp_path / "nope.toml")
    assert code == 2 and "no such sweep file" in err


def test_export_formats(sweep, tmp_path, capsys):
    for name, fmt in (("r.csv", None), ("r.nc", None), ("r.data", "json")):
        argv = ["export", sweep, "-o", tmp_path / name] + (["--format", fmt] if fmt else [])
        code, _, err = _run(capsys, *argv)
        assert code == 0 and (tmp_path / name).is_file()
        assert "1 of 15 points have no result" in err
    doc = json.loads((tmp_path / "r.data").read_text())
    assert doc["points"][0]["status"] == "failed" and doc["points"][0]["natural_frequencies"][0] is None
    assert not math.isnan(doc["points"][1]["natural_frequencies"][0])
    code, _, err = _run(capsys, "export", sweep, "-o", tmp_path / "r.xlsx")
    assert code == 2 and "--format" in err
    code, _, err = _run(capsys, "export", sweep, "-o", tmp_path / "no" / "r.csv")
    assert code == 2 and "does not exist" in err
    # a path that cannot be written (here a folder; root may write anywhere else)
    (tmp_path / "taken.csv").mkdir()
    code, _, err = _run(capsys, "export", sweep, "-o", tmp_path / "taken.csv")
    assert code == 2 and "cannot write" in err and "Traceback" not in err
    assert (tmp_path / "taken.csv").is_dir() and not list((tmp_path / "taken.csv").iterdir())


def _unequal_zip(m):
    m["dimensions"][0]["values"]["state.pressure"] = [1e5]
    m["dimensions"][0]["paths"].append("state.pressure")


def _off_grid(m):
    m["points"][3]["index"] = 99


DAMAGE = {
    "not UTF-8": lambda m: b"\xff\xfe{",
    "damaged manifest (a JSON list instead of an object)": lambda m: b"[1, 2]",
    "unknown manifest format 2 (expected 1)": lambda m: m.update(format=2),
    "points: Input should be a valid list": lambda m: m.update(points=5),
    "points[2].status: Field required": lambda m: m["points"][2].pop("status"),
    "points[1].status: Input should be 'planned', 'skipped'": lambda m: m["points"][1].update(status="done"),
    "dimensions[0].paths: Field required": lambda m: m["dimensions"][0].pop("paths"),
    "all of one length": _unequal_zip,
    "points[3].index: 99 is outside the grid of 15 points": _off_grid,
}


@pytest.mark.parametrize("words", DAMAGE)
def test_a_damaged_manifest_is_named_not_a_traceback(sweep, capsys, words):
    path = default_state_dir(sweep) / "manifest.json"
    manifest = json.loads(path.read_text())
    text = DAMAGE[words](manifest)
    path.write_bytes(text if isinstance(text, bytes) else json.dumps(manifest).encode())
    for argv in (["sensitivity", sweep], ["export", sweep, "-o", sweep.parent / "x.csv"]):
        code, _, err = _run(capsys, *argv)
        assert code == 2 and "manifest.json" in err and words in err and "Traceback" not in err
        assert "run the sweep again" in err


@pytest.mark.parametrize("command", [["export", "-o", "out.csv"], ["sensitivity"]])
def test_a_sweep_file_that_does_not_load_is_a_message_not_a_traceback(tmp_path, command):
    """The state of a run is found through the sweep (its identity): a broken file is named."""
    sweep = tmp_path / "s.toml"
    sweep.write_text("[fixed]\npipe.lenght = 1\n")
    args = [command[0], str(sweep), *[str(tmp_path / a) if a.endswith(".csv") else a
                                      for a in command[1:]]]
    p = subprocess.run([sys.executable, "-m", "sweepgui", *args], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "line 2, [fixed] pipe.lenght" in p.stderr and "did you mean 'pipe.length'" in p.stderr
