"""All the benchmarks of issue 13, side by side in one run: prints ONE JSON object.

    .venv/bin/python benchmarks/run.py [--quick] [--json] [--only PART,...]

Each part runs in its own process (its memory, its Qt, its failures stay its own) and reports
JSON; a part that cannot run leaves its keys null with the reason under ``why``. Keys:

- ``cold_ratio_default``, ``cold_ratio_joblib``, ``orchestration_ms_per_point``: a cold
  256-point sweep of the built-in model with the engine's default settings (``Engine()``),
  against the in-process limit and joblib (``bench_sweep.py``);
- ``reopen_10k_s``, ``reopen_ratio_joblib_memory``: re-opening a finished 10,000-point sweep
  (plan, table, every plot's data) and its ratio to joblib.Memory re-loading the same results
  (``bench_reopen.py``; the sweep is built once and kept in ~/.cache/sweepgui-bench);
- ``model_2000_elements_ms``: one solve of the built-in model with 2,000 elements in a warm
  process (``bench_model.py``);
- ``eos_sweep_ratio``: a 64-point pressure-temperature sweep with CoolProp densities over the
  same sweep with densities given (``bench_eos.py``);
- ``load_1e6_s``, ``load_1e6_peak_gb``: a 1,000 x 1,000 sweep loaded (or refused: see
  ``load_1e6_refused``), in a fresh process; ``plan_10k_s``, ``plan_100k_s``,
  ``plan_100k_peak_gb``: plans of that size (``bench_scale.py``);
- ``distribution_efficiency``: 60 one-second points over 2 sshd builder hosts x 2 slots + 2
  local slots, ideal / measured (``bench_distribution.py``, needs root);
- ``gui_p99_ms``: the GUI's p99 event-loop stall while 10,000 points arrive at 100 per second
  (``bench_gui_stream.py``, offscreen).

``--quick`` (under 10 minutes here, once the re-open sweep is built) uses one round of each
cold measurement; without it the cold sweeps take the best of two rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable

MODEL_2000 = textwrap.dedent("""
    import json, os, statistics, sys, time
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[v] = "1"
    sys.path.insert(0, {root!r})
    from sweepgui.model import run_point
    params = {{"analysis": {{"elements": 2000}}, "fluid": {{"density": 998.2065}}}}
    run_point(params)  # warm-up: imports and caches
    times = []
    for _ in range({repeat}):
        t = time.perf_counter()
        run_point(params)
        times.append(time.perf_counter() - t)
    print(json.dumps({{"median_ms": 1000 * statistics.median(times), "min_ms": 1000 * min(times),
                      "repeat": {repeat}}}))
