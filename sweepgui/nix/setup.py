"""Who runs a build here: single-user Nix or a nix-daemon, trusted or not, and which builders.

Nix is installed in one of two ways, and the difference decides where points are built:

single-user
    The user owns ``/nix/store`` (root on a plain Debian ``nix-bin``, some laptops) and Nix
    builds in the user's own processes. The user's settings count, ``builders`` included.
daemon (multi-user: every NixOS machine, the official installer, Debian's nix-setup-systemd)
    A ``nix-daemon`` running as root owns the store and builds as the build users (nixbld*).
    It honours the ``builders`` a client sends only when the client's user is *trusted*
    (``trusted-users`` in nix.conf; ``@group`` entries, ``*``); an untrusted user's own
    machines are dropped without a word on Nix 2.8 (a debug message). The daemon's own
    builders (``builders`` in nix.conf, default ``@/etc/nix/machines``, which NixOS'
    ``nix.buildMachines`` writes) serve every user. ssh to builders runs as root inside the
    daemon: the user's ``~/.ssh/config``, agent and ``NIX_SSHOPTS`` do not reach it.

:func:`detect_setup` finds out which case this is, before anything is built, from Nix itself
(``nix store ping``/``info`` for the store, ``nix config show`` for the settings: the
system's own files alone for what the daemon uses). :func:`route_builders` then says which
remote builders a run will really use, and refuses runs that nothing could build.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ._nixcmd import nix_settings
from .compat import NixError, detect_nix, store_info_command
from .machines import Machine, MachinesError, MachinesFile, system_machines

DAEMON = "daemon"
SINGLE_USER = "single-user"
UNAVAILABLE = "unavailable"

# Settings a daemon accepts from an untrusted client (Nix's daemon.cc); others are dropped.
UNTRUSTED_OK = frozenset({"build-timeout", "build-repeat", "connect-timeout", "max-silent-time",
                          "substituters", "extra-substituters"})

_ENV_KEYS = ("NIX_REMOTE", "NIX_CONF_DIR", "NIX_DAEMON_SOCKET_PATH", "NIX_CONFIG",
             "NIX_USER_CONF_FILES", "NIX_STATE_DIR", "NIX_STORE_DIR", "XDG_CONFIG_HOME",
             "XDG_CONFIG_DIRS", "HOME", "PATH")


def conf_file() -> Path:
    """The system's nix.conf, which the daemon reads (``$NIX_CONF_DIR/nix.conf``)."""
    return Path(os.environ.get("NIX_CONF_DIR") or "/etc/nix") / "nix.conf"


def _user_name() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def matches_users(entries: Iterable[str], user: str, primary_group: str) -> bool:
    """Whether ``user`` matches a ``trusted-users``/``allowed-users`` list as the daemon
    reads it: ``*``, the user name, or ``@group`` (the primary group of the client process,
    or a group listing the user in the group database)."""
    entries = list(entries)
    if "*" in entries or user in entries:
        return True
    for e in entries:
        if not e.startswith("@"):
            continue
        if e[1:] == primary_group:
            return True
        try:
            if user in grp.getgrnam(e[1:]).gr_mem:
                return True
        except KeyError:
            continue
    return False


