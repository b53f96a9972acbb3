"""The Calibration tab of the run tab: a densitometer's calibration rho = A(T, p) tau^2 - B(T, p)
from the sweep on show, as ``sweepgui calibrate`` fits it (issue 15).

Mode, order and reference state (T0, p0; the grid's centre until the user sets one) are picked
here; the tab shows the coefficients with their units, the formula in words, the condition
number, residual error maps over (T, p) uncompensated and compensated (at one density, or the
largest error over the densities), the compensated error versus density, and exports a one-page
report (PDF or HTML). The fit runs on a ``BackgroundCall`` (loading the merged results can take
a moment) and again, throttled, whenever points finish; while points are still to come the tab
says how many, and a sweep the core cannot calibrate shows the core's reason as plain text.
Nothing is computed while the tab is not on show.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from sweepgui import __version__
from sweepgui.atomic import atomic_write
from sweepgui.results.display import display_unit
from sweepgui.ui.background import BackgroundCall
from sweepgui.ui.calibration.data import (
    PRESSURE,
    TEMPERATURE,
    CalibrationOutcome,
    calibration_for,
    map_axes,
    residual_by_density,
    residual_map,
)
from sweepgui.ui.calibration.plots import ResidualDensityPlot, ResidualMap, report_images
from sweepgui.ui.calibration.report import order_words, render_report, report_format

THROTTLE_MS = 600        # at most one fit per this while points keep finishing
SOON_MS = 30             # after the user changed a choice
COLUMNS = ("coefficient", "value", "unit", "multiplies")
ORDERS = ((0, "0: none"), (1, "1: linear"), (2, "2: quadratic"), (3, "3: cubic"))
NO_SWEEP = ("Open or run a sweep over fluid.density (and state.temperature, state.pressure) to "
            "fit a calibration.")


def _small(label: QLabel) -> QLabel:
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


class CalibrationTab(QWidget):
    """The calibration of the sweep on show.

    ``source`` is a callable giving the ``ResultsSource`` of the sweep on show (None: none),
    ``is_running`` one saying whether a run is under way (the waiting text says which).

    Signals
    -------
    computed(object)
        A computation ended: its ``CalibrationOutcome`` (None after an unexpected error, e.g.
        no results at all; the status line says it).
    reportExported(object)
        A report export ended: the path written, or None when it failed.
    message(str, bool)
        Something to tell the user (text, is it an error), e.g. a report written.
    """

    computed = Signal(object)
    reportExported = Signal(object)
    message = Signal(str, bool)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.source: Callable[[], Any] = lambda: None
        self.is_running: Callable[[], bool] = lambda: False
        self.outcome: CalibrationOutcome | None = None
        self._version = 0
        self._dataset_key = None
        self._dataset = None
        self._sweep_key = None
        self._reference: dict[str, float] | None = None   # None: the grid's centre
        self._stale = True
        self._pending = False
        self._export_path: Path | None = None
        self._call = BackgroundCall(self, name="sweepgui-calibration")
        self._call.done.connect(self._on_done)
        self._export_call = BackgroundCall(self, name="sweepgui-calibration-report")
        self._export_call.done.connect(self._on_exported)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(THROTTLE_MS)
        self._timer.timeout.connect(self._compute)
        self._build()

    # -- widgets ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.mode_box = QSpinBox()
        self.mode_box.setRange(1, 1)
        self.mode_box.setPrefix("mode ")
        self.mode_box.setToolTip("The mode whose period tau = 1/f_n the instrument measures")
        self.order_box = QComboBox()
        for k, text in ORDERS:
            self.order_box.addItem(text, k)
        self.order_box.setCurrentIndex(1)
        self.order_box.setToolTip("Total order of A(T, p) and B(T, p) in (T - T0) and (p - p0): "
                                  "0 no compensation, 1 linear, 2 quadratic")
        self.t0_box = QDoubleSpinBox()
        self.t0_box.setRange(-273.15, 2000.0)
        self.t0_box.setDecimals(2)
        self.t0_box.setSuffix(" °C")
        self.t0_box.setToolTip("Reference temperature T0 (default: the sweep's centre)")
        self.p0_box = QDoubleSpinBox()
        self.p0_box.setRange(0.0, 1e6)
        self.p0_box.setDecimals(3)
        self.p0_box.setSuffix(" bar")
        self.p0_box.setToolTip("Reference pressure p0 (default: the sweep's centre)")
        for box in (self.t0_box, self.p0_box):
            box.setKeyboardTracking(False)  # one fit per value typed, not per digit
            box.setEnabled(False)
        self.centre_button = QPushButton("Centre")
        self.centre_button.setToolTip("Reference state at the sweep's centre")
        self.slice_box = QComboBox()
        self.slice_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.slice_box.setToolTip("The maps show the error at one density, or at each (T, p) the "
                                  "largest error over the densities")
        self.slice_box.addItem("largest over density", None)
        self.export_button = QPushButton("Export report…")
        self.export_button.setToolTip("A one-page report (PDF or HTML): formula, coefficients, "
                                      "residual errors, these plots and the sweep's provenance")
        self.export_button.setEnabled(False)

        self.mode_box.valueChanged.connect(lambda _v: self.request(SOON_MS))
        self.order_box.currentIndexChanged.connect(lambda _k: self.request(SOON_MS))
        self.t0_box.valueChanged.connect(self._on_reference)
        self.p0_box.valueChanged.connect(self._on_reference)
        self.centre_button.clicked.connect(self._on_centre)
        self.slice_box.currentIndexChanged.connect(lambda _k: self._show_plots())
        self.export_button.clicked.connect(self._export_dialog)

        # two short rows: the tab shares the run tab's lower pane with the map and the table
        row1 = QHBoxLayout()
        row1.addWidget(self.mode_box)
        row1.addWidget(QLabel("order"))
        row1.addWidget(self.order_box)
        row1.addStretch(1)
        row1.addWidget(self.export_button)
        row2 = QHBoxLayout()
        for w in (QLabel("reference T0"), self.t0_box, QLabel("p0"), self.p0_box, self.centre_button):
            row2.addWidget(w)
        row2.addStretch(1)

        self.status = _small(QLabel(NO_SWEEP))
        self.formula = _small(QLabel(""))
        self.formula.setStyleSheet("color: #333;")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setToolTip("The coefficients of A(T, p) and B(T, p) in SI units, as "
                              "`sweepgui calibrate` prints them")
        self.notes = _small(QLabel(""))
        self.notes.setStyleSheet("color: #555;")
        coefficients = QWidget()
        cl = QVBoxLayout(coefficients)
        cl.setContentsMargins(2, 2, 2, 2)
        cl.setSpacing(2)
        cl.addWidget(self.formula)
        cl.addWidget(self.table, 1)
        cl.addWidget(self.notes)

        self.uncompensated_map = ResidualMap("uncompensated")
        self.compensated_map = ResidualMap("compensated")
        maps = QWidget()
        ml = QVBoxLayout(maps)
        ml.setContentsMargins(2, 2, 2, 2)
        ml.setSpacing(2)
        pick = QHBoxLayout()
        pick.addWidget(QLabel("maps show"))
        pick.addWidget(self.slice_box)
        pick.addStretch(1)
        ml.addLayout(pick)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.uncompensated_map)
        split.addWidget(self.compensated_map)
        split.setChildrenCollapsible(False)
        ml.addWidget(split, 1)
        self.density_plot = ResidualDensityPlot()

        self.pages = QTabWidget()
        self.pages.setDocumentMode(True)
        self.pages.addTab(coefficients, "Coefficients")
        self.pages.addTab(maps, "Error maps")
        self.pages.addTab(self.density_plot, "Error vs density")
        self.pages.setTabToolTip(1, "Density read minus true density over (T, p): uncompensated "
                                    "(calibrated at the reference state only) and compensated")
        self.pages.setTabToolTip(2, "The compensated error at every point against the true density")

        content = QWidget()
        lay = QVBoxLayout(content)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(3)
        lay.addLayout(row1)
        lay.addLayout(row2)
        lay.addWidget(self.status)
        lay.addWidget(self.pages, 1)
        # scrolled, not squeezed, in a narrow pane: the tab must not widen the pane it shares
        # with the f_n plot (its controls and two maps need ~420 px)
        scroll = QScrollArea()
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    # -- requests ---------------------------------------------------------------------------
    def results_changed(self) -> None:
        """New results (points finished, a sweep opened or changed): read the results again."""
        self._version += 1
        self.request()

    def request(self, delay_ms: int = THROTTLE_MS) -> None:
        """Fit again within ``delay_ms`` (requests meanwhile are merged into one fit); only
        while the tab is on show, otherwise when it is shown."""
        self._stale = True
        if not self.isVisible():
            return
        if not self._timer.isActive() or self._timer.remainingTime() > delay_ms:
            self._timer.start(delay_ms)

    def is_computing(self) -> bool:
        return self._call.is_running() or self._timer.isActive()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale and not self._timer.isActive():
            self._timer.start(0)

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        if self._timer.isActive():
            self._timer.stop()   # fitted when shown again (``_stale`` is still set)

    def shutdown(self, timeout_s: float = 5.0) -> bool:
        """Stop the timer and wait (bounded) for a fit or report export under way."""
        self._timer.stop()
        return self._call.wait(timeout_s) and self._export_call.wait(timeout_s)

    # -- computation ------------------------------------------------------------------------
    def _compute(self) -> None:
        if self._call.is_running():
            self._pending = True
            return
        source = self.source()
        if source is None:
            self._stale = False
            self._clear(NO_SWEEP)
            return
        self._stale = False
        sweep_key = source.key()
        if sweep_key != self._sweep_key:  # another sweep: its own centre, its own dataset
            self._sweep_key = sweep_key
            self._reference = None
        key = (sweep_key, self._version)
        dataset = self._dataset if key == self._dataset_key else None
        mode, order = self.mode_box.value(), int(self.order_box.currentData())
        reference = dict(self._reference) if self._reference else None
        if self.outcome is None or self.outcome.calibration is None:
            self.status.setText("Fitting the calibration…")
        self._call.start(lambda: calibration_for(source, mode, order, reference, dataset, key))

    def _on_done(self, result, error) -> None:
        if error is not None:
            # no results at all yet, an unreadable manifest: a plain sentence, no dialog
            self.outcome = None
            self._dataset_key = self._dataset = None
            self._clear(f"No calibration: {error}")
            self.computed.emit(None)
        else:
            self._dataset_key, self._dataset = result.key, result.dataset
            self._show(result)
            self.computed.emit(result)
        if self._pending:
            self._pending = False
            self._timer.start(SOON_MS)

    # -- showing ----------------------------------------------------------------------------
    def _clear(self, text: str) -> None:
        self.status.setText(text)
        self.formula.setText("")
        self.notes.setText("")
        self.table.setRowCount(0)
        self.export_button.setEnabled(False)
        self.uncompensated_map.set_grid(None)
        self.compensated_map.set_grid(None)
        self.density_plot.set_points(np.zeros(0), np.zeros(0))

    def _show(self, out: CalibrationOutcome) -> None:
        self.outcome = out
        self._set_mode_range(out.modes)
        self._set_densities(out.densities)
        cal = out.calibration
        if cal is None:
            self._clear(self.waiting_text(out))
            return
        self._set_reference_boxes(cal)
        words = order_words(cal)
        self.status.setText(
            f"Mode {cal.mode}, order {cal.order} ({words}), {cal.points} points: largest error "
            f"{cal.uncompensated_max:.3g} kg/m3 uncompensated, {cal.residual_max:.3g} kg/m3 "
            f"compensated (RMS {cal.residual_rms:.3g}); condition number {cal.condition:.3g}")
        self.formula.setText(cal.formula)
        self.table.setRowCount(len(cal.coefficients))
        for r, c in enumerate(cal.coefficients.values()):
            for col, text in enumerate((c.name, f"{c.value:.10g}", c.unit, c.term)):
                item = QTableWidgetItem(text)
                if col == 1:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, col, item)
        un = cal.uncompensated.get("state") or {}
        at = ", ".join(f"{'T' if p == TEMPERATURE else 'p'} = "
                       f"{display_unit(p).to_display(v):g} {display_unit(p).name}" for p, v in un.items()
                       if p in cal.variables)
        notes = [f"uncompensated: A and B fitted at {at} only, applied everywhere"] if at else []
        notes += list(cal.notes)
        self.notes.setText("\n".join(f"note: {n}" for n in notes))
        self.export_button.setEnabled(True)
        self._show_plots()

    def waiting_text(self, out: CalibrationOutcome) -> str:
        """Why there is no calibration, in plain words."""
        if out.waiting and (not out.message or "have no result" in out.message):
            if self.is_running():
                text = (f"Waiting for {out.waiting} of {out.total} points to finish: the "
                        "calibration is fitted when every point has a result.")
            else:
                text = (f"{out.waiting} of {out.total} points have no result yet: Run builds "
                        "them, and the calibration follows.")
            if out.failed:
                text += f" {out.failed} failed: Rerun failed builds them again."
            return text
        return f"No calibration: {out.message}"

    def _show_plots(self) -> None:
        out = self.outcome
        cal = out.calibration if out is not None else None
        if cal is None:
            return
        pick = self.slice_box.currentData()
        _x, _y, reduced_dim = map_axes(cal.residuals)
        self.slice_box.setEnabled(reduced_dim is not None)
        self.uncompensated_map.set_grid(residual_map(cal.uncompensated_residuals, pick))
        self.compensated_map.set_grid(residual_map(cal.residuals, pick), f"(order {cal.order})")
        x, y = residual_by_density(cal.residuals)
        self.density_plot.set_points(x, y, f"compensated error (order {cal.order})")

    def _set_mode_range(self, modes: int) -> None:
        if modes >= 1 and modes != self.mode_box.maximum():
            self.mode_box.blockSignals(True)
            self.mode_box.setMaximum(modes)
            self.mode_box.blockSignals(False)

    def _set_densities(self, densities: list[float]) -> None:
        labels = [f"at {v:g} kg/m3" for v in densities]
        if labels == [self.slice_box.itemText(k) for k in range(1, self.slice_box.count())]:
            return
        self.slice_box.blockSignals(True)
        keep = self.slice_box.currentIndex()
        while self.slice_box.count() > 1:
            self.slice_box.removeItem(1)
        for k, text in enumerate(labels):
            self.slice_box.addItem(text, k)
        self.slice_box.setCurrentIndex(keep if keep < self.slice_box.count() else 0)
        self.slice_box.blockSignals(False)

    def _set_reference_boxes(self, cal) -> None:
        for box, path in ((self.t0_box, TEMPERATURE), (self.p0_box, PRESSURE)):
            box.blockSignals(True)
            box.setValue(float(display_unit(path).to_display(cal.reference[path])))
            box.setEnabled(path in cal.variables)
            box.blockSignals(False)

    def _on_reference(self, _value: float) -> None:
        ref = {}
        for box, path in ((self.t0_box, TEMPERATURE), (self.p0_box, PRESSURE)):
            if box.isEnabled():
                ref[path] = float(display_unit(path).to_si(box.value()))
        self._reference = ref or None
        self.request(SOON_MS)

    def _on_centre(self) -> None:
        self._reference = None
        self.request(SOON_MS)

    # -- for tests and copying ----------------------------------------------------------------
    def rows(self) -> list[list[str]]:
        """The coefficient table as shown."""
        return [[self.table.item(r, c).text() for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]

    # -- the report ---------------------------------------------------------------------------
    def report_images(self) -> dict[str, Any]:
        """The report's plots (QImage): the maps as the picker shows them, the error vs density."""
        cal = self.outcome.calibration
        pick = self.slice_box.currentData()
        maps = {"uncompensated": (residual_map(cal.uncompensated_residuals, pick), ""),
                "compensated": (residual_map(cal.residuals, pick), f"(order {cal.order})")}
        return report_images(maps, (*residual_by_density(cal.residuals),
                                    f"compensated error (order {cal.order})"))

    def export_report(self, path: str | Path) -> bool:
        """Write the report to ``path`` (.pdf or .html) off the GUI thread; ``reportExported``
        and ``message`` follow. False when it cannot start (said on ``message``)."""
        path = Path(path)
        cal = self.outcome.calibration if self.outcome is not None else None
        if cal is None:
            self.message.emit(f"no calibration to export: {self.status.text()}", True)
            return False
        fmt = report_format(path)
        if fmt is None:
            self.message.emit(f"{path.name}: a report is .pdf or .html", True)
            return False
        if self._export_call.is_running():
            self.message.emit("a report is being written; try again when it has finished", True)
            return False
        reduced = residual_map(cal.residuals, self.slice_box.currentData()).reduced
        reduced = f" ({reduced})" if reduced else ""
        images, prov = self.report_images(), self.outcome.provenance  # the plots: GUI thread

        def write() -> None:
            # the page is laid out off the GUI thread too: QTextDocument and QPdfWriter paint
            # like QPainter on a QImage, which Qt allows in any thread
            atomic_write(path, render_report(fmt, cal, prov, images, __version__, reduced))
        self._export_path = path
        self._export_call.start(write)
        return True

    def _on_exported(self, _result, error) -> None:
        path = self._export_path
        if error is not None:
            # an OSError's reason without its errno and path (the message names the path)
            reason = (error.strerror if isinstance(error, OSError) else None) or str(error)
            self.message.emit(f"cannot write the report to {path}: {reason}", True)
            self.reportExported.emit(None)
            return
        self.message.emit(f"wrote the calibration report {path}", False)
        self.reportExported.emit(path)

    def _export_dialog(self) -> None:
        name, chosen = QFileDialog.getSaveFileName(self, "Export the calibration report",
                                                   "calibration.pdf",
                                                   "PDF (*.pdf);;HTML with the plots inside (*.html)")
        if name:
            if report_format(name) is None:
                name += ".html" if chosen.startswith("HTML") else ".pdf"
            self.export_report(name)


