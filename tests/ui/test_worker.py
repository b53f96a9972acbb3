"""RunController: engine work off the GUI thread, batched delivery, cancel, errors, clean stop.

The engines here are Qt-free generators with the ``Engine.run``/``plan`` signature: the subject
is the bridge itself (the real engine is driven in test_run_panel.py).
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from sweepgui.nix import events as ev
from sweepgui.results import PointResult
from sweepgui.ui.background import JobCrashed
from sweepgui.ui.run.worker import ResultLoaded, RunController

MAIN = threading.get_ident()


class ScriptedEngine:
    """Yields ``n`` PointFinished events ``gap`` seconds apart, then RunFinished; honours cancel."""

    def __init__(self, n: int, gap: float = 0.0, fail_at: int | None = None, forever: bool = False):
        self.n, self.gap, self.fail_at, self.forever = n, gap, fail_at, forever
        self.threads: set[int] = set()
        self.only = "unset"

    def run(self, sweep, jobs=None, machines=None, cancel=None, only=None):
        self.threads.add(threading.get_ident())
        self.only = only
        i = 0
        while self.forever or i < self.n:
            if cancel is not None and cancel.is_set():
                yield ev.RunFinished(points=i, built=i, cached=0, failed=0, cancelled=True,
                                     exit_code=None, seconds=0.0)
                return
            if self.fail_at == i:
                raise RuntimeError("nix-build vanished")
            yield ev.PointFinished(i, f"/fake/{i}", 0.0, "")
            i += 1
            if self.gap:
                time.sleep(self.gap)
        yield ev.RunFinished(points=i, built=i, cached=0, failed=0, cancelled=False,
                             exit_code=0, seconds=0.0)

    def plan(self, sweep):
        self.threads.add(threading.get_ident())
        time.sleep(0.05)
        return SimpleNamespace(points=[], cached=0, to_build=0, sweep=sweep)


def loader_recording(threads: set):
    def load(index, store_path):
        threads.add(threading.get_ident())
        return PointResult(index, np.array([1.0, 2.0]), np.array([0.0, 1.0]), (10.0 + index,))
    return load


def run_to_end(qtbot, ctl: RunController, timeout=10_000, **kw) -> list:
    batches = []
    ctl.eventsReady.connect(batches.append)
    with qtbot.waitSignal(ctl.runningChanged, timeout=timeout, check_params_cb=lambda r: r is False):
        ctl.start(SimpleNamespace(), **kw)
    return batches


def test_burst_arrives_in_few_batches_in_order_and_results_load_off_the_gui_thread(qtbot):
    engine = ScriptedEngine(3000)
    loaded_on: set[int] = set()
    ctl = RunController(lambda s: engine, result_loader=loader_recording(loaded_on))
    batches = run_to_end(qtbot, ctl)
    items = [x for b in batches for x in b]
    finished = [x.index for x in items if isinstance(x, ev.PointFinished)]
    results = [x.result.index for x in items if isinstance(x, ResultLoaded)]
    assert finished == list(range(3000)) and results == list(range(3000))
    assert isinstance([x for x in items if isinstance(x, ev.BuildEvent)][-1], ev.RunFinished)
    # 6,001 items in slices of at most max_batch, not one queued signal per event
    assert max(len(b) for b in batches) <= ctl.max_batch
    assert len(batches) <= 6001 // ctl.max_batch + 3
    assert MAIN not in engine.threads and MAIN not in loaded_on
    assert not ctl.is_running()


class WavesEngine:
    """Yields ``waves`` waves of ``size`` PointFinished events; each wave waits for its ``go``."""

    def __init__(self, waves: int, size: int):
        self.size = size
        self.go = [threading.Event() for _ in range(waves)]

    def run(self, sweep, jobs=None, machines=None, cancel=None, only=None):
        for w, go in enumerate(self.go):
            if not go.wait(10):
                raise RuntimeError(f"wave {w} was never let go")
            for k in range(self.size):
                yield ev.PointFinished(w * self.size + k, f"/fake/{k}", 0.0, "")
        n = len(self.go) * self.size
        yield ev.RunFinished(points=n, built=n, cached=0, failed=0, cancelled=False,
                             exit_code=0, seconds=0.0)


def test_events_spread_over_time_arrive_live_and_in_few_batches(qtbot):
    # the engine's pace is set by the test, not by a clock: each wave is let go only once the
    # one before it is on screen
    engine = WavesEngine(waves=3, size=40)
    ctl = RunController(lambda s: engine, result_loader=loader_recording(set()))
    batches: list[list] = []
    ctl.eventsReady.connect(batches.append)
    ctl.start(SimpleNamespace())

    def delivered() -> list[int]:
        return [x.result.index for b in batches for x in b if isinstance(x, ResultLoaded)]

    for w, go in enumerate(engine.go):
        go.set()
        last = (w + 1) * engine.size - 1
        qtbot.waitUntil(lambda last=last: last in delivered(), timeout=10_000)
        if w < len(engine.go) - 1:  # live: shown while the run goes on, not all at its end
            assert ctl.is_running()
    qtbot.waitUntil(lambda: not ctl.is_running(), timeout=10_000)
    items = [x for b in batches for x in b]
    assert len(items) == 2 * 3 * 40 + 1 and delivered() == list(range(120))
    # 241 items: a wave's events and results come in a batch or two, not one signal each
    assert len(batches) <= 2 * 3 + 1


def test_cancel_stops_the_engine_and_the_thread(qtbot):
    engine = ScriptedEngine(0, gap=0.01, forever=True)
    ctl = RunController(lambda s: engine, result_loader=loader_recording(set()))
    batches = []
    ctl.eventsReady.connect(batches.append)
    ctl.start(SimpleNamespace())
    qtbot.waitUntil(lambda: len(batches) >= 2, timeout=5000)
    with qtbot.waitSignal(ctl.runningChanged, timeout=3000, check_params_cb=lambda r: r is False):
        ctl.cancel()
    last = [x for b in batches for x in b if isinstance(x, ev.BuildEvent)][-1]
    assert isinstance(last, ev.RunFinished) and last.cancelled
    assert not ctl.is_running()


def test_an_engine_error_ends_the_run_with_a_message(qtbot):
    engine = ScriptedEngine(10, fail_at=4)
    ctl = RunController(lambda s: engine, result_loader=loader_recording(set()))
    batches = run_to_end(qtbot, ctl)
    crashed = [x for b in batches for x in b if isinstance(x, JobCrashed)]
    assert len(crashed) == 1 and "nix-build vanished" in crashed[0].message


def test_only_is_passed_to_the_engine(qtbot):
    engine = ScriptedEngine(1)
    ctl = RunController(lambda s: engine, result_loader=loader_recording(set()))
    run_to_end(qtbot, ctl, only={3, 5})
    assert engine.only == {3, 5}


def test_plans_run_off_the_gui_thread_and_only_the_latest_request_is_answered(qtbot):
    engine = ScriptedEngine(0)
    ctl = RunController(lambda s: engine)
    outcomes = []
    ctl.planReady.connect(outcomes.append)
    # SimpleNamespace is not a Sweep: the layout step fails, so give each one dimensions()
    sweeps = [SimpleNamespace(dimensions=lambda: [], name=k) for k in range(3)]
    for s in sweeps:
        ctl.request_plan(s)
    qtbot.waitUntil(lambda: not ctl.is_planning(), timeout=5000)
    assert [o.sweep.name for o in outcomes] == [2]
    assert outcomes[0].plan.sweep is sweeps[2] and outcomes[0].error == ""
    assert MAIN not in engine.threads


@pytest.mark.parametrize("timeout_s", [5.0])
def test_shutdown_during_a_run_cancels_and_waits(qtbot, timeout_s):
    engine = ScriptedEngine(0, gap=0.01, forever=True)
    ctl = RunController(lambda s: engine, result_loader=loader_recording(set()))
    states = []
    ctl.runningChanged.connect(states.append)
    batches = []
    ctl.eventsReady.connect(batches.append)
    ctl.start(SimpleNamespace())
    qtbot.waitUntil(lambda: bool(batches), timeout=5000)  # under way
    assert ctl.shutdown(timeout_s)
    assert states == [True, False] and not ctl.is_running()


class CachedEngine:
    """Every point already in the store: a burst of PointCached, then RunFinished."""

    def run(self, sweep, jobs=None, machines=None, cancel=None, only=None):
        for i in range(50):
            yield ev.PointCached(i, f"/fake/{i}")
        yield ev.RunFinished(points=50, built=0, cached=50, failed=0, cancelled=False,
                             exit_code=0, seconds=0.0)


def test_slow_result_loading_does_not_hold_back_the_engines_events(qtbot):
    # the results load only once the run's last event is on screen: were loading in the
    # engine's loop, that event could never come (the loader would give up after 10 s)
    finished = threading.Event()

    def slow_loader(index, store_path):
        finished.wait(10)
        return PointResult(index, np.array([1.0, 2.0]), np.array([0.0, 1.0]), (1.0,))

    ctl = RunController(lambda s: CachedEngine(), result_loader=slow_loader)

    def seen(batch) -> None:
        if any(isinstance(x, ev.RunFinished) for x in batch):
            finished.set()
    ctl.eventsReady.connect(seen)
    batches = run_to_end(qtbot, ctl)
    items = [x for b in batches for x in b]
    first_result = next(k for k, x in enumerate(items) if isinstance(x, ResultLoaded))
    finished_at = next(k for k, x in enumerate(items) if isinstance(x, ev.RunFinished))
    assert finished_at < first_result
    assert sum(isinstance(x, ResultLoaded) for x in items) == 50


def test_every_signal_of_a_run_is_emitted_on_the_gui_thread(qtbot):
    # direct connections run the slot in the emitting thread: a worker thread emitting a
    # signal of a GUI object would show up here
    from PySide6.QtCore import Qt

    emitted_on: set[int] = set()
    engine = ScriptedEngine(200)
    ctl = RunController(lambda s: engine, result_loader=loader_recording(set()))
    for signal in (ctl.eventsReady, ctl.runningChanged, ctl.planReady):
        signal.connect(lambda *_: emitted_on.add(threading.get_ident()),
                       Qt.ConnectionType.DirectConnection)
    ctl.request_plan(SimpleNamespace(dimensions=lambda: []))
    run_to_end(qtbot, ctl)
    qtbot.waitUntil(lambda: not ctl.is_planning(), timeout=5000)
    assert emitted_on == {MAIN}


def test_a_dropped_load_delivers_nothing_more_and_is_never_waited_for(qtbot):
    from sweepgui.ui.run.preload import CachedResultsLoader

    release = threading.Event()

    def blocked(index, store_path):  # a disk that hangs until the test lets it go
        release.wait(10)
        return PointResult(index, np.array([1.0, 2.0]), np.array([0.0, 1.0]), (1.0,))

    loader = CachedResultsLoader(result_loader=blocked)
    items: list = []
    states: list[bool] = []
    loader.eventsReady.connect(items.extend)
    loader.runningChanged.connect(states.append)
    loader.load([(i, f"/fake/{i}") for i in range(5)])
    qtbot.waitUntil(lambda: len(items) >= 1, timeout=5000)  # point 0's PointCached
    loader.drop()  # returns at once although a read hangs
    assert states == [True, False] and loader.has_threads()
    release.set()
    qtbot.waitUntil(lambda: not loader.has_threads(), timeout=5000)
    assert [x.index for x in items] == [0]  # nothing after the drop: not even point 0's result
