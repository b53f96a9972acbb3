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

Roots are added, never silently dropped: the engine removes none (a link is only replaced
by its own point's new output, in the sweep's own state folder), and at the end of a run
every result's link is checked and the missing ones added again (``RootAdder.ensure``);
what still has no root is a failure of the run, not a warning.
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
    folder = link.parent
    if not folder.is_dir():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise NixError(f"{folder} is not a folder (a file is in its way)") from None
        except OSError as exc:
            raise NixError(f"{folder}: cannot make the folder: {exc.strerror or exc}") from None
    if not os.path.exists(out_path):
        raise NixError(f"{out_path} does not exist")
    auto = _auto_dir()
    if auto is not None:
        try:
            _register_directly(auto, link, out_path)
        except OSError as exc:
            raise NixError(f"{exc.filename or link}: {exc.strerror or exc}") from None
        return
    run_nix([nix_command("nix-store"), "--realise", out_path, "--add-root", str(link),
             "--indirect"], env=nix_env(), what=f"adding the GC root {link}")


class RootAdder:
    """Adds roots (in the background where each costs a nix-store call).

    Every root asked for is remembered: ``ensure()`` waits for the pending ones, checks that
    each link exists and points at its output (a state folder deleted or moved during the
    run loses its links), adds the missing ones again in one batch and returns those still
    missing with the reason. ``close()`` (idempotent) waits for every thread: none outlives
    the run, whichever way it ends.
    """

    def __init__(self, workers: int = 2):
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._futures: list[tuple[Path, Future[None]]] = []
        self._direct = _auto_dir() is not None
        self._errors: dict[Path, str] = {}
        self.wanted: dict[Path, str] = {}  # link -> out path

    def add(self, link: Path, out_path: str) -> None:
        self.wanted[Path(link)] = out_path
        self._submit(Path(link), out_path)

    def forget(self, link: Path) -> None:
        """A root no longer wanted (its point turned out not to be a result)."""
        self.wanted.pop(Path(link), None)

    def _submit(self, link: Path, out_path: str) -> None:
        if has_root(link, out_path):
            return
        if self._direct:
            try:
                add_root(link, out_path)
            except (NixError, OSError) as exc:
                self._errors[link] = str(exc)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self._workers,
                                            thread_name_prefix="gcroot")
        self._futures.append((link, self._pool.submit(add_root, link, out_path)))

    def wait(self) -> dict[Path, str]:
        """Wait for the roots under way; returns their errors (link -> message)."""
        errors, self._errors = self._errors, {}
        futures, self._futures = self._futures, []
        for link, fut in futures:
            try:
                fut.result()
            except (NixError, OSError) as exc:
                errors[link] = str(exc)
        return errors

    def ensure(self) -> tuple[list[Path], str]:
        """Every wanted root in place: (links still missing, why) after one more try."""
        errors = self.wait()
        missing = [link for link, out in self.wanted.items() if not has_root(link, out)]
        if missing:
            for link in missing:  # one batch: direct symlinks, or nix-store calls in parallel
                self._submit(link, self.wanted[link])
            errors.update(self.wait())
            missing = [link for link in missing if not has_root(link, self.wanted[link])]
        why = ""
        for link in missing:
            why = errors.get(link, "")
            if why:
                break
        if missing and not why:
            why = f"{missing[0]} was not made"
        return missing, why

    def close(self) -> dict[Path, str]:
        """Wait for every root under way and end the threads; returns the errors."""
        errors = self.wait()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        return errors