""")


def _last_json(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON object in the output")


def _part(args: list[str], timeout: float, env: dict | None = None) -> dict:
    p = subprocess.run([PY, *args], capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, **(env or {})}, cwd=ROOT)
    if p.returncode != 0 and not p.stdout.strip():
        tail = (p.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"exit {p.returncode}: {tail}")
    return _last_json(p.stdout)


def part_sweep(quick: bool) -> dict:
    r = _part([str(HERE / "bench_sweep.py"), "--points", "256", "--repeat", "1" if quick else "2",
               "--batch", "0", "--plan", "0", "--json"], timeout=900)
    return {"cold_ratio_default": r["cold_ratio_default"], "cold_ratio_joblib": r["cold_ratio_joblib"],
            "orchestration_ms_per_point": r["orchestration_ms_per_point"], "_detail": r,
            "_why": {} if r["cold_ratio_joblib"] is not None else
            {"cold_ratio_joblib": "joblib is not installed (pip install '.[bench]')"}}


def part_reopen(quick: bool) -> dict:
    if quick and not _reopen_built():
        why = ("the 10,000-point sweep is not built yet (~30 min once): run "
               "benchmarks/bench_reopen.py or benchmarks/run.py without --quick")
        return {"reopen_10k_s": None, "reopen_ratio_joblib_memory": None,
                "_why": {"reopen_10k_s": why, "reopen_ratio_joblib_memory": why}}
    args = [str(HERE / "bench_reopen.py"), "--json"] + (["--no-before", "--no-first"] if quick else [])
    r = _part(args, timeout=7200)
    return {"reopen_10k_s": r["reopen_s"], "reopen_ratio_joblib_memory": r["ratio_joblib_memory"],
            "_detail": r}


def _reopen_built() -> bool:
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(HERE)!r})\n"
            "import bench_reopen as b\nfrom sweepgui.nix import Engine\n"
            "from sweepgui.sweep import load_sweep\n"
            "p = Engine().plan(load_sweep(b.sweep_folder(10000)))\n"
            "print(p.cached == len(p.points))")
    p = subprocess.run([PY, "-c", code], capture_output=True, text=True, timeout=300)
    return p.stdout.strip().endswith("True")


def part_model(quick: bool) -> dict:
    """bench_model.py's figure (a warm process, median of the solves); if that script cannot
    run, one in-process timing of run_point with 2,000 elements, said so in the details."""
    args = [str(HERE / "bench_model.py"), "--json", "--no-before"] + (["--quick"] if quick else [])
    try:
        r = _part(args, timeout=1200)
        return {"model_2000_elements_ms": r["model_2000_elements_ms"], "_detail": r}
    except Exception as exc:
        r = _part(["-c", MODEL_2000.format(root=str(ROOT), repeat=3 if quick else 7)], timeout=600)
        r["bench_model_failed"] = str(exc)
        return {"model_2000_elements_ms": round(r["median_ms"], 1), "_detail": r}


def part_eos(quick: bool) -> dict:
    r = _part([str(HERE / "bench_eos.py"), "--json", "--repeat", "1" if quick else "2"], timeout=900)
    return {"eos_sweep_ratio": r["ratio"], "_detail": r}


def part_scale(quick: bool) -> dict:
    r = _part([str(HERE / "bench_scale.py"), "--json", "--plan", "10000,100000"], timeout=900)
    big, p10, p100 = r["load_1e6"], r["plan_10000"], r["plan_100000"]
    return {"load_1e6_s": round(big["total_s"], 3), "load_1e6_peak_gb": round(big["peak_gb"], 3),
            "load_1e6_refused": big.get("refused"),
            "plan_10k_s": round(p10["plan_s"], 2), "plan_100k_s": round(p100["plan_s"], 2),
            "plan_100k_peak_gb": round(p100["peak_gb"], 2), "_detail": r}


def part_distribution(quick: bool) -> dict:
    r = _part([str(HERE / "bench_distribution.py"), "--json"], timeout=900)
    out = {"distribution_efficiency": r["efficiency"], "_detail": r}
    if r["efficiency"] is None:
        out["_why"] = {"distribution_efficiency": r.get("why", "")}
    return out


def part_gui(quick: bool) -> dict:
    r = _part([str(HERE / "bench_gui_stream.py"), "--json", "--points", "10000", "--rate", "100"],
              timeout=900, env={"QT_QPA_PLATFORM": "offscreen"})
    return {"gui_p99_ms": r["p99"], "_detail": r}


PARTS = {
    "sweep": (part_sweep, ("cold_ratio_default", "cold_ratio_joblib", "orchestration_ms_per_point")),
    "reopen": (part_reopen, ("reopen_10k_s", "reopen_ratio_joblib_memory")),
    "model": (part_model, ("model_2000_elements_ms",)),
    "eos": (part_eos, ("eos_sweep_ratio",)),
    "scale": (part_scale, ("load_1e6_s", "load_1e6_peak_gb")),
    "distribution": (part_distribution, ("distribution_efficiency",)),
    "gui": (part_gui, ("gui_p99_ms",)),
}


def run(quick: bool, only: set[str] | None = None, log=print) -> dict:
    out: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "quick": quick,
                 "cores": os.cpu_count()}
    for keys in (k for _, ks in PARTS.values() for k in ks):
        out[keys] = None
    why: dict[str, str] = {}
    detail: dict[str, dict] = {}
    seconds: dict[str, float] = {}
    for name, (fn, keys) in PARTS.items():
        if only and name not in only:
            for k in keys:
                why[k] = "not asked for (--only)"
            continue
        log(f"[run.py] {name}...")
        t0 = time.perf_counter()
        try:
            res = fn(quick)
        except Exception as exc:  # a part that fails leaves its keys null, with the reason
            res = {"_why": {k: f"{name} failed: {exc}" for k in keys}}
        seconds[name] = round(time.perf_counter() - t0, 1)
        why.update(res.pop("_why", {}))
        if "_detail" in res:
            detail[name] = res.pop("_detail")
        out.update(res)
        log(f"[run.py] {name}: {seconds[name]} s " + json.dumps({k: out.get(k) for k in keys}))
    out["why"] = {k: v for k, v in why.items() if out.get(k) is None}
    out["seconds"] = seconds
    out["details"] = detail
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="one round each: under 10 minutes")
    ap.add_argument("--json", action="store_true", help="print only the JSON object")
    ap.add_argument("--only", help=f"comma-separated parts: {', '.join(PARTS)}")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None
    res = run(args.quick, only, log=lambda m: print(m, file=sys.stderr, flush=True))
    if not args.json:
        for k, v in res.items():
            if k not in ("why", "details", "seconds"):
                print(f"{k:30s} {v}" + (f"   ({res['why'][k]})" if k in res["why"] else ""),
                      file=sys.stderr)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
