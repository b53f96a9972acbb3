"""Builders with Nix and nothing else: their builds see only the Nix store.

A colleague's machine has no copy of this app's venv, no /usr/bin/python3 of the right
version, often no /usr at all inside a build. With default settings (the portable
interpreter) every point still builds there, and a sweep that ran locally rebuilds nothing
when remote builders are added.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.sshd, pytest.mark.nix]


def _cli(*args, timeout=300):
    env = {k: v for k, v in os.environ.items() if k not in ("SWEEPGUI_INTERPRETER",
                                                            "SWEEPGUI_NIX_PYTHON")}
    return subprocess.run([sys.executable, "-m", "sweepgui", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env)


def test_default_settings_build_every_point_on_builders_that_see_only_the_store(
        builder_hosts, tmp_path):
    hosts = builder_hosts.start(2, bare=True)
    machines = builder_hosts.machines_file(jobs=2)
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(f"[fixed]\nanalysis.frequencies = {random.randint(150, 250)}\n"
                     "[variable]\n\"fluid.density\" = [700.0, 800.0, 900.0, 1000.0]\n")
    p = _cli("run", sweep, "--machines", machines, "--jobs", 0, "--json")
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout)
    assert (out["built"], out["failed"]) == (4, 0)
    built_on = {r["machine"] for r in out["results"]}
    assert built_on <= {h.uri for h in hosts} and built_on, built_on
    results = []
    for r in out["results"]:  # each result was computed over there, in its own store
        assert any(h.has_path(r["store_path"]) for h in hosts)
        results.append(json.load(open(f"{r['store_path']}/result.json")))
    # the physics came back: f1 ~ 1/sqrt(tube mass + fluid mass) per length (uniform beam)
    base = results[0]
    for res in results[1:]:
        m0 = base["derived"]["tube_mass_per_length"] + base["derived"]["fluid_mass_per_length"]
        m1 = res["derived"]["tube_mass_per_length"] + res["derived"]["fluid_mass_per_length"]
        ratio = res["natural_frequencies"][0] / base["natural_frequencies"][0]
        assert ratio == pytest.approx((m0 / m1) ** 0.5, rel=1e-3)


def test_adding_remote_builders_to_a_finished_local_sweep_rebuilds_nothing(
        builder_hosts, tmp_path):
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(f"[fixed]\nanalysis.frequencies = {random.randint(260, 360)}\n"
                     "[variable]\n\"fluid.density\" = [700.0, 800.0]\n")
    local = _cli("run", sweep, "--json")
    assert local.returncode == 0, local.stderr[-3000:]
    assert json.loads(local.stdout)["built"] == 2
    builder_hosts.start(2, bare=True)
    machines = builder_hosts.machines_file(jobs=2)
    remote = _cli("run", sweep, "--machines", machines, "--jobs", 0, "--json")
    assert remote.returncode == 0, remote.stderr[-3000:]
    out = json.loads(remote.stdout)
    assert (out["built"], out["cached"]) == (0, 2)
    assert all(not h.built_here() for h in builder_hosts.hosts)
