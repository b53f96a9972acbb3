"""Colour map of f_n over two swept dimensions (one ``ImageItem``), for sweeps with two or more.

Cells are grid positions (axis ticks show the parameter values in display units, which need not
be evenly spaced); further dimensions are held at one slice, which the title names ("f1 at
fluid.density = 998 kg/m3"): the selected point's, or the one the user picks (``set_slice``).
Cells not finished yet are transparent (NaN).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal

from sweepgui.results import SweepLayout
from sweepgui.results.display import axis_label, display_unit, format_value
from sweepgui.ui.plots.axes import CellAxis
from sweepgui.ui.plots.colormaps import colour_table
from sweepgui.ui.plots.layer import cache_axes, plot_axes
from sweepgui.ui.plots.modes import expanded
from sweepgui.ui.plots.tips import HoverTip


class MapView(pg.PlotWidget):
    """f_n as an image over dimensions ``dims = (a, b)``.

    Signals
    -------
    pointClicked(int)
        A cell was clicked (its sweep index).
    sliceChanged()
        The slice of the other dimensions changed (``slice_of_others()``).
    """

    pointClicked = Signal(int)
    sliceChanged = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent, axisItems={"bottom": CellAxis("bottom"), "left": CellAxis("left")})
        self.setBackground("w")
        self.layout_: SweepLayout | None = None
        self.freqs: dict[int, tuple[float, ...]] = {}
        self.mode = 1
        self.dims = (0, 1)
        self.selected: int | None = None
        self.slice: list[int] = []  # grid position of every dimension; the map's own are ignored
        self.describe: Callable[[int], str] = lambda i: f"point {i}"
        self.grid = np.full((0, 0), np.nan)
        self._cells_key = None
        self._levels: tuple[float, float] | None = None
        self._bar_label = None
        self._title = None
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
        self._tip = HoverTip(self)
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
        self.slice = [0] * len(layout.shape) if layout is not None else []
        self._axes()
        self.refresh()
        self.sliceChanged.emit()

    def set_mode(self, mode: int) -> None:
        self.mode = max(int(mode), 1)
        self._levels = None
        self.refresh()

    def add_frequencies(self, items: dict[int, tuple[float, ...]]) -> None:
        self.freqs.update(items)
        self.refresh()

    def set_selected(self, index: int | None) -> None:
        """Mark ``index``; the map moves to its slice."""
        self.selected = index
        if index is not None and self.available() and 0 <= index < len(self.layout_):
            m = self.layout_.multi_index(index)
            new = [m[k] if k not in self.dims else v for k, v in enumerate(self.slice)]
            if new != self.slice:
                self.slice = new
                self.refresh()
                self.sliceChanged.emit()
                return
        self._mark()

    def other_dims(self) -> list[int]:
        """The dimensions the map holds at one value (its slice)."""
        if not self.available():
            return []
        return [k for k in range(len(self.layout_.shape)) if k not in self.dims]

    def set_slice(self, dim: int, position: int) -> None:
        """Show the map at grid position ``position`` of dimension ``dim`` (not one of its own)."""
        if dim not in self.other_dims() or not 0 <= position < self.layout_.shape[dim]:
            return
        if self.slice[dim] != position:
            self.slice[dim] = position
            self.refresh()
            self.sliceChanged.emit()

    def slice_of_others(self) -> dict[int, int]:
        return {k: self.slice[k] for k in self.other_dims()}

    def dim_values(self, d: int) -> list:
        """The (SI) values of dimension ``d``'s first parameter, in grid order."""
        lay = self.layout_
        col = lay.columns.index(lay.dims[d][1][0])
        values = []
        for k in range(lay.shape[d]):
            m = [0] * len(lay.shape)
            m[d] = k
            values.append(lay.coords[lay.flat_index(tuple(m))][col])
        return values

    def slice_text(self) -> str:
        """E.g. ``at fluid.density = 998 kg/m3`` ("" for a map of every point)."""
        lay = self.layout_
        parts = []
        for d in self.other_dims():
            base = [0] * len(lay.shape)
            base[d] = self.slice[d]
            i = lay.flat_index(tuple(base))
            for p in lay.dims[d][1]:
                parts.append(f"{p} = {format_value(lay.value(i, p), display_unit(p), with_unit=True)}")
        return ("at " + ", ".join(parts)) if parts else ""

    def _axes(self) -> None:
        pi = self.getPlotItem()
        if not self.available():
            self._title = "sweep two parameters for a map"
            pi.setTitle(self._title, size="9pt")
            for axis in ("bottom", "left"):
                pi.getAxis(axis).set_cells([])
            return
        self._set_title()
        lay = self.layout_
        for axis, d in (("bottom", self.dims[0]), ("left", self.dims[1])):
            name, paths = lay.dims[d]
            # label the dimension by its first path, its cells by that path's values
            unit = display_unit(paths[0])
            pi.getAxis(axis).set_cells([format_value(v, unit) for v in self.dim_values(d)])
            pi.setLabel(axis, axis_label(paths[0], unit))
        # the whole grid from the start, also while no cell is finished (no stray ticks)
        na, nb = lay.shape[self.dims[0]], lay.shape[self.dims[1]]
        pi.vb.setRange(xRange=(-0.5, na - 0.5), yRange=(-0.5, nb - 0.5), padding=0)

    def _set_title(self) -> None:
        """``f1 at fluid.density = 998 kg/m3`` for a map of a slice; none for a 2-D sweep."""
        pi = self.getPlotItem()
        text = self.slice_text()
        title = f"f{self.mode} {text}" if text else None
        if title == self._title:
            return
        self._title = title
        if title is None:
            # a hidden title keeps its text's width as the plot's minimum: with the long hint
            # the plot grew past the view and the colour bar was cut off
            pi.titleLabel.setText("")
            pi.setTitle(None)
        else:
            pi.setTitle(title, size="9pt")
            pi.titleLabel.setMinimumWidth(0)  # a long title must not widen the plot past its pane

    def _index_of_cell(self, a: int, b: int) -> int | None:
        return int(self._cells()[b, a])

    def _cells(self) -> np.ndarray:
        """(rows = b, columns = a) array of the sweep index shown in each cell (cached per slice)."""
        key = (id(self.layout_), self.dims, tuple(self.slice))
        if key != self._cells_key:
            lay = self.layout_
            na, nb = lay.shape[self.dims[0]], lay.shape[self.dims[1]]
            a, b = np.meshgrid(np.arange(na), np.arange(nb))
            multi = [np.full(a.shape, v) for v in self.slice]
            multi[self.dims[0]], multi[self.dims[1]] = a, b
            self._cells_arr = np.ravel_multi_index(tuple(multi), lay.shape)
            self._cells_key = key
        return self._cells_arr

    def refresh(self) -> None:
        if not self.available():
            self._image.clear()
            self._sel.setData([])
            return
        self._set_title()
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
        if any(m[k] != self.slice[k] for k in self.other_dims()):
            self._sel.setData([])  # the selected point is in another slice
            return
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
        self._tip.show(i, pos, "" if i is None else self.describe(i))

    def _on_clicked(self, event) -> None:
        if event.button() == pg.QtCore.Qt.MouseButton.LeftButton:
            i = self._cell_at(event.scenePos())
            if i is not None:
                self.pointClicked.emit(i)
