"""ssh's and Nix's words about a builder that cannot be used, turned into plain advice."""

from __future__ import annotations

import os
import re

from .machines import Machine, MachinesError, parse_uri

# The machines of the runs set up in this process, by name (filled by machines_nix's
# builder_setup): Nix's messages name a builder only by its URI, but the reason for a
# refused login is often in the other columns (an identity file with a passphrase).
KNOWN_MACHINES: dict[str, Machine] = {}


def _identity_problem(machine: Machine) -> str | None:
    """What is wrong with the machine's identity file (None: nothing found, or none given)."""
    if not machine.ssh_key:
        return None
    from .machine_checks import check_identity  # a local check: no network

    problems = [c.message for c in check_identity(machine, timeout=3.0) if not c.ok]
    return problems[0] if problems else None


def _explain(machine: Machine, out: str, timeout: float) -> str:
    low = out.lower()
    port = machine.port or 22
    who = machine.user or os.environ.get("USER") or "your user"
    if "host key verification failed" in low or "remote host identification has changed" in low:
        if machine.host_key or "identification has changed" in low:
            return (f"the host key of {machine.name} does not match the key pinned in column 8: "
                    "if the machine was reinstalled, pin its new key with `sweepgui machines "
                    f"fetch-host-key {machine.name}`; otherwise do not use it (it may be another machine)")
        return (f"the host key of {machine.name} is unknown and ssh will not ask: pin it with "
                f"`sweepgui machines fetch-host-key {machine.name}` (after comparing the fingerprint "
                "with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the builder)")
    if "unprotected private key" in low or "bad permissions" in low:
        m = re.search(r'Load key "([^"]+)": bad permissions', out)
        key = machine.ssh_key or (m.group(1) if m else "(the identity file)")
        return f"ssh ignores the identity file {key} (readable by others): run `chmod 600 {key}`"
    if "connection refused" in low:
        return (f"nothing accepts ssh connections at {machine.host} port {port} (connection "
                "refused): start sshd there, or fix the host name or port")
    if "could not resolve hostname" in low or "name or service not known" in low:
        return f"the host name {machine.host} is unknown: check its spelling or DNS"
    if "timed out" in low or "no route to host" in low or "network is unreachable" in low \
            or out == "<timeout>":
        return (f"{machine.host} port {port} cannot be reached within {timeout:.0f} s: is the "
                "machine on and on this network, and is a firewall in the way?")
    if "permission denied" in low:
        problem = _identity_problem(machine)
        if problem:  # e.g. a passphrase: ssh in batch mode just says "Permission denied"
            return f"{machine.name} refused the login: {problem}"
        key = f" {machine.ssh_key}.pub" if machine.ssh_key else " (your public key)"
        return (f"{machine.name} refused the login of {who}: add{key} to ~{who}/.ssh/"
                "authorized_keys on the builder, and check the user name in the URI")
    if "not found" in low and "nix" in low:
        return (f"Nix is not installed on {machine.name}, or not on the PATH of non-interactive "
                "ssh sessions there: install Nix on the builder")
    if "trusted" in low:
        return (f"{machine.name} does not trust {who} (ssh-ng needs a trusted user): add it to "
                "trusted-users in the builder's nix.conf, or use ssh://")
    tail = " | ".join(line for line in out.splitlines()[-3:] if line.strip())
    return f"Nix cannot use {machine.name} as a builder: {tail or 'no output'}"


_CANNOT_BUILD_ON = re.compile(r"cannot build on '(?P<uri>[^']+)': (?P<err>.*)", re.DOTALL)


def explain_no_builder(messages: list[str]) -> str | None:
    """A plain reason for Nix's "unable to start any build" from the run's messages: which
    builder could not be used and why (None when the messages do not say)."""
    reasons: dict[str, str] = {}
    for text in messages:
        m = _CANNOT_BUILD_ON.search(text or "")
        if not m:
            continue
        uri = m["uri"]
        try:
            machine = Machine(**parse_uri(uri.split("?", 1)[0]))
        except MachinesError:
            continue
        machine = KNOWN_MACHINES.get(machine.name, machine)
        why = _explain(machine, m["err"], 5).rstrip(".")
        reasons[machine.name] = why if machine.name in why else f"{machine.name}: {why}"
    if not reasons:
        return None
    parts = "; ".join(reasons.values())
    end = "" if parts.endswith("?") else "."
    return (f"no remote builder could take this point: {parts}{end} "
            "(`sweepgui machines check --file MACHINES` checks every builder)")
