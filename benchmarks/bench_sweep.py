"""Sweep throughput, side by side: Nix builds vs the in-process limit vs joblib.

    .venv/bin/python benchmarks/bench_sweep.py [--points 128] [--jobs 2] [--plan 10000] [--json]

Every variant computes the same points of the built-in model (densities given, so no
equation of state), cold: the densities carry a random offset, so no point is in the
Nix store yet. Variants:

- in-process limit: one worker process per job, each imports the model once and loops
  over its share of the points (``multiprocessing.Pool``);
- process per point: ``python -m sweepgui.model`` for each point, ``jobs`` at a time
  (the start-up cost every Nix build pays as well);
- joblib ``Parallel(n_jobs=jobs)`` (if joblib is installed);
- nix sweep: ``Engine.run`` (plan, one nix-build, events, GC roots, manifest) with the
  engine's default settings (``Engine()``: no batch argument), and with ``--batch`` points
  per derivation.

``measure()`` returns the figures as a dict (``benchmarks/run.py`` prints them with the rest).

Orchestration per point = (nix wall - in-process wall) x jobs / points: what Nix, the
builders and the engine add beyond computing the point. ``--plan N`` also times planning an N-point
sweep (sweep -> points -> one evaluation -> one validity query), which builds nothing.

Measured 2026-11-25 (2 cores shared with other work, Nix 2.8.0, host Python 3.11, root,
built-in model 1.0.0 at ~5 ms of CPU per point, 256 points, best of 2):

    in-process limit (pool, 1 process/job)     0.70 s   1.00 x
    joblib Parallel(n_jobs=2)                  1.30 s   1.86 x
    nix sweep, one derivation per point        9.44 s  13.5 x   (36.9 ms/point)
    nix sweep, batches of 32                   2.87 s   4.1 x   (11.2 ms/point)
    nix sweep, warm (all cached)               0.04 s
    process per point                         24.6 s   35 x
    plan of 10,000 points: 1.27 s (0.3 s re-opened, plan cache); 256 trivial Nix builds
    alone take ~2.5 s here, and the model's CLI spends ~5 ms per point writing its JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("NIX_CONFIG", "substituters =")
# one BLAS thread per process in every variant, as in the Nix builds (and joblib's workers):
# otherwise `jobs` processes x several threads each fight over the cores
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"


def sweep_text(densities: list[float], temperatures: list[float] | None = None) -> str:
    lines = ["[fixed]", 'fluid.name = "Water"', "[variable]",
             f'"fluid.density" = [{", ".join(repr(d) for d in densities)}]']
    if temperatures:
        lines.append(f'"state.temperature" = [{", ".join(repr(t) for t in temperatures)}]')
    return "\n".join(lines) + "\n"


def _chunk(params_list):
    from sweepgui.model import run_point

    return [run_point(p) for p in params_list]


def in_process(points: list[dict], jobs: int) -> float:
    t0 = time.perf_counter()
    chunks = [points[i::jobs] for i in range(jobs)]
    with Pool(jobs) as pool:
        pool.map(_chunk, chunks)
    return time.perf_counter() - t0


def process_per_point(points: list[dict], jobs: int, folder: Path) -> float:
    files = []
    for i, p in enumerate(points):
        f = folder / f"p{i}.json"
        f.write_text(json.dumps(p))
        files.append((f, folder / f"r{i}.json"))

    def one(pair):
        subprocess.run([sys.executable, "-m", "sweepgui.model", str(pair[0]), str(pair[1])],
                       check=True, env=dict(os.environ, OMP_NUM_THREADS="1",
                                            OPENBLAS_NUM_THREADS="1"))

    t0 = time.perf_counter()
    with ThreadPoolExecutor(jobs) as ex:
        list(ex.map(one, files))
    return time.perf_counter() - t0


def with_joblib(points: list[dict], jobs: int) -> float | None:
    try:
        from joblib import Parallel, delayed
    except ImportError:
        return None
    from joblib.externals.loky import get_reusable_executor

    from sweepgui.model import run_point

    # fresh workers every round, as for the other variants (loky reuses them otherwise)
    get_reusable_executor().shutdown(wait=True)
    t0 = time.perf_counter()
    Parallel(n_jobs=jobs)(delayed(run_point)(p) for p in points)
    return time.perf_counter() - t0


def nix_sweep(sweep_file: Path, jobs: int, batch: int | None = None,
              state: str = "state") -> tuple[float, dict]:
    from sweepgui.nix import Engine
    from sweepgui.nix.events import RunFinished
    from sweepgui.sweep import load_sweep

    t0 = time.perf_counter()
    engine = Engine(state_dir=sweep_file.parent / state, batch=batch)
    finished = None
    for ev in engine.run(load_sweep(sweep_file), jobs=jobs):
        if isinstance(ev, RunFinished):
            finished = ev
    wall = time.perf_counter() - t0
    return wall, {"built": finished.built, "cached": finished.cached, "failed": finished.failed}


def plan_time(n: int, folder: Path) -> dict:
    from sweepgui.nix import Engine
    from sweepgui.nix.compat import detect_nix
    from sweepgui.sweep import load_sweep

    detect_nix()
    side = int(round(n ** 0.5))
    dens = [900.0 + 0.01 * i + random.random() * 1e-6 for i in range(side)]
    temps = [280.0 + 0.5 * i for i in range(n // side)]
    f = folder / "big.toml"
    f.write_text(sweep_text(dens, temps))
    t0 = time.perf_counter()
    sweep = load_sweep(f)
    points = sweep.points()
    t1 = time.perf_counter()
    plan = Engine(state_dir=folder / "bigstate").plan(sweep)
    t2 = time.perf_counter()
    return {"points": len(points), "load_and_validate_s": round(t1 - t0, 3),
            "plan_s": round(t2 - t1, 3), "total_s": round(t2 - t0, 3), "cached": plan.cached}


def measure(points: int = 256, jobs: int | None = None, repeat: int = 1, batch: int | None = None,
            plan: int = 0, warm: bool = True) -> dict:
    """The cold-sweep figures of run.py, side by side in one run (best of ``repeat`` rounds).

    ``nix`` is ``Engine()`` with its default settings (no batch argument); ``batch`` adds a
    variant with that many points per derivation. Keys: ``in_process_s``, ``joblib_s`` (None
    without joblib), ``nix_default_s``, ``nix_warm_s``, ``cold_ratio_default`` (nix / in-process),
    ``cold_ratio_joblib`` (nix / joblib), ``orchestration_ms_per_point``.
    """
    from sweepgui.sweep import load_sweep

    jobs = jobs or os.cpu_count() or 2
    best: dict[str, float] = {}
    counts: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        folder = Path(tmp)
        for r in range(repeat):
            offset = random.random()
            densities = [800.0 + offset + i * 400.0 / points for i in range(points)]
            sweep_file = folder / f"round{r}" / "bench.toml"
            sweep_file.parent.mkdir()
            sweep_file.write_text(sweep_text(densities))
            pts = [p.model_dump(mode="json") for p in load_sweep(sweep_file).points()]
            rows = {"in_process_s": in_process(pts, jobs)}
            jl = with_joblib(pts, jobs)
            if jl is not None:
                rows["joblib_s"] = jl
            rows["nix_default_s"], counts = nix_sweep(sweep_file, jobs)
            if warm:
                rows["nix_warm_s"], _ = nix_sweep(sweep_file, jobs)
            if batch:
                rows[f"nix_batch_{batch}_s"], _ = nix_sweep(sweep_file, jobs, batch, "state-batched")
            for k, v in rows.items():
                best[k] = min(best.get(k, v), v)
        plan_figures = plan_time(plan, folder) if plan else None
    limit = best["in_process_s"]
    nix = best["nix_default_s"]
    out: dict = {k: round(v, 3) for k, v in best.items()}
    out.update(points=points, jobs=jobs, repeat=repeat, last_cold=counts,
               joblib_s=out.get("joblib_s"),
               cold_ratio_default=round(nix / limit, 3),
               cold_ratio_joblib=round(nix / best["joblib_s"], 3) if "joblib_s" in best else None,
               orchestration_ms_per_point=round(1000 * (nix - limit) * jobs / points, 2))
    if plan_figures:
        out["plan"] = plan_figures
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=128)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--batch", type=int, default=32, help="points per build, batched variant (0: none)")
    ap.add_argument("--repeat", type=int, default=2,
                    help="rounds (fresh points each); the best time of each variant counts")
    ap.add_argument("--plan", type=int, default=10000, help="points of the plan timing (0: skip)")
    ap.add_argument("--per-process", action="store_true",
                    help="also estimate a process per point (24 points)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    res = measure(args.points, args.jobs, args.repeat, args.batch or None, args.plan)
    if args.per_process:
        from sweepgui.sweep import load_sweep

        with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
            f = Path(tmp) / "s.toml"
            f.write_text(sweep_text([800.0 + random.random() + i for i in range(24)]))
            pts = [p.model_dump(mode="json") for p in load_sweep(f).points()]
            res["process_per_point_s"] = round(process_per_point(pts, args.jobs, Path(tmp)) / 24
                                               * args.points, 3)
    if args.json:
        print(json.dumps(res))
        return
    limit = res["in_process_s"]
    print(f"{args.points} points, {res['jobs']} jobs, best of {args.repeat}; last cold: {res['last_cold']}")
    for name, wall in res.items():
        if name.endswith("_s") and isinstance(wall, float):
            print(f"  {name:24s} {wall:8.2f} s   {wall / limit:5.2f} x limit   "
                  f"{1000 * wall / args.points:7.1f} ms/point")
    print(f"  cold, default settings: {res['cold_ratio_default']:.2f} x the in-process limit, "
          f"{res['cold_ratio_joblib']} x joblib")
    print(f"  orchestration beyond computing the point (nix - limit) x jobs / points: "
          f"{res['orchestration_ms_per_point']:.1f} ms/point")
    if res.get("plan"):
        print(f"  plan of {res['plan']['points']} points: {res['plan']}")


if __name__ == "__main__":
    main()
