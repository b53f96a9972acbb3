"""The sweep draft the forms edit, without Qt: file in, edits, checks, file out.

Expected values are written out by hand (the sweep-file format, the parameters' documented
ranges, decimal arithmetic), not taken from the draft's own output.
"""

from __future__ import annotations

import textwrap

import pytest

from sweepgui.params.presets import material_presets
from sweepgui.sweep import DraftError, SweepDraft, generate, loads_sweep
from sweepgui.sweep.draft import bounds_phrase, format_list, format_number


def draft(text: str) -> SweepDraft:
    return SweepDraft.from_toml(textwrap.dedent(text))


def test_dotted_and_nested_keys_read_the_same():
    a = draft("""\
        [fixed]
        pipe.length = 0.4
        "state.pressure" = 2e5
        [variable]
        fluid.density = { linspace = [900.0, 1100.0, 3] }
        """)
    b = draft("""\
        [fixed.pipe]
        length = 0.4
        [fixed.state]
        pressure = 2e5
        [variable.fluid]
        density = { linspace = [900.0, 1100.0, 3] }
        """)
    assert a.fixed == b.fixed == {"pipe.length": 0.4, "state.pressure": 2e5}
    # a generator table is a variable's value, not a group to descend into
    assert a.variables == b.variables == {"fluid.density": {"linspace": [900.0, 1100.0, 3]}}


def test_a_file_the_forms_cannot_show_is_an_error_naming_it(tmp_path):
    with pytest.raises(DraftError, match="sweep.toml: unknown section.*pipe"):
        SweepDraft.from_toml("[pipe]\nlength = 1\n", source=tmp_path / "sweep.toml")
    with pytest.raises(DraftError, match="not valid TOML"):
        SweepDraft.from_toml("[fixed\n")


def test_the_file_written_is_the_file_read_and_the_loaders_sweep():
    d = draft("""\
        [fixed]
        material.name = "304"
        pipe.length = 0.4
        [variable]
        "state.temperature" = { linspace = [0.3, 0.6, 4] }
        "fluid.density" = [850.0, 1000.0]
        [run]
        jobs = 2
        """)
    again = SweepDraft.from_toml(d.to_toml())
    assert (again.fixed, again.variables, again.run) == (d.fixed, d.variables, d.run)
    sweep = loads_sweep(d.to_toml())
    assert sweep == d.to_sweep()
    dims = sweep.dimensions()
    assert [x.name for x in dims] == ["state.temperature", "fluid.density"]  # file order
    # linspace on the numbers as written: tenths, not binary near-misses
    assert dims[0].values["state.temperature"] == [0.3, 0.4, 0.5, 0.6]
    assert sweep.size == d.point_count() == 8


def test_counts_of_a_zip_group_and_the_problems_of_a_bad_one():
    d = draft("""\
        [variable]
        "state.temperature" = [283.15, 293.15, 303.15]
        "state.pressure" = [1e5, 2e5, 3e5]
        "fluid.density" = { arange = [900, 1000, 25] }
        [zip]
        tp = ["state.temperature", "state.pressure"]
        """)
    assert d.mode("state.pressure") == "list" and d.mode("fluid.density") == "arange"
    assert d.mode("pipe.length") == "fixed" and d.count("pipe.length") == 1
    assert d.dimension_counts() == [("tp", 3), ("fluid.density", 4)]  # 900, 925, 950, 975
    assert d.point_count() == 12
    assert d.problems() == []

    d.set_variable("state.pressure", [1e5, 2e5])
    assert d.point_count() is None
    assert ("zip.tp", "zip group 'tp': its variables have different counts") in d.problems()


