"""Where machines come from and go to: Nix's own settings, /etc/nix/machines, NixOS.

- :func:`system_machines` reads the builders the local Nix already knows (the ``builders``
  setting, which by default is ``@/etc/nix/machines``).
- :func:`write_system_machines` writes ``/etc/nix/machines`` where this user may.
- :func:`nixos_snippet` gives the same machines as a NixOS ``nix.buildMachines`` block.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .._nixcmd import nix_settings
from ..compat import Version
from ..compat import nix_version as local_nix_version
from .file import MachinesFile, write_atomic
from .line import Machine, MachinesError
from .versions import unreadable_in_system_file, whole_speed

SYSTEM_MACHINES = Path("/etc/nix/machines")


def builders_setting(timeout: float = 10.0) -> str | None:
    """The effective ``builders`` setting of the local Nix (None when Nix cannot tell)."""
    value = nix_settings(timeout=timeout).get("builders")
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


def _refuse_unreadable(machines: list[Machine], path: Path, v: Version) -> None:
    """Nix reads the system's file without sweepgui's help: refuse what it cannot read."""
    for m in machines:
        problem = unreadable_in_system_file(m, v)
        if problem:
            raise MachinesError(str(path), None, None, problem)


def write_system_machines(machines: list[Machine], path: Path = SYSTEM_MACHINES,
                          nix_version: Version | None = None) -> Path:
    """Write ``machines`` as the system's machines file (atomic, one ``.bak``).

    Nix reads this file without sweepgui's help, so ports and fractional speed factors are
    refused when the local Nix cannot read them.
    """
    change = system_install(machines, path, nix_version)
    if not os.access(path.parent if path.parent.exists() else path.parent.parent, os.W_OK) or \
            (path.exists() and not os.access(path, os.W_OK)):
        raise PermissionError(f"{path} can only be written by root: run "
                              "`sweepgui machines install-system`, which asks for sudo, or use "
                              "your own file (--file) and `sweepgui run --machines FILE`")
    write_atomic(path, change.new_text, backup=True)
    return path


@dataclass
class SystemInstall:
    """Adding machines to the system's machines file: the exact change, and how to make it.

    ``new_text`` is the whole new file (its existing lines kept, the machines added or
    replaced); :meth:`diff` shows the change; :meth:`commands` the commands a root shell
    runs to make it from a copy of ``new_text`` (atomic: a temporary file renamed, one .bak).
    """

    target: Path
    old_text: str
    new_text: str
    machines: list[Machine]

    @property
    def changed(self) -> bool:
        return self.old_text != self.new_text

    def diff(self) -> str:
        import difflib

        return "".join(difflib.unified_diff(
            self.old_text.splitlines(keepends=True), self.new_text.splitlines(keepends=True),
            fromfile=f"{self.target} (now)", tofile=f"{self.target} (new)"))

    def commands(self, source: Path) -> list[list[str]]:
        """Argument lists (never a shell line with names in it) that install ``source``."""
        t = str(self.target)
        cmds = [["mkdir", "-p", str(self.target.parent)]]
        if self.target.exists():
            cmds.append(["cp", "-p", t, t + ".bak"])
        cmds += [["install", "-m", "0644", str(source), t + ".sweepgui-new"],
                 ["mv", "-f", t + ".sweepgui-new", t]]
        return cmds


def system_install(machines: list[Machine], path: Path = SYSTEM_MACHINES,
                   nix_version: Version | None = None) -> SystemInstall:
    """The change that adds ``machines`` to the system's machines file ``path``.

    Raises MachinesError for machines the local Nix could not read there (a port before
    Nix 2.31, a fractional speed factor before 2.20), or for a malformed existing file.
    """
    v = nix_version or local_nix_version()
    _refuse_unreadable(machines, path, v)
    try:
        old = path.read_text(encoding="utf-8") if path.exists() else ""
    except OSError as exc:
        raise MachinesError(str(path), None, None, f"cannot read it: {exc}") from None
    mf = MachinesFile.parse(old, path) if old else MachinesFile(source=str(path))
    for m in machines:
        mf.add(m)
    return SystemInstall(path, old, mf.dumps(), list(machines))


def escalation_tool(graphical: bool = False) -> list[str] | None:
    """How this user can run a command as root: [] when already root, ["sudo"] or
    ["pkexec"] (preferred with ``graphical``: it asks for the password in a window),
    None when neither exists."""
    if os.geteuid() == 0:
        return []
    order = ("pkexec", "sudo") if graphical else ("sudo", "pkexec")
    for tool in order:
        path = shutil.which(tool)
        if path:
            return [path]
    return None


def install_system(change: SystemInstall, via: list[str] | None, timeout: float = 300) -> str:
    """Make ``change`` (see :class:`SystemInstall`) as root through ``via`` (from
    :func:`escalation_tool`). Returns what was done; raises PermissionError with the exact
    commands to run as root when it cannot (no sudo/pkexec, or the password was refused)."""
    folder = Path(tempfile.mkdtemp(prefix="sweepgui-system-machines-"))  # mode 0700: ours
    source = folder / "machines"
    try:
        write_atomic(source, change.new_text, backup=False, mode=0o644)
        os.chmod(folder, 0o711)  # root (even with root_squash-like limits) reaches the file
        if via is None:
            raise PermissionError("neither sudo nor pkexec is installed")
        for cmd in change.commands(source):
            full = [*via, *cmd]
            try:
                p = subprocess.run(full, capture_output=True, text=True, timeout=timeout,
                                   stdin=subprocess.DEVNULL if via and "sudo" in via[0] else None)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise PermissionError(f"{' '.join(full)}: {exc}") from None
            if p.returncode != 0:
                raise PermissionError(f"{' '.join(full)} failed: "
                                      f"{(p.stderr or p.stdout).strip()[-300:]}")
    except PermissionError as exc:
        keep = _keep_copy(change.new_text)
        steps = "\n".join("  " + " ".join(shlex.quote(a) for a in c)
                          for c in change.commands(keep))
        raise PermissionError(f"could not write {change.target} as root ({exc}). Run these "
                              f"commands as root (e.g. in `su -`):\n{steps}") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return f"wrote {len(change.machines)} machine(s) to {change.target} (backup: " \
           f"{change.target}.bak)" if change.old_text else \
           f"wrote {len(change.machines)} machine(s) to {change.target}"


def _keep_copy(text: str) -> Path:
    """A copy of the new file that stays for the user to install by hand."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sweepgui"
    base.mkdir(parents=True, exist_ok=True)
    path = base / "machines.system"
    write_atomic(path, text, backup=False, mode=0o644)
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
                lines.append(f"      speedFactor = {whole_speed(sf)};  # {sf} in the machines file")
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
