"""A model that crashes (SIGSEGV) is reported as killed by that signal, not as exit code 245."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from sweepgui.nix import Engine
from sweepgui.nix.events import PointFailed, PointFinished
from sweepgui.sweep import load_sweep
from tests.nix.conftest import write_sweep

pytestmark = [pytest.mark.nix,
              pytest.mark.skipif(shutil.which("nix-build") is None, reason="needs Nix")]

CRASHING = '''\
import json, os, signal, sys
params = json.load(open(sys.argv[1]))
if params["fluid"]["density"] == 1010.0:
    print("about to crash", flush=True)
    os.kill(os.getpid(), signal.SIGSEGV)
json.dump({"marker": MARKER}, open(sys.argv[2], "w"))
'''


def test_a_segfaulting_model_is_reported_as_killed_by_sigsegv(tmp_path: Path):
    (tmp_path / "model.py").write_text(CRASHING.replace("MARKER", repr(uuid.uuid4().hex)))
    sweep = load_sweep(write_sweep(tmp_path, {"fluid.density": [1000.0, 1010.0]}))
    engine = Engine(state_dir=tmp_path / "state")
    events = list(engine.run(sweep, jobs=2))
    failed = [e for e in events if isinstance(e, PointFailed)]
    assert [e.index for e in events if isinstance(e, PointFinished)] == [0]
    assert [e.index for e in failed] == [1]
    assert failed[0].exit_code == 128 + 11
    assert "killed by signal 11 (SIGSEGV)" in failed[0].reason, failed[0].reason
    assert "245" not in failed[0].reason


NAN_MODEL = '''\
import json, sys
params = json.load(open(sys.argv[1]))
json.dump({"marker": MARKER, "value": float("nan") if params["fluid"]["density"] == 1010.0
           else 1.0}, open(sys.argv[2], "w"))
'''


@pytest.mark.parametrize("batch", [None, 2])
def test_a_result_holding_nan_is_a_failure_never_a_cached_result(tmp_path: Path, batch):
    """Python's json writes NaN by default: such a "result" is the model's failure."""
    (tmp_path / "model.py").write_text(NAN_MODEL.replace("MARKER", repr(uuid.uuid4().hex)))
    sweep = load_sweep(write_sweep(tmp_path, {"fluid.density": [1000.0, 1010.0]}))
    engine = Engine(state_dir=tmp_path / "state", batch=batch)
    events = list(engine.run(sweep, jobs=2))
    failed = [e for e in events if isinstance(e, PointFailed)]
    assert [e.index for e in events if isinstance(e, PointFinished)] == [0]
    assert [e.index for e in failed] == [1]
    assert "NaN" in failed[0].reason, failed[0].reason
