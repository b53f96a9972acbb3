"""`sweepgui machines add/fetch-host-key/check` against real builder hosts."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time

import pytest

pytestmark = [pytest.mark.sshd, pytest.mark.nix]


def _cli(*args, timeout=60):
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "sweepgui", "machines", *map(str, args)],
                       capture_output=True, text=True, timeout=timeout, env=dict(os.environ))
    return p, time.monotonic() - t0


def test_add_with_fetched_host_key_then_check_passes(two_hosts, tmp_path):
    h1, h2 = two_hosts.hosts
    f = tmp_path / "machines"
    for h in (h1, h2):
        p, _ = _cli("add", h.uri, "--file", f, "--key", two_hosts.client_key, "--jobs", 2,
                    "--fetch-host-key")
        assert p.returncode == 0, p.stderr
        assert "pinned host key" in p.stdout and "SHA256:" in p.stdout
    # the pinned keys are the hosts' own (read from their key files, not from the network)
    text = f.read_text()
    assert h1.host_key_b64 in text and h2.host_key_b64 in text
    p, took = _cli("check", "--file", f)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.count("Nix reaches the store of") == 2
    assert p.stdout.count("host key pinned and matching") == 2
    assert took < 10


def test_fetch_host_key_repairs_a_stale_pin(two_hosts, tmp_path):
    h1, h2 = two_hosts.hosts
    f = tmp_path / "machines"
    f.write_text(f"# reinstalled box\n{h1.line(two_hosts.client_key, host_key=h2.host_key_b64)}\n")
    assert _cli("check", "--file", f)[0].returncode == 1
    # a different key is never replaced silently (that is what pinning guards against) ...
    p, _ = _cli("fetch-host-key", h1.uri, "--file", f)
    assert p.returncode == 1 and "--replace" in p.stdout + p.stderr
    assert base64.b64decode(f.read_text().split()[-1]) == base64.b64decode(h2.host_key_b64)
    # ... only once the user confirms, after comparing the fingerprints
    p, _ = _cli("fetch-host-key", h1.uri, "--file", f, "--replace")
    assert p.returncode == 0 and "replaced the pinned host key" in p.stdout
    assert f.read_text().startswith("# reinstalled box\n")
    assert base64.b64decode(f.read_text().split()[-1]) == base64.b64decode(h1.host_key_b64)
    assert _cli("check", "--file", f)[0].returncode == 0
