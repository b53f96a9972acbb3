"""Issue 11 (reliability of a run): no forged, lost or silently wrong results, no run that
hangs. Each test reproduces a fault that was observed, with real Nix builds of the fast
custom model of tests/nix/conftest.py:

1. a run's state (manifest, GC roots, plan cache) is keyed by the sweep's identity: an
   edited, unsaved sweep and a sweep file of the same stem keep their own;
2. roots are added, never silently dropped: a state folder deleted during a run is
   re-rooted, a run that cannot root its results says so and exits 1;
3. root threads, the umask and process-group kills are safe under concurrency;
4. SIGTERM to ``sweepgui run`` is a cancel (finished points kept, manifest written);
5. huge log lines are cut in the manifest and the events;
6. ``[run] timeout``: a hanging point fails "timed out after N s", the others build.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from sweepgui.nix import Engine, load_manifest
from sweepgui.nix.events import PointFailed, PointFinished, PointLog, RunFinished
from sweepgui.sweep import load_sweep, loads_sweep
from tests.nix.conftest import write_model, write_sweep
from tests.procs import processes_mentioning

pytestmark = [
    pytest.mark.nix,
    pytest.mark.skipif(shutil.which("nix-build") is None, reason="Nix is not installed"),
]


@pytest.fixture
def sweep_dir(tmp_path: Path) -> Path:
    """A folder with model.py; a fresh marker makes every test's store paths new (cold)."""
    write_model(tmp_path, marker=uuid.uuid4().hex)
    return tmp_path


