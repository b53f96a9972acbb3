"""GC roots for finished points: ``<state_dir>/gcroots/<index>-<name>`` -> the out path.

Nix adds no root at all when any build of a ``nix-build`` fails, so the engine roots each
finished point itself, as an indirect root: ``nix-collect-garbage`` keeps the point until
the link is deleted.

``nix-store --realise OUT --add-root LINK --indirect`` names the roots of one call LINK,
LINK-2, ..., so it cannot batch roots with names of their own, and each call costs ~20 ms
of CPU, as much as the built-in model needs for a point. Where this process may write the
store's ``gcroots/auto`` folder itself (root, or a single-user install: no daemon), it does
what that command does -- LINK -> OUT, and ``auto/<hash of LINK>`` -> LINK, the documented
layout of indirect roots -- in two symlink calls. Otherwise (a daemon) it calls nix-store,
on a background thread pool while the build goes on. A point's output is protected by the
building nix-build's temporary root until then.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ._nixcmd import NixError, nix_command, nix_env, run_nix


def root_link(state_dir: Path, index: int, name: str) -> Path:
    return Path(state_dir) / "gcroots" / f"{index}-{name}"


def has_root(link: Path, out_path: str) -> bool:
    try:
        return os.readlink(link) == out_path
    except OSError:
        return False


def _auto_dir() -> Path | None:
    """The store's ``gcroots/auto`` if this process may register roots there directly."""
    if os.environ.get("NIX_REMOTE", "") not in ("", "local") or os.environ.get("NIX_STORE_DIR"):
        return None
    state = Path(os.environ.get("NIX_STATE_DIR", "/nix/var/nix"))
    auto = state / "gcroots" / "auto"
    if (state / "daemon-socket" / "socket").exists() and os.environ.get("NIX_REMOTE") != "local":
        return None  # a daemon owns the store: ask it (through nix-store)
    return auto if os.access(auto, os.W_OK | os.X_OK) else None


def _register_directly(auto: Path, link: Path, out_path: str) -> None:
    link = Path(os.path.abspath(link))
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    os.symlink(out_path, tmp)
    os.replace(tmp, link)
    entry = auto / hashlib.sha1(str(link).encode()).hexdigest()
    try:
        os.symlink(link, entry)
    except FileExistsError:
        if os.readlink(entry) != str(link):
            tmp_entry = auto / f".{entry.name}.{os.getpid()}.tmp"
            os.symlink(link, tmp_entry)
            os.replace(tmp_entry, entry)


def add_root(link: Path, out_path: str) -> None:
    """Root ``out_path`` at ``link`` (replacing a link to anything else). Raises NixError."""
    if has_root(link, out_path):
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    if not os.path.exists(out_path):
        raise NixError(f"{out_path} does not exist")
    auto = _auto_dir()
    if auto is not None:
        _register_directly(auto, link, out_path)
        return
    run_nix([nix_command("nix-store"), "--realise", out_path, "--add-root", str(link),
             "--indirect"], env=nix_env(), what=f"adding the GC root {link}")


class RootAdder:
    """Adds roots in the background; ``wait()`` returns the errors (link, message)."""

    def __init__(self, workers: int = 2):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gcroot")
        self._futures: list[tuple[Path, Future]] = []
        self._direct = _auto_dir() is not None
        self._errors: list[tuple[Path, str]] = []

    def add(self, link: Path, out_path: str) -> None:
        if has_root(link, out_path):
            return
        if self._direct:
            try:
                add_root(link, out_path)
            except (NixError, OSError) as exc:
                self._errors.append((link, str(exc)))
            return
        self._futures.append((link, self._pool.submit(add_root, link, out_path)))

    def wait(self) -> list[tuple[Path, str]]:
        errors, self._errors = self._errors, []
        for link, fut in self._futures:
            try:
                fut.result()
            except (NixError, OSError) as exc:
                errors.append((link, str(exc)))
        self._futures.clear()
        self._pool.shutdown(wait=True)
        return errors


def prune_roots(state_dir: Path, keep: set[str]) -> None:
    """Remove this sweep's links whose file name is not in ``keep`` (points no longer in it)."""
    folder = Path(state_dir) / "gcroots"
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if entry.name not in keep and entry.is_symlink():
            try:
                entry.unlink()
            except OSError:
                pass
