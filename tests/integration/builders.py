"""Real Nix builder hosts on loopback, for tests: one sshd per address, each with its own store.

Each host is a real ``sshd`` listening on 127.0.0.N (own host key, own config) whose only
authorized key (the test client's, no passphrase, mode 600) is forced to run
``nix-store --serve --write --store local?root=<host dir>/store``. Builds sent there really run
in that store (a chroot store, which always sandboxes: ``sandbox-paths`` exposes /bin, /usr,
/lib, /etc, the Python interpreter, the virtual environment and the project) and their outputs
are copied back over ssh, as from any remote machine. Everything started here is stopped by
its process id.

``start(n, plain_uri=True)`` makes hosts whose URI has no port (``ssh://root@127.0.0.2``), as a
nix-daemon needs them: the daemon runs ssh as root with its own environment, and Nix before 2.31
reads no port in a URI. Such hosts listen on port 22 of their address (a free address is taken
when port 22 of one is busy); only when no address has port 22 free does a host get another
port, and then :meth:`BuilderHosts.daemon_env` gives the ``NIX_SSHOPTS=-F <ssh config>`` the
daemon needs to reach it.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
NIX_STORE = shutil.which("nix-store")
PROJECT = Path(__file__).resolve().parents[2]


def missing_tools() -> str | None:
    """Why builder hosts cannot run here (None: they can)."""
    for tool, path in (("sshd", SSHD), ("nix-store", NIX_STORE), ("ssh", shutil.which("ssh")),
                       ("ssh-keygen", shutil.which("ssh-keygen"))):
        if not path:
            return f"{tool} is not installed (bash resources/dev.sh test installs it)"
    return None


def _sandbox_paths() -> list[str]:
    paths = ["/bin", "/usr", "/lib", "/lib64", "/etc", sys.prefix, sys.base_prefix, str(PROJECT)]
    seen, out = set(), []
    for p in paths:
        real = os.path.realpath(p)
        for q in (p, real):
            if os.path.exists(q) and q not in seen:
                seen.add(q)
                out.append(q)
    return out


def _port_free(addr: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((addr, port))
            return True
        except OSError:
            return False


def _children(pid: int) -> list[int]:
    """All descendants of ``pid`` (by the parent ids in /proc), deepest last."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for c in parents.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _kill(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


@dataclass
class BuilderHost:
    """One running builder host. ``store_root`` is its store's root (outputs under nix/store)."""

    addr: str
    port: int
    dir: Path
    host_key_b64: str
    proc: subprocess.Popen | None = None
    user: str = field(default_factory=lambda: os.environ.get("USER") or
                      __import__("pwd").getpwuid(os.getuid()).pw_name)
    plain_uri: bool = False  # the URI names no port (port 22, or one given by an ssh config)

    @property
    def store_root(self) -> Path:
        return self.dir / "store"

    @property
    def uri(self) -> str:
        if self.plain_uri:
            return f"ssh://{self.user}@{self.addr}"
        return f"ssh://{self.user}@{self.addr}:{self.port}"

    def has_path(self, store_path: str) -> bool:
        """Whether ``/nix/store/...`` exists in this host's own store."""
        return (self.store_root / store_path.lstrip("/")).exists()

    def built_here(self) -> list[str]:
        d = self.store_root / "nix" / "store"
        return sorted(p.name for p in d.iterdir()) if d.exists() else []

    def line(self, key: Path, jobs: int = 2, host_key: str | None = "pinned", systems: str = "-") -> str:
        hk = self.host_key_b64 if host_key == "pinned" else (host_key or "-")
        return f"{self.uri} {systems} {key} {jobs} 1 - - {hk}"

    def serve_pids(self) -> list[int]:
        f = self.dir / "serve.pids"
        return [int(x) for x in f.read_text().split()] if f.exists() else []

    def kill(self) -> None:
        """Kill this host at once: its sshd, every session, every build running there."""
        if self.proc is None:
            return
        pids = [self.proc.pid] + _children(self.proc.pid)
        for p in self.serve_pids():
            pids += [p] + _children(p)
        _kill(pids)
        self.proc.wait(timeout=5)
        self.proc = None

    stop = kill


