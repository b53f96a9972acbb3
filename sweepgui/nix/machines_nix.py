"""What a machines file needs on the local Nix version: the ``--builders`` value and ssh options.

Nix reads a port inside a builder URI only from 2.31 (before, ``ssh://h:2222`` makes ssh look
up the host name ``h:2222``) and a fractional speed factor only from 2.20. The port is given to
ssh, not to Nix: a generated ssh config has a block ``Host h:2222`` with ``HostName h``,
``Port 2222`` and ``HostKeyAlias h:2222`` (the name under which Nix writes the pinned key of
column 8), passed as ``NIX_SSHOPTS=-F FILE``; it then includes the user's and the system's ssh
config, so nothing else changes. The machines file stays as written and Nix reports each
machine by the URI the user wrote. Host key checking stays on.

:func:`builder_setup` (called by the engine once per Nix invocation) gives the ``--builders``
value and NIX_SSHOPTS. It probes every builder first (one parallel TCP + ssh-banner check,
about 2 s at most): Nix 2.8 tries a dead builder again for every build, and one that hangs
costs ConnectTimeout each time while Nix's scheduler waits, so builders that do not answer are
left out of that run (``BuilderSetup.skipped``). Then, and for fractional speed factors on Nix
< 2.20 (rounded), it writes a derived machines file. :func:`lost_builder` tells a build lost
with its builder (built again elsewhere) from a model failure.

With ``--jobs 0`` (``max-jobs = 0``) Nix 2.8 builds nothing locally, not even a
``preferLocalBuild`` or ``builtin:`` derivation (derivation-goal.cc: ``buildLocally`` needs
``maxBuildJobs != 0``; the hook is asked with "not willing" and, declining, leaves Nix with
"unable to start any build"). So the run's aggregator goes to a builder as well, which then
receives a copy of every point. Work-arounds that keep it local all bend Nix out of shape:
a fake local ``system`` setting (``--option system X``) is forwarded to ssh-ng daemons and
breaks multi-user Nix; an aggregator no machine accepts ends every run with Nix's error.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import stat
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from ._nixcmd import SSH_OPTS, STORE_INFO, nix_version  # noqa: F401 - STORE_INFO re-exported
from .machines import Machine, MachinesFile, write_atomic

# never prompt (a password or an unknown host key), never wait long for a dead host
BASE_SSH_OPTIONS = tuple(SSH_OPTS.split())  # one definition, in _nixcmd
PORT_IN_URI = (2, 31)
FRACTIONAL_SPEED = (2, 20)


def local_nix_version() -> tuple[int, ...]:
    """The local Nix version as a tuple, e.g. (2, 8, 0); (0,) when Nix is missing."""
    return nix_version()


def compatibility(machine: Machine, nix_version: tuple[int, ...] | None = None) -> list[str]:
    """Plain notes on what this Nix cannot read as written, and what sweepgui does about it."""
    v = nix_version or local_nix_version()
    notes = []
    if machine.port is not None and v < PORT_IN_URI:
        notes.append(f"Nix {_fmt(v)} cannot read a port in the URI (needs Nix 2.31); sweepgui "
                     f"gives port {machine.port} to ssh instead. For Nix used without sweepgui, "
                     f"put the block of `sweepgui machines ssh-config` in ~/.ssh/config")
    if machine.speed_factor is not None and not float(machine.speed_factor).is_integer() \
            and v < FRACTIONAL_SPEED:
        notes.append(f"Nix {_fmt(v)} needs a whole speed factor (fractions from Nix 2.20); "
                     f"{machine.speed_factor} is used as {max(1, round(machine.speed_factor))}")
    return notes


def _fmt(v: tuple[int, ...]) -> str:
    return ".".join(map(str, v))


def readable_by_nix(machine: Machine, nix_version: tuple[int, ...] | None = None
                    ) -> tuple[Machine, str | None]:
    """``machine`` as it must be written for the local Nix (or Nix ``nix_version``) to read
    the machines file, and a plain note on what changed (None: nothing).

    Nix before 2.20 reads the speed factor as a whole number and rejects the whole file
    ("bad machine specification") for a fraction: it is rounded (at least 1).
    """
    x = machine.speed_factor
    if x is None or float(x).is_integer():
        return machine, None
    v = nix_version or local_nix_version()
    if v >= FRACTIONAL_SPEED:
        return machine, None
    whole = max(1, round(x))
    return replace(machine, speed_factor=whole), (
        f"{machine.name}: speed factor {x:g} is written as {whole}: Nix {_fmt(v)} reads only "
        "whole speed factors (fractions from Nix 2.20) and rejects a machines file with a "
        "fraction in it")


def ssh_config_text(machines: list[Machine], nix_version: tuple[int, ...] | None = None,
                    include_defaults: bool = True) -> str | None:
    """ssh config blocks giving ported builders their port on Nix < 2.31 (None: not needed)."""
    v = nix_version or local_nix_version()
    blocks, seen = [], set()
    for m in machines:
        if m.port is None or v >= PORT_IN_URI:
            continue
        alias = f"{m.host}:{m.port}"
        if alias in seen:
            continue
        seen.add(alias)
        # Nix passes "user@host:port" to ssh as the host name and pins column 8 under "host:port"
        block = f"Host {alias}\n  HostName {m.host.strip('[]')}\n  Port {m.port}\n"
        if m.host_key:  # the known_hosts file Nix writes for column 8 names the host "host:port"
            block += f"  HostKeyAlias {alias}\n"
        blocks.append(block)
    if not blocks:
        return None
    text = "# generated by sweepgui: ports of remote builders (Nix before 2.31 reads none in URIs)\n"
    text += "".join(blocks)
    if include_defaults:
        # -F replaces the usual files: include them after our blocks (the first value wins)
        home = os.path.expanduser("~")
        text += f"Host *\n  Include {home}/.ssh/config\n  Include /etc/ssh/ssh_config\n"
    return text


def private_folder(path: Path) -> Path | None:
    """``path`` if it is a folder only this user can use, else None.

    The folder is made here with mode 0700 (``mkdir`` is atomic and never follows a symbolic
    link), or it is already there; either way ``lstat`` (not following links) must show a
    real folder owned by this user that nobody else may enter. A folder another user made
    first (in /tmp anybody can), a link planted in its place, or one open to others is not
    used: what is inside may not be ours. Nor is one whose parent another user may change
    (e.g. root with the XDG_RUNTIME_DIR of the user it came from): that user could move the
    folder away and put their own in its place. /tmp is fine: its sticky bit forbids that.
    """
    try:
        parent = os.stat(path.parent)
    except OSError:
        return None
    if parent.st_uid not in (0, os.getuid()) or (parent.st_mode & 0o022
                                                 and not parent.st_mode & stat.S_ISVTX):
        return None
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        return None
    return path


def _runtime_folders() -> list[Path]:
    """Candidate private folders for ssh files, best first: the user's runtime folder
    (XDG_RUNTIME_DIR, private by design, short paths), then one in the temporary folder."""
    out = []
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        out.append(Path(runtime) / "sweepgui-ssh")
    out.append(Path(tempfile.gettempdir()) / f"sweepgui-ssh-{os.getuid()}")
    return out


def _config_file(text: str) -> Path:
    """A stable file holding ``text`` (named by its hash, so runs reuse it), in a folder
    only this user can write: ~/.cache/sweepgui/ssh, else a private runtime folder, else a
    new private temporary folder. NIX_SSHOPTS is split on whitespace: no blanks in the path."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sweepgui"
    candidates = [cache / "ssh", *_runtime_folders()]
    name = hashlib.sha256(text.encode()).hexdigest()[:16] + ".conf"
    for base in candidates:
        if re.search(r"\s", str(base)):
            continue
        if base == cache / "ssh":
            try:
                cache.mkdir(parents=True, exist_ok=True)
            except OSError:
                continue
        if private_folder(base) is None:
            continue
        path = base / name
        try:
            if not path.is_file() or path.is_symlink() or path.read_text() != text:
                write_atomic(path, text, backup=False, mode=0o600)
        except OSError:
            continue
        return path
    base = Path(tempfile.mkdtemp(prefix="sweepgui-ssh-"))  # mode 0700, a new name: ours
    write_atomic(base / name, text, backup=False, mode=0o600)
    return base / name


