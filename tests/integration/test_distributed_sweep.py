"""Distributed sweeps on two real builder hosts (sshd + own Nix store each), no local build slots."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import pytest

from sweepgui.model import run_point
from sweepgui.nix.events import PointFailed, PointFinished, PointStarted, RunFinished
from sweepgui.nix.machines import per_machine_from_manifest
from sweepgui.nix.manifest import load_manifest
from sweepgui.nix.plan import default_state_dir
from sweepgui.nix.store import read_result

pytestmark = [pytest.mark.sshd, pytest.mark.nix]

SLOW_MODEL = """\
import json, sys, time
p = json.load(open(sys.argv[1], encoding="utf-8"))
time.sleep(1.0)  # long enough that builds are in flight when a builder is killed
with open(sys.argv[2], "w", encoding="utf-8") as fh:
    json.dump({"density": p["fluid"]["density"], "length": p["pipe"]["length"]}, fh)
"""


def _length() -> float:
    # a pipe length no earlier run used: every point is new to every store, nothing is cached
    return round(0.5 + (uuid.uuid4().int % 10**6) * 1e-9, 9)


def _cli(*args, timeout=120):
    env = dict(os.environ)
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "sweepgui", *map(str, args)], capture_output=True,
                       text=True, timeout=timeout, env=env)
    return p, time.monotonic() - t0


def test_cli_sweep_with_jobs_0_builds_every_point_on_the_two_hosts(two_hosts, tmp_path):
    h1, h2 = two_hosts.hosts
    # a third builder is down: it is left out at the start instead of slowing every build
    down = f"ssh://{h1.user}@127.0.0.249:{h1.port} - {two_hosts.client_key} 2"
    machines = two_hosts.machines_file(jobs=2, extra=[down])
    length = _length()
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(f"""
[fixed]
material.name = "316L"
fluid.name = "Water"
pipe.length = {length!r}
analysis.frequencies = 101
[variable]
"fluid.density" = [700.0, 800.0, 900.0, 1000.0]
"state.temperature" = [293.15, 333.15]
""")
    p, took = _cli("run", sweep, "--machines", machines, "--jobs", 0, "--json")
    if p.returncode != 0:  # a modified store path cannot be copied to builders: say so
        verify = subprocess.run(["nix-store", "--verify", "--check-contents"],
                                capture_output=True, text=True).stderr
        raise AssertionError(p.stderr[-3000:] + "\n" + verify[-1000:])
    out = json.loads(p.stdout)
    assert out["built"] == 8 and out["failed"] == 0
    uris = {h1.uri: h1, h2.uri: h2}
    by_host = {u: 0 for u in uris}
    for r in out["results"]:
        assert r["status"] == "built"
        assert r["machine"] in uris, r["machine"]  # never "local": -j0
        by_host[r["machine"]] += 1
        # the output was built in that host's own store and copied back here
        assert uris[r["machine"]].has_path(r["store_path"])
        assert os.path.exists(r["store_path"])
        result = read_result(r["store_path"])
        # the host computed what the model computes here, for the same parameters
        local = run_point(r["parameters"])
        assert result["natural_frequencies"] == pytest.approx(local["natural_frequencies"],
                                                              rel=1e-9)
        assert result["parameters"]["fluid"]["density"] == r["parameters"]["fluid"]["density"]
    assert all(n > 0 for n in by_host.values()), by_host  # both hosts took part
    # With -j0 the trivial aggregator is built remotely too (Nix 2.8 builds nothing
    # locally with max-jobs 0, see machines/setup.py), so one host also receives copies of
    # every point. The other host's store holds exactly the points reported for it:
    # the machine names are right, not merely consistent.
    points_in = {u: {n for n in h.built_here() if "-sweepgui-point-" in n} for u, h in uris.items()}
    aggregator_on = [u for u, h in uris.items()
                     if any(n.endswith("-sweepgui-sweep") for n in h.built_here())]
    assert len(aggregator_on) <= 1, aggregator_on  # none once a Nix keeps it local
    for u in uris:
        if u not in aggregator_on:
            reported = {os.path.basename(r["store_path"]) for r in out["results"]
                        if r["machine"] == u}
            assert points_in[u] == reported
    assert "builder ssh://" in p.stderr and "left out of this run: connection refused" in p.stderr
    # the summary names each machine with its own count
    pm = out["per_machine"]
    assert {u: pm[u]["built"] for u in uris} == by_host
    assert all(pm[u]["failed"] == 0 and pm[u]["mean_seconds"] > 0 for u in uris)
    for u in uris:  # and so does the text summary
        assert f"  {u}: {by_host[u]} built, mean " in p.stderr
    # the manifest names the machine of every point, the same as the run reported
    manifest = load_manifest(default_state_dir(sweep))
    assert sorted(pt["machine"] for pt in manifest["points"]) == \
        sorted(r["machine"] for r in out["results"])
    # and the figures can be had again from the manifest alone (a sweep opened later)
    again = per_machine_from_manifest(manifest)
    assert {u: again[u]["built"] for u in uris} == by_host
    print(f"8 points on 2 hosts in {took:.1f} s: {by_host}")


def test_a_builder_killed_mid_sweep_loses_no_point(builder_hosts, tmp_path):
    from sweepgui.nix.engine import Engine
    from sweepgui.sweep import load_sweep

    victim, survivor = builder_hosts.start(2)
    machines = builder_hosts.machines_file(jobs=2)
    (tmp_path / "model.py").write_text(SLOW_MODEL)
    densities = [700.0 + 50 * i for i in range(6)]
    sweep_file = tmp_path / "sweep.toml"
    sweep_file.write_text(f"""
[fixed]
pipe.length = {_length()!r}
fluid.name = "Water"
[variable]
"fluid.density" = {json.dumps(densities)}
[model]
executable = "model.py"
""")
    sweep = load_sweep(sweep_file)
    killed_at = None
    finished: dict[int, PointFinished] = {}
    failed = []
    t0 = time.monotonic()
    for ev in Engine().run(sweep, jobs=0, machines=machines):
        if isinstance(ev, PointStarted) and ev.machine == victim.uri and killed_at is None:
            time.sleep(0.3)  # its build is running on the victim now
            victim.kill()
            killed_at = time.monotonic() - t0
        elif isinstance(ev, PointFinished):
            finished[ev.index] = ev
        elif isinstance(ev, PointFailed):
            failed.append(ev)
        elif isinstance(ev, RunFinished):
            summary = ev
    took = time.monotonic() - t0
    assert killed_at is not None, "the victim never got a point"
    assert not failed, [f.reason for f in failed]
    assert summary.failed == 0 and summary.built == len(densities)
    assert sorted(finished) == list(range(len(densities)))  # no point lost
    for i, ev in finished.items():
        assert read_result(ev.store_path)["density"] == densities[i]
        if ev.machine == survivor.uri:
            assert survivor.has_path(ev.store_path)
    # the points lost with the victim were built again on the survivor
    assert summary.per_machine[victim.uri].get("lost", 0) >= 1
    assert summary.per_machine[survivor.uri]["built"] >= 1
    assert took < 90
    print(f"killed {victim.addr} at {killed_at:.1f} s; all {len(densities)} points in {took:.1f} s; "
          f"per machine {summary.per_machine}")
