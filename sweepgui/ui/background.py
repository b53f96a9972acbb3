"""Work off the GUI thread, one way: :class:`BackgroundCall` for one-shot jobs, :class:`EventPump`
for streams of items (a run's events, cached results being read).

Both run the work on a ``QThread`` through a worker object created without a parent and moved
to it, and both hand outcomes to the GUI thread without a worker ever touching an object that
lives there: a call's worker emits its *own* signal (queued to the receiver); a pump's worker
signals nothing at all -- it appends to a locked buffer that the GUI thread polls on a timer,
which is also the pump's rate limit. So no signal is ever emitted to a GUI object from a
foreign thread, and a widget deleted meanwhile is never reached.

Each thread quits by itself as soon as its work returns: a closed (even deleted) owner leaves
no thread running. Threads are kept referenced in ``_LIVE`` until waited for, because a
``QThread`` whose Python wrapper is collected while it runs aborts the process.
"""

from __future__ import annotations

import threading
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Signal, Slot

# (thread, worker) pairs whose thread has not been waited for (see the module docstring).
# Finished ones are dropped by the next start (or by their owner when it is done with them).
_LIVE: set[tuple[QThread, QObject]] = set()


def _reap_finished() -> None:
    for pair in [p for p in _LIVE if p[0].isFinished()]:
        pair[0].wait()
        _LIVE.discard(pair)


def _start_thread(name: str, worker: QObject, run: Callable[[], None]) -> QThread:
    """Move ``worker`` (parentless) to a new thread that calls ``run`` and then quits."""
    _reap_finished()
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    thread.started.connect(run)
    _LIVE.add((thread, worker))
    thread.start()
    return thread


def _release(thread: QThread, worker: QObject, timeout_s: float | None = None) -> bool:
    """Wait for a thread whose work has returned (or ``timeout_s``); True when it has ended."""
    ok = thread.wait() if timeout_s is None else thread.wait(int(timeout_s * 1000))
    if ok:
        _LIVE.discard((thread, worker))
    return ok


def user_message(exc: BaseException) -> str:
    """An exception in words for the user: errors users can cause carry their own message
    (SweepError, ParameterError, OSError ...); anything else also names its type."""
    text = str(exc).strip() or type(exc).__name__
    return text if isinstance(exc, (ValueError, OSError, RuntimeError)) else f"{type(exc).__name__}: {text}"


# -- one-shot jobs --------------------------------------------------------------------------------

class _CallWorker(QObject):
    finished = Signal(object, object)  # (result, exception or None)

    def __init__(self, fn: Callable[[], Any]):
        super().__init__()  # no parent: it is moved to its thread
        self._fn = fn

    @Slot()
    def run(self) -> None:
        try:
            result, error = self._fn(), None
        except Exception as exc:
            result, error = None, exc
        QThread.currentThread().quit()  # thread-safe; the thread needs no owner to end
        self.finished.emit(result, error)  # its own signal, from its own thread


