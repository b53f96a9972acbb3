"""Typed events of a sweep run: what the engine yields, what the CLI and GUI render.

Every per-point event carries ``index`` (the point's position in the sweep's point
list) and ``drv`` (its derivation path, the key Nix reports it by). Events are plain
frozen dataclasses: cheap to create, safe to hand across threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BuildEvent:
    """Base class of every event the engine yields."""


@dataclass(frozen=True)
class Planned(BuildEvent):
    """The plan: how many points in all, how many are already in the store."""

    points: int
    cached: int
    to_build: int


@dataclass(frozen=True)
class PointCached(BuildEvent):
    index: int
    store_path: str


@dataclass(frozen=True)
class PointStarted(BuildEvent):
    index: int
    drv: str
    machine: str  # "" = local, else the builder's URI as Nix reports it


@dataclass(frozen=True)
class PointLog(BuildEvent):
    index: int
    line: str


@dataclass(frozen=True)
class PointFinished(BuildEvent):
    index: int
    store_path: str
    seconds: float
    machine: str


@dataclass(frozen=True)
class PointFailed(BuildEvent):
    index: int
    exit_code: int | None
    log_tail: tuple[str, ...]
    reason: str
    machine: str = ""


@dataclass(frozen=True)
class Progress(BuildEvent):
    """Counts of points by status, and the estimated seconds to go (None: unknown yet)."""

    cached: int
    built: int
    running: int
    failed: int
    queued: int
    eta_seconds: float | None

    @property
    def done(self) -> int:
        return self.cached + self.built + self.failed

    @property
    def total(self) -> int:
        return self.cached + self.built + self.running + self.failed + self.queued


@dataclass(frozen=True)
class RunMessage(BuildEvent):
    """A message about the run as a whole (e.g. a builder that cannot be reached)."""

    level: str  # "info" | "warning" | "error"
    text: str


@dataclass(frozen=True)
class RunFinished(BuildEvent):
    """The last event of a run.

    ``unrooted``: results (built or cached points) left without a GC root, which
    ``nix-collect-garbage`` may delete; ``root_error`` says why, naming the folder. A run
    with unrooted results has failed, even if every point was built.
    """

    points: int
    built: int
    cached: int
    failed: int
    cancelled: bool
    exit_code: int | None
    seconds: float
    per_machine: dict[str, dict[str, float]] = field(default_factory=dict)
    unrooted: int = 0
    root_error: str = ""
