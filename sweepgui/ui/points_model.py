"""The per-point table of a run: a Qt-free list of rows and its Qt adapters.

``PointRows`` knows nothing of Qt: it holds one ``PointRow`` per sweep point and applies the
engine's events to them (tested without a display). ``PointsTableModel`` is the thin
``QAbstractTableModel`` over it, and ``PointsFilterProxy`` filters by text and status.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPixmap, QPainter

from sweepgui.nix import events as ev

#: statuses in the order a point moves through them
STATUSES = ("planned", "cached", "queued", "running", "built", "failed", "cancelled")
STATUS_COLOURS = {
    "planned": "#9e9e9e", "queued": "#9e9e9e", "cached": "#1e88e5", "running": "#fb8c00",
    "built": "#43a047", "failed": "#e53935", "cancelled": "#757575",
}
LOG_LINES_PER_POINT = 400  # enough to see why a point failed, bounded for 10,000-point sweeps


@dataclass
class PointRow:
    """One sweep point as the run panel shows it."""

    index: int
    name: str = ""
    coords: tuple = ()          # values of the swept columns, in column order
    status: str = "planned"
    machine: str = ""
    seconds: float | None = None
    store_path: str = ""
    error: str = ""
    log: deque = field(default_factory=lambda: deque(maxlen=LOG_LINES_PER_POINT))


def swept_columns(sweep) -> list[str]:
    """Dotted paths of the swept parameters, in the sweep's dimension order."""
    return [p for d in sweep.dimensions() for p in d.paths]


def sweep_coordinates(sweep) -> list[tuple]:
    """Values of the swept columns for every point, in the sweep's C order.

    Computed from ``dimensions()`` in one pass (cheap for 10,000 points), without validating points.
    """
    dims = sweep.dimensions()
    per_dim = []
    for d in dims:
        n = len(d.values[d.paths[0]])
        per_dim.append([tuple(d.values[p][k] for p in d.paths) for k in range(n)])
    if not per_dim:
        return [()]
    return [tuple(itertools.chain.from_iterable(c)) for c in itertools.product(*per_dim)]


class PointRows:
    """Qt-free state of every point of a run; ``apply`` returns the indices it changed."""

    def __init__(self) -> None:
        self.columns: list[str] = []
        self.rows: list[PointRow] = []

    def reset(self, columns: Sequence[str], coords: Sequence[tuple], names: Sequence[str] = ()) -> None:
        self.columns = list(columns)
        self.rows = [PointRow(i, names[i] if i < len(names) else f"p{i}", tuple(c))
                     for i, c in enumerate(coords)]

    def apply_plan(self, plan) -> None:
        """Names from the plan; points not run yet become cached or stay planned."""
        for p in plan.points:
            if 0 <= p.index < len(self.rows):
                row = self.rows[p.index]
                row.name = p.name
                if row.status in ("planned", "cached"):
                    row.status = "cached" if p.cached else "planned"
                    row.store_path = str(p.out_path) if p.cached else ""

    def mark_queued(self, only: Iterable[int] | None) -> None:
        targets = self.rows if only is None else [self.rows[i] for i in only if 0 <= i < len(self.rows)]
        for r in targets:
            if only is not None or r.status != "cached":
                r.status, r.error, r.seconds, r.machine = "queued", "", None, ""
                r.log.clear()

    def apply(self, event: ev.BuildEvent) -> int | None:
        """Apply one engine event; return the index of the changed row (None: no row changed)."""
        i = getattr(event, "index", None)
        if i is None or not (0 <= i < len(self.rows)):
            return None
        row = self.rows[i]
        if isinstance(event, ev.PointCached):
            row.status, row.store_path = "cached", event.store_path
        elif isinstance(event, ev.PointStarted):
            row.status, row.machine = "running", event.machine or "local"
        elif isinstance(event, ev.PointLog):
            row.log.append(event.line)
        elif isinstance(event, ev.PointFinished):
            row.status, row.store_path, row.seconds = "built", event.store_path, event.seconds
            row.machine = event.machine or row.machine or "local"
        elif isinstance(event, ev.PointFailed):
            row.status, row.error = "failed", event.reason
            row.machine = event.machine or row.machine
            if event.log_tail and not row.log:
                row.log.extend(event.log_tail)
        return i

    def finish(self, cancelled: bool) -> list[int]:
        """At the end of a run, points still queued or running were cancelled."""
        changed = []
        for r in self.rows:
            if r.status in ("queued", "running"):
                r.status = "cancelled" if cancelled else "failed"
                if not cancelled and not r.error:
                    r.error = "the run ended before this point was built"
                changed.append(r.index)
        return changed

    def failed_indices(self) -> list[int]:
        return [r.index for r in self.rows if r.status in ("failed", "cancelled")]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for r in self.rows:
            out[r.status] += 1
        return out


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

    FIXED_TAIL = ("machine", "seconds", "store path")

    def __init__(self, rows: PointRows, parent=None) -> None:
        super().__init__(parent)
        self._rows = rows
        self._icons: dict[str, QIcon] = {}
        self._failed_bg = QBrush(QColor(255, 205, 210))

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
        return ["#", "status", *self._rows.columns, "machine", "seconds", "store path"]

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
                return STATUSES.index(row.status)
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
        if role == Qt.ItemDataRole.BackgroundRole and row.status == "failed":
            return self._failed_bg
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row)
        return None

    def _tooltip(self, row: PointRow) -> str:
        lines = [f"point {row.index} ({row.name}): {row.status}"]
        lines += [f"{c} = {_fmt(v)}" for c, v in zip(self._rows.columns, row.coords)]
        if row.error:
            lines.append(f"error: {row.error}")
        if row.status == "failed" and row.log:
            lines.append("log tail:")
            lines += list(row.log)[-8:]
        return "\n".join(lines)


class PointsFilterProxy(QSortFilterProxyModel):
    """Filters rows by a text (matched in every column) and by status; sorts numbers as numbers."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._text = ""
        self._status: str | None = None
        self.setSortRole(SortRole)

    def set_text(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "_text", text.strip().lower()))

    def set_status(self, status: str | None) -> None:
        self._refilter(lambda: setattr(self, "_status", status or None))

    def _refilter(self, change) -> None:
        # Qt >= 6.10 replaces invalidateFilter() by begin/endFilterChange()
        if hasattr(self, "endFilterChange"):
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
