"""The desktop app as engineers use it (issue 12): what they saw go wrong, checked with real
widgets (offscreen), real wheel events and, where a run is involved, real Nix builds.

References are the user's view: what a widget shows (its text against its own width), which
question is asked, what the model computes for a point (``sweepgui.model.run_point``), never
the code's own bookkeeping alone.
"""

from __future__ import annotations

import base64
import shutil
import struct
import textwrap
import threading
import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QPalette, QTextDocument, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QStyle,
    QStyleOptionComboBox,
    QStyleOptionFrame,
)

from sweepgui.params import field_info, iter_fields
from sweepgui.resources import resources_dir
from sweepgui.sweep import SweepDraft, load_sweep, loads_sweep
from sweepgui.ui.app import create_window, parse_args
from sweepgui.ui.forms.parameters import ParameterForms
from sweepgui.ui.forms.sweep_model import SweepModel

QUICKSTART = resources_dir() / "examples" / "quickstart.toml"

# A model that is slow (60 s) above 2000 kg/m3, fails at 1010 kg/m3 and is fast otherwise.
SLOW_MODEL = textwrap.dedent('''\
    import json, sys, time
    params = json.load(open(sys.argv[1], encoding="utf-8"))
    rho = params["fluid"]["density"]
    print("computing", rho, flush=True)
    if rho == 1010.0:
        print("density 1010 is out of this model's range", file=sys.stderr, flush=True)
        sys.exit(3)
    if rho > 2000.0:
        time.sleep(60)
    json.dump({"density": rho, "marker": MARKER}, open(sys.argv[2], "w"))
    ''')


def slow_sweep_file(tmp_path: Path, densities: str, jobs: int = 2) -> Path:
    name = f"slow{uuid.uuid4().hex[:10]}.py"
    (tmp_path / name).write_text(SLOW_MODEL.replace("MARKER", repr(uuid.uuid4().hex)),
                                 encoding="utf-8")
    path = tmp_path / "slow.toml"
    path.write_text(textwrap.dedent(f"""\
        [variable]
        "fluid.density" = {densities}
        [run]
        jobs = {jobs}
        [model]
        executable = "{name}"
        """), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _no_modal_dialogs(monkeypatch):
    """No question may block a test (also when a failed test's window is closed): Discard,
    unless a test answers otherwise."""
    monkeypatch.setattr(QMessageBox, "question",
                        staticmethod(lambda *a, **k: QMessageBox.StandardButton.Discard))
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: None))


@pytest.fixture
def window(qtbot):
    made = []

    def make(argv=()):
        w = create_window(parse_args([str(a) for a in argv]))
        qtbot.addWidget(w)
        made.append(w)
        return w

    yield make
    for w in made:
        if w.run_panel is not None:
            qtbot.waitUntil(lambda w=w: not w.run_panel.controller.is_planning(), timeout=30_000)
        if w.is_running():
            w.cancel()
            qtbot.waitUntil(lambda w=w: not w.is_running(), timeout=30_000)
        w._may_discard = lambda: True
        w._may_discard_machines = lambda: True
        w.close()


@pytest.fixture
def forms(qtbot):
    def make(text: str = "") -> ParameterForms:
        widget = ParameterForms(SweepModel(SweepDraft.from_toml(text)))
        qtbot.addWidget(widget)
        widget.validate_now()
        return widget
    return make


# -- 2. closing during a run ------------------------------------------------------------------