def ssh_options_for(machines: list[Machine], nix_version: tuple[int, ...] | None = None) -> str:
    """Extra NIX_SSHOPTS these machines need on this Nix ("" when none)."""
    text = ssh_config_text(machines, nix_version)
    return f"-F {_config_file(text)}" if text else ""


def ssh_options(machines_file: str | os.PathLike) -> str:
    """Extra NIX_SSHOPTS for a machines file (the engine adds batch mode and the timeout).

    Raises :class:`~sweepgui.nix.machines.MachinesError` for a malformed file.
    """
    return ssh_options_for(MachinesFile.load(Path(machines_file).expanduser()).all_machines())


# ssh's control socket: FOLDER/%C (40 characters) plus ssh's temporary suffix (17) must fit
# a socket address (108 bytes with the final NUL)
_SOCKET_ROOM = 107 - 1 - 40 - 17


def _multiplexing() -> str:
    """ssh options sharing one connection per builder across builds ("" if not possible).

    Nix 2.8 opens a new ssh connection for every remote build; one shared connection halves
    the time of short builds (24 trivial builds on two hosts: 7.5-9.8 s -> 3.6-4.8 s here).
    The master checks the host key (Nix's pinned one) when it connects; it ends 30 s after
    its last use, or when the builder goes away. Placed after the user's own options, which
    therefore win (ssh keeps the first value of an option).

    The sockets live in a folder only this user can use (:func:`private_folder`): under
    XDG_RUNTIME_DIR, else /tmp/sweepgui-ssh-UID, else ~/.cache/sweepgui/mux when its path is
    short enough for a socket. Another user's folder (or a link planted in /tmp) is never
    used: no multiplexing then.
    """
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sweepgui"
    for base in [*_runtime_folders(), cache / "mux"]:
        if re.search(r"\s", str(base)) or len(str(base)) > _SOCKET_ROOM:
            continue
        if base == cache / "mux":
            try:
                cache.mkdir(parents=True, exist_ok=True)
            except OSError:
                continue
        if private_folder(base) is not None:
            return f"-o ControlMaster=auto -o ControlPath={base}/%C -o ControlPersist=30"
    return ""


