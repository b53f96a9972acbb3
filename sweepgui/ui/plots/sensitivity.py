"""The sensitivity table of the run tab: ``sweepgui.results.sensitivities`` at the selected point
(or the grid centre), the numbers ``sweepgui sensitivity`` prints, computed off the GUI thread.

Loading the merged results and, when the density is not swept, re-running the built-in model
for df/drho can take seconds, so the table is computed by a ``BackgroundCall``; requests that
arrive meanwhile are merged into one more computation. Nothing is computed while the table is
not on show.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sweepgui.results.display import display_unit, format_value
from sweepgui.ui.background import BackgroundCall
from sweepgui.ui.plots.results import ResultsSource, sensitivities_at

DEBOUNCE_MS = 200
COLUMNS = ("parameter", "df/dx", "(1/f) df/dx", "apparent density error")


def _number(v: Any, unit: str | None) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{v + 0.0:.4g} {unit or ''}".rstrip()


class SensitivityPanel(QWidget):
    """Sensitivities of mode n at one grid point.

    ``source`` is a callable giving the ``ResultsSource`` of the sweep on show (None: none).

    Signals
    -------
    computed(object)
        A computation ended: the ``SensitivityList``, or None after an error (the header says it).
    """

    computed = Signal(object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.source: Callable[[], ResultsSource | None] = lambda: None
        self.has_results: Callable[[], bool] = lambda: True
        self.result = None
        self._at: dict[str, Any] | None = None
        self._where = "the grid centre"
        self._mode = 1
        self._version = 0
        self._dataset_key = None
        self._dataset = None
        self._pending = False
        self._call = BackgroundCall(self, name="sweepgui-sensitivity")
        self._call.done.connect(self._on_done)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._compute)
        self.header = QLabel("Sensitivities appear here once points have results.")
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setToolTip("As `sweepgui sensitivity` computes them: central differences on the "
                              "grid (unequal spacing allowed, one-sided at an edge or a missing "
                              "point), per bar, per kelvin, per kg/m3...")
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: #555;")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.header)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.notes)

    # -- requests ---------------------------------------------------------------------------
    def request(self, at: dict[str, Any] | None = None, where: str | None = None,
                mode: int | None = None, results_changed: bool = False) -> None:
        """The table is wanted at ``at`` (SI values; None: the grid centre) for ``mode``;
        ``results_changed``: new results arrived (the merged dataset is read again)."""
        if where is not None:
            self._at, self._where = at, where
        if mode is not None:
            self._mode = mode
        if results_changed:
            self._version += 1
        if self.isVisible():
            self._timer.start()

    def reset(self) -> None:
        """A new sweep: nothing on show, nothing cached."""
        self._at, self._where = None, "the grid centre"
        self._dataset_key = self._dataset = None
        self._version += 1
        self.result = None
        self.table.setRowCount(0)
        self.notes.setText("")
        self.header.setText("Sensitivities appear here once points have results.")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._timer.start()

    def is_computing(self) -> bool:
        return self._call.is_running() or self._timer.isActive()

    # -- computation ------------------------------------------------------------------------
    def _compute(self) -> None:
        if self._call.is_running():
            self._pending = True
            return
        if not self.has_results():
            self.header.setText("Sensitivities appear here once points have results.")
            return
        source = self.source()
        if source is None:
            self.header.setText("No sweep on show.")
            return
        key = (source.key(), self._version)
        dataset = self._dataset if key == self._dataset_key else None
        at, mode = self._at, self._mode
        self.header.setText(f"Computing the sensitivities of f{mode} at {self._where}…")
        self._call.start(lambda: (key, *sensitivities_at(source, at, mode, dataset)))

    def _on_done(self, result, error) -> None:
        if error is not None:
            self.result = None
            self.table.setRowCount(0)
            self.notes.setText("")
            self.header.setText(f"No sensitivities: {error}")
            self.computed.emit(None)
        else:
            key, dataset, sens = result
            self._dataset_key, self._dataset = key, dataset
            self._show(sens)
            self.computed.emit(sens)
        if self._pending:
            self._pending = False
            self._timer.start()

    def _show(self, sens) -> None:
        self.result = sens
        where = ", ".join(f"{p} = {format_value(v, display_unit(p), with_unit=True)}"
                          for p, v in sens.at.items())
        f = next((s.frequency for s in sens), None)
        head = f"mode {self._mode} at {self._where}"
        if where:
            head += f" ({where})"
        if f is not None and math.isfinite(f):
            head += f": f{self._mode} = {f:.6g} Hz"
        self.header.setText(head)
        self.table.setRowCount(len(sens))
        for r, s in enumerate(sens):
            cells = (s.parameter, _number(s.value, s.unit), _number(s.relative, s.relative_unit),
                     _number(s.apparent_density_error, s.apparent_density_error_unit)
                     if s.apparent_density_error_unit else "–")
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        notes = list(sens.notes)
        if not len(sens):
            notes.insert(0, "no numeric swept parameter with two or more values")
        self.notes.setText("\n".join(f"note: {n}" for n in notes))

    def rows(self) -> list[list[str]]:
        """The table as shown (for tests and copying)."""
        return [[self.table.item(r, c).text() for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]
