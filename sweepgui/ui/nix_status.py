"""The Nix item of the status bar: the set-up in one line, details in its tooltip.

Qt-free helpers (:func:`setup_tooltip`, :func:`setup_level`) turn a
:class:`~sweepgui.nix.setup.NixSetup` into what the status bar shows; :class:`NixStatusButton`
shows it, with a warning look when the user's machines are ignored or Nix is unusable, and
opens the set-up check when clicked.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QToolButton, QWidget

from sweepgui.ui.icons import status_icon

# Text colours readable on the light and the dark default palettes' status bars.
LEVEL_COLOURS = {"error": "#c62828", "warning": "#9a6700"}


def builders_text(setup) -> str:
    names = [m.name for m in setup.daemon_builders]
    return ", ".join(names) if names else "none"


def setup_tooltip(setup, machines_file=None) -> str:
    """Several plain lines: mode, user and trust, configuration file, builders; and why the
    user's ``machines_file`` (one that lists machines) is ignored, if it is."""
    if not setup.usable:
        lines = [setup.summary(), setup.store_error or "Nix cannot be used here"]
    else:
        mode = ("a nix-daemon owns the store" if setup.daemon
                else f"single-user (store: {setup.store_uri or 'local'})")
        lines = [f"Nix {setup.version}, {mode}"]
        if setup.daemon:
            trust = ("trusted by the daemon: your machines files are used" if setup.trusted
                     else "not trusted by the daemon (trusted-users = "
                     f"{' '.join(setup.trusted_users) or 'root'}): it ignores your machines files")
            lines.append(f"user: {setup.user}, {trust}")
        else:
            lines.append(f"user: {setup.user}")
        lines.append(f"configuration: {setup.conf_file}")
        whose = "the daemon's" if setup.daemon and not setup.trusted else "Nix's"
        lines.append(f"{whose} builders (builders = {setup.builders_setting or '(empty)'}): "
                     f"{builders_text(setup)}")
        if setup.builders_error:
            lines.append(f"cannot read them: {setup.builders_error}")
        if machines_file is not None and not setup.own_builders_used:
            why = setup.ignored_machines_message(machines_file)
            lines.append("⚠ " + why[:1].upper() + why[1:])
    lines.append("Click to check the whole Nix set-up")
    return "\n".join(lines)


def setup_level(setup, own_machines: bool) -> str:
    """"error" when Nix is unusable, "warning" when the user's machines (``own_machines``:
    the user's file lists some) will be ignored, else "ok"."""
    if setup is None:
        return "ok"
    if not setup.usable:
        return "error"
    if own_machines and not setup.own_builders_used:
        return "warning"
    return "ok"


class NixStatusButton(QToolButton):
    """A flat status-bar button: the set-up summary, a warning icon and colour when needed."""

    def __init__(self, text: str = "Nix: checking…", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("nixStatus")
        self.setAutoRaise(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setIconSize(QSize(14, 14))
        self.level = "ok"
        self.setText(text)

    def set_level(self, level: str) -> None:
        self.level = level
        self.setIcon(status_icon(level) if level in LEVEL_COLOURS else status_icon(""))
        colour = LEVEL_COLOURS.get(level)
        self.setStyleSheet(f"QToolButton {{ color: {colour}; font-weight: bold; }}" if colour
                           else "")
