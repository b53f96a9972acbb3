"""Live plots: decimation keeps peaks, the slope read-out, few items for thousands of curves,
click on a curve <-> table selection, PNG/SVG export.

The subject here is the plotting widgets, so points come from a Qt-free fake engine with
synthetic spectra whose shapes are known (flat lines at known heights, one peak at a known
place); the real engine drives the panel in test_run_panel.py.
"""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage

from sweepgui.nix import events as ev
from sweepgui.results import PointResult, SweepLayout, local_slope
from sweepgui.results.points import VERTEX_BUDGET, decimate, vertices_per_curve
from sweepgui.sweep import loads_sweep
from sweepgui.ui.plots.colormaps import ColourScale
from sweepgui.ui.plots.modes import slope_readout
from sweepgui.ui.plots.spectra import SpectraView
from sweepgui.ui.run.panel import RunPanel

F = np.linspace(1.0, 1000.0, 4000)


def test_decimation_keeps_the_peaks_and_the_budget():
    rng = np.random.default_rng(1)
    y = rng.normal(size=4000)
    y[1234], y[2345] = 50.0, -40.0          # a resonance and an anti-resonance
    x, yd = decimate(F, y, 256)
    assert len(x) <= 256 and np.all(np.diff(x) >= 0)
    assert yd.max() == 50.0 and yd.min() == -40.0
    assert x[np.argmax(yd)] == F[1234]
    # zoomed in: only the visible part, at full resolution
    xz, _ = decimate(F, y, 256, x_range=(100.0, 120.0))
    assert 80 <= len(xz) <= 256 and xz[0] < 100.0 < 120.0 < xz[-1]
    for n in (1, 10, 100, 1000, 5000):
        assert vertices_per_curve(n) * n <= max(VERTEX_BUDGET, 128 * n)


def test_local_slope_of_a_linear_law():
    xs, ys = [500.0, 700.0, 1000.0], [280.0, 300.0]
    coords = [(x, y) for x in xs for y in ys]
    lay = SweepLayout([("fluid.density", ["fluid.density"]), ("state.temperature", ["state.temperature"])],
                      (3, 2), coords)
    f = {i: 3.0 - 0.153 * x + 0.02 * y for i, (x, y) in enumerate(coords)}
    for i in range(6):
        assert abs(local_slope(lay, f, i, "fluid.density") - (-0.153)) < 1e-12
        assert abs(local_slope(lay, f, i, "state.temperature") - 0.02) < 1e-12
    del f[4]                                   # (1000, 280) not finished: one-sided at (700, 280)
    assert abs(local_slope(lay, f, 2, "fluid.density") + 0.153) < 1e-12
    assert local_slope(lay, {2: 1.0}, 2, "fluid.density") is None
    # the read-out in the unit `sweepgui sensitivity` reports
    assert slope_readout(lay, f, 2, "fluid.density", 1) == "df1/d(fluid.density) = -0.153 Hz/(kg/m3)"
    assert slope_readout(lay, f, 2, "state.temperature", 1) == "df1/d(state.temperature) = 0.02 Hz/K"


def test_colour_scale():
    s = ColourScale([500.0, 1000.0, 1500.0], n_buckets=8)
    assert (s.bucket(500.0), s.bucket(1000.0), s.bucket(1500.0)) == (0, 4, 7)
    cat = ColourScale(["Water", "CO2", "Water"], n_buckets=8)
    assert cat.bucket("Water") == 0 and cat.bucket("CO2") == 7


def flat(index: int, level: float) -> PointResult:
    return PointResult(index, F, np.full(len(F), level), (100.0 + index,))


def test_thousands_of_spectra_stay_in_a_few_items(qtbot):
    view = SpectraView()
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    view.set_colour_by("x", {i: float(i) for i in range(3000)}, [0.0, 2999.0])
    items_before = len(view.getPlotItem().vb.addedItems)
    for start in range(0, 3000, 100):
        view.add_results([flat(i, np.sin(i) * 3) for i in range(start, start + 100)])
    qtbot.wait(20)
    assert len(view.store) == 3000
    assert len(view.getPlotItem().vb.addedItems) == items_before     # no item per curve
    live = sum(len(it.xData) for it in view._items if it.xData is not None)
    sealed_vertices = sum(p.elementCount() for _, p in view._layer._paths)
    assert live + sealed_vertices <= 1.1 * VERTEX_BUDGET
    img = view.grab().toImage()
    colours = {img.pixel(x, y) for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)}
    assert len(colours) > 20        # curves in many colours, not a blank plot
    # hover/click lookup finds the curve under the cursor
    assert view.store.nearest(500.0, np.sin(1234) * 3, 1e-9) in (1234, *[
        i for i in range(3000) if abs(np.sin(i) - np.sin(1234)) < 1e-9])


class FlatLinesEngine:
    """Qt-free fake engine: point i finishes with a flat spectrum at log10|H| = i."""

    def run(self, sweep, jobs=None, machines=None, cancel=None, only=None):
        n = int(np.prod(sweep.shape))
        for i in range(n):
            yield ev.PointStarted(i, f"/d{i}", "")
            yield ev.PointFinished(i, f"/fake/{i}", 0.1, "")
        yield ev.RunFinished(points=n, built=n, cached=0, failed=0, cancelled=False, exit_code=0,
                             seconds=0.1)

    def plan(self, sweep):
        raise RuntimeError("no plan in this test")


