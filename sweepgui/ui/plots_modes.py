"""Natural frequency of mode n versus a swept parameter, with the local slope at the selected point.

One ``ScatterPlotItem`` for the points and one ``PlotCurveItem`` (``connect`` array) for the lines
through points that differ only along the chosen parameter's dimension: both rebuilt with
``setData`` per batch, never one item per point.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal

from sweepgui.params import field_info

from .plots_layer import cache_axes, plot_axes
from .plots_layout import SweepLayout, _number, local_slope


def unit_of(path: str) -> str:
    try:
        return field_info(path).unit
    except Exception:  # noqa: BLE001 - a path the parameter models do not know: no unit
        return ""


def expanded(current: tuple[float, float] | None, lo: float, hi: float,
             pad: float = 0.08) -> tuple[float, float] | None:
    """A range that covers [lo, hi]: ``current`` if it already does, else [lo, hi] plus padding.

    Expand-only ranges keep axes still while points arrive (every axis change costs a redraw)."""
    if current is not None and current[0] <= lo and hi <= current[1]:
        return None
    span = max(hi - lo, abs(hi) * 1e-3, 1e-12)
    return (lo - pad * span, hi + pad * span)


def slope_text(mode: int, path: str, slope: float | None) -> str:
    """E.g. ``df1/d(fluid.density) = -0.153 Hz per kg/m3``."""
    if slope is None:
        return f"df{mode}/d({path}): select a point with a finished neighbour"
    unit = unit_of(path)
    per = f" per {unit}" if unit and unit != "1" else " per unit"
    return f"df{mode}/d({path}) = {slope:.4g} Hz{per}"


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
        self._categories: list[str] | None = None  # the values of a text parameter on the x axis
        pi = self.getPlotItem()
        pi.vb.disableAutoRange()
        pi.showGrid(x=True, y=True, alpha=0.2)
        pi.setLabel("left", "f1", units="Hz")
        self._lines = pg.PlotCurveItem(pen=pg.mkPen("#90a4ae", width=1))
        self._points = pg.ScatterPlotItem(size=7, pen=pg.mkPen("#1565c0"), brush=pg.mkBrush("#42a5f5"),
                                          hoverable=True, tip=None)
        self._sel = pg.ScatterPlotItem(size=13, pen=pg.mkPen("#d50000", width=2), brush=None)
        self.addItem(self._lines)
        self.addItem(self._points)
        self.addItem(self._sel)
        self._points.sigClicked.connect(self._on_clicked)
        cache_axes(*plot_axes(pi))
        self._points.sigHovered.connect(self._on_hovered)

    @property
    def slope_label(self) -> str:
        """The local slope read-out at the selected point (shown by the plot panel)."""
        return self._slope_text

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
                              if _number(layout.value(0, c)) is not None), layout.columns[0])
        self.refresh()

    def set_path(self, path: str) -> None:
        self.path = path
        self.refresh()

    def set_mode(self, mode: int) -> None:
        self.mode = max(int(mode), 1)
        self._y_range = None
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

    def refresh(self) -> None:
        lay, path = self.layout_, self.path
        pi = self.getPlotItem()
        self._label("left", f"f{self.mode}", units="Hz")
        if lay is None or path is None or path not in lay.columns:
            self._points.setData([])
            self._lines.setData([], [])
            self._update_selection()
            return
        if self._cache_key != (id(lay), path):
            # per-point x values and line ids, computed once per layout and parameter
            self._cache_key = (id(lay), path)
            self._x_all = lay.numeric_column(path)
            self._gid_all = lay.group_ids(lay.dim_of(path))
            self._categories = None
            bottom = pi.getAxis("bottom")
            if len(self._x_all) and not np.isfinite(self._x_all).any():
                # a text parameter (boundary, fluid, theory): one column per value, named on
                # the axis (the plot stayed empty, its axis 0..1, with nothing to say why)
                values = [str(lay.value(i, path)) for i in range(len(lay))]
                self._categories = list(dict.fromkeys(values))
                place = {c: float(k) for k, c in enumerate(self._categories)}
                self._x_all = np.array([place[v] for v in values])
                bottom.setTicks([list(enumerate(self._categories))])
            else:
                bottom.setTicks(None)
            self._y_range = None
            finite = self._x_all[np.isfinite(self._x_all)]
            if finite.size:  # the swept range, known before any point finishes
                x0, x1 = expanded(None, float(finite.min()), float(finite.max()), 0.08)
                pi.vb.setXRange(x0, x1, padding=0)
        unit = unit_of(path)
        self._label("bottom", f"{path} ({unit})" if unit else path)
        if self._categories is not None and self._cache_key == (id(lay), path):
            pi.vb.setXRange(-0.5, len(self._categories) - 0.5, padding=0)
        fn = self._fn()
        idx = np.fromiter(fn.keys(), dtype=int, count=len(fn))
        ys = np.fromiter(fn.values(), dtype=float, count=len(fn))
        xs = self._x_all[idx] if len(idx) else np.empty(0)
        keep = np.isfinite(xs) & np.isfinite(ys)
        idx, xs, ys = idx[keep], xs[keep], ys[keep]
        self._points.setData(xs, ys, data=idx)
        if len(ys):
            new = expanded(self._y_range, float(ys.min()), float(ys.max()))
            if new is not None:
                self._y_range = new
                pi.vb.setYRange(*new, padding=0)
        if len(idx) > 1:
            g = self._gid_all[idx]
            order = np.lexsort((xs, g))  # by line, then along x
            g = g[order]
            connect = np.append(g[:-1] == g[1:], False)
            self._lines.setData(xs[order], ys[order], connect=connect)
        else:
            self._lines.setData([], [])
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
        if lay is None or path is None or i is None or i not in fn or _number(lay.value(i, path)) is None:
            self._sel.setData([])
            self._set_slope("" if path is None or categorical else slope_text(self.mode, path, None))
            return
        self._sel.setData([float(lay.value(i, path))], [fn[i]])
        self._set_slope(slope_text(self.mode, path, local_slope(lay, fn, i, path)))

    def _on_clicked(self, item, points, ev=None) -> None:
        if len(points):
            self.pointClicked.emit(int(points[0].data()))

    def _on_hovered(self, item, points, ev=None) -> None:
        self.setToolTip(self.describe(int(points[0].data())) if len(points) else "")
