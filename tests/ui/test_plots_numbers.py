"""Numbers the run tab shows come from ``sweepgui.results`` and agree with the CLI and with the
exact values of known laws: the slope read-out, the sensitivity table, the data exports.

The laws are closed-form: f1 = a + b p^2 + c rho (exact derivatives 2 b p and c), and the
synthetic beam of ``tests/results/synth.py`` for the exported frequencies.
"""

from __future__ import annotations

import json
import re
import textwrap

import pytest
import xarray as xr
from PySide6.QtWidgets import QToolButton

from sweepgui.results import load_dataset, read_csv, sensitivities
from sweepgui.sweep import loads_sweep
from tests.results import synth
from tests.ui.synthetic_runs import FakeEngine, make_panel, run, segment

A, B, C = 300.0, 1.0e-12, -0.1   # Hz, Hz/Pa^2, Hz/(kg/m3)
LOG_P = [1.0e5, 1.0e6, 1.0e7]    # logspace = [5, 7, 3]


def law(p: float, rho: float = 1000.0) -> float:
    return A + B * p**2 + C * rho


def slope_value(text: str) -> tuple[float, str]:
    m = re.search(r"= (\S+) (\S+)$", text)
    assert m, text
    return float(m.group(1)), m.group(2)


def test_the_slope_read_out_is_the_exact_derivative_on_a_logspace_grid(qtbot):
    sweep = loads_sweep('[variable]\n"state.pressure" = { logspace = [5, 7, 3] }\n')
    panel = make_panel(qtbot, loader=lambda i, p: segment(i, (law(LOG_P[i]),)))
    run(qtbot, panel, sweep)
    panel.select_point(1)  # 1e6 Pa, between 1e5 and 1e7
    value, unit = slope_value(panel.plot_panel.slope_label.text())
    # d/dp (a + b p^2) = 2 b p = 2e-6 Hz/Pa at 1e6 Pa, i.e. 0.2 Hz per bar (1 bar = 1e5 Pa);
    # the secant between the neighbours gave 1.01e-5 Hz/Pa
    exact_per_pa = 2 * B * 1.0e6
    assert unit == "Hz/bar"
    assert value == pytest.approx(exact_per_pa * 1.0e5, rel=1e-9)


def pressure_density_run(tmp_path):
    """A finished run on disk (manifest, result files) of f1 = a + b p^2 + c rho."""
    def result(params):
        r = synth.beam_result(params)
        p, rho = params["state"]["pressure"], params["fluid"]["density"]
        r["natural_frequencies"] = [law(p, rho), 3 * law(p, rho)]
        r["fluid"]["density"] = rho
        return r
    sweep = loads_sweep(textwrap.dedent("""\
        [variable]
        "state.pressure" = { logspace = [5, 7, 3] }
        "fluid.density" = [990.0, 1000.0, 1010.0]
        """))
    state = synth.write_run(tmp_path, [("state.pressure", {"state.pressure": LOG_P}),
                                       ("fluid.density", {"fluid.density": [990.0, 1000.0, 1010.0]})],
                            result=result)
    manifest = json.loads((state / "manifest.json").read_text())
    manifest["sweep_hash"] = sweep.content_hash()  # the run of this very sweep
    (state / "manifest.json").write_text(json.dumps(manifest))
    return sweep, state


