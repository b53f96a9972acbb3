"""Checks of one remote builder, in plain words, never prompting and never hanging.

Each check returns :class:`~sweepgui.nix.machines.report.Check` items; a machine is usable
when none has level "error". Everything runs with ssh batch mode and timeouts: one machine
takes at most ``timeout`` seconds (10 by default) even when its host drops packets. Host key
checking is never switched off: a key is fetched with ``ssh-keyscan`` only to be pinned (or
compared) in column 8.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import math
import os
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from ..compat import PORT_IN_URI, NixError, Version, nix_cli, nix_command, version_text
from ..compat import nix_version as local_nix_version
from .errors import TIMED_OUT, explain
from .identity import check_identity
from .line import Machine
from .report import Check, run_tool
from .setup import probe, ssh_options_for, sshopts
from .versions import compatibility

DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 300.0  # seconds per machine: longer is a typo (and overflows the waits)


def check_timeout(timeout: float) -> float:
    """``timeout`` if it can bound the checks of one machine (0 < t <= 300), else ValueError."""
    if not (isinstance(timeout, (int, float)) and math.isfinite(timeout)
            and 0 < timeout <= MAX_TIMEOUT):
        raise ValueError(f"timeout {timeout!r}: give the seconds to wait per machine, more "
                         f"than 0 and at most {MAX_TIMEOUT:g} (e.g. 10)")
    return float(timeout)


@functools.lru_cache(maxsize=1)
def local_system() -> str:
    """The system this Nix builds for (``builtins.currentSystem``), e.g. x86_64-linux."""
    try:
        out = subprocess.run([nix_command("nix-instantiate"), "--eval", "-E",
                              "builtins.currentSystem"], capture_output=True, text=True, timeout=10)
        return out.stdout.strip().strip('"') or "unknown"
    except (OSError, subprocess.TimeoutExpired, NixError):
        return "unknown"


# -- systems and features ---------------------------------------------------------------------
def check_system(machine: Machine, system: str | None = None) -> list[Check]:
    need = system or local_system()
    systems = machine.systems or [local_system()]
    out = []
    if need in systems:
        out.append(Check.passed("system", f"builds {need}"))
    else:
        out.append(Check.error("system", f"{machine.name} builds {','.join(systems)} but the sweep needs "
                               f"{need}: add {need} to column 2 if the machine can build it, or use a "
                               f"machine that can"))
    if machine.mandatory_features:
        out.append(Check.error("features", f"{machine.name} has mandatory features "
                               f"{','.join(machine.mandatory_features)}: Nix gives it only builds that ask "
                               "for them and sweep points ask for none, so it would get no point: set "
                               "column 7 to -"))
    if machine.max_jobs == 0:
        out.append(Check.error("max-jobs", f"{machine.name} has max jobs 0 and will get no builds: set "
                               "column 4 to the number of builds it may run at once"))
    return out


# -- host key -----------------------------------------------------------------------------
def scan_host_keys(machine: Machine, timeout: float = 3.0) -> list[str]:
    """The host's public key lines (``ssh-ed25519 AAAA...``) from ``ssh-keyscan``; [] if none."""
    return _scan(machine, timeout)[0]


def _scan(machine: Machine, timeout: float) -> tuple[list[str], str]:
    """(key lines, ssh-keyscan's output) for ``machine``."""
    cmd = ["ssh-keyscan", "-T", str(max(1, int(timeout)))]
    if machine.port is not None:
        cmd += ["-p", str(machine.port)]
    cmd += ["-t", "ed25519,ecdsa,rsa", "--", machine.host.strip("[]")]
    rc, out = run_tool(cmd, timeout + 1)
    keys = []
    for line in out.splitlines():
        # "HOST TYPE KEY" lines only: ssh-keyscan's own errors ("getaddrinfo b: Name or
        # service not known") come on the same stream and must never be pinned as a key
        parts = line.split()
        if len(parts) >= 3 and not line.startswith("#") and _KEY_TYPE.match(parts[1]):
            keys.append(f"{parts[1]} {parts[2]}")
    order = {"ssh-ed25519": 0, "ecdsa-sha2-nistp256": 1, "ssh-rsa": 2}
    return sorted(keys, key=lambda k: order.get(k.split()[0], 9)), out


