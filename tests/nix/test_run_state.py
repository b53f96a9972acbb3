"""Counts and ETA of a run's book-keeping (no Nix needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sweepgui.nix.interpreter import detect_interpreter
from sweepgui.nix.manifest import ManifestWriter
from sweepgui.nix.plan import Plan, PlannedPoint
from sweepgui.nix.run_state import RunState


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
    st.status[0] = "built"                            # one point took 2 s
    st.durations.append(2.0)
    st.start[1] -= 0.5                                # running for 0.5 s of its expected 2
    p = st.progress()
    assert (p.built, p.running, p.queued) == (1, 1, 2)
    # 2 queued x 2 s + 1.5 s left of the running one, over the 2 points seen running at once
    assert p.eta_seconds == pytest.approx((2 * 2.0 + 1.5) / 2, abs=0.05)
    st.status[2] = st.status[3] = "built"
    st.start[1] -= 10.0                               # far beyond the mean: not "0:00"
    assert st.progress().eta_seconds is None
    st.status[1] = "built"
    assert st.progress().eta_seconds == 0.0
