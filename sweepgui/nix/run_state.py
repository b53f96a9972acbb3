"""Book-keeping of one run: each point's status, the events it causes, counts and ETA.

The engine feeds it what Nix reports (keyed by derivation path); it answers with the
typed events, updates the manifest and queues GC roots. At the end ``settle`` asks the
store about every point Nix said nothing conclusive about: the store is the truth.
"""

from __future__ import annotations

import collections
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..sweep.status import OPEN, Status
from .events import BuildEvent, PointFailed, PointFinished, PointStarted, Progress, RunFinished
from .gcroots import RootAdder, root_link
from .index import ResultIndex
from .logparse import cap
from .manifest import ManifestWriter, now_iso
from .plan import Plan
from .store import ResultError, invalid_paths, read_result

# the hooks a RunState is given (see Engine): whether a failure means the builder went away
# (machine, reason, log tail, last message), and what Nix's "unable to start any build"
# really means, from its messages about builders
LostBuilder = Callable[[str, str, list[str], str], bool]
ExplainNoBuilder = Callable[[list[str]], str | None]

_GROUP_POINT = re.compile(r"sweepgui: point (\d+)/\d+ (done|failed)")
_GENERIC = re.compile(r"the build failed with exit code -?\d+")
_WRAPPER = re.compile(r"sweepgui: the model exited with code -?\d+")
# the model's prefixes: its name, and the path of the build's temporary parameters file
_PREFIX = re.compile(r"^(sweepgui(\.model)?: )?(\S*params\.json: )?")
# a failed point's log tail in the manifest and its event: at most this many characters in
# all (the last lines are kept), each line at most MAX_LINE
MAX_TAIL = 10_000


