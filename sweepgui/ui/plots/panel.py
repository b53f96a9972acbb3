"""The live plot panel: spectra overlay, f_n versus a parameter with its slope, the f_n map (with
the slice it shows) and the sensitivity table; Export writes a plot (PNG, SVG) or the sweep's
merged results (CSV, netCDF, JSON, through ``sweepgui.results.export``).

``PlotPanel`` only assembles the views and their controls; each view owns its items. Values are
shown in display units (bar, degC: ``sweepgui.results.display``); files stay SI.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from sweepgui.results import EXPORT_FORMATS, PointResult, SweepLayout
from sweepgui.results.display import display_unit, format_value
from sweepgui.ui.background import BackgroundCall
from sweepgui.ui.plots.map import MapView
from sweepgui.ui.plots.modes import ModesView
from sweepgui.ui.plots.results import ResultsSource, export_dataset
from sweepgui.ui.plots.sensitivity import SensitivityPanel
from sweepgui.ui.plots.spectra import SpectraView

pg.setConfigOptions(antialias=False, foreground="k")
SCALAR_PLOTS_MS = 250


@contextmanager
def _fresh_render(scene):
    """Items drawn anew, not from their cached pixmaps, while ``scene`` is rendered to a file.

    Qt keeps one ``DeviceCoordinateCache`` pixmap per paint device, and renders into an image
    (no widget) share one, which an item's update refreshes only for the device that paints
    next: the second export of a session showed the first one's axes (a colour bar labelled
    fluid.density with temperature ticks, 240 Hz peaks at 140 Hz)."""
    cached = [(item, item.cacheMode()) for item in scene.items()
              if item.cacheMode() != QGraphicsItem.CacheMode.NoCache]
    for item, _ in cached:
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)  # drops the stale pixmaps too
    try:
        _settle(scene)
        yield
    finally:
        for item, mode in cached:
            item.setCacheMode(mode)


def _settle(scene) -> None:
    """Lay the scene out for what is on show now. An axis learns how wide its labels are when it
    paints, and its plot is laid out anew only in a later turn of the event loop: an export made
    right after a new colouring cut off the colour bar's title. So let every axis measure its
    labels, and apply the layout requests this posts (only those: no other event runs)."""
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtGui import QImage, QPainter

    axes = [item for item in scene.items() if isinstance(item, pg.AxisItem) and item.isVisible()]
    scratch = QImage(16, 16, QImage.Format.Format_ARGB32)
    for _ in range(3):  # a wider axis widens its plot, whose layout then places the bar
        painter = QPainter(scratch)
        try:
            for axis in axes:
                axis.generateDrawSpecs(painter)
        finally:
            painter.end()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)


def _qt_svg(item, path: Path) -> None:
    """Render a plot item's part of its scene to an SVG file with ``QSvgGenerator``."""
    from PySide6.QtCore import QRectF, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    rect = item.sceneBoundingRect()
    gen = QSvgGenerator()
    gen.setFileName(str(path))
    gen.setSize(QSize(int(rect.width()), int(rect.height())))
    gen.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
    gen.setTitle("sweepgui plot")
    painter = QPainter(gen)
    try:
        item.scene().render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
    finally:
        painter.end()


