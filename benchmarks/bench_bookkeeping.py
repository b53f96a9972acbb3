"""GUI-thread cost of run bookkeeping and of checking a big sweep while typing.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_bookkeeping.py [--points 10000]

1. Per engine event: the real ``RunPanel`` shows a sweep of ``--points`` points (its table,
   counts, progress bar and buttons) and is handed the events of a run one batch at a time,
   as a run of slow points delivers them (one to three events per batch: started, a log line,
   finished, progress). Printed: GUI-thread milliseconds per event, for 1,000 and for
   ``--points`` points: work that is O(1) per event costs the same for both.
2. Per pause in typing: the forms over a sweep of two 4,000-value linspaces (16 M points, over
   the limit, as when a user types a big count); printed: GUI-thread milliseconds from an
   edit until the forms know whether the sweep is valid (work moved to a thread not counted).

Not a timed test: run it by hand; the figures go into benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtWidgets import QApplication

from sweepgui.nix import events as ev
from sweepgui.sweep import loads_sweep


def sweep_of(points: int):
    a = max(1, int(round(points ** 0.5)))
    b = max(1, points // a)
    return loads_sweep(f"""
[variable]
"fluid.density" = {{ linspace = [500.0, 1500.0, {a}] }}
"state.temperature" = {{ linspace = [280.0, 360.0, {b}] }}
""")


def per_event_ms(app, points: int, events: int = 600) -> float:
    from sweepgui.results import SweepLayout
    from sweepgui.ui.run.panel import RunPanel

    panel = RunPanel(engine_factory=lambda s: None)
    panel.resize(1400, 850)
    panel.show()
    sweep = sweep_of(points)
    n = sweep.size
    panel._sweep = sweep
    panel._set_layout(sweep, SweepLayout.from_sweep(sweep))
    panel.rows.mark_queued(None)
    panel.table_model.rows_changed(range(n))
    app.processEvents()
    # batches as a run of slow points delivers them: 1-3 events each
    batches = []
    for k in range(events // 3):
        i = (k * 7919) % n
        batches += [[ev.PointStarted(i, f"/d/{i}.drv", "")], [ev.PointLog(i, "computing")],
                    [ev.PointFinished(i, f"/s/{i}", 0.5, ""),
                     ev.Progress(0, k + 1, 1, 0, n - k - 2, 10.0)]]
    count = sum(len(b) for b in batches)
    t0 = time.perf_counter()
    for b in batches:
        panel._on_events(b)
    dt = time.perf_counter() - t0
    app.processEvents()  # the repaints the batches asked for
    panel.close()
    panel.deleteLater()
    app.processEvents()
    return dt / count * 1000.0


def typing_ms(app, repeats: int = 5) -> list[float]:
    from sweepgui.ui.forms.parameters import ParameterForms
    from sweepgui.ui.forms.sweep_model import SweepModel

    model = SweepModel()
    model.set_variable("fluid.density", {"linspace": [500.0, 1500.0, 4000]})
    model.set_variable("state.temperature", {"linspace": [280.0, 360.0, 4000]})
    forms = ParameterForms(model)
    forms.show()
    app.processEvents()
    times = []
    for r in range(repeats):
        t0 = time.perf_counter()
        model.set_variable("state.temperature", {"linspace": [280.0, 360.0 + r, 4000]})
        forms._timer.stop()
        forms._validate_soon()  # what the pause in typing triggers, on the GUI thread
        times.append((time.perf_counter() - t0) * 1000.0)
        # let the check finish (off the GUI thread, if it runs there) before the next edit
        deadline = time.monotonic() + 30
        while forms.reason.startswith("Checking") or "Checking" in forms.reason_label.text():
            app.processEvents()
            time.sleep(0.005)
            if time.monotonic() > deadline:
                break
        app.processEvents()
    forms.shutdown()
    forms.close()
    forms.deleteLater()
    app.processEvents()
    return times


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=10_000)
    args = ap.parse_args(argv)
    app = QApplication.instance() or QApplication([])
    small = per_event_ms(app, 1000)
    big = per_event_ms(app, args.points)
    print(f"run bookkeeping, GUI thread per engine event: {small:.3f} ms at 1,000 points, "
          f"{big:.3f} ms at {args.points:,} points (ratio {big / small:.1f})")
    t = typing_ms(app)
    print(f"forms, GUI thread per pause in typing (2 x 4,000-value linspaces): median "
          f"{statistics.median(t):.1f} ms, max {max(t):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
