"""What a Nix version can read of a machine, and what sweepgui does about the rest.

The gates themselves (which release reads what) are in :mod:`sweepgui.nix.compat`.
"""

from __future__ import annotations

from dataclasses import replace

from ..compat import FRACTIONAL_SPEED, PORT_IN_URI, Version, nix_version, version_text
from .line import Machine


def whole_speed(speed: float) -> int:
    """The whole speed factor Nix before :data:`FRACTIONAL_SPEED` gets for ``speed``."""
    return max(1, round(speed))


def fractional(machine: Machine) -> bool:
    """Whether the machine's speed factor is a fraction (e.g. 1.5)."""
    return machine.speed_factor is not None and not float(machine.speed_factor).is_integer()


def compatibility(machine: Machine, version: Version | None = None) -> list[str]:
    """Plain notes on what Nix ``version`` (default: the local one) cannot read as written,
    and what sweepgui does about it."""
    v = version or nix_version()
    notes = []
    if machine.port is not None and not PORT_IN_URI.holds(v):
        notes.append(f"Nix {version_text(v)} cannot read a port in the URI (needs Nix "
                     f"{PORT_IN_URI.since}); sweepgui gives port {machine.port} to ssh instead. "
                     "For Nix used without sweepgui, put the block of `sweepgui machines "
                     "ssh-config` in ~/.ssh/config")
    if fractional(machine) and not FRACTIONAL_SPEED.holds(v):
        assert machine.speed_factor is not None
        notes.append(f"Nix {version_text(v)} needs a whole speed factor (fractions from Nix "
                     f"{FRACTIONAL_SPEED.since}); {machine.speed_factor} is used as "
                     f"{whole_speed(machine.speed_factor)}")
    return notes


def readable_by_nix(machine: Machine, version: Version | None = None
                    ) -> tuple[Machine, str | None]:
    """``machine`` as it must be written for Nix ``version`` (default: the local one) to
    read the machines file, and a plain note on what changed (None: nothing).

    Nix before :data:`~sweepgui.nix.compat.FRACTIONAL_SPEED` reads the speed factor as a
    whole number and rejects the whole file ("bad machine specification") for a fraction:
    it is rounded (at least 1).
    """
    x = machine.speed_factor
    if x is None or not fractional(machine):
        return machine, None
    v = version or nix_version()
    if FRACTIONAL_SPEED.holds(v):
        return machine, None
    whole = whole_speed(x)
    return replace(machine, speed_factor=whole), (
        f"{machine.name}: speed factor {x:g} is written as {whole}: Nix {version_text(v)} "
        f"reads only whole speed factors (fractions from Nix {FRACTIONAL_SPEED.since}) and "
        "rejects a machines file with a fraction in it")


def unreadable_in_system_file(machine: Machine, version: Version | None = None) -> str | None:
    """Why Nix ``version`` could not read ``machine`` in a machines file it reads without
    sweepgui's help (/etc/nix/machines), with the fix; None: it can."""
    v = version or nix_version()
    if machine.port is not None and not PORT_IN_URI.holds(v):
        return (f"{machine.name}: Nix {version_text(v)} cannot read a port in this file; "
                f"remove it and add 'Host {machine.host}' / 'Port {machine.port}' to "
                "/etc/ssh/ssh_config (the nix-daemon's ssh runs as root)")
    if fractional(machine) and not FRACTIONAL_SPEED.holds(v):
        return f"{machine.name}: this Nix needs a whole speed factor"
    return None
