"""One function call on its own QThread, its outcome delivered on the GUI thread.

For short jobs a dialog starts and may be closed before they end (the Nix set-up check,
writing the system's machines file): the GUI thread never waits on them, and a closed (even
deleted) owner leaves no thread running, because each thread quits by itself as soon as its
function returns -- it does not need the owner to be alive to stop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot

# (thread, worker) pairs whose thread has not been waited for: a QThread whose Python
# wrapper is collected while it runs aborts the process. Finished ones are dropped by
# the next call's start (or by their owner when it receives the outcome).
_LIVE: set[tuple[QThread, QObject]] = set()


def _reap_finished() -> None:
    for pair in [p for p in _LIVE if p[0].isFinished()]:
        pair[0].wait()
        _LIVE.discard(pair)


def wait_all(timeout_s: float = 5.0) -> bool:
    """Wait (bounded) for every background call; True when none is left running."""
    ok = True
    for thread, worker in list(_LIVE):
        if thread.wait(int(timeout_s * 1000)):
            _LIVE.discard((thread, worker))
        else:
            ok = False
    return ok


class _Worker(QObject):
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
        self.finished.emit(result, error)


class BackgroundCall(QObject):
    """Runs ``fn()`` on a QThread; ``done(result, error)`` arrives on the GUI thread.

    ``error`` is the exception ``fn`` raised (then ``result`` is None). One call at a time
    per object; :meth:`is_running` says whether it is under way.
    """

    done = Signal(object, object)

    def __init__(self, parent: QObject | None = None, name: str = "sweepgui-call"):
        super().__init__(parent)
        self._name = name
        self._pair: tuple[QThread, _Worker] | None = None
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.wait)

    def is_running(self) -> bool:
        return self._pair is not None

    def start(self, fn: Callable[[], Any]) -> None:
        if self._pair is not None:
            raise RuntimeError("a background call is already running")
        _reap_finished()
        thread = QThread()
        thread.setObjectName(self._name)
        worker = _Worker(fn)
        worker.moveToThread(thread)
        # the thread ends itself: quit() is thread-safe, and direct means no owner is needed
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.finished.connect(self._on_finished)
        thread.started.connect(worker.run)
        self._pair = (thread, worker)
        _LIVE.add(self._pair)
        thread.start()

    def wait(self, timeout_s: float = 5.0) -> bool:
        """Wait (bounded) for the call under way, e.g. when the app quits."""
        if self._pair is None:
            return True
        return self._pair[0].wait(int(timeout_s * 1000))

    def _on_finished(self, result, error) -> None:
        pair, self._pair = self._pair, None
        if pair is not None:
            pair[0].wait()  # it has quit, or is about to: a short wait
            _LIVE.discard(pair)
        self.done.emit(result, error)
