"""The plots as the user sees them: curves counted in the rendered window, colour bars and tick
labels as drawn, exported PNGs against a fresh render.

Spectra are synthetic segments at known places (``synthetic_runs``): curve i must have pixels
along its own path, whatever moved it into the raster layer (Fit, a new colouring, more than
``SEAL_AT`` curves).
"""

from __future__ import annotations

import textwrap

import numpy as np
from PySide6.QtGui import QImage, QPainter

from sweepgui.results import SweepLayout
from sweepgui.sweep import load_sweep, loads_sweep
from sweepgui.ui.plots.colormaps import colour_table
from sweepgui.ui.plots.panel import PlotPanel
from sweepgui.ui.plots.spectra import SEAL_AT
from tests.ui.synthetic_runs import (
    ROOT,
    F,
    curve_colours,
    fit_button,
    make_panel,
    rendered_segments,
    reopen,
    run,
    segment,
)

QUICKSTART = ROOT / "resources" / "examples" / "quickstart.toml"


def _text_specs(axis) -> list:
    """(rect, flags, text) of every tick label an axis draws now (pyqtgraph drops those
    that do not fit)."""
    img = QImage(4, 4, QImage.Format.Format_ARGB32)
    p = QPainter(img)
    try:
        specs = axis.generateDrawSpecs(p)
    finally:
        p.end()
    return list(specs[2]) if specs else []


def drawn_labels(axis) -> list[str]:
    return [text for _, _, text in _text_specs(axis)]


def drawn_label_rects(axis):
    return [rect for rect, _, _ in _text_specs(axis)]


# -- 1. spectra vanish ---------------------------------------------------------------------------
def test_quickstart_spectra_stay_on_screen_after_fit(qtbot):
    sweep = load_sweep(QUICKSTART)
    panel = make_panel(qtbot)
    run(qtbot, panel, sweep)
    spectra = panel.plot_panel.spectra
    assert rendered_segments(panel, spectra, range(8)) == set(range(8))
    fit_button(panel).click()
    qtbot.wait(50)
    assert rendered_segments(panel, spectra, range(8)) == set(range(8)), "Fit blanked the spectra"


def test_quickstart_spectra_stay_on_screen_after_recolouring(qtbot):
    sweep = load_sweep(QUICKSTART)
    panel = make_panel(qtbot)
    run(qtbot, panel, sweep)
    spectra = panel.plot_panel.spectra
    panel.select_point(5)
    panel.plot_panel.colour_by.setCurrentText("state.temperature")
    qtbot.wait(50)
    assert rendered_segments(panel, spectra, range(8)) == set(range(8)), \
        "recolouring left only the selected curve"
    fit_button(panel).click()
    panel.plot_panel.colour_by.setCurrentText("fluid.density")
    qtbot.wait(50)
    assert rendered_segments(panel, spectra, range(8)) == set(range(8))


def test_a_reopened_120_point_sweep_shows_every_curve(qtbot):
    sweep = loads_sweep(textwrap.dedent("""\
        [variable]
        "fluid.density" = { linspace = [700.0, 1250.0, 12] }
        "state.temperature" = { linspace = [283.15, 373.15, 10] }
        """))
    assert 120 > SEAL_AT  # most curves go into the raster layer
    panel = make_panel(qtbot, size=(1400, 900))
    reopen(qtbot, panel, sweep, 120)
    spectra = panel.plot_panel.spectra
    shown = rendered_segments(panel, spectra, range(120))
    missing = sorted(set(range(120)) - shown)[:10]
    assert len(shown) == 120, f"{len(shown)} curves on screen: missing {missing}…"


def _quickstart_panel(qtbot, scale: float = 1.0) -> PlotPanel:
    panel = PlotPanel()
    qtbot.addWidget(panel)
    panel.resize(1000, 700)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_layout(SweepLayout.from_sweep(load_sweep(QUICKSTART)))
    results = [segment(i) for i in range(8)]
    if scale != 1.0:  # another sweep's spectra, peaks elsewhere
        results = [type(r)(r.index, F * scale, r.log_magnitude, r.natural_frequencies) for r in results]
    panel.add_results(results)
    panel.flush()
    qtbot.wait(50)
    return panel


