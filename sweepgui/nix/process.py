"""A Nix build process whose whole tree can be stopped, with its stderr as a line queue.

Nix starts every builder in a session of its own, so killing Nix's process group does not
reach the builders, and a SIGKILLed Nix leaves them running. Stopping therefore walks the
process tree (``/proc``) from Nix down, asks politely (SIGTERM: Nix then kills its builders
itself), and after a grace period SIGKILLs every process group it found.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time

_EOF = object()


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
        except OSError:
            continue
        # the command name (field 2) may hold spaces and parentheses: split after it
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def descendants(pid: int) -> list[int]:
    """All live descendants of ``pid`` (Linux /proc; empty elsewhere)."""
    if not os.path.isdir("/proc"):
        return []
    kids = _children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def _signal_all(pids: list[int], sig: int) -> None:
    groups = set()
    for p in pids:
        try:
            groups.add(os.getpgid(p))
        except OSError:
            pass
    for g in groups:
        try:
            os.killpg(g, sig)
        except OSError:
            pass
    for p in pids:
        try:
            os.kill(p, sig)
        except OSError:
            pass


def _pdeathsig_prefix() -> list[str]:
    """util-linux's ``setpriv --pdeathsig``: Nix gets SIGTERM (and then stops its builders)
    when the thread that started it dies, even by SIGKILL, where no clean-up of ours runs.
    (A preexec_fn would do the same, but is unsafe in a process with threads: the GUI.)"""
    if not sys.platform.startswith("linux"):
        return []
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


class NixProcess:
    """Run ``args`` in a new session; read stderr lines with ``lines()``."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self.proc = subprocess.Popen(
            [*_pdeathsig_prefix(), *args], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True)
        self._queue: queue.Queue = queue.Queue()
        self.stdout_lines: list[str] = []
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stderr, True), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stdout, False), daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _pump(self, stream, to_queue: bool) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            if to_queue:
                self._queue.put(line)
            else:
                self.stdout_lines.append(line.strip())
        stream.close()
        if to_queue:
            self._queue.put(_EOF)

    def lines(self, timeout: float = 0.1):
        """Yield stderr lines; yields None every ``timeout`` s without one; ends at EOF."""
        while True:
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                yield None
                continue
            if item is _EOF:
                return
            yield item

    def wait(self) -> int:
        rc = self.proc.wait()
        for t in self._threads:
            t.join(timeout=5)
        return rc

    def stop(self, grace: float = 1.0) -> None:
        """Stop Nix and everything it started; returns once all of them are gone."""
        pid = self.proc.pid
        if self.proc.poll() is not None and not descendants(pid):
            return
        tree = [pid] + descendants(pid)
        _signal_all(tree, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if self.proc.poll() is not None and not any(_alive(p) for p in tree):
                break
            time.sleep(0.05)
        # anything left (or started meanwhile): kill by process group and by pid
        tree = list(dict.fromkeys(tree + descendants(pid)))
        _signal_all([p for p in tree if _alive(p)], signal.SIGKILL)
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except OSError:
        return False
