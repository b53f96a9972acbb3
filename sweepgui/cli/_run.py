"""``sweepgui run`` and ``sweepgui plan``: build a sweep with Nix, or show what a run would do.

``run`` draws a progress bar (counts and ETA) on stderr -- plain lines when stderr is not a
terminal -- prints each failure with its log tail, and a summary; ``--json`` prints one
object on stdout at the end. Exit codes: 0 every point done, 1 some failed (or results left
without a GC root), 2 bad input, 130 cancelled with Ctrl-C (SIGINT), 143 cancelled with
SIGTERM (``kill``, a service manager, a CI job ending): either way the points finished before
are kept, the manifest is written and the temporary files are removed. 143 = 128 + 15 is the
code of a process ended by SIGTERM, so a supervisor sees "terminated as asked", and a script
can tell it from a Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from sweepgui.sweep.status import DONE, Status

from . import UserError

if TYPE_CHECKING:
    from sweepgui.nix import Engine
    from sweepgui.nix.events import BuildEvent, PointFailed, Progress, RunFinished
    from sweepgui.sweep import Sweep


def register(subparsers: argparse._SubParsersAction) -> None:
    r = subparsers.add_parser(
        "run", help="build every point of a sweep with Nix (cached points are reused)",
        description="Build the points of SWEEP.toml as Nix derivations. Points already in the "
        "Nix store are reused; results stay safe from nix-collect-garbage (GC roots in "
        "<folder>/.sweepgui/<file name>/<sweep hash>/gcroots).")
    r.add_argument("sweep", metavar="SWEEP.toml")
    r.add_argument("--machines", metavar="FILE", help="a Nix machines file of remote builders "
                   "(default: [run] machines of the sweep file)")
    r.add_argument("--jobs", "-j", type=int, metavar="N",
                   help="points built at once on this machine (default: [run] jobs, else cores)")
    r.add_argument("--json", action="store_true", help="one JSON object with every result on stdout")
    r.add_argument("--timeout", type=int, metavar="SECONDS",
                   help="a point taking longer fails (\"timed out\"), the others go on "
                   "(default: [run] timeout of the sweep file, else no limit)")
    r.add_argument("--batch", type=int, metavar="K",
                   help="compute K points per Nix build (1: one derivation per point; "
                   "default: [run] batch of the sweep file, else automatic: about two groups "
                   "per build slot for the built-in model, one point per build for a custom "
                   "model). Every point is still cached and reused on its own")
    r.set_defaults(handler=_run)

    p = subparsers.add_parser("plan", help="show which points are cached and which would be built",
                              description="Evaluate the store paths of a sweep's points (nothing "
                              "is built) and ask the Nix store which already exist.")
    p.add_argument("sweep", metavar="SWEEP.toml")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--batch", type=int, metavar="K",
                   help="accepted as for run; the plan does not depend on it (grouping is "
                   "decided when building, and each point is cached on its own)")
    p.add_argument("--machines", metavar="FILE", help="plan with this machines file (as run)")
    p.add_argument("--jobs", "-j", type=int, metavar="N", help="local jobs (as run)")
    p.set_defaults(handler=_plan)


def _load(path: str) -> Sweep:
    from sweepgui.sweep import SweepError, load_sweep

    if Path(path).is_dir():
        raise UserError(f"{path} is a folder: give a sweep file (.toml), e.g. "
                        "resources/examples/quickstart.toml")
    if not Path(path).is_file():
        raise UserError(f"{path}: no such sweep file")
    try:
        sweep = load_sweep(path)
        sweep.points()  # every point checked before anything runs
    except SweepError as exc:
        raise UserError(str(exc)) from None
    exe = sweep.model_executable_path()
    if exe is not None:
        from sweepgui.nix.modelsrc import custom_model_source

        try:
            custom_model_source(exe)
        except (FileNotFoundError, PermissionError) as exc:
            raise UserError(str(sweep.error(str(exc), "model", "executable"))) from None
    return sweep


def _check_machines(sweep: Sweep, machines: Path | None, jobs: int | None) -> Path | None:
    """The machines file of this run (--machines, else the sweep's [run] machines), read
    and checked before anything runs; an error names the option or the sweep file's line."""
    from sweepgui.nix.machines import MachinesError, MachinesFile

    path = machines if machines is not None else sweep.machines_path()
    if path is None:
        return None

    def fail(reason: str) -> UserError:
        if machines is not None:
            return UserError(f"--machines {machines}: {reason}")
        return UserError(str(sweep.error(reason, "run", "machines")))

    try:
        found = MachinesFile.load(path.expanduser()).all_machines()
    except MachinesError as exc:
        raise fail(str(exc)) from None
    if not found and (jobs if jobs is not None else sweep.run.jobs) == 0:
        raise fail(f"{path} lists no machine, and 0 local jobs build nothing: add a machine "
                   "(`sweepgui machines add`) or allow local jobs")
    return path


def _say(exc: BaseException) -> str:
    """One line for an engine error; an OSError as 'file: what went wrong'."""
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


def _engine_errors() -> tuple[type[Exception], ...]:
    from sweepgui.nix import NixError

    # OSError: the state folder cannot be made or written (a file in its way, a read-only
    # disk, no space left), the model file cannot be read, ...
    from sweepgui.nix.machines import MachinesError

    return (NixError, OSError, MachinesError)


def _plan(args: argparse.Namespace) -> int:
    from sweepgui.nix import Engine

    sweep = _load(args.sweep)
    if args.batch is not None and args.batch < 1:
        raise UserError(f"--batch {args.batch}: give at least 1")
    machines = Path(args.machines) if args.machines else None
    engine = Engine(batch=args.batch)
    route = None
    try:  # a plan needs no builders, but should say that `run` would stop at them
        _check_machines(sweep, machines, args.jobs)
        route = engine.route(sweep, args.jobs, machines)
        if route.error:
            raise UserError(route.error)
    except UserError as exc:
        print(f"sweepgui: warning: {exc} (`sweepgui run` stops here)", file=sys.stderr)
    except _engine_errors() as exc:
        print(f"sweepgui: warning: {_say(exc)} (`sweepgui run` stops here)", file=sys.stderr)
    for text in route.warnings if route else ():
        print(f"sweepgui: warning: {text}", file=sys.stderr)
    try:
        plan = engine.plan(sweep)
    except _engine_errors() as exc:
        raise UserError(_say(exc)) from None
    state = engine.state_dir(sweep)
    setup = engine.setup()
    if args.json:
        _emit_json({
            "points": len(plan.points), "cached": plan.cached, "to_build": plan.to_build,
            "interpreter": {"mode": plan.interpreter.mode, "python": plan.interpreter.python,
                            "description": plan.interpreter.description},
            "state_dir": str(state),
            "nix": {"version": setup.version, "mode": setup.mode, "trusted": setup.trusted},
            "builders": {"source": route.source if route else "",
                         "machines": [m.name for m in route.machines] if route else []},
            "plan": [{"index": p.index, "name": p.name, "coordinates": sweep.coordinates(p.index),
                      "store_path": p.out_path, "cached": p.cached} for p in plan.points],
        }, indent=1)
        return 0
    print(f"{len(plan.points)} points: {plan.cached} cached, {plan.to_build} to build")
    print(f"interpreter: {plan.interpreter.description}")
    print(f"nix: {setup.summary()}")
    if route and route.machines:
        print(f"builders: {', '.join(m.name for m in route.machines)} -- {route.source}")
    elif route:
        print("builders: none (every point builds on this computer)")
    print(f"state: {state}")
    return 0


class _Bar:
    """Progress on stderr: one rewritten line on a terminal, a line every few s otherwise."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr  # looked up now: sys.stderr may have been replaced
        self.tty = self.stream.isatty()
        self._last = 0.0
        self._shown = ""

    def show(self, pr: Progress, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < (0.1 if self.tty else 2.0):
            return
        self._last = now
        total = max(1, pr.total)
        eta = "" if pr.eta_seconds is None else f"  ETA {_hms(pr.eta_seconds)}"
        text = (f"{pr.done}/{pr.total} done ({pr.built} built, {pr.cached} cached, "
                f"{pr.failed} failed, {pr.running} running){eta}")
        if self.tty:
            width = 24
            fill = int(width * pr.done / total)
            line = f"[{'#' * fill}{'.' * (width - fill)}] {text}"
            self.stream.write("\r\x1b[2K" + line)
            self._shown = line
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def say(self, text: str) -> None:
        if self.tty and self._shown:
            self.stream.write("\r\x1b[2K")
        self.stream.write(text + "\n")
        self.stream.flush()
        self._last = 0.0

    def close(self) -> None:
        if self.tty and self._shown:
            self.stream.write("\n")
            self.stream.flush()


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _run(args: argparse.Namespace) -> int:
    """``sweepgui run``: check everything a user can get wrong, run with a progress bar, say
    what happened, exit 0 (all done), 1 (failures, or results without a GC root), 2 (bad
    input), 130/143 (stopped by Ctrl-C / SIGTERM)."""
    sweep = _load(args.sweep)
    machines = Path(args.machines) if args.machines else None
    engine = _checked_engine(args, sweep, machines)
    status: dict[int, dict[str, Any]] = {}
    finished, stopped_by = _run_with_progress(args, engine, sweep, machines, status)
    state = engine.state_dir(sweep)
    if not finished.cancelled:
        _write_summary(state)
    _print_summary(args, finished, state)
    if args.json:
        _print_json(sweep, engine, finished, status, state)
    if finished.cancelled:
        return 143 if signal.SIGTERM in stopped_by else 130
    return 1 if finished.failed or finished.unrooted else 0


def _checked_engine(args: argparse.Namespace, sweep: Sweep, machines: Path | None) -> Engine:
    """The engine for this run, once nothing a user can get wrong stops it: the options, Nix,
    the model, the builders. Said before a state folder or a progress line exists."""
    from sweepgui.nix import Engine

    # --jobs 0: no local builds, remote builders only (the engine checks that some builder
    # will take the points: yours, or the nix-daemon's)
    if args.jobs is not None and args.jobs < 0:
        raise UserError(f"--jobs {args.jobs}: give at least 1, or 0 for remote builders only")
    if args.batch is not None and args.batch < 1:
        raise UserError(f"--batch {args.batch}: give at least 1")
    if args.timeout is not None and args.timeout < 1:
        raise UserError(f"--timeout {args.timeout}: give at least 1 (seconds)")
    _check_machines(sweep, machines, args.jobs)
    engine = Engine(batch=args.batch)
    try:
        engine.check_inputs(sweep)
        route = engine.route(sweep, args.jobs, machines)
    except _engine_errors() as exc:
        raise UserError(_say(exc)) from None
    if route.error:
        raise UserError(route.error)
    return engine


def _run_with_progress(args: argparse.Namespace, engine: Engine, sweep: Sweep,
                       machines: Path | None, status: dict[int, dict[str, Any]]
                       ) -> tuple[RunFinished, list[int]]:
    """Run, drawing the progress bar; each point's outcome goes into ``status``. Ctrl-C or
    SIGTERM cancel the run (what is done is kept); returns the end and the signals seen."""
    cancel = threading.Event()
    stopped_by: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopped_by.append(signum)
        cancel.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    bar = _Bar()
    finished: RunFinished | None = None
    try:
        for ev in engine.run(sweep, jobs=args.jobs, machines=machines, cancel=cancel,
                             timeout=args.timeout):
            finished = _take_event(ev, sweep, bar, status) or finished
    except _engine_errors() as exc:
        bar.close()
        raise UserError(_say(exc)) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    bar.close()
    assert finished is not None
    return finished, stopped_by


def _take_event(ev: BuildEvent, sweep: Sweep, bar: _Bar,
                status: dict[int, dict[str, Any]]) -> RunFinished | None:
    """One engine event: a point's outcome into ``status``, progress and messages to the bar."""
    from sweepgui.nix.events import PointCached, PointFailed, PointFinished, Progress, RunFinished, RunMessage

    if isinstance(ev, PointCached):
        status[ev.index] = {"status": Status.CACHED, "store_path": ev.store_path}
    elif isinstance(ev, PointFinished):
        status[ev.index] = {"status": Status.BUILT, "store_path": ev.store_path,
                            "machine": ev.machine or "local", "seconds": ev.seconds}
    elif isinstance(ev, PointFailed):
        status[ev.index] = {"status": Status.FAILED, "machine": ev.machine or "local",
                            "error": ev.reason, "exit_code": ev.exit_code}
        bar.say(_failure_text(sweep, ev))
    elif isinstance(ev, Progress):
        bar.show(ev)
    elif isinstance(ev, RunMessage):
        bar.say(f"sweepgui: {ev.level}: {ev.text}")
    elif isinstance(ev, RunFinished):
        return ev
    return None


def _print_summary(args: argparse.Namespace, finished: RunFinished, state: Path) -> None:
    """The counts and the state folder, a line per remote builder, a missing GC root."""
    verb = "cancelled after" if finished.cancelled else "in"
    print(f"{finished.points} points: {finished.built} built, {finished.cached} cached, "
          f"{finished.failed} failed ({verb} {finished.seconds:.1f} s); results in {state}",
          file=sys.stderr)
    if any(m != "local" for m in finished.per_machine):  # remote builders: one line each
        for name, f in sorted(finished.per_machine.items()):
            lost = f" ({int(f['lost'])} lost when it went away)" if f.get("lost") else ""
            print(f"  {name}: {int(f['built'])} built, mean {f.get('mean_seconds', 0.0):.2f} s, "
                  f"{int(f['failed'])} failed{lost}", file=sys.stderr)
    if finished.unrooted:
        # one line: the folder, the risk and what to do (the manifest says it too)
        print(f"sweepgui: error: {finished.root_error}. Make that a folder you can write, "
              f"then run `sweepgui run {args.sweep}` again (nothing is rebuilt: the roots "
              "are added)", file=sys.stderr)


def _write_summary(state: Path) -> None:
    """The sweep's result columns (results.write_summary), so that re-opening it (the app,
    export, sensitivity) reads a few arrays instead of every result file. A cache: a failure
    to write it costs the next reader time, never this run its exit code."""
    from sweepgui.results import write_summary

    try:
        write_summary(state)
    except Exception as exc:
        print(f"sweepgui: warning: the result columns of {state} were not written: {exc}",
              file=sys.stderr)


def _failure_text(sweep: Sweep, ev: PointFailed) -> str:
    coords = ", ".join(f"{k}={v!r}" for k, v in sweep.coordinates(ev.index).items())
    where = f" on {ev.machine}" if ev.machine else ""
    lines = [f"point {ev.index} ({coords}) failed{where}: {ev.reason}"]
    lines += [f"    | {line}" for line in ev.log_tail[-10:]]
    return "\n".join(lines)


def _print_json(sweep: Sweep, engine: Engine, finished: RunFinished,
                status: dict[int, dict[str, Any]], state: Path) -> None:
    from sweepgui.nix import load_manifest

    manifest = load_manifest(state)
    results = []
    for p in manifest["points"]:
        s = status.get(p["index"], {})
        st = s.get("status") or (Status.CANCELLED if p["status"] in (Status.QUEUED, Status.CANCELLED)
                                 else p["status"])
        results.append({
            "parameters": p["parameters"], "status": st,
            "store_path": p["out"] if st in DONE else None,
            "machine": s.get("machine", "" if st == Status.CACHED else p.get("machine", "")),
            "seconds": s.get("seconds") if st == Status.BUILT else None,
            "error": (s.get("error") or p.get("error")) if st == Status.FAILED else None,
        })
    _emit_json({"points": finished.points, "built": finished.built, "cached": finished.cached,
                "failed": finished.failed, "unrooted": finished.unrooted,
                "per_machine": finished.per_machine, "results": results})


def _emit_json(obj: dict[str, Any], indent: int | None = None) -> None:
    """One JSON document on stdout; a reader that stops early (``| head``) is no error."""
    try:
        json.dump(obj, sys.stdout, indent=indent)
        print()
        sys.stdout.flush()
    except BrokenPipeError:
        # nobody reads any more; point stdout at /dev/null so that Python's own flush at
        # exit does not fail a second time
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
