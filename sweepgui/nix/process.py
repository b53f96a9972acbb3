"""A Nix build process whose whole tree can be stopped, with its stderr as a line queue.

Nix starts every builder in a session of its own, so killing Nix's process group does not
reach the builders, and a SIGKILLed Nix leaves them running. Stopping therefore walks the
process tree (``/proc``) from Nix down, asks politely (SIGTERM: Nix then kills its builders
itself), and after a grace period SIGKILLs every process and process group it found.

A pid is only a name until its process is waited for; then the kernel may give it to any
new process. So nothing is ever signalled by a pid that may have been reused: Nix only
while this object has not waited for it, every other process through a pidfd taken while
it was still in Nix's tree (a pidfd names one process, never its successor), and a process
group only while its leader is one of those and not yet waited for.
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
from collections.abc import Iterator
from typing import IO


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


def _pdeathsig_prefix() -> list[str]:
    """util-linux's ``setpriv --pdeathsig``: Nix gets SIGTERM (and then stops its builders)
    when the thread that started it dies, even by SIGKILL, where no clean-up of ours runs.
    (A preexec_fn would do the same, but is unsafe in a process with threads: the GUI.)"""
    if not sys.platform.startswith("linux"):
        return []
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):  # gone already, or no pidfds (not Linux 5.3+)
        return None


def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return int(fh.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _send(pidfd: int, sig: int) -> bool:
    """Signal the one process ``pidfd`` names; False once it has been waited for."""
    try:
        signal.pidfd_send_signal(pidfd, sig)
        return True
    except ProcessLookupError:
        return False
    except OSError:
        return False


class NixProcess:
    """Run ``args`` in a new session; read stderr lines with ``lines()``."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self.proc = subprocess.Popen(
            [*_pdeathsig_prefix(), *args], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True)
        self._queue: queue.Queue[str | None] = queue.Queue()  # stderr lines, then None (EOF)
        self.stdout_lines: list[str] = []
        self._held: dict[int, int] = {}  # pid -> pidfd of each process found under Nix
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stderr, True), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stdout, False), daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _pump(self, stream: IO[bytes], to_queue: bool) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            if to_queue:
                self._queue.put(line)
            else:
                self.stdout_lines.append(line.strip())
        stream.close()
        if to_queue:
            self._queue.put(None)

    def lines(self, timeout: float = 0.1) -> Iterator[str | None]:
        """Yield stderr lines; yields None every ``timeout`` s without one; ends at EOF."""
        while True:
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                yield None
                continue
            if item is None:
                return
            yield item

    def wait(self) -> int:
        rc = self.proc.wait()
        for t in self._threads:
            t.join(timeout=5)
        return rc

    def _nix_unreaped(self) -> bool:
        """Nix has not been waited for: its pid (and group id) still name it alone. (Only
        this object waits for it; a zombie keeps its pid until then.)"""
        return self.proc.returncode is None and self.proc.poll() is None

    def _hold_tree(self) -> None:
        """Take a pidfd of every process now under Nix (or under one already held)."""
        if not os.path.isdir("/proc"):
            return
        kids = _children_map()
        roots = [pid for pid, fd in self._held.items() if _send(fd, 0)]
        if self._nix_unreaped():
            roots.append(self.proc.pid)
        todo = list(roots)
        while todo:
            parent = todo.pop()
            for child in kids.get(parent, []):
                if child in self._held:
                    continue
                fd = _pidfd(child)
                if fd is None:
                    continue
                if _ppid(child) != parent:  # gone and its pid reused meanwhile: not ours
                    os.close(fd)
                    continue
                self._held[child] = fd
                todo.append(child)

    def _signal(self, sig: int) -> None:
        groups = set()
        if self._nix_unreaped():
            groups.add(self.proc.pid)  # start_new_session: Nix leads its own group
            try:
                self.proc.send_signal(sig)
            except OSError:
                pass
        for pid, fd in self._held.items():
            if not _send(fd, sig):
                continue  # waited for by its parent: its pid may be another process now
            try:
                if os.getpgid(pid) == pid:  # a leader not yet waited for: its group is its own
                    groups.add(pid)
            except OSError:
                pass
        for g in groups:
            try:
                os.killpg(g, sig)
            except OSError:
                pass

    def _any_alive(self) -> bool:
        if self._nix_unreaped():
            return True
        return any(_send(fd, 0) and _alive(pid) for pid, fd in self._held.items())

    def stop(self, grace: float = 1.0) -> None:
        """Stop Nix and everything it started; returns once all of them are gone."""
        try:
            self._hold_tree()
            if not self._any_alive():
                return
            self._signal(signal.SIGTERM)
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                self._hold_tree()  # anything started meanwhile
                if not self._any_alive():
                    break
                time.sleep(0.05)
            # anything left (or started meanwhile): kill by process group and by process
            self._hold_tree()
            self._signal(signal.SIGKILL)
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        finally:
            for fd in self._held.values():
                os.close(fd)
            self._held.clear()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except OSError:
        return False
