"""Colour map of f_n over two swept dimensions (one ``ImageItem``), for sweeps with two or more.

Cells are grid positions (axis ticks show the parameter values, which need not be evenly
spaced); further dimensions are held at the selected point's position. Cells not finished yet
are transparent (NaN).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal

from .colormaps import colour_table
from .plots_layer import cache_axes, plot_axes
from .plots_layout import SweepLayout
from .plots_modes import expanded, unit_of


def _fmt(v) -> str:
    # the value as the user wrote it (293.15 K, not 293.1), still short for long floats
    return f"{v:.6g}" if isinstance(v, float) else str(v)


class MapView(pg.PlotWidget):
    """f_n as an image over dimensions ``dims = (a, b)``. ``pointClicked(int)`` on a cell click."""

    pointClicked = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.layout_: SweepLayout | None = None
        self.freqs: dict[int, tuple[float, ...]] = {}
        self.mode = 1
        self.dims = (0, 1)
        self.selected: int | None = None
        self.describe: Callable[[int], str] = lambda i: f"point {i}"
        self.grid = np.full((0, 0), np.nan)
        self._cells_key = None
        self._levels: tuple[float, float] | None = None
        self._bar_label = None
        self._cells_arr = np.zeros((0, 0), dtype=int)
        cols = colour_table(64)
        self._cmap = pg.ColorMap(np.linspace(0, 1, len(cols)), cols)
        self._image = pg.ImageItem(axisOrder="row-major")
        self._image.setColorMap(self._cmap)
        self.addItem(self._image)
        self._sel = pg.ScatterPlotItem(size=14, pen=pg.mkPen("#d50000", width=2), brush=None, symbol="s")
        self.addItem(self._sel)
        pi = self.getPlotItem()
        self._bar = pg.ColorBarItem(values=(0, 1), colorMap=self._cmap, interactive=False, width=14,
                                    colorMapMenu=False)
        self._bar.setImageItem(self._image, insert_in=pi)
        cache_axes(*plot_axes(pi), self._bar.axis)
        self.scene().sigMouseMoved.connect(self._on_moved)
        self.scene().sigMouseClicked.connect(self._on_clicked)

    def available(self) -> bool:
        return self.layout_ is not None and len(self.layout_.shape) >= 2

    def set_layout(self, layout: SweepLayout | None) -> None:
        self.layout_ = layout
        self.freqs.clear()
        self.selected = None
        self._levels = None
        self.dims = (0, 1)
        self._axes()
        self.refresh()

    def set_mode(self, mode: int) -> None:
        self.mode = max(int(mode), 1)
        self._levels = None
        self.refresh()

    def add_frequencies(self, items: dict[int, tuple[float, ...]]) -> None:
        self.freqs.update(items)
        self.refresh()

    def set_selected(self, index: int | None) -> None:
        changed_slice = index is not None and self._slice_of(index) != self._slice_of(self.selected)
        self.selected = index
        if changed_slice:
            self.refresh()
        else:
            self._mark()

    def _slice_of(self, index: int | None):
        if index is None or not self.available():
            return None
        m = self.layout_.multi_index(index)
        return tuple(v for k, v in enumerate(m) if k not in self.dims)

    def _axes(self) -> None:
        pi = self.getPlotItem()
        if not self.available():
            pi.setTitle("sweep two parameters for a map", size="9pt")
            return
        # a hidden title keeps its text's width as the plot's minimum: with the long hint the
        # plot grew past the view and the colour bar was cut off
        pi.titleLabel.setText("")
        pi.setTitle(None)
        lay = self.layout_
        for axis, d in (("bottom", self.dims[0]), ("left", self.dims[1])):
            name, paths = lay.dims[d]
            # label the dimension by its first path, ticks by that path's values
            step = max(1, lay.shape[d] // 8)
            values = self._dim_values(d)
            # every other label on a second tick level: pyqtgraph draws that level's text
            # only where it has room, so labels never run into each other in a narrow pane
            ticks = [(k, _fmt(values[k])) for k in range(0, lay.shape[d], step)]
            pi.getAxis(axis).setTicks([ticks[::2], ticks[1::2]])
            pi.getAxis(axis).setStyle(textFillLimits=[(0, 0.95), (2, 0.8)])
            pi.getAxis(axis).enableAutoSIPrefix(False)  # cell numbers, not values: no "(x0.001)"
            unit = unit_of(paths[0])
            pi.setLabel(axis, f"{paths[0]} ({unit})" if unit else paths[0])
        # the whole grid from the start, also while no cell is finished (no stray ticks)
        na, nb = lay.shape[self.dims[0]], lay.shape[self.dims[1]]
        pi.vb.setRange(xRange=(-0.5, na - 0.5), yRange=(-0.5, nb - 0.5), padding=0)

    def _dim_values(self, d: int) -> list:
        lay = self.layout_
        col = lay.columns.index(lay.dims[d][1][0])
        values = []
        for k in range(lay.shape[d]):
            m = [0] * len(lay.shape)
            m[d] = k
            values.append(lay.coords[lay.flat_index(tuple(m))][col])
        return values

    def _index_of_cell(self, a: int, b: int) -> int | None:
        return int(self._cells()[b, a])

    def _cells(self) -> np.ndarray:
        """(rows = b, columns = a) array of the sweep index shown in each cell (cached per slice)."""
        key = (id(self.layout_), self.dims, self._slice_of(self.selected))
        if key != self._cells_key:
            lay = self.layout_
            na, nb = lay.shape[self.dims[0]], lay.shape[self.dims[1]]
            base = list(lay.multi_index(self.selected)) if self.selected is not None else [0] * len(lay.shape)
            a, b = np.meshgrid(np.arange(na), np.arange(nb))
            multi = [np.full(a.shape, v) for v in base]
            multi[self.dims[0]], multi[self.dims[1]] = a, b
            self._cells_arr = np.ravel_multi_index(tuple(multi), lay.shape)
            self._cells_key = key
        return self._cells_arr

    def refresh(self) -> None:
        if not self.available():
            self._image.clear()
            self._sel.setData([])
            return
        k = self.mode - 1
        n = len(self.layout_)
        fn = np.full(n, np.nan)
        for i, f in self.freqs.items():
            if len(f) > k and 0 <= i < n:
                fn[i] = f[k]
        cells = self._cells()
        grid = fn[cells]
        nb, na = grid.shape
        self.grid = grid
        finite = grid[np.isfinite(grid)]
        if finite.size:
            levels = expanded(self._levels, float(finite.min()), float(finite.max()), 0.0)
            if levels is not None:  # expand-only: the colour bar's axis stays still
                self._levels = levels
                self._bar.setLevels(levels)
            self._image.setImage(grid, levels=self._levels, autoLevels=False)
            self._image.setRect(-0.5, -0.5, na, nb)
        else:
            self._image.clear()
        if self._bar_label != self.mode:  # relabelling redraws the bar's axis
            self._bar_label = self.mode
            self._bar.axis.setLabel(f"f{self.mode} (Hz)")
        self._mark()

    def _mark(self) -> None:
        if self.selected is None or not self.available():
            self._sel.setData([])
            return
        m = self.layout_.multi_index(self.selected)
        self._sel.setData([m[self.dims[0]]], [m[self.dims[1]]])

    def _cell_at(self, scene_pos) -> int | None:
        if not self.available():
            return None
        vb = self.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = vb.mapSceneToView(scene_pos)
        a, b = int(round(p.x())), int(round(p.y()))
        if not (0 <= a < self.grid.shape[1] and 0 <= b < self.grid.shape[0]):
            return None
        return self._index_of_cell(a, b)

    def _on_moved(self, pos) -> None:
        i = self._cell_at(pos)
        self.setToolTip("" if i is None else self.describe(i))

    def _on_clicked(self, event) -> None:
        if event.button() == pg.QtCore.Qt.MouseButton.LeftButton:
            i = self._cell_at(event.scenePos())
            if i is not None:
                self.pointClicked.emit(i)
