"""The per-sweep result columns (results.npz, spectra.npz): a re-open reads no result file,
yet the store stays the truth (a changed, removed or foreign entry is read again)."""

import json
import os
import shutil

import numpy as np
import pytest

from sweepgui.nix.store import read_result
from sweepgui.results import ResultTable, _summary, load_dataset, load_results, load_summary, write_summary

from .synth import beam_frequencies, write_run

RHO = [900.0, 950.0, 1000.0, 1100.0]


@pytest.fixture
def run(tmp_path):
    return write_run(tmp_path, [("fluid.density", {"fluid.density": RHO}),
                                ("state.temperature", {"state.temperature": [290.0, 300.0]})],
                     statuses={3: "queued"})


def manifest_of(state):
    return json.loads((state / "manifest.json").read_text())


def test_a_reopen_reads_no_result_file_and_gives_the_same_numbers(run, monkeypatch):
    first = load_dataset(run, with_spectra=False)
    assert (run / "results.npz").is_file()
    _summary._MEMO.clear()
    monkeypatch.setattr(_summary, "read_result", lambda *a, **k: pytest.fail("read the store"))
    again = load_dataset(run, with_spectra=False)
    np.testing.assert_array_equal(again.natural_frequency.values, first.natural_frequency.values)
    for name in ("fluid_density", "stable", "derived.fluid_area", "model_name", "status", "store_path"):
        np.testing.assert_array_equal(again[name].values, first[name].values, err_msg=name)


def test_spectra_columns_are_float32_copies_of_the_stored_spectra(run):
    exact = load_dataset(run)
    table = load_summary(run)
    assert (run / "spectra.npz").is_file() and table.magnitude.dtype == np.float32
    assert table.index.tolist() == [0, 1, 2, 4, 5, 6, 7]  # point 3 is queued
    for row, i in enumerate(table.index):
        want = exact.magnitude.values.reshape(8, -1)[i]
        np.testing.assert_array_equal(table.magnitude[row], want.astype(np.float32))
        np.testing.assert_array_equal(table.frequency(row), exact.frequency.values)
    quick = load_dataset(run, exact_spectra=False)
    assert quick.magnitude.dims == exact.magnitude.dims and quick.magnitude.dtype == np.float32
    np.testing.assert_allclose(quick.magnitude.values, exact.magnitude.values, rtol=1e-6)
    np.testing.assert_array_equal(np.isnan(quick.phase.values), np.isnan(exact.phase.values))
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(table.log_magnitude(), np.log10(table.magnitude), rtol=1e-6)


def test_a_rewritten_result_is_read_again_not_served_from_the_columns(run):
    load_summary(run)
    out = manifest_of(run)["points"][0]["out"]
    result = read_result(out)
    result["natural_frequencies"] = [1.0, 2.0]
    tmp = os.path.join(out, "result.json.new")
    with open(tmp, "w") as fh:
        json.dump(result, fh)
    os.replace(tmp, os.path.join(out, "result.json"))  # a new file: another inode
    _summary._MEMO.clear()
    ds = load_dataset(run, with_spectra=False)
    assert ds.natural_frequency.values[0, 0, :2].tolist() == [1.0, 2.0]
    assert np.isnan(ds.natural_frequency.values[0, 0, 2:]).all()


def test_a_garbage_collected_result_is_missing_whatever_the_columns_say(run):
    load_summary(run)
    points = manifest_of(run)["points"]
    shutil.rmtree(points[1]["out"])
    _summary._MEMO.clear()
    ds = load_dataset(run, with_spectra=False)
    assert ds.status.values[0, 1] == "failed" and "missing" in ds.error.values[0, 1]
    assert np.isnan(ds.natural_frequency.values[0, 1]).all()
    table = load_results([points[1]["out"], points[0]["out"]], run)
    assert "missing" in table.errors[0] and table.errors[1] == "" and table.ok.tolist() == [False, True]


def test_columns_of_another_sweep_or_of_another_user_are_not_trusted(tmp_path, run, monkeypatch):
    other = write_run(tmp_path / "other", [("fluid.density", {"fluid.density": [1.0, 2.0]})])
    load_summary(other)
    shutil.copy(other / "results.npz", run / "results.npz")  # a foreign file: its rows name other paths
    _summary._MEMO.clear()
    seen = []
    monkeypatch.setattr(_summary, "read_result", lambda out, **kw: seen.append(out) or read_result(out, **kw))
    ds = load_dataset(run, with_spectra=False)
    assert len(seen) == 7
    p = manifest_of(run)["points"][0]["parameters"]
    np.testing.assert_allclose(ds.natural_frequency.values[0, 0], beam_frequencies(p))
    # a file others may write could claim anything: ignored (and replaced)
    os.chmod(run / "results.npz", 0o666)
    _summary._MEMO.clear()
    seen.clear()
    load_dataset(run, with_spectra=False)
    assert len(seen) == 7 and os.stat(run / "results.npz").st_mode & 0o022 == 0
    # and once it is the user's own again, a re-open reads nothing
    _summary._MEMO.clear()
    seen.clear()
    load_dataset(run, with_spectra=False)
    assert seen == []


