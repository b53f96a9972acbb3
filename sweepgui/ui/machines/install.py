"""The two ways to get the user's machines used by a nix-daemon that ignores them.

:class:`InstallSystemDialog` adds them to the system's machines file (the daemon's builders,
for every user): it shows the exact change (a unified diff), then writes it as root through
pkexec or sudo on a worker thread; when that cannot be done it shows the commands to run as
root, selectable. On NixOS, where the system's file is generated, it shows the
``nix.buildMachines`` block instead. :class:`TrustDialog` explains the other way, adding the
user to ``trusted-users``, and says plainly what that gives away.
"""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from sweepgui.ui.background import BackgroundCall
from sweepgui.ui.nix_status import LEVEL_COLOURS

AUTO = object()  # "find out": the escalation tool, or whether this is NixOS
SUCCESS = "#2e7d32"


def _mono(text: str = "", name: str = "") -> QPlainTextEdit:
    box = QPlainTextEdit(text)
    box.setReadOnly(True)
    box.setObjectName(name)
    box.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    box.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    return box


def _label(text: str = "", name: str = "") -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _how(via) -> str:
    if via == []:
        return "You are root: Install writes the file directly (the old one is kept as .bak)."
    if via is None:
        return ("Neither pkexec nor sudo is installed: Install gives you the commands to run "
                "as root.")
    tool = Path(via[0]).name
    if tool == "pkexec":
        return ("Install asks for an administrator's password (pkexec), then writes the file "
                "(the old one is kept as .bak).")
    return ("Install runs sudo, which cannot ask for a password from here: where it needs one, "
            "you get the commands to run as root instead.")


def prepare_install(machines, target: Path | None, escalation=AUTO, nixos=AUTO) -> dict:
    """What the dialog shows (runs on a worker thread: it reads files and looks for tools)."""
    from sweepgui.nix.machines import SYSTEM_MACHINES, escalation_tool, nixos_snippet, system_install

    if nixos is AUTO:
        nixos = target is None and Path("/etc/NIXOS").exists()
    if nixos:
        return {"nixos": True, "snippet": nixos_snippet(machines)}
    change = system_install(machines, target or SYSTEM_MACHINES)
    via = escalation_tool(graphical=True) if escalation is AUTO else escalation
    return {"nixos": False, "change": change, "via": via}


