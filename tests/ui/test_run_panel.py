"""The run panel against the real engine and real Nix: a small sweep fills the table and the
plots as points finish; cancel leaves no process behind; failed points are shown where they
happen and can be rerun alone."""

from __future__ import annotations

import os
import shutil
import textwrap
import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from sweepgui.nix import Engine, load_manifest, read_result
from sweepgui.nix import events as ev
from sweepgui.sweep import load_sweep
from sweepgui.ui.run.panel import RunPanel
from tests.procs import processes_mentioning

pytestmark = [pytest.mark.nix, pytest.mark.skipif(shutil.which("nix-build") is None,
                                                  reason="Nix is not installed")]

SLOW_MODEL = textwrap.dedent('''\
    import json, sys, time
    params = json.load(open(sys.argv[1], encoding="utf-8"))
    rho = params["fluid"]["density"]
    print("computing", rho, flush=True)
    if rho == 1010.0:
        print("density 1010 is out of this model's range", file=sys.stderr, flush=True)
        sys.exit(3)
    if params["state"]["temperature"] >= 1000:
        time.sleep(60)
    json.dump({"density": rho, "marker": MARKER}, open(sys.argv[2], "w"))
    ''')


def children_of_this_process() -> list[str]:
    """Command lines of live child processes of the test process (nix-build would be one)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = open(f"/proc/{pid}/stat", "rb").read().rsplit(b")", 1)[1].split()
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat[1]) == os.getpid() and stat[0] not in (b"Z", b"X"):
            out.append(cmd)
    return out


def make_panel(qtbot, tmp_path: Path, request=None) -> RunPanel:
    panel = RunPanel(engine_factory=lambda sweep: Engine(state_dir=tmp_path / "state"))
    qtbot.addWidget(panel, before_close_func=lambda w: w.shutdown(10.0))
    panel.resize(1300, 800)
    panel.show()
    return panel


def run(qtbot, panel: RunPanel, sweep, timeout=90_000) -> list[list]:
    batches: list[list] = []
    panel.controller.eventsReady.connect(batches.append)
    with qtbot.waitSignal(panel.runningChanged, timeout=timeout, check_params_cb=lambda r: r is False):
        panel.start(sweep)
    return batches


def column(panel: RunPanel, name: str) -> int:
    m = panel.table_model
    return next(c for c in range(m.columnCount()) if m.column_name(c) == name)


def test_small_sweep_from_the_gui_fills_table_and_plots_as_points_finish(qtbot, tmp_path):
    # the built-in model; an f_max no other run used makes the points new (a cold build):
    # its digits come from a uuid, as the custom models' markers do
    f_max = 1400.0 + uuid.uuid4().int % 100_000 / 1000
    path = tmp_path / "small.toml"
    path.write_text(textwrap.dedent(f"""\
        [fixed]
        material.name = "316L"
        analysis.f_max = {f_max}
        [variable]
        "fluid.density" = [700.0, 1000.0, 1300.0]
        [run]
        jobs = 2
        """), encoding="utf-8")
    sweep = load_sweep(path)
    panel = make_panel(qtbot, tmp_path)
    seen = []  # (curves on screen, run finished yet) after each batch
    panel.controller.eventsReady.connect(
        lambda b: seen.append((len(panel.plot_panel.spectra.store),
                               any(isinstance(x, ev.RunFinished) for x in b))))
    statuses = set()
    panel.table_model.dataChanged.connect(
        lambda *_: statuses.update(r.status for r in panel.rows.rows))
    batches = run(qtbot, panel, sweep)

    # live: spectra were on screen before the run ended, and points were seen running
    assert any(curves > 0 and not finished for curves, finished in seen), seen
    assert "running" in statuses
    # progress at 100 % with the counts
    assert panel.progress.value() == panel.progress.maximum() == 3
    assert panel.progress.text().startswith("100%") and "3 built" in panel.progress.text()
    # the table: one row per point, the swept values, built, store paths = the manifest's
    manifest = load_manifest(tmp_path / "state")
    m = panel.table_model
    dens = column(panel, "fluid.density")
    assert [m.index(r, dens).data() for r in range(3)] == ["700", "1000", "1300"]
    assert [m.index(r, column(panel, "status")).data() for r in range(3)] == ["built"] * 3
    assert [m.index(r, column(panel, "store path")).data() for r in range(3)] == \
        [p["out"] for p in manifest["points"]]
    # the plots: three spectra, f1 of each point as in its result file
    results = [read_result(p["out"]) for p in manifest["points"]]
    assert len(panel.plot_panel.spectra.store) == 3
    f1 = [r["natural_frequencies"][0] for r in results]
    assert panel.plot_panel.modes.freqs == {i: tuple(r["natural_frequencies"]) for i, r in enumerate(results)}
    # heavier fluid, lower frequency (added mass); the slope read-out at the middle point is the
    # central difference of the result files' f1 (equal spacing), in the CLI's unit
    assert f1[0] > f1[1] > f1[2]
    panel.select_point(1)
    expected = (f1[2] - f1[0]) / (1300.0 - 700.0)
    assert f"df1/d(fluid.density) = {expected:.4g} Hz/(kg/m3)" == panel.plot_panel.modes.slope_label
    assert panel.selected_point() == 1
    assert panel.log_view.toPlainText().startswith("# point 1")
    assert not any(isinstance(x, ev.PointFailed) for b in batches for x in b)


def slow_model_sweep(tmp_path, stem: str, variable: str):
    """A uniquely named copy of SLOW_MODEL (so its processes can be found in /proc) and a
    two-job sweep of it over ``variable``; returns (script name, Sweep)."""
    name = f"{stem}{uuid.uuid4().hex[:10]}.py"
    (tmp_path / name).write_text(SLOW_MODEL.replace("MARKER", repr(uuid.uuid4().hex)), encoding="utf-8")
    path = tmp_path / f"{stem}.toml"
    path.write_text(textwrap.dedent(f"""\
        [variable]
        {variable}
        [run]
        jobs = 2
        [model]
        executable = "{name}"
        """), encoding="utf-8")
    return name, load_sweep(path)


def test_cancel_from_the_gui_leaves_no_process_behind(qtbot, tmp_path):
    name, sweep = slow_model_sweep(tmp_path, "slow", '"state.temperature" = [1000.0, 1001.0]')
    panel = make_panel(qtbot, tmp_path)
    panel.start(sweep)
    qtbot.waitUntil(lambda: any(r.status == "running" for r in panel.rows.rows)
                    and bool(processes_mentioning(name)), timeout=30_000)
    with qtbot.waitSignal(panel.runningChanged, timeout=15_000, check_params_cb=lambda r: r is False):
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert processes_mentioning(name) == []
    assert not [c for c in children_of_this_process() if "nix" in c]
    assert not panel.is_running() and not panel.controller.has_threads()
    assert {r.status for r in panel.rows.rows} == {"cancelled"}
    assert panel.message_label.text().startswith("cancelled")
    # nothing failed: Rerun failed has nothing to do, Run builds the cancelled points (issue 12)
    assert not panel.rerun_button.isEnabled() and panel.run_button.isEnabled()


def test_a_failed_point_is_shown_where_it_happens_and_rerun_alone(qtbot, tmp_path):
    _, sweep = slow_model_sweep(tmp_path, "m", '"fluid.density" = [990.0, 1010.0]')
    panel = make_panel(qtbot, tmp_path)
    run(qtbot, panel, sweep)
    m = panel.table_model
    assert [r.status for r in panel.rows.rows] == ["built", "failed"]
    status = m.index(1, column(panel, "status"))
    assert status.data(Qt.ItemDataRole.BackgroundRole) is not None       # the red row
    assert m.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    assert "out of this model's range" in status.data(Qt.ItemDataRole.ToolTipRole)
    assert "failed" in panel.message_label.text()
    assert panel.rerun_button.isEnabled()
    panel.select_point(1)
    assert "out of this model's range" in panel.log_view.toPlainText()

    # rerun failed: only point 1 is started again
    batches = []
    panel.controller.eventsReady.connect(batches.append)
    with qtbot.waitSignal(panel.runningChanged, timeout=60_000, check_params_cb=lambda r: r is False):
        qtbot.mouseClick(panel.rerun_button, Qt.MouseButton.LeftButton)
    started = {x.index for b in batches for x in b if isinstance(x, ev.PointStarted)}
    assert started == {1}
    # point 0 is not built again: the engine reports it from the store
    assert [r.status for r in panel.rows.rows] == ["cached", "failed"]


def test_a_run_that_cannot_root_its_results_says_so_as_a_failure(qtbot, tmp_path):
    """Results without GC roots may be deleted by nix-collect-garbage: the run has failed,
    even with every point built, and the panel says so in red."""
    (tmp_path / "model.py").write_text(SLOW_MODEL.replace("MARKER", repr(uuid.uuid4().hex)))
    path = tmp_path / "s.toml"
    path.write_text('[variable]\n"fluid.density" = [990.0, 1000.0]\n[run]\njobs = 2\n'
                    '[model]\nexecutable = "model.py"\n')
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "gcroots").write_text("a file where the roots go")
    panel = make_panel(qtbot, tmp_path)
    run(qtbot, panel, load_sweep(path))
    text = panel.message_label.text()
    assert "2 built" in text and "no GC root" in text and "nix-collect-garbage" in text, text
    assert "c62828" in panel.message_label.styleSheet()
