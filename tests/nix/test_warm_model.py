"""The built-in model through the run's warm model processes, and without them.

Either way a point's result must be exactly what ``python -m sweepgui.model PARAMS OUT``
gives with the model's store copy: the warm processes are a shortcut, never an input.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from sweepgui.nix import Engine, read_result
from sweepgui.nix.events import PointFinished
from sweepgui.nix.process import descendants
from sweepgui.sweep import load_sweep
from tests.procs import processes_mentioning

pytestmark = pytest.mark.nix


def direct(model_store_path: str, out_path: str, tmp: Path) -> dict:
    env = {"PATH": os.path.dirname(sys.executable), "PYTHONPATH": model_store_path,
           "OMP_NUM_THREADS": "1", "HOME": "/homeless-shelter",
           "PYTHONDONTWRITEBYTECODE": "1"}  # never write into the store path
    target = tmp / "direct.json"
    subprocess.run([sys.executable, "-m", "sweepgui.model", f"{out_path}/parameters.json",
                    str(target)], env=env, cwd=tmp, check=True, capture_output=True)
    return json.loads(target.read_text())


@pytest.mark.parametrize("warm", [True, False])
def test_results_equal_the_model_run_directly(tmp_path: Path, warm: bool):
    rho = round(900 + 200 * (uuid.uuid4().int % 10**6) / 10**6, 6)   # a point nobody has built yet
    sweep_file = tmp_path / "s.toml"
    sweep_file.write_text(f'[fixed]\nanalysis.frequencies = 101\n[variable]\n'
                          f'"fluid.density" = [{rho!r}, {rho + 1!r}]\n')
    sweep = load_sweep(sweep_file)
    engine = Engine(warm_model=warm)
    plan = engine.plan(sweep)
    assert plan.to_build == 2
    events = list(engine.run(sweep, jobs=2))
    finished = [e for e in events if isinstance(e, PointFinished)]
    assert len(finished) == 2, events[-1]
    for e in finished:
        assert read_result(e.store_path) == direct(plan.model_store_path, e.store_path, tmp_path)
    # the model's store path is untouched (no __pycache__ written into it)
    subprocess.run(["nix-store", "--verify-path", plan.model_store_path], check=True)
    assert not list(Path(plan.model_store_path).rglob("__pycache__"))
    # the warm processes end with the run and leave no socket behind
    # (other people's runs may have their own servers: look at ours only)
    ours = set(descendants(os.getpid()))
    assert [p for p, _ in processes_mentioning("modelserver.py") if p in ours] == []
    folder = Path(f"/tmp/sweepgui-modelserver-{os.getuid()}")
    live = {int(p.stem) for p in folder.glob("*/*.sock")} if folder.exists() else set()
    assert not live & ours
