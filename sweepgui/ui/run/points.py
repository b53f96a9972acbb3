"""The per-point table of a run: the Qt adapters over the Qt-free rows.

``sweepgui.results.PointRows`` holds one row per sweep point and applies the engine's events
(tested without a display). ``PointsTableModel`` is the thin ``QAbstractTableModel`` over it,
and ``PointsFilterProxy`` filters by text and status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPixmap

from sweepgui.results import PointRow, PointRows
from sweepgui.results.rows import ORDER
from sweepgui.sweep import Status
from sweepgui.sweep.status import FAILED

STATUS_COLOURS = {
    Status.PLANNED: "#9e9e9e", Status.SKIPPED: "#9e9e9e", Status.QUEUED: "#9e9e9e",
    Status.CACHED: "#1e88e5", Status.RUNNING: "#fb8c00", Status.STOPPED: "#fb8c00",
    Status.BUILT: "#43a047", Status.FAILED: "#e53935", Status.UNBUILDABLE: "#e53935",
    Status.CANCELLED: "#757575",
}
# Qt >= 6.10 replaces invalidateFilter() by begin/endFilterChange(); the app supports 6.6 on
_FILTER_CHANGE = hasattr(QSortFilterProxyModel, "endFilterChange")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def _status_icon(colour: str) -> QIcon:
    pm = QPixmap(12, 12)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QColor(colour))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawEllipse(1, 1, 10, 10)
    p.end()
    return QIcon(pm)


SortRole = Qt.ItemDataRole.UserRole + 1
StatusRole = Qt.ItemDataRole.UserRole + 2
IndexRole = Qt.ItemDataRole.UserRole + 3


class PointsTableModel(QAbstractTableModel):
    """Table view of a ``PointRows``: point number, swept values, status, machine, seconds, store path."""

    FIXED_TAIL = ("machine", "seconds", "modes at a node", "store path")

    def __init__(self, rows: PointRows, parent=None) -> None:
        super().__init__(parent)
        self._rows = rows
        self._icons: dict[Status, QIcon] = {}
        self._failed_bg = QBrush(QColor(255, 205, 210))
        self._node_fg = QBrush(QColor("#9a6700"))  # amber: a warning, as on the route line

    @property
    def rows(self) -> PointRows:
        return self._rows

    def reset(self) -> None:
        """Call after the row list was replaced."""
        self.beginResetModel()
        self.endResetModel()

    def rows_changed(self, indices: Iterable[int]) -> None:
        """Tell views that these rows changed: one signal per contiguous run of rows.

        Runs, not one span from the first to the last: a sorting/filtering proxy re-examines
        every row of a span, which costs seconds on a 10,000-point table."""
        idx = sorted(set(indices))
        if not idx:
            return
        if len(idx) == len(self._rows.rows):
            self.reset_data()
            return
        runs, start = [], idx[0]
        for a, b in zip(idx, idx[1:]):
            if b != a + 1:
                runs.append((start, a))
                start = b
        runs.append((start, idx[-1]))
        if len(runs) > 64:  # scattered: one span is cheaper than many signals
            runs = [(idx[0], idx[-1])]
        last = self.columnCount() - 1
        for a, b in runs:
            self.dataChanged.emit(self.index(a, 0), self.index(b, last))

    def reset_data(self) -> None:
        """Every row changed (e.g. a new run): one layout change instead of per-row signals."""
        self.layoutAboutToBeChanged.emit()
        self.layoutChanged.emit()
        last = self.columnCount() - 1
        if self._rows.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows.rows) - 1, last))

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._rows.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._column_names())

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return super().headerData(section, orientation, role)
        return self.column_name(section)

    def _column_names(self) -> list[str]:
        # status first: it is what a narrow table must still show
        return ["#", "status", *self._rows.columns, *self.FIXED_TAIL]

    def column_name(self, section: int) -> str:
        names = self._column_names()
        return names[section] if 0 <= section < len(names) else ""

    def _value(self, row: PointRow, col: int) -> Any:
        if col == 0:
            return row.index
        if col == 1:
            return row.status
        k = col - 2
        if k < len(self._rows.columns):
            return row.coords[k] if k < len(row.coords) else None
        tail = self.FIXED_TAIL[k - len(self._rows.columns)]
        if tail == "machine":
            return row.machine
        if tail == "seconds":
            return row.seconds
        if tail == "modes at a node":
            return ", ".join(str(m) for m in row.node_modes)
        return row.store_path

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            v = self._value(row, col)
            if isinstance(v, float) and self.column_name(col) == "seconds":
                return f"{v:.2f}"
            return _fmt(v)
        if role == SortRole:
            v = self._value(row, col)
            if self.column_name(col) == "status":
                return ORDER.index(row.status)
            # numbers sort as numbers; None sorts first
            return (-1e308 if v is None else v) if isinstance(v, (int, float)) or v is None else str(v)
        if role == StatusRole:
            return row.status
        if role == IndexRole:
            return row.index
        if role == Qt.ItemDataRole.DecorationRole and self.column_name(col) == "status":
            if row.status not in self._icons:
                self._icons[row.status] = _status_icon(STATUS_COLOURS[row.status])
            return self._icons[row.status]
        if role == Qt.ItemDataRole.BackgroundRole and row.status in FAILED:
            return self._failed_bg
        if role == Qt.ItemDataRole.ToolTipRole:
            if self.column_name(col) == "modes at a node":
                return row.node_note or ("No mode up to the number reported sits at a node of "
                                         "the drive or pick-up position")
            return self._tooltip(row)
        if role == Qt.ItemDataRole.ForegroundRole and self.column_name(col) == "modes at a node":
            return self._node_fg if row.node_modes else None
        return None

    def _tooltip(self, row: PointRow) -> str:
        lines = [f"point {row.index} ({row.name}): {row.status}"]
        lines += [f"{c} = {_fmt(v)}" for c, v in zip(self._rows.columns, row.coords)]
        if row.error:
            lines.append(f"error: {row.error}")
        if row.node_note:
            lines.append(row.node_note)
        if row.status in FAILED and row.log:
            lines.append("log tail:")
            lines += list(row.log)[-8:]
        return "\n".join(lines)


class PointsFilterProxy(QSortFilterProxyModel):
    """Filters rows by a text (matched in every column) and by status; sorts numbers as numbers."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._text = ""
        self._status: Status | None = None
        self.setSortRole(SortRole)

    def set_text(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "_text", text.strip().lower()))

    def set_status(self, status: Status | None) -> None:
        """Show only rows of ``status`` (None: every row)."""
        self._refilter(lambda: setattr(self, "_status", status or None))

    def _refilter(self, change: Callable[[], None]) -> None:
        if _FILTER_CHANGE:
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            change()
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent) -> bool:
        model = self.sourceModel()
        if self._status is not None:
            if model.data(model.index(source_row, 0, source_parent), StatusRole) != self._status:
                return False
        if not self._text:
            return True
        for col in range(model.columnCount()):
            text = model.data(model.index(source_row, col, source_parent), Qt.ItemDataRole.DisplayRole)
            if text and self._text in text.lower():
                return True
        return False
