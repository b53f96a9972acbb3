"""Scale: a 1,000,000-point sweep (1000 x 1000 linspaces) loaded, and plans of 10,000 and
100,000 points, each in a fresh process with its wall time and peak memory.

    .venv/bin/python benchmarks/bench_scale.py [--plan 10000,100000] [--json]

Peak memory is the largest resident set of the process or of any process it waited for
(``nix-instantiate`` evaluating the store paths counts: ``getrusage`` of self and children).
Above ``sweepgui.sweep.MAX_POINTS`` a sweep is refused when it loads (planning it would not fit
30 s and 2 GB): the million-point figure is then the time to that refusal, and ``refused``
holds its message.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("NIX_CONFIG", "substituters =")

CHILD = textwrap.dedent("""
    import json, resource, sys, time
    sys.path.insert(0, {root!r})
    t0 = time.perf_counter()
    from sweepgui.sweep import SweepError, load_sweep
    t1 = time.perf_counter()
    out = {{"refused": None}}
    try:
        sweep = load_sweep({path!r})
        points = sweep.points()
        out["points"] = len(points)
        last = points[-1]  # built when read: touch one
        t2 = time.perf_counter()
        if {plan!r}:
            from sweepgui.nix import Engine
            plan = Engine(state_dir={state!r}).plan(sweep)
            out["cached"] = plan.cached
    except SweepError as exc:
        out["refused"] = str(exc)
        t2 = time.perf_counter()
    t3 = time.perf_counter()
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    out.update(import_s=t1 - t0, load_s=t2 - t1, plan_s=t3 - t2, total_s=t3 - t0,
               peak_gb=peak * 1024 / 1e9)
    print(json.dumps(out))
""")


def _sweep(folder: Path, n_a: int, n_b: int) -> Path:
    path = folder / f"scale-{n_a}x{n_b}.toml"
    path.write_text("[variable]\n"
                    f'"fluid.density" = {{ linspace = [900.0, 1100.0, {n_a}] }}\n'
                    f'"state.temperature" = {{ linspace = [280.0, 360.0, {n_b}] }}\n')
    return path


def run_child(path: Path, plan: bool, state: Path, timeout: float = 900) -> dict:
    code = CHILD.format(root=str(ROOT), path=str(path), plan=plan, state=str(state))
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(p.stderr[-2000:])
    return json.loads(p.stdout.strip().splitlines()[-1])


def measure(plans: tuple[int, ...] = (10_000, 100_000)) -> dict:
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        folder = Path(tmp)
        out["load_1e6"] = run_child(_sweep(folder, 1000, 1000), False, folder / "state-1e6")
        for n in plans:
            # a fresh state folder each: no plan cache, every path evaluated
            out[f"plan_{n}"] = run_child(_sweep(folder, 100, n // 100), True, folder / f"state-{n}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plan", default="10000,100000", help="point counts to plan (comma-separated)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res = measure(tuple(int(x) for x in args.plan.split(",") if x))
    if args.json:
        print(json.dumps(res))
        return
    for k, r in res.items():
        what = f"refused: {r['refused']}" if r.get("refused") else f"{r.get('points')} points"
        print(f"{k:12s} load {r['load_s']:6.2f} s  plan {r['plan_s']:6.2f} s  "
              f"peak {r['peak_gb']:.2f} GB  ({what})")


if __name__ == "__main__":
    main()
