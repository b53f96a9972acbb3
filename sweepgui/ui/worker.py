"""The bridge between the engine (a plain generator of events) and the GUI thread.

``RunController`` lives on the GUI thread. For each run (and each plan) it starts a QThread with
a worker object (created without a parent, then moved to the thread) that iterates
``Engine.run``/``Engine.plan``. The worker never touches widgets: it appends events to a
lock-protected buffer and emits one queued ``wake`` signal when the buffer turns non-empty. The
controller drains the buffer at most every ``interval_ms`` and emits the batch as ``eventsReady``:
a burst of 10,000 cached points costs a few batches, not 10,000 queued signals. Result JSON files
are read by the worker's loader thread (``PointResult`` arrays), so the GUI thread never waits on
the disk and the engine's events are never held back by loading.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Signal, Slot

from sweepgui.nix import events as ev

from .plots_data import PointResult, summarize_result
from .plots_layout import SweepLayout


@dataclass(frozen=True)
class ResultLoaded:
    """A point's result, loaded by the worker right after its PointFinished/PointCached event."""

    index: int
    result: PointResult


@dataclass(frozen=True)
class ResultMissing:
    """A finished point whose result could not be read (message names the path and the reason)."""

    index: int
    message: str


@dataclass(frozen=True)
class RunCrashed:
    """The engine raised: the run is over. ``message`` is for the user, ``detail`` for the log."""

    message: str
    detail: str = ""


@dataclass(frozen=True)
class PlanOutcome:
    """What a plan request produced: the engine's plan (or None with an error) and the table rows.

    ``route_warnings``: what a run must say first about its builders (e.g. the nix-daemon
    ignores the machines file); ``route_error``: why nothing could build the points (Run is
    refused). Both from ``Engine.route`` for the sweep and the machines file of the request.
    """

    sweep: Any
    plan: Any
    layout: SweepLayout | None
    error: str = ""
    route_warnings: tuple[str, ...] = ()
    route_error: str = ""
    node_modes: Any = None  # per point: (modes at a node of drive or pick-up, note), or None


def _default_engine(sweep):
    from sweepgui.nix import Engine

    return Engine()


def load_point_result(index: int, store_path: str) -> PointResult:
    """Read a built point's result JSON and keep what the plots need (runs in the worker)."""
    from sweepgui.nix.store import read_result

    return summarize_result(index, read_result(store_path))


def _user_message(exc: BaseException) -> str:
    # errors users can cause carry their own message (SweepError, ParameterError, ...)
    text = str(exc).strip() or type(exc).__name__
    return text if isinstance(exc, (ValueError, OSError, RuntimeError)) else f"{type(exc).__name__}: {text}"


def load_result_item(loader: Callable[[int, str], PointResult], index: int,
                     store_path: str) -> ResultLoaded | ResultMissing:
    """A point's loaded result, or why it cannot be read: a broken result never ends a run
    or a load of cached results."""
    try:
        return ResultLoaded(index, loader(index, store_path))
    except Exception as exc:
        return ResultMissing(index, f"point {index}: cannot read the result in {store_path}: {exc}")


# Threads and their workers stay referenced here until they have been waited for: if the panel
# (and with it the controller) is deleted mid-plan, Python must not destroy a running QThread,
# which would abort the process.
_KEEP_ALIVE: set = set()


class _Buffer:
    """Events from the worker thread, taken in batches by the GUI thread.

    A deque: taking a batch costs the batch, not the backlog (slicing a list copied the
    whole backlog at every batch of a 10,000-point burst)."""

    def __init__(self) -> None:
        self._items: deque = deque()
        self._lock = threading.Lock()

    def put(self, item) -> bool:
        """Append; True when the buffer was empty (the GUI must be woken)."""
        with self._lock:
            self._items.append(item)
            return len(self._items) == 1

    def take(self, limit: int | None = None) -> tuple[list, bool]:
        """Up to ``limit`` items, oldest first, and whether more are waiting."""
        with self._lock:
            if limit is None or len(self._items) <= limit:
                items, self._items = list(self._items), deque()
                return items, False
            pop = self._items.popleft
            return [pop() for _ in range(limit)], True


