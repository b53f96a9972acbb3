"""The merged dataset: labels, units, values from the result files, holes with status."""

import json
import shutil

import numpy as np
import pytest

from sweepgui.results import ResultsError, load_dataset

from .synth import DEMO, beam_frequencies, beam_result, write_run

RHO = [900.0, 950.0, 1000.0, 1100.0]
PT = {"state.pressure": [1e5, 2e5, 3e5], "state.temperature": [290.0, 300.0, 310.0]}


@pytest.fixture
def run(tmp_path):
    def fail_hot(params):  # a model that fails for some parameters
        return None if params["state"]["temperature"] == 310.0 and params["fluid"]["density"] == 1100.0 \
            else beam_result(params)
    return write_run(tmp_path, [("fluid.density", {"fluid.density": RHO}), ("pt", PT)],
                     result=fail_hot, statuses={5: "queued"})


def test_dimensions_coordinates_and_units(run):
    ds = load_dataset(run)
    assert ds.natural_frequency.dims == ("fluid.density", "pt", "mode")
    assert ds.magnitude.dims == ("fluid.density", "pt", "frequency")
    assert ds.sizes == {"fluid.density": 4, "pt": 3, "mode": 4, "frequency": 21}
    assert ds["fluid.density"].values.tolist() == RHO
    # a zip group is one dimension; its members are coordinates along it
    assert ds["state.pressure"].dims == ("pt",)
    assert ds["state.temperature"].values.tolist() == PT["state.temperature"]
    assert ds["state.pressure"].attrs["units"] == "Pa"
    assert ds["state.temperature"].attrs["units"] == "K"
    assert ds["fluid.density"].attrs["units"] == "kg/m3"
    assert ds.natural_frequency.attrs["units"] == "Hz"
    assert ds.frequency.attrs["units"] == "Hz"
    assert ds.attrs["sweep_hash"].startswith("sha256:")
    assert json.loads(ds.attrs["fixed_parameters"])["pipe.length"] == 0.5


def test_values_follow_the_points_in_c_order(run):
    ds = load_dataset(run)
    manifest = json.loads((run / "manifest.json").read_text())
    for p in manifest["points"]:
        i, k = divmod(p["index"], 3)
        got = ds.natural_frequency.isel({"fluid.density": i, "pt": k}).values
        if p["status"] == "built":
            np.testing.assert_array_equal(got, beam_frequencies(p["parameters"]))
            assert ds.fluid_density.values[i, k] == p["parameters"]["fluid"]["density"]
            assert ds.store_path.values[i, k] == p["out"]
            assert ds.stable.values[i, k] == 1.0
        else:
            assert np.isnan(got).all()


def test_failed_and_queued_points_are_nan_with_their_status(run):
    ds = load_dataset(run)
    assert ds.status.values[1, 2] == "queued"
    assert ds.status.values[3, 2] == "failed"
    assert "EOS" in ds.error.values[3, 2]
    for i, k in ((1, 2), (3, 2)):
        assert np.isnan(ds.natural_frequency.values[i, k]).all()
        assert np.isnan(ds.fluid_density.values[i, k]) and np.isnan(ds.stable.values[i, k])
        assert np.isnan(ds.magnitude.values[i, k]).all()
        assert ds.store_path.values[i, k] == ""
    assert (ds.status.values == "built").sum() == 10


def test_corrupt_or_garbage_collected_result_marks_the_point_failed(run):
    manifest = json.loads((run / "manifest.json").read_text())
    with open(manifest["points"][0]["out"] + "/result.json", "w") as f:
        f.write('{"natural_frequencies": [1, 2')
    shutil.rmtree(manifest["points"][1]["out"])
    ds = load_dataset(manifest, cache=False)
    assert ds.status.values[0, 0] == "failed" and "corrupt" in ds.error.values[0, 0]
    assert ds.status.values[0, 1] == "failed" and "missing" in ds.error.values[0, 1]
    assert np.isnan(ds.natural_frequency.values[0, :2]).all()
    assert ds.status.values[0, 2] == "built"


