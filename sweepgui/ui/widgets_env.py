"""The main window's helpers: its settings store, the environment probe, and the optional parts.

The run panel and the machines editor come from other modules; while one is missing (or
fails to import) the window shows why in its place instead of failing to start.
"""

from __future__ import annotations

import threading
import traceback

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QWidget

ORGANIZATION = "sweepgui"
APPLICATION = "sweepgui"


def make_settings() -> QSettings:
    """The app's settings (INI under the user's config folder; tests redirect the folder)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def load_run_panel() -> tuple[QWidget | None, str]:
    """(RunPanel(), "") or (None, why it is not available)."""
    try:
        from .run_panel import RunPanel
    except ImportError as exc:
        return None, f"The run panel is not available in this installation ({_short(exc)})."
    return RunPanel(), ""


def load_machines_editor() -> tuple[QWidget | None, str]:
    try:
        from .machines_editor import MachinesEditor
    except ImportError as exc:
        return None, f"The build-machines editor is not available ({_short(exc)})."
    return MachinesEditor(), ""


def probe_environment() -> dict:
    """Nix version and interpreter mode as status-bar texts (runs subprocesses: not on the GUI thread)."""
    info: dict = {}
    try:
        from sweepgui.nix import detect_nix
    except ImportError:
        try:
            from sweepgui.nix.machines_nix import local_nix_version

            version = local_nix_version()
            info["nix"] = "Nix " + ".".join(map(str, version)) if version != (0,) else "Nix: not found"
        except Exception as exc:  # noqa: BLE001 - any failure is only shown
            info["nix"] = "Nix: unknown"
            info["nix_tip"] = _short(exc)
    else:
        try:
            nix = detect_nix()
            info["nix"] = f"Nix {nix.version}" if nix.ok else "Nix: not usable"
            info["nix_tip"] = nix.message
        except Exception as exc:  # noqa: BLE001
            info["nix"] = "Nix: unknown"
            info["nix_tip"] = _short(exc)
    try:
        try:
            from sweepgui.nix import detect_interpreter
        except ImportError:
            from sweepgui.nix.interpreter import detect_interpreter
        interp = detect_interpreter()
        info["interpreter"] = f"interpreter: {interp.mode}"
        info["interpreter_tip"] = f"{interp.description}\n{interp.python}"
    except Exception as exc:  # noqa: BLE001
        info["interpreter"] = "interpreter: unknown"
        info["interpreter_tip"] = _short(exc) + "\n" + traceback.format_exc(limit=1)
    return info


class EnvironmentProbe(QObject):
    """Runs :func:`probe_environment` on a plain thread; ``ready(dict)`` arrives on the GUI thread.

    A Python thread (not a QThread): it only runs two short subprocesses, and its result
    crosses to the GUI thread through the queued signal.
    """

    ready = Signal(dict)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._work, name="sweepgui-env-probe", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        info = probe_environment()
        if self._stopped.is_set():
            return
        try:
            self.ready.emit(info)
        except RuntimeError:  # the window went away meanwhile
            pass

    def stop(self) -> None:
        self._stopped.set()