_KEY_TYPE = re.compile(r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|"
                       r"sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)$")


def fetch_host_key(machine: Machine, timeout: float = 5.0) -> str:
    """The host's public key as column 8 wants it (base64 of ``TYPE KEY``): the key pinned in
    ``machine.host_key`` when the host still presents it (a host has several keys), else the
    host's preferred one. A result other than the pinned key means the key changed: see
    :func:`fingerprint` to let the user compare before replacing it.

    Raises ``ConnectionError`` with a plain message when the host gives no key.
    """
    keys, out = _scan(machine, timeout)
    if not keys:
        low = out.lower()
        if "name or service not known" in low or "could not resolve" in low:
            raise ConnectionError(f"the host name {machine.host} is unknown: check its "
                                  "spelling or DNS")
        raise ConnectionError(f"{machine.name} sent no host key within {timeout:g} s: check that "
                              "sshd runs there and the host name and port are right")
    if machine.host_key and any(_same_key(machine.host_key, k) for k in keys):
        return machine.host_key
    return base64.b64encode(keys[0].encode() + b"\n").decode()


def fingerprint(host_key_b64: str) -> str:
    """``SHA256:...`` of a column-8 key, as ``ssh-keygen -lf`` prints it on the builder
    (the SHA-256 of the key blob, base64 without padding); "?" for a key it cannot read."""
    try:
        blob = base64.b64decode(base64.b64decode(host_key_b64).decode().split()[1],
                                validate=True)
    except (ValueError, IndexError, UnicodeDecodeError):
        return "?"
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def host_key_file(host_key_b64: str) -> str:
    """Where sshd keeps the public key of this type on a usual builder, for ``ssh-keygen -lf``."""
    try:
        kind = base64.b64decode(host_key_b64).decode().split()[0]
    except (ValueError, IndexError, UnicodeDecodeError):
        kind = ""
    name = {"ssh-rsa": "rsa", "ssh-dss": "dsa"}.get(kind, "ecdsa" if kind.startswith("ecdsa")
                                                    else "ed25519")
    return f"/etc/ssh/ssh_host_{name}_key.pub"


def _same_key(a_b64: str, line: str) -> bool:
    pinned = base64.b64decode(a_b64).decode(errors="replace").split()[:2]
    return pinned == line.split()[:2]


# -- connection through Nix -------------------------------------------------------------------
def store_uri_for_check(machine: Machine) -> str:
    """The store URI that opens the builder as Nix does in a build (key and pinned host key
    as store settings)."""
    params = dict(machine.uri_params)
    if machine.ssh_key:
        params["ssh-key"] = os.path.expanduser(machine.ssh_key)
    if machine.host_key:
        params["base64-ssh-public-host-key"] = machine.host_key
    # with the port: the ssh config of ssh_options_for() resolves "host:port" on older Nix
    return replace(machine, uri_params=params).store_uri(with_port=True)


def check_connection(machine: Machine, timeout: float = 8.0,
                     nix_version: Version | None = None) -> list[Check]:
    """Open the builder's store through Nix (``nix store ping`` / ``nix store info``)."""
    v = nix_version or local_nix_version()
    try:
        cmd = [*nix_cli("store-info", v), "--store", store_uri_for_check(machine)]
    except NixError as exc:
        return [Check.error("connection", str(exc))]
    # exactly the ssh options of a run (ports through a generated ssh config on older Nix)
    extra = " ".join(filter(None, [ssh_options_for([machine], v),
                                   os.environ.get("NIX_SSHOPTS", "").strip()]))
    connect = max(1, int(min(5, timeout - 1)))
    opts = sshopts(extra, connect_timeout=connect)
    env = dict(os.environ, NIX_SSHOPTS=opts)
    env["NIX_CONFIG"] = "substituters =\n" + env.get("NIX_CONFIG", "")
    t0 = time.monotonic()
    rc, out = run_tool(cmd, timeout, env)
    took = time.monotonic() - t0
    if rc == 0:
        return [Check.passed("connection", f"Nix reaches the store of {machine.name} ({took:.1f} s)")]
    if rc is None:
        return [Check.error("connection", explain(machine, TIMED_OUT, connect))]
    return [Check.error("connection", explain(machine, out, connect))]


