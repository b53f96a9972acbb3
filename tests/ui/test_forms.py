"""Parameter forms: what a user types gives the sweep the same TOML file gives, and back.

References are hand-written sweep files and ``resources/materials.toml`` read directly,
never the forms' own output.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from sweepgui.resources import resources_dir
from sweepgui.sweep import SweepDraft, load_sweep, loads_sweep
from sweepgui.ui.forms.parameters import ParameterForms
from sweepgui.ui.forms.sweep_model import SweepModel

EXAMPLE = """\
[fixed]
pipe.length = 0.4
pipe.boundary = "pinned-pinned"
material.name = "316L"
fluid.name = "Nitrogen"

[variable]
"fluid.density" = [990.0, 1000.0, 1010.0]
"state.temperature" = { linspace = [283.15, 353.15, 4] }
"state.pressure" = { logspace = [5, 6, 3] }
"analysis.elements" = { arange = [20, 50, 10] }

[run]
jobs = 2
"""


@pytest.fixture
def forms(qtbot):
    def make(text: str = "", source: Path | None = None) -> ParameterForms:
        model = SweepModel(SweepDraft.from_toml(text, source=source))
        widget = ParameterForms(model)
        qtbot.addWidget(widget)
        widget.validate_now()
        return widget
    return make


def type_into(qtbot, edit, text: str) -> None:
    edit.selectAll()
    qtbot.keyClicks(edit, text)


def set_mode(editor, mode: str) -> None:
    editor.mode.setCurrentIndex(editor.mode.findData(mode))


def test_typing_in_the_forms_gives_the_sweep_of_the_equivalent_file(forms, qtbot, tmp_path):
    f = forms()
    ed = f.editors
    type_into(qtbot, ed["pipe.length"].value, "0.4")
    ed["pipe.boundary"].value.setCurrentText("pinned-pinned")
    ed["material.name"].value.setCurrentIndex(ed["material.name"].value.findText("316L"))
    ed["material.name"].value.activated.emit(ed["material.name"].value.currentIndex())
    type_into(qtbot, ed["fluid.name"].value.lineEdit(), "Nitrogen")
    f.density_given.setChecked(True)
    set_mode(ed["fluid.density"], "list")
    type_into(qtbot, ed["fluid.density"].list_edit, "990, 1000, 1010")
    set_mode(ed["state.temperature"], "linspace")
    for edit, text in zip(ed["state.temperature"].gen_edits, ("283.15", "353.15", "4")):
        type_into(qtbot, edit, text)
    set_mode(ed["state.pressure"], "logspace")
    for edit, text in zip(ed["state.pressure"].gen_edits, ("5", "6", "3")):
        type_into(qtbot, edit, text)
    set_mode(ed["analysis.elements"], "arange")
    for edit, text in zip(ed["analysis.elements"].gen_edits, ("20", "50", "10")):
        type_into(qtbot, edit, text)
    f._model.draft.run["jobs"] = 2  # [run] is not part of the parameter forms
    f.validate_now()

    expected = loads_sweep(EXAMPLE)
    assert f.reason == ""
    assert f.sweep == expected
    assert f.sweep.shape == (3, 4, 3, 3)
    assert "108 points" in f.points_label.text()
    assert ed["state.temperature"].count.text() == "4 values"
    # and what Save writes reads back as the same sweep
    saved = f._model.save(tmp_path / "typed.toml")
    assert load_sweep(saved) == expected


def test_a_sweep_file_shows_in_the_forms_and_comes_back_equal(forms, tmp_path):
    path = tmp_path / "example.toml"
    path.write_text(EXAMPLE, encoding="utf-8")
    f = forms()
    f._model.load(path)
    f.validate_now()
    ed = f.editors
    assert ed["pipe.length"].value.text() == "0.4"
    assert ed["pipe.boundary"].value.currentText() == "pinned-pinned"
    assert ed["fluid.name"].value.currentText() == "Nitrogen"
    assert ed["fluid.density"].mode.currentData() == "list"
    assert ed["fluid.density"].list_edit.text() == "990, 1000, 1010"
    assert ed["state.temperature"].mode.currentData() == "linspace"
    assert [e.text() for e in ed["state.temperature"].gen_edits] == ["283.15", "353.15", "4"]
    assert ed["state.pressure"].count.text() == "3 values"
    assert f.density_given.isChecked()
    # a value the file does not set shows its default
    assert ed["analysis.modes"].value.text() == "6"
    assert f.sweep == load_sweep(path)
    # untouched, Save writes a file that loads as the same sweep
    again = f._model.save(tmp_path / "again.toml")
    assert load_sweep(again) == load_sweep(path)
    assert not f._model.is_dirty()


@pytest.mark.parametrize("name", ["quickstart.toml", "density.toml", "pressure-temperature.toml"])
def test_shipped_examples_round_trip_through_the_forms(forms, tmp_path, name):
    path = resources_dir() / "examples" / name
    if not path.exists():
        pytest.skip(f"{name} is not shipped yet")
    f = forms()
    f._model.load(path)
    f.validate_now()
    assert f.reason == ""
    assert f.sweep == load_sweep(path)
    assert load_sweep(f._model.save(tmp_path / name)) == load_sweep(path)


def test_invalid_input_is_marked_at_the_field_and_explains_why_run_is_off(forms, qtbot):
    f = forms()
    assert f.sweep is not None and f.reason == ""
    editor = f.editors["pipe.length"]
    type_into(qtbot, editor.value, "-1")
    f.validate_now()
    assert f.sweep is None
    assert "Length (m)" in f.reason  # the form's label and unit (issue 12), not pipe.length
    assert f.reason_label.isVisibleTo(f) and "Cannot run" in f.reason_label.text()
    assert editor.value.property("invalid") is True
    assert editor.error.isVisibleTo(f) and "more than 0" in editor.error.text()

    type_into(qtbot, editor.value, "abc")
    f.validate_now()
    assert "not a number" in editor.error.text() and f.sweep is None

    type_into(qtbot, editor.value, "0.5")
    f.validate_now()
    assert f.sweep is not None and f.reason == ""
    assert editor.value.property("invalid") is False and not editor.error.isVisibleTo(f)

    # a cross-field rule lands on the field it names
    type_into(qtbot, f.editors["pipe.wall_thickness"].value, "0.006")
    f.validate_now()
    assert "outer radius" in f.editors["pipe.wall_thickness"].error.text()
    assert f.sweep is None


def test_run_action_follows_validity(qtbot):
    from PySide6.QtGui import QAction

    model = SweepModel()
    f = ParameterForms(model)
    qtbot.addWidget(f)
    action = QAction("Run", f)
    f.set_run_action(action)
    f.validityChanged.connect(lambda ok, why: (action.setEnabled(ok), action.setToolTip(why)))
    f.validate_now()
    assert action.isEnabled()
    type_into(qtbot, f.editors["analysis.f_max"].value, "0")
    f.validate_now()
    assert not action.isEnabled() and "Highest frequency" in action.toolTip()
    assert not f.run_button.isEnabled()


def test_material_preset_fills_the_material_fields(forms):
    with open(resources_dir() / "materials.toml", "rb") as fh:
        reference = tomllib.load(fh)["Titanium grade 2"]
    f = forms()
    combo = f.editors["material.name"].value
    combo.setCurrentIndex(combo.findText("Titanium grade 2"))
    combo.activated.emit(combo.currentIndex())
    f.validate_now()
    assert float(f.editors["material.youngs_modulus"].value.text()) == reference["youngs_modulus"]
    assert float(f.editors["material.density"].value.text()) == reference["density"]
    point = f.sweep.points()[0]
    assert point.material.poisson_ratio == reference["poisson_ratio"]
    assert point.material.density == reference["density"]


def test_density_given_switches_between_eos_and_a_number(forms, qtbot):
    f = forms()
    assert not f.density_given.isChecked()
    assert not f.editors["fluid.density"].isEnabled()
    assert f.sweep.points()[0].fluid.density is None
    f.density_given.setChecked(True)
    type_into(qtbot, f.editors["fluid.density"].value, "850")
    f.validate_now()
    assert f.sweep.points()[0].fluid.density == 850.0
    f.density_given.setChecked(False)
    f.validate_now()
    assert f.sweep.points()[0].fluid.density is None


def test_a_file_asking_for_the_equation_of_state_leaves_density_given_off(forms):
    f = forms('[fixed]\nfluid.name = "CO2"\nfluid.density = "eos"\n')
    assert not f.density_given.isChecked()
    assert not f.editors["fluid.density"].isEnabled()
    assert f.sweep.points()[0].fluid.density is None


def test_every_field_shows_unit_description_and_bounds(forms):
    f = forms()
    length = f.editors["pipe.length"]
    assert length.unit.text() == "m"
    tip = length.value.toolTip()
    assert "Free span between the supports" in tip and "more than 0 and at most 100" in tip
    assert f.editors["analysis.theory"].value.count() == 2  # a combo box of the choices
    assert f.editors["pipe.boundary"].mode.count() == 2  # choices: fixed or a list


def test_labels_read_as_words_not_field_names(forms):
    f = forms()
    labels = {lab.buddy().objectName(): lab.text() for lab in f._labels if lab.buddy() is not None}
    assert labels["value:material.youngs_modulus"] == "Young's modulus"
    assert labels["value:analysis.f_max"] == "Highest frequency"
    assert labels["value:pipe.outer_diameter"] == "Outer diameter"  # from the name when no label


def test_switching_to_a_range_never_widens_the_forms(forms, qtbot):
    # the generator row (from/to/count) used to need more room than a value: the forms then
    # grew past their dock and the mode boxes and counts were cut off at the right
    from PySide6.QtWidgets import QScrollArea

    f = forms()
    f.show()
    qtbot.wait(10)
    body = f.findChild(QScrollArea).widget()
    before = body.minimumSizeHint().width()
    for path, mode in (("pipe.length", "linspace"), ("state.pressure", "logspace"),
                       ("analysis.f_max", "arange")):
        set_mode(f.editors[path], mode)
        qtbot.wait(10)  # the layouts take the new labels into account
        assert body.minimumSizeHint().width() <= before, mode


def test_fluid_picker_offers_every_coolprop_fluid(forms):
    CoolProp = pytest.importorskip("CoolProp.CoolProp")
    f = forms()
    combo = f.editors["fluid.name"].value
    offered = {combo.itemText(i) for i in range(combo.count())}
    assert offered == set(CoolProp.FluidsList())


def test_large_sweeps_are_checked_off_the_gui_thread(forms, qtbot):
    f = forms()
    f._model.set_variable("fluid.density", {"linspace": [900.0, 1100.0, 60]})
    f._model.set_variable("state.temperature", {"linspace": [283.15, 353.15, 60]})
    with qtbot.waitSignal(f.validityChanged, timeout=10000) as blocker:
        pass
    assert blocker.args[0] is True
    assert f.sweep is not None and f.sweep.shape == (60, 60)
    assert "3,600 points" in f.points_label.text()


def test_mode_switch_keeps_the_value_and_counts(forms):
    f = forms()
    ed = f.editors["state.pressure"]
    set_mode(ed, "list")
    assert ed.list_edit.text() == "100000" and ed.count.text() == "1 value"
    set_mode(ed, "fixed")
    assert ed.value.text() == "100000"
    assert f._model.draft.variables == {}


def test_zipping_two_swept_parameters_gives_the_zip_of_the_file(forms):
    text = """\
