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


def _mode_for(path: Path, mode: int | None) -> int:
    if mode is not None:
        return mode
    try:  # rewriting a file keeps its permissions
        return os.stat(path).st_mode & 0o7777
    except OSError:  # a new file: as readable as the umask allows (mkstemp alone gives 0600)
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


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
