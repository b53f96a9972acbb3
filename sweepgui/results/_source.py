"""Where a sweep's results live: its run's manifest, read against the one schema.

A run leaves ``<state_dir>/manifest.json`` (written by the engine; its shape is
``sweepgui.nix.manifest_schema``) that maps each point to the store path ``out`` holding
its ``result.json``. Results are read by ``sweepgui.nix.store.read_result`` (the one reader,
raising ``ResultError``), many at a time through the columns of ``_summary``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..nix.manifest_schema import FILENAME as MANIFEST_NAME
from ..nix.manifest_schema import FORMAT, ManifestError, check_manifest


class ResultsError(ValueError):
    """A sweep's results cannot be read at all (no manifest, a damaged one): names the
    file and what to do. A single point's missing or corrupt result is a
    ``sweepgui.nix.store.ResultError`` instead, and only marks that point failed."""


def read_manifest(state_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of a state folder, checked against the schema; ResultsError if it is
    missing, unreadable or not a manifest this version reads."""
    path = Path(state_dir) / MANIFEST_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(f"{path}: no manifest (this sweep has not been run yet)") from None
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read the manifest: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ResultsError(f"{path}: the manifest is not UTF-8 text; run the sweep again "
                           "to rewrite it") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}: line {exc.lineno}: the manifest is not valid JSON ({exc.msg}); "
                           "run the sweep again to rewrite it") from None
    found = data.get("format") if isinstance(data, dict) else None
    if isinstance(data, dict) and found != FORMAT:
        raise ResultsError(f"{path}: unknown manifest format {found!r} (expected {FORMAT}); "
                           "run the sweep again with this version of sweepgui")
    try:
        return dict(check_manifest(data))
    except ManifestError as exc:
        raise ResultsError(f"{path}: damaged manifest ({exc}); run the sweep again to "
                           "rewrite it") from None
