"""The Calibration tab (issue 15): what it shows against references that are not its own output.

The runs are synthetic: every point's f1 follows rho = A(T, p) tau^2 - B(T, p) with known
polynomials A and B in (T - T0, p - p0) (as ``tests/results/test_calibration.py`` builds them,
with ``tests/results/synth.py``), so the coefficients the tab shows must be those polynomials,
the compensated error must vanish, and the uncompensated error is A_00 tau^2 - B_00 - rho.
"""

from __future__ import annotations

import html
import json
import math
import re
import shutil
import subprocess
import threading

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog

import sweepgui.ui.calibration.data as calibration_data
from sweepgui.sweep import loads_sweep
from sweepgui.ui.calibration.tab import NO_SWEEP, CalibrationTab
from sweepgui.ui.plots.results import ResultsSource
from tests.results import synth
from tests.ui.synthetic_runs import FakeEngine, make_panel, run

RHO = [600.0, 750.0, 900.0, 1050.0, 1200.0]
TEMPS = [283.15, 300.65, 318.15, 335.65, 353.15]
PRESSURES = [1e5, 2.575e6, 5.05e6, 7.525e6, 1e7]
T0, P0 = 318.15, 5.05e6  # the centre of TEMPS x PRESSURES: the default reference state

# by powers (i, j) of (T - T0, p - p0); each term moves the density visibly over the grid
TRUE_A = {(0, 0): 1.65e8, (1, 0): -2.2e6, (0, 1): -0.6, (2, 0): 130.0, (1, 1): -3.2e-2,
          (0, 2): -5.5e-9}
TRUE_B = {(0, 0): 4490.0, (1, 0): -0.15, (0, 1): -2.1e-7, (2, 0): -2.8e-3, (1, 1): -2.0e-9,
          (0, 2): -3.0e-14}


def poly(coef, dt, dp):
    return sum(c * dt**i * dp**j for (i, j), c in coef.items())


def of_order(coef, order):
    return {k: v for k, v in coef.items() if sum(k) <= order}


def law(a, b):
    """A point's result: f1 from rho = A tau^2 - B solved for tau."""
    def result(params):
        rho = params["fluid"]["density"]
        dt, dp = params["state"]["temperature"] - T0, params["state"]["pressure"] - P0
        tau = math.sqrt((rho + poly(b, dt, dp)) / poly(a, dt, dp))
        return {"fluid": {"density": rho, "speed_of_sound": None},
                "natural_frequencies": [1 / tau, 2.756 / tau], "stable": True,
                "model": {"name": "synthetic-law", "version": "1"}}
    return result


