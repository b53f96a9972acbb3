"""Broken builders: `machines check` names each fault in plain words within 10 s, and a run
with no local slots fails at once with the same plain reason, never hanging."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from .builders import SilentHost

pytestmark = [pytest.mark.sshd, pytest.mark.nix]


def _cli(*args, timeout=60):
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "sweepgui", *map(str, args)], capture_output=True,
                       text=True, timeout=timeout, env=dict(os.environ))
    return p, time.monotonic() - t0


def _fault(kind, hosts, tmp_path, request):
    """The machines line of a builder with fault ``kind`` (and the words that must explain it)."""
    h = hosts.hosts[0]
    key = hosts.client_key
    if kind == "unreachable":  # nothing listens there
        return (f"ssh://{h.user}@127.0.0.249:{h.port} - {key} 2 1 - - {h.host_key_b64}",
                "connection refused", "start sshd there")
    if kind == "wrong-host-key":  # another machine's key pinned in column 8
        other = hosts.start(1)[0]
        return (f"{h.uri} - {key} 2 1 - - {other.host_key_b64}",
                "does not match the key pinned", "fetch-host-key")
    if kind == "key-permissions":  # a private key readable by everybody
        bad = tmp_path / "id_world_readable"
        shutil.copy(key, bad)
        os.chmod(bad, 0o644)
        return (f"{h.uri} - {bad} 2 1 - - {h.host_key_b64}", "readable by others",
                f"chmod 600 {bad}")
    if kind == "passphrase":  # the builder's own key, locked with a passphrase Nix cannot type
        locked = tmp_path / "id_locked"
        shutil.copy(key, locked)
        os.chmod(locked, 0o600)
        subprocess.run(["ssh-keygen", "-q", "-p", "-P", "", "-N", "secret", "-f", str(locked)],
                       check=True, capture_output=True)
        return (f"{h.uri} - {locked} 2 1 - - {h.host_key_b64}", "has a passphrase",
                f"ssh-keygen -p -N '' -f {locked}")
    if kind == "silent":  # accepts TCP, never answers: a hung machine
        silent = SilentHost()
        request.addfinalizer(silent.close)
        return (f"ssh://{h.user}@{silent.addr}:{silent.port} - {key} 2 1 - - {h.host_key_b64}",
                "cannot be reached within", "firewall")
    if kind == "stalled":  # says it is an ssh server, then never finishes the handshake
        stalled = SilentHost(addr="127.0.0.251", banner=b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n")
        request.addfinalizer(stalled.close)
        return (f"ssh://{h.user}@{stalled.addr}:{stalled.port} - {key} 2 1 - - {h.host_key_b64}",
                "no ssh handshake", "hung sshd")
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["unreachable", "wrong-host-key", "key-permissions", "passphrase",
                                  "silent", "stalled"])
def test_fault_is_named_by_check_and_fails_a_run_fast(kind, builder_hosts, tmp_path, request):
    builder_hosts.start(1)
    line, words, fix = _fault(kind, builder_hosts, tmp_path, request)
    machines = tmp_path / "machines"
    machines.write_text(line + "\n")
    uri = line.split()[0]

    p, took = _cli("machines", "check", "--file", machines)
    assert p.returncode == 1, p.stdout + p.stderr
    assert took < 10, f"check took {took:.1f} s"
    assert f"FAIL {uri}" in p.stdout
    assert words in p.stdout and fix in p.stdout, p.stdout
    assert "Traceback" not in p.stderr

    sweep = tmp_path / "sweep.toml"
    sweep.write_text(f"[fixed]\npipe.length = {0.5 + (uuid.uuid4().int % 10**6) * 1e-9!r}\n"
                     "[variable]\n\"fluid.density\" = [700.0, 800.0]\n")
    p, took_run = _cli("run", sweep, "--machines", machines, "--jobs", 0, "--json")
    assert p.returncode == 1, p.stderr[-2000:]
    assert took_run < 30, f"the run took {took_run:.1f} s"
    out = json.loads(p.stdout)
    assert out["failed"] == 2 and out["built"] == 0
    for r in out["results"]:
        assert r["status"] == "failed"
        assert "no remote builder could take this point" in r["error"]
        assert words in r["error"], r["error"]
    print(f"{kind}: check {took:.1f} s, failed run {took_run:.1f} s")


def test_a_malformed_machines_file_stops_a_run_before_nix_with_line_and_column(tmp_path):
    machines = tmp_path / "machines"
    machines.write_text("# farm\nssh://a x86_64-linux - lots\n")  # Nix 2.8: "unexpected EOF"
    sweep = tmp_path / "sweep.toml"
    sweep.write_text("[variable]\n\"fluid.density\" = [700.0, 800.0]\n")
    p, took = _cli("run", sweep, "--machines", machines, "--jobs", 0)
    assert p.returncode == 2
    assert f"{machines}:2:24: max jobs (column 4)" in p.stderr and "Traceback" not in p.stderr
