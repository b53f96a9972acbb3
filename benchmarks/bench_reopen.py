"""Re-opening a finished 10,000-point sweep, side by side with joblib.Memory re-loading the same
results.

    .venv/bin/python benchmarks/bench_reopen.py [--points 10000] [--json]

The sweep (100 x 100 densities and temperatures, ``reopen_model.py``: a fast custom model whose
results are shaped like the built-in model's, 4,001-sample spectra, ~200 KB each) is built once
through the real engine and kept, with its GC roots, in ``~/.cache/sweepgui-bench/`` (the first
run takes a few minutes; later runs find every point cached). Then, each in a fresh process:

- ``before``: what re-opening cost before the per-sweep columns: the plan, then every cached
  point's ``result.json`` parsed (``read_result``: the GUI's per-point loader);
- ``first``: the plan, then ``load_dataset`` (table) and ``load_summary`` (plot data), which
  read the store once and write ``results.npz`` / ``spectra.npz`` into the state folder;
- ``reopen``: the same again: plan, table, and every plot's data (frequencies, log10 magnitude
  of every spectrum), now from the columns;
- ``draw``: as the app re-opens (if its ui loads): plan, table, ``load_point_results`` for the
  cached points, and the real ``PlotPanel`` (spectra, f_n, map) drawn offscreen. This is the
  ``reopen_s`` figure when it runs (else ``reopen``'s);
- ``joblib``: ``joblib.Memory`` returning the same 10,000 results (full dicts) from its cache
  (filled once beforehand): what a joblib user pays to get the results back.

Imports are not timed (the app has them loaded when a sweep is opened). Prints one JSON object
with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NIX_CONFIG", "substituters =")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sweepgui-bench"
MODEL = Path(__file__).with_name("reopen_model.py")


def sweep_folder(points: int) -> Path:
    side = int(round(points ** 0.5))
    folder = CACHE / f"reopen-{side * side}"
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "model.py").is_file() or (folder / "model.py").read_bytes() != MODEL.read_bytes():
        shutil.copy(MODEL, folder / "model.py")
    (folder / "sweep.toml").write_text(
        "[variable]\n"
        f'"fluid.density" = {{ linspace = [800.0, 1200.0, {side}] }}\n'
        f'"state.temperature" = {{ linspace = [280.0, 360.0, {side}] }}\n'
        "[model]\nexecutable = \"model.py\"\n"
        # computed in groups once (a custom model is one build per point by default, ~1 s each
        # here): each point keeps its own identity, so the plan finds every one cached
        "[run]\nbatch = 250\n")
    return folder / "sweep.toml"


def ensure_built(sweep_file: Path, log=print) -> dict:
    """Build whatever the store lacks (once: the results stay rooted in the state folder)."""
    from sweepgui.nix import Engine
    from sweepgui.nix.events import PointFailed, RunFinished
    from sweepgui.sweep import load_sweep

    sweep = load_sweep(sweep_file)
    engine = Engine()
    plan = engine.plan(sweep)
    if plan.cached == len(plan.points):
        return {"built_now": 0, "seconds": 0.0}
    log(f"building {len(plan.points) - plan.cached} points of {sweep_file} once "
        "(kept in the store with GC roots; later runs find them cached)")
    t0 = time.perf_counter()
    failed = 0
    finished = None
    for ev in engine.run(sweep, jobs=os.cpu_count() or 2):
        if isinstance(ev, PointFailed):
            failed += 1
        if isinstance(ev, RunFinished):
            finished = ev
    if finished is None or failed:
        raise RuntimeError(f"building the re-open sweep failed ({failed} points failed)")
    return {"built_now": finished.built, "seconds": round(time.perf_counter() - t0, 1)}


# -- the measured stages (each runs in a fresh process: see _child) ------------------------

def _plan(sweep_file: Path):
    from sweepgui.nix import Engine
    from sweepgui.sweep import load_sweep

    sweep = load_sweep(sweep_file)
    engine = Engine()
    return engine.plan(sweep), engine.state_dir(sweep)


def stage_before(sweep_file: Path) -> dict:
    from sweepgui.nix.store import read_result

    t0 = time.perf_counter()
    plan, _ = _plan(sweep_file)
    t1 = time.perf_counter()
    for p in plan.points:
        if p.cached:
            read_result(p.out_path)
    t2 = time.perf_counter()
    return {"plan_s": t1 - t0, "results_s": t2 - t1, "total_s": t2 - t0}


def _open(sweep_file: Path) -> dict:
    from sweepgui.results import load_dataset, load_summary, read_manifest

    t0 = time.perf_counter()
    plan, state = _plan(sweep_file)
    t1 = time.perf_counter()
    manifest = read_manifest(state)
    ds = load_dataset(manifest, with_spectra=False, state_dir=state)  # the table, sensitivities
    t2 = time.perf_counter()
    table = load_summary(state, manifest, spectra=True)   # every plot's data
    logm = table.log_magnitude()
    grids = [table.frequency(i) for i in range(min(len(table), 1))]
    t3 = time.perf_counter()
    assert int((ds.status.values == "built").sum() + (ds.status.values == "cached").sum()) == len(plan.points)
    assert logm.shape[0] == len(plan.points) and grids and table.ok.all()
    return {"plan_s": t1 - t0, "table_s": t2 - t1, "plots_s": t3 - t2, "total_s": t3 - t0,
            "spectra": int(logm.shape[0]), "samples": int(logm.shape[1])}


def stage_draw(sweep_file: Path) -> dict:
    """The re-open as the app does it, drawn: plan, table, the cached points' plot data in one
    call (``load_point_results``) and the real plot panel (spectra, f_n, map) offscreen."""
    from PySide6.QtWidgets import QApplication

    from sweepgui.results import SweepLayout, load_dataset, load_point_results, read_manifest
    from sweepgui.sweep import load_sweep

    try:  # the panel's module moved while the ui was split into packages
        from sweepgui.ui.plots.panel import PlotPanel
    except ImportError:
        from sweepgui.ui.plots import PlotPanel  # type: ignore[attr-defined,no-redef]

    app = QApplication.instance() or QApplication([])
    panel = PlotPanel()
    panel.resize(1400, 850)
    panel.show()
    app.processEvents()
    t0 = time.perf_counter()
    plan, state = _plan(sweep_file)
    layout = SweepLayout.from_sweep(load_sweep(sweep_file))
    t1 = time.perf_counter()
    load_dataset(read_manifest(state), with_spectra=False, state_dir=state)
    t2 = time.perf_counter()
    loaded = load_point_results([(p.index, p.out_path) for p in plan.points if p.cached], state)
    results = [r for _, r, _ in loaded if r is not None]
    t3 = time.perf_counter()
    panel.set_layout(layout)
    panel.add_results(results)
    panel.flush()
    app.processEvents()
    panel.grab()  # paint every visible plot now
    t4 = time.perf_counter()
    assert len(results) == len(plan.points)
    panel.close()
    return {"plan_s": t1 - t0, "table_s": t2 - t1, "plots_s": t3 - t2, "draw_s": t4 - t3,
            "total_s": t4 - t0}


def stage_first(sweep_file: Path) -> dict:
    from sweepgui.nix import Engine
    from sweepgui.sweep import load_sweep

    state = Engine().state_dir(load_sweep(sweep_file))
    for name in ("results.npz", "spectra.npz"):
        (state / name).unlink(missing_ok=True)
    return _open(sweep_file)


def stage_reopen(sweep_file: Path) -> dict:
    return _open(sweep_file)


def _joblib_memory(folder: Path):
    from joblib import Memory

    from sweepgui.nix.store import read_result

    memory = Memory(str(folder), verbose=0)

    def point_result(parameters_json: str, out: str) -> dict:
        # what a joblib user caches: the point's whole result, keyed by its parameters
        return read_result(out)

    return memory.cache(point_result, ignore=["out"])


def stage_joblib(sweep_file: Path) -> dict:
    plan, _ = _plan(sweep_file)
    cached = _joblib_memory(sweep_file.parent / "joblib")
    work = [(p.parameters_json, p.out_path) for p in plan.points]
    if not (sweep_file.parent / "joblib" / "filled").is_file():
        for params, out in work:  # fill the cache once (not timed)
            cached(params, out)
        (sweep_file.parent / "joblib" / "filled").write_text("")
    t0 = time.perf_counter()
    got = [cached(params, "") for params, _ in work]  # served from the cache, never computed
    t1 = time.perf_counter()
    assert all(len(r["spectrum"]["magnitude"]) > 1000 for r in got)
    return {"load_s": t1 - t0}


STAGES = {"before": stage_before, "first": stage_first, "reopen": stage_reopen,
          "draw": stage_draw, "joblib": stage_joblib}


def _child(stage: str, sweep_file: Path) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    p = subprocess.run([sys.executable, __file__, "--stage", stage, "--sweep", str(sweep_file)],
                       capture_output=True, text=True, timeout=3600, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"stage {stage} failed: {p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def _columns_written(sweep_file: Path) -> bool:
    from sweepgui.nix import Engine
    from sweepgui.sweep import load_sweep

    state = Engine().state_dir(load_sweep(sweep_file))
    return all((state / name).is_file() for name in ("results.npz", "spectra.npz"))


def measure(points: int = 10_000, before: bool = True, first: bool = True, log=print) -> dict:
    """The figures of run.py: reopen_10k_s and reopen_ratio_joblib_memory, with details.

    ``before``: also time the per-file baseline; ``first``: also time writing the columns
    (they are written anyway when missing, so that ``reopen`` finds them)."""
    sweep_file = sweep_folder(points)
    build = ensure_built(sweep_file, log)
    out: dict = {"points": points, "build": build}
    if before:
        out["before"] = _child("before", sweep_file)
    if first or not _columns_written(sweep_file):
        out["first"] = _child("first", sweep_file)
    out["reopen"] = _child("reopen", sweep_file)
    try:  # the GUI's own plot panel: figures with every plot drawn, when the ui can be loaded
        out["draw"] = _child("draw", sweep_file)
    except RuntimeError as exc:
        out["draw"] = {"error": str(exc)[-500:]}
    out["joblib"] = _child("joblib", sweep_file)
    best = out["draw"] if "total_s" in out["draw"] else out["reopen"]
    out["reopen_s"] = round(best["total_s"], 3)
    out["reopen_drawn"] = best is out["draw"]
    out["ratio_joblib_memory"] = round(best["total_s"] / out["joblib"]["load_s"], 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-before", action="store_true", help="skip the per-file baseline (~30 s)")
    ap.add_argument("--no-first", action="store_true",
                    help="skip timing the columns' first writing (~30 s) when they exist")
    ap.add_argument("--stage", choices=tuple(STAGES), help=argparse.SUPPRESS)
    ap.add_argument("--sweep", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage:
        import sweepgui.results  # noqa: F401  (imports are not part of re-opening)
        from sweepgui.nix import Engine  # noqa: F401

        print(json.dumps(STAGES[args.stage](Path(args.sweep))))
        return
    res = measure(args.points, before=not args.no_before, first=not args.no_first,
                  log=lambda m: print(m, file=sys.stderr))
    if args.json:
        print(json.dumps(res))
        return
    for k in ("before", "first", "reopen", "draw"):
        if k in res and "total_s" in res[k]:
            r = res[k]
            print(f"{k:8s} total {r['total_s']:6.2f} s  " + "  ".join(
                f"{n} {v:.2f}" for n, v in r.items() if n.endswith("_s") and n != "total_s"))
    print(f"joblib.Memory re-load of the same results: {res['joblib']['load_s']:.2f} s")
    print(f"re-open {res['reopen_s']:.2f} s (target <= 3 s); ratio to joblib.Memory "
          f"{res['ratio_joblib_memory']:.2f} (target < 1)")


if __name__ == "__main__":
    main()