class BackgroundCall(QObject):
    """Runs ``fn()`` on a QThread; ``done(result, error)`` arrives on the GUI thread.

    ``error`` is the exception ``fn`` raised (then ``result`` is None). One call at a time
    per object: :meth:`start` refuses a second one, :meth:`start_latest` queues it (only the
    latest waiting call runs, and a call overtaken by a newer request reports nothing).

    Parameters
    ----------
    parent
        The owner (the call stops with it: its thread ends when ``fn`` returns).
    name
        The thread's name (shown by debuggers and in leak reports).
    """

    done = Signal(object, object)

    def __init__(self, parent: QObject | None = None, name: str = "sweepgui-call"):
        super().__init__(parent)
        self._name = name
        self._pair: tuple[QThread, _CallWorker] | None = None
        self._next: Callable[[], Any] | None = None
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.wait)

    def is_running(self) -> bool:
        """A call is under way or waiting for its turn."""
        return self._pair is not None

    def start(self, fn: Callable[[], Any]) -> None:
        if self._pair is not None:
            raise RuntimeError("a background call is already running")
        worker = _CallWorker(fn)
        worker.finished.connect(self._on_finished)
        self._pair = (_start_thread(self._name, worker, worker.run), worker)

    def start_latest(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` now, or after the call under way, whose outcome is then dropped: for
        requests where only the newest matters (a plan of the sweep as it is now)."""
        if self._pair is None:
            self.start(fn)
        else:
            self._next = fn

    def cancel_pending(self) -> None:
        """Forget a call waiting for its turn (the one under way still reports)."""
        self._next = None

    def wait(self, timeout_s: float = 5.0) -> bool:
        """Wait (bounded) for the call under way, e.g. when the app quits; nothing more starts."""
        self._next = None
        if self._pair is None:
            return True
        return self._pair[0].wait(int(timeout_s * 1000))

    def _on_finished(self, result: Any, error: BaseException | None) -> None:
        pair, self._pair = self._pair, None
        if pair is not None:
            _release(*pair)  # it has quit, or is about to: a short wait
        pending, self._next = self._next, None
        if pending is not None:
            self.start(pending)  # a newer request: this outcome is stale
        else:
            self.done.emit(result, error)


# -- streams --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class JobCrashed:
    """A pump's producer raised: its job is over. ``message`` is for the user, ``detail`` for the log."""

    message: str
    detail: str = ""


class _Buffer:
    """Items from a producer's threads, taken in batches by the GUI thread.

    A deque: taking a batch costs the batch, not the backlog (slicing a list copied the
    whole backlog at every batch of a 10,000-point burst)."""

    def __init__(self) -> None:
        self._items: deque[Any] = deque()
        self._lock = threading.Lock()

    def put(self, item: Any) -> None:
        with self._lock:
            self._items.append(item)

    def take(self, limit: int | None = None) -> tuple[list[Any], bool]:
        """Up to ``limit`` items, oldest first, and whether more are waiting."""
        with self._lock:
            if limit is None or len(self._items) <= limit:
                items, self._items = list(self._items), deque()
                return items, False
            pop = self._items.popleft
            return [pop() for _ in range(limit)], True


Producer = Callable[[Callable[[Any], None], threading.Event], None]


@dataclass
class _Job:
    buffer: _Buffer = field(default_factory=_Buffer)
    cancel: threading.Event = field(default_factory=threading.Event)
    returned: threading.Event = field(default_factory=threading.Event)
    thread: QThread | None = None
    worker: QObject | None = None


class _PumpWorker(QObject):
    """Calls the producer on its thread; signals nothing (the pump polls the job)."""

    def __init__(self, produce: Producer, job: _Job):
        super().__init__()  # no parent: it is moved to its thread
        self._produce, self._job = produce, job

    @Slot()
    def run(self) -> None:
        job = self._job
        try:
            self._produce(job.buffer.put, job.cancel)
        except Exception as exc:
            job.buffer.put(JobCrashed(user_message(exc), traceback.format_exc()))
        finally:
            job.returned.set()  # after the last item: once the buffer is empty, all is delivered
            QThread.currentThread().quit()


class EventPump(QObject):
    """Runs one producer at a time off the GUI thread and delivers its items in rate-limited batches.

    A producer is ``produce(put, cancel)``: it calls ``put(item)`` for each item (also from
    helper threads of its own), checks ``cancel`` (a ``threading.Event``) and returns when it
    is done; an exception it raises becomes a :class:`JobCrashed` item. The GUI thread takes
    at most ``max_batch`` items every ``interval_ms`` (``burst_gap_ms`` while a burst lasts, so
    the window paints between slices): a burst of 10,000 cached points costs a few batches,
    not 10,000 queued signals.

    Signals
    -------
    eventsReady(list)
        A batch of items, in the order they were put.
    runningChanged(bool)
        A job started, or the current one ended: all its items delivered, or dropped.
    """

    eventsReady = Signal(list)
    runningChanged = Signal(bool)

    def __init__(self, name: str = "sweepgui-pump", interval_ms: int = 80, max_batch: int = 400,
                 parent: QObject | None = None):
        super().__init__(parent)
        self._name = name
        self.interval_ms = interval_ms
        self.max_batch = max_batch
        self.burst_gap_ms = 5
        self._job: _Job | None = None
        # dropped jobs whose thread may still run (nothing of them is shown): for has_threads()
        # and shutdown(); ``_LIVE`` keeps their threads referenced, so no timer has to reap them
        self._dropped: list[_Job] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._poll)
        app = QCoreApplication.instance()
        if app is not None:
            # a QThread destroyed while running aborts the process: stop ours before Qt goes
            app.aboutToQuit.connect(self.shutdown)

    def is_running(self) -> bool:
        """A job is under way (or its last items are still being delivered)."""
        return self._job is not None

    def has_threads(self) -> bool:
        """A thread of this pump (the current job's, or a dropped one's) has not ended yet."""
        self._reap()
        job = self._job
        return bool(self._dropped) or (job is not None and job.thread is not None
                                       and not job.thread.isFinished())

    def pump(self, produce: Producer) -> None:
        """Start ``produce`` on its own thread; ``runningChanged(True)`` follows at once."""
        if self._job is not None:
            raise RuntimeError("a job is already under way")
        job = _Job()
        worker = _PumpWorker(produce, job)
        job.worker = worker
        job.thread = _start_thread(self._name, worker, worker.run)
        self._job = job
        self._timer.start(self.interval_ms)
        self.runningChanged.emit(True)

    def cancel(self) -> None:
        """Ask the producer to stop; what it puts until it returns is still delivered."""
        if self._job is not None:
            self._job.cancel.set()

    def drop(self) -> None:
        """Stop the current job at once: nothing more of it is delivered and its thread ends on
        its own (never waited for here, so the GUI thread never blocks on it)."""
        job, self._job = self._job, None
        if job is None:
            return
        job.cancel.set()
        self._timer.stop()
        self._dropped.append(job)
        self._reap()
        self.runningChanged.emit(False)

    def shutdown(self, timeout_s: float = 15.0) -> bool:
        """Cancel, wait (bounded) for every thread, deliver what the current job left (e.g. the
        run's last event) and end it; True when every thread has ended."""
        self._timer.stop()
        ok = True
        for job in ([self._job] if self._job else []) + self._dropped:
            job.cancel.set()
            if job.thread is not None and job.worker is not None:
                ok = _release(job.thread, job.worker, timeout_s) and ok
        self._reap()
        current = self._job
        if current is not None and current.returned.is_set():
            items, _ = current.buffer.take()
            if items:
                self.eventsReady.emit(items)
            self._end(current)
        return ok

    # -- internals ----------------------------------------------------------------------------
    def _reap(self) -> None:
        for job in [j for j in self._dropped if j.thread is None or j.thread.isFinished()]:
            self._dropped.remove(job)
            if job.thread is not None and job.worker is not None:
                _release(job.thread, job.worker)

    def _poll(self) -> None:
        job = self._job
        if job is None:
            return
        # read before taking: every item put before the producer returned is in the buffer now
        returned = job.returned.is_set()
        items, more = job.buffer.take(self.max_batch)
        if items:
            self.eventsReady.emit(items)
        if self._job is not job:  # a receiver dropped or replaced this job: it set the timer
            return
        if more:
            self._timer.start(self.burst_gap_ms)  # a burst: let the window paint between slices
        elif returned:
            self._end(job)
        else:
            self._timer.start(self.interval_ms)

    def _end(self, job: _Job) -> None:
        self._job = None
        if job.thread is not None and job.worker is not None:
            _release(job.thread, job.worker)  # it has quit, or is about to: a short wait
        self._timer.stop()
        self.runningChanged.emit(False)

