"""Multi-user Nix for tests: a real ``nix-daemon`` and real unprivileged users.

:class:`NixDaemon` starts ``nix-daemon`` as root with a configuration folder and a socket of
its own (``NIX_CONF_DIR``, ``NIX_DAEMON_SOCKET_PATH``); it shares the machine's ``/nix/store``
and ``/nix/var/nix`` (Nix locks them), builds as the ``nixbld`` build users, and leaves the
machine's own daemon (if any) alone. :class:`TestUser` creates a real user (``useradd``) and
runs commands as that user (``setpriv``) with a clean environment that points at a daemon,
as a user of a multi-user Nix install would. Both stop everything they started -- processes,
users, files -- even when a test fails.

Only root can do this, and only if another user can run the project's interpreter (a
virtual environment made from a Python under ``/root``, mode 700, cannot be run by anyone
else, nor by the build users): :func:`why_not_multiuser` says why not, the fixtures skip.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from sweepgui.nix.interpreter import blocking_folder

from .builders import _children

PROJECT = Path(__file__).resolve().parents[2]


def _find(name: str, *fallbacks: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for f in fallbacks:
        if os.access(f, os.X_OK):
            return f
    return None


NIX_DAEMON = _find("nix-daemon", "/usr/bin/nix-daemon",
                   "/nix/var/nix/profiles/default/bin/nix-daemon")
NIX_STORE = _find("nix-store", "/usr/bin/nix-store", "/nix/var/nix/profiles/default/bin/nix-store")
SETPRIV = _find("setpriv", "/usr/bin/setpriv")
USERADD = _find("useradd", "/usr/sbin/useradd")
USERDEL = _find("userdel", "/usr/sbin/userdel")
PKILL = _find("pkill", "/usr/bin/pkill")

BUILD_USERS_GROUP = "nixbld"
SOCKET_GROUP = "nix-users"  # Debian's nix-setup-systemd: who may reach the daemon's socket
NIX_STATE_DIR = Path(os.environ.get("NIX_STATE_DIR", "/nix/var/nix"))


# -- can this machine do it? ----------------------------------------------------------------

def _python_paths() -> list[str]:
    """What another user (and the build users) must reach to run this project's CLI."""
    import sysconfig

    paths = [sys.executable, sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"],
             str(PROJECT), str(PROJECT / "sweepgui" / "__init__.py"),
             str(PROJECT / "sweepgui" / "__main__.py")]
    nix_dir = PROJECT / "resources" / "nix"
    if nix_dir.is_dir():
        paths.append(str(nix_dir))
        paths += [str(f) for f in sorted(nix_dir.iterdir()) if f.is_file()]
    return paths


def why_not_multiuser() -> str | None:
    """Why multi-user tests cannot run here (None: they can)."""
    if os.geteuid() != 0:
        return "starts root-only services (a nix-daemon, users): run the tests as root"
    for tool, path in (("nix-daemon", NIX_DAEMON), ("nix-store", NIX_STORE),
                       ("setpriv", SETPRIV), ("useradd", USERADD), ("userdel", USERDEL),
                       ("pkill", PKILL)):
        if not path:
            return f"{tool} is not installed"
    try:
        members = grp.getgrnam(BUILD_USERS_GROUP).gr_mem
    except KeyError:
        return (f"no '{BUILD_USERS_GROUP}' group of build users: "
                "`apt-get install nix-setup-systemd` (bash resources/dev.sh test installs it)")
    if not members:
        return f"the group '{BUILD_USERS_GROUP}' has no build users"
    for path in _python_paths():
        if blocking_folder(path) is not None:  # the app's own rule for the build users
            return (f"other users cannot run this project's Python: {path} (resolved: "
                    f"{os.path.realpath(path)}) is not readable by them (a folder on the way "
                    "lacks o+x, e.g. a Python under /root): recreate .venv from /usr/bin/python3 "
                    "(`PYTHON=/usr/bin/python3 bash resources/dev.sh test`)")
    return None


# -- stopping process trees -------------------------------------------------------------------

