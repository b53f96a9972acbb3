"""Several points per derivation (groups), each point reused alone, against real Nix."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

from sweepgui.nix import Engine, load_manifest, read_result
from sweepgui.nix.events import Planned, PointCached, PointFailed, PointFinished, RunFinished
from sweepgui.nix.index import ResultIndex
from sweepgui.nix.store import invalid_paths
from sweepgui.sweep import load_sweep

from .conftest import write_sweep
from .test_warm_model import direct

pytestmark = pytest.mark.nix


def test_groups_keep_points_apart_and_never_cache_a_failure(sweep_dir: Path, tmp_path: Path):
    """Issue 11: a point the model failed on inside a group was cached (its group's output
    held error.json) and served as a failure by every later run: a rerun never retried it.
    Now it is computed again on its own (Nix never caches a failed build), and a rerun
    builds exactly the failed points again."""
    path = write_sweep(sweep_dir, {"fluid.density": [990.0, 1010.0, 1000.0],
                                   "state.temperature": [300.0, 301.0]})
    sweep = load_sweep(path)
    engine = Engine(batch=4, index=ResultIndex(tmp_path / "index" / "i.sqlite"))
    plan = engine.plan(sweep)
    # every point is planned as its own derivation: its identity, whatever the grouping
    assert len({p.drv for p in plan.points}) == 6 and plan.to_build == 6

    events = list(engine.run(sweep))
    done = events[-1]
    assert isinstance(done, RunFinished) and (done.built, done.failed) == (4, 2)
    failed = [e for e in events if isinstance(e, PointFailed)]
    assert sorted(e.index for e in failed) == [2, 3]       # density 1010: the model exits 3
    for e in failed:
        assert e.exit_code == 3 and any("out of this model's range" in t for t in e.log_tail)
    finished = [e for e in events if isinstance(e, PointFinished)]
    # computed in groups: their results live in the groups' outputs, not the points' own
    assert all("sweepgui-batch-" in e.store_path for e in finished)
    for e in finished:
        c = sweep.coordinates(e.index)
        r = read_result(e.store_path)
        assert (r["density"], r["temperature"]) == (c["fluid.density"], c["state.temperature"])
        assert json.loads((Path(e.store_path) / "parameters.json").read_text()) == \
            sweep.points()[e.index].model_dump(mode="json")
    state = engine.state_dir(sweep)
    manifest = load_manifest(state)
    assert [p["status"] for p in manifest["points"]] == ["built"] * 2 + ["failed"] * 2 + ["built"] * 2
    for p in manifest["points"]:
        if p["status"] == "built":
            assert os.readlink(state / "gcroots" / f"{p['index']}-{p['name']}") == p["out"]
            assert p["point"] == plan.points[p["index"]].out_path != p["out"]
        else:  # the failure is the point's own build's: nothing valid in the store
            assert p["out"] == p["point"] and invalid_paths([p["out"]]) == {p["out"]}

    # warm: the 4 results are found through the index; the 2 failures are tried again
    warm = list(engine.run(load_sweep(path)))
    assert [e for e in warm if isinstance(e, Planned)][0].to_build == 2
    assert sorted(e.index for e in warm if isinstance(e, PointCached)) == [0, 1, 4, 5]
    assert sorted(e.index for e in warm if isinstance(e, PointFailed)) == [2, 3]
    assert (warm[-1].built, warm[-1].failed, warm[-1].cached) == (0, 2, 4)


def test_each_point_is_reused_alone_whatever_grouping_computed_it(sweep_dir: Path,
                                                                 tmp_path: Path):
    """A sweep that is a subset, superset or reordering of an earlier one recomputes nothing
    it has, whether the earlier one ran in groups or point by point (issue 13)."""
    index = ResultIndex(tmp_path / "index" / "i.sqlite")
    first = write_sweep(sweep_dir, {"fluid.density": [990.0, 995.0, 1000.0, 1005.0],
                                    "state.temperature": [300.0, 301.0]}, name="first.toml")
    events = list(Engine(batch=3, index=index).run(load_sweep(first)))
    assert (events[-1].built, events[-1].failed) == (8, 0)
    where = {(e.index): e.store_path for e in events if isinstance(e, PointFinished)}

    # reordered, a subset of the densities, one new density, other groups (of 2)
    second = write_sweep(sweep_dir, {"state.temperature": [301.0, 300.0],
                                     "fluid.density": [1005.0, 990.0, 997.0]},
                         name="second.toml")
    sweep2 = load_sweep(second)
    engine2 = Engine(batch=2, index=index)
    plan2 = engine2.plan(sweep2)
    assert (plan2.cached, plan2.to_build) == (4, 2)
    old = {(c["fluid.density"], c["state.temperature"]): where[i]
           for i, c in ((i, load_sweep(first).coordinates(i)) for i in range(8))}
    for p in plan2.points:
        c = sweep2.coordinates(p.index)
        if c["fluid.density"] != 997.0:
            assert p.cached and p.out_path == old[(c["fluid.density"], c["state.temperature"])]
    run2 = list(engine2.run(sweep2))
    assert (run2[-1].built, run2[-1].cached) == (2, 4)

    # and one point per derivation (batch=1) finds all of them too, in the same places
    plan3 = Engine(batch=1, index=index).plan(sweep2)
    assert plan3.to_build == 0
    assert [p.out_path for p in plan3.points] == [p.out_path for p in Engine(index=index).plan(sweep2).points]


def test_an_index_another_user_could_write_is_not_read(sweep_dir: Path, tmp_path: Path):
    """The index says where results are: only this user's private file is believed."""
    folder = tmp_path / "index"
    index = ResultIndex(folder / "i.sqlite")
    path = write_sweep(sweep_dir, {"fluid.density": [990.0, 995.0, 1000.0]})
    assert list(Engine(batch=3, index=index).run(load_sweep(path)))[-1].built == 3
    index.close()
    assert Engine(batch=3, index=ResultIndex(folder / "i.sqlite")).plan(load_sweep(path)).cached == 3
    (folder / "i.sqlite").chmod(0o666)  # anyone may write it now
    assert Engine(batch=3, index=ResultIndex(folder / "i.sqlite")).plan(load_sweep(path)).cached == 0
    (folder / "i.sqlite").chmod(0o600)
    os.chown(folder / "i.sqlite", 65534, 65534)  # another user's file
    assert Engine(batch=3, index=ResultIndex(folder / "i.sqlite")).plan(load_sweep(path)).cached == 0


