"""Nix's ``--log-format internal-json`` log, line by line, into per-derivation events.

Lines look like ``@nix {"action": "start"|"stop"|"result"|"msg", ...}``. Build activities
(type 105) carry ``[drvPath, machine, round, nrRounds]``; a remote build shows up twice
(the outer one with the machine, an inner one with ""), so everything is keyed on the
derivation path. A ``stop`` has no success flag: failures come as ``msg`` lines, whose
wording changed in Nix 2.29 (``CANNOT_BUILD_MESSAGE`` in :mod:`sweepgui.nix.compat`); every
known form is matched, whatever the local version, after stripping ANSI colours. The parser
knows nothing of sweeps; the engine maps derivation paths to points.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass
from typing import Any

ACT_BUILD = 105
RES_BUILD_LOG_LINE = 101

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]+")
_DRV = r"(?P<drv>/[^'\s]+\.drv)"
# a build that ran out of its time (Nix's `timeout` option). Nix 2.8 names the output:
# "building of '/nix/store/…drv!out' from .drv file timed out after 2 seconds"
_TIMED_OUT = re.compile(r"timed out after (?P<seconds>\d+) seconds?\b(?! of silence)")
_FAILURES = [
    re.compile(rf"building of '{_DRV}(?:[!^][^']*)?'(?: from \.drv file)? "
               rf"(?P<reason>timed out after .*)"),
    # before Nix 2.29 (compat.CANNOT_BUILD_MESSAGE), local build
    re.compile(rf"builder for '{_DRV}' failed with exit code (?P<code>-?\d+)"),
    re.compile(rf"builder for '{_DRV}' failed due to signal (?P<signal>\d+)(?: \((?P<signame>[^)]*)\))?"),
    re.compile(rf"builder for '{_DRV}' (?P<reason>failed.*?)(?:;|$)"),
    # remote build (the build hook)
    re.compile(rf"build of '{_DRV}' on '(?P<machine>[^']*)' failed: (?P<reason>.*)"),
    # from Nix 2.29 (compat.CANNOT_BUILD_MESSAGE)
    re.compile(rf"Cannot build '{_DRV}'\.?\s*(?:Reason:\s*(?P<reason>.*))?"),
    re.compile(rf"building of '{_DRV}' (?P<reason>timed out.*)"),
    re.compile(rf"(?:derivation|build of) '{_DRV}' (?P<reason>may not be deterministic.*)"),
]
_EXIT_IN_REASON = re.compile(r"exit code (-?\d+)")
_DEPS_FAILED = [
    re.compile(rf"dependencies of derivation '{_DRV}' failed to build"),
    # from Nix 2.29 (compat.CANNOT_BUILD_MESSAGE): matched before the failures above
    re.compile(rf"Cannot build '{_DRV}'\.?\s*Reason:\s*\d+ dependenc(?:y|ies) failed"),
]


# Longest log line, message or reason kept (in the events and the manifest): a model that
# prints megabytes on one line must not make every event and manifest write as big.
MAX_LINE = 2_000


def clean(text: str) -> str:
    """Text without ANSI colours or control characters (tabs kept)."""
    return _CONTROL.sub("", _ANSI.sub("", text)).rstrip()


_CUT = re.compile(r" … \[[\d,]+ characters cut\]\Z")


def cap(text: str, limit: int = MAX_LINE) -> str:
    """``text`` cut to ``limit`` characters, with a marker saying how many were cut (a text
    cut already is left as it is)."""
    if len(text) <= limit:
        return text
    m = _CUT.search(text, limit)
    if m and m.start() == limit:
        return text
    return f"{text[:limit]} … [{len(text) - limit:,} characters cut]"


def clean_line(text: str, limit: int = MAX_LINE) -> str:
    """``cap(clean(text))``, without cleaning more of a huge line than is kept."""
    head = text[:4 * limit]
    out = clean(head)
    cut = len(text) - len(head)
    if len(out) > limit:
        cut += len(out) - limit
        out = out[:limit]
    return f"{out} … [{cut:,} characters cut]" if cut else out


def timeout_reason(reason: str) -> str | None:
    """"timed out after N s" if Nix's reason says a build ran out of time, else None."""
    m = _TIMED_OUT.search(reason)
    return f"timed out after {m.group('seconds')} s" if m else None


@dataclass(frozen=True)
class DrvStarted:
    drv: str
    machine: str


@dataclass(frozen=True)
class DrvLog:
    drv: str
    line: str


@dataclass(frozen=True)
class DrvStopped:
    drv: str


@dataclass(frozen=True)
class DrvFailed:
    drv: str
    exit_code: int | None
    reason: str
    machine: str


