"""Sweep files to points: product and zip order, presets, EOS, coordinates, paths."""

import tomllib

import pytest

from sweepgui.params import Parameters
from sweepgui.resources import resources_dir
from sweepgui.sweep import Sweep, SweepError, VariableSpec, loads_sweep


def _materials():
    with open(resources_dir() / "materials.toml", "rb") as fh:
        return tomllib.load(fh)


def test_issue_example_gives_the_cartesian_product_in_file_order():
    text = """
[fixed]
pipe.length = 0.5
material.name = "316L"
[variable]
"fluid.density" = [990.0, 1000.0, 1010.0]
"state.temperature" = { linspace = [283.15, 353.15, 8] }   # start, stop, count
"state.pressure" = { logspace = [5, 7, 5] }                # 10^5 .. 10^7, count
"pipe.outer_diameter" = { arange = [0.010, 0.013, 0.001] }  # start, stop (excluded), step
"""
    s = loads_sweep(text)
    assert [d.name for d in s.dimensions()] == ["fluid.density", "state.temperature",
                                                  "state.pressure", "pipe.outer_diameter"]
    assert s.shape == (3, 8, 5, 3) and s.size == 360
    points = s.points()
    assert len(points) == 360 and all(isinstance(p, Parameters) for p in points)
    # C order: the last variable varies fastest
    assert [p.pipe.outer_diameter for p in points[:4]] == [0.010, 0.011, 0.012, 0.010]
    assert points[3].state.pressure == pytest.approx(10 ** 5.5)
    p = points[8 * 5 * 3 + 2 * 5 * 3 + 4 * 3 + 1]  # density 1000, 303.15 K, 1e7 Pa, 0.011 m
    assert (p.fluid.density, p.state.temperature, p.state.pressure, p.pipe.outer_diameter) == (
        1000.0, 303.15, 1e7, 0.011)
    assert p.pipe.length == 0.5 and p.material.name == "316L"
    assert s.coordinates(8 * 5 * 3 + 2 * 5 * 3 + 4 * 3 + 1) == {
        "fluid.density": 1000.0, "state.temperature": 303.15, "state.pressure": 1e7,
        "pipe.outer_diameter": 0.011}
    assert s.variable_values("state.pressure")[0] == 1e5
    with pytest.raises(IndexError):
        s.coordinates(360)


def test_zip_moves_variables_together_at_the_place_of_its_first_member():
    text = """
[variable]
"fluid.density" = [990.0, 1010.0]
"state.pressure" = [1e5, 2e5, 3e5]
"pipe.length" = [0.4, 0.5]
"state.temperature" = [280.0, 290.0, 300.0]
[zip]
pt = ["state.temperature", "state.pressure"]
"""
    s = loads_sweep(text)
    dims = s.dimensions()
    assert [d.name for d in dims] == ["fluid.density", "pt", "pipe.length"]
    assert dims[1].paths == ["state.temperature", "state.pressure"]
    assert s.shape == (2, 3, 2)
    expected = [(rho, t, p, length) for rho in (990.0, 1010.0)
                for t, p in zip((280.0, 290.0, 300.0), (1e5, 2e5, 3e5)) for length in (0.4, 0.5)]
    got = [(q.fluid.density, q.state.temperature, q.state.pressure, q.pipe.length)
           for q in s.points()]
    assert got == expected


def test_no_variables_is_one_point_with_defaults_and_fixed_values():
    s = loads_sweep("[fixed]\nstate.temperature = 300.0\n")
    assert s.shape == () and s.size == 1 and s.coordinates(0) == {}
    (p,) = s.points()
    assert p == Parameters(state={"temperature": 300.0})
    assert loads_sweep("").points() == [Parameters()]


