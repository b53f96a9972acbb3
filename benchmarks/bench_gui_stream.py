"""GUI stalls while many points stream in: ``bench_gui.py``'s measurement (the real ``RunPanel``
offscreen, a 2 ms heartbeat on the GUI thread) with 10,000 points arriving at 100 per second.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gui_stream.py [--points 10000] [--json]

``bench_gui.py`` streams into a 2,000-point grid; this runs its ``run_once`` on a 100 x 100 grid
so that every one of the points has a row and a spectrum (4,000 samples each). Target: p99 of
the stalls <= 30 ms (issue 13, goal 8).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_gui  # after the Qt platform is chosen


def measure(points: int = 10_000, rate: float = 100.0, prefill: int = 0) -> dict:
    from PySide6.QtWidgets import QApplication

    side = max(2, math.ceil(math.sqrt(points)))
    bench_gui.SWEEP = ("[variable]\n"
                       f'"fluid.density" = {{ linspace = [500.0, 1500.0, {side}] }}\n'
                       f'"state.temperature" = {{ linspace = [280.0, 360.0, {side}] }}\n')
    app = QApplication.instance() or QApplication([])
    from sweepgui.ui.gc_guard import MainThreadGarbageCollector

    MainThreadGarbageCollector(app)  # as the app runs: its collections count as stalls too
    res = bench_gui.run_once(app, False, prefill, (points - prefill) / rate, rate)
    return {"points": points, "rate": rate, "prefill": prefill,
            **{k: round(v, 2) if isinstance(v, float) else v for k, v in res.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--prefill", type=int, default=0, help="points shown as cached before streaming")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res = measure(args.points, args.rate, args.prefill)
    if args.json:
        print(json.dumps(res))
    else:
        print(f"{res['curves']} curves, {args.rate:g} points/s: p50 {res['median']} ms, "
              f"p99 {res['p99']} ms, max {res['max']} ms (target p99 <= 30 ms)")


if __name__ == "__main__":
    main()
