"""A graphics item that draws many finished curves once into an image and then only blits it.

Why: repainting 1,500 overlaid spectra as vectors costs ~15-40 ms per frame (and a frame happens
every time a batch of points arrives), while their pixels do not change until the view does.
``RasterCurvesLayer`` keeps the curves as ``QPainterPath`` s, renders them into an image of the
widget's pixels keyed by the painter's item-to-widget transform, draws newly added paths
incrementally onto the same image, and re-renders everything only when the view (zoom, pan,
size) changes. Exports (PNG/SVG, where the paint device is not a widget) get the vector paths,
so SVG stays vector.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QImage, QPainter, QPainterPath, QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem, QWidget


def cache_axes(*axes) -> None:
    """Keep axes as pixmaps between changes: replaying an axis' text costs ~3 ms per frame here,
    and every batch of new points would otherwise redraw every axis of every plot."""
    for axis in axes:
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def plot_axes(plot_item):
    return [plot_item.getAxis(name) for name in ("left", "bottom", "right", "top")]


def curves_path(x: np.ndarray, y: np.ndarray) -> QPainterPath:
    """A NaN-separated polyline as one path (NaN points break the line)."""
    if len(x) == 0:
        return QPainterPath()
    return pg.arrayToQPath(np.asarray(x, float), np.asarray(y, float), connect="finite")


class RasterCurvesLayer(pg.GraphicsObject):
    """Many fixed curves (pen, path), painted from a cached image while the view stays put."""

    def __init__(self) -> None:
        super().__init__()
        self._paths: list[tuple[QPen, QPainterPath]] = []
        self._bounds = QRectF()
        self._image: QImage | None = None
        self._key = None
        self._drawn = 0
        self.renders = 0  # full re-renders (for tests and the benchmark)

    def __len__(self) -> int:
        return len(self._paths)

    def clear(self) -> None:
        self.set_paths([])

    def set_paths(self, paths: list[tuple[QPen, QPainterPath]]) -> None:
        """Replace every curve (after a recolour, zoom re-decimation, ...)."""
        self.prepareGeometryChange()
        self._paths = list(paths)
        self._bounds = QRectF()
        for _, path in self._paths:
            self._bounds = self._bounds.united(path.boundingRect())
        self._image, self._drawn = None, 0
        self.update()

    def add_paths(self, paths: list[tuple[QPen, QPainterPath]]) -> None:
        """Add curves on top; the next paint draws only these onto the cached image."""
        if not paths:
            return
        self.prepareGeometryChange()
        for pen, path in paths:
            self._paths.append((pen, path))
            self._bounds = self._bounds.united(path.boundingRect())
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(self._bounds)

    def dataBounds(self, ax, frac=1.0, orthoRange=None):
        # lets ViewBox auto-range see these curves like a PlotCurveItem
        r = self._bounds
        if r.isNull():
            return (None, None)
        return (r.left(), r.right()) if ax == 0 else (r.top(), r.bottom())

    def paint(self, p: QPainter, *args) -> None:
        if not self._paths:
            return
        device = p.device()
        if not isinstance(device, QWidget):  # export: vector output
            for pen, path in self._paths:
                p.setPen(pen)
                p.drawPath(path)
            return
        # the item-to-widget transform in the widget's own logical pixels. Not deviceTransform():
        # that one also holds the offset of the widget in the window being painted (Qt paints
        # a whole window into one backing store), so the image was drawn that far off, and
        # curves beyond the plot's own size (all of them, in the app) were cut off
        tr = p.worldTransform()
        dpr = device.devicePixelRatioF()
        w, h = device.width(), device.height()
        key = (tr.m11(), tr.m12(), tr.m21(), tr.m22(), tr.dx(), tr.dy(), w, h, dpr)
        if key != self._key or self._image is None:
            self._image = QImage(max(int(w * dpr), 1), max(int(h * dpr), 1),
                                 QImage.Format.Format_ARGB32_Premultiplied)
            self._image.setDevicePixelRatio(dpr)  # a painter on it scales logical pixels by dpr
            self._image.fill(0)
            self._key, self._drawn = key, 0
            self.renders += 1
        if self._drawn < len(self._paths):
            q = QPainter(self._image)
            q.setWorldTransform(tr)
            for pen, path in self._paths[self._drawn:]:
                q.setPen(pen)
                q.drawPath(path)
            q.end()
            self._drawn = len(self._paths)
        p.save()
        p.setWorldTransform(QTransform())  # widget pixels; the painter keeps its window offset
        p.drawImage(QPointF(0.0, 0.0), self._image)
        p.restore()