def check_host_key_pin(machine: Machine, timeout: float = 3.0) -> list[Check]:
    keys = scan_host_keys(machine, timeout)
    if not keys:
        return []  # the connection check says why the host cannot be reached
    if machine.host_key:
        if any(_same_key(machine.host_key, k) for k in keys):
            return [Check.passed("host-key", "host key pinned and matching "
                                 f"({fingerprint(machine.host_key)})")]
        return [Check.error("host-key", f"the host key of {machine.name} does not match the key pinned "
                            "in column 8 (it presents another one): if the machine was reinstalled, pin "
                            f"its new key with `sweepgui machines fetch-host-key {machine.name}`; "
                            "otherwise do not use it (it may be another machine)")]
    key = base64.b64encode(keys[0].encode() + b"\n").decode()
    return [Check.warning("host-key", f"no host key pinned: ssh relies on ~/.ssh/known_hosts. Pin it with "
                          f"`sweepgui machines fetch-host-key {machine.name}` (fingerprint "
                          f"{fingerprint(key)})")]


# -- what the nix-daemon's ssh will do --------------------------------------------------------
_SSH_KEYS = ("hostname", "port", "user", "proxyjump", "proxycommand", "identityfile")


def _ssh_g(host: str, config: str | None) -> dict[str, str]:
    cmd = ["ssh", "-G", *(["-F", config] if config else []), "--", host]
    rc, out = run_tool(cmd, 5)
    if rc != 0:
        return {}
    conf: dict[str, str] = {}
    for line in out.splitlines():
        k, _, v = line.partition(" ")
        conf.setdefault(k, v)  # identityfile repeats: the first is the one that counts
    return conf


def daemon_ssh_checks(machine: Machine, nix_version: Version | None = None) -> list[Check]:
    """What differs when the nix-daemon, not this user, connects to ``machine``.

    Under a daemon, ssh runs as root inside the daemon: this user's ~/.ssh/config, agent,
    default keys and NIX_SSHOPTS do not apply, and a host key not pinned in column 8 is
    looked up in root's known_hosts. These checks read only local files (no connection).
    """
    v = nix_version or local_nix_version()
    out: list[Check] = []
    if machine.protocol not in ("ssh", "ssh-ng"):
        return out
    if machine.port is not None and not PORT_IN_URI.holds(v):
        out.append(Check.error("daemon-ssh", f"Nix {version_text(v)} cannot read the port in "
                               f"{machine.uri}, and under the nix-daemon sweepgui cannot give it to ssh "
                               "(the daemon's ssh runs as root): write the URI without the port and add "
                               f"'Host {machine.host.strip('[]')}' with 'Port {machine.port}' to "
                               "/etc/ssh/ssh_config (or root's ~/.ssh/config)"))
    if not machine.ssh_key:
        out.append(Check.error("daemon-ssh", "no identity file in column 3: the nix-daemon's ssh runs "
                               "as root and cannot use your ssh agent or your ~/.ssh keys; name a key "
                               "file (absolute path, no passphrase) in column 3"))
    if not machine.host_key:
        out.append(Check.warning("daemon-ssh", "no host key pinned in column 8: the nix-daemon's ssh "
                                 "checks the host in root's known_hosts, which this check cannot see; "
                                 f"pin it with `sweepgui machines fetch-host-key {machine.name}`"))
    if machine.port is None or PORT_IN_URI.holds(v):
        mine = _ssh_g(machine.address, None)
        system = _ssh_g(machine.address, "/etc/ssh/ssh_config") if mine else {}
        differ = [k for k in _SSH_KEYS if k != "identityfile" and mine.get(k) != system.get(k)]
        if mine and system and differ:
            what = ", ".join(f"{k} {mine.get(k)}" for k in differ)
            out.append(Check.error("daemon-ssh", f"your ~/.ssh/config sets {what} for {machine.host}, "
                                   "but the nix-daemon's ssh (root) does not read it: write the real "
                                   "host name, user and port in the machines file, or put the same "
                                   "'Host' block in /etc/ssh/ssh_config"))
    return out


