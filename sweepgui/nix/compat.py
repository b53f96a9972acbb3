"""Finding Nix, reading its version, and every Nix version gate sweepgui knows.

sweepgui supports Nix 2.8 (Debian 12's ``nix-bin``) to current Nix. Where releases differ,
the difference is a :class:`Gate` here: the Nix release that introduced the behaviour, checked
in Nix's sources (release notes and code, github:NixOS/nix, cited per gate). Code elsewhere
asks ``GATE.holds(version)`` and never compares version numbers itself, so supporting a newer
Nix means adding (or correcting) a gate in this one file.

Commands are found on PATH, else where single-user and multi-user installs put them
(:func:`nix_command`): never a bare ``"nix"``, whose absence would read as "Nix 0".
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

Version = tuple[int, ...]
"""A Nix version as numbers, e.g. (2, 8, 0); (0,) when Nix is missing or unreadable."""


@dataclass(frozen=True)
class Gate:
    """A behaviour of Nix from one release on.

    Attributes
    ----------
    release : tuple of int
        The first Nix release with the behaviour, e.g. (2, 31).
    behaviour : str
        What changed, in plain words.
    evidence : str
        Where in Nix's sources this was checked (release note, file).
    """

    release: tuple[int, int]
    behaviour: str
    evidence: str

    @property
    def since(self) -> str:
        """The release as people write it, e.g. "2.31"."""
        return version_text(self.release)

    def holds(self, version: Version | None = None) -> bool:
        """Whether Nix ``version`` (default: the local Nix) has the behaviour.

        An unknown version (Nix missing: (0,)) has none of them: the oldest behaviour is
        the safe assumption.
        """
        return (version or nix_version()) >= self.release


MIN_SUPPORTED = Gate(
    (2, 8), "the oldest Nix sweepgui runs on (Debian 12's nix-bin); `nix` subcommands need "
    "--extra-experimental-features nix-command there",
    "NIX-NOTES; checked on Nix 2.8.0")
STORE_TRUST = Gate(
    (2, 15), "`nix store ping --json` says whether the store (a nix-daemon) trusts the client "
    "(field 'trusted')",
    "doc/manual/source/release-notes/rl-2.15.md; src/nix/ping-store.cc at 2.15.0")
STORE_INFO = Gate(
    (2, 19), "`nix store ping` is renamed `nix store info`",
    "src/nix/ping-store.cc became src/nix/store-info.cc in 2.19.0")
CONFIG_SHOW = Gate(
    (2, 20), "`nix show-config` is renamed `nix config show`",
    "doc/manual/source/release-notes/rl-2.20.md (#9477); src/nix/config.cc at 2.20.0")
FRACTIONAL_SPEED = Gate(
    (2, 20), "the speed factor of a machines file may be a fraction (before: a whole number; a "
    "fraction makes Nix reject the whole file)",
    "src/libstore/machines.cc: string2Int<unsigned int> in 2.19.0, string2Int<float> in 2.20.0")
COMMENT_BEFORE_SEMICOLON = Gate(
    (2, 29), "a machines file's '#' comment is cut before ';' splits entries (before: ';' "
    "inside a comment starts another entry)",
    "src/libstore/machines.cc (parseBuilderLines) at 2.28.0 and 2.29.0")
CANNOT_BUILD_MESSAGE = Gate(
    (2, 29), "a failed build is reported as \"Cannot build '…drv'. Reason: …\" (before: "
    "\"builder for '…drv' failed with exit code N\" and \"N dependencies of derivation '…drv' "
    "failed to build\")",
    "src/libstore/build/derivation-goal.cc at 2.28.0 and 2.29.0")
PORT_IN_URI = Gate(
    (2, 31), "a port in an ssh store URI (ssh://host:2222) reaches ssh as the port (before: ssh "
    "is asked for the host 'host:2222')",
    "doc/manual/source/release-notes/rl-2.31.md (#3425)")

GATES = (MIN_SUPPORTED, STORE_TRUST, STORE_INFO, CONFIG_SHOW, FRACTIONAL_SPEED,
         COMMENT_BEFORE_SEMICOLON, CANNOT_BUILD_MESSAGE, PORT_IN_URI)

# Where single-user and multi-user installs put the commands when PATH lacks them.
FALLBACK_DIRS = (
    "/nix/var/nix/profiles/default/bin",
    "/run/current-system/sw/bin",
    str(Path.home() / ".nix-profile" / "bin"),
)


class NixError(RuntimeError):
    """Nix is missing, too old, or a Nix command failed in a way the user must see."""


@dataclass(frozen=True)
class NixInfo:
    """What :func:`detect_nix` found: the version and whether the app can use it."""

    version: str
    version_tuple: Version
    ok: bool
    message: str


def version_text(version: Version) -> str:
    """``(2, 8, 0)`` as "2.8.0"."""
    return ".".join(map(str, version))


def nix_command(name: str) -> str:
    """Absolute path of a Nix command (``nix``, ``nix-build``, ...); NixError if absent."""
    found = shutil.which(name)
    if found:
        return found
    for folder in FALLBACK_DIRS:
        candidate = os.path.join(folder, name)
        if os.access(candidate, os.X_OK):
            return candidate
    raise NixError(
        f"Nix is not installed ({name} was not found on PATH). Install Nix "
        "(Debian/Ubuntu: `apt-get install nix-bin`; elsewhere https://nixos.org/download) "
        "and open a new shell."
    )


def parse_version(text: str) -> Version | None:
    """The version in ``nix-build --version``'s output ("nix-build (Nix) 2.8.0"), or None."""
    m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(g) for g in m.groups() if g is not None) if m else None


