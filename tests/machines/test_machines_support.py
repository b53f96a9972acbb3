"""Version-aware builder options, NixOS export, Nix's own builders, and the local checks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from sweepgui.nix.machines import (
    Machine,
    MachinesFile,
    builder_setup,
    compatibility,
    explain_no_builder,
    lost_builder,
    nixos_snippet,
    ssh_config_text,
    system_machines,
)
from sweepgui.nix.machines.checks import check_system
from sweepgui.nix.machines.identity import check_identity

from .test_machines_file import KEY, local_system, needs_nix, nix_reads


def test_ports_reach_ssh_through_a_config_on_nix_before_2_31():
    ms = [Machine("b1", user="u", port=2222, host_key=KEY), Machine("b2", port=2200),
          Machine("b3")]
    text = ssh_config_text(ms, (2, 8, 0), include_defaults=False)
    # Nix < 2.31 hands "u@b1:2222" to ssh as the host name, and pins column 8 under "b1:2222"
    assert "Host b1:2222\n  HostName b1\n  Port 2222\n  HostKeyAlias b1:2222\n" in text
    assert "Host b2:2200\n  HostName b2\n  Port 2200\n" in text and "HostKeyAlias b2" not in text
    assert "b3" not in text
    assert ssh_config_text(ms, (2, 31, 0)) is None
    assert any("2.31" in n for n in compatibility(ms[0], (2, 8, 0)))
    assert compatibility(ms[0], (2, 31, 0)) == []


@needs_nix
def test_fractional_speed_factors_are_rounded_for_old_nix(tmp_path):
    f = tmp_path / "machines"
    f.write_text("ssh://a x86_64-linux - 3 1.5\n")
    assert nix_reads(tmp_path, f.read_text()) == "rejected"  # Nix 2.8 wants a whole number
    setup = builder_setup(f, workdir=tmp_path / "derived", nix_version=(2, 8, 0),
                          preflight=False)  # "a" is no real host: this is about the file
    derived = setup.builders.lstrip("@")
    assert derived != str(f) and "ssh://a x86_64-linux - 3 2" in open(derived).read()
    assert nix_reads(tmp_path, open(derived).read()) == ["x86_64-linux, 3, , "]
    assert "BatchMode=yes" in setup.env["NIX_SSHOPTS"]
    assert setup.args[:2] == ["--builders", setup.builders]
    same = builder_setup(f, nix_version=(2, 20, 0), preflight=False)
    assert same.builders == f"@{f.resolve()}"


def test_builders_that_went_away_are_told_from_model_failures():
    assert lost_builder("ssh://a", "the build failed with exit code 1",
                        ["Connection to 127.0.0.2 closed by remote host."])
    assert lost_builder("ssh://a", "unexpected end-of-file")
    assert not lost_builder("ssh://a", "builder failed with exit code 3", ["model: bad density"])
    assert not lost_builder("", "unexpected end-of-file")  # a local build is not a lost builder
    # over a shared ssh connection, Nix's message before the failure is the only trace
    assert lost_builder("ssh://a", "failed with exit code 1", [], "unexpected end-of-file")
    assert not lost_builder("ssh://a", "failed with exit code 1", [],
                            "cannot build on 'ssh://b': error: cannot connect to 'b'")


def test_no_builder_explained_from_nix_messages():
    why = explain_no_builder([
        "cannot build on 'ssh://u@h:2222': error: cannot connect to 'u@h:2222': "
        "ssh: connect to host h port 2222: Connection refused"])
    assert "ssh://u@h:2222" in why and "connection refused" in why
    assert explain_no_builder(["something else"]) is None


@needs_nix
def test_the_nixos_snippet_evaluates_to_the_machines(tmp_path):
    ms = MachinesFile.parse(
        f'ssh://alice@b1:2222 x86_64-linux,i686-linux /k"ey 4 1.5 big-parallel - {KEY}\n'
        "ssh-ng://b2 aarch64-linux\n").machines
    snippet = tmp_path / "snippet.nix"
    snippet.write_text(nixos_snippet(ms))
    out = subprocess.run(["nix-instantiate", "--eval", "--strict", "--json", str(snippet)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["nix"]["distributedBuilds"] is True
    b1, b2 = got["nix"]["buildMachines"]
    assert b1 == {"hostName": "b1", "sshUser": "alice", "systems": ["x86_64-linux", "i686-linux"],
                  "sshKey": '/k"ey', "maxJobs": 4, "speedFactor": 2,
                  "supportedFeatures": ["big-parallel"], "publicHostKey": KEY}
    assert b2 == {"hostName": "b2", "protocol": "ssh-ng", "system": "aarch64-linux"}
    assert got["programs"]["ssh"]["extraConfig"] == "Host b1\n  Port 2222\n"


def test_machines_of_the_builders_setting(tmp_path):
    (tmp_path / "machines").write_text("ssh://from-file - - 2\n")
    ms = system_machines(f"ssh://inline x86_64-linux ; @{tmp_path / 'machines'} ; "
                         f"@{tmp_path / 'absent'}")
    assert [(m.host, m.max_jobs) for m in ms] == [("inline", None), ("from-file", 2)]


@needs_nix
def test_machines_of_the_local_nix_config():
    # Nix's own default here: "@/etc/nix/machines" (a missing file means no machines)
    ms = system_machines()
    expected = MachinesFile.load("/etc/nix/machines").all_machines(missing_ok=True) \
        if os.path.exists("/etc/nix/machines") else []
    assert ms == expected


@pytest.fixture
def keys(tmp_path):
    if not shutil.which("ssh-keygen"):
        pytest.skip("ssh-keygen is not installed")
    made = {}
    for name, pw in (("good", ""), ("locked", "secret")):
        path = tmp_path / name
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", pw, "-f", str(path)], check=True)
        made[name] = path
    return made


def test_identity_file_checks(keys, tmp_path):
    good = check_identity(Machine("h", ssh_key=str(keys["good"])))[0]
    assert good.ok and "no passphrase" in good.message
    locked = check_identity(Machine("h", ssh_key=str(keys["locked"])))[0]
    assert not locked.ok and "passphrase" in locked.message and "ssh-keygen -p" in locked.message
    os.chmod(keys["good"], 0o640)
    loose = check_identity(Machine("h", ssh_key=str(keys["good"])))[0]
    assert not loose.ok and f"chmod 600 {keys['good']}" in loose.message
    missing = check_identity(Machine("h", ssh_key=str(tmp_path / "nope")))[0]
    assert not missing.ok and "does not exist" in missing.message
    relative = check_identity(Machine("h", ssh_key="id_rsa"))[0]
    assert not relative.ok and "absolute path" in relative.message


def test_system_and_feature_checks():
    arm = check_system(Machine("h", systems=["aarch64-linux"]), system="x86_64-linux")
    assert not arm[0].ok and "add x86_64-linux to column 2" in arm[0].message
    assert check_system(Machine("h", systems=["x86_64-linux"]), system="x86_64-linux")[0].ok
    picky = check_system(Machine("h", mandatory_features=["benchmark"]), system="x")
    assert any(not c.ok and c.name == "features" for c in picky)


def test_per_machine_figures_from_a_manifest():
    from sweepgui.nix.machines import per_machine_from_manifest
    manifest = {"points": [
        {"status": "built", "machine": "ssh://a", "seconds": 1.0},
        {"status": "built", "machine": "ssh://a", "seconds": 3.0},
        {"status": "failed", "machine": "ssh://b", "seconds": 0.5},
        {"status": "built", "machine": "local", "seconds": 2.0},
        {"status": "cached", "machine": ""},
    ]}
    assert per_machine_from_manifest(manifest) == {
        "ssh://a": {"built": 2, "failed": 0, "seconds": 4.0, "mean_seconds": 2.0},
        "ssh://b": {"built": 0, "failed": 1, "seconds": 0.0, "mean_seconds": 0.0},
        "local": {"built": 1, "failed": 0, "seconds": 2.0, "mean_seconds": 2.0},
    }


@needs_nix
def test_relative_includes_reach_nix_as_sweepgui_reads_them(tmp_path, monkeypatch):
    farm = tmp_path / "farm"
    farm.mkdir()
    (farm / "more").write_text("ssh://inc1 x86_64-darwin - 7\n")
    (farm / "machines").write_text("ssh://top - - 2\n@more\n")  # next to the file, not the cwd
    monkeypatch.chdir(tmp_path)  # where Nix would look for a relative "more" itself
    setup = builder_setup(farm / "machines", workdir=tmp_path / "derived", preflight=False)
    given = Path(setup.builders.lstrip("@")).read_text()
    assert "@" not in given.replace(f"from {farm / 'machines'}", "")
    assert nix_reads(tmp_path, given) == [f"{local_system()}, 2, , ", "x86_64-darwin, 7, , "]
