"""Test-wide settings: Qt offscreen, and Nix never waits for binary caches (no network)."""

import os

# One BLAS thread per process: on 2 cores, OpenBLAS threads of parallel tests and builds
# fight each other (model tests: 34 s with them, 14 s without). Set before numpy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if "substituters" not in os.environ.get("NIX_CONFIG", ""):
    os.environ["NIX_CONFIG"] = "substituters =\n" + os.environ.get("NIX_CONFIG", "")
