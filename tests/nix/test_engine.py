"""The engine against real Nix: cold and warm runs, failures, odd parameter strings, edits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from sweepgui.nix import Engine, load_manifest, read_result
from sweepgui.nix.events import (
    Planned,
    PointCached,
    PointFailed,
    PointFinished,
    PointLog,
    PointStarted,
    Progress,
    RunFinished,
)
from sweepgui.nix.setup import detect_setup
from sweepgui.sweep import load_sweep

from .conftest import write_model, write_sweep

pytestmark = pytest.mark.nix


def run_all(engine, sweep, **kw):
    events = list(engine.run(sweep, **kw))
    assert isinstance(events[-1], RunFinished)
    return events


def of(events, cls):
    return [e for e in events if isinstance(e, cls)]


def test_cold_then_warm_then_nothing_rebuilt(sweep_dir: Path):
    path = write_sweep(sweep_dir, {"fluid.density": [990.0, 1000.0],
                                   "state.temperature": [283.15, 300.0, 350.0]})
    sweep = load_sweep(path)
    engine = Engine()
    plan = engine.plan(sweep)
    assert (len(plan.points), plan.cached, plan.to_build) == (6, 0, 6)

    cold = run_all(engine, sweep)
    assert of(cold, Planned)[0] == Planned(points=6, cached=0, to_build=6)
    finished = of(cold, PointFinished)
    assert sorted(e.index for e in finished) == list(range(6))
    assert {e.index for e in of(cold, PointStarted)} == set(range(6))
    done = cold[-1]
    assert (done.built, done.cached, done.failed, done.cancelled, done.exit_code) == (6, 0, 0, False, 0)
    assert of(cold, Progress)[-1].done == 6
    # ETA: unknown until a point has finished (its duration is the estimate), then known
    # while points wait (only the last running ones, once slower than the mean, are
    # "unknown" again rather than 0:00), and 0 at the end
    first_done = next(k for k, e in enumerate(cold) if isinstance(e, PointFinished))
    assert all(e.eta_seconds is None for e in cold[:first_done] if isinstance(e, Progress))
    assert all(e.eta_seconds is not None for e in cold[first_done:]
               if isinstance(e, Progress) and (e.queued or not e.running))
    assert of(cold, Progress)[-1].eta_seconds == 0

    # every result is the model's output for exactly that point's parameters, and its log
    # lines (the model prints "computing RHO T") arrive as that point's PointLog events
    logs = of(cold, PointLog)
    for e in finished:
        coords = sweep.coordinates(e.index)
        said = f"computing {coords['fluid.density']} {coords['state.temperature']}"
        assert [log.index for log in logs if said in log.line] == [e.index]
        result = read_result(e.store_path)
        assert result["density"] == coords["fluid.density"]
        assert result["temperature"] == coords["state.temperature"]
        params = json.loads((Path(e.store_path) / "parameters.json").read_text())
        assert params == sweep.points()[e.index].model_dump(mode="json")

    # GC roots and manifest
    state = engine.state_dir(sweep)
    # the sweep's own folder: its file name and the start of its content hash
    assert state == sweep_dir / ".sweepgui" / "sweep.toml" / sweep.content_hash()[7:23]
    roots = sorted(os.listdir(state / "gcroots"))
    assert len(roots) == 6
    for p in plan.points:
        assert os.readlink(state / "gcroots" / f"{p.index}-{p.name}") == p.out_path
    manifest = load_manifest(state)
    assert [p["status"] for p in manifest["points"]] == ["built"] * 6
    assert manifest["model"]["kind"] == "custom"
    assert manifest["points"][3]["coordinates"] == {"fluid.density": 1000.0, "state.temperature": 283.15}
    assert all(p["seconds"] > 0 for p in manifest["points"])

    # warm: nothing built, everything cached, same store paths
    warm = run_all(engine, load_sweep(path))
    assert of(warm, Planned)[0] == Planned(points=6, cached=6, to_build=0)
    assert sorted((e.index, e.store_path) for e in of(warm, PointCached)) == \
        sorted((e.index, e.store_path) for e in finished)
    assert not of(warm, PointStarted)
    assert (warm[-1].built, warm[-1].cached, warm[-1].exit_code) == (0, 6, 0)
    assert [p["status"] for p in load_manifest(state)["points"]] == ["cached"] * 6


def test_failures_let_the_others_finish(sweep_dir: Path):
    path = write_sweep(sweep_dir, {"fluid.density": [990.0, 1010.0, 1000.0],
                                   "state.temperature": [283.15, 300.0]})
    sweep = load_sweep(path)
    engine = Engine()
    events = run_all(engine, sweep)
    failed = of(events, PointFailed)
    assert sorted(e.index for e in failed) == [2, 3]          # density 1010 at both temperatures
    for e in failed:
        assert e.exit_code == 3
        assert any("out of this model's range" in line for line in e.log_tail)
    assert sorted(e.index for e in of(events, PointFinished)) == [0, 1, 4, 5]
    done = events[-1]
    # Nix's own code: 100 for failed builds; through a nix-daemon, Nix 2.8 reports 1
    nix_code = 1 if detect_setup().daemon else 100
    assert (done.built, done.failed, done.exit_code) == (4, 2, nix_code)
    state = engine.state_dir(sweep)
    # roots for the finished points although the Nix build as a whole failed
    assert len(os.listdir(state / "gcroots")) == 4
    manifest = load_manifest(state)
    bad = manifest["points"][2]
    assert bad["status"] == "failed" and bad["exit_code"] == 3
    assert any("out of this model's range" in line for line in bad["log_tail"])

    # a rerun tries only the failed points (Nix caches no failures) and keeps the rest
    again = run_all(engine, load_sweep(path))
    assert of(again, Planned)[0] == Planned(points=6, cached=4, to_build=2)
    assert sorted(e.index for e in of(again, PointFailed)) == [2, 3]


BAD_RESULTS = textwrap.dedent('''\
    import json, sys
    rho = json.load(open(sys.argv[1]))["fluid"]["density"]
    if rho == 1001.0:
        open(sys.argv[2], "w").write("{not json")      # corrupt result
    elif rho != 1002.0:                                # 1002: exits 0, writes nothing
        json.dump({"density": rho, "marker": MARKER}, open(sys.argv[2], "w"))
    ''')


def test_a_missing_or_corrupt_result_fails_its_point_with_a_reason(sweep_dir: Path):
    (sweep_dir / "model.py").write_text(BAD_RESULTS.replace("MARKER", repr(uuid.uuid4().hex)))
    sweep = load_sweep(write_sweep(sweep_dir, {"fluid.density": [1000.0, 1001.0, 1002.0, 1003.0]}))
    events = run_all(Engine(), sweep)
    assert sorted(e.index for e in of(events, PointFinished)) == [0, 3]
    failed = {e.index: e for e in of(events, PointFailed)}
    assert sorted(failed) == [1, 2]
    assert "result.json" in failed[1].reason and "Expecting property name" in failed[1].reason
    assert "result.json" in failed[2].reason and "No such file" in failed[2].reason
    assert (events[-1].built, events[-1].failed) == (2, 2)


NASTY = [
    'quote " and \' apostrophe',
    "${builtins.abort \"injected\"}",
    "back\\slash \\n not a newline",
    "two\nlines",
    "unicodé ü Ω 漢字 🙂",
    "'; rm -rf / #",
]


def test_parameter_strings_neither_break_nor_inject(sweep_dir: Path):
    path = write_sweep(sweep_dir, {"material.name": NASTY, "fluid.density": [990.0]})
    sweep = load_sweep(path)
    events = run_all(Engine(), sweep)
    assert events[-1].failed == 0 and events[-1].built == len(NASTY)
    for e in of(events, PointFinished):
        name = sweep.coordinates(e.index)["material.name"]
        assert read_result(e.store_path)["name"] == name
        assert json.loads((Path(e.store_path) / "parameters.json").read_text(encoding="utf-8")
                          )["material"]["name"] == name
        base = os.path.basename(e.store_path)
        assert all(c.isalnum() or c in "+-._?=" for c in base)


PLAN_SCRIPT = """
import json, sys
from sweepgui.nix import Engine
from sweepgui.sweep import load_sweep
plan = Engine().plan(load_sweep(sys.argv[1]))
print(json.dumps([p.out_path for p in plan.points]))
"""


def test_same_parameters_same_store_path_in_separate_processes(sweep_dir: Path):
    # 0.1 + 0.2 and 0.30000000000000004 are one value; 0.3 is another. b.toml spells the
    # same two doubles otherwise (exponent, extra digits), in the other order.
    write_sweep(sweep_dir, {"pipe.length": [0.1 + 0.2, 0.3]}, name="a.toml")
    a_text = (sweep_dir / "a.toml").read_text()
    assert "[0.30000000000000004, 0.3]" in a_text
    (sweep_dir / "b.toml").write_text(
        a_text.replace("[0.30000000000000004, 0.3]", "[3e-1, 3.00000000000000044e-1]"))
    outs = []
    for name in ("a.toml", "b.toml"):
        proc = subprocess.run([sys.executable, "-c", PLAN_SCRIPT, str(sweep_dir / name)],
                              capture_output=True, text=True, check=True)
        outs.append(json.loads(proc.stdout))
    a, b = outs
    assert len(set(a)) == 2                     # 0.3 and 0.30000000000000004 differ
    assert a == b[::-1]                         # same values -> same paths, in any sweep


def test_editing_the_custom_model_rebuilds_its_points_only(sweep_dir: Path):
    path = write_sweep(sweep_dir, {"fluid.density": [990.0, 1000.0]})
    engine = Engine()
    first = run_all(engine, load_sweep(path))
    assert first[-1].built == 2
    # editing nothing rebuilds nothing
    assert engine.plan(load_sweep(path)).to_build == 0
    edited = f"edited-{uuid.uuid4().hex}"
    write_model(sweep_dir, marker=edited)
    plan = engine.plan(load_sweep(path))
    assert plan.to_build == 2
    second = run_all(engine, load_sweep(path))
    assert second[-1].built == 2
    assert all(read_result(e.store_path)["marker"] == edited for e in of(second, PointFinished))


def test_replanning_a_run_sweep_reuses_its_evaluation(sweep_dir: Path):
    path = write_sweep(sweep_dir, {"fluid.density": [990.0, 1000.0, 1020.0]})
    engine = Engine()
    first = engine.plan(load_sweep(path))
    assert not (engine.state_dir(load_sweep(path)) / "plan-cache.json").exists()  # no run yet
    run_all(engine, load_sweep(path))
    state = engine.state_dir(load_sweep(path))
    assert (state / "plan-cache.json").exists()
    again = engine.plan(load_sweep(path))
    assert [(p.out_path, p.drv, p.parameters_json) for p in again.points] == \
        [(p.out_path, p.drv, p.parameters_json) for p in first.points]
    assert again.cached == 3
    # a changed sweep is evaluated afresh
    path.write_text(path.read_text().replace("1020.0", "1030.0"))
    changed = engine.plan(load_sweep(path))
    assert changed.to_build == 1 and changed.points[2].out_path != first.points[2].out_path


def test_engine_rejects_a_bad_machines_file_before_writing_anything(sweep_dir: Path):
    """The GUI calls the engine directly: the same check, before the manifest exists."""
    from sweepgui.nix.machines import MachinesError

    (sweep_dir / "builders").write_text("ssh://b1 x86_64-linux - 2 1 - - not-base64!\n")
    sweep = load_sweep(write_sweep(sweep_dir, {"fluid.density": [990.0]}))
    state = sweep_dir / "state"
    with pytest.raises(MachinesError, match="builders"):
        next(Engine(state_dir=state).run(sweep, machines=sweep_dir / "builders"))
    with pytest.raises(MachinesError, match="no such machines file"):
        next(Engine(state_dir=state).run(sweep, machines=sweep_dir / "nothing"))
    assert not state.exists()