@pytest.mark.parametrize("damage", [b"", b"not a zip", b"PK\x03\x04garbage"])
def test_a_damaged_columns_file_is_rebuilt(run, damage):
    first = load_dataset(run, with_spectra=False)
    (run / "results.npz").write_bytes(damage)
    _summary._MEMO.clear()
    again = load_dataset(run, with_spectra=False)
    np.testing.assert_array_equal(again.natural_frequency.values, first.natural_frequency.values)
    assert (run / "results.npz").stat().st_size > 1000


def test_write_summary_keeps_only_the_manifests_points(run, tmp_path):
    other = write_run(tmp_path / "other", [("fluid.density", {"fluid.density": [1.0, 2.0]})])
    stray = [p["out"] for p in manifest_of(other)["points"]]
    load_results(stray, run)  # rows of store paths this sweep does not have
    assert len(np.load(run / "results.npz")["outs"]) == 2
    write_summary(run)
    with np.load(run / "results.npz") as z:
        kept = set(z["outs"].tolist())
    assert kept == {p["out"] for p in manifest_of(run)["points"] if p["out"]}


def test_without_a_state_folder_nothing_is_written(tmp_path, run):
    manifest = manifest_of(run)
    (run / "manifest.json").unlink()
    ds = load_dataset(manifest, with_spectra=False)
    assert ds.status.values.tolist()[1] == ["built", "queued"]
    assert sorted(os.listdir(run)) == []


def test_a_table_is_in_the_order_asked_for(run):
    outs = [p["out"] for p in manifest_of(run)["points"] if p["out"]]
    forward = load_results(outs, run, spectra=True)
    backward = load_results(outs[::-1], run, spectra=True)
    assert isinstance(backward, ResultTable) and backward.outs == tuple(outs[::-1])
    np.testing.assert_array_equal(backward.natural_frequency, forward.natural_frequency[::-1])
    np.testing.assert_array_equal(backward.magnitude, forward.magnitude[::-1])
    area = "derived.fluid_area"
    assert backward.numbers[area].tolist() == forward.numbers[area][::-1].tolist()


def test_float32_spectra_of_a_swept_band_keep_each_points_own_grid(tmp_path):
    sd = write_run(tmp_path, [("analysis.f_max", {"analysis.f_max": [1000.0, 3000.0]}),
                              ("analysis.frequencies", {"analysis.frequencies": [11, 31]})])
    exact = load_dataset(sd)
    quick = load_dataset(sd, exact_spectra=False)
    assert quick.magnitude.dims == exact.magnitude.dims and quick.magnitude.dims[-1] == "frequency_index"
    np.testing.assert_array_equal(quick.spectrum_frequency.values, exact.spectrum_frequency.values)
    np.testing.assert_allclose(quick.magnitude.values, exact.magnitude.values, rtol=1e-6)
    table = load_summary(sd)
    f, m = table.spectrum(3)  # f_max 3000, 31 frequencies
    assert len(f) == len(m) == 31 and f[-1] == 3000.0
    assert len(table.frequency(0)) == 11


def test_point_results_in_one_call_are_what_the_per_point_loader_gives(run):
    from sweepgui.results import load_point_result, load_point_results

    points = [(p["index"], p["out"]) for p in manifest_of(run)["points"] if p["out"]]
    points.append((3, "/nonexistent/store/path"))
    got = load_point_results(points, run)
    assert [i for i, _, _ in got] == [i for i, _ in points]
    assert got[-1][1] is None and "missing" in got[-1][2]
    for (index, path), (_, r, why) in zip(points[:-1], got[:-1]):
        one = load_point_result(index, path)
        assert why == "" and r.index == index and r.stable == one.stable
        assert r.natural_frequencies == one.natural_frequencies
        np.testing.assert_array_equal(r.frequency, one.frequency)
        np.testing.assert_allclose(r.log_magnitude, one.log_magnitude, rtol=1e-6)
    assert got[0][1].frequency is got[1][1].frequency  # one shared grid
