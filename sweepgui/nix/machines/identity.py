"""The identity file of a builder (column 3): a local check, no network."""

from __future__ import annotations

import os
import stat

from .line import Machine
from .report import Check, run_tool


def check_identity(machine: Machine, timeout: float = 5.0) -> list[Check]:
    """Whether ssh can use the machine's identity file without asking anything: an absolute
    path to a private key only this user reads, without a passphrase."""
    key = machine.ssh_key
    if not key:
        return [Check.passed("identity", "no identity file given: ssh uses your default keys "
                             "(~/.ssh/id_*) or agent; name one in column 3 to be sure which")]
    path = os.path.expanduser(key)
    problem = _file_problem(key, path)
    if problem:
        return [Check.error("identity", problem)]
    mode = stat.S_IMODE(os.stat(path).st_mode)
    rc, out = run_tool(["ssh-keygen", "-y", "-P", "", "-f", path], timeout)
    if rc == 0:
        return [Check.passed("identity", f"identity file {key}: mode {mode:o}, no passphrase")]
    if "passphrase" in out.lower():
        return [Check.error("identity", f"identity file {key} has a passphrase, which Nix cannot "
                            f"type: remove it with `ssh-keygen -p -N '' -f {key}` or use a key "
                            "made for builds")]
    return [Check.error("identity", f"identity file {key} is not a private key ssh can read "
                        f"({out.splitlines()[-1] if out else 'ssh-keygen failed'}): fix column 3")]


def _file_problem(key: str, path: str) -> str | None:
    """What keeps ssh from reading the file at all (None: nothing)."""
    if not os.path.isabs(path):
        return (f"identity file '{key}' is a relative path; Nix runs ssh from other folders: "
                "write the absolute path in column 3")
    if not os.path.exists(path):
        return (f"identity file {key} does not exist: fix column 3, or create a key with "
                f"`ssh-keygen -t ed25519 -N '' -f {key}` and add {key}.pub to the builder's "
                "authorized_keys")
    if not os.path.isfile(path):
        return f"identity file {key} is not a file: fix column 3"
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        return (f"identity file {key} has permissions {mode:o}, readable by others, so ssh "
                f"refuses to use it: run `chmod 600 {key}`")
    if not os.access(path, os.R_OK):
        return f"identity file {key} cannot be read by this user: check its owner (`ls -l`)"
    return None