def sshopts(extra: str | None = None) -> str:
    """Complete NIX_SSHOPTS: batch mode, a connect timeout, and ``extra``."""
    opts = " ".join(BASE_SSH_OPTIONS)
    return f"{opts} {extra}".strip() if extra else opts


@dataclass
class BuilderSetup:
    """``--builders`` value and environment for one Nix invocation that uses remote builders."""

    builders: str
    env: dict[str, str]
    machines: list[Machine] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (machine, why) left out

    @property
    def usable(self) -> list[Machine]:
        """The machines this run gives Nix (those not left out)."""
        out = {name for name, _ in self.skipped}
        return [m for m in self.machines if m.name not in out]

    @property
    def args(self) -> list[str]:
        # When every builder slot is taken (or a builder is down), Nix postpones the build
        # and looks again only after build-poll-interval (5 s by default): 1 s keeps the
        # builders busy. Both settings exist in Nix 2.8 and today.
        return ["--builders", self.builders, "--option", "build-poll-interval", "1"]

    def display_name(self, reported: str) -> str:
        """The machine's name for the user (its URI without store settings) from the URI Nix
        reports ("" = local stays "")."""
        if not reported:
            return reported
        for m in self.machines:
            if reported in (m.uri, m.name, f"ssh://{m.address}" if m.port is None else None):
                return m.name
        return reported.split("?", 1)[0]


