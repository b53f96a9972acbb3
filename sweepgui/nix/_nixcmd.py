"""Running Nix commands: their environment, ssh options, ``--option`` pairs, settings.

Finding Nix, its version and every version gate is :mod:`sweepgui.nix.compat`, which this
module uses and never repeats. Only the stable commands are run for builds (``nix-instantiate``,
``nix-build``, ``nix-store``), which behave alike from Nix 2.8 on.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from typing import Any

from .compat import NixError, nix_cli, nix_command, require_nix

# NixError, nix_command and require_nix are compat's, named here too for the modules that
# run Nix (store, plan, gcroots, portable, engine): they import one module
__all__ = ["SSH_CONNECT_TIMEOUT", "SSH_OPTS", "NixError", "nix_command", "nix_env", "nix_settings",
           "option_args", "require_nix", "run_nix", "ssh_batch_options", "user_configured"]

# Never prompt (a password, an unknown host key), never wait long for a dead host: the one
# set of ssh options of every Nix invocation and builder check (NIX_SSHOPTS).
SSH_CONNECT_TIMEOUT = 5


def ssh_batch_options(connect_timeout: int = SSH_CONNECT_TIMEOUT) -> str:
    """ssh options that never prompt and give up connecting after ``connect_timeout`` s."""
    return f"-o BatchMode=yes -o ConnectTimeout={connect_timeout}"


SSH_OPTS = ssh_batch_options()


def user_configured(setting: str) -> bool:
    """Whether the user set ``setting`` through NIX_CONFIG (then the app leaves it alone)."""
    return re.search(rf"(^|\n)\s*{re.escape(setting)}\s*=", os.environ.get("NIX_CONFIG", "")) is not None


def option_args(options: dict[str, str]) -> list[str]:
    """``--option KEY VALUE`` arguments for ``options``."""
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


def nix_settings(system_only: bool = False, timeout: float = 15.0) -> dict[str, Any]:
    """Nix's effective settings as {name: value} (``nix config show --json``); {} if unknown.

    ``system_only``: the system's nix.conf alone, without the user's files and NIX_CONFIG --
    what a daemon sharing that nix.conf uses for an untrusted client.
    """
    env = dict(os.environ)
    if system_only:
        env.pop("NIX_CONFIG", None)
        env["NIX_USER_CONF_FILES"] = ""  # set and empty: no user configuration files
    else:
        env["NIX_CONFIG"] = "substituters =\n" + env.get("NIX_CONFIG", "")
    try:
        p = subprocess.run([*nix_cli("show-config"), "--json"], capture_output=True, text=True,
                           timeout=timeout, env=env, stdin=subprocess.DEVNULL)
        data = json.loads(p.stdout)
    except (OSError, subprocess.TimeoutExpired, ValueError, NixError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): (v.get("value") if isinstance(v, dict) else v) for k, v in data.items()}


_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)
