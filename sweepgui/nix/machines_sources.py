"""Where machines come from and go to: Nix's own settings, /etc/nix/machines, NixOS.

- :func:`system_machines` reads the builders the local Nix already knows (the ``builders``
  setting, which by default is ``@/etc/nix/machines``).
- :func:`write_system_machines` writes ``/etc/nix/machines`` where this user may.
- :func:`nixos_snippet` gives the same machines as a NixOS ``nix.buildMachines`` block.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from .machines import Machine, MachinesError, MachinesFile
from .machines_nix import FRACTIONAL_SPEED, PORT_IN_URI, local_nix_version

SYSTEM_MACHINES = Path("/etc/nix/machines")


def builders_setting(timeout: float = 10.0) -> str | None:
    """The effective ``builders`` setting of the local Nix (None when Nix cannot tell)."""
    v = local_nix_version()
    # `nix show-config` became `nix config show` in 2.20
    sub = ["config", "show"] if v >= (2, 20) else ["show-config"]
    cmd = ["nix", "--extra-experimental-features", "nix-command", *sub, "--json"]
    env = dict(os.environ)
    env["NIX_CONFIG"] = "substituters =\n" + env.get("NIX_CONFIG", "")
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                           stdin=subprocess.DEVNULL)
        value = json.loads(p.stdout)["builders"]["value"]
    except (OSError, subprocess.TimeoutExpired, ValueError, KeyError, TypeError):
        return None
    return value if isinstance(value, str) else None


def system_machines(setting: str | None = None) -> list[Machine]:
    """The machines the local Nix would use: the ``builders`` setting with its ``@FILE``
    includes expanded (``/etc/nix/machines`` when the setting cannot be read)."""
    if setting is None:
        setting = builders_setting()
    if setting is None:
        setting = f"@{SYSTEM_MACHINES}"
    mf = MachinesFile.parse(setting, source="the 'builders' setting of nix.conf")
    # entries of the setting itself carry no folder: includes there are absolute paths
    mf.source = None
    machines, seen = [], set()
    for m in mf.all_machines(missing_ok=True):  # as Nix: /etc/nix/machines may not exist
        if m.name not in seen:
            seen.add(m.name)
            machines.append(m)
    return machines


def write_system_machines(machines: list[Machine], path: Path = SYSTEM_MACHINES,
                          nix_version: tuple[int, ...] | None = None) -> Path:
    """Write ``machines`` as the system's machines file (atomic, one ``.bak``).

    Nix reads this file without sweepgui's help, so ports and fractional speed factors are
    refused when the local Nix cannot read them.
    """
    v = nix_version or local_nix_version()
    for m in machines:
        if m.port is not None and v < PORT_IN_URI:
            raise MachinesError(str(path), None, None, f"{m.name}: Nix {'.'.join(map(str, v))} "
                                "cannot read a port in this file; remove it and add "
                                f"'Host {m.host}' / 'Port {m.port}' to root's ~/.ssh/config")
        if m.speed_factor is not None and not float(m.speed_factor).is_integer() \
                and v < FRACTIONAL_SPEED:
            raise MachinesError(str(path), None, None, f"{m.name}: this Nix needs a whole "
                                "speed factor")
    if not os.access(path.parent if path.parent.exists() else path.parent.parent, os.W_OK) or \
            (path.exists() and not os.access(path, os.W_OK)):
        raise PermissionError(f"{path} can only be written by root: run the command with sudo, "
                              "or use your own file (--file) and `sweepgui run --machines FILE`")
    mf = MachinesFile.load(path) if path.exists() else MachinesFile(source=str(path))
    for m in machines:
        mf.add(m)
    mf.save(path)
    return path


def _nix_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${") + '"'


def _nix_list(items: list[str]) -> str:
    return "[ " + " ".join(_nix_str(i) for i in items) + (" ]" if items else "]")


def nixos_snippet(machines: list[Machine]) -> str:
    """A NixOS module fragment (``nix.buildMachines``) for copy and paste into configuration.nix."""
    lines = ["{", "  nix.distributedBuilds = true;", "  nix.buildMachines = ["]
    ports = []
    for m in machines:
        lines.append("    {")
        lines.append(f"      hostName = {_nix_str(m.host)};")
        if m.user:
            lines.append(f"      sshUser = {_nix_str(m.user)};")
        if m.protocol != "ssh":
            lines.append(f"      protocol = {_nix_str(m.protocol)};")
        if len(m.systems) == 1:
            lines.append(f"      system = {_nix_str(m.systems[0])};")
        elif m.systems:
            lines.append(f"      systems = {_nix_list(m.systems)};")
        if m.ssh_key:
            lines.append(f"      sshKey = {_nix_str(m.ssh_key)};")
        if m.max_jobs is not None:
            lines.append(f"      maxJobs = {m.max_jobs};")
        if m.speed_factor is not None:
            sf = m.speed_factor
            if float(sf).is_integer():
                lines.append(f"      speedFactor = {int(sf)};")
            else:  # the NixOS option is an integer
                lines.append(f"      speedFactor = {max(1, round(sf))};  # {sf} in the machines file")
        if m.supported_features:
            lines.append(f"      supportedFeatures = {_nix_list(m.supported_features)};")
        if m.mandatory_features:
            lines.append(f"      mandatoryFeatures = {_nix_list(m.mandatory_features)};")
        if m.host_key:
            lines.append(f"      publicHostKey = {_nix_str(m.host_key)};")
        lines.append("    }")
        if m.port is not None and (m.host, m.port) not in ports:
            ports.append((m.host, m.port))
    lines.append("  ];")
    if ports:
        # nix.buildMachines has no port; root's ssh (which the nix-daemon uses) gets it here
        lines.append("  programs.ssh.extraConfig = ''")
        for host, port in ports:
            lines += [f"    Host {host}", f"      Port {port}"]
        lines.append("  '';")
    lines.append("}")
    return "\n".join(lines) + "\n"
