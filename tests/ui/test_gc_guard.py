"""The app collects garbage on the GUI thread only (see sweepgui.ui.gc_guard)."""

import gc
import threading
import weakref

from sweepgui.ui.gc_guard import MainThreadGarbageCollector


class _Cycle:
    def __init__(self):
        self.me = self


def test_collection_happens_on_the_gui_thread_not_in_a_worker(qtbot):
    was_enabled = gc.isenabled()
    gc.enable()
    collector = MainThreadGarbageCollector(interval_ms=10)
    try:
        assert not gc.isenabled()
        # garbage made in a worker thread, with far more allocations than gen-0's threshold:
        # with automatic collection the worker itself would free it
        refs = []

        def work():
            for _ in range(5 * gc.get_threshold()[0]):
                c = _Cycle()
                refs.append(weakref.ref(c))
                del c

        t = threading.Thread(target=work)
        t.start()
        t.join()
        assert all(r() is not None for r in refs)  # nothing was collected off the GUI thread
        qtbot.waitUntil(lambda: all(r() is None for r in refs), timeout=5000)
    finally:
        collector.stop()
        assert gc.isenabled()  # stop() gives collection back to Python
        if not was_enabled:
            gc.disable()