[variable]
"state.pressure" = [100000.0, 200000.0, 300000.0]
"fluid.density" = [990.0, 1000.0]
"state.temperature" = [293.15, 313.15, 333.15]
"""
    f = forms(text)
    box = f.dimensions
    assert box.isVisibleTo(f) and box.list.count() == 3
    assert "9 points" not in f.points_label.text() and "18 points" in f.points_label.text()
    for row in (0, 2):
        box.list.item(row).setSelected(True)
    box.zip_selected()
    f.validate_now()
    expected = loads_sweep(text + '\n[zip]\npt = ["state.pressure", "state.temperature"]\n')
    assert f.sweep == loads_sweep(f._model.draft.to_toml())
    assert f.sweep.shape == expected.shape == (3, 2)
    assert [d.paths for d in f.sweep.dimensions()] == [d.paths for d in expected.dimensions()]
    assert [p.model_dump() for p in f.sweep.points()] == [p.model_dump() for p in expected.points()]
    assert "6 points" in f.points_label.text()
    # unzip again
    box.list.item(0).setSelected(True)
    box.unzip_selected()
    f.validate_now()
    assert f.sweep.shape == (3, 2, 3) and f._model.draft.zips == {}


def test_zip_of_unequal_counts_is_explained(forms):
    f = forms("""\