def test_fixing_a_zipped_parameter_dissolves_a_group_of_two():
    d = draft("""\
        [variable]
        "state.temperature" = [283.15, 293.15]
        "state.pressure" = [1e5, 2e5]
        [zip]
        tp = ["state.temperature", "state.pressure"]
        """)
    d.set_fixed("state.pressure", 3e5)
    assert d.zips == {} and d.fixed == {"state.pressure": 3e5}
    assert d.dimension_counts() == [("state.temperature", 2)]
    d.set_fixed("state.pressure", None)  # back to the default
    assert d.resolved()["state.pressure"] == 100_000.0 and "state.pressure" not in d.fixed


def test_switching_modes_keeps_the_value():
    d = SweepDraft()
    d.set_fixed("pipe.length", 0.5)
    d.set_mode("pipe.length", "list")
    assert d.variables["pipe.length"] == [0.5]
    d.set_mode("pipe.length", "linspace")
    assert d.variables["pipe.length"] == {"linspace": [0.5, 1.0, 5]}
    assert generate(d.variables["pipe.length"]) == [0.5, 0.625, 0.75, 0.875, 1.0]
    d.set_mode("pipe.length", "fixed")
    assert d.fixed == {"pipe.length": 0.5} and d.variables == {}
    d.set_fixed("state.pressure", 1000.0)
    d.set_mode("state.pressure", "logspace")  # exponents: 10^3 .. 10^4
    assert generate(d.variables["state.pressure"]) == pytest.approx(
        [1e3, 10 ** 3.25, 10 ** 3.5, 10 ** 3.75, 1e4])


def test_a_material_preset_gives_its_values_to_the_fields_the_file_leaves_out():
    d = SweepDraft()
    d.set_fixed("material.density", 1234.0)
    d.apply_material_preset("Titanium grade 2")
    values = d.resolved()
    preset = material_presets()["Titanium grade 2"]
    assert values["material.name"] == "Titanium grade 2"
    assert values["material.density"] == preset["density"] != 1234.0  # the preset replaces it
    assert values["material.youngs_modulus"] == preset["youngs_modulus"]


def test_problems_name_the_field_and_its_whole_range_in_plain_words():
    d = SweepDraft()
    d.set_fixed("analysis.excitation_position", 1.5)
    assert d.problems() == [("analysis.excitation_position", "must be between 0 and 1 (got 1.5)")]

    d = SweepDraft()
    d.set_variable("pipe.length", [0.5, -1.0])  # the second value breaks "more than 0"
    assert d.problems() == [("pipe.length", "must be more than 0 and at most 100 (got -1)")]

    d = SweepDraft(fixed={"pipe.lenght": 0.5})
    (path, message), = d.problems()
    assert path == "pipe.lenght" and "did you mean pipe.length?" in message


def test_a_generator_that_gives_nothing_is_a_problem_of_its_field():
    d = SweepDraft()
    d.set_variable("pipe.length", {"arange": [1.0, 0.5, 0.1]})
    assert d.count("pipe.length") is None and d.point_count() is None
    assert [p for p, _ in d.problems()] == ["pipe.length"]


def test_generated_values_are_fresh_lists():
    spec = {"linspace": [0.0, 1.0, 3]}
    first = generate(spec)
    first.append(99.0)  # remembered values must not be the caller's list
    assert generate(spec) == [0.0, 0.5, 1.0]


@pytest.mark.parametrize("value, text", [
    (100000.0, "100000"), (283.15, "283.15"), (1e-6, "1e-6"), (2.5e7, "2.5e7"),
    (1e20, "1e20"), (12, "12"), (None, ""), ("water", "water"), (0.0, "0"),
])
def test_numbers_are_written_as_a_person_would_type_them(value, text):
    assert format_number(value) == text
    assert format_list([value, value]) == f"{text}, {text}"


def test_ranges_in_words():
    assert bounds_phrase(ge=0, le=1) == "between 0 and 1"
    assert bounds_phrase(gt=0, le=100) == "more than 0 and at most 100"
    assert bounds_phrase(ge=1) == "at least 1"
    assert bounds_phrase(lt=1e9) == "less than 1e9"
    assert bounds_phrase() == ""