@pytest.mark.nix
@pytest.mark.skipif(shutil.which("nix-build") is None, reason="Nix is not installed")
def test_closing_while_the_run_ends_under_the_question_never_gets_stuck(window, qtbot, tmp_path,
                                                                        monkeypatch):
    w = window([slow_sweep_file(tmp_path, "[3000.0, 3001.0]")])
    w.show()
    qtbot.waitExposed(w)
    w.model.set_fixed("pipe.length", 0.45)  # unsaved changes: closing asks about them too
    w.forms.validate_now()
    asked: list[str] = []
    replies = {"running": QMessageBox.StandardButton.Yes,
               "unsaved": QMessageBox.StandardButton.Cancel}
    end_run_while_asking = {"on": True}

    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        if "running" in text:
            if end_run_while_asking["on"]:  # the run ends while the question is open
                w.run_panel.cancel()
                qtbot.waitUntil(lambda: not w.is_running(), timeout=30_000)
            return replies["running"]
        return replies["unsaved"]

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))

    def start_run():
        assert w.run()
        qtbot.waitUntil(lambda: any(r.status == "running" for r in w.run_panel.rows.rows),
                        timeout=60_000)

    # Yes after the run ended: the window goes on closing (here: asks about the unsaved
    # changes, and the user keeps the window) instead of waiting forever for a run end
    start_run()
    w.close()
    assert [("running" in a, "unsaved" in a) for a in asked] == [(True, False), (False, True)]
    assert w.isVisible() and not w.is_running()
    assert "Cancelling" not in w.statusBar().currentMessage()

    # the close-when-stopped state was reset: Quit during the next run asks again, No keeps
    # the run going, and its end asks nothing
    asked.clear()
    end_run_while_asking["on"] = False
    replies["running"] = QMessageBox.StandardButton.No
    start_run()
    w.quit_action.trigger()
    assert len(asked) == 1 and "running" in asked[0]
    assert w.is_running() and w.isVisible()
    w.cancel()
    qtbot.waitUntil(lambda: not w.is_running(), timeout=30_000)
    # the run's end is handled; what follows it (a fresh plan) is done too
    qtbot.waitUntil(lambda: not w.run_panel.controller.is_planning(), timeout=30_000)
    assert len(asked) == 1 and w.isVisible()

    # and Yes during a run still cancels it and closes the window once the run is over
    asked.clear()
    replies["running"] = QMessageBox.StandardButton.Yes
    replies["unsaved"] = QMessageBox.StandardButton.Discard
    start_run()
    w.close()
    qtbot.waitUntil(lambda: not w.is_running(), timeout=30_000)
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=10_000)
    assert any("running" in a for a in asked)


# -- 3. the mouse wheel -------------------------------------------------------------------------

