"""Benchmark of the built-in model: a point's process, the cost per mesh, the cost of the EOS.

Not a test: run ``.venv/bin/python benchmarks/bench_model.py [--repeat N] [--quick]
[--no-before] [--json]``. Every part is measured side by side in the same run (interleaved, so a
busy machine slows all of them alike), as the median and the minimum of N repetitions. "Before"
is the model of commit 2444630 (its package from ``git archive``, run in a subprocess), the last
one with the dense eigen-solver.

1. Process stages, the demo point (40 elements) with the density given and from CoolProp:
     python -c pass                    bare interpreter start
     imports (model path)              start + everything ``python -m sweepgui.model`` imports
     imports + CoolProp library        the same, then CoolProp's fluid library loaded
     python -m sweepgui.model          the whole run, as a Nix build pays it per point (and before)
     run_point (in-process)            compute only: validation, FE, eigen, 4001-point spectrum
     json + atomic write (in-process)  serialising and writing the result file
2. Mesh: one solve of the demo point in a warm process at 40, 400, 1000 and 2000 elements,
   after and before, and their ratio (issue 13, goal 4: 2000 elements <= 300 ms).
3. EOS: a point's process with the density from CoolProp over one with the density given (a
   sweep of one process per point costs that ratio), and what the difference is made of.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Measure the in-process stages as the model process runs: one BLAS thread (set before numpy).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PY = sys.executable
BEFORE = "2444630"
MESHES = (40, 400, 1000, 2000)
GIVEN = {"fluid": {"density": 998.2065}}
EOS = {"fluid": {"density": None}}
CWD = tempfile.gettempdir()
# what ``python -m sweepgui.model`` imports, with the settings its __main__ makes first
IMPORTS = ("import os; os.environ.setdefault('PYDANTIC_DISABLE_PLUGINS', '__all__'); "
           "import json, numpy, sweepgui.atomic, sweepgui.model, sweepgui.model._run, "
           "sweepgui.model._beam, sweepgui.model._section, sweepgui.model._solve")
COOLPROP = "; import CoolProp.CoolProp as CP; CP.AbstractState('HEOS', 'Water')"

# One warm process: the model imported and run once (numpy, and scipy for the large meshes),
# then each mesh solved ``repeat`` times (the 2000-element dense solve of before: once), timed
# by the clock and by the process's CPU time (which a busy machine inflates less).
MESH_CODE = r"""
import json, os, sys, time
import sweepgui
assert sweepgui.__file__.startswith(os.environ["PYTHONPATH"]), sweepgui.__file__
for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(v, "1")
from sweepgui.model import run_point
meshes, repeat, slow = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "before"
run_point({"fluid": {"density": 998.2}, "analysis": {"elements": 1000}})
out = {}
for ne in meshes:
    point = {"fluid": {"density": 998.2}, "analysis": {"elements": ne}}
    times = []
    for _ in range(1 if slow and ne >= 2000 else repeat):
        t, c = time.perf_counter(), time.process_time()
        run_point(point)
        times.append((time.perf_counter() - t, time.process_time() - c))
    out[ne] = times
print(json.dumps(out))
"""


def _env(tree: Path | None = None) -> dict[str, str]:
    """This checkout's package first on the path, or that of commit BEFORE (``tree``)."""
    return dict(os.environ, PYTHONPATH=str(tree or ROOT))


def _proc(args: list[str], env: dict[str, str] | None = None) -> float:
    # run from the temp folder: ``-c`` and ``-m`` put the working directory first on the path
    t = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, env=env or _env(), cwd=CWD)
    return time.perf_counter() - t


def _inproc(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def before_tree(tmp: str) -> tuple[Path | None, str]:
    """The package of commit BEFORE in ``tmp``, or None and why not."""
    if not shutil.which("git"):
        return None, "git is not installed"
    target = Path(tmp) / "before"
    target.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", BEFORE, "sweepgui", "resources"],
                             capture_output=True)
    if archive.returncode != 0:
        return None, f"git archive {BEFORE} failed: {archive.stderr.decode(errors='replace').strip()}"
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target, ""


def process_stages(n: int, tmp: str, before: Path | None) -> dict[str, list[float]]:
    from sweepgui.atomic import atomic_write
    from sweepgui.model import run_point

    src_given, src_eos = os.path.join(tmp, "given.json"), os.path.join(tmp, "eos.json")
    out = os.path.join(tmp, "out.json")
    for path, params in ((src_given, GIVEN), (src_eos, EOS)):
        with open(path, "w") as fh:
            json.dump(params, fh)
    run_point(GIVEN), run_point(EOS)  # warm the in-process caches (and load CoolProp)
    text = json.dumps(run_point(GIVEN), separators=(",", ":"))
    model = [PY, "-m", "sweepgui.model"]
    stages: dict[str, Callable[[], float]] = {
        "python -c pass": lambda: _proc([PY, "-c", "pass"]),
        "imports (model path)": lambda: _proc([PY, "-c", IMPORTS]),
        "imports + CoolProp library": lambda: _proc([PY, "-c", IMPORTS + COOLPROP]),
        "python -m sweepgui.model, density given": lambda: _proc(model + [src_given, out]),
        "python -m sweepgui.model, density from CoolProp": lambda: _proc(model + [src_eos, out]),
        "run_point in-process, density given": lambda: _inproc(lambda: run_point(GIVEN)),
        "run_point in-process, CoolProp (loaded)": lambda: _inproc(lambda: run_point(EOS)),
        "json + atomic write in-process": lambda: _inproc(
            lambda: atomic_write(out, text, fsync=True)),
    }
    if before is not None:
        stages[f"python -m sweepgui.model, density given, {BEFORE}"] = (
            lambda: _proc(model + [src_given, out], _env(before)))
    times: dict[str, list[float]] = {k: [] for k in stages}
    for _ in range(n):
        for name, fn in stages.items():
            times[name].append(fn())
    return times


