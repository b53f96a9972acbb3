"""Which store path holds a point's result, whatever grouping computed it.

A point's identity is the out path of its own derivation (``sweepgui-point-<name>``): a
function of its parameters, the model and the interpreter only. When the engine computes
points in groups (one derivation for several points, see sweep.nix ``mkBatch``), the
result of a point lives in an output of the group's derivation instead, whose path also
depends on the group. This index remembers ``point path -> result path`` for every point a
group computed successfully, so that a later sweep that is a subset, a superset or a
reordering of an earlier one finds each point again and recomputes nothing it has.

Trust: the index is this user's own file (``$XDG_CACHE_HOME/sweepgui/results-index.sqlite``,
folder 0700, file 0600, both owned by this user and writable by nobody else; anything else
is not read). An entry is used only while its result path is valid in the store, and only
results that passed the builder's checks are ever entered: a failure is never an entry. Losing
the file loses nothing but time (the points are computed again; the same groups are even
served by Nix's own cache).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import time
from collections.abc import Iterable
from pathlib import Path

_log = logging.getLogger(__name__)

FILENAME = "results-index.sqlite"
# SQLite's default limit of host parameters per statement is 999 on older builds
_CHUNK = 900


def index_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sweepgui" / FILENAME


def _private(path: Path, kind: int) -> bool:
    """``path`` is a ``kind`` (S_IFDIR/S_IFREG) of this user that no one else may write."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return (stat.S_IFMT(st.st_mode) == kind and st.st_uid == os.geteuid()
            and not st.st_mode & 0o022)


class ResultIndex:
    """``point path -> result path`` of points computed in groups (see the module doc).

    Writes are kept in memory and go to the file in one transaction (``flush``, also on
    ``close``); a file that cannot be used (not private, unreadable, locked for long) makes
    the index empty and silent: points are then computed again, never taken on trust.
    """

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else index_path()
        self._pending: dict[str, str] = {}
        self._db: sqlite3.Connection | None = None
        self._failed = False

    # -- the file --------------------------------------------------------------------------
    def _connect(self, create: bool) -> sqlite3.Connection | None:
        if self._db is not None or self._failed:
            return self._db
        folder = self.path.parent
        try:
            if create and not folder.exists():
                old = os.umask(0o077)
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                finally:
                    os.umask(old)
            if not folder.exists() or (not create and not self.path.exists()):
                return None
            if not _private(folder, stat.S_IFDIR):
                _log.warning("%s is not a private folder of this user: the result index "
                             "there is not used", folder)
                self._failed = True
                return None
            if self.path.exists() and not _private(self.path, stat.S_IFREG):
                _log.warning("%s is not a private file of this user: not used", self.path)
                self._failed = True
                return None
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            os.close(fd)
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None,
                                 check_same_thread=False)
            # the default rollback journal, not WAL: WAL needs shared memory that network
            # home folders (NFS) and some overlay file systems do not give
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS results (point TEXT PRIMARY KEY, "
                       "out TEXT NOT NULL, added REAL NOT NULL) WITHOUT ROWID")
        except (OSError, sqlite3.Error) as exc:
            _log.warning("result index %s not usable: %s", self.path, exc)
            self._failed = True
            return None
        self._db = db
        return db

    # -- use -------------------------------------------------------------------------------
    def lookup(self, points: Iterable[str]) -> dict[str, str]:
        """The recorded result path of each of ``points`` that has one (validity unchecked)."""
        wanted = list(dict.fromkeys(points))  # read once: ``points`` may be a generator
        found = {p: self._pending[p] for p in wanted if p in self._pending}
        keys = [p for p in wanted if p not in found]
        db = self._connect(create=False)
        if db is None or not keys:
            return found
        try:
            for i in range(0, len(keys), _CHUNK):
                part = keys[i:i + _CHUNK]
                marks = ",".join("?" * len(part))
                for point, out in db.execute(
                        f"SELECT point, out FROM results WHERE point IN ({marks})", part):
                    found[point] = out
        except sqlite3.Error as exc:
            _log.warning("result index %s not readable: %s", self.path, exc)
        return found

    def forget(self, points: Iterable[str]) -> None:
        """Drop the entries of ``points`` (their results are gone from the store: collected),
        so that the file holds what can still be reused, not every point ever computed."""
        keys = list(dict.fromkeys(points))
        for p in keys:
            self._pending.pop(p, None)
        db = self._connect(create=False)
        if db is None or not keys:
            return
        try:
            with db:
                db.execute("BEGIN IMMEDIATE")
                for i in range(0, len(keys), _CHUNK):
                    part = keys[i:i + _CHUNK]
                    db.execute(f"DELETE FROM results WHERE point IN ({','.join('?' * len(part))})",
                               part)
        except sqlite3.Error as exc:
            _log.warning("result index %s not written: %s", self.path, exc)

    def record(self, point: str, out: str) -> None:
        """Remember that ``out`` holds the (checked, successful) result of ``point``."""
        if point != out:
            self._pending[point] = out

    def flush(self) -> None:
        if not self._pending:
            return
        db = self._connect(create=True)
        if db is None:
            self._pending.clear()
            return
        now = time.time()
        try:
            with db:
                db.execute("BEGIN IMMEDIATE")
                db.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?)",
                               [(p, o, now) for p, o in self._pending.items()])
            self._pending.clear()
        except sqlite3.Error as exc:
            _log.warning("result index %s not written: %s", self.path, exc)

    def close(self) -> None:
        self.flush()
        if self._db is not None:
            self._db.close()
            self._db = None
