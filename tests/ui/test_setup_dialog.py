"""Help > Check Nix set-up: the doctor's items for this machine, checked off the GUI thread;
the status bar's Nix item and its warning look."""

from __future__ import annotations

import shutil
import threading

import pytest
from PySide6.QtGui import QGuiApplication

from sweepgui.nix.machines import Machine
from sweepgui.nix.setup import NixSetup, detect_setup
from sweepgui.ui.setup_dialog import CheckRow, SetupDialog

needs_nix = pytest.mark.skipif(shutil.which("nix-store") is None, reason="needs Nix")

UNTRUSTED = NixSetup(version="2.8.0", mode="daemon", store_uri="daemon", user="alice",
                     primary_group="alice", trusted=False, trusted_users=("root",),
                     conf_file="/etc/nix/nix.conf", builders_setting="@/etc/nix/machines",
                     daemon_builders=(Machine(host="big1", protocol="ssh-ng", max_jobs=8),
                                      Machine(host="big2", protocol="ssh-ng")),
                     build_users_group="nixbld", settings_read=True)


@pytest.fixture
def dialog(qtbot):
    d = SetupDialog()
    qtbot.addWidget(d)
    yield d
    d.shutdown()


@needs_nix
def test_the_dialog_lists_the_doctors_items_for_this_machine(dialog, qtbot, monkeypatch):
    import sweepgui.nix.doctor as doctor

    ran_on: list[int] = []
    real = doctor.run_doctor

    def spy(*args, **kwargs):
        ran_on.append(threading.get_ident())
        return real(*args, **kwargs)
    monkeypatch.setattr(doctor, "run_doctor", spy)
    dialog.show()
    dialog.check()
    assert dialog.is_checking() and dialog.state.text() == "Checking…"
    assert not dialog.again_button.isEnabled() and not dialog.copy_button.isEnabled()
    with qtbot.waitSignal(dialog.checked, timeout=30_000) as blocker:
        pass
    report = blocker.args[0]
    assert ran_on and threading.main_thread().ident not in ran_on  # the GUI thread ran no Nix
    rows = dialog.findChildren(CheckRow)
    # one row per item, in the doctor's order, each with its level
    assert [(r.check.name, r.property("level")) for r in rows] == \
        [(c.name, c.level) for c in report.checks]
    by_name = {r.check.name: r for r in rows}
    nix = by_name["nix"]
    assert nix.property("level") == "ok"
    version = detect_setup().version
    assert nix.message.text() == f"Nix {version}"
    assert {"store", "daemon-builders", "interpreter"} <= set(by_name)
    # the whole message, wrapped and selectable (not cut to one line)
    store = by_name["store"].message
    assert store.wordWrap() and store.text() == next(c.message for c in report.checks
                                                     if c.name == "store")
    assert store.textInteractionFlags() & store.textInteractionFlags().TextSelectableByMouse
    assert dialog.title.text().startswith(f"Nix {version} · ")
    assert dialog.state.text() in ("Nothing stops a run",) or "item" in dialog.state.text() \
        or "problem" in dialog.state.text()
    assert not dialog.is_checking() and dialog.again_button.isEnabled()

    dialog.copy_button.click()
    text = QGuiApplication.clipboard().text()
    assert text.splitlines()[0].startswith(report.setup.summary())
    assert f"ok      nix: Nix {version}" in text
    assert len(text.splitlines()) == len(report.checks) + 2

    # Check again: the rows are replaced, not added to
    with qtbot.waitSignal(dialog.checked, timeout=30_000):
        dialog.again_button.click()
    assert len(dialog.findChildren(CheckRow)) == len(report.checks)


@needs_nix
def test_closing_while_checking_leaves_no_thread(dialog, qtbot):
    dialog.show()
    dialog.check()
    assert dialog.is_checking()
    dialog.close()  # the conftest fails the test if the check's QThread is still running after
    qtbot.waitUntil(lambda: not dialog.is_checking(), timeout=30_000)


@needs_nix
def test_deleting_the_dialog_while_checking_leaves_no_thread(qtbot):
    from sweepgui.ui import background

    d = SetupDialog()
    d.check()
    thread = d._call._pair[0]
    d.deleteLater()
    qtbot.waitUntil(lambda: thread.isFinished(), timeout=30_000)
    background._reap_finished()
    assert not any(t is thread for t, _ in background._LIVE)


def test_status_bar_warns_when_the_users_machines_are_ignored(qtbot, tmp_path, monkeypatch):
    from sweepgui.ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.nix_setup is not None, timeout=30_000)
    editor = window.machines_editor
    editor.add_machine()  # the user's file now lists a machine
    window._apply_setup(UNTRUSTED)  # as the probe would deliver it on such a machine
    label = window.nix_label
    assert label.text() == "Nix 2.8.0 · daemon, not trusted · 2 daemon builders"
    assert label.level == "warning" and not label.icon().isNull()
    tip = label.toolTip()
    assert "user: alice, not trusted by the daemon" in tip
    assert "/etc/nix/nix.conf" in tip and "ssh-ng://big1, ssh-ng://big2" in tip
    assert "will not use the machines in" in tip
    # the machines tab says it too
    assert editor.banner.isVisibleTo(editor)
    # no machines of one's own: nothing is ignored, no warning
    editor.table.selectAll()
    editor.remove_selected()
    assert label.level == "ok" and label.icon().isNull()
    # a Nix that cannot be used is an error
    window._apply_setup(NixSetup(version="2.8.0", mode="unavailable",
                                 store_error="no nix-daemon answers"))
    assert label.level == "error" and "not usable" in label.text()
    assert "no nix-daemon answers" in label.toolTip()
    # clicking it opens the check
    label.click()
    assert window.setup_dialog is not None and window.setup_dialog.isVisible()
    qtbot.waitUntil(lambda: not window.setup_dialog.is_checking(), timeout=30_000)
    window.close()


def test_help_menu_has_the_set_up_check(qtbot):
    from sweepgui.ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    help_menu = [a.menu() for a in window.menuBar().actions() if a.text() == "&Help"][0]
    assert "Check &Nix set-up…" in [a.text() for a in help_menu.actions()]
    window.close()
