"""Nix glue: plan and build sweeps, typed build events, store access, GC roots, manifest.

Names are imported lazily, so that ``sweepgui.nix.machines`` (or the events) can be used
without loading the engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the same names for type checkers, which do not follow __getattr__
    from .compat import NixError as NixError
    from .compat import NixInfo as NixInfo
    from .compat import detect_nix as detect_nix
    from .engine import Engine as Engine
    from .interpreter import InterpreterInfo as InterpreterInfo
    from .interpreter import detect_interpreter as detect_interpreter
    from .manifest import load_manifest as load_manifest
    from .plan import Plan as Plan
    from .plan import PlannedPoint as PlannedPoint
    from .store import ResultError as ResultError
    from .store import read_result as read_result

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


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
