"""The sweep's manifest: ``<state_dir>/manifest.json`` (format 1, see CONTRACTS.md).

It maps each point's parameters to its store path, status and timing. It is rewritten
atomically (temp file + rename) so a crash never leaves half a file; writes during a
run are coalesced to at most a few per second, and the last state is always written when
the run ends or is cancelled. After a crash the store, not the manifest, says what exists:
the next plan asks Nix.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

FORMAT = 1
FILENAME = "manifest.json"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def load_manifest(state_dir: str | os.PathLike) -> dict:
    """The manifest of a sweep's state folder. Raises FileNotFoundError / ValueError."""
    path = Path(state_dir) / FILENAME
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a sweepgui manifest of format {FORMAT}")
    return data


def write_json_atomic(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # json.dumps (one shot) runs the C encoder; json.dump streams through the Python one,
        # ~10x slower for a big manifest
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a manifest is as readable as the sweep
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class ManifestWriter:
    """Holds the manifest of one run and writes it (atomically, coalesced)."""

    def __init__(self, state_dir: Path, data: dict, min_interval: float = 0.25):
        self.path = Path(state_dir) / FILENAME
        self.data = data
        self._dirty = True
        self._last = 0.0
        self._min_interval = min_interval
        self._cost = 0.0

    def point(self, index: int) -> dict:
        return self.data["points"][index]

    def update(self, index: int, **fields) -> None:
        self.data["points"][index].update(fields)
        self._dirty = True
        self.maybe_flush()

    def maybe_flush(self) -> None:
        # a big sweep's manifest takes a while to write: spend at most ~1/5 of the time on it
        interval = max(self._min_interval, 5 * self._cost)
        if self._dirty and time.monotonic() - self._last >= interval:
            self.flush()

    def flush(self) -> None:
        if not self._dirty:
            return
        t0 = time.monotonic()
        self.data["updated"] = now_iso()
        write_json_atomic(self.path, self.data)
        self._dirty = False
        self._last = time.monotonic()
        self._cost = self._last - t0
