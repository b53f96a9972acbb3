"""The points of a run as rows: each point's status, machine, time, log, and the counts.

Qt-free: :class:`PointRows` applies the engine's events (``sweepgui.nix.events``) to one
:class:`PointRow` per sweep point; the GUI's table is a thin ``QAbstractTableModel`` over it.
Statuses are :class:`~sweepgui.sweep.Status` members, the vocabulary the engine and the CLI use.

The rows also say which modes a point's drive or pick-up position cannot show (a node there):
see :func:`point_node_modes`.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from sweepgui.nix import events as ev
from sweepgui.params import SUPPORTS
from sweepgui.sweep import Status, Sweep
from sweepgui.sweep.status import FAILED

if TYPE_CHECKING:  # the plan's module starts Nix-side imports a table does not need
    from sweepgui.nix.plan import Plan

#: every status in the order a point moves through them (how the table sorts its status column)
ORDER: tuple[Status, ...] = tuple(Status)
#: the statuses a row of the app takes (what its status filter offers)
ROW_STATUSES = (Status.PLANNED, Status.CACHED, Status.QUEUED, Status.RUNNING, Status.BUILT,
                Status.FAILED, Status.CANCELLED)
LOG_LINES_PER_POINT = 400  # enough to see why a point failed, bounded for 10,000-point sweeps

NodeModes = tuple[tuple[int, ...], str]  # (modes at a node of the drive or pick-up, note)


def _log() -> deque[str]:
    return deque(maxlen=LOG_LINES_PER_POINT)


@dataclass
class PointRow:
    """One sweep point as the run panel shows it.

    Parameters
    ----------
    index
        The point's index in the sweep.
    name
        Its name in the plan (``p0`` until the plan is known).
    coords
        Values of the swept columns, in column order.
    status
        Where the point is; changed only through :class:`PointRows`, which keeps the counts.
    machine, seconds, store_path, error
        Who built it, in how long, its result, and why it failed.
    log
        The last lines of its build log.
    node_modes, node_note
        Modes with a node at the drive or pick-up (not in the spectrum), and which in words.
    """

    index: int
    name: str = ""
    coords: tuple[Any, ...] = ()
    status: Status = Status.PLANNED
    machine: str = ""
    seconds: float | None = None
    store_path: str = ""
    error: str = ""
    log: deque[str] = field(default_factory=_log)
    node_modes: tuple[int, ...] = ()
    node_note: str = ""


class PointRows:
    """The state of every point of a run; ``apply`` returns the index it changed.

    The count of each status is kept as rows change (``counts()`` is O(1)): the run panel
    asks for it after every batch of events, and counting 10,000 rows each time cost about a
    millisecond per Nix event. Statuses change only through these methods.

    Cancelled is not failed: a cancelled point is built by the next Run, so neither
    ``has_failed`` nor ``failed_indices`` (what "Rerun failed" builds) count it.
    """

    def __init__(self) -> None:
        self.columns: list[str] = []
        self.rows: list[PointRow] = []
        self._counts: dict[Status, int] = dict.fromkeys(Status, 0)

    def _set(self, row: PointRow, status: Status) -> None:
        if row.status != status:
            self._counts[row.status] -= 1
            self._counts[status] += 1
            row.status = status

    def reset(self, columns: Sequence[str], coords: Sequence[tuple[Any, ...]],
              names: Sequence[str] = ()) -> None:
        """One planned row per point (``names``: the plan's, else ``p<index>``)."""
        self.columns = list(columns)
        self.rows = [PointRow(i, names[i] if i < len(names) else f"p{i}", tuple(c))
                     for i, c in enumerate(coords)]
        self._counts = dict.fromkeys(Status, 0)
        self._counts[Status.PLANNED] = len(self.rows)

    def apply_plan(self, plan: Plan, node_modes: Sequence[NodeModes] | None = None) -> None:
        """Names from the plan; points not run yet become cached or stay planned.
        ``node_modes``: per point, (modes at a node of the drive or pick-up, note)."""
        for p in plan.points:
            if 0 <= p.index < len(self.rows):
                row = self.rows[p.index]
                row.name = p.name
                if row.status in (Status.PLANNED, Status.CACHED):
                    self._set(row, Status.CACHED if p.cached else Status.PLANNED)
                    row.store_path = str(p.out_path) if p.cached else ""
        if node_modes is not None and len(node_modes) == len(self.rows):
            for row, (modes, note) in zip(self.rows, node_modes):
                row.node_modes, row.node_note = modes, note

    def mark_queued(self, only: Iterable[int] | None) -> None:
        """A run starts: ``only`` these points, or (None) every point not cached."""
        targets = self.rows if only is None else [self.rows[i] for i in only if 0 <= i < len(self.rows)]
        for r in targets:
            if only is not None or r.status != Status.CACHED:
                self._set(r, Status.QUEUED)
                r.error, r.seconds, r.machine = "", None, ""
                r.log.clear()

    def apply(self, event: ev.BuildEvent) -> int | None:
        """Apply one engine event; return the index of the changed row (None: no row changed)."""
        if not isinstance(event, (ev.PointCached, ev.PointStarted, ev.PointLog, ev.PointFinished,
                                  ev.PointFailed)) or not 0 <= event.index < len(self.rows):
            return None  # a run-wide event (progress, messages, the end)
        row = self.rows[event.index]
        if isinstance(event, ev.PointCached):
            self._set(row, Status.CACHED)
            row.store_path = event.store_path
        elif isinstance(event, ev.PointStarted):
            self._set(row, Status.RUNNING)
            row.machine = event.machine or "local"
        elif isinstance(event, ev.PointLog):
            row.log.append(event.line)
        elif isinstance(event, ev.PointFinished):
            self._set(row, Status.BUILT)
            row.store_path, row.seconds = event.store_path, event.seconds
            row.machine = event.machine or row.machine or "local"
        else:
            self._set(row, Status.FAILED)
            row.error = event.reason
            row.machine = event.machine or row.machine
            if event.log_tail and not row.log:
                row.log.extend(event.log_tail)
        return event.index

    def finish(self, cancelled: bool) -> list[int]:
        """At the end of a run, points still queued or running were cancelled (or, when the
        run was not cancelled, failed: it ended before building them)."""
        if not self._counts[Status.QUEUED] and not self._counts[Status.RUNNING]:
            return []  # nothing open (the usual case): no pass over the rows
        changed = []
        for r in self.rows:
            if r.status in (Status.QUEUED, Status.RUNNING):
                self._set(r, Status.CANCELLED if cancelled else Status.FAILED)
                if not cancelled and not r.error:
                    r.error = "the run ended before this point was built"
                changed.append(r.index)
        return changed

    def failed_indices(self) -> list[int]:
        """Points that failed (not the cancelled ones: the next Run builds those anyway)."""
        if not self.has_failed():
            return []
        return [r.index for r in self.rows if r.status in FAILED]

    def has_failed(self) -> bool:
        return any(self._counts[s] for s in FAILED)

    def counts(self) -> dict[Status, int]:
        """Rows per status (every status, zeros included)."""
        return dict(self._counts)


# -- modes at a node of the drive or pick-up ----------------------------------------------------
# A mode with a node at the drive or pick-up position is not excited or not seen there: its
# peak is missing from the spectrum while the model still lists its frequency (drive and
# pick-up at mid-span hide mode 2 of a clamped tube). The result files carry no mode shapes,
# so the shapes are those of a uniform Euler-Bernoulli beam with the point's supports, from a
# small finite-element model (exact enough for where the nodes are; fluid, axial force and
# shear move them little).

NODE_THRESHOLD = 0.05  # |shape| at the position below 5 % of its largest value: "at a node"
_MAX_SHAPES = 50       # modes looked at (more are rarely reported, and cost more to find)
_NODE_PATHS = ("pipe.boundary", "analysis.excitation_position", "analysis.response_position",
               "analysis.modes")
FloatArray = npt.NDArray[np.float64]


@functools.lru_cache(maxsize=16)
def _mode_shapes(boundary: str, modes: int) -> tuple[int, FloatArray]:
    """(elements, shapes): transverse displacement and slope dofs of the lowest ``modes``
    modes of a uniform beam of unit length, each scaled to a largest |w| of 1."""
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
    left, right = SUPPORTS[boundary].held
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


def _shape_at(boundary: str, modes: int, x: float) -> FloatArray:
    """|w| of each of the lowest ``modes`` modes at ``x`` (fraction of the length), 0..1."""
    ne, full = _mode_shapes(boundary, modes)
    s = min(max(float(x), 0.0), 1.0) * ne
    e = min(int(s), ne - 1)
    t, h = s - e, 1.0 / ne
    n = np.array([1 - 3 * t * t + 2 * t ** 3, h * (t - 2 * t * t + t ** 3),
                  3 * t * t - 2 * t ** 3, h * (t ** 3 - t * t)])
    shape: FloatArray = np.abs(n @ full[2 * e:2 * e + 4])
    return shape


def modes_at_nodes(boundary: str, drive: float, pick: float, modes: int) -> tuple[int, ...]:
    """Numbers (1 = the lowest) of the modes up to ``modes`` with a node at the drive or the
    pick-up position (fractions of the length): their peaks are missing from the spectrum."""
    if boundary not in SUPPORTS or modes < 1:
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


def point_node_modes(sweep: Sweep) -> list[NodeModes] | None:
    """(modes at a node, note) of every point of ``sweep`` in point order, or None when the
    sweep runs a custom model (whose positions mean nothing here). Cheap for 10,000 points:
    computed once per distinct (boundary, positions, modes)."""
    if sweep.model.executable:
        return None
    base = sweep.base_values()
    swept = [p for p in _NODE_PATHS if any(p in d.paths for d in sweep.dimensions())]

    @functools.lru_cache(maxsize=256)
    def of(key: tuple[str, float, float, int]) -> NodeModes:
        boundary, drive, pick, modes = key
        found = modes_at_nodes(boundary, drive, pick, modes)
        return found, _node_note(boundary, drive, pick, found, modes)

    def key_of(values: dict[str, Any]) -> tuple[str, float, float, int]:
        boundary, drive, pick, modes = (values[p] if p in values else base[p] for p in _NODE_PATHS)
        return str(boundary), float(drive), float(pick), int(modes)

    if not swept:
        return [of(key_of({}))] * sweep.size
    return [of(key_of(sweep.coordinates(i))) for i in range(sweep.size)]