def test_an_index_entry_whose_result_is_gone_is_not_cached(sweep_dir: Path, tmp_path: Path):
    index = ResultIndex(tmp_path / "index" / "i.sqlite")
    path = write_sweep(sweep_dir, {"fluid.density": [990.0, 995.0]})
    sweep = load_sweep(path)
    plan = Engine(batch=2, index=index).plan(sweep)
    # an entry pointing at a path that is not in the store (e.g. collected)
    index.record(plan.points[0].out_path, "/nix/store/" + "0" * 32 + "-sweepgui-batch-gone-p0")
    index.flush()
    assert index.lookup([plan.points[0].out_path])
    assert Engine(batch=2, index=index).plan(sweep).cached == 0
    # and the entry is dropped: the index keeps what can still serve, not every point ever
    assert index.lookup([plan.points[0].out_path]) == {}


def test_batched_builtin_model_gives_the_models_own_results(tmp_path: Path):
    # a density no earlier run used (cold), from a fresh uuid
    rho = round(900 + 200 * (uuid.uuid4().int % 10**6) / 10**6, 6)
    sweep_file = tmp_path / "s.toml"
    sweep_file.write_text(f'[fixed]\nanalysis.frequencies = 101\n[variable]\n'
                          f'"fluid.density" = [{rho!r}, {rho + 1!r}, {rho + 2!r}]\n')
    sweep = load_sweep(sweep_file)
    engine = Engine(batch=2)
    plan = engine.plan(sweep)
    events = list(engine.run(sweep, jobs=2))
    finished = [e for e in events if isinstance(e, PointFinished)]
    assert len(finished) == 3, events[-1]
    for e in finished:
        assert read_result(e.store_path) == direct(plan.model_store_path, e.store_path, tmp_path)


