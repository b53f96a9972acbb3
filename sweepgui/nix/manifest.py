"""The sweep's manifest: ``<state_dir>/manifest.json``, its shape (and ``FORMAT``) defined
once in ``manifest_schema.py``, which results and the tests read it with.

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
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, Unpack

from ..atomic import atomic_write
from ..sweep.status import Status
from .manifest_schema import FILENAME, FORMAT, DimensionEntry, Manifest, PointEntry

if TYPE_CHECKING:
    from ..sweep import Dimension
    from .modelsrc import ModelSource


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def load_manifest(state_dir: str | os.PathLike[str]) -> dict[str, Any]:
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


class PointUpdate(TypedDict, total=False):
    """The fields of a point that a run changes (``ManifestWriter.update``), typed as in
    ``manifest_schema.PointEntry``."""

    drv: str | None
    out: str | None
    status: Status
    machine: str
    seconds: float | None
    error: str | None
    exit_code: int | None
    log_tail: list[str]
    finished: str | None


class ManifestWriter:
    """Holds the manifest of one run and writes it (atomically, coalesced)."""

    def __init__(self, state_dir: Path, data: Manifest, min_interval: float = 0.25):
        self.path = Path(state_dir) / FILENAME
        self.data = data
        self._dirty = True
        self._last = 0.0
        self._min_interval = min_interval
        self._cost = 0.0

    def point(self, index: int) -> PointEntry:
        return self.data["points"][index]

    def update(self, index: int, **fields: Unpack[PointUpdate]) -> None:
        # PointUpdate's keys are PointEntry's, with the same types; mypy's TypedDict.update
        # takes a part of the same TypedDict only, not another one
        self.data["points"][index].update(fields)  # type: ignore[typeddict-item]
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


# What initial_manifest reads of a sweep and of a plan: a sweepgui.sweep.Sweep and a
# plan.Plan are ones (the plan module is above this one, so it is not imported here).
class ManifestSweep(Protocol):
    def dimensions(self) -> Sequence[Dimension]: ...
    def coordinates(self, index: int) -> dict[str, Any]: ...
    def content_hash(self) -> str: ...


class _PlannedPoint(Protocol):  # a plan.PlannedPoint
    @property
    def index(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def parameters_json(self) -> str: ...
    @property
    def drv(self) -> str: ...
    @property
    def out_path(self) -> str: ...
    @property
    def cached(self) -> bool: ...
    @property
    def identity(self) -> str: ...


class _Interpreter(Protocol):  # an interpreter.InterpreterInfo
    @property
    def mode(self) -> str: ...
    @property
    def python(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def identity_hash(self) -> str: ...


class ManifestPlan(Protocol):
    @property
    def points(self) -> Sequence[_PlannedPoint]: ...
    @property
    def model(self) -> ModelSource | None: ...
    @property
    def interpreter(self) -> _Interpreter: ...


def initial_manifest(sweep: ManifestSweep, plan: ManifestPlan, state_dir: Path,
                     only: set[int] | None) -> Manifest:
    """The manifest at the start of a run: the plan, plus what the last run knew of
    points that are not rebuilt now (their failures when only a subset runs)."""
    from ..params import field_info

    previous: dict[str | None, Any]  # out path -> the last run's entry of that point
    created: str | None
    try:
        old = load_manifest(state_dir)
        previous = {p["out"]: p for p in old.get("points", [])}
        created = old.get("created")
    except (OSError, ValueError, KeyError, TypeError):
        previous, created = {}, None
    dims: list[DimensionEntry] = []
    for d in sweep.dimensions():
        units: dict[str, str] = {}
        for path in d.paths:
            try:
                units[path] = field_info(path).unit
            except Exception:
                units[path] = ""
        dims.append({"name": d.name, "paths": list(d.paths),
                     "values": {k: list(v) for k, v in d.values.items()}, "units": units})
    model = plan.model
    if model is None:  # a plan made by plan_points always names its model
        raise ValueError("the plan names no model: it has no manifest")
    points: list[PointEntry] = []
    for p in plan.points:
        prev = previous.get(p.out_path, {})
        entry: PointEntry = {
            "index": p.index, "name": p.name, "coordinates": sweep.coordinates(p.index),
            "parameters": json.loads(p.parameters_json), "drv": p.drv, "out": p.out_path,
            "point": p.identity,
            "status": Status.CACHED if p.cached else Status.QUEUED, "machine": prev.get("machine", ""),
            "seconds": prev.get("seconds"), "error": None, "exit_code": None,
            "log_tail": [], "finished": prev.get("finished")}
        if not p.cached and only is not None and p.index not in only and prev.get("status") == "failed":
            entry.update({"status": prev.get("status"), "error": prev.get("error"),
                          "exit_code": prev.get("exit_code"), "log_tail": prev.get("log_tail")})
        points.append(entry)
    source = getattr(sweep, "source", None)
    return {
        "format": FORMAT, "sweep_file": str(source) if source else None,
        "sweep_hash": sweep.content_hash(), "created": created or now_iso(), "updated": now_iso(),
        "model": {"name": model.name, "version": model.version, "kind": model.kind,
                  "source_hash": model.source_hash},
        "interpreter": {"mode": plan.interpreter.mode, "python": plan.interpreter.python,
                        "description": plan.interpreter.description,
                        "identity_hash": plan.interpreter.identity_hash},
        "dimensions": dims, "points": points,
    }
