"""The plots say what they show: a legend for the f_n lines (the other parameters' values, with
units), the slice a map of a 3-D sweep shows (and picking another), and a read-out at once
when the pointer is over a curve, a point or a cell (its parameters and its value)."""

from __future__ import annotations

import itertools

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QComboBox, QToolTip

from sweepgui.sweep import load_sweep
from tests.ui.synthetic_runs import ROOT, make_panel, run, segment, segment_place

# 3 pressures x 3 temperatures x 3 densities (C order: density fastest)
PT = ROOT / "resources" / "examples" / "pressure-temperature.toml"
PRESSURES = (1.0e5, 1.1e6, 2.1e6)        # 1, 11, 21 bar
TEMPERATURES = (283.15, 293.15, 303.15)  # 10, 20, 30 degC
DENSITIES = (988.0, 998.0, 1008.0)


def f1(i: int) -> float:
    return 150.0 + 2.0 * i  # distinct and known per point


def pt_panel(qtbot):
    panel = make_panel(qtbot, loader=lambda i, p: segment(i, (f1(i), 3 * f1(i))), size=(1500, 950))
    run(qtbot, panel, load_sweep(PT))
    return panel


def coords(i: int) -> tuple[float, float, float]:
    p, t, d = np.unravel_index(i, (3, 3, 3))
    return PRESSURES[p], TEMPERATURES[t], DENSITIES[d]


def test_the_f_versus_parameter_lines_have_a_legend_of_the_other_parameters(qtbot):
    panel = pt_panel(qtbot)
    modes = panel.plot_panel.modes
    assert panel.plot_panel.x_param.currentText() == "state.pressure"
    legends = [it for it in modes.scene().items() if isinstance(it, pg.LegendItem) and it.isVisible()]
    assert len(legends) == 1, "no legend for the lines"
    legend = legends[0]
    head = legend.heading_text()
    assert "state.temperature (°C)" in head and "fluid.density (kg/m3)" in head
    entries = legend.entries()
    expected = {f"{t}, {d}" for t, d in itertools.product((10, 20, 30), (988, 998, 1008))}
    assert {text for _, text in entries} == expected
    # each entry's line goes through the points of its values, along the pressure (in bar)
    for line, text in entries:
        t_c, d = (float(v) for v in text.split(", "))
        mine = [i for i in range(27) if abs(coords(i)[1] - 273.15 - t_c) < 1e-9 and coords(i)[2] == d]
        x, y = line.getData()
        assert list(y) == [f1(i) for i in mine]
        assert np.allclose(x, [coords(i)[0] / 1e5 for i in mine])
    # the legend fits in the plot and hides none of the points
    vb = modes.getPlotItem().vb
    box = legend.mapRectToItem(vb, legend.boundingRect())
    assert vb.boundingRect().contains(box)
    xs, ys = modes._points.getData()
    for x, y in zip(xs, ys):
        assert not box.contains(vb.mapFromView(QPointF(x, y))), (x, y)


def map_title(panel) -> str:
    title = panel.plot_panel.map.getPlotItem().titleLabel
    return title.text if title.isVisible() else ""


def test_the_map_of_a_3d_sweep_names_its_slice_and_the_user_can_pick_another(qtbot):
    panel = pt_panel(qtbot)
    pmap = panel.plot_panel.map
    assert "at fluid.density = 988 kg/m3" in map_title(panel)
    # the grid shows f1 of the points at that density: pressure along x, temperature along y
    expect = np.array([[f1(int(np.ravel_multi_index((p, t, 0), (3, 3, 3)))) for p in range(3)]
                       for t in range(3)])
    assert np.array_equal(pmap.grid, expect)
    # pick another density: the map and its title follow
    box = next(b for b in panel.plot_panel.findChildren(QComboBox)
               if [b.itemText(k) for k in range(b.count())] == ["988 kg/m3", "998 kg/m3", "1008 kg/m3"])
    box.setCurrentIndex(2)
    qtbot.wait(20)
    assert "at fluid.density = 1008 kg/m3" in map_title(panel)
    assert np.array_equal(pmap.grid, expect + 2 * 2.0)
    # selecting a point of another slice shows that slice, and the picker says so
    panel.select_point(int(np.ravel_multi_index((1, 1, 1), (3, 3, 3))))
    assert "at fluid.density = 998 kg/m3" in map_title(panel)
    assert box.currentIndex() == 1


def hover(view, x: float, y: float) -> str:
    """Move the pointer onto view coordinates (x, y); the read-out shown at once (no rest)."""
    QToolTip.hideText()
    vb = view.getPlotItem().vb
    pos = view.mapFromScene(vb.mapViewToScene(QPointF(x, y)))
    QTest.mouseMove(view.viewport(), pos - pg.QtCore.QPoint(4, 0))
    QTest.mouseMove(view.viewport(), pos)
    QTest.qWait(30)
    return QToolTip.text() if QToolTip.isVisible() else ""


def test_hovering_a_curve_a_point_or_a_cell_shows_its_parameters_and_value(qtbot):
    panel = pt_panel(qtbot)
    pp = panel.plot_panel
    i = 13  # 11 bar, 20 degC, 998 kg/m3
    lo, hi, level = segment_place(i)
    text = hover(pp.spectra, (lo + hi) / 2, level)
    assert text.startswith(f"point {i}\n"), repr(text)
    for part in ("state.pressure = 11 bar", "state.temperature = 20 °C", "fluid.density = 998 kg/m3",
                 f"f1 = {f1(i):g} Hz", f"|H| = {10 ** level:.4g} m/N"):
        assert part in text, (part, text)

    xs, ys = pp.modes._points.getData()
    j = list(pp.modes._points.data["data"]).index(i)
    text = hover(pp.modes, float(xs[j]), float(ys[j]))
    assert text.startswith(f"point {i}\n") and f"f1 = {f1(i):g} Hz" in text, repr(text)
    assert "state.pressure = 11 bar" in text

    pp.map.set_slice(2, 1)  # density 998
    text = hover(pp.map, 1.0, 1.0)  # 11 bar, 20 degC
    assert text.startswith(f"point {i}\n") and f"f1 = {f1(i):g} Hz" in text, repr(text)
    QToolTip.hideText()
