"""The status of a sweep point in a run: one vocabulary for the engine, the CLI and the app.

A ``StrEnum``: each member *is* its string (``Status.BUILT == "built"``), so manifests,
``--json`` output and older files read the same, while code names the states instead of
spelling them.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PLANNED = "planned"          # in the sweep, not in the store, no run asked for it yet
    SKIPPED = "skipped"          # not in the store, left out of this run (``only=`` a subset)
    CACHED = "cached"            # its result was in the store before the run
    QUEUED = "queued"            # to be built by this run
    RUNNING = "running"          # a builder is computing it
    STOPPED = "stopped"          # Nix stopped its build; built or failed is not known yet
    BUILT = "built"              # computed by this run, result in the store and rooted
    FAILED = "failed"            # the model (or its builder) failed: no result
    UNBUILDABLE = "unbuildable"  # nothing could build it (no builder would take it)
    CANCELLED = "cancelled"      # the run was cancelled before it finished

    @property
    def done(self) -> bool:
        """A result exists (built now or before)."""
        return self in DONE

    @property
    def open(self) -> bool:
        """Still to be decided in this run."""
        return self in OPEN


DONE = frozenset({Status.BUILT, Status.CACHED})
OPEN = frozenset({Status.QUEUED, Status.RUNNING, Status.STOPPED})
# what a failed run leaves for "Rerun failed"
FAILED = frozenset({Status.FAILED, Status.UNBUILDABLE})

__all__ = ["DONE", "FAILED", "OPEN", "Status"]