def test_the_sensitivity_table_shows_the_exact_derivatives_and_the_cli_numbers(qtbot, tmp_path):
    sweep, state = pressure_density_run(tmp_path)
    panel = make_panel(qtbot, loader=lambda i, p: segment(i, (law(LOG_P[i // 3], 990.0 + 10 * (i % 3)),)),
                       engine=FakeEngine(state_dir=state))
    run(qtbot, panel, sweep)
    pp = panel.plot_panel
    tabs = pp.lower_tabs
    panel.select_point(4)  # 1e6 Pa, 1000 kg/m3: the grid centre
    with qtbot.waitSignal(pp.sensitivity.computed, timeout=20_000) as blocker:
        tabs.setCurrentIndex(next(k for k in range(tabs.count()) if tabs.tabText(k) == "Sensitivities"))
    assert blocker.args[0] is not None, pp.sensitivity.header.text()
    rows = {r[0]: r for r in pp.sensitivity.rows()}
    f = law(1.0e6, 1000.0)
    # exact: df/dp = 2 b p = 0.2 Hz/bar; df/drho = c; apparent density error (df/dp)/(df/drho)
    value, unit = rows["state.pressure"][1].split(" ")
    assert unit == "Hz/bar" and float(value) == pytest.approx(2 * B * 1.0e6 * 1e5, rel=1e-3)
    value, unit = rows["fluid.density"][1].split(" ")
    assert unit == "Hz/(kg/m3)" and float(value) == pytest.approx(C, rel=1e-3)
    rel, unit = rows["state.pressure"][2].split(" ")
    assert unit == "1/bar" and float(rel) == pytest.approx(0.2 / f, rel=1e-3)
    ade, unit = rows["state.pressure"][3].split(" ")
    assert unit == "(kg/m3)/bar" and float(ade) == pytest.approx(0.2 / C, rel=1e-3)
    assert "f1 = 201 Hz" in pp.sensitivity.header.text()
    # another point (an edge): the table follows the selection, with the CLI's numbers there
    with qtbot.waitSignal(pp.sensitivity.computed, timeout=20_000):
        panel.select_point(8)  # 1e7 Pa, 1010 kg/m3
    cli = sensitivities(load_dataset(state), at={"state.pressure": 1e7, "fluid.density": 1010.0}, mode=1)
    rows = {r[0]: r for r in pp.sensitivity.rows()}
    for s in cli:
        assert rows[s.parameter][1] == f"{s.value:.4g} {s.unit}"


def test_export_writes_the_dataset_as_csv_netcdf_and_json_in_si_units(qtbot, tmp_path):
    sweep, state = pressure_density_run(tmp_path)
    panel = make_panel(qtbot, engine=FakeEngine(state_dir=state))
    run(qtbot, panel, sweep)
    pp = panel.plot_panel
    button = next(b for b in pp.findChildren(QToolButton) if b.text() == "Export")
    titles = [a.text() for a in button.menu().actions()]
    assert {"data as CSV (.csv)…", "data as netCDF (.nc)…", "data as JSON (.json)…"} <= set(titles)
    for name, fmt in (("r.csv", "csv"), ("r.nc", "netcdf"), ("r.json", "json")):
        with qtbot.waitSignal(pp.dataExported, timeout=30_000) as blocker:
            assert pp.export_data(tmp_path / name, fmt)
        assert blocker.args[0] == tmp_path / name
        assert panel.message_label.text().startswith(f"wrote {tmp_path / name} ({fmt}, 9 points")
    rows = read_csv(tmp_path / "r.csv")
    assert len(rows) == 9
    for r in rows:
        # SI in the file (Pa), the law's frequency, its provenance
        assert r["state.pressure"] in LOG_P
        assert r["f1"] == law(r["state.pressure"], r["fluid.density"])
        assert r["store_path"].startswith(str(tmp_path / "store"))
    with xr.open_dataset(tmp_path / "r.nc", engine="h5netcdf") as ds:
        assert list(ds["state.pressure"].values) == LOG_P
        assert "magnitude" in ds  # the netCDF export carries the spectra
    data = json.loads((tmp_path / "r.json").read_text())
    assert len(data["points"]) == 9
    assert data["points"][4]["natural_frequencies"][0] == law(1.0e6, 1000.0)


def test_export_without_results_says_so(qtbot, tmp_path):
    sweep = loads_sweep('[variable]\n"fluid.density" = [990.0, 1000.0]\n')
    panel = make_panel(qtbot, engine=FakeEngine(state_dir=tmp_path / "nothing"))
    run(qtbot, panel, sweep)
    with qtbot.waitSignal(panel.plot_panel.dataExported, timeout=30_000) as blocker:
        panel.plot_panel.export_data(tmp_path / "r.csv", "csv")
    assert blocker.args[0] is None
    assert "run it first" in panel.message_label.text()
    assert not (tmp_path / "r.csv").exists()