class InstallSystemDialog(QDialog):
    """Adds ``machines`` to the system's machines file (see the module doc).

    Parameters
    ----------
    target : Path, optional
        The file to change (default ``/etc/nix/machines``; tests give a temporary file,
        as ``sweepgui machines install-system --target`` does).
    escalation : list of str or None, optional
        How to become root ([] already root, ["/usr/bin/pkexec"], None: no way); default:
        :func:`~sweepgui.nix.machines.escalation_tool`.
    nixos : bool, optional
        Whether to show the NixOS block instead (default: ``/etc/NIXOS`` exists and no
        ``target`` was given).

    Signals
    -------
    installed(str) : the file was written (what was done).
    """

    installed = Signal(str)

    def __init__(self, machines, parent: QWidget | None = None, target: Path | None = None,
                 escalation=AUTO, nixos=AUTO):
        super().__init__(parent)
        self.setWindowTitle("Install the machines system-wide")
        self.setObjectName("InstallSystemDialog")
        self.machines = [dataclasses.replace(m) for m in machines]  # read by a worker thread
        self.change = None
        self.via = None
        self.nixos = False
        self.done_text = ""
        self._call = BackgroundCall(self, name="sweepgui-install-system")
        self._call.done.connect(self._on_result)
        self._step = "prepare"

        self.intro = _label("Reading the system's machines file…", "intro")
        self.text = _mono(name="change")
        self.how = _label(name="how")
        self.how.setProperty("role", "hint")
        self.outcome = _label(name="outcome")
        self.outcome.setVisible(False)
        self.commands = _mono(name="commands")
        self.commands.setVisible(False)
        self.commands.setMaximumHeight(140)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.install_button = buttons.addButton("Install", QDialogButtonBox.ButtonRole.ActionRole)
        self.install_button.setEnabled(False)
        self.copy_button = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setVisible(False)
        self.install_button.clicked.connect(self.install)
        self.copy_button.clicked.connect(self._copy)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons

        lay = QVBoxLayout(self)
        lay.addWidget(self.intro)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.how)
        lay.addWidget(self.outcome)
        lay.addWidget(self.commands)
        lay.addWidget(buttons)
        self.resize(780, 520)
        self._call.start(lambda: prepare_install(self.machines, target, escalation, nixos))

    def is_busy(self) -> bool:
        return self._call.is_running()

    def shutdown(self, timeout_s: float = 5.0) -> bool:
        return self._call.wait(timeout_s)

    # -- steps --------------------------------------------------------------------------------
    def install(self) -> None:
        if self.change is None or self._call.is_running():
            return
        from sweepgui.nix.machines import install_system

        change, via = self.change, self.via
        self._step = "install"
        self.install_button.setEnabled(False)
        self._say("Writing " + str(change.target)
                  + ("… (answer the password prompt)" if via else "…"), "")
        self._call.start(lambda: install_system(change, via))

    def _on_result(self, result, error) -> None:
        step = self._step
        if step == "prepare":
            self._prepared(result, error)
        else:
            self._installed(result, error)

    def _prepared(self, info, error) -> None:
        if error is not None:
            self.intro.setText("The change cannot be made:")
            self.text.setVisible(False)
            self._say(str(error), "error")
            return
        if info["nixos"]:
            self.nixos = True
            self.setWindowTitle("NixOS: nix.buildMachines")
            self.intro.setText("NixOS writes /etc/nix/machines from its configuration: add this "
                               "to configuration.nix, then run `sudo nixos-rebuild switch`. The "
                               "nix-daemon then uses these machines for every user.")
            self.text.setPlainText(info["snippet"])
            self.install_button.setVisible(False)
            self.copy_button.setVisible(True)
            return
        change = self.change = info["change"]
        self.via = info["via"]
        n = len(self.machines)
        if not change.changed:
            self.intro.setText(f"{change.target} already lists these {n} machine(s): nothing to "
                               "change. The nix-daemon uses them for every user.")
            self.text.setPlainText(change.new_text)
            return
        self.intro.setText(f"This adds {n} machine(s) to {change.target}, the nix-daemon's own "
                           "builders: every user of this computer can then build on them. "
                           "The exact change:")
        self.text.setPlainText(change.diff())
        self.how.setText(_how(self.via))
        self.install_button.setEnabled(True)
        self.install_button.setDefault(True)

    def _installed(self, done: str, error) -> None:
        if error is None:
            self.done_text = done
            self._say(f"Done: {done}. The nix-daemon uses them from its next build.", "ok")
            self.installed.emit(done)
            return
        message = str(error)
        if isinstance(error, PermissionError):
            head, _, steps = message.partition("\n")
            self._say(head[:1].upper() + head[1:], "error")
            if steps.strip():
                self.commands.setPlainText(textwrap.dedent(steps).strip() + "\n")
                self.commands.setVisible(True)
                self.copy_button.setVisible(True)
        else:
            self._say(f"Cannot write {self.change.target}: {message}", "error")
        self.install_button.setEnabled(self.via is not None)  # sudo/pkexec: may work next time

    def _say(self, text: str, level: str) -> None:
        colour = {"ok": SUCCESS}.get(level) or LEVEL_COLOURS.get(level)
        self.outcome.setStyleSheet(f"color: {colour};" if colour else "")
        self.outcome.setText(text)
        self.outcome.setVisible(bool(text))

    def _copy(self) -> None:
        box = self.commands if self.commands.isVisible() else self.text
        QGuiApplication.clipboard().setText(box.toPlainText())


def trust_line(setup) -> str:
    users = list(setup.trusted_users or ("root",))
    if setup.user not in users:
        users.append(setup.user)
    return "trusted-users = " + " ".join(users)


class TrustDialog(QDialog):
    """How to make the user a trusted user of the nix-daemon, and what that means."""

    def __init__(self, setup, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Trust your user in the nix-daemon")
        self.setObjectName("TrustDialog")
        user, conf = setup.user, setup.conf_file
        line = trust_line(setup)
        nixos_users = " ".join(f'"{u}"' for u in line.split(" = ", 1)[1].split())
        warning = _label(
            f"A trusted user can do anything root can: it may change any setting of the "
            f"daemon's builds, add unsigned paths to the store and run code as root through "
            f"them. Trusting {user} is the same as giving {user} root access: do it only on a "
            f"computer that is yours alone. On a shared computer, install the machines "
            f"system-wide instead.", "warning")
        warning.setStyleSheet(f"color: {LEVEL_COLOURS['error']}; font-weight: bold;")
        self.text = _mono(textwrap.dedent(f"""\
            # as root, in {conf} (keep the names already listed):
            {line}

            # then restart the daemon:
            systemctl restart nix-daemon

            # on NixOS, in configuration.nix instead (then: nixos-rebuild switch):
            nix.settings.trusted-users = [ {nixos_users} ];
            """), "trust")
        intro = _label(
            f"The nix-daemon uses the builders a client names (your machines file) only when "
            f"the client's user is trusted: trusted-users in {conf}. Now it lists: "
            f"{' '.join(setup.trusted_users) or 'root'}. To add {user}:", "intro")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.text.toPlainText()))
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addWidget(self.text, 1)
        lay.addWidget(warning)
        lay.addWidget(buttons)
        self.resize(680, 400)
