"""GC roots for finished points: ``<state_dir>/gcroots/<index>-<name>`` -> the out path.

Nix adds no root at all when any build of a ``nix-build`` fails, so the engine roots each
finished point itself, as an indirect root (``nix-store --realise OUT --add-root LINK
--indirect``): ``nix-collect-garbage`` then keeps it until the link is deleted.
``nix-store`` names several roots of one call LINK, LINK-2, ..., so one call per point;
the calls run on a background thread pool while the build goes on.
"""

from __future__ import annotations

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


def add_root(link: Path, out_path: str) -> None:
    """Root ``out_path`` at ``link`` (replacing a link to anything else). Raises NixError."""
    if has_root(link, out_path):
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    run_nix([nix_command("nix-store"), "--realise", out_path, "--add-root", str(link),
             "--indirect"], env=nix_env(), what=f"adding the GC root {link}")


class RootAdder:
    """Adds roots in the background; ``wait()`` returns the errors (link, message)."""

    def __init__(self, workers: int = 2):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gcroot")
        self._futures: list[tuple[Path, Future]] = []

    def add(self, link: Path, out_path: str) -> None:
        if has_root(link, out_path):
            return
        self._futures.append((link, self._pool.submit(add_root, link, out_path)))

    def wait(self) -> list[tuple[Path, str]]:
        errors = []
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