def with_cause(reason: str, tail: Iterable[str]) -> str:
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
                 only: set[int] | None = None, roots: RootAdder | None = None,
                 index: ResultIndex | None = None, lost_builder: LostBuilder | None = None,
                 explain_no_builder: ExplainNoBuilder | None = None):
        self.plan = plan
        self.manifest = manifest
        self.state_dir = state_dir
        self.index = index
        self._lost_builder = lost_builder or (lambda machine, reason, tail, last: False)
        self._explain_no_builder = explain_no_builder or (lambda messages: None)
        self.status = [Status.CACHED if p.cached else Status.SKIPPED for p in plan.points]
        # where each point's result is (or will be) and the derivation that builds it: its
        # own, or a group's (assign)
        self.out = [p.out_path for p in plan.points]
        self.drv = [p.drv for p in plan.points]
        self.to_build = [p.index for p in plan.points
                         if not p.cached and (only is None or p.index in only)]
        self.by_drv: dict[str, list[int]] = {}
        for i in self.to_build:
            self.status[i] = Status.QUEUED
            self.by_drv.setdefault(plan.points[i].drv, []).append(i)
        self._running_builds: set[str] = set()
        # counts by status and the running points, kept as statuses change (_set): a progress
        # report costs O(running), not O(points), on every event of a big sweep
        self._counts: collections.Counter[str] = collections.Counter(self.status)
        self._running: set[int] = set()
        self._t0 = time.monotonic()
        self._members: dict[str, list[int]] = {}  # a group's points, in the group's order
        self._log_pos: dict[str, int] = {}  # the group's point its log lines are about now
        self._retry: list[int] = []  # points to compute again on their own (take_retry)
        self.start: dict[int, float] = {}
        self.machine: dict[int, str] = {}
        self.durations: list[float] = []
        self._duration_sum = 0.0
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
        self._retried: set[int] = set()

    def _set(self, i: int, status: Status) -> None:
        self._counts[self.status[i]] -= 1
        self._counts[status] += 1
        self.status[i] = status
        if status in (Status.RUNNING, Status.STOPPED):
            self._running.add(i)
        else:
            self._running.discard(i)

    def indices(self, drv: str) -> list[int]:
        return self.by_drv.get(drv, [])

    def assign(self, i: int, drv: str, out: str) -> None:
        """Point ``i`` is built by ``drv`` (its own derivation, or a group's) into ``out``."""
        old = self.by_drv.get(self.drv[i])
        if old is not None and i in old:
            old.remove(i)
            if not old:
                del self.by_drv[self.drv[i]]
        self.drv[i], self.out[i] = drv, out
        self.by_drv.setdefault(drv, []).append(i)
        self._members.setdefault(drv, []).append(i)
        self.manifest.update(i, drv=drv, out=out)

    def log_points(self, drv: str, line: str) -> list[int]:
        """The points a build's log line is about: a point's own build's, or in a group the
        point being computed (the group's builder ends each point with a line
        ``sweepgui: point K/N done|failed ...``)."""
        members = self._members.get(drv)
        if not members or len(members) == 1:
            return self.indices(drv)
        pos = self._log_pos.get(drv, 0)
        m = _GROUP_POINT.match(line)
        if m:
            pos = int(m.group(1)) - 1
            self._log_pos[drv] = pos + 1
        return [members[pos]] if 0 <= pos < len(members) else []

    def assign_own(self, i: int) -> None:
        """Point ``i`` is built by its own derivation again."""
        p = self.plan.points[i]
        self.assign(i, p.drv, p.identity)

    # -- what Nix reports -----------------------------------------------------------------
    def started(self, drv: str, machine: str) -> Iterator[BuildEvent]:
        now = time.monotonic()
        self._running_builds.add(drv)
        for i in self.indices(drv):
            if self.status[i] != Status.QUEUED:
                continue
            self._set(i, Status.RUNNING)
            self.start[i] = now
            self.machine[i] = machine
            self.manifest.update(i, machine=machine or "local")
            yield PointStarted(i, drv, machine)
        self.max_running = max(self.max_running, len(self._running_builds))
        yield self.progress()

    def stopped(self, drv: str, tail: list[str], roots: RootAdder) -> Iterator[BuildEvent]:
        self._roots = roots
        self._running_builds.discard(drv)
        together = list(self.indices(drv))
        for i in together:
            if self.status[i] != Status.RUNNING:
                continue
            # a stop has no success flag: a built output exists, a failed one does not
            # (its failure message may come just before or after the stop)
            if os.path.exists(self.out[i]):
                yield from self._finish(i, tail, len(together))
            else:
                self._set(i, Status.STOPPED)
        yield self.progress()

    def failed(self, drv: str, exit_code: int | None, reason: str, tail: list[str],
               machine: str) -> Iterator[BuildEvent]:
        self._running_builds.discard(drv)
        together = list(self.indices(drv))
        timed_out = reason.startswith("timed out after")
        if len(together) > 1 and timed_out:
            reason += f" (its group of {len(together)} points, as one build)"
        for i in together:
            if self.status[i] in (Status.BUILT, Status.FAILED):
                continue
            last = self.messages[-1] if self.messages else ""
            if self._lost_builder(machine, reason, tail, last) and self.lost_on.get(i, 0) < 2:
                # the builder went away, not the model: queued again (see Engine.run)
                self._set(i, Status.QUEUED)
                self.lost_on[i] = self.lost_on.get(i, 0) + 1
                self.lost_machines.append(machine)
                self._lost.append(i)
                self.manifest.update(i, status=Status.QUEUED, machine="")
                continue
            if len(together) > 1 and not timed_out and self._may_retry(i):
                # a group failed as a whole (its builder crashed, ran out of memory): each
                # point is tried on its own, so that a failure names its point
                continue
            yield from self._fail(i, exit_code, with_cause(reason, tail), tail, machine)
        yield self.progress()

    def _may_retry(self, i: int) -> bool:
        """Queue point ``i`` (of a group) to be computed again on its own, once."""
        if self.drv[i] == self.plan.points[i].drv or i in self._retried:
            return False
        self._retried.add(i)
        self._set(i, Status.QUEUED)
        self.start.pop(i, None)
        self.assign_own(i)
        self.manifest.update(i, status=Status.QUEUED, machine="")
        self._retry.append(i)
        return True

    def take_retry(self) -> list[int]:
        """Points that failed inside a group since the last call: to be computed on their
        own, so that their failure is Nix's failure of their own build (never cached) and
        not an entry of a group's output."""
        retry, self._retry = self._retry, []
        return retry

    def fail_open(self, reason: str, indices: list[int] | None = None) -> None:
        """Fail every point still to build (of ``indices``) with ``reason``, no build run;
        ``settle`` then reports them."""
        for i in self.to_build if indices is None else indices:
            if self.status[i] in OPEN:
                self._set(i, Status.UNBUILDABLE)
                self._unbuildable[i] = reason

    def take_lost(self) -> list[int]:
        """Points whose builder went away since the last call (to build them again)."""
        lost, self._lost = self._lost, []
        return lost

    # -- transitions ------------------------------------------------------------------------
    def _finish(self, i: int, tail: list[str], together: int = 1) -> Iterator[BuildEvent]:
        p = self.plan.points[i]
        out = self.out[i]
        seconds = time.monotonic() - self.start[i] if i in self.start else None
        if seconds is not None:
            seconds /= max(1, together)  # a group's time, shared by its points
        machine = self.machine.get(i, "")
        try:
            # the builder checked the result before the build could succeed (strict JSON, an
            # object); reading it again here would cost the engine ~3 ms per point
            if not os.path.isfile(os.path.join(out, "result.json")):
                read_result(out)  # raises, saying why (a group's error.json, or missing)
        except ResultError as exc:
            if out != p.identity and os.path.exists(os.path.join(out, "error.json")):
                # The model failed on this point inside a group: the group's output says so,
                # and that output is cached like any other. It is rooted (collected alone, the
                # group would be half valid), never indexed nor read as a result, and the
                # point is computed again on its own, where a failure is Nix's failure of the
                # point's own build, which is never cached.
                self.root(i)
                if self._may_retry(i):
                    return
            yield from self._fail(i, exc.exit_code, str(exc), exc.log_tail or tail, machine)
            return
        self._set(i, Status.BUILT)
        if seconds is not None:
            self.durations.append(seconds)
            self._duration_sum += seconds
        self.root(i)
        if self.index is not None:
            self.index.record(p.identity, out)
        self.manifest.update(i, status=Status.BUILT, seconds=seconds, machine=machine or "local",
                             error=None, exit_code=None, log_tail=[], finished=now_iso())
        yield PointFinished(i, out, seconds or 0.0, machine)

    def _fail(self, i: int, exit_code: int | None, reason: str, tail: list[str],
              machine: str) -> Iterator[BuildEvent]:
        # whatever the source (Nix's log, a batch's error.json, a result file), a point's
        # reason and log tail stay small: a model printing megabytes must not bloat the
        # manifest or the events
        reason = cap(reason)
        tail = _cap_tail(tail)
        self._set(i, Status.FAILED)
        seconds = time.monotonic() - self.start[i] if i in self.start else None
        self.manifest.update(i, status=Status.FAILED, error=reason, exit_code=exit_code,
                             log_tail=list(tail), machine=machine or "local", seconds=seconds,
                             finished=now_iso())
        yield PointFailed(i, exit_code, tuple(tail), reason, machine)

    def root(self, i: int, roots: RootAdder | None = None) -> None:
        """Protect point ``i``'s output from garbage collection (checked in check_roots)."""
        if roots is not None:
            self._roots = roots
        if self._roots is None:
            return
        link = root_link(self.state_dir, i, self.plan.points[i].name)
        self._rooted[i] = link
        self._roots.add(link, self.out[i])

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

    def settle(self, cancelled: bool, roots: RootAdder | None = None) -> Iterator[BuildEvent]:
        """Decide every point still open by asking the store."""
        if roots is not None:
            self._roots = roots
        for i, reason in sorted(self._unbuildable.items()):
            yield from self._fail(i, None, reason, [], "")
        self._unbuildable.clear()
        open_ = [i for i in self.to_build if self.status[i] in OPEN]
        built = [i for i in self.to_build if self.status[i] == Status.BUILT]
        invalid = invalid_paths(self.out[i] for i in open_ + built)
        for i in built:
            # an output seen on disk but never registered (Nix stopped in between)
            if self.out[i] in invalid:
                self._unroot(i)
                if cancelled:
                    self._set(i, Status.CANCELLED)
                    self.manifest.update(i, status=Status.CANCELLED, finished=None)
                else:
                    yield from self._fail(i, None, "Nix did not register the output",
                                          [], self.machine.get(i, ""))
        why = self.messages[-1] if self.messages else "Nix did not build it"
        if "unable to start any build" in why:
            # Nix blames "system features"; the real cause is in its messages about builders
            why = self._explain_no_builder(self.messages) or why
        for i in open_:
            if self.out[i] not in invalid:
                yield from self._finish(i, [])
            elif cancelled:
                self._set(i, Status.CANCELLED)
                self.manifest.update(i, status=Status.CANCELLED)
            else:
                yield from self._fail(i, None, why, [], self.machine.get(i, ""))

    # -- summaries ----------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        c = self._counts
        return {Status.CACHED: c[Status.CACHED], Status.BUILT: c[Status.BUILT],
                Status.RUNNING: c[Status.RUNNING] + c[Status.STOPPED],
                Status.FAILED: c[Status.FAILED], Status.QUEUED: c[Status.QUEUED]}

    def progress(self) -> Progress:
        c = self.counts()
        eta = None
        now = time.monotonic()
        mean = None
        if self.durations:
            mean = self._duration_sum / len(self.durations)
        elif c[Status.BUILT]:
            # points finished whose start Nix did not report: the run's pace instead
            mean = (now - self._t0) * max(1, self.max_running) / c[Status.BUILT]
        if mean is not None:
            left = c[Status.QUEUED] * mean + sum(
                max(0.0, mean - (now - self.start[i])) for i in self._running if i in self.start)
            eta = left / max(1, self.max_running)
            if eta == 0.0 and c[Status.RUNNING]:
                eta = None  # running longer than the mean: not "0:00", but unknown
        elif c[Status.QUEUED] == 0 and c[Status.RUNNING] == 0:
            eta = 0.0
        return Progress(cached=c[Status.CACHED], built=c[Status.BUILT], running=c[Status.RUNNING],
                        failed=c[Status.FAILED], queued=c[Status.QUEUED], eta_seconds=eta)

    def finished(self, exit_code: int | None, seconds: float) -> RunFinished:
        c = self.counts()
        per_machine: dict[str, dict[str, float]] = {}
        for i in self.to_build:
            if self.status[i] not in (Status.BUILT, Status.FAILED):
                continue
            m = per_machine.setdefault(self.machine.get(i) or "local",
                                       {"built": 0, "failed": 0, "seconds": 0.0})
            m[self.status[i]] += 1
            if self.status[i] == Status.BUILT and i in self.start:
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


def _cap_tail(tail: Iterable[object]) -> list[str]:
    """The last lines of ``tail``, each capped, MAX_TAIL characters in all."""
    out: list[str] = []
    total = 0
    for line in reversed([cap(str(x)) for x in tail]):
        total += len(line)
        if total > MAX_TAIL and out:
            break
        out.append(line)
    return out[::-1]