@dataclass(frozen=True)
class DependenciesFailed:
    drv: str


@dataclass(frozen=True)
class NixMessage:
    level: str  # "error" | "warning" | "info"
    text: str


Event = DrvStarted | DrvLog | DrvStopped | DrvFailed | DependenciesFailed | NixMessage
_Json = dict[str, Any]  # one decoded ``@nix`` line


class LogParser:
    """Feed stderr lines of a Nix build; get derivation events back.

    Keeps the last ``tail`` log lines of every derivation (``tail_of(drv)``).
    """

    def __init__(self, tail: int = 25):
        self._acts: dict[Any, str] = {}           # activity id (as Nix wrote it) -> drv
        self._open: dict[str, int] = {}           # drv -> open build activities
        self._machine: dict[str, str] = {}
        self._tails: dict[str, deque[str]] = {}
        self._tail = tail

    def machine_of(self, drv: str) -> str:
        return self._machine.get(drv, "")

    def tail_of(self, drv: str) -> list[str]:
        return list(self._tails.get(drv, ()))

    def feed(self, raw: str) -> list[Event]:
        raw = raw.rstrip("\n")
        if not raw.startswith("@nix "):
            text = clean_line(raw)
            if not text:
                return []
            level = "error" if text.startswith("error") else (
                "warning" if text.startswith("warning") else "info")
            return [NixMessage(level, text)]
        try:
            msg = json.loads(raw[5:])
        except ValueError:
            return [NixMessage("info", clean_line(raw))]
        if not isinstance(msg, dict):
            return [NixMessage("info", clean_line(raw))]
        action = msg.get("action")
        if action == "start":
            return self._start(msg)
        if action == "stop":
            return self._stop(msg)
        if action == "result":
            return self._result(msg)
        if action == "msg":
            return self._msg(msg)
        return []

    def _start(self, msg: _Json) -> list[Event]:
        if msg.get("type") != ACT_BUILD:
            return []
        fields = msg.get("fields") or []
        if not fields or not isinstance(fields[0], str):
            return []
        drv = fields[0]
        machine = fields[1] if len(fields) > 1 and isinstance(fields[1], str) else ""
        self._acts[msg.get("id")] = drv
        first = drv not in self._open or self._open[drv] == 0
        self._open[drv] = self._open.get(drv, 0) + 1
        if machine:
            self._machine[drv] = machine
        if first:
            self._tails.setdefault(drv, deque(maxlen=self._tail))
            return [DrvStarted(drv, machine or self._machine.get(drv, ""))]
        return []

    def _stop(self, msg: _Json) -> list[Event]:
        drv = self._acts.pop(msg.get("id"), None)
        if drv is None:
            return []
        self._open[drv] -= 1
        return [DrvStopped(drv)] if self._open[drv] == 0 else []

    def _result(self, msg: _Json) -> list[Event]:
        if msg.get("type") != RES_BUILD_LOG_LINE:
            return []
        drv = self._acts.get(msg.get("id"))
        fields = msg.get("fields") or []
        if drv is None or not fields or not isinstance(fields[0], str):
            return []
        line = clean_line(fields[0])
        if not line:
            return []
        self._tails.setdefault(drv, deque(maxlen=self._tail)).append(line)
        return [DrvLog(drv, line)]

    def _msg(self, msg: _Json) -> list[Event]:
        text = clean_line(str(msg.get("msg", "")), 8 * MAX_LINE)
        level = msg.get("level", 3)
        for deps in _DEPS_FAILED:
            m = deps.search(text)
            if m:
                return [DependenciesFailed(m.group("drv"))]
        for rx in _FAILURES:
            m = rx.search(text)
            if not m:
                continue
            d = m.groupdict()
            drv = d["drv"]
            reason = (d.get("reason") or "").strip()
            code = d.get("code")
            exit_code = int(code) if code is not None else None
            if exit_code is None and reason:
                m2 = _EXIT_IN_REASON.search(reason)
                exit_code = int(m2.group(1)) if m2 else None
            if d.get("signal"):
                name = f" ({d['signame']})" if d.get("signame") else ""
                reason = f"killed by signal {d['signal']}{name}"
            if not reason:
                reason = f"the build failed with exit code {exit_code}" if exit_code is not None else text
            reason = timeout_reason(reason) or reason.split("\n", 1)[0]
            machine = d.get("machine") or self._machine.get(drv, "")
            return [DrvFailed(drv, exit_code, cap(reason), machine)]
        if isinstance(level, int) and level <= 1 and text:
            return [NixMessage("error" if level == 0 else "warning",
                               cap(re.sub(r"^(error|warning):\s*", "", text)))]
        return []
