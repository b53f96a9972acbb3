"""Finding and calling the Nix commands: version check, options, environment.

Only the stable commands are used (``nix-instantiate``, ``nix-build``, ``nix-store``),
which behave alike from Nix 2.8 to current Nix.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MIN_VERSION = (2, 8)
# Version gates of the `nix` command used by sweepgui (one table, read with `nix_cli`)
CONFIG_SHOW = (2, 20)   # `nix show-config` became `nix config show`
STORE_INFO = (2, 19)    # `nix store ping` became `nix store info`
STORE_TRUST = (2, 15)   # `nix store ping --json` says whether the daemon trusts the client

# Where single-user and multi-user installs put the commands when PATH lacks them.
_FALLBACK_DIRS = (
    "/nix/var/nix/profiles/default/bin",
    "/run/current-system/sw/bin",
    str(Path.home() / ".nix-profile" / "bin"),
)

# Never wait for an unreachable host while a build runs.
SSH_OPTS = "-o BatchMode=yes -o ConnectTimeout=5"


class NixError(RuntimeError):
    """Nix is missing, too old, or a Nix command failed in a way the user must see."""


@dataclass(frozen=True)
class NixInfo:
    """What ``detect_nix`` found: the version and whether the app can use it."""

    version: str
    version_tuple: tuple[int, ...]
    ok: bool
    message: str


def nix_command(name: str) -> str:
    """Absolute path of a Nix command (``nix-build``, ...); raises NixError if absent."""
    found = shutil.which(name)
    if found:
        return found
    for folder in _FALLBACK_DIRS:
        candidate = os.path.join(folder, name)
        if os.access(candidate, os.X_OK):
            return candidate
    raise NixError(
        f"Nix is not installed ({name} was not found on PATH). Install Nix "
        "(Debian/Ubuntu: `apt-get install nix-bin`; elsewhere https://nixos.org/download) "
        "and open a new shell."
    )


@lru_cache(maxsize=1)
def detect_nix() -> NixInfo:
    """Which Nix is installed, and whether it is recent enough (>= 2.8)."""
    try:
        exe = nix_command("nix-build")
    except NixError as exc:
        return NixInfo("", (), False, str(exc))
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return NixInfo("", (), False, f"{exe} --version failed: {exc}")
    m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", out.stdout)
    if out.returncode != 0 or not m:
        return NixInfo("", (), False, f"could not read the Nix version from {exe!r}: "
                       f"{(out.stdout + out.stderr).strip()[:200]}")
    version = m.group(0)
    vt = tuple(int(g) for g in m.groups() if g is not None)
    if vt[:2] < MIN_VERSION:
        return NixInfo(version, vt, False,
                       f"Nix {version} is too old; sweepgui needs Nix 2.8 or newer")
    return NixInfo(version, vt, True, f"Nix {version}")


def require_nix() -> NixInfo:
    info = detect_nix()
    if not info.ok:
        raise NixError(info.message)
    return info


def nix_version() -> tuple[int, ...]:
    """The local Nix version as a tuple, e.g. (2, 8, 0); (0,) when Nix is missing or broken."""
    return detect_nix().version_tuple or (0,)


def nix_cli(what: str, version: tuple[int, ...] | None = None) -> list[str]:
    """The ``nix`` command line for ``what`` on this Nix version: "show-config" or
    "store-info" (``nix`` subcommands are experimental on Nix 2.8 and renamed later)."""
    v = version or nix_version()
    base = [nix_command("nix"), "--extra-experimental-features", "nix-command"]
    if what == "show-config":
        return base + (["config", "show"] if v >= CONFIG_SHOW else ["show-config"])
    if what == "store-info":
        return base + ["store", "info" if v >= STORE_INFO else "ping"]
    raise ValueError(what)


def user_configured(setting: str) -> bool:
    """Whether the user set ``setting`` through NIX_CONFIG (then the app leaves it alone)."""
    return re.search(rf"(^|\n)\s*{re.escape(setting)}\s*=", os.environ.get("NIX_CONFIG", "")) is not None


def option_args(options: dict[str, str]) -> list[str]:
    args: list[str] = []
    for key, value in options.items():
        args += ["--option", key, str(value)]
    return args


def nix_env(extra_ssh_opts: str = "") -> dict[str, str]:
    """The environment for Nix commands: ssh never prompts, and Nix never colours output."""
    env = dict(os.environ)
    ssh = env.get("NIX_SSHOPTS", "")
    for opt in (SSH_OPTS, extra_ssh_opts):
        if opt and opt not in ssh:
            ssh = f"{ssh} {opt}".strip()
    env["NIX_SSHOPTS"] = ssh
    env.setdefault("NO_COLOR", "1")
    return env


def run_nix(args: list[str], *, timeout: float = 600, env: dict[str, str] | None = None,
            what: str = "") -> str:
    """Run a short Nix command and return its stdout; NixError with its stderr if it fails."""
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                              env=env if env is not None else nix_env())
    except subprocess.TimeoutExpired as exc:
        raise NixError(f"{what or args[0]} took longer than {timeout:g} s") from exc
    except OSError as exc:
        raise NixError(f"could not run {args[0]}: {exc}") from exc
    if proc.returncode != 0:
        err = _strip_ansi(proc.stderr).strip()
        raise NixError(f"{what or os.path.basename(args[0])} failed: {err[-2000:]}")
    return proc.stdout


_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)
