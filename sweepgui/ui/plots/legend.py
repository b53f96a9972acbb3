"""The legend of the f_n lines: which values of the other swept parameters each line is.

A heading names the parameters (with units), then one short row per line, in as many columns
as the plot's width allows, in the corner of the plot where it hides the fewest points
(matplotlib's ``loc="best"``), until the user drags it somewhere else.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF

FONT_PT = 8
SAMPLE_PX = 20
MARGIN_PX = 4
CORNERS = {  # name: (item anchor, parent anchor, offset in pixels)
    "top-right": ((1, 0), (1, 0), (-MARGIN_PX, MARGIN_PX)),
    "top-left": ((0, 0), (0, 0), (MARGIN_PX, MARGIN_PX)),
    "bottom-right": ((1, 1), (1, 1), (-MARGIN_PX, -MARGIN_PX)),
    "bottom-left": ((0, 1), (0, 1), (MARGIN_PX, -MARGIN_PX)),
}


class LinesLegend(pg.LegendItem):
    """A heading and one row per line (sample + text). ``set_lines`` replaces everything."""

    def __init__(self) -> None:
        super().__init__(brush=pg.mkBrush(255, 255, 255, 225), pen=pg.mkPen("#b0bec5"),
                         labelTextSize=f"{FONT_PT}pt", verSpacing=-7, horSpacing=6)
        self.heading: pg.LabelItem | None = None
        self.user_placed = False
        self.corner: str | None = None
        self._entries: list[tuple[object, str]] = []
        self._heading_text = ""

    # -- content ----------------------------------------------------------------------------
    def set_lines(self, heading: str, entries: list[tuple[object, str]], width_px: float) -> None:
        """``entries``: (line item, text) per line; columns as many as fit in ``width_px``."""
        self._heading_text, self._entries = heading, list(entries)
        self.clear()
        if self.heading is not None:
            self._removeItemFromLayout(self.heading)
            self.heading = None
        self.columnCount = self.columns_for(width_px)
        self.heading = pg.LabelItem(heading, size=f"{FONT_PT}pt", justify="left", color="#263238")
        self.layout.addItem(self.heading, 0, 0, 1, 2 * self.columnCount)
        for item, text in entries:
            self.addItem(item, text)
        self.updateSize()

    def columns_for(self, width_px: float) -> int:
        if not self._entries:
            return 1
        fm = QFontMetricsF(_font())
        entry = max(fm.horizontalAdvance(t) for _, t in self._entries) + SAMPLE_PX + 14
        return max(1, min(len(self._entries), int(0.9 * max(width_px, 1.0) // entry)))

    def refit(self, width_px: float) -> None:
        """The plot's width changed: re-flow the rows into the columns that fit now."""
        if self._entries and self.columns_for(width_px) != self.columnCount:
            self.set_lines(self._heading_text, self._entries, width_px)

    def heading_text(self) -> str:
        return self.heading.text if self.heading is not None else ""

    def entries(self) -> list[tuple[object, str]]:
        """(line item, text) of every row, as shown."""
        return [(sample.item, label.text) for sample, label in self.items]

    def updateSize(self) -> None:
        # pyqtgraph adds up every cell of a row, counting a spanning heading once per column
        if self.size is not None:
            return
        hint = self.layout.effectiveSizeHint(Qt.SizeHint.PreferredSize)
        self.setGeometry(0, 0, hint.width(), hint.height())

    # -- placement --------------------------------------------------------------------------
    def place(self, vb, xs: np.ndarray, ys: np.ndarray) -> None:
        """Into the corner of ``vb`` hiding the fewest of the points (xs, ys), unless the user
        has moved the legend."""
        if self.user_placed or not self.isVisible():
            return
        (x0, x1), (y0, y1) = vb.viewRange()
        sx, sy = vb.viewPixelSize()
        w = (self.width() + 2 * MARGIN_PX) * sx
        h = (self.height() + 2 * MARGIN_PX) * sy
        boxes = {"top-right": (x1 - w, x1, y1 - h, y1), "top-left": (x0, x0 + w, y1 - h, y1),
                 "bottom-right": (x1 - w, x1, y0, y0 + h), "bottom-left": (x0, x0 + w, y0, y0 + h)}
        hidden = {name: int(np.count_nonzero((xs >= a) & (xs <= b) & (ys >= c) & (ys <= d)))
                  for name, (a, b, c, d) in boxes.items()}
        best = min(CORNERS, key=lambda name: hidden[name])  # ties: the first (top-right)
        if best != self.corner:
            self.corner = best
            item, parent, offset = CORNERS[best]
            self.anchor(item, parent, offset)

    def mouseDragEvent(self, ev) -> None:
        super().mouseDragEvent(ev)
        self.user_placed = True


def _font() -> QFont:
    f = QFont()
    f.setPointSizeF(FONT_PT)
    return f


def line_samples(xs: np.ndarray, ys: np.ndarray, gid: np.ndarray, per_segment: int = 8):
    """Points along the drawn lines (sorted by line, then x): the points and samples between
    them, so that a legend is not put over a line either."""
    if len(xs) < 2:
        return xs, ys
    same = gid[:-1] == gid[1:]
    t = np.linspace(0.0, 1.0, per_segment + 2)[1:-1]
    a, b = np.nonzero(same)[0], np.nonzero(same)[0] + 1
    mx = (xs[a, None] * (1 - t) + xs[b, None] * t).ravel()
    my = (ys[a, None] * (1 - t) + ys[b, None] * t).ravel()
    return np.concatenate([xs, mx]), np.concatenate([ys, my])

