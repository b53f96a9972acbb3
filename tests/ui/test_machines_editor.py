"""The build-machines editor: table round trip with comments, editing, checks off the GUI thread."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QSpinBox

from sweepgui.ui.machines.editor import QtMachineEditor
from sweepgui.ui.machines.table import KEYS

KEY = ("c3NoLWVkMjU1MTkgQUFBQUMzTnphQzFsWkRJMU5URTVBQUFBSU9yZ29ZSUh5eWZKRGdVVExvbkdRSnQ3"
       "UnUrV1pFMEYvY1AyZHJrSHB1N0wK")
ORIGINAL = f"""\
# Build machines of the lab
# (edit with care)
ssh://alice@build1 x86_64-linux,i686-linux /home/alice/.ssh/id_build 4 2 big-parallel - {KEY}

# the fast one
ssh-ng://build2   x86_64-linux  -  8
@/etc/nix/machines.extra
"""


@pytest.fixture
def editor(qtbot, tmp_path):
    path = tmp_path / "machines"
    path.write_text(ORIGINAL, encoding="utf-8")
    widget = QtMachineEditor(path)
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown(wait=True)


def cell(editor, row, key):
    return editor.model.index(row, KEYS.index(key))


def test_table_shows_every_column(editor):
    m = editor.model
    assert m.rowCount() == 2
    assert m.data(cell(editor, 0, "user")) == "alice"
    assert m.data(cell(editor, 0, "host")) == "build1"
    assert m.data(cell(editor, 0, "systems")) == "x86_64-linux,i686-linux"
    assert m.data(cell(editor, 0, "ssh_key")) == "/home/alice/.ssh/id_build"
    assert m.data(cell(editor, 0, "max_jobs")) == "4"
    assert m.data(cell(editor, 0, "speed_factor")) == "2"
    assert m.data(cell(editor, 0, "supported_features")) == "big-parallel"
    assert m.data(cell(editor, 0, "host_key")).startswith("ssh-ed25519")
    assert m.data(cell(editor, 1, "protocol")) == "ssh-ng"
    assert not editor.is_dirty()


def test_edit_and_save_keeps_comments_includes_and_untouched_lines(editor, tmp_path):
    assert editor.model.setData(cell(editor, 1, "max_jobs"), "6")
    assert editor.model.setData(cell(editor, 1, "user"), "bob")
    assert editor.is_dirty()
    assert editor.save()
    text = (tmp_path / "machines").read_text(encoding="utf-8")
    expected = ORIGINAL.replace("ssh-ng://build2   x86_64-linux  -  8",
                                "ssh-ng://bob@build2 x86_64-linux - 6")
    assert text == expected
    assert (tmp_path / "machines.bak").read_text(encoding="utf-8") == ORIGINAL
    assert not editor.is_dirty()
    # and it opens again as the same table
    again = QtMachineEditor(tmp_path / "machines")
    assert again.model.machines_file.machines == editor.model.machines_file.machines
    again.deleteLater()


def test_bad_cells_are_refused_with_a_reason(editor, qtbot):
    with qtbot.waitSignal(editor.model.problem) as blocker:
        assert not editor.model.setData(cell(editor, 0, "port"), "abc")
    assert "whole number" in blocker.args[0]
    assert not editor.model.setData(cell(editor, 0, "systems"), "x86_64 linux")
    assert not editor.model.setData(cell(editor, 0, "host"), "")
    assert not editor.model.setData(cell(editor, 0, "host_key"), "not base64!")
    assert not editor.is_dirty()


def test_add_duplicate_remove(editor, tmp_path):
    editor.add_machine()
    assert editor.model.rowCount() == 3
    editor.model.setData(cell(editor, 2, "host"), "build3")
    editor.table.selectRow(0)
    editor.duplicate_selected()
    assert editor.model.rowCount() == 4
    assert editor.model.machine(1) == editor.model.machine(0)
    assert editor.model.machine(1) is not editor.model.machine(0)
    editor.table.selectRow(1)
    editor.remove_selected()
    assert [m.host for m in editor.model.machines_file.machines] == ["build1", "build2", "build3"]
    editor.save()
    text = (tmp_path / "machines").read_text(encoding="utf-8")
    assert text.startswith(ORIGINAL)
    assert text.endswith("ssh-ng://build3\n")


def test_checks_run_off_the_gui_thread_and_report_per_row(editor, qtbot):
    # a port nothing listens on: refused at once, reported as an error on that row
    editor.model.setData(cell(editor, 1, "host"), "127.0.0.1")
    editor.model.setData(cell(editor, 1, "port"), "1")
    editor.table.selectRow(1)
    editor.test_selected()
    # the window did not wait for ssh: the refusal (instant here) is not in yet
    assert editor.model.data(cell(editor, 1, "status")) == "testing…"
    qtbot.waitUntil(lambda: editor.model.status(1)[0] != "running", timeout=15000)
    level, message = editor.model.status(1)
    assert level == "error"
    assert "127.0.0.1" in message
    assert editor.model.status(0) is None  # untested rows stay untested
    # the whole message is on show for the selected row, not only in a tooltip
    assert editor.details.isVisibleTo(editor) and "connection refused" in editor.details.text()
    editor.table.selectRow(0)
    assert not editor.details.isVisibleTo(editor)


def test_cell_editors_get_the_room_they_need(editor, qtbot):
    editor.show()
    index = cell(editor, 0, "port")
    editor.table.setColumnWidth(index.column(), 20)
    editor.table.setCurrentIndex(index)
    editor.table.edit(index)
    qtbot.waitUntil(lambda: editor.table.findChild(QSpinBox) is not None)
    spin = editor.table.findChild(QSpinBox)
    assert spin.width() >= spin.sizeHint().width() > 20


def test_nixos_snippet_can_be_copied(editor, qtbot):
    editor.show_nixos_snippet()
    dialog = editor.snippet_dialog
    from PySide6.QtWidgets import QDialogButtonBox, QPlainTextEdit

    text = dialog.findChild(QPlainTextEdit, "snippet")
    assert 'hostName = "build1";' in text.toPlainText()
    assert 'sshUser = "alice";' in text.toPlainText()
    copy = [b for b in dialog.findChild(QDialogButtonBox).buttons() if b.text() == "Copy"][0]
    copy.click()
    assert "nix.buildMachines" in QGuiApplication.clipboard().text()
    dialog.close()


def test_default_file_is_the_users_own_in_the_temp_config(qtbot, tmp_path):
    widget = QtMachineEditor()
    qtbot.addWidget(widget)
    import os

    assert str(widget.path).startswith(os.environ["XDG_CONFIG_HOME"])
    assert widget.model.rowCount() == 0 and widget.machines_for_runs() is None


def test_saving_leaves_use_for_runs_to_the_user(qtbot, tmp_path):
    # saving once ticked 'Use these machines for runs' by itself (issue 12): runs then used a
    # machine the user had not chosen for them; the choice is the user's alone
    path = tmp_path / "machines"
    widget = QtMachineEditor(path)
    qtbot.addWidget(widget)
    assert widget.machines_for_runs() is None and not widget.use_for_runs.isChecked()
    widget.add_machine()
    assert widget.save()
    assert not widget.use_for_runs.isChecked() and widget.machines_for_runs() is None
    widget.use_for_runs.setChecked(True)
    assert widget.machines_for_runs() == path
    widget.duplicate_selected()
    assert widget.save() and widget.use_for_runs.isChecked()
    assert widget.machines_for_runs() == path
    widget.shutdown(wait=True)
