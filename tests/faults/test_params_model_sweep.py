"""Issue 11, faults a tester saw in parameters, the model and sweep files.

Each test states what the user sees: the message (naming the file, line, key or field and
what to do) and the exit code. References are the preset table as written in
``resources/materials.toml`` and closed-form beam theory, never the code's own output.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sweepgui.cli import main as cli_main
from sweepgui.model import ModelError, run_point
from sweepgui.resources import resources_dir
from sweepgui.sweep import SweepError, load_sweep, loads_sweep

MATERIAL_PROPERTIES = ("youngs_modulus", "density", "poisson_ratio", "thermal_expansion",
                       "modulus_temperature_coefficient", "reference_temperature")
FAST = {"analysis": {"elements": 8, "modes": 3, "frequencies": 5}}


def presets() -> dict:
    with open(resources_dir() / "materials.toml", "rb") as fh:
        return tomllib.load(fh)


def load_error(tmp_path: Path, text: str, name: str = "bad.toml") -> SweepError:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    with pytest.raises(SweepError) as e:
        load_sweep(f)
    return e.value


def run_model(tmp: Path, params: object, out_text: str | None = None) -> tuple[int, str, Path]:
    """``python -m sweepgui.model`` on ``params``; ``out_text``: an OUT left by an earlier run."""
    src, out = tmp / "params.json", tmp / "out.json"
    src.write_text(params if isinstance(params, str) else json.dumps(params))
    if out_text is not None:
        out.write_text(out_text)
    proc = subprocess.run([sys.executable, "-m", "sweepgui.model", str(src), str(out)],
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stderr, out


# -- 1. material presets: an unknown name is an error, not 316L under another label -------

@pytest.mark.parametrize("name", ["unobtainium", "titanium grade 2", "316l", " 316L"])
def test_unknown_material_preset_names_file_line_key_and_the_presets(tmp_path, name):
    text = f'# a sweep\n[fixed]\nmaterial.name = "{name}"\npipe.length = 0.4\n'
    err = load_error(tmp_path, text)
    message = str(err)
    assert message.startswith(f"{tmp_path / 'bad.toml'}, line 3, [fixed] material.name: "), message
    assert repr(name) in message or f'"{name}"' in message
    for preset in presets():
        assert preset in message  # every preset is offered, spelt as in materials.toml
    assert "material.youngs_modulus" in message  # and how to give a material of one's own


@pytest.mark.parametrize("typed, meant", [("titanium grade 2", "Titanium grade 2"),
                                          ("316l", "316L"), ("hastelloy c22", "Hastelloy C-22")])
def test_a_misspelt_preset_suggests_the_real_name(tmp_path, typed, meant):
    err = load_error(tmp_path, f'[fixed]\nmaterial.name = "{typed}"\n')
    assert f"did you mean '{meant}'" in str(err)


def test_swept_material_names_must_be_presets_and_give_their_own_physics(tmp_path):
    text = '[variable]\n"material.name" = ["316L", "titanium grade 2"]\n'
    err = load_error(tmp_path, text)
    assert (err.line, err.section, err.key) == (2, "variable", "material.name")
    assert "'titanium grade 2'" in str(err) and "did you mean 'Titanium grade 2'" in str(err)

    # With the real names, each point has its preset's physics: for an empty Euler-Bernoulli
    # tube at the reference temperature f is proportional to sqrt(E / rho_wall).
    s = loads_sweep('[fixed]\nfluid.density = 0.0\nanalysis.theory = "euler-bernoulli"\n'
                    'analysis.elements = 20\nanalysis.modes = 2\nanalysis.frequencies = 2\n'
                    '[variable]\n"material.name" = ["316L", "Titanium grade 2"]\n')
    steel, titanium = (run_point(p.model_dump(mode="json"))["natural_frequencies"][0]
                       for p in s.points())
    ref = presets()
    ratio = math.sqrt(ref["Titanium grade 2"]["youngs_modulus"] / ref["Titanium grade 2"]["density"]
                      / (ref["316L"]["youngs_modulus"] / ref["316L"]["density"]))
    assert titanium / steel == pytest.approx(ratio, rel=1e-9)


def test_a_custom_material_needs_all_its_properties(tmp_path):
    text = '[fixed]\nmaterial.name = "my alloy"\nmaterial.youngs_modulus = 2e11\n'
    err = load_error(tmp_path, text)
    assert (err.line, err.key) == (2, "material.name")
    for missing in MATERIAL_PROPERTIES[1:]:
        assert f"material.{missing}" in str(err)


def test_a_custom_material_with_all_properties_runs_under_its_name_and_round_trips(tmp_path):
    ti = presets()["Titanium grade 2"]
    lines = ['[fixed]', 'material.name = "my titanium"']
    lines += [f"material.{k} = {ti[k]!r}" for k in MATERIAL_PROPERTIES]
    path = tmp_path / "custom.toml"
    path.write_text("\n".join(lines) + "\n")
    s = load_sweep(path)
    m = s.points()[0].material
    assert m.name == "my titanium"
    assert {k: getattr(m, k) for k in MATERIAL_PROPERTIES} == {k: ti[k] for k in MATERIAL_PROPERTIES}
    assert loads_sweep(s.to_toml()) == s
    # the same physics as the preset of those values
    preset = loads_sweep('[fixed]\nmaterial.name = "Titanium grade 2"\n').points()[0]
    assert (run_point(s.points()[0].model_dump(mode="json"))["natural_frequencies"]
            == run_point(preset.model_dump(mode="json"))["natural_frequencies"])


def test_the_model_fills_a_preset_and_refuses_an_unknown_name(tmp_path):
    ti = presets()["Titanium grade 2"]
    rc, err, out = run_model(tmp_path, {**FAST, "fluid": {"density": 998.2},
                                        "material": {"name": "Titanium grade 2"}})
    assert rc == 0, err
    used = json.loads(out.read_text())["parameters"]["material"]
    assert {k: used[k] for k in MATERIAL_PROPERTIES} == {k: ti[k] for k in MATERIAL_PROPERTIES}
    rc, err, out = run_model(tmp_path, {**FAST, "fluid": {"density": 998.2},
                                        "material": {"name": "unobtainium"}})
    assert rc == 2 and "material.name" in err and "316L" in err and not out.exists()


def test_the_cli_refuses_an_unknown_preset_with_exit_2(tmp_path, capsys):
    f = tmp_path / "bad.toml"
    f.write_text('[fixed]\nmaterial.name = "unobtainium"\n')
    assert cli_main(["run", str(f)]) == 2
    err = capsys.readouterr().err
    assert f"{f}, line 2, [fixed] material.name" in err and "Traceback" not in err


# -- 2. the empty tube (fluid density 0) is a reference state --------------------------------

def test_fluid_density_zero_is_accepted_in_sweeps_and_by_the_model(tmp_path):
    s = loads_sweep('[fixed]\nfluid.density = 0\n[variable]\n"state.pressure" = [1e5, 2e5]\n')
    assert [p.fluid.density for p in s.points()] == [0.0, 0.0]
    s = loads_sweep('[variable]\n"fluid.density" = [0.0, 998.2]\n')
    assert [p.fluid.density for p in s.points()] == [0.0, 998.2]
    rc, err, out = run_model(tmp_path, {**FAST, "fluid": {"density": 0}})
    assert rc == 0, err
    r = json.loads(out.read_text())
    assert r["fluid"]["density"] == 0.0 and r["derived"]["fluid_mass_per_length"] == 0.0


def test_the_schema_allows_the_empty_tube():
    schema = json.loads((resources_dir() / "parameters.schema.json").read_text())
    density = schema["$defs"]["Fluid"]["properties"]["density"]
    number = next(s for s in density["anyOf"] if s.get("type") == "number")
    assert number.get("minimum") == 0 and "exclusiveMinimum" not in number


# -- 3. the model's command line: no stale OUT, no NaN, strict numbers ----------------------

@pytest.mark.parametrize("params, code", [
    ({"pipe": {"length": -1.0}}, 2),                      # bad input
    ({"state": {"temperature": 150.0}}, 3),               # water is ice: EOS fails
])
def test_a_failed_run_leaves_no_result_file_from_an_earlier_run(tmp_path, params, code):
    rc, err, out = run_model(tmp_path, params, out_text='{"stale": true}')
    assert rc == code, err
    assert not out.exists(), "a result file from an earlier run survived a failed run"


def _nan_section(monkeypatch):
    import dataclasses

    from sweepgui.model import _section

    real = _section.section_at_state

    def section(p, rho):
        return dataclasses.replace(real(p, rho), gauge_pressure=math.nan)
    monkeypatch.setattr(_section, "section_at_state", section)


def test_a_result_with_nan_is_a_failure_naming_the_quantity(monkeypatch):
    _nan_section(monkeypatch)
    with pytest.raises(ModelError, match="derived.gauge_pressure"):
        run_point({**FAST, "fluid": {"density": 998.2}})


def test_the_command_line_exits_3_for_a_nan_result_and_writes_no_file(tmp_path, monkeypatch, capsys):
    from sweepgui.model.__main__ import main

    _nan_section(monkeypatch)
    src, out = tmp_path / "p.json", tmp_path / "out.json"
    src.write_text(json.dumps({**FAST, "fluid": {"density": 998.2}}))
    out.write_text('{"stale": true}')
    assert main([str(src), str(out)]) == 3
    err = capsys.readouterr().err
    assert "derived.gauge_pressure" in err and "not finite" in err
    assert not out.exists()


@pytest.mark.parametrize("group, field, value", [
    ("analysis", "damping_ratio", True),
    ("pipe", "length", "0.5"),
    ("state", "temperature", False),
    ("analysis", "elements", "8"),
    ("analysis", "modes", True),
    ("fluid", "density", "998.2"),
])
def test_booleans_and_text_are_not_numbers(tmp_path, group, field, value):
    params = json.loads(json.dumps(FAST))
    params.setdefault(group, {})[field] = value
    params.setdefault("fluid", {}).setdefault("density", 998.2)
    rc, err, out = run_model(tmp_path, params)
    assert rc == 2, err
    assert f"{group}.{field}" in err and ("number" in err or "integer" in err)
    assert not out.exists()


def test_whole_numbers_still_serve_real_fields_and_integral_reals_counts(tmp_path):
    rc, err, out = run_model(tmp_path, {"pipe": {"length": 1}, "fluid": {"density": 1000},
                                        "analysis": {"elements": 8.0, "modes": 3, "frequencies": 5}})
    assert rc == 0, err
    used = json.loads(out.read_text())["parameters"]
    assert used["pipe"]["length"] == 1.0 and used["analysis"]["elements"] == 8


# -- 5. NUL bytes in paths of a sweep file ------------------------------------------------------

@pytest.mark.parametrize("section, key", [("run", "machines"), ("model", "executable")])
def test_a_nul_byte_in_a_path_names_file_line_and_key(tmp_path, capsys, section, key):
    text = f'[fixed]\npipe.length = 0.5\n[{section}]\n{key} = "ma\\u0000chines"\n'
    err = load_error(tmp_path, text)
    assert str(err).startswith(f"{tmp_path / 'bad.toml'}, line 4, [{section}] {key}: "), str(err)
    assert "NUL" in str(err)
    assert cli_main(["run", str(tmp_path / "bad.toml")]) == 2
    out = capsys.readouterr().err
    assert f"line 4, [{section}] {key}" in out and "Traceback" not in out


def test_a_custom_model_may_name_its_own_materials():
    # a custom model receives material.name as text (it may have a material table of its
    # own); the built-in model's presets only fill the values of their own names
    s = loads_sweep('[variable]\n"material.name" = ["316L", "their alloy"]\n'
                    '[model]\nexecutable = "model.py"\n')
    assert [p.material.name for p in s.points()] == ["316L", "their alloy"]


@pytest.mark.parametrize("line", ["jobs = true", 'batch = "4"', "batch = 2.5"])
def test_run_settings_take_whole_numbers_only(tmp_path, line):
    err = load_error(tmp_path, f"[run]\n{line}\n")
    assert (err.line, err.key) == (2, line.split(" ")[0]) and "integer" in str(err)
