"""``sweepgui run`` / ``sweepgui plan`` as a user runs them (subprocesses, real Nix)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from sweepgui.nix import Engine
from sweepgui.resources import resources_dir
from sweepgui.sweep import load_sweep
from tests.nix.conftest import write_model, write_sweep

pytestmark = pytest.mark.nix


def sweepgui(*args: str, env: dict | None = None, cwd: Path | None = None):
    return subprocess.run([sys.executable, "-m", "sweepgui", *args], capture_output=True,
                          text=True, timeout=300, env=env, cwd=cwd)


def test_quickstart_runs_and_is_cached_the_second_time(tmp_path: Path):
    sweep = tmp_path / "quickstart.toml"
    shutil.copy(resources_dir() / "examples" / "quickstart.toml", sweep)
    first = sweepgui("run", str(sweep), "--json")
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert out["points"] == 8 and out["failed"] == 0 and out["built"] + out["cached"] == 8
    assert len(out["results"]) == 8
    densities = sorted({r["parameters"]["fluid"]["density"] for r in out["results"]})
    assert densities == [700.0, 850.0, 1000.0, 1150.0]
    for r in out["results"]:
        assert r["status"] in ("built", "cached") and r["error"] is None
        result = json.loads((Path(r["store_path"]) / "result.json").read_text())
        # the built-in model's result for exactly these parameters
        assert result["parameters"]["fluid"]["density"] == r["parameters"]["fluid"]["density"]
        assert result["natural_frequencies"] == sorted(result["natural_frequencies"])
    assert "8 points" in first.stderr

    second = sweepgui("run", str(sweep), "--json")
    assert second.returncode == 0, second.stderr
    again = json.loads(second.stdout)
    assert (again["built"], again["cached"], again["failed"]) == (0, 8, 0)
    assert [r["store_path"] for r in again["results"]] == [r["store_path"] for r in out["results"]]
    assert {r["status"] for r in again["results"]} == {"cached"}

    plan = sweepgui("plan", str(sweep), "--json")
    assert plan.returncode == 0, plan.stderr
    p = json.loads(plan.stdout)
    assert (p["points"], p["cached"], p["to_build"]) == (8, 8, 0)
    assert p["interpreter"]["mode"] in ("portable", "host", "nixpkgs")


def test_failures_exit_1_with_log_tail(tmp_path: Path):
    write_model(tmp_path, marker=uuid.uuid4().hex)
    sweep = write_sweep(tmp_path, {"fluid.density": [990.0, 1010.0, 1000.0]})
    proc = sweepgui("run", str(sweep), "--json", "--jobs", "2")
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert (out["built"], out["failed"]) == (2, 1)
    bad = [r for r in out["results"] if r["status"] == "failed"]
    assert len(bad) == 1 and bad[0]["parameters"]["fluid"]["density"] == 1010.0
    assert "exit code 3" in bad[0]["error"] and bad[0]["store_path"] is None
    assert "out of this model's range" in bad[0]["error"]  # the model's own words: why
    # the terminal shows which point failed and the model's own words
    assert "fluid.density=1010.0" in proc.stderr
    assert "out of this model's range" in proc.stderr
    assert "Traceback" not in proc.stderr

    text = sweepgui("plan", str(sweep))
    assert text.returncode == 0 and "3 points: 2 cached, 1 to build" in text.stdout


def test_bad_input_exits_2_with_a_message(tmp_path: Path):
    sweep = tmp_path / "bad.toml"
    sweep.write_text('[variable]\n"fluid.densty" = [1.0, 2.0]\n')
    proc = sweepgui("run", str(sweep))
    assert proc.returncode == 2
    assert "bad.toml" in proc.stderr and "fluid.densty" in proc.stderr
    assert "Traceback" not in proc.stderr

    missing = sweepgui("plan", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2 and "nope.toml: no such sweep file" in missing.stderr
    folder = sweepgui("run", str(tmp_path))
    assert folder.returncode == 2 and "is a folder: give a sweep file" in folder.stderr

    write_model(tmp_path)
    ok = write_sweep(tmp_path, {"fluid.density": [990.0]}, name="ok.toml")
    no_machines = sweepgui("run", str(ok), "--machines", str(tmp_path / "machines"))
    assert no_machines.returncode == 2 and "no such machines file" in no_machines.stderr
    assert not (tmp_path / ".sweepgui").exists()  # rejected before the run started


def test_without_nix_the_message_says_so(tmp_path: Path):
    write_model(tmp_path)
    sweep = write_sweep(tmp_path, {"fluid.density": [990.0]})
    env = dict(os.environ, PATH=str(tmp_path / "empty-bin"))
    proc = sweepgui("run", str(sweep), env=env)
    assert proc.returncode == 2
    assert "Nix is not installed" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / ".sweepgui").exists()  # no state folder, no manifest


BAD_RUNS = {
    # name: (files besides model.py, sweep text, extra args, what the message must say)
    "machines file missing": (
        {}, '[run]\nmachines = "builders"\n', [],
        ["bad.toml, line 2, [run] machines", "no such machines file"]),
    "machines file malformed": (
        {"builders": "ssh://b1 x86_64-linux - four\n"}, '[run]\nmachines = "builders"\n', [],
        ["bad.toml, line 2, [run] machines", "builders:1", "max jobs", "'four'"]),
    "--machines malformed": (
        {"builders": "ssh://b1 x86_64-linux - 1 fast\n"}, "", ["--machines", "builders"],
        ["--machines builders", "speed factor"]),
    "no machine and no local jobs": (
        {"builders": "# nothing yet\n"}, "", ["--machines", "builders", "--jobs", "0"],
        ["--machines builders", "lists no machine", "0 local jobs"]),
    "model missing": (
        {}, '[model]\nexecutable = "gone.py"\n', [],
        ["bad.toml, line 2, [model] executable", "gone.py does not exist"]),
    "model is a folder": (
        {"models/x": ""}, '[model]\nexecutable = "models"\n', [],
        ["bad.toml, line 2, [model] executable", "models is a folder"]),
    "model not executable": (
        {"model.sh": "#!/bin/sh\nexit 0\n"}, '[model]\nexecutable = "model.sh"\n', [],
        ["bad.toml, line 2, [model] executable", "is not executable", "chmod +x"]),
    "--jobs -1": ({}, "", ["--jobs", "-1"], ["--jobs -1", "at least 1"]),
    "--batch 0": ({}, "", ["--batch", "0"], ["--batch 0", "at least 1"]),
    "[run] batch = 0": (
        {}, "[run]\nbatch = 0\n", [], ["bad.toml, line 2, [run] batch", "greater than or equal to 1"]),
    "TOML syntax": (
        {}, "[fixed]\nfluid.name = Water\n", [],
        ["bad.toml, line 2, [fixed] fluid.name", "TOML syntax error", 'fluid.name = "Water"']),
    "unknown [run] key": ({}, "[run]\njbos = 2\n", [], ["line 2, [run] jbos", "did you mean 'jobs'"]),
    "value out of bounds": (
        {}, '[variable]\n"pipe.length" = [0.5, -0.5]\n', [],
        ["bad.toml, line 2, [variable] pipe.length", "-0.5", "> 0"]),
}


def test_a_state_folder_that_cannot_be_made_is_a_message(tmp_path: Path, capsys):
    from sweepgui.cli import main

    (tmp_path / ".sweepgui").write_text("a file where the state folder goes")
    (tmp_path / "s.toml").write_text("[fixed]\npipe.length = 0.42\n")
    assert main(["run", str(tmp_path / "s.toml")]) == 2
    err = capsys.readouterr().err
    state = Engine().state_dir(load_sweep(tmp_path / "s.toml"))  # under the file in the way
    assert f"{state}: Not a directory" in err and "Traceback" not in err


@pytest.mark.parametrize("case", list(BAD_RUNS))
def test_bad_input_is_rejected_before_the_run_starts(tmp_path: Path, case: str, capsys):
    """Exit 2 with a message naming the file, line and key (or the option), no traceback,
    and nothing written: no state folder, no manifest, no progress line."""
    from sweepgui.cli import main

    files, text, extra, expected = BAD_RUNS[case]
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(content)
    (tmp_path / "bad.toml").write_text('[fixed]\npipe.length = 0.42\n' if not text else text)
    cwd = os.getcwd()
    os.chdir(tmp_path)  # --machines builders: relative to the current folder, as typed
    try:
        rc = main(["run", str(tmp_path / "bad.toml"), *extra])
    finally:
        os.chdir(cwd)
    err = capsys.readouterr().err
    assert rc == 2, err
    for words in expected:
        assert words in err
    assert "Traceback" not in err and "done (" not in err
    assert not (tmp_path / ".sweepgui").exists()
    if "machines file" in case:  # plan builds nothing, but warns that run would stop
        assert main(["plan", str(tmp_path / "bad.toml")]) == 0
        err = capsys.readouterr().err
        assert "warning" in err and expected[0] in err and "sweepgui run` stops here" in err



def test_a_reader_that_stops_early_is_no_error(tmp_path: Path):
    """``sweepgui plan --json | head``: more output than a pipe holds, reader gone."""
    sweep = tmp_path / "big.toml"
    sweep.write_text('[variable]\n"fluid.density" = { linspace = [900.0, 1100.0, 400] }\n')
    proc = subprocess.Popen([sys.executable, "-m", "sweepgui", "plan", str(sweep), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "Broken pipe" not in err