def check_machine(machine: Machine, system: str | None = None, nix_version: Version | None = None,
                  timeout: float = DEFAULT_TIMEOUT, via_daemon: bool = False) -> list[Check]:
    """All checks of one machine within ``timeout`` seconds (default 10). ``via_daemon``:
    a nix-daemon will connect to it (see :func:`daemon_ssh_checks`). A timeout out of
    (0, 300] is a ValueError."""
    timeout = check_timeout(timeout)
    deadline = time.monotonic() + timeout
    v = nix_version or local_nix_version()
    # a port is handled by sweepgui (information); a rounded speed factor changes the meaning
    checks = [(Check.passed if "port" in n else Check.warning)("nix-version", n)
              for n in compatibility(machine, v) if not (via_daemon and "port" in n)]
    if via_daemon:
        checks += daemon_ssh_checks(machine, v)
    if machine.protocol not in ("ssh", "ssh-ng"):
        return checks + [Check.error("uri", f"{machine.name}: only ssh:// and ssh-ng:// builders "
                                     "are supported")]
    checks += check_system(machine, system)
    if machine.host == "localhost":
        checks.append(Check.warning("uri", "Nix treats ssh://localhost as this machine and builds "
                                    "there without ssh: write 127.0.0.1 to go through sshd"))
    ident = check_identity(machine, timeout=min(3, timeout / 3))
    checks += ident
    # a machine that does not answer, or stalls in the ssh handshake, is named at once
    # (the probe takes at most 2 x 2 s), without waiting for Nix's own connection attempt
    dead = probe(machine, min(2.0, max(0.5, (deadline - time.monotonic()) / 4)))
    conn = [Check.error("connection", dead)] if dead else check_connection(
        machine, timeout=max(1.0, deadline - time.monotonic() - 1.0), nix_version=v)
    left = deadline - time.monotonic()
    reachable = conn[0].ok or "host key" in conn[0].message or "refused the login" in conn[0].message
    if reachable and left > 1:
        pin = check_host_key_pin(machine, timeout=min(3.0, left - 0.5))
        if pin and not pin[0].ok and not conn[0].ok and "host key" in conn[0].message:
            conn = []  # one message about the key is enough
        checks += pin
    login = ("refused the login", "ignores the identity")
    if not ident[0].ok and conn and not conn[0].ok and any(w in conn[0].message for w in login):
        # the identity check above says why and how to fix it: no second copy of that here
        conn = [Check.error("connection", f"cannot log in to {machine.name} with this identity file: "
                            "fix it first (see the identity check)")]
    if via_daemon and conn and conn[0].ok:
        conn = [Check.passed("connection", conn[0].message + " from your account (the nix-daemon "
                             "connects as root: see the daemon-ssh items)")]
    return checks + conn


def check_machines(machines: list[Machine], system: str | None = None,
                   timeout: float = DEFAULT_TIMEOUT,
                   via_daemon: bool = False) -> list[tuple[Machine, list[Check]]]:
    """Check several machines at once (in parallel), in their order."""
    if not machines:
        return []
    check_timeout(timeout)
    v = local_nix_version()
    local_system()  # once, before the threads
    with ThreadPoolExecutor(max_workers=min(8, len(machines))) as pool:
        results = list(pool.map(lambda m: check_machine(m, system, v, timeout, via_daemon),
                                machines))
    return list(zip(machines, results))
