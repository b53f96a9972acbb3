"""Show an opened sweep's cached points at once: their results are read off the GUI thread.

The plan (already made in a worker) knows each point's out path and whether it is in the store.
``CachedResultsLoader`` reads the cached points' result files on a QThread and delivers
``PointCached`` + ``ResultLoaded`` (or ``ResultMissing``) items in rate-limited batches through
``eventsReady`` -- the very items a run delivers, so the run panel renders them with the same
code. No Nix process is started: a cached point's result is a plain file in the store.

One load at a time: ``load()`` replaces the current one and ``cancel()`` drops it. A dropped
load's thread stops at its next point and is waited for only once it has said it is done, so
the GUI thread never blocks on a file read; nothing of a dropped load is delivered.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Signal, Slot

from sweepgui.nix import events as ev

from .plots_data import PointResult
from .worker import _KEEP_ALIVE, _Buffer, load_point_result, load_result_item


class _LoadWorker(QObject):
    """Reads the result of each (index, store path) in turn; stops when ``cancel`` is set."""

    wake = Signal(int)
    done = Signal(int)

    def __init__(self, job_id: int, points: list[tuple[int, str]], cancel: threading.Event,
                 buffer: _Buffer, loader: Callable[[int, str], PointResult]):
        super().__init__()  # no parent: it is moved to its thread
        self._id, self._points, self._cancel = job_id, points, cancel
        self._buffer, self._loader = buffer, loader

    def _put(self, item) -> None:
        if self._buffer.put(item):
            self.wake.emit(self._id)

    @Slot()
    def run(self) -> None:
        try:
            for index, path in self._points:
                if self._cancel.is_set():
                    break
                self._put(ev.PointCached(index, path))
                self._put(load_result_item(self._loader, index, path))
        finally:
            self.done.emit(self._id)


@dataclass
class _Job:
    id: int
    thread: QThread
    worker: _LoadWorker
    cancel: threading.Event
    buffer: _Buffer = field(default_factory=_Buffer)
    finished: bool = False


class CachedResultsLoader(QObject):
    """Loads cached points' results off the GUI thread (see the module docstring).

    Signals
    -------
    eventsReady(list)
        A batch of ``PointCached``, ``ResultLoaded`` and ``ResultMissing`` items of the current load.
    loadingChanged(bool)
        A load started, or the current one ended (finished or dropped).
    """

    eventsReady = Signal(list)
    loadingChanged = Signal(bool)

    _ids = itertools.count(1)

    def __init__(self, result_loader: Callable[[int, str], PointResult] | None = None,
                 interval_ms: int = 80, parent=None):
        super().__init__(parent)
        self.result_loader = result_loader or load_point_result
        self.interval_ms = interval_ms
        self.max_batch = 300   # items per batch: 150 points, as many as a run's batch carries
        self.burst_gap_ms = 5
        self._current: _Job | None = None
        self._jobs: dict[int, _Job] = {}   # every job whose thread has not been waited for yet
        self._last_drain = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._drain)
        app = QCoreApplication.instance()
        if app is not None:
            # a QThread destroyed while running aborts the process: stop ours before Qt goes
            app.aboutToQuit.connect(self.shutdown)

    def is_loading(self) -> bool:
        return self._current is not None

    def load(self, points: list[tuple[int, str]]) -> None:
        """Load these (sweep index, store path) results, replacing any load under way."""
        self.cancel()
        if not points:
            return
        cancel = threading.Event()
        job_id = next(self._ids)
        buffer = _Buffer()
        thread = QThread()
        thread.setObjectName("sweepgui-cached-results")
        worker = _LoadWorker(job_id, list(points), cancel, buffer, self.result_loader)
        worker.moveToThread(thread)
        job = _Job(job_id, thread, worker, cancel, buffer)
        self._jobs[job_id] = job
        self._current = job
        _KEEP_ALIVE.add((thread, worker))
        worker.wake.connect(self._on_wake)
        worker.done.connect(self._on_done)
        thread.started.connect(worker.run)
        thread.start()
        self.loadingChanged.emit(True)

    def cancel(self) -> None:
        """Drop the current load: nothing more of it is delivered; its thread ends on its own."""
        job, self._current = self._current, None
        if job is None:
            return
        job.cancel.set()
        self._timer.stop()
        if job.finished:
            self._reap(job)
        self.loadingChanged.emit(False)

    def shutdown(self, timeout_s: float = 15.0) -> bool:
        """Drop the current load and wait for every loading thread (closing the window)."""
        self.cancel()
        ok = True
        for job in list(self._jobs.values()):
            job.cancel.set()
            job.thread.quit()
            if job.thread.wait(int(timeout_s * 1000)):
                self._jobs.pop(job.id, None)
                _KEEP_ALIVE.discard((job.thread, job.worker))
            else:
                ok = False
        return ok

    # -- internals ----------------------------------------------------------------------------
    def _on_wake(self, job_id: int) -> None:
        if self._current is None or self._current.id != job_id or self._timer.isActive():
            return
        wait = self.interval_ms - (time.monotonic() - self._last_drain) * 1000.0
        self._timer.start(max(0, int(wait)))

    def _drain(self) -> None:
        job = self._current
        if job is None:
            return
        self._last_drain = time.monotonic()
        items, more = job.buffer.take(self.max_batch)
        if items:
            self.eventsReady.emit(items)
        if self._current is not job:  # a slot of eventsReady dropped or replaced this load
            return
        if more:
            self._timer.start(self.burst_gap_ms)  # a burst: let the GUI paint between slices
        elif job.finished:
            self._current = None
            self._reap(job)
            self.loadingChanged.emit(False)

    def _on_done(self, job_id: int) -> None:
        job = self._jobs.get(job_id)
        if job is None:
            return
        job.finished = True
        if job is self._current:
            if not self._timer.isActive():
                self._timer.start(0)  # deliver the rest, then end
        else:
            self._reap(job)

    def _reap(self, job: _Job) -> None:
        """Wait for a job's thread, which has returned from its work (a short wait)."""
        self._jobs.pop(job.id, None)
        job.thread.quit()
        job.thread.wait()
        _KEEP_ALIVE.discard((job.thread, job.worker))
