"""The per-point table of a run: a Qt-free list of rows and its Qt adapters.

``PointRows`` knows nothing of Qt: it holds one ``PointRow`` per sweep point and applies the
engine's events to them (tested without a display). ``PointsTableModel`` is the thin
``QAbstractTableModel`` over it, and ``PointsFilterProxy`` filters by text and status.
"""

from __future__ import annotations

import functools
import itertools
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPixmap

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
    node_modes: tuple = ()      # modes with a node at the drive or pick-up (not in the spectrum)
    node_note: str = ""         # which modes sit at which position, in words


# -- modes at a node of the drive or pick-up ----------------------------------------------------
# A mode with a node at the drive or pick-up position is not excited or not seen there: its
# peak is missing from the spectrum while the model still lists its frequency (drive and
# pick-up at mid-span hide mode 2 of a clamped tube). The result files carry no mode shapes,
# so the shapes are those of a uniform Euler-Bernoulli beam with the point's supports, from a
# small finite-element model (exact enough for where the nodes are; fluid, axial force and
# shear move them little).

NODE_THRESHOLD = 0.05  # |shape| at the position below 5 % of its largest value: "at a node"
_MAX_SHAPES = 50       # modes looked at (more are rarely reported, and cost more to find)
_HELD = {  # (x = 0, x = L): which of (w, slope) each support holds
    "clamped-clamped": ((0, 1), (0, 1)),
    "pinned-pinned": ((0,), (0,)),
    "clamped-free": ((0, 1), ()),
    "clamped-pinned": ((0, 1), (0,)),
}


@functools.lru_cache(maxsize=16)
def _mode_shapes(boundary: str, modes: int):
    """(elements, shapes): transverse displacement and slope dofs of the lowest ``modes``
    modes of a uniform beam of unit length, each scaled to a largest |w| of 1."""
    import numpy as np

    ne = max(48, 6 * modes)
    h = 1.0 / ne
    k = np.array([[12, 6 * h, -12, 6 * h], [6 * h, 4 * h * h, -6 * h, 2 * h * h],
                  [-12, -6 * h, 12, -6 * h], [6 * h, 2 * h * h, -6 * h, 4 * h * h]]) / h ** 3
    m = np.array([[156, 22 * h, 54, -13 * h], [22 * h, 4 * h * h, 13 * h, -3 * h * h],
                  [54, 13 * h, 156, -22 * h], [-13 * h, -3 * h * h, -22 * h, 4 * h * h]]) * h / 420
    ndof = 2 * (ne + 1)
    kk, mm = np.zeros((ndof, ndof)), np.zeros((ndof, ndof))
    for e in range(ne):
        sl = slice(2 * e, 2 * e + 4)
        kk[sl, sl] += k
        mm[sl, sl] += m
    left, right = _HELD[boundary]
    held = set(left) | {ndof - 2 + d for d in right}
    free = np.array([i for i in range(ndof) if i not in held])
    # K phi = lambda M phi through M's Cholesky factor (numpy only: no scipy import on the
    # GUI thread, where the forms ask too)
    lc_inv = np.linalg.inv(np.linalg.cholesky(mm[np.ix_(free, free)]))
    a = lc_inv @ kk[np.ix_(free, free)] @ lc_inv.T
    _, z = np.linalg.eigh(0.5 * (a + a.T))
    vec = (lc_inv.T @ z)[:, :min(modes, free.size)]
    full = np.zeros((ndof, vec.shape[1]))
    full[free] = vec
    full /= np.abs(full[0::2]).max(axis=0)
    return ne, full


def _shape_at(boundary: str, modes: int, x: float):
    """|w| of each of the lowest ``modes`` modes at ``x`` (fraction of the length), 0..1."""
    import numpy as np

    ne, full = _mode_shapes(boundary, modes)
    s = min(max(float(x), 0.0), 1.0) * ne
    e = min(int(s), ne - 1)
    t, h = s - e, 1.0 / ne
    n = np.array([1 - 3 * t * t + 2 * t ** 3, h * (t - 2 * t * t + t ** 3),
                  3 * t * t - 2 * t ** 3, h * (t ** 3 - t * t)])
    return np.abs(n @ full[2 * e:2 * e + 4])


def modes_at_nodes(boundary: str, drive: float, pick: float, modes: int) -> tuple[int, ...]:
    """Numbers (1 = the lowest) of the modes up to ``modes`` with a node at the drive or the
    pick-up position (fractions of the length): their peaks are missing from the spectrum."""
    if boundary not in _HELD or modes < 1:
        return ()
    n = min(int(modes), _MAX_SHAPES)
    at_drive, at_pick = _shape_at(boundary, n, drive), _shape_at(boundary, n, pick)
    return tuple(i + 1 for i in range(n)
                 if at_drive[i] < NODE_THRESHOLD or at_pick[i] < NODE_THRESHOLD)


def _node_note(boundary: str, drive: float, pick: float, modes: tuple[int, ...],
               count: int) -> str:
    if not modes:
        return ""
    n = min(count, _MAX_SHAPES)
    d, p = _shape_at(boundary, n, drive), _shape_at(boundary, n, pick)
    parts = []
    for k in modes:
        where = [w for w, v in (("drive", d[k - 1]), ("pick-up", p[k - 1])) if v < NODE_THRESHOLD]
        parts.append(f"mode {k} has a node at the {' and the '.join(where)} "
                     f"({' / '.join(f'{x:g}' for x in (drive, pick))})")
    return ("; ".join(parts) + ": its peak is missing from the spectrum, while f"
            f"{modes[0]} is still listed. Move the drive or pick-up off the node to see it.")


