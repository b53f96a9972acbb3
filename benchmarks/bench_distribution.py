"""Distribution efficiency: 60 points of a model that sleeps 1 s, over 2 builder hosts x 2 slots
plus 2 local slots (real sshd hosts on loopback with their own Nix stores, as in the tests).

    sudo .venv/bin/python benchmarks/bench_distribution.py [--json]

Ideal: 60 points / 6 slots x 1 s = 10 s. Efficiency = ideal / measured wall time of
``Engine().run`` (plan, builds, copies back, events), after a short warm-up run that copies the
interpreter's closure to the hosts (a one-time cost of a new builder). Target >= 85 % (issue 13,
goal 7). The hosts need root (sshd, chroot stores): otherwise the figure is None with the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NIX_CONFIG", "substituters =")

SLEEPY = """\
import json, sys, time
p = json.load(open(sys.argv[1], encoding="utf-8"))
time.sleep(1.0)
with open(sys.argv[2], "w", encoding="utf-8") as fh:
    json.dump({"density": p["fluid"]["density"], "length": p["pipe"]["length"]}, fh)
"""
POINTS, HOSTS, HOST_SLOTS, LOCAL_SLOTS, SECONDS = 60, 2, 2, 2, 1.0


def why_not() -> str | None:
    if os.geteuid() != 0:
        return "needs root (sshd builder hosts with chroot stores, as the integration tests)"
    from tests.integration.builders import missing_tools

    return missing_tools()


def _sweep(folder: Path, n: int) -> Path:
    length = round(0.5 + (uuid.uuid4().int % 10**6) * 1e-9, 12)  # new to every store
    densities = ", ".join(repr(900.0 + i) for i in range(n))
    path = folder / f"sleepy-{n}.toml"
    path.write_text(f"[fixed]\npipe.length = {length!r}\n[variable]\n\"fluid.density\" = [{densities}]\n"
                    "[model]\nexecutable = \"sleepy.py\"\n")
    return path


def _run(path: Path, machines: Path) -> tuple[float, dict]:
    from sweepgui.nix import Engine
    from sweepgui.nix.events import PointFailed, PointFinished, RunFinished
    from sweepgui.sweep import load_sweep

    where: dict[str, int] = {}
    failed, done = 0, None
    t0 = time.perf_counter()
    for ev in Engine(state_dir=path.parent / f"state-{path.stem}").run(
            load_sweep(path), jobs=LOCAL_SLOTS, machines=machines):
        if isinstance(ev, PointFinished):
            where[ev.machine or "local"] = where.get(ev.machine or "local", 0) + 1
        failed += isinstance(ev, PointFailed)
        done = ev if isinstance(ev, RunFinished) else done
    wall = time.perf_counter() - t0
    if failed or done is None:
        raise RuntimeError(f"{failed} points failed ({done})")
    return wall, where


def measure() -> dict:
    why = why_not()
    if why:
        return {"efficiency": None, "why": why}
    from tests.integration.builders import BuilderHosts

    hosts = BuilderHosts()
    try:
        hosts.start(HOSTS)
        machines = hosts.machines_file(jobs=HOST_SLOTS)
        with tempfile.TemporaryDirectory(prefix="bench-dist-") as tmp:
            folder = Path(tmp)
            (folder / "sleepy.py").write_text(SLEEPY)
            warm_s, _ = _run(_sweep(folder, 2 * (HOSTS * HOST_SLOTS + LOCAL_SLOTS)), machines)
            wall, where = _run(_sweep(folder, POINTS), machines)
    finally:
        hosts.close()
    slots = HOSTS * HOST_SLOTS + LOCAL_SLOTS
    ideal = POINTS / slots * SECONDS
    return {"points": POINTS, "slots": slots, "ideal_s": ideal, "wall_s": round(wall, 3),
            "efficiency": round(ideal / wall, 3), "per_machine": where,
            "warm_up_s": round(warm_s, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res = measure()
    if args.json:
        print(json.dumps(res))
    elif res["efficiency"] is None:
        print(f"skipped: {res['why']}")
    else:
        print(f"{POINTS} points x {SECONDS:g} s on {res['slots']} slots: {res['wall_s']:.1f} s "
              f"(ideal {res['ideal_s']:.0f} s): efficiency {100 * res['efficiency']:.0f} % "
              f"(target >= 85 %); per machine {res['per_machine']}")


if __name__ == "__main__":
    main()
