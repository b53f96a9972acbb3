"""The builder-host fixture itself: plain nix-build sends derivations to both hosts."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid

import pytest

from sweepgui.nix.machines import builder_setup

pytestmark = [pytest.mark.sshd, pytest.mark.nix]

# each leaf sleeps 1 s and each host takes one build at a time, so that Nix has builds in
# flight on both hosts even when a busy machine makes it dispatch slowly (with 0.3 s and two
# slots per host, a loaded CI machine once ran all eight on one host)
TRIVIAL = r"""
{ tag, n }:
builtins.genList (i: derivation {
  name = "leaf-${toString i}-${tag}";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  args = [ "-c" "sleep 1; echo ${toString i} > $out" ];
}) n
"""


def _build_leaves(machines, tmp_path, n: int) -> tuple[list[str], set[str], float]:
    """Build ``n`` new leaves with ``machines`` and no local slot (-j0): the outputs, the
    machines Nix named for the builds, and the wall time."""
    setup = builder_setup(machines, workdir=tmp_path / f"builders-{uuid.uuid4().hex[:6]}")
    assert setup.skipped == [], setup.skipped  # every host answered the reachability probe
    expr = tmp_path / "t.nix"
    expr.write_text(TRIVIAL)
    tag = uuid.uuid4().hex[:10]  # new derivations every time: nothing is cached
    t0 = time.monotonic()
    p = subprocess.run(["nix-build", str(expr), "--argstr", "tag", tag, "--arg", "n", str(n),
                        "--no-out-link", "-j0", "--log-format", "internal-json", *setup.args],
                       env=dict(os.environ, **setup.env), capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr[-3000:]
    machines_seen = set()
    for line in p.stderr.splitlines():
        if line.startswith("@nix "):
            ev = json.loads(line[5:])
            if ev.get("action") == "start" and ev.get("type") == 105 and ev["fields"][1]:
                machines_seen.add(ev["fields"][1])
    return p.stdout.split(), machines_seen, time.monotonic() - t0


def test_nix_build_sends_derivations_to_each_real_host(two_hosts, tmp_path):
    """Each host builds what Nix sends it (its own store), the outputs come back, and Nix names
    the machine by the file's URI, port included. Together, the hosts build everything between
    them, each leaf on exactly one; which host takes how many is Nix's choice (on a loaded
    machine it has kept one host busy with all of them), so that is not asserted."""
    h1, h2 = two_hosts.hosts
    for host in (h1, h2):
        leaves, seen, _ = _build_leaves(two_hosts.machines_file(hosts=[host], jobs=1,
                                                                path=tmp_path / f"m-{host.addr}"),
                                        tmp_path, 2)
        assert len(leaves) == 2 and all(os.path.exists(leaf) for leaf in leaves)
        assert all(host.has_path(leaf) for leaf in leaves)
        assert seen == {host.uri}

    leaves, seen, took = _build_leaves(two_hosts.machines_file(jobs=1), tmp_path, 8)
    assert len(leaves) == 8
    for leaf in leaves:  # every output is here, copied back
        assert os.path.exists(leaf)
    on1 = [leaf for leaf in leaves if h1.has_path(leaf)]
    on2 = [leaf for leaf in leaves if h2.has_path(leaf)]
    assert sorted(on1 + on2) == sorted(leaves)  # each built on exactly one host
    assert seen <= {h1.uri, h2.uri} and seen
    print(f"8 leaves on 2 hosts in {took:.1f} s: {len(on1)} on {h1.addr}, {len(on2)} on {h2.addr}")


def test_builders_that_do_not_answer_are_left_out_of_a_run(builder_hosts, tmp_path):
    from sweepgui.nix.machines import MachinesFile

    from .builders import SilentHost

    (live,) = builder_hosts.start(1)
    silent = SilentHost()
    try:
        key = builder_hosts.client_key
        refused = f"ssh://{live.user}@127.0.0.249:{live.port}"
        hung = f"ssh://{live.user}@{silent.addr}:{silent.port}"
        machines = builder_hosts.machines_file(extra=[f"{refused} - {key} 2", f"{hung} - {key} 2"])
        t0 = time.monotonic()
        setup = builder_setup(machines, workdir=tmp_path / "b")
        took = time.monotonic() - t0
    finally:
        silent.close()
    assert dict(setup.skipped).keys() == {refused, hung}
    assert "connection refused" in dict(setup.skipped)[refused]
    assert "cannot be reached within" in dict(setup.skipped)[hung]
    used = MachinesFile.load(setup.builders.lstrip("@")).machines
    assert [m.name for m in used] == [live.uri]
    assert took < 5  # one short probe for all, instead of a 5 s ssh timeout per build
    # every builder dead: all are left out (the engine then fails the points at once with
    # these reasons when there are no local slots, instead of letting Nix wait on them)
    only_dead = tmp_path / "dead"
    only_dead.write_text(f"{refused} - {key} 2\n")
    dead = builder_setup(only_dead)
    assert [name for name, _ in dead.skipped] == [refused] and dead.usable == []
