"""Several points per derivation (``Engine(batch=K)``), against real Nix."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from sweepgui.nix import Engine, load_manifest, read_result
from sweepgui.nix.events import Planned, PointCached, PointFailed, PointFinished, RunFinished
from sweepgui.sweep import load_sweep

from .conftest import write_sweep
from .test_warm_model import direct

pytestmark = pytest.mark.nix


def test_batches_keep_points_apart(sweep_dir: Path):
    path = write_sweep(sweep_dir, {"fluid.density": [990.0, 1010.0, 1000.0],
                                   "state.temperature": [300.0, 301.0]})
    sweep = load_sweep(path)
    engine = Engine(batch=4)
    plan = engine.plan(sweep)
    assert len({p.drv for p in plan.points}) == 2          # 6 points in batches of 4 and 2
    assert len({p.out_path for p in plan.points}) == 6     # one store path per point

    events = list(engine.run(sweep))
    done = events[-1]
    assert isinstance(done, RunFinished) and (done.built, done.failed) == (4, 2)
    failed = [e for e in events if isinstance(e, PointFailed)]
    assert sorted(e.index for e in failed) == [2, 3]       # density 1010: the model exits 3
    for e in failed:
        assert e.exit_code == 3 and any("out of this model's range" in t for t in e.log_tail)
    for e in (e for e in events if isinstance(e, PointFinished)):
        c = sweep.coordinates(e.index)
        r = read_result(e.store_path)
        assert (r["density"], r["temperature"]) == (c["fluid.density"], c["state.temperature"])
        assert json.loads((Path(e.store_path) / "parameters.json").read_text()) == \
            sweep.points()[e.index].model_dump(mode="json")
    state = engine.state_dir(sweep)
    manifest = load_manifest(state)
    assert [p["status"] for p in manifest["points"]] == ["built"] * 2 + ["failed"] * 2 + ["built"] * 2
    for p in manifest["points"]:
        assert os.readlink(state / "gcroots" / f"{p['index']}-{p['name']}") == p["out"]

    # warm: nothing is built; the batch kept the model's failures as what they are
    warm = list(engine.run(load_sweep(path)))
    assert [e for e in warm if isinstance(e, Planned)][0].to_build == 0
    assert sorted(e.index for e in warm if isinstance(e, PointCached)) == [0, 1, 4, 5]
    assert sorted(e.index for e in warm if isinstance(e, PointFailed)) == [2, 3]
    assert (warm[-1].built, warm[-1].failed, warm[-1].cached) == (0, 2, 4)


def test_batched_builtin_model_gives_the_models_own_results(tmp_path: Path):
    rho = round(900 + 200 * random.random(), 6)
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

    one_each = Engine().plan(load_sweep(plain))
    from_file = Engine().plan(load_sweep(batched))
    assert from_file.units == [[0, 1], [2]] and one_each.units is None
    assert len({p.drv for p in from_file.points}) == 2
    # a batch is an input of its points: other store paths than one point per build
    assert not {p.out_path for p in from_file.points} & {p.out_path for p in one_each.points}
    overridden = Engine(batch=1).plan(load_sweep(batched))
    assert [p.out_path for p in overridden.points] == [p.out_path for p in one_each.points]

    assert main(["run", str(batched), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["store_path"] for r in out["results"]] == [p.out_path for p in from_file.points]
    assert main(["plan", str(batched), "--batch", "1", "--json"]) == 0
    planned = json.loads(capsys.readouterr().out)
    assert [p["store_path"] for p in planned["plan"]] == [p.out_path for p in one_each.points]
