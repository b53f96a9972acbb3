"""The live plot panel: spectra overlay, f_n versus a parameter with its slope, and the f_n map.

``PlotPanel`` only assembles the three views and their controls; each view owns its items.
"""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401 - registers ImageExporter/SVGExporter
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox, QFileDialog, QHBoxLayout, QLabel, QMenu, QSizePolicy, QSpinBox, QSplitter, QToolButton,
    QVBoxLayout, QWidget,
)

from .plots_data import PointResult
from .plots_layout import SweepLayout
from .plots_map import MapView
from .plots_modes import ModesView
from .plots_spectra import SpectraView

pg.setConfigOptions(antialias=False, foreground="k")
SCALAR_PLOTS_MS = 250


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
    """Live plots of a run.

    Signals
    -------
    pointClicked(int)
        The user clicked a point's curve, marker or map cell (sweep index).
    """

    pointClicked = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.layout_: SweepLayout | None = None
        self.freqs: dict[int, tuple[float, ...]] = {}
        self._pending_freqs: dict[int, tuple[float, ...]] = {}
        self._scalar_timer = QTimer(self)
        self._scalar_timer.setSingleShot(True)
        self._scalar_timer.setInterval(SCALAR_PLOTS_MS)
        self._scalar_timer.timeout.connect(self.flush)
        self.spectra = SpectraView()
        self.modes = ModesView()
        self.map = MapView()
        for v in (self.spectra, self.modes, self.map):
            v.pointClicked.connect(self.pointClicked)
            v.describe = self.describe

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
        export = QToolButton()
        export.setText("Export")
        export.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(export)
        for name in ("spectra", "modes", "map"):
            for fmt in ("PNG", "SVG"):
                menu.addAction(f"{name} as {fmt}…", lambda n=name, f=fmt: self._export_dialog(n, f))
        export.setMenu(menu)
        fit = QToolButton()
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
        self.slope_label.setToolTip("Local slope of the natural frequency at the selected point "
                                    "(central difference between its neighbours in the sweep)")
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
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(modes_box)
        lower.addWidget(self.map)
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
        """Hover text of a point: its index and swept parameter values."""
        lay = self.layout_
        lines = [f"point {index}"]
        if lay is not None and 0 <= index < len(lay):
            lines += [f"{c} = {v:.6g}" if isinstance(v, float) else f"{c} = {v}"
                      for c, v in zip(lay.columns, lay.coords[index])]
        f = self.freqs.get(index)
        if f:
            lines.append("f1.. = " + ", ".join(f"{x:.4g}" for x in f[:4]) + " Hz")
        return "\n".join(lines)

    def set_layout(self, layout: SweepLayout | None) -> None:
        """A new sweep (or a new run): clear every plot and set up the parameter choices."""
        self.layout_ = layout
        self.freqs.clear()
        self._pending_freqs.clear()
        self._scalar_timer.stop()
        self.spectra.clear_curves()
        self.modes.set_layout(layout)
        self.map.set_layout(layout)
        self.map.setVisible(layout is not None and len(layout.shape) >= 2)
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

    def set_selected(self, index: int | None) -> None:
        self.flush()
        for v in (self.spectra, self.modes, self.map):
            v.set_selected(index)

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

    # -- export -------------------------------------------------------------------------------
    def export(self, path: str | Path, plot: str = "spectra") -> Path:
        """Write one plot to ``path``; the suffix (.png or .svg) picks the format."""
        path = Path(path)
        view = {"spectra": self.spectra, "modes": self.modes, "map": self.map}[plot]
        item = view.getPlotItem()
        tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
        try:
            if path.suffix.lower() == ".svg":
                try:
                    pg.exporters.SVGExporter(item).export(str(tmp))
                except ValueError:
                    # pyqtgraph 0.14's SVG exporter cannot parse the closing "Z" that Qt 6.12 writes
                    # into paths; Qt's own SVG generator writes the same vector drawing
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
