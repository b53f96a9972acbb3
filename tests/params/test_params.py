import json
import tomllib

import pytest
from pydantic import ValidationError

from sweepgui.params import (
    Material,
    ParameterError,
    Parameters,
    canonical_json,
    field_info,
    format_validation_error,
    iter_fields,
)
from sweepgui.params.presets import material_preset, material_presets
from sweepgui.params.schema import SCHEMA_FILE, parameters_schema_text
from sweepgui.resources import resources_dir


def test_exported_schema_is_current():
    on_disk = (resources_dir() / SCHEMA_FILE).read_text()
    assert on_disk == parameters_schema_text(), (
        "resources/parameters.schema.json is stale: run python -m sweepgui.params.schema --write"
    )


def test_demo_defaults():
    p = Parameters()
    assert (p.pipe.outer_diameter, p.pipe.wall_thickness, p.pipe.length) == (0.010, 0.001, 0.5)
    assert p.pipe.boundary == "clamped-clamped" and p.pipe.axial_restraint == "free"
    assert p.material.name == "316L" and p.fluid.name == "Water" and p.fluid.density is None
    assert p.state.temperature == pytest.approx(293.15) and p.state.pressure == 1e5
    assert p.analysis.theory == "timoshenko" and p.analysis.elements == 40
    assert p.analysis.modes == 6 and p.analysis.frequencies == 4001
    assert (p.analysis.f_min, p.analysis.f_max) == (0.0, 2000.0)
    # the demo: no flow, damping 1e-3, mid-span drive and response, 316L's values
    assert p.state.flow_velocity == 0.0 and p.analysis.damping_ratio == 1e-3
    assert p.analysis.excitation_position == p.analysis.response_position == 0.5
    assert p.material.youngs_modulus == 193e9 and p.material.density == 7990.0


def test_every_numeric_field_has_unit_description_and_bounds():
    for f in iter_fields():
        assert f.description, f.path
        if f.numeric:
            assert any(b is not None for b in (f.ge, f.gt, f.le, f.lt)), f.path
    assert field_info("state.pressure").unit == "Pa"
    assert field_info("material.thermal_expansion").unit == "1/K"
    assert field_info("pipe.boundary").choices == (
        "clamped-clamped", "pinned-pinned", "clamped-free", "clamped-pinned")


@pytest.mark.parametrize(
    "data, path, words",
    [
        ({"pipe": {"wall_thickness": 0.005}}, "pipe", "outer radius"),
        ({"analysis": {"f_min": 3000.0}}, "analysis", "f_min"),
        ({"analysis": {"excitation_position": 1.5}}, "analysis.excitation_position", "less than or equal"),
        ({"pipe": {"lenght": 1.0}}, "pipe.lenght", "unknown parameter"),
        ({"state": {"temperature": float("nan")}}, "state.temperature", "finite"),
        ({"fluid": {"density": -3.0}}, "fluid.density", "greater than"),
    ],
)
def test_cross_field_and_bounds_errors_name_the_field(data, path, words):
    with pytest.raises(ValidationError) as exc:
        Parameters.model_validate(data)
    problems = format_validation_error(exc.value)
    assert any(p == path and words in m for p, m in problems), problems
    assert path in str(ParameterError(problems))


def test_canonical_json_equal_values_equal_text():
    a = Parameters.model_validate({"pipe": {"length": 0.1 + 0.2}})
    b = Parameters.model_validate({"pipe": {"length": 0.30000000000000004}})
    c = Parameters.model_validate({"pipe": {"length": 0.3}})
    assert canonical_json(a) == canonical_json(b)
    assert canonical_json(a) != canonical_json(c)
    # an int given for a float field is the same point as the float
    assert canonical_json(Parameters.model_validate({"pipe": {"length": 1}})) == canonical_json(
        Parameters.model_validate({"pipe": {"length": 1.0}}))
    assert json.loads(canonical_json(c))["pipe"]["length"] == 0.3


def test_presets_are_valid_and_sourced():
    names = set(material_presets())
    assert {"316L", "304", "Titanium grade 2", "Hastelloy C-22", "Borosilicate glass",
            "Zirconium 702"} <= names
    for n in names:
        assert len(material_presets()[n]["source"]) > 20
        Parameters.model_validate({"material": material_preset(n)})
    with pytest.raises(KeyError, match="known"):
        material_preset("unobtainium")


@pytest.mark.parametrize("boundary, available", [
    ("clamped-clamped", 2 * 4 - 2), ("pinned-pinned", 2 * 4), ("clamped-free", 2 * 4),
    ("clamped-pinned", 2 * 4 - 1)])
def test_modes_limited_by_the_supported_degrees_of_freedom(boundary, available):
    base = {"pipe": {"boundary": boundary}, "analysis": {"elements": 4}}
    Parameters.model_validate({**base, "analysis": {"elements": 4, "modes": available}})
    with pytest.raises(ValidationError) as exc:
        Parameters.model_validate({**base, "analysis": {"elements": 4, "modes": available + 1}})
    problems = format_validation_error(exc.value)
    assert problems[0][0] == "analysis.modes" and f"only {available}" in problems[0][1]


def test_material_defaults_are_the_default_preset():
    # the model fills a material without values from the field defaults when its name is the
    # default preset (it runs without resources/ in a build), so they must be that preset's
    with open(resources_dir() / "materials.toml", "rb") as fh:
        steel = tomllib.load(fh)["316L"]
    m = Material()
    assert m.name == "316L"
    for name in ("youngs_modulus", "density", "poisson_ratio", "thermal_expansion",
                 "modulus_temperature_coefficient", "reference_temperature"):
        assert getattr(m, name) == steel[name], name


def test_a_preset_name_fills_the_material_and_an_unknown_one_is_refused():
    with open(resources_dir() / "materials.toml", "rb") as fh:
        zr = tomllib.load(fh)["Zirconium 702"]
    m = Parameters.model_validate({"material": {"name": "Zirconium 702", "density": 6500.0}}).material
    assert (m.youngs_modulus, m.poisson_ratio, m.density) == (
        zr["youngs_modulus"], zr["poisson_ratio"], 6500.0)
    with pytest.raises(ValidationError) as e:
        Parameters.model_validate({"material": {"name": "zirconium 702"}})
    ((path, msg),) = format_validation_error(e.value)
    assert path == "material.name" and "did you mean 'Zirconium 702'" in msg
