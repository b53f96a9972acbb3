"""The sweep's manifest: ``<state_dir>/manifest.json`` (format 1, see CONTRACTS.md).

It maps each point's parameters to its store path, status and timing. It is rewritten
atomically (temp file + rename) so a crash never leaves half a file; writes during a
run are coalesced to at most a few per second, and the last state is always written when
the run ends or is cancelled. After a crash the store, not the manifest, says what exists:
the next plan asks Nix.

Besides the points, ``gc_roots`` says whether the run's results are safe from garbage
collection: ``{"folder", "missing": [point indices without a root], "error": why}``.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from ..atomic import atomic_write

FORMAT = 1
FILENAME = "manifest.json"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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
    # json.dumps (one shot) runs the C encoder; json.dump streams through the Python one,
    # ~10x slower for a big manifest
    atomic_write(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")))


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

    def mark_dirty(self) -> None:
        """Something outside ``points`` changed: write it with the next flush."""
        self._dirty = True

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


def initial_manifest(sweep, plan, state_dir: Path, only: set[int] | None) -> dict:
    """The manifest at the start of a run: the plan, plus what the last run knew of
    points that are not rebuilt now (their failures when only a subset runs)."""
    from ..params import field_info

    try:
        old = load_manifest(state_dir)
        previous = {p["out"]: p for p in old.get("points", [])}
        created = old.get("created")
    except (OSError, ValueError, KeyError, TypeError):
        previous, created = {}, None
    dims = []
    for d in sweep.dimensions():
        units = {}
        for path in d.paths:
            try:
                units[path] = field_info(path).unit
            except Exception:
                units[path] = ""
        dims.append({"name": d.name, "paths": list(d.paths),
                     "values": {k: list(v) for k, v in d.values.items()}, "units": units})
    model = plan.model
    points = []
    for p in plan.points:
        prev = previous.get(p.out_path, {})
        entry = {"index": p.index, "name": p.name, "coordinates": sweep.coordinates(p.index),
                 "parameters": json.loads(p.parameters_json), "drv": p.drv, "out": p.out_path,
                 "point": p.identity,
                 "status": "cached" if p.cached else "queued", "machine": prev.get("machine", ""),
                 "seconds": prev.get("seconds"), "error": None, "exit_code": None,
                 "log_tail": [], "finished": prev.get("finished")}
        if not p.cached and only is not None and p.index not in only and prev.get("status") == "failed":
            for k in ("status", "error", "exit_code", "log_tail"):
                entry[k] = prev.get(k)
        points.append(entry)
    source = getattr(sweep, "source", None)
    return {
        "format": 1, "sweep_file": str(source) if source else None,
        "sweep_hash": sweep.content_hash(), "created": created or now_iso(), "updated": now_iso(),
        "model": {"name": model.name, "version": model.version, "kind": model.kind,
                  "source_hash": model.source_hash},
        "interpreter": {"mode": plan.interpreter.mode, "python": plan.interpreter.python,
                        "description": plan.interpreter.description,
                        "identity_hash": plan.interpreter.identity_hash},
        "dimensions": dims, "points": points,
    }
