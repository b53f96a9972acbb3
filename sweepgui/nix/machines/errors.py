"""ssh's and Nix's words about a builder, turned into plain advice and decisions.

- :func:`explain`: why a builder cannot be used (from ssh's or Nix's output), with the fix.
- :func:`explain_no_builder`: the reason for Nix's "unable to start any build" in a run.
- :func:`lost_builder`: whether a remote build failed because its builder went away.

The last two are the run's hooks (:class:`~sweepgui.nix.run_state.RunState` receives them).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .identity import check_identity
from .line import Machine, MachinesError, parse_uri

# The machines of the runs set up in this process, by name (filled by
# machines.setup.builder_setup): Nix's messages name a builder only by its URI, but the
# reason for a refused login is often in the other columns (an identity file with a passphrase).
KNOWN_MACHINES: dict[str, Machine] = {}

TIMED_OUT = "<timeout>"  # the output given to explain() for a command that ran out of time


@dataclass(frozen=True)
class _Failure:
    """What a rule of :func:`explain` looks at."""

    machine: Machine
    out: str
    timeout: float

    @property
    def low(self) -> str:
        return self.out.lower()

    @property
    def port(self) -> int:
        return self.machine.port or 22

    @property
    def who(self) -> str:
        return self.machine.user or os.environ.get("USER") or "your user"

    def says(self, *words: str) -> bool:
        return any(w in self.low for w in words)


def _host_key(f: _Failure) -> str | None:
    name = f.machine.name
    if not f.says("host key verification failed", "remote host identification has changed"):
        return None
    if f.machine.host_key or f.says("identification has changed"):
        return (f"the host key of {name} does not match the key pinned in column 8: if the "
                f"machine was reinstalled, pin its new key with `sweepgui machines fetch-host-key "
                f"{name}`; otherwise do not use it (it may be another machine)")
    return (f"the host key of {name} is unknown and ssh will not ask: pin it with `sweepgui "
            f"machines fetch-host-key {name}` (after comparing the fingerprint with "
            "`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the builder)")


def _key_readable_by_others(f: _Failure) -> str | None:
    if not f.says("unprotected private key", "bad permissions"):
        return None
    m = re.search(r'Load key "([^"]+)": bad permissions', f.out)
    key = f.machine.ssh_key or (m.group(1) if m else "(the identity file)")
    return f"ssh ignores the identity file {key} (readable by others): run `chmod 600 {key}`"


def _connection_refused(f: _Failure) -> str | None:
    if not f.says("connection refused"):
        return None
    return (f"nothing accepts ssh connections at {f.machine.host} port {f.port} (connection "
            "refused): start sshd there, or fix the host name or port")


def _unknown_host(f: _Failure) -> str | None:
    if not f.says("could not resolve hostname", "name or service not known"):
        return None
    return f"the host name {f.machine.host} is unknown: check its spelling or DNS"


def _unreachable(f: _Failure) -> str | None:
    if not (f.says("timed out", "no route to host", "network is unreachable") or f.out == TIMED_OUT):
        return None
    return (f"{f.machine.host} port {f.port} cannot be reached within {f.timeout:.0f} s: is the "
            "machine on and on this network, and is a firewall in the way?")


def _login_refused(f: _Failure) -> str | None:
    if not f.says("permission denied"):
        return None
    problem = _identity_problem(f.machine)
    if problem:  # e.g. a passphrase: ssh in batch mode just says "Permission denied"
        return f"{f.machine.name} refused the login: {problem}"
    key = f" {f.machine.ssh_key}.pub" if f.machine.ssh_key else " (your public key)"
    return (f"{f.machine.name} refused the login of {f.who}: add{key} to ~{f.who}/.ssh/"
            "authorized_keys on the builder, and check the user name in the URI")


def _identity_problem(machine: Machine) -> str | None:
    """What is wrong with the machine's identity file (None: nothing found, or none given)."""
    if not machine.ssh_key:
        return None
    problems = [c.message for c in check_identity(machine, timeout=3.0) if not c.ok]
    return problems[0] if problems else None


def _no_nix_there(f: _Failure) -> str | None:
    if not (f.says("not found") and f.says("nix")):
        return None
    return (f"Nix is not installed on {f.machine.name}, or not on the PATH of non-interactive "
            "ssh sessions there: install Nix on the builder")


def _not_trusted(f: _Failure) -> str | None:
    if not f.says("trusted"):
        return None
    return (f"{f.machine.name} does not trust {f.who} (ssh-ng needs a trusted user): add it to "
            "trusted-users in the builder's nix.conf, or use ssh://")


# in this order: the first rule that recognises the output explains it
_RULES: tuple[Callable[[_Failure], str | None], ...] = (
    _host_key, _key_readable_by_others, _connection_refused, _unknown_host, _unreachable,
    _login_refused, _no_nix_there, _not_trusted)


def explain(machine: Machine, output: str, timeout: float) -> str:
    """Why ``machine`` cannot be used, from the ``output`` of ssh or Nix trying it (or
    :data:`TIMED_OUT`) within ``timeout`` seconds: a plain sentence with the fix."""
    failure = _Failure(machine, output, timeout)
    for rule in _RULES:
        why = rule(failure)
        if why is not None:
            return why
    tail = " | ".join(line for line in output.splitlines()[-3:] if line.strip())
    return f"Nix cannot use {machine.name} as a builder: {tail or 'no output'}"


_CANNOT_BUILD_ON = re.compile(r"cannot build on '(?P<uri>[^']+)': (?P<err>.*)", re.DOTALL)


def explain_no_builder(messages: Iterable[str]) -> str | None:
    """A plain reason for Nix's "unable to start any build" from the run's ``messages``
    (Nix's error and warning lines): which builder could not be used and why (None when
    the messages do not say)."""
    reasons: dict[str, str] = {}
    for text in messages:
        m = _CANNOT_BUILD_ON.search(text or "")
        if not m:
            continue
        try:
            machine = Machine(**parse_uri(m["uri"].split("?", 1)[0]))
        except MachinesError:
            continue
        machine = KNOWN_MACHINES.get(machine.name, machine)
        why = explain(machine, m["err"], 5).rstrip(".")
        reasons[machine.name] = why if machine.name in why else f"{machine.name}: {why}"
    if not reasons:
        return None
    parts = "; ".join(reasons.values())
    end = "" if parts.endswith("?") else "."
    return (f"no remote builder could take this point: {parts}{end} "
            "(`sweepgui machines check --file MACHINES` checks every builder)")


# what ssh and Nix say when a builder goes away in the middle of a build (not the model's fault)
_LOST = re.compile(r"closed by remote host|connection reset|broken pipe|unexpected end-of-file|"
                   r"connection closed|cannot connect to|lost connection|connection timed out",
                   re.IGNORECASE)


def lost_builder(machine: str, reason: str, log_tail: Iterable[str] = (),
                 last_message: str = "") -> bool:
    """Whether a failed remote build failed because its builder went away (so building the
    point again elsewhere can succeed), rather than because the model failed.

    ``machine`` is the builder Nix named ("" = built locally: never lost), ``reason`` Nix's
    failure message, ``log_tail`` the build's last log lines. ``last_message`` is Nix's
    message just before the failure: over a shared ssh connection the only trace of a lost
    builder is a bare "unexpected end-of-file" there. Messages about connecting to a builder
    ("cannot build on ...") concern other builds and do not count.
    """
    if not machine:
        return False
    texts = [reason, *log_tail]
    if last_message and not last_message.startswith("cannot build on"):
        texts.append(last_message)
    return any(_LOST.search(text or "") for text in texts)
