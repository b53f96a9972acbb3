"""What a machines file needs on the local Nix version: the ``--builders`` argument and ssh options.

Nix reads a port inside a builder URI only from 2.31 and a fractional speed factor only from
2.20. For older Nix this module writes a *derived* machines file next to the run's state (ports
removed, speed factors rounded, ``@FILE`` includes flattened) and an ssh config that gives each
host its port, passed to ssh through ``NIX_SSHOPTS=-F ...``; the generated config includes the
user's and the system's ssh config, so nothing else changes. Host key checking stays on: Nix
pins column 8 itself (it writes a known_hosts file per connection).

The engine calls :func:`builder_setup` once per run::

    setup = builder_setup(machines_file, workdir=state_dir / "builders")
    cmd += setup.args                 # ["--builders", "@/path/to/machines"]
    env.update(setup.env)             # NIX_SSHOPTS
    machine = setup.display_name(nix_reported_uri)
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .machines import Machine, MachinesFile, write_atomic

# never prompt (a password or an unknown host key), never wait long for a dead host
BASE_SSH_OPTIONS = ("-o", "BatchMode=yes", "-o", "ConnectTimeout=5")
PORT_IN_URI = (2, 31)
FRACTIONAL_SPEED = (2, 20)
STORE_INFO = (2, 19)  # `nix store info`; before: `nix store ping`


@functools.lru_cache(maxsize=1)
def local_nix_version() -> tuple[int, ...]:
    """The local Nix version as a tuple, e.g. (2, 8, 0); (0,) when Nix is missing."""
    try:
        out = subprocess.run(["nix-store", "--version"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return (0,)
    m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", out)
    return tuple(int(g) for g in m.groups() if g is not None) if m else (0,)


def compatibility(machine: Machine, nix_version: tuple[int, ...] | None = None) -> list[str]:
    """Plain notes on what this Nix cannot read as written, and what sweepgui does about it."""
    v = nix_version or local_nix_version()
    notes = []
    if machine.port is not None and v < PORT_IN_URI:
        notes.append(f"Nix {_fmt(v)} cannot read a port in the URI (needs Nix 2.31); sweepgui "
                     f"passes port {machine.port} to ssh instead. For Nix used without sweepgui, "
                     f"add 'Host {machine.host}' with 'Port {machine.port}' to ~/.ssh/config")
    if machine.speed_factor is not None and not float(machine.speed_factor).is_integer() \
            and v < FRACTIONAL_SPEED:
        notes.append(f"Nix {_fmt(v)} needs a whole speed factor (fractions from Nix 2.20); "
                     f"{machine.speed_factor} is used as {max(1, round(machine.speed_factor))}")
    return notes


def _fmt(v: tuple[int, ...]) -> str:
    return ".".join(map(str, v))


@dataclass
class BuilderSetup:
    """Arguments and environment for one Nix invocation that uses remote builders.

    ``names`` maps each URI as Nix reports it (``PointStarted.machine``) to the URI the user
    wrote (with the port); :meth:`display_name` applies it.
    """

    args: list[str]
    env: dict[str, str]
    machines: list[Machine] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def display_name(self, reported: str) -> str:
        if not reported:
            return reported
        return self.names.get(reported, self.names.get(reported.split("?")[0], reported))


def ssh_options(extra: str | None = None) -> str:
    """NIX_SSHOPTS: batch mode and a connect timeout, plus ``extra`` (e.g. the user's own)."""
    opts = " ".join(BASE_SSH_OPTIONS)
    return f"{opts} {extra}".strip() if extra else opts


def builder_setup(machines_file: str | os.PathLike, workdir: str | os.PathLike | None = None,
                  nix_version: tuple[int, ...] | None = None,
                  user_sshopts: str | None = None) -> BuilderSetup:
    """The ``--builders`` argument and ``NIX_SSHOPTS`` for ``machines_file`` on this Nix.

    Raises :class:`~sweepgui.nix.machines.MachinesError` for a malformed file (Nix 2.8 would
    only say "unexpected EOF" mid-build). ``workdir`` receives the derived files when they are
    needed (default: a new temporary folder); NIX_SSHOPTS is split on spaces by Nix, so a
    folder with spaces is replaced by a temporary one.
    """
    v = nix_version or local_nix_version()
    path = Path(machines_file).expanduser().resolve()
    machines = MachinesFile.load(path).all_machines()
    if user_sshopts is None:
        user_sshopts = os.environ.get("NIX_SSHOPTS", "")
    # keep the user's own options, minus the ones we set (so there is one of each)
    extra = user_sshopts.strip() or None
    names = {m.store_uri(with_port=v >= PORT_IN_URI): m.name for m in machines}
    names.update({m.store_uri(with_port=v >= PORT_IN_URI, with_params=False): m.name
                  for m in machines})
    needs_derived = any(m.port is not None for m in machines) and v < PORT_IN_URI
    needs_derived |= any(m.speed_factor is not None and not float(m.speed_factor).is_integer()
                         for m in machines) and v < FRACTIONAL_SPEED
    if not needs_derived:
        return BuilderSetup(["--builders", f"@{path}"], {"NIX_SSHOPTS": ssh_options(extra)},
                            machines, names)

    wd = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="sweepgui-builders-"))
    if re.search(r"\s", str(wd.resolve())):
        wd = Path(tempfile.mkdtemp(prefix="sweepgui-builders-"))
    wd.mkdir(parents=True, exist_ok=True)
    derived: list[Machine] = []
    blocks: list[str] = []
    names = {}
    taken: dict[str, int | None] = {}
    for m in machines:
        host = m.host
        if m.port is not None:
            if taken.get(host, m.port) != m.port:
                # the same host with two ports: an alias keeps them apart (and its known_hosts
                # entry, which Nix writes under the alias name)
                host = f"sweepgui-{m.host}-{m.port}".replace(":", "_").replace("[", "").replace("]", "")
                blocks.append(f"Host {host}\n  HostName {m.host.strip('[]')}\n  Port {m.port}\n"
                              f"  HostKeyAlias {host}\n")
            elif host not in taken:
                blocks.append(f"Host {host.strip('[]')}\n  Port {m.port}\n")
            taken.setdefault(m.host, m.port)
        d = Machine(**{**m.__dict__, "host": host, "port": None})
        derived.append(d)
        names[d.store_uri()] = m.name
        names[d.store_uri(with_params=False)] = m.name
    text = "# derived by sweepgui from {} for Nix {}, edit that file instead\n".format(
        path, _fmt(v)) + "".join(d.line(speed_as_int=v < FRACTIONAL_SPEED) + "\n" for d in derived)
    mpath = wd / "machines"
    write_atomic(mpath, text, backup=False)
    files = [mpath]
    env_opts = extra
    if blocks:
        cpath = wd / "ssh_config"
        home = os.path.expanduser("~")
        conf = "# generated by sweepgui: ports of the builders (Nix < 2.31 reads none in URIs)\n"
        conf += "".join(blocks)
        # after our blocks (first match wins in ssh_config), the usual configuration
        conf += f"Host *\n  Include {home}/.ssh/config\n  Include /etc/ssh/ssh_config\n"
        write_atomic(cpath, conf, backup=False, mode=0o600)
        files.append(cpath)
        env_opts = f"-F {cpath}" + (f" {extra}" if extra else "")
    return BuilderSetup(["--builders", f"@{mpath}"], {"NIX_SSHOPTS": ssh_options(env_opts)},
                        machines, names, files)