def alive(pid: int) -> bool:
    """Whether ``pid`` runs (zombies do not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return False


def _signal(pids, sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def stop_tree(pid: int, grace: float = 2.0) -> None:
    """Stop ``pid`` and every process it started, wherever they went.

    SIGTERM first (Nix then kills its builders itself, and a daemon's workers stop their
    builds), then the stragglers are frozen (SIGSTOP) until the tree stops growing, and
    killed. Processes whose parent died are still found: each known process's descendants
    are searched again.
    """
    known = {pid, *_children(pid)}
    _signal(known, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        known |= {c for p in list(known) for c in _children(p)}
        if not any(alive(p) for p in known):
            return
        time.sleep(0.05)
    for _round in range(20):
        living = {p for p in known if alive(p)}
        _signal(living, signal.SIGSTOP)
        grown = {c for p in living for c in _children(p)} - known
        known |= grown
        if not grown:
            break
    _signal({p for p in known if alive(p)}, signal.SIGKILL)


def _uid_processes(uid: int) -> list[tuple[int, str]]:
    """Live processes running as ``uid`` (real uid), with their command lines."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            st = os.stat(f"/proc/{entry}")
            if st.st_uid != uid or not alive(int(entry)):
                continue
            cmd = open(f"/proc/{entry}/cmdline", "rb").read().replace(b"\0", b" ").decode(
                errors="replace").strip()
        except OSError:
            continue
        out.append((int(entry), cmd))
    return out


def build_user_uids() -> set[int]:
    """The uids of the build users (members of ``nixbld``)."""
    uids = set()
    try:
        names = grp.getgrnam(BUILD_USERS_GROUP).gr_mem
    except KeyError:
        return uids
    for n in names:
        try:
            uids.add(pwd.getpwnam(n).pw_uid)
        except KeyError:
            pass
    return uids


def parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return int(fh.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def build_user_processes(text: str = "") -> list[tuple[int, int, str]]:
    """Live processes of the build users (uid, pid, command line) mentioning ``text``."""
    uids = build_user_uids()
    out = []
    for uid in uids:
        out += [(uid, pid, cmd) for pid, cmd in _uid_processes(uid) if text in cmd]
    return out


# -- the daemon -------------------------------------------------------------------------------

def _conf_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return " ".join(map(str, value))
    return str(value)


class NixDaemon:
    """A real ``nix-daemon`` (root) with its own nix.conf and socket; shares /nix/store.

    Parameters
    ----------
    trusted_users : extra users (or ``@group``) trusted besides root
    builders : the daemon's ``builders`` setting ("" = none; e.g. ``@/path/machines``)
    max_jobs : the daemon's ``max-jobs``
    extra : more nix.conf lines, as written
    env : more environment for the daemon (e.g. ``NIX_SSHOPTS`` for its ssh to builders)
    socket_group : when given, the socket's folder is ``root:<group>`` mode 0750 (as Debian's
        ``/nix/var/nix/daemon-socket`` is for ``nix-users``): users outside it cannot connect.
        Default: mode 0755, anybody may connect (the daemon's ``allowed-users`` still applies).
    """

    def __init__(self, trusted_users=(), builders: str = "", max_jobs: int = 2, extra=(),
                 env: dict[str, str] | None = None, socket_group: str | None = None,
                 start: bool = True):
        if not NIX_DAEMON:
            raise RuntimeError("nix-daemon is not installed")
        self.dir = Path(tempfile.mkdtemp(prefix="sg-daemon-"))
        os.chmod(self.dir, 0o755)  # reachable, not writable, by the test users
        self.socket_dir = self.dir / "socket-dir"
        self.socket_dir.mkdir()
        if socket_group:
            os.chown(self.socket_dir, 0, grp.getgrnam(socket_group).gr_gid)
            os.chmod(self.socket_dir, 0o750)
        else:
            os.chmod(self.socket_dir, 0o755)
        self.socket = self.socket_dir / "socket"
        self.conf_file = self.dir / "nix.conf"
        self.log_file = self.dir / "daemon.log"
        self.env_extra = dict(env or {})
        self.settings: dict[str, object] = {
            "build-users-group": BUILD_USERS_GROUP,
            "sandbox": False,
            "substituters": "",
            "trusted-users": ["root", *trusted_users],
            "builders": builders,
            "max-jobs": max_jobs,
        }
        self.extra = list(extra)
        self.proc: subprocess.Popen | None = None
        self._write()
        if start:
            self.start()

    # configuration
    def conf_text(self) -> str:
        lines = ["# nix-daemon started by a sweepgui test"]
        lines += [f"{k} = {_conf_value(v)}".rstrip() for k, v in self.settings.items()]
        return "\n".join([*lines, *self.extra]) + "\n"

    def _write(self) -> None:
        tmp = self.conf_file.with_suffix(".tmp")
        tmp.write_text(self.conf_text())
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.conf_file)

    def set_conf(self, extra=None, env: dict[str, str] | None = None, **settings) -> None:
        """Change settings (``trusted_users=["root", "x"]``, ``builders="@f"``, ``max_jobs=0``;
        underscores stand for dashes), optionally the extra lines and the daemon's extra
        environment, then restart the daemon."""
        for k, v in settings.items():
            self.settings[k.replace("_", "-")] = v
        if extra is not None:
            self.extra = list(extra)
        if env is not None:
            self.env_extra = dict(env)
        self._write()
        self.restart()

    write_conf = set_conf

    def trust(self, *users: str) -> None:
        """Trust ``users`` (besides root) from now on (restarts the daemon)."""
        self.set_conf(trusted_users=["root", *users])

    def use_builders(self, lines, env: dict[str, str] | None = None) -> Path:
        """The daemon's own builders, as NixOS' ``nix.buildMachines`` gives them: ``lines``
        in ``<dir>/machines`` (root's, mode 0644, like /etc/nix/machines), ``builders =
        @<that file>``; restarts the daemon. Returns the file."""
        path = self.dir / "machines"
        path.write_text("\n".join(["# the daemon's builders", *lines]) + "\n")
        os.chmod(path, 0o644)
        self.set_conf(builders=f"@{path}", env=env)
        return path

    # environment
    def client_env(self) -> dict[str, str]:
        """What a client needs to use this daemon (on a real machine client and daemon share
        /etc/nix: here both read this daemon's nix.conf)."""
        return {"NIX_REMOTE": "daemon", "NIX_DAEMON_SOCKET_PATH": str(self.socket),
                "NIX_CONF_DIR": str(self.dir)}

    def root_env(self) -> dict[str, str]:
        """os.environ for a root client of this daemon (e.g. ``nix-store --gc`` through it)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("NIX_")}
        env.update(self.client_env())
        env["NIX_CONFIG"] = "substituters ="
        return env

    def _env(self) -> dict[str, str]:
        env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": "/root", "USER": "root", "LOGNAME": "root", "LANG": "C.UTF-8",
            "NIX_CONF_DIR": str(self.dir), "NIX_DAEMON_SOCKET_PATH": str(self.socket),
        }
        for k in ("NIX_STATE_DIR", "NIX_STORE_DIR"):  # the store the tests use, if moved
            if k in os.environ:
                env[k] = os.environ[k]
        env.update(self.env_extra)
        return env

    # life
    def start(self, timeout: float = 15.0) -> None:
        if self.proc is not None:
            return
        try:
            self.socket.unlink()
        except FileNotFoundError:
            pass
        log = open(self.log_file, "ab")
        self.proc = subprocess.Popen([NIX_DAEMON], env=self._env(), cwd="/",
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                text = self.log()
                self.proc = None
                raise RuntimeError(f"nix-daemon exited at once: {text[-2000:]}")
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.settimeout(1)
                    s.connect(str(self.socket))
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"nix-daemon does not accept connections on "
                                       f"{self.socket}: {self.log()[-2000:]}") from None
                time.sleep(0.02)

    def restart(self) -> None:
        self.stop(remove=False)
        self.start()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def processes(self) -> list[int]:
        """The daemon and every process it started (workers, ssh, builds), alive."""
        if self.proc is None:
            return []
        return [p for p in [self.proc.pid, *_children(self.proc.pid)] if alive(p)]

    def log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, remove: bool = True) -> None:
        """Stop the daemon and everything it started; with ``remove`` also its folder."""
        if self.proc is not None:
            stop_tree(self.proc.pid)
            try:  # its process group too (the daemon is unreaped until wait: no pid reuse)
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
        try:
            self.socket.unlink()
        except FileNotFoundError:
            pass
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)

    close = stop

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# -- users ------------------------------------------------------------------------------------

class TestUser:
    """A real unprivileged user (``useradd``), and commands run as that user.

    The home is ``<temp root-owned 0755 folder>/<name>``, mode 0700 (as on many
    distributions). ``daemon`` (settable) is the nix-daemon the user's commands talk to.
    """

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, daemon: NixDaemon | None = None, groups=(), name: str | None = None):
        self.name = name or "sgu" + secrets.token_hex(3)
        self.daemon = daemon
        self.base = Path(tempfile.mkdtemp(prefix="sg-users-"))
        os.chmod(self.base, 0o755)
        self.home = self.base / self.name
        self._created = False
        self._auto_before = self._auto_entries()
        groups = [g for g in groups if g]
        cmd = [USERADD, "--create-home", "--home-dir", str(self.home), "--shell", "/bin/sh",
               "--user-group", "--comment", "sweepgui test user"]
        if groups:
            cmd += ["--groups", ",".join(groups)]
        p = subprocess.run([*cmd, self.name], capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            shutil.rmtree(self.base, ignore_errors=True)
            raise RuntimeError(f"useradd {self.name} failed: {p.stderr.strip()}")
        self._created = True
        pw = pwd.getpwnam(self.name)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        os.chmod(self.home, 0o700)

    # environment and commands
    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {
            "HOME": str(self.home), "USER": self.name, "LOGNAME": self.name,
            "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "SHELL": "/bin/sh",
            "QT_QPA_PLATFORM": "offscreen", "NIX_CONFIG": "substituters =",
        }
        for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[k] = "1"
        if self.daemon is not None:
            env.update(self.daemon.client_env())
        env.update(extra or {})
        return env

    def _argv(self, args) -> list[str]:
        return [SETPRIV, f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups", "--",
                *map(str, args)]

    def run(self, args, env: dict[str, str] | None = None, cwd=None, timeout: float = 120,
            input: str | None = None) -> subprocess.CompletedProcess:
        """Run ``args`` as this user; stdout and stderr as text. A command still running at
        ``timeout`` is killed with all its processes and fails the test."""
        p = self.popen(args, env=env, cwd=cwd,
                       stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL)
        try:
            out, err = p.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_tree(p.pid, grace=1.0)
            out, err = p.communicate()
            raise AssertionError(f"{' '.join(map(str, args))} (as {self.name}) still ran after "
                                 f"{timeout} s; stderr: {err[-3000:]}") from None
        return subprocess.CompletedProcess(list(args), p.returncode, out, err)

    def popen(self, args, env: dict[str, str] | None = None, cwd=None,
              stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
              **kw) -> subprocess.Popen:
        """Start ``args`` as this user (text streams); the caller waits for it."""
        return subprocess.Popen(self._argv(args), env=self.env(env), cwd=str(cwd or self.home),
                                stdin=stdin, stdout=stdout, stderr=stderr, text=True, **kw)

    # files
    def path(self, rel: str | os.PathLike) -> Path:
        p = Path(rel)
        return p if p.is_absolute() else self.home / p

    def chown(self, path: str | os.PathLike) -> None:
        """Make ``path`` (recursively) the user's."""
        path = Path(path)
        os.lchown(path, self.uid, self.gid)
        if path.is_dir() and not path.is_symlink():
            for dirpath, dirnames, filenames in os.walk(path):
                for n in dirnames + filenames:
                    os.lchown(os.path.join(dirpath, n), self.uid, self.gid)

    def mkdir(self, rel: str | os.PathLike, mode: int = 0o755) -> Path:
        """A folder of the user's (parents inside the home too)."""
        p = self.path(rel)
        todo = []
        q = p
        while not q.exists():
            todo.append(q)
            q = q.parent
        for d in reversed(todo):
            d.mkdir(mode=mode)
            os.chmod(d, mode)
            os.chown(d, self.uid, self.gid)
        return p

    def write(self, rel: str | os.PathLike, text: str, mode: int = 0o644) -> Path:
        """A file of the user's with ``text``."""
        p = self.path(rel)
        self.mkdir(p.parent)
        p.write_text(text, encoding="utf-8")
        os.chmod(p, mode)
        os.chown(p, self.uid, self.gid)
        return p

    def copy(self, src: str | os.PathLike, rel: str | os.PathLike, mode: int | None = None) -> Path:
        """Copy a file or folder into the home, owned by the user."""
        src, dst = Path(src), self.path(rel)
        self.mkdir(dst.parent)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)
            if mode is not None:
                os.chmod(dst, mode)
        self.chown(dst)
        return dst

    def processes(self) -> list[tuple[int, str]]:
        """The user's live processes (pid, command line)."""
        return _uid_processes(self.uid) if self._created else []

    # clean-up
    @staticmethod
    def _auto_entries() -> set[str]:
        try:
            return set(os.listdir(NIX_STATE_DIR / "gcroots" / "auto"))
        except OSError:
            return set()

    def _kill_all(self) -> None:
        for _ in range(50):
            if not self.processes():
                return
            subprocess.run([PKILL, "-KILL", "-U", str(self.uid)], capture_output=True, timeout=10)
            subprocess.run([PKILL, "-KILL", "-u", str(self.uid)], capture_output=True, timeout=10)
            time.sleep(0.05)

    def _forget_in_nix(self) -> None:
        """What the daemon made for this user: per-user folders, indirect roots into the home
        (dangling once it is gone) and those of nix-build's temporary result links."""
        for sub in ("gcroots/per-user", "profiles/per-user"):
            d = NIX_STATE_DIR / sub / self.name
            if d.is_dir() and not d.is_symlink():
                shutil.rmtree(d, ignore_errors=True)
        auto = NIX_STATE_DIR / "gcroots" / "auto"
        try:
            entries = set(os.listdir(auto)) - self._auto_before
        except OSError:
            return
        home = str(self.home) + "/"
        for e in entries:
            link = auto / e
            try:
                target = os.readlink(link)
            except OSError:
                continue
            dangling_tmp = (re.match(r"/tmp/nix-build-\d+-\d+/", target) is not None
                            and not os.path.lexists(target))
            if target.startswith(home) or dangling_tmp:
                try:
                    link.unlink()
                except OSError:
                    pass

    def _remove_tmp_files(self) -> None:
        for folder in ("/tmp", "/var/tmp", "/dev/shm"):
            try:
                entries = os.listdir(folder)
            except OSError:
                continue
            for e in entries:
                p = os.path.join(folder, e)
                try:
                    if os.lstat(p).st_uid != self.uid:
                        continue
                    if os.path.isdir(p) and not os.path.islink(p):
                        shutil.rmtree(p, ignore_errors=True)
                    else:
                        os.unlink(p)
                except OSError:
                    pass

    def close(self) -> None:
        """Kill every process of the user, delete the user, its home and its files."""
        if self._created:
            self._kill_all()
            self._forget_in_nix()
            self._remove_tmp_files()
            subprocess.run([USERDEL, "--remove", "--force", self.name], capture_output=True,
                           timeout=30)
            try:  # a group of the same name that userdel kept (USERGROUPS_ENAB no)
                grp.getgrnam(self.name)
                subprocess.run(["groupdel", self.name], capture_output=True, timeout=30)
            except KeyError:
                pass
            self._created = False
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


