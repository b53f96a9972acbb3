"""Remote builders: the Nix machines file, its grammar, checks and sources.

Modules, each importing only those above it:

- :mod:`.line`: one line's grammar, one function per column (:class:`Machine`).
- :mod:`.file`: the file (comments, ``;``, ``@FILE``, atomic writing): :class:`MachinesFile`.
- :mod:`.versions`: what a Nix version reads of a machine (gates in :mod:`sweepgui.nix.compat`).
- :mod:`.report`, :mod:`.identity`: a checked item (:class:`Check`); the identity-file check.
- :mod:`.errors`: ssh's and Nix's words about builders, as advice and decisions (the run's
  hooks :func:`lost_builder` and :func:`explain_no_builder`).
- :mod:`.setup`: the builders and ssh options of one Nix invocation (:func:`builder_setup`).
- :mod:`.sources`: Nix's own builders, /etc/nix/machines, NixOS ``nix.buildMachines``.
- :mod:`.checks`: checks of one builder (connection, host key, system, daemon ssh).
"""

from .checks import (
    DEFAULT_TIMEOUT,
    MAX_TIMEOUT,
    check_machine,
    check_machines,
    daemon_ssh_checks,
    fetch_host_key,
    fingerprint,
    host_key_file,
    local_system,
)
from .errors import explain, explain_no_builder, lost_builder
from .file import Comment, Entry, Include, MachinesFile, default_machines_path, write_atomic
from .line import (
    COLUMNS,
    PROTOCOLS,
    UINT_MAX,
    Machine,
    MachinesError,
    check_column_text,
    check_host_key,
    column_text_problem,
    parse_entry,
    parse_field,
    parse_names,
    parse_uri,
    speed_ok,
)
from .report import Check
from .setup import BuilderSetup, builder_setup, per_machine_from_manifest, ssh_config_text
from .sources import (
    SYSTEM_MACHINES,
    SystemInstall,
    builders_setting,
    escalation_tool,
    install_system,
    nixos_snippet,
    system_install,
    system_machines,
    write_system_machines,
)
from .versions import compatibility, readable_by_nix

__all__ = [
    "COLUMNS", "DEFAULT_TIMEOUT", "MAX_TIMEOUT", "PROTOCOLS", "SYSTEM_MACHINES", "UINT_MAX",
    "BuilderSetup", "Check", "Comment", "Entry", "Include", "Machine", "MachinesError",
    "MachinesFile", "SystemInstall", "builder_setup", "builders_setting", "check_column_text",
    "check_host_key", "check_machine", "check_machines", "column_text_problem", "compatibility",
    "daemon_ssh_checks", "default_machines_path", "escalation_tool", "explain",
    "explain_no_builder", "fetch_host_key", "fingerprint", "host_key_file", "install_system",
    "local_system", "lost_builder", "nixos_snippet", "parse_entry", "parse_field", "parse_names",
    "parse_uri", "per_machine_from_manifest", "readable_by_nix", "speed_ok", "ssh_config_text",
    "system_install", "system_machines", "write_atomic", "write_system_machines",
]
