"""The Calibration tab's plots: residual maps over (T, p) and the residual versus density.

Each plot creates its items once and updates them with ``setImage``/``setData`` (DESIGN.md,
plots). The maps use a diverging scale symmetric about zero (blue: the instrument reads low,
red: it reads high), each with its own levels: uncompensated and compensated errors differ by
orders of magnitude, and one shared scale would show the compensated map as a blank.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QRectF, QSize
from PySide6.QtGui import QColor, QImage, QPainter

from sweepgui.results.display import axis_label, display_unit, format_value
from sweepgui.ui.calibration.data import DENSITY, MapGrid, envelope, symmetric_levels
from sweepgui.ui.plots.axes import CellAxis
from sweepgui.ui.plots.tips import HoverTip

# ColorBrewer RdBu (reversed): blue below zero, white at zero, red above
_DIVERGING = np.array([[33, 102, 172], [103, 169, 207], [209, 229, 240], [247, 247, 247],
                       [253, 219, 199], [239, 138, 98], [178, 24, 43]], dtype=np.uint8)
ERROR_UNIT = "kg/m3"
PLOT_HINT = QSize(240, 200)  # the plots ask for little: the tab scrolls in a pane smaller than this


def diverging_map() -> pg.ColorMap:
    return pg.ColorMap(np.linspace(0.0, 1.0, len(_DIVERGING)), _DIVERGING)


def _label(path: str | None) -> str:
    return axis_label(path) if path else ""


def _keep_titles_placed(*axes) -> None:
    """Place each axis' title anew whenever its text changes. pyqtgraph places a title only
    when its axis is resized; a title that grows without a resize (the "(x1e-12)" its SI
    prefix adds once the errors are small) stayed where the shorter one was, cut off."""
    for axis in axes:
        update = axis._updateLabel

        def updated(update=update, axis=axis):
            update()
            axis.resizeEvent()
        axis._updateLabel = updated


def _title_never_widens(plot_item) -> None:
    """A title asks for its text's width but never sets the plot's minimum: pyqtgraph makes the
    title's width the minimum of the plot's middle column (on every resize), so a title wider
    than a narrow pane pushed the colour bar out of the picture."""
    label = plot_item.titleLabel
    update = label.updateMin

    def updated() -> None:
        update()
        label.setMinimumWidth(0)
    label.updateMin = updated


class ResidualMap(pg.PlotWidget):
    """The density error over a grid of cells (one ``ImageItem``), titled with what it shows."""

    def __init__(self, what: str, parent=None) -> None:
        super().__init__(parent, axisItems={"bottom": CellAxis("bottom"), "left": CellAxis("left")})
        self.setBackground("w")
        self.what = what
        self.grid: MapGrid | None = None
        self.levels: tuple[float, float] = (-1.0, 1.0)
        self._image = pg.ImageItem(axisOrder="row-major")
        cmap = diverging_map()
        self._image.setColorMap(cmap)
        self.addItem(self._image)
        pi = self.getPlotItem()
        pi.setMenuEnabled(False)
        pi.hideButtons()
        _title_never_widens(pi)
        self._bar = pg.ColorBarItem(values=self.levels, colorMap=cmap, interactive=False, width=12,
                                    colorMapMenu=False)
        self._bar.setImageItem(self._image, insert_in=pi)
        # plain numbers in kg/m3: "(x0.001)" beside a unit reads as a different unit
        self._bar.axis.enableAutoSIPrefix(False)
        _keep_titles_placed(self._bar.axis)
        self._bar.axis.setLabel(f"error ({ERROR_UNIT})")
        self.setMinimumSize(160, 140)
        self._tip = HoverTip(self)
        self.scene().sigMouseMoved.connect(self._on_moved)
        self.set_title("")

    def sizeHint(self) -> QSize:
        return PLOT_HINT

    def set_title(self, text: str) -> None:
        pi = self.getPlotItem()
        pi.setTitle(f"{self.what}{' ' + text if text else ''}", size="9pt")

    def set_grid(self, grid: MapGrid | None, title: str = "") -> None:
        """Show ``grid`` (None: nothing)."""
        self.grid = grid
        self.set_title(title)
        pi = self.getPlotItem()
        if grid is None:
            self._image.clear()
            for axis in ("bottom", "left"):
                pi.getAxis(axis).set_cells([])
            return
        values = grid.values
        ny, nx = values.shape
        self.levels = symmetric_levels(values)
        self._bar.setLevels(self.levels)
        self._image.setImage(values, levels=self.levels, autoLevels=False)
        self._image.setRect(-0.5, -0.5, nx, ny)
        xu = display_unit(grid.x_path) if "." in grid.x_path else None
        pi.getAxis("bottom").set_cells([format_value(v, xu) for v in grid.x_values])
        pi.setLabel("bottom", _label(grid.x_path))
        if grid.y_path:
            yu = display_unit(grid.y_path) if "." in grid.y_path else None
            pi.getAxis("left").set_cells([format_value(v, yu) for v in grid.y_values])
            pi.setLabel("left", _label(grid.y_path))
        else:
            pi.getAxis("left").set_cells([""])
            pi.setLabel("left", "")
        pi.vb.setRange(xRange=(-0.5, nx - 0.5), yRange=(-0.5, ny - 0.5), padding=0)

    def _on_moved(self, pos) -> None:
        g = self.grid
        vb = self.getPlotItem().vb
        if g is None or not vb.sceneBoundingRect().contains(pos):
            self._tip.hide()
            return
        p = vb.mapSceneToView(pos)
        a, b = int(round(p.x())), int(round(p.y()))
        if not (0 <= b < g.values.shape[0] and 0 <= a < g.values.shape[1]):
            self._tip.hide()
            return
        lines = [f"{g.x_path} = {format_value(g.x_values[a], display_unit(g.x_path), with_unit=True)}"]
        if g.y_path:
            lines.append(f"{g.y_path} = "
                         f"{format_value(g.y_values[b], display_unit(g.y_path), with_unit=True)}")
        lines.append(f"error = {g.values[b, a]:.4g} {ERROR_UNIT}"
                     + (f" ({g.reduced})" if g.reduced else ""))
        self._tip.show((a, b), pos, "\n".join(lines))


class ResidualDensityPlot(pg.PlotWidget):
    """The compensated error at every point against the true density, with the band it spans."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        pi = self.getPlotItem()
        pi.setMenuEnabled(False)
        pi.hideButtons()
        _title_never_widens(pi)
        pi.showGrid(x=True, y=True, alpha=0.25)
        pi.setLabel("bottom", axis_label(DENSITY))
        pi.setLabel("left", f"error ({ERROR_UNIT})")
        self._zero = pg.InfiniteLine(0.0, angle=0, pen=pg.mkPen("#888", width=1))
        self._band = [pg.PlotDataItem(pen=pg.mkPen("#1f77b4", width=1.5)) for _ in range(2)]
        self._points = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(31, 119, 180, 110))
        for item in (self._zero, *self._band, self._points):
            pi.addItem(item)
        pi.getAxis("left").enableAutoSIPrefix(False)
        _keep_titles_placed(pi.getAxis("left"))
        self.setMinimumSize(160, 140)
        self.set_title("")

    def sizeHint(self) -> QSize:
        return PLOT_HINT

    def set_title(self, text: str) -> None:
        pi = self.getPlotItem()
        pi.setTitle(text or "compensated error", size="9pt")

    def set_points(self, x: np.ndarray, y: np.ndarray, title: str = "") -> None:
        self.set_title(title)
        self._points.setData(x, y)
        xs, lo, hi = envelope(x, y)
        self._band[0].setData(xs, lo)
        self._band[1].setData(xs, hi)
        if x.size:
            self.getPlotItem().vb.autoRange(padding=0.08)

    def point_count(self) -> int:
        return len(self._points.data)