def test_an_exported_png_shows_the_colour_bar_and_axes_of_what_is_on_show(qtbot, tmp_path):
    # an export, then other spectra and another colouring, then a second export ...
    panel = _quickstart_panel(qtbot, scale=2.0)
    panel.colour_by.setCurrentText("state.temperature")
    qtbot.wait(50)
    panel.export(tmp_path / "first.png")
    panel.set_layout(SweepLayout.from_sweep(load_sweep(QUICKSTART)))
    panel.add_results([segment(i) for i in range(8)])
    panel.flush()
    panel.colour_by.setCurrentText("fluid.density")
    qtbot.wait(50)
    second = QImage(str(panel.export(tmp_path / "second.png")))
    # ... must look exactly like a fresh panel showing the same (its bar: fluid.density, 700-1150;
    # its frequency axis: these spectra's), not keep the first export's bar or axes
    fresh = _quickstart_panel(qtbot)
    assert fresh.colour_by.currentText() == "fluid.density"
    reference = QImage(str(fresh.export(tmp_path / "fresh.png")))
    assert second.size() == reference.size()
    assert second == reference, "the export kept axes or a colour bar of an earlier export"


# -- 2. axes ---------------------------------------------------------------------------------------
def test_colouring_by_a_logspace_pressure_spreads_the_colours_on_a_log_scale(qtbot):
    sweep = loads_sweep('[variable]\n"state.pressure" = { logspace = [5, 7, 5] }\n')
    panel = make_panel(qtbot)
    run(qtbot, panel, sweep)
    pp = panel.plot_panel
    assert pp.colour_by.currentText() == "state.pressure"
    colours = curve_colours(panel, pp.spectra, range(5))
    assert len(colours) == 5
    table = colour_table(256).astype(float)
    where = {i: int(np.argmin(((table - np.array(c)) ** 2).sum(axis=1))) / 255.0 for i, c in colours.items()}
    positions = [where[i] for i in range(5)]
    # 1, 3.16, 10, 31.6, 100 bar: evenly spread over the colour map, not four purples and a yellow
    assert np.all(np.diff(positions) > 0.15), positions
    axis = pp.spectra._bar.axis
    assert axis.logMode
    assert axis.labelText == "state.pressure (bar)"
    assert drawn_labels(axis) == ["1", "10", "100"]


def test_pressure_and_temperature_axes_have_tick_labels_in_bar_and_celsius(qtbot):
    sweep = loads_sweep(textwrap.dedent("""\
        [variable]
        "state.pressure" = { linspace = [1.0e5, 2.1e6, 3] }
        "state.temperature" = { linspace = [283.15, 303.15, 3] }
        "fluid.density" = [988.0, 998.0, 1008.0]
        """))
    panel = make_panel(qtbot)
    run(qtbot, panel, sweep)
    pp = panel.plot_panel
    qtbot.wait(100)
    bottom, left = pp.map.getPlotItem().getAxis("bottom"), pp.map.getPlotItem().getAxis("left")
    assert bottom.labelText == "state.pressure (bar)" and left.labelText == "state.temperature (°C)"
    assert drawn_labels(bottom) == ["1", "11", "21"]
    assert drawn_labels(left) == ["10", "20", "30"]
    bar = pp.spectra._bar.axis          # coloured by pressure
    assert bar.labelText == "state.pressure (bar)"
    assert bar.geometry().width() >= 20
    assert drawn_labels(bar)
    modes_bottom = pp.modes.getPlotItem().getAxis("bottom")
    assert modes_bottom.labelText == "state.pressure (bar)"
    assert drawn_labels(modes_bottom)


def test_a_narrow_map_of_long_values_still_labels_its_axis_without_overlap(qtbot):
    from sweepgui.ui.plots.map import MapView

    view = MapView()
    qtbot.addWidget(view)
    view.resize(240, 260)
    view.show()
    qtbot.waitExposed(view)
    sweep = loads_sweep(textwrap.dedent("""\
        [variable]
        "pipe.boundary" = ["clamped-clamped", "pinned-pinned", "clamped-free"]
        "state.pressure" = [100000.0, 1100000.0, 2100000.0, 3100000.0, 4100000.0, 5100000.0]
        """))
    view.set_layout(SweepLayout.from_sweep(sweep))
    qtbot.wait(50)
    axis = view.getPlotItem().getAxis("bottom")
    labels = drawn_labels(axis)
    assert labels and set(labels) <= {"clamped-clamped", "pinned-pinned", "clamped-free"}
    rects = drawn_label_rects(axis)
    assert not any(a.intersects(b) for k, a in enumerate(rects) for b in rects[k + 1:])
    assert drawn_labels(view.getPlotItem().getAxis("left"))
