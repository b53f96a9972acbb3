"""Where the app's resources live (the top-level ``resources/`` folder)."""

from __future__ import annotations

import os
from pathlib import Path


def resources_dir() -> Path:
    env = os.environ.get("SWEEPGUI_RESOURCES")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "resources"