class TempGroup:
    """A system group for the test (e.g. for ``trusted-users = @group``); ``close`` deletes it."""

    def __init__(self, prefix: str = "sgg"):
        self.name = prefix + secrets.token_hex(3)
        subprocess.run(["groupadd", "--system", self.name], check=True, capture_output=True,
                       timeout=30)

    def close(self) -> None:
        subprocess.run(["groupdel", self.name], capture_output=True, timeout=30)


def share_portable_python(user: TestUser) -> None:
    """Tell ``user`` of the portable Python this test run already made (the same
    environment: the same store path), so that each new user does not make it again (about
    15 s each). What a user's own cache names is trusted only because it is the user's."""
    from sweepgui.nix.portable import _cache_dir, ensure_portable

    ensure_portable()
    for f in _cache_dir().glob("*.json"):
        user.copy(f, f".cache/sweepgui/portable/{f.name}", mode=0o644)


# -- fixtures (imported by conftest.py) -------------------------------------------------------

@pytest.fixture(scope="session")
def multiuser_ready():
    """Skips when this machine cannot run multi-user tests (see :func:`why_not_multiuser`)."""
    why = why_not_multiuser()
    if why:
        pytest.skip(why)


@pytest.fixture(scope="module")
def nix_daemon(multiuser_ready):
    """One nix-daemon for a test module: trusts only root, no builders, max-jobs 2."""
    d = NixDaemon()
    try:
        yield d
    finally:
        d.stop()


