"""The main window's helpers: its settings store and the environment probe."""

from __future__ import annotations

import traceback
from typing import Any

from PySide6.QtCore import QObject, QSettings, Signal

from sweepgui.nix import detect_interpreter, detect_nix
from sweepgui.nix.setup import detect_setup
from sweepgui.ui.background import BackgroundCall
from sweepgui.ui.nix_status import setup_tooltip

ORGANIZATION = "sweepgui"
APPLICATION = "sweepgui"


def make_settings() -> QSettings:
    """The app's settings (INI under the user's config folder; tests redirect the folder)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _nix_version_texts() -> dict[str, str]:
    """The Nix version alone (when the set-up could not be detected)."""
    try:
        nix = detect_nix()
        return {"nix": f"Nix {nix.version}" if nix.ok else "Nix: not usable", "nix_tip": nix.message}
    except Exception as exc:  # Nix missing or broken: the status bar says so
        return {"nix": "Nix: unknown", "nix_tip": _short(exc)}


def probe_environment(refresh: bool = False) -> dict[str, Any]:
    """The Nix set-up and the interpreter mode as status-bar texts (runs subprocesses: not on
    the GUI thread). ``info["setup"]`` is the NixSetup (absent if it could not be detected);
    ``refresh`` asks Nix again instead of using the cached set-up."""
    info: dict[str, Any] = {}
    try:
        setup = detect_setup(refresh=refresh)
        info.update(setup=setup, nix=setup.summary(), nix_tip=setup_tooltip(setup))
    except Exception as exc:  # the machine's Nix, not the app: said in the status bar
        info.update(_nix_version_texts())
        info["nix_tip"] = f"{info['nix_tip']}\nthe Nix set-up is unknown: {_short(exc)}".strip()
    try:
        interp = detect_interpreter()
        info["interpreter"] = f"interpreter: {interp.mode}"
        info["interpreter_tip"] = f"{interp.description}\n{interp.python}"
    except Exception as exc:
        info["interpreter"] = "interpreter: unknown"
        info["interpreter_tip"] = _short(exc) + "\n" + traceback.format_exc(limit=1)
    return info


class EnvironmentProbe(QObject):
    """Runs :func:`probe_environment` off the GUI thread; ``ready(dict)`` arrives on the GUI thread.

    A probe asked for while one runs (e.g. the system's machines changed) runs after it, and
    only its result is reported. After :meth:`stop` nothing more is reported.
    """

    ready = Signal(dict)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._stopped = False
        self._call = BackgroundCall(self, name="sweepgui-env-probe")
        self._call.done.connect(self._on_done)

    def start(self, refresh: bool = False) -> None:
        """Probe (again); ``refresh``: ask Nix again, e.g. after the system's machines changed."""
        if not self._stopped:
            self._call.start_latest(lambda: probe_environment(refresh))

    def is_running(self) -> bool:
        return self._call.is_running()

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Report nothing more and wait (bounded) for a probe under way (closing the window:
        two short subprocesses); True when none is left."""
        self._stopped = True
        return self._call.wait(timeout_s)

    def _on_done(self, info: dict[str, Any] | None, error: BaseException | None) -> None:
        if error is not None:  # probe_environment catches what the machine can cause: a bug
            raise error
        if not self._stopped:
            self.ready.emit(info)