def test_run_batch_in_the_sweep_file_is_what_the_engine_and_cli_use(sweep_dir: Path, capsys):
    """``[run] batch = K`` does what ``--batch K`` does; ``--batch 1`` overrides it."""
    from sweepgui.cli import main

    values = {"fluid.density": [990.0, 1000.0, 1020.0]}
    plain = write_sweep(sweep_dir, values, name="plain.toml")
    batched = sweep_dir / "batched.toml"
    batched.write_text(plain.read_text().replace("[run]\n", "[run]\nbatch = 2\n"))
    assert load_sweep(batched).run.batch == 2 and "batch = 2" in load_sweep(batched).to_toml()

    # the plan does not depend on the grouping: every point is its own derivation
    one_each = Engine().plan(load_sweep(plain))
    from_file = Engine().plan(load_sweep(batched))
    assert [p.out_path for p in from_file.points] == [p.out_path for p in one_each.points]

    assert main(["run", str(batched), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # [run] batch = 2: points 0 and 1 in one group, point 2 alone (its own derivation)
    paths = [r["store_path"] for r in out["results"]]
    assert "sweepgui-batch-" in paths[0] and "sweepgui-batch-" in paths[1]
    assert paths[2] == one_each.points[2].out_path
    assert main(["plan", str(plain), "--json"]) == 0
    planned = json.loads(capsys.readouterr().out)
    # the plain sweep (same points) finds them all, where they are
    assert [p["store_path"] for p in planned["plan"]] == paths
    assert all(p["cached"] for p in planned["plan"])


def test_a_groups_log_lines_go_to_the_point_they_are_about(sweep_dir: Path, tmp_path: Path):
    """In a group, each point's log holds its own model output, not every point's (a group of
    64 points used to copy each of its lines to all 64)."""
    from sweepgui.nix.events import PointLog

    path = write_sweep(sweep_dir, {"fluid.density": [990.0, 995.0, 1000.0]})
    events = list(Engine(batch=3, index=ResultIndex(tmp_path / "i" / "i.sqlite")).run(
        load_sweep(path)))
    logs: dict[int, list[str]] = {}
    for e in events:
        if isinstance(e, PointLog):
            logs.setdefault(e.index, []).append(e.line)
    for i, rho in enumerate([990.0, 995.0, 1000.0]):
        computing = [line for line in logs[i] if line.startswith("computing")]
        assert computing == [f"computing {rho} 293.15"], logs[i]
        assert any(line.startswith(f"sweepgui: point {i + 1}/3 done") for line in logs[i])


def test_how_many_points_a_derivation_computes_by_default():
    """The default grouping (README "Groups"): the built-in model about two groups per build
    slot; a custom model one point per derivation here, grouped once remote builders (where a
    build costs about a second of ssh, copies and hook round trips) are in the run."""
    from types import SimpleNamespace

    builtin, custom = SimpleNamespace(kind="builtin"), SimpleNamespace(kind="custom")
    assert Engine.group_size(None, builtin, 256, 2) == 64          # 256 / (2 x 2 slots)
    assert Engine.group_size(None, builtin, 3, 2) == 1
    assert Engine.group_size(None, builtin, 100_000, 2) == 128      # at most MAX_GROUP
    assert Engine.group_size(None, custom, 256, 2) == 1
    assert Engine.group_size(None, custom, 60, 6, remote=True) == 5  # 60 / (2 x 6 slots)
    assert Engine.group_size(7, custom, 60, 6) == 7                 # [run] batch / --batch


def test_the_index_reads_points_given_as_a_generator(tmp_path: Path):
    """``lookup`` takes any iterable: a generator is read once, not found empty the second time."""
    index = ResultIndex(tmp_path / "i" / "i.sqlite")
    index.record("/nix/store/a-point", "/nix/store/b-group-p0")
    index.flush()
    index.record("/nix/store/c-point", "/nix/store/d-group-p1")  # still pending
    assert index.lookup(p for p in ["/nix/store/a-point", "/nix/store/c-point"]) == {
        "/nix/store/a-point": "/nix/store/b-group-p0", "/nix/store/c-point": "/nix/store/d-group-p1"}
