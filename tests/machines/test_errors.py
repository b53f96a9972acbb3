"""ssh's and Nix's words about a builder, as advice: each rule of ``explain`` on the words
ssh (OpenSSH) and Nix really print, and the order in which they are tried."""

from __future__ import annotations

import pytest

from sweepgui.nix.machines import Machine, explain, lost_builder
from sweepgui.nix.machines.errors import TIMED_OUT

B1 = Machine("b1", user="alice", port=2222)


@pytest.mark.parametrize("output, words", [
    ("Host key verification failed.", "is unknown and ssh will not ask"),
    ("@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@", "does not match the key pinned"),
    ('Load key "/k/id": bad permissions', "chmod 600 /k/id"),
    ("ssh: connect to host b1 port 2222: Connection refused", "port 2222 (connection refused)"),
    ("ssh: Could not resolve hostname b1: Name or service not known", "host name b1 is unknown"),
    ("ssh: connect to host b1 port 2222: Connection timed out", "cannot be reached within 5 s"),
    (TIMED_OUT, "cannot be reached within 5 s"),
    ("alice@b1: Permission denied (publickey).", "refused the login of alice"),
    ("bash: line 1: nix-store: command not found", "Nix is not installed on ssh://alice@b1:2222"),
    ("error: you are not privileged to build input-addressed derivations (not trusted)",
     "does not trust alice"),
    ("something else\nentirely", "Nix cannot use ssh://alice@b1:2222 as a builder: "
                                 "something else | entirely"),
])
def test_each_rule_names_the_fix(output, words):
    assert words in explain(B1, output, 5)


def test_a_pinned_key_that_fails_is_a_changed_key_and_comes_first():
    pinned = Machine("b1", host_key="c3NoLWVkMjU1MTkgQUFBQQ==")
    # a host key failure is said as such even when ssh also says "Permission denied"
    why = explain(pinned, "Host key verification failed.\nPermission denied", 5)
    assert "does not match the key pinned" in why


def test_a_lost_builder_is_told_from_a_model_failure():
    assert lost_builder("ssh://b1", "unexpected end-of-file")
    assert lost_builder("ssh://b1", "build failed", ["Connection reset by peer"])
    assert lost_builder("ssh://b1", "build failed", [], "error: unexpected end-of-file")
    assert not lost_builder("ssh://b1", "builder failed with exit code 3", ["bad x"])
    assert not lost_builder("", "unexpected end-of-file")  # a local build has no builder to lose
    assert not lost_builder("ssh://b1", "failed", [], "cannot build on 'ssh://b2': connection closed")
