"""Cancel in the middle of a run, and garbage collection, against real Nix."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from sweepgui.nix import Engine, load_manifest, read_result
from sweepgui.nix.events import Planned, PointFinished, PointStarted, RunFinished
from sweepgui.sweep import load_sweep
from tests.procs import processes_mentioning

from .conftest import write_model, write_sweep

pytestmark = pytest.mark.nix


def test_cancel_stops_everything_and_keeps_finished_points(tmp_path: Path):
    # a uniquely named model, so that its processes (and only they) can be found in /proc
    model = write_model(tmp_path, marker=uuid.uuid4().hex, name=f"m{uuid.uuid4().hex[:10]}.py")
    # one slow point (temperature 1000 sleeps 60 s) among fast ones: whatever order Nix
    # picks, fast points finish in the other slot while the slow one runs
    path = write_sweep(tmp_path, {"fluid.density": [990.0],
                                  "state.temperature": [300.0, 301.0, 1000.0, 302.0, 303.0]},
                       model=model.name, jobs=2)
    sweep = load_sweep(path)
    engine = Engine()
    cancel = threading.Event()
    events, finished_at_cancel, t_cancel = [], None, None
    for ev in engine.run(sweep, jobs=2, cancel=cancel):
        events.append(ev)
        if t_cancel is not None:
            continue
        finished = {e.index for e in events if isinstance(e, PointFinished)}
        slow_running = any(isinstance(e, PointStarted) and e.index == 2 for e in events)
        if finished and slow_running and processes_mentioning(model.name):
            finished_at_cancel = finished
            t_cancel = time.monotonic()
            cancel.set()
    assert t_cancel is not None, "never saw a finished point while the slow one ran"
    stop_seconds = time.monotonic() - t_cancel
    last = events[-1]
    assert isinstance(last, RunFinished) and last.cancelled
    assert stop_seconds < 2.0
    # no Nix, builder or model process of this run is left (the model's store name holds
    # its unique file name; nix-build's command line holds its path)
    assert processes_mentioning(model.name) == []

    state = engine.state_dir(sweep)
    manifest = load_manifest(state)
    built = {p["index"] for p in manifest["points"] if p["status"] == "built"}
    assert finished_at_cancel <= built and 2 not in built
    for i in built:
        p = manifest["points"][i]
        assert os.readlink(state / "gcroots" / f"{i}-{p['name']}") == p["out"]
        read_result(p["out"])
    assert manifest["points"][2]["status"] == "cancelled"

    # resume: the next run plans only the missing points
    plan = engine.plan(load_sweep(path))
    assert {p.index for p in plan.points if p.cached} == built
    assert plan.to_build == 5 - len(built)


def test_garbage_collection_keeps_every_result(sweep_dir: Path, tmp_path: Path):
    path = write_sweep(sweep_dir, {"fluid.density": [990.0, 1000.0, 1010.0]})
    sweep = load_sweep(path)
    engine = Engine()
    events = list(engine.run(sweep))
    outs = [e.store_path for e in events if isinstance(e, PointFinished)]
    assert len(outs) == 2 and events[-1].failed == 1

    # a point of another sweep whose roots were deleted on purpose: GC must take it
    other = write_sweep(sweep_dir, {"fluid.density": [1234.5]}, name="other.toml")
    other_engine = Engine()
    other_events = list(other_engine.run(load_sweep(other)))
    other_out = [e.store_path for e in other_events if isinstance(e, PointFinished)][0]
    for link in (other_engine.state_dir(load_sweep(other)) / "gcroots").iterdir():
        link.unlink()

    # deleting a rooted result is refused outright
    refused = subprocess.run(["nix-store", "--delete", outs[0]], capture_output=True, text=True)
    assert refused.returncode != 0 and os.path.exists(outs[0])

    subprocess.run(["nix-collect-garbage"], check=True, capture_output=True, timeout=300)
    assert not os.path.exists(other_out)
    for out in outs:
        assert read_result(out)["marker"]
    warm = list(engine.run(load_sweep(path)))
    assert [e for e in warm if isinstance(e, Planned)][0].cached == 2


def test_a_consumer_that_stops_listening_leaves_no_process(tmp_path: Path):
    """The GUI closing mid-run closes the event generator: Nix and the model must stop."""
    model = write_model(tmp_path, marker=uuid.uuid4().hex, name=f"m{uuid.uuid4().hex[:10]}.py")
    path = write_sweep(tmp_path, {"fluid.density": [990.0], "state.temperature": [1000.0, 300.0]},
                       model=model.name, jobs=2)
    sweep = load_sweep(path)
    engine = Engine()
    run = engine.run(sweep, jobs=2)
    for ev in run:
        if isinstance(ev, PointStarted) and ev.index == 0 and processes_mentioning(model.name):
            break
    t0 = time.monotonic()
    run.close()
    assert time.monotonic() - t0 < 2.5
    assert processes_mentioning(model.name) == []
    assert load_manifest(engine.state_dir(sweep))["points"][0]["status"] != "built"


def test_a_killed_app_leaves_no_build_running(tmp_path: Path):
    """SIGKILL (a crash, the OOM killer) runs no clean-up of ours: Nix must still go, and
    take the model with it, instead of building on as an orphan."""
    import signal
    import sys

    model = write_model(tmp_path, marker=uuid.uuid4().hex, name=f"m{uuid.uuid4().hex[:10]}.py")
    path = write_sweep(tmp_path, {"fluid.density": [990.0], "state.temperature": [1000.0]},
                       model=model.name, jobs=1)
    app = subprocess.Popen([sys.executable, "-m", "sweepgui", "run", str(path)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    running_model = f"-sweepgui-model-{model.name} /nix/store/"  # its command line only
    try:
        deadline = time.monotonic() + 30
        while not processes_mentioning(running_model) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert processes_mentioning(running_model), "the model never started"
    finally:
        app.send_signal(signal.SIGKILL)
        app.wait()
    deadline = time.monotonic() + 3
    while processes_mentioning(model.name) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_mentioning(model.name) == []