def builder_setup(machines_file: str | os.PathLike, workdir: str | os.PathLike | None = None,
                  nix_version: tuple[int, ...] | None = None,
                  preflight: bool = True) -> BuilderSetup:
    """The ``--builders`` value and ``NIX_SSHOPTS`` for ``machines_file`` on this Nix.

    Raises :class:`~sweepgui.nix.machines.MachinesError` for a malformed file (Nix 2.8 would
    only say "unexpected EOF" mid-build). With ``preflight``, builders whose ssh server does
    not answer are left out of the run (``skipped``: (name, reason) pairs, to tell the user).
    ``workdir`` receives a derived machines file when one is needed (builders left out, or
    whole speed factors for Nix < 2.20); default: a new temporary folder.
    """
    v = nix_version or local_nix_version()
    path = Path(machines_file).expanduser().resolve()
    mf = MachinesFile.load(path)
    machines = mf.all_machines()
    from .machine_errors import KNOWN_MACHINES

    KNOWN_MACHINES.update((m.name, m) for m in machines)
    user = os.environ.get("NIX_SSHOPTS", "").strip()
    extra = " ".join(filter(None, [ssh_options_for(machines, v), user, _multiplexing()]))
    env = {"NIX_SSHOPTS": sshopts(extra)}
    skipped: list[tuple[str, str]] = []
    usable = machines
    if preflight and machines:
        verdicts = reachability(machines)
        alive = [m for m in machines if verdicts.get(m.name) is None]
        # a builder that hangs costs every build ConnectTimeout while Nix's scheduler waits
        # (one that stalls in the handshake hangs it for good): leave the dead ones out of
        # this run, all of them if need be (the engine then says why nothing can build)
        if len(alive) < len(machines):
            usable = alive
            skipped = [(m.name, verdicts[m.name]) for m in machines if verdicts.get(m.name)]
    fractional = [m for m in usable
                  if m.speed_factor is not None and not float(m.speed_factor).is_integer()]
    # Nix reads a relative '@FILE' from its own working folder, not from the file's: with
    # includes, Nix gets the machines sweepgui resolved (and checked), one per line
    if not skipped and not mf.includes and (not fractional or v >= FRACTIONAL_SPEED):
        return BuilderSetup(f"@{path}", env, machines)
    wd = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="sweepgui-builders-"))
    wd.mkdir(parents=True, exist_ok=True)
    text = f"# derived by sweepgui from {path} for Nix {_fmt(v)}, edit that file instead\n"
    text += "".join(f"# left out (unreachable at the start of the run): {name}\n"
                    for name, _ in skipped)
    text += "".join(m.line(speed_as_int=v < FRACTIONAL_SPEED) + "\n" for m in usable)
    write_atomic(wd / "machines", text, backup=False)
    return BuilderSetup(f"@{wd / 'machines'}", env, machines, skipped)