@pytest.fixture
def nix_daemons(multiuser_ready):
    """A factory of more daemons for one test: ``nix_daemons(trusted_users=[...], ...)``."""
    started: list[NixDaemon] = []

    def make(**kw) -> NixDaemon:
        d = NixDaemon(**kw)
        started.append(d)
        return d

    try:
        yield make
    finally:
        for d in started:
            d.stop()


@pytest.fixture
def test_users(multiuser_ready, request):
    """A factory of users: ``test_users(daemon=d, groups=[...])``; by default in ``nix-users``
    (when that group exists) and talking to the module's ``nix_daemon``."""
    made: list[TestUser] = []

    def make(daemon: NixDaemon | None = None, groups=None, in_nix_users: bool = True,
             share_portable: bool = True) -> TestUser:
        if daemon is None:
            daemon = request.getfixturevalue("nix_daemon")
        gs = list(groups or [])
        if in_nix_users and group_exists(SOCKET_GROUP):
            gs.append(SOCKET_GROUP)
        u = TestUser(daemon=daemon, groups=gs)
        made.append(u)
        if share_portable:
            share_portable_python(u)
        return u

    try:
        yield make
    finally:
        for u in made:
            u.close()


@pytest.fixture
def test_user(test_users):
    """A real unprivileged user of the module's ``nix_daemon`` (in ``nix-users`` if it exists)."""
    return test_users()
