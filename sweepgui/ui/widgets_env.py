"""The main window's helpers: its settings store, the environment probe, and the optional parts.

The run panel and the machines editor come from other modules; while one is missing (or
fails to import) the window shows why in its place instead of failing to start.
"""

from __future__ import annotations

import threading
import traceback
import weakref

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


def _nix_version_texts() -> dict:
    """The Nix version alone (when the set-up could not be detected)."""
    try:
        from sweepgui.nix import detect_nix

        nix = detect_nix()
        return {"nix": f"Nix {nix.version}" if nix.ok else "Nix: not usable", "nix_tip": nix.message}
    except Exception as exc:
        return {"nix": "Nix: unknown", "nix_tip": _short(exc)}


def probe_environment(refresh: bool = False) -> dict:
    """The Nix set-up and the interpreter mode as status-bar texts (runs subprocesses: not on
    the GUI thread). ``info["setup"]`` is the NixSetup (absent if it could not be detected);
    ``refresh`` asks Nix again instead of using the cached set-up."""
    info: dict = {}
    try:
        from sweepgui.nix.setup import detect_setup

        from .nix_status import setup_tooltip

        setup = detect_setup(refresh=refresh)
        info.update(setup=setup, nix=setup.summary(), nix_tip=setup_tooltip(setup))
    except Exception as exc:
        info.update(_nix_version_texts())
        info["nix_tip"] = f"{info['nix_tip']}\nthe Nix set-up is unknown: {_short(exc)}".strip()
    try:
        from sweepgui.nix import detect_interpreter

        interp = detect_interpreter()
        info["interpreter"] = f"interpreter: {interp.mode}"
        info["interpreter_tip"] = f"{interp.description}\n{interp.python}"
    except Exception as exc:
        info["interpreter"] = "interpreter: unknown"
        info["interpreter_tip"] = _short(exc) + "\n" + traceback.format_exc(limit=1)
    return info


class EnvironmentProbe(QObject):
    """Runs :func:`probe_environment` on a plain thread; ``ready(dict)`` arrives on the GUI thread.

    A Python thread (not a QThread): it only runs two short subprocesses. It holds the probe
    only weakly and hands its result over with ``deliver_to``: ``ready`` is emitted on the GUI
    thread, and not at all if the window (and this probe) went away meanwhile.
    """

    ready = Signal(dict)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, refresh: bool = False) -> None:
        """Probe (again); ``refresh``: ask Nix again, e.g. after the system's machines changed."""
        self._thread = threading.Thread(target=_probe_job, args=(weakref.ref(self), self._stopped,
                                                                 refresh),
                                        name="sweepgui-env-probe", daemon=True)
        self._thread.start()

    def _deliver(self, info: dict) -> None:
        """The probe's result, on the GUI thread."""
        if not self._stopped.is_set():
            self.ready.emit(info)

    def stop(self) -> None:
        self._stopped.set()


def _probe_job(probe: weakref.ref, stopped: threading.Event, refresh: bool) -> None:
    from .widgets import deliver_to

    info = probe_environment(refresh)
    if not stopped.is_set():
        deliver_to(probe, "_deliver", info)
