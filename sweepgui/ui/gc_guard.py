"""Python's cyclic garbage collector, run on the GUI thread only.

Left automatic, a collection runs in whichever thread happens to allocate; when it frees
a Qt object there (e.g. a widget from a closed dialog, caught in a reference cycle), Qt
runs that object's destructor off the GUI thread, which deadlocks against the GUI
thread (Qt's mutex versus the GIL) or crashes. Seen here: a result-loading thread froze
the app this way. So automatic collection is switched off, and a timer on the GUI
thread collects with the usual generation thresholds (pyqtgraph's GarbageCollector does
the same).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class MainThreadGarbageCollector(QObject):
    """Collect garbage from a GUI-thread timer instead of automatically.

    Parameters
    ----------
    parent : QObject
        Usually the QApplication: the collector lives as long as the app.
    interval_ms : int
        How often the generation counts are checked.
    """

    def __init__(self, parent: QObject | None = None, interval_ms: int = 500):
        super().__init__(parent)
        self._threshold = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(interval_ms)

    def check(self) -> None:
        counts = gc.get_count()
        # the oldest generation whose count passed its threshold, as automatic gc would
        generation = -1
        for g in range(3):
            if counts[g] > self._threshold[g]:
                generation = g
            else:
                break
        if generation >= 0:
            gc.collect(generation)

    def stop(self) -> None:
        """Stop the timer and give collection back to Python."""
        self._timer.stop()
        gc.enable()
