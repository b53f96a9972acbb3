"""Benchmark of one run of the built-in model: interpreter start + imports versus compute.

Not a test: run ``.venv/bin/python benchmarks/bench_model.py [--repeat N]``. Every stage is
measured side by side in the same run (the runs are interleaved, so a busy machine slows all
of them alike) and reported as the median and the minimum of N repetitions, for the demo point
with the density given and with the density from CoolProp (fluid.density = null).

Stages (each a fresh process unless marked in-process):
  python -c pass                    bare interpreter start
  imports (model path)              start + everything ``python -m sweepgui.model`` imports
  python -m sweepgui.model          the whole run, as a Nix build pays it per point
  run_point (in-process)            compute only: validation, FE, eigen, 4001-point spectrum
  json + atomic write (in-process)  serialising and writing the result file
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

# Measure the in-process stages as the model process runs: one BLAS thread (set before numpy).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

PY = sys.executable
GIVEN = {"fluid": {"density": 998.2065}}
EOS = {"fluid": {"density": None}}
IMPORTS = ("import numpy, numpy.linalg, sweepgui.model, sweepgui.model._run, "
           "sweepgui.model._beam, sweepgui.model._section, sweepgui.model._solve")


# (the import-only stages inherit the same one-thread setting as the model's __main__ sets)
ENV = dict(os.environ)


def _proc(args: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - t


def _inproc(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    n = ap.parse_args().repeat

    from sweepgui.atomic import atomic_write
    from sweepgui.model import run_point

    def _write_atomic(path: str, text: str) -> None:  # as the model writes OUT
        atomic_write(path, text, fsync=True)

    tmp = tempfile.mkdtemp(prefix="bench-model-")
    src_given, src_eos = os.path.join(tmp, "given.json"), os.path.join(tmp, "eos.json")
    out = os.path.join(tmp, "out.json")
    for path, params in ((src_given, GIVEN), (src_eos, EOS)):
        with open(path, "w") as fh:
            json.dump(params, fh)
    run_point(GIVEN), run_point(EOS)  # warm the in-process caches (and import CoolProp)
    result = run_point(GIVEN)

    stages = {
        "python -c pass": lambda: _proc([PY, "-c", "pass"]),
        "imports (model path)": lambda: _proc([PY, "-c", IMPORTS]),
        "imports + CoolProp": lambda: _proc([PY, "-c", IMPORTS + ", CoolProp.CoolProp"]),
        "python -m sweepgui.model, density given": lambda: _proc([PY, "-m", "sweepgui.model", src_given, out]),
        "python -m sweepgui.model, density from CoolProp": lambda: _proc([PY, "-m", "sweepgui.model", src_eos, out]),
        "run_point in-process, density given": lambda: _inproc(lambda: run_point(GIVEN)),
        "run_point in-process, CoolProp (imported)": lambda: _inproc(lambda: run_point(EOS)),
        "json + atomic write in-process": lambda: _inproc(
            lambda: _write_atomic(out, json.dumps(result, separators=(",", ":")))),
    }
    times: dict[str, list[float]] = {k: [] for k in stages}
    for _ in range(n):
        for name, fn in stages.items():
            times[name].append(fn())

    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    low = {k: min(v) * 1e3 for k, v in times.items()}
    whole = med["python -m sweepgui.model, density given"]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"sweepgui model benchmark, {n} repetitions, {time.strftime('%Y-%m-%d')}, "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load}")
    print(f"{'stage':50s} {'median ms':>10s} {'min ms':>8s} {'/ whole run':>12s}")
    for name in times:
        print(f"{name:50s} {med[name]:10.1f} {low[name]:8.1f} {med[name] / whole:12.2f}")
    for label, d in (("median", med), ("min", low)):
        start = d["imports (model path)"]
        compute = d["run_point in-process, density given"] + d["json + atomic write in-process"]
        run = d["python -m sweepgui.model, density given"]
        eos = d["python -m sweepgui.model, density from CoolProp"]
        print(f"{label:>6s}: density given: whole run {run:.0f} ms "
              f"({'within' if run <= 500 else 'OVER'} the 0.5 s budget) = start + imports {start:.0f} ms"
              f" + compute and write {compute:.0f} ms ({compute / run:.0%}); density from CoolProp: "
              f"{eos:.0f} ms = {eos / run:.1f} x (CoolProp import {d['imports + CoolProp'] - start:.0f} ms)")


if __name__ == "__main__":
    main()
