"""Hover read-outs of the plots: shown at once where the pointer is.

Why not ``setToolTip`` on the plot widget: Qt shows a widget's tooltip only after the pointer
has rested, and only if the last hover event happened to set it; on the spectra and the f_n
points (small targets) that mostly showed nothing. ``HoverTip`` shows the read-out as soon as
the pointer is over a point, moves with it to the next point and hides off the points.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QToolTip


class HoverTip:
    """The hover read-out of one plot widget (a ``pg.PlotWidget``)."""

    def __init__(self, view) -> None:
        self._view = view
        self._key = None

    def show(self, key, scene_pos: QPointF, text: str) -> None:
        """Show ``text`` for the thing ``key`` under the pointer (None or "": hide)."""
        view = self._view
        view.setToolTip(text or "")  # also for Qt's own tooltip event after a rest
        if not text:
            if self._key is not None:
                QToolTip.hideText()
            self._key = None
            return
        if (key, text) == self._key and QToolTip.isVisible():
            return
        self._key = (key, text)
        pos = view.viewport().mapToGlobal(view.mapFromScene(scene_pos))
        QToolTip.showText(pos, text, view.viewport())

    def hide(self) -> None:
        self.show(None, QPointF(), "")
