"""Show an opened sweep's cached points at once: their results are read off the GUI thread.

The plan (already made off the GUI thread) knows each point's out path and whether it is in
the store. ``CachedResultsLoader`` reads the cached points' result files as an
:class:`~sweepgui.ui.background.EventPump` job and delivers ``PointCached`` + ``ResultLoaded``
(or ``ResultMissing``) items through ``eventsReady`` -- the very items a run delivers, so the
run panel renders them with the same code. No Nix process is started: a cached point's result
is a plain file in the store.

One load at a time: ``load()`` replaces the current one and ``drop()`` stops it. A dropped
load's thread stops at its next point and is never waited for by the GUI thread; nothing of
a dropped load is delivered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from sweepgui.nix import events as ev
from sweepgui.results import load_point_result
from sweepgui.ui.background import EventPump, Producer
from sweepgui.ui.run.worker import ResultLoader, load_result_item


def cached_producer(points: list[tuple[int, str]], loader: ResultLoader) -> Producer:
    """The pump job reading each (index, store path) in turn; stops when cancelled."""
    def produce(put: Callable[[Any], None], cancel: threading.Event) -> None:
        for index, path in points:
            if cancel.is_set():
                break
            put(ev.PointCached(index, path))
            put(load_result_item(loader, index, path))
    return produce


class CachedResultsLoader(EventPump):
    """Loads cached points' results off the GUI thread (see the module docstring).

    Signals
    -------
    eventsReady(list)
        A batch of ``PointCached``, ``ResultLoaded`` and ``ResultMissing`` items of the current load.
    runningChanged(bool)
        A load started, or the current one ended (finished or dropped).
    """

    def __init__(self, result_loader: ResultLoader | None = None, interval_ms: int = 80,
                 parent: QObject | None = None):
        # 150 points a batch, as many as a run's batch carries
        super().__init__("sweepgui-cached-results", interval_ms=interval_ms, max_batch=300,
                         parent=parent)
        self.result_loader = result_loader or load_point_result

    def load(self, points: list[tuple[int, str]]) -> None:
        """Load these (sweep index, store path) results, replacing any load under way."""
        self.drop()
        if points:
            self.pump(cached_producer(list(points), self.result_loader))