def wheel(widget, steps: int = -1) -> bool:
    """Send a real wheel event (``steps`` notches, negative = towards the user) to the middle
    of ``widget``; returns whether the widget took it."""
    pos = QPointF(widget.rect().center())
    event = QWheelEvent(pos, QPointF(widget.mapToGlobal(pos.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def state_of(widget):
    if isinstance(widget, QComboBox):
        return widget.currentIndex(), widget.currentText()
    return widget.text()


def test_the_wheel_over_the_forms_scrolls_and_never_edits_a_parameter(window, qtbot):
    w = window([QUICKSTART])
    w.show()
    qtbot.waitExposed(w)
    fluid = w.forms.editors["fluid.name"].value
    before = w.model.draft.to_toml()
    assert fluid.currentText() == "Water"
    for _ in range(3):
        assert not wheel(fluid), "the fluid box took the wheel"  # left to the scroll area
    assert fluid.currentText() == "Water" and w.model.draft.to_toml() == before

    # every combo and spin box of the forms, fixed or swept, and of the run settings
    boxes = [b for b in w.forms.findChildren(QComboBox) + w.forms.findChildren(QAbstractSpinBox)
             if b.isEnabled()]
    assert len(boxes) > 30
    for box in boxes:
        was = state_of(box)
        for steps in (-1, 1):
            assert not wheel(box, steps), box.objectName() or type(box).__name__
        assert state_of(box) == was, box.objectName()
    assert w.model.draft.to_toml() == before

    # a box the user clicked into (focused) takes the wheel as usual
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    boundary = w.forms.editors["pipe.boundary"].value
    boundary.setFocus()
    qtbot.waitUntil(boundary.hasFocus)
    assert wheel(boundary)
    assert boundary.currentText() != "clamped-clamped"
    assert w.model.draft.fixed["pipe.boundary"] == boundary.currentText()


def test_the_wheel_over_the_machines_editors_cell_editors_changes_nothing(qtbot, tmp_path):
    from sweepgui.ui.machines.editor import QtMachineEditor
    from sweepgui.ui.machines.table import KEYS

    path = tmp_path / "machines"
    path.write_text("ssh-ng://builder x86_64-linux - 4 2\n", encoding="utf-8")
    editor = QtMachineEditor(path)
    qtbot.addWidget(editor)
    editor.show()
    for key, widget_type in (("protocol", QComboBox), ("port", QAbstractSpinBox),
                             ("max_jobs", QAbstractSpinBox), ("speed_factor", QAbstractSpinBox)):
        index = editor.model.index(0, KEYS.index(key))
        editor.table.setCurrentIndex(index)
        editor.table.edit(index)
        qtbot.waitUntil(lambda t=widget_type: editor.table.viewport().findChild(t) is not None)
        box = editor.table.viewport().findChild(widget_type)
        box.clearFocus()
        was = state_of(box) if isinstance(box, QComboBox) else box.value()
        assert not wheel(box), key
        assert (state_of(box) if isinstance(box, QComboBox) else box.value()) == was, key
        editor.table.closeEditor(box, QAbstractItemDelegate.EndEditHint.NoHint)
    assert editor.model.machine(0).max_jobs == 4
    editor.shutdown(wait=True)


# -- 4. cut-off text ------------------------------------------------------------------------------

def line_edit_room(edit: QLineEdit) -> int:
    """Pixels a QLineEdit has for its text (Qt's own contents rect, less its text margins)."""
    opt = QStyleOptionFrame()
    edit.initStyleOption(opt)
    rect = edit.style().subElementRect(QStyle.SubElement.SE_LineEditContents, opt, edit)
    margins = edit.textMargins()
    return rect.width() - margins.left() - margins.right() - 4  # QLineEdit's 2 px each side


def combo_room(combo: QComboBox) -> int:
    opt = QStyleOptionComboBox()
    combo.initStyleOption(opt)
    return combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, opt,
                                        QStyle.SubControl.SC_ComboBoxEditField, combo).width()


def fits(widget, text: str) -> bool:
    room = line_edit_room(widget) if isinstance(widget, QLineEdit) else combo_room(widget)
    return widget.fontMetrics().horizontalAdvance(text) <= room


def first_start(w, width: int, height: int) -> None:
    """The size and dock width a first start on a ``width`` x ``height`` screen gives (the
    offscreen screen of the tests is smaller)."""
    if hasattr(w, "first_start_layout"):
        w.first_start_layout(width, height)
    else:  # the rule of MainWindow._restore_state before it had a name
        w.resize(min(1500, int(width * 0.92)), min(940, int(height * 0.9)))
        w.resizeDocks([w.parameters_dock], [max(w.forms.minimumSizeHint().width(),
                                                int(w.width() * 0.4))], Qt.Orientation.Horizontal)


LONG_VALUES = """\
[fixed]
material.youngs_modulus = 1.93e11
pipe.wall_thickness = 0.0015

[variable]
"state.pressure" = { linspace = [100000.0, 1000000.0, 5] }
"state.temperature" = { linspace = [283.15, 353.15, 8] }
"pipe.length" = { arange = [0.35, 0.3575, 0.0015] }
"fluid.density" = { logspace = [2.75, 3.125, 2] }
"""


def test_nothing_is_cut_off_at_1600_by_1000(window, qtbot, tmp_path):
    path = tmp_path / "long.toml"
    path.write_text(LONG_VALUES, encoding="utf-8")
    w = window([path])
    first_start(w, 1600, 1000)
    w.show()
    qtbot.waitExposed(w)
    qtbot.wait(50)
    cut = []
    for p, editor in w.forms.editors.items():
        edits = [editor.value] if editor.stack.currentIndex() == 0 else \
            [editor.list_edit] if editor.stack.currentIndex() == 1 else editor.gen_edits
        for edit in edits:
            text = edit.currentText() if isinstance(edit, QComboBox) else edit.text()
            if edit.isVisible() and text and not fits(edit, text):
                cut.append(f"{p}: {text!r}")
        unit = editor.unit
        if unit.isVisible() and unit.text() and \
                unit.fontMetrics().horizontalAdvance(unit.text()) > unit.contentsRect().width():
            cut.append(f"{p} unit: {unit.text()!r}")
    assert not cut, cut
    assert w.forms.editors["state.pressure"].gen_edits[0].text() == "100000"
    assert w.forms.editors["state.temperature"].gen_edits[0].text() == "283.15"

    # every choice box shows its longest item in full
    short = []
    for combo in w.forms.findChildren(QComboBox):
        if combo.isVisible() and not combo.isEditable() and combo.count():
            longest = max((combo.itemText(i) for i in range(combo.count())),
                          key=combo.fontMetrics().horizontalAdvance)
            if not fits(combo, longest):
                short.append(f"{combo.objectName()}: {longest!r}")
    assert not short, short

    # from / to / count read as labels, not as disabled text
    normal = w.forms.palette().color(QPalette.ColorGroup.Active, QPalette.ColorRole.WindowText)
    for lab in w.forms.editors["state.pressure"].gen_labels:
        assert lab.palette().color(QPalette.ColorGroup.Active, lab.foregroundRole()) == normal, \
            lab.text()

    # the machines editor: an added builder's host and user are shown in full
    from sweepgui.nix.machines import Machine
    from sweepgui.ui.machines.table import KEYS

    w.tabs.setCurrentIndex(1)
    ed = w.machines_editor
    row = ed.model.insert_machine(Machine(host="builder.example.org", protocol="ssh-ng"))
    assert ed.model.setData(ed.model.index(row, KEYS.index("host")), "10.20.30.40")
    assert ed.model.setData(ed.model.index(row, KEYS.index("user")), "builder")
    qtbot.wait(20)
    for key in ("host", "user", "protocol"):
        col = KEYS.index(key)
        assert ed.table.columnWidth(col) >= ed.table.sizeHintForColumn(col), key
    ed.model.remove_rows([row])


# -- 7. messages ---------------------------------------------------------------------------------

def plain(html_text: str) -> str:
    doc = QTextDocument()
    doc.setHtml(html_text)
    return doc.toPlainText()


def test_messages_name_the_forms_label_and_say_the_rule_in_words(forms):
    f = forms()
    f._model.set_fixed("analysis.excitation_position", 1.5)
    f.validate_now()
    drive = f.editors["analysis.excitation_position"]
    assert drive.error.text() == "must be between 0 and 1 (got 1.5)"
    assert f.reason.startswith("Cannot run: Drive position")
    for internal in ("analysis.excitation_position", "excitation_position", "Input should"):
        assert internal not in f.reason and internal not in drive.error.text()
    assert "between 0 and 1" in f.reason

    f._model.set_fixed("analysis.excitation_position", 0.5)
    f._model.set_fixed("pipe.length", -3.0)
    f.validate_now()
    length = f.editors["pipe.length"]
    assert length.error.text() == "must be more than 0 and at most 100 (got -3)"
    assert f.reason.startswith("Cannot run: Length (m): must be more than 0")


def test_tooltips_show_both_bounds_and_positions_their_unit(forms):
    f = forms()
    import re

    tip = plain(f.editors["analysis.excitation_position"].value.toolTip())
    assert "between 0 and 1" in tip, tip
    for info in iter_fields():  # every field with two bounds shows both in its tooltip
        lower = info.ge if info.ge is not None else info.gt
        upper = info.le if info.le is not None else info.lt
        if lower is None or upper is None:
            continue
        text = plain(f.editors[info.path].value.toolTip())
        numbers = {float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text)}
        assert float(lower) in numbers and float(upper) in numbers, (info.path, text)
    for path in ("analysis.excitation_position", "analysis.response_position"):
        assert f.editors[path].unit.text() == "fraction of length"
        assert f.editors[path].unit.isVisible() or not f.isVisible()


# -- 8. the machines editor --------------------------------------------------------------------

def ed25519_blob(seed: int = 7) -> str:
    kind = b"ssh-ed25519"
    body = struct.pack(">I", len(kind)) + kind + struct.pack(">I", 32) + bytes(range(seed, seed + 32))
    return base64.b64encode(body).decode()


def test_a_pasted_host_key_line_is_taken_and_refusals_are_shown_at_the_cell(qtbot, tmp_path):
    from sweepgui.ui.machines.editor import QtMachineEditor
    from sweepgui.ui.machines.table import KEYS

    path = tmp_path / "machines"
    path.write_text("ssh-ng://builder x86_64-linux - 4 2\n", encoding="utf-8")
    editor = QtMachineEditor(path)
    qtbot.addWidget(editor)
    editor.show()
    index = editor.model.index(0, KEYS.index("host_key"))
    blob = ed25519_blob()
    # as ssh-keyscan prints it, as known_hosts holds it, and the key line alone
    for pasted in (f"ssh-ed25519 {blob}", f"builder ssh-ed25519 {blob}",
                   f"builder,10.0.0.2 ssh-ed25519 {blob} root@builder"):
        assert editor.model.setData(index, pasted), pasted
        stored = editor.model.machine(0).host_key
        assert base64.b64decode(stored).decode().split() == ["ssh-ed25519", blob]
    # a refusal is shown where the user looks: at the cell, not only in the status bar
    assert not editor.model.setData(index, "ssh-ed25519 not-base64!")
    shown = [lab for lab in editor.findChildren(QLabel)
             if lab.isVisible() and "Host key" in lab.text() and "row 1" in lab.text().lower()]
    assert shown, "the refusal is not shown in the editor"
    assert editor.table.currentIndex() == index
    editor.shutdown(wait=True)


def test_saving_keeps_the_use_for_runs_choice(qtbot, tmp_path):
    from sweepgui.ui.machines.editor import QtMachineEditor

    path = tmp_path / "machines"
    editor = QtMachineEditor(path)
    qtbot.addWidget(editor)
    editor.show()
    assert not editor.use_for_runs.isChecked()
    editor.add_machine()
    assert editor.save()
    assert not editor.use_for_runs.isChecked() and editor.machines_for_runs() is None
    # and says so, where the save button is
    assert any(lab.isVisible() and "not used for runs" in lab.text()
               for lab in editor.findChildren(QLabel))
    editor.shutdown(wait=True)


def test_a_machine_that_failed_its_test_is_flagged_before_a_run_uses_it(window, qtbot, tmp_path,
                                                                        monkeypatch):
    sweep = tmp_path / "s.toml"
    sweep.write_text('[variable]\n"fluid.density" = [900.0, 1000.0]\n', encoding="utf-8")
    w = window([sweep])
    from sweepgui.nix.machines import Machine

    ed = w.machines_editor
    ed.model.insert_machine(Machine(host="builder.example.org", protocol="ssh-ng"))
    assert ed.save()
    ed.use_for_runs.setChecked(True)
    ed.model.set_status(ed.model.entry(0), "error", "✘ ssh: cannot connect to builder.example.org")
    asked: list[str] = []

    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    qtbot.waitUntil(lambda: not w.run_panel.controller.is_planning(), timeout=30_000)
    started = w.run()
    assert not started and not w.is_running()
    assert asked and "builder.example.org" in asked[0] and "failed" in asked[0]


# -- 9. cancelled is not failed ----------------------------------------------------------------

@pytest.mark.nix
@pytest.mark.skipif(shutil.which("nix-build") is None, reason="Nix is not installed")
def test_cancelled_points_are_counted_apart_from_failed_ones(window, qtbot, tmp_path):
    w = window([slow_sweep_file(tmp_path, "[990.0, 1010.0, 3000.0, 3001.0]", jobs=4)])
    panel = w.run_panel
    assert w.run()
    qtbot.waitUntil(lambda: [r.status for r in panel.rows.rows] ==
                    ["built", "failed", "running", "running"], timeout=90_000)
    with qtbot.waitSignal(panel.runningChanged, timeout=30_000,
                          check_params_cb=lambda r: r is False):
        w.cancel_action.trigger()
    assert [r.status for r in panel.rows.rows] == ["built", "failed", "cancelled", "cancelled"]
    bar = panel.progress.text()
    assert "1 failed" in bar and "2 cancelled" in bar, bar
    line = panel.message_label.text()
    assert "1 failed" in line and "2 cancelled" in line, line
    # Rerun failed reruns the failed point only; the cancelled ones are left to Run
    assert panel.rerun_button.isEnabled() and w.rerun_action.isEnabled()
    assert panel.rows.failed_indices() == [1]
    assert panel.run_button.isEnabled() and w.run_action.isEnabled()


@pytest.mark.nix
@pytest.mark.skipif(shutil.which("nix-build") is None, reason="Nix is not installed")
def test_a_run_cancelled_without_failures_offers_no_rerun_of_failed(window, qtbot, tmp_path):
    w = window([slow_sweep_file(tmp_path, "[3000.0, 3001.0]")])
    panel = w.run_panel
    assert w.run()
    qtbot.waitUntil(lambda: all(r.status == "running" for r in panel.rows.rows), timeout=60_000)
    with qtbot.waitSignal(panel.runningChanged, timeout=30_000,
                          check_params_cb=lambda r: r is False):
        panel.cancel_button.click()
    assert "0 failed" in panel.progress.text() and "2 cancelled" in panel.progress.text()
    assert "0 failed" in panel.message_label.text()
    assert not panel.rerun_button.isEnabled() and not w.rerun_action.isEnabled()
    assert panel.run_button.isEnabled()


# -- 11. results of plain threads reach only live objects, on the GUI thread --------------------

def test_a_check_finishing_after_the_forms_are_gone_touches_nothing(qtbot, monkeypatch):
    from shiboken6 import isValid

    import sweepgui.ui.forms.parameters as forms_module
    from sweepgui.ui import background

    release, entered, finished = threading.Event(), threading.Event(), threading.Event()
    original = forms_module.check_draft
    touched: list[str] = []

    def slow_check(*args, **kwargs):
        entered.set()
        release.wait(10)
        try:
            return original(*args, **kwargs)
        finally:
            finished.set()

    monkeypatch.setattr(forms_module, "check_draft", slow_check)
    monkeypatch.setattr(ParameterForms, "_apply",
                        lambda self, *a: touched.append(threading.current_thread().name))
    model = SweepModel()
    f = ParameterForms(model)
    touched.clear()  # the forms' first check at start
    model.set_variable("fluid.density", {"linspace": [900.0, 1100.0, 60]})
    model.set_variable("state.temperature", {"linspace": [283.15, 353.15, 60]})
    f._timer.stop()
    f._validate_soon()
    assert entered.wait(10)
    f.deleteLater()
    qtbot.waitUntil(lambda: not isValid(f))
    release.set()
    assert finished.wait(10)
    # the check's thread has ended and its outcome (queued to the deleted forms) was handled
    qtbot.waitUntil(lambda: all(t.isFinished() for t, _ in background._LIVE), timeout=10_000)
    QApplication.processEvents()
    assert touched == []


def test_a_check_result_arrives_on_the_gui_thread(forms, qtbot):
    f = forms()
    threads: list[str] = []
    f.validityChanged.connect(lambda ok, why: threads.append(threading.current_thread().name))
    f._model.set_variable("fluid.density", {"linspace": [900.0, 1100.0, 60]})
    f._model.set_variable("state.temperature", {"linspace": [283.15, 353.15, 60]})
    qtbot.waitUntil(lambda: bool(threads) and f.sweep is not None and f.sweep.shape == (60, 60),
                    timeout=10_000)
    assert set(threads) == {threading.main_thread().name}


def test_big_sweeps_are_validated_off_the_gui_thread(forms, qtbot, monkeypatch):
    from sweepgui.sweep import draft

    f = forms()
    where: list[str] = []
    original = draft.SweepDraft.problems

    def spy(self):
        where.append(threading.current_thread().name)
        return original(self)

    monkeypatch.setattr(draft.SweepDraft, "problems", spy)
    f._model.set_variable("fluid.density", {"linspace": [500.0, 1500.0, 4000]})
    f._model.set_variable("state.temperature", {"linspace": [280.0, 360.0, 4000]})
    qtbot.waitUntil(lambda: "1,000,000" in f.reason or "limit" in f.reason, timeout=20_000)
    assert where and threading.main_thread().name not in where, where


# -- 12. the quickstart and modes at a node ------------------------------------------------------

def peak_ratio(result: dict, f_n: float) -> float:
    """|H| at the natural frequency over the median |H| within +-10 %: a visible resonance
    is many times its surroundings, a mode at a node of the drive or pick-up is not."""
    import numpy as np

    f = np.asarray(result["spectrum"]["frequency"])
    m = np.asarray(result["spectrum"]["magnitude"])
    near = (f > 0.9 * f_n) & (f < 1.1 * f_n)
    at = np.abs(f - f_n) < 0.01 * f_n
    return float(m[at].max() / np.median(m[near]))


def test_the_quickstart_spectrum_shows_the_first_three_modes():
    from sweepgui.model import run_point

    sweep = load_sweep(QUICKSTART)
    assert "covers the first three modes" in QUICKSTART.read_text(encoding="utf-8")
    for index in (0, len(sweep.points()) - 1):
        params = sweep.points()[index].model_dump(mode="json")
        result = run_point(params)
        f_max = params["analysis"]["f_max"]
        modes = [f for f in result["natural_frequencies"] if f < f_max][:3]
        assert len(modes) == 3
        for n, f_n in enumerate(modes, 1):
            assert peak_ratio(result, f_n) > 20, (index, n, f_n)


def test_modes_at_a_node_of_drive_or_pick_up_are_marked_in_the_point_table(qtbot):
    from sweepgui.ui.run.panel import RunPanel
    from tests.ui.synthetic_runs import FakeEngine

    panel = RunPanel(engine_factory=lambda s: FakeEngine())
    qtbot.addWidget(panel, before_close_func=lambda p: p.shutdown(10.0))
    # mid-span drive and pick-up (the defaults): the antisymmetric modes 2, 4, 6 of a
    # clamped-clamped tube have a node there; at 0.3 none of the first six has
    sweep = loads_sweep('[variable]\n"analysis.excitation_position" = [0.5, 0.3]\n'
                        '[fixed]\nanalysis.response_position = 0.3\n')
    with qtbot.waitSignal(panel.planReady, timeout=30_000):
        panel.set_sweep(sweep)
    m = panel.table_model
    col = next(c for c in range(m.columnCount()) if "node" in m.column_name(c))
    assert m.index(0, col).data() == "2, 4, 6"
    assert m.index(1, col).data() == ""
    tip = m.index(0, col).data(Qt.ItemDataRole.ToolTipRole)
    assert "mode 2" in tip and "drive" in tip


def test_modes_at_nodes_follow_the_mode_shapes_of_each_support():
    from sweepgui.results import modes_at_nodes

    # pinned-pinned: sin(n pi x); at x = 1/3 modes 3 and 6 vanish
    assert modes_at_nodes("pinned-pinned", 1 / 3, 0.21, 6) == (3, 6)
    # clamped-clamped mode 3 has its nodes at 0.359 and 0.641 of the span (Blevins, table 8-1)
    assert 3 in modes_at_nodes("clamped-clamped", 0.359, 0.21, 3)
    assert modes_at_nodes("clamped-clamped", 0.21, 0.21, 3) == ()
    # clamped-free: mode 2's node at 0.774 from the clamp
    assert modes_at_nodes("clamped-free", 0.783, 1.0, 2) == (2,)
    # clamped-pinned mode 2: node at 0.557 (Blevins); many modes stay numerically sound
    assert modes_at_nodes("clamped-pinned", 0.557, 0.2, 2) == (2,)
    many = modes_at_nodes("clamped-pinned", 0.5, 0.5, 40)
    assert set(many) <= set(range(1, 41)) and field_info("analysis.modes").default == 6


def test_the_forms_say_which_modes_the_positions_hide(forms):
    f = forms()  # defaults: drive and pick-up at mid-span of a clamped tube
    assert f.node_hint.isVisibleTo(f)
    assert "Modes 2, 4, 6" in f.node_hint.text() and "node" in f.node_hint.text()
    quick = forms(QUICKSTART.read_text(encoding="utf-8"))
    assert not quick.node_hint.isVisibleTo(quick), quick.node_hint.text()
