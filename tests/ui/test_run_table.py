"""The per-point table: events change rows, the text and status filters, numeric sorting."""

from __future__ import annotations

import textwrap

from PySide6.QtCore import Qt

from sweepgui.nix import events as ev
from sweepgui.results import PointRows, SweepLayout, sweep_coordinates
from sweepgui.sweep import loads_sweep
from sweepgui.ui.run.panel import RunPanel

SWEEP = textwrap.dedent("""\
    [variable]
    "fluid.density" = [850.0, 1000.0, 95.0]
    "state.temperature" = [293.15, 333.15]
    """)


def test_coordinates_follow_the_sweeps_own_point_order():
    sweep = loads_sweep(SWEEP)
    coords = sweep_coordinates(sweep)
    # reference: the sweep's own coordinates(i) (C order, last variable fastest)
    assert coords == [tuple(sweep.coordinates(i).values()) for i in range(6)]
    assert coords[1] == (850.0, 333.15)


def test_events_move_rows_through_their_states_and_keep_a_bounded_log():
    rows = PointRows()
    rows.reset(["x"], [(1.0,), (2.0,), (3.0,)])
    rows.mark_queued(None)
    rows.apply(ev.PointCached(0, "/nix/store/a"))
    rows.apply(ev.PointStarted(1, "/d.drv", "ssh://builder"))
    for k in range(1000):
        rows.apply(ev.PointLog(1, f"line {k}"))
    rows.apply(ev.PointFailed(1, 3, ("boom",), "exit code 3", "ssh://builder"))
    assert [r.status for r in rows.rows] == ["cached", "failed", "queued"]
    assert rows.rows[1].machine == "ssh://builder" and rows.rows[1].error == "exit code 3"
    assert len(rows.rows[1].log) == 400 and rows.rows[1].log[-1] == "line 999"
    assert rows.counts()["queued"] == 1
    assert rows.finish(cancelled=True) == [2]
    # cancelled is not failed: Rerun failed takes the failed point only (issue 12)
    assert rows.failed_indices() == [1]
    assert rows.counts()["cancelled"] == 1 and rows.counts()["failed"] == 1


def _panel_with_rows(qtbot) -> RunPanel:
    panel = RunPanel(engine_factory=lambda s: None)
    qtbot.addWidget(panel)
    sweep = loads_sweep(SWEEP)
    panel._set_layout(sweep, SweepLayout.from_sweep(sweep))
    panel._on_events([ev.PointFinished(0, "/nix/store/aaa-p0", 1.5, "ssh://alpha"),
                      ev.PointFinished(1, "/nix/store/bbb-p1", 0.5, ""),
                      ev.PointFailed(2, 3, ("the EOS failed",), "exit code 3"),
                      ev.PointStarted(3, "/d", "ssh://beta")])
    return panel


def visible(panel: RunPanel, col: int = 0) -> list[str]:
    p = panel.proxy
    return [p.index(r, col).data() for r in range(p.rowCount())]


def test_text_and_status_filters(qtbot):
    panel = _panel_with_rows(qtbot)
    assert visible(panel) == ["0", "1", "2", "3", "4", "5"]
    panel.filter_edit.setText("alpha")            # machine column
    assert visible(panel) == ["0"]
    panel.filter_edit.setText("333.15")            # a swept value
    assert visible(panel) == ["1", "3", "5"]
    panel.filter_edit.clear()
    panel.status_filter.setCurrentText("failed")
    assert visible(panel) == ["2"]
    panel.status_filter.setCurrentText("planned")     # never started
    assert visible(panel) == ["4", "5"]
    panel.filter_edit.setText("95")
    assert visible(panel) == ["4", "5"]
    # selecting a point that is filtered out clears the filters rather than selecting nothing
    panel.select_point(0)
    assert panel.selected_point() == 0 and panel.filter_edit.text() == ""


def test_sorting_is_numeric(qtbot):
    panel = _panel_with_rows(qtbot)
    m = panel.table_model
    dens = next(c for c in range(m.columnCount()) if m.column_name(c) == "fluid.density")
    panel.table.sortByColumn(dens, Qt.SortOrder.AscendingOrder)
    # as text "1000" < "850" < "95"; as numbers 95 < 850 < 1000
    assert visible(panel, dens) == ["95", "95", "850", "850", "1000", "1000"]
    secs = next(c for c in range(m.columnCount()) if m.column_name(c) == "seconds")
    panel.table.sortByColumn(secs, Qt.SortOrder.DescendingOrder)
    assert visible(panel, secs)[:2] == ["1.50", "0.50"]


def test_progress_shows_counts_and_the_engines_eta_while_running(qtbot, monkeypatch):
    panel = _panel_with_rows(qtbot)
    monkeypatch.setattr(panel.controller, "is_running", lambda: True)
    panel._on_events([ev.Progress(cached=0, built=2, running=1, failed=1, queued=2, eta_seconds=75.0)])
    text = panel.progress.text()
    assert text.startswith("50%")     # 3 of 6 points done (2 built + 1 failed)
    assert "0 cached, 2 built, 1 running, 1 failed, 2 queued" in text and text.endswith("ETA 1:15")


def test_the_run_button_asks_and_does_not_run_by_itself(qtbot):
    panel = _panel_with_rows(qtbot)
    panel.set_sweep(loads_sweep(SWEEP))
    qtbot.waitUntil(lambda: not panel.controller.is_planning())
    assert panel.run_button.isEnabled()
    with qtbot.waitSignal(panel.runRequested, timeout=1000):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert not panel.is_running()  # the owner decides (the window checks the forms first)
