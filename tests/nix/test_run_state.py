"""Counts and ETA of a run's book-keeping (no Nix needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sweepgui.nix.interpreter import detect_interpreter
from sweepgui.nix.manifest import ManifestWriter
from sweepgui.nix.plan import Plan, PlannedPoint
from sweepgui.nix.run_state import RunState
from sweepgui.sweep.status import Status


def state_of(tmp_path: Path, n: int) -> RunState:
    points = [PlannedPoint(i, f"p{i}", "{}", f"/nix/store/x-p{i}", False, f"/d{i}.drv")
              for i in range(n)]
    plan = Plan(points, cached=0, to_build=n, interpreter=detect_interpreter())
    manifest = ManifestWriter(tmp_path, {"points": [{"index": i} for i in range(n)]})
    return RunState(plan, manifest, tmp_path)


def test_eta_from_the_mean_duration_and_unknown_once_points_outrun_it(tmp_path: Path):
    st = state_of(tmp_path, 4)
    assert st.progress().eta_seconds is None          # no duration known yet
    for i in range(2):
        list(st.started(f"/d{i}.drv", ""))
    st._set(0, Status.BUILT)                          # one point took 2 s
    st.durations.append(2.0)
    st._duration_sum += 2.0
    st.start[1] -= 0.5                                # running for 0.5 s of its expected 2
    p = st.progress()
    assert (p.built, p.running, p.queued) == (1, 1, 2)
    # 2 queued x 2 s + 1.5 s left of the running one, over the 2 points seen running at once
    assert p.eta_seconds == pytest.approx((2 * 2.0 + 1.5) / 2, abs=0.05)
    st._set(2, Status.BUILT)
    st._set(3, Status.BUILT)
    st.start[1] -= 10.0                               # far beyond the mean: not "0:00"
    assert st.progress().eta_seconds is None
    st._set(1, Status.BUILT)
    assert st.progress().eta_seconds == 0.0


def test_an_eta_once_points_finish_even_when_their_start_was_not_seen(tmp_path: Path):
    """The flake of issue 14 (``eta_seconds is None`` after the first finished point): a point
    whose start Nix did not report has no duration; the run's pace gives the estimate."""
    st = state_of(tmp_path, 4)
    st._set(0, Status.BUILT)  # finished, no start seen: no duration
    st._t0 -= 3.0             # the run has taken 3 s for it
    p = st.progress()
    assert (p.built, p.queued) == (1, 3) and p.eta_seconds == pytest.approx(9.0, rel=0.05)


def test_progress_costs_do_not_grow_with_the_points_waiting(tmp_path: Path):
    """Counts are kept as statuses change: a progress report looks at the running points
    only (issue 13: bookkeeping per event independent of the sweep's size)."""
    st = state_of(tmp_path, 4)
    calls = []

    class Counting(list):
        def __iter__(self):
            calls.append(1)
            return super().__iter__()

    st.status = Counting(st.status)
    for _ in range(10):
        st.progress()
    assert calls == []
