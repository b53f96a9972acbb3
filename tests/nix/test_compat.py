"""Nix discovery and the version gates: each gate just before its release and at it.

The releases are those of Nix's sources (release notes and code at the tags, see each gate's
``evidence``); the expected command lines and machines-file texts are Nix's own spelling.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from sweepgui.nix import compat
from sweepgui.nix.compat import (
    CANNOT_BUILD_MESSAGE,
    COMMENT_BEFORE_SEMICOLON,
    CONFIG_SHOW,
    FRACTIONAL_SPEED,
    GATES,
    MIN_SUPPORTED,
    PORT_IN_URI,
    STORE_INFO,
    STORE_TRUST,
    nix_cli,
    store_info_command,
)
from sweepgui.nix.machines import Machine, MachinesFile, compatibility, readable_by_nix, ssh_config_text
from sweepgui.nix.machines.checks import daemon_ssh_checks

SWEEPGUI = Path(__file__).resolve().parents[2] / "sweepgui"


def before(gate: compat.Gate) -> tuple[int, ...]:
    """The last version before the gate's release (2.31 -> 2.30.99)."""
    major, minor = gate.release
    return (major, minor - 1, 99)


def at(gate: compat.Gate) -> tuple[int, ...]:
    return (*gate.release, 0)


def test_the_releases_are_those_of_nixs_sources():
    gates = (MIN_SUPPORTED, STORE_TRUST, STORE_INFO, CONFIG_SHOW, FRACTIONAL_SPEED,
             COMMENT_BEFORE_SEMICOLON, CANNOT_BUILD_MESSAGE, PORT_IN_URI)
    assert [g.release for g in gates] == [(2, 8), (2, 15), (2, 19), (2, 20), (2, 20), (2, 29),
                                          (2, 29), (2, 31)]
    assert set(GATES) == set(gates) and all(g.behaviour and g.evidence for g in GATES)


@pytest.mark.parametrize("gate", GATES, ids=lambda g: g.since)
def test_every_gate_opens_at_its_release(gate):
    assert not gate.holds(before(gate))
    assert gate.holds(at(gate)) and gate.holds(gate.release) and gate.holds((*gate.release, 7))
    assert gate.holds((gate.release[0], gate.release[1] + 1))
    assert not gate.holds((0,))  # Nix missing: the oldest behaviour


@pytest.fixture
def fake_nix(monkeypatch):
    """``nix`` found at /fake/bin/nix, whatever is installed."""
    monkeypatch.setattr(compat, "nix_command", lambda name: f"/fake/bin/{name}")
    return ["/fake/bin/nix", "--extra-experimental-features", "nix-command"]


def test_store_info_is_ping_before_2_19(fake_nix):
    assert nix_cli("store-info", before(STORE_INFO)) == [*fake_nix, "store", "ping"]
    assert nix_cli("store-info", at(STORE_INFO)) == [*fake_nix, "store", "info"]


def test_config_show_is_show_config_before_2_20(fake_nix):
    assert nix_cli("show-config", before(CONFIG_SHOW)) == [*fake_nix, "show-config"]
    assert nix_cli("show-config", at(CONFIG_SHOW)) == [*fake_nix, "config", "show"]


def test_the_store_says_whether_it_trusts_us_from_2_15(fake_nix):
    assert store_info_command(before(STORE_TRUST)) == ([*fake_nix, "store", "ping"], False)
    assert store_info_command(at(STORE_TRUST)) == ([*fake_nix, "store", "ping", "--json"], True)


def test_a_fractional_speed_factor_is_rounded_before_2_20():
    m = Machine("b1", speed_factor=1.5)
    fitted, note = readable_by_nix(m, before(FRACTIONAL_SPEED))
    assert fitted.speed_factor == 2 and note and "2.20" in note
    assert readable_by_nix(m, at(FRACTIONAL_SPEED)) == (m, None)
    assert any("whole speed factor" in n for n in compatibility(m, before(FRACTIONAL_SPEED)))
    assert compatibility(m, at(FRACTIONAL_SPEED)) == []
    mf = MachinesFile([])
    mf.add(m)
    assert mf.fit_to_nix(before(FRACTIONAL_SPEED)) and mf.dumps() == "ssh://b1 - - - 2\n"


