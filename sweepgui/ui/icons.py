"""Icons: the app's own (from ``resources/icons``) and status icons from the Qt style."""

from __future__ import annotations

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle

from sweepgui.resources import resources_dir

_STATUS = {
    "ok": QStyle.StandardPixmap.SP_DialogApplyButton,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
    "running": QStyle.StandardPixmap.SP_BrowserReload,
}


def icon_path(name: str) -> str:
    return str(resources_dir() / "icons" / name)


def app_icon() -> QIcon:
    return QIcon(icon_path("sweepgui.svg"))


def status_icon(level: str) -> QIcon:
    """Icon for a check's level ("ok", "warning", "error", "running"); empty for anything else."""
    pixmap = _STATUS.get(level)
    app = QApplication.instance()
    if pixmap is None or app is None:
        return QIcon()
    return app.style().standardIcon(pixmap)