def attach(run_panel) -> CalibrationTab:
    """Put a Calibration tab beside the run tab's sensitivity table and feed it the same merged
    results: it fits again when points finish, a sweep opens or a run ends."""
    pp = run_panel.plot_panel
    tab = CalibrationTab()
    tab.source = lambda: pp.results_source()
    tab.is_running = run_panel.is_running
    k = pp.lower_tabs.addTab(tab, "Calibration")
    pp.lower_tabs.setTabToolTip(k, "A densitometer's calibration from this sweep (density = "
                                   "A(T, p)*tau^2 - B(T, p)), as `sweepgui calibrate` fits it")
    tab.message.connect(pp.message)
    run_panel.controller.eventsReady.connect(lambda _batch: tab.results_changed())
    run_panel.cached_loader.eventsReady.connect(lambda _batch: tab.results_changed())
    run_panel.controller.runningChanged.connect(lambda _running: tab.results_changed())
    run_panel.planReady.connect(lambda _plan: tab.results_changed())
    # the plots were set up for another sweep, or for none (a file that did not load):
    # MapView.set_layout says so (its other calls, a new slice, change no result)
    shown = {"layout": pp.layout_}

    def on_layout() -> None:
        if pp.layout_ is not shown["layout"]:
            shown["layout"] = pp.layout_
            tab.results_changed()
    pp.map.sliceChanged.connect(on_layout)
    return tab