def calibration_run(tmp_path, order=2, rho=RHO, statuses=None, state=None):
    """(sweep, state folder) of a finished density x temperature x pressure run of the law."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    sweep = loads_sweep(f'[variable]\n"fluid.density" = {list(rho)}\n'
                        f'"state.temperature" = {TEMPS}\n"state.pressure" = {PRESSURES}\n')
    dims = [("fluid.density", {"fluid.density": list(rho)}),
            ("state.temperature", {"state.temperature": TEMPS}),
            ("state.pressure", {"state.pressure": PRESSURES})]
    state = synth.write_run(tmp_path, dims, result=law(of_order(TRUE_A, order), of_order(TRUE_B, order)),
                            statuses=statuses, state=state)
    manifest = json.loads((state / "manifest.json").read_text())
    manifest["sweep_hash"] = sweep.content_hash()  # the run of this very sweep
    (state / "manifest.json").write_text(json.dumps(manifest))
    return sweep, state


def make_tab(qtbot, sweep, state, order=1, running=False) -> CalibrationTab:
    tab = CalibrationTab()
    tab.source = lambda: ResultsSource(sweep, None, state)
    tab.is_running = lambda: running
    tab.order_box.setCurrentIndex(order)
    qtbot.addWidget(tab, before_close_func=lambda w: w.shutdown(5.0))
    tab.resize(900, 600)
    return tab


def shown(qtbot, tab: CalibrationTab):
    """Show the tab (it fits when shown) and wait for the fit."""
    with qtbot.waitSignal(tab.computed, timeout=20_000) as blocker:
        tab.show()
    qtbot.waitUntil(lambda: not tab.is_computing(), timeout=20_000)
    return blocker.args[0]


def table(tab) -> dict[str, tuple[float, str, str]]:
    return {r[0]: (float(r[1]), r[2], r[3]) for r in tab.rows()}


def settled(qtbot, tab, check):
    qtbot.waitUntil(lambda: not tab.is_computing() and check(), timeout=20_000)


def test_the_tab_shows_the_known_coefficients_and_a_vanishing_compensated_error(qtbot, tmp_path):
    sweep, state = calibration_run(tmp_path, order=2)
    tab = make_tab(qtbot, sweep, state, order=2)
    out = shown(qtbot, tab)
    assert out is not None and out.calibration is not None, tab.status.text()
    shown_coefs = table(tab)
    want = {f"A_{i}{j}": v for (i, j), v in TRUE_A.items()} | \
           {f"B_{i}{j}": v for (i, j), v in TRUE_B.items()}
    assert set(shown_coefs) == set(want)
    for name, value in want.items():
        assert shown_coefs[name][0] == pytest.approx(value, rel=1e-6), name
    # units and terms as the table shows them
    assert shown_coefs["A_10"][1:] == ("kg/(m3 s2 K)", "(T - T0)")
    assert shown_coefs["B_02"][1:] == ("kg/(m3 Pa2)", "(p - p0)^2")
    assert shown_coefs["A_11"][2] == "(T - T0)*(p - p0)"
    assert "density [kg/m3] = A(T, p)*tau^2 - B(T, p)" in tab.formula.text()
    assert "T0 = 318.15 K" in tab.formula.text() and "p0 = 5.05e+06 Pa" in tab.formula.text()
    assert re.search(r"condition number \d", tab.status.text())
    # the reference state: the sweep's centre, in display units
    assert tab.t0_box.value() == pytest.approx(45.0) and tab.p0_box.value() == pytest.approx(50.5)

    # maps over (T, p): temperature across, pressure up
    comp, unc = tab.compensated_map.grid, tab.uncompensated_map.grid
    assert comp.values.shape == (5, 5)
    assert (comp.x_path, comp.y_path) == ("state.temperature", "state.pressure")
    assert np.abs(comp.values).max() < 1e-6          # compensated: nothing left
    # uncompensated, reference: A_00 tau^2 - B_00 - rho, the largest over the densities
    tau2 = np.array([[[(r + poly(TRUE_B, t - T0, p - P0)) / poly(TRUE_A, t - T0, p - P0)
                       for p in PRESSURES] for t in TEMPS] for r in RHO])
    err = TRUE_A[(0, 0)] * tau2 - TRUE_B[(0, 0)] - np.array(RHO)[:, None, None]
    worst = np.take_along_axis(err, np.abs(err).argmax(axis=0)[None], axis=0)[0]   # (T, p)
    np.testing.assert_allclose(unc.values, worst.T, rtol=1e-6, atol=1e-6)
    assert np.abs(unc.values).max() > 100
    # at one density: the picker
    tab.pages.setCurrentIndex(1)
    tab.slice_box.setCurrentIndex(1 + 2)                 # at 900 kg/m3
    np.testing.assert_allclose(tab.uncompensated_map.grid.values, err[2].T, rtol=1e-6, atol=1e-6)
    assert "900" in tab.slice_box.currentText()
    # the error versus density: every point, all near zero
    tab.pages.setCurrentIndex(2)
    assert tab.density_plot.point_count() == 125


def test_a_new_order_updates_the_table(qtbot, tmp_path):
    sweep, state = calibration_run(tmp_path, order=1)
    tab = make_tab(qtbot, sweep, state, order=1)
    shown(qtbot, tab)
    coefs = table(tab)
    assert set(coefs) == {"A_00", "A_10", "A_01", "B_00", "B_10", "B_01"}
    for (i, j), v in of_order(TRUE_A, 1).items():
        assert coefs[f"A_{i}{j}"][0] == pytest.approx(v, rel=1e-6)
    for (i, j), v in of_order(TRUE_B, 1).items():
        assert coefs[f"B_{i}{j}"][0] == pytest.approx(v, rel=1e-6)

    tab.order_box.setCurrentIndex(2)                    # quadratic: 6 terms each
    settled(qtbot, tab, lambda: len(tab.rows()) == 12)
    coefs = table(tab)
    assert coefs["A_10"][0] == pytest.approx(TRUE_A[(1, 0)], rel=1e-6)
    # the law is linear: the quadratic terms are zero (relative to what they could contribute)
    assert abs(coefs["A_20"][0]) * 35.0**2 < 1e-6 * TRUE_A[(0, 0)]
    assert "order 2" in tab.status.text()

    tab.order_box.setCurrentIndex(0)                    # no compensation: A and B alone
    settled(qtbot, tab, lambda: set(table(tab)) == {"A_00", "B_00"})
    assert "order 0" in tab.status.text() and "A(T, p) = A_00;" in tab.formula.text()


def test_a_reference_state_of_the_users_choice(qtbot, tmp_path):
    sweep, state = calibration_run(tmp_path, order=1)
    tab = make_tab(qtbot, sweep, state, order=1)
    shown(qtbot, tab)
    tab.t0_box.setValue(27.5)                           # 300.65 K
    settled(qtbot, tab, lambda: "T0 = 300.65 K" in tab.formula.text())
    # A(T) about another T0: A_00 is A at that temperature
    a = of_order(TRUE_A, 1)
    assert table(tab)["A_00"][0] == pytest.approx(poly(a, 300.65 - T0, 0.0), rel=1e-6)
    tab.centre_button.click()
    settled(qtbot, tab, lambda: "T0 = 318.15 K" in tab.formula.text())
    assert tab.t0_box.value() == pytest.approx(45.0)


def test_too_few_densities_show_the_core_s_reason(qtbot, tmp_path):
    sweep, state = calibration_run(tmp_path, rho=[900.0, 1000.0])
    tab = make_tab(qtbot, sweep, state)
    out = shown(qtbot, tab)
    assert out.calibration is None
    text = tab.status.text()
    assert text.startswith("No calibration: fluid.density has 2 values")
    assert "at least 3 densities" in text
    assert tab.rows() == [] and not tab.export_button.isEnabled()
    assert tab.uncompensated_map.grid is None
    # a plain message in the tab, no dialog
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, QDialog) and w.isVisible()]


def test_points_still_to_come_are_counted_and_the_fit_follows_when_they_finish(qtbot, tmp_path):
    queued = {k: "queued" for k in range(0, 125, 11)}   # 12 points
    sweep, state = calibration_run(tmp_path / "a", order=1, statuses=queued)
    running = {"now": True}
    tab = make_tab(qtbot, sweep, state, order=1)
    tab.is_running = lambda: running["now"]
    shown(qtbot, tab)
    assert tab.status.text().startswith("Waiting for 12 of 125 points to finish")
    assert tab.rows() == []
    # the run ends with every point: the tab is told, and fits
    calibration_run(tmp_path / "b", order=1, state=state)
    running["now"] = False
    tab.results_changed()
    settled(qtbot, tab, lambda: len(tab.rows()) == 6)
    assert table(tab)["B_10"][0] == pytest.approx(TRUE_B[(1, 0)], rel=1e-6)
    # a sweep opened, not run: its points are not "coming"
    calibration_run(tmp_path / "c", order=1, statuses=queued, state=state)
    tab.results_changed()
    settled(qtbot, tab, lambda: tab.rows() == [])
    assert tab.status.text().startswith("12 of 125 points have no result yet: Run builds them")


def test_failed_points_are_named_as_the_core_names_them(qtbot, tmp_path):
    sweep, state = calibration_run(tmp_path, order=1, statuses={7: "failed"})
    tab = make_tab(qtbot, sweep, state)
    shown(qtbot, tab)
    assert "No calibration: 1 of 125 points have no result" in tab.status.text()
    assert "state.pressure=5.05e+06 (failed" in tab.status.text()


def test_cancelled_points_are_still_to_come_and_failed_ones_are_said(qtbot, tmp_path):
    # cancelled is not failed: the next Run builds it (Rerun failed takes the failed ones)
    sweep, state = calibration_run(tmp_path, order=1, statuses={7: "failed", 8: "cancelled"})
    tab = make_tab(qtbot, sweep, state)
    shown(qtbot, tab)
    assert tab.status.text() == ("1 of 125 points have no result yet: Run builds them, and the "
                                 "calibration follows. 1 failed: Rerun failed builds them again.")


def test_the_report_holds_the_formula_every_coefficient_and_the_provenance(qtbot, tmp_path):
    sweep, state = calibration_run(tmp_path, order=2)
    tab = make_tab(qtbot, sweep, state, order=2)
    shown(qtbot, tab)
    cal = tab.outcome.calibration
    for name in ("report.html", "report.pdf"):
        with qtbot.waitSignal(tab.reportExported, timeout=30_000) as blocker:
            assert tab.export_report(tmp_path / name)
        assert blocker.args[0] == tmp_path / name
    page = html.unescape((tmp_path / "report.html").read_text())
    assert cal.formula in page
    for name, c in cal.coefficients.items():
        assert f"<b>{name}</b>" in page and c.unit in page
    assert page.count("data:image/png;base64,") == 3    # the plots, inside the one file
    manifest = json.loads((state / "manifest.json").read_text())
    assert manifest["sweep_hash"] in page and "synthetic-beam 1.0" in page
    assert "125 Nix store paths for 125 points" in page and str(tmp_path / "sweep.toml") in page

    pdf = (tmp_path / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1          # one page
    assert len(re.findall(rb"/Subtype\s*/Image", pdf)) >= 3
    gs = shutil.which("gs")
    if gs is None:
        pytest.skip("ghostscript (gs) is not installed: the PDF's text is not read")
    text = subprocess.run([gs, "-q", "-dNOPAUSE", "-dBATCH", "-sDEVICE=txtwrite", "-sOutputFile=-",
                           str(tmp_path / "report.pdf")], capture_output=True, text=True,
                          timeout=60, check=True).stdout
    flat = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", cal.formula) in flat
    for name in cal.coefficients:
        assert name in flat


def test_no_report_without_a_calibration_and_a_bad_suffix_is_refused(qtbot, tmp_path):
    sweep, state = calibration_run(tmp_path, rho=[900.0, 1000.0])
    tab = make_tab(qtbot, sweep, state)
    shown(qtbot, tab)
    with qtbot.waitSignal(tab.message) as blocker:
        assert not tab.export_report(tmp_path / "r.pdf")
    assert blocker.args[0].startswith("no calibration to export") and blocker.args[1] is True
    assert not (tmp_path / "r.pdf").exists()


def test_the_fit_runs_off_the_gui_thread(qtbot, tmp_path, monkeypatch):
    """A fit that hangs (until the test lets it go) does not stall the window: the GUI thread
    keeps ticking meanwhile. Were the fit on the GUI thread, no tick could come while it
    waits, and it would give up after 10 s."""
    sweep, state = calibration_run(tmp_path, order=1)
    threads = []
    release = threading.Event()
    real = calibration_data.calibrate

    def hanging(*args, **kwargs):
        threads.append(threading.current_thread())
        if not release.wait(10):
            raise TimeoutError("the test never let the fit go")
        return real(*args, **kwargs)
    monkeypatch.setattr(calibration_data, "calibrate", hanging)
    tab = make_tab(qtbot, sweep, state, order=1)
    ticks = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(len(ticks)))
    try:
        tab.show()
        tab.results_changed()
        assert tab.rows() == []
        qtbot.waitUntil(lambda: bool(threads), timeout=20_000)  # the fit is under way...
        timer.start()
        qtbot.waitUntil(lambda: len(ticks) >= 5, timeout=5_000)  # ...and the window is not stalled
        assert not release.is_set() and tab.rows() == []
        release.set()
        qtbot.waitUntil(lambda: len(tab.rows()) == 6, timeout=20_000)   # it fills once done
    finally:
        release.set()
        timer.stop()
    assert all(t is not threading.main_thread() for t in threads)
    qtbot.waitUntil(lambda: not tab.is_computing(), timeout=10_000)
    assert not tab._call.is_running()


def test_the_run_tab_has_the_calibration_tab_and_it_follows_a_run(qtbot, tmp_path):
    sweep, state = calibration_run(tmp_path, order=1)
    panel = make_panel(qtbot, engine=FakeEngine(state_dir=state))
    tabs = panel.plot_panel.lower_tabs
    names = [tabs.tabText(k) for k in range(tabs.count())]
    assert names[:2] == ["Map", "Sensitivities"] and "Calibration" in names
    tab = panel.calibration
    tabs.setCurrentWidget(tab)
    with qtbot.waitSignal(tab.computed, timeout=20_000, check_params_cb=lambda o: o is not None
                          and o.calibration is not None):
        run(qtbot, panel, sweep)
    qtbot.waitUntil(lambda: len(tab.rows()) == 6 and not tab.is_computing(), timeout=20_000)
    assert table(tab)["A_10"][0] == pytest.approx(TRUE_A[(1, 0)], rel=1e-6)
    # a report written from the run tab tells the message line
    with qtbot.waitSignal(tab.reportExported, timeout=30_000):
        tab.export_report(tmp_path / "r.html")
    assert panel.message_label.text() == f"wrote the calibration report {tmp_path / 'r.html'}"
    # no sweep on show (a file that did not load): no calibration of the last one either
    panel.clear()
    qtbot.waitUntil(lambda: tab.rows() == [] and not tab.is_computing(), timeout=20_000)
    assert tab.status.text() == NO_SWEEP and not tab.export_button.isEnabled()


def test_with_temperature_alone_the_map_is_over_temperature_and_density(qtbot, tmp_path):
    sweep = loads_sweep(f'[variable]\n"fluid.density" = {RHO}\n"state.temperature" = {TEMPS}\n')
    a, b = of_order(TRUE_A, 1), of_order(TRUE_B, 1)
    state = synth.write_run(tmp_path, [("fluid.density", {"fluid.density": RHO}),
                                       ("state.temperature", {"state.temperature": TEMPS})],
                            fixed={"state.pressure": P0}, result=law(a, b))
    manifest = json.loads((state / "manifest.json").read_text())
    manifest["sweep_hash"] = sweep.content_hash()
    (state / "manifest.json").write_text(json.dumps(manifest))
    tab = make_tab(qtbot, sweep, state, order=1)
    shown(qtbot, tab)
    assert set(table(tab)) == {"A_00", "A_10", "B_00", "B_10"}
    assert table(tab)["B_10"][0] == pytest.approx(TRUE_B[(1, 0)], rel=1e-6)
    grid = tab.uncompensated_map.grid
    assert (grid.x_path, grid.y_path) == ("state.temperature", "fluid.density")
    assert grid.values.shape == (5, 5) and grid.reduced == ""
    assert not tab.slice_box.isEnabled()          # the density is an axis: nothing to pick
    assert not tab.p0_box.isEnabled() and tab.t0_box.isEnabled()
