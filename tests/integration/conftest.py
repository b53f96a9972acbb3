"""Fixtures starting real builder hosts (sshd + their own Nix store) on loopback."""

from __future__ import annotations

import pytest

from .builders import BuilderHosts, missing_tools

# multi-user Nix: a real nix-daemon and real users (skipped unless root and the project's
# Python is usable by other users)
from .daemon import multiuser_ready, nix_daemon, nix_daemons, test_user, test_users  # noqa: F401


@pytest.fixture
def builder_hosts():
    """A factory of builder hosts: ``builder_hosts.start(2)``; everything stops afterwards."""
    why = missing_tools()
    if why:
        pytest.skip(why)
    hosts = BuilderHosts()
    try:
        yield hosts
    finally:
        hosts.close()


@pytest.fixture
def two_hosts(builder_hosts):
    builder_hosts.start(2)
    return builder_hosts