def _ssh_endpoint(m: Machine) -> tuple[str, int] | None:
    """Where ssh would connect for ``m`` (None: through a proxy, or ssh cannot tell)."""
    if m.port is not None:
        return m.host.strip("[]"), m.port
    try:
        out = subprocess.run(["ssh", "-G", "--", m.address], capture_output=True, text=True,
                             timeout=5, stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    conf = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    if conf.get("proxyjump", "none") != "none" or conf.get("proxycommand", "none") != "none":
        return None
    try:
        return conf.get("hostname", m.host), int(conf.get("port", "22"))
    except ValueError:
        return None


def _probe(m: Machine, timeout: float) -> str | None:
    """None if an ssh server answers at the machine's address and starts the handshake
    (its key exchange), else why not, in the words of ``machine check``.

    A server that sends its banner and then stalls would hang every ssh (and with it Nix)
    in the key exchange, which no ssh timeout covers: the probe sends its own banner and
    waits for the server's first key-exchange packet (SSH_MSG_KEXINIT, sent unasked).
    """
    from .machine_errors import _explain

    end = _ssh_endpoint(m)
    if end is None:
        return None  # cannot probe (proxy): let ssh try
    try:
        with socket.create_connection(end, timeout=timeout) as s:
            s.settimeout(timeout)
            data = b""
            while b"\n" not in data and len(data) < 512:
                chunk = s.recv(256)
                if not chunk:
                    break
                data += chunk
            if not data.startswith(b"SSH-"):
                return (f"{end[0]} port {end[1]} does not answer like an ssh server (no "
                        "'SSH-' banner): fix the host name or port")
            s.sendall(b"SSH-2.0-sweepgui_probe\r\n")
            rest = data.split(b"\n", 1)[1] if b"\n" in data else b""
            deadline = time.monotonic() + timeout
            while len(rest) < 6:
                s.settimeout(max(0.05, deadline - time.monotonic()))
                chunk = s.recv(4096)
                if not chunk:
                    break
                rest += chunk
            if len(rest) < 6 or rest[5] != 20:  # uint32 length, padding byte, message type
                raise TimeoutError
    except ConnectionRefusedError:
        return (f"connection refused at {end[0]} port {end[1]}: nothing accepts ssh "
                "connections there; start sshd there, or fix the host name or port")
    except TimeoutError:
        if "data" in locals() and data.startswith(b"SSH-"):
            return (f"{m.name} answers as an ssh server at {end[0]} port {end[1]} but completes "
                    f"no ssh handshake within {timeout:g} s (a hung sshd, or something in the "
                    "way): restart sshd there or leave the machine out")
        return _explain(m, "<timeout>", timeout)
    except OSError as exc:
        return f"{end[0]} port {end[1]}: {exc.strerror or exc}"
    return None


def reachability(machines: list[Machine], timeout: float = 2.0) -> dict[str, str | None]:
    """For each machine (by name): None if its ssh server answers, else the reason (in parallel,
    at most about 2 x ``timeout`` seconds in all)."""
    with ThreadPoolExecutor(max_workers=min(16, len(machines) or 1)) as pool:
        return dict(zip([m.name for m in machines],
                        pool.map(lambda m: _probe(m, timeout), machines)))


# what ssh and Nix say when a builder goes away in the middle of a build (not the model's fault)
_LOST = re.compile(r"closed by remote host|connection reset|broken pipe|unexpected end-of-file|"
                   r"connection closed|cannot connect to|lost connection|connection timed out",
                   re.IGNORECASE)


def lost_builder(machine: str, reason: str, log_tail=(), last_message: str = "") -> bool:
    """Whether a failed remote build failed because its builder went away (so building the
    point again elsewhere can succeed), rather than because the model failed.

    ``last_message`` is Nix's message just before the failure: over a shared ssh connection
    the only trace of a lost builder is a bare "unexpected end-of-file" there. Messages about
    connecting to a builder ("cannot build on ...") concern other builds and do not count.
    """
    if not machine:
        return False
    if last_message and not last_message.startswith("cannot build on"):
        log_tail = (*log_tail, last_message)
    return any(_LOST.search(text or "") for text in (reason, *log_tail))


def per_machine_from_manifest(manifest: dict) -> dict[str, dict[str, float]]:
    """Per-machine figures of a finished run from its manifest (e.g. a sweep opened again):
    {machine: {"built", "failed", "seconds", "mean_seconds"}}, "local" for this computer;
    the same keys as ``RunFinished.per_machine``. Cached points count for no machine."""
    out: dict[str, dict[str, float]] = {}
    for p in manifest.get("points", []):
        status = p.get("status")
        if status not in ("built", "failed"):
            continue
        m = out.setdefault(p.get("machine") or "local",
                           {"built": 0, "failed": 0, "seconds": 0.0, "mean_seconds": 0.0})
        m[status] += 1
        if status == "built":
            m["seconds"] += p.get("seconds") or 0.0
    for m in out.values():
        m["mean_seconds"] = m["seconds"] / m["built"] if m["built"] else 0.0
    return out