class PlotPanel(QWidget):
    """Live plots of a run, the sensitivity table, and the exports of plots and data.

    ``results_source`` is a callable giving the ``ResultsSource`` of the sweep on show (set by
    the run panel): the data exports and the sensitivity table read the merged results from it.

    Signals
    -------
    pointClicked(int)
        The user clicked a point's curve, marker or map cell (sweep index).
    message(str, bool)
        Something to tell the user (text, is it an error), e.g. an export written.
    dataExported(object)
        A data export ended: the path written, or None when it failed.
    """

    pointClicked = Signal(int)
    message = Signal(str, bool)
    dataExported = Signal(object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.layout_: SweepLayout | None = None
        self.freqs: dict[int, tuple[float, ...]] = {}
        self._pending_freqs: dict[int, tuple[float, ...]] = {}
        self._selected: int | None = None
        self.results_source: Callable[[], ResultsSource | None] = lambda: None
        self._scalar_timer = QTimer(self)
        self._scalar_timer.setSingleShot(True)
        self._scalar_timer.setInterval(SCALAR_PLOTS_MS)
        self._scalar_timer.timeout.connect(self.flush)
        self._export_call = BackgroundCall(self, name="sweepgui-export")
        self._export_call.done.connect(self._on_data_exported)
        self.spectra = SpectraView()
        self.modes = ModesView()
        self.map = MapView()
        for v in (self.spectra, self.modes, self.map):
            v.pointClicked.connect(self.pointClicked)
            v.describe = self.describe
        self.sensitivity = SensitivityPanel()
        self.sensitivity.source = lambda: self.results_source()
        self.sensitivity.has_results = lambda: bool(self.freqs)

        self.colour_by = QComboBox()
        self.colour_by.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.colour_by.setToolTip("Colour the spectra by this swept parameter")
        self.x_param = QComboBox()
        self.x_param.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.x_param.setToolTip("Plot the natural frequency against this swept parameter")
        self.mode_box = QSpinBox()
        self.mode_box.setRange(1, 1)
        self.mode_box.setPrefix("mode ")
        self.mode_box.setToolTip("Which natural frequency (mode number) to plot")
        self.export_button = export = QToolButton()
        export.setText("Export")
        export.setToolTip("Save a plot as an image, or the sweep's results as data "
                          "(as `sweepgui export` does: values in SI units, with provenance)")
        export.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(export)
        for name in ("spectra", "modes", "map"):
            for fmt in ("PNG", "SVG"):
                menu.addAction(f"{name} as {fmt}…", lambda n=name, f=fmt: self._export_dialog(n, f))
        menu.addSeparator()
        for fmt in EXPORT_FORMATS.values():  # the one table of formats (sweepgui export's too)
            menu.addAction(f"data as {fmt.title} ({fmt.suffix})…",
                           lambda f=fmt.name: self._export_data_dialog(f))
        export.setMenu(menu)
        self.fit_button = fit = QToolButton()
        fit.setText("Fit")
        fit.setToolTip("Show all spectra again after zooming")
        fit.clicked.connect(self.spectra.reset_view)

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Colour by"))
        bar.addWidget(self.colour_by)
        bar.addWidget(QLabel("f versus"))
        bar.addWidget(self.x_param)
        bar.addStretch(1)
        bar.addWidget(self.mode_box)
        bar.addWidget(fit)
        bar.addWidget(export)

        self.slope_label = QLabel("")
        self.slope_label.setToolTip("Local slope of the natural frequency at the selected point, "
                                    "as `sweepgui sensitivity` computes it (central difference "
                                    "for unequal spacing between its neighbours in the sweep)")
        self.slope_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.modes.slopeChanged.connect(self.slope_label.setText)
        # a long read-out wraps instead of widening its pane and squeezing the map beside it
        self.slope_label.setWordWrap(True)
        self.slope_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        modes_box = QWidget()
        mb = QVBoxLayout(modes_box)
        mb.setContentsMargins(0, 0, 0, 0)
        mb.setSpacing(2)
        mb.addWidget(self.modes, 1)
        mb.addWidget(self.slope_label)

        # the map, and under it the slice of the other dimensions it shows (3-D sweeps and up)
        self.slice_bar = QWidget()
        self._slice_layout = QHBoxLayout(self.slice_bar)
        self._slice_layout.setContentsMargins(0, 0, 0, 0)
        self._slice_boxes: dict[int, QComboBox] = {}
        self.slice_bar.hide()
        map_box = QWidget()
        mp = QVBoxLayout(map_box)
        mp.setContentsMargins(0, 0, 0, 0)
        mp.setSpacing(2)
        mp.addWidget(self.map, 1)
        mp.addWidget(self.slice_bar)
        self.map.sliceChanged.connect(self._on_map_slice)
        self.lower_tabs = QTabWidget()
        self.lower_tabs.setDocumentMode(True)
        self.lower_tabs.addTab(map_box, "Map")
        self.lower_tabs.addTab(self.sensitivity, "Sensitivities")
        self._table_for_map = False  # the table is on show because the sweep has no map
        self.lower_tabs.tabBar().tabBarClicked.connect(
            lambda _k: setattr(self, "_table_for_map", False))
        self.lower_tabs.setTabToolTip(1, "df/dx, (1/f) df/dx and apparent density errors at the "
                                         "selected point (or the grid centre), as `sweepgui "
                                         "sensitivity` prints them")
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(modes_box)
        lower.addWidget(self.lower_tabs)
        self.map.setMinimumWidth(240)
        lower.setStretchFactor(0, 1)
        lower.setStretchFactor(1, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.spectra)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(bar)
        lay.addWidget(split, 1)

        self.colour_by.currentTextChanged.connect(self._on_colour_by)
        self.x_param.currentTextChanged.connect(self._on_x_param)
        self.mode_box.valueChanged.connect(self._on_mode)

    # -- model --------------------------------------------------------------------------------
    def describe(self, index: int) -> str:
        """Hover text of a point: its index, swept parameter values (display units) and f_n."""
        lay = self.layout_
        lines = [f"point {index}"]
        if lay is not None and 0 <= index < len(lay):
            lines += [f"{c} = {format_value(v, display_unit(c), with_unit=True)}"
                      for c, v in zip(lay.columns, lay.coords[index])]
        f = self.freqs.get(index)
        if f:
            mode = self.modes.mode
            if len(f) >= mode:
                lines.append(f"f{mode} = {f[mode - 1]:.6g} Hz")
            lines.append("f1.. = " + ", ".join(f"{x:.4g}" for x in f[:4]) + " Hz")
        return "\n".join(lines)

    def set_layout(self, layout: SweepLayout | None) -> None:
        """A new sweep (or a new run): clear every plot and set up the parameter choices."""
        self.layout_ = layout
        self.freqs.clear()
        self._pending_freqs.clear()
        self._selected = None
        self._scalar_timer.stop()
        self.spectra.clear_curves()
        self.modes.set_layout(layout)
        self.map.set_layout(layout)
        has_map = layout is not None and len(layout.shape) >= 2
        self.lower_tabs.setTabVisible(0, has_map)
        if not has_map and self.lower_tabs.currentIndex() == 0:
            self.lower_tabs.setCurrentIndex(1)   # no map of one parameter: the table instead
            self._table_for_map = True
        elif has_map and self._table_for_map:
            self.lower_tabs.setCurrentIndex(0)   # the map again, unless the user chose the table
            self._table_for_map = False
        self._build_slice_bar()
        self.sensitivity.reset()
        cols = layout.columns if layout is not None else []
        for box in (self.colour_by, self.x_param):
            box.blockSignals(True)
            box.clear()
            box.addItems(cols)
            box.blockSignals(False)
        if self.modes.path in cols:
            self.x_param.setCurrentText(self.modes.path)
        self._on_colour_by(self.colour_by.currentText())

    def add_results(self, results: list[PointResult]) -> None:
        """A batch of finished points: the spectra at once, f_n and the map at most every
        ``SCALAR_PLOTS_MS`` (they summarise; redrawing them per batch would double a frame's cost)."""
        if not results:
            return
        new = {r.index: r.natural_frequencies for r in results}
        self.freqs.update(new)
        self._pending_freqs.update(new)
        n_modes = max((len(f) for f in new.values()), default=0)
        if n_modes > self.mode_box.maximum():
            self.mode_box.setMaximum(n_modes)
        self.spectra.add_results(results)
        if not self._scalar_timer.isActive():
            self._scalar_timer.start()

    def flush(self) -> None:
        """Show every pending result in the f_n plot and the map now (e.g. when a run ends)."""
        self._scalar_timer.stop()
        pending, self._pending_freqs = self._pending_freqs, {}
        if pending:
            self.modes.add_frequencies(pending)
            if self.map.available():
                self.map.add_frequencies(pending)
            self.sensitivity.request(results_changed=True)

    def set_selected(self, index: int | None) -> None:
        self.flush()
        self._selected = index
        for v in (self.spectra, self.modes, self.map):
            v.set_selected(index)
        self._request_sensitivity()

    def shutdown(self, timeout_s: float = 5.0) -> bool:
        """Stop the timers and wait (bounded) for a sensitivity computation or data export."""
        self._scalar_timer.stop()
        self.sensitivity._timer.stop()
        return self.sensitivity._call.wait(timeout_s) and self._export_call.wait(timeout_s)

    # -- sensitivities ------------------------------------------------------------------------
    def _request_sensitivity(self) -> None:
        lay, i = self.layout_, self._selected
        if lay is None or i is None or not 0 <= i < len(lay):
            self.sensitivity.request(None, "the grid centre", self.mode_box.value())
            return
        at = {c: v for c, v in zip(lay.columns, lay.coords[i]) if v is not None}
        self.sensitivity.request(at, f"point {i}", self.mode_box.value())

    # -- the map's slice ----------------------------------------------------------------------
    def _build_slice_bar(self) -> None:
        while self._slice_layout.count():
            w = self._slice_layout.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self._slice_boxes.clear()
        others = self.map.other_dims()
        self.slice_bar.setVisible(bool(others))
        if not others:
            return
        lay = self.layout_
        self._slice_layout.addWidget(QLabel("map at"))
        for d in others:
            path = lay.dims[d][1][0]
            unit = display_unit(path)
            box = QComboBox()
            box.setToolTip(f"The value of {path} the map shows (also: select a point)")
            box.addItems([format_value(v, unit, with_unit=True) for v in self.map.dim_values(d)])
            box.setCurrentIndex(self.map.slice[d])
            box.currentIndexChanged.connect(lambda k, d=d: self.map.set_slice(d, k))
            self._slice_layout.addWidget(QLabel(path))
            self._slice_layout.addWidget(box)
            self._slice_boxes[d] = box
        self._slice_layout.addStretch(1)

    def _on_map_slice(self) -> None:
        for d, k in self.map.slice_of_others().items():
            box = self._slice_boxes.get(d)
            if box is not None and box.currentIndex() != k:
                box.blockSignals(True)
                box.setCurrentIndex(k)
                box.blockSignals(False)

    # -- controls -----------------------------------------------------------------------------
    def _on_colour_by(self, path: str) -> None:
        lay = self.layout_
        if lay is None or path not in lay.columns:
            self.spectra.set_colour_by("", {}, [])
            return
        values = lay.column_values(path)
        self.spectra.set_colour_by(path, dict(enumerate(values)), values)

    def _on_x_param(self, path: str) -> None:
        if path:
            self.modes.set_path(path)

    def _on_mode(self, mode: int) -> None:
        self.modes.set_mode(mode)
        self.map.set_mode(mode)
        self._request_sensitivity()

    # -- export -------------------------------------------------------------------------------
    def export(self, path: str | Path, plot: str = "spectra") -> Path:
        """Write one plot to ``path``; the suffix (.png or .svg) picks the format."""
        path = Path(path)
        view = {"spectra": self.spectra, "modes": self.modes, "map": self.map}[plot]
        item = view.getPlotItem()
        tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
        try:
            with _fresh_render(item.scene()):
                if path.suffix.lower() == ".svg":
                    try:
                        pg.exporters.SVGExporter(item).export(str(tmp))
                    except ValueError:
                        # pyqtgraph 0.14's SVG exporter cannot parse the closing "Z" that Qt
                        # 6.12 writes into paths; Qt's own SVG generator writes the same drawing
                        _qt_svg(item, tmp)
                else:
                    exporter = pg.exporters.ImageExporter(item)
                    exporter.parameters()["width"] = max(int(item.sceneBoundingRect().width()), 800)
                    exporter.export(str(tmp))
            tmp.replace(path)  # atomic: never a half-written plot file
        finally:
            tmp.unlink(missing_ok=True)
        return path

    def _export_dialog(self, plot: str, fmt: str) -> None:
        suffix = fmt.lower()
        name, _ = QFileDialog.getSaveFileName(self, f"Export {plot} as {fmt}", f"{plot}.{suffix}",
                                              f"{fmt} (*.{suffix})")
        if name:
            if not name.lower().endswith("." + suffix):
                name += "." + suffix
            self.export(name, plot)

    def export_data(self, path: str | Path, fmt: str) -> bool:
        """Write the sweep's merged results (CSV, netCDF or JSON, as ``sweepgui export``) off the
        GUI thread; ``dataExported`` and ``message`` follow. False when it cannot start."""
        source = self.results_source()
        if source is None:
            self.message.emit("no sweep on show: nothing to export", True)
            return False
        if self._export_call.is_running():
            self.message.emit("an export is under way; try again when it has finished", True)
            return False
        path = Path(path)
        self._export_path = path
        self.message.emit(f"exporting the results to {path}…", False)
        self._export_call.start(lambda: export_dataset(source, path, fmt))
        return True

    def _on_data_exported(self, text, error) -> None:
        if error is not None:
            # an OSError's reason without its errno and path (the message names the path)
            reason = (error.strerror if isinstance(error, OSError) else None) or str(error)
            self.message.emit(f"cannot export to {self._export_path}: {reason}", True)
            self.dataExported.emit(None)
            return
        self.message.emit(text, False)
        self.dataExported.emit(self._export_path)

    def _export_data_dialog(self, fmt: str) -> None:
        spec = EXPORT_FORMATS[fmt]
        patterns = " ".join(f"*{s}" for s in spec.suffixes)
        name, _ = QFileDialog.getSaveFileName(self, f"Export the results as {spec.title}",
                                              f"results{spec.suffix}", f"{spec.title} ({patterns})")
        if name:
            if not any(name.lower().endswith(s) for s in spec.suffixes):
                name += spec.suffix
            self.export_data(name, fmt)