def test_a_port_goes_to_ssh_before_2_31():
    m = Machine("b1", port=2222)
    assert "Host b1:2222" in (ssh_config_text([m], before(PORT_IN_URI)) or "")
    assert ssh_config_text([m], at(PORT_IN_URI)) is None
    assert any("2.31" in n for n in compatibility(m, before(PORT_IN_URI)))
    assert compatibility(m, at(PORT_IN_URI)) == []
    # under a daemon sweepgui cannot hand ssh the port: an error before 2.31, none from it
    assert any("Port 2222" in c.message for c in daemon_ssh_checks(m, before(PORT_IN_URI)))
    assert not any("Port 2222" in c.message for c in daemon_ssh_checks(m, at(PORT_IN_URI)))


def test_the_comment_warning_names_the_release():
    mf = MachinesFile.parse("ssh://a # one; two\n")
    assert [m.host for m in mf.machines] == ["a"]
    assert mf.warnings and f"before {COMMENT_BEFORE_SEMICOLON.since}" in mf.warnings[0][1]


def _fake_nix_build(folder: Path, version: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "nix-build"
    exe.write_text(f"#!/bin/sh\necho 'nix-build (Nix) {version}'\n")
    exe.chmod(0o755)
    return exe


@pytest.fixture
def fresh_detect():
    compat.detect_nix.cache_clear()
    yield
    compat.detect_nix.cache_clear()


@pytest.mark.parametrize("version, ok", [("2.7.9", False), ("2.8.0", True), ("2.31", True)])
def test_the_oldest_supported_nix_is_2_8(tmp_path, monkeypatch, fresh_detect, version, ok):
    _fake_nix_build(tmp_path / "bin", version)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    info = compat.detect_nix()
    assert (info.ok, info.version) == (ok, version)
    assert ok or "needs Nix 2.8 or newer" in info.message
    assert compat.nix_version() == compat.parse_version(version)


def test_nix_only_in_the_default_profile_is_found(tmp_path, monkeypatch, fresh_detect):
    """A multi-user install whose bin folder is not on PATH (e.g. a service's environment):
    the version is read there, not taken for "no Nix" (which closes every gate)."""
    profile = tmp_path / "profile-bin"
    exe = _fake_nix_build(profile, "2.31.1")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(compat, "FALLBACK_DIRS", (str(tmp_path / "none"), str(profile)))
    assert compat.nix_command("nix-build") == str(exe)
    assert compat.nix_version() == (2, 31, 1) and PORT_IN_URI.holds()


def test_missing_nix_is_an_error_that_says_how_to_install(tmp_path, monkeypatch, fresh_detect):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(compat, "FALLBACK_DIRS", ())
    with pytest.raises(compat.NixError, match="apt-get install nix-bin"):
        compat.nix_command("nix")
    assert compat.nix_version() == (0,) and not compat.detect_nix().ok


# a tuple literal of a Nix version ("(2, 20)") or a comparison with one
_VERSION_LITERAL = re.compile(r"(?<!\w)\(\s*2\s*,\s*\d+\s*(?:,\s*\d+\s*)?\)")
_VERSION_CONTEXT = re.compile(r"(?i:nix|version)|[<>]=?|^\s*[A-Z_]+\s*=")


def test_no_module_but_compat_holds_a_nix_version():
    """One owner for every version gate: a newer Nix means changing compat.py alone."""
    offenders = []
    for path in SWEEPGUI.rglob("*.py"):
        if path.name == "compat.py" and path.parent.name == "nix":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if _VERSION_LITERAL.search(code) and _VERSION_CONTEXT.search(code):
                offenders.append(f"{os.path.relpath(path, SWEEPGUI)}:{n}: {line.strip()}")
    assert offenders == []