_NODE_PATHS = ("pipe.boundary", "analysis.excitation_position", "analysis.response_position",
               "analysis.modes")


def point_node_modes(sweep) -> list[tuple[tuple[int, ...], str]] | None:
    """(modes at a node, note) of every point of ``sweep`` in point order, or None when the
    sweep runs a custom model (whose positions mean nothing here). Cheap for 10,000 points:
    computed once per distinct (boundary, positions, modes)."""
    if getattr(getattr(sweep, "model", None), "executable", None):
        return None
    base = sweep.base_values()
    swept = [p for p in _NODE_PATHS if any(p in d.paths for d in sweep.dimensions())]

    @functools.lru_cache(maxsize=256)
    def of(key: tuple) -> tuple[tuple[int, ...], str]:
        boundary, drive, pick, modes = key
        found = modes_at_nodes(boundary, drive, pick, modes)
        return found, _node_note(boundary, drive, pick, found, modes)

    def key_of(values: dict) -> tuple:
        return tuple(values.get(p, base.get(p)) for p in _NODE_PATHS)

    size = sweep.size
    if not swept:
        return [of(key_of({}))] * size
    return [of(key_of(sweep.coordinates(i))) for i in range(size)]


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
    """Qt-free state of every point of a run; ``apply`` returns the indices it changed.

    The count of each status is kept as rows change (``counts()`` is O(1)): the run panel
    asks for it after every batch of events, and counting 10,000 rows each time cost about a
    millisecond per Nix event. Statuses change only through these methods.
    """

    def __init__(self) -> None:
        self.columns: list[str] = []
        self.rows: list[PointRow] = []
        self._counts: dict[str, int] = dict.fromkeys(STATUSES, 0)

    def _set(self, row: PointRow, status: str) -> None:
        if row.status != status:
            self._counts[row.status] -= 1
            self._counts[status] += 1
            row.status = status

    def reset(self, columns: Sequence[str], coords: Sequence[tuple], names: Sequence[str] = ()) -> None:
        self.columns = list(columns)
        self.rows = [PointRow(i, names[i] if i < len(names) else f"p{i}", tuple(c))
                     for i, c in enumerate(coords)]
        self._counts = dict.fromkeys(STATUSES, 0)
        self._counts["planned"] = len(self.rows)

    def apply_plan(self, plan, node_modes: Sequence[tuple] | None = None) -> None:
        """Names from the plan; points not run yet become cached or stay planned.
        ``node_modes``: per point, (modes at a node of the drive or pick-up, note)."""
        for p in plan.points:
            if 0 <= p.index < len(self.rows):
                row = self.rows[p.index]
                row.name = p.name
                if row.status in ("planned", "cached"):
                    self._set(row, "cached" if p.cached else "planned")
                    row.store_path = str(p.out_path) if p.cached else ""
        if node_modes is not None and len(node_modes) == len(self.rows):
            for row, (modes, note) in zip(self.rows, node_modes):
                row.node_modes, row.node_note = modes, note

    def mark_queued(self, only: Iterable[int] | None) -> None:
        targets = self.rows if only is None else [self.rows[i] for i in only if 0 <= i < len(self.rows)]
        for r in targets:
            if only is not None or r.status != "cached":
                self._set(r, "queued")
                r.error, r.seconds, r.machine = "", None, ""
                r.log.clear()

    def apply(self, event: ev.BuildEvent) -> int | None:
        """Apply one engine event; return the index of the changed row (None: no row changed)."""
        i = getattr(event, "index", None)
        if i is None or not (0 <= i < len(self.rows)):
            return None
        row = self.rows[i]
        if isinstance(event, ev.PointCached):
            self._set(row, "cached")
            row.store_path = event.store_path
        elif isinstance(event, ev.PointStarted):
            self._set(row, "running")
            row.machine = event.machine or "local"
        elif isinstance(event, ev.PointLog):
            row.log.append(event.line)
        elif isinstance(event, ev.PointFinished):
            self._set(row, "built")
            row.store_path, row.seconds = event.store_path, event.seconds
            row.machine = event.machine or row.machine or "local"
        elif isinstance(event, ev.PointFailed):
            self._set(row, "failed")
            row.error = event.reason
            row.machine = event.machine or row.machine
            if event.log_tail and not row.log:
                row.log.extend(event.log_tail)
        return i

    def finish(self, cancelled: bool) -> list[int]:
        """At the end of a run, points still queued or running were cancelled (or, when the
        run was not cancelled, failed: it ended before building them)."""
        if not self._counts["queued"] and not self._counts["running"]:
            return []  # nothing open (the usual case): no pass over the rows
        changed = []
        for r in self.rows:
            if r.status in ("queued", "running"):
                self._set(r, "cancelled" if cancelled else "failed")
                if not cancelled and not r.error:
                    r.error = "the run ended before this point was built"
                changed.append(r.index)
        return changed

    def failed_indices(self) -> list[int]:
        """Points that failed (not the cancelled ones: the next Run builds those anyway)."""
        if not self._counts["failed"]:
            return []
        return [r.index for r in self.rows if r.status == "failed"]

    def has_failed(self) -> bool:
        return self._counts["failed"] > 0

    def counts(self) -> dict[str, int]:
        return dict(self._counts)


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
        self._icons: dict[str, QIcon] = {}
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
