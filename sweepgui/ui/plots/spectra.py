"""Live overlay of every finished point's spectrum, coloured by a swept parameter.

Few graphics items whatever the number of curves, created once:
* one ``PlotCurveItem`` per colour bucket for the *live* curves (the latest ones, up to
  ``SEAL_AT``): each new spectrum is appended to its bucket's NaN-separated polyline and the
  item is updated with ``setData``;
* one ``RasterCurvesLayer`` holding the *sealed* curves as paths, drawn once into an image
  (``plots_layer``), so a frame costs a blit instead of re-stroking a thousand curves.
Decimation (``sweepgui.results.SpectraStore``) keeps the total vertex count under a budget, and
re-decimates for the visible x range after a zoom, which is what ``clipToView`` /
``autoDownsample`` do for a single ``PlotDataItem`` (they cannot for NaN-joined curves).
Auto-range stays off; the view follows the data bounds only until the user zooms or pans.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal

from sweepgui.results import PointResult, SpectraStore
from sweepgui.results.display import axis_label, display_unit
from sweepgui.results.points import decimate
from sweepgui.ui.plots.axes import plain_log_ticks
from sweepgui.ui.plots.colormaps import ColourScale
from sweepgui.ui.plots.layer import RasterCurvesLayer, cache_axes, curves_path, plot_axes
from sweepgui.ui.plots.tips import HoverTip

N_BUCKETS = 16
SEAL_AT = 96  # live curves (vector items) before they move into the raster layer
HOVER_PIXELS = 6  # a curve within this many pixels of the cursor counts as hit


class SpectraView(pg.PlotWidget):
    """Magnitude (log axis) versus frequency of every finished point.

    Signals
    -------
    pointClicked(int)
        The sweep index of the curve clicked (nearest curve within a few pixels).
    """

    pointClicked = Signal(int)

    def __init__(self, parent=None, n_buckets: int = N_BUCKETS) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.store = SpectraStore(n_buckets)
        self.describe: Callable[[int], str] = lambda i: f"point {i}"
        self._scale: ColourScale | None = None
        self._values: dict[int, object] = {}   # sweep index -> value of the colour parameter
        self._user_view = False                # True once the user zoomed or panned
        self._fitted = None
        self._setting_range = False
        self._selected: int | None = None
        pi = self.getPlotItem()
        pi.setLabel("bottom", "frequency", units="Hz")
        pi.setLabel("left", "|H| (m/N)")
        pi.showGrid(x=True, y=True, alpha=0.2)
        left = pi.getAxis("left")
        left.setLogMode(True)  # data are log10 values; the axis labels them as powers of ten
        left.enableAutoSIPrefix(False)
        pi.vb.disableAutoRange()
        # until the first spectrum: a typical receptance range (not 0..1, which the log axis
        # labelled 1 to 9 as if the unit were decades of nothing)
        pi.vb.setRange(xRange=(0.0, 2000.0), yRange=(-9.0, -2.0), padding=0)
        pi.setMenuEnabled(True)
        self._layer = RasterCurvesLayer()
        self.addItem(self._layer)
        self._live: list[list[int]] = [[] for _ in range(n_buckets)]
        self._pens = []
        self._items = []
        for _ in range(n_buckets):
            item = pg.PlotCurveItem(connect="finite", antialias=False)
            self.addItem(item)
            self._items.append(item)
        self._highlight = pg.PlotCurveItem(pen=pg.mkPen("#d50000", width=3), connect="finite")
        self._highlight.setZValue(10)
        self.addItem(self._highlight)
        self._bar = pg.ColorBarItem(values=(0, 1), colorMap=self._colormap(), interactive=False,
                                    width=14, colorMapMenu=False)
        pi.layout.addItem(self._bar, 2, 5)
        pi.layout.setColumnFixedWidth(4, 5)
        bar_axis = self._bar.axis
        bar_axis.setWidth(None)             # as wide as its labels (45 px cut off "2.1e+06")
        bar_axis.enableAutoSIPrefix(False)  # values in display units: no "(x1e+06)"
        bar_axis.setStyle(hideOverlappingLabels=12)  # the end labels reach past the bar's ends
        plain_log_ticks(bar_axis)
        self._bar.hide()
        self._tip = HoverTip(self)
        cache_axes(*plot_axes(pi), self._bar.axis)
        self._apply_pens()
        self._rerange = QTimer(self)
        self._rerange.setSingleShot(True)
        self._rerange.setInterval(150)
        self._rerange.timeout.connect(self._on_rerange)
        pi.vb.sigRangeChangedManually.connect(self._on_user_range)
        pi.vb.sigXRangeChanged.connect(self._on_x_range)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)

    # -- colours ------------------------------------------------------------------------------
    def _colormap(self) -> pg.ColorMap:
        cols = ColourScale([0.0, 1.0], self.store.n_buckets).colours
        return pg.ColorMap(np.linspace(0, 1, len(cols)), cols)

    def _apply_pens(self) -> None:
        cols = ColourScale([0.0, 1.0], self.store.n_buckets).colours
        self._pens = [pg.mkPen(tuple(int(v) for v in c), width=1) for c in cols]
        for item, pen in zip(self._items, self._pens):
            item.setPen(pen)

    def set_colour_by(self, label: str, values: dict[int, object], all_values) -> None:
        """Colour curves by one parameter: ``values`` per sweep index (SI), ``all_values`` its
        range. The colour bar shows display units (bar, degC), on a log scale when the values
        span decades."""
        self._values = dict(values)
        unit = display_unit(label) if label else None
        log = None if unit is None or unit.ratio_scale else False
        self._scale = ColourScale(list(all_values), self.store.n_buckets, log=log) if label else None
        numeric = self._scale is not None and self._scale.categories is None
        # visible first: an axis measured while hidden keeps a width of 0 (no tick labels)
        self._bar.setVisible(numeric)
        if numeric:
            lo, hi = float(unit.to_display(self._scale.lo)), float(unit.to_display(self._scale.hi))
            axis = self._bar.axis
            axis.setLogMode(self._scale.log)
            self._bar.setLevels((np.log10(lo), np.log10(hi)) if self._scale.log else (lo, hi))
            # as on the other plots' axes: "fluid.density (kg/m3)", "state.pressure (bar)"
            axis.setLabel(axis_label(label, unit))
        self.store.recolour({i: self._bucket(i) for i in self.store.curves})
        self._rebuild()

    def _bucket(self, index: int) -> int:
        if self._scale is None or index not in self._values:
            return 0
        return self._scale.bucket(self._values[index])

    # -- data ---------------------------------------------------------------------------------
    def clear_curves(self) -> None:
        self.store.clear()
        self._selected = None
        self._highlight.setData([], [])
        self._user_view = False
        self._fitted = None
        self._rebuild()

    def add_results(self, results: list[PointResult]) -> None:
        """Add a batch of finished points: one ``setData`` per touched live bucket."""
        items = [(r, self._bucket(r.index)) for r in results if len(r.frequency)]
        # a replaced curve may sit in the raster layer: redraw everything then
        rebuild = any(r.index in self.store.curves for r, _ in items)
        rebuild |= self.store.add_many(items)       # True: new decimation level for all
        touched = set()
        for r, b in items:
            self._live[b].append(r.index)
            touched.add(b)
        if rebuild:
            self._rebuild()
        elif sum(len(v) for v in self._live) >= SEAL_AT:
            self._seal()
        else:
            for b in touched:
                x, y = self.store.arrays_for(self._live[b])
                self._items[b].setData(x, y, connect="finite")
        if not self._user_view:
            self._fit_view()
        if self._selected is not None and any(r.index == self._selected for r in results):
            self.set_selected(self._selected)

    def expect(self, n_curves: int) -> None:
        """About ``n_curves`` curves are coming: decimate for that many from the start."""
        if self.store.expect(n_curves):
            self._rebuild()

    def _clear_live(self) -> None:
        for b, item in enumerate(self._items):
            if self._live[b]:
                item.setData([], [])
            self._live[b] = []

    def _seal(self) -> None:
        """Move the live curves into the raster layer (drawn once onto its image)."""
        paths = [(self._pens[b], curves_path(*self.store.arrays_for(self._live[b])))
                 for b in range(self.store.n_buckets) if self._live[b]]
        self._layer.add_paths(paths)
        self._clear_live()

    def _rebuild(self) -> None:
        """Every curve into the raster layer again (new colours, decimation or x range)."""
        groups = self.store.indices_by_bucket()
        self._layer.set_paths([(self._pens[b], curves_path(*self.store.arrays_for(groups[b])))
                               for b in range(self.store.n_buckets) if groups[b]])
        self._clear_live()
        if not self._user_view:
            self._fit_view()

    def _fit_view(self) -> None:
        bounds = self.store.bounds()
        if bounds is None:
            return
        x0, x1, y0, y1 = bounds
        pad = 0.05 * max(y1 - y0, 1e-12)
        target = (x0, x1, y0 - pad, y1 + pad)
        if target == self._fitted:  # unchanged: do not make the axes redraw
            return
        self._fitted = target
        self._setting_range = True
        try:
            self.getPlotItem().vb.setRange(xRange=(x0, x1), yRange=(y0 - pad, y1 + pad), padding=0)
        finally:
            self._setting_range = False

    def reset_view(self) -> None:
        """Follow the data again (undo the user's zoom)."""
        self._user_view = False
        self._fitted = None
        if self.store.x_range is not None:
            self.store.set_x_range(None)
        self._rebuild()

    def _on_user_range(self, *_) -> None:
        self._user_view = True

    def _on_x_range(self, *_) -> None:
        if not self._setting_range:
            self._rerange.start()

    def _on_rerange(self) -> None:
        bounds = self.store.bounds()
        x0, x1 = self.getPlotItem().vb.viewRange()[0]
        full = bounds is None or (x0 <= bounds[0] and x1 >= bounds[1])
        new = None if full else (x0, x1)
        if new != self.store.x_range:
            self.store.set_x_range(new)
            self._rebuild()

    # -- selection and hover ------------------------------------------------------------------
    def set_selected(self, index: int | None) -> None:
        """Draw the selected point's spectrum on top, at full resolution."""
        self._selected = index
        r = self.store.curves.get(index) if index is not None else None
        if r is None:
            self._highlight.setData([], [])
            return
        x, y = decimate(r.frequency, r.log_magnitude, 8192)
        self._highlight.setData(x, y, connect="finite")

    def curve_at(self, scene_pos) -> int | None:
        vb = self.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = vb.mapSceneToView(scene_pos)
        px = vb.viewPixelSize()[1]
        return self.store.nearest(p.x(), p.y(), HOVER_PIXELS * px)

    def hover_text(self, index: int, scene_pos) -> str:
        """The point's parameters and values, and the curve's |H| where the pointer is."""
        text = self.describe(index)
        r = self.store.curves.get(index)
        if r is not None and len(r.frequency) > 1:
            x = self.getPlotItem().vb.mapSceneToView(scene_pos).x()
            y = float(np.interp(x, r.frequency, r.log_magnitude))
            if np.isfinite(y):
                text += f"\n|H| = {10.0 ** y:.4g} m/N at {x:.5g} Hz"
        return text

    def _on_mouse_moved(self, scene_pos) -> None:
        i = self.curve_at(scene_pos)
        self._tip.show(i, scene_pos, "" if i is None else self.hover_text(i, scene_pos))

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != pg.QtCore.Qt.MouseButton.LeftButton:
            return
        i = self.curve_at(event.scenePos())
        if i is not None:
            self.pointClicked.emit(i)
