"""Help > Check Nix set-up: the items of ``sweepgui doctor``, each with its fix.

The check (:func:`sweepgui.nix.doctor.run_doctor`, a few Nix subprocesses) runs on its own
QThread (:class:`~sweepgui.ui.background.BackgroundCall`); the dialog shows "Checking…"
meanwhile and may be closed at any time: the thread ends by itself when the check returns.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from sweepgui.ui.background import BackgroundCall
from sweepgui.ui.icons import status_icon
from sweepgui.ui.nix_status import LEVEL_COLOURS

MARKS = {"ok": "ok     ", "warning": "warning", "error": "ERROR  "}
OK_COLOUR = "#2e7d32"


def report_text(report) -> str:
    """The report as plain text (what ``sweepgui doctor`` prints), for bug reports."""
    s = report.setup
    head = s.summary() + (f" -- user {s.user}, {s.conf_file}" if s.usable else "")
    lines = [head]
    lines += [f"  {MARKS.get(c.level, c.level)} {c.name}: {c.message}" for c in report.checks]
    lines.append(verdict(report))
    return "\n".join(lines) + "\n"


def verdict(report) -> str:
    errors = sum(c.level == "error" for c in report.checks)
    warnings = sum(c.level == "warning" for c in report.checks)
    if errors:
        return f"{errors} problem(s) stop runs: fix the items marked as errors"
    if warnings:
        return f"Nothing stops a run; {warnings} item(s) to look at"
    return "Nothing stops a run"


class CheckRow(QFrame):
    """One item: level icon, name, and the whole message (wrapped, selectable)."""

    def __init__(self, check, name_width: int = 0, parent: QWidget | None = None):
        super().__init__(parent)
        self.check = check
        self.setObjectName(f"check:{check.name}")
        self.setProperty("level", check.level)
        size = self.style().pixelMetric(self.style().PixelMetric.PM_SmallIconSize)
        self.icon = QLabel()
        self.icon.setPixmap(status_icon(check.level).pixmap(size, size))
        self.icon.setToolTip(check.level)
        self.icon.setFixedWidth(size + 4)
        self.name = QLabel(f"<b>{check.name}</b>")
        if name_width:
            self.name.setFixedWidth(name_width)
        self.message = QLabel(check.message)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        colour = LEVEL_COLOURS.get(check.level)
        if colour:
            self.message.setStyleSheet(f"color: {colour};")
        top = Qt.AlignmentFlag.AlignTop
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(8)
        lay.addWidget(self.icon, 0, top)
        lay.addWidget(self.name, 0, top)
        lay.addWidget(self.message, 1, top)


class SetupDialog(QDialog):
    """Checks the Nix set-up in the background and lists the items (see the module doc).

    Parameters
    ----------
    machines_file : Path, optional
        The user's machines file to check (default: ``~/.config/sweepgui/machines`` when
        it exists); the attribute can be changed before :meth:`check`.

    Signals
    -------
    checked(object) : the :class:`~sweepgui.nix.doctor.DoctorReport` of a finished check.
    """

    checked = Signal(object)

    def __init__(self, machines_file: Path | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Nix set-up")
        self.setObjectName("SetupDialog")
        self.machines_file = machines_file
        self.report = None
        self.error = ""
        self.rows: list[CheckRow] = []
        self._call = BackgroundCall(self, name="sweepgui-doctor")
        self._call.done.connect(self._on_done)

        self.title = QLabel("Nix set-up")
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.state = QLabel("Checking…")
        self.state.setObjectName("state")
        self.state.setWordWrap(True)
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self._body = QWidget()
        self._list = QVBoxLayout(self._body)
        self._list.setSpacing(10)
        self._list.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self._body)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.again_button = buttons.addButton("Check again", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button = buttons.addButton("Copy report", QDialogButtonBox.ButtonRole.ActionRole)
        self.again_button.clicked.connect(self.check)
        self.copy_button.clicked.connect(self.copy_report)
        self.copy_button.setToolTip("Copy the report as plain text (e.g. for a bug report)")
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.state)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
        self.resize(760, 520)
        self._update_buttons()

    # -- checking ----------------------------------------------------------------------------
    def is_checking(self) -> bool:
        return self._call.is_running()

    def check(self) -> None:
        """Check the set-up again (off the GUI thread); ignored while a check runs."""
        if self._call.is_running():
            return
        self.state.setText("Checking…")
        self.state.setStyleSheet("")
        path = Path(self.machines_file).expanduser() if self.machines_file else None

        def work():
            from sweepgui.nix.doctor import run_doctor

            # a file not created yet is no problem (the editor's default before a first save)
            return run_doctor(path if path is not None and path.exists() else None, refresh=True)

        self._call.start(work)
        self._update_buttons()

    def shutdown(self, timeout_s: float = 5.0) -> bool:
        """Wait (bounded) for a check under way, e.g. when the window closes."""
        return self._call.wait(timeout_s)

    def _on_done(self, report, error) -> None:
        if error is not None:
            self.report, self.error = None, f"The check itself failed: {error}"
            self.title.setText("Nix set-up")
            self._show_rows([])
            self.state.setText(self.error)
            self.state.setStyleSheet(f"color: {LEVEL_COLOURS['error']};")
        else:
            self.report, self.error = report, ""
            s = report.setup
            self.title.setText(s.summary() + (f" — user {s.user}, {s.conf_file}" if s.usable else ""))
            self._show_rows(report.checks)
            self.state.setText(verdict(report))
            levels = {c.level for c in report.checks}
            colour = (LEVEL_COLOURS["error"] if "error" in levels else
                      LEVEL_COLOURS["warning"] if "warning" in levels else OK_COLOUR)
            self.state.setStyleSheet(f"color: {colour}; font-weight: bold;")
            self.checked.emit(report)
        self._update_buttons()

    def _show_rows(self, checks) -> None:
        for row in self.rows:
            self._list.removeWidget(row)
            row.hide()
            row.setParent(None)  # out of the dialog at once; freed by Qt's event loop
            row.deleteLater()
        metrics = self.fontMetrics()
        bold = self.font()
        bold.setBold(True)
        width = max((QFontMetrics(bold).horizontalAdvance(c.name) for c in checks), default=0)
        self.rows = [CheckRow(c, width + metrics.averageCharWidth(), self._body) for c in checks]
        for i, row in enumerate(self.rows):
            self._list.insertWidget(i, row)

    def _update_buttons(self) -> None:
        busy = self._call.is_running()
        self.again_button.setEnabled(not busy)
        self.copy_button.setEnabled(not busy and self.report is not None)

    def copy_report(self) -> None:
        if self.report is not None:
            QGuiApplication.clipboard().setText(report_text(self.report))

    def items(self) -> list[tuple[str, str, str]]:
        """(name, level, message) of the rows on show."""
        return [(r.check.name, r.check.level, r.check.message) for r in self.rows]
