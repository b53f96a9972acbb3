"""Nix glue: plan and build sweeps, typed build events, store access, GC roots, manifest.

Names are imported lazily, so that ``sweepgui.nix.machines`` (or the events) can be used
without loading the engine.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Engine": ".engine",
    "Plan": ".plan",
    "PlannedPoint": ".plan",
    "NixError": ".compat",
    "NixInfo": ".compat",
    "detect_nix": ".compat",
    "InterpreterInfo": ".interpreter",
    "detect_interpreter": ".interpreter",
    "ResultError": ".store",
    "read_result": ".store",
    "load_manifest": ".manifest",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
