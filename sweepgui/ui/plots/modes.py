"""Natural frequency of mode n versus a swept parameter, with the local slope at the selected point.

One ``ScatterPlotItem`` for the points and a few ``PlotCurveItem`` s for the lines through points
that differ only along the chosen parameter's dimension (one item per line colour, ``connect``
arrays, NaN-free): all updated with ``setData`` per batch, never one item per point. Each line is
one value of the other swept parameters, which the legend names (with units). Values are shown
in display units (bar, degC), on a log axis when they span decades; the slope read-out comes
from ``sweepgui.results`` (the rule and units of ``sweepgui sensitivity``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal

from sweepgui.results import SweepLayout, line_samples
from sweepgui.results.display import axis_label, display_unit, format_value, spans_decades
from sweepgui.results.layout import number
from sweepgui.results.slope import slope_at
from sweepgui.ui.plots.axes import plain_log_ticks
from sweepgui.ui.plots.colormaps import LINE_COLOURS
from sweepgui.ui.plots.layer import cache_axes, plot_axes
from sweepgui.ui.plots.legend import MARGIN_PX, LinesLegend
from sweepgui.ui.plots.legend import line_samples as drawn_samples
from sweepgui.ui.plots.tips import HoverTip

GREY = "#90a4ae"


def expanded(current: tuple[float, float] | None, lo: float, hi: float,
             pad: float = 0.08) -> tuple[float, float] | None:
    """A range that covers [lo, hi]: ``current`` if it already does, else [lo, hi] plus padding.

    Expand-only ranges keep axes still while points arrive (every axis change costs a redraw)."""
    if current is not None and current[0] <= lo and hi <= current[1]:
        return None
    span = max(hi - lo, abs(hi) * 1e-3, 1e-12)
    return (lo - pad * span, hi + pad * span)


def slope_text(mode: int, path: str, slope: float | None, unit: str = "") -> str:
    """E.g. ``df1/d(state.pressure) = 0.2 Hz/bar`` (``slope`` in ``unit``, as the CLI says it)."""
    if slope is None or not np.isfinite(slope):
        return f"df{mode}/d({path}): select a point with a finished neighbour"
    return f"df{mode}/d({path}) = {slope + 0.0:.4g} {unit}".rstrip()


def slope_readout(layout: SweepLayout, freqs: dict[int, float], index: int, path: str,
                  mode: int) -> str:
    """The slope read-out at ``index``: ``sweepgui.results.slope_at`` on the grid line through
    it (as ``sweepgui sensitivity`` computes it: same formula, same unit)."""
    samples = line_samples(layout, freqs, index, path) if index in freqs else None
    if samples is None:
        return slope_text(mode, path, None)
    f, x, k = samples
    value, unit = slope_at(f, x, k, path)
    return slope_text(mode, path, value, unit)


class ModesView(pg.PlotWidget):
    """f_n versus one swept parameter. ``pointClicked(int)`` gives the sweep index clicked."""

    pointClicked = Signal(int)
    slopeChanged = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self._slope_text = ""
        self.layout_: SweepLayout | None = None
        self.freqs: dict[int, tuple[float, ...]] = {}
        self.mode = 1
        self.path: str | None = None
        self.selected: int | None = None
        self.describe: Callable[[int], str] = lambda i: f"point {i}"
        self._cache_key = None
        self._labels: dict[str, tuple] = {}
        self._y_range: tuple[float, float] | None = None
        self._y_data: tuple[float, float] | None = None  # f_n range of the points on show
        self._categories: list[str] | None = None  # the values of a text parameter on the x axis
        self._log_x = False
        self._n_lines = 0
        pi = self.getPlotItem()
        pi.vb.disableAutoRange()
        pi.showGrid(x=True, y=True, alpha=0.2)
        pi.setLabel("left", "f1", units="Hz")
        bottom = pi.getAxis("bottom")
        bottom.enableAutoSIPrefix(False)  # display units already (bar, not "(x1e+06) Pa")
        plain_log_ticks(bottom)
        # lines: one item per colour; beyond that many lines, all grey in one item
        self._grey = pg.PlotCurveItem(pen=pg.mkPen(GREY, width=1))
        self._lines = [pg.PlotCurveItem(pen=pg.mkPen(c, width=1.5)) for c in LINE_COLOURS]
        self._brushes = [pg.mkBrush(c) for c in LINE_COLOURS]
        self._point_brush = pg.mkBrush("#42a5f5")
        self._points = pg.ScatterPlotItem(size=7, pen=pg.mkPen("#37474f", width=0.5),
                                          brush=self._point_brush, hoverable=True, tip=None)
        self._sel = pg.ScatterPlotItem(size=13, pen=pg.mkPen("#d50000", width=2), brush=None)
        for item in (self._grey, *self._lines, self._points, self._sel):
            self.addItem(item)
        self.legend = LinesLegend()
        self.legend.setParentItem(pi.vb)
        self.legend.setZValue(20)
        self.legend.hide()
        pi.vb.sigResized.connect(self._on_resized)
        self._drawn = (np.empty(0), np.empty(0))  # points and line samples, for the legend
        self._points.sigClicked.connect(self._on_clicked)
        cache_axes(*plot_axes(pi))
        self._points.sigHovered.connect(self._on_hovered)
        self._tip = HoverTip(self)

    @property
    def slope_label(self) -> str:
        """The local slope read-out at the selected point (shown by the plot panel)."""
        return self._slope_text

    def legend_entries(self) -> list[str]:
        """The legend's rows as shown (heading first); [] without a legend."""
        if not self.legend.isVisible():
            return []
        return [self.legend.heading_text()] + [text for _, text in self.legend.entries()]

    def line_items(self) -> list[pg.PlotCurveItem]:
        return list(self._lines)

    def _set_slope(self, text: str) -> None:
        if text != self._slope_text:
            self._slope_text = text
            self.slopeChanged.emit(text)

    def set_layout(self, layout: SweepLayout | None) -> None:
        self.layout_ = layout
        self.freqs.clear()
        self.selected = None
        if layout is not None and layout.columns and (self.path not in layout.columns):
            self.path = next((c for c in layout.columns
                              if number(layout.value(0, c)) is not None), layout.columns[0])
        self.refresh()

    def set_path(self, path: str) -> None:
        self.path = path
        self.refresh()

    def set_mode(self, mode: int) -> None:
        self.mode = max(int(mode), 1)
        self._y_range = self._y_data = None
        self.refresh()

    def add_frequencies(self, items: dict[int, tuple[float, ...]]) -> None:
        self.freqs.update(items)
        self.refresh()

    def set_selected(self, index: int | None) -> None:
        self.selected = index
        self._update_selection()

    def _fn(self) -> dict[int, float]:
        k = self.mode - 1
        return {i: f[k] for i, f in self.freqs.items() if len(f) > k}

    def _set_axis(self, lay: SweepLayout, path: str) -> None:
        """Per-point x values (display units; log10 of them on a log axis) and line ids,
        computed once per layout and parameter; the legend of the lines."""
        pi = self.getPlotItem()
        bottom = pi.getAxis("bottom")
        si = lay.numeric_column(path)
        unit = display_unit(path)
        self._gid_all = lay.group_ids(lay.dim_of(path))
        self._categories = None
        self._log_x = False
        if len(si) and not np.isfinite(si).any():
            # a text parameter (boundary, fluid, theory): one column per value, named on
            # the axis (the plot stayed empty, its axis 0..1, with nothing to say why)
            values = [str(lay.value(i, path)) for i in range(len(lay))]
            self._categories = list(dict.fromkeys(values))
            place = {c: float(k) for k, c in enumerate(self._categories)}
            self._x_all = np.array([place[v] for v in values])
            bottom.setLogMode(False)
            bottom.setTicks([list(enumerate(self._categories))])
        else:
            shown = unit.to_display(si)
            finite_si = si[np.isfinite(si)]
            self._log_x = unit.ratio_scale and spans_decades(finite_si)
            with np.errstate(divide="ignore", invalid="ignore"):
                self._x_all = np.log10(shown) if self._log_x else shown
            bottom.setTicks(None)
            bottom.setLogMode(self._log_x)
        self._y_range = self._y_data = None
        finite = self._x_all[np.isfinite(self._x_all)]
        if self._categories is not None:
            pi.vb.setXRange(-0.5, len(self._categories) - 0.5, padding=0)
        elif finite.size:  # the swept range, known before any point finishes
            x0, x1 = expanded(None, float(finite.min()), float(finite.max()), 0.08)
            pi.vb.setXRange(x0, x1, padding=0)
        self._label("bottom", axis_label(path, unit) if self._categories is None else path)
        self._set_legend(lay, path)

    def _set_legend(self, lay: SweepLayout, path: str) -> None:
        """One row per line: the values of the other swept parameters, with units."""
        legend = self.legend
        dim = lay.dim_of(path)
        others = [(k, p) for k, (_, paths) in enumerate(lay.dims) if k != dim and lay.shape[k] > 1
                  for p in paths]
        n_lines = int(np.prod([lay.shape[k] for k in range(len(lay.shape)) if k != dim])) \
            if len(lay.shape) > 1 else 1
        self._n_lines = n_lines
        if n_lines <= 1 or not others:
            legend.set_lines("", [], 0)
            legend.hide()
            return
        units = {p: display_unit(p) for _, p in others}
        one = len(others) == 1
        # units in the heading; a row is the values alone when there are several parameters
        names = others[0][1] if one else ",<br>".join(axis_label(p, units[p]) for _, p in others)
        entries = []
        if n_lines <= len(self._lines):
            heading = f"lines: {names}"
            first = {}
            for i, g in enumerate(self._gid_all):
                first.setdefault(int(g), i)
            for g in range(n_lines):
                i = first[g]
                text = ", ".join(format_value(lay.value(i, p), units[p], with_unit=one)
                                 for _, p in others)
                entries.append((self._lines[g], text))
        else:
            heading = f"{n_lines} grey lines, one per value of<br>{names}: hover a point"
        legend.user_placed, legend.corner = False, None
        legend.set_lines(heading, entries, self.getPlotItem().vb.width())
        legend.show()

    def _fit_y(self) -> None:
        """Cover the data (expand-only), with room above them for the legend: in a small pane
        it hid lines in every corner."""
        if self._y_data is None:
            return
        lo, hi = self._y_data
        vb = self.getPlotItem().vb
        if self.legend.isVisible() and vb.height() > 0:
            share = min((self.legend.height() + 3 * MARGIN_PX) / vb.height(), 0.5)
            span = max(hi - lo, abs(hi) * 1e-3, 1e-12) * 1.16  # with expanded()'s padding
            hi += span * share / (1.0 - share)
        new = expanded(self._y_range, lo, hi)
        if new is not None:
            self._y_range = new
            vb.setYRange(*new, padding=0)

    def _on_resized(self) -> None:
        if self.legend.isVisible():
            self.legend.refit(self.getPlotItem().vb.width())
            self._fit_y()
            self.legend.place(self.getPlotItem().vb, *self._drawn)

    def refresh(self) -> None:
        lay, path = self.layout_, self.path
        self._label("left", f"f{self.mode}", units="Hz")
        if lay is None or path is None or path not in lay.columns:
            self._points.setData([])
            for item in (self._grey, *self._lines):
                item.setData([], [])
            self.legend.hide()
            self._cache_key = None
            self._update_selection()
            return
        if self._cache_key != (id(lay), path):
            self._cache_key = (id(lay), path)
            self._set_axis(lay, path)
        fn = self._fn()
        idx = np.fromiter(fn.keys(), dtype=int, count=len(fn))
        ys = np.fromiter(fn.values(), dtype=float, count=len(fn))
        xs = self._x_all[idx] if len(idx) else np.empty(0)
        keep = np.isfinite(xs) & np.isfinite(ys)
        idx, xs, ys = idx[keep], xs[keep], ys[keep]
        coloured = 1 < self._n_lines <= len(self._lines)
        g = self._gid_all[idx] if len(idx) else np.empty(0, dtype=int)
        if coloured:
            self._points.setData(xs, ys, data=idx, brush=[self._brushes[k] for k in g])
        else:
            self._points.setData(xs, ys, data=idx, brush=self._point_brush)
        pi = self.getPlotItem()
        if len(ys):
            self._y_data = (float(ys.min()), float(ys.max()))
            self._fit_y()
        order = np.lexsort((xs, g)) if len(idx) else np.empty(0, dtype=int)  # by line, then x
        xs, ys, g = xs[order], ys[order], g[order]
        if coloured:
            self._grey.setData([], [])
            for k, item in enumerate(self._lines):
                on = g == k
                if on.sum() > 1:
                    item.setData(xs[on], ys[on])
                else:
                    item.setData([], [])
        else:
            for item in self._lines:
                item.setData([], [])
            if len(idx) > 1:
                connect = np.append(g[:-1] == g[1:], False)
                self._grey.setData(xs, ys, connect=connect)
            else:
                self._grey.setData([], [])
        if self.legend.isVisible():
            self._drawn = drawn_samples(xs, ys, g)
            self.legend.place(pi.vb, *self._drawn)
        self._update_selection()

    def _label(self, axis: str, text: str, **kw) -> None:
        # setLabel redraws the axis (a cached pixmap otherwise): only when the text changes
        key = (text, tuple(sorted(kw.items())))
        if self._labels.get(axis) != key:
            self._labels[axis] = key
            self.getPlotItem().setLabel(axis, text, **kw)

    def _update_selection(self) -> None:
        lay, path, i = self.layout_, self.path, self.selected
        fn = self._fn()
        categorical = self._categories is not None and self._cache_key == (id(lay), path)
        if categorical and i is not None and i in fn:
            self._sel.setData([self._x_all[i]], [fn[i]])
            self._set_slope("")  # no slope along a text parameter
            return
        if lay is None or path is None or i is None or i not in fn or number(lay.value(i, path)) is None:
            self._sel.setData([])
            self._set_slope("" if path is None or categorical else slope_text(self.mode, path, None))
            return
        self._sel.setData([self._x_all[i]], [fn[i]])
        self._set_slope(slope_readout(lay, fn, i, path, self.mode))

    def _on_clicked(self, item, points, ev=None) -> None:
        if len(points):
            self.pointClicked.emit(int(points[0].data()))

    def _on_hovered(self, item, points, ev=None) -> None:
        if len(points):
            i = int(points[0].data())
            pos = points[0].pos()
            self._tip.show(i, self.getPlotItem().vb.mapViewToScene(pos), self.describe(i))
        else:
            self._tip.hide()