[variable]
"state.pressure" = [100000.0, 200000.0, 300000.0]
"state.temperature" = [293.15, 313.15]

[zip]
pt = ["state.pressure", "state.temperature"]
""")
    assert f.sweep is None
    assert "different counts" in f.reason


def test_save_as_elsewhere_keeps_relative_paths_pointing_at_the_same_files(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "machines").write_text("ssh://build1\n")
    original = tmp_path / "a" / "s.toml"
    original.write_text('[run]\nmachines = "machines"\n')
    model = SweepModel()
    model.load(original)
    saved = model.save(tmp_path / "b" / "s.toml")
    assert load_sweep(saved).machines_path().resolve() == (tmp_path / "a" / "machines").resolve()


def test_unknown_parameter_in_a_file_is_named_with_a_suggestion(forms):
    f = forms('[fixed]\npipe.lenght = 0.4\n')
    assert f.sweep is None
    assert "pipe.lenght" in f.reason and "pipe.length" in f.reason


def test_run_settings_are_part_of_the_same_sweep(forms, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[run]\njobs = 3\nmachines = "machines"\n')
    f = forms()
    f._model.load(path)
    f.validate_now()
    box = f.run_settings
    assert box.jobs.value() == 3 and box.machines.text() == "machines"
    box.jobs.setValue(1)
    box.machines.setText("")
    box.machines.editingFinished.emit()
    f.validate_now()
    assert f.sweep == loads_sweep("[run]\njobs = 1\n")
    box.jobs.setValue(-1)  # "default": the key leaves the file
    f.validate_now()
    assert f.sweep == loads_sweep("")


def test_every_field_kind_has_its_editor_from_one_table(forms, monkeypatch, qtbot):
    from sweepgui.params import field_info, iter_fields
    from sweepgui.ui.forms.binder import FIELD_EDITORS, FieldEditor, NumberBox, parse_scalar

    f = forms()
    for info in iter_fields():
        assert type(f.editors[info.path].value) is FIELD_EDITORS[info.kind], info.path
    # what each kind reads from typed text
    assert parse_scalar(" 1e3 ", field_info("analysis.modes")) == 1000
    assert parse_scalar("", field_info("fluid.density")) is None
    assert parse_scalar("0.25", field_info("pipe.length")) == 0.25
    with pytest.raises(ValueError, match="choose one of"):
        parse_scalar("glued", field_info("pipe.boundary"))

    class Millimetres(NumberBox):  # another editor for a kind: one entry, nothing else
        @staticmethod
        def parse(text, info):
            return NumberBox.parse(text, info) / 1000

    monkeypatch.setitem(FIELD_EDITORS, "float", Millimetres)
    model = SweepModel()
    editor = FieldEditor(field_info("pipe.length"), model)
    qtbot.addWidget(editor)
    assert isinstance(editor.value, Millimetres)
    editor.value.setText("450")
    editor.value.textEdited.emit("450")
    assert model.draft.fixed["pipe.length"] == pytest.approx(0.45)