class BuilderHosts:
    """Start builder hosts (``start(n)``), write machines files, stop everything (``close``)."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root or tempfile.mkdtemp(prefix="sg-hosts-"))
        self.hosts: list[BuilderHost] = []
        self.client_key = self.root / "client_key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "sweepgui-test",
                        "-f", str(self.client_key)], check=True)
        os.chmod(self.client_key, 0o600)
        self._next = 2

    def start(self, n: int = 2, port: int = 2222, plain_uri: bool = False,
              bare: bool = False) -> list[BuilderHost]:
        """Start ``n`` hosts on 127.0.0.2, .3, ... (the next free addresses).

        ``plain_uri``: URIs without a port, for a nix-daemon (see the module doc): each host
        listens on port 22 of an address where it is free (``port`` is then only the fallback).
        """
        if os.geteuid() == 0 and not os.path.isdir("/run/sshd"):
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation dir
        started = []
        for _ in range(n):
            addr = f"127.0.0.{self._next}"
            self._next += 1
            if plain_uri and not _port_free(addr, 22):
                # port 22 busy there (another run's host): the next address with port 22 free,
                # else this address on another port (the daemon then needs daemon_env())
                for k in range(self._next, min(self._next + 32, 250)):
                    if _port_free(f"127.0.0.{k}", 22):
                        addr, self._next = f"127.0.0.{k}", k + 1
                        break
            p = 22 if plain_uri and _port_free(addr, 22) else port
            while not _port_free(addr, p):
                p += 1
            started.append(self._start_one(addr, p, plain_uri, bare))
        return started

    def ssh_config(self, path: Path | None = None) -> Path | None:
        """An ssh config giving the port-less hosts not on port 22 their port (None: none needed).

        ``HostKeyAlias`` keeps the pinned key of column 8 valid: Nix writes it under the bare
        address, while ssh looks up ``[addr]:port`` for a port other than 22.
        """
        blocks = [f"Host {h.addr}\n  HostName {h.addr}\n  Port {h.port}\n  HostKeyAlias {h.addr}\n"
                  for h in self.hosts if h.plain_uri and h.port != 22]
        if not blocks:
            return None
        path = path or self.root / "ssh_config"
        path.write_text("# builder hosts started by the test: their ports\n" + "".join(blocks))
        os.chmod(path, 0o644)
        return path

    def daemon_env(self) -> dict[str, str]:
        """Environment a nix-daemon needs to reach the port-less hosts (ssh runs inside it)."""
        config = self.ssh_config()
        return {"NIX_SSHOPTS": f"-F {config}"} if config else {}

    def _start_one(self, addr: str, port: int, plain_uri: bool = False,
                   bare: bool = False) -> BuilderHost:
        """``bare``: the host's builds see nothing but its store (no /bin, /usr, /lib, venv
        or project): a colleague's machine with Nix and nothing else."""
        d = self.root / addr
        (d / "store").mkdir(parents=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "host_key")],
                       check=True)
        pub = (d / "host_key.pub").read_text().split()
        host_key_b64 = base64.b64encode(f"{pub[0]} {pub[1]}\n".encode()).decode()
        nix_config = "\n".join([
            "sandbox-paths = " + ("" if bare else " ".join(_sandbox_paths())),
            "substituters =",
            "max-jobs = 4",
        ])
        serve = d / "serve.sh"
        serve.write_text(
            "#!/bin/sh\n"
            f"echo $$ >> '{d}/serve.pids'\n"
            f"NIX_CONFIG='{nix_config}'\nexport NIX_CONFIG\n"
            f"exec '{NIX_STORE}' --serve --write --store 'local?root={d}/store'\n")
        serve.chmod(0o755)
        key = self.client_key.with_suffix(".pub").read_text().strip()
        (d / "authorized_keys").write_text(f'command="{serve}",restrict {key}\n')
        (d / "sshd_config").write_text("\n".join([
            f"ListenAddress {addr}:{port}",
            f"HostKey {d}/host_key",
            f"PidFile {d}/sshd.pid",
            f"AuthorizedKeysFile {d}/authorized_keys",
            "StrictModes no",  # the temp folders are not owned the way sshd wants for ~/.ssh
            "UsePAM no",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "MaxStartups 200",  # Nix opens one connection per remote build
            "MaxSessions 50",
            "PrintMotd no",
            "LogLevel INFO",
            "",
        ]))
        log = open(d / "sshd.log", "wb")
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(d / "sshd_config")],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)
        log.close()
        host = BuilderHost(addr, port, d, host_key_b64, proc, plain_uri=plain_uri)
        self.hosts.append(host)
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"sshd on {addr}:{port} exited: {(d / 'sshd.log').read_text()}")
            try:
                socket.create_connection((addr, port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    host.kill()
                    raise RuntimeError(f"sshd on {addr}:{port} does not accept connections") from None
                time.sleep(0.02)
        return host

    def machines_file(self, hosts: list[BuilderHost] | None = None, path: Path | None = None,
                      jobs: int = 2, key: Path | None = None, extra: list[str] = ()) -> Path:
        path = path or self.root / "machines"
        lines = ["# builder hosts started by the test"]
        lines += [h.line(key or self.client_key, jobs) for h in (hosts or self.hosts)]
        path.write_text("\n".join([*lines, *extra]) + "\n")
        return path

    def close(self) -> None:
        for h in self.hosts:
            h.kill()
        # store folders are read-only (as in any Nix store): make them writable to delete them
        for dirpath, dirnames, _ in os.walk(self.root):
            for name in dirnames:
                p = os.path.join(dirpath, name)
                try:
                    if not os.path.islink(p):
                        os.chmod(p, stat.S_IRWXU)
                except OSError:
                    pass
        shutil.rmtree(self.root, ignore_errors=True)


class SilentHost:
    """A TCP listener that accepts connections and never says a word: a hung machine.

    ssh must give up on it by its timeouts (nothing may wait for it forever).
    """

    def __init__(self, addr: str = "127.0.0.250", port: int = 2222, banner: bytes = b""):
        import threading

        self.banner = banner  # sent first, then nothing (a sshd that stalls in the handshake)

        while not _port_free(addr, port):
            port += 1
        self.addr, self.port = addr, port
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((addr, port))
        self._sock.listen(64)
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            if self.banner:
                try:
                    conn.sendall(self.banner)
                except OSError:
                    pass

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() of the thread
        except OSError:
            pass
        self._sock.close()
        for c in self._conns:
            c.close()
        self._thread.join(timeout=2)