def _text(value: object) -> str:
    if isinstance(value, list):
        return " ".join(map(str, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@dataclass(frozen=True)
class StoreInfo:
    """What ``nix store ping``/``info`` said: the store's kind, or why it cannot be used."""

    uri: str = ""
    trusted: bool | None = None   # Nix says from compat.STORE_TRUST on; None: it does not tell
    error: str = ""


def ping_store(timeout: float = 15.0) -> StoreInfo:
    """Open the default store as every Nix command would (local store or daemon)."""
    try:
        cmd, json_trust = store_info_command(detect_nix().version_tuple)
    except NixError as exc:
        return StoreInfo(error=str(exc))
    env = dict(os.environ, NIX_CONFIG="substituters =\n" + os.environ.get("NIX_CONFIG", ""))
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return StoreInfo(error=f"the Nix store did not answer within {timeout:g} s "
                         "(is the nix-daemon hanging?)")
    except OSError as exc:
        return StoreInfo(error=str(exc))
    err = re.sub(r"\x1b\[[0-9;]*m", "", p.stderr).strip()
    if p.returncode != 0:
        lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("warning:")]
        return StoreInfo(error=(lines[-1] if lines else err or f"exit code {p.returncode}"))
    if json_trust:
        try:
            data = json.loads(p.stdout)
            trusted = data.get("trusted")
            return StoreInfo(uri=str(data.get("url", "")),
                             trusted=None if trusted is None else bool(trusted))
        except ValueError:
            pass
    m = re.search(r"Store URL:\s*(\S+)", p.stdout + "\n" + p.stderr)
    return StoreInfo(uri=m.group(1) if m else "")


@dataclass(frozen=True)
class NixSetup:
    """The Nix set-up of this user on this machine (see the module doc).

    Attributes
    ----------
    mode : "single-user" | "daemon" | "unavailable"
    trusted : bool
        Whether Nix takes this user's settings (builders included). Always true single-user.
    daemon_builders : tuple of Machine
        The remote builders Nix uses when sweepgui names none: the daemon's own (for an
        untrusted user), else the ``builders`` setting as this user's Nix reads it.
    """

    version: str = ""
    mode: str = UNAVAILABLE
    store_uri: str = ""
    store_error: str = ""
    user: str = ""
    primary_group: str = ""
    trusted: bool = False
    trust_known: bool = False         # the daemon said so (compat.STORE_TRUST), not inferred
    allowed: bool = True
    trusted_users: tuple[str, ...] = ()
    conf_file: str = ""
    builders_setting: str = ""
    daemon_builders: tuple[Machine, ...] = ()
    builders_error: str = ""
    max_jobs: str = ""
    build_users_group: str = ""
    sandbox: str = ""
    settings_read: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def daemon(self) -> bool:
        return self.mode == DAEMON

    @property
    def usable(self) -> bool:
        return self.mode in (DAEMON, SINGLE_USER)

    @property
    def own_builders_used(self) -> bool:
        """Whether Nix uses builders this user names (``--builders``, a machines file)."""
        return self.mode != DAEMON or self.trusted

    @property
    def build_users(self) -> bool:
        """Whether builds run as Nix build users (not as this user): a daemon, or root with
        a ``build-users-group`` that exists."""
        if self.daemon:
            return True
        if self.mode == SINGLE_USER and os.geteuid() == 0 and self.build_users_group:
            try:
                grp.getgrnam(self.build_users_group)
                return True
            except KeyError:
                return False
        return False

    def summary(self) -> str:
        """One line for a status bar: version, mode, trust, builders."""
        if not self.usable:
            return f"Nix {self.version}: not usable" if self.version else "Nix: not found"
        parts = [f"Nix {self.version}"]
        if self.daemon:
            parts.append("daemon, " + ("trusted" if self.trusted else "not trusted"))
        else:
            parts.append("single-user")
        n = len(self.daemon_builders)
        if n:
            whose = "daemon" if self.daemon else "Nix"
            parts.append(f"{n} {whose} builder{'s' if n != 1 else ''}")
        return " · ".join(parts)

    def ignored_machines_message(self, path: str | os.PathLike[str]) -> str:
        """Why the nix-daemon will not use the machines of ``path``, and the two fixes."""
        listed = " ".join(self.trusted_users) or "root"
        return (f"the nix-daemon will not use the machines in {path}: {self.user} is not a "
                f"trusted user of the daemon (trusted-users = {listed} in {self.conf_file}), "
                "and the daemon ignores the builders of untrusted users. Fix it in one of two "
                f"ways: (a) install the machines system-wide, for every user: `sweepgui machines "
                f"install-system --file {path}` (writes /etc/nix/machines with sudo; on NixOS "
                f"put the output of `sweepgui machines export-nixos --file {path}` into "
                f"configuration.nix); or (b) add {self.user} to trusted-users in "
                f"{self.conf_file} and restart the nix-daemon -- a trusted user can do "
                "anything root can, so only for your own machine")

    def accepted_options(self, options: dict[str, str]) -> dict[str, str]:
        """The ``--option`` pairs this client may send (an untrusted client's others are
        dropped by the daemon: sending them would only make newer Nix print warnings)."""
        if self.own_builders_used:
            return dict(options)
        return {k: v for k, v in options.items() if k in UNTRUSTED_OK}


def _store_mode(info: StoreInfo) -> str:
    if info.error:
        return UNAVAILABLE
    uri = info.uri
    if uri == "daemon" or uri.startswith("unix://"):
        return DAEMON
    return SINGLE_USER


def _explain_store_error(err: str, user: str) -> str:
    low = err.lower()
    if "permission denied" in low and ("socket" in low or "daemon" in low):
        return (f"the nix-daemon refuses {user} ({err}): add {user} to the group nix-users "
                f"(`sudo adduser {user} nix-users`) and log in again")
    if "cannot connect" in low or "connection refused" in low or "no such file" in low:
        return (f"no nix-daemon answers ({err}): start it (`sudo systemctl start "
                "nix-daemon`), or check NIX_REMOTE / NIX_DAEMON_SOCKET_PATH")
    if "not allowed to connect" in low:
        return (f"the nix-daemon does not allow {user} ({err}): add {user} to allowed-users "
                f"in {conf_file()} (or a group listed there)")
    if "read-only" in low or "permission denied" in low:
        return (f"{user} cannot write the Nix store and no nix-daemon runs ({err}): start the "
                "daemon (`sudo systemctl start nix-daemon`; Debian: install nix-setup-systemd)")
    return err


def _machines_of(setting: str) -> tuple[tuple[Machine, ...], str]:
    try:
        return tuple(system_machines(setting)), ""
    except MachinesError as exc:
        return (), str(exc)


def _env_key() -> tuple[object, ...]:
    return (os.getuid(), os.getgid(), *(os.environ.get(k, "") for k in _ENV_KEYS))


@lru_cache(maxsize=8)
def _detect(_key: tuple[object, ...]) -> NixSetup:
    nix = detect_nix()
    user = _user_name()
    try:
        primary = grp.getgrgid(os.getgid()).gr_name
    except KeyError:
        primary = str(os.getgid())
    if not nix.ok:
        return NixSetup(version=nix.version, user=user, primary_group=primary,
                        store_error=nix.message, conf_file=str(conf_file()))
    info = ping_store()
    mode = _store_mode(info)
    system = nix_settings(system_only=True)
    client = nix_settings()
    trusted_users = tuple(str(x) for x in (system.get("trusted-users") or ["root"]))
    allowed_users = tuple(str(x) for x in (system.get("allowed-users") or ["*"]))
    if mode == DAEMON:
        trust_known = info.trusted is not None
        trusted = info.trusted if trust_known else matches_users(trusted_users, user, primary)
        allowed = trusted or matches_users(allowed_users, user, primary)
    else:
        trust_known, trusted, allowed = True, mode == SINGLE_USER, True
    # the builders Nix uses when sweepgui names none: the daemon's own for an untrusted
    # user; else the client's (a trusted client's settings replace the daemon's)
    source = system if (mode == DAEMON and not trusted) else client
    setting = _text(source.get("builders", "@/etc/nix/machines"))
    machines, builders_error = _machines_of(setting) if source else ((), "")
    return NixSetup(
        version=nix.version, mode=mode, store_uri=info.uri,
        store_error=_explain_store_error(info.error, user) if info.error else "",
        user=user, primary_group=primary, trusted=bool(trusted), trust_known=trust_known,
        allowed=allowed, trusted_users=trusted_users, conf_file=str(conf_file()),
        builders_setting=setting, daemon_builders=machines, builders_error=builders_error,
        max_jobs=_text(source.get("max-jobs")), build_users_group=(
            _text((system if mode == DAEMON else client).get("build-users-group"))
            # a daemon runs as root, where Nix's default is "nixbld" (a client reads "")
            or ("nixbld" if mode == DAEMON else "")),
        sandbox=_text((system if mode == DAEMON else client).get("sandbox")),
        settings_read=bool(system))


def detect_setup(refresh: bool = False) -> NixSetup:
    """The Nix set-up of this user (cached per environment; ``refresh`` asks Nix again)."""
    if refresh:
        _detect.cache_clear()
    return _detect(_env_key())


# -- which builders a run uses --------------------------------------------------------------
@dataclass
class BuilderRoute:
    """The remote builders a run will really use, and what to tell the user first.

    ``machines_file`` is given to Nix (``--builders @FILE``) only when Nix will use it;
    ``error`` means nothing could build the points (refuse the run before it starts).
    """

    machines: list[Machine] = field(default_factory=list)
    source: str = ""
    machines_file: Path | None = None
    warnings: list[str] = field(default_factory=list)
    error: str | None = None


def _load_machines(path: Path) -> list[Machine]:
    return MachinesFile.load(Path(path).expanduser()).all_machines()


def route_builders(setup: NixSetup, machines_file: Path | None, jobs: int | None) -> BuilderRoute:
    """Which remote builders a run with ``machines_file`` (None: none named) and ``jobs``
    local builds (0: remote only) uses. Raises MachinesError for a malformed file."""
    route = BuilderRoute()
    default_source = ("the nix-daemon's builders" if setup.daemon else "Nix's builders") + \
        f" (builders = {setup.builders_setting or '(empty)'})"
    if machines_file is not None:
        own = _load_machines(machines_file)
        if setup.own_builders_used:
            route.machines, route.source = own, f"your machines file {machines_file}"
            route.machines_file = Path(machines_file)
        else:
            route.warnings.append(setup.ignored_machines_message(machines_file))
            route.machines, route.source = list(setup.daemon_builders), default_source
    else:
        route.machines, route.source = list(setup.daemon_builders), default_source
    if jobs == 0 and not route.machines:
        if route.warnings:
            route.error = (route.warnings.pop() + ". With 0 local jobs nothing would build the "
                           "points (or allow local jobs: they then build on this computer)")
        elif machines_file is not None:
            route.error = (f"{machines_file} lists no machine, and 0 local jobs build nothing: "
                           "add a machine (`sweepgui machines add`) or allow local jobs")
        else:
            where = "the nix-daemon has" if setup.daemon else "Nix has"
            route.error = (f"0 local jobs build nothing, and {where} no remote builder "
                           f"(builders = {setup.builders_setting or '(empty)'}): name a machines "
                           "file (--machines FILE, or [run] machines in the sweep) or allow local jobs")
    return route


# -- can the build users run the host interpreter -------------------------------------------
def unreadable_for_build_users(paths: Iterable[str]) -> str | None:
    """The first of ``paths`` a Nix build user could not reach, with the folder in the way,
    as a sentence with the fix (None: all readable)."""
    from .interpreter import blocking_folder

    for p in paths:
        block = blocking_folder(p)
        if block is None:
            continue
        folder, mode = block
        return (f"the Nix build users cannot read {p}: {folder} has mode {mode:o}. Let others "
                f"pass through it (`chmod o+x {folder}`: they still cannot list it), or put "
                "the clone and its .venv outside your home folder, or use a Python from the "
                "Nix store (SWEEPGUI_NIX_PYTHON)")
    return None


def store_free_bytes() -> int | None:
    try:
        return shutil.disk_usage(os.environ.get("NIX_STORE_DIR", "/nix/store")).free
    except OSError:
        return None