def sweepgui(*args: str, env: dict | None = None, timeout: float = 300):
    return subprocess.run([sys.executable, "-m", "sweepgui", *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


def roots_of(out: str) -> list[str]:
    """The GC roots Nix itself knows for ``out`` (what nix-collect-garbage keeps)."""
    text = subprocess.run(["nix-store", "--query", "--roots", out], capture_output=True,
                          text=True, check=True).stdout
    # temporary roots of running processes are listed as {temp:PID} / {censored}: not ours
    return [line.split(" -> ")[0] for line in text.splitlines()
            if " -> " in line and not line.startswith("{")]


def exported_densities(sweep: Path, tmp: Path) -> list[float]:
    """The densities of the points ``sweepgui export SWEEP`` writes (sorted)."""
    out = tmp / f"export-{uuid.uuid4().hex[:6]}.json"
    proc = sweepgui("export", str(sweep), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    return sorted(p["coordinates"]["fluid.density"] for p in json.loads(out.read_text())["points"])


def built_densities(manifest: dict) -> list[float]:
    return sorted(p["parameters"]["fluid"]["density"] for p in manifest["points"]
                  if p["status"] in ("built", "cached"))


# -- 1. the state of a run belongs to exactly one sweep -------------------------------------

def test_an_edited_unsaved_sweep_never_takes_the_saved_sweeps_manifest_or_roots(sweep_dir):
    saved = write_sweep(sweep_dir, {"fluid.density": [990.0, 1000.0, 1020.0, 1030.0],
                                    "state.temperature": [300.0, 301.0]}, name="x.toml")
    engine = Engine()
    done = list(engine.run(load_sweep(saved)))[-1]
    assert (done.built, done.failed) == (8, 0)
    state = engine.state_dir(load_sweep(saved))
    outs = [p["out"] for p in load_manifest(state)["points"]]

    # the app runs the sweep as edited in its forms (not saved: same file name, other points)
    text = saved.read_text().replace("[990.0, 1000.0, 1020.0, 1030.0]", "[1040.0, 1050.0]")
    edited = loads_sweep(text, source=saved)
    assert list(engine.run(edited))[-1].built == 4
    assert saved.read_text() != text  # the file on disk is still the saved sweep

    # every result of the saved sweep keeps its GC root: nix-collect-garbage keeps them
    for out in outs:
        assert roots_of(out), f"{out} lost its GC root when the edited sweep ran"
    # and the saved sweep still finds its own results (manifest, export)
    assert engine.state_dir(load_sweep(saved)) == state
    assert built_densities(load_manifest(state)) == [990.0] * 2 + [1000.0] * 2 + \
        [1020.0] * 2 + [1030.0] * 2
    assert sorted(set(exported_densities(saved, sweep_dir))) == [990.0, 1000.0, 1020.0, 1030.0]
    # the edited sweep has a state of its own, which it finds again
    assert engine.state_dir(edited) != state
    assert built_densities(load_manifest(engine.state_dir(edited))) == [1040.0] * 2 + [1050.0] * 2


def test_two_sweep_files_of_one_stem_keep_their_own_roots_and_exports(sweep_dir):
    lower = write_sweep(sweep_dir, {"fluid.density": [990.0, 1000.0]}, name="x.toml")
    upper = write_sweep(sweep_dir, {"fluid.density": [1020.0, 1030.0, 1040.0]}, name="x.TOML")
    first = sweepgui("run", str(lower), "--json")
    assert first.returncode == 0, first.stderr
    second = sweepgui("run", str(upper), "--json")
    assert second.returncode == 0, second.stderr
    for proc in (first, second):
        for r in json.loads(proc.stdout)["results"]:
            assert roots_of(r["store_path"]), f"{r['store_path']} has no GC root"
    assert Engine().state_dir(load_sweep(lower)) != Engine().state_dir(load_sweep(upper))
    for path, densities in ((lower, [990.0, 1000.0]), (upper, [1020.0, 1030.0, 1040.0])):
        assert exported_densities(path, sweep_dir) == densities


def test_the_same_sweep_finds_its_state_however_it_is_written(sweep_dir):
    from sweepgui.results import default_state_dir

    path = write_sweep(sweep_dir, {"fluid.density": [990.0, 1000.0]}, name="same.toml")
    proc = sweepgui("run", str(path))
    assert proc.returncode == 0, proc.stderr
    state = Engine().state_dir(load_sweep(path))
    assert default_state_dir(path) == state                     # export, sensitivity
    assert str(state) in proc.stderr                             # "results in <state>"
    # the same sweep, re-formatted with a comment (as the app saves it): the same state
    path.write_text("# a comment\n" + load_sweep(path).to_toml())
    assert Engine().state_dir(load_sweep(path)) == state
    assert default_state_dir(path) == state
    assert load_manifest(state)["sweep_hash"] == load_sweep(path).content_hash()
    assert Engine().plan(loads_sweep(path.read_text(), source=path)).cached == 2  # the GUI


# -- 2. roots are added, never silently dropped ---------------------------------------------

def test_a_state_folder_deleted_during_the_run_is_rooted_again(sweep_dir):
    path = write_sweep(sweep_dir, {"fluid.density": [990.0, 1000.0, 1020.0],
                                   "state.temperature": [300.0, 301.0, 302.0, 303.0]})
    engine = Engine()
    sweep = load_sweep(path)
    deleted = False
    events = []
    for ev in engine.run(sweep):
        events.append(ev)
        if not deleted and sum(isinstance(e, PointFinished) for e in events) == 4:
            shutil.rmtree(sweep_dir / ".sweepgui")  # a user "cleaning up" mid-run
            deleted = True
    done = events[-1]
    assert deleted and isinstance(done, RunFinished) and (done.built, done.failed) == (12, 0)
    state = engine.state_dir(sweep)
    manifest = load_manifest(state)
    assert [p["status"] for p in manifest["points"]] == ["built"] * 12
    for p in manifest["points"]:
        link = state / "gcroots" / f"{p['index']}-{p['name']}"
        assert os.readlink(link) == p["out"]
        assert str(link) in roots_of(p["out"])


def test_a_run_that_cannot_root_its_results_fails_loudly(sweep_dir):
    path = write_sweep(sweep_dir, {"fluid.density": [990.0, 1000.0, 1020.0]})
    state = Engine().state_dir(load_sweep(path))
    state.mkdir(parents=True)
    (state / "gcroots").write_text("a file where the roots go")
    proc = sweepgui("run", str(path), "--json")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    folder = str(state / "gcroots")
    lines = [line for line in proc.stderr.splitlines() if "GC root" in line]
    assert len(lines) == 1, proc.stderr  # one line, not a warning per point
    assert folder in lines[0] and "3 " in lines[0] and "sweepgui run" in lines[0]
    assert "nix-collect-garbage" in lines[0]
    out = json.loads(proc.stdout)
    assert out["built"] == 3 and out["unrooted"] == 3
    manifest = load_manifest(state)
    assert manifest["gc_roots"]["missing"] == [0, 1, 2]
    assert folder in manifest["gc_roots"]["error"]


# -- 3. threads, umask, process groups ------------------------------------------------------

def _gcroot_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("gcroot") and t.is_alive()]


@pytest.mark.parametrize("how", ["closed", "exception"])
def test_root_threads_end_with_the_run_and_their_roots_exist(sweep_dir, monkeypatch, how):
    """Through a nix-daemon the roots are added by nix-store calls on threads: a run that
    ends early (the GUI closes the generator, an error) waits for them and reports."""
    from sweepgui.nix import gcroots, run_state

    monkeypatch.setattr(gcroots, "_auto_dir", lambda: None)  # the daemon's way: nix-store
    # temperature 1000 sleeps 60 s: one slot holds it, the other builds the fast points
    variables = ({"fluid.density": [990.0], "state.temperature": [300.0, 1000.0, 301.0]}
                 if how == "closed" else
                 {"fluid.density": [990.0, 1000.0], "state.temperature": [300.0, 301.0]})
    path = write_sweep(sweep_dir, variables)
    engine = Engine()
    sweep = load_sweep(path)
    before = set(_gcroot_threads())
    if how == "exception":
        def broken(self, cancelled, roots=None):
            raise OSError(28, "No space left on device")
            yield  # pragma: no cover - a generator, like the real one

        monkeypatch.setattr(run_state.RunState, "settle", broken)
    run = engine.run(sweep, jobs=2)
    finished = []
    with pytest.raises(OSError, match="No space left") if how == "exception" else \
            contextlib.nullcontext():
        for ev in run:
            if isinstance(ev, PointFinished):
                finished.append(ev)
                if how == "closed" and len(finished) == 2:
                    run.close()  # the slow point still runs
                    break
    assert len(finished) == (2 if how == "closed" else 4)
    assert set(_gcroot_threads()) <= before, "root threads outlived the run"
    state = engine.state_dir(sweep)
    points = load_manifest(state)["points"]
    for ev in finished:
        link = state / "gcroots" / f"{ev.index}-{points[ev.index]['name']}"
        assert os.readlink(link) == ev.store_path
        assert str(link) in roots_of(ev.store_path)


def test_atomic_writes_from_two_threads_get_the_right_modes(tmp_path):
    from sweepgui.atomic import atomic_write

    old_umask = os.umask(0o027)
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show up
    modes: list[tuple[str, int]] = []
    try:
        def writer(k: int) -> None:
            for n in range(2500):
                p = tmp_path / f"w{k}-{n}"
                atomic_write(p, "x")
                modes.append((p.name, os.stat(p).st_mode & 0o777))

        def plain(k: int) -> None:  # another thread of the app creating files meanwhile
            for n in range(2500):
                p = tmp_path / f"p{k}-{n}"
                os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o666))
                modes.append((p.name, os.stat(p).st_mode & 0o777))

        threads = [threading.Thread(target=writer, args=(0,)),
                   threading.Thread(target=writer, args=(1,)),
                   threading.Thread(target=plain, args=(2,)),
                   threading.Thread(target=plain, args=(3,))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        now = os.umask(0o022)
    finally:
        sys.setswitchinterval(old_interval)
        os.umask(old_umask)
    assert now == 0o027, f"the process umask became {now:o}"
    wrong = [(name, oct(m)) for name, m in modes if m != 0o640]
    assert not wrong, f"{len(wrong)} files with the wrong mode, e.g. {wrong[:5]}"


def test_stop_never_signals_the_group_of_a_reaped_nix(tmp_path):
    """A Nix process that has been waited for gives up its pid: another process may get it
    (here forced with ns_last_pid) and must not be killed by a later stop()."""
    from sweepgui.nix.process import NixProcess

    last_pid = Path("/proc/sys/kernel/ns_last_pid")
    if not os.access(last_pid, os.W_OK):
        pytest.skip("cannot choose the next pid here (/proc/sys/kernel/ns_last_pid)")
    for _attempt in range(5):
        nix = NixProcess(["/bin/sh", "-c", "exit 0"], dict(os.environ))
        nix.wait()  # reaped: its pid is free
        last_pid.write_text(str(nix.proc.pid - 1))
        # an unrelated program, leader of its own group, with a child (so it has a tree)
        victim = subprocess.Popen(["/bin/sh", "-c", "sleep 30 & wait"], start_new_session=True)
        if victim.pid == nix.proc.pid:
            break
        victim.kill()
        victim.wait()
    else:
        pytest.skip("could not reuse the pid")
    try:
        time.sleep(0.2)  # the victim's child is running
        nix.stop(grace=0.3)
        time.sleep(0.2)
        assert victim.poll() is None, "stop() killed an unrelated process that reused Nix's pid"
    finally:
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()


# -- 4. SIGTERM --------------------------------------------------------------------------------

def test_sigterm_cancels_keeps_finished_points_and_cleans_up(tmp_path):
    model = write_model(tmp_path, marker=uuid.uuid4().hex, name=f"m{uuid.uuid4().hex[:10]}.py")
    path = write_sweep(tmp_path, {"fluid.density": [990.0],
                                  "state.temperature": [300.0, 1000.0, 301.0, 302.0]},
                       model=model.name, jobs=2)
    # the app's own temp folder, to see what it leaves; Nix's build users must reach it
    tmp = Path(tempfile.mkdtemp(prefix="sweepgui-test-tmp-", dir="/tmp"))
    tmp.chmod(0o755)
    env = dict(os.environ, TMPDIR=str(tmp))
    app = subprocess.Popen([sys.executable, "-m", "sweepgui", "run", str(path)], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    slow = f"-sweepgui-model-{model.name} /nix/store/"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not processes_mentioning(slow):
            time.sleep(0.1)
        assert processes_mentioning(slow), "the model never started"
        time.sleep(2.0)  # the fast points finish in the other slot; the slow one sleeps on
        app.send_signal(signal.SIGTERM)
        out, err = app.communicate(timeout=15)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        left = [p.name for p in tmp.iterdir()]
        shutil.rmtree(tmp, ignore_errors=True)
    assert app.returncode == 143, err
    assert "cancelled" in err and "Traceback" not in err
    state = Engine().state_dir(load_sweep(path))
    manifest = load_manifest(state)
    statuses = {p["coordinates"]["state.temperature"]: p["status"] for p in manifest["points"]}
    assert statuses[1000.0] == "cancelled"
    assert [statuses[t] for t in (300.0, 301.0, 302.0)] == ["built"] * 3, statuses
    for p in manifest["points"]:
        if p["status"] == "built":
            assert os.readlink(state / "gcroots" / f"{p['index']}-{p['name']}") == p["out"]
    assert not [name for name in left if name.startswith("sweepgui-")], left
    assert processes_mentioning(model.name) == []


# -- 5. huge log lines ---------------------------------------------------------------------------

LOUD = '''\
import json, sys
params = json.load(open(sys.argv[1], encoding="utf-8"))
rho = params["fluid"]["density"]
print("computing", rho, MARKER, flush=True)
if rho == 1010.0:
    sys.stderr.write("E" * 5_000_000 + "\\n")               # one 5 MB line
    sys.stderr.write("gave up: " + "why? " * 200_000 + "\\n")  # a 1 MB last word
    sys.exit(1)
json.dump({"density": rho}, open(sys.argv[2], "w"))
'''


@pytest.mark.parametrize("batch", [None, 2])
def test_a_5_mb_log_line_is_cut_in_the_manifest_and_the_events(tmp_path, batch):
    (tmp_path / "model.py").write_text(LOUD.replace("MARKER", repr(uuid.uuid4().hex)))
    path = write_sweep(tmp_path, {"fluid.density": [990.0, 1010.0]})
    engine = Engine(batch=batch)
    events = list(engine.run(load_sweep(path)))
    assert (events[-1].built, events[-1].failed) == (1, 1)
    failed = [e for e in events if isinstance(e, PointFailed)]
    assert len(failed) == 1
    fail = failed[0]
    assert len(fail.reason) <= 2_100, len(fail.reason)
    assert all(len(line) <= 2_100 for line in fail.log_tail)
    # the line's start is kept, with how much was cut: 5,000,000 - 2,000 characters
    assert "E" * 2_000 + " … [4,998,000 characters cut]" in fail.log_tail
    assert all(len(e.line) <= 2_100 for e in events if isinstance(e, PointLog))
    manifest_file = engine.state_dir(load_sweep(path)) / "manifest.json"
    assert manifest_file.stat().st_size < 200_000, manifest_file.stat().st_size
    bad = load_manifest(manifest_file.parent)["points"][1]
    assert bad["status"] == "failed" and len(bad["error"]) <= 2_100
    assert "gave up" in bad["error"] or any("gave up" in t for t in bad["log_tail"])


# -- 6. a per-point time limit -----------------------------------------------------------------

@pytest.mark.parametrize("where", ["sweep", "option"])
def test_a_hanging_point_times_out_and_the_others_build(sweep_dir, where):
    path = write_sweep(sweep_dir, {"fluid.density": [990.0],
                                   "state.temperature": [300.0, 1000.0, 301.0]})
    args = ["run", str(path), "--json"]
    if where == "sweep":
        path.write_text(path.read_text().replace("jobs = 2", "jobs = 2\ntimeout = 2"))
        assert load_sweep(path).run.timeout == 2
    else:
        args += ["--timeout", "2"]
    t0 = time.monotonic()
    proc = sweepgui(*args, timeout=60)
    seconds = time.monotonic() - t0
    assert proc.returncode == 1, proc.stderr
    assert seconds < 12, f"the run took {seconds:.1f} s"
    out = json.loads(proc.stdout)
    assert (out["built"], out["failed"]) == (2, 1)
    bad = [r for r in out["results"] if r["status"] == "failed"]
    assert bad[0]["parameters"]["state"]["temperature"] == 1000.0
    assert bad[0]["error"] == "timed out after 2 s"
    assert "timed out after 2 s" in proc.stderr
    assert "result.json" not in proc.stderr


def test_timeout_is_checked_like_the_other_run_settings(tmp_path):
    from sweepgui.sweep import SweepError

    with pytest.raises(SweepError, match=r"line 2, \[run\] timeout.*greater than or equal to 1"):
        loads_sweep("[run]\ntimeout = 0\n", source=tmp_path / "t.toml")
    (tmp_path / "t.toml").write_text("[fixed]\npipe.length = 0.42\n")
    proc = sweepgui("run", str(tmp_path / "t.toml"), "--timeout", "0")
    assert proc.returncode == 2 and "--timeout 0: give at least 1" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / ".sweepgui").exists()