class RunWorker(QObject):
    """Iterates ``engine.run`` on its own thread; see the module docstring."""

    wake = Signal()
    done = Signal()

    def __init__(self, engine, sweep, machines, jobs, only, cancel: threading.Event, buffer: _Buffer,
                 loader: Callable[[int, str], PointResult] = load_point_result,
                 shown: dict[int, str] | None = None):
        super().__init__()  # no parent: it is moved to its thread
        self._engine, self._sweep, self._machines, self._jobs = engine, sweep, machines, jobs
        self._only, self._cancel, self._buffer, self._loader = only, cancel, buffer, loader
        # results already on show (index -> store path, e.g. cached points shown on open):
        # not read again, so Run on a cached sweep does not redraw what is there
        self._shown = dict(shown or {})

    def _put(self, item) -> None:
        if self._buffer.put(item):
            self.wake.emit()

    def _load(self, index: int, store_path: str) -> None:
        self._put(load_result_item(self._loader, index, store_path))

    def _load_loop(self, todo: queue.SimpleQueue) -> None:
        while (item := todo.get()) is not None:
            if not self._cancel.is_set():  # cancelled: stop promptly, skip the backlog
                self._load(*item)

    @Slot()
    def run(self) -> None:
        # Results load on a helper thread, so the engine's events are consumed at once: a
        # backlog of loads (~2 ms each; 20 s for a 10,000-point cached sweep) must neither hold
        # back the table nor leave Nix's log unread.
        todo: queue.SimpleQueue = queue.SimpleQueue()
        loader = threading.Thread(target=self._load_loop, args=(todo,), name="sweepgui-results",
                                  daemon=True)
        loader.start()
        try:
            events = self._engine.run(self._sweep, jobs=self._jobs, machines=self._machines,
                                      cancel=self._cancel, only=self._only)
            for e in events:
                self._put(e)
                if isinstance(e, (ev.PointFinished, ev.PointCached)) \
                        and self._shown.get(e.index) != e.store_path:
                    todo.put((e.index, e.store_path))
        except Exception as exc:
            self._put(RunCrashed(_user_message(exc), traceback.format_exc()))
        finally:
            todo.put(None)
            loader.join()
            self.done.emit()


def route_of(engine, sweep, machines: Path | None) -> tuple[tuple[str, ...], str]:
    """(warnings, error) of the builders a run of ``sweep`` would use (``Engine.route``);
    runs Nix the first time (the set-up): call it off the GUI thread."""
    try:
        r = engine.route(sweep, machines=machines)
    except Exception as exc:
        return (f"the build machines cannot be checked: {_user_message(exc)}",), ""
    return tuple(r.warnings), r.error or ""


class PlanWorker(QObject):
    """Runs ``engine.plan`` and computes the table's coordinates and the builders' route on its
    own thread (``machines``: the machines file a run would get when the sweep names none)."""

    done = Signal(object)

    def __init__(self, engine_factory, sweep, machines: Path | None = None):
        super().__init__()
        self._factory, self._sweep, self._machines = engine_factory, sweep, machines

    @Slot()
    def run(self) -> None:
        layout, plan, error, engine = None, None, "", None
        try:
            layout = SweepLayout.from_sweep(self._sweep)
            engine = self._factory(self._sweep)
            plan = engine.plan(self._sweep)
        except Exception as exc:
            error = _user_message(exc)
        warnings, route_error = route_of(engine, self._sweep, self._machines) \
            if engine is not None else ((), "")
        nodes = None
        if layout is not None:
            try:  # which modes the drive or pick-up cannot show (the point table marks them)
                from .points_model import point_node_modes

                nodes = point_node_modes(self._sweep)
            except Exception:
                nodes = None
        self.done.emit(PlanOutcome(self._sweep, plan, layout, error, warnings, route_error, nodes))


