"""The Nix set-up: who builds (single-user or a daemon), whose builders count, and the fixes.

The daemon itself is exercised for real, as an unprivileged user, in
tests/integration/test_daemon.py; here are the rules, on this machine's real Nix.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from sweepgui.nix.interpreter import blocking_folder
from sweepgui.nix.machines import Machine, daemon_ssh_checks, install_system, system_install
from sweepgui.nix.setup import DAEMON, SINGLE_USER, NixSetup, detect_setup, matches_users, route_builders

from .conftest import nix_available

needs_nix = pytest.mark.skipif(not nix_available(), reason="Nix is not installed")

B1 = Machine(host="b1", user="alice", ssh_key="/home/alice/.ssh/id_build", max_jobs=4)
B2 = Machine(host="b2", ssh_key="/root/.ssh/id_b2")


def untrusted(**kw) -> NixSetup:
    base = dict(version="2.8.0", mode=DAEMON, user="alice", trusted=False,
                trusted_users=("root",), conf_file="/etc/nix/nix.conf",
                builders_setting="@/etc/nix/machines")
    base.update(kw)
    return NixSetup(**base)


@pytest.fixture
def machines_file(tmp_path: Path) -> Path:
    path = tmp_path / "machines"
    path.write_text(B1.line() + "\n")
    return path


def test_trusted_users_match_names_groups_and_star():
    assert matches_users(["*"], "alice", "users")
    assert matches_users(["root", "alice"], "alice", "users")
    assert not matches_users(["root", "bob"], "alice", "users")
    # @group: the primary group of the client process counts
    assert matches_users(["root", "@users"], "alice", "users")
    assert not matches_users(["root", "@wheel"], "alice", "users")
    assert not matches_users(["@no-such-group-here"], "alice", "users")


@pytest.mark.skipif(os.geteuid() != 0, reason="creates a group (root only)")
def test_trusted_users_match_supplementary_groups_from_the_group_database():
    name = "sgt" + uuid.uuid4().hex[:6]
    subprocess.run(["groupadd", name], check=True)
    try:
        subprocess.run(["gpasswd", "-a", "root", name], check=True, capture_output=True)
        assert matches_users([f"@{name}"], "root", "root")
        assert not matches_users([f"@{name}"], "daemon", "daemon")
    finally:
        subprocess.run(["groupdel", name], check=True)


def test_an_untrusted_users_machines_are_refused_with_0_local_jobs(machines_file):
    route = route_builders(untrusted(), machines_file, jobs=0)
    assert route.error and route.machines == [] and route.machines_file is None
    assert "will not use the machines in" in route.error and str(machines_file) in route.error
    assert "alice is not a trusted user" in route.error and "trusted-users" in route.error
    assert "install-system" in route.error and "export-nixos" in route.error
    assert "anything root can" in route.error  # trusting a user is giving root: said plainly


def test_an_untrusted_users_machines_are_never_silent_with_local_jobs(machines_file):
    route = route_builders(untrusted(), machines_file, jobs=2)
    assert route.error is None and route.machines == [] and route.machines_file is None
    assert len(route.warnings) == 1 and "trusted-users" in route.warnings[0]


def test_the_daemons_own_builders_serve_an_untrusted_user(machines_file):
    s = untrusted(daemon_builders=(B2,))
    route = route_builders(s, None, jobs=0)
    assert route.error is None and route.machines == [B2] and route.machines_file is None
    assert "nix-daemon's builders" in route.source
    # with a machines file of its own: that file is ignored (said), the daemon's build
    route = route_builders(s, machines_file, jobs=0)
    assert route.error is None and route.machines == [B2] and route.warnings


def test_a_trusted_user_or_single_user_nix_uses_the_users_machines(machines_file):
    for s in (untrusted(trusted=True), untrusted(mode=SINGLE_USER, trusted=True)):
        route = route_builders(s, machines_file, jobs=0)
        assert route.error is None and route.warnings == []
        assert route.machines == [B1] and route.machines_file == machines_file


def test_0_local_jobs_with_no_builder_anywhere_is_refused():
    route = route_builders(untrusted(), None, jobs=0)
    assert route.error and "0 local jobs build nothing" in route.error
    assert "nix-daemon has no remote builder" in route.error


def test_an_untrusted_client_sends_only_the_options_the_daemon_accepts():
    opts = {"substituters": "", "build-poll-interval": "1", "build-users-group": ""}
    assert untrusted().accepted_options(opts) == {"substituters": ""}
    assert untrusted(trusted=True).accepted_options(opts) == opts


def test_a_folder_closed_to_others_blocks_the_build_users():
    # pytest's own tmp_path lies in a folder of mode 700: start from the system's /tmp
    top = Path(tempfile.mkdtemp(prefix="sg-access-"))
    try:
        home = top / "home"
        exe = home / "venv" / "bin" / "python"
        exe.parent.mkdir(parents=True)
        exe.write_text("#!/bin/sh\n")
        for d in (top, home, home / "venv", home / "venv" / "bin"):
            d.chmod(0o755)
        exe.chmod(0o755)
        if blocking_folder(str(top)) is not None:
            pytest.skip(f"{tempfile.gettempdir()} is closed to others here")
        assert blocking_folder(str(exe)) is None
        home.chmod(0o700)
        assert blocking_folder(str(exe)) == (str(home), 0o700)
        home.chmod(0o751)  # others may pass through, not list: enough to run the file
        assert blocking_folder(str(exe)) is None
        exe.chmod(0o750)
        assert blocking_folder(str(exe)) == (str(exe), 0o750)
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_daemon_ssh_checks_name_what_roots_ssh_cannot_do():
    # Nix 2.8 reads no port in a URI, and under a daemon sweepgui cannot pass one to ssh
    ported = Machine(host="b3", port=2222, ssh_key="/k", host_key="c3NoLWVkMjU1MTkgQUFBQQo=")
    msgs = [c.message for c in daemon_ssh_checks(ported, (2, 8, 0)) if c.level == "error"]
    assert any("Port 2222" in m and "/etc/ssh/ssh_config" in m for m in msgs)
    assert not [c for c in daemon_ssh_checks(ported, (2, 31, 0)) if "Port" in c.message]
    bare = Machine(host="b4")
    checks = {c.level: c.message for c in daemon_ssh_checks(bare, (2, 8, 0))}
    assert "agent" in checks["error"] and "column 3" in checks["error"]
    assert "known_hosts" in checks["warning"] and "fetch-host-key" in checks["warning"]


def test_system_install_shows_the_change_and_writes_it_atomically(tmp_path: Path):
    target = tmp_path / "etc-nix" / "machines"
    target.parent.mkdir()
    target.write_text("# the admin's builders\nssh://old - - 1\n")
    change = system_install([B1], target, nix_version=(2, 8, 0))
    assert change.changed and "+" + B1.line() in change.diff()
    assert change.old_text.startswith("# the admin's builders")
    # as root (no sudo needed): written, the old file kept as .bak
    assert "wrote 1 machine(s)" in install_system(change, [])
    assert target.read_text() == change.new_text
    assert "ssh://old" in target.read_text() and B1.uri in target.read_text()
    assert (tmp_path / "etc-nix" / "machines.bak").read_text().count("ssh://old") == 1
    assert not list(target.parent.glob("*sweepgui-new*"))


def test_system_install_without_sudo_gives_the_exact_commands(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    target = tmp_path / "machines"
    change = system_install([B1], target, nix_version=(2, 8, 0))
    with pytest.raises(PermissionError) as info:
        install_system(change, None)
    text = str(info.value)
    kept = tmp_path / "cache" / "sweepgui" / "machines.system"
    assert f"install -m 0644 {kept} {target}.sweepgui-new" in text
    assert f"mv -f {target}.sweepgui-new {target}" in text
    assert kept.read_text() == change.new_text and not target.exists()


def test_system_install_refuses_a_port_old_nix_cannot_read(tmp_path: Path):
    from sweepgui.nix.machines import MachinesError

    with pytest.raises(MachinesError, match="Port 2222"):
        system_install([Machine(host="b5", port=2222)], tmp_path / "m", nix_version=(2, 8, 0))


@needs_nix
def test_this_machines_nix_is_single_user_for_its_owner():
    s = detect_setup(refresh=True)
    if s.mode != SINGLE_USER or not os.access("/nix/var/nix", os.W_OK):
        pytest.skip(f"this test needs the store owner (mode here: {s.mode})")
    assert s.trusted and s.own_builders_used and s.version.startswith("2.")
    assert s.summary().startswith(f"Nix {s.version} · single-user")


@needs_nix
def test_a_daemon_that_does_not_answer_is_named_before_anything_runs(tmp_path: Path):
    """NIX_REMOTE=daemon with no daemon at the socket: doctor, plan and run say so, exit
    2 for run, and nothing is written."""
    (tmp_path / "s.toml").write_text("[fixed]\npipe.length = 0.42\n")
    env = dict(os.environ, NIX_REMOTE="daemon",
               NIX_DAEMON_SOCKET_PATH=str(tmp_path / "no-daemon" / "socket"))
    cli = [sys.executable, "-m", "sweepgui"]
    run = subprocess.run([*cli, "run", str(tmp_path / "s.toml")], env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert "no nix-daemon answers" in run.stderr and "systemctl start nix-daemon" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / ".sweepgui").exists()
    doc = subprocess.run([*cli, "doctor", "--json"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert doc.returncode == 1
    report = json.loads(doc.stdout)
    assert report["mode"] == "unavailable"
    assert [c["level"] for c in report["checks"] if c["name"] == "store"] == ["error"]


@needs_nix
def test_doctor_reports_this_machine(tmp_path: Path):
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path))
    doc = subprocess.run([sys.executable, "-m", "sweepgui", "doctor", "--json"], env=env,
                         capture_output=True, text=True, timeout=120)
    report = json.loads(doc.stdout)
    names = [c["name"] for c in report["checks"]]
    assert names[:2] == ["nix", "store"] and "interpreter" in names and "disk" in names
    assert report["mode"] in (SINGLE_USER, DAEMON)
    assert doc.returncode == (0 if report["ok"] else 1)
    text = subprocess.run([sys.executable, "-m", "sweepgui", "doctor"], env=env,
                          capture_output=True, text=True, timeout=120).stdout
    assert text.splitlines()[0].startswith(f"Nix {report['nix_version']}")