def finished_panel(qtbot) -> RunPanel:
    sweep = loads_sweep(textwrap.dedent("""\
        [variable]
        "fluid.density" = [700.0, 850.0]
        "state.temperature" = [293.15, 313.15]
        """))
    panel = RunPanel(engine_factory=lambda s: FlatLinesEngine())
    panel.controller.result_loader = lambda i, path: flat(i, float(i))
    qtbot.addWidget(panel, before_close_func=lambda w: w.shutdown(5.0))
    panel.resize(1300, 800)
    panel.show()
    with qtbot.waitSignal(panel.runningChanged, timeout=10_000, check_params_cb=lambda r: r is False):
        panel.start(sweep)
    qtbot.wait(50)
    return panel


def test_click_on_a_curve_selects_its_row_and_a_row_highlights_its_curve(qtbot):
    panel = finished_panel(qtbot)
    spectra = panel.plot_panel.spectra
    vb = spectra.getPlotItem().vb
    vb.setRange(xRange=(0, 1000), yRange=(-0.5, 3.5), padding=0)
    qtbot.wait(20)
    for target in (2, 1):
        scene = vb.mapViewToScene(QPointF(400.0, float(target)))
        pos = spectra.mapFromScene(scene)
        qtbot.mouseClick(spectra.viewport(), Qt.MouseButton.LeftButton, pos=pos)
        assert panel.selected_point() == target
        current = panel.table.selectionModel().currentIndex()
        assert panel.proxy.index(current.row(), 0).data() == str(target)
    # hovering a curve names the point and its parameters
    scene = vb.mapViewToScene(QPointF(600.0, 3.0))
    spectra.scene().sigMouseMoved.emit(scene)
    assert spectra.toolTip().startswith("point 3\nfluid.density = 850")
    # the reverse: select a row, its curve is drawn highlighted and marked in the other plots
    panel.table.selectRow(3)
    assert panel.selected_point() == 3
    y = spectra._highlight.yData
    assert y is not None and np.allclose(y[np.isfinite(y)], 3.0)
    assert panel.plot_panel.modes.selected == 3 and panel.plot_panel.map.selected == 3
    # hover names the point's parameters
    assert "fluid.density = 850" in panel.plot_panel.describe(3)
    # the colour bar names its parameter with the unit, like the axes
    assert spectra._bar.axis.labelText == "fluid.density (kg/m3)"


def test_export_png_and_svg(qtbot, tmp_path):
    panel = finished_panel(qtbot)
    png = panel.plot_panel.export(tmp_path / "spectra.png")
    img = QImage(str(png))
    assert not img.isNull() and img.width() >= 800
    for plot in ("spectra", "modes", "map"):
        svg = panel.plot_panel.export(tmp_path / f"{plot}.svg", plot)
        root = ET.parse(svg).getroot()
        assert root.tag.endswith("svg")
        assert any(el.tag.endswith(("path", "polyline", "image")) for el in root.iter())
    assert not list(tmp_path.glob(".*tmp*"))      # written atomically, no leftovers
    assert pg.exporters  # the exporters module is loaded by the panel


def test_the_colour_map_fits_its_view_and_shows_its_grid_before_any_result(qtbot):
    from sweepgui.ui.plots.map import MapView

    view = MapView()
    qtbot.addWidget(view)
    view.resize(240, 260)
    view.show()
    view.set_layout(None)  # the hint title first, as when the app starts without a sweep
    sweep = loads_sweep('[variable]\n"fluid.density" = [700.0, 850.0, 1000.0, 1150.0]\n'
                        '"state.temperature" = [293.15, 333.15]\n')
    view.set_layout(SweepLayout.from_sweep(sweep))
    qtbot.wait(20)
    # the plot (axes, image and colour bar) fits the view: a hidden long title once widened it
    assert view.getPlotItem().sceneBoundingRect().width() <= view.width()
    (x0, x1), (y0, y1) = view.getPlotItem().vb.viewRange()
    assert (x0, x1, y0, y1) == (-0.5, 3.5, -0.5, 1.5)  # the 4 x 2 cells, not pyqtgraph's 0..1
    # the values in display units, not rounded (293.15 K is 20 degC, not 19.9)
    left = view.getPlotItem().getAxis("left")
    assert left.labelText == "state.temperature (°C)"
    assert [left.tickStrings([v], 1.0, 1.0)[0] for v in (0.0, 1.0)] == ["20", "60"]


def test_frequency_versus_a_text_parameter_has_one_column_per_value(qtbot):
    sweep = loads_sweep(textwrap.dedent("""\
        [variable]
        "pipe.boundary" = ["clamped-clamped", "pinned-pinned", "clamped-free"]
        """))
    panel = RunPanel(engine_factory=lambda s: FlatLinesEngine())
    panel.controller.result_loader = lambda i, path: flat(i, float(i))
    qtbot.addWidget(panel, before_close_func=lambda w: w.shutdown(5.0))
    with qtbot.waitSignal(panel.runningChanged, timeout=10_000, check_params_cb=lambda r: r is False):
        panel.start(sweep)
    modes = panel.plot_panel.modes
    qtbot.waitUntil(lambda: len(modes._points.data) == 3)
    # flat() gives point i the first natural frequency 100 + i, at the column of its value
    xs, ys = modes._points.getData()
    assert list(xs) == [0.0, 1.0, 2.0] and list(ys) == [100.0, 101.0, 102.0]
    ticks = modes.getPlotItem().getAxis("bottom")._tickLevels
    assert [t for _, t in ticks[0]] == ["clamped-clamped", "pinned-pinned", "clamped-free"]
    panel.select_point(1)
    assert list(modes._sel.getData()[0]) == [1.0]
    assert panel.plot_panel.slope_label.text() == ""  # no slope along a text parameter