def test_manifest_dict_and_points_not_in_the_manifest(run):
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["points"] = manifest["points"][:4]  # a live run: the rest not reported yet
    ds = load_dataset(manifest, with_spectra=False)
    assert "magnitude" not in ds
    assert (ds.status.values.ravel()[4:] == "missing").all()
    assert np.isfinite(ds.natural_frequency.values.reshape(12, 4)[:4]).all()


def test_not_run_sweep_is_a_clear_error(tmp_path):
    with pytest.raises(ResultsError, match="not been run"):
        load_dataset(tmp_path)


def test_swept_band_keeps_each_points_own_frequencies(tmp_path):
    sd = write_run(tmp_path, [("analysis.f_max", {"analysis.f_max": [1000.0, 3000.0]}),
                              ("analysis.frequencies", {"analysis.frequencies": [11, 31]})])
    ds = load_dataset(sd)
    assert ds.magnitude.dims[-1] == "frequency_index" and ds.sizes["frequency_index"] == 31
    f = ds.spectrum_frequency.values
    assert f[1, 1, -1] == 3000.0 and f[0, 0, 10] == 1000.0 and np.isnan(f[0, 0, 11:]).all()


def test_summary_without_the_spectrum_equals_the_full_parse(tmp_path):
    """The one reader skips parsing the spectrum when asked; it must give what a full parse
    gives, whatever the JSON layout, and fall back when the text is not the contract's shape."""
    from sweepgui.nix.store import read_result

    res = beam_result(json.loads(json.dumps(DEMO)))
    res["parameters"]["material"]["name"] = 'tricky "spectrum": {} name'
    layouts = {
        "compact": json.dumps(res, separators=(",", ":")),
        "indented": json.dumps(res, indent=2),
        "spectrum first": json.dumps({"spectrum": res["spectrum"], **res}),
        "nested spectrum": json.dumps({**res, "derived": {"spectrum": {"a": {"b": 1}}}}),
    }
    for name, text in layouts.items():
        out = tmp_path / name
        out.mkdir()
        (out / "result.json").write_text(text)
        full = read_result(out)
        assert "spectrum" in full, name
        del full["spectrum"]
        assert read_result(out, spectrum=False) == full, name


def test_a_custom_models_own_output_loads_without_crashing(tmp_path):
    """The seed contract lets a custom model write any JSON: its numbers become output.*,
    odd entries become NaN, and nothing is called a failure that did not fail."""
    def odd(params):
        return {"density": params["fluid"]["density"], "q": 2.5, "label": "x",
                "natural_frequencies": [10.0, None, "n/a"], "spectrum": "not computed"}
    ds = load_dataset(write_run(tmp_path, [("fluid.density", {"fluid.density": [1.0, 2.0]})], result=odd))
    assert ds.status.values.tolist() == ["built", "built"]
    assert ds["output.density"].values.tolist() == [1.0, 2.0] and ds["output.q"].values.tolist() == [2.5, 2.5]
    assert ds.natural_frequency.values[0, 0] == 10.0 and np.isnan(ds.natural_frequency.values[0, 1:]).all()
    assert "magnitude" not in ds


def test_eos_entries_in_a_density_list_are_nan_on_the_axis(tmp_path):
    """A sweep file may list "eos" among densities (None in the manifest): that coordinate is
    NaN, while fluid_density holds what the equation of state gave."""
    ds = load_dataset(write_run(tmp_path, [("fluid.density", {"fluid.density": [990.0, None, 1010.0]})]))
    coord = ds["fluid.density"].values
    assert coord[0] == 990.0 and np.isnan(coord[1]) and coord[2] == 1010.0
    assert ds.fluid_density.values[1] == pytest.approx(998.2)
    from sweepgui.results import sensitivities

    s = sensitivities(ds, at={"fluid.density": 1005.0}, mode=1)
    assert s.at == {"fluid.density": 1010.0} and np.isfinite(s[0].value)