Runs = dict[str, dict[int, list[tuple[float, float]]]]


def mesh_times(rounds: int, repeat: int, before: Path | None) -> Runs:
    """label -> elements -> [(wall s, cpu s)] of one solve each."""
    runs: Runs = {"after": {ne: [] for ne in MESHES}}
    if before is not None:
        runs["before"] = {ne: [] for ne in MESHES}
    for _ in range(rounds):
        for label in runs:
            env = _env(before if label == "before" else None)
            p = subprocess.run([PY, "-c", MESH_CODE, json.dumps(MESHES), str(repeat), label],
                               capture_output=True, text=True, check=True, env=env, cwd=CWD,
                               timeout=1800)
            for ne, times in json.loads(p.stdout).items():
                runs[label][int(ne)].extend((wall, cpu) for wall, cpu in times)
    return runs


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15, help="repetitions of the process stages")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (about 1 minute)")
    ap.add_argument("--no-before", action="store_true", help=f"skip the model of {BEFORE}")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    n = 3 if args.quick else args.repeat

    with tempfile.TemporaryDirectory(prefix="bench-model-") as tmp:
        before, why = (None, "--no-before") if args.no_before else before_tree(tmp)
        stages = process_stages(n, tmp, before)
        meshes = mesh_times(1 if args.quick else 2, 1 if args.quick else 3, before)

    med = {k: statistics.median(v) * 1e3 for k, v in stages.items()}
    low = {k: min(v) * 1e3 for k, v in stages.items()}
    mesh_med = {label: {ne: statistics.median(w for w, _ in v) * 1e3 for ne, v in runs.items()}
                for label, runs in meshes.items()}
    mesh_cpu = {label: {ne: statistics.median(c for _, c in v) * 1e3 for ne, v in runs.items()}
                for label, runs in meshes.items()}
    given = med["python -m sweepgui.model, density given"]
    eos = med["python -m sweepgui.model, density from CoolProp"]
    library = med["imports + CoolProp library"] - med["imports (model path)"]
    res: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"), "repetitions": n, "load_average": os.getloadavg(),
        "process_median_ms": {k: round(v, 1) for k, v in med.items()},
        "process_min_ms": {k: round(v, 1) for k, v in low.items()},
        "mesh_after_ms": {ne: round(v, 1) for ne, v in mesh_med["after"].items()},
        "mesh_after_cpu_ms": {ne: round(v, 1) for ne, v in mesh_cpu["after"].items()},
        "model_2000_elements_ms": round(mesh_med["after"][2000], 1),
        "eos_process_ratio": round(eos / given, 2),
        "coolprop_library_ms": round(library, 1),
    }
    if "before" in mesh_med:
        res["mesh_before_ms"] = {ne: round(v, 1) for ne, v in mesh_med["before"].items()}
        res["mesh_before_cpu_ms"] = {ne: round(v, 1) for ne, v in mesh_cpu["before"].items()}
        res["mesh_ratio_before_after"] = {
            ne: round(mesh_med["before"][ne] / mesh_med["after"][ne], 2) for ne in MESHES}
    else:
        res["before_missing"] = why
    if args.json:
        print(json.dumps(res))
        return

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"sweepgui model benchmark, {n} repetitions, {res['date']}, Python "
          f"{sys.version.split()[0]}, {os.cpu_count()} cores, load average {load}")
    print(f"\n{'stage':58s} {'median ms':>10s} {'min ms':>8s} {'/ whole run':>12s}")
    for name in stages:
        print(f"{name:58s} {med[name]:10.1f} {low[name]:8.1f} {med[name] / given:12.2f}")

    print(f"\none solve of the demo point in a warm process (median ms, clock and CPU); before = "
          f"{BEFORE}" + ("" if "before" in mesh_med else f" (not measured: {why})"))
    print(f"{'elements':>8s} {'after':>10s} {'after CPU':>10s} {'before':>10s} {'before CPU':>11s} "
          f"{'before/after':>13s}")
    for ne in MESHES:
        a, ac = mesh_med["after"][ne], mesh_cpu["after"][ne]
        b, bc = mesh_med.get("before", {}).get(ne), mesh_cpu.get("before", {}).get(ne)
        cols = (f"{b:10.1f} {bc:11.1f} {b / a:13.1f}" if b is not None and bc is not None
                else f"{'-':>10s} {'-':>11s} {'-':>13s}")
        print(f"{ne:8d} {a:10.1f} {ac:10.1f} {cols}")
    a40, a2000 = mesh_med["after"][40], mesh_med["after"][2000]
    print(f"2000 elements: {a2000:.0f} ms ({'within' if a2000 <= 300 else 'OVER'} the 300 ms goal); "
          f"2000 / 40 elements: {a2000 / a40:.0f}x for 50x the mesh")

    start = med["imports (model path)"]
    compute = med["run_point in-process, density given"] + med["json + atomic write in-process"]
    print(f"\ndensity given: whole run {given:.0f} ms = start + imports {start:.0f} ms + compute and "
          f"write {compute:.0f} ms")
    old = med.get(f"python -m sweepgui.model, density given, {BEFORE}")
    if old is not None:
        print(f"  the same run with the model of {BEFORE}: {old:.0f} ms ({old / given:.2f}x)")
    print(f"density from CoolProp: whole run {eos:.0f} ms = {eos / given:.1f}x the run with the "
          f"density given (a sweep of one process per point costs that ratio); CoolProp's fluid "
          f"library load {library:.0f} ms of it, the EOS per point in-process "
          f"{med['run_point in-process, CoolProp (loaded)']:.1f} ms")


if __name__ == "__main__":
    main()