def test_dotted_quoted_and_subtable_keys_mean_the_same():
    a = loads_sweep('[fixed]\npipe.length = 0.4\n"fluid.name" = "CO2"\n')
    b = loads_sweep('[fixed.pipe]\nlength = 0.4\n[fixed.fluid]\nname = "CO2"\n')
    c = loads_sweep("[fixed]\npipe = { length = 0.4 }\n'fluid'.\"name\" = \"CO2\"\n")
    assert a.points() == b.points() == c.points()
    assert a.points()[0].pipe.length == 0.4 and a.points()[0].fluid.name == "CO2"


def test_variables_keep_the_order_of_lines_even_when_dotted_keys_interleave():
    s = loads_sweep('[variable]\nfluid.density = [1.0, 2.0]\nstate.pressure = [1e5, 2e5]\n'
                    'fluid.name = ["Water", "CO2"]\n')
    assert list(s.variables) == ["fluid.density", "state.pressure", "fluid.name"]


def test_preset_name_fills_the_material_and_explicit_fields_override():
    ti = _materials()["Titanium grade 2"]
    s = loads_sweep('[fixed]\nmaterial.name = "Titanium grade 2"\nmaterial.density = 4500.0\n')
    m = s.points()[0].material
    assert (m.youngs_modulus, m.poisson_ratio, m.thermal_expansion) == (
        ti["youngs_modulus"], ti["poisson_ratio"], ti["thermal_expansion"])
    assert m.modulus_temperature_coefficient == ti["modulus_temperature_coefficient"]
    assert m.density == 4500.0  # given explicitly, not the preset's 4510


def test_a_name_that_is_no_preset_is_a_material_of_ones_own_with_every_property():
    own = {"youngs_modulus": 2e11, "density": 7000.0, "poisson_ratio": 0.3,
           "thermal_expansion": 1e-5, "modulus_temperature_coefficient": -1e-4,
           "reference_temperature": 300.0}
    text = '[fixed]\nmaterial.name = "my alloy"\n' + "".join(
        f"material.{k} = {v!r}\n" for k, v in own.items())
    mat = loads_sweep(text).points()[0].material
    assert mat.name == "my alloy" and {k: getattr(mat, k) for k in own} == own
    with pytest.raises(SweepError, match="material.name: 'my alloy' is not a material preset"):
        loads_sweep(text.replace("material.density = 7000.0\n", ""))


def test_swept_material_names_fill_each_point_from_its_preset():
    presets = _materials()
    s = loads_sweep('[fixed]\nmaterial.poisson_ratio = 0.3\n'
                    '[variable]\n"material.name" = ["316L", "Zirconium 702", "Borosilicate glass"]\n'
                    '"material.density" = [5000.0, 6000.0]\n')
    pts = s.points()
    assert [p.material.name for p in pts] == ["316L", "316L", "Zirconium 702", "Zirconium 702",
                                              "Borosilicate glass", "Borosilicate glass"]
    assert pts[4].material.youngs_modulus == presets["Borosilicate glass"]["youngs_modulus"]
    zr = pts[2].material
    assert zr.youngs_modulus == presets["Zirconium 702"]["youngs_modulus"]
    assert zr.thermal_expansion == presets["Zirconium 702"]["thermal_expansion"]
    assert zr.poisson_ratio == 0.3 and zr.density == 5000.0 and pts[3].material.density == 6000.0
    assert pts[0].material.youngs_modulus == presets["316L"]["youngs_modulus"]


def test_choice_and_text_fields_can_be_swept():
    s = loads_sweep('[variable]\n"pipe.boundary" = ["clamped-clamped", "pinned-pinned"]\n'
                    '"fluid.name" = ["Water", "CO2"]\n')
    assert [(p.pipe.boundary, p.fluid.name) for p in s.points()] == [
        ("clamped-clamped", "Water"), ("clamped-clamped", "CO2"),
        ("pinned-pinned", "Water"), ("pinned-pinned", "CO2")]


