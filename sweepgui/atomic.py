"""Atomic file writes: a temp file in the target's folder, then ``os.replace``.

A crash or an error never leaves a half-written file, and the old file stays intact
until the new one is complete. Stdlib only: the model (copied alone into the Nix store)
writes its results with it too.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


def _umask_from_proc() -> int | None:
    """The process's umask as Linux shows it (``Umask:`` of /proc/self/status, Linux 4.7+)."""
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _umask_at_import() -> int:
    # Only where /proc cannot tell: os.umask() can only be read by setting it, which for a
    # moment changes it for every thread (a file another thread creates then gets mode
    # 0666, and a second reader would "restore" 0). Done once, while the module is
    # imported, never from the threads that write files.
    umask = _umask_from_proc()
    if umask is None:
        umask = os.umask(0o077)
        os.umask(umask)
    return umask


_UMASK = _umask_at_import()


def current_umask() -> int:
    """The process's umask, read without changing it (the one at import where /proc
    cannot tell)."""
    umask = _umask_from_proc()
    return _UMASK if umask is None else umask


def _mode_for(path: Path, mode: int | None) -> int:
    if mode is not None:
        return mode
    try:  # rewriting a file keeps its permissions
        return os.stat(path).st_mode & 0o7777
    except OSError:  # a new file: as readable as the umask allows (mkstemp alone gives 0600)
        return 0o666 & ~current_umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` when the block succeeds.

    ``mode``: permissions of the result (default: those of the file it replaces, else
    0666 less the umask).
    On an exception the temporary file is removed and ``path`` is untouched.
    """
    import tempfile  # lazily: the model's start-up pays for every import

    path = Path(path)
    final_mode = _mode_for(path, mode)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, final_mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write(path: str | os.PathLike[str], data: str | bytes, mode: int | None = None,
                 fsync: bool = False) -> None:
    """Write ``data`` (str as UTF-8) to ``path`` atomically; ``fsync`` for crash safety."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_path(path, mode) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(raw)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
