"""The main window: title, File menu, recent files, remembered state, Run/Cancel, --run."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from sweepgui.resources import resources_dir
from sweepgui.sweep import load_sweep
from sweepgui.ui.app import create_window, parse_args
from sweepgui.ui.widgets_env import make_settings

SMALL = """\
[fixed]
pipe.length = 0.45

[variable]
"fluid.density" = [900.0, 1000.0]
"""


@pytest.fixture
def answers(monkeypatch):
    """Answers to the window's questions (no modal dialog may block a test); records them."""
    asked: list[str] = []
    reply = {"value": QMessageBox.StandardButton.Discard}

    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        return reply["value"]

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: asked.append(a[2])))
    return type("Answers", (), {"asked": asked, "reply": reply})


@pytest.fixture
def window(qtbot, answers):
    made = []

    def make(argv=()):
        w = create_window(parse_args(list(argv)))
        qtbot.addWidget(w)
        made.append(w)
        return w

    yield make
    for w in made:
        if w.is_running():
            w.cancel()
            qtbot.waitUntil(lambda w=w: not w.is_running(), timeout=20000)
        w.close()


def sweep_file(tmp_path: Path, name: str = "small.toml", text: str = SMALL) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_title_names_the_file_and_marks_unsaved_changes(window, tmp_path, qtbot):
    w = window()
    assert w.windowTitle().startswith("sweepgui")
    assert "untitled" in w.windowTitle()
    path = sweep_file(tmp_path)
    assert w.open_file(path)
    assert w.windowTitle().startswith("sweepgui") and "small.toml" in w.windowTitle()
    assert not w.isWindowModified()
    qtbot.keyClicks(w.forms.editors["pipe.length"].value, "5")
    assert w.isWindowModified()
    assert w.save()
    assert not w.isWindowModified()
    assert load_sweep(path).fixed["pipe.length"] == 0.455


def test_command_line_opens_the_sweep_into_the_forms(window, tmp_path):
    path = sweep_file(tmp_path)
    w = window([str(path)])
    assert w.forms.editors["pipe.length"].value.text() == "0.45"
    assert w.forms.editors["fluid.density"].list_edit.text() == "900, 1000"
    assert w.forms.sweep == load_sweep(path)


def test_recent_files_are_remembered_newest_first(window, tmp_path):
    a, b = sweep_file(tmp_path, "a.toml"), sweep_file(tmp_path, "b.toml")
    w = window()
    w.open_file(a)
    w.open_file(b)
    w.open_file(a)
    assert w.recent_files()[:2] == [str(a.resolve()), str(b.resolve())]
    w._fill_recent_menu()
    labels = [act.text() for act in w.recent_menu.actions()]
    assert labels[0].startswith("&1 a.toml") and labels[1].startswith("&2 b.toml")
    # a new window (a new session) sees the same list
    assert window().recent_files()[:2] == [str(a.resolve()), str(b.resolve())]


def test_window_geometry_is_remembered_in_the_temporary_settings(window, _temp_settings):
    w = window()
    w.show()
    w.resize(w.minimumSizeHint().width(), 555)  # the offscreen screen is small: stay inside it
    w.parameters_dock.hide()
    w.close()
    settings = make_settings()
    assert Path(settings.fileName()).is_relative_to(_temp_settings)  # never the user's config
    assert Path(QSettings().fileName()).is_relative_to(_temp_settings)
    again = window()
    again.show()
    assert again.height() == 555
    assert not again.parameters_dock.isVisible()


def test_invalid_input_disables_run_and_says_why(window, tmp_path, qtbot):
    w = window([str(sweep_file(tmp_path))])
    assert w.run_action.isEnabled()
    editor = w.forms.editors["pipe.length"].value
    editor.selectAll()
    qtbot.keyClicks(editor, "-3")
    w.forms.validate_now()
    assert not w.run_action.isEnabled()
    # the form's label and unit, not the dotted path (issue 12)
    assert "Length (m)" in w.run_action.toolTip()
    assert "Length (m)" in w.forms.reason_label.text()
    assert not w.run()  # Ctrl+R does nothing but say why
    assert "Length (m)" in w.statusBar().currentMessage()
    # the run panel's Run button asks the window, which applies the same check
    w.statusBar().clearMessage()
    w.run_panel.runRequested.emit()
    assert "Length (m)" in w.statusBar().currentMessage() and not w.is_running()


