"""Issue 11, item 6: exporting a custom model's sweep whose results lack the optional
fields (natural frequencies, fluid, spectrum) works, through real Nix builds.

The custom model is the fast one of tests/nix/conftest.py: it writes only
{"density", "temperature", "name", "marker"} and fails (exit 3) at density 1010.
"""

from __future__ import annotations

import json
import math
import shutil
import uuid
from pathlib import Path

import pytest
import xarray as xr

from sweepgui.cli import main
from sweepgui.results import read_csv
from tests.nix.conftest import write_model, write_sweep

pytestmark = [
    pytest.mark.nix,
    pytest.mark.skipif(shutil.which("nix-build") is None, reason="Nix is not installed"),
]

DENSITIES = [990.0, 1000.0, 1010.0]


@pytest.fixture
def ran(tmp_path, capsys):
    write_model(tmp_path, marker=uuid.uuid4().hex)
    sweep = write_sweep(tmp_path, {"fluid.density": DENSITIES},
                        fixed={"state.temperature": 300.0})
    assert main(["run", str(sweep)]) == 1  # one point fails by design
    capsys.readouterr()
    return sweep


def test_csv_and_json_exports_of_a_custom_model_without_natural_frequencies(ran, tmp_path, capsys):
    csv_path, json_path = tmp_path / "out.csv", tmp_path / "out.json"
    assert main(["export", str(ran), "-o", str(csv_path)]) == 0, capsys.readouterr().err
    assert main(["export", str(ran), "-o", str(json_path)]) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "Traceback" not in err and "cannot reshape" not in err

    rows = read_csv(csv_path)
    assert [r["fluid.density"] for r in rows] == DENSITIES
    assert [r["status"] for r in rows] == ["built", "built", "failed"]
    assert not any(k.startswith("f1") for k in rows[0])  # no modes: no frequency columns
    for r in rows:
        assert math.isnan(r["fluid_density"]) and math.isnan(r["speed_of_sound"])
        assert r["stable"] is None
    # the model's own numbers are in the export, read back from the store
    for r in rows[:2]:
        result = json.loads((Path(r["store_path"]) / "result.json").read_text())
        assert r["output.density"] == result["density"] and r["output.temperature"] == 300.0
    assert math.isnan(rows[2]["output.density"])

    doc = json.loads(json_path.read_text())
    points = doc["points"]
    assert [p["coordinates"]["fluid.density"] for p in points] == DENSITIES
    assert all(p["natural_frequencies"] == [] for p in points)
    assert points[0]["outputs"]["density"] == 990.0 and points[2]["outputs"]["density"] is None


def test_netcdf_export_of_the_same_sweep(ran, tmp_path, capsys):
    nc_path = tmp_path / "out.nc"
    assert main(["export", str(ran), "-o", str(nc_path)]) == 0, capsys.readouterr().err
    with xr.open_dataset(nc_path, engine="h5netcdf") as nc:
        assert nc["output.density"].values[:2].tolist() == DENSITIES[:2]
        assert nc.sizes["mode"] == 0
