"""Book-keeping of one run: each point's status, the events it causes, counts and ETA.

The engine feeds it what Nix reports (keyed by derivation path); it answers with the
typed events, updates the manifest and queues GC roots. At the end ``settle`` asks the
store about every point Nix said nothing conclusive about: the store is the truth.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from .events import PointFailed, PointFinished, PointStarted, Progress, RunFinished
from .gcroots import RootAdder, root_link
from .logparse import cap
from .manifest import ManifestWriter, now_iso
from .plan import Plan
from .store import ResultError, invalid_paths, read_result

_GENERIC = re.compile(r"the build failed with exit code -?\d+")
_WRAPPER = re.compile(r"sweepgui: the model exited with code -?\d+")
# the model's prefixes: its name, and the path of the build's temporary parameters file
_PREFIX = re.compile(r"^(sweepgui(\.model)?: )?(\S*params\.json: )?")
# a failed point's log tail in the manifest and its event: at most this many characters in
# all (the last lines are kept), each line at most MAX_LINE
MAX_TAIL = 10_000


def with_cause(reason: str, tail) -> str:
    """Nix's bare "failed with exit code N" plus the model's own last words from the log,
    so that one line (the CLI's --json ``error``, the GUI's table) tells why."""
    if not _GENERIC.fullmatch(reason):
        return reason
    for line in reversed(list(tail)):
        text = line.strip()
        if text and not _WRAPPER.fullmatch(text):
            text = _PREFIX.sub("", text, count=1) or text
            return f"{reason}: {text if len(text) <= 300 else text[:299] + '…'}"
    return reason


class RunState:
    """Statuses of a run's points (see the module doc)."""

    def __init__(self, plan: Plan, manifest: ManifestWriter, state_dir: Path,
                 only: set[int] | None = None, roots: RootAdder | None = None):
        self.plan = plan
        self.manifest = manifest
        self.state_dir = state_dir
        self.status = ["cached" if p.cached else "skipped" for p in plan.points]
        self.to_build = [p.index for p in plan.points
                         if not p.cached and (only is None or p.index in only)]
        self.by_drv: dict[str, list[int]] = {}
        for i in self.to_build:
            self.status[i] = "queued"
            self.by_drv.setdefault(plan.points[i].drv, []).append(i)
        self.start: dict[int, float] = {}
        self.machine: dict[int, str] = {}
        self.durations: list[float] = []
        self.max_running = 0
        self.cancelled = False
        self.messages: list[str] = []
        self._roots: RootAdder | None = roots
        self._lost: list[int] = []
        self._rooted: dict[int, Path] = {}  # point -> its GC root link (asked for)
        self.unrooted: list[int] = []
        self.root_error = ""
        self.lost_on: dict[int, int] = {}  # point -> times its builder went away
        self.lost_machines: list[str] = []
        self._unbuildable: dict[int, str] = {}  # point -> why nothing could build it

    def indices(self, drv: str) -> list[int]:
        return self.by_drv.get(drv, [])

    # -- what Nix reports -----------------------------------------------------------------
    def started(self, drv: str, machine: str):
        now = time.monotonic()
        for i in self.indices(drv):
            if self.status[i] != "queued":
                continue
            self.status[i] = "running"
            self.start[i] = now
            self.machine[i] = machine
            self.manifest.update(i, machine=machine or "local")
            yield PointStarted(i, drv, machine)
        self.max_running = max(self.max_running, self.status.count("running"))
        yield self.progress()

    def stopped(self, drv: str, tail: list[str], roots: RootAdder):
        self._roots = roots
        for i in self.indices(drv):
            if self.status[i] != "running":
                continue
            # a stop has no success flag: a built output exists, a failed one does not
            # (its failure message may come just before or after the stop)
            if os.path.exists(self.plan.points[i].out_path):
                yield from self._finish(i, tail)
            else:
                self.status[i] = "stopped"
        yield self.progress()

    def failed(self, drv: str, exit_code: int | None, reason: str, tail: list[str], machine: str):
        from .machines_nix import lost_builder

        together = self.indices(drv)
        if len(together) > 1 and reason.startswith("timed out after"):
            reason += f" (its batch of {len(together)} points, as one build)"
        for i in together:
            if self.status[i] in ("built", "failed"):
                continue
            last = self.messages[-1] if self.messages else ""
            if lost_builder(machine, reason, tail, last) and self.lost_on.get(i, 0) < 2:
                # the builder went away, not the model: queued again (see Engine.run)
                self.status[i] = "queued"
                self.lost_on[i] = self.lost_on.get(i, 0) + 1
                self.lost_machines.append(machine)
                self._lost.append(i)
                self.manifest.update(i, status="queued", machine="")
                continue
            yield from self._fail(i, exit_code, with_cause(reason, tail), tail, machine)
        yield self.progress()

    def fail_open(self, reason: str, indices: list[int] | None = None) -> None:
        """Fail every point still to build (of ``indices``) with ``reason``, no build run;
        ``settle`` then reports them."""
        for i in self.to_build if indices is None else indices:
            if self.status[i] in ("queued", "running", "stopped"):
                self.status[i] = "unbuildable"
                self._unbuildable[i] = reason

    def take_lost(self) -> list[int]:
        """Points whose builder went away since the last call (to build them again)."""
        lost, self._lost = self._lost, []
        return lost

    # -- transitions ------------------------------------------------------------------------
    def _finish(self, i: int, tail: list[str]):
        p = self.plan.points[i]
        seconds = time.monotonic() - self.start[i] if i in self.start else None
        machine = self.machine.get(i, "")
        try:
            read_result(p.out_path)
        except ResultError as exc:
            self._root_batch_failure(i)
            yield from self._fail(i, exc.exit_code, str(exc), exc.log_tail or tail, machine)
            return
        self.status[i] = "built"
        if seconds is not None:
            self.durations.append(seconds)
        self.root(i)
        self.manifest.update(i, status="built", seconds=seconds, machine=machine or "local",
                             error=None, exit_code=None, log_tail=[], finished=now_iso())
        yield PointFinished(i, p.out_path, seconds or 0.0, machine)

    def _fail(self, i: int, exit_code, reason: str, tail: list[str], machine: str):
        # whatever the source (Nix's log, a batch's error.json, a result file), a point's
        # reason and log tail stay small: a model printing megabytes must not bloat the
        # manifest or the events
        reason = cap(reason)
        tail = _cap_tail(tail)
        self.status[i] = "failed"
        seconds = time.monotonic() - self.start[i] if i in self.start else None
        self.manifest.update(i, status="failed", error=reason, exit_code=exit_code,
                             log_tail=list(tail), machine=machine or "local", seconds=seconds,
                             finished=now_iso())
        yield PointFailed(i, exit_code, tuple(tail), reason, machine)

    def _root_batch_failure(self, i: int) -> None:
        # A batch's output recording a failure is rooted like a result: were it collected
        # alone, its batch would be half valid, which Nix cannot rebuild cleanly.
        p = self.plan.points[i]
        if os.path.exists(os.path.join(p.out_path, "error.json")):
            self.root(i)

    def root(self, i: int, roots: RootAdder | None = None) -> None:
        """Protect point ``i``'s output from garbage collection (checked in check_roots)."""
        if roots is not None:
            self._roots = roots
        if self._roots is None:
            return
        p = self.plan.points[i]
        link = root_link(self.state_dir, i, p.name)
        self._rooted[i] = link
        self._roots.add(link, p.out_path)

    def _unroot(self, i: int) -> None:
        link = self._rooted.pop(i, None)
        if link is not None and self._roots is not None:
            self._roots.forget(link)

    def check_roots(self, roots: RootAdder | None = None) -> list[int]:
        """Every result of this run has its GC root: the missing ones are added again; the
        points still without one are returned (and kept in the manifest, with the reason)."""
        roots = roots or self._roots
        if roots is None:
            return []
        missing_links, why = roots.ensure()
        by_link = {link: i for i, link in self._rooted.items()}
        self.unrooted = sorted(by_link[link] for link in missing_links if link in by_link)
        folder = Path(self.state_dir) / "gcroots"
        self.root_error = ""
        if self.unrooted:
            n = len(self.unrooted)
            self.root_error = (f"{n} result{'s' if n != 1 else ''} of this run "
                               f"{'have' if n != 1 else 'has'} no GC root in {folder}, so "
                               f"nix-collect-garbage may delete {'them' if n != 1 else 'it'}: "
                               f"{why}")
        self.manifest.data["gc_roots"] = {"folder": str(folder), "missing": self.unrooted,
                                          "error": self.root_error}
        self.manifest.mark_dirty()
        return self.unrooted

    def cached_failure(self, i: int, roots: RootAdder | None = None):
        """A point in the store whose output records the model's failure (see batches)."""
        if roots is not None:
            self._roots = roots
        try:
            read_result(self.plan.points[i].out_path)
        except ResultError as exc:
            yield from self._fail(i, exc.exit_code, str(exc), exc.log_tail, "")

    def settle(self, cancelled: bool, roots: RootAdder | None = None):
        """Decide every point still open by asking the store."""
        if roots is not None:
            self._roots = roots
        for i, reason in sorted(self._unbuildable.items()):
            yield from self._fail(i, None, reason, [], "")
        self._unbuildable.clear()
        open_ = [i for i in self.to_build if self.status[i] in ("queued", "running", "stopped")]
        built = [i for i in self.to_build if self.status[i] == "built"]
        invalid = invalid_paths(self.plan.points[i].out_path for i in open_ + built)
        for i in built:
            # an output seen on disk but never registered (Nix stopped in between)
            if self.plan.points[i].out_path in invalid:
                self._unroot(i)
                if cancelled:
                    self.status[i] = "cancelled"
                    self.manifest.update(i, status="cancelled", finished=None)
                else:
                    yield from self._fail(i, None, "Nix did not register the output",
                                          [], self.machine.get(i, ""))
        why = self.messages[-1] if self.messages else "Nix did not build it"
        if "unable to start any build" in why:
            # Nix blames "system features"; the real cause is in its messages about builders
            from .machine_checks import explain_no_builder

            why = explain_no_builder(self.messages) or why
        for i in open_:
            p = self.plan.points[i]
            if p.out_path not in invalid:
                yield from self._finish(i, [])
            elif cancelled:
                self.status[i] = "cancelled"
                self.manifest.update(i, status="cancelled")
            else:
                yield from self._fail(i, None, why, [], self.machine.get(i, ""))

    # -- summaries ----------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        c = {k: 0 for k in ("cached", "built", "running", "failed", "queued")}
        for s in self.status:
            if s in c:
                c[s] += 1
            elif s == "stopped":
                c["running"] += 1
        return c

    def progress(self) -> Progress:
        c = self.counts()
        eta = None
        if self.durations:
            mean = sum(self.durations) / len(self.durations)
            now = time.monotonic()
            left = c["queued"] * mean + sum(
                max(0.0, mean - (now - self.start[i]))
                for i, s in enumerate(self.status) if s == "running" and i in self.start)
            eta = left / max(1, self.max_running)
            if eta == 0.0 and c["running"]:
                eta = None  # running longer than the mean: not "0:00", but unknown
        elif c["queued"] == 0 and c["running"] == 0:
            eta = 0.0
        return Progress(cached=c["cached"], built=c["built"], running=c["running"],
                        failed=c["failed"], queued=c["queued"], eta_seconds=eta)

    def finished(self, exit_code: int | None, seconds: float) -> RunFinished:
        c = self.counts()
        per_machine: dict[str, dict[str, float]] = {}
        for i in self.to_build:
            if self.status[i] not in ("built", "failed"):
                continue
            m = per_machine.setdefault(self.machine.get(i) or "local",
                                       {"built": 0, "failed": 0, "seconds": 0.0})
            m[self.status[i]] += 1
            if self.status[i] == "built" and i in self.start:
                m["seconds"] += self.manifest.point(i).get("seconds") or 0.0
        for m in per_machine.values():
            m["mean_seconds"] = m["seconds"] / m["built"] if m["built"] else 0.0
        for name in self.lost_machines:  # builds lost when a builder went away
            m = per_machine.setdefault(name, {"built": 0, "failed": 0, "seconds": 0.0,
                                              "mean_seconds": 0.0})
            m["lost"] = m.get("lost", 0) + 1
        return RunFinished(points=len(self.status), built=c["built"], cached=c["cached"],
                           failed=c["failed"], cancelled=self.cancelled, exit_code=exit_code,
                           seconds=seconds, per_machine=per_machine,
                           unrooted=len(self.unrooted), root_error=self.root_error)


def _cap_tail(tail) -> list[str]:
    """The last lines of ``tail``, each capped, MAX_TAIL characters in all."""
    out: list[str] = []
    total = 0
    for line in reversed([cap(str(x)) for x in tail]):
        total += len(line)
        if total > MAX_TAIL and out:
            break
        out.append(line)
    return out[::-1]
