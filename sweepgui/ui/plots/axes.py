"""Axes of the plots: tick labels in display units that are always there and never overlap.

* ``plain_log_ticks``: a log axis (data are log10 values) labelled 1, 10, 100 rather than
  pyqtgraph's 1, 10¹, 10² -- for values in display units (bar), not for powers of m/N.
* ``CellAxis``: the axis of a grid of cells (the f_n map), each cell labelled with its
  parameter value. pyqtgraph drops a label that reaches past the axis' ends or crowds its
  level, so a 3-value pressure axis (100000, 1.1e+06, 2.1e+06) showed no label at all; here
  as many labels are chosen as fit side by side, and the end ones may reach past the ends.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetricsF

LABEL_GAP_PX = 10        # free space between two labels along an axis
END_OVERFLOW_PX = 80     # how far an end label may reach past the axis


def _plain(x: float) -> str:
    return f"{x + 0.0:.4g}"


def log_ticks(lo: float, hi: float) -> list[tuple[float | None, list[float]]]:
    """Tick levels of a log axis showing log10 values lo..hi: the decades (with 2 and 5 when
    less than two decades are in view), then the other integer multiples, unlabelled."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return []
    first, last = math.floor(lo), math.ceil(hi)
    eps = 1e-9 * max(1.0, hi - lo)
    decades = [float(d) for d in range(first, last + 1) if lo - eps <= d <= hi + eps]
    minor = [d + math.log10(k) for d in range(first, last + 1) for k in range(2, 10)
             if lo - eps <= d + math.log10(k) <= hi + eps]
    major = decades
    if len(decades) < 2:
        major = sorted(decades + [v for v in minor if round(10 ** (v - math.floor(v))) in (2, 5)])
        minor = [v for v in minor if v not in major]
    return [(1.0, major), (None, minor)]


def plain_log_ticks(axis: pg.AxisItem) -> None:
    """Label a log axis (its data are log10 values) with plain numbers: 1, 10, 100 (and 2, 5
    within a decade) instead of pyqtgraph's 10¹, 10² -- which also left the ends of a two-decade
    colour bar unlabelled. The multiples between are ticks without labels."""

    def log_tick_values(minVal, maxVal, size, stdTicks):
        return log_ticks(float(minVal), float(maxVal))

    def log_tick_strings(values, scale, spacing):
        if spacing is None:  # the unlabelled level (None: pyqtgraph skips the label)
            return [None] * len(values)
        return [_plain(10.0 ** float(v) * scale) for v in values]

    axis.logTickValues = log_tick_values
    axis.logTickStrings = log_tick_strings


class CellAxis(pg.AxisItem):
    """Ticks at cells 0..n-1, labelled ``labels[k]``: as many as fit without overlapping,
    always at least the first one."""

    def __init__(self, orientation: str, **kw) -> None:
        super().__init__(orientation, **kw)
        self._cell_labels: list[str] = []
        self.enableAutoSIPrefix(False)  # cell numbers, not values: no "(x0.001)"
        self.setStyle(hideOverlappingLabels=END_OVERFLOW_PX)

    def set_cells(self, labels: list[str]) -> None:
        self._cell_labels = [str(x) for x in labels]
        self.picture = None
        self.update()

    def cell_labels(self) -> list[str]:
        return list(self._cell_labels)

    def _metrics(self) -> QFontMetricsF:
        return QFontMetricsF(self.style["tickFont"] or QFont())

    def tickValues(self, minVal, maxVal, size):
        n = len(self._cell_labels)
        if n == 0:
            return []
        span = max(float(maxVal) - float(minVal), 1e-9)
        px_per_cell = max(float(size), 1.0) / span
        fm = self._metrics()
        if self.orientation in ("top", "bottom"):
            need = max(fm.horizontalAdvance(s) for s in self._cell_labels) + LABEL_GAP_PX
        else:
            need = fm.height() + 2
        step = max(1, math.ceil(need / px_per_cell))
        first = max(0, math.ceil(float(minVal) - 0.5))
        last = min(n - 1, math.floor(float(maxVal) + 0.5))
        values = [float(k) for k in range(0, n, step) if first <= k <= last]
        return [(float(step), values)]

    def tickStrings(self, values, scale, spacing):
        n = len(self._cell_labels)
        out = []
        for v in values:
            k = int(np.round(v))
            out.append(self._cell_labels[k] if 0 <= k < n else "")
        return out
