"""The sweep engine: plan, then one Nix build for all points, as a stream of typed events.

No Qt here: the CLI renders the events as a progress bar, the GUI's worker turns them into
signals. A run is a generator; cancel it with a ``threading.Event``.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from ._nixcmd import NixError, nix_command, nix_env, option_args, require_nix, user_configured
from .events import (
    BuildEvent,
    Planned,
    PointCached,
    PointLog,
    RunMessage,
)
from .gcroots import RootAdder
from .index import ResultIndex
from .interpreter import InterpreterInfo, build_user_paths, detect_interpreter
from .logparse import (
    DependenciesFailed,
    DrvFailed,
    DrvLog,
    DrvStarted,
    DrvStopped,
    Event,
    LogParser,
    NixMessage,
)
from .manifest import ManifestSweep, ManifestWriter, initial_manifest
from .modelsrc import ModelSource, builtin_model_source, custom_model_source
from .plan import (
    Plan,
    PointInput,
    auto_group_size,
    default_state_dir,
    evaluate_paths,
    group_points,
    plan_points,
    sweep_nix,
    write_points_file,
)
from .process import NixProcess
from .run_state import RunState
from .setup import (
    SINGLE_USER,
    BuilderRoute,
    NixSetup,
    detect_setup,
    route_builders,
    unreadable_for_build_users,
)
from .store import ResultError, invalid_paths, read_result

_log = logging.getLogger(__name__)

# what a build step yields, and returns: Nix's exit code (None: cancelled)
_Build = Generator[BuildEvent, None, int | None]


class EngineSweep(ManifestSweep, Protocol):
    """What the engine reads of a sweep (a sweepgui.sweep.Sweep is one): its points (as
    parameter models, nested dicts or canonical JSON), dimensions, coordinates and content
    hash. Where the sweep has them, its ``run`` settings (jobs, batch, timeout), ``source``,
    ``machines_path()`` and ``model_executable_path()`` are used too."""

    def points(self) -> Iterable[BaseModel | PointInput]: ...


class NixSetupError(NixError):
    """The Nix set-up cannot run this sweep as asked (e.g. remote builders only, and none
    that Nix would use); the message says why and how to fix it."""


class Engine:
    """Plans and builds sweeps with Nix.

    Parameters
    ----------
    state_dir : Path, optional
        Where the manifest, GC roots and plan cache go. Default: the sweep's own folder,
        ``<folder>/.sweepgui/<file name>/<content hash>/`` next to the sweep file
        (``~/.local/share/sweepgui/unsaved/<hash>/`` for a sweep without a file): see
        :func:`sweepgui.nix.plan.default_state_dir`.
    nix_options : dict, optional
        Extra ``--option NAME VALUE`` pairs for every Nix call. Unless given here or in
        NIX_CONFIG, ``substituters`` is set empty (an offline lookup costs seconds per call).
    """

    def __init__(self, state_dir: Path | None = None, nix_options: Mapping[str, object] | None = None,
                 warm_model: bool = True, batch: int | None = None,
                 index: ResultIndex | None = None):
        self._state_dir = Path(state_dir) if state_dir else None
        # points per derivation: None = the sweep's [run] batch, else automatic (see
        # group_size); batch=1 overrides a sweep's [run] batch (one point per derivation).
        # Whatever the grouping, each point keeps its own identity and is reused alone
        # (index.py).
        self._batch = batch if batch and batch >= 1 else None
        self._index = index
        self._warm_model = warm_model
        self._user_options = dict(nix_options or {})
        # a builder's URI as Nix reports it -> as the user wrote it
        self._display: Callable[[str], str] = lambda uri: uri

    # -- setup ----------------------------------------------------------------------------
    def state_dir(self, sweep: EngineSweep) -> Path:
        return self._state_dir or default_state_dir(sweep)

    def options(self, interp: InterpreterInfo | None = None) -> dict[str, str]:
        opts: dict[str, str] = {}
        if "substituters" not in self._user_options and not user_configured("substituters"):
            opts["substituters"] = ""
        interp = interp or detect_interpreter()
        if (interp.mode == "host" and os.geteuid() == 0
                and "build-users-group" not in self._user_options
                and not user_configured("build-users-group")
                and detect_setup().mode == SINGLE_USER
                and unreadable_for_build_users(build_user_paths(interp))):
            # root owning the store, with build users (nixbld*) who cannot run a Python
            # under /root: build as root instead
            opts["build-users-group"] = ""
        opts.update({k: str(v) for k, v in self._user_options.items()})
        return opts

    @staticmethod
    def setup() -> NixSetup:
        """The Nix set-up of this user (single-user or daemon, trust, the daemon's builders)."""
        return detect_setup()

    def route(self, sweep: EngineSweep, jobs: int | None = None,
              machines: Path | None = None) -> BuilderRoute:
        """The remote builders a run of ``sweep`` would use, with the warnings to give first
        (``error``: nothing could build it). Raises MachinesError for a malformed file."""
        jobs, machines = self._jobs_and_machines(sweep, jobs, machines)
        return route_builders(self.setup(), machines, jobs)

    @staticmethod
    def _jobs_and_machines(sweep: EngineSweep, jobs: int | None,
                           machines: Path | None) -> tuple[int, Path | None]:
        # jobs=0 is meaningful (no local builds: remote builders only), so test for None
        sweep_jobs = getattr(getattr(sweep, "run", None), "jobs", None)
        if jobs is None:
            jobs = sweep_jobs if sweep_jobs is not None else os.cpu_count() or 1
        if machines is None and hasattr(sweep, "machines_path"):
            machines = sweep.machines_path()
        return jobs, machines

    def batch_size(self, sweep: EngineSweep) -> int | None:
        """Points per derivation if set: the engine's own setting, else the sweep's
        ``[run] batch``; None = automatic (group_size)."""
        if self._batch:
            return self._batch
        k = getattr(getattr(sweep, "run", None), "batch", None)
        return k if isinstance(k, int) and k >= 1 else None

    @staticmethod
    def group_size(explicit: int | None, model: ModelSource | None, points: int,
                   slots: int, remote: bool = False) -> int:
        """Points per derivation for a build of ``points`` points on ``slots`` build slots.

        An explicit size wins. Otherwise the built-in model (milliseconds per point, where
        Nix's per-build cost and the interpreter's start would dominate) is grouped, about
        two groups per slot (plan.auto_group_size). A custom model's cost is unknown: on
        this machine alone it gets one derivation per point (a local build costs ~50 ms, and
        per-point progress stays live); with remote builders it is grouped like the built-in
        model, because there every build also costs an ssh session, input copies and Nix
        2.8's build-hook round trips, about a second each (60 one-second points on 6 slots:
        48 % of ideal one per build, 78 % in groups; benchmarks/bench_distribution.py).
        """
        if explicit:
            return explicit
        if model is None or (model.kind != "builtin" and not remote):
            return 1
        return auto_group_size(points, slots)

    def result_index(self) -> ResultIndex:
        if self._index is None:
            self._index = ResultIndex()
        return self._index

    def check_inputs(self, sweep: EngineSweep, machines: Path | None = None) -> None:
        """Raise for what would stop a run of ``sweep`` at once: Nix missing or its store
        out of reach, or an interpreter the build users cannot run (NixError), the custom
        model missing or not executable (FileNotFoundError, PermissionError), the machines
        file missing or malformed (MachinesError). Nothing is written."""
        require_nix()
        setup = self.setup()
        if not setup.usable:
            raise NixError(setup.store_error)
        interp = detect_interpreter()
        if setup.daemon and interp.mode == "host":
            problem = unreadable_for_build_users(build_user_paths(interp))
            if problem:
                raise NixError(problem)
        exe = sweep.model_executable_path() if hasattr(sweep, "model_executable_path") else None
        if exe:
            custom_model_source(exe)
        if machines is not None:
            from .machines import MachinesFile

            MachinesFile.load(Path(machines).expanduser()).all_machines()

    @staticmethod
    def model_source(sweep: EngineSweep) -> ModelSource:
        exe = sweep.model_executable_path() if hasattr(sweep, "model_executable_path") else None
        return custom_model_source(exe) if exe else builtin_model_source()

    # -- plan -----------------------------------------------------------------------------
    def plan(self, sweep: EngineSweep) -> Plan:
        """Store paths of all points and which are cached (no build, no .drv written)."""
        require_nix()
        interp = detect_interpreter()
        model = self.model_source(sweep)
        options = self.options(interp)
        cache: tuple[Path, str] | None = None
        if hasattr(sweep, "content_hash"):
            from .plancache import cache_key

            cache = (self.state_dir(sweep), cache_key(sweep.content_hash(), model, interp,
                                                      options))

        def points() -> list[PointInput]:
            return [p if isinstance(p, (dict, str)) else p.model_dump(mode="json")
                    for p in sweep.points()]

        return plan_points(points, model, interp, options, cache, self.result_index())

    # -- run ------------------------------------------------------------------------------
    def run(self, sweep: EngineSweep, jobs: int | None = None, machines: Path | None = None,
            cancel: threading.Event | None = None,
            only: set[int] | None = None, timeout: int | None = None) -> Iterator[BuildEvent]:
        """Build the sweep's missing points; yields events, the last one RunFinished.

        ``timeout``: seconds a point may take to build (default: the sweep's ``[run]
        timeout``, else none); a point that takes longer fails "timed out after N s".
        """
        t0 = time.monotonic()
        cancel = cancel or threading.Event()
        state_dir = self.state_dir(sweep)
        jobs, machines = self._jobs_and_machines(sweep, jobs, machines)
        if timeout is None:
            timeout = getattr(getattr(sweep, "run", None), "timeout", None)
        if timeout is not None and timeout < 1:
            raise ValueError(f"timeout {timeout}: give at least 1 second")
        # Everything the user can get wrong fails here, before the state folder, the
        # manifest or any progress exists: a bad sweep, no Nix, a missing or non-executable
        # model, a missing or malformed machines file, builders the daemon will not use
        # while nothing else could build.
        sweep.points()
        self.check_inputs(sweep, machines)
        route = route_builders(self.setup(), machines, jobs)
        if route.error:
            raise NixSetupError(route.error)
        state_dir.mkdir(parents=True, exist_ok=True)
        plan = self.plan(sweep)

        manifest = ManifestWriter(state_dir, initial_manifest(sweep, plan, state_dir, only))
        roots = RootAdder()
        # GC roots are only ever added here (a link is replaced only by its own point's new
        # output): roots of points no longer in a sweep belong to another sweep's state
        from .machines import explain_no_builder, lost_builder

        index = self.result_index()
        st = RunState(plan, manifest, state_dir, only, roots=roots, index=index,
                      lost_builder=lost_builder, explain_no_builder=explain_no_builder)
        group = self.batch_size(sweep)
        ended = False
        try:
            yield Planned(points=len(plan.points), cached=plan.cached, to_build=len(st.to_build))
            for text in route.warnings:
                yield RunMessage("warning", text)
            for p in plan.points:
                if p.cached:
                    st.root(p.index)
                    yield PointCached(p.index, p.out_path)
            manifest.flush()
            yield st.progress()

            rc: int | None = 0
            if st.to_build and not cancel.is_set():
                rc = yield from self._build(plan, st, roots, jobs, route, cancel,
                                            timeout=timeout, group=group)
                # A builder that dies mid-build takes its running points with it (Nix does not
                # retry them): build those again on the machines still there (MACHINES
                # stream). A point whose model failed inside a group is computed again on its
                # own: only its own build's failure is the point's (and is never cached).
                for _attempt in range(3):
                    lost, retry = st.take_lost(), st.take_retry()
                    if not (lost or retry) or cancel.is_set():
                        break
                    if lost:
                        yield RunMessage("warning", f"{len(lost)} point(s) lost with their "
                                         "builder: building them again")
                    if retry:
                        yield RunMessage("info", f"{len(retry)} point(s) failed inside a group "
                                         "of points: computing each on its own")
                    rc = yield from self._build(plan, st, roots, jobs, route, cancel,
                                                lost + retry, timeout=timeout, group=1)
            else:
                st.cancelled = cancel.is_set()

            yield from st.settle(cancelled=st.cancelled, roots=roots)
            # every result has its root, whatever happened to the state folder meanwhile
            st.check_roots()
            ended = True
            manifest.flush()
            yield st.progress()
            yield st.finished(rc, time.monotonic() - t0)
        except BaseException as exc:
            if not ended:
                # a run ending early (the consumer closed the generator, an error): the
                # points finished so far keep their roots, and a failure to root them is
                # said, not lost with the threads that met it
                self._root_before_leaving(st, exc)
            raise
        finally:
            roots.close()
            index.flush()
            # also when the consumer stops early (generator closed): what is known is kept
            manifest.flush()

    @staticmethod
    def _root_before_leaving(st: RunState, exc: BaseException) -> None:
        try:
            st.check_roots()
        except Exception as err:
            st.root_error = f"the GC roots of this run could not be checked: {err}"
        if st.root_error:
            _log.warning("%s", st.root_error)
            if not isinstance(exc, GeneratorExit):
                exc.add_note(st.root_error)

    def _build(self, plan: Plan, st: RunState, roots: RootAdder, jobs: int,
               route: BuilderRoute, cancel: threading.Event, indices: list[int] | None = None,
               timeout: int | None = None, group: int | None = None) -> _Build:
        nix_setup = self.setup()
        opts = self.options(plan.interpreter)
        env = nix_env()
        builder_args: list[str] = []
        from .machines import BuilderSetup, builder_setup

        if route.machines_file:
            setup = builder_setup(route.machines_file, workdir=st.state_dir / "builders")
            for name, why in setup.skipped:  # MACHINES: dead builders are left out
                yield RunMessage("warning", f"builder {name} left out of this run: {why}")
            if not setup.usable and jobs == 0:
                # nothing could take a point: say why at once (Nix would wait, or hang in
                # the handshake of a stalled builder)
                reasons = "; ".join(why if name in why else f"{name}: {why}"
                                    for name, why in setup.skipped)
                st.fail_open(f"no remote builder could take this point: {reasons}. "
                             f"(`sweepgui machines check --file {route.machines_file}` checks "
                             "every builder)", indices)
                return 1
            builder_args = list(setup.args)
            env.update(setup.env)
        else:  # the builders Nix (or the daemon) has configured itself, if any
            setup = BuilderSetup("", {}, route.machines)
            if route.machines:  # (a machines file's setup.args set it too)
                opts.setdefault("build-poll-interval", "1")
        self._display = setup.display_name
        # groups for the slots this run really has: the local jobs and the builders not left out
        wanted = st.to_build if indices is None else indices
        slots = jobs + sum(max(1, m.max_jobs or 1) for m in setup.usable)
        units = group_points(wanted, self.group_size(group, plan.model, len(wanted), slots,
                                                     remote=bool(setup.usable)))
        if timeout is not None:
            # Nix's `timeout` (its alias `build-timeout` is the name a nix-daemon accepts from
            # any user, see UNTRUSTED_OK): Nix kills a build running longer. A group is one
            # build: it gets the time of all its points.
            per_build = max((len(u) for u in units), default=1)
            opts.setdefault("build-timeout", str(int(timeout) * per_build))
        opts = nix_setup.accepted_options(opts)
        server = None
        # Builds running as Nix build users (a daemon's, or root's nixbld*) cannot reach
        # this user's warm model processes (their socket folder is this user's alone):
        # they compute each point themselves, so none are started.
        if (self._warm_model and plan.model is not None and plan.model.kind == "builtin"
                and plan.model_store_path and jobs > 0 and not self._build_users(opts)):
            from .server import ModelServer

            # densities from the equation of state (canonical JSON: keys sorted, compact)
            eos = any('"fluid":{"density":null' in plan.points[i].parameters_json
                      for u in units for i in u)
            server = ModelServer(plan.interpreter, plan.model_store_path, workers=jobs,
                                 preload_eos=eos)
        # With warm model processes the computing is limited to `jobs` workers; letting
        # Nix run twice as many builders hides its per-build latency (~25 ms) behind them.
        nix_jobs = 2 * jobs if server is not None and server.ready else jobs
        try:
            rc = yield from self._nix_build(plan, st, roots, nix_jobs, opts, env, builder_args,
                                            cancel, units)
        finally:
            if server is not None:
                server.stop()
        return rc

    def _build_users(self, opts: dict[str, str]) -> bool:
        """Whether builds run as Nix build users who cannot reach this user's warm model
        processes: under a daemon (the user's are private to the user). Root's builds as
        the build users reach root's (see modelserver.py)."""
        if self.setup().daemon:
            return True
        return (self.setup().build_users and opts.get("build-users-group", None) != ""
                and os.geteuid() != 0)

    def _nix_build(self, plan: Plan, st: RunState, roots: RootAdder, jobs: int,
                   opts: dict[str, str], env: dict[str, str], builder_args: list[str],
                   cancel: threading.Event, units: list[list[int]]) -> _Build:
        with tempfile.TemporaryDirectory(prefix="sweepgui-build-") as tmp:
            points_file = Path(tmp) / "points.json"
            flat = [i for u in units for i in u]
            entries = [(plan.points[i].name, plan.points[i].parameters_json) for i in flat]
            pos = {i: k for k, i in enumerate(flat)}
            local_units = [[pos[i] for i in u] for u in units]
            if any(len(u) > 1 for u in units):
                # the groups' derivations and outputs: one evaluation (no .drv written)
                paths, _ = evaluate_paths(entries, plan.nix_args, opts, local_units)
                for i, (drv, out) in zip(flat, paths):
                    st.assign(i, drv, out)
            else:
                for i in flat:
                    if st.drv[i] != plan.points[i].drv:
                        st.assign_own(i)
            write_points_file(points_file, entries, local_units)
            args = [nix_command("nix-build"), str(sweep_nix()), "-A", "aggregate",
                    "--argstr", "pointsFile", str(points_file), *plan.nix_args,
                    "--no-out-link", "--log-format", "internal-json", "--keep-going",
                    "--max-jobs", str(jobs), *builder_args, *option_args(opts)]
            proc = NixProcess(args, env)
            parser = LogParser()
            last_progress = time.monotonic()
            try:
                for line in proc.lines(timeout=0.1):
                    if cancel.is_set():
                        st.cancelled = True
                        proc.stop()
                        break
                    if line is not None:
                        for ev in parser.feed(line):
                            yield from self._handle(ev, st, parser, roots)
                    if time.monotonic() - last_progress > 1.0:
                        last_progress = time.monotonic()
                        st.manifest.maybe_flush()
                        yield st.progress()
            finally:
                if proc.proc.poll() is None and (cancel.is_set() or st.cancelled):
                    proc.stop()
                elif proc.proc.poll() is None:
                    # the consumer stopped iterating (e.g. the GUI closed): no orphans
                    proc.stop()
                rc = proc.wait()
        if st.cancelled:
            return None
        return rc

    def _handle(self, ev: Event, st: RunState, parser: LogParser,
                roots: RootAdder) -> Iterator[BuildEvent]:
        if isinstance(ev, DrvStarted):
            yield from st.started(ev.drv, self._display(ev.machine))
        elif isinstance(ev, DrvLog):
            for i in st.log_points(ev.drv, ev.line):
                yield PointLog(i, ev.line)
        elif isinstance(ev, DrvStopped):
            yield from st.stopped(ev.drv, parser.tail_of(ev.drv), roots)
        elif isinstance(ev, DrvFailed):
            yield from st.failed(ev.drv, ev.exit_code, ev.reason, parser.tail_of(ev.drv),
                                 self._display(ev.machine or parser.machine_of(ev.drv)))
        elif isinstance(ev, DependenciesFailed):
            pass  # the aggregator: its inputs' failures were reported one by one
        elif isinstance(ev, NixMessage):
            if ev.level in ("error", "warning") and "sweepgui-sweep.drv" not in ev.text:
                st.messages.append(ev.text)
                yield RunMessage(ev.level, ev.text)


__all__ = ["Engine", "NixError", "NixSetupError", "ResultError", "invalid_paths", "read_result"]
