"""The bridge between the engine (a plain generator of events) and the GUI thread.

``RunController`` lives on the GUI thread. A run is an :class:`~sweepgui.ui.background.EventPump`
job that iterates ``Engine.run`` on its own thread; the panel gets the events in rate-limited
batches (``eventsReady``). Result JSON files are read by a helper thread of the job
(``PointResult`` arrays), so the GUI thread never waits on the disk and the engine's events are
never held back by loading. A plan is a one-shot :class:`~sweepgui.ui.background.BackgroundCall`
(only the latest request is answered).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from sweepgui.nix import events as ev
from sweepgui.results import PointResult, SweepLayout, load_point_result, point_node_modes
from sweepgui.ui.background import BackgroundCall, EventPump, Producer, user_message

ResultLoader = Callable[[int, str], PointResult]


@dataclass(frozen=True)
class ResultLoaded:
    """A point's result, loaded right after its PointFinished/PointCached event."""

    index: int
    result: PointResult


@dataclass(frozen=True)
class ResultMissing:
    """A finished point whose result could not be read (message names the path and the reason)."""

    index: int
    message: str


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


def _default_engine(sweep: Any) -> Any:
    from sweepgui.nix import Engine

    return Engine()


def load_result_item(loader: ResultLoader, index: int, store_path: str) -> ResultLoaded | ResultMissing:
    """A point's loaded result, or why it cannot be read: a broken result never ends a run
    or a load of cached results."""
    try:
        return ResultLoaded(index, loader(index, store_path))
    except Exception as exc:
        return ResultMissing(index, f"point {index}: cannot read the result in {store_path}: {exc}")


def route_of(engine: Any, sweep: Any, machines: Path | None) -> tuple[tuple[str, ...], str]:
    """(warnings, error) of the builders a run of ``sweep`` would use (``Engine.route``);
    runs Nix the first time (the set-up): call it off the GUI thread."""
    try:
        r = engine.route(sweep, machines=machines)
    except Exception as exc:
        return (f"the build machines cannot be checked: {user_message(exc)}",), ""
    return tuple(r.warnings), r.error or ""


def plan_outcome(engine_factory: Callable[[Any], Any], sweep: Any,
                 machines: Path | None = None) -> PlanOutcome:
    """Plan ``sweep`` and compute the table's coordinates and the builders' route (off the
    GUI thread; ``machines``: the machines file a run would get when the sweep names none)."""
    layout, plan, error, engine = None, None, "", None
    try:
        layout = SweepLayout.from_sweep(sweep)
        engine = engine_factory(sweep)
        plan = engine.plan(sweep)
    except Exception as exc:
        error = user_message(exc)
    warnings, route_error = route_of(engine, sweep, machines) if engine is not None else ((), "")
    nodes = None
    if layout is not None:
        try:  # which modes the drive or pick-up cannot show (the point table marks them)
            nodes = point_node_modes(sweep)
        except Exception:
            nodes = None  # a hint only: a sweep it cannot read is planned all the same
    return PlanOutcome(sweep, plan, layout, error, warnings, route_error, nodes)


def run_producer(engine: Any, sweep: Any, machines: Path | None, jobs: int | None,
                 only: set[int] | None, loader: ResultLoader, shown: dict[int, str]) -> Producer:
    """The pump job of a run: the engine's events, each finished point's result after it.

    ``shown`` (index -> store path): results already on show (e.g. cached points shown on
    open), not read again, so Run on a cached sweep does not redraw what is there.
    """
    def produce(put: Callable[[Any], None], cancel: threading.Event) -> None:
        # Results load on a helper thread, so the engine's events are consumed at once: a
        # backlog of loads (~2 ms each; 20 s for a 10,000-point cached sweep) must neither hold
        # back the table nor leave Nix's log unread.
        todo: queue.SimpleQueue[tuple[int, str] | None] = queue.SimpleQueue()

        def load_loop() -> None:
            while (item := todo.get()) is not None:
                if not cancel.is_set():  # cancelled: stop promptly, skip the backlog
                    put(load_result_item(loader, *item))

        helper = threading.Thread(target=load_loop, name="sweepgui-results", daemon=True)
        helper.start()
        try:
            for e in engine.run(sweep, jobs=jobs, machines=machines, cancel=cancel, only=only):
                put(e)
                if isinstance(e, (ev.PointFinished, ev.PointCached)) and shown.get(e.index) != e.store_path:
                    todo.put((e.index, e.store_path))
        finally:
            todo.put(None)
            helper.join()
    return produce


class RunController(EventPump):
    """Starts runs and plans off the GUI thread; a run's events arrive in rate-limited batches.

    Signals
    -------
    eventsReady(list)
        A batch of engine events, ``ResultLoaded``, ``ResultMissing`` and ``JobCrashed`` items.
    planReady(object)
        A ``PlanOutcome`` (its ``plan`` is the engine's Plan, or None with ``error`` set).
    runningChanged(bool)
        A run started, or ended (every event delivered).
    """

    planReady = Signal(object)

    def __init__(self, engine_factory: Callable[[Any], Any] | None = None, interval_ms: int = 80,
                 parent: QObject | None = None, result_loader: ResultLoader | None = None):
        # a point is ~3 items (events and its result): a batch carries ~130 points
        super().__init__("sweepgui-run", interval_ms=interval_ms, max_batch=400, parent=parent)
        self.engine_factory = engine_factory or _default_engine
        self.result_loader = result_loader or load_point_result
        self._plan_call = BackgroundCall(self, name="sweepgui-plan")
        self._plan_call.done.connect(self._on_plan_done)
        self._closed = False  # shut down: a plan still on its way is not reported

    def start(self, sweep: Any, machines: Path | None = None, jobs: int | None = None,
              only: set[int] | None = None, shown: dict[int, str] | None = None) -> None:
        """Run ``sweep``; ``shown`` (index -> store path) are results on show, not read again."""
        if self.is_running():
            raise RuntimeError("a run is already going")
        engine = self.engine_factory(sweep)
        self.pump(run_producer(engine, sweep, machines, jobs, only, self.result_loader, dict(shown or {})))

    def request_plan(self, sweep: Any, machines: Path | None = None) -> None:
        """Plan ``sweep`` off the GUI thread (``machines``: the file a run would use when the
        sweep names none, for the route); while a plan runs, only the latest request is kept."""
        factory = self.engine_factory
        self._plan_call.start_latest(lambda: plan_outcome(factory, sweep, machines))

    def is_planning(self) -> bool:
        return self._plan_call.is_running()

    def shutdown(self, timeout_s: float = 15.0) -> bool:
        """Cancel the run and wait for every thread (e.g. when the window closes); True if all stopped."""
        self._closed = True
        planned = self._plan_call.wait(timeout_s)
        return super().shutdown(timeout_s) and planned

    def _on_plan_done(self, outcome: PlanOutcome | None, error: BaseException | None) -> None:
        if error is not None:  # plan_outcome catches what users can cause: this is a bug
            raise error
        if not self._closed:
            self.planReady.emit(outcome)
