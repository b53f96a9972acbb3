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
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject

from sweepgui.nix import events as ev
from sweepgui.results import load_point_result, load_point_results
from sweepgui.ui.background import EventPump, Producer
from sweepgui.ui.run.worker import ResultLoaded, ResultLoader, ResultMissing, load_result_item

# points read at once through the sweep's columns cache (a cancel waits for at most one chunk)
CHUNK = 256


def cached_producer(points: list[tuple[int, str]], loader: ResultLoader,
                    state_dir: Path | None = None) -> Producer:
    """The pump job reading the (index, store path) results; stops when cancelled.

    With the standard loader the results come in chunks from ``load_point_results``, which
    keeps them as columns in the sweep's state folder: re-opening 10,000 points reads a few
    arrays instead of 10,000 JSON files. Another loader (tests) is called point by point.
    """
    def one_by_one(put: Callable[[Any], None], chunk: list[tuple[int, str]],
                   cancel: threading.Event) -> None:
        for index, path in chunk:
            if cancel.is_set():
                return
            put(ev.PointCached(index, path))
            put(load_result_item(loader, index, path))

    def produce(put: Callable[[Any], None], cancel: threading.Event) -> None:
        for k in range(0, len(points), CHUNK):
            if cancel.is_set():
                break
            chunk = points[k:k + CHUNK]
            if loader is not load_point_result:
                one_by_one(put, chunk, cancel)
                continue
            try:
                loaded = load_point_results(chunk, state_dir)
            except Exception:  # the columns cache failing: the store is still there
                one_by_one(put, chunk, cancel)
                continue
            for (index, path), (_, result, why) in zip(chunk, loaded):
                put(ev.PointCached(index, path))
                put(ResultLoaded(index, result) if result is not None else
                    ResultMissing(index, f"point {index}: cannot read the result in {path}: {why}"))
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

    def load(self, points: list[tuple[int, str]], state_dir: Path | None = None) -> None:
        """Load these (sweep index, store path) results, replacing any load under way;
        ``state_dir``: the sweep's state folder, where their columns are cached."""
        self.drop()
        if points:
            self.pump(cached_producer(list(points), self.result_loader, state_dir))
