"""The rows of a run without Qt: statuses through a run, the counts, what "Rerun failed" takes,
and the modes a drive or pick-up position cannot show.

Counts are checked against a recount of the rows and against sequences worked out by hand;
the nodes against the closed-form mode shapes of a pinned-pinned beam (sin(k pi x)) and the
symmetry of a clamped-clamped one.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from sweepgui.nix import events as ev
from sweepgui.results import PointRows, modes_at_nodes, point_node_modes
from sweepgui.results.rows import LOG_LINES_PER_POINT
from sweepgui.sweep import Status, loads_sweep


def rows_of(n: int) -> PointRows:
    rows = PointRows()
    rows.reset(["x"], [(float(i),) for i in range(n)])
    return rows


def plan(cached: set[int], n: int) -> SimpleNamespace:
    points = [SimpleNamespace(index=i, name=f"point-{i}", cached=i in cached,
                              out_path=f"/nix/store/{i}-out") for i in range(n)]
    return SimpleNamespace(points=points)


def nonzero(rows: PointRows) -> dict[str, int]:
    return {str(s): c for s, c in rows.counts().items() if c}


def test_a_run_moves_rows_and_keeps_the_counts():
    rows = rows_of(6)
    assert nonzero(rows) == {"planned": 6}
    rows.apply_plan(plan({0}, 6))
    assert rows.rows[0].status == Status.CACHED and rows.rows[0].store_path == "/nix/store/0-out"
    assert rows.rows[3].name == "point-3"
    rows.mark_queued(None)  # a cached point stays cached
    assert nonzero(rows) == {"cached": 1, "queued": 5}
    rows.apply(ev.PointStarted(1, "/d1.drv", ""))
    rows.apply(ev.PointFinished(1, "/nix/store/1-out", 2.5, ""))
    rows.apply(ev.PointStarted(2, "/d2.drv", "ssh://b"))
    rows.apply(ev.PointFailed(2, 1, ("Traceback", "ValueError: boom"), "exit code 1", "ssh://b"))
    rows.apply(ev.PointStarted(3, "/d3.drv", ""))
    assert nonzero(rows) == {"cached": 1, "built": 1, "failed": 1, "running": 1, "queued": 2}
    assert rows.rows[1].machine == "local" and rows.rows[1].seconds == 2.5
    assert list(rows.rows[2].log) == ["Traceback", "ValueError: boom"]  # the tail, as no log came

    assert rows.finish(cancelled=True) == [3, 4, 5]
    assert nonzero(rows) == {"cached": 1, "built": 1, "failed": 1, "cancelled": 3}
    # cancelled is not failed: the next Run builds them, "Rerun failed" takes point 2 only
    assert rows.has_failed() and rows.failed_indices() == [2]


def test_a_run_that_ends_early_fails_its_open_points_with_a_reason():
    rows = rows_of(3)
    rows.mark_queued(None)
    rows.apply(ev.PointStarted(0, "/d0.drv", ""))
    assert rows.finish(cancelled=False) == [0, 1, 2]
    assert nonzero(rows) == {"failed": 3}
    assert all(r.error == "the run ended before this point was built" for r in rows.rows)
    assert rows.finish(cancelled=False) == []  # nothing open any more


def test_a_cancelled_run_has_nothing_to_rerun():
    rows = rows_of(4)
    rows.mark_queued(None)
    rows.apply(ev.PointFinished(0, "/nix/store/0-out", 1.0, ""))
    rows.finish(cancelled=True)
    assert not rows.has_failed() and rows.failed_indices() == []
    assert nonzero(rows) == {"built": 1, "cancelled": 3}


def test_rerun_failed_queues_only_those_and_forgets_their_last_attempt():
    rows = rows_of(3)
    rows.mark_queued(None)
    for i in range(3):
        rows.apply(ev.PointLog(i, f"building {i}"))
    rows.apply(ev.PointFailed(1, 2, (), "exit code 2", "ssh://b"))
    rows.apply(ev.PointFinished(0, "/nix/store/0-out", 1.0, ""))
    rows.apply(ev.PointFinished(2, "/nix/store/2-out", 1.0, ""))
    rows.mark_queued(rows.failed_indices())
    r = rows.rows[1]
    assert (r.status, r.error, r.machine, r.seconds, list(r.log)) == (Status.QUEUED, "", "", None, [])
    assert nonzero(rows) == {"built": 2, "queued": 1}


def test_events_of_no_row_change_nothing():
    rows = rows_of(2)
    before = rows.counts()
    assert rows.apply(ev.Progress(0, 0, 0, 0, 2, None)) is None
    assert rows.apply(ev.RunMessage("warning", "slow builder")) is None
    assert rows.apply(ev.PointFinished(7, "/nix/store/7-out", 1.0, "")) is None  # not in this sweep
    assert rows.counts() == before


def test_a_points_log_keeps_its_last_lines():
    rows = rows_of(1)
    for k in range(LOG_LINES_PER_POINT + 50):
        rows.apply(ev.PointLog(0, f"line {k}"))
    log = list(rows.rows[0].log)
    assert len(log) == LOG_LINES_PER_POINT and log[-1] == f"line {LOG_LINES_PER_POINT + 49}"
    assert log[0] == "line 50"


EVENTS = st.one_of(
    st.builds(lambda i: ev.PointCached(i, "/c"), st.integers(0, 7)),
    st.builds(lambda i: ev.PointStarted(i, "/d", ""), st.integers(0, 7)),
    st.builds(lambda i: ev.PointFinished(i, "/o", 1.0, ""), st.integers(0, 7)),
    st.builds(lambda i: ev.PointFailed(i, 1, (), "boom"), st.integers(0, 7)),
    st.builds(lambda i: ev.PointLog(i, "x"), st.integers(0, 9)),
    st.just("queue all"), st.just("queue failed"), st.just("end"), st.just("cancel"),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(EVENTS, max_size=40))
def test_the_counts_always_equal_a_recount(steps):
    rows = rows_of(8)
    for step in steps:
        if step == "queue all":
            rows.mark_queued(None)
        elif step == "queue failed":
            rows.mark_queued(rows.failed_indices())
        elif step in ("end", "cancel"):
            rows.finish(cancelled=step == "cancel")
        else:
            rows.apply(step)
        recount = Counter(r.status for r in rows.rows)
        assert rows.counts() == {s: recount.get(s, 0) for s in Status}
        assert rows.failed_indices() == [r.index for r in rows.rows if r.status == Status.FAILED]


def test_nodes_of_a_pinned_pinned_tube_are_those_of_sin_k_pi_x():
    # mode k is sin(k pi x): a node at x = j/k. At mid-span the even modes, at a third the
    # modes 3 and 6, at 0.3 none of the first six (k * 0.3 is never whole for k < 10)
    assert modes_at_nodes("pinned-pinned", 0.5, 0.3, 6) == (2, 4, 6)
    assert modes_at_nodes("pinned-pinned", 1 / 3, 0.3, 6) == (3, 6)
    assert modes_at_nodes("pinned-pinned", 0.3, 0.3, 6) == ()


def test_mid_span_hides_the_antisymmetric_modes_of_a_clamped_tube():
    # a symmetric beam's even-numbered modes are antisymmetric: zero at mid-span
    assert modes_at_nodes("clamped-clamped", 0.5, 0.5, 6) == (2, 4, 6)
    assert modes_at_nodes("clamped-clamped", 0.5, 0.27, 3) == (2,)
    assert modes_at_nodes("no-such-support", 0.5, 0.5, 6) == ()


def test_every_point_of_a_sweep_gets_its_own_nodes():
    sweep = loads_sweep(textwrap.dedent("""\
        [fixed]
        pipe.boundary = "pinned-pinned"
        analysis.modes = 4
        analysis.response_position = 0.3
        [variable]
        "analysis.excitation_position" = [0.5, 0.3]
        "fluid.density" = [900.0, 1000.0]
        """))
    found = point_node_modes(sweep)
    assert found is not None and [modes for modes, _ in found] == [(2, 4), (2, 4), (), ()]
    assert "mode 2 has a node at the drive" in found[0][1]
    custom = loads_sweep('[model]\nexecutable = "model.py"\n')
    assert point_node_modes(custom) is None  # its positions mean nothing to us