@lru_cache(maxsize=1)
def detect_nix() -> NixInfo:
    """Which Nix is installed, and whether it is recent enough (see :data:`MIN_SUPPORTED`)."""
    try:
        exe = nix_command("nix-build")
    except NixError as exc:
        return NixInfo("", (), False, str(exc))
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return NixInfo("", (), False, f"{exe} --version failed: {exc}")
    vt = parse_version(out.stdout)
    if out.returncode != 0 or vt is None:
        return NixInfo("", (), False, f"could not read the Nix version from {exe!r}: "
                       f"{(out.stdout + out.stderr).strip()[:200]}")
    version = version_text(vt)
    if not MIN_SUPPORTED.holds(vt):
        return NixInfo(version, vt, False, f"Nix {version} is too old; sweepgui needs Nix "
                       f"{MIN_SUPPORTED.since} or newer")
    return NixInfo(version, vt, True, f"Nix {version}")


def require_nix() -> NixInfo:
    """The local Nix, or NixError saying why it cannot be used."""
    info = detect_nix()
    if not info.ok:
        raise NixError(info.message)
    return info


def nix_version() -> Version:
    """The local Nix version, e.g. (2, 8, 0); (0,) when Nix is missing or broken."""
    return detect_nix().version_tuple or (0,)


def nix_cli(what: Literal["show-config", "store-info"], version: Version | None = None) -> list[str]:
    """The ``nix`` command line for ``what`` on Nix ``version`` (default: the local one):
    "show-config" (:data:`CONFIG_SHOW`) or "store-info" (:data:`STORE_INFO`). ``nix``
    subcommands are experimental on Nix 2.8, hence the feature flag."""
    v = version or nix_version()
    base = [nix_command("nix"), "--extra-experimental-features", "nix-command"]
    if what == "show-config":
        return base + (["config", "show"] if CONFIG_SHOW.holds(v) else ["show-config"])
    if what == "store-info":
        return base + ["store", "info" if STORE_INFO.holds(v) else "ping"]
    raise ValueError(what)


def store_info_command(version: Version | None = None) -> tuple[list[str], bool]:
    """The command that opens the default store, and whether it answers in JSON with the
    store's trust in this user (:data:`STORE_TRUST`)."""
    v = version or nix_version()
    cmd = nix_cli("store-info", v)
    json_trust = STORE_TRUST.holds(v)
    return (cmd + ["--json"] if json_trust else cmd), json_trust
