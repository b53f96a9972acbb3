"""One manifest schema: what the engine writes validates against it and is what results read;
a point's identity (``point``) defaults to where its result lives (``out``)."""

from __future__ import annotations

import json
import shutil

import pytest

from sweepgui.nix.manifest_schema import FORMAT, ManifestError, check_manifest, point_path
from sweepgui.results import load_dataset, read_manifest

from .synth import write_run


@pytest.mark.nix
@pytest.mark.skipif(shutil.which("nix-instantiate") is None, reason="Nix is not installed")
def test_the_engines_manifest_validates_and_results_read_it(tmp_path):
    from sweepgui.nix import Engine
    from sweepgui.nix.manifest import ManifestWriter, initial_manifest
    from sweepgui.sweep import load_sweep

    path = tmp_path / "s.toml"
    path.write_text('[variable]\n"fluid.density" = [990.0, 1000.0]\n'
                    '"state.temperature" = [290.0, 300.0, 310.0]\n')
    sweep = load_sweep(path)
    state = tmp_path / "state"
    plan = Engine(state_dir=state).plan(sweep)
    writer = ManifestWriter(state, initial_manifest(sweep, plan, state, None))
    writer.update(4, status="failed", error="model failed", exit_code=3, log_tail=["boom"])
    writer.flush()

    written = json.loads((state / "manifest.json").read_text())
    assert written["format"] == FORMAT
    check_manifest(written)
    assert read_manifest(state) == written
    ds = load_dataset(state, with_spectra=False)
    assert ds.sizes == {"fluid.density": 2, "state.temperature": 3, "mode": 0}
    assert ds.status.values.ravel().tolist()[4] == "failed"
    for p, planned in zip(written["points"], plan.points):
        assert p["out"] == planned.out_path
        assert point_path(p) == (p.get("point") or p["out"])


def test_point_defaults_to_out_and_unknown_keys_of_a_newer_engine_pass(tmp_path):
    state = write_run(tmp_path, [("fluid.density", {"fluid.density": [990.0, 1000.0]})])
    manifest = json.loads((state / "manifest.json").read_text())
    first = manifest["points"][0]
    assert point_path(first) == first["out"] == first["point"]
    del first["point"]
    assert point_path(first) == first["out"]
    first["point"] = "/nix/store/aaaa-own-identity"
    assert point_path(first) == "/nix/store/aaaa-own-identity"
    manifest["points"][1]["batch"] = {"size": 2}  # a key this version does not know
    assert check_manifest(manifest) is manifest  # checked, neither copied nor trimmed


@pytest.mark.parametrize("damage, words", [
    (lambda m: m.update(format=2), "unknown manifest format 2"),
    (lambda m: m["points"][0].update(index=5), "points[0].index: 5 is outside the grid of 2 points"),
    (lambda m: m["points"][0].update(log_tail="x"), "points[0].log_tail: Input should be a valid list"),
    (lambda m: m.pop("model"), "model: Field required"),
])
def test_a_manifest_off_the_schema_is_named(tmp_path, damage, words):
    state = write_run(tmp_path, [("fluid.density", {"fluid.density": [990.0, 1000.0]})])
    manifest = json.loads((state / "manifest.json").read_text())
    damage(manifest)
    with pytest.raises(ManifestError, match=words.replace("[", r"\[").replace("]", r"\]")):
        check_manifest(manifest)