def test_eos_spells_null_for_the_fluid_density():
    s = loads_sweep('[variable]\n"fluid.density" = ["eos", 998.0]\n')
    assert [p.fluid.density for p in s.points()] == [None, 998.0]
    assert s.variable_values("fluid.density") == [None, 998.0]
    assert '"fluid.density" = ["eos", 998.0]' in s.to_toml()
    fixed = loads_sweep('[fixed]\nfluid.density = "eos"\n')
    assert fixed.points()[0].fluid.density is None


def test_integers_are_taken_for_float_fields_and_whole_floats_for_int_fields():
    s = loads_sweep('[variable]\n"fluid.density" = [990, 1000]\n'
                    '"analysis.elements" = { linspace = [20, 40, 3] }\n')
    assert s.variable_values("fluid.density") == [990.0, 1000.0]
    assert [type(v) for v in s.variable_values("analysis.elements")] == [int, int, int]
    assert s.variable_values("analysis.elements") == [20, 30, 40]


def test_relative_paths_resolve_against_the_sweep_files_folder(tmp_path):
    f = tmp_path / "sub" / "s.toml"
    f.parent.mkdir()
    f.write_text('[run]\njobs = 3\nmachines = "machines"\n[model]\nexecutable = "m/model.py"\n')
    from sweepgui.sweep import load_sweep

    s = load_sweep(f)
    assert s.run.jobs == 3
    assert s.machines_path() == f.parent / "machines"
    assert s.model_executable_path() == f.parent / "m" / "model.py"
    assert s.source == f and s.base_dir == f.parent
    assert loads_sweep("").machines_path() is None
    assert loads_sweep('[run]\njobs = 0\nmachines = "builders"\n').run.jobs == 0  # remote only


def test_a_sweep_built_in_code_is_checked_the_same_way():
    s = Sweep(fixed={"pipe.length": 0.4}, variables={"fluid.densty": [1.0]})
    with pytest.raises(SweepError) as e:
        s.points()
    assert e.value.file is None and e.value.line is None and e.value.key == "fluid.densty"
    assert "did you mean 'fluid.density'" in str(e.value)
    ok = Sweep(variables={"fluid.density": {"linspace": [990.0, 1010.0, 3]}})
    assert ok.variable_values("fluid.density") == [990.0, 1000.0, 1010.0]


def test_editing_a_sweep_in_place_is_seen_by_the_next_call():
    s = Sweep(variables={"fluid.density": [1.0, 2.0]})
    assert s.shape == (2,)
    s.variables["state.pressure"] = VariableSpec.from_generator("linspace", 1e5, 2e5, 3)
    assert s.shape == (2, 3) and s.coordinates(5) == {"fluid.density": 2.0, "state.pressure": 2e5}
    s.zips["pf"] = ["state.pressure", "fluid.density"]
    with pytest.raises(SweepError, match="equally many"):
        s.points()
    del s.zips["pf"]
    s.fixed["analysis.elements"] = True  # equal to 1 but not a number
    with pytest.raises(SweepError, match="takes a number"):
        s.check()


def test_points_are_a_read_only_sequence_built_on_access():
    s = loads_sweep('[variable]\n"fluid.density" = [990.0, 1000.0, 1010.0]\n'
                    '"state.pressure" = [1e5, 2e5]\n')
    pts = s.points()
    assert len(pts) == 6 and pts[-1] == pts[5] and pts[-1].state.pressure == 2e5
    assert [p.fluid.density for p in pts[1:4]] == [990.0, 1000.0, 1000.0]  # a slice is a list
    assert pts == list(pts) and list(pts) == pts and pts != list(pts)[:5]
    assert pts[3] is not pts[3]  # a new object per read: editing one edits no other point
    with pytest.raises(IndexError):
        pts[6]
    # the sequence keeps the values it was made from
    s.fixed["pipe.length"] = 0.4
    assert pts[0].pipe.length == 0.5 and s.points()[0].pipe.length == 0.4