def test_opening_an_invalid_file_clears_the_previous_files_points(window, tmp_path, qtbot):
    w = window([str(sweep_file(tmp_path))])
    qtbot.waitUntil(lambda: len(w.run_panel.rows.rows) == 2)
    bad = sweep_file(tmp_path, "bad.toml", "[fixed]\npipe.length = -3\n")
    assert w.open_file(bad, ask=False)
    assert "Length (m)" in w.forms.reason
    assert w.run_panel.rows.rows == [] and w.run_panel.table_model.rowCount() == 0
    assert not w.run_panel.run_button.isEnabled()
    w.open_file(sweep_file(tmp_path), ask=False)  # a valid file shows its points again
    qtbot.waitUntil(lambda: len(w.run_panel.rows.rows) == 2)
    qtbot.waitUntil(lambda: not w.run_panel.controller.is_planning())


def test_closing_with_unsaved_changes_asks(window, tmp_path, qtbot, answers):
    w = window([str(sweep_file(tmp_path))])
    qtbot.keyClicks(w.forms.editors["pipe.length"].value, "1")
    answers.reply["value"] = QMessageBox.StandardButton.Cancel
    assert not w.close()
    assert any("unsaved changes" in text for text in answers.asked)
    answers.reply["value"] = QMessageBox.StandardButton.Discard
    assert w.close()


def test_status_bar_names_nix_and_the_interpreter_mode(window, qtbot):
    w = window()
    qtbot.waitUntil(lambda: "checking" not in w.nix_label.text(), timeout=20000)
    qtbot.waitUntil(lambda: "checking" not in w.interpreter_label.text(), timeout=20000)
    if shutil.which("nix-store"):
        version = subprocess.run(["nix-store", "--version"], capture_output=True, text=True).stdout
        # the Nix set-up's summary: "Nix 2.8.0 · single-user" (or "· daemon, not trusted" ...)
        assert w.nix_label.text().split(" · ")[0] == "Nix " + version.split()[-1]
        assert w.nix_label.text().split(" · ")[1] in ("single-user", "daemon, trusted",
                                                       "daemon, not trusted")
    assert w.interpreter_label.text() in ("interpreter: portable", "interpreter: host",
                                          "interpreter: nixpkgs")


def _nix_processes() -> set[int]:
    out = subprocess.run(["ps", "-eo", "pid,ppid,comm"], capture_output=True, text=True).stdout
    me = os.getpid()
    return {int(line.split()[0]) for line in out.splitlines()[1:]
            if line.split()[1] == str(me) and "nix" in line.split()[2]}


@pytest.mark.nix
@pytest.mark.skipif(shutil.which("nix-build") is None, reason="needs Nix")
def test_dash_dash_run_starts_and_closing_asks_then_cancels_cleanly(window, tmp_path, qtbot, answers):
    source = resources_dir() / "examples" / "quickstart.toml"
    path = tmp_path / "quickstart.toml"
    shutil.copy(source, path)
    # a fresh value (digits of a uuid) so that the points are not in the store from another run
    text = path.read_text().replace("analysis.f_max = 1500.0",
                                    f"analysis.f_max = {1500 + uuid.uuid4().int % 100_000 / 1000}")
    path.write_text(text)
    w = window([str(path), "--run"])
    assert w.is_running()
    assert not w.run_action.isEnabled() and w.cancel_action.isEnabled()
    assert not w.forms.isEnabled()  # the sweep of a running run stays what it was
    answers.reply["value"] = QMessageBox.StandardButton.Yes
    w.close()
    assert any("running" in text for text in answers.asked)
    qtbot.waitUntil(lambda: not w.is_running(), timeout=20000)
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: not _nix_processes(), timeout=5000)


def test_about_box_names_the_app_and_version(window):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from sweepgui import __version__

    w = window()
    seen: list[str] = []

    def read_and_close():
        box = QApplication.activeModalWidget()
        seen.append(box.text() if isinstance(box, QMessageBox) else "")
        if box is not None:
            box.accept()

    QTimer.singleShot(300, read_and_close)
    w.about_action.trigger()
    assert seen and "sweepgui" in seen[0] and __version__ in seen[0]
    assert "Python 3." in seen[0] and "Qt 6." in seen[0]  # what a bug report needs


def test_file_menu_has_the_standard_shortcuts(window):
    from PySide6.QtGui import QKeySequence

    w = window()
    assert w.open_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Open)
    assert w.save_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Save)
    assert w.new_action.shortcut() == QKeySequence(QKeySequence.StandardKey.New)
    assert w.run_action.shortcut() == QKeySequence("Ctrl+R")
    titles = [a.text() for a in w.menuBar().actions()]
    assert titles[:2] == ["&File", "&Run"]
