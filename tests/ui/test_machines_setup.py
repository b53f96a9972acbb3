"""The build-machines tab and the Nix set-up: the system's builders beside the user's file,
which set runs use, the banner when the nix-daemon ignores the user's machines, and the two
fixes (install system-wide, trust)."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtGui import QGuiApplication

from sweepgui.nix.machines import Machine
from sweepgui.nix.setup import NixSetup
from sweepgui.ui.machines.editor import QtMachineEditor
from sweepgui.ui.machines.install import InstallSystemDialog, TrustDialog

MACHINES = "ssh-ng://alice@build1 x86_64-linux - 4 2\nssh://build2 x86_64-linux - 2\n"
BIG = Machine(host="big1", protocol="ssh-ng", user="nixremote", max_jobs=16)
# a multi-user Nix whose daemon does not trust alice: it ignores her machines, uses its own
UNTRUSTED = NixSetup(version="2.8.0", mode="daemon", store_uri="daemon", user="alice",
                     primary_group="alice", trusted=False, trusted_users=("root", "@wheel"),
                     conf_file="/etc/nix/nix.conf", builders_setting="@/etc/nix/machines",
                     daemon_builders=(BIG,), build_users_group="nixbld", settings_read=True)
SINGLE = NixSetup(version="2.8.0", mode="single-user", store_uri="local", user="alice",
                  trusted=True, conf_file="/etc/nix/nix.conf",
                  builders_setting="@/etc/nix/machines", settings_read=True)


@pytest.fixture
def machines_path(tmp_path):
    path = tmp_path / "machines"
    path.write_text(MACHINES, encoding="utf-8")
    return path


def make_editor(qtbot, path, setup):
    editor = QtMachineEditor(path, setup=setup)
    qtbot.addWidget(editor)
    editor.resize(1100, 700)
    return editor


def test_untrusted_daemon_banner_and_the_builders_runs_really_use(qtbot, machines_path):
    editor = make_editor(qtbot, machines_path, UNTRUSTED)
    editor.show()
    assert editor.ignored()
    assert editor.banner.isVisible()
    text = editor.banner.text.text()
    assert text.startswith("The nix-daemon will not use the machines in " + str(machines_path))
    assert "alice is not a trusted user" in text and "trusted-users = root @wheel" in text
    assert editor.banner.install_button.text() == "Install system-wide…"
    assert editor.banner.trust_button.text() == "How to trust…"
    # the system's builders, read-only, with the setting they come from; they are what runs use
    view = editor.system_view
    assert view.isVisible() and view.table.isVisible()
    assert [m.name for m in view.machines()] == ["ssh-ng://nixremote@big1"]
    assert not view.table.editTriggers()
    assert "builders = @/etc/nix/machines" in view.source.text()
    assert "/etc/nix/nix.conf" in view.source.text()
    assert "nix-daemon's builders" in view.heading.text() and "runs use these" in view.heading.text()
    assert "not used" in editor.own_heading.text() and "ignores" in editor.own_heading.text()


def test_single_user_uses_the_users_file_and_no_banner(qtbot, machines_path):
    editor = make_editor(qtbot, machines_path, SINGLE)
    editor.show()
    assert not editor.ignored() and not editor.banner.isVisible()
    assert "runs use these" in editor.own_heading.text()
    assert editor.system_view.heading.text().endswith("<i>none</i>")
    assert not editor.system_view.table.isVisible()  # no builders of its own
    # the box off: runs use the system's builders, none here: this computer builds
    editor.use_for_runs.setChecked(False)
    assert "is off" in editor.own_heading.text()
    assert "points build on this computer" in editor.system_view.heading.text()
    # a set-up arriving later (the window detects it off the GUI thread) updates the tab
    editor.set_setup(UNTRUSTED)
    assert editor.banner.isVisible()
    # nothing to ignore without machines
    editor.table.selectAll()
    editor.remove_selected()
    assert not editor.banner.isVisible()


def test_without_a_setup_the_editor_says_it_is_checking(qtbot, machines_path):
    editor = make_editor(qtbot, machines_path, None)
    editor.show()
    assert not editor.banner.isVisible()
    assert "Checking" in editor.system_view.source.text()


def test_install_system_wide_writes_the_target_as_root(qtbot, machines_path, tmp_path):
    target = tmp_path / "etc" / "machines"
    target.parent.mkdir()
    target.write_text("# the lab's builders\nssh://old1 x86_64-linux\n", encoding="utf-8")
    editor = make_editor(qtbot, machines_path, UNTRUSTED)
    editor.show()
    editor.show_install_dialog(target, escalation=[])  # [] = already root, as in the tests
    dialog: InstallSystemDialog = editor.install_dialog
    qtbot.waitUntil(lambda: dialog.change is not None, timeout=10_000)
    # the exact change: a unified diff of the target, the old lines kept
    diff = dialog.text.toPlainText()
    assert diff.startswith(f"--- {target} (now)\n+++ {target} (new)\n")
    assert "+ssh-ng://alice@build1 x86_64-linux - 4 2" in diff
    assert "+ssh://build2 x86_64-linux - 2" in diff
    assert " ssh://old1 x86_64-linux" in diff
    assert "You are root" in dialog.how.text()
    assert dialog.install_button.isEnabled()
    with qtbot.waitSignal(dialog.installed, timeout=20_000) as blocker:
        dialog.install_button.click()
    assert f"to {target}" in blocker.args[0]
    written = target.read_text(encoding="utf-8")
    assert written.startswith("# the lab's builders\nssh://old1 x86_64-linux\n")
    assert "ssh-ng://alice@build1 x86_64-linux - 4 2" in written
    assert (target.parent / "machines.bak").exists()
    assert dialog.outcome.text().startswith("Done: wrote 2 machine(s)")
    assert not dialog.install_button.isEnabled()
    dialog.close()


def test_install_without_a_way_to_root_shows_the_commands(qtbot, machines_path, tmp_path,
                                                          monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the copy to install kept here
    target = tmp_path / "etc" / "machines"
    editor = make_editor(qtbot, machines_path, UNTRUSTED)
    seen = []
    editor.setupStale.connect(lambda: seen.append(True))
    editor.show_install_dialog(target, escalation=None)
    dialog: InstallSystemDialog = editor.install_dialog
    qtbot.waitUntil(lambda: dialog.install_button.isEnabled(), timeout=10_000)
    assert "pkexec nor sudo" in dialog.how.text()
    dialog.install_button.click()
    qtbot.waitUntil(lambda: dialog.commands.isVisible(), timeout=20_000)
    commands = dialog.commands.toPlainText().splitlines()
    kept = tmp_path / "cache" / "sweepgui" / "machines.system"
    assert commands == [f"mkdir -p {target.parent}",
                        f"install -m 0644 {kept} {target}.sweepgui-new",
                        f"mv -f {target}.sweepgui-new {target}"]
    assert "Run these commands as root" in dialog.outcome.text()
    assert not target.exists() and not seen
    assert kept.read_text(encoding="utf-8") == MACHINES
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == dialog.commands.toPlainText()
    dialog.close()


def test_install_on_nixos_shows_the_configuration_block(qtbot, machines_path):
    editor = make_editor(qtbot, machines_path, UNTRUSTED)
    editor.show_install_dialog(nixos=True)
    dialog: InstallSystemDialog = editor.install_dialog
    qtbot.waitUntil(lambda: dialog.nixos, timeout=10_000)
    text = dialog.text.toPlainText()
    assert "nix.buildMachines = [" in text and 'hostName = "build1";' in text
    assert "configuration.nix" in dialog.intro.text()
    assert not dialog.install_button.isVisible()
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == text
    dialog.close()


def test_closing_the_install_dialog_while_it_reads_leaves_no_thread(qtbot, machines_path, tmp_path):
    editor = make_editor(qtbot, machines_path, UNTRUSTED)
    editor.show_install_dialog(tmp_path / "machines.sys", escalation=[])
    editor.install_dialog.close()  # deleted on close; its reading thread ends by itself


def test_how_to_trust_says_it_is_root_access(qtbot, machines_path):
    editor = make_editor(qtbot, machines_path, UNTRUSTED)
    editor.banner.trust_button.click()
    dialog: TrustDialog = editor.trust_dialog
    text = dialog.text.toPlainText()
    assert "trusted-users = root @wheel alice" in text
    assert "/etc/nix/nix.conf" in text and "systemctl restart nix-daemon" in text
    assert 'nix.settings.trusted-users = [ "root" "@wheel" "alice" ];' in text
    from PySide6.QtWidgets import QLabel

    warning = dialog.findChild(QLabel, "warning").text()
    assert "same as giving alice root access" in warning
    dialog.close()


def test_a_trusted_daemon_user_is_not_warned(qtbot, machines_path):
    trusted = dataclasses.replace(UNTRUSTED, trusted=True)
    editor = make_editor(qtbot, machines_path, trusted)
    assert not editor.ignored() and not editor.banner.isVisibleTo(editor)
    assert "runs use these" in editor.own_heading.text()
    assert "replaces them" in editor.system_view.heading.text()
