"""The build-machines tab's view of the system: the builders Nix (or the nix-daemon) uses on
its own, which set runs really use, and a banner when the daemon ignores the user's file.

Everything here is drawn from a :class:`~sweepgui.nix.setup.NixSetup` the window detected off
the GUI thread; nothing here runs Nix or reads a file.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from sweepgui.nix.machines import Entry, MachinesFile
from sweepgui.ui.icons import status_icon
from sweepgui.ui.machines.table import KEYS, MachinesTableModel
from sweepgui.ui.nix_status import LEVEL_COLOURS

USED = "#2e7d32"  # green, readable on light and dark palettes


@dataclass(frozen=True)
class RunsUse:
    """Which builders a run that names no machines file of its own uses."""

    which: str   # "own": the user's file; "system": Nix's/the daemon's builders; "local": none
    own_text: str
    system_text: str


def runs_use(setup, own_machines: bool, use_for_runs: bool) -> RunsUse:
    """``own_machines``: the user's file lists machines; ``use_for_runs``: runs pass it."""
    system_n = len(setup.daemon_builders) if setup is not None else 0
    if setup is None:
        return RunsUse("own" if own_machines and use_for_runs else "system", "", "")
    if own_machines and not setup.own_builders_used:
        return RunsUse("system" if system_n else "local",
                       "not used: the nix-daemon ignores them (see above)",
                       "runs use these" if system_n
                       else "none: points build on this computer only")
    if own_machines and use_for_runs:
        return RunsUse("own", "runs use these",
                       "not used while runs use your machines (a machines file replaces them)"
                       if system_n else "none")
    own = ("not used for runs: 'Use these machines for runs' is off" if own_machines
           else "")
    if system_n:
        return RunsUse("system", own, "runs use these")
    return RunsUse("local", own, "none: points build on this computer only")


def _marked(text: str, used: bool, ignored: bool = False) -> str:
    if not text:
        return ""
    if used:
        return f" — <span style='color:{USED}'><b>✔ {text}</b></span>"
    if ignored:
        return f" — <span style='color:{LEVEL_COLOURS['warning']}'><b>⚠ {text}</b></span>"
    return f" — <i>{text}</i>"


class SystemMachinesView(QFrame):
    """The builders Nix (or the nix-daemon) uses by itself, read-only, with their setting."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("systemMachines")
        self.heading = QLabel()
        self.heading.setObjectName("systemHeading")
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.source = QLabel()
        self.source.setObjectName("systemSource")
        self.source.setWordWrap(True)
        self.source.setProperty("role", "hint")
        self.source.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model = MachinesTableModel(parent=self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.setColumnHidden(KEYS.index("status"), True)  # never tested from here
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 0)
        lay.addWidget(self.heading)
        lay.addWidget(self.source)
        lay.addWidget(self.table, 1)
        lay.addStretch(0)  # takes the room while the table is hidden (no builders)
        self.set_setup(None, RunsUse("system", "", ""))

    def machines(self) -> list:
        return self.model.machines_file.machines

    def set_setup(self, setup, use: RunsUse) -> None:
        if setup is None:
            self.heading.setText("<b>System builders</b>")
            self.source.setText("Checking the Nix set-up…")
            self.model.set_file(MachinesFile())
            self.table.setVisible(False)
            return
        if setup.daemon and not setup.trusted:
            title = "The nix-daemon's builders (for every user of this computer)"
            where = f"the system's {setup.conf_file}"
        elif setup.daemon:
            title = "Builders of your Nix settings (the nix-daemon trusts you)"
            where = f"{setup.conf_file}, your nix.conf and NIX_CONFIG"
        else:
            title = "Nix's own builders"
            where = f"{setup.conf_file}, your nix.conf and NIX_CONFIG"
        self.heading.setText(f"<b>{title}</b>{_marked(use.system_text, use.which == 'system')}")
        text = f"builders = {setup.builders_setting or '(empty)'} (from {where}); read-only here"
        if setup.builders_error:
            text += f". Cannot read them: {setup.builders_error}"
        self.source.setText(text)
        mf = MachinesFile()
        mf.items = [Entry(m) for m in setup.daemon_builders]
        self.model.set_file(mf)
        self.table.setVisible(bool(setup.daemon_builders))
        self.table.resizeColumnsToContents()
        # every builder on show (a few lines): the splitter may not squeeze the table below it
        rows = max(1, min(len(setup.daemon_builders), 8))
        height = (self.table.horizontalHeader().sizeHint().height()
                  + rows * self.table.verticalHeader().defaultSectionSize()
                  + self.table.horizontalScrollBar().sizeHint().height()
                  + 2 * self.table.frameWidth())
        self.table.setFixedHeight(height)


class IgnoredMachinesBanner(QFrame):
    """Says why the nix-daemon will not use the user's machines, with the two fixes.

    Signals
    -------
    installRequested() : "Install system-wide…" was clicked.
    trustRequested() : "How to trust…" was clicked.
    """

    installRequested = Signal()
    trustRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("ignoredBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # a pale amber panel with dark text: readable whatever the palette
        self.setStyleSheet("QFrame#ignoredBanner { background: #fff4ce; border: 1px solid #e0b000;"
                           " border-radius: 4px; } QFrame#ignoredBanner QLabel { color: #3d2e00; }")
        icon = QLabel()
        icon.setPixmap(status_icon("warning").pixmap(24, 24))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.text = QLabel()
        self.text.setObjectName("bannerText")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.install_button = QPushButton("Install system-wide…")
        self.install_button.setToolTip("Add these machines to /etc/nix/machines, the nix-daemon's "
                                       "builders for every user (asks for an administrator)")
        self.trust_button = QPushButton("How to trust…")
        self.trust_button.setToolTip("Make your user a trusted user of the nix-daemon "
                                     "(equivalent to root access)")
        self.install_button.clicked.connect(self.installRequested)
        self.trust_button.clicked.connect(self.trustRequested)
        buttons = QVBoxLayout()
        buttons.addWidget(self.install_button)
        buttons.addWidget(self.trust_button)
        buttons.addStretch(1)
        lay = QHBoxLayout(self)
        lay.addWidget(icon)
        lay.addWidget(self.text, 1)
        lay.addLayout(buttons)

    def set_message(self, message: str) -> None:
        self.text.setText(message[:1].upper() + message[1:] + ("" if message.endswith(".") else "."))


def own_heading(use: RunsUse, path, ignored: bool = False) -> str:
    return f"<b>Your machines</b> ({path}){_marked(use.own_text, use.which == 'own', ignored)}"


__all__ = ["IgnoredMachinesBanner", "LEVEL_COLOURS", "RunsUse", "SystemMachinesView",
           "own_heading", "runs_use"]
