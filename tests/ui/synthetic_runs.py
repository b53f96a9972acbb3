"""Synthetic runs for the plot tests: a Qt-free fake engine, and spectra whose drawn path is known.

Each spectrum is a short horizontal segment at its own place (curve i: column i // 12 along the
frequency axis, row i % 12 along |H|, NaN elsewhere), so a test can look at the rendered pixels
along every curve's known path and count the curves that are really on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QToolButton

from sweepgui.nix import events as ev
from sweepgui.results import PointResult
from sweepgui.ui.run.panel import RunPanel

ROOT = Path(__file__).resolve().parents[2]
F = np.linspace(0.0, 1500.0, 3001)
ROWS = 12


def segment_place(i: int) -> tuple[float, float, float]:
    """(first Hz, last Hz, log10 |H|) of curve i's segment."""
    col, row = divmod(i, ROWS)
    lo = 60.0 + 140.0 * col
    return lo, lo + 100.0, -7.75 + 0.5 * row  # between decades: off the major grid lines


def segment(i: int, natural: tuple[float, ...] | None = None) -> PointResult:
    lo, hi, level = segment_place(i)
    y = np.full(len(F), np.nan, dtype=np.float32)
    y[(F >= lo) & (F <= hi)] = level
    return PointResult(i, F, y, natural if natural is not None else (100.0 + i,))


class FakeEngine:
    """Every point finishes at once (``run``) or is already cached (``plan``)."""

    def __init__(self, state_dir: Path | None = None):
        self._state_dir = state_dir

    def run(self, sweep, jobs=None, machines=None, cancel=None, only=None):
        n = int(np.prod(sweep.shape))
        todo = range(n) if only is None else sorted(only)
        for i in todo:
            yield ev.PointStarted(i, f"/d{i}", "")
            yield ev.PointFinished(i, f"/fake/{i}", 0.1, "")
        yield ev.RunFinished(points=n, built=len(todo), cached=0, failed=0, cancelled=False,
                             exit_code=0, seconds=0.1)

    def plan(self, sweep):
        n = int(np.prod(sweep.shape))
        points = [SimpleNamespace(index=i, name=f"p{i}", out_path=f"/fake/{i}", cached=True, drv="",
                                  parameters_json="{}") for i in range(n)]
        return SimpleNamespace(points=points, cached=n, to_build=0)

    def route(self, sweep, machines=None):
        return SimpleNamespace(warnings=(), error="")

    def state_dir(self, sweep) -> Path:
        if self._state_dir is None:
            raise RuntimeError("this fake engine keeps no state")
        return self._state_dir


def make_panel(qtbot, loader: Callable[[int, str], PointResult] = lambda i, p: segment(i),
               engine: FakeEngine | None = None, size=(1300, 800)) -> RunPanel:
    engine = engine or FakeEngine()
    panel = RunPanel(engine_factory=lambda s: engine)
    panel.controller.result_loader = loader
    qtbot.addWidget(panel, before_close_func=lambda w: w.shutdown(5.0))
    panel.resize(*size)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def run(qtbot, panel: RunPanel, sweep) -> None:
    with qtbot.waitSignal(panel.runningChanged, timeout=10_000, check_params_cb=lambda r: r is False):
        panel.start(sweep)
    qtbot.wait(50)


def reopen(qtbot, panel: RunPanel, sweep, n: int) -> None:
    """Open ``sweep`` as the app does: planned, its cached results read and shown."""
    panel.set_sweep(sweep)
    qtbot.waitUntil(lambda: not panel.controller.is_planning() and not panel.cached_loader.is_running()
                    and len(panel.plot_panel.spectra.store.curves) == n, timeout=20_000)
    qtbot.wait(100)


def fit_button(panel: RunPanel) -> QToolButton:
    return next(b for b in panel.plot_panel.findChildren(QToolButton) if b.text() == "Fit")


def coloured(c) -> bool:
    """A curve's pixel: viridis and the selection red are saturated; grid, axes and text are grey."""
    r, g, b = c.red(), c.green(), c.blue()
    return max(r, g, b) - min(r, g, b) >= 40


def rendered_segments(top, view, indices) -> set[int]:
    """The curves whose pixels are on screen along their known path, in ``top`` rendered as Qt
    paints it (the whole window: a widget's offset inside its window matters)."""
    img = top.grab().toImage()
    vb = view.getPlotItem().vb
    found = set()
    for i in indices:
        lo, hi, level = segment_place(i)
        hits = 0
        for x in np.linspace(lo + 0.2 * (hi - lo), hi - 0.2 * (hi - lo), 7):
            p = view.viewport().mapTo(top, view.mapFromScene(vb.mapViewToScene(QPointF(x, level))))
            if any(0 <= p.y() + dy < img.height() and 0 <= p.x() < img.width()
                   and coloured(img.pixelColor(p.x(), p.y() + dy)) for dy in range(-2, 3)):
                hits += 1
        if hits >= 6:
            found.add(i)
    return found


def curve_colours(top, view, indices) -> dict[int, tuple[int, int, int]]:
    """The colour each curve is drawn in (the commonest along its segment), as rendered."""
    img = top.grab().toImage()
    vb = view.getPlotItem().vb
    out = {}
    for i in indices:
        lo, hi, level = segment_place(i)
        seen: dict[tuple[int, int, int], int] = {}
        for x in np.linspace(lo + 0.2 * (hi - lo), hi - 0.2 * (hi - lo), 9):
            p = view.viewport().mapTo(top, view.mapFromScene(vb.mapViewToScene(QPointF(x, level))))
            for dy in (0, -1, 1):
                c = img.pixelColor(p.x(), p.y() + dy)
                if coloured(c):
                    key = (c.red(), c.green(), c.blue())
                    seen[key] = seen.get(key, 0) + 1
                    break
        if seen:
            out[i] = max(seen, key=seen.get)
    return out