def render_plot(view: pg.PlotWidget, width: int, height: int, scale: float = 2.0) -> QImage:
    """``view`` (a plot never shown) laid out at ``width`` x ``height`` and drawn at ``scale``
    times that, for a report: the same picture whatever the plots on screen look like.

    ``grab`` delivers the widget's pending resize (which sizes its plot) and makes the axes
    measure their labels; the layout this asks for is applied before the next drawing (else
    a long tick label or the colour bar's title is cut off)."""
    view.resize(width, height)
    for _ in range(3):
        view.grab()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    image = QImage(int(width * scale), int(height * scale), QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    try:
        view.render(painter, QPoint(0, 0)) if scale == 1 else \
            view.scene().render(painter, QRectF(0, 0, image.width(), image.height()),
                                view.mapToScene(view.viewport().rect()).boundingRect())
    finally:
        painter.end()
    return image


def report_images(maps: dict[str, tuple[MapGrid, str]],
                  density: tuple[np.ndarray, np.ndarray, str]) -> dict[str, QImage]:
    """The report's pictures, drawn by plots of their own (not the ones on screen): ``maps``
    name -> (grid, title); ``density``: (densities, errors, title)."""
    out = {}
    for name, (grid, title) in maps.items():
        view = ResidualMap(name)
        view.set_grid(grid, title)
        out[name] = render_plot(view, 270, 220)
        view.deleteLater()
    plot = ResidualDensityPlot()
    plot.set_points(*density)
    out["density"] = render_plot(plot, 270, 220)
    plot.deleteLater()
    return out
