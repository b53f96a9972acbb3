"""Test-wide settings: Qt offscreen, and Nix never waits for binary caches (no network)."""

import os

# One BLAS thread per process: on 2 cores, OpenBLAS threads of parallel tests and builds
# fight each other (model tests: 34 s with them, 14 s without). Set before numpy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if "substituters" not in os.environ.get("NIX_CONFIG", ""):
    os.environ["NIX_CONFIG"] = "substituters =\n" + os.environ.get("NIX_CONFIG", "")


def pytest_sessionstart(session):
    """Make the portable interpreter (the default of every run) once, before any test: the
    first time in a new environment takes tens of seconds, which no test's own wait
    (a GUI test's 20 s for a plan, say) should have to absorb."""
    import shutil

    if shutil.which("nix-store") and not os.environ.get("SWEEPGUI_INTERPRETER"):
        try:
            from sweepgui.nix.portable import ensure_portable

            ensure_portable()
        except Exception as exc:
            print(f"conftest: the portable interpreter could not be made: {exc}")