class RunController(QObject):
    """Starts runs and plans off the GUI thread and delivers their events in rate-limited batches.

    Signals
    -------
    eventsReady(list)
        A batch of engine events, ``ResultLoaded``, ``ResultMissing`` and ``RunCrashed`` items.
    planReady(object)
        A ``PlanOutcome`` (its ``plan`` is the engine's Plan, or None with ``error`` set).
    runningChanged(bool)
    """

    eventsReady = Signal(list)
    planReady = Signal(object)
    runningChanged = Signal(bool)

    def __init__(self, engine_factory: Callable | None = None, interval_ms: int = 80, parent=None,
                 result_loader: Callable[[int, str], PointResult] | None = None):
        super().__init__(parent)
        self.engine_factory = engine_factory or _default_engine
        self.result_loader = result_loader or load_point_result
        self.interval_ms = interval_ms
        self.max_batch = 400      # items per batch (a point is ~3 items: events and its result)
        self.burst_gap_ms = 5
        self._buffer = _Buffer()
        self._cancel = threading.Event()
        self._thread: QThread | None = None
        self._worker: RunWorker | None = None
        self._plan_thread: QThread | None = None
        self._plan_worker: PlanWorker | None = None
        self._pending_plan = None
        self._last_drain = 0.0
        self._worker_done = False
        self._drain_timer = QTimer(self)
        self._drain_timer.setSingleShot(True)
        self._drain_timer.timeout.connect(self._drain)
        app = QCoreApplication.instance()
        if app is not None:
            # a QThread destroyed while running aborts the process: stop ours before Qt goes
            app.aboutToQuit.connect(self.shutdown)

    # -- runs ---------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._thread is not None

    def start(self, sweep, machines: Path | None = None, jobs: int | None = None,
              only: set[int] | None = None, shown: dict[int, str] | None = None) -> None:
        """Run ``sweep``; ``shown`` (index -> store path) are results on show, not read again."""
        if self._thread is not None:
            raise RuntimeError("a run is already going")
        self._cancel = threading.Event()
        self._worker_done = False
        engine = self.engine_factory(sweep)
        self._thread = QThread()
        self._thread.setObjectName("sweepgui-run")
        self._worker = RunWorker(engine, sweep, machines, jobs, only, self._cancel, self._buffer,
                                 self.result_loader, shown)
        self._worker.moveToThread(self._thread)
        _KEEP_ALIVE.add((self._thread, self._worker))
        self._worker.wake.connect(self._on_wake)
        self._worker.done.connect(self._on_done)
        self._thread.started.connect(self._worker.run)
        self._thread.start()
        self.runningChanged.emit(True)

    def cancel(self) -> None:
        """Ask the engine to stop (it kills its Nix processes); ``runningChanged(False)`` follows."""
        self._cancel.set()

    def _on_wake(self) -> None:
        if self._drain_timer.isActive():
            return
        wait = self.interval_ms - (time.monotonic() - self._last_drain) * 1000.0
        self._drain_timer.start(max(0, int(wait)))

    def _drain(self) -> None:
        self._last_drain = time.monotonic()
        items, more = self._buffer.take(self.max_batch)
        if items:
            self.eventsReady.emit(items)
        if more:
            # a burst (e.g. thousands of cached points): let the GUI paint between slices
            self._drain_timer.start(self.burst_gap_ms)
        elif self._worker_done:
            self._finish()

    def _drain_all(self) -> None:
        items, _ = self._buffer.take()
        if items:
            self.eventsReady.emit(items)

    def _on_done(self) -> None:
        """The worker returned; deliver what is buffered (in slices), then stop the thread."""
        if self._thread is None:  # already handled by shutdown()
            return
        self._worker_done = True
        if not self._drain_timer.isActive():
            self._drain_timer.start(0)

    def _finish(self) -> None:
        self._drain_timer.stop()
        thread, worker = self._thread, self._worker
        self._thread = self._worker = None
        self._worker_done = False
        if thread is not None:
            thread.quit()
            thread.wait()
            _KEEP_ALIVE.discard((thread, worker))
            self.runningChanged.emit(False)

    # -- plans --------------------------------------------------------------------------------
    def request_plan(self, sweep, machines: Path | None = None) -> None:
        """Plan ``sweep`` off the GUI thread (``machines``: the file a run would use when the
        sweep names none, for the route); while a plan runs, only the latest request is kept."""
        if self._plan_thread is not None:
            self._pending_plan = (sweep, machines)
            return
        self._plan_thread = QThread()
        self._plan_thread.setObjectName("sweepgui-plan")
        self._plan_worker = PlanWorker(self.engine_factory, sweep, machines)
        self._plan_worker.moveToThread(self._plan_thread)
        _KEEP_ALIVE.add((self._plan_thread, self._plan_worker))
        self._plan_worker.done.connect(self._on_plan_done)
        self._plan_thread.started.connect(self._plan_worker.run)
        self._plan_thread.start()

    def _on_plan_done(self, outcome: PlanOutcome) -> None:
        if self._plan_thread is None:  # shut down meanwhile
            return
        thread, worker = self._plan_thread, self._plan_worker
        self._plan_thread = self._plan_worker = None
        if thread is not None:
            thread.quit()
            thread.wait()
            _KEEP_ALIVE.discard((thread, worker))
        pending, self._pending_plan = self._pending_plan, None
        if pending is not None:
            self.request_plan(*pending)  # a newer sweep: this outcome is stale
        else:
            self.planReady.emit(outcome)

    def is_planning(self) -> bool:
        return self._plan_thread is not None

    # -- shutdown -----------------------------------------------------------------------------
    def shutdown(self, timeout_s: float = 15.0) -> bool:
        """Cancel and wait for every thread (e.g. when the window closes); True if all stopped."""
        self._cancel.set()
        self._pending_plan = None
        ok = True
        for th in (self._thread, self._plan_thread):
            if th is not None:
                th.quit()  # the worker's loop returns first; quit then ends the thread's event loop
                ok = th.wait(int(timeout_s * 1000)) and ok
        self._drain_timer.stop()
        # deliver what is left (e.g. RunFinished) and the final signals
        if self._thread is not None and ok:
            self._drain_all()
            self._finish()
        if self._plan_thread is not None and ok:
            _KEEP_ALIVE.discard((self._plan_thread, self._plan_worker))
            self._plan_thread = self._plan_worker = None
        return ok
