"""Exports re-import with identical numbers, carry provenance in every row, and keep
failed points as NaN with their status."""

import csv
import json
import math

import numpy as np
import pytest
import xarray as xr

from sweepgui.results import export, load_dataset, read_csv

from .synth import beam_result, write_run

RHO = [990.0, 1000.0 + 1e-9, 0.1 + 0.2 + 1000.0]   # numbers whose text must survive exactly
P = [1e5, 3e5]


@pytest.fixture
def ds(tmp_path):
    def fail_one(params):
        if params["fluid"]["density"] == RHO[2] and params["state"]["pressure"] == P[1]:
            return None
        return beam_result(params)
    sd = write_run(tmp_path, [("fluid.density", {"fluid.density": RHO}),
                              ("state.pressure", {"state.pressure": P})], result=fail_one,
                   statuses={1: "cancelled"})
    return load_dataset(sd)


def _points(ds):
    nf = ds.natural_frequency.values.reshape(-1, ds.sizes["mode"])
    return nf, ds.status.values.ravel(), ds.store_path.values.ravel()


def test_csv_reimports_identical_numbers_with_provenance(ds, tmp_path):
    path = export(ds, tmp_path / "out.csv")
    rows = read_csv(path)
    nf, status, store = _points(ds)
    assert len(rows) == 6
    for i, r in enumerate(rows):
        assert r["index"] == i
        assert r["fluid.density"] == RHO[i // 2] and r["state.pressure"] == P[i % 2]
        got = [r[f"f{k}"] for k in range(1, 5)]
        if status[i] == "built":
            assert got == nf[i].tolist()  # bit-identical
            assert r["fluid_density"] == RHO[i // 2] and r["stable"] is True
            assert r["store_path"] == store[i] and r["store_path"].startswith(str(tmp_path))
            assert r["model_name"] == "synthetic-beam" and r["model_version"] == "1.0"
        else:
            assert all(math.isnan(v) for v in got) and math.isnan(r["fluid_density"])
            assert r["stable"] is None and r["store_path"] == ""
        assert r["status"] == status[i]
        assert r["drv"].endswith(".drv")
        assert r["sweep_hash"] == ds.attrs["sweep_hash"]
        assert r["pipe.length"] == 0.5 and r["pipe.boundary"] == "clamped-clamped"
    assert [r["status"] for r in rows].count("failed") == 1
    assert rows[1]["status"] == "cancelled"
    # plain csv + float(): what any other tool would see
    with open(path, newline="") as f:
        plain = list(csv.DictReader(f))
    assert float(plain[0]["f1 [Hz]"]) == nf[0, 0] and plain[5]["f1 [Hz]"] == "nan"


def test_netcdf_reimports_the_whole_dataset(ds, tmp_path):
    path = export(ds, tmp_path / "out.nc", "netcdf")
    with xr.open_dataset(path, engine="h5netcdf") as back:
        back = back.load()
    for name in ("natural_frequency", "fluid_density", "magnitude", "phase", "stable", "seconds"):
        np.testing.assert_array_equal(back[name].values, ds[name].values)
    for name in ("status", "store_path", "drv", "model_name", "model_version", "error"):
        assert back[name].values.astype(str).tolist() == ds[name].values.astype(str).tolist()
    np.testing.assert_array_equal(back.frequency.values, ds.frequency.values)
    assert back["fluid.density"].values.tolist() == RHO
    assert back["state.pressure"].attrs["units"] == "Pa"
    for key in ("sweep_hash", "model_name", "model_version", "fixed_parameters", "interpreter"):
        assert back.attrs[key] == ds.attrs[key]
    assert back.status.values[2, 1] == "failed" and np.isnan(back.magnitude.values[2, 1]).all()


def test_json_export_has_null_for_missing_and_provenance(ds, tmp_path):
    path = export(ds, tmp_path / "out.json")
    doc = json.loads(path.read_text())
    nf, status, _ = _points(ds)
    assert doc["provenance"]["sweep_hash"] == ds.attrs["sweep_hash"]
    assert doc["dimensions"][0]["values"]["fluid.density"] == RHO
    for i, p in enumerate(doc["points"]):
        assert p["coordinates"] == {"fluid.density": RHO[i // 2], "state.pressure": P[i % 2]}
        assert p["status"] == status[i] and p["drv"].endswith(".drv")
        if status[i] == "built":
            assert p["natural_frequencies"] == nf[i].tolist() and p["model_version"] == "1.0"
        else:
            assert p["natural_frequencies"] == [None] * 4 and p["fluid_density"] is None


def test_writes_are_atomic_and_bad_formats_are_named(ds, tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    export(ds, target)
    export(ds, tmp_path / "x.nc")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    import os
    mask = os.umask(0)
    os.umask(mask)
    for name in ("out.csv", "x.nc"):  # an ordinary file, not the temp file's 0600
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~mask
    with pytest.raises(ValueError, match="unknown export format 'xlsx'"):
        export(ds, tmp_path / "out.xlsx", "xlsx")
    with pytest.raises(ValueError, match="out.dat"):
        export(ds, tmp_path / "out.dat")


def test_one_table_of_formats_serves_export_the_suffixes_and_the_cli(ds, tmp_path, monkeypatch, capsys):
    from sweepgui.cli import build_parser
    from sweepgui.results import EXPORT_FORMATS, ExportFormat, _export, format_from_path

    assert {n: (f.suffix, f.spectra) for n, f in EXPORT_FORMATS.items()} == {
        "csv": (".csv", False), "netcdf": (".nc", True), "json": (".json", False)}
    assert [format_from_path(f"a{s}") for s in (".CSV", ".nc4", ".json", ".xlsx")] == \
        ["csv", "netcdf", "json", None]
    # a new format is one entry: export() writes it, its suffix names it, the CLI offers it
    monkeypatch.setattr(_export, "EXPORT_FORMATS", dict(EXPORT_FORMATS))
    monkeypatch.setattr("sweepgui.results.EXPORT_FORMATS", _export.EXPORT_FORMATS)
    written = []
    _export.register_format(ExportFormat("tsv", "TSV", (".tsv",),
                                         lambda d, p: written.append((d.sizes["mode"], p))))
    assert export(ds, tmp_path / "r.tsv") == tmp_path / "r.tsv"
    assert written == [(4, tmp_path / "r.tsv")]
    with pytest.raises(SystemExit):
        build_parser("export").parse_args(["export", "--help"])
    assert "--format {csv,netcdf,json,tsv}" in capsys.readouterr().out
